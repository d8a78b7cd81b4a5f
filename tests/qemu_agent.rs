//! The QEMU guest agent end to end: the tiny guest (TCG) with the agent channel
//! `org.qemu.guest_agent.0` in a private `qemu:///embed` root, driven through the `virtsh`
//! binary: qemu-agent-command, domhostname, domtime, guestinfo, domfsinfo, domifaddr
//! --source agent, set-user-password, shutdown --mode agent; and the errors of guests without
//! the channel, or whose agent never answers, in libvirt's words.

mod support;

use std::time::{Duration, Instant};

use support::{bare_xml, tiny_guest, tiny_xml, unique_name, Embed, READY};

const AGENT_CHANNEL: &str =
    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Wait (bounded) until the agent answers a guest-ping: qemu-ga opens its port shortly after
/// the guest prints READY.
fn wait_agent(env: &Embed, name: &str, limit: Duration) {
    let t0 = Instant::now();
    loop {
        let o = env.run(&["qemu-agent-command", name, r#"{"execute":"guest-ping"}"#]);
        if o.status.success() {
            assert_eq!(stdout(&o), "{\"return\":{}}\n\n");
            return;
        }
        assert!(
            t0.elapsed() < limit,
            "{name}: the agent did not answer within {limit:?}: {}",
            stderr(&o)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Run `sh -c SCRIPT` in the guest through guest-exec and wait (bounded) until it exited 0.
fn guest_sh(env: &Embed, name: &str, script: &str) {
    let cmd = serde_json::json!({
        "execute": "guest-exec",
        "arguments": {"path": "/bin/sh", "arg": ["-c", script], "capture-output": true}
    });
    let out = env.ok(&["qemu-agent-command", name, &cmd.to_string()]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("guest-exec reply");
    let pid = v["return"]["pid"].as_i64().expect("a pid");
    let t0 = Instant::now();
    loop {
        let status = serde_json::json!({"execute": "guest-exec-status", "arguments": {"pid": pid}});
        let out = env.ok(&["qemu-agent-command", name, &status.to_string()]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("status reply");
        if v["return"]["exited"] == true {
            assert_eq!(v["return"]["exitcode"], 0, "{script}: {v}");
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{script}: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn agent_commands_on_the_tiny_guest() {
    let Some(guest) = tiny_guest("agent_commands_on_the_tiny_guest") else {
        return;
    };
    let env = Embed::new("qga");
    let name = unique_name("qga");
    env.define(&name, &tiny_xml(&env, &guest, &name, AGENT_CHANNEL));
    env.ok(&["start", &name]);
    env.wait_serial(&name, READY, 1, Duration::from_secs(90));

    // The live XML records where the driver put the channel's socket.
    let xml = env.ok(&["dumpxml", &name]);
    let sock = env
        .root
        .join("run")
        .join(&name)
        .join("org.qemu.guest_agent.0");
    assert!(
        xml.contains(&format!("<source mode='bind' path='{}'/>", sock.display())),
        "{xml}"
    );
    assert!(
        xml.contains("<controller type='virtio-serial' index='0'/>"),
        "{xml}"
    );

    wait_agent(&env, &name, Duration::from_secs(60));

    // qemu-agent-command: the reply as libvirt reformats it; --pretty is yajl's layout.
    assert_eq!(
        env.ok(&[
            "qemu-agent-command",
            &name,
            "--pretty",
            r#"{"execute":"guest-ping"}"#
        ]),
        "{\n  \"return\": {\n\n  }\n}\n\n\n"
    );
    let e = env.err(&["qemu-agent-command", &name, r#"{"execute":"guest-nope"}"#]);
    assert_eq!(
        e,
        "error: internal error: unable to execute QEMU agent command 'guest-nope': \
         The command guest-nope has not been found\n"
    );
    assert_eq!(
        env.err(&[
            "qemu-agent-command",
            &name,
            "--timeout",
            "0",
            r#"{"execute":"guest-ping"}"#
        ]),
        "error: timeout must be positive\n"
    );

    // domhostname (the agent, as libvirt's qemu driver without flags).
    assert_eq!(env.ok(&["domhostname", &name]), "tinyguest\n\n");

    // domtime: the guest's clock starts from the host's (RTC base=utc).
    let out = env.ok(&["domtime", &name]);
    let secs: i64 = out
        .trim()
        .strip_prefix("Time: ")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("domtime: {out:?}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((secs - now).abs() < 600, "guest time {secs}, host {now}");
    env.ok(&["domtime", &name, "--sync"]);

    // guestinfo: typed parameters named as libvirt names them.
    assert_eq!(
        env.ok(&["guestinfo", &name, "--hostname"]),
        "hostname            : tinyguest\n\n"
    );
    let os = env.ok(&["guestinfo", &name, "--os"]);
    assert!(os.contains("os.machine          : x86_64\n"), "{os}");
    assert!(os.contains("os.kernel-release   : "), "{os}");
    let all = env.ok(&["guestinfo", &name]);
    for line in [
        "hostname            : tinyguest\n",
        "if.0.name           : lo\n",
        "if.0.addr.0.addr    : 127.0.0.1\n",
    ] {
        assert!(all.contains(line), "{line:?} not in:\n{all}");
    }

    // domfsinfo: the busybox guest has only virtual filesystems, which qemu-ga leaves out.
    let o = env.run(&["domfsinfo", &name]);
    if o.status.success() {
        let out = stdout(&o);
        assert!(
            out == "No filesystems are mounted in the domain\n"
                || out.starts_with(" Mountpoint   "),
            "{out:?}"
        );
    } else {
        assert!(
            stderr(&o).starts_with("error: Unable to get filesystem information\nerror: "),
            "{}",
            stderr(&o)
        );
    }

    // domifaddr --source agent: the loopback interface.
    let out = env.ok(&["domifaddr", &name, "--source", "agent"]);
    assert!(
        out.contains(" lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n"),
        "{out}"
    );

    // set-user-password: the busybox guest has no passwd(1); the agent's error, in libvirt's
    // words.
    let e = env.err(&["set-user-password", &name, "root", "secret"]);
    assert!(
        e.starts_with(
            "error: internal error: unable to execute QEMU agent command 'guest-set-user-password': "
        ),
        "{e}"
    );

    // shutdown --mode agent: qemu-ga runs /sbin/shutdown, which busybox lacks; give the guest
    // one (through the agent itself), then the agent powers the guest off.
    guest_sh(
        &env,
        &name,
        "printf '#!/bin/sh\\nexec poweroff -f\\n' >/sbin/shutdown && chmod 755 /sbin/shutdown",
    );
    let out = env.ok(&["shutdown", "--mode", "agent", &name]);
    assert_eq!(out, format!("Domain '{name}' is being shutdown\n\n"));
    env.wait_state(&name, "shut off (shutdown)", Duration::from_secs(60));
}

#[test]
fn agent_errors_without_a_channel_or_an_agent() {
    if tiny_guest("agent_errors_without_a_channel_or_an_agent").is_none() {
        return;
    }
    let env = Embed::new("qgb");
    // No channel at all: not configured.
    let plain = unique_name("qgb");
    env.define(&plain, &bare_xml(&plain, ""));
    env.ok(&["start", &plain]);
    let not_configured = "error: argument unsupported: QEMU guest agent is not configured\n";
    assert_eq!(
        env.err(&["qemu-agent-command", &plain, r#"{"execute":"guest-ping"}"#]),
        not_configured
    );
    assert_eq!(
        env.err(&["domhostname", &plain]),
        format!("error: failed to get hostname\n{not_configured}")
    );
    assert_eq!(env.err(&["domtime", &plain]), not_configured);
    assert_eq!(env.err(&["guestinfo", &plain]), not_configured);
    assert_eq!(
        env.err(&["domfsinfo", &plain]),
        format!("error: Unable to get filesystem information\n{not_configured}")
    );
    assert_eq!(
        env.err(&["shutdown", "--mode", "agent", &plain]),
        format!("error: Failed to shutdown domain '{plain}'\n{not_configured}")
    );

    // A channel, but a guest (in its BIOS) that never opens it: not connected, within bounds.
    let silent = unique_name("qgb");
    env.define(&silent, &bare_xml(&silent, AGENT_CHANNEL));
    env.ok(&["start", &silent]);
    let t0 = Instant::now();
    assert_eq!(
        env.err(&["qemu-agent-command", &silent, r#"{"execute":"guest-ping"}"#]),
        "error: Guest agent is not responding: QEMU guest agent is not connected\n"
    );
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());

    // Not running at all.
    env.ok(&["destroy", &plain]);
    assert_eq!(
        env.err(&["domhostname", &plain]),
        "error: failed to get hostname\nerror: Requested operation is not valid: domain is not running\n"
    );
}
