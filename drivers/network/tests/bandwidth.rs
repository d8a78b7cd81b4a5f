//! Tests of `virtsh_network::bandwidth` against the real kernel and the real `tc`, each in a
//! network namespace of its own (a thread that calls `unshare(CLONE_NEWNET)`; the `tc` and `ip`
//! commands it spawns start in that namespace), never on the host's interfaces.
//!
//! Each test re-runs itself in a child process whose `PATH` starts with a small `tc` wrapper:
//! the wrapper logs every command the library runs, then hands it to the real `tc`. So a test
//! checks both the exact commands (libvirt's) and what the kernel then shows (`tc qdisc`,
//! `tc class`, `tc filter`). Kernels built without some of libvirt's tc pieces (sfq, the fw
//! classifier, the police action are options) cannot hold the whole structure: the child probes
//! for them first, the wrapper skips (and still logs) the commands that need a missing piece,
//! and the checks of those pieces say they are skipped. The wrapper can also fail chosen
//! commands, to test errors and rollback.
//!
//! A missing `tc` skips the tests with a message, and fails them under `CI=true`. They need
//! root (CAP_SYS_ADMIN and CAP_NET_ADMIN); without it each says so and skips.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use virtsh_network::bandwidth::{self, BandwidthError};
use virtsh_xml::network::{BandwidthDef, BandwidthRate};

/// Set in the child process, to the directory with the wrapper, its log and its controls.
const CHILD_ENV: &str = "VIRTSH_BW_TEST_DIR";
/// The real `tc`, for the wrapper and for the checks.
const REAL_TC_ENV: &str = "VIRTSH_BW_REAL_TC";

const WRAPPER: &str = r#"#!/bin/sh
# tc as virtsh-network's bandwidth code runs it: log the command, fail or skip it when the
# test says so, else run the real tc.
printf '%s\n' "tc $*" >> "$VIRTSH_BW_TEST_DIR/log"
if [ -f "$VIRTSH_BW_TEST_DIR/fail" ]; then
    while read -r w || [ -n "$w" ]; do
        [ -n "$w" ] || continue
        case " $* " in *" $w "*) echo "Error: simulated failure ($w)." >&2; exit 2;; esac
    done < "$VIRTSH_BW_TEST_DIR/fail"
fi
if [ -f "$VIRTSH_BW_TEST_DIR/skip" ]; then
    while read -r w || [ -n "$w" ]; do
        [ -n "$w" ] || continue
        case " $* " in *" $w "*) exit 0;; esac
    done < "$VIRTSH_BW_TEST_DIR/skip"
fi
exec "$VIRTSH_BW_REAL_TC" "$@"
"#;

/// The real `tc`, as the library would find it (PATH, then the sbin directories).
fn find_tc() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join("tc"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// In the parent: run the test `name` again in a child process with the wrapper first in
/// `PATH`, and return false. In the child: return true (the caller runs the body).
fn in_child(name: &str) -> bool {
    if std::env::var_os(CHILD_ENV).is_some() {
        return true;
    }
    let Some(real_tc) = find_tc() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tc (iproute2) is not installed, and CI=true: install it");
        }
        eprintln!("skipped: tc (iproute2) is not installed");
        return false;
    };
    let dir = std::env::temp_dir().join(format!("virtsh-bw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wrapper = dir.join("tc");
    std::fs::write(&wrapper, WRAPPER).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(dir.clone()).chain(std::env::split_paths(&path)))
            .unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .env(REAL_TC_ENV, &real_tc)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test {name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    false
}

fn test_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(CHILD_ENV).unwrap())
}

/// Runs `body` in a new thread, in a fresh network namespace, after probing what the kernel's
/// tc supports there.
fn in_netns(body: impl FnOnce(&Kernel) + Send + 'static) {
    common::in_fresh_netns(move || body(&Kernel::probe()));
}

use common::ip;

/// The real tc (not the wrapper): its stdout, or its stderr as the error.
fn real_tc(args: &[&str]) -> Result<String, String> {
    let out = Command::new(std::env::var_os(REAL_TC_ENV).unwrap())
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run tc");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn show(args: &[&str]) -> String {
    real_tc(args).unwrap_or_else(|e| panic!("tc {}: {e}", args.join(" ")))
}

/// A veth pair, both ends up; the tests shape `dev`.
fn veth(dev: &str, peer: &str) {
    ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
    ip(&["link", "set", dev, "up"]);
    ip(&["link", "set", peer, "up"]);
}

