//! USB controllers, input devices, video, watchdog, RNG, panic and SPICE, in libvirt 9.0's
//! JSON `-device` form (without PCI/USB addresses: QEMU picks free slots and ports).

use serde_json::{json, Map, Value};
use virtsh_xml::domain::{Controller, DomainDef, Node};

use super::escape::{check, opt_value};
use super::{json_arg, need_type, CmdlineEnv, CmdlineError};
use crate::caps::QemuCaps;

fn push(a: &mut Vec<String>, opt: &str, v: String) {
    a.push(opt.to_string());
    a.push(v);
}

fn num(what: &str, v: &str) -> Result<u64, CmdlineError> {
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    };
    parsed.ok_or_else(|| CmdlineError::BadValue {
        what: what.into(),
        value: v.into(),
        reason: "not a number".into(),
    })
}

/// libvirt's USB controller model -> QEMU device type.
fn usb_driver(model: &str) -> Option<&'static str> {
    Some(match model {
        "piix3-uhci" => "piix3-usb-uhci",
        "piix4-uhci" => "piix4-usb-uhci",
        "ehci" => "usb-ehci",
        "ich9-ehci1" => "ich9-usb-ehci1",
        "ich9-uhci1" => "ich9-usb-uhci1",
        "ich9-uhci2" => "ich9-usb-uhci2",
        "ich9-uhci3" => "ich9-usb-uhci3",
        "vt82c686b-uhci" => "vt82c686b-usb-uhci",
        "pci-ohci" => "pci-ohci",
        "nec-xhci" => "nec-usb-xhci",
        "qemu-xhci" => "qemu-xhci",
        _ => return None,
    })
}

/// The default model of libvirt's implicit USB controller: qemu-xhci on q35 (when this QEMU
/// has it), piix3-uhci on pc.
fn default_usb_model(caps: &QemuCaps, q35: bool) -> &'static str {
    if q35 {
        if caps.has_type("qemu-xhci") {
            "qemu-xhci"
        } else {
            "ich9-ehci1"
        }
    } else {
        "piix3-uhci"
    }
}

/// Whether any device of `def` sits on the USB bus.
pub fn needs_usb(def: &DomainDef) -> bool {
    def.devices
        .inputs
        .iter()
        .any(|i| i.attr("bus") == Some("usb"))
}

fn usb_controller_json(
    c: &Controller,
    caps: &QemuCaps,
    q35: bool,
) -> Result<Option<Value>, CmdlineError> {
    let model = c
        .model
        .as_deref()
        .unwrap_or_else(|| default_usb_model(caps, q35));
    if model == "none" {
        return Ok(None);
    }
    let what = format!("USB controller {}", c.index);
    let driver = usb_driver(model).ok_or_else(|| {
        CmdlineError::Unsupported(format!("USB controller model '{model}' ({what})"))
    })?;
    need_type(caps, driver, &what)?;
    let mut m = Map::new();
    m.insert("driver".into(), driver.into());
    let master = c.info.extra.iter().find(|n| n.name == "master");
    if let Some(ms) = master {
        // A UHCI companion of an EHCI controller: same bus, its own first port.
        let start = num(
            "USB companion startport",
            ms.attr("startport").unwrap_or("0"),
        )?;
        m.insert("masterbus".into(), format!("{}.0", usb_id(c.index)).into());
        m.insert("firstport".into(), start.into());
    } else {
        m.insert("id".into(), usb_id(c.index).into());
    }
    if let Some(p) = c.extra.attr("ports") {
        let p = num("USB controller ports", p)?;
        if matches!(model, "qemu-xhci" | "nec-xhci") {
            m.insert("p2".into(), p.into());
            m.insert("p3".into(), p.into());
        } else {
            return Err(CmdlineError::Unsupported(format!(
                "usb controller type {model} doesn't support 'ports' with this QEMU binary"
            )));
        }
    }
    Ok(Some(Value::Object(m)))
}

fn usb_id(index: u32) -> String {
    if index == 0 {
        "usb".into()
    } else {
        format!("usb{index}")
    }
}

