//! `<forward>`: the forward mode, its `<nat>` ranges and its devices (net devices, PCI
//! addresses, a physical function), as network_conf.c parses and formats them.

use super::addr::{format_ip, parse_ip};
use super::helpers::{attrs, prop_tristate, xpath_attr, xpath_path_attr, xpath_uint, yes_no, Src};
use super::netdev::PciAddress;
use super::subnet::check_range;
use super::NetworkFormatOptions;
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;
use std::net::IpAddr;

/// libvirt's forward modes, in enum order ("none" is the absence of <forward>).
pub const FORWARD_MODES: [&str; 9] = [
    "none",
    "nat",
    "route",
    "open",
    "bridge",
    "private",
    "vepa",
    "passthrough",
    "hostdev",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardDef {
    pub mode: String,
    /// hostdev mode only: `managed='yes'`.
    pub managed: bool,
    /// `<driver name='kvm|vfio'/>`.
    pub driver_name: Option<String>,
    pub nat: Option<NatDef>,
    /// `<pf dev=.../>` (at most one).
    pub pfs: Vec<String>,
    /// Forward devices, in order: `dev=` and `<interface>` give net devices, `<address>` PCI ones.
    pub interfaces: Vec<ForwardIf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardIf {
    Netdev {
        dev: String,
        connections: Option<u32>,
    },
    Pci(PciAddress),
}

impl ForwardDef {
    /// The `dev` attribute libvirt shows: the first forward device when it is a net device.
    pub fn dev(&self) -> Option<&str> {
        match self.interfaces.first() {
            Some(ForwardIf::Netdev { dev, .. }) => Some(dev),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatDef {
    pub ipv6: Option<bool>,
    pub address_start: Option<IpAddr>,
    pub address_end: Option<IpAddr>,
    pub port_start: u32,
    pub port_end: u32,
}

pub(super) fn parse_forward(src: Src, net: &str, el: &Element) -> Result<ForwardDef, XmlError> {
    let mode = match xpath_attr(el, "mode") {
        None => "nat".to_string(),
        Some(m) => {
            if !FORWARD_MODES.contains(&m) {
                return Err(src.unsupported(el, format!("unknown forwarding type '{m}'")));
            }
            m.to_string()
        }
    };
    let mut def = ForwardDef {
        managed: xpath_attr(el, "managed").is_some_and(|m| m.eq_ignore_ascii_case("yes")),
        mode,
        ..Default::default()
    };
    if let Some(d) = xpath_path_attr(el, "driver", "name") {
        if d != "kvm" && d != "vfio" {
            return Err(src.unsupported(
                el,
                format!("Unknown forward <driver name='{d}'/> in network {net}"),
            ));
        }
        def.driver_name = Some(d.to_string());
    }
    let ifs: Vec<&Element> = el.children_named("interface").collect();
    let addrs: Vec<&Element> = el.children_named("address").collect();
    let pfs: Vec<&Element> = el.children_named("pf").collect();
    let nats: Vec<&Element> = el.children_named("nat").collect();
    if nats.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <nat> element is allowed in <forward> of network {net}"),
        ));
    }
    if let Some(n) = nats.first() {
        def.nat = Some(parse_nat(src, net, n, &def.mode)?);
    }
    let dev = xpath_attr(el, "dev");
    if dev.is_some() && (!addrs.is_empty() || !pfs.is_empty()) {
        // libvirt passes a "%s" format without an argument here; its message keeps the "%1$s".
        return Err(src.xml(
            el,
            "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network %1$s",
        ));
    }
    if !ifs.is_empty() || dev.is_some() {
        if let Some(d) = dev {
            def.interfaces.push(ForwardIf::Netdev {
                dev: d.to_string(),
                connections: None,
            });
        }
        for (i, ie) in ifs.iter().enumerate() {
            let Some(d) = ie.attr("dev") else {
                return Err(src.xml(
                    ie,
                    format!(
                        "Missing required dev attribute in <forward> <interface> element of network {net}"
                    ),
                ));
            };
            if i == 0 && dev.is_some() {
                if Some(d) != dev {
                    return Err(src.xml(
                        ie,
                        format!(
                            "<forward dev='{}'> must match first <interface dev='{d}'/> in network {net}",
                            dev.unwrap_or_default()
                        ),
                    ));
                }
                continue;
            }
            // libvirt compares against the entries before this index only.
            let dup = def
                .interfaces
                .iter()
                .take(i)
                .any(|x| matches!(x, ForwardIf::Netdev { dev: other, .. } if other == d));
            if dup {
                return Err(src.xml(
                    ie,
                    format!("interface '{d}' can only be listed once in network {net}"),
                ));
            }
            def.interfaces.push(ForwardIf::Netdev {
                dev: d.to_string(),
                connections: None,
            });
        }
    } else if !addrs.is_empty() {
        for a in &addrs {
            let Some(t) = a.attr("type") else {
                return Err(src.xml(a, format!("missing address type in network {net}")));
            };
            match t {
                "pci" => {}
                "none" | "netdev" => {
                    return Err(src.xml(
                        a,
                        format!("unsupported address type '{t}' in network {net}"),
                    ))
                }
                _ => {
                    return Err(
                        src.unsupported(a, format!("unknown address type '{t}' in network {net}"))
                    )
                }
            }
            let pci = PciAddress::parse(src, a)?;
            if def.interfaces.contains(&ForwardIf::Pci(pci)) {
                return Err(src.xml(
                    a,
                    format!(
                        "PCI device '{:04x}:{:02x}:{:02x}.{:x}' can only be listed once in network {net}",
                        pci.domain, pci.bus, pci.slot, pci.function
                    ),
                ));
            }
            def.interfaces.push(ForwardIf::Pci(pci));
        }
    } else if pfs.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <pf> element is allowed in <forward> of network {net}"),
        ));
    } else if let Some(pf) = pfs.first() {
        let Some(d) = pf.attr("dev") else {
            return Err(src.xml(
                pf,
                format!("Missing required dev attribute in <pf> element of network '{net}'"),
            ));
        };
        def.pfs.push(d.to_string());
    }
    Ok(def)
}