/// The tc pieces libvirt's structure uses that this kernel has.
struct Kernel {
    /// Words of the commands the wrapper skips: "sfq", "fw", "police" (or "htb", "ingress").
    missing: Vec<&'static str>,
}

impl Kernel {
    fn probe() -> Kernel {
        veth("probe0", "probe1");
        let dev = "probe0";
        let mut missing = Vec::new();
        let mut try_tc = |what: &'static str, args: &[&str]| {
            if let Err(e) = real_tc(args) {
                eprintln!("note: this kernel's tc lacks {what}: {}", e.trim());
                missing.push(what);
            }
        };
        try_tc(
            "htb",
            &["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb"],
        );
        try_tc(
            "sfq",
            &[
                "qdisc", "add", "dev", "probe1", "root", "handle", "2:", "sfq",
            ],
        );
        try_tc(
            "fw",
            &[
                "filter", "add", "dev", dev, "parent", "1:0", "protocol", "all", "prio", "1",
                "handle", "1", "fw", "flowid", "1",
            ],
        );
        try_tc("ingress", &["qdisc", "add", "dev", dev, "ingress"]);
        try_tc(
            "police",
            &[
                "filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all", "u32", "match",
                "u32", "0", "0", "police", "rate", "1kbps", "burst", "1kb", "drop", "flowid", ":1",
            ],
        );
        ip(&["link", "del", dev]);
        if !missing.is_empty() {
            eprintln!(
                "note: the checks of {} are skipped on this kernel (the wrapper skips those \
                 commands)",
                missing.join(", ")
            );
        }
        let skip: String = missing.iter().map(|w| format!("{w}\n")).collect();
        std::fs::write(test_dir().join("skip"), skip).unwrap();
        Kernel { missing }
    }

    fn has(&self, what: &str) -> bool {
        !self.missing.contains(&what)
    }
}

/// The commands the library ran since the last call, through the wrapper.
fn take_log() -> Vec<String> {
    let path = test_dir().join("log");
    let log = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    log.lines().map(str::to_string).collect()
}

fn joined(cmds: Vec<Vec<String>>) -> Vec<String> {
    cmds.into_iter().map(|c| c.join(" ")).collect()
}

fn rate(average: u64, peak: u64, burst: u64, floor: u64) -> BandwidthRate {
    BandwidthRate {
        average,
        peak,
        burst,
        floor,
    }
}

/// inbound 1000 KB/s (peak 5000, burst 5 MiB), outbound 128 KB/s (peak 256, burst 64 KiB).
fn both_ways() -> BandwidthDef {
    BandwidthDef {
        inbound: Some(rate(1000, 5000, 5120, 0)),
        outbound: Some(rate(128, 256, 64, 0)),
    }
}

/// No trace of limits on `dev`: the default root qdisc, no classes, no filters either way.
fn assert_clear(dev: &str) {
    let qdiscs = show(&["qdisc", "show", "dev", dev]);
    assert!(
        !qdiscs.contains("htb") && !qdiscs.contains("ingress") && !qdiscs.contains("sfq"),
        "{qdiscs}"
    );
    assert_eq!(show(&["class", "show", "dev", dev]), "");
    assert_eq!(show(&["filter", "show", "dev", dev]), "");
    // Without an ingress qdisc there is no ffff: to list.
    let ingress = real_tc(&["filter", "show", "dev", dev, "parent", "ffff:"]);
    assert!(
        ingress.as_deref().map_or(true, str::is_empty),
        "{ingress:?}"
    );
}

/// The one htb class line of `dev`.
fn class_line(dev: &str, class: &str) -> String {
    let classes = show(&["class", "show", "dev", dev]);
    let mut found = classes
        .lines()
        .filter(|l| l.starts_with(&format!("class htb {class} ")));
    let line = found
        .next()
        .unwrap_or_else(|| panic!("no class {class}: {classes}"));
    assert!(found.next().is_none(), "{classes}");
    line.to_string()
}

