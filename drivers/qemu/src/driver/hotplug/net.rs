//! Live plugging and unplugging of network interfaces (netdev, tap from the supervisor, device).

use serde_json::{json, Value};
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, DomainDef, NetInterface};

use super::device_xml::same_mac;
use super::generate::{generate, rename};
use super::qemu_ids::{net_id, peripherals, unplug};
use crate::driver::copies::edit_live;
use crate::driver::QemuDriver;

pub(super) fn attach_net_live(
    drv: &QemuDriver,
    dom: &Domain,
    live: &DomainDef,
    net: &NetInterface,
) -> Result<()> {
    let tap_type = crate::cmdline::uses_tap(net);
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
    drv.networks.plug_interface(&dom.name, dom.uuid, &mut net)?;
    let result = plug_live(drv, dom, &mut net, tap_type, &host, k, &mut g);
    if result.is_err() {
        virtsh_network::guests::release_ports_of(&drv.uri, &dom.name, std::slice::from_ref(&net));
    }
    result
}

/// The QEMU side of [`attach_net_live`], once a network NIC holds its port.
fn plug_live(
    drv: &QemuDriver,
    dom: &Domain,
    net: &mut NetInterface,
    tap_type: bool,
    host: &str,
    k: u64,
    g: &mut super::generate::Generated,
) -> Result<()> {
    if tap_type {
        let fdname = format!("{host}-fd");
        let reply = drv.supervisor_call(
            dom,
            &crate::supervisor::protocol::Request::AttachTap {
                template: net.target_dev.clone(),
                bridge: net.host_bridge().map(str::to_string),
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
    let net = &*net;
    for d in &mut g.devices {
        rename(d, "netdev", |_| host.to_string());
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

pub(super) fn detach_net_live(drv: &QemuDriver, dom: &Domain, net: &NetInterface) -> Result<()> {
    let mac = net.mac.clone().unwrap_or_default();
    if let Some(id) = net_id(drv, dom, &mac)? {
        unplug(drv, dom, &id)?;
        let _ = drv.qmp(dom, "netdev_del", json!({"id": format!("host{id}")}));
    }
    let mut removed = Vec::new();
    edit_live(drv, &dom.name, |def| {
        if let Some(i) = def
            .devices
            .interfaces
            .iter()
            .position(|n| same_mac(n.mac.as_deref(), Some(&mac)))
        {
            removed.push(def.devices.interfaces.remove(i));
        }
        Ok(())
    })?;
    virtsh_network::guests::release_ports_of(&drv.uri, &dom.name, &removed);
    Ok(())
}
