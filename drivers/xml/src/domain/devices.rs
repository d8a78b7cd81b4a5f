//! `<devices>`: the device lists, the information every device shares (boot order, alias,
//! address), controllers, and the devices kept generically. Disks, interfaces, character
//! devices and graphics have modules of their own.

use super::chr::{self, Chr};
use super::controller::{self, Controller};
use super::disk::{self, Disk};
use super::graphics;
use super::hostdev;
use super::net::{self, NetInterface};
use super::node::{canonical, Node};
use super::os::OsDef;
use super::{err, DomainDef, FormatOptions};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices {
    pub emulator: Option<String>,
    pub disks: Vec<Disk>,
    pub controllers: Vec<Controller>,
    pub leases: Vec<Node>,
    pub filesystems: Vec<Node>,
    pub interfaces: Vec<NetInterface>,
    pub smartcards: Vec<Node>,
    pub serials: Vec<Chr>,
    pub parallels: Vec<Chr>,
    pub consoles: Vec<Chr>,
    pub channels: Vec<Chr>,
    pub inputs: Vec<Node>,
    pub tpms: Vec<Node>,
    pub graphics: Vec<Node>,
    pub sounds: Vec<Node>,
    pub audios: Vec<Node>,
    pub videos: Vec<Node>,
    pub hostdevs: Vec<Node>,
    pub redirdevs: Vec<Node>,
    pub redirfilters: Vec<Node>,
    pub hubs: Vec<Node>,
    pub watchdogs: Vec<Node>,
    pub memballoon: Option<Node>,
    pub rngs: Vec<Node>,
    pub nvram: Option<Node>,
    pub panics: Vec<Node>,
    pub shmems: Vec<Node>,
    pub memories: Vec<Node>,
    pub iommu: Option<Node>,
    pub vsock: Option<Node>,
    pub cryptos: Vec<Node>,
}

impl Devices {
    /// The disk whose target is `dev` (`vda`) or whose source is `dev` (a path).
    pub fn find_disk(&self, dev: &str) -> Option<&Disk> {
        self.disks
            .iter()
            .find(|d| d.target_dev == dev)
            .or_else(|| self.disks.iter().find(|d| d.source.as_deref() == Some(dev)))
    }

    /// Add a disk where libvirt's attach puts it (virDomainDiskInsert): after the last disk of
    /// the same bus, before the first one of that bus with a higher target index.
    pub fn insert_disk(&mut self, d: Disk) {
        let idx_of = |x: &Disk| disk::disk_name_to_index(&x.target_dev);
        let mut insert_at: Option<usize> = None;
        for (i, cur) in self.disks.iter().enumerate().rev() {
            if cur.bus() != d.bus() {
                continue;
            }
            if idx_of(cur) > idx_of(&d) {
                insert_at = Some(i);
            } else if insert_at.is_none() {
                insert_at = Some(i + 1);
            }
        }
        match insert_at {
            Some(i) => self.disks.insert(i, d),
            None => self.disks.push(d),
        }
    }

    /// The first graphics device of `kind` (vnc, spice, ...).
    pub fn graphics_of(&self, kind: &str) -> Option<&Node> {
        self.graphics.iter().find(|g| g.attr("type") == Some(kind))
    }
}

/// What libvirt's virDomainDeviceInfo holds for the inactive XML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// `<boot order='N'>`.
    pub boot_order: Option<u32>,
    pub boot_loadparm: Option<String>,
    /// User aliases (`ua-...`); libvirt drops the others from a definition.
    pub alias: Option<String>,
    /// master, rom, acpi.
    pub extra: Vec<Node>,
    pub address: Option<Node>,
}

impl DeviceInfo {
    pub fn write(&self, w: &mut XmlWriter) {
        if let Some(o) = self.boot_order {
            let o = o.to_string();
            let mut a = vec![("order", o.as_str())];
            if let Some(l) = &self.boot_loadparm {
                a.push(("loadparm", l.as_str()));
            }
            w.empty("boot", &a);
        }
        if let Some(a) = &self.alias {
            w.empty("alias", &[("name", a)]);
        }
        for order in ["master", "rom", "acpi"] {
            for n in self.extra.iter().filter(|n| n.name == order) {
                n.write(w);
            }
        }
        if let Some(a) = &self.address {
            a.write(w);
        }
    }
}

