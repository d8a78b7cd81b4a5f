//! A child process as a transport, shared by `+ssh` and `+ext` (`virNetSocketNewConnectCommand`):
//! the child's stdin and stdout are both one end of a socketpair, so the client sees a socket
//! (reads, writes, a write timeout and `shutdown` all work as for a unix socket); its stderr is
//! a pipe. libvirt reads that pipe only when the connection ends, and appends what the child
//! said ("Permission denied (publickey).") to the end-of-file error; here a thread drains it as
//! it comes, so a chatty child can never block on a full pipe, and keeps the last kilobyte.
//!
//! Closing shuts the socket down (a well-behaved child sees end of input and exits), then ends
//! the child as `virProcessAbort` does: SIGTERM, and SIGKILL if it lingers. The child is always
//! reaped.

use super::{ChildEof, Transport, TransportError, TransportParts};
use crate::error::os_reason;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How much of the child's stderr is kept for the end-of-file message (libvirt reads 1024
/// bytes).
const STDERR_KEEP: usize = 1024;

/// How long the reader waits, at end of file, for the child to finish writing its stderr (it
/// usually closes stdout and stderr together by exiting).
const STDERR_WAIT: Duration = Duration::from_secs(2);

/// How long a closing child gets after end of input, then after SIGTERM.
const EXIT_GRACE: Duration = Duration::from_millis(200);
const TERM_GRACE: Duration = Duration::from_secs(1);

/// The environment variables every command of libvirt's gets (`virCommandAddEnvPassCommon`);
/// all others are dropped, and `LC_ALL=C` is set.
const COMMON_ENV: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_FORCE_FLAT_NAMESPACE",
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
];

/// Gives `cmd` libvirt's environment: the common variables, `extra` ones, and `LC_ALL=C`.
pub fn libvirt_env(cmd: &mut Command, extra: &[&str]) {
    cmd.env_clear();
    cmd.env("LC_ALL", "C");
    for key in COMMON_ENV.iter().chain(extra) {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
}

/// The last [`STDERR_KEEP`] bytes the child wrote to stderr, and whether it has closed it.
#[derive(Default)]
struct StderrTail {
    state: Mutex<(Vec<u8>, bool)>,
    done: Condvar,
}

impl StderrTail {
    fn drain(&self, mut pipe: ChildStderr) {
        let mut buf = [0u8; 4096];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.0.extend_from_slice(&buf[..n]);
            if st.0.len() > 2 * STDERR_KEEP {
                let cut = st.0.len() - STDERR_KEEP;
                st.0.drain(..cut);
            }
        }
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.done.notify_all();
    }

    /// What the child said, trailing whitespace removed (as libvirt trims it), once it has
    /// closed stderr or `wait` has passed.
    fn text(&self, wait: Duration) -> String {
        let deadline = Instant::now() + wait;
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !st.1 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .done
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let start = st.0.len().saturating_sub(STDERR_KEEP);
        String::from_utf8_lossy(&st.0[start..])
            .trim_end()
            .to_string()
    }
}

