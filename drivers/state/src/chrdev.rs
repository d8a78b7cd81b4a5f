//! Exclusive use of a guest's pty by one console session (libvirt's virChrdevOpen), for every
//! local driver whose guests have a text console.
//!
//! There is no daemon to remember who holds a console, so the lock is an `flock` on the pty
//! device itself: it lives exactly as long as the session's descriptor, whichever process that
//! is. A second session fails with libvirt's "Active console session exists"; `--force` sends
//! the holder SIGTERM (its pid is kept in a file named after the pty) and waits for the lock.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use virtsh_api::{strerror, Error, ErrorKind, Result};

/// How long `--force` waits for the old session to let go of the pty.
const FORCE_WAIT: Duration = Duration::from_secs(2);

/// An open, locked pty and the record that lets a later `--force` find its holder. The
/// record is removed when this is dropped; the lock goes with the descriptor.
pub struct PtySession {
    pub fd: OwnedFd,
    pub pid_file: PidFile,
}

/// Opens the pty at `path` raw and takes its lock; `force` takes it over from another session.
pub fn open_pty_exclusive(path: &Path, force: bool) -> Result<PtySession> {
    let fd = open_pty(path)?;
    if !try_lock(&fd)? {
        if !force {
            return Err(busy());
        }
        take_over(path, &fd)?;
    }
    let pid_file = PidFile::write(path);
    Ok(PtySession { fd, pid_file })
}

fn busy() -> Error {
    Error::new(
        ErrorKind::OperationFailed,
        "Active console session exists for this domain",
    )
}

fn open_pty(path: &Path) -> Result<OwnedFd> {
    let system = |e: std::io::Error| {
        Error::new(
            ErrorKind::SystemError,
            format!("Unable to open device {}: {}", path.display(), strerror(&e)),
        )
    };
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArg,
            format!("invalid path '{}'", path.display()),
        )
    })?;
    // SAFETY: a valid C string; the result is checked.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(system(std::io::Error::last_os_error()));
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // As virFDStreamOpenPTY: the pty carries bytes untouched (no echo, no line editing).
    make_raw(fd.as_fd()).map_err(|e| {
        Error::new(
            ErrorKind::SystemError,
            format!("unable to set tty attributes: {}", strerror(&e)),
        )
    })?;
    Ok(fd)
}

/// Puts a terminal in raw mode (cfmakeraw) and returns the attributes it had, so that the
/// caller can restore them: the guest's pty here, the user's terminal in the shell.
pub fn make_raw(fd: BorrowedFd<'_>) -> std::io::Result<libc::termios> {
    let fd = fd.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut t) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let saved = t;
    // SAFETY: cfmakeraw and tcsetattr only touch `t` and the descriptor.
    unsafe { libc::cfmakeraw(&mut t) };
    if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &t) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(saved)
}

/// Ok(true) when the exclusive lock on the pty is ours.
fn try_lock(fd: &OwnedFd) -> Result<bool> {
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Ok(false);
    }
    Err(Error::new(
        ErrorKind::SystemError,
        format!("Unable to lock console: {}", strerror(&e)),
    ))
}

/// `--force`: stop the session that holds the pty and take the lock, waiting a bounded time.
fn take_over(path: &Path, fd: &OwnedFd) -> Result<()> {
    for pid in holders(path) {
        // SAFETY: a plain signal to a process that has this pty open.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + FORCE_WAIT;
    loop {
        if try_lock(fd)? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(busy());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The console sessions holding `path`: the pid its pid file names, else every process with
/// the pty open that runs this same program. A pid is only trusted when that process has the
/// pty open, so a stale or forged pid file never makes us signal a stranger.
fn holders(path: &Path) -> Vec<i32> {
    let me = std::process::id() as i32;
    let exe = std::fs::read_link("/proc/self/exe").ok();
    let same_program = |pid: i32| {
        let their = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        their.is_some() && their == exe
    };
    if let Some(pid) = std::fs::read_to_string(pid_file_path(path))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    {
        if pid > 0 && pid != me && has_open(pid, path) {
            return vec![pid];
        }
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && same_program(pid) && has_open(pid, path))
        .collect()
}

fn has_open(pid: i32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|f| std::fs::read_link(f.path()).is_ok_and(|t| t == path))
}

/// `$XDG_RUNTIME_DIR/virtsh-console-ptsN.pid` (or in /tmp).
fn pid_file_path(pty: &Path) -> PathBuf {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let name: String = pty
        .strip_prefix("/dev")
        .unwrap_or(pty)
        .to_string_lossy()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    dir.join(format!("virtsh-console-{name}.pid"))
}

/// Our pid, next to the lock, for a later `--force`; removed when the session ends.
pub struct PidFile(Option<PathBuf>);

impl PidFile {
    fn write(pty: &Path) -> PidFile {
        let path = pid_file_path(pty);
        let tmp = path.with_extension(format!("pid.{}", std::process::id()));
        let ok = std::fs::write(&tmp, format!("{}\n", std::process::id())).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
        }
        PidFile(ok.then_some(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let Some(path) = &self.0 else { return };
        // Remove it only if it is still ours (a --force session may have replaced it).
        let mine = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            == Some(std::process::id());
        if mine {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_is_named_after_the_pty() {
        let p = pid_file_path(Path::new("/dev/pts/7"));
        assert!(p.ends_with("virtsh-console-pts7.pid"), "{}", p.display());
    }

    #[test]
    fn a_second_session_is_refused_and_force_is_bounded() {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty fills two descriptors; the optional arguments may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0);
        // SAFETY: both were just opened by openpty.
        let (_master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).unwrap();
        let first = open_pty_exclusive(&path, false).unwrap();
        let again = open_pty_exclusive(&path, false).err().unwrap();
        assert_eq!(
            again.to_string(),
            "operation failed: Active console session exists for this domain"
        );
        // The holder is this very process, which --force never signals: it gives up in time.
        let forced = open_pty_exclusive(&path, true).err().unwrap();
        assert_eq!(forced.kind, ErrorKind::OperationFailed);
        drop(first);
        assert!(open_pty_exclusive(&path, false).is_ok());
    }
}