pub fn parse_info(
    text: &str,
    el: &Element,
    allow_boot: bool,
    allow_rom: bool,
) -> Result<DeviceInfo, XmlError> {
    let mut info = DeviceInfo::default();
    if allow_boot {
        if let Some(b) = el.child("boot") {
            let order = b
                .attr("order")
                .ok_or_else(|| err::internal("missing boot order attribute").at(text, b.offset))?;
            let n = super::units::parse_u64_strict(order)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    err::internal(format!(
                        "incorrect boot order '{order}', expecting positive integer"
                    ))
                    .at(text, b.offset)
                })?;
            info.boot_order = Some(n);
            info.boot_loadparm = b.attr("loadparm").map(str::to_string);
        }
    }
    info.alias = el
        .child("alias")
        .and_then(|a| a.attr("name"))
        .filter(|a| a.starts_with("ua-"))
        .map(str::to_string);
    if let Some(m) = el.child("master") {
        info.extra.push(Node::raw(m));
    }
    if allow_rom {
        if let Some(r) = el.child("rom") {
            info.extra.push(canonical("interface/rom", r));
        }
    }
    if let Some(a) = el.child("acpi") {
        info.extra.push(canonical("interface/acpi", a));
    }
    if let Some(a) = el.child("address") {
        info.address = Some(parse_address(text, a, true)?);
    }
    Ok(info)
}

/// libvirt reads address numbers with base 0 (`0x1f`, `010`, `31`).
fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// An `<address>` as virDomainDeviceInfoFormat prints it. `typed` is false for the bare PCI
/// and USB addresses inside a hostdev's `<source>`.
pub fn parse_address(text: &str, el: &Element, typed: bool) -> Result<Node, XmlError> {
    let kind = if typed {
        el.attr("type").unwrap_or("none").to_string()
    } else if el.attr("domain").is_some()
        || el.attr("slot").is_some()
        || el.attr("function").is_some()
    {
        "pci".to_string()
    } else {
        "raw".to_string()
    };
    let num = |attr: &str| -> Result<u64, XmlError> {
        match el.attr(attr) {
            None => Ok(0),
            Some(v) => parse_num(v).ok_or_else(|| {
                err::internal(format!("Cannot parse <address> '{attr}' attribute"))
                    .at(text, el.offset)
            }),
        }
    };
    let mut n = Node::new("address");
    if typed {
        n.attrs.push(("type".into(), kind.clone()));
    }
    let mut push = |k: &str, v: String| n.attrs.push((k.to_string(), v));
    match kind.as_str() {
        "pci" => {
            push("domain", format!("0x{:04x}", num("domain")?));
            push("bus", format!("0x{:02x}", num("bus")?));
            push("slot", format!("0x{:02x}", num("slot")?));
            push("function", format!("0x{:x}", num("function")?));
            if let Some(m) = el.attr("multifunction") {
                push("multifunction", m.to_string());
            }
        }
        "drive" => {
            for a in ["controller", "bus", "target", "unit"] {
                push(a, num(a)?.to_string());
            }
        }
        "virtio-serial" => {
            for a in ["controller", "bus", "port"] {
                push(a, num(a)?.to_string());
            }
        }
        "ccid" => {
            for a in ["controller", "slot"] {
                push(a, num(a)?.to_string());
            }
        }
        "usb" => {
            push("bus", num("bus")?.to_string());
            if let Some(p) = el.attr("port") {
                push("port", p.to_string());
            }
        }
        "isa" => {
            if el.attr("iobase").is_some() {
                push("iobase", format!("0x{:x}", num("iobase")?));
            }
            if el.attr("irq").is_some() {
                push("irq", format!("0x{:x}", num("irq")?));
            }
        }
        "ccw" => {
            push("cssid", format!("0x{:x}", num("cssid")?));
            push("ssid", format!("0x{:x}", num("ssid")?));
            push("devno", format!("0x{:04x}", num("devno")?));
        }
        "spapr-vio" => {
            if el.attr("reg").is_some() {
                push("reg", format!("0x{:08x}", num("reg")?));
            }
        }
        "dimm" => {
            push("slot", num("slot")?.to_string());
            if el.attr("base").is_some() {
                push("base", format!("0x{:x}", num("base")?));
            }
        }
        "raw" => n.attrs = el.attrs.clone(),
        "none" | "virtio-mmio" | "virtio-s390" | "unassigned" => {}
        other => {
            return Err(
                err::unsupported(format!("unknown address type '{other}'")).at(text, el.offset)
            )
        }
    }
    Ok(n)
}

