//! A real terminal for the tests of what a person sees: a tmux server of the test's own (`-S`
//! socket in its own temporary directory, `-f /dev/null` so no user configuration applies)
//! with one session, into whose pane the test types and whose screen it reads back. The server
//! is killed and the directory removed on drop, failures included.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a keystroke may take to show on the screen.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// One tmux server (not started until [`Tmux::new_session`]) and its temporary directory.
pub struct Tmux {
    /// The temporary directory, `virtsh-TAG-PID-NANOS` under the system's.
    pub dir: PathBuf,
    socket: PathBuf,
    /// The session's name: the directory's.
    pub session: String,
}

impl Tmux {
    /// Makes the directory; the server starts with [`Tmux::new_session`].
    pub fn new(tag: &str) -> Tmux {
        let session = format!(
            "virtsh-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let dir = std::env::temp_dir().join(&session);
        std::fs::create_dir_all(&dir).unwrap();
        Tmux {
            socket: dir.join("tmux.sock"),
            dir,
            session,
        }
    }

    /// Starts the server with the session running `cmd` (a shell command line) in a 132x50
    /// pane; in `cwd` if given.
    pub fn new_session(&self, cwd: Option<&Path>, cmd: &str) {
        let cwd = cwd.map(|d| d.display().to_string());
        let mut args = vec!["new-session", "-d", "-s", self.session.as_str()];
        if let Some(d) = &cwd {
            args.extend(["-c", d.as_str()]);
        }
        args.extend(["-x", "132", "-y", "50", cmd]);
        self.tmux(&args);
    }

    pub fn tmux_output(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Runs a tmux command and insists on success; its stdout.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.tmux_output(args);
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Text typed as is.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Named keys: `Tab`, `Enter`, `C-c` ...
    pub fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", &self.session, key]);
    }

    /// The whole pane, scrollback included, trailing blanks trimmed from each line.
    pub fn screen(&self) -> String {
        let text = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", &self.session]);
        trim_lines(&text)
    }

    /// The visible pane (trailing blanks trimmed from each line) and the text of the cursor's
    /// row before the cursor, untrimmed. One tmux command list reads both, so they are of the
    /// same moment.
    pub fn snapshot(&self) -> (String, String) {
        let out = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            &self.session,
            "#{cursor_x} #{cursor_y}",
            ";",
            "capture-pane",
            "-p",
            "-t",
            &self.session,
        ]);
        let (cursor, pane) = out.split_once('\n').unwrap_or((&out, ""));
        let (x, y) = cursor.split_once(' ').expect("cursor_x cursor_y");
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let row = pane.lines().nth(y).unwrap_or("");
        let before: String = row.chars().chain(std::iter::repeat(' ')).take(x).collect();
        (trim_lines(pane), before)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux_output(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn trim_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `look` (every 50 ms) until it gives a value; after [`DEADLINE`], fails with what it
/// saw last (its `Err`).
pub fn wait_until<T>(what: &str, mut look: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match look() {
            Ok(v) => return v,
            Err(seen) => {
                if start.elapsed() > DEADLINE {
                    panic!("timed out waiting for {what}; {seen}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `s` quoted for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
