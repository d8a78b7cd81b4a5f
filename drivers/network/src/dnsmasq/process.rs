//! The dnsmasq daemon of a network: start, find, reload, stop.
//!
//! dnsmasq daemonizes itself; its first process exits only once the daemon has written the pid
//! file (or with an error on stderr), so [`start`] waits for that process and then reads the pid
//! file. A pid file alone is never trusted: the process must be a dnsmasq whose command line
//! names this network's configuration file, and signals go through a pidfd opened before that
//! check, so a pid recycled by an unrelated process is never signalled.
//!
//! dnsmasq started as root changes to the user `nobody` (no `user=` is written, as in libvirt),
//! which keeps a network-facing daemon unprivileged. The lease file and the pid file are opened
//! before that and work anywhere; the hosts files are read after it, at start and on SIGHUP (checked
//! with dnsmasq 2.90: under a 0700 directory they fail with "Permission denied" in its log only,
//! and static hosts are silently missing). So [`start`] refuses, with a clear error, hosts files
//! that `nobody` could not read, rather than writing `user=root`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{DnsmasqError, DnsmasqFiles};

/// How long the daemonizing dnsmasq may take to report success or failure.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the pid file may take to name a running dnsmasq once that process has exited.
const PID_TIMEOUT: Duration = Duration::from_secs(5);
/// How long dnsmasq may take to exit after SIGTERM, and then after SIGKILL.
const TERM_TIMEOUT: Duration = Duration::from_secs(5);
const KILL_TIMEOUT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(20);

/// The dnsmasq binary: the first executable `dnsmasq` on `PATH`, else in the sbin directories.
pub fn find_dnsmasq() -> Result<PathBuf, DnsmasqError> {
    crate::program::find("dnsmasq").ok_or(DnsmasqError::NotFound)
}

/// Start dnsmasq with the files [`super::write`] wrote, and return its pid.
///
/// The daemon joins the network namespace of the calling thread: to serve a bridge in another
/// namespace, call this from a thread that has done `setns` into it.
pub fn start(files: &DnsmasqFiles) -> Result<u32, DnsmasqError> {
    files.check_absolute()?;
    if let Some(pid) = running(files) {
        return Err(DnsmasqError::AlreadyRunning {
            conf: files.conf.clone(),
            pid,
        });
    }
    fs::metadata(&files.conf).map_err(|e| DnsmasqError::io("read", &files.conf, e))?;
    let binary = find_dnsmasq()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        check_unprivileged_read(&files.hostsfile)?;
        check_unprivileged_read(&files.addnhosts)?;
    }
    // A stale pid file would be taken for the new one's.
    remove_pid_file(files)?;

    let mut arg = OsString::from("--conf-file=");
    arg.push(&files.conf);
    let mut child = Command::new(&binary)
        .arg(&arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DnsmasqError::io("run", &binary, e))?;

    // Read stderr on the side, so that neither a full pipe nor a daemon that kept it open can
    // block us.
    let (tx, rx) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        });
    }
    let status = wait_bounded(&mut child, START_TIMEOUT)?;
    let stderr = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
    if !status.success() {
        return Err(DnsmasqError::StartFailed {
            status: status.to_string(),
            stderr,
        });
    }

    let deadline = Instant::now() + PID_TIMEOUT;
    loop {
        if let Some(pid) = running(files) {
            return Ok(pid);
        }
        if Instant::now() >= deadline {
            return Err(DnsmasqError::StartFailed {
                status: format!(
                    "no running dnsmasq in pid file '{}' after {}s",
                    files.pid.display(),
                    PID_TIMEOUT.as_secs()
                ),
                stderr,
            });
        }
        thread::sleep(POLL);
    }
}

/// The pid of this network's dnsmasq, if it runs: the pid file names a live process whose
/// command line is dnsmasq's with our `--conf-file=`.
pub fn running(files: &DnsmasqFiles) -> Option<u32> {
    read_pid(&files.pid).filter(|pid| is_our_dnsmasq(*pid, &files.conf))
}

