//! Changes to a domain's devices and resources, live (QMP on the running guest) and in its
//! persistent definition, with virsh's `--live`/`--config`/`--current` semantics.
//!
//! - The impact flags are resolved as libvirt's virDomainObjUpdateModificationImpact: no flag
//!   means the running guest when it runs, else the persistent definition.
//! - A config change edits the persistent definition (reparsed, so defaults and addresses are
//!   filled in as at define) and is written through the store, after the live part succeeded.
//! - A live change goes through QMP, then edits `run/NAME.xml` under the domain's lock.
//! - The JSON of `blockdev-add`, `netdev_add` and `device_add` is the command-line generator's
//!   (`cmdline::devices::device_args` on a definition holding just the new device), renumbered,
//!   so ids are the ones a boot-time device gets (`virtio-disk1`, `net0`, `libvirt-N-format`).
//! - Unplugging waits (bounded) for the device to leave `/machine/peripheral`, as libvirt waits
//!   for DEVICE_DELETED, then removes the block nodes or the netdev.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use virtsh_api::flags::{device_modify, memory, vcpu};
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, Disk, DomainDef, NetInterface};

use super::copies::{check_flags, edit_live, impact, persistent, save_config};
use super::{parse_options, QemuDriver};
use crate::cmdline::{Accel, CmdlineEnv};

/// How long an unplug waits for the guest to release the device (TCG guests are slow).
const UNPLUG_WAIT: Duration = Duration::from_secs(20);
/// How long a media change waits for the tray to open.
const TRAY_WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;

fn device_missing(detail: impl AsRef<str>) -> Error {
    Error::raw(
        ErrorKind::OperationFailed,
        format!("device not found: {}", detail.as_ref()),
    )
}

// ---------------------------------------------------------------------------------------------
// Device XML.

/// One device of a device XML document.
enum Device {
    Disk(Box<Disk>),
    Net(Box<NetInterface>, bool),
    /// Any other kind, by libvirt's device type name.
    Other(String),
}

/// The root element's name and the document from it on (no declaration, no comments).
fn root_element(xml: &str) -> Option<(String, &str)> {
    let mut s = xml.trim_start();
    loop {
        if let Some(r) = s.strip_prefix("<?") {
            s = r.split_once("?>")?.1.trim_start();
        } else if let Some(r) = s.strip_prefix("<!--") {
            s = r.split_once("-->")?.1.trim_start();
        } else {
            break;
        }
    }
    let r = s.strip_prefix('<')?;
    let name: String = r
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    (!name.is_empty()).then_some((name, s))
}

/// virDomainDeviceTypeToString for an element name.
fn device_type_name(element: &str) -> &str {
    match element {
        "interface" => "net",
        "filesystem" => "fs",
        "serial" | "parallel" | "console" | "channel" => "chr",
        other => other,
    }
}

const DEVICE_ELEMENTS: &[&str] = &[
    "disk",
    "lease",
    "filesystem",
    "interface",
    "input",
    "sound",
    "video",
    "hostdev",
    "watchdog",
    "controller",
    "graphics",
    "hub",
    "redirdev",
    "smartcard",
    "serial",
    "parallel",
    "console",
    "channel",
    "memballoon",
    "nvram",
    "rng",
    "shmem",
    "tpm",
    "panic",
    "memory",
    "iommu",
    "vsock",
    "audio",
    "crypto",
];

/// Parse a device XML document the way a definition holding it would be parsed (defaults
/// applied: the bus from the target name, a generated MAC).
fn parse_device(xml: &str, dom: &DomainDef) -> Result<Device> {
    let Some((root, body)) = root_element(xml) else {
        return Err(Error::new(
            ErrorKind::XmlError,
            "(device_definition):1: Document is empty",
        ));
    };
    if !DEVICE_ELEMENTS.contains(&root.as_str()) {
        return Err(Error::new(
            ErrorKind::XmlError,
            format!("unknown device type '{root}'"),
        ));
    }
    if root != "disk" && root != "interface" {
        return Ok(Device::Other(device_type_name(&root).to_string()));
    }
    let arch = dom.os.arch.as_deref().unwrap_or("x86_64");
    let wrapped = format!(
        "<domain type='{}'><name>device</name><memory unit='KiB'>{}</memory>\
         <os><type arch='{arch}'>hvm</type></os><devices>{body}</devices></domain>",
        dom.virt_type,
        dom.memory_kib.max(1)
    );
    let def = DomainDef::parse_with(&wrapped, &parse_options())
        .map_err(|e| e.api_error("device_definition", &wrapped))?;
    let mut d = def.devices;
    if root == "disk" {
        let disk = d
            .disks
            .pop()
            .ok_or_else(|| Error::internal("no disk in the device XML"))?;
        Ok(Device::Disk(Box::new(disk)))
    } else {
        let net = d
            .interfaces
            .pop()
            .ok_or_else(|| Error::internal("no interface in the device XML"))?;
        let mac_given = body.contains("<mac");
        Ok(Device::Net(Box::new(net), mac_given))
    }
}