fn parse_nat(src: Src, net: &str, el: &Element, mode: &str) -> Result<NatDef, XmlError> {
    if mode != "nat" {
        return Err(src.xml(
            el,
            format!(
                "The <nat> element can only be used when <forward> 'mode' is 'nat' in network {net}"
            ),
        ));
    }
    let mut def = NatDef {
        ipv6: prop_tristate(src, el, "ipv6")?,
        ..Default::default()
    };
    let addrs: Vec<&Element> = el.children_named("address").collect();
    if addrs.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <address> element is allowed in <nat> in <forward> in network {net}"),
        ));
    }
    let mut start = None;
    let mut end = None;
    if let Some(a) = addrs.first() {
        start = Some(a.attr("start").ok_or_else(|| {
            src.xml(
                a,
                format!(
                    "missing 'start' attribute in <address> element in <nat> in <forward> in network {net}"
                ),
            )
        })?);
        end = Some(a.attr("end").ok_or_else(|| {
            src.xml(
                a,
                format!(
                    "missing 'end' attribute in <address> element in <nat> in <forward> in network {net}"
                ),
            )
        })?);
    }
    let v4 = |s: &str| parse_ip(s).filter(|a| a.is_ipv4());
    if let (Some(s), Some(a)) = (start, addrs.first()) {
        def.address_start = Some(v4(s).ok_or_else(|| {
            src.xml(
                a,
                format!("Bad ipv4 start address '{s}' in <nat> in <forward> in network '{net}'"),
            )
        })?);
    }
    if let (Some(e), Some(a)) = (end, addrs.first()) {
        def.address_end = Some(v4(e).ok_or_else(|| {
            src.xml(
                a,
                format!("Bad ipv4 end address '{e}' in <nat> in <forward> in network '{net}'"),
            )
        })?);
    }
    if let (Some(s), Some(e), Some(a)) = (&def.address_start, &def.address_end, addrs.first()) {
        check_range(src, a, s, e, None)?;
    }
    let ports: Vec<&Element> = el.children_named("port").collect();
    if ports.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <port> element is allowed in <nat> in <forward> in network {net}"),
        ));
    }
    if let Some(p) = ports.first() {
        match xpath_uint(p.attr("start")) {
            Ok(Some(v)) if v <= 65535 => def.port_start = v,
            _ => {
                return Err(src.detail(
                    p,
                    format!(
                        "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network {net}"
                    ),
                ))
            }
        }
        match xpath_uint(p.attr("end")) {
            Ok(Some(v)) if v <= 65535 && v >= def.port_start => def.port_end = v,
            _ => {
                return Err(src.detail(
                    p,
                    format!(
                        "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network {net}"
                    ),
                ))
            }
        }
    }
    Ok(def)
}

