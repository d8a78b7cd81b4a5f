//! Boot a real guest: the tiny Debian-kernel + busybox guest of `fixtures/guest/build`, under
//! TCG, with the QMP monitor on virtsh's pre-opened socket. Checks the serial console, the
//! guest agent and an ACPI power-button shutdown.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{qemu_binary, QemuGuard, TestDir, TIMEOUT};
use serde_json::{json, Value};
use virtsh_qemu::{MonitorSocket, QmpError};

const READY: &str = "TINYGUEST READY";
const CMDLINE: &str = "console=ttyS0 panic=-1 quiet";

/// Run `fixtures/guest/build` into the target's temp dir. A failure (no apt access, say) fails
/// the test under CI=true and skips it otherwise, like a missing QEMU.
fn build_guest(test: &str) -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/guest/build");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tinyguest");
    let t0 = Instant::now();
    let result = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let problem = match result {
        Ok(o) if o.status.success() => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let dir = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
            if dir.join("vmlinuz").is_file() && dir.join("initrd.img").is_file() {
                eprintln!("{test}: guest in {} ({:.1?})", dir.display(), t0.elapsed());
                return Some(dir);
            }
            format!("no vmlinuz/initrd.img in {stdout:?}")
        }
        Ok(o) => format!("{} exited with {}", script.display(), o.status),
        Err(e) => format!("cannot run {}: {e}", script.display()),
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: building the guest failed (CI=true): {problem}");
    }
    eprintln!("SKIP {test}: building the guest failed (needs apt access): {problem}");
    None
}

/// The serial console: a unix socket, read with a short timeout, everything kept in `seen`.
struct Console {
    stream: UnixStream,
    seen: String,
}

impl Console {
    fn connect(path: &Path) -> Self {
        let stream = UnixStream::connect(path).expect("connect to the serial socket");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
        Console {
            stream,
            seen: String::new(),
        }
    }

    /// Read until `needle` appears after byte offset `from` of `seen`; return the offset just
    /// past it. Panics (with the output so far) after `timeout`.
    fn wait_for(&mut self, needle: &str, from: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(pos) = self.seen.get(from..).and_then(|s| s.find(needle)) {
                return from + pos + needle.len();
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on the console within {timeout:?}; console so far:\n{}",
                self.seen
            );
            match self.stream.read(&mut buf) {
                Ok(0) => panic!(
                    "console closed while waiting for {needle:?}; console so far:\n{}",
                    self.seen
                ),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("reading the console: {e}"),
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .expect("type into the console");
    }
}

/// One guest-agent command on its socket; the reply's "return" within `timeout`.
fn agent(reader: &mut BufReader<UnixStream>, command: &str, timeout: Duration) -> Value {
    let req = json!({ "execute": command }).to_string() + "\n";
    reader
        .get_mut()
        .write_all(req.as_bytes())
        .expect("write to the agent socket");
    let deadline = Instant::now() + timeout;
    let mut line = String::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "no reply from the guest agent to {command} within {timeout:?} (partial: {line:?})"
        );
        match reader.read_line(&mut line) {
            Ok(0) => panic!("agent socket closed waiting for the reply to {command}"),
            Ok(_) if line.ends_with('\n') => {
                let v: Value = serde_json::from_str(line.trim())
                    .unwrap_or_else(|e| panic!("agent reply {line:?}: {e}"));
                return v
                    .get("return")
                    .cloned()
                    .unwrap_or_else(|| panic!("agent error for {command}: {v}"));
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("reading the agent socket: {e}"),
        }
    }
}

