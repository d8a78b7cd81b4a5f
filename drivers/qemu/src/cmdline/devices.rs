//! Devices: disks (`-blockdev` + `-device`), controllers, NICs (`-netdev` + `-device`),
//! serial ports, video, balloon and graphics.

use serde_json::{json, Map, Value};
use virtsh_xml::domain::{Chr, DomainDef};

use super::escape::{check, opt_value};
use super::{json_arg, need_type, CmdlineEnv, CmdlineError};
use crate::caps::QemuCaps;

/// virDiskNameToIndex: `vda` is 0, `sdz` 25, `hdaa` 26. Partition numbers are refused.
fn disk_name_to_index(name: &str) -> Option<usize> {
    let rest = ["fd", "hd", "vd", "sd", "xvd", "ubd"]
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_lowercase()) || rest.len() > 4 {
        return None;
    }
    let mut idx: usize = 0;
    for (i, b) in rest.bytes().enumerate() {
        let v = usize::from(b - b'a');
        idx = if i == 0 { v } else { (idx + 1) * 26 + v };
    }
    Some(idx)
}

/// `52:54:00:12:34:56`: six hex octets separated by colons.
fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn unsupported(what: &str) -> CmdlineError {
    CmdlineError::Unsupported(format!("{what} are not generated yet"))
}

/// Boot indexes: `<boot order>` on devices when any has one, else `<os><boot dev>` mapped to
/// the first disk/cdrom/NIC of that kind (as libvirt does with bootindex).
struct BootPlan {
    disks: Vec<Option<u32>>,
    nets: Vec<Option<u32>>,
}

fn boot_plan(def: &DomainDef) -> BootPlan {
    let d = &def.devices;
    let per_device = d.disks.iter().any(|x| x.info.boot_order.is_some())
        || d.interfaces.iter().any(|x| x.info.boot_order.is_some());
    if per_device {
        return BootPlan {
            disks: d.disks.iter().map(|x| x.info.boot_order).collect(),
            nets: d.interfaces.iter().map(|x| x.info.boot_order).collect(),
        };
    }
    let mut plan = BootPlan {
        disks: vec![None; d.disks.len()],
        nets: vec![None; d.interfaces.len()],
    };
    let mut next = 1;
    for dev in &def.os.boot_devs {
        let slot = match dev.as_str() {
            "hd" => d
                .disks
                .iter()
                .position(|x| x.device == "disk")
                .map(|i| &mut plan.disks[i]),
            "cdrom" => d
                .disks
                .iter()
                .position(|x| x.device == "cdrom")
                .map(|i| &mut plan.disks[i]),
            "network" => plan.nets.first_mut(),
            _ => None,
        };
        if let Some(s) = slot {
            if s.is_none() {
                *s = Some(next);
                next += 1;
            }
        }
    }
    plan
}

