//! Device XML documents: parsing one device as a definition would, finding the interface it names.

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{Disk, DomainDef, NetInterface};

use super::device_missing;
use crate::driver::parse_options;

/// One device of a device XML document.
pub(super) enum Device {
    Disk(Box<Disk>),
    Net(Box<NetInterface>, bool),
    /// Any other kind, by libvirt's device type name.
    Other(String),
}

/// The root element's name and the document from it on (no declaration, no comments).
fn root_element(xml: &str) -> Option<(String, &str)> {
    let mut s = xml.trim_start();
    loop {
        if let Some(r) = s.strip_prefix("<?") {
            s = r.split_once("?>")?.1.trim_start();
        } else if let Some(r) = s.strip_prefix("<!--") {
            s = r.split_once("-->")?.1.trim_start();
        } else {
            break;
        }
    }
    let r = s.strip_prefix('<')?;
    let name: String = r
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    (!name.is_empty()).then_some((name, s))
}

/// virDomainDeviceTypeToString for an element name.
fn device_type_name(element: &str) -> &str {
    match element {
        "interface" => "net",
        "filesystem" => "fs",
        "serial" | "parallel" | "console" | "channel" => "chr",
        other => other,
    }
}

const DEVICE_ELEMENTS: &[&str] = &[
    "disk",
    "lease",
    "filesystem",
    "interface",
    "input",
    "sound",
    "video",
    "hostdev",
    "watchdog",
    "controller",
    "graphics",
    "hub",
    "redirdev",
    "smartcard",
    "serial",
    "parallel",
    "console",
    "channel",
    "memballoon",
    "nvram",
    "rng",
    "shmem",
    "tpm",
    "panic",
    "memory",
    "iommu",
    "vsock",
    "audio",
    "crypto",
];

/// Parse a device XML document the way a definition holding it would be parsed (defaults
/// applied: the bus from the target name, a generated MAC).
pub(super) fn parse_device(xml: &str, dom: &DomainDef) -> Result<Device> {
    let Some((root, body)) = root_element(xml) else {
        return Err(Error::new(
            ErrorKind::XmlError,
            "(device_definition):1: Document is empty",
        ));
    };
    if !DEVICE_ELEMENTS.contains(&root.as_str()) {
        return Err(Error::new(
            ErrorKind::XmlError,
            format!("unknown device type '{root}'"),
        ));
    }
    if root != "disk" && root != "interface" {
        return Ok(Device::Other(device_type_name(&root).to_string()));
    }
    let arch = dom.os.arch.as_deref().unwrap_or("x86_64");
    let wrapped = format!(
        "<domain type='{}'><name>device</name><memory unit='KiB'>{}</memory>\
         <os><type arch='{arch}'>hvm</type></os><devices>{body}</devices></domain>",
        dom.virt_type,
        dom.memory_kib.max(1)
    );
    let def = DomainDef::parse_with(&wrapped, &parse_options())
        .map_err(|e| e.api_error("device_definition", &wrapped))?;
    let mut d = def.devices;
    if root == "disk" {
        let disk = d
            .disks
            .pop()
            .ok_or_else(|| Error::internal("no disk in the device XML"))?;
        Ok(Device::Disk(Box::new(disk)))
    } else {
        let net = d
            .interfaces
            .pop()
            .ok_or_else(|| Error::internal("no interface in the device XML"))?;
        let mac_given = body.contains("<mac");
        Ok(Device::Net(Box::new(net), mac_given))
    }
}

pub(super) fn same_mac(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// virDomainNetFindIdx: the interface of `def` that `net` names.
pub(super) fn find_net(def: &DomainDef, net: &NetInterface, mac_given: bool) -> Result<usize> {
    let mut found = None;
    for (i, n) in def.devices.interfaces.iter().enumerate() {
        if mac_given && !same_mac(n.mac.as_deref(), net.mac.as_deref()) {
            continue;
        }
        if let (Some(a), Some(b)) = (&net.info.alias, &n.info.alias) {
            if a != b {
                continue;
            }
        }
        if found.is_some() {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                if mac_given {
                    format!(
                        "multiple devices matching MAC address {} found",
                        net.mac.as_deref().unwrap_or("")
                    )
                } else {
                    "multiple matching devices found".to_string()
                },
            ));
        }
        found = Some(i);
    }
    found.ok_or_else(|| {
        device_missing(format!(
            "no device found at address '(<null>)' matching MAC address '{}' and alias '{}'",
            if mac_given {
                net.mac.as_deref().unwrap_or("")
            } else {
                "00:00:00:00:00:00"
            },
            net.info.alias.as_deref().unwrap_or("(null)")
        ))
    })
}
