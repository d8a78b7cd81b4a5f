//! `<channel>` devices on virtio-serial ports (the guest agent's `org.qemu.guest_agent.0`, or
//! any named port), and the `virtio-serial` controller they sit on, as libvirt 9.0 writes them:
//!
//! ```text
//! -device {"driver":"virtio-serial-pci","id":"virtio-serial0"}
//! -chardev socket,id=charchannel0,path=/run/.../org.qemu.guest_agent.0,server=on,wait=off
//! -device {"bus":"virtio-serial0.0","chardev":"charchannel0","driver":"virtserialport",
//!          "id":"channel0","name":"org.qemu.guest_agent.0","nr":1}
//! ```
//!
//! A unix channel without a source path gets one in the guest's runtime directory from
//! [`assign_channel_paths`] before the command line is built (libvirt puts it under
//! `/var/lib/libvirt/qemu/channel/target/`), so the live XML records where the socket is.

use std::path::Path;

use serde_json::{Map, Value};
use virtsh_xml::domain::{Chr, DomainDef, Node};

use super::escape::opt_value;
use super::{json_arg, need_type, CmdlineError};
use crate::caps::QemuCaps;

/// The name of the guest agent's virtio-serial port.
pub const GUEST_AGENT_PORT: &str = "org.qemu.guest_agent.0";

/// Give every unix `<channel>` without a source path `<source mode='bind' path='DIR/NAME'/>`,
/// NAME being the port's target name (short: a unix socket path must stay below 108 bytes),
/// or `channelN` for an unnamed port.
pub fn assign_channel_paths(def: &mut DomainDef, runtime_dir: &Path) {
    for (i, c) in def.devices.channels.iter_mut().enumerate() {
        if c.chr_type != "unix" || c.source_path().is_some() {
            continue;
        }
        let file = c
            .target_extra
            .attr("name")
            .filter(|n| !n.is_empty() && !n.contains('/') && *n != "." && *n != "..")
            .map(str::to_string)
            .unwrap_or_else(|| format!("channel{i}"));
        let path = runtime_dir.join(file);
        c.sources.retain(|s| s.attr("path").is_some());
        c.sources.insert(
            0,
            Node::with_attrs(
                "source",
                &[("mode", "bind"), ("path", &path.to_string_lossy())],
            ),
        );
    }
}

/// `-device virtio-serial-pci` for each `<controller type='virtio-serial'>` (libvirt's place:
/// with the other controllers, before the disks).
pub fn controller_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    for c in &def.devices.controllers {
        if c.controller_type != "virtio-serial" {
            continue;
        }
        need_type(caps, "virtio-serial-pci", "virtio-serial controller")?;
        let mut dev = Map::new();
        dev.insert("driver".into(), "virtio-serial-pci".into());
        dev.insert("id".into(), format!("virtio-serial{}", c.index).into());
        for (attr, key) in [("ports", "max_ports"), ("vectors", "vectors")] {
            if let Some(v) = c.extra.attr(attr) {
                let n: u32 = v.parse().map_err(|_| CmdlineError::BadValue {
                    what: format!("virtio-serial controller {attr}"),
                    value: v.to_string(),
                    reason: "not a number".into(),
                })?;
                dev.insert(key.into(), n.into());
            }
        }
        a.push("-device".to_string());
        a.push(json_arg(&Value::Object(dev)));
    }
    Ok(a)
}

/// `-chardev` and `-device virtserialport` for every `<channel>` (libvirt's place: after the
/// serial and parallel ports).
pub fn channel_args(def: &DomainDef, caps: &QemuCaps) -> Result<Vec<String>, CmdlineError> {
    let mut a = Vec::new();
    let mut used: Vec<(u32, u32, u32)> = def
        .devices
        .channels
        .iter()
        .filter_map(|c| virtio_serial_address(c).ok().flatten())
        .collect();
    for (i, c) in def.devices.channels.iter().enumerate() {
        if c.target_type.as_deref() != Some("virtio") {
            return Err(CmdlineError::Unsupported(format!(
                "channel target type '{}' is not generated yet",
                c.target_type.as_deref().unwrap_or("")
            )));
        }
        need_type(caps, "virtserialport", "virtio channel")?;
        let (controller, bus, port) = match virtio_serial_address(c)? {
            Some(addr) => addr,
            None => {
                // The first free port of controller 0, bus 0 (port 0 is the console's).
                let port = (1..)
                    .find(|p| !used.contains(&(0, 0, *p)))
                    .expect("a free port");
                used.push((0, 0, port));
                (0, 0, port)
            }
        };
        if !def
            .devices
            .controllers
            .iter()
            .any(|x| x.controller_type == "virtio-serial" && x.index == controller)
        {
            return Err(CmdlineError::Unsupported(format!(
                "channel {i} needs virtio-serial controller {controller}, which is not defined"
            )));
        }
        let id = format!("charchannel{i}");
        a.push("-chardev".to_string());
        a.push(chardev(c, &id)?);
        let mut dev = Map::new();
        dev.insert("driver".into(), "virtserialport".into());
        dev.insert(
            "bus".into(),
            format!("virtio-serial{controller}.{bus}").into(),
        );
        dev.insert("nr".into(), port.into());
        dev.insert("chardev".into(), id.into());
        dev.insert("id".into(), format!("channel{i}").into());
        if let Some(name) = c.target_extra.attr("name") {
            super::escape::check("channel target name", name)?;
            dev.insert("name".into(), name.into());
        }
        a.push("-device".to_string());
        a.push(json_arg(&Value::Object(dev)));
    }
    Ok(a)
}