pub fn device_args(
    def: &DomainDef,
    caps: &QemuCaps,
    env: &CmdlineEnv,
    q35: bool,
    gfx: Vec<String>,
) -> Result<Vec<String>, CmdlineError> {
    let d = &def.devices;
    for (empty, what) in [
        (d.filesystems.is_empty(), "filesystems"),
        (d.hostdevs.is_empty(), "host devices"),
        (d.smartcards.is_empty(), "smartcards"),
        (d.parallels.is_empty(), "parallel ports"),
        (d.channels.is_empty(), "channels"),
        (d.tpms.is_empty(), "TPM devices"),
        (d.sounds.is_empty(), "sound devices"),
        (d.redirdevs.is_empty(), "redirected devices"),
        (d.hubs.is_empty(), "hubs"),
        (d.watchdogs.is_empty(), "watchdogs"),
        (d.rngs.is_empty(), "RNG devices"),
        (d.shmems.is_empty(), "shmem devices"),
        (d.memories.is_empty(), "memory devices"),
        (d.cryptos.is_empty(), "crypto devices"),
        (d.panics.is_empty(), "panic devices"),
        (d.iommu.is_none(), "IOMMU devices"),
        (d.vsock.is_none(), "vsock devices"),
    ] {
        if !empty {
            return Err(unsupported(what));
        }
    }
    for i in &d.inputs {
        // The implicit PS/2 mouse and keyboard come with the machine.
        if i.attr("bus") != Some("ps2") {
            return Err(CmdlineError::Unsupported(format!(
                "input device type '{}' bus '{}' is not generated yet",
                i.attr("type").unwrap_or(""),
                i.attr("bus").unwrap_or("")
            )));
        }
    }
    for c in &d.controllers {
        let ok = match c.controller_type.as_str() {
            // Implicit in pc/q35; usb=off and none is added.
            "pci" | "ide" | "sata" | "usb" => true,
            "scsi" => matches!(c.model.as_deref(), None | Some("virtio-scsi")),
            _ => false,
        };
        if !ok {
            return Err(CmdlineError::Unsupported(format!(
                "controller type '{}' model '{}' is not generated yet",
                c.controller_type,
                c.model.as_deref().unwrap_or("default")
            )));
        }
    }

    let boot = boot_plan(def);
    let mut a = Vec::new();
    let push = |a: &mut Vec<String>, opt: &str, v: String| {
        a.push(opt.to_string());
        a.push(v);
    };

    // SCSI controller (virtio-scsi) when a disk needs one.
    if d.disks.iter().any(|x| x.bus() == "scsi") {
        need_type(caps, "virtio-scsi-pci", "SCSI disks")?;
        push(
            &mut a,
            "-device",
            json_arg(&json!({"driver": "virtio-scsi-pci", "id": "scsi0"})),
        );
    }

    // Disks: libvirt numbers the nodes from the last disk (libvirt-N-...) down to 1.
    let n = d.disks.len();
    for (i, disk) in d.disks.iter().enumerate() {
        let node = n - i;
        let what = format!("disk '{}'", disk.target_dev);
        check("disk target", &disk.target_dev)?;
        let index = disk_name_to_index(&disk.target_dev).ok_or_else(|| CmdlineError::BadValue {
            what: "disk target".into(),
            value: disk.target_dev.clone(),
            reason: "not a disk name".into(),
        })?;
        let cdrom = match disk.device.as_str() {
            "disk" => false,
            "cdrom" => true,
            other => {
                return Err(CmdlineError::Unsupported(format!(
                    "disk device '{other}' ({what})"
                )))
            }
        };
        let readonly = disk.readonly || cdrom;
        let cache = disk.driver_extra.attr("cache");
        let cache_json = match cache {
            None | Some("default") => None,
            Some("none") => Some((json!({"direct": true, "no-flush": false}), true)),
            Some("writeback") => Some((json!({"direct": false, "no-flush": false}), true)),
            Some("writethrough") => Some((json!({"direct": false, "no-flush": false}), false)),
            Some("directsync") => Some((json!({"direct": true, "no-flush": false}), false)),
            Some("unsafe") => Some((json!({"direct": false, "no-flush": true}), true)),
            Some(c) => {
                return Err(CmdlineError::BadValue {
                    what: format!("cache mode of {what}"),
                    value: c.into(),
                    reason: "unknown".into(),
                })
            }
        };
        let storage = format!("libvirt-{node}-storage");
        let format_node = format!("libvirt-{node}-format");
        let mut drive = None;
        if let Some(src) = &disk.source {
            check("disk source path", src)?;
            if disk.source_protocol.is_some() || disk.source_pool.is_some() {
                return Err(CmdlineError::Unsupported(format!(
                    "network and volume disk sources ({what})"
                )));
            }
            let driver = match (disk.disk_type.as_str(), cdrom) {
                ("file", _) => "file",
                ("block", false) => "host_device",
                ("block", true) => "host_cdrom",
                (t, _) => {
                    return Err(CmdlineError::Unsupported(format!(
                        "disk type '{t}' ({what})"
                    )))
                }
            };
            let fmt = disk.driver_type.as_deref().unwrap_or("raw");
            if !matches!(fmt, "raw" | "qcow2") {
                return Err(CmdlineError::Unsupported(format!(
                    "disk format '{fmt}' ({what})"
                )));
            }
            if disk.driver_name.as_deref().is_some_and(|n| n != "qemu") {
                return Err(CmdlineError::Unsupported(format!(
                    "disk driver '{}' ({what})",
                    disk.driver_name.as_deref().unwrap_or("")
                )));
            }
            let mut file = Map::new();
            file.insert("driver".into(), driver.into());
            file.insert("filename".into(), src.as_str().into());
            file.insert("node-name".into(), storage.clone().into());
            if let Some((c, _)) = &cache_json {
                file.insert("cache".into(), c.clone());
            }
            if readonly {
                file.insert("read-only".into(), true.into());
            } else {
                file.insert("auto-read-only".into(), true.into());
                file.insert("discard".into(), "unmap".into());
            }
            push(&mut a, "-blockdev", json_arg(&Value::Object(file)));
            let mut f = Map::new();
            f.insert("node-name".into(), format_node.clone().into());
            f.insert("read-only".into(), readonly.into());
            if let Some((c, _)) = &cache_json {
                f.insert("cache".into(), c.clone());
            }
            f.insert("driver".into(), fmt.into());
            f.insert("file".into(), storage.into());
            push(&mut a, "-blockdev", json_arg(&Value::Object(f)));
            drive = Some(format_node);
        } else if !cdrom {
            return Err(CmdlineError::BadValue {
                what: what.clone(),
                value: String::new(),
                reason: "a disk needs a source".into(),
            });
        }

        let mut dev = Map::new();
        match (disk.bus(), cdrom) {
            ("virtio", false) => {
                need_type(caps, "virtio-blk-pci", &what)?;
                dev.insert("driver".into(), "virtio-blk-pci".into());
                dev.insert("id".into(), format!("virtio-disk{index}").into());
            }
            ("ide", _) | ("sata", _) => {
                let ty = if cdrom { "ide-cd" } else { "ide-hd" };
                need_type(caps, ty, &what)?;
                let (bus, unit) = if q35 {
                    if index > 5 {
                        return Err(CmdlineError::Unsupported(format!(
                            "{what}: q35 has 6 SATA ports"
                        )));
                    }
                    (index, 0)
                } else {
                    if disk.bus() == "sata" {
                        return Err(CmdlineError::Unsupported(format!(
                            "{what}: SATA needs the q35 machine"
                        )));
                    }
                    if index > 3 {
                        return Err(CmdlineError::Unsupported(format!(
                            "{what}: pc has 4 IDE slots"
                        )));
                    }
                    (index / 2, index % 2)
                };
                dev.insert("driver".into(), ty.into());
                dev.insert("bus".into(), format!("ide.{bus}").into());
                dev.insert("unit".into(), unit.into());
                let prefix = if disk.bus() == "sata" {
                    "sata0"
                } else {
                    "ide0"
                };
                dev.insert("id".into(), format!("{prefix}-{bus}-{unit}").into());
            }
            ("scsi", _) => {
                let ty = if cdrom { "scsi-cd" } else { "scsi-hd" };
                need_type(caps, ty, &what)?;
                dev.insert("driver".into(), ty.into());
                dev.insert("bus".into(), "scsi0.0".into());
                dev.insert("channel".into(), 0.into());
                dev.insert("scsi-id".into(), 0.into());
                dev.insert("lun".into(), index.into());
                dev.insert("id".into(), format!("scsi0-0-0-{index}").into());
            }
            (bus, _) => {
                return Err(CmdlineError::Unsupported(format!(
                    "disk bus '{bus}' for a {} ({what})",
                    disk.device
                )))
            }
        }
        if let Some(drv) = drive {
            dev.insert("drive".into(), drv.into());
        }
        if let Some(b) = boot.disks[i] {
            dev.insert("bootindex".into(), b.into());
        }
        if let Some(s) = &disk.serial {
            check("disk serial", s)?;
            dev.insert("serial".into(), s.as_str().into());
        }
        if let Some((_, wc)) = &cache_json {
            dev.insert("write-cache".into(), if *wc { "on" } else { "off" }.into());
        }
        push(&mut a, "-device", json_arg(&Value::Object(dev)));
    }

    // NICs.
    for (i, nic) in d.interfaces.iter().enumerate() {
        let what = format!("interface {i}");
        let id = format!("hostnet{i}");
        let netdev = match nic.if_type.as_str() {
            "user" => json!({"type": "user", "id": id}),
            "network" | "bridge" | "ethernet" => {
                let fd = env.tap_fds.get(i).copied().flatten().ok_or_else(|| {
                    CmdlineError::Unsupported(format!(
                        "{what} of type '{}' needs a tap fd opened by virtsh",
                        nic.if_type
                    ))
                })?;
                json!({"type": "tap", "fd": fd.to_string(), "id": id})
            }
            t => {
                return Err(CmdlineError::Unsupported(format!(
                    "interface type '{t}' ({what})"
                )))
            }
        };
        let model = nic.model.as_deref().unwrap_or("rtl8139");
        let driver = match model {
            "virtio" => "virtio-net-pci",
            "e1000" | "e1000e" | "rtl8139" | "vmxnet3" => model,
            m => {
                return Err(CmdlineError::Unsupported(format!(
                    "interface model '{m}' ({what})"
                )))
            }
        };
        need_type(caps, driver, &what)?;
        let mac = nic.mac.as_deref().ok_or_else(|| CmdlineError::BadValue {
            what: format!("MAC address of {what}"),
            value: String::new(),
            reason: "missing (the definition assigns one)".into(),
        })?;
        if !is_mac(mac) {
            return Err(CmdlineError::BadValue {
                what: format!("MAC address of {what}"),
                value: mac.into(),
                reason: "not a MAC address".into(),
            });
        }
        push(&mut a, "-netdev", json_arg(&netdev));
        let mut dev = Map::new();
        dev.insert("driver".into(), driver.into());
        dev.insert("netdev".into(), id.into());
        dev.insert("id".into(), format!("net{i}").into());
        dev.insert("mac".into(), mac.to_ascii_lowercase().into());
        if let Some(b) = boot.nets[i] {
            dev.insert("bootindex".into(), b.into());
        }
        push(&mut a, "-device", json_arg(&Value::Object(dev)));
    }

    // Serial ports (a serial console is the same port; other consoles are not done yet).
    for (i, c) in d.consoles.iter().enumerate() {
        let serial = c.target_type.as_deref() == Some("serial");
        if !(i == 0 && serial) {
            return Err(CmdlineError::Unsupported(format!(
                "console target type '{}'",
                c.target_type.as_deref().unwrap_or("")
            )));
        }
    }
    for c in &d.serials {
        let port = c.target_port.unwrap_or(0);
        let id = format!("charserial{port}");
        push(&mut a, "-chardev", chardev(c, &id)?);
        if !matches!(c.target_type.as_deref(), None | Some("isa-serial")) {
            return Err(CmdlineError::Unsupported(format!(
                "serial target type '{}'",
                c.target_type.as_deref().unwrap_or("")
            )));
        }
        need_type(caps, "isa-serial", "serial port")?;
        push(
            &mut a,
            "-device",
            json_arg(
                &json!({"driver": "isa-serial", "chardev": id, "id": format!("serial{port}"), "index": port}),
            ),
        );
    }

    // Graphics (libvirt's place: after serial ports, before video).
    a.extend(gfx);

    // Video, only with graphics (no graphics means -display none and no adapter).
    if !d.graphics.is_empty() {
        for (i, v) in d.videos.iter().enumerate() {
            let model = v
                .child("model")
                .and_then(|m| m.attr("type"))
                .unwrap_or("vga");
            let driver = match (model, i) {
                ("none", _) => continue,
                ("vga", 0) => "VGA",
                ("cirrus", 0) => "cirrus-vga",
                ("virtio", 0) => "virtio-vga",
                ("virtio", _) => "virtio-gpu-pci",
                ("bochs", _) => "bochs-display",
                (m, _) => {
                    return Err(CmdlineError::Unsupported(format!(
                        "video model '{m}' (device {i})"
                    )))
                }
            };
            need_type(caps, driver, "video")?;
            push(
                &mut a,
                "-device",
                json_arg(&json!({"driver": driver, "id": format!("video{i}")})),
            );
        }
    }

    // Balloon.
    if let Some(b) = &d.memballoon {
        match b.attr("model") {
            Some("none") => {}
            Some("virtio") => {
                need_type(caps, "virtio-balloon-pci", "memory balloon")?;
                push(
                    &mut a,
                    "-device",
                    json_arg(&json!({"driver": "virtio-balloon-pci", "id": "balloon0"})),
                );
            }
            m => {
                return Err(CmdlineError::Unsupported(format!(
                    "memballoon model '{}'",
                    m.unwrap_or("")
                )))
            }
        }
    }
    Ok(a)
}

