//! The host capabilities document (`virsh capabilities`), formatted as libvirt 9.0's
//! `capabilities.c` does, and parsed back (libvirt itself has no parser for it; ours exists so
//! that a driver can start from a recorded document and tests can round-trip real output).
//!
//! The layout has quirks the formatter keeps: a blank line after `<capabilities>` and after each
//! top-level section, `<power_management/>` when the host supports none, the `<cpus>` list
//! folded to `<cpus num='0'/>` when empty, machine attributes only when set.
//!
//! Layout: this module holds the document and the readers its parser shares; `host` the
//! `<host>` section (CPU, power management, NUMA topology, caches, memory bandwidth, security
//! models), `guest` the `<guest>` sections (architectures, machines, domain types, features).

mod guest;
mod host;

pub use guest::{GuestArch, GuestCaps, GuestDomain, GuestFeature, Machine};
pub use host::{
    CacheBank, CacheCaps, CacheControl, CpuTopology, HostCaps, HostCpu, MemoryBandwidthCaps,
    MemoryBandwidthNode, MigrationCaps, NumaCell, NumaCpu, NumaCpuTopology, ResctrlMonitor,
    SecModel,
};

use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{parse_root, string_value, Src};
use crate::writer::XmlWriter;
use guest::{format_guest, parse_guest};
use host::{format_host, parse_host};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub host: HostCaps,
    pub guests: Vec<GuestCaps>,
    /// Storage pool types (`<pool><enum name='type'>`), shown by drivers that have storage.
    pub pool_types: Vec<String>,
}

fn num<T: std::str::FromStr>(src: Src, el: &Element, name: &str) -> Result<T, XmlError> {
    el.attr(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| src.xml(el, format!("invalid or missing '{name}' in <{}>", el.name)))
}

fn opt_num<T: std::str::FromStr>(
    src: Src,
    el: &Element,
    name: &str,
) -> Result<Option<T>, XmlError> {
    match el.attr(name) {
        None => Ok(None),
        Some(_) => num(src, el, name).map(Some),
    }
}

fn text_num<T: std::str::FromStr>(src: Src, el: &Element) -> Result<T, XmlError> {
    string_value(el)
        .trim()
        .parse()
        .map_err(|_| src.xml(el, format!("invalid number in <{}>", el.name)))
}

fn own(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_string)
}

impl Capabilities {
    /// Read a capabilities document (as `virsh capabilities` prints it).
    pub fn parse(xml: &str) -> Result<Capabilities, XmlError> {
        let root = parse_root(xml, "capabilities")?;
        let src = Src { text: xml };
        let mut caps = Capabilities::default();
        if let Some(h) = root.child("host") {
            caps.host = parse_host(src, h)?;
        }
        for g in root.children_named("guest") {
            caps.guests.push(parse_guest(src, g)?);
        }
        if let Some(p) = root.at_path("pool/enum") {
            caps.pool_types = p.children_named("value").map(string_value).collect();
        }
        Ok(caps)
    }

    /// virCapabilitiesFormatXML.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<capabilities>\n\n");
        let h = &self.host;
        if h.uuid.is_some() || h.arch.is_some() || !h.power_management.is_empty() || h.iommu {
            let mut w = XmlWriter::with_depth(1);
            format_host(&mut w, h);
            out.push_str(&w.finish());
            out.push('\n');
        }
        for g in &self.guests {
            let mut w = XmlWriter::with_depth(1);
            format_guest(&mut w, g);
            out.push_str(&w.finish());
            out.push('\n');
        }
        if !self.pool_types.is_empty() {
            let mut w = XmlWriter::with_depth(1);
            w.start("pool", &[]);
            w.start("enum", &[("name", "type")]);
            for t in &self.pool_types {
                w.text("value", &[], t);
            }
            w.end("enum");
            w.end("pool");
            out.push_str(&w.finish());
            out.push('\n');
        }
        out.push_str("</capabilities>\n");
        out
    }
}