#[test]
fn a_taps_limits_are_set_and_cleared() {
    if !in_child("a_taps_limits_are_set_and_cleared") {
        return;
    }
    in_netns(|k| {
        veth("bw0", "bw1");
        take_log();
        // A tap (swapped): the guest's inbound is shaped on the tap's egress, its outbound
        // policed on the tap's ingress.
        bandwidth::set("bw0", &both_ways(), true).unwrap();
        let log = take_log();
        let mut expected = joined(bandwidth::clear_commands("bw0"));
        expected.extend(joined(bandwidth::set_commands(
            "bw0",
            &both_ways(),
            false,
            true,
        )));
        assert_eq!(log, expected);
        assert_eq!(log[2], "tc qdisc add dev bw0 root handle 1: htb default 1");
        assert_eq!(
            log[3],
            "tc class add dev bw0 parent 1: classid 1:1 htb rate 1000kbps ceil 5000kbps \
             burst 5120kb quantum 85"
        );

        let qdiscs = show(&["-s", "qdisc", "show", "dev", "bw0"]);
        assert!(qdiscs.contains("Sent "), "{qdiscs}");
        if k.has("htb") {
            assert!(qdiscs.contains("qdisc htb 1: root"), "{qdiscs}");
            assert!(qdiscs.contains("default 0x1"), "{qdiscs}");
            // 1000 KB/s is 8 Mbit/s; peak 5000 KB/s 40 Mbit/s; burst 5120 KiB.
            let class = class_line("bw0", "1:1");
            assert!(class.contains(" root "), "{class}");
            assert!(
                class.contains("rate 8Mbit ceil 40Mbit burst 5Mb"),
                "{class}"
            );
            let detailed = show(&["-d", "class", "show", "dev", "bw0"]);
            assert!(detailed.contains("quantum 85 "), "{detailed}");
        }
        if k.has("sfq") {
            assert!(qdiscs.contains("qdisc sfq 2: parent 1:1"), "{qdiscs}");
        }
        if k.has("fw") {
            let filters = show(&["filter", "show", "dev", "bw0"]);
            assert!(filters.contains("protocol all pref 1 fw"), "{filters}");
            assert!(filters.contains("handle 0x1"), "{filters}");
        }
        if k.has("ingress") {
            assert!(qdiscs.contains("qdisc ingress ffff:"), "{qdiscs}");
        }
        if k.has("police") {
            // 128 KB/s is 1024 kbit/s.
            let ingress = show(&["filter", "show", "dev", "bw0", "parent", "ffff:"]);
            assert!(ingress.contains("u32"), "{ingress}");
            assert!(ingress.contains("police"), "{ingress}");
            assert!(ingress.contains("rate 1024Kbit"), "{ingress}");
            assert!(ingress.contains("drop"), "{ingress}");
        }
        // The peer is untouched.
        let peer = show(&["qdisc", "show", "dev", "bw1"]);
        assert!(!peer.contains("htb") && !peer.contains("ingress"), "{peer}");

        bandwidth::clear("bw0").unwrap();
        assert_eq!(take_log(), joined(bandwidth::clear_commands("bw0")));
        assert_clear("bw0");
        // Clearing a device without limits, or one that does not exist, is fine.
        bandwidth::clear("bw0").unwrap();
        bandwidth::clear("nosuch0").unwrap();
        assert_clear("bw0");
    });
}

