//! Pseudo-terminals for the tests that run virtsh as a person does: [`openpty`], a
//! [`Recorder`] that keeps everything the terminal showed, and a [`Session`] (a virtsh process
//! with its stdio on a terminal of its own: typing into it, waiting for its output, its exit).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Embed;

/// Every wait of a [`Session`] for its output is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(30);

/// A new pseudo-terminal: (master, slave).
pub fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty fills two descriptors; name, termios and winsize may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and belong to us alone.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// A thread that keeps everything read from a terminal's master until the last slave is closed
/// (a pty's master then reads EIO: that is the end).
pub struct Recorder {
    seen: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl Recorder {
    pub fn start(mut master: std::fs::File) -> Recorder {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Recorder { seen, thread }
    }

    /// What the terminal showed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Everything the terminal showed, once the last slave has gone.
    pub fn finish(self) -> Vec<u8> {
        self.thread.join().expect("terminal reader");
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// What [`Session::wait_prompt`] types while it waits for the prompt: `bytes` every `every`,
/// the first time at once or only after one period.
#[derive(Clone, Copy)]
pub struct Nudge {
    pub bytes: &'static [u8],
    pub every: Duration,
    pub at_once: bool,
}

/// A virtsh process (e.g. `virtsh console`) on a pseudo-terminal of its own (stdin, stdout and
/// stderr), with everything it printed kept; killed on drop if it still runs.
pub struct Session {
    pub child: Child,
    master: std::fs::File,
    shown: Recorder,
    what: String,
}

impl Session {
    /// `virtsh ARGS` on `env`'s connection.
    pub fn start(env: &Embed, args: &[&str]) -> Session {
        let (master, slave) = openpty();
        let mut cmd = env.cmd(args);
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().expect("run virtsh console");
        drop(cmd); // closes our copies of the slave, so the reader sees EIO when the child ends
        let master = std::fs::File::from(master);
        let shown = Recorder::start(master.try_clone().expect("dup master"));
        Session {
            child,
            master,
            shown,
            what: args.join(" "),
        }
    }

    pub fn text(&self) -> String {
        self.shown.text()
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.master
            .write_all(bytes)
            .expect("write to the console's terminal");
    }

    /// Wait until the output, after its first `from` bytes, contains `text`.
    pub fn wait_for(&mut self, text: &str, from: usize) {
        self.wait_nudging(text, from, None);
    }

    fn wait_nudging(&mut self, text: &str, from: usize, nudge: Option<Nudge>) {
        let t0 = Instant::now();
        let mut last_nudge = match nudge {
            Some(n) if n.at_once => None,
            _ => Some(Instant::now()),
        };
        loop {
            let seen = self.text();
            if seen.get(from..).is_some_and(|s| s.contains(text)) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                let seen = self.text();
                assert!(
                    seen.get(from..).is_some_and(|s| s.contains(text)),
                    "`{}` exited ({st}) before printing {text:?}; it printed:\n{seen}",
                    self.what
                );
                return;
            }
            assert!(
                t0.elapsed() < LIMIT,
                "`{}`: no {text:?} within {LIMIT:?}; it printed:\n{seen}",
                self.what
            );
            if let Some(n) = nudge {
                if last_nudge.is_none_or(|t| t.elapsed() > n.every) {
                    self.send(n.bytes);
                    last_nudge = Some(Instant::now());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait (bounded by `limit`) for the process to end; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> i32 {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                std::thread::sleep(Duration::from_millis(100));
                return st.code().unwrap_or(-1);
            }
            assert!(
                t0.elapsed() < limit,
                "`{}` still runs after {limit:?}; it printed:\n{}",
                self.what,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Type the escape character `escape` and insist that the session ends, successfully,
    /// within 5 s.
    pub fn leave(&mut self, escape: u8) {
        self.send(&[escape]);
        assert_eq!(self.wait_exit(Duration::from_secs(5)), 0, "{}", self.text());
    }

    /// Insist that the process still runs (`why`: what would have ended it).
    pub fn assert_running(&mut self, why: &str) {
        assert_eq!(self.child.try_wait().expect("wait"), None, "{why}");
    }

    /// Insist that the console was refused (exit 1, within [`LIMIT`]) because another session
    /// is connected.
    pub fn assert_busy(&mut self) {
        assert_eq!(self.wait_exit(LIMIT), 1, "{}", self.text());
        assert!(
            self.text()
                .contains("error: operation failed: Active console session exists for this domain"),
            "{}",
            self.text()
        );
    }

    /// Connected (`Escape character is`), then a shell's prompt (`# `) printed after that,
    /// with `nudge` typed meanwhile.
    pub fn wait_prompt(&mut self, nudge: Nudge) {
        self.wait_for("Escape character is", 0);
        let from = self.text().len();
        self.wait_nudging("# ", from, Some(nudge));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