fn same_mac(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// virDomainNetFindIdx: the interface of `def` that `net` names.
fn find_net(def: &DomainDef, net: &NetInterface, mac_given: bool) -> Result<usize> {
    let mut found = None;
    for (i, n) in def.devices.interfaces.iter().enumerate() {
        if mac_given && !same_mac(n.mac.as_deref(), net.mac.as_deref()) {
            continue;
        }
        if let (Some(a), Some(b)) = (&net.info.alias, &n.info.alias) {
            if a != b {
                continue;
            }
        }
        if found.is_some() {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                if mac_given {
                    format!(
                        "multiple devices matching MAC address {} found",
                        net.mac.as_deref().unwrap_or("")
                    )
                } else {
                    "multiple matching devices found".to_string()
                },
            ));
        }
        found = Some(i);
    }
    found.ok_or_else(|| {
        device_missing(format!(
            "no device found at address '(<null>)' matching MAC address '{}' and alias '{}'",
            if mac_given {
                net.mac.as_deref().unwrap_or("")
            } else {
                "00:00:00:00:00:00"
            },
            net.info.alias.as_deref().unwrap_or("(null)")
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// QMP arguments from the command-line generator.

#[derive(Default)]
struct Generated {
    blockdevs: Vec<Value>,
    netdevs: Vec<Value>,
    devices: Vec<Value>,
}

fn cmdline_error(e: crate::cmdline::CmdlineError) -> Error {
    let msg = e.to_string();
    match msg.strip_prefix("unsupported configuration: ") {
        Some(rest) => Error::new(ErrorKind::ConfigUnsupported, rest),
        None => Error::new(ErrorKind::InternalError, msg),
    }
}

/// The generator's `-blockdev`/`-netdev`/`-device` values for `devices` in the running `live`.
fn generate(drv: &QemuDriver, live: &DomainDef, devices: Devices) -> Result<Generated> {
    let mut def = live.clone();
    def.devices = Devices {
        emulator: live.devices.emulator.clone(),
        ..devices
    };
    def.os.boot_devs.clear();
    let emulator = def
        .devices
        .emulator
        .clone()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(crate::supervisor::boot::default_emulator);
    let caps = crate::supervisor::boot::caps_cache(&drv.paths)
        .get(&emulator)
        .map_err(|e| Error::internal(format!("cannot read QEMU's capabilities: {e}")))?
        .caps;
    let rt = drv.runtime(&def.name);
    let env = CmdlineEnv {
        monitor_fd: -1,
        // Tap NICs get their descriptor at plug time (see attach_net_live); a placeholder
        // number lets the generator write the netdev.
        tap_fds: def
            .devices
            .interfaces
            .iter()
            .map(|n| matches!(n.if_type.as_str(), "bridge" | "ethernet").then_some(-1))
            .collect(),
        runtime_dir: rt.socket_dir(),
        log_path: drv.log_path(&def.name),
        accel: if def.virt_type == "kvm" {
            Accel::Kvm
        } else {
            Accel::Tcg
        },
        sandbox: false,
    };
    let q35 = def
        .os
        .machine
        .as_deref()
        .is_some_and(|m| m.starts_with("pc-q35") || m == "q35");
    let args = crate::cmdline::devices::device_args(&def, &caps, &env, q35, Vec::new())
        .map_err(cmdline_error)?;
    let mut g = Generated::default();
    for pair in args.chunks(2) {
        let [opt, val] = pair else { continue };
        let list = match opt.as_str() {
            "-blockdev" => &mut g.blockdevs,
            "-netdev" => &mut g.netdevs,
            "-device" => &mut g.devices,
            _ => continue,
        };
        let v: Value = serde_json::from_str(val)
            .map_err(|e| Error::internal(format!("generated {opt} is not JSON: {e}")))?;
        list.push(v);
    }
    Ok(g)
}

/// Rename the string value of `key` in `v` through `f`.
fn rename(v: &mut Value, key: &str, f: impl Fn(&str) -> String) {
    if let Some(s) = v.get(key).and_then(Value::as_str) {
        let new = f(s);
        v[key] = Value::String(new);
    }
}

/// Move the block nodes of a one-disk generation from `libvirt-1-*` to `libvirt-N-*`.
fn renumber_nodes(g: &mut Generated, n: u64) {
    let f = |s: &str| match s.strip_prefix("libvirt-1-") {
        Some(rest) => format!("libvirt-{n}-{rest}"),
        None => s.to_string(),
    };
    for b in &mut g.blockdevs {
        rename(b, "node-name", f);
        rename(b, "file", f);
    }
    for d in &mut g.devices {
        rename(d, "drive", f);
    }
}

// ---------------------------------------------------------------------------------------------
// QMP helpers.

/// The ids of the devices that have one (`/machine/peripheral`).
fn peripherals(drv: &QemuDriver, dom: &Domain) -> Result<Vec<String>> {
    let v = drv.qmp(dom, "qom-list", json!({"path": "/machine/peripheral"}))?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter(|e| {
                    e.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.starts_with("child<"))
                })
                .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// The next free `libvirt-N-*` block node number.
fn next_node(drv: &QemuDriver, dom: &Domain) -> Result<u64> {
    let v = drv.qmp(dom, "query-named-block-nodes", json!({"flat": true}))?;
    let max = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("node-name").and_then(Value::as_str))
        .filter_map(|n| {
            n.strip_prefix("libvirt-")?
                .split('-')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    Ok(max + 1)
}

/// The `query-block` entry of the device `id`.
fn block_entry(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<Option<Value>> {
    let v = drv.qmp(dom, "query-block", Value::Null)?;
    let within = format!("/machine/peripheral/{id}/");
    let exact = format!("/machine/peripheral/{id}");
    Ok(v.as_array().into_iter().flatten().find_map(|b| {
        let q = b.get("qdev").and_then(Value::as_str)?;
        (q == id || q == exact || q.starts_with(&within)).then(|| b.clone())
    }))
}

/// The format node (and the storage node under it) of what the device `id` has inserted.
fn inserted_nodes(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<Vec<String>> {
    let Some(entry) = block_entry(drv, dom, id)? else {
        return Ok(Vec::new());
    };
    let Some(node) = entry
        .get("inserted")
        .and_then(|i| i.get("node-name"))
        .and_then(Value::as_str)
    else {
        return Ok(Vec::new());
    };
    let mut out = vec![node.to_string()];
    if let Some(base) = node.strip_suffix("-format") {
        out.push(format!("{base}-storage"));
    }
    Ok(out)
}

fn del_nodes(drv: &QemuDriver, dom: &Domain, nodes: &[String]) {
    for n in nodes {
        let _ = drv.qmp(dom, "blockdev-del", json!({"node-name": n}));
    }
}

/// device_del, then wait (bounded) until QEMU has let go of the device. A device that is
/// already gone (an earlier unplug the guest finished late) counts as removed.
fn unplug(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<()> {
    if !peripherals(drv, dom)?.iter().any(|p| p == id) {
        return Ok(());
    }
    drv.qmp(dom, "device_del", json!({"id": id}))?;
    let t0 = Instant::now();
    loop {
        if !peripherals(drv, dom)?.iter().any(|p| p == id) {
            return Ok(());
        }
        if t0.elapsed() > UNPLUG_WAIT {
            return Err(Error::new(
                ErrorKind::OperationTimeout,
                format!(
                    "the guest did not release device '{id}' within {} s (it may lack ACPI \
                     hotplug support); the unplug request stays pending",
                    UNPLUG_WAIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(POLL);
    }
}

/// The QEMU device id the generator gives `disk` (`virtio-disk1`, `ide0-1-0`, ...).
fn disk_id(drv: &QemuDriver, live: &DomainDef, disk: &Disk) -> Result<String> {
    let mut d = disk.clone();
    if d.source.is_none() && d.device != "cdrom" {
        // Only the id matters here; the generator wants a source for a disk.
        d.source = Some("/dev/null".into());
    }
    let g = generate(
        drv,
        live,
        Devices {
            disks: vec![d],
            ..Devices::default()
        },
    )?;
    g.devices
        .iter()
        .filter(|v| v.get("driver").and_then(Value::as_str) != Some("virtio-scsi-pci"))
        .find_map(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| Error::internal(format!("no device id for disk {}", disk.target_dev)))
}

/// The QEMU id (`netN`) of the NIC with `mac`, found by asking each NIC its MAC.
fn net_id(drv: &QemuDriver, dom: &Domain, mac: &str) -> Result<Option<String>> {
    for p in peripherals(drv, dom)? {
        if !p.starts_with("net") {
            continue;
        }
        let m = drv.qmp(
            dom,
            "qom-get",
            json!({"path": format!("/machine/peripheral/{p}"), "property": "mac"}),
        );
        if let Ok(m) = m {
            if same_mac(m.as_str(), Some(mac)) {
                return Ok(Some(p));
            }
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// Attach.

pub(super) fn attach_device(drv: &QemuDriver, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
    check_flags(flags, LIVE | CONFIG, "qemuDomainAttachDeviceFlags")?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags)?;
    let dev = parse_device(xml, &v.def)?;
    let mut pending = None;
    if config {
        let mut p = persistent(drv, &dom.name)?;
        match &dev {
            Device::Disk(disk) => {
                if p.devices
                    .disks
                    .iter()
                    .any(|d| d.target_dev == disk.target_dev)
                {
                    return Err(Error::invalid_op(format!(
                        "target {} already exists",
                        disk.target_dev
                    )));
                }
                p.devices.insert_disk((**disk).clone());
            }
            Device::Net(net, _) => p.devices.interfaces.push((**net).clone()),
            Device::Other(kind) => {
                return Err(Error::new(
                    ErrorKind::OperationUnsupported,
                    format!("persistent attach of device '{kind}' is not supported"),
                ))
            }
        }
        pending = Some(p);
    }
    if live {
        match &dev {
            Device::Disk(disk) => attach_disk_live(drv, dom, &v.def, disk)?,
            Device::Net(net, _) => attach_net_live(drv, dom, &v.def, net)?,
            Device::Other(kind) => {
                return Err(Error::new(
                    ErrorKind::ConfigUnsupported,
                    format!("live attach of device '{kind}' is not supported"),
                ))
            }
        }
    }
    if let Some(p) = pending {
        save_config(drv, &p)?;
    }
    Ok(())
}

fn attach_disk_live(drv: &QemuDriver, dom: &Domain, live: &DomainDef, disk: &Disk) -> Result<()> {
    if live
        .devices
        .disks
        .iter()
        .any(|d| d.target_dev == disk.target_dev)
    {
        return Err(Error::invalid_op(format!(
            "target {} already exists",
            disk.target_dev
        )));
    }
    if matches!(disk.device.as_str(), "cdrom" | "floppy") {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            "cdrom/floppy device hotplug isn't supported",
        ));
    }
    if !matches!(disk.bus(), "virtio" | "scsi") {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!("disk bus '{}' cannot be hotplugged.", disk.bus()),
        ));
    }
    let mut g = generate(
        drv,
        live,
        Devices {
            disks: vec![disk.clone()],
            ..Devices::default()
        },
    )?;
    let n = next_node(drv, dom)?;
    renumber_nodes(&mut g, n);
    let mut added: Vec<String> = Vec::new();
    let rollback = |added: &[String]| {
        let rev: Vec<String> = added.iter().rev().cloned().collect();
        del_nodes(drv, dom, &rev);
    };
    for b in &g.blockdevs {
        if let Err(e) = drv.qmp(dom, "blockdev-add", b.clone()) {
            rollback(&added);
            return Err(e);
        }
        if let Some(name) = b.get("node-name").and_then(Value::as_str) {
            added.push(name.to_string());
        }
    }
    for d in g
        .devices
        .iter()
        .filter(|d| d.get("driver").and_then(Value::as_str) != Some("virtio-scsi-pci"))
    {
        if let Err(e) = drv.qmp(dom, "device_add", d.clone()) {
            rollback(&added);
            return Err(e);
        }
    }
    edit_live(drv, &dom.name, |def| {
        def.devices.insert_disk(disk.clone());
        Ok(())
    })
}

fn attach_net_live(
    drv: &QemuDriver,
    dom: &Domain,
    live: &DomainDef,
    net: &NetInterface,
) -> Result<()> {
    let tap_type = matches!(net.if_type.as_str(), "bridge" | "ethernet");
    if net.if_type != "user" && !tap_type {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!(
                "hotplug of interface type of {} is not implemented yet",
                net.if_type
            ),
        ));
    }
    let taken = peripherals(drv, dom)?;
    let k = taken
        .iter()
        .filter_map(|p| p.strip_prefix("net")?.parse::<u64>().ok())
        .map(|k| k + 1)
        .max()
        .unwrap_or(0)
        .max(live.devices.interfaces.len() as u64);
    let mut g = generate(
        drv,
        live,
        Devices {
            interfaces: vec![net.clone()],
            ..Devices::default()
        },
    )?;
    let host = format!("hostnet{k}");
    for n in &mut g.netdevs {
        rename(n, "id", |_| host.clone());
    }
    // A tap NIC: the supervisor opens the tap and hands it to QEMU under a name, which the
    // netdev then uses in place of a number.
    let mut net = net.clone();
    if tap_type {
        let fdname = format!("{host}-fd");
        let reply = drv.supervisor_call(
            dom,
            &crate::supervisor::protocol::Request::AttachTap {
                template: net.target_dev.clone(),
                bridge: (net.if_type == "bridge").then(|| net.source.clone().unwrap_or_default()),
                mac: net.mac.clone(),
                fdname: fdname.clone(),
            },
        )?;
        net.target_dev = reply
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        for n in &mut g.netdevs {
            if let Some(o) = n.as_object_mut() {
                o.insert("fd".into(), Value::String(fdname.clone()));
            }
        }
    }
    let net = &net;
    for d in &mut g.devices {
        rename(d, "netdev", |_| host.clone());
        rename(d, "id", |_| format!("net{k}"));
    }
    for n in &g.netdevs {
        drv.qmp(dom, "netdev_add", n.clone())?;
    }
    for d in &g.devices {
        if let Err(e) = drv.qmp(dom, "device_add", d.clone()) {
            let _ = drv.qmp(dom, "netdev_del", json!({"id": host}));
            return Err(e);
        }
    }
    edit_live(drv, &dom.name, |def| {
        def.devices.interfaces.push(net.clone());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Detach.

pub(super) fn detach_device(drv: &QemuDriver, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
    check_flags(flags, LIVE | CONFIG, "qemuDomainDetachDeviceFlags")?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags)?;
    let dev = parse_device(xml, &v.def)?;
    let mut pending = None;
    if config {
        let mut p = persistent(drv, &dom.name)?;
        match &dev {
            Device::Disk(disk) => {
                let Some(i) = p
                    .devices
                    .disks
                    .iter()
                    .position(|d| d.target_dev == disk.target_dev)
                else {
                    return Err(device_missing(format!(
                        "no target device {}",
                        disk.target_dev
                    )));
                };
                p.devices.disks.remove(i);
            }
            Device::Net(net, mac_given) => {
                let i = find_net(&p, net, *mac_given)?;
                p.devices.interfaces.remove(i);
            }
            Device::Other(kind) => {
                return Err(Error::new(
                    ErrorKind::OperationUnsupported,
                    format!("persistent detach of device '{kind}' is not supported"),
                ))
            }
        }
        pending = Some(p);
    }
    if live {
        match &dev {
            Device::Disk(disk) => {
                let Some(cur) = v
                    .def
                    .devices
                    .disks
                    .iter()
                    .find(|d| d.target_dev == disk.target_dev)
                else {
                    return Err(device_missing(format!(
                        "disk {} not found",
                        disk.target_dev
                    )));
                };
                detach_disk_live(drv, dom, &v.def, &cur.clone())?;
            }
            Device::Net(net, mac_given) => {
                let i = find_net(&v.def, net, *mac_given)?;
                detach_net_live(drv, dom, &v.def.devices.interfaces[i].clone())?;
            }
            Device::Other(kind) => {
                return Err(Error::new(
                    ErrorKind::OperationUnsupported,
                    format!("live detach of device '{kind}' is not supported"),
                ))
            }
        }
    }
    if let Some(p) = pending {
        save_config(drv, &p)?;
    }
    Ok(())
}

fn detach_disk_live(drv: &QemuDriver, dom: &Domain, live: &DomainDef, disk: &Disk) -> Result<()> {
    if matches!(disk.device.as_str(), "cdrom" | "floppy") {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!("disk device type '{}' cannot be detached", disk.device),
        ));
    }
    if !matches!(disk.bus(), "virtio" | "scsi") {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!("disk bus '{}' cannot be hot unplugged.", disk.bus()),
        ));
    }
    let id = disk_id(drv, live, disk)?;
    let nodes = inserted_nodes(drv, dom, &id)?;
    unplug(drv, dom, &id)?;
    del_nodes(drv, dom, &nodes);
    let target = disk.target_dev.clone();
    edit_live(drv, &dom.name, |def| {
        def.devices.disks.retain(|d| d.target_dev != target);
        Ok(())
    })
}

fn detach_net_live(drv: &QemuDriver, dom: &Domain, net: &NetInterface) -> Result<()> {
    let mac = net.mac.clone().unwrap_or_default();
    if let Some(id) = net_id(drv, dom, &mac)? {
        unplug(drv, dom, &id)?;
        let _ = drv.qmp(dom, "netdev_del", json!({"id": format!("host{id}")}));
    }
    edit_live(drv, &dom.name, |def| {
        if let Some(i) = def
            .devices
            .interfaces
            .iter()
            .position(|n| same_mac(n.mac.as_deref(), Some(&mac)))
        {
            def.devices.interfaces.remove(i);
        }
        Ok(())
    })
}

pub(super) fn detach_device_alias(
    drv: &QemuDriver,
    dom: &Domain,
    alias: &str,
    flags: u32,
) -> Result<()> {
    check_flags(flags, LIVE | CONFIG, "qemuDomainDetachDeviceAlias")?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags)?;
    let not_found = || device_missing(format!("no device found with alias {alias}"));
    let mut pending = None;
    if config {
        let mut p = persistent(drv, &dom.name)?;
        let d = &mut p.devices;
        if let Some(i) = d
            .disks
            .iter()
            .position(|x| x.info.alias.as_deref() == Some(alias))
        {
            d.disks.remove(i);
        } else if let Some(i) = d
            .interfaces
            .iter()
            .position(|x| x.info.alias.as_deref() == Some(alias))
        {
            d.interfaces.remove(i);
        } else {
            return Err(not_found());
        }
        pending = Some(p);
    }
    if live {
        // A user alias (ua-...) from the XML, or the id QEMU knows the device by.
        let mut done = false;
        for disk in &v.def.devices.disks {
            if disk.info.alias.as_deref() == Some(alias)
                || (alias.starts_with(disk_alias_prefix(disk))
                    && disk_id(drv, &v.def, disk).is_ok_and(|id| id == alias))
            {
                detach_disk_live(drv, dom, &v.def, &disk.clone())?;
                done = true;
                break;
            }
        }
        if !done {
            for net in &v.def.devices.interfaces {
                let by_id = alias.starts_with("net")
                    && net_id(drv, dom, net.mac.as_deref().unwrap_or(""))?.as_deref()
                        == Some(alias);
                if net.info.alias.as_deref() == Some(alias) || by_id {
                    detach_net_live(drv, dom, &net.clone())?;
                    done = true;
                    break;
                }
            }
        }
        if !done {
            return Err(not_found());
        }
    }
    if let Some(p) = pending {
        save_config(drv, &p)?;
    }
    Ok(())
}

/// The start of the QEMU ids the generator gives disks of this bus.
fn disk_alias_prefix(disk: &Disk) -> &'static str {
    match disk.bus() {
        "virtio" => "virtio-disk",
        "scsi" => "scsi0-",
        "sata" => "sata0-",
        _ => "ide0-",
    }
}

// ---------------------------------------------------------------------------------------------
// Update (media change).

pub(super) fn update_device(drv: &QemuDriver, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
    check_flags(
        flags,
        LIVE | CONFIG | device_modify::FORCE,
        "qemuDomainUpdateDeviceFlags",
    )?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
    let dev = parse_device(xml, &v.def)?;
    let disk = match dev {
        Device::Disk(d) => d,
        Device::Net(..) => {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                format!(
                    "{} update of device 'net' is not supported",
                    if live { "live" } else { "persistent" }
                ),
            ))
        }
        Device::Other(kind) => {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                format!(
                    "{} update of device '{kind}' is not supported",
                    if live { "live" } else { "persistent" }
                ),
            ))
        }
    };
    let mut pending = None;
    if config {
        let mut p = persistent(drv, &dom.name)?;
        let Some(cur) = p
            .devices
            .disks
            .iter_mut()
            .find(|d| d.target_dev == disk.target_dev)
        else {
            return Err(device_missing(format!(
                "target {} doesn't exist.",
                disk.target_dev
            )));
        };
        set_media(cur, &disk);
        pending = Some(p);
    }
    if live {
        let Some(cur) = v
            .def
            .devices
            .disks
            .iter()
            .find(|d| d.target_dev == disk.target_dev)
        else {
            return Err(Error::internal(format!(
                "disk '{}' not found",
                disk.target_dev
            )));
        };
        if cur.source != disk.source || cur.disk_type != disk.disk_type {
            if !matches!(cur.device.as_str(), "cdrom" | "floppy") {
                return Err(Error::new(
                    ErrorKind::ConfigUnsupported,
                    "disk source can be changed only in removable drives",
                ));
            }
            change_media_live(
                drv,
                dom,
                &v.def,
                cur,
                &disk,
                flags & device_modify::FORCE != 0,
            )?;
        }
    }
    if let Some(p) = pending {
        save_config(drv, &p)?;
    }
    Ok(())
}

