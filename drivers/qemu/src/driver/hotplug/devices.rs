//! The attach and detach entry points (by device XML or by alias), persistent and live.

use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::Disk;

use super::device_xml::{find_net, parse_device, Device};
use super::disk::{attach_disk_live, detach_disk_live};
use super::net::{attach_net_live, detach_net_live};
use super::qemu_ids::{disk_id, net_id};
use super::{device_missing, CONFIG, LIVE};
use crate::driver::copies::{check_flags, impact, persistent, save_config};
use crate::driver::QemuDriver;

pub(in crate::driver) fn attach_device(
    drv: &QemuDriver,
    dom: &Domain,
    xml: &str,
    flags: u32,
) -> Result<()> {
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

pub(in crate::driver) fn detach_device(
    drv: &QemuDriver,
    dom: &Domain,
    xml: &str,
    flags: u32,
) -> Result<()> {
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

pub(in crate::driver) fn detach_device_alias(
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