/// `-device` for every USB controller: the ones the XML lists, or libvirt's implicit one when a
/// USB device needs a bus and the XML lists none. `-machine usb=off` stays, as in libvirt.
pub fn usb_controller_args(
    def: &DomainDef,
    caps: &QemuCaps,
    q35: bool,
) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    let usb: Vec<&Controller> = def
        .devices
        .controllers
        .iter()
        .filter(|c| c.controller_type == "usb")
        .collect();
    let needed = needs_usb(def);
    if usb.is_empty() {
        if needed {
            let implicit = Controller {
                controller_type: "usb".into(),
                index: 0,
                model: None,
                extra: Node::new("controller"),
                info: Default::default(),
            };
            if let Some(v) = usb_controller_json(&implicit, caps, q35)? {
                push(&mut a, "-device", json_arg(&v));
            }
        }
        return Ok(a);
    }
    let mut any = false;
    for c in usb {
        if let Some(v) = usb_controller_json(c, caps, q35)? {
            any |= c.index == 0;
            push(&mut a, "-device", json_arg(&v));
        }
    }
    if needed && !any {
        return Err(CmdlineError::Unsupported(
            "USB is disabled for this domain, but a USB device needs it".into(),
        ));
    }
    Ok(a)
}

/// `<input>`: PS/2 devices come with the machine; USB and virtio ones are devices.
pub fn input_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    for (i, inp) in def.devices.inputs.iter().enumerate() {
        let ty = inp.attr("type").unwrap_or("mouse");
        let bus = inp.attr("bus").unwrap_or("ps2");
        let driver = match (ty, bus) {
            ("mouse" | "keyboard", "ps2") => continue,
            ("tablet", "usb") => "usb-tablet",
            ("mouse", "usb") => "usb-mouse",
            ("keyboard", "usb") => "usb-kbd",
            ("tablet", "virtio") => "virtio-tablet-pci",
            ("mouse", "virtio") => "virtio-mouse-pci",
            ("keyboard", "virtio") => "virtio-keyboard-pci",
            (t, b) => {
                return Err(CmdlineError::Unsupported(format!(
                    "input device type '{t}' on bus '{b}'"
                )))
            }
        };
        need_type(caps, driver, &format!("input device {i} ({ty}, {bus})"))?;
        let mut m = Map::new();
        m.insert("driver".into(), driver.into());
        m.insert("id".into(), format!("input{i}").into());
        if bus == "usb" {
            m.insert("bus".into(), "usb.0".into());
        }
        push(&mut a, "-device", json_arg(&Value::Object(m)));
    }
    Ok(a)
}

fn kib_attr(m: &Node, name: &str, default: u64) -> Result<u64, CmdlineError> {
    match m.attr(name) {
        None => Ok(default),
        Some(v) => num(&format!("video {name}"), v),
    }
}

