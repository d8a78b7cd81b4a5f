//! `<portgroup>`: a named set of vlan, virtualport and bandwidth settings guests can pick.

use super::helpers::{attrs, prop_tristate, xpath_attr, yes_no, Src};
use super::netdev::{BandwidthDef, VirtualPortDef, VlanDef};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortGroupDef {
    pub name: String,
    pub is_default: bool,
    pub trust_guest_rx_filters: Option<bool>,
    pub vlan: Option<VlanDef>,
    pub virtualport: Option<VirtualPortDef>,
    pub bandwidth: Option<BandwidthDef>,
}

pub(super) fn parse_portgroup(src: Src, el: &Element) -> Result<PortGroupDef, XmlError> {
    let Some(name) = xpath_attr(el, "name") else {
        return Err(src.xml(el, "Missing required name attribute in portgroup"));
    };
    let mut def = PortGroupDef {
        name: name.to_string(),
        is_default: xpath_attr(el, "default").is_some_and(|d| d.eq_ignore_ascii_case("yes")),
        trust_guest_rx_filters: prop_tristate(src, el, "trustGuestRxFilters")?,
        ..Default::default()
    };
    if let Some(v) = el.child("virtualport") {
        def.virtualport = Some(VirtualPortDef::parse(src, v, false)?);
    }
    if let Some(b) = el.child("bandwidth") {
        def.bandwidth = BandwidthDef::parse(src, b, false)?;
    }
    if let Some(v) = el.child("vlan") {
        def.vlan = Some(VlanDef::parse(src, v)?);
    }
    Ok(def)
}

pub(super) fn format_portgroup(w: &mut XmlWriter, pg: &PortGroupDef) {
    let mut a: Vec<(&str, String)> = vec![("name", pg.name.clone())];
    if pg.is_default {
        a.push(("default", "yes".into()));
    }
    if let Some(t) = pg.trust_guest_rx_filters {
        a.push(("trustGuestRxFilters", yes_no(t).into()));
    }
    w.start("portgroup", &attrs(&a));
    if let Some(v) = &pg.vlan {
        v.format(w);
    }
    if let Some(v) = &pg.virtualport {
        v.format(w);
    }
    if let Some(b) = &pg.bandwidth {
        b.format(w);
    }
    w.end("portgroup");
}
