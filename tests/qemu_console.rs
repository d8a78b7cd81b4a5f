//! `virtsh console` and `ttyconsole` against a real guest: the tiny guest of
//! `fixtures/guest/build` with its serial port on a pty. Each console runs in a pseudo-terminal
//! of its own, as a person's would. Checks typing into the guest's shell, the escape character
//! (default and `-e`), one session at a time, and `--force` taking a console over.

mod support;

use std::time::{Duration, Instant};

use support::pty::{Nudge, Session};
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

/// What gets the guest's shell prompt: it may be booting still, or long past `TINYGUEST READY`
/// (then only a new line shows the prompt), so a carriage return at once and every 700 ms.
const PROMPT_NUDGE: Nudge = Nudge {
    bytes: b"\r",
    every: Duration::from_millis(700),
    at_once: true,
};

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
        0,
    );
    a.wait_prompt(PROMPT_NUDGE);
    a.send(b"echo hi-$((6*7))\r");
    a.wait_for("hi-42", 0);
    a.leave(0x1d);

    // One session at a time: a second one fails while the first is connected.
    let mut b = Session::start(&env, &["console", &name]);
    b.wait_prompt(PROMPT_NUDGE);
    let mut c = Session::start(&env, &["console", &name]);
    c.assert_busy();
    b.assert_running("the first session went away");

    // --force takes over: the old session ends (and restores its terminal), the new one works,
    // here with -e '^O' as its escape.
    let mut d = Session::start(&env, &["-e", "^O", "console", "--force", &name]);
    d.wait_for("Escape character is ^O (Ctrl + O)\r\n", 0);
    assert_eq!(b.wait_exit(Duration::from_secs(5)), 0, "{}", b.text());
    d.wait_prompt(PROMPT_NUDGE);
    d.send(b"echo forced-$((40+2))\r");
    d.wait_for("forced-42", 0);
    // ^] is an ordinary byte under -e '^O'.
    d.send(&[0x1d]);
    std::thread::sleep(Duration::from_millis(300));
    d.assert_running("^] ended a -e '^O' session");
    d.leave(0x0f);

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
    s.wait_for(&format!("Domain '{name}' started"), 0);
    s.wait_for("Connected to domain", 0);
    s.wait_for("TINYGUEST READY", 0);
    s.leave(0x1d);
    env.ok(&["destroy", &name]);

    // create --console of a transient copy.
    let other = unique_name("conat");
    let path = env.root.join("t.xml");
    std::fs::write(&path, guest_xml(&guest, &other)).expect("write");
    let mut s = Session::start(
        &env,
        &["create", "--console", path.to_str().expect("utf-8")],
    );
    s.wait_for(&format!("Domain '{other}' created from"), 0);
    s.wait_for("TINYGUEST READY", 0);
    s.leave(0x1d);
    env.ok(&["destroy", &other]);
}