pub(super) fn format_forward(w: &mut XmlWriter, f: &ForwardDef, opts: &NetworkFormatOptions) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if f.pfs.is_empty() {
        if let Some(d) = f.dev() {
            a.push(("dev", d.to_string()));
        }
    }
    a.push(("mode", f.mode.clone()));
    if f.mode == "hostdev" {
        a.push(("managed", yes_no(f.managed).into()));
    }
    let nat = f.nat.clone().unwrap_or_default();
    let short = f.interfaces.is_empty()
        && f.pfs.is_empty()
        && nat.address_start.is_none()
        && nat.address_end.is_none()
        && nat.port_start == 0
        && nat.port_end == 0
        && f.driver_name.is_none()
        && nat.ipv6.is_none();
    if short {
        w.empty("forward", &attrs(&a));
        return;
    }
    w.start("forward", &attrs(&a));
    if let Some(d) = &f.driver_name {
        w.empty("driver", &[("name", d)]);
    }
    if f.mode == "nat" {
        let has_inner = nat.address_start.is_some()
            || nat.address_end.is_some()
            || nat.port_start != 0
            || nat.port_end != 0;
        if has_inner || nat.ipv6.is_some() {
            let mut na: Vec<(&str, String)> = Vec::new();
            if let Some(v) = nat.ipv6 {
                na.push(("ipv6", yes_no(v).into()));
            }
            if !has_inner {
                w.empty("nat", &attrs(&na));
            } else {
                w.start("nat", &attrs(&na));
                if let Some(s) = &nat.address_start {
                    let mut aa = vec![("start", format_ip(s))];
                    if let Some(e) = &nat.address_end {
                        aa.push(("end", format_ip(e)));
                    }
                    w.empty("address", &attrs(&aa));
                }
                if nat.port_start != 0 || nat.port_end != 0 {
                    let mut pa = vec![("start", nat.port_start.to_string())];
                    if nat.port_end != 0 {
                        pa.push(("end", nat.port_end.to_string()));
                    }
                    w.empty("port", &attrs(&pa));
                }
                w.end("nat");
            }
        }
    }
    if let Some(pf) = f.pfs.first() {
        w.empty("pf", &[("dev", pf)]);
    }
    if !f.interfaces.is_empty() && (f.pfs.is_empty() || !opts.inactive) {
        for i in &f.interfaces {
            match i {
                ForwardIf::Netdev { dev, connections } => {
                    match connections.filter(|c| *c > 0 && !opts.inactive) {
                        Some(c) => w.empty(
                            "interface",
                            &[("dev", dev), ("connections", &c.to_string())],
                        ),
                        None => w.empty("interface", &[("dev", dev)]),
                    }
                }
                ForwardIf::Pci(p) => p.format(w, true),
            }
        }
    }
    w.end("forward");
}
