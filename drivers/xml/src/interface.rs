//! libvirt's host interface XML (`<interface type='ethernet|bridge|bond|vlan'>`, the netcf
//! format of `virsh iface-*`): parse, validate and format as libvirt 9.0's `interface_conf.c`.
//!
//! Interfaces nest: a bridge holds ethernet, bond and vlan interfaces, a bond holds ethernet
//! ones. Start mode, MTU and addressing (`<protocol>`) belong to the top-level interface only;
//! libvirt ignores them on nested ones, and so do we. Unlike the network model, libvirt keeps
//! most values here as written (MAC addresses, addresses, the bridge delay).

use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{
    attrs, parse_root, prop_enum, prop_int, prop_tristate, prop_uint, xpath_attr, xpath_int,
    xpath_path_attr, xpath_uint, yes_no, Src,
};
use crate::writer::XmlWriter;

pub const INTERFACE_TYPES: [&str; 4] = ["ethernet", "bridge", "bond", "vlan"];
const BOND_MODES: [&str; 7] = [
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
];
/// virNetDevIfState; the empty first entry is "not set".
const LINK_STATES: [&str; 8] = [
    "",
    "unknown",
    "notpresent",
    "down",
    "lowerlayerdown",
    "testing",
    "dormant",
    "up",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceDef {
    /// "ethernet", "bridge", "bond" or "vlan".
    pub iface_type: String,
    pub name: String,
    /// "onboot", "hotplug" or "none".
    pub start_mode: Option<String>,
    pub mtu: Option<u32>,
    /// Ethernet interfaces only; kept as written.
    pub mac: Option<String>,
    pub protocols: Vec<InterfaceProtocol>,
    /// `<link speed= state=/>` (not for bridges).
    pub link: Option<InterfaceLink>,
    pub bridge: Option<InterfaceBridge>,
    pub bond: Option<InterfaceBond>,
    pub vlan: Option<InterfaceVlan>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceLink {
    /// Mbit/s; 0 is "unknown" and not shown.
    pub speed: u32,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceProtocol {
    /// "ipv4" or "ipv6".
    pub family: String,
    pub autoconf: bool,
    /// `<dhcp>` present, with its `peerdns` setting.
    pub dhcp: bool,
    pub peerdns: Option<bool>,
    pub ips: Vec<InterfaceIp>,
    pub gateway: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceIp {
    pub address: String,
    /// 0 when not given.
    pub prefix: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceBridge {
    pub stp: Option<bool>,
    /// Kept as a string, as libvirt does ("0.01" is fine).
    pub delay: Option<String>,
    pub interfaces: Vec<InterfaceDef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceBond {
    pub mode: Option<String>,
    pub monitor: Option<BondMonitor>,
    pub interfaces: Vec<InterfaceDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BondMonitor {
    Mii {
        freq: i32,
        downdelay: i32,
        updelay: i32,
        /// "ioctl" or "netif".
        carrier: Option<String>,
    },
    Arp {
        interval: i32,
        target: String,
        /// "active", "backup" or "all".
        validate: Option<String>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceVlan {
    pub tag: String,
    pub device: String,
}

impl InterfaceDef {
    /// virInterfaceDefParseString.
    pub fn parse(xml: &str) -> Result<InterfaceDef, XmlError> {
        let root = parse_root(xml, "interface")?;
        Self::from_element(xml, &root)
    }

    pub fn from_element(text: &str, root: &Element) -> Result<InterfaceDef, XmlError> {
        parse_iface(Src { text }, root, None)
    }

    /// virInterfaceDefFormat.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        format_iface(&mut w, self, true);
        w.finish()
    }
}

fn parse_iface(src: Src, el: &Element, parent: Option<&str>) -> Result<InterfaceDef, XmlError> {
    let t = prop_enum(src, el, "type", &INTERFACE_TYPES, false, true)?.unwrap_or_default();
    let allowed = match parent {
        None => true,
        Some("bond") => t == "ethernet",
        Some("bridge") => t != "bridge",
        Some(_) => false,
    };
    if !allowed {
        return Err(src.xml(el, format!("interface has unsupported type '{t}'")));
    }
    let Some(name) = el.attr("name") else {
        return Err(src.xml(el, "interface has no name"));
    };
    let mut def = InterfaceDef {
        iface_type: t.clone(),
        name: name.to_string(),
        ..Default::default()
    };
    if parent.is_none() {
        def.start_mode = match xpath_path_attr(el, "start", "mode") {
            None => None,
            Some(m @ ("onboot" | "hotplug" | "none")) => Some(m.to_string()),
            Some(m) => {
                return Err(src.xml(
                    el.child("start").unwrap_or(el),
                    format!("unknown interface startmode {m}"),
                ))
            }
        };
        let mtu_el = el.child("mtu").unwrap_or(el);
        match xpath_uint(xpath_path_attr(el, "mtu", "size")) {
            Ok(m) => def.mtu = m.filter(|m| *m > 0),
            // libvirt fails here without reporting anything, so virsh can only say this.
            Err(()) => {
                return Err(src.detail(mtu_el, "An error occurred, but the cause is unknown"))
            }
        }
        if def.mtu.unwrap_or(0) > 100000 {
            return Err(src.xml(
                mtu_el,
                "value of the 'size' attribute of 'mtu' element must be at most 100000",
            ));
        }
        for p in el.children_named("protocol") {
            def.protocols.push(parse_protocol(src, p)?);
        }
    }
    if t != "bridge" {
        if let Some(l) = el.child("link") {
            let state = prop_enum(src, l, "state", &LINK_STATES, true, false)?;
            let speed = prop_uint(src, l, "speed", 10, false, false)?.unwrap_or(0);
            if speed != 0 || state.is_some() {
                def.link = Some(InterfaceLink { speed, state });
            }
        }
    }
    match t.as_str() {
        "ethernet" => {
            def.mac = xpath_path_attr(el, "mac", "address").map(str::to_string);
        }
        "bridge" => {
            let Some(b) = el.child("bridge") else {
                return Err(src.xml(el, "bridge interface misses the bridge element"));
            };
            let stp = match b.attr("stp") {
                Some("on") => Some(true),
                Some("off") => Some(false),
                // libvirt reports "bridge interface stp should be on or off" here but still
                // accepts the definition (its parser returns success); the setting is dropped.
                _ => None,
            };
            let mut bridge = InterfaceBridge {
                stp,
                delay: b.attr("delay").map(str::to_string),
                interfaces: Vec::new(),
            };
            for i in b.children_named("interface") {
                bridge.interfaces.push(parse_iface(src, i, Some("bridge"))?);
            }
            def.bridge = Some(bridge);
        }
        "bond" => {
            let Some(b) = el.child("bond") else {
                return Err(src.xml(el, "bond interface misses the bond element"));
            };
            def.bond = Some(parse_bond(src, b)?);
        }
        "vlan" => {
            let Some(v) = el.child("vlan") else {
                return Err(src.xml(el, "vlan interface misses the vlan element"));
            };
            let Some(tag) = xpath_attr(v, "tag") else {
                return Err(src.xml(v, "vlan interface misses the tag attribute"));
            };
            let Some(dev) = xpath_path_attr(v, "interface", "name") else {
                return Err(src.xml(v, "vlan interface misses name attribute"));
            };
            def.vlan = Some(InterfaceVlan {
                tag: tag.to_string(),
                device: dev.to_string(),
            });
        }
        _ => {}
    }
    Ok(def)
}

fn parse_protocol(src: Src, p: &Element) -> Result<InterfaceProtocol, XmlError> {
    let Some(family) = p.attr("family") else {
        return Err(src.xml(p, "protocol misses the family attribute"));
    };
    if family != "ipv4" && family != "ipv6" {
        return Err(src.xml(p, format!("unsupported protocol family '{family}'")));
    }
    let mut proto = InterfaceProtocol {
        family: family.to_string(),
        gateway: xpath_path_attr(p, "route", "gateway").map(str::to_string),
        ..Default::default()
    };
    if family == "ipv6" {
        proto.autoconf = p.child("autoconf").is_some();
    }
    if let Some(d) = p.child("dhcp") {
        proto.dhcp = true;
        proto.peerdns = prop_tristate(src, d, "peerdns")?;
    }
    for ip in p.children_named("ip") {
        let Some(address) = ip.attr("address") else {
            // libvirt keeps an address-less <ip> but never shows it.
            continue;
        };
        let prefix = prop_int(src, ip, "prefix", 0)?.unwrap_or(0);
        proto.ips.push(InterfaceIp {
            address: address.to_string(),
            prefix,
        });
    }
    Ok(proto)
}

fn parse_bond(src: Src, b: &Element) -> Result<InterfaceBond, XmlError> {
    let mode = match xpath_attr(b, "mode") {
        None => None,
        Some(m) if BOND_MODES.contains(&m) => Some(m.to_string()),
        Some(m) => return Err(src.xml(b, format!("unknown bonding mode {m}"))),
    };
    let mut bond = InterfaceBond {
        mode,
        ..Default::default()
    };
    for i in b.children_named("interface") {
        bond.interfaces.push(parse_iface(src, i, Some("bond"))?);
    }
    if let Some(m) = b.child("miimon") {
        let freq = match xpath_int(xpath_attr(m, "freq")) {
            Ok(Some(f)) => f,
            _ => return Err(src.xml(m, "bond interface miimon freq missing or invalid")),
        };
        let downdelay = xpath_int(xpath_attr(m, "downdelay"))
            .map_err(|_| src.xml(m, "bond interface miimon downdelay invalid"))?
            .unwrap_or(0);
        let updelay = xpath_int(xpath_attr(m, "updelay"))
            .map_err(|_| src.xml(m, "bond interface miimon updelay invalid"))?
            .unwrap_or(0);
        let carrier = match xpath_attr(m, "carrier") {
            None => None,
            Some(c @ ("ioctl" | "netif")) => Some(c.to_string()),
            Some(c) => return Err(src.xml(m, format!("unknown mii bonding carrier {c}"))),
        };
        bond.monitor = Some(BondMonitor::Mii {
            freq,
            downdelay,
            updelay,
            carrier,
        });
    } else if let Some(a) = b.child("arpmon") {
        let interval = match xpath_int(xpath_attr(a, "interval")) {
            Ok(Some(i)) => i,
            _ => return Err(src.xml(a, "bond interface arpmon interval missing or invalid")),
        };
        let Some(target) = xpath_attr(a, "target") else {
            return Err(src.xml(a, "bond interface arpmon target missing"));
        };
        let validate = match xpath_attr(a, "validate") {
            None => None,
            Some(v @ ("active" | "backup" | "all")) => Some(v.to_string()),
            Some(v) => return Err(src.xml(a, format!("unknown arp bonding validate {v}"))),
        };
        bond.monitor = Some(BondMonitor::Arp {
            interval,
            target: target.to_string(),
            validate,
        });
    }
    Ok(bond)
}

fn format_iface(w: &mut XmlWriter, d: &InterfaceDef, top: bool) {
    w.start("interface", &[("type", &d.iface_type), ("name", &d.name)]);
    if top {
        if let Some(m) = &d.start_mode {
            w.empty("start", &[("mode", m)]);
        }
        if let Some(m) = d.mtu.filter(|m| *m > 0) {
            w.empty("mtu", &[("size", &m.to_string())]);
        }
        for p in &d.protocols {
            w.start("protocol", &[("family", &p.family)]);
            if p.autoconf {
                w.empty("autoconf", &[]);
            }
            if p.dhcp {
                match p.peerdns {
                    Some(v) => w.empty("dhcp", &[("peerdns", yes_no(v))]),
                    None => w.empty("dhcp", &[]),
                }
            }
            for ip in &p.ips {
                if ip.prefix != 0 {
                    w.empty(
                        "ip",
                        &[("address", &ip.address), ("prefix", &ip.prefix.to_string())],
                    );
                } else {
                    w.empty("ip", &[("address", &ip.address)]);
                }
            }
            if let Some(g) = &p.gateway {
                w.empty("route", &[("gateway", g)]);
            }
            w.end("protocol");
        }
    }
    if d.iface_type != "bridge" {
        if let Some(l) = &d.link {
            let mut a: Vec<(&str, String)> = Vec::new();
            if l.speed != 0 {
                a.push(("speed", l.speed.to_string()));
            }
            if let Some(s) = &l.state {
                a.push(("state", s.clone()));
            }
            if !a.is_empty() {
                w.empty("link", &attrs(&a));
            }
        }
    }
    match d.iface_type.as_str() {
        "ethernet" => {
            if let Some(m) = &d.mac {
                w.empty("mac", &[("address", m)]);
            }
        }
        "bridge" => {
            let b = d.bridge.clone().unwrap_or_default();
            let mut a: Vec<(&str, String)> = Vec::new();
            if let Some(s) = b.stp {
                a.push(("stp", if s { "on" } else { "off" }.into()));
            }
            if let Some(dl) = &b.delay {
                a.push(("delay", dl.clone()));
            }
            w.start("bridge", &attrs(&a));
            for i in &b.interfaces {
                format_iface(w, i, false);
            }
            w.end("bridge");
        }
        "bond" => {
            let b = d.bond.clone().unwrap_or_default();
            match &b.mode {
                Some(m) => w.start("bond", &[("mode", m)]),
                None => w.start("bond", &[]),
            }
            match &b.monitor {
                Some(BondMonitor::Mii {
                    freq,
                    downdelay,
                    updelay,
                    carrier,
                }) => {
                    let mut a: Vec<(&str, String)> = vec![("freq", freq.to_string())];
                    if *downdelay > 0 {
                        a.push(("downdelay", downdelay.to_string()));
                    }
                    if *updelay > 0 {
                        a.push(("updelay", updelay.to_string()));
                    }
                    if let Some(c) = carrier {
                        a.push(("carrier", c.clone()));
                    }
                    w.empty("miimon", &attrs(&a));
                }
                Some(BondMonitor::Arp {
                    interval,
                    target,
                    validate,
                }) => {
                    let mut a: Vec<(&str, String)> = vec![
                        ("interval", interval.to_string()),
                        ("target", target.clone()),
                    ];
                    if let Some(v) = validate {
                        a.push(("validate", v.clone()));
                    }
                    w.empty("arpmon", &attrs(&a));
                }
                None => {}
            }
            for i in &b.interfaces {
                format_iface(w, i, false);
            }
            w.end("bond");
        }
        "vlan" => {
            if let Some(v) = &d.vlan {
                w.start("vlan", &[("tag", &v.tag)]);
                w.empty("interface", &[("name", &v.device)]);
                w.end("vlan");
            }
        }
        _ => {}
    }
    w.end("interface");
}
