//! Bandwidth limits (`<bandwidth>` of an interface or a network) through `tc`, as libvirt's
//! `src/util/virnetdevbandwidth.c` sets them: the same commands, run with an argv (no shell).
//!
//! Rates are libvirt's: `average`, `peak` and `floor` in kilobytes per second (tc's `kbps`),
//! `burst` in kibibytes (tc's `kb`). One direction is shaped on the device's egress, the other
//! policed on its ingress:
//!
//! - egress: an `htb` root qdisc `1:` whose class `1:1` has the rate (`ceil` = peak, `burst`,
//!   a `quantum` fitted to the rate), an `sfq` leaf `2:` under it, and libvirt's `fw` filter;
//! - ingress: the `ingress` qdisc `ffff:` and a `u32` filter that matches everything and
//!   `police`s it to the rate (burst defaults to one second of traffic), dropping the excess.
//!
//! Which direction of the `<bandwidth>` goes where is libvirt's `swapped`: the guest's
//! `inbound` is traffic the host sends to the guest. On a tap (every interface type but
//! `direct`) that is the tap's egress, so `swapped` is true; on a macvtap (`direct`) the guest
//! and the host see the same direction, so it is false. libvirt also passes `swapped = true`
//! for a virtual network's bridge (bridge_driver.c): a network's `inbound` is what the bridge
//! device sends to the guests.
//!
//! `floor` (a guaranteed minimum for a NIC of a virtual network) needs the class hierarchy on
//! the network's bridge: [`set_hierarchical`] builds it when the network starts, [`plug`] and
//! [`unplug`] add and remove a NIC's class, and [`update_rate`] adjusts a class's rate. The
//! accounting (the sum of the floors, the class ids) is the network driver's, as in libvirt.
//! Like libvirt's plain virNetDevBandwidthSet, [`set`] ignores `floor`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use virtsh_api::ErrorKind;
use virtsh_xml::network::{BandwidthDef, BandwidthRate};

#[derive(Debug, thiserror::Error)]
pub enum BandwidthError {
    /// libvirt refuses bandwidth tuning to unprivileged (session) connections.
    #[error("Network bandwidth tuning is not available in session mode")]
    SessionMode,
    #[error("Unable to set bandwidth for interface because device name is unknown")]
    NoDevice,
    #[error("Cannot find 'tc' in path: No such file or directory (bandwidth limits need tc, from iproute2)")]
    NoTc,
    #[error("Cannot run program '{program}': {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// A `tc` command failed: the command and what tc printed, as libvirt's virCommandRun
    /// reports it.
    #[error("Child process ({command}) unexpected {status}{}", after_colon(stderr))]
    Failed {
        command: String,
        /// "exit status N" or "fatal signal N".
        status: String,
        stderr: String,
    },
    #[error("Invalid class ID {0}")]
    BadClassId(u32),
    #[error("Bridge '{bridge}' has no QoS set, therefore unable to set 'floor' on '{mac}'")]
    NoBridgeQos { bridge: String, mac: String },
    /// What libvirt says when an interface that cannot have `floor` asks for it (every
    /// interface type but `network`; see [`has_floor`]).
    #[error("Invalid use of 'floor' on interface with MAC address {mac} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none")]
    FloorUnsupported { mac: String },
}

/// ": message", or nothing without a message.
fn after_colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl BandwidthError {
    /// The libvirt error code each one is reported with.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BandwidthError::SessionMode
            | BandwidthError::NoDevice
            | BandwidthError::FloorUnsupported { .. } => ErrorKind::OperationUnsupported,
            BandwidthError::NoTc | BandwidthError::Spawn { .. } => ErrorKind::SystemError,
            BandwidthError::Failed { .. } | BandwidthError::BadClassId(_) => {
                ErrorKind::InternalError
            }
            BandwidthError::NoBridgeQos { .. } => ErrorKind::ConfigUnsupported,
        }
    }
}

impl From<BandwidthError> for virtsh_api::Error {
    fn from(e: BandwidthError) -> Self {
        virtsh_api::Error::new(e.kind(), e.to_string())
    }
}