/// Give `cur` the media (source) of `new`.
fn set_media(cur: &mut Disk, new: &Disk) {
    cur.disk_type = new.disk_type.clone();
    cur.source = new.source.clone();
    cur.source_pool = new.source_pool.clone();
    cur.source_protocol = new.source_protocol.clone();
    cur.source_extra = new.source_extra.clone();
    if new.driver_type.is_some() {
        cur.driver_type = new.driver_type.clone();
    }
}

fn change_media_live(
    drv: &QemuDriver,
    dom: &Domain,
    live: &DomainDef,
    cur: &Disk,
    new: &Disk,
    force: bool,
) -> Result<()> {
    let id = disk_id(drv, live, cur)?;
    let old_nodes = inserted_nodes(drv, dom, &id)?;
    drv.qmp(
        dom,
        "blockdev-open-tray",
        json!({"id": id, "force": force || !old_nodes.is_empty()}),
    )?;
    let t0 = Instant::now();
    loop {
        let open = block_entry(drv, dom, &id)?
            .and_then(|b| b.get("tray_open").and_then(Value::as_bool))
            .unwrap_or(true);
        if open {
            break;
        }
        if t0.elapsed() > TRAY_WAIT {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!("timed out waiting to open tray of '{id}'"),
            ));
        }
        std::thread::sleep(POLL);
    }
    drv.qmp(dom, "blockdev-remove-medium", json!({"id": id}))?;
    del_nodes(drv, dom, &old_nodes);
    if new.source.is_some() {
        let mut media = cur.clone();
        set_media(&mut media, new);
        let mut g = generate(
            drv,
            live,
            Devices {
                disks: vec![media],
                ..Devices::default()
            },
        )?;
        let n = next_node(drv, dom)?;
        renumber_nodes(&mut g, n);
        let mut added = Vec::new();
        for b in &g.blockdevs {
            if let Err(e) = drv.qmp(dom, "blockdev-add", b.clone()) {
                added.reverse();
                del_nodes(drv, dom, &added);
                return Err(e);
            }
            if let Some(name) = b.get("node-name").and_then(Value::as_str) {
                added.push(name.to_string());
            }
        }
        let format = format!("libvirt-{n}-format");
        if let Err(e) = drv.qmp(
            dom,
            "blockdev-insert-medium",
            json!({"id": id, "node-name": format}),
        ) {
            added.reverse();
            del_nodes(drv, dom, &added);
            return Err(e);
        }
        drv.qmp(dom, "blockdev-close-tray", json!({"id": id}))?;
    }
    let target = cur.target_dev.clone();
    edit_live(drv, &dom.name, |def| {
        if let Some(d) = def
            .devices
            .disks
            .iter_mut()
            .find(|d| d.target_dev == target)
        {
            set_media(d, new);
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Memory and vCPUs.

pub(super) fn set_memory(drv: &QemuDriver, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
    check_flags(
        flags,
        LIVE | CONFIG | memory::MAXIMUM,
        "qemuDomainSetMemoryFlags",
    )?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
    let mut pdef = if config {
        Some(persistent(drv, &dom.name)?)
    } else {
        None
    };
    if flags & memory::MAXIMUM != 0 {
        if live {
            return Err(Error::invalid_op(
                "cannot resize the maximum memory on an active domain",
            ));
        }
        if let Some(p) = pdef.as_mut() {
            if p.max_memory_kib.is_some_and(|m| m < kib) {
                return Err(Error::invalid_op(
                    "cannot set initial memory size greater than the maximum memory size",
                ));
            }
            p.memory_kib = kib;
            if p.current_memory_kib > kib {
                p.current_memory_kib = kib;
            }
            save_config(drv, p)?;
        }
        return Ok(());
    }
    let mut oldmax = if live { v.def.memory_kib } else { 0 };
    if let Some(p) = &pdef {
        if !live || oldmax > p.memory_kib {
            oldmax = p.memory_kib;
        }
    }
    if kib > oldmax {
        return Err(Error::invalid_arg(
            "cannot set memory higher than max memory",
        ));
    }
    if live {
        let balloon = v
            .def
            .devices
            .memballoon
            .as_ref()
            .is_some_and(|b| b.attr("model") != Some("none"));
        if !balloon {
            return Err(Error::invalid_op(
                "Unable to change memory of active domain without the balloon device and guest \
                 OS balloon driver",
            ));
        }
        drv.qmp(dom, "balloon", json!({"value": kib * 1024}))?;
    }
    if let Some(p) = pdef.as_mut() {
        p.current_memory_kib = kib;
        save_config(drv, p)?;
    }
    Ok(())
}

pub(super) fn set_vcpus(drv: &QemuDriver, dom: &Domain, count: u32, flags: u32) -> Result<()> {
    check_flags(
        flags,
        LIVE | CONFIG | vcpu::MAXIMUM | vcpu::GUEST | vcpu::HOTPLUGGABLE,
        "qemuDomainSetVcpusFlags",
    )?;
    if flags & vcpu::GUEST != 0 {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            "setting the vCPUs a guest uses through its agent is not supported",
        ));
    }
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
    let mut pdef = if config {
        Some(persistent(drv, &dom.name)?)
    } else {
        None
    };
    if flags & vcpu::MAXIMUM != 0 {
        if live {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                "maximum vcpu count of a live domain can't be modified",
            ));
        }
        if let Some(p) = pdef.as_mut() {
            p.vcpus = count;
            if p.current_vcpus > count {
                p.current_vcpus = count;
            }
            save_config(drv, p)?;
        }
        return Ok(());
    }
    let max = v.def.vcpus.max(1);
    if live && count > max {
        return Err(Error::invalid_arg(format!(
            "requested vcpus is greater than max allowable vcpus for the live domain: {count} > {max}"
        )));
    }
    if let Some(p) = &pdef {
        if count > p.vcpus {
            return Err(Error::invalid_arg(format!(
                "requested vcpus is greater than max allowable vcpus for the persistent domain: {count} > {}",
                p.vcpus
            )));
        }
    }
    if live {
        hotplug_vcpus(drv, dom, count)?;
        edit_live(drv, &dom.name, |def| {
            def.current_vcpus = count;
            Ok(())
        })?;
    }
    if let Some(p) = pdef.as_mut() {
        p.current_vcpus = count;
        save_config(drv, p)?;
    }
    Ok(())
}

