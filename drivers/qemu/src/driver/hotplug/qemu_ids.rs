//! QMP helpers: device ids, block node names, `/machine/peripheral`, and the bounded unplug wait.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, Disk, DomainDef};

use super::device_xml::same_mac;
use super::generate::generate;
use super::POLL;
use crate::driver::QemuDriver;

/// How long an unplug waits for the guest to release the device (TCG guests are slow).
const UNPLUG_WAIT: Duration = Duration::from_secs(20);

/// The ids of the devices that have one (`/machine/peripheral`).
pub(super) fn peripherals(drv: &QemuDriver, dom: &Domain) -> Result<Vec<String>> {
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
pub(super) fn next_node(drv: &QemuDriver, dom: &Domain) -> Result<u64> {
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
pub(super) fn block_entry(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<Option<Value>> {
    let v = drv.qmp(dom, "query-block", Value::Null)?;
    let within = format!("/machine/peripheral/{id}/");
    let exact = format!("/machine/peripheral/{id}");
    Ok(v.as_array().into_iter().flatten().find_map(|b| {
        let q = b.get("qdev").and_then(Value::as_str)?;
        (q == id || q == exact || q.starts_with(&within)).then(|| b.clone())
    }))
}

/// The format node (and the storage node under it) of what the device `id` has inserted.
pub(super) fn inserted_nodes(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<Vec<String>> {
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

pub(super) fn del_nodes(drv: &QemuDriver, dom: &Domain, nodes: &[String]) {
    for n in nodes {
        let _ = drv.qmp(dom, "blockdev-del", json!({"node-name": n}));
    }
}

/// device_del, then wait (bounded) until QEMU has let go of the device. A device that is
/// already gone (an earlier unplug the guest finished late) counts as removed.
pub(super) fn unplug(drv: &QemuDriver, dom: &Domain, id: &str) -> Result<()> {
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
pub(super) fn disk_id(drv: &QemuDriver, live: &DomainDef, disk: &Disk) -> Result<String> {
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
pub(super) fn net_id(drv: &QemuDriver, dom: &Domain, mac: &str) -> Result<Option<String>> {
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