/// virDomainDiskInsertPreAlloced, as the parser uses it: after the last disk on the same
/// (written) bus, or before the first such disk with a higher target index.
fn disk_insert_position(
    disks: &[Disk],
    buses: &[Option<String>],
    new: &Disk,
    bus: Option<&str>,
) -> usize {
    let idx = |d: &Disk| disk::disk_name_to_index(&d.target_dev).map_or(-1, |i| i as i64);
    let mut insert_at: Option<usize> = None;
    for i in (0..disks.len()).rev() {
        if buses[i].as_deref() != bus {
            continue;
        }
        if idx(&disks[i]) > idx(new) {
            insert_at = Some(i);
        } else if insert_at.is_none() {
            insert_at = Some(i + 1);
        }
    }
    insert_at.unwrap_or(disks.len())
}

/// A device kept as a canonical node, with its address and alias treated as libvirt does.
pub(super) fn generic(text: &str, key: &str, el: &Element) -> Result<Node, XmlError> {
    let mut n = canonical(key, el);
    let info = parse_info(text, el, true, true)?;
    n.children.retain(|c| {
        !["boot", "alias", "address", "rom", "acpi", "master"].contains(&c.name.as_str())
    });
    let mut w_nodes = Vec::new();
    if let Some(o) = info.boot_order {
        let mut b = Node::with_attrs("boot", &[("order", &o.to_string())]);
        if let Some(l) = &info.boot_loadparm {
            b.set_attr("loadparm", l);
        }
        w_nodes.push(b);
    }
    if let Some(a) = &info.alias {
        w_nodes.push(Node::with_attrs("alias", &[("name", a)]));
    }
    w_nodes.extend(info.extra);
    if let Some(a) = info.address {
        w_nodes.push(a);
    }
    n.children.extend(w_nodes);
    Ok(n)
}

pub(super) fn default_attr(n: &mut Node, name: &str, value: &str, order: &[&str]) {
    if n.attr(name).is_none() {
        n.set_attr(name, value);
        n.order_attrs(order);
    }
}

