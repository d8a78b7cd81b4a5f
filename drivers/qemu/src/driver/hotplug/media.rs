//! Device updates: changing the media of a removable disk (tray, medium, block nodes).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use virtsh_api::flags::device_modify;
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, Disk, DomainDef};

use super::device_xml::{parse_device, Device};
use super::generate::{generate, renumber_nodes};
use super::qemu_ids::{block_entry, del_nodes, disk_id, inserted_nodes, next_node};
use super::{device_missing, CONFIG, LIVE, POLL};
use crate::driver::copies::{check_flags, edit_live, impact, persistent, save_config};
use crate::driver::QemuDriver;

/// How long a media change waits for the tray to open.
const TRAY_WAIT: Duration = Duration::from_secs(10);

pub(in crate::driver) fn update_device(
    drv: &QemuDriver,
    dom: &Domain,
    xml: &str,
    flags: u32,
) -> Result<()> {
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