/// SIGHUP: dnsmasq re-reads the hosts file and the addn-hosts file (and /etc/hosts and
/// resolv.conf), not its configuration; a change to that needs [`stop`] and [`start`].
pub fn reload(files: &DnsmasqFiles) -> Result<(), DnsmasqError> {
    let not_running = || DnsmasqError::NotRunning {
        conf: files.conf.clone(),
    };
    let target = Target::open(files).ok_or_else(not_running)?;
    match target.signal(libc::SIGHUP) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Err(not_running()),
        Err(e) => Err(target.error(libc::SIGHUP, e)),
    }
}

/// Stop dnsmasq: SIGTERM, then SIGKILL if it has not gone within a few seconds, and remove the
/// pid file. A dnsmasq that is not running (or a stale pid file) is fine.
pub fn stop(files: &DnsmasqFiles) -> Result<(), DnsmasqError> {
    if let Some(target) = Target::open(files) {
        for (signal, timeout) in [(libc::SIGTERM, TERM_TIMEOUT), (libc::SIGKILL, KILL_TIMEOUT)] {
            match target.signal(signal) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => break,
                Err(e) => return Err(target.error(signal, e)),
            }
            if target.wait_gone(&files.conf, timeout) {
                break;
            }
            if signal == libc::SIGKILL {
                return Err(DnsmasqError::Timeout {
                    what: format!("dnsmasq (pid {}) to exit", target.pid),
                    secs: (TERM_TIMEOUT + KILL_TIMEOUT).as_secs(),
                });
            }
        }
    }
    remove_pid_file(files)
}

/// A running dnsmasq of ours, with a pidfd when the kernel has them (Linux 5.3+).
struct Target {
    pid: u32,
    pidfd: Option<OwnedFd>,
}

impl Target {
    fn open(files: &DnsmasqFiles) -> Option<Target> {
        let pid = read_pid(&files.pid)?;
        // Open the pidfd first and check the process after: if the pid is recycled in between,
        // the check sees the new process and fails; if it is recycled after, the pidfd still
        // refers to the process we checked, and a signal to it fails with ESRCH.
        let pidfd = match pidfd_open(pid) {
            Ok(fd) => Some(fd),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return None,
            Err(_) => None,
        };
        is_our_dnsmasq(pid, &files.conf).then_some(Target { pid, pidfd })
    }

    fn signal(&self, signal: i32) -> io::Result<()> {
        let rc = match &self.pidfd {
            // SAFETY: a valid pidfd, a null siginfo (as kill() would send) and no flags.
            Some(fd) => unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    signal,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            },
            // SAFETY: kill has no memory preconditions; the pid was checked just before.
            None => libc::c_long::from(unsafe { libc::kill(self.pid as libc::pid_t, signal) }),
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Wait until the process has exited (a zombie not yet reaped by its parent counts).
    fn wait_gone(&self, conf: &Path, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.gone(conf) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(POLL);
        }
    }

    fn gone(&self, conf: &Path) -> bool {
        if let Some(fd) = &self.pidfd {
            // A pidfd becomes readable once its process has exited.
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no waiting.
            if unsafe { libc::poll(&mut pfd, 1, 0) } >= 0 {
                return pfd.revents & libc::POLLIN != 0;
            }
        }
        // Without a pidfd, /proc tells. An exiting process loses its command line before it
        // becomes a zombie, so an empty one means "still exiting", not "gone".
        match proc_state(self.pid) {
            None | Some('Z') | Some('X') => true,
            Some(_) => {
                !is_our_dnsmasq(self.pid, conf)
                    && fs::read(format!("/proc/{}/cmdline", self.pid)).is_ok_and(|c| !c.is_empty())
            }
        }
    }

    fn error(&self, signal: i32, source: io::Error) -> DnsmasqError {
        DnsmasqError::Signal {
            pid: self.pid,
            signal,
            source,
        }
    }
}

fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new file descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn read_pid(path: &Path) -> Option<u32> {
    let text = fs::read_to_string(path).ok()?;
    text.trim().parse::<u32>().ok().filter(|pid| *pid > 1)
}

