//! Starting a domain's supervisor from the CLI and waiting until the guest runs, for every
//! local driver (the `virtsh` binary re-executed in a hidden mode: `__supervise` for QEMU,
//! `__lxc-supervise` for containers), and the supervisor's side of it: detaching and reporting.
//!
//! The supervisor reports on a pipe: `ok` once the guest runs (or is paused, as asked) and the
//! state is recorded, or `error CODE MESSAGE` with the reason the start failed. EOF without
//! either means it died; the log file then says why.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use virtsh_api::{Error, ErrorKind};

/// The environment variable that carries the readiness pipe's fd to the supervisor.
const READY_FD_ENV: &str = "VIRTSH_READY_FD";

/// Spawn `exe MODE ARGV...` (the supervisor of domain `name`), detached, with its stderr
/// appended to `log`, and wait up to `timeout` for its report.
pub fn launch(
    exe: &Path,
    mode: &str,
    argv: &[String],
    name: &str,
    log: &Path,
    timeout: Duration,
) -> Result<(), Error> {
    let failed = |what: &str, e: io::Error| {
        Error::new(
            ErrorKind::OperationFailed,
            format!("cannot start the supervisor of '{name}': {what}: {e}"),
        )
    };
    let (read_end, write_end) = pipe().map_err(|e| failed("pipe", e))?;
    let log_file = open_log(log).map_err(|e| failed(&log.display().to_string(), e))?;
    let mut cmd = Command::new(exe);
    cmd.arg(mode)
        .args(argv)
        .env(READY_FD_ENV, write_end.as_raw_fd().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    inherit_fds(&mut cmd, vec![write_end.as_raw_fd()]);
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(&exe.display().to_string(), e))?;
    drop(write_end);
    // The first process only forks and exits (see `daemonize`): reap it now.
    let _ = child.wait();
    let report = read_report(read_end, timeout).map_err(|e| failed("waiting for it", e))?;
    match report {
        Some(line) => parse_report(&line, name, log),
        None => Err(Error::new(
            ErrorKind::OperationFailed,
            format!(
                "the supervisor of '{name}' did not report within {}s; see {}",
                timeout.as_secs(),
                log.display()
            ),
        )),
    }
}

fn parse_report(line: &str, name: &str, log: &Path) -> Result<(), Error> {
    let line = line.trim_end();
    if line == "ok" {
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix("error ") {
        let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        let kind = ErrorKind::from_code(code.parse().unwrap_or(1));
        return Err(Error::raw(kind, msg.to_string()));
    }
    Err(Error::new(
        ErrorKind::OperationFailed,
        format!(
            "the supervisor of '{name}' ended before the guest started; see {}",
            log.display()
        ),
    ))
}

fn open_log(log: &Path) -> io::Result<File> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(log)
}

fn pipe() -> io::Result<(File, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two fds into the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and owned by nobody else.
    unsafe {
        Ok((
            File::from(OwnedFd::from_raw_fd(fds[0])),
            OwnedFd::from_raw_fd(fds[1]),
        ))
    }
}

/// Read until EOF or `timeout`; `Ok(None)` on timeout. Everything read counts as the report
/// (one line); EOF with nothing read gives an empty line.
fn read_report(mut f: File, timeout: Duration) -> io::Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    let mut buf = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut pfd = libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms.max(1)) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc == 0 {
            continue;
        }
        let mut chunk = [0u8; 4096];
        match f.read(&mut chunk) {
            Ok(0) => return Ok(Some(String::from_utf8_lossy(&buf).into_owned())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Let the child of `cmd` (only) inherit `fds`: their close-on-exec flag is cleared between
/// fork and exec, so no other child of virtsh ever sees them.
pub fn inherit_fds(cmd: &mut Command, fds: Vec<std::os::fd::RawFd>) {
    if fds.is_empty() {
        return;
    }
    // SAFETY: the hook runs between fork and exec and only calls fcntl (async-signal-safe) on
    // integers moved into the closure; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Detach: a new session (no terminal signals from the CLI's terminal) and a second fork, so
/// the CLI that started us (perhaps a long-lived interactive shell) reaps the first child at
/// once and never collects a zombie; the supervisor is reparented to init.
pub fn daemonize() -> std::io::Result<()> {
    // SAFETY: setsid and fork have no memory-safety preconditions; the supervisor has started
    // no threads yet, so the child of fork is a complete copy. The parent leaves with _exit,
    // running no destructors or atexit handlers that the child also owns.
    unsafe {
        if libc::setsid() < 0 {
            // Already a session leader (started by hand): fine.
        }
        match libc::fork() {
            -1 => Err(std::io::Error::last_os_error()),
            0 => Ok(()),
            _ => libc::_exit(0),
        }
    }
}

/// The write end of the readiness pipe: `ok\n`, or `error CODE MESSAGE\n`, then closed.
pub struct Ready(Option<std::fs::File>);

impl Ready {
    pub fn from_env() -> Ready {
        let fd = std::env::var(READY_FD_ENV)
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|&fd| fd > 2);
        std::env::remove_var(READY_FD_ENV);
        // SAFETY: the launcher passed this fd to us for exactly this purpose; nothing else in
        // this process uses it. F_GETFD checks that it is open before we take ownership.
        let file = fd
            .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0)
            .map(|fd| unsafe { std::fs::File::from(OwnedFd::from_raw_fd(fd)) });
        if let Some(f) = &file {
            use std::os::fd::AsRawFd;
            // Not for the guest's eyes.
            // SAFETY: fcntl on an fd we own.
            unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        Ready(file)
    }

    pub fn ok(&mut self) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(b"ok\n");
        }
    }

    pub fn fail(&mut self, e: &Error) {
        if let Some(mut f) = self.0.take() {
            let msg = e.message.replace('\n', " ");
            let _ = f.write_all(format!("error {} {msg}\n", e.kind.code()).as_bytes());
        }
    }
}

/// The start of every supervisor's `main`: take the readiness pipe, parse `argv` with
/// `parse`, detach, and find the state paths of the connection (`uri_of` the arguments). On
/// failure the reason has gone to the launcher, and `Err` holds the exit status.
pub fn start_supervisor<A>(
    argv: &[String],
    parse: impl Fn(&[String]) -> Result<A, String>,
    uri_of: impl Fn(&A) -> &str,
) -> Result<(Ready, A, crate::StatePaths), i32> {
    let mut ready = Ready::from_env();
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            ready.fail(&Error::internal(format!("supervisor: {e}")));
            return Err(2);
        }
    };
    if let Err(e) = daemonize() {
        ready.fail(&Error::internal(format!("supervisor: cannot detach: {e}")));
        return Err(1);
    }
    let paths = virtsh_api::Uri::parse(uri_of(&args))
        .map_err(|e| e.to_string())
        .and_then(|u| crate::StatePaths::for_uri(&u).map_err(|e| e.to_string()));
    match paths {
        Ok(p) => Ok((ready, args, p)),
        Err(e) => {
            ready.fail(&Error::internal(format!("supervisor: {e}")));
            Err(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_understood() {
        let log = Path::new("/l");
        assert!(parse_report("ok\n", "x", log).is_ok());
        let e =
            parse_report("error 55 Requested operation is not valid: no\n", "x", log).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OperationInvalid);
        assert_eq!(e.message, "Requested operation is not valid: no");
        let e = parse_report("", "x", log).unwrap_err();
        assert!(e.message.contains("see /l"), "{}", e.message);
    }
}