/// `<video>`: one `-device` per card. A graphics device without a card gets libvirt's default
/// (the parser adds it; definitions built in code may not have it).
pub fn video_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    let default_card = [Node::with_attrs("video", &[])];
    let videos: &[Node] = if def.devices.videos.is_empty() && !def.devices.graphics.is_empty() {
        &default_card
    } else {
        &def.devices.videos
    };
    for (i, v) in videos.iter().enumerate() {
        let model = v.child("model");
        let empty = Node::new("model");
        let m = model.unwrap_or(&empty);
        let ty = m.attr("type").unwrap_or("cirrus");
        let primary = i == 0;
        let heads = kib_attr(m, "heads", 1)?;
        let vram = kib_attr(m, "vram", 16384)?;
        let what = format!("video device {i} ('{ty}')");
        let only_primary = |t: &str| {
            CmdlineError::Unsupported(format!(
                "video type {t} is only valid as primary video device"
            ))
        };
        let mut d = Map::new();
        let driver = match ty {
            "none" => continue,
            "vga" => {
                if !primary {
                    return Err(only_primary(ty));
                }
                d.insert("vgamem_mb".into(), (vram / 1024).into());
                "VGA"
            }
            "cirrus" => {
                if !primary {
                    return Err(only_primary(ty));
                }
                "cirrus-vga"
            }
            "vmvga" => {
                if !primary {
                    return Err(only_primary(ty));
                }
                d.insert("vgamem_mb".into(), (vram / 1024).into());
                "vmware-svga"
            }
            "qxl" => {
                let ram = kib_attr(m, "ram", 65536)?;
                let vram = kib_attr(m, "vram", 65536)?;
                let vram64 = kib_attr(m, "vram64", 0)?;
                let vgamem = kib_attr(m, "vgamem", 16384)?;
                d.insert("max_outputs".into(), heads.into());
                d.insert("ram_size".into(), (ram * 1024).into());
                d.insert("vram_size".into(), (vram * 1024).into());
                d.insert("vram64_size_mb".into(), (vram64 / 1024).into());
                d.insert("vgamem_mb".into(), (vgamem / 1024).into());
                if primary {
                    "qxl-vga"
                } else {
                    "qxl"
                }
            }
            "virtio" => {
                d.insert("max_outputs".into(), heads.into());
                if primary && caps.has_type("virtio-vga") {
                    "virtio-vga"
                } else {
                    "virtio-gpu-pci"
                }
            }
            "bochs" => {
                d.insert("vgamem".into(), (vram * 1024).into());
                "bochs-display"
            }
            "ramfb" => "ramfb",
            t => {
                return Err(CmdlineError::Unsupported(format!(
                    "video model '{t}' ({what})"
                )))
            }
        };
        if m.child("acceleration").and_then(|x| x.attr("accel3d")) == Some("yes") {
            return Err(CmdlineError::Unsupported(format!(
                "3D acceleration ({what})"
            )));
        }
        need_type(caps, driver, &what)?;
        d.insert("driver".into(), driver.into());
        d.insert("id".into(), format!("video{i}").into());
        push(&mut a, "-device", json_arg(&Value::Object(d)));
    }
    Ok(a)
}

/// `<watchdog>`: the device and `-action watchdog=...` (QEMU 7.2's form of libvirt's
/// `-watchdog-action`). `dump` needs libvirt's dump-on-watchdog handling: refused.
pub fn watchdog_args(
    def: &DomainDef,
    caps: &QemuCaps,
    q35: bool,
) -> Result<Vec<String>, CmdlineError> {
    let w = &def.devices.watchdogs;
    let mut a = Vec::new();
    let Some(wd) = w.first() else {
        return Ok(a);
    };
    if w.len() > 1 {
        return Err(CmdlineError::Unsupported(
            "more than one watchdog device".into(),
        ));
    }
    let model = wd.attr("model").unwrap_or("");
    match model {
        "i6300esb" | "ib700" => {
            need_type(caps, model, "watchdog")?;
            push(
                &mut a,
                "-device",
                json_arg(&json!({"driver": model, "id": "watchdog0"})),
            );
        }
        "itco" => {
            // Built into q35's ICH9 LPC bridge: only its no-reboot strap is switched off.
            if !q35 {
                return Err(CmdlineError::Unsupported(
                    "watchdog model 'itco' needs the q35 machine".into(),
                ));
            }
            push(&mut a, "-global", "ICH9-LPC.noreboot=off".into());
        }
        m => return Err(CmdlineError::Unsupported(format!("watchdog model '{m}'"))),
    }
    let action = match wd.attr("action").unwrap_or("reset") {
        a @ ("reset" | "shutdown" | "poweroff" | "pause" | "none" | "inject-nmi") => a,
        "dump" => {
            return Err(CmdlineError::Unsupported(
                "watchdog action 'dump' is not supported".into(),
            ))
        }
        other => {
            return Err(CmdlineError::BadValue {
                what: "watchdog action".into(),
                value: other.into(),
                reason: "unknown".into(),
            })
        }
    };
    push(&mut a, "-action", format!("watchdog={action}"));
    Ok(a)
}