/// Apply `bw` to device `ifname`, replacing any limits it had (libvirt's virNetDevBandwidthSet
/// without the class hierarchy). `swapped`: true for a guest's tap (the guest's inbound is the
/// tap's egress), false for a macvtap; see the module documentation. `floor` is ignored.
///
/// On failure the device is cleared again, so it is left without limits rather than half set.
pub fn set(ifname: &str, bw: &BandwidthDef, swapped: bool) -> Result<(), BandwidthError> {
    apply(ifname, bw, false, swapped)
}

/// [`set`] with libvirt's class hierarchy, what a virtual network's bridge gets (libvirt passes
/// `swapped = true` there): the root class `1:1` has the network's rate, the class `1:2` under
/// it takes the traffic of NICs without a `floor`, and [`plug`] adds one class per NIC with a
/// `floor`.
pub fn set_hierarchical(
    ifname: &str,
    bw: &BandwidthDef,
    swapped: bool,
) -> Result<(), BandwidthError> {
    apply(ifname, bw, true, swapped)
}

fn apply(
    ifname: &str,
    bw: &BandwidthDef,
    hierarchical: bool,
    swapped: bool,
) -> Result<(), BandwidthError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(BandwidthError::SessionMode);
    }
    if ifname.is_empty() {
        return Err(BandwidthError::NoDevice);
    }
    clear(ifname)?;
    for argv in set_commands(ifname, bw, hierarchical, swapped) {
        if let Err(e) = run(&argv, true) {
            let _ = clear(ifname);
            return Err(e);
        }
    }
    Ok(())
}

/// Remove what [`set`] or [`set_hierarchical`] added: the root and the ingress qdiscs (with
/// their classes and filters). tc's complaints are ignored, so a device without limits (or
/// with its default qdisc) is fine; only a `tc` that cannot be run is an error.
pub fn clear(ifname: &str) -> Result<(), BandwidthError> {
    if ifname.is_empty() {
        return Ok(());
    }
    for argv in clear_commands(ifname) {
        run(&argv, false)?;
    }
    Ok(())
}

/// Add the class of a NIC with a `floor` to the hierarchy on `bridge` (libvirt's
/// virNetDevBandwidthPlug): class `1:<id in hex>` under `1:1` with the floor as its rate and
/// the network's peak (else average) as its ceiling, an `sfq` leaf `<id>:`, and a `u32` filter
/// that sends IPv4 frames for `mac` there. `id` must be above 2 (1 and 2 are
/// [`set_hierarchical`]'s). `net_bw` is the network's bandwidth: it needs an `inbound`.
pub fn plug(
    bridge: &str,
    net_bw: Option<&BandwidthDef>,
    mac: &[u8; 6],
    bw: &BandwidthDef,
    id: u32,
) -> Result<(), BandwidthError> {
    if id <= 2 {
        return Err(BandwidthError::BadClassId(id));
    }
    let Some(net_in) = net_bw.and_then(|b| b.inbound.as_ref()) else {
        return Err(BandwidthError::NoBridgeQos {
            bridge: bridge.to_string(),
            mac: format_mac(mac),
        });
    };
    let iface_in = bw.inbound.clone().unwrap_or_default();
    let class_id = class_id(id);
    let mut class = tc(&["class", "add", "dev", bridge, "parent", "1:1"]);
    class.extend(args(&["classid", &class_id, "htb", "rate"]));
    class.push(kbps(iface_in.floor));
    class.push("ceil".into());
    class.push(kbps(ceiling(net_in)));
    class.extend(quantum(&iface_in));
    run(&class, true)?;
    let qdisc_id = format!("{id:x}:");
    run(
        &tc(&[
            "qdisc", "add", "dev", bridge, "parent", &class_id, "handle", &qdisc_id, "sfq",
            "perturb", "10",
        ]),
        true,
    )?;
    run(&filter_add(bridge, mac, id, &class_id), true)
}

/// Remove a NIC's class, leaf and filter from `bridge` (libvirt's virNetDevBandwidthUnplug).
/// tc's complaints are ignored so that as much as possible goes.
pub fn unplug(bridge: &str, id: u32) -> Result<(), BandwidthError> {
    if id <= 2 {
        return Err(BandwidthError::BadClassId(id));
    }
    let qdisc_id = format!("{id:x}:");
    run(
        &tc(&["qdisc", "del", "dev", bridge, "handle", &qdisc_id]),
        false,
    )?;
    run(&filter_del(bridge, id), false)?;
    run(
        &tc(&["class", "del", "dev", bridge, "classid", &class_id(id)]),
        false,
    )
}

