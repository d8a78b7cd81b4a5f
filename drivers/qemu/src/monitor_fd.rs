//! QEMU's QMP monitor as an already-listening file descriptor.
//!
//! virtsh creates and binds the monitor's unix socket itself, in a private runtime directory,
//! and passes the listening fd to QEMU (`-chardev socket,id=mon,fd=N,server=on,wait=off`,
//! `-mon chardev=mon,mode=control`). Because the socket is listening before QEMU even starts,
//! virtsh connects at once (the kernel queues the connection) and simply reads the greeting with
//! a timeout: no polling for a socket file to appear. If QEMU dies before accepting, the last
//! reference to the listening socket goes away, the queued connection is reset, and the client
//! sees [`QmpError::Closed`] rather than waiting out the timeout.
//!
//! The fd is close-on-exec in virtsh (std opens sockets that way); only the child clears the flag,
//! in a `pre_exec` hook, so no other child of virtsh inherits it.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::qmp::{QmpClient, QmpError};

/// The chardev id of the QMP monitor on the command lines virtsh generates.
pub const MONITOR_CHARDEV_ID: &str = "mon";

/// File name of the monitor socket inside the runtime directory.
pub const MONITOR_SOCKET_NAME: &str = "monitor.sock";

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("runtime directory {path}: {source}")]
    RuntimeDir { path: PathBuf, source: io::Error },
    #[error("runtime directory {path} is not private (owner uid {uid}, mode {mode:o}); expected owner {expected_uid} and mode 700")]
    NotPrivate {
        path: PathBuf,
        uid: u32,
        mode: u32,
        expected_uid: u32,
    },
    #[error("monitor socket path {0} is too long for a unix socket (max 107 bytes)")]
    PathTooLong(PathBuf),
    #[error("monitor socket {path}: {source}")]
    Socket { path: PathBuf, source: io::Error },
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("QEMU's monitor: {0}")]
    Qmp(#[from] QmpError),
}

/// Create `dir` (and parents) if needed and make sure it is private: owned by us, mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<(), MonitorError> {
    let err = |source| MonitorError::RuntimeDir {
        path: dir.to_path_buf(),
        source,
    };
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => return Err(err(e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(io::Error::other("not a directory (or a symlink)")));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(MonitorError::NotPrivate {
            path: dir.to_path_buf(),
            uid: meta.uid(),
            mode: meta.mode() & 0o7777,
            expected_uid: me,
        });
    }
    // Search permission alone lets nobody list or read anything, and the network driver
    // gives it to the lib directory above dnsmasq's files (dnsmasq re-reads them as an
    // unprivileged user): keep it, take away read and write.
    if meta.mode() & 0o066 != 0 {
        let mode = 0o700 | (meta.mode() & 0o011);
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(err)?;
    }
    Ok(())
}

pub use virtsh_state::launch::inherit_fds;

/// A listening monitor socket, ready to be handed to one QEMU.
#[derive(Debug)]
pub struct MonitorSocket {
    path: PathBuf,
    /// The listening socket; `None` once QEMU has been spawned (QEMU holds the only copy then).
    listener: Option<OwnedFd>,
}

impl MonitorSocket {
    /// Bind `runtime_dir/monitor.sock` (replacing a stale one) and listen. `runtime_dir` is
    /// created private (0700) if missing, and refused if someone else owns it.
    pub fn bind(runtime_dir: &Path) -> Result<Self, MonitorError> {
        create_private_dir(runtime_dir)?;
        let path = runtime_dir.join(MONITOR_SOCKET_NAME);
        if path.as_os_str().len() > 107 {
            return Err(MonitorError::PathTooLong(path));
        }
        let sock_err = |source| MonitorError::Socket {
            path: path.clone(),
            source,
        };
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(sock_err(e)),
        }
        let listener = UnixListener::bind(&path).map_err(sock_err)?;
        let mut fd = OwnedFd::from(listener);
        // Keep the fd away from 0..=2: std's Command dup2()s stdio there in the child.
        if fd.as_raw_fd() <= 2 {
            // SAFETY: fcntl on a valid fd we own; the result is checked.
            let high = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
            if high < 0 {
                return Err(sock_err(io::Error::last_os_error()));
            }
            // SAFETY: `high` is a fresh fd that nothing else owns.
            fd = unsafe { OwnedFd::from_raw_fd(high) };
        }
        Ok(Self {
            path,
            listener: Some(fd),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The arguments that give QEMU the monitor on the inherited fd `fd`.
    pub fn qemu_args(fd: RawFd) -> [String; 4] {
        [
            "-chardev".into(),
            format!("socket,id={MONITOR_CHARDEV_ID},fd={fd},server=on,wait=off"),
            "-mon".into(),
            format!("chardev={MONITOR_CHARDEV_ID},mode=control"),
        ]
    }

    /// Add the monitor arguments to `cmd` and arrange for the child (only) to inherit the fd.
    /// Call [`MonitorSocket::spawn`] rather than `cmd.spawn()` afterwards, so virtsh's own copy
    /// of the listening socket is closed once QEMU has it.
    pub fn prepare(&self, cmd: &mut Command) -> Result<(), MonitorError> {
        let fd = self.inherit(cmd)?;
        cmd.args(Self::qemu_args(fd));
        Ok(())
    }

    /// Arrange for the child (only) to inherit the listening fd, and return its number, for a
    /// caller that writes the monitor arguments itself (the generated command line).
    pub fn inherit(&self, cmd: &mut Command) -> Result<RawFd, MonitorError> {
        let fd = self
            .listener
            .as_ref()
            .map(AsRawFd::as_raw_fd)
            .ok_or_else(|| MonitorError::Socket {
                path: self.path.clone(),
                source: io::Error::other("already handed to a QEMU"),
            })?;
        inherit_fds(cmd, vec![fd]);
        Ok(fd)
    }

    /// Spawn the prepared command, close our copy of the listening socket, connect, and
    /// negotiate QMP within `timeout`. On a QMP failure the child is killed and reaped.
    pub fn spawn(
        mut self,
        cmd: &mut Command,
        timeout: Duration,
    ) -> Result<(Child, QmpClient), MonitorError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd
            .spawn()
            .map_err(|source| MonitorError::Spawn { program, source })?;
        let result = self.connect_after_spawn(timeout);
        match result {
            Ok(client) => Ok((child, client)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    fn connect_after_spawn(&mut self, timeout: Duration) -> Result<QmpClient, MonitorError> {
        let listener = self.listener.take();
        // Connect while we still hold the listener: the connection is queued in its backlog
        // whatever QEMU is doing. Then drop our copy, so QEMU's death resets the connection.
        let stream = UnixStream::connect(&self.path).map_err(|source| MonitorError::Socket {
            path: self.path.clone(),
            source,
        });
        drop(listener);
        Ok(QmpClient::connect(stream?, timeout)?)
    }
}

/// Reconnect to the monitor socket of a QEMU that is already running (e.g. after a supervisor
/// restart). QEMU serves one monitor client at a time; a second client waits until the first
/// disconnects, and here that means a [`QmpError::Timeout`].
pub fn reconnect(runtime_dir: &Path, timeout: Duration) -> Result<QmpClient, MonitorError> {
    let path = runtime_dir.join(MONITOR_SOCKET_NAME);
    let stream = UnixStream::connect(&path).map_err(|source| MonitorError::Socket {
        path: path.clone(),
        source,
    })?;
    Ok(QmpClient::connect(stream, timeout)?)
}