pub fn parse(
    text: &str,
    el: Option<&Element>,
    os: &OsDef,
    virt_type: &str,
    live: bool,
) -> Result<Devices, XmlError> {
    let mut d = Devices::default();
    let Some(el) = el else { return Ok(d) };
    let is_hvm = os.os_type == "hvm";
    let x86 = matches!(os.arch.as_deref(), Some("i686") | Some("x86_64") | None);
    // The bus each disk was given in the XML: libvirt orders disks as it parses them, before
    // it fills in default buses.
    let mut disk_buses: Vec<Option<String>> = Vec::new();
    for c in &el.children {
        match c.name.as_str() {
            "emulator" => d.emulator = Some(c.text.clone()).filter(|t| !t.is_empty()),
            "disk" => {
                let parsed = disk::parse(text, c, is_hvm)?;
                let bus = c
                    .child("target")
                    .and_then(|t| t.attr("bus"))
                    .map(str::to_string);
                let at = disk_insert_position(&d.disks, &disk_buses, &parsed, bus.as_deref());
                d.disks.insert(at, parsed);
                disk_buses.insert(at, bus);
            }
            "controller" => {
                let ctl = controller::parse(text, c, &d.controllers)?;
                controller::insert(&mut d.controllers, ctl);
            }
            "lease" => d.leases.push(Node::raw(c)),
            "filesystem" => {
                let mut n = generic(text, "filesystem", c)?;
                let order = ["type", "accessmode", "model", "multidevs", "fmode", "dmode"];
                default_attr(&mut n, "type", "mount", &order);
                default_attr(&mut n, "accessmode", "passthrough", &order);
                d.filesystems.push(n);
            }
            "interface" => d.interfaces.push(net::parse(text, c, live)?),
            "smartcard" => d.smartcards.push(generic(text, "smartcard", c)?),
            "serial" | "parallel" | "console" | "channel" => {
                let chr = chr::parse(text, c, live)?;
                match c.name.as_str() {
                    "serial" => d.serials.push(chr),
                    "parallel" => d.parallels.push(chr),
                    "console" => d.consoles.push(chr),
                    _ => d.channels.push(chr),
                }
            }
            "input" => {
                let mut n = generic(text, "input", c)?;
                let kind = n.attr("type").unwrap_or("mouse").to_string();
                let bus = if os.os_type == "xen" || os.os_type == "linux" {
                    "xen"
                } else if kind == "tablet" || !(is_hvm && x86) {
                    "usb"
                } else if kind == "passthrough" || kind == "evdev" {
                    "virtio"
                } else {
                    "ps2"
                };
                if kind != "evdev" {
                    default_attr(&mut n, "bus", bus, &["type", "bus", "model"]);
                }
                d.inputs.push(n);
            }
            "tpm" => d.tpms.push(generic(text, "tpm", c)?),
            "graphics" => d.graphics.push(graphics::parse(text, c)?),
            "sound" => d.sounds.push(generic(text, "sound", c)?),
            "audio" => d.audios.push(canonical("audio", c)),
            "video" => d.videos.push(generic(text, "video", c)?),
            "hostdev" => d.hostdevs.push(hostdev::parse(text, c)?),
            "redirdev" => {
                let mut n = generic(text, "redirdev", c)?;
                if n.attr("type") == Some("tcp") && n.child("protocol").is_none() {
                    let pos = n
                        .children
                        .iter()
                        .position(|x| x.name == "source")
                        .map_or(0, |p| p + 1);
                    n.children
                        .insert(pos, Node::with_attrs("protocol", &[("type", "raw")]));
                }
                d.redirdevs.push(n);
            }
            "redirfilter" => d.redirfilters.push(Node::raw(c)),
            "hub" => d.hubs.push(generic(text, "hub", c)?),
            "watchdog" => {
                let mut n = generic(text, "watchdog", c)?;
                default_attr(&mut n, "action", "reset", &["model", "action"]);
                d.watchdogs.push(n);
            }
            "memballoon" => d.memballoon = Some(generic(text, "memballoon", c)?),
            "rng" => {
                let mut n = generic(text, "rng", c)?;
                if let Some(b) = n.child_mut("backend") {
                    if b.attr("model") == Some("random")
                        && b.text.as_deref().is_none_or(str::is_empty)
                    {
                        b.text = Some("/dev/random".into());
                    }
                }
                d.rngs.push(n);
            }
            "nvram" => d.nvram = Some(generic(text, "nvram", c)?),
            "panic" => d.panics.push(generic(text, "panic", c)?),
            "shmem" => d.shmems.push(Node::raw(c)),
            "memory" => d.memories.push(Node::raw(c)),
            "iommu" => d.iommu = Some(Node::raw(c)),
            "vsock" => d.vsock = Some(Node::raw(c)),
            "crypto" => d.cryptos.push(Node::raw(c)),
            _ => {}
        }
    }
    let _ = virt_type;
    Ok(d)
}

