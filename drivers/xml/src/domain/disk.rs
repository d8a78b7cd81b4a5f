//! `<disk>`: parse, defaults (bus from the target name, readonly CD-ROMs, drive addresses) and
//! format in virDomainDiskDefFormat's order.

use super::devices::{parse_info, DeviceInfo};
use super::node::{canonical, Node};
use super::{enum_attr, err};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

const DISK_TYPES: &[&str] = &[
    "file",
    "block",
    "dir",
    "network",
    "volume",
    "nvme",
    "vhostuser",
];
const DISK_DEVICES: &[&str] = &["disk", "cdrom", "floppy", "lun"];
const DISK_BUSES: &[&str] = &[
    "ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disk {
    /// file, block, dir, network, volume, nvme, vhostuser.
    pub disk_type: String,
    /// disk, cdrom, floppy, lun.
    pub device: String,
    /// What `virsh domblklist` shows: the file, device, directory, network name or volume.
    /// `None` for an empty CD-ROM.
    pub source: Option<String>,
    /// The pool of a `volume` disk.
    pub source_pool: Option<String>,
    /// The network protocol of a `network` disk (rbd, nbd, iscsi, ...).
    pub source_protocol: Option<String>,
    /// The rest of `<source>` (startupPolicy, hosts, seclabels, ...), canonical.
    pub source_extra: Node,
    pub target_dev: String,
    pub target_bus: Option<String>,
    /// `tray`, `removable`, `rotation_rate` on `<target>`.
    pub target_extra: Vec<(String, String)>,
    pub driver_name: Option<String>,
    pub driver_type: Option<String>,
    /// The other `<driver>` attributes (cache, io, discard, ...) and children.
    pub driver_extra: Node,
    pub readonly: bool,
    pub shareable: bool,
    pub transient: bool,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    /// `model`, `rawio`, `sgio`, `snapshot` on `<disk>`.
    pub attrs_extra: Vec<(String, String)>,
    /// auth, backingStore, geometry, blockio, iotune, encryption, ... kept canonical.
    pub extra: Vec<Node>,
    pub info: DeviceInfo,
}

/// Where each kept child goes, in virDomainDiskDefFormat's order.
const ORDER: &[&str] = &[
    "driver",
    "auth",
    "source",
    "backingStore",
    "backenddomain",
    "geometry",
    "blockio",
    "mirror",
    "target",
    "iotune",
    "readonly",
    "shareable",
    "transient",
    "serial",
    "wwn",
    "vendor",
    "product",
    "encryption",
];

impl Disk {
    /// The source attribute that holds [`Disk::source`] for this disk type.
    fn source_attr(&self) -> &'static str {
        match self.disk_type.as_str() {
            "block" => "dev",
            "dir" => "dir",
            "network" => "name",
            "volume" => "volume",
            "vhostuser" => "path",
            _ => "file",
        }
    }

    /// The bus libvirt infers from the target name (virDomainDiskDefParseXML).
    pub fn default_bus(device: &str, dev: &str) -> &'static str {
        if device == "floppy" {
            "fdc"
        } else if dev.starts_with("hd") {
            "ide"
        } else if dev.starts_with("sd") {
            "scsi"
        } else if dev.starts_with("vd") {
            "virtio"
        } else if dev.starts_with("xvd") {
            "xen"
        } else if dev.starts_with("ubd") {
            "uml"
        } else {
            "ide"
        }
    }

    pub fn bus(&self) -> &str {
        self.target_bus.as_deref().unwrap_or("ide")
    }
}

/// virDiskNameToIndex: `vda` is 0, `sdz` 25, `hdaa` 26. Partition numbers are refused.
pub fn disk_name_to_index(name: &str) -> Option<usize> {
    let rest = ["fd", "hd", "vd", "sd", "xvd", "ubd"]
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut idx: usize = 0;
    for (i, b) in rest.bytes().enumerate() {
        let v = (b - b'a') as usize;
        idx = if i == 0 {
            v
        } else {
            (idx + 1).checked_mul(26)?.checked_add(v)?
        };
    }
    Some(idx)
}

