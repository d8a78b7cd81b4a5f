//! Guest NICs on a host bridge, with real QEMU, inside a network namespace this test creates
//! (the host's own interfaces are never touched): the supervisor opens a tap, puts it on the
//! bridge, hands it to QEMU, and the kernel removes it when the guest ends.

mod support;

use std::time::{Duration, Instant};

use support::netns::NetNs;
use support::{tiny_guest, tiny_xml, unique_name, Embed, READY};

/// A private network namespace with a bridge `br0` (support::netns); deleted on drop.
struct Netns(NetNs);

impl Netns {
    fn new() -> Option<Netns> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            assert!(!support::in_ci(), "network namespaces need root (CI=true)");
            eprintln!("SKIP: cannot create a network namespace (not root)");
            return None;
        }
        let ns = NetNs::new("net");
        ns.ok(&["ip", "link", "add", "br0", "type", "bridge"]);
        ns.ok(&["ip", "link", "set", "br0", "up"]);
        Some(Netns(ns))
    }

    fn ip(&self, args: &[&str]) -> std::process::Output {
        let mut argv = vec!["ip"];
        argv.extend_from_slice(args);
        self.0.run(&argv)
    }

    /// Run virtsh inside the namespace (its supervisors are born there too).
    fn virtsh(&self, env: &Embed, args: &[&str]) -> std::process::Output {
        let mut argv = vec![env!("CARGO_BIN_EXE_virtsh"), "-c", &env.uri];
        argv.extend_from_slice(args);
        self.0.run(&argv)
    }
}

#[test]
fn a_bridge_nic_gets_a_tap_on_the_bridge_that_goes_with_the_guest() {
    let Some(guest) = tiny_guest("a_bridge_nic_gets_a_tap") else {
        return;
    };
    let Some(ns) = Netns::new() else {
        return;
    };
    let env = Embed::new("net");
    let name = unique_name("net");
    let nic = "<interface type='bridge'><mac address='52:54:00:12:34:56'/><source bridge='br0'/><model type='virtio'/></interface>";
    env.define(&name, &tiny_xml(&env, &guest, &name, nic));
    let o = ns.virtsh(&env, &["start", &name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let xml = String::from_utf8_lossy(&ns.virtsh(&env, &["dumpxml", &name]).stdout).into_owned();
    assert!(xml.contains("<target dev='vnet0'/>"), "{xml}");
    let ports = String::from_utf8_lossy(&ns.ip(&["-o", "link", "show", "master", "br0"]).stdout)
        .into_owned();
    assert!(ports.contains("vnet0"), "{ports}");
    // The host side has the guest's MAC with the first byte 0xfe, as libvirt sets it.
    let link =
        String::from_utf8_lossy(&ns.ip(&["-o", "link", "show", "vnet0"]).stdout).into_owned();
    assert!(link.contains("fe:54:00:12:34:56"), "{link}");
    let iflist =
        String::from_utf8_lossy(&ns.virtsh(&env, &["domiflist", &name]).stdout).into_owned();
    assert!(
        iflist.contains(" vnet0       bridge   br0      virtio   52:54:00:12:34:56"),
        "{iflist}"
    );

    // The guest's DHCP client sends on its NIC: the tap's counters see it.
    env.wait_serial(&name, READY, 1, Duration::from_secs(60));
    let t0 = Instant::now();
    loop {
        let stat = ns.virtsh(&env, &["domifstat", &name, "vnet0"]);
        let text = String::from_utf8_lossy(&stat.stdout).into_owned();
        let rx: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("vnet0 rx_packets "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if rx > 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no packets from the guest: {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A second NIC plugged in live gets its own tap on the bridge, and loses it on unplug.
    let o = ns.virtsh(
        &env,
        &[
            "attach-interface",
            &name,
            "bridge",
            "br0",
            "--model",
            "virtio",
            "--mac",
            "52:54:00:ab:cd:ef",
            "--live",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ports = String::from_utf8_lossy(&ns.ip(&["-o", "link", "show", "master", "br0"]).stdout)
        .into_owned();
    assert!(ports.contains("vnet1"), "{ports}");
    let xml = String::from_utf8_lossy(&ns.virtsh(&env, &["dumpxml", &name]).stdout).into_owned();
    assert!(xml.contains("<target dev='vnet1'/>"), "{xml}");
    let o = ns.virtsh(
        &env,
        &[
            "detach-interface",
            &name,
            "bridge",
            "--mac",
            "52:54:00:ab:cd:ef",
            "--live",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t0 = Instant::now();
    while ns.ip(&["link", "show", "vnet1"]).status.success() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the unplugged tap stayed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let o = ns.virtsh(&env, &["destroy", &name]);
    assert!(o.status.success());
    let gone = !ns.ip(&["link", "show", "vnet0"]).status.success();
    assert!(gone, "the tap outlived its guest");
}

#[test]
fn a_missing_bridge_is_a_clear_error_and_leaves_nothing() {
    if tiny_guest("a_missing_bridge_is_a_clear_error").is_none() {
        return;
    }
    let Some(ns) = Netns::new() else {
        return;
    };
    let env = Embed::new("nobr");
    let name = unique_name("nobr");
    let nic =
        "<interface type='bridge'><source bridge='nosuchbr'/><model type='virtio'/></interface>";
    env.define(&name, &support::bare_xml(&name, nic));
    let o = ns.virtsh(&env, &["start", &name]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("nosuchbr"), "{e}");
    assert_eq!(env.state(&name), "shut off (unknown)");
    assert!(!ns.ip(&["link", "show", "vnet0"]).status.success());
}