/// Whether `pid` is a live dnsmasq started with `--conf-file=CONF`. A zombie has an empty
/// command line, so an exited dnsmasq not yet reaped does not count.
fn is_our_dnsmasq(pid: u32, conf: &Path) -> bool {
    let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = raw.split(|b| *b == 0).filter(|a| !a.is_empty());
    let Some(argv0) = args.next() else {
        return false;
    };
    if Path::new(OsStr::from_bytes(argv0)).file_name() != Some(OsStr::new("dnsmasq")) {
        return false;
    }
    let mut want = b"--conf-file=".to_vec();
    want.extend_from_slice(conf.as_os_str().as_bytes());
    args.any(|a| a == want.as_slice())
}

/// The state letter of /proc/PID/stat (it follows the command name, which is in parentheses
/// and may itself contain them).
fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.trim_start().chars().next()
}

fn remove_pid_file(files: &DnsmasqFiles) -> Result<(), DnsmasqError> {
    match fs::remove_file(&files.pid) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DnsmasqError::io("remove", &files.pid, e)),
    }
}

fn wait_bounded(child: &mut Child, timeout: Duration) -> Result<ExitStatus, DnsmasqError> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => return Err(DnsmasqError::io("wait for", Path::new("dnsmasq"), e)),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DnsmasqError::Timeout {
                what: "dnsmasq to start".into(),
                secs: timeout.as_secs(),
            });
        }
        thread::sleep(POLL);
    }
}

/// As root, dnsmasq reads `path` as `nobody`: the file must be readable by others and every
/// directory above it searchable by others.
fn check_unprivileged_read(path: &Path) -> Result<(), DnsmasqError> {
    let refuse = |reason: String| DnsmasqError::NotReadable {
        path: path.to_path_buf(),
        reason,
    };
    if let Ok(meta) = fs::metadata(path) {
        if meta.mode() & 0o004 == 0 {
            return Err(refuse(format!(
                "it is not readable by others (mode {:04o})",
                meta.mode() & 0o7777
            )));
        }
    }
    for dir in path.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        if let Ok(meta) = fs::metadata(dir) {
            if meta.mode() & 0o001 == 0 {
                return Err(refuse(format!(
                    "directory '{}' is not searchable by others (mode {:04o})",
                    dir.display(),
                    meta.mode() & 0o7777
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn own_process_is_not_dnsmasq() {
        let me = std::process::id();
        assert!(!is_our_dnsmasq(me, Path::new("/x.conf")));
        assert!(!is_our_dnsmasq(u32::MAX, Path::new("/x.conf")));
    }

    #[test]
    fn pid_file_contents() {
        let dir = std::env::temp_dir().join(format!("virtsh-dnsmasq-pid-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let p = dir.join("n.pid");
        for (text, want) in [
            ("1234\n", Some(1234)),
            ("x", None),
            ("1\n", None),
            ("", None),
        ] {
            assert!(fs::write(&p, text).is_ok());
            assert_eq!(read_pid(&p), want, "{text:?}");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn unprivileged_read_check() {
        let dir = std::env::temp_dir().join(format!("virtsh-dnsmasq-perm-{}", std::process::id()));
        let inner = dir.join("lib");
        assert!(fs::create_dir_all(&inner).is_ok());
        let file = inner.join("n.hostsfile");
        assert!(fs::write(&file, "").is_ok());
        let set = |p: &Path, mode| fs::set_permissions(p, fs::Permissions::from_mode(mode)).is_ok();
        assert!(set(&dir, 0o755) && set(&inner, 0o755) && set(&file, 0o644));
        assert!(check_unprivileged_read(&file).is_ok());
        assert!(set(&file, 0o600));
        assert!(check_unprivileged_read(&file).is_err());
        assert!(set(&file, 0o644) && set(&dir, 0o700));
        let err = check_unprivileged_read(&file).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("not searchable by others")));
        let _ = set(&dir, 0o755);
        let _ = fs::remove_dir_all(&dir);
    }
}
