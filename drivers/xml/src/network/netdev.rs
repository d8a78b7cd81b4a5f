//! The network-device sub-elements a network shares with its portgroups (and, in libvirt, with
//! domain interfaces): `<bandwidth>`, `<vlan>`, `<virtualport>`, and the PCI `<address>` that
//! forward devices and storage adapters use.

use super::addr::parse_uuid;
use super::helpers::{attrs, prop_enum, prop_uint, xpath_attr, Src};
use crate::dom::Element;
use crate::error::XmlError;
use crate::units::{str_to_ui, str_to_ui_p, str_to_ull_p};
use crate::writer::XmlWriter;
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BandwidthRate {
    pub average: u64,
    pub peak: u64,
    pub burst: u64,
    pub floor: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BandwidthDef {
    pub inbound: Option<BandwidthRate>,
    pub outbound: Option<BandwidthRate>,
}

impl BandwidthDef {
    /// virNetDevBandwidthParse. None when neither direction is given (libvirt drops it).
    pub(crate) fn parse(
        src: Src,
        el: &Element,
        allow_floor: bool,
    ) -> Result<Option<BandwidthDef>, XmlError> {
        if el.attr("classID").is_some() {
            return Err(src.detail(
                el,
                "classID attribute not supported on <bandwidth> in this usage context",
            ));
        }
        let ins: Vec<&Element> = el.children_named("inbound").collect();
        let outs: Vec<&Element> = el.children_named("outbound").collect();
        if ins.len() > 1 {
            return Err(src.detail(el, "Only one child <inbound> element allowed"));
        }
        if outs.len() > 1 {
            return Err(src.detail(el, "Only one child <outbound> element allowed"));
        }
        let mut def = BandwidthDef::default();
        if let Some(i) = ins.first() {
            let r = parse_rate(src, i)?;
            if r.floor != 0 && !allow_floor {
                return Err(src.unsupported(i, "floor attribute is not supported for this config"));
            }
            def.inbound = Some(r);
        }
        if let Some(o) = outs.first() {
            let r = parse_rate(src, o)?;
            if r.floor != 0 {
                return Err(
                    src.unsupported(o, "'floor' attribute allowed only in <inbound> element")
                );
            }
            def.outbound = Some(r);
        }
        if def.inbound.is_none() && def.outbound.is_none() {
            return Ok(None);
        }
        Ok(Some(def))
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        w.start("bandwidth", &[]);
        for (name, rate) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            let Some(r) = rate else { continue };
            if r.average == 0 && r.floor == 0 {
                continue;
            }
            let mut a: Vec<(&str, String)> = Vec::new();
            if r.average != 0 {
                a.push(("average", r.average.to_string()));
            }
            if r.peak != 0 {
                a.push(("peak", r.peak.to_string()));
            }
            if r.floor != 0 {
                a.push(("floor", r.floor.to_string()));
            }
            if r.burst != 0 {
                a.push(("burst", r.burst.to_string()));
            }
            w.empty(name, &attrs(&a));
        }
        w.end("bandwidth");
    }
}

