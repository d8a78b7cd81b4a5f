//! The runtime state of each domain of a local driver (QEMU guests, LXC containers), shared by
//! the CLI and the domain's supervisor through files in the connection's run directory
//! (ARCHITECTURE.md, "The daemonless model").
//!
//! Per domain `NAME`, in the run directory:
//!
//! | file             | written by                      | meaning                                          |
//! |------------------|---------------------------------|--------------------------------------------------|
//! | `NAME.status`    | the supervisor (the CLI only to reconcile a dead one) | [`DomainStatus`]: state, reason, id, the guest process |
//! | `NAME.xml`       | `start`/`create`, then the supervisor | the live definition; exists while active    |
//! | `NAME.alive`     | the supervisor holds `flock(LOCK_EX)` on it for its whole life | liveness, see [`supervisor_alive`] |
//! | `NAME.lock`      | [`crate::ObjectLock`]    | the state change lock of the CLI                 |
//! | `NAME/`          | the supervisor (mode 0700)      | `supervisor.sock`, the driver's own sockets      |
//! | `ids`            | [`next_id`]                     | the last domain id handed out                    |
//!
//! Liveness is a lock rather than a pid so that it cannot be fooled by pid reuse: the kernel
//! drops the lock when the supervisor dies, however it dies.

mod proc;
mod status;

pub use proc::{clock_ticks_per_sec, process_cpu_time_ns, process_start_ticks, ProcessIdentity};
pub use status::{DomainStatus, StatusError};

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::StateError;

/// File name of the supervisor's request socket inside the domain's private directory.
pub const SUPERVISOR_SOCKET_NAME: &str = "supervisor.sock";

/// The runtime files of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRuntime {
    pub name: String,
    /// The connection's run directory.
    pub run: PathBuf,
}

impl DomainRuntime {
    /// The runtime files of `name` under `run`. The name must already be valid
    /// ([`crate::validate_name`]).
    pub fn new(run: &Path, name: &str) -> DomainRuntime {
        DomainRuntime {
            name: name.to_string(),
            run: run.to_path_buf(),
        }
    }

    pub fn status_path(&self) -> PathBuf {
        self.run.join(format!("{}.status", self.name))
    }
    pub fn live_xml_path(&self) -> PathBuf {
        self.run.join(format!("{}.xml", self.name))
    }
    pub fn alive_path(&self) -> PathBuf {
        self.run.join(format!("{}.alive", self.name))
    }
    /// The private directory that holds the domain's sockets.
    pub fn socket_dir(&self) -> PathBuf {
        self.run.join(&self.name)
    }
    pub fn supervisor_socket(&self) -> PathBuf {
        self.socket_dir().join(SUPERVISOR_SOCKET_NAME)
    }

    /// The recorded status; `Ok(None)` when there is none (never started, or transient and gone).
    pub fn read_status(&self) -> Result<Option<DomainStatus>, StatusError> {
        DomainStatus::read(&self.status_path())
    }

    pub fn write_status(&self, status: &DomainStatus) -> Result<(), StatusError> {
        status.write(&self.status_path())
    }

    /// Is this domain's supervisor alive? See [`supervisor_alive`].
    pub fn supervisor_alive(&self) -> io::Result<bool> {
        supervisor_alive(&self.alive_path())
    }

    /// Remove what only a running domain has: the live XML and the socket directory. Missing
    /// files are fine (a half-finished cleanup is finished by the next one).
    pub fn remove_live_files(&self) {
        let _ = std::fs::remove_file(self.live_xml_path());
        let _ = std::fs::remove_dir_all(self.socket_dir());
    }

    /// Remove every runtime file of the domain except the locks (see
    /// [`crate::ObjectLock`] for why lock files stay).
    pub fn remove_all(&self) {
        self.remove_live_files();
        let _ = std::fs::remove_file(self.status_path());
    }
}

/// The supervisor's hold on `NAME.alive`: an exclusive flock for as long as it lives.
#[derive(Debug)]
pub struct AliveLock {
    _file: File,
}

impl AliveLock {
    /// Take the lock without waiting; `Ok(None)` when another supervisor holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<AliveLock>> {
        let file = open_lock_file(path)?;
        if try_flock(&file, libc::LOCK_EX)? {
            Ok(Some(AliveLock { _file: file }))
        } else {
            Ok(None)
        }
    }
}

/// Is a supervisor holding the lock on `alive_path`? A missing file means no.
pub fn supervisor_alive(alive_path: &Path) -> io::Result<bool> {
    let file = match File::open(alive_path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    // A shared lock we can take means nobody holds the exclusive one. It is released when
    // `file` is dropped here.
    Ok(!try_flock(&file, libc::LOCK_SH)?)
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// flock without blocking: `Ok(true)` taken, `Ok(false)` held by someone else.
fn try_flock(file: &File, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock on an fd owned by `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// Hand out the next domain id of the connection (1, 2, 3, ... as libvirt does; never reused
/// while the run directory lives, so an id names one run of one domain).
pub fn next_id(run: &Path) -> Result<i32, StateError> {
    let path = run.join("ids");
    let io_err = |e| StateError::io(&path, e);
    let mut file = open_lock_file(&path).map_err(io_err)?;
    // Blocking is fine: the holder does one read and one write.
    // SAFETY: flock on an fd owned by `file`.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io_err(io::Error::last_os_error()));
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io_err)?;
    // A damaged counter restarts at 1: ids only need to be unique among running domains,
    // and a collision with a running one is checked by the caller.
    let last: i32 = text.trim().parse().unwrap_or(0);
    let id = if !(0..i32::MAX - 1).contains(&last) {
        1
    } else {
        last + 1
    };
    file.set_len(0).map_err(io_err)?;
    file.rewind().map_err(io_err)?;
    file.write_all(format!("{id}\n").as_bytes())
        .map_err(io_err)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vq-rt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn ids_count_up_and_survive_garbage() {
        let d = tmp("ids");
        assert_eq!(next_id(&d).unwrap(), 1);
        assert_eq!(next_id(&d).unwrap(), 2);
        std::fs::write(d.join("ids"), "garbage").unwrap();
        assert_eq!(next_id(&d).unwrap(), 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn alive_lock_is_seen_and_released() {
        let d = tmp("alive");
        let p = d.join("x.alive");
        assert!(!supervisor_alive(&p).unwrap());
        let lock = AliveLock::try_acquire(&p).unwrap().expect("free");
        assert!(supervisor_alive(&p).unwrap());
        assert!(AliveLock::try_acquire(&p).unwrap().is_none());
        drop(lock);
        assert!(!supervisor_alive(&p).unwrap());
        let _ = std::fs::remove_dir_all(&d);
    }
}