/// `<rng model='virtio'>` with a `random` (a host device) or `builtin` backend.
pub fn rng_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    for (i, r) in def.devices.rngs.iter().enumerate() {
        let what = format!("RNG device {i}");
        if r.attr("model") != Some("virtio") {
            return Err(CmdlineError::Unsupported(format!(
                "RNG model '{}' ({what})",
                r.attr("model").unwrap_or("")
            )));
        }
        let backend = r.child("backend").ok_or_else(|| CmdlineError::BadValue {
            what: what.clone(),
            value: String::new(),
            reason: "missing <backend>".into(),
        })?;
        let obj = format!("objrng{i}");
        let object = match backend.attr("model").unwrap_or("") {
            "random" => {
                need_type(caps, "rng-random", &what)?;
                let path = backend
                    .text
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .unwrap_or("/dev/random");
                check("RNG backend path", path)?;
                json!({"qom-type": "rng-random", "id": obj, "filename": path})
            }
            "builtin" => {
                need_type(caps, "rng-builtin", &what)?;
                json!({"qom-type": "rng-builtin", "id": obj})
            }
            m => {
                return Err(CmdlineError::Unsupported(format!(
                    "RNG backend '{m}' ({what})"
                )))
            }
        };
        need_type(caps, "virtio-rng-pci", &what)?;
        let mut d = Map::new();
        d.insert("driver".into(), "virtio-rng-pci".into());
        d.insert("rng".into(), obj.into());
        d.insert("id".into(), format!("rng{i}").into());
        if let Some(rate) = r.child("rate") {
            let bytes = num("RNG rate bytes", rate.attr("bytes").unwrap_or("0"))?;
            if bytes > 0 {
                let period = num("RNG rate period", rate.attr("period").unwrap_or("1000"))?;
                d.insert("max-bytes".into(), bytes.into());
                d.insert("period".into(), period.into());
            }
        }
        push(&mut a, "-object", json_arg(&object));
        push(&mut a, "-device", json_arg(&Value::Object(d)));
    }
    Ok(a)
}

/// `<panic model='isa'>`: the pvpanic ISA device (the model x86 guests default to).
pub fn panic_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    let mut isa = 0;
    for p in &def.devices.panics {
        match p.attr("model").unwrap_or("isa") {
            "isa" => {
                isa += 1;
                if isa > 1 {
                    return Err(CmdlineError::Unsupported(
                        "only a single panic device of model 'isa' is supported".into(),
                    ));
                }
                need_type(caps, "pvpanic", "panic device")?;
                let mut d = Map::new();
                d.insert("driver".into(), "pvpanic".into());
                if let Some(io) = p
                    .child("address")
                    .filter(|x| x.attr("type") == Some("isa"))
                    .and_then(|x| x.attr("iobase"))
                {
                    d.insert("ioport".into(), num("panic iobase", io)?.into());
                }
                push(&mut a, "-device", json_arg(&Value::Object(d)));
            }
            m => {
                return Err(CmdlineError::Unsupported(format!(
                    "panic device model '{m}'"
                )))
            }
        }
    }
    Ok(a)
}

/// `<memballoon model='virtio'>` with its `autodeflate`/`freePageReporting` switches. The
/// statistics period is set over QMP once QEMU runs (libvirt does the same), not here.
pub fn balloon_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    let Some(b) = &def.devices.memballoon else {
        return Ok(a);
    };
    match b.attr("model") {
        Some("none") => {}
        Some("virtio") => {
            need_type(caps, "virtio-balloon-pci", "memory balloon")?;
            let mut d = Map::new();
            d.insert("driver".into(), "virtio-balloon-pci".into());
            d.insert("id".into(), "balloon0".into());
            for (attr, key) in [
                ("autodeflate", "deflate-on-oom"),
                ("freePageReporting", "free-page-reporting"),
            ] {
                match b.attr(attr) {
                    None => {}
                    Some("on") => {
                        d.insert(key.into(), true.into());
                    }
                    Some("off") => {
                        d.insert(key.into(), false.into());
                    }
                    Some(v) => {
                        return Err(CmdlineError::BadValue {
                            what: format!("memballoon {attr}"),
                            value: v.into(),
                            reason: "must be on or off".into(),
                        })
                    }
                }
            }
            push(&mut a, "-device", json_arg(&Value::Object(d)));
        }
        m => {
            return Err(CmdlineError::Unsupported(format!(
                "memballoon model '{}'",
                m.unwrap_or("")
            )))
        }
    }
    Ok(a)
}