#[test]
fn unswapped_limits_and_setting_twice_replaces() {
    if !in_child("unswapped_limits_and_setting_twice_replaces") {
        return;
    }
    in_netns(|k| {
        veth("bw0", "bw1");
        // Not swapped (a macvtap): inbound is policed on ingress, outbound shaped on egress.
        bandwidth::set("bw0", &both_ways(), false).unwrap();
        let log = take_log();
        assert_eq!(
            &log[2..4],
            [
                "tc qdisc add dev bw0 root handle 1: htb default 1",
                "tc class add dev bw0 parent 1: classid 1:1 htb rate 128kbps ceil 256kbps \
                 burst 64kb quantum 10",
            ]
        );
        assert_eq!(
            log.last().unwrap(),
            "tc filter add dev bw0 parent ffff: protocol all u32 match u32 0 0 police \
             rate 1000kbps burst 5120kb mtu 64kb drop flowid :1"
        );
        if k.has("htb") {
            let class = class_line("bw0", "1:1");
            assert!(
                class.contains("rate 1024Kbit ceil 2048Kbit burst 64Kb"),
                "{class}"
            );
        }
        if k.has("police") {
            let ingress = show(&["filter", "show", "dev", "bw0", "parent", "ffff:"]);
            assert!(ingress.contains("rate 8Mbit"), "{ingress}");
        }

        // Again, with other rates: the old structure goes first, one class remains.
        let second = BandwidthDef {
            inbound: Some(rate(500, 0, 0, 0)),
            outbound: Some(rate(2000, 0, 0, 0)),
        };
        bandwidth::set("bw0", &second, false).unwrap();
        let log = take_log();
        assert_eq!(&log[..2], joined(bandwidth::clear_commands("bw0")));
        assert_eq!(
            log.last().unwrap(),
            "tc filter add dev bw0 parent ffff: protocol all u32 match u32 0 0 police \
             rate 500kbps burst 500kb mtu 64kb drop flowid :1"
        );
        if k.has("htb") {
            // Without a peak the ceiling is the rate.
            let class = class_line("bw0", "1:1");
            assert!(class.contains("rate 16Mbit ceil 16Mbit"), "{class}");
        }
        if k.has("police") {
            let ingress = show(&["filter", "show", "dev", "bw0", "parent", "ffff:"]);
            assert_eq!(ingress.matches("police").count(), 1, "{ingress}");
            assert!(ingress.contains("rate 4Mbit"), "{ingress}");
        }

        // A third time, with only the inbound: no egress structure is left.
        let third = BandwidthDef {
            inbound: Some(rate(300, 0, 0, 0)),
            outbound: None,
        };
        bandwidth::set("bw0", &third, false).unwrap();
        let qdiscs = show(&["qdisc", "show", "dev", "bw0"]);
        assert!(!qdiscs.contains("htb"), "{qdiscs}");
        assert_eq!(show(&["class", "show", "dev", "bw0"]), "");
        if k.has("ingress") {
            assert!(qdiscs.contains("qdisc ingress ffff:"), "{qdiscs}");
        }

        bandwidth::clear("bw0").unwrap();
        assert_clear("bw0");
    });
}

#[test]
fn failures_quote_tc_and_leave_the_device_clean() {
    if !in_child("failures_quote_tc_and_leave_the_device_clean") {
        return;
    }
    in_netns(|k| {
        veth("bw0", "bw1");
        // A command failing half-way: the error quotes it and tc's message, and what was
        // already added is removed again.
        std::fs::write(test_dir().join("fail"), "sfq\n").unwrap();
        let err = bandwidth::set("bw0", &both_ways(), true).unwrap_err();
        assert!(matches!(err, BandwidthError::Failed { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "Child process (tc qdisc add dev bw0 parent 1:1 handle 2: sfq perturb 10) \
             unexpected exit status 2: Error: simulated failure (sfq)."
        );
        let api: virtsh_api::Error = err.into();
        assert!(
            api.message
                .starts_with("internal error: Child process (tc "),
            "{api}"
        );
        let log = take_log();
        assert_eq!(
            &log[log.len() - 2..],
            joined(bandwidth::clear_commands("bw0"))
        );
        if k.has("htb") {
            assert_clear("bw0");
        }
        std::fs::remove_file(test_dir().join("fail")).unwrap();

        // The kernel's own refusal: no such device.
        let err = bandwidth::set("nosuch0", &both_ways(), true).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "Child process (tc qdisc add dev nosuch0 root handle 1: htb default 1) \
                 unexpected exit status "
            ),
            "{msg}"
        );
        assert!(msg.contains("nosuch0\""), "{msg}");

        // Nothing to set is no error (and removes what was there).
        bandwidth::set("bw0", &both_ways(), true).unwrap();
        bandwidth::set("bw0", &BandwidthDef::default(), true).unwrap();
        assert_clear("bw0");
        // An unnamed device is refused as libvirt does.
        assert_eq!(
            bandwidth::set("", &both_ways(), true)
                .unwrap_err()
                .to_string(),
            "Unable to set bandwidth for interface because device name is unknown"
        );
    });
}