fn parse_rate(src: Src, el: &Element) -> Result<BandwidthRate, XmlError> {
    let mut r = BandwidthRate::default();
    let average = el.attr("average");
    let peak = el.attr("peak");
    let burst = el.attr("burst");
    let floor = el.attr("floor");
    let conv = |v: &str, what: &str| {
        str_to_ull_p(v, 10).ok_or_else(|| {
            src.unsupported(
                el,
                format!("could not convert bandwidth {what} value '{v}'"),
            )
        })
    };
    if let Some(a) = average {
        r.average = conv(a, "average")?;
    } else if floor.is_none() {
        return Err(src.detail(el, "Missing mandatory average or floor attributes"));
    }
    if (peak.is_some() || burst.is_some()) && average.is_none() {
        return Err(src.unsupported(el, "'peak' and 'burst' require 'average' attribute"));
    }
    if let Some(p) = peak {
        r.peak = conv(p, "peak")?;
    }
    if let Some(b) = burst {
        r.burst = conv(b, "burst")?;
    }
    if let Some(f) = floor {
        r.floor = conv(f, "floor")?;
    }
    Ok(r)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VlanDef {
    pub tags: Vec<u32>,
    pub trunk: bool,
    /// "tagged" or "untagged", applying to `native_tag`.
    pub native_mode: Option<String>,
    pub native_tag: u32,
}

impl VlanDef {
    /// virNetDevVlanParse.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<VlanDef, XmlError> {
        let tags: Vec<&Element> = el.children_named("tag").collect();
        if tags.is_empty() {
            return Err(src.xml(
                el,
                "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement",
            ));
        }
        let mut def = VlanDef::default();
        for t in &tags {
            let id = prop_uint(src, t, "id", 10, true, false)?.unwrap_or(0);
            if id > 4095 {
                return Err(src.xml(t, format!("vlan tag id {id} too large (maximum 4095)")));
            }
            if let Some(mode) = prop_enum(
                src,
                t,
                "nativeMode",
                &["default", "tagged", "untagged"],
                true,
                false,
            )? {
                if def.native_mode.is_some() {
                    return Err(src.xml(t, "duplicate native vlan setting"));
                }
                def.native_mode = Some(mode);
                def.native_tag = id;
            }
            def.tags.push(id);
        }
        def.trunk = tags.len() > 1;
        if let Some(trunk) = xpath_attr(el, "trunk") {
            def.trunk = trunk.eq_ignore_ascii_case("yes");
            if !def.trunk {
                if tags.len() > 1 {
                    return Err(src.xml(
                        el,
                        format!("invalid \"trunk='{trunk}'\" in <vlan> - trunk='yes' is required for more than one vlan tag"),
                    ));
                }
                if def.native_mode.is_some() {
                    return Err(src.xml(
                        el,
                        "invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native vlan id",
                    ));
                }
                if !trunk.eq_ignore_ascii_case("no") {
                    return Err(src.xml(
                        el,
                        format!("invalid \"trunk='{trunk}'\" in <vlan> - must be yes or no"),
                    ));
                }
            }
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        if self.tags.is_empty() {
            return;
        }
        if self.trunk {
            w.start("vlan", &[("trunk", "yes")]);
        } else {
            w.start("vlan", &[]);
        }
        for t in &self.tags {
            let id = t.to_string();
            match &self.native_mode {
                Some(mode) if self.native_tag == *t => {
                    w.empty("tag", &[("id", &id), ("nativeMode", mode)])
                }
                _ => w.empty("tag", &[("id", &id)]),
            }
        }
        w.end("vlan");
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtualPortDef {
    /// "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"; None for a typeless one.
    pub vport_type: Option<String>,
    pub manager_id: Option<u32>,
    pub type_id: Option<u32>,
    pub type_id_version: Option<u32>,
    pub instance_id: Option<Uuid>,
    pub profile_id: Option<String>,
    pub interface_id: Option<Uuid>,
}

impl VirtualPortDef {
    /// virNetDevVPortProfileParse (no defaults generated: networks never ask for them).
    pub(crate) fn parse(
        src: Src,
        el: &Element,
        require_type: bool,
    ) -> Result<VirtualPortDef, XmlError> {
        const TYPES: [&str; 5] = ["none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"];
        let mut def = VirtualPortDef::default();
        if let Some(t) = el.attr("type") {
            if TYPES.iter().position(|x| *x == t).unwrap_or(0) == 0 {
                return Err(src.unsupported(el, format!("unknown virtualport type {t}")));
            }
            def.vport_type = Some(t.to_string());
        }
        if def.vport_type.is_none() && require_type {
            return Err(src.xml(el, "missing required virtualport type"));
        }
        if let Some(p) = el.child("parameters") {
            let num = |name: &str, max: u32, what: &str| -> Result<Option<u32>, XmlError> {
                let Some(v) = p.attr(name) else {
                    return Ok(None);
                };
                let n = str_to_ui(v, 0)
                    .ok_or_else(|| src.xml(p, format!("cannot parse value of {name} parameter")))?;
                if n > max {
                    return Err(src.xml(p, what.to_string()));
                }
                Ok(Some(n))
            };
            def.manager_id = num("managerid", 0xff, "value of managerid out of range")?;
            def.type_id = num("typeid", 0xff_ffff, "value for typeid out of range")?;
            def.type_id_version =
                num("typeidversion", 0xff, "value of typeidversion out of range")?;
            if let Some(v) = p.attr("instanceid") {
                def.instance_id =
                    Some(parse_uuid(v).ok_or_else(|| {
                        src.xml(p, "cannot parse instanceid parameter as a uuid")
                    })?);
            }
            if let Some(v) = p.attr("profileid") {
                if v.len() >= 40 {
                    return Err(src.xml(p, "profileid parameter too long"));
                }
                if !v.is_empty() {
                    def.profile_id = Some(v.to_string());
                }
            }
            if let Some(v) = p.attr("interfaceid") {
                def.interface_id =
                    Some(parse_uuid(v).ok_or_else(|| {
                        src.xml(p, "cannot parse interfaceid parameter as a uuid")
                    })?);
            }
        }
        def.check_no_extras(src, el)?;
        Ok(def)
    }

    /// virNetDevVPortProfileCheckNoExtras.
    fn check_no_extras(&self, src: Src, el: &Element) -> Result<(), XmlError> {
        let t = self.vport_type.as_deref().unwrap_or("none");
        let present = [
            ("managerid", self.manager_id.is_some()),
            ("typeid", self.type_id.is_some()),
            ("typeidversion", self.type_id_version.is_some()),
            ("instanceid", self.instance_id.is_some()),
            ("profileid", self.profile_id.is_some()),
            ("interfaceid", self.interface_id.is_some()),
        ];
        let forbidden: &[&str] = match t {
            "802.1Qbg" => &["profileid", "interfaceid"],
            "802.1Qbh" => &[
                "managerid",
                "typeid",
                "typeidversion",
                "instanceid",
                "interfaceid",
            ],
            "midonet" => &[
                "managerid",
                "typeid",
                "typeidversion",
                "instanceid",
                "profileid",
            ],
            "openvswitch" => &["managerid", "typeid", "typeidversion", "instanceid"],
            _ => &[],
        };
        for (name, is) in present {
            if is && forbidden.contains(&name) {
                return Err(src.xml(
                    el,
                    format!("extra {name} unsupported in <virtualport type='{t}'>"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        let t = self.vport_type.as_deref();
        let no_params = self.manager_id.is_none()
            && self.type_id.is_none()
            && self.type_id_version.is_none()
            && self.instance_id.is_none()
            && self.profile_id.is_none()
            && self.interface_id.is_none();
        match t {
            None if no_params => return,
            None => w.start("virtualport", &[]),
            Some(t) if no_params => {
                w.empty("virtualport", &[("type", t)]);
                return;
            }
            Some(t) => w.start("virtualport", &[("type", t)]),
        }
        let tn = t.unwrap_or("none");
        let qbg = tn == "802.1Qbg" || tn == "none";
        let mut a: Vec<(&str, String)> = Vec::new();
        if qbg {
            if let Some(v) = self.manager_id {
                a.push(("managerid", v.to_string()));
            }
            if let Some(v) = self.type_id {
                a.push(("typeid", v.to_string()));
            }
            if let Some(v) = self.type_id_version {
                a.push(("typeidversion", v.to_string()));
            }
            if let Some(v) = self.instance_id {
                a.push(("instanceid", v.to_string()));
            }
        }
        if let Some(v) = self.interface_id {
            if matches!(tn, "midonet" | "openvswitch" | "none") {
                a.push(("interfaceid", v.to_string()));
            }
        }
        if let Some(v) = &self.profile_id {
            if matches!(tn, "openvswitch" | "802.1Qbh" | "none") {
                a.push(("profileid", v.clone()));
            }
        }
        w.empty("parameters", &attrs(&a));
        w.end("virtualport");
    }
}

/// A PCI address (`<address type='pci' domain= bus= slot= function=/>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PciAddress {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
}

impl PciAddress {
    /// virPCIDeviceAddressParseXML: numbers in any C base, range-checked.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<PciAddress, XmlError> {
        let get = |name: &str, max: u32| -> Result<u32, XmlError> {
            match el.attr(name) {
                None => Ok(0),
                Some(v) => {
                    let n = str_to_ui_p(v, 0).ok_or_else(|| {
                        src.unsupported(el, format!("Cannot parse <address> '{name}' attribute"))
                    })?;
                    if n > max {
                        return Err(src.xml(
                            el,
                            format!("Invalid PCI address {name}='{v}', must be <= 0x{max:X}"),
                        ));
                    }
                    Ok(n)
                }
            }
        };
        Ok(PciAddress {
            domain: get("domain", 0xffff)?,
            bus: get("bus", 0xff)?,
            slot: get("slot", 0x1f)?,
            function: get("function", 7)?,
        })
    }

    pub(crate) fn format(&self, w: &mut XmlWriter, with_type: bool) {
        let d = format!("0x{:04x}", self.domain);
        let b = format!("0x{:02x}", self.bus);
        let s = format!("0x{:02x}", self.slot);
        let f = format!("0x{:x}", self.function);
        if with_type {
            w.empty(
                "address",
                &[
                    ("type", "pci"),
                    ("domain", &d),
                    ("bus", &b),
                    ("slot", &s),
                    ("function", &f),
                ],
            );
        } else {
            w.empty(
                "address",
                &[("domain", &d), ("bus", &b), ("slot", &s), ("function", &f)],
            );
        }
    }
}
