//! The QEMU monitor and events through virtsh, with real QEMU: qemu-monitor-command in its
//! forms, `event` and `qemu-monitor-event` watching a guest change state, and a UEFI guest
//! whose NVRAM copy `undefine --nvram` removes.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{bare_xml, tiny_guest, unique_name, Embed};

#[test]
fn monitor_commands_pass_through_in_libvirts_forms() {
    if tiny_guest("monitor_commands_pass_through").is_none() {
        return;
    }
    let env = Embed::new("mon");
    let name = unique_name("mon");
    env.define(&name, &bare_xml(&name, ""));
    env.ok(&["start", &name]);
    assert_eq!(
        env.ok(&["qemu-monitor-command", &name, r#"{"execute":"query-status"}"#]),
        "{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":\"libvirt-1\"}\n\n"
    );
    assert_eq!(
        env.ok(&["qemu-monitor-command", &name, "--pretty", "query-status"]),
        "{\n  \"return\": {\n    \"status\": \"running\",\n    \"singlestep\": false,\n    \"running\": true\n  },\n  \"id\": \"libvirt-2\"\n}\n\n\n"
    );
    assert_eq!(
        env.ok(&[
            "qemu-monitor-command",
            &name,
            "--return-value",
            "query-status"
        ]),
        "{\"status\":\"running\",\"singlestep\":false,\"running\":true}\n\n"
    );
    let hmp = env.ok(&["qemu-monitor-command", &name, "--hmp", "info", "status"]);
    assert!(hmp.starts_with("VM status: running"), "{hmp:?}");
    // QEMU's error replies are passed through, as libvirt does.
    let e = env.ok(&["qemu-monitor-command", &name, r#"{"execute":"no-such"}"#]);
    assert!(e.contains("\"class\":\"CommandNotFound\""), "{e}");
    let e = env.err(&["qemu-monitor-command", &name, "--hmp", "--pretty", "info"]);
    assert_eq!(
        e,
        "error: Options --hmp and --pretty are mutually exclusive\n"
    );
    env.ok(&["destroy", &name]);
    let e = env.err(&["qemu-monitor-command", &name, "query-status"]);
    assert_eq!(
        e,
        "error: Requested operation is not valid: domain is not running\n"
    );
}

#[test]
fn event_watchers_see_what_happens() {
    if tiny_guest("event_watchers_see_what_happens").is_none() {
        return;
    }
    let env = Embed::new("evt");
    let name = unique_name("evt");
    env.define(&name, &bare_xml(&name, ""));
    let watch = env
        .cmd(&["event", "--all", "--loop", "--timeout", "6"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn event");
    let qwatch = env
        .cmd(&[
            "qemu-monitor-event",
            "--loop",
            "--timeout",
            "6",
            "--event",
            "STOP",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn qemu-monitor-event");
    std::thread::sleep(Duration::from_millis(500));
    env.ok(&["start", &name]);
    std::thread::sleep(Duration::from_millis(500));
    env.ok(&["suspend", &name]);
    env.ok(&["resume", &name]);
    env.ok(&["destroy", &name]);
    let out = watch.wait_with_output().expect("event");
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = format!(
        "event 'lifecycle' for domain '{name}': Started Booted\n\
         event 'lifecycle' for domain '{name}': Suspended Paused\n\
         event 'lifecycle' for domain '{name}': Resumed Unpaused\n\
         event 'lifecycle' for domain '{name}': Stopped Destroyed\n\
         event loop timed out\n\
         events received: 4\n\n"
    );
    assert_eq!(text, expect);
    assert!(out.status.success());
    let out = qwatch.wait_with_output().expect("qemu-monitor-event");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("event STOP at ")
            && text.contains(&format!(" for domain '{name}': <null>\n")),
        "{text}"
    );
    assert!(
        text.ends_with("event loop timed out\nevents received: 1\n\n"),
        "{text}"
    );
}

#[test]
fn uefi_guest_gets_its_own_nvram_and_undefine_handles_it() {
    if tiny_guest("uefi_guest_gets_its_own_nvram").is_none() {
        return;
    }
    if !std::path::Path::new("/usr/share/OVMF").exists() {
        assert!(
            !support::in_ci(),
            "OVMF missing (CI=true; tests/run installs ovmf)"
        );
        eprintln!("SKIP uefi: no /usr/share/OVMF (apt-get install ovmf)");
        return;
    }
    let env = Embed::new("uefi");
    let name = unique_name("uefi");
    let xml = bare_xml(&name, "").replace(
        "<os>\n    <type arch='x86_64' machine='pc'>hvm</type>",
        "<os firmware='efi'>\n    <type arch='x86_64' machine='q35'>hvm</type>\n    <firmware><feature enabled='no' name='secure-boot'/></firmware>",
    );
    env.define(&name, &xml);
    env.ok(&["start", &name]);
    assert_eq!(env.state(&name), "running (booted)");
    let nvram = env.root.join(format!("lib/nvram/{name}_VARS.fd"));
    assert!(nvram.exists(), "no NVRAM copy at {}", nvram.display());
    env.ok(&["destroy", &name]);
    let e = env.err(&["undefine", &name]);
    assert_eq!(
        e,
        format!(
            "error: Failed to undefine domain '{name}'\nerror: Requested operation is not valid: cannot undefine domain with nvram\n"
        )
    );
    env.ok(&["undefine", "--nvram", &name]);
    assert!(!nvram.exists());
}

#[test]
fn desc_and_metadata_keep_live_and_config_apart() {
    if tiny_guest("desc_and_metadata_keep_live_and_config_apart").is_none() {
        return;
    }
    let env = Embed::new("meta");
    let name = unique_name("meta");
    env.define(&name, &bare_xml(&name, ""));
    env.ok(&["desc", &name, "persistent words"]);
    env.ok(&[
        "metadata",
        &name,
        "http://ex.org/",
        "--key",
        "ex",
        "--set",
        "<a><b>1</b></a>",
    ]);
    env.ok(&["start", &name]);
    env.ok(&["desc", &name, "--live", "live words"]);
    assert_eq!(env.ok(&["desc", &name]), "live words\n");
    assert_eq!(env.ok(&["desc", &name, "--config"]), "persistent words\n");
    assert_eq!(
        env.ok(&["metadata", &name, "http://ex.org/"]),
        "<a>\n  <b>1</b>\n</a>\n\n"
    );
    env.ok(&["metadata", &name, "http://ex.org/", "--remove", "--live"]);
    assert!(env
        .err(&["metadata", &name, "http://ex.org/"])
        .contains("metadata not found"));
    assert!(env
        .ok(&["metadata", &name, "http://ex.org/", "--config"])
        .contains("<b>1</b>"));
    env.ok(&["destroy", &name]);
    assert_eq!(env.ok(&["desc", &name]), "persistent words\n");
    assert!(env
        .ok(&["dumpxml", &name])
        .contains("<ex:a xmlns:ex=\"http://ex.org/\">"));
}