/// Change the rate of class `1:<id>` on `ifname` to `new_rate` kilobytes per second, its
/// ceiling to the network's peak (else average) (libvirt's virNetDevBandwidthUpdateRate). The
/// network driver calls it for class 2 (the NICs without a floor) with the network's rate
/// minus the sum of the floors, and for a NIC's class when its floor changes.
pub fn update_rate(
    ifname: &str,
    id: u32,
    net_inbound: &BandwidthRate,
    new_rate: u64,
) -> Result<(), BandwidthError> {
    let mut argv = tc(&[
        "class",
        "change",
        "dev",
        ifname,
        "classid",
        &class_id(id),
        "htb",
    ]);
    argv.push("rate".into());
    argv.push(kbps(new_rate));
    argv.push("ceil".into());
    argv.push(kbps(ceiling(net_inbound)));
    argv.extend(quantum(net_inbound));
    run(&argv, true)
}

/// Point the filter of class `1:<id>` on `ifname` at a NIC's new MAC address (libvirt's
/// virNetDevBandwidthUpdateFilter).
pub fn update_filter(ifname: &str, mac: &[u8; 6], id: u32) -> Result<(), BandwidthError> {
    run(&filter_del(ifname, id), false)?;
    run(&filter_add(ifname, mac, id, &class_id(id)), true)
}

/// Whether `bw` asks for a guaranteed minimum (libvirt's virNetDevBandwidthHasFloor): only an
/// `<interface type='network'>` can have one.
pub fn has_floor(bw: Option<&BandwidthDef>) -> bool {
    bw.and_then(|b| b.inbound.as_ref())
        .is_some_and(|r| r.floor != 0)
}

/// The `tc` commands that [`set`] (`hierarchical` false) or [`set_hierarchical`] runs after
/// [`clear_commands`], in order; each argv starts with `tc`.
pub fn set_commands(
    ifname: &str,
    bw: &BandwidthDef,
    hierarchical: bool,
    swapped: bool,
) -> Vec<Vec<String>> {
    // From the guest's point of view: rx is what it receives.
    let (rx, tx) = if swapped {
        (bw.outbound.as_ref(), bw.inbound.as_ref())
    } else {
        (bw.inbound.as_ref(), bw.outbound.as_ref())
    };
    let mut cmds = Vec::new();
    if let Some(tx) = tx.filter(|r| r.average != 0) {
        let average = kbps(tx.average);
        let peak = (tx.peak != 0).then(|| kbps(tx.peak));
        let burst = (tx.burst != 0).then(|| format!("{}kb", tx.burst));
        let default = if hierarchical { "2" } else { "1" };
        cmds.push(tc(&[
            "qdisc", "add", "dev", ifname, "root", "handle", "1:", "htb", "default", default,
        ]));
        if hierarchical {
            let mut c = tc(&[
                "class", "add", "dev", ifname, "parent", "1:", "classid", "1:1",
            ]);
            c.extend(args(&["htb", "rate", &average, "ceil"]));
            c.push(peak.clone().unwrap_or_else(|| average.clone()));
            c.extend(quantum(tx));
            cmds.push(c);
        }
        let (parent, class) = if hierarchical {
            ("1:1", "1:2")
        } else {
            ("1:", "1:1")
        };
        let mut c = tc(&[
            "class", "add", "dev", ifname, "parent", parent, "classid", class,
        ]);
        c.extend(args(&["htb", "rate", &average]));
        if let Some(p) = &peak {
            c.extend(args(&["ceil", p]));
        }
        if let Some(b) = &burst {
            c.extend(args(&["burst", b]));
        }
        c.extend(quantum(tx));
        cmds.push(c);
        cmds.push(tc(&[
            "qdisc", "add", "dev", ifname, "parent", class, "handle", "2:", "sfq", "perturb", "10",
        ]));
        cmds.push(tc(&[
            "filter", "add", "dev", ifname, "parent", "1:0", "protocol", "all", "prio", "1",
            "handle", "1", "fw", "flowid", "1",
        ]));
    }
    // libvirt polices even an inbound with only a floor (rate 0); that direction is a tap's
    // egress in libvirt's own callers, so it never happens there. Here it is left alone.
    if let Some(rx) = rx.filter(|r| r.average != 0) {
        // tc keeps the burst in bytes in 32 bits: at most u32::MAX bytes, in KiB.
        let burst = if rx.burst != 0 {
            rx.burst
        } else {
            rx.average.min(u64::from(u32::MAX) / 1024)
        };
        cmds.push(tc(&["qdisc", "add", "dev", ifname, "ingress"]));
        let mut f = tc(&[
            "filter", "add", "dev", ifname, "parent", "ffff:", "protocol", "all",
        ]);
        f.extend(args(&["u32", "match", "u32", "0", "0", "police", "rate"]));
        f.push(kbps(rx.average));
        f.push("burst".into());
        f.push(format!("{burst}kb"));
        f.extend(args(&["mtu", "64kb", "drop", "flowid", ":1"]));
        cmds.push(f);
    }
    cmds
}