/// The `<address type='virtio-serial' controller bus port>` of a channel, if it has one.
fn virtio_serial_address(c: &Chr) -> Result<Option<(u32, u32, u32)>, CmdlineError> {
    let Some(addr) = c.info.address.as_ref() else {
        return Ok(None);
    };
    if addr.attr("type") != Some("virtio-serial") {
        return Err(CmdlineError::Unsupported(format!(
            "channel address type '{}'",
            addr.attr("type").unwrap_or("")
        )));
    }
    let num = |k: &str| -> Result<Option<u32>, CmdlineError> {
        match addr.attr(k) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| CmdlineError::BadValue {
                what: format!("virtio-serial address {k}"),
                value: v.to_string(),
                reason: "not a number".into(),
            }),
        }
    };
    let (controller, bus) = (num("controller")?.unwrap_or(0), num("bus")?.unwrap_or(0));
    Ok(num("port")?.map(|port| (controller, bus, port)))
}

/// The host side of a channel.
fn chardev(c: &Chr, id: &str) -> Result<String, CmdlineError> {
    let path = |what: &str| -> Result<String, CmdlineError> {
        let p = c.source_path().ok_or_else(|| CmdlineError::BadValue {
            what: format!("{what} channel"),
            value: String::new(),
            reason: "needs a source path".into(),
        })?;
        opt_value(&format!("{what} channel path"), p)
    };
    Ok(match c.chr_type.as_str() {
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
        "pty" => format!("pty,id={id}"),
        "null" => format!("null,id={id}"),
        "file" => format!("file,id={id},path={}", path("file")?),
        t => {
            return Err(CmdlineError::Unsupported(format!(
                "channel type '{t}' is not generated yet"
            )))
        }
    })
}

/// Whether `c` is the guest agent's channel (a virtio port named `org.qemu.guest_agent.0`).
pub fn is_guest_agent(c: &Chr) -> bool {
    c.device == "channel"
        && c.target_type.as_deref() == Some("virtio")
        && c.target_extra.attr("name") == Some(GUEST_AGENT_PORT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use virtsh_xml::domain::ParseOptions;

    fn def(devices: &str) -> DomainDef {
        DomainDef::parse_with(
            &format!(
                "<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>\
                 <os><type arch='x86_64' machine='pc'>hvm</type></os>\
                 <devices>{devices}</devices></domain>"
            ),
            &ParseOptions {
                default_arch: "x86_64".into(),
                live: false,
            },
        )
        .expect("parses")
    }

    #[test]
    fn paths_are_assigned_by_target_name() {
        let mut d = def("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\
             <channel type='unix'><target type='virtio'/></channel>\
             <channel type='unix'><source mode='bind' path='/x/y'/><target type='virtio' name='z'/></channel>");
        assign_channel_paths(&mut d, Path::new("/run/virtsh/qemu/c"));
        let paths: Vec<_> = d
            .devices
            .channels
            .iter()
            .map(|c| c.source_path().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/run/virtsh/qemu/c/org.qemu.guest_agent.0",
                "/run/virtsh/qemu/c/channel1",
                "/x/y"
            ]
        );
        assert_eq!(d.devices.channels[0].sources[0].attr("mode"), Some("bind"));
        assert!(is_guest_agent(&d.devices.channels[0]));
        assert!(!is_guest_agent(&d.devices.channels[2]));
    }

    #[test]
    fn ports_skip_the_ones_taken() {
        let d = def("<channel type='unix'><source mode='bind' path='/a'/><target type='virtio' name='a'/></channel>\
             <channel type='unix'><source mode='bind' path='/b'/><target type='virtio' name='b'/>\
             <address type='virtio-serial' controller='0' bus='0' port='1'/></channel>");
        let caps = crate::caps::QemuCaps {
            qom_types: vec!["virtio-serial-pci".into(), "virtserialport".into()],
            ..test_caps()
        };
        let args = channel_args(&d, &caps).unwrap();
        let devs: Vec<Value> = args
            .iter()
            .filter(|a| a.starts_with('{'))
            .map(|a| serde_json::from_str(a).unwrap())
            .collect();
        assert_eq!(devs[0]["nr"], 2);
        assert_eq!(devs[1]["nr"], 1);
        assert_eq!(
            controller_args(&d, &caps).unwrap(),
            [
                "-device",
                r#"{"driver":"virtio-serial-pci","id":"virtio-serial0"}"#
            ]
        );
    }

    fn test_caps() -> crate::caps::QemuCaps {
        serde_json::from_value(json!({
            "format": crate::caps::CACHE_FORMAT,
            "key": {"path": "/q", "size": 1, "mtime_ns": 1},
            "probe_accel": "tcg",
            "version": {"major": 7, "minor": 2, "micro": 0, "package": ""},
            "machines": [],
            "cpu_models": [],
            "qom_types": [],
            "commands": [],
            "kvm_present": false,
            "kvm_enabled": false
        }))
        .expect("caps JSON")
    }
}