pub fn parse(text: &str, el: &Element, is_hvm: bool) -> Result<Disk, XmlError> {
    let at = |e: XmlError, el: &Element| e.at(text, el.offset);
    let disk_type = enum_attr(text, el, "type", DISK_TYPES)?
        .unwrap_or("file")
        .to_string();
    let device = enum_attr(text, el, "device", DISK_DEVICES)?
        .unwrap_or("disk")
        .to_string();
    let mut d = Disk {
        disk_type,
        device,
        ..Default::default()
    };
    for a in ["model", "rawio", "sgio", "snapshot"] {
        if let Some(v) = el.attr(a) {
            d.attrs_extra.push((a.to_string(), v.to_string()));
        }
    }

    if let Some(src) = el.child("source") {
        let main = d.source_attr();
        d.source = src.attr(main).filter(|s| !s.is_empty()).map(str::to_string);
        d.source_pool = src.attr("pool").map(str::to_string);
        d.source_protocol = src.attr("protocol").map(str::to_string);
        let mut extra = Node::new("source");
        for a in ["mode", "tls", "startupPolicy"] {
            if let Some(v) = src.attr(a) {
                extra.attrs.push((a.to_string(), v.to_string()));
            }
        }
        for c in &src.children {
            match c.name.as_str() {
                "host" => {
                    let mut h = Node::raw(c);
                    h.order_attrs(&["transport", "name", "port", "socket"]);
                    extra.children.push(h);
                }
                "snapshot" | "config" | "auth" | "encryption" | "reservations" | "initiator"
                | "cookies" | "ssl" | "readahead" | "timeout" | "seclabel" | "reconnect"
                | "slices" | "address" | "identity" | "dataStore" | "nfs" => {
                    extra.children.push(Node::raw(c))
                }
                _ => {}
            }
        }
        d.source_extra = extra;
    }

    let Some(target) = el.child("target").filter(|t| t.attr("dev").is_some()) else {
        let what = d.source.clone().unwrap_or_else(|| "<null>".into());
        return Err(at(
            err::plain(format!("missing target information for device {what}")),
            el,
        ));
    };
    d.target_dev = target.attr("dev").unwrap_or_default().to_string();
    let bus = enum_attr(text, target, "bus", DISK_BUSES)?
        .unwrap_or_else(|| Disk::default_bus(&d.device, &d.target_dev));
    d.target_bus = Some(bus.to_string());
    for a in ["tray", "removable", "rotation_rate"] {
        if let Some(v) = target.attr(a) {
            d.target_extra.push((a.to_string(), v.to_string()));
        }
    }

    if let Some(drv) = el.child("driver") {
        d.driver_name = drv.attr("name").map(str::to_string);
        d.driver_type = drv.attr("type").map(str::to_string);
        let mut n = canonical("disk/driver", drv);
        n.remove_attr("name");
        n.remove_attr("type");
        d.driver_extra = n;
    } else {
        d.driver_extra = Node::new("driver");
    }
    d.readonly = el.child("readonly").is_some() || d.device == "cdrom";
    d.shareable = el.child("shareable").is_some();
    d.transient = el.child("transient").is_some();
    // Text as written, absent when empty (virXPathString).
    let txt = |n: &str| {
        el.child(n)
            .map(|e| e.text.clone())
            .filter(|t| !t.is_empty())
    };
    d.serial = txt("serial");
    d.wwn = txt("wwn");
    d.vendor = txt("vendor");
    d.product = txt("product");
    for c in &el.children {
        let key = format!("disk/{}", c.name);
        match c.name.as_str() {
            "auth" | "geometry" | "blockio" | "iotune" | "encryption" => {
                d.extra.push(canonical(&key, c))
            }
            "backingStore" | "backenddomain" | "mirror" => d.extra.push(Node::raw(c)),
            _ => {}
        }
    }
    d.info = parse_info(text, el, true, false)?;
    let _ = is_hvm;
    Ok(d)
}

