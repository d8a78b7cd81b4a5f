//! `<controller>`: index defaults, libvirt's ordering, and the controllers it adds for the
//! drive addresses and devices that need one.

use super::devices::{parse_info, DeviceInfo, Devices};
use super::err;
use super::node::{canonical, Node};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

/// `<controller>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Controller {
    /// ide, fdc, scsi, sata, virtio-serial, ccid, usb, pci, xenbus, isa.
    pub controller_type: String,
    pub index: u32,
    pub model: Option<String>,
    /// The other attributes (ports, vectors, ...) and children (driver, target, ...).
    pub extra: Node,
    pub info: DeviceInfo,
}

const CONTROLLER_TYPES: &[&str] = &[
    "ide",
    "fdc",
    "scsi",
    "sata",
    "virtio-serial",
    "ccid",
    "usb",
    "pci",
    "xenbus",
    "isa",
];

pub fn parse(text: &str, el: &Element, existing: &[Controller]) -> Result<Controller, XmlError> {
    let t = super::enum_attr(text, el, "type", CONTROLLER_TYPES)?
        .unwrap_or("ide")
        .to_string();
    let index = match el.attr("index") {
        Some(v) => super::units::parse_u64_strict(v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                err::internal(format!("Cannot parse controller index {v}")).at(text, el.offset)
            })?,
        // A USB companion controller shares the index of the controller it belongs to.
        None if el.child("master").is_some() => existing
            .iter()
            .filter(|c| c.controller_type == t && c.info.extra.iter().all(|x| x.name != "master"))
            .map(|c| c.index)
            .next_back()
            .unwrap_or(0),
        None => (0..)
            .find(|i| {
                !existing
                    .iter()
                    .any(|c| c.controller_type == t && c.index == *i)
            })
            .unwrap_or(0),
    };
    let mut extra = canonical("controller", el);
    for a in ["type", "index", "model"] {
        extra.remove_attr(a);
    }
    extra
        .children
        .retain(|c| !["alias", "address", "master"].contains(&c.name.as_str()));
    Ok(Controller {
        controller_type: t,
        index,
        model: el.attr("model").map(str::to_string),
        extra,
        info: parse_info(text, el, false, false)?,
    })
}

/// virDomainControllerInsertPreAlloced: keep controllers of one type sorted by index.
pub fn insert(list: &mut Vec<Controller>, c: Controller) {
    let mut insert_at: Option<usize> = None;
    for (i, cur) in list.iter().enumerate().rev() {
        if cur.controller_type != c.controller_type {
            continue;
        }
        if cur.index > c.index {
            insert_at = Some(i);
        } else {
            insert_at = Some(i + 1);
            break;
        }
    }
    match insert_at {
        Some(i) => list.insert(i, c),
        None => list.push(c),
    }
}

pub fn format(c: &Controller, w: &mut XmlWriter) {
    let idx = c.index.to_string();
    let mut attrs = vec![
        ("type", c.controller_type.as_str()),
        ("index", idx.as_str()),
    ];
    if let Some(m) = &c.model {
        attrs.push(("model", m.as_str()));
    }
    for (k, v) in &c.extra.attrs {
        attrs.push((k.as_str(), v.as_str()));
    }
    let info_empty = c.info == DeviceInfo::default();
    if c.extra.children.is_empty() && info_empty {
        w.empty("controller", &attrs);
        return;
    }
    w.start("controller", &attrs);
    for ch in &c.extra.children {
        ch.write(w);
    }
    c.info.write(w);
    w.end("controller");
}

/// virDomainDefAddImplicitControllers: a controller for every index that a drive address or a
/// device needs, appended after the ones the XML lists.
pub fn add_implicit(d: &mut Devices) {
    for (ctype, bus) in [
        ("scsi", "scsi"),
        ("fdc", "fdc"),
        ("ide", "ide"),
        ("sata", "sata"),
    ] {
        let max = d
            .disks
            .iter()
            .filter(|x| x.bus() == bus)
            .filter_map(|x| x.info.address.as_ref())
            .filter(|a| a.attr("type") == Some("drive"))
            .filter_map(|a| a.attr("controller").and_then(|c| c.parse::<u32>().ok()))
            .max();
        if let Some(max) = max {
            for idx in 0..=max {
                add_controller(d, ctype, idx);
            }
        }
    }
    let virtio_serial = d
        .channels
        .iter()
        .any(|c| c.target_type.as_deref() == Some("virtio"))
        || d.consoles
            .iter()
            .any(|c| c.target_type.as_deref() == Some("virtio"));
    if virtio_serial {
        add_controller(d, "virtio-serial", 0);
    }
    if !d.smartcards.is_empty() {
        add_controller(d, "ccid", 0);
    }
}

fn add_controller(d: &mut Devices, ctype: &str, index: u32) {
    if !d
        .controllers
        .iter()
        .any(|c| c.controller_type == ctype && c.index == index)
    {
        d.controllers.push(Controller {
            controller_type: ctype.to_string(),
            index,
            model: None,
            extra: Node::new("controller"),
            info: DeviceInfo::default(),
        });
    }
}