#[test]
fn tiny_guest_boots_answers_and_powers_off() {
    let test = "tiny_guest_boots_answers_and_powers_off";
    let Some(qemu) = qemu_binary(test) else {
        return;
    };
    let Some(guest) = build_guest(test) else {
        return;
    };
    let dir = TestDir::new("boot");
    let serial = dir.path().join("serial.sock");
    let qga = dir.path().join("qga.sock");

    // Start paused (-S) so that nothing the guest prints is lost before we connect.
    let mon = MonitorSocket::bind(&dir.path().join("run")).expect("bind monitor socket");
    let mut cmd = Command::new(&qemu);
    cmd.args(["-accel", "tcg", "-M", "pc", "-m", "256"])
        .args(["-nodefaults", "-S", "-display", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(guest.join("vmlinuz"))
        .arg("-initrd")
        .arg(guest.join("initrd.img"))
        .args(["-append", CMDLINE])
        .arg("-serial")
        .arg(format!("unix:{},server=on,wait=off", serial.display()))
        .args(["-device", "virtio-serial"])
        .arg("-chardev")
        .arg(format!(
            "socket,id=qga,path={},server=on,wait=off",
            qga.display()
        ))
        .args([
            "-device",
            "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    mon.prepare(&mut cmd).expect("prepare");
    let (child, mut qmp) = mon
        .spawn(&mut cmd, TIMEOUT)
        .expect("start QEMU and negotiate QMP");
    let mut guard = QemuGuard(child);

    let mut console = Console::connect(&serial);
    let agent_stream = UnixStream::connect(&qga).expect("connect to the agent socket");
    agent_stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let mut agent_reader = BufReader::new(agent_stream);

    // 1. Boot to the READY line.
    let t0 = Instant::now();
    qmp.execute("cont", Value::Null).expect("cont");
    let after_ready = console.wait_for(READY, 0, Duration::from_secs(60));
    eprintln!("{test}: {READY} after {:.1?} (TCG)", t0.elapsed());

    // 2. The shell on the serial console. Wait for its prompt, so that no input is typed
    // while the line editor sets the terminal up.
    let prompt = console.wait_for("# ", after_ready, Duration::from_secs(20));
    console.type_line("echo hello-$((6*7))");
    console.wait_for("hello-42", prompt, Duration::from_secs(20));

    // 3. The guest agent on the virtio-serial port (data is queued until it opens the port).
    let pong = agent(&mut agent_reader, "guest-ping", Duration::from_secs(20));
    assert_eq!(pong, json!({}), "guest-ping");
    let host = agent(
        &mut agent_reader,
        "guest-get-host-name",
        Duration::from_secs(10),
    );
    assert_eq!(
        host["host-name"], "tinyguest",
        "guest-get-host-name: {host}"
    );

    // 4. ACPI power button: repeat (a press before acpid runs is lost) until QEMU exits.
    let t1 = Instant::now();
    let mut shutdown = false;
    let mut status = None;
    'presses: for _ in 0..20 {
        match qmp.execute("system_powerdown", Value::Null) {
            Ok(_) => {}
            // QEMU may exit (and close the monitor) while we ask once more.
            Err(QmpError::Closed { .. } | QmpError::Io(_)) => {}
            Err(e) => panic!("system_powerdown: {e}"),
        }
        let second = Instant::now() + Duration::from_secs(1);
        while Instant::now() < second {
            if let Ok(events) = qmp.poll_events() {
                shutdown |= events.iter().any(|e| e.name == "SHUTDOWN");
            }
            if let Some(st) = guard.0.try_wait().expect("try_wait") {
                status = Some(st);
                break 'presses;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let exit_deadline = t1 + Duration::from_secs(30);
    while status.is_none() && Instant::now() < exit_deadline {
        status = guard.0.try_wait().expect("try_wait");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.unwrap_or_else(|| {
        panic!(
            "QEMU still running {:?} after the first system_powerdown; console:\n{}",
            t1.elapsed(),
            console.seen
        )
    });
    if !shutdown {
        // Events still buffered on the (now closed) monitor socket.
        shutdown = qmp.wait_event("SHUTDOWN", Duration::from_secs(2)).is_ok();
    }
    eprintln!(
        "{test}: powered off {:.1?} after the first press, {status}",
        t1.elapsed()
    );
    assert!(shutdown, "no SHUTDOWN event");
    assert!(status.success(), "QEMU exit status {status}");
}
