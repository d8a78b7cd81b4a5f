//! `<graphics>` (ports, autoport and listens the way a definition keeps them) and the video
//! defaults that depend on it.

use super::node::{canonical, Node};
use super::{err, DomainDef, FormatOptions};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

const GRAPHICS_TYPES: &[&str] = &[
    "sdl",
    "vnc",
    "rdp",
    "desktop",
    "spice",
    "egl-headless",
    "dbus",
];

/// Attribute order per type, as virDomainGraphicsDefFormat prints them.
fn attr_order(kind: &str) -> &'static [&'static str] {
    match kind {
        "vnc" => &[
            "type",
            "socket",
            "port",
            "websocket",
            "autoport",
            "listen",
            "keymap",
            "sharePolicy",
            "powerControl",
            "passwd",
            "passwdValidTo",
            "connected",
        ],
        "spice" => &[
            "type",
            "port",
            "tlsPort",
            "autoport",
            "listen",
            "keymap",
            "defaultMode",
            "passwd",
            "passwdValidTo",
            "connected",
        ],
        "rdp" => &[
            "type",
            "port",
            "autoport",
            "replaceUser",
            "multiUser",
            "listen",
        ],
        "sdl" => &["type", "display", "xauth", "fullscreen"],
        "desktop" => &["type", "display", "fullscreen"],
        "dbus" => &["type", "address", "p2p"],
        _ => &["type"],
    }
}

const CHILD_ORDER: &[&str] = &[
    "listen",
    "channel",
    "image",
    "jpeg",
    "zlib",
    "playback",
    "streaming",
    "mouse",
    "clipboard",
    "filetransfer",
    "gl",
    "audio",
];

fn port_of(el: &Element, attr: &str) -> Option<i64> {
    el.attr(attr).and_then(|p| p.trim().parse().ok())
}

pub fn parse(text: &str, el: &Element) -> Result<Node, XmlError> {
    let kind = super::enum_attr(text, el, "type", GRAPHICS_TYPES)?
        .ok_or_else(|| err::missing_attr("type", "graphics").at(text, el.offset))?
        .to_string();
    let mut n = Node::new("graphics");
    let order = attr_order(&kind);
    for a in order.iter().skip(1) {
        if let Some(v) = el.attr(a) {
            n.attrs.push((a.to_string(), v.to_string()));
        }
    }
    n.attrs.insert(0, ("type".into(), kind.clone()));
    // The password's expiry and policy mean nothing without a password.
    if n.attr("passwd").is_none() {
        n.remove_attr("passwdValidTo");
        n.remove_attr("connected");
    }

    // Listens: the children, or the legacy attributes.
    let mut listens: Vec<Node> = el
        .children_named("listen")
        .map(|l| {
            let mut ln = Node::raw(l);
            ln.children.clear();
            if ln.attr("type") == Some("network") {
                ln.remove_attr("address");
            }
            ln.order_attrs(&["type", "address", "network", "socket"]);
            ln
        })
        .collect();
    let socket = el.attr("socket").map(str::to_string);
    let listen_attr = el.attr("listen").map(str::to_string);
    n.remove_attr("socket");
    n.remove_attr("listen");

    let autoport_yes = el.attr("autoport") == Some("yes");
    match kind.as_str() {
        "vnc" | "spice" | "rdp" => {
            let port = port_of(el, "port");
            let auto = autoport_yes
                || port == Some(-1)
                || (kind == "rdp" && port.is_none())
                || (kind == "vnc" && port.is_none() && socket.is_none());
            let tls_port = if kind == "spice" {
                port_of(el, "tlsPort")
            } else {
                None
            };
            if listens.is_empty() {
                if kind == "vnc" && socket.is_some() {
                    let mut l = Node::with_attrs("listen", &[("type", "socket")]);
                    l.set_attr("socket", socket.as_deref().unwrap_or_default());
                    listens.push(l);
                } else if kind == "spice"
                    && listen_attr.is_none()
                    && port.unwrap_or(0) <= 0
                    && tls_port.unwrap_or(0) <= 0
                    && !auto
                {
                    listens.push(Node::with_attrs("listen", &[("type", "none")]));
                } else {
                    let mut l = Node::with_attrs("listen", &[("type", "address")]);
                    if let Some(a) = &listen_attr {
                        l.set_attr("address", a);
                    }
                    listens.push(l);
                }
            }
            n.remove_attr("port");
            n.remove_attr("tlsPort");
            n.remove_attr("autoport");
            let first = listens
                .first()
                .and_then(|l| l.attr("type"))
                .unwrap_or("address");
            if first == "address" || first == "network" {
                if kind == "rdp" {
                    let p = if auto { 0 } else { port.unwrap_or(0) };
                    n.set_attr("port", &p.to_string());
                } else if auto {
                    if kind == "vnc" {
                        n.set_attr("port", "-1");
                    }
                } else if let Some(p) = port.filter(|p| *p > 0) {
                    n.set_attr("port", &p.to_string());
                }
                if let Some(t) = tls_port.filter(|p| *p > 0 && !auto) {
                    n.set_attr("tlsPort", &t.to_string());
                }
                n.set_attr("autoport", if auto { "yes" } else { "no" });
            } else if first == "socket" {
                if let Some(s) = listens[0].attr("socket").map(str::to_string) {
                    n.set_attr("socket", &s);
                }
            }
            if let Some(addr) = listens
                .first()
                .filter(|l| l.attr("type") == Some("address"))
                .and_then(|l| l.attr("address"))
            {
                n.set_attr("listen", addr);
            }
            n.order_attrs(order);
        }
        _ => {}
    }
    n.children.extend(listens);
    for c in &el.children {
        if c.name != "listen" && CHILD_ORDER.contains(&c.name.as_str()) {
            n.children
                .push(canonical(&format!("graphics/{}", c.name), c));
        }
    }
    n.children.sort_by_key(|c| {
        CHILD_ORDER
            .iter()
            .position(|o| *o == c.name)
            .unwrap_or(CHILD_ORDER.len())
    });
    Ok(n)
}