/// The child, ended and reaped when the transport is closed or dropped.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn terminate(&mut self) {
        let Some(mut child) = self.0.take() else {
            return;
        };
        if wait_for(&mut child, EXIT_GRACE) {
            return;
        }
        // SAFETY: kill(2) on our own child, which has not been reaped yet (try_wait said it is
        // still running), so the pid cannot have been reused.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        if wait_for(&mut child, TERM_GRACE) {
            return;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Whether `child` exits (and is reaped) within `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A running child whose stdin and stdout are the connection.
pub struct CommandTransport {
    stream: UnixStream,
    child: ChildGuard,
    stderr: Arc<StderrTail>,
    describe: String,
}

impl CommandTransport {
    /// Starts `cmd` (its environment already set) with its stdin and stdout on a socketpair.
    /// `describe` names the connection in messages.
    pub fn spawn(mut cmd: Command, describe: String) -> Result<CommandTransport, TransportError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let setup = |e: io::Error| TransportError::Spawn {
            program: program.clone(),
            reason: os_reason(&e),
        };
        let (ours, theirs) = UnixStream::pair().map_err(setup)?;
        let theirs_in = theirs.try_clone().map_err(setup)?;
        cmd.stdin(Stdio::from(OwnedFd::from(theirs_in)))
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            .stderr(Stdio::piped());
        let spawned = cmd.spawn();
        // The command holds our copies of the child's end; they must be closed now, or the
        // child's exit would never show as end of file.
        drop(cmd);
        let mut child = spawned.map_err(|e| spawn_error(&program, &e))?;
        let tail = Arc::new(StderrTail::default());
        match child.stderr.take() {
            Some(pipe) => {
                let t = Arc::clone(&tail);
                if let Err(e) = std::thread::Builder::new()
                    .name("virtsh-transport-stderr".into())
                    .spawn(move || t.drain(pipe))
                {
                    // Without the drain thread the child could block on stderr: end it.
                    drop(ChildGuard(Some(child)));
                    return Err(setup(e));
                }
            }
            None => tail.state.lock().unwrap_or_else(PoisonError::into_inner).1 = true,
        }
        Ok(CommandTransport {
            stream: ours,
            child: ChildGuard(Some(child)),
            stderr: tail,
            describe,
        })
    }

    /// The child's pid (for tests and messages).
    pub fn pid(&self) -> Option<u32> {
        self.child.0.as_ref().map(Child::id)
    }
}

/// libvirt's wording: a program not found in PATH (or not executable) is "Cannot find".
fn spawn_error(program: &str, e: &io::Error) -> TransportError {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => {
            TransportError::ProgramNotFound {
                program: program.to_string(),
                reason: os_reason(e),
            }
        }
        _ => TransportError::Spawn {
            program: program.to_string(),
            reason: os_reason(e),
        },
    }
}

/// The reading half: at end of file, what the child said on stderr becomes the error.
struct ChildReader {
    stream: UnixStream,
    stderr: Arc<StderrTail>,
}

impl Read for ChildReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => {
                let text = self.stderr.text(STDERR_WAIT);
                if text.is_empty() {
                    Ok(0)
                } else {
                    Err(io::Error::new(io::ErrorKind::UnexpectedEof, ChildEof(text)))
                }
            }
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                // libvirt: "Cannot recv data: <stderr>: <strerror>".
                let text = self.stderr.text(STDERR_WAIT);
                if text.is_empty() {
                    Err(e)
                } else {
                    Err(io::Error::new(
                        e.kind(),
                        format!("{text}: {}", os_reason(&e)),
                    ))
                }
            }
            other => other,
        }
    }
}

/// The writing half: a write that fails because the child is gone says what the child said
/// ("Cannot write data: Host key verification failed.: Broken pipe"), where libvirt would only
/// say "Broken pipe".
struct ChildWriter {
    stream: UnixStream,
    stderr: Arc<StderrTail>,
}

impl ChildWriter {
    fn explain(&self, e: io::Error) -> io::Error {
        if !matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) {
            return e;
        }
        let text = self.stderr.text(STDERR_WAIT);
        if text.is_empty() {
            return e;
        }
        io::Error::new(e.kind(), format!("{text}: {}", os_reason(&e)))
    }
}

impl Write for ChildWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf).map_err(|e| self.explain(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush().map_err(|e| self.explain(e))
    }
}

impl Transport for CommandTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts> {
        let this = *self;
        let reader = ChildReader {
            stream: this.stream.try_clone()?,
            stderr: Arc::clone(&this.stderr),
        };
        let closer = this.stream.try_clone()?;
        let mut child = this.child;
        Ok(TransportParts {
            reader: Box::new(reader),
            writer: Box::new(ChildWriter {
                stream: this.stream,
                stderr: Arc::clone(&this.stderr),
            }),
            closer: Box::new(move || {
                // Already shut down or reset by the child: nothing left to unblock.
                let _ = closer.shutdown(Shutdown::Both);
                child.terminate();
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RemoteError;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        libvirt_env(&mut cmd, &[]);
        cmd
    }

    #[test]
    fn the_child_is_the_connection() {
        let t = CommandTransport::spawn(sh("exec cat"), "cat".into()).unwrap();
        let pid = t.pid().unwrap();
        let mut parts = Box::new(t).into_parts().unwrap();
        parts.writer.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        parts.reader.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        (parts.closer)();
        // Reaped: the pid is gone.
        // SAFETY: kill with signal 0 only checks for existence.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, 0) }, -1);
        let mut rest = Vec::new();
        assert_eq!(parts.reader.read_to_end(&mut rest).unwrap(), 0);
    }

    #[test]
    fn stderr_explains_end_of_file() {
        let t = CommandTransport::spawn(
            sh("echo 'Permission denied (publickey).' >&2; exit 255"),
            "ssh".into(),
        )
        .unwrap();
        let mut parts = Box::new(t).into_parts().unwrap();
        let mut word = [0u8; 4];
        let e = parts.reader.read_exact(&mut word).unwrap_err();
        let remote = RemoteError::io("recv", &e);
        assert_eq!(
            remote.to_string(),
            "End of file while reading data: Permission denied (publickey).: Input/output error"
        );
        assert_eq!(remote.kind(), virtsh_api::ErrorKind::SystemError);
        (parts.closer)();
    }

    #[test]
    fn a_call_through_a_dying_child_gets_its_words() {
        use crate::client::{Client, ClientConfig};
        use crate::generated::remote::{REMOTE_PROC_AUTH_LIST, REMOTE_PROGRAM};
        // The child dies with the call unread (a reset), or before it is written (a broken
        // pipe), or after (end of file): each time the caller hears what it said, as a
        // system error.
        for script in [
            "echo 'Host key verification failed.' >&2; exit 255",
            "sleep 0.2; echo 'Host key verification failed.' >&2; exit 255",
            "head -c 28 >/dev/null; echo 'Host key verification failed.' >&2; exit 255",
        ] {
            let t = CommandTransport::spawn(sh(script), "ssh".into()).unwrap();
            let mut client = Client::new(Box::new(t), ClientConfig::default()).unwrap();
            let e = client
                .call::<(), ()>(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &())
                .unwrap_err();
            assert!(
                e.to_string().contains(": Host key verification failed.: "),
                "{script}: {e}"
            );
            assert_eq!(
                e.kind(),
                virtsh_api::ErrorKind::SystemError,
                "{script}: {e}"
            );
        }
    }

    #[test]
    fn a_silent_exit_is_plain_end_of_file() {
        let t = CommandTransport::spawn(sh("exit 0"), "true".into()).unwrap();
        let mut parts = Box::new(t).into_parts().unwrap();
        let e = parts.reader.read_exact(&mut [0u8; 4]).unwrap_err();
        assert!(matches!(RemoteError::io("recv", &e), RemoteError::Eof));
    }

    #[test]
    fn a_stubborn_child_is_killed() {
        // Ignores SIGTERM and end of input: only SIGKILL ends it.
        let t = CommandTransport::spawn(
            sh("trap '' TERM; while :; do sleep 0.05; done"),
            "stubborn".into(),
        )
        .unwrap();
        let pid = t.pid().unwrap();
        let parts = Box::new(t).into_parts().unwrap();
        let start = Instant::now();
        (parts.closer)();
        assert!(start.elapsed() < Duration::from_secs(5));
        // SAFETY: signal 0 only checks for existence.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, 0) }, -1);
    }

    #[test]
    fn a_missing_program_reads_like_libvirt() {
        let mut cmd = Command::new("/nonexistent/virtsh-no-such-ssh");
        libvirt_env(&mut cmd, &[]);
        let e = CommandTransport::spawn(cmd, "x".into()).err().unwrap();
        assert_eq!(
            e.to_string(),
            "Cannot find '/nonexistent/virtsh-no-such-ssh' in path: No such file or directory"
        );
    }

    #[test]
    fn only_libvirts_environment_is_passed() {
        // Any variable of ours that libvirt would not pass must be gone in the child.
        let Some((dropped, _)) = std::env::vars().find(|(k, _)| {
            k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && k != "LC_ALL"
                && !COMMON_ENV.contains(&k.as_str())
        }) else {
            return;
        };
        let t = CommandTransport::spawn(
            sh(&format!(
                "printf '%s|%s' \"$LC_ALL\" \"${{{dropped}-unset}}\""
            )),
            "env".into(),
        )
        .unwrap();
        let mut parts = Box::new(t).into_parts().unwrap();
        let mut out = String::new();
        parts.reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "C|unset", "{dropped}");
    }
}
