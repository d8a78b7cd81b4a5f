//! Character devices: `<serial>`, `<parallel>`, `<console>`, `<channel>`, with libvirt's
//! console/serial aliasing (virDomainDefAddConsoleCompat).

use super::devices::{parse_info, DeviceInfo, Devices};
use super::err;
use super::node::Node;
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

const CHR_TYPES: &[&str] = &[
    "null",
    "vc",
    "pty",
    "dev",
    "file",
    "pipe",
    "stdio",
    "udp",
    "tcp",
    "unix",
    "spicevmc",
    "spiceport",
    "nmdm",
    "qemu-vdagent",
    "dbus",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chr {
    /// serial, parallel, console, channel.
    pub device: String,
    /// pty, file, unix, tcp, udp, dev, pipe, stdio, null, vc, spicevmc, ...
    pub chr_type: String,
    /// The `<source>` elements (two for udp), canonical.
    pub sources: Vec<Node>,
    /// `<protocol type=...>` of tcp devices.
    pub protocol: Option<String>,
    pub log: Option<Node>,
    /// `<target type=...>`: isa-serial, serial, virtio, guestfwd, ...; `None` when unset.
    pub target_type: Option<String>,
    pub target_port: Option<u32>,
    /// The other target attributes (name, address, port of guestfwd) and children (model).
    pub target_extra: Node,
    pub info: DeviceInfo,
}

impl Chr {
    /// The host side path (pty, file, unix socket, device), if the definition has one.
    pub fn source_path(&self) -> Option<&str> {
        self.sources.iter().find_map(|s| s.attr("path"))
    }
}

/// `live`: keep a pty's path (see [`super::ParseOptions::live`]).
pub fn parse(text: &str, el: &Element, live: bool) -> Result<Chr, XmlError> {
    let device = el.name.clone();
    let chr_type = match el.attr("type") {
        None => "pty".to_string(),
        Some(t) if CHR_TYPES.contains(&t) => t.to_string(),
        Some(t) => {
            return Err(err::xml(format!(
                "unknown type presented to host for character device: {t}"
            ))
            .at(text, el.offset))
        }
    };
    let mut c = Chr {
        device,
        chr_type,
        ..Default::default()
    };
    for s in el.children_named("source") {
        let mut n = Node::raw(s);
        // A pty's path is chosen when the guest starts; a definition does not keep it.
        if c.chr_type == "pty" && !live {
            n.remove_attr("path");
        }
        if matches!(c.chr_type.as_str(), "unix" | "tcp") && n.attr("mode").is_none() {
            n.set_attr("mode", "connect");
        }
        n.order_attrs(&[
            "mode", "host", "service", "path", "append", "channel", "master", "slave", "tls",
        ]);
        // Path-based sources without a path say nothing libvirt keeps.
        let path_based = matches!(c.chr_type.as_str(), "unix" | "file" | "dev" | "pipe");
        let keep = if path_based {
            n.attr("path").is_some()
        } else {
            !n.attrs.is_empty() || !n.children.is_empty()
        };
        if keep {
            c.sources.push(n);
        }
        if c.chr_type != "udp" {
            break;
        }
    }
    if c.chr_type == "tcp" {
        c.protocol = Some(
            el.child("protocol")
                .and_then(|p| p.attr("type"))
                .unwrap_or("raw")
                .to_string(),
        );
    }
    c.log = el.child("log").map(|l| {
        let mut n = Node::raw(l);
        n.order_attrs(&["file", "append"]);
        n
    });
    let mut extra = Node::new("target");
    if let Some(t) = el.child("target") {
        c.target_type = t.attr("type").map(str::to_string);
        if c.device != "channel" || c.target_type.as_deref() != Some("guestfwd") {
            if let Some(p) = t.attr("port") {
                c.target_port = Some(
                    super::units::parse_u64_strict(p)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            err::xml(format!("Invalid port number: {p}")).at(text, t.offset)
                        })?,
                );
            }
        }
        for a in ["name", "address", "port", "state"] {
            if a == "port" && c.target_type.as_deref() != Some("guestfwd") {
                continue;
            }
            if a == "state" {
                continue;
            }
            if let Some(v) = t.attr(a) {
                extra.attrs.push((a.to_string(), v.to_string()));
            }
        }
        extra.children = t.children_named("model").map(Node::raw).collect();
    }
    c.target_extra = extra;
    c.info = parse_info(text, el, false, false)?;
    Ok(c)
}