#[test]
fn a_networks_bridge_gets_the_floor_hierarchy() {
    if !in_child("a_networks_bridge_gets_the_floor_hierarchy") {
        return;
    }
    in_netns(|k| {
        ip(&["link", "add", "vbr0", "type", "bridge"]);
        ip(&["link", "set", "vbr0", "up"]);
        // The network: 1000 KB/s average, 2000 KB/s peak, inbound (what the bridge sends to
        // the guests, so swapped as libvirt does).
        let net = BandwidthDef {
            inbound: Some(rate(1000, 2000, 0, 0)),
            outbound: None,
        };
        bandwidth::set_hierarchical("vbr0", &net, true).unwrap();
        let log = take_log();
        assert_eq!(
            &log[2..],
            [
                "tc qdisc add dev vbr0 root handle 1: htb default 2",
                "tc class add dev vbr0 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps \
                 quantum 85",
                "tc class add dev vbr0 parent 1:1 classid 1:2 htb rate 1000kbps ceil 2000kbps \
                 quantum 85",
                "tc qdisc add dev vbr0 parent 1:2 handle 2: sfq perturb 10",
                "tc filter add dev vbr0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
            ]
        );
        if !k.has("htb") {
            eprintln!("skipped: the class checks need htb");
            return;
        }
        let qdiscs = show(&["qdisc", "show", "dev", "vbr0"]);
        assert!(qdiscs.contains("default 0x2"), "{qdiscs}");
        assert!(class_line("vbr0", "1:1").contains(" root rate 8Mbit ceil 16Mbit"));
        assert!(class_line("vbr0", "1:2").contains("parent 1:1"));

        // A NIC with a 200 KB/s floor, class 3.
        let nic = BandwidthDef {
            inbound: Some(rate(0, 0, 0, 200)),
            outbound: None,
        };
        let mac = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef];
        bandwidth::plug("vbr0", Some(&net), &mac, &nic, 3).unwrap();
        assert_eq!(
            take_log(),
            [
                "tc class add dev vbr0 parent 1:1 classid 1:3 htb rate 200kbps ceil 2000kbps \
                 quantum 1",
                "tc qdisc add dev vbr0 parent 1:3 handle 3: sfq perturb 10",
                "tc filter add dev vbr0 protocol ip prio 2 handle 800::803 u32 match u16 0x0800 \
                 0xffff at -2 match u32 0x00abcdef 0xffffffff at -12 match u16 0x5254 0xffff \
                 at -14 flowid 1:3",
            ]
        );
        let class = class_line("vbr0", "1:3");
        assert!(class.contains("parent 1:1"), "{class}");
        assert!(class.contains("rate 1600Kbit ceil 16Mbit"), "{class}");
        if k.has("sfq") {
            let qdiscs = show(&["qdisc", "show", "dev", "vbr0"]);
            assert!(qdiscs.contains("qdisc sfq 3: parent 1:3"), "{qdiscs}");
        }
        let filters = show(&["filter", "show", "dev", "vbr0"]);
        assert!(filters.contains("fh 800::803"), "{filters}");
        assert!(filters.contains("flowid 1:3"), "{filters}");
        assert!(
            filters.contains("match 00abcdef/ffffffff at -12"),
            "{filters}"
        );
        assert!(
            filters.contains("match 00005254/0000ffff at -16"),
            "{filters}"
        );

        // The NICs without a floor now share the peak minus the floors.
        bandwidth::update_rate("vbr0", 2, net.inbound.as_ref().unwrap(), 2000 - 200).unwrap();
        assert_eq!(
            take_log(),
            ["tc class change dev vbr0 classid 1:2 htb rate 1800kbps ceil 2000kbps quantum 85"]
        );
        assert!(class_line("vbr0", "1:2").contains("rate 14400Kbit ceil 16Mbit"));

        // The NIC's MAC changes.
        bandwidth::update_filter("vbr0", &[0x52, 0x54, 0, 1, 2, 3], 3).unwrap();
        let filters = show(&["filter", "show", "dev", "vbr0"]);
        assert_eq!(filters.matches("fh 800::803").count(), 1, "{filters}");
        assert!(
            filters.contains("match 00010203/ffffffff at -12"),
            "{filters}"
        );
        take_log();

        // Unplugged: its class and filter go.
        bandwidth::unplug("vbr0", 3).unwrap();
        assert_eq!(
            take_log(),
            [
                "tc qdisc del dev vbr0 handle 3:",
                "tc filter del dev vbr0 prio 2 handle 800::803 u32",
                "tc class del dev vbr0 classid 1:3",
            ]
        );
        let classes = show(&["class", "show", "dev", "vbr0"]);
        assert!(!classes.contains("1:3"), "{classes}");
        let filters = show(&["filter", "show", "dev", "vbr0"]);
        assert!(!filters.contains("800::803"), "{filters}");
        // Unplugging again only has tc complain, which is ignored.
        bandwidth::unplug("vbr0", 3).unwrap();

        // Without network QoS there is nothing to plug into.
        let err = bandwidth::plug("vbr0", None, &mac, &nic, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Bridge 'vbr0' has no QoS set, therefore unable to set 'floor' on \
             '52:54:00:ab:cd:ef'"
        );

        bandwidth::clear("vbr0").unwrap();
        assert_clear("vbr0");
    });
}
