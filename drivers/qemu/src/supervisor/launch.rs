//! Starting a supervisor from the CLI and waiting until the guest runs.
//!
//! The supervisor reports on a pipe: `ok` once QEMU runs (or is paused, as asked) and the state
//! is recorded, or `error CODE MESSAGE` with the reason the start failed. EOF without either
//! means it died; the log file then says why.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use virtsh_api::{Error, ErrorKind};

use super::{Args, READY_FD_ENV, SUPERVISE_ARG};

/// Spawn `exe __supervise ARGS`, detached, with its stderr appended to `log`, and wait up to
/// `timeout` for its report.
pub fn launch(exe: &Path, args: &Args, log: &Path, timeout: Duration) -> Result<(), Error> {
    let failed = |what: &str, e: io::Error| {
        Error::new(
            ErrorKind::OperationFailed,
            format!(
                "cannot start the supervisor of '{}': {what}: {e}",
                args.name
            ),
        )
    };
    let (read_end, write_end) = pipe().map_err(|e| failed("pipe", e))?;
    let log_file = open_log(log).map_err(|e| failed(&log.display().to_string(), e))?;
    let mut cmd = Command::new(exe);
    cmd.arg(SUPERVISE_ARG)
        .args(args.to_argv())
        .env(READY_FD_ENV, write_end.as_raw_fd().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    crate::monitor_fd::inherit_fds(&mut cmd, vec![write_end.as_raw_fd()]);
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(&exe.display().to_string(), e))?;
    drop(write_end);
    // The first process only forks and exits (see `daemonize`): reap it now.
    let _ = child.wait();
    let report = read_report(read_end, timeout).map_err(|e| failed("waiting for it", e))?;
    match report {
        Some(line) => parse_report(&line, &args.name, log),
        None => Err(Error::new(
            ErrorKind::OperationFailed,
            format!(
                "the supervisor of '{}' did not report within {}s; see {}",
                args.name,
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