/// A `-chardev` value for a serial port's host side.
fn chardev(c: &Chr, id: &str) -> Result<String, CmdlineError> {
    let path = |what: &str| -> Result<String, CmdlineError> {
        let p = c.source_path().ok_or_else(|| CmdlineError::BadValue {
            what: format!("{what} chardev"),
            value: String::new(),
            reason: "needs a source path".into(),
        })?;
        opt_value(&format!("{what} chardev path"), p)
    };
    Ok(match c.chr_type.as_str() {
        "pty" => format!("pty,id={id}"),
        "null" => format!("null,id={id}"),
        "file" => format!("file,id={id},path={}", path("file")?),
        "unix" => {
            let p = path("unix")?;
            let bind = c
                .sources
                .first()
                .and_then(|s| s.attr("mode"))
                .unwrap_or("bind")
                == "bind";
            if bind {
                format!("socket,id={id},path={p},server=on,wait=off")
            } else {
                format!("socket,id={id},path={p}")
            }
        }
        "tcp" => {
            let s = c.sources.first();
            let host = s.and_then(|s| s.attr("host")).unwrap_or("127.0.0.1");
            let port = s
                .and_then(|s| s.attr("service"))
                .ok_or_else(|| CmdlineError::BadValue {
                    what: "tcp chardev".into(),
                    value: String::new(),
                    reason: "needs a service (port)".into(),
                })?;
            if port.parse::<u16>().is_err() {
                return Err(CmdlineError::BadValue {
                    what: "tcp chardev port".into(),
                    value: port.into(),
                    reason: "not a port number".into(),
                });
            }
            let bind = s.and_then(|s| s.attr("mode")).unwrap_or("bind") == "bind";
            let tail = if bind { ",server=on,wait=off" } else { "" };
            if c.protocol.as_deref().is_some_and(|p| p != "raw") {
                return Err(CmdlineError::Unsupported(format!(
                    "tcp chardev protocol '{}'",
                    c.protocol.as_deref().unwrap_or("")
                )));
            }
            format!(
                "socket,id={id},host={},port={port}{tail}",
                opt_value("tcp chardev host", host)?
            )
        }
        t => return Err(CmdlineError::Unsupported(format!("chardev type '{t}'"))),
    })
}

