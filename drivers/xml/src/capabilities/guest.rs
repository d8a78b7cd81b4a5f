//! The `<guest>` sections of the capabilities: one per OS type and architecture, with its
//! machines, domain types (emulator, loader) and features.

use super::{opt_num, own, text_num};
use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{attrs, string_value, Src};
use crate::writer::XmlWriter;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestCaps {
    /// "hvm", "xen", "xenpvh", "exe", ...
    pub os_type: String,
    pub arch: GuestArch,
    pub features: Vec<GuestFeature>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestArch {
    pub name: String,
    pub wordsize: u32,
    pub emulator: Option<String>,
    pub loader: Option<String>,
    pub machines: Vec<Machine>,
    pub domains: Vec<GuestDomain>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    pub canonical: Option<String>,
    pub max_cpus: Option<u32>,
    pub deprecated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestDomain {
    /// "qemu", "kvm", "xen", "lxc", "test", ...
    pub domain_type: String,
    pub emulator: Option<String>,
    pub loader: Option<String>,
    pub machines: Vec<Machine>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestFeature {
    pub name: String,
    /// "on"/"off"
    pub default: Option<String>,
    /// "yes"/"no"
    pub toggle: Option<String>,
}

fn parse_machine(src: Src, m: &Element) -> Result<Machine, XmlError> {
    Ok(Machine {
        name: string_value(m),
        canonical: own(m, "canonical"),
        max_cpus: opt_num(src, m, "maxCpus")?,
        deprecated: m.attr("deprecated") == Some("yes"),
    })
}

pub(super) fn parse_guest(src: Src, g: &Element) -> Result<GuestCaps, XmlError> {
    let mut guest = GuestCaps {
        os_type: g.child("os_type").map(string_value).unwrap_or_default(),
        ..Default::default()
    };
    if let Some(a) = g.child("arch") {
        guest.arch.name = own(a, "name").unwrap_or_default();
        if let Some(w) = a.child("wordsize") {
            guest.arch.wordsize = text_num(src, w)?;
        }
        guest.arch.emulator = a.child("emulator").map(string_value);
        guest.arch.loader = a.child("loader").map(string_value);
        for m in a.children_named("machine") {
            guest.arch.machines.push(parse_machine(src, m)?);
        }
        for d in a.children_named("domain") {
            let mut dom = GuestDomain {
                domain_type: own(d, "type").unwrap_or_default(),
                emulator: d.child("emulator").map(string_value),
                loader: d.child("loader").map(string_value),
                machines: Vec::new(),
            };
            for m in d.children_named("machine") {
                dom.machines.push(parse_machine(src, m)?);
            }
            guest.arch.domains.push(dom);
        }
    }
    if let Some(f) = g.child("features") {
        for c in &f.children {
            guest.features.push(GuestFeature {
                name: c.name.clone(),
                default: own(c, "default"),
                toggle: own(c, "toggle"),
            });
        }
    }
    Ok(guest)
}

fn format_machine(w: &mut XmlWriter, m: &Machine, with_deprecated: bool) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &m.canonical {
        a.push(("canonical", c.clone()));
    }
    if let Some(c) = m.max_cpus.filter(|c| *c > 0) {
        a.push(("maxCpus", c.to_string()));
    }
    if with_deprecated && m.deprecated {
        a.push(("deprecated", "yes".into()));
    }
    w.text("machine", &attrs(&a), &m.name);
}

pub(super) fn format_guest(w: &mut XmlWriter, g: &GuestCaps) {
    w.start("guest", &[]);
    w.text("os_type", &[], &g.os_type);
    w.start("arch", &[("name", &g.arch.name)]);
    w.text("wordsize", &[], &g.arch.wordsize.to_string());
    if let Some(e) = &g.arch.emulator {
        w.text("emulator", &[], e);
    }
    if let Some(l) = &g.arch.loader {
        w.text("loader", &[], l);
    }
    for m in &g.arch.machines {
        format_machine(w, m, true);
    }
    for d in &g.arch.domains {
        if d.emulator.is_none() && d.loader.is_none() && d.machines.is_empty() {
            w.empty("domain", &[("type", &d.domain_type)]);
            continue;
        }
        w.start("domain", &[("type", &d.domain_type)]);
        if let Some(e) = &d.emulator {
            w.text("emulator", &[], e);
        }
        if let Some(l) = &d.loader {
            w.text("loader", &[], l);
        }
        for m in &d.machines {
            format_machine(w, m, false);
        }
        w.end("domain");
    }
    w.end("arch");
    if !g.features.is_empty() {
        w.start("features", &[]);
        for f in &g.features {
            let mut a: Vec<(&str, String)> = Vec::new();
            if let Some(d) = &f.default {
                a.push(("default", d.clone()));
            }
            if let Some(t) = &f.toggle {
                a.push(("toggle", t.clone()));
            }
            w.empty(&f.name, &attrs(&a));
        }
        w.end("features");
    }
    w.end("guest");
}
