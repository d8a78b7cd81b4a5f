//! Running `nft`, `iptables` and `ip6tables`, and the host-wide lock around firewall changes.
//!
//! virtsh has no daemon, so two commands can change the firewall at once (two `net-start`s).
//! Creating the shared chains, adding a network's rules and deleting an empty table are
//! check-then-act sequences; a lock file held with `flock` makes them one at a time.

use super::{CommandFailure, FirewallError};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `argv` and return its stdout; a failure quotes the command and its stderr.
pub(crate) fn run(argv: &[String]) -> Result<String, CommandFailure> {
    run_with_input(argv, None)
}

/// Run `argv` with `input` on its stdin (an `nft -f -` script): one process and, for nft, one
/// transaction for many commands. A failure quotes the command, the script and the stderr.
pub(crate) fn run_script(argv: &[String], input: &str) -> Result<String, CommandFailure> {
    run_with_input(argv, Some(input))
}

fn run_with_input(argv: &[String], input: Option<&str>) -> Result<String, CommandFailure> {
    let failure = |message: String| CommandFailure {
        command: match input {
            Some(text) => format!(
                "{} <<< '{}'",
                crate::program::display(argv),
                text.trim_end().replace('\n', "; ")
            ),
            None => crate::program::display(argv),
        },
        message,
    };
    let Some((program, args)) = argv.split_first() else {
        return Err(failure("empty command".into()));
    };
    let Some(path) = crate::program::find(program) else {
        return Err(failure(format!("'{program}' is not installed")));
    };
    let mut cmd = Command::new(path);
    cmd.args(args)
        // The messages are quoted in errors and some are matched: keep them untranslated.
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd
        .spawn()
        .map_err(|e| failure(format!("cannot run it: {e}")))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        // A short script fits the pipe; a failed write shows up as the program's error.
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failure(format!("cannot run it: {e}")))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // nft repeats the command and underlines the faulty part: drop those lines so the message
    // fits in one line.
    let echo = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != echo && !l.chars().all(|c| matches!(c, '^' | '~' | ' ')))
        .collect();
    Err(failure(if lines.is_empty() {
        out.status.to_string()
    } else {
        lines.join("; ")
    }))
}

/// The lock files tried in turn: root's runtime directories (the firewall needs root anyway).
const LOCK_PATHS: [&str; 2] = [
    "/run/lock/virtsh-network-firewall.lock",
    "/run/virtsh-network-firewall.lock",
];
/// nft and iptables calls take milliseconds; a holder this slow is stuck.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The host-wide firewall lock, released when dropped (closing the file releases the flock).
pub(crate) struct HostLock {
    _file: Option<File>,
}

impl HostLock {
    /// Take the lock, waiting up to a bound. When no lock file can be opened (not root), go on
    /// without one: the firewall programs will then fail with the real reason.
    pub(crate) fn acquire() -> Result<HostLock, FirewallError> {
        let opened = LOCK_PATHS.iter().find_map(|p| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(p)
                .ok()
                .map(|f| (*p, f))
        });
        let Some((path, file)) = opened else {
            return Ok(HostLock { _file: None });
        };
        let start = Instant::now();
        loop {
            // SAFETY: flock on a descriptor we own; it does not touch memory.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(HostLock { _file: Some(file) });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK)
                && err.raw_os_error() != Some(libc::EINTR)
            {
                // A filesystem without flock: proceed unserialised rather than refuse to work.
                return Ok(HostLock { _file: None });
            }
            if start.elapsed() > LOCK_WAIT {
                return Err(FirewallError::LockTimeout {
                    path: path.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_display_like_a_shell() {
        let argv: Vec<String> = [
            "nft",
            "-ae",
            "insert",
            "rule",
            "ip",
            "t",
            "c",
            "iif",
            "\"br0\"",
            "ct",
            "state",
            "related,established",
            "{ a; }",
            "it's",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            crate::program::display(&argv),
            r#"nft -ae insert rule ip t c iif '"br0"' ct state related,established '{ a; }' 'it'\''s'"#
        );
    }

    #[test]
    fn missing_program_fails_clearly() {
        let f = run(&["virtsh-no-such-program".to_string(), "x".to_string()]).unwrap_err();
        assert_eq!(f.message, "'virtsh-no-such-program' is not installed");
        assert!(run(&[]).is_err());
    }
}