pub fn format(g: &Node, opts: &FormatOptions, w: &mut XmlWriter) {
    if opts.secure || g.attr("passwd").is_none() {
        g.write(w);
    } else {
        let mut shown = g.clone();
        shown.remove_attr("passwd");
        shown.write(w);
    }
}

/// The default video model of a domain (virDomainVideoDefaultType), if it has one.
fn default_video_type(def: &DomainDef) -> Option<&'static str> {
    match def.virt_type.as_str() {
        "test" | "qemu" | "kqemu" | "kvm" | "xen" => {
            if def.os.os_type == "xen" || def.os.os_type == "linux" {
                Some("xen")
            } else if def
                .os
                .arch
                .as_deref()
                .is_some_and(|a| a.starts_with("ppc64"))
            {
                Some("vga")
            } else {
                Some("cirrus")
            }
        }
        "vbox" => Some("vbox"),
        "vmware" => Some("vmvga"),
        "phyp" => Some("vga"),
        "vz" | "parallels" => Some(if def.os.os_type == "hvm" {
            "vga"
        } else {
            "parallels"
        }),
        "bhyve" => Some("gop"),
        _ => None,
    }
}

/// virDomainVideoDefaultRAM.
fn default_vram(def: &DomainDef, model: &str) -> u64 {
    match model {
        "vga" | "cirrus" | "vmvga" => match def.virt_type.as_str() {
            "vbox" => 8 * 1024,
            "vmware" => 4 * 1024,
            _ => 16 * 1024,
        },
        "bochs" => 16 * 1024,
        "xen" => 4 * 1024,
        "qxl" => 64 * 1024,
        _ => 0,
    }
}

/// A graphical console implies a video card; each card gets libvirt's default model, memory
/// and head count, and the first is the primary one.
pub fn video_defaults(def: &mut DomainDef) -> Result<(), XmlError> {
    if !def.devices.graphics.is_empty()
        && def.devices.videos.is_empty()
        && default_video_type(def).is_some()
    {
        def.devices.videos.push(Node::new("video"));
    }
    let default_type = default_video_type(def).unwrap_or("default");
    let count = def.devices.videos.len();
    let mut vrams = Vec::new();
    for v in &def.devices.videos {
        let t = v
            .child("model")
            .and_then(|m| m.attr("type"))
            .unwrap_or(default_type)
            .to_string();
        vrams.push(default_vram(def, &t));
    }
    let any_primary = def
        .devices
        .videos
        .iter()
        .any(|v| v.child("model").and_then(|m| m.attr("primary")) == Some("yes"));
    for (i, v) in def.devices.videos.iter_mut().enumerate() {
        if v.child("model").is_none() {
            let pos = v
                .children
                .iter()
                .position(|c| c.name == "driver")
                .map_or(0, |p| p + 1);
            v.children.insert(pos, Node::new("model"));
        }
        let Some(m) = v.child_mut("model") else {
            continue;
        };
        if m.attr("type").is_none() {
            m.set_attr("type", default_type);
        }
        let t = m.attr("type").unwrap_or_default().to_string();
        if t == "none" {
            if count > 1 {
                return Err(err::unsupported(
                    "a 'none' video type must be the only video device defined for the domain",
                ));
            }
            continue;
        }
        if t == "qxl" && m.attr("ram").is_none() {
            m.set_attr("ram", "65536");
        }
        if m.attr("vram").is_none() && vrams[i] > 0 {
            m.set_attr("vram", &vrams[i].to_string());
        }
        if m.attr("heads").is_none() {
            m.set_attr("heads", "1");
        }
        if i == 0 && !any_primary {
            m.set_attr("primary", "yes");
        }
        m.order_attrs(&[
            "type", "ram", "vram", "vram64", "vgamem", "heads", "primary",
        ]);
    }
    Ok(())
}