/// Plug or unplug vCPUs (query-hotpluggable-cpus, device_add/device_del) until `count` are
/// present.
fn hotplug_vcpus(drv: &QemuDriver, dom: &Domain, count: u32) -> Result<()> {
    let slots = drv.qmp(dom, "query-hotpluggable-cpus", Value::Null)?;
    let mut slots: Vec<Value> = slots.as_array().cloned().unwrap_or_default();
    let key = |s: &Value| {
        let p = s.get("props");
        let g = |k: &str| {
            p.and_then(|p| p.get(k))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        (g("socket-id"), g("die-id"), g("core-id"), g("thread-id"))
    };
    slots.sort_by_key(key);
    let present = |s: &Value| s.get("qom-path").is_some();
    let now: u32 = slots
        .iter()
        .filter(|s| present(s))
        .map(|s| s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32)
        .sum();
    if count > now {
        let mut have = now;
        for (i, s) in slots.iter().enumerate() {
            if have >= count {
                break;
            }
            if present(s) {
                continue;
            }
            let mut args = serde_json::Map::new();
            args.insert(
                "driver".into(),
                s.get("type").cloned().unwrap_or(Value::Null),
            );
            args.insert("id".into(), format!("vcpu{i}").into());
            if let Some(props) = s.get("props").and_then(Value::as_object) {
                for (k, v) in props {
                    if k != "node-id" {
                        args.insert(k.clone(), v.clone());
                    }
                }
            }
            drv.qmp(dom, "device_add", Value::Object(args))?;
            have += s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32;
        }
        if have < count {
            return Err(Error::internal(format!(
                "only {have} of {count} vCPUs could be plugged"
            )));
        }
    } else if count < now {
        let mut have = now;
        for (i, s) in slots.iter().enumerate().rev() {
            if have <= count {
                break;
            }
            if !present(s) {
                continue;
            }
            let path = s.get("qom-path").and_then(Value::as_str).unwrap_or("");
            let Some(id) = path.strip_prefix("/machine/peripheral/") else {
                return Err(Error::invalid_op(format!(
                    "vcpu '{i}' can't be hotunplugged"
                )));
            };
            unplug(drv, dom, id)?;
            have -= s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32;
        }
    }
    Ok(())
}