/// Whether this QEMU was built with SPICE (Debian's is): its chardevs exist only then.
pub fn has_spice(caps: &QemuCaps) -> bool {
    caps.has_type("chardev-spicevmc") || caps.has_type("qxl")
}

/// `-audiodev` + `-spice ...` for a `<graphics type='spice'>`: a unix socket in the runtime
/// directory for `autoport` (as for VNC), or the TCP port the XML gives.
pub fn spice_args(
    g: &Node,
    caps: &QemuCaps,
    env: &CmdlineEnv,
) -> Result<Vec<String>, CmdlineError> {
    if !has_spice(caps) {
        return Err(CmdlineError::Unsupported(
            "spice graphics are not supported with this QEMU (built without SPICE: no 'chardev-spicevmc' or 'qxl' type)".into(),
        ));
    }
    if g.attr("passwd").is_some() {
        return Err(CmdlineError::Unsupported(
            "SPICE passwords are not generated yet".into(),
        ));
    }
    let tls = g
        .attr("tlsPort")
        .and_then(|p| p.parse::<i64>().ok())
        .is_some_and(|p| p > 0);
    if tls || g.attr("defaultMode") == Some("secure") {
        return Err(CmdlineError::Unsupported(
            "SPICE TLS is not generated yet".into(),
        ));
    }
    let listen = g.child("listen");
    let socket = listen
        .filter(|l| l.attr("type") == Some("socket"))
        .and_then(|l| l.attr("socket"));
    let port: Option<i64> = g.attr("port").and_then(|p| p.parse().ok());
    let auto = g.attr("autoport") == Some("yes") || port.is_none_or(|p| p < 0);
    let mut opts: Vec<String> = Vec::new();
    if let Some(s) = socket {
        opts.push("unix=on".into());
        opts.push(format!("addr={}", opt_value("SPICE socket path", s)?));
    } else if auto {
        let p = env.runtime_dir.join("spice.sock");
        let p = p.to_str().ok_or_else(|| CmdlineError::BadValue {
            what: "runtime directory".into(),
            value: env.runtime_dir.display().to_string(),
            reason: "not UTF-8".into(),
        })?;
        opts.push("unix=on".into());
        opts.push(format!("addr={}", opt_value("SPICE socket path", p)?));
    } else {
        let port = port.unwrap_or(5900);
        if !(1..=65535).contains(&port) {
            return Err(CmdlineError::BadValue {
                what: "SPICE port".into(),
                value: port.to_string(),
                reason: "must be 1..65535".into(),
            });
        }
        let addr = listen
            .and_then(|l| l.attr("address"))
            .or_else(|| g.attr("listen"))
            .unwrap_or("127.0.0.1");
        opts.push(format!("port={port}"));
        opts.push(format!("addr={}", opt_value("SPICE listen address", addr)?));
    }
    opts.push("disable-ticketing=on".into());
    for (child, attr, key) in [
        ("image", "compression", "image-compression"),
        ("jpeg", "compression", "jpeg-wan-compression"),
        ("zlib", "compression", "zlib-glz-wan-compression"),
        ("playback", "compression", "playback-compression"),
        ("streaming", "mode", "streaming-video"),
    ] {
        if let Some(v) = g.child(child).and_then(|c| c.attr(attr)) {
            opts.push(format!("{key}={}", opt_value(key, v)?));
        }
    }
    if g.child("clipboard").and_then(|c| c.attr("copypaste")) == Some("no") {
        opts.push("disable-copy-paste=on".into());
    }
    if g.child("filetransfer").and_then(|c| c.attr("enable")) == Some("no") {
        opts.push("disable-agent-file-xfer=on".into());
    }
    if g.child("gl").and_then(|c| c.attr("enable")) == Some("yes") {
        return Err(CmdlineError::Unsupported(
            "SPICE OpenGL is not generated yet".into(),
        ));
    }
    opts.push("seamless-migration=on".into());
    Ok(vec![
        "-audiodev".into(),
        json_arg(&json!({"id": "audio1", "driver": "spice"})),
        "-spice".into(),
        opts.join(","),
    ])
}
