//! Live plugging and unplugging of disks (block nodes and their device).

use serde_json::Value;
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, Disk, DomainDef};

use super::generate::{generate, renumber_nodes};
use super::qemu_ids::{del_nodes, disk_id, inserted_nodes, next_node, unplug};
use crate::driver::copies::edit_live;
use crate::driver::QemuDriver;

pub(super) fn attach_disk_live(
    drv: &QemuDriver,
    dom: &Domain,
    live: &DomainDef,
    disk: &Disk,
) -> Result<()> {
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

pub(super) fn detach_disk_live(
    drv: &QemuDriver,
    dom: &Domain,
    live: &DomainDef,
    disk: &Disk,
) -> Result<()> {
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