/// The `tc` commands [`clear`] runs (their failures are ignored).
pub fn clear_commands(ifname: &str) -> Vec<Vec<String>> {
    vec![
        tc(&["qdisc", "del", "dev", ifname, "root"]),
        tc(&["qdisc", "del", "dev", ifname, "ingress"]),
    ]
}

fn tc(rest: &[&str]) -> Vec<String> {
    let mut v = vec!["tc".to_string()];
    v.extend(args(rest));
    v
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn kbps(v: u64) -> String {
    format!("{v}kbps")
}

fn class_id(id: u32) -> String {
    format!("1:{id:x}")
}

fn ceiling(net_in: &BandwidthRate) -> u64 {
    if net_in.peak != 0 {
        net_in.peak
    } else {
        net_in.average
    }
}

/// virNetDevBandwidthCmdAddOptimalQuantum: HTB wants a class's quantum near the MTU; the
/// default (rate / r2q) is too small for slow classes.
fn quantum(rate: &BandwidthRate) -> [String; 2] {
    const MTU: u64 = 1500;
    let q = (rate.average.saturating_mul(1024) / 8 / MTU).max(1);
    ["quantum".into(), q.to_string()]
}

fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// u32 filter handles live under `800::`, and libvirt numbers them `800 + id` (in decimal
/// digits, which tc reads as hex).
fn filter_handle(id: u32) -> String {
    format!("800::{}", 800 + u64::from(id))
}

fn filter_del(ifname: &str, id: u32) -> Vec<String> {
    tc(&[
        "filter",
        "del",
        "dev",
        ifname,
        "prio",
        "2",
        "handle",
        &filter_handle(id),
        "u32",
    ])
}

/// libvirt's u32 match on the destination MAC of IPv4 frames (it does not track addresses).
fn filter_add(ifname: &str, mac: &[u8; 6], id: u32, class_id: &str) -> Vec<String> {
    let low = format!("0x{:02x}{:02x}{:02x}{:02x}", mac[2], mac[3], mac[4], mac[5]);
    let high = format!("0x{:02x}{:02x}", mac[0], mac[1]);
    let mut f = tc(&[
        "filter", "add", "dev", ifname, "protocol", "ip", "prio", "2",
    ]);
    f.extend(args(&["handle", &filter_handle(id), "u32"]));
    f.extend(args(&["match", "u16", "0x0800", "0xffff", "at", "-2"]));
    f.extend(args(&["match", "u32", &low, "0xffffffff", "at", "-12"]));
    f.extend(args(&["match", "u16", &high, "0xffff", "at", "-14"]));
    f.extend(args(&["flowid", class_id]));
    f
}

/// Run `argv` (whose first word is the program); with `check`, a failure of the program is an
/// error that quotes the command and its stderr, else only failing to run it is.
fn run(argv: &[String], check: bool) -> Result<(), BandwidthError> {
    run_program(argv, check, crate::program::find(&argv[0]))
}

fn run_program(
    argv: &[String],
    check: bool,
    program: Option<PathBuf>,
) -> Result<(), BandwidthError> {
    let program = program.ok_or(BandwidthError::NoTc)?;
    let out = Command::new(&program)
        .args(&argv[1..])
        // Quoted in errors: keep tc's messages untranslated.
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| BandwidthError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    if !check || out.status.success() {
        return Ok(());
    }
    use std::os::unix::process::ExitStatusExt;
    let status = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("fatal signal {s}"),
        (None, None) => out.status.to_string(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Err(BandwidthError::Failed {
        command: crate::program::display(argv),
        status,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(average: u64, peak: u64, burst: u64, floor: u64) -> BandwidthRate {
        BandwidthRate {
            average,
            peak,
            burst,
            floor,
        }
    }

    fn lines(cmds: &[Vec<String>]) -> Vec<String> {
        cmds.iter().map(|c| c.join(" ")).collect()
    }

    #[test]
    fn plain_set_is_libvirts() {
        let bw = BandwidthDef {
            inbound: Some(rate(1000, 5000, 5120, 0)),
            outbound: Some(rate(128, 256, 0, 0)),
        };
        // A tap: the guest's inbound is shaped on the tap's egress, its outbound policed on
        // the tap's ingress.
        assert_eq!(
            lines(&set_commands("vnet0", &bw, false, true)),
            [
                "tc qdisc add dev vnet0 root handle 1: htb default 1",
                "tc class add dev vnet0 parent 1: classid 1:1 htb rate 1000kbps ceil 5000kbps \
                 burst 5120kb quantum 85",
                "tc qdisc add dev vnet0 parent 1:1 handle 2: sfq perturb 10",
                "tc filter add dev vnet0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
                "tc qdisc add dev vnet0 ingress",
                "tc filter add dev vnet0 parent ffff: protocol all u32 match u32 0 0 police \
                 rate 128kbps burst 128kb mtu 64kb drop flowid :1",
            ]
        );
        // Not swapped: the other way round.
        assert_eq!(
            lines(&set_commands("mv0", &bw, false, false)),
            [
                "tc qdisc add dev mv0 root handle 1: htb default 1",
                "tc class add dev mv0 parent 1: classid 1:1 htb rate 128kbps ceil 256kbps \
                 quantum 10",
                "tc qdisc add dev mv0 parent 1:1 handle 2: sfq perturb 10",
                "tc filter add dev mv0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
                "tc qdisc add dev mv0 ingress",
                "tc filter add dev mv0 parent ffff: protocol all u32 match u32 0 0 police \
                 rate 1000kbps burst 5120kb mtu 64kb drop flowid :1",
            ]
        );
        assert_eq!(
            lines(&clear_commands("vnet0")),
            [
                "tc qdisc del dev vnet0 root",
                "tc qdisc del dev vnet0 ingress"
            ]
        );
    }

    #[test]
    fn one_direction_small_and_huge_rates() {
        let only_in = BandwidthDef {
            inbound: Some(rate(1, 0, 0, 0)),
            outbound: None,
        };
        // quantum never drops to 0.
        assert_eq!(
            lines(&set_commands("t", &only_in, false, true))[1],
            "tc class add dev t parent 1: classid 1:1 htb rate 1kbps quantum 1"
        );
        assert_eq!(set_commands("t", &only_in, false, true).len(), 4);
        // Policed only: the default burst is one second, capped at what tc can hold.
        let huge = BandwidthDef {
            inbound: Some(rate(10_000_000, 0, 0, 0)),
            outbound: None,
        };
        assert_eq!(
            lines(&set_commands("t", &huge, false, false)),
            [
                "tc qdisc add dev t ingress",
                "tc filter add dev t parent ffff: protocol all u32 match u32 0 0 police \
                 rate 10000000kbps burst 4194303kb mtu 64kb drop flowid :1",
            ]
        );
        assert!(set_commands("t", &BandwidthDef::default(), false, true).is_empty());
    }

    #[test]
    fn floor_is_ignored_by_plain_set() {
        let floor_only = BandwidthDef {
            inbound: Some(rate(0, 0, 0, 200)),
            outbound: None,
        };
        assert!(set_commands("t", &floor_only, false, true).is_empty());
        assert!(set_commands("t", &floor_only, false, false).is_empty());
        let with_avg = BandwidthDef {
            inbound: Some(rate(100, 0, 0, 50)),
            outbound: None,
        };
        assert_eq!(
            lines(&set_commands("t", &with_avg, false, true))[1],
            "tc class add dev t parent 1: classid 1:1 htb rate 100kbps quantum 8"
        );
        assert!(has_floor(Some(&floor_only)));
        assert!(!has_floor(Some(&BandwidthDef::default())));
        assert!(!has_floor(None));
        assert_eq!(
            BandwidthError::FloorUnsupported {
                mac: "52:54:00:00:00:01".into()
            }
            .to_string(),
            "Invalid use of 'floor' on interface with MAC address 52:54:00:00:00:01 - 'floor' is \
             only supported for interface type 'network' with forward type 'nat', 'route', \
             'open' or none"
        );
    }

    #[test]
    fn hierarchical_set_is_libvirts() {
        let bw = BandwidthDef {
            inbound: Some(rate(1000, 0, 0, 0)),
            outbound: None,
        };
        assert_eq!(
            lines(&set_commands("virbr0", &bw, true, true)),
            [
                "tc qdisc add dev virbr0 root handle 1: htb default 2",
                "tc class add dev virbr0 parent 1: classid 1:1 htb rate 1000kbps ceil 1000kbps \
                 quantum 85",
                "tc class add dev virbr0 parent 1:1 classid 1:2 htb rate 1000kbps quantum 85",
                "tc qdisc add dev virbr0 parent 1:2 handle 2: sfq perturb 10",
                "tc filter add dev virbr0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
            ]
        );
    }

    #[test]
    fn plug_filter_matches_the_mac() {
        assert_eq!(
            filter_add("virbr0", &[0x52, 0x54, 0, 0xab, 0xcd, 0xef], 12, "1:c").join(" "),
            "tc filter add dev virbr0 protocol ip prio 2 handle 800::812 u32 match u16 0x0800 \
             0xffff at -2 match u32 0x00abcdef 0xffffffff at -12 match u16 0x5254 0xffff at -14 \
             flowid 1:c"
        );
        assert_eq!(
            filter_del("virbr0", 3).join(" "),
            "tc filter del dev virbr0 prio 2 handle 800::803 u32"
        );
        assert!(matches!(
            plug("b", None, &[0; 6], &BandwidthDef::default(), 2),
            Err(BandwidthError::BadClassId(2))
        ));
        let err = plug(
            "b",
            None,
            &[0x52, 0x54, 0, 0, 0, 1],
            &BandwidthDef::default(),
            3,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "Bridge 'b' has no QoS set, therefore unable to set 'floor' on '52:54:00:00:00:01'"
        );
        assert!(matches!(unplug("b", 1), Err(BandwidthError::BadClassId(1))));
    }

    #[test]
    fn failures_quote_the_command_and_stderr() {
        let argv = args(&[
            "sh",
            "-c",
            "echo 'Error: no such thing' >&2; echo more >&2; exit 2",
        ]);
        let err = run_program(&argv, true, Some("/bin/sh".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Child process (sh -c 'echo '\\''Error: no such thing'\\'' >&2; echo more >&2; \
             exit 2') unexpected exit status 2: Error: no such thing; more"
        );
        assert_eq!(err.kind(), ErrorKind::InternalError);
        let api: virtsh_api::Error = err.into();
        assert!(api
            .message
            .starts_with("internal error: Child process (sh -c"));
        // Unchecked: only failing to run counts.
        run_program(&argv, false, Some("/bin/sh".into())).unwrap();
    }

    #[test]
    fn missing_tc_is_clear() {
        let err = run_program(&tc(&["qdisc", "show"]), false, None).unwrap_err();
        assert!(matches!(err, BandwidthError::NoTc));
        assert_eq!(
            err.to_string(),
            "Cannot find 'tc' in path: No such file or directory (bandwidth limits need tc, \
             from iproute2)"
        );
        assert!(crate::program::find("virtsh-no-such-program").is_none());
        let err = run_program(&tc(&[]), false, Some("/nonexistent/tc".into())).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("Cannot run program '/nonexistent/tc': "));
    }
}