/// virDomainDiskDefAssignAddress: a drive address from the target name, for the buses whose
/// controllers have numbered units. `vmpvscsi` is whether SCSI controller 0 is a VMware PV one.
pub fn assign_address(
    text: &str,
    el: Option<&Element>,
    d: &mut Disk,
    vmpvscsi: bool,
) -> Result<(), XmlError> {
    if d.info.address.is_some() {
        return Ok(());
    }
    let bus = d.bus().to_string();
    if !["scsi", "ide", "fdc", "sata"].contains(&bus.as_str()) {
        return Ok(());
    }
    let Some(idx) = disk_name_to_index(&d.target_dev) else {
        let e = err::xml(format!(
            "Unknown disk name '{}' and no address specified",
            d.target_dev
        ));
        return Err(match el {
            Some(el) => e.at(text, el.offset),
            None => e,
        });
    };
    let (controller, bus_no, unit) = match bus.as_str() {
        "scsi" if vmpvscsi => {
            let unit = idx % 15;
            (idx / 15, 0, if unit >= 7 { unit + 1 } else { unit })
        }
        "scsi" => (idx / 7, 0, idx % 7),
        "ide" => (idx / 4, (idx % 4) / 2, idx % 2),
        "fdc" => (idx / 2, 0, idx % 2),
        _ => (idx / 6, 0, idx % 6),
    };
    d.info.address = Some(Node::with_attrs(
        "address",
        &[
            ("type", "drive"),
            ("controller", &controller.to_string()),
            ("bus", &bus_no.to_string()),
            ("target", "0"),
            ("unit", &unit.to_string()),
        ],
    ));
    Ok(())
}

pub fn format(d: &Disk, w: &mut XmlWriter) {
    let mut attrs = vec![
        ("type", d.disk_type.as_str()),
        ("device", d.device.as_str()),
    ];
    for (k, v) in &d.attrs_extra {
        attrs.push((k.as_str(), v.as_str()));
    }
    w.start("disk", &attrs);
    let mut parts: Vec<Node> = Vec::new();

    let mut driver = Node::new("driver");
    if let Some(n) = &d.driver_name {
        driver.attrs.push(("name".into(), n.clone()));
    }
    if let Some(t) = &d.driver_type {
        driver.attrs.push(("type".into(), t.clone()));
    }
    driver.attrs.extend(d.driver_extra.attrs.iter().cloned());
    driver.children = d.driver_extra.children.clone();
    if !driver.attrs.is_empty() || !driver.children.is_empty() {
        parts.push(driver);
    }

    let mut source = Node::new("source");
    match d.disk_type.as_str() {
        "network" => {
            if let Some(p) = &d.source_protocol {
                source.attrs.push(("protocol".into(), p.clone()));
            }
            if let Some(s) = &d.source {
                source.attrs.push(("name".into(), s.clone()));
            }
        }
        "volume" => {
            if let Some(p) = &d.source_pool {
                source.attrs.push(("pool".into(), p.clone()));
            }
            if let Some(s) = &d.source {
                source.attrs.push(("volume".into(), s.clone()));
            }
        }
        _ => {
            if let Some(s) = &d.source {
                source.attrs.push((d.source_attr().into(), s.clone()));
            }
        }
    }
    source.attrs.extend(d.source_extra.attrs.iter().cloned());
    source.children = d.source_extra.children.clone();
    if !source.attrs.is_empty() || !source.children.is_empty() {
        parts.push(source);
    }

    let mut target = Node::with_attrs("target", &[("dev", &d.target_dev)]);
    if let Some(b) = &d.target_bus {
        target.attrs.push(("bus".into(), b.clone()));
    }
    target.attrs.extend(d.target_extra.iter().cloned());
    parts.push(target);
    for (flag, name) in [
        (d.readonly, "readonly"),
        (d.shareable, "shareable"),
        (d.transient, "transient"),
    ] {
        if flag {
            parts.push(Node::new(name));
        }
    }
    for (v, name) in [
        (&d.serial, "serial"),
        (&d.wwn, "wwn"),
        (&d.vendor, "vendor"),
        (&d.product, "product"),
    ] {
        if let Some(v) = v {
            let mut n = Node::new(name);
            n.text = Some(v.clone());
            parts.push(n);
        }
    }
    parts.extend(d.extra.iter().cloned());
    parts.sort_by_key(|n| {
        ORDER
            .iter()
            .position(|o| *o == n.name)
            .unwrap_or(ORDER.len())
    });
    for p in &parts {
        p.write(w);
    }
    d.info.write(w);
    w.end("disk");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_names_index_like_libvirt() {
        assert_eq!(disk_name_to_index("vda"), Some(0));
        assert_eq!(disk_name_to_index("sdz"), Some(25));
        assert_eq!(disk_name_to_index("hdaa"), Some(26));
        assert_eq!(disk_name_to_index("xvdb"), Some(1));
        assert_eq!(disk_name_to_index("sda1"), None);
        assert_eq!(disk_name_to_index("xyz"), None);
    }
}
