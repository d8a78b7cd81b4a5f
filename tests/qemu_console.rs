//! `virtsh console` and `ttyconsole` against a real guest: the tiny guest of
//! `fixtures/guest/build` with its serial port on a pty. Each console runs in a pseudo-terminal
//! of its own, as a person's would. Checks typing into the guest's shell, the escape character
//! (default and `-e`), one session at a time, and `--force` taking a console over.

mod support;

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{tiny_guest, unique_name, Embed};

/// Every wait of this test is bounded by this.
const LIMIT: Duration = Duration::from_secs(30);

fn guest_xml(guest: &std::path::Path, name: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <devices>
    <serial type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
",
        kernel = guest.join("vmlinuz").display(),
        initrd = guest.join("initrd.img").display(),
    )
}

/// A `virtsh console` process on a pseudo-terminal, with everything it printed kept.
struct Session {
    child: Child,
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
    what: String,
}

impl Session {
    fn start(env: &Embed, args: &[&str]) -> Session {
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
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut cmd = env.cmd(args);
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().expect("run virtsh console");
        drop(cmd); // closes our copies of the slave, so the reader sees EIO when the child ends
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup master");
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            master,
            seen,
            what: args.join(" "),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master
            .write_all(bytes)
            .expect("write to the console's terminal");
    }

    /// Wait until the output contains `text`, sending `nudge` every 2 s if given.
    fn wait_for(&mut self, text: &str, nudge: Option<&[u8]>) {
        let t0 = Instant::now();
        let mut last_nudge = Instant::now();
        loop {
            if self.text().contains(text) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                assert!(
                    self.text().contains(text),
                    "`{}` exited ({st}) before printing {text:?}; it printed:\n{}",
                    self.what,
                    self.text()
                );
                return;
            }
            assert!(
                t0.elapsed() < LIMIT,
                "`{}`: no {text:?} within {LIMIT:?}; it printed:\n{}",
                self.what,
                self.text()
            );
            if let Some(n) = nudge {
                if last_nudge.elapsed() > Duration::from_secs(2) {
                    self.send(n);
                    last_nudge = Instant::now();
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait (bounded by `limit`) for the process to end; its exit code.
    fn wait_exit(&mut self, limit: Duration) -> i32 {
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

    /// Get the guest's shell prompt: it may be booting still, or long past `TINYGUEST READY`.
    fn wait_prompt(&mut self) {
        self.wait_for("Escape character is", None);
        let before = self.text().len();
        let t0 = Instant::now();
        loop {
            let text = self.text();
            if text[before..].contains("# ") {
                return;
            }
            assert!(
                t0.elapsed() < LIMIT,
                "`{}`: no shell prompt within {LIMIT:?}; it printed:\n{text}",
                self.what
            );
            self.send(b"\r");
            std::thread::sleep(Duration::from_millis(700));
        }
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

#[test]
fn console_relays_the_serial_port_of_a_real_guest() {
    let test = "console_relays_the_serial_port_of_a_real_guest";
    let Some(guest) = tiny_guest(test) else {
        return;
    };
    let env = Embed::new("con");
    let name = unique_name("con");
    env.define(&name, &guest_xml(&guest, &name));
    env.ok(&["start", &name]);

    // ttyconsole: the pty QEMU opened, once the live XML has it.
    let t0 = Instant::now();
    let tty = loop {
        let o = env.run(&["ttyconsole", &name]);
        let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if o.status.success() && out.starts_with("/dev/pts/") {
            break out;
        }
        assert!(t0.elapsed() < LIMIT, "ttyconsole gave no pty: {out:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let xml = env.ok(&["dumpxml", &name]);
    assert!(
        xml.contains(&format!("<console type='pty' tty='{tty}'>")),
        "{xml}"
    );
    let inactive = env.ok(&["dumpxml", "--inactive", &name]);
    assert!(!inactive.contains("tty="), "{inactive}");

    // Type into the guest's shell; leave with the default escape, ^].
    let mut a = Session::start(&env, &["console", &name]);
    a.wait_for(
        &format!("Connected to domain '{name}'\r\nEscape character is ^] (Ctrl + ])\r\n"),
        None,
    );
    a.wait_prompt();
    a.send(b"echo hi-$((6*7))\r");
    a.wait_for("hi-42", None);
    a.send(&[0x1d]);
    assert_eq!(a.wait_exit(Duration::from_secs(5)), 0, "{}", a.text());

    // One session at a time: a second one fails while the first is connected.
    let mut b = Session::start(&env, &["console", &name]);
    b.wait_prompt();
    let mut c = Session::start(&env, &["console", &name]);
    assert_eq!(c.wait_exit(LIMIT), 1, "{}", c.text());
    assert!(
        c.text()
            .contains("error: operation failed: Active console session exists for this domain"),
        "{}",
        c.text()
    );
    assert_eq!(
        b.child.try_wait().expect("wait"),
        None,
        "the first session went away"
    );

    // --force takes over: the old session ends (and restores its terminal), the new one works,
    // here with -e '^O' as its escape.
    let mut d = Session::start(&env, &["-e", "^O", "console", "--force", &name]);
    d.wait_for("Escape character is ^O (Ctrl + O)\r\n", None);
    assert_eq!(b.wait_exit(Duration::from_secs(5)), 0, "{}", b.text());
    d.wait_prompt();
    d.send(b"echo forced-$((40+2))\r");
    d.wait_for("forced-42", None);
    // ^] is an ordinary byte under -e '^O'.
    d.send(&[0x1d]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        d.child.try_wait().expect("wait"),
        None,
        "^] ended a -e '^O' session"
    );
    d.send(&[0x0f]);
    assert_eq!(d.wait_exit(Duration::from_secs(5)), 0, "{}", d.text());

    // Once the guest is gone, console refuses as virsh does.
    env.ok(&["destroy", &name]);
    let o = env.run(&["console", &name]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: The domain is not running\n"
    );
}

#[test]
fn start_and_create_with_console_attach_at_once() {
    let Some(guest) = tiny_guest("start_and_create_with_console_attach_at_once") else {
        return;
    };
    let env = Embed::new("conat");
    let name = unique_name("conat");
    env.define(&name, &guest_xml(&guest, &name));
    // start --console: the message, then the console from the first byte of boot.
    let mut s = Session::start(&env, &["start", "--console", &name]);
    s.wait_for(&format!("Domain '{name}' started"), None);
    s.wait_for("Connected to domain", None);
    s.wait_for("TINYGUEST READY", None);
    s.send(&[0x1d]);
    assert_eq!(s.wait_exit(Duration::from_secs(5)), 0);
    env.ok(&["destroy", &name]);

    // create --console of a transient copy.
    let other = unique_name("conat");
    let path = env.root.join("t.xml");
    std::fs::write(&path, guest_xml(&guest, &other)).expect("write");
    let mut s = Session::start(
        &env,
        &["create", "--console", path.to_str().expect("utf-8")],
    );
    s.wait_for(&format!("Domain '{other}' created from"), None);
    s.wait_for("TINYGUEST READY", None);
    s.send(&[0x1d]);
    assert_eq!(s.wait_exit(Duration::from_secs(5)), 0);
    env.ok(&["destroy", &other]);
}