/// `-vnc ...` for a `<graphics type='vnc'>`; empty without graphics.
pub fn graphics_args(def: &DomainDef, env: &CmdlineEnv) -> Result<Vec<String>, CmdlineError> {
    let g = &def.devices.graphics;
    if g.is_empty() {
        return Ok(Vec::new());
    }
    if g.len() > 1 {
        return Err(CmdlineError::Unsupported(
            "more than one graphics device".into(),
        ));
    }
    let g = &g[0];
    if g.attr("type") != Some("vnc") {
        return Err(CmdlineError::Unsupported(format!(
            "graphics type '{}'",
            g.attr("type").unwrap_or("")
        )));
    }
    if g.attr("passwd").is_some() {
        return Err(CmdlineError::Unsupported(
            "VNC passwords are not generated yet".into(),
        ));
    }
    let listen = g.child("listen");
    let socket = listen
        .filter(|l| l.attr("type") == Some("socket"))
        .and_then(|l| l.attr("socket"));
    let port: Option<i64> = g.attr("port").and_then(|p| p.parse().ok());
    let auto = g.attr("autoport") == Some("yes") || port.is_none_or(|p| p < 0);
    let value = if let Some(s) = socket {
        format!("unix:{}", opt_value("VNC socket path", s)?)
    } else if auto {
        // A port must be picked by whoever binds it; a pure generator cannot. A private unix
        // socket in the runtime directory needs no port and no firewalling.
        let p = env.runtime_dir.join("vnc.sock");
        let p = p.to_str().ok_or_else(|| CmdlineError::BadValue {
            what: "runtime directory".into(),
            value: env.runtime_dir.display().to_string(),
            reason: "not UTF-8".into(),
        })?;
        format!("unix:{}", opt_value("VNC socket path", p)?)
    } else {
        let port = port.unwrap_or(5900);
        if !(5900..=65535).contains(&port) {
            return Err(CmdlineError::BadValue {
                what: "VNC port".into(),
                value: port.to_string(),
                reason: "must be 5900..65535".into(),
            });
        }
        let addr = listen
            .and_then(|l| l.attr("address"))
            .unwrap_or("127.0.0.1");
        let addr = opt_value("VNC listen address", addr)?;
        let addr = if addr.contains(':') {
            format!("[{addr}]")
        } else {
            addr
        };
        format!("{addr}:{}", port - 5900)
    };
    // As libvirt: no sound through VNC unless configured, and no default audio backend.
    Ok(vec![
        "-audiodev".into(),
        json_arg(&json!({"id": "audio1", "driver": "none"})),
        "-vnc".into(),
        format!("{value},audiodev=audio1"),
    ])
}