/// The first console of an HVM guest is an alias of the first serial port; libvirt creates
/// whichever of the two is missing.
pub fn console_compat(d: &mut Devices, is_hvm: bool) -> Result<(), XmlError> {
    if d.consoles
        .iter()
        .skip(1)
        .any(|c| c.target_type.as_deref() == Some("serial"))
    {
        return Err(err::unsupported(
            "Only the first console can be a serial port",
        ));
    }
    let first_is_serial = d
        .consoles
        .first()
        .is_some_and(|c| matches!(c.target_type.as_deref(), None | Some("serial")));
    if is_hvm && first_is_serial {
        if d.serials.is_empty() {
            let mut s = d.consoles[0].clone();
            s.device = "serial".into();
            s.target_type = None;
            s.target_port = Some(0);
            d.serials.push(s);
        }
        // The console is printed as a copy of the serial port; only its target type matters.
        d.consoles[0].target_type = Some("serial".into());
    } else if is_hvm && !d.serials.is_empty() {
        d.consoles.insert(
            0,
            Chr {
                device: "console".into(),
                chr_type: "pty".into(),
                target_type: Some("serial".into()),
                ..Default::default()
            },
        );
    }
    Ok(())
}

/// Serial and parallel ports without a number get the next one.
pub fn assign_ports(d: &mut Devices) {
    for list in [&mut d.serials, &mut d.parallels] {
        let mut max: i64 = -1;
        for c in list.iter_mut() {
            match c.target_port {
                Some(p) => max = max.max(p as i64),
                None => {
                    c.target_port = Some((max + 1) as u32);
                    max += 1;
                }
            }
        }
    }
}

/// Consoles are numbered by their position in the XML, before the compatibility stub.
pub fn number_consoles(d: &mut Devices) {
    for (i, c) in d.consoles.iter_mut().enumerate() {
        c.target_port = Some(i as u32);
    }
}

/// `inactive`: `--inactive` output, which never shows a pty's `tty` (see [`format`]).
pub fn format_consoles(d: &Devices, is_hvm: bool, inactive: bool, w: &mut XmlWriter) {
    for (i, c) in d.consoles.iter().enumerate() {
        let alias_of_serial = is_hvm
            && matches!(c.target_type.as_deref(), None | Some("serial"))
            && i < d.serials.len();
        if alias_of_serial {
            let mut copy = d.serials[i].clone();
            copy.device = "console".into();
            copy.target_type = Some("serial".into());
            copy.target_extra.children.clear();
            format(&copy, inactive, w);
        } else {
            format(c, inactive, w);
        }
    }
}

/// `inactive`: `--inactive` output. Otherwise the first console of type pty with a known path
/// also gets the legacy `tty='PATH'` attribute (virDomainChrDefFormat's `tty_compat`: console,
/// port 0, pty, path set, not inactive), which `virsh ttyconsole` reads.
pub fn format(c: &Chr, inactive: bool, w: &mut XmlWriter) {
    let tty = (c.device == "console"
        && c.target_port.unwrap_or(0) == 0
        && c.chr_type == "pty"
        && !inactive)
        .then(|| c.source_path())
        .flatten();
    match tty {
        Some(path) => w.start(&c.device, &[("type", &c.chr_type), ("tty", path)]),
        None => w.start(&c.device, &[("type", &c.chr_type)]),
    }
    for s in &c.sources {
        s.write(w);
    }
    if let Some(p) = &c.protocol {
        w.empty("protocol", &[("type", p)]);
    }
    if let Some(l) = &c.log {
        l.write(w);
    }
    let mut t = Node::new("target");
    let port = c.target_port.map(|p| p.to_string());
    match c.device.as_str() {
        "channel" => {
            if let Some(tt) = &c.target_type {
                t.attrs.push(("type".into(), tt.clone()));
            }
            t.attrs.extend(c.target_extra.attrs.iter().cloned());
        }
        "console" => {
            let tt = c.target_type.clone().unwrap_or_else(|| "serial".into());
            t.attrs.push(("type".into(), tt));
            t.attrs
                .push(("port".into(), port.unwrap_or_else(|| "0".into())));
        }
        _ => {
            if let Some(tt) = &c.target_type {
                t.attrs.push(("type".into(), tt.clone()));
            }
            t.attrs
                .push(("port".into(), port.unwrap_or_else(|| "0".into())));
        }
    }
    t.children = c.target_extra.children.clone();
    t.write(w);
    c.info.write(w);
    w.end(&c.device);
}
