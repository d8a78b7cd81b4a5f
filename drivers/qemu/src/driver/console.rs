//! The guest's text console (libvirt's qemuDomainOpenConsole): the character device that
//! `--devname` names, found as libvirt finds it, and its pty opened for one session at a time.

use std::path::PathBuf;

use virtsh_api::console::{ConsoleStream, CONSOLE_FORCE, CONSOLE_SAFE};
use virtsh_api::{Domain, DomainDriver, Error, Result};
use virtsh_xml::dom::Element;

use super::QemuDriver;

pub(super) fn open_console(
    drv: &QemuDriver,
    dom: &Domain,
    devname: Option<&str>,
    flags: u32,
) -> Result<ConsoleStream> {
    // SAFE: a pty relayed by the caller is safe console handling, as libvirt's QEMU driver
    // accepts it for ptys.
    virtsh_api::flags::check(flags, CONSOLE_FORCE | CONSOLE_SAFE, "qemuDomainOpenConsole")?;
    drv.view_of(dom)?.check_active()?;
    let xml = drv.domain_xml(dom, 0)?;
    let root = virtsh_xml::dom::parse(&xml).map_err(|e| Error::internal(e.to_string()))?;
    let hvm = root.text_at("os/type") == Some("hvm");
    let devices = chr_devices(&root, hvm);
    let chr = find_chr(&devices, devname).ok_or_else(|| {
        Error::internal(format!(
            "cannot find character device {}",
            devname.unwrap_or("<null>")
        ))
    })?;
    if chr.chr_type != "pty" {
        return Err(Error::internal(format!(
            "character device {} is not using a PTY",
            devname.unwrap_or(&chr.alias)
        )));
    }
    let Some(path) = chr.path.clone() else {
        return Err(Error::internal("PTY device is not yet assigned"));
    };
    let session =
        virtsh_state::chrdev::open_pty_exclusive(&PathBuf::from(path), flags & CONSOLE_FORCE != 0)?;
    Ok(ConsoleStream::new(session.fd, Box::new(session.pid_file)))
}

/// A character device of the live XML, with the alias libvirt's QEMU driver gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ChrDev {
    /// console, serial, parallel, channel.
    device: String,
    chr_type: String,
    path: Option<String>,
    alias: String,
    /// Other names `--devname` accepts: `consoleN` for a console that is an alias of a serial
    /// port, a channel's target name.
    other_names: Vec<String>,
}

fn chr_devices(root: &Element, hvm: bool) -> Vec<ChrDev> {
    let Some(devices) = root.child("devices") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for kind in ["console", "serial", "parallel", "channel"] {
        for (i, el) in devices.children_named(kind).enumerate() {
            let target = el.child("target");
            let target_type = target.and_then(|t| t.attr("type"));
            // qemuAssignDeviceAliases: the first console of an HVM guest that targets a serial
            // port is that port, and shares its alias.
            let serial_compat =
                kind == "console" && i == 0 && hvm && matches!(target_type, None | Some("serial"));
            let computed = if serial_compat {
                "serial0".to_string()
            } else {
                format!("{kind}{i}")
            };
            let alias = el
                .child("alias")
                .and_then(|a| a.attr("name"))
                .map(str::to_string)
                .unwrap_or_else(|| computed.clone());
            let mut other_names = Vec::new();
            if computed != alias {
                other_names.push(computed);
            }
            if kind == "console" && serial_compat {
                other_names.push("console0".into());
            }
            if kind == "channel" {
                if let Some(n) = target.and_then(|t| t.attr("name")) {
                    other_names.push(n.to_string());
                }
            }
            out.push(ChrDev {
                device: kind.to_string(),
                chr_type: el.attr("type").unwrap_or("pty").to_string(),
                path: el
                    .child("source")
                    .and_then(|s| s.attr("path"))
                    .map(str::to_string),
                alias,
                other_names,
            });
        }
    }
    out
}

/// qemuDomainOpenConsole's choice: by alias among consoles, then serial ports, then parallel
/// ports (then, beyond libvirt, channels by alias or target name); without a name, the first
/// console, else the first serial port.
fn find_chr<'a>(devices: &'a [ChrDev], devname: Option<&str>) -> Option<&'a ChrDev> {
    let of = |kind: &'a str| devices.iter().filter(move |d| d.device == kind);
    match devname {
        Some(name) => ["console", "serial", "parallel", "channel"]
            .iter()
            .find_map(|k| of(k).find(|d| d.alias == name))
            .or_else(|| {
                devices
                    .iter()
                    .find(|d| d.other_names.iter().any(|n| n == name))
            }),
        None => of("console").next().or_else(|| of("serial").next()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(xml: &str) -> Vec<ChrDev> {
        let root = virtsh_xml::dom::parse(xml).unwrap();
        chr_devices(&root, true)
    }

    const LIVE: &str = "<domain><devices>\
        <serial type='pty'><source path='/dev/pts/3'/><target port='0'/></serial>\
        <serial type='file'><source path='/tmp/log'/><target port='1'/></serial>\
        <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/>\
        <target type='serial' port='0'/></console>\
        <channel type='pty'><source path='/dev/pts/4'/>\
        <target type='virtio' name='org.example.0'/></channel>\
        </devices></domain>";

    #[test]
    fn devname_matches_libvirt_aliases() {
        let d = devices(LIVE);
        let by = |n: Option<&str>| find_chr(&d, n).map(|c| (c.device.as_str(), c.path.clone()));
        assert_eq!(by(None), Some(("console", Some("/dev/pts/3".into()))));
        assert_eq!(by(Some("serial0")).unwrap().0, "console");
        assert_eq!(by(Some("console0")).unwrap().0, "console");
        assert_eq!(by(Some("serial1")).unwrap().0, "serial");
        assert_eq!(
            by(Some("channel0")).unwrap().1.as_deref(),
            Some("/dev/pts/4")
        );
        assert_eq!(by(Some("org.example.0")).unwrap().0, "channel");
        assert_eq!(by(Some("nope")), None);
    }
}