/// The defaults libvirt adds after parsing (virDomainDefPostParse and friends) and the checks
/// that look at several devices at once.
pub fn post_parse(text: &str, root: &Element, def: &mut DomainDef) -> Result<(), XmlError> {
    let dev_el = root.child("devices");
    let disk_el = |dev: &str| -> Option<&Element> {
        dev_el?
            .children_named("disk")
            .find(|e| e.child("target").and_then(|t| t.attr("dev")) == Some(dev))
    };
    let at_dev = |e: XmlError| e.at(text, dev_el.unwrap_or(root).offset);
    let is_hvm = def.os.os_type == "hvm";

    // Drive addresses for disks on buses with numbered units.
    let vmpvscsi = def.devices.controllers.iter().any(|c| {
        c.controller_type == "scsi" && c.index == 0 && c.model.as_deref() == Some("vmpvscsi")
    });
    for d in def.devices.disks.iter_mut() {
        disk::assign_address(text, disk_el(&d.target_dev), d, vmpvscsi)?;
    }
    // Two disks on one target.
    for (i, a) in def.devices.disks.iter().enumerate() {
        if let Some(b) = def.devices.disks[i + 1..]
            .iter()
            .find(|b| b.target_dev == a.target_dev)
        {
            let src = |d: &Disk| d.source.clone().unwrap_or_else(|| "<null>".into());
            return Err(at_dev(err::xml(format!(
                "target '{}' duplicated for disk sources '{}' and '{}'",
                a.target_dev,
                src(a),
                src(b)
            ))));
        }
    }

    chr::number_consoles(&mut def.devices);
    chr::console_compat(&mut def.devices, is_hvm).map_err(at_dev)?;
    chr::assign_ports(&mut def.devices);

    // Smartcards get CCID slots.
    let mut slot = 0;
    for s in def.devices.smartcards.iter_mut() {
        if s.child("address").is_none() {
            s.children.push(Node::with_attrs(
                "address",
                &[
                    ("type", "ccid"),
                    ("controller", "0"),
                    ("slot", &slot.to_string()),
                ],
            ));
            slot += 1;
        }
    }

    let usb_enabled = def
        .devices
        .controllers
        .iter()
        .any(|c| c.controller_type == "usb" && c.model.as_deref() != Some("none"));
    if !usb_enabled
        && def
            .devices
            .redirdevs
            .iter()
            .any(|r| r.attr("bus") == Some("usb"))
    {
        return Err(at_dev(err::unsupported(
            "cannot add redirected USB device: USB is disabled for this domain",
        )));
    }

    controller::add_implicit(&mut def.devices);
    graphics::video_defaults(def).map_err(at_dev)?;

    // Boot order: either <os><boot> or per-device <boot order>, each order used once.
    let mut orders: Vec<u32> = Vec::new();
    orders.extend(def.devices.disks.iter().filter_map(|d| d.info.boot_order));
    orders.extend(
        def.devices
            .interfaces
            .iter()
            .filter_map(|n| n.info.boot_order),
    );
    for n in def.devices.hostdevs.iter().chain(&def.devices.redirdevs) {
        if let Some(o) = n.child("boot").and_then(|b| b.attr("order")) {
            orders.extend(o.parse::<u32>().ok());
        }
    }
    for (i, o) in orders.iter().enumerate() {
        if orders[..i].contains(o) {
            return Err(at_dev(err::unsupported(format!(
                "boot order '{o}' used for more than one device"
            ))));
        }
    }
    if is_hvm {
        if !orders.is_empty() && !def.os.boot_devs.is_empty() {
            return Err(at_dev(err::unsupported(
                "per-device boot elements cannot be used together with os/boot elements",
            )));
        }
        if orders.is_empty() && def.os.boot_devs.is_empty() {
            def.os.boot_devs.push("hd".into());
        }
    }
    Ok(())
}

pub fn format(def: &DomainDef, opts: &FormatOptions, w: &mut XmlWriter) {
    let d = &def.devices;
    w.start("devices", &[]);
    w.opt_text("emulator", d.emulator.as_deref());
    for x in &d.disks {
        disk::format(x, w);
    }
    for c in &d.controllers {
        controller::format(c, w);
    }
    write_all(&d.leases, w);
    write_all(&d.filesystems, w);
    for n in &d.interfaces {
        net::format(n, w);
    }
    write_all(&d.smartcards, w);
    for c in &d.serials {
        chr::format(c, opts.inactive, w);
    }
    for c in &d.parallels {
        chr::format(c, opts.inactive, w);
    }
    chr::format_consoles(d, def.os.os_type == "hvm", opts.inactive, w);
    for c in &d.channels {
        chr::format(c, opts.inactive, w);
    }
    write_all(&d.inputs, w);
    write_all(&d.tpms, w);
    for g in &d.graphics {
        graphics::format(g, opts, w);
    }
    write_all(&d.sounds, w);
    write_all(&d.audios, w);
    write_all(&d.videos, w);
    write_all(&d.hostdevs, w);
    write_all(&d.redirdevs, w);
    write_all(&d.redirfilters, w);
    write_all(&d.hubs, w);
    write_all(&d.watchdogs, w);
    for n in [&d.memballoon].into_iter().flatten() {
        n.write(w);
    }
    write_all(&d.rngs, w);
    for n in [&d.nvram].into_iter().flatten() {
        n.write(w);
    }
    write_all(&d.panics, w);
    write_all(&d.shmems, w);
    write_all(&d.memories, w);
    for n in [&d.iommu, &d.vsock].into_iter().flatten() {
        n.write(w);
    }
    write_all(&d.cryptos, w);
    w.end("devices");
}

fn write_all(list: &[Node], w: &mut XmlWriter) {
    for n in list {
        n.write(w);
    }
}
