//! `<networkport>`: one guest NIC plugged into a virtual network (libvirt 9.0's
//! `virnetworkportdef.c`). The network driver stores one per port while the network runs, and
//! `net-port-dumpxml` shows it.
//!
//! The parser checks in libvirt's order, with its messages (most are internal errors there:
//! a port document is normally written by a hypervisor driver, not by people). The bandwidth,
//! vlan, virtualport and PCI address pieces are the network's own (`netdev`).

use super::addr::{format_mac, parse_mac, parse_uuid};
use super::helpers::{
    parse_root, prop_enum, prop_tristate, xpath_path_attr, xpath_text, yes_no, Src,
};
use super::netdev::{BandwidthDef, PciAddress, VirtualPortDef, VlanDef};
use crate::dom::Element;
use crate::error::XmlError;
use crate::units::str_to_ui;
use crate::writer::XmlWriter;
use uuid::Uuid;

/// virNetworkPortPlugType, in enum order.
const PLUG_TYPES: [&str; 5] = ["none", "network", "bridge", "direct", "hostdev-pci"];
/// virNetDevMacVLanMode, in enum order (the first is the default).
const MACVLAN_MODES: [&str; 4] = ["vepa", "private", "bridge", "passthrough"];
/// virNetworkBridgeMACTableManager: "default" (0) is not accepted in a port.
const MAC_TABLE_MANAGERS: [&str; 3] = ["default", "kernel", "libvirt"];
/// virNetworkForwardDriverName: "default" (0) is not accepted in a port.
const FORWARD_DRIVERS: [&str; 3] = ["default", "kvm", "vfio"];

/// Where the port is plugged in on the host (`<plug>`), filled in by the network driver when it
/// allocates the port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PortPlug {
    /// No `<plug>`: not allocated yet (what `net-port-create` takes).
    #[default]
    None,
    /// `type='network'`: the bridge of a virtual network (forward none, nat, route, open).
    Network {
        bridge: String,
        /// "kernel" or "libvirt".
        mac_table_manager: Option<String>,
    },
    /// `type='bridge'`: a host bridge (`<forward mode='bridge'>` with a bridge name).
    Bridge {
        bridge: String,
        mac_table_manager: Option<String>,
    },
    /// `type='direct'`: macvtap on a host NIC.
    Direct {
        dev: String,
        /// "vepa" (the default), "private", "bridge" or "passthrough".
        mode: String,
    },
    /// `type='hostdev-pci'`: a PCI device (an SR-IOV virtual function) passed through.
    HostdevPci {
        managed: Option<bool>,
        /// "kvm" or "vfio".
        driver: Option<String>,
        address: PciAddress,
    },
}

impl PortPlug {
    /// libvirt's name of the plug type.
    pub fn type_name(&self) -> &'static str {
        match self {
            PortPlug::None => "none",
            PortPlug::Network { .. } => "network",
            PortPlug::Bridge { .. } => "bridge",
            PortPlug::Direct { .. } => "direct",
            PortPlug::HostdevPci { .. } => "hostdev-pci",
        }
    }

    /// The bridge a guest NIC joins, for the plug types that have one.
    pub fn bridge(&self) -> Option<&str> {
        match self {
            PortPlug::Network { bridge, .. } | PortPlug::Bridge { bridge, .. } => Some(bridge),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPortDef {
    pub uuid: Uuid,
    /// The guest that owns the port.
    pub owner_name: String,
    pub owner_uuid: Uuid,
    /// The network's portgroup the port belongs to.
    pub group: Option<String>,
    /// Lower case, as libvirt formats it.
    pub mac: String,
    pub virtualport: Option<VirtualPortDef>,
    pub bandwidth: Option<BandwidthDef>,
    /// `<bandwidth classID=>`: the tc class of the port's 'floor' (0 when none).
    pub class_id: u32,
    pub vlan: Option<VlanDef>,
    /// `<port isolated=>`.
    pub isolated: Option<bool>,
    /// `<rxfilters trustGuest=>`.
    pub trust_guest_rx_filters: Option<bool>,
    pub plug: PortPlug,
}

impl NetworkPortDef {
    /// A port of guest `owner_name` for `mac`, not plugged in yet: what a hypervisor driver
    /// asks the network for.
    pub fn new(uuid: Uuid, owner_name: &str, owner_uuid: Uuid, mac: &str) -> NetworkPortDef {
        NetworkPortDef {
            uuid,
            owner_name: owner_name.to_string(),
            owner_uuid,
            group: None,
            mac: mac.to_string(),
            virtualport: None,
            bandwidth: None,
            class_id: 0,
            vlan: None,
            isolated: None,
            trust_guest_rx_filters: None,
            plug: PortPlug::None,
        }
    }

    /// virNetworkPortDefParse.
    pub fn parse(xml: &str) -> Result<NetworkPortDef, XmlError> {
        let root = parse_root(xml, "networkport")?;
        Self::from_element(xml, &root)
    }

    /// virNetworkPortDefParseXML, from an already parsed `<networkport>` element of `text`.
    pub fn from_element(text: &str, root: &Element) -> Result<NetworkPortDef, XmlError> {
        let src = Src { text };
        let at = |path: &str| root.at_path(path).unwrap_or(root);
        let Some(u) = xpath_text(root, "uuid") else {
            return Err(src.internal(root, "network port has no uuid"));
        };
        let uuid = parse_uuid(&u)
            .ok_or_else(|| src.internal(at("uuid"), format!("Unable to parse UUID '{u}'")))?;
        let Some(owner_name) = xpath_text(root, "owner/name") else {
            return Err(src.internal(at("owner"), "network port has no owner name"));
        };
        let Some(ou) = xpath_text(root, "owner/uuid") else {
            return Err(src.internal(at("owner"), "network port has no owner UUID"));
        };
        let owner_uuid = parse_uuid(&ou).ok_or_else(|| {
            src.internal(at("owner/uuid"), format!("Unable to parse UUID '{ou}'"))
        })?;
        let group = xpath_text(root, "group");
        let virtualport = match root.child("virtualport") {
            Some(v) => Some(VirtualPortDef::parse(src, v, false)?),
            None => None,
        };
        let Some(m) = xpath_path_attr(root, "mac", "address") else {
            return Err(src.internal(at("mac"), "network port has no mac"));
        };
        let mac = parse_mac(m)
            .map(|b| format_mac(&b))
            .ok_or_else(|| src.internal(at("mac"), format!("Unable to parse MAC '{m}'")))?;

        let (bandwidth, class_id) = match root.child("bandwidth") {
            Some(b) => parse_bandwidth(src, b)?,
            None => (None, 0),
        };
        let vlan = match root.child("vlan") {
            Some(v) => Some(VlanDef::parse(src, v)?),
            None => None,
        };
        let isolated = match root.child("port") {
            Some(p) => prop_tristate(src, p, "isolated")?,
            None => None,
        };
        let trust_guest_rx_filters = match root.child("rxfilters") {
            Some(r) => prop_tristate(src, r, "trustGuest")?,
            None => None,
        };
        let plug = match root.child("plug") {
            Some(p) => parse_plug(src, p)?,
            None => PortPlug::None,
        };
        Ok(NetworkPortDef {
            uuid,
            owner_name,
            owner_uuid,
            group,
            mac,
            virtualport,
            bandwidth,
            class_id,
            vlan,
            isolated,
            trust_guest_rx_filters,
            plug,
        })
    }

    /// virNetworkPortDefFormat.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("networkport", &[]);
        w.text("uuid", &[], &self.uuid.to_string());
        w.start("owner", &[]);
        w.text("name", &[], &self.owner_name);
        w.text("uuid", &[], &self.owner_uuid.to_string());
        w.end("owner");
        w.opt_text("group", self.group.as_deref());
        w.empty("mac", &[("address", &self.mac)]);
        if let Some(v) = &self.virtualport {
            v.format(&mut w);
        }
        if let Some(b) = &self.bandwidth {
            format_bandwidth(&mut w, b, self.class_id);
        }
        if let Some(v) = &self.vlan {
            v.format(&mut w);
        }
        if let Some(i) = self.isolated {
            w.empty("port", &[("isolated", yes_no(i))]);
        }
        if let Some(t) = self.trust_guest_rx_filters {
            w.empty("rxfilters", &[("trustGuest", yes_no(t))]);
        }
        match &self.plug {
            PortPlug::None => {}
            PortPlug::Network {
                bridge,
                mac_table_manager,
            }
            | PortPlug::Bridge {
                bridge,
                mac_table_manager,
            } => {
                let t = self.plug.type_name();
                match mac_table_manager {
                    Some(m) => w.empty(
                        "plug",
                        &[("type", t), ("bridge", bridge), ("macTableManager", m)],
                    ),
                    None => w.empty("plug", &[("type", t), ("bridge", bridge)]),
                }
            }
            PortPlug::Direct { dev, mode } => {
                w.empty("plug", &[("type", "direct"), ("dev", dev), ("mode", mode)]);
            }
            PortPlug::HostdevPci {
                managed,
                driver,
                address,
            } => {
                match managed {
                    Some(m) => w.start("plug", &[("type", "hostdev-pci"), ("managed", yes_no(*m))]),
                    None => w.start("plug", &[("type", "hostdev-pci")]),
                }
                if let Some(d) = driver {
                    w.empty("driver", &[("name", d)]);
                }
                address.format(&mut w, false);
                w.end("plug");
            }
        }
        w.end("networkport");
        w.finish()
    }
}

/// virNetDevBandwidthParse with a class ID allowed and 'floor' allowed (a port's bandwidth is
/// checked against the network when it is plugged in, not here).
fn parse_bandwidth(src: Src, el: &Element) -> Result<(Option<BandwidthDef>, u32), XmlError> {
    let mut class_id = 0;
    if let Some(c) = el.attr("classID") {
        class_id = str_to_ui(c, 10)
            .ok_or_else(|| src.internal(el, format!("Unable to parse class id '{c}'")))?;
    }
    // The shared parser refuses classID (networks and portgroups have none); it is read above.
    let mut rest = el.clone();
    rest.attrs.retain(|(k, _)| k != "classID");
    Ok((BandwidthDef::parse(src, &rest, true)?, class_id))
}

/// virNetDevBandwidthFormat with a class ID.
fn format_bandwidth(w: &mut XmlWriter, b: &BandwidthDef, class_id: u32) {
    if class_id == 0 {
        b.format(w);
        return;
    }
    // The shared formatter writes a bare `<bandwidth>`; the port's carries its class.
    let mut inner = XmlWriter::new();
    b.format(&mut inner);
    let text = inner.finish();
    let text = text.replacen(
        "<bandwidth>",
        &format!("<bandwidth classID='{class_id}'>"),
        1,
    );
    w.raw_lines(&text);
}

fn parse_plug(src: Src, p: &Element) -> Result<PortPlug, XmlError> {
    let kind = prop_enum(src, p, "type", &PLUG_TYPES, false, false)?;
    Ok(match kind.as_deref().unwrap_or("none") {
        "network" | "bridge" => {
            // virXMLPropString: an empty attribute is still a value.
            let Some(bridge) = p.attr("bridge") else {
                return Err(src.xml(p, "Missing network port bridge name"));
            };
            let mac_table_manager = match p.attr("macTableManager") {
                None => None,
                Some(m) => match MAC_TABLE_MANAGERS.iter().position(|x| *x == m) {
                    Some(i) if i > 0 => Some(m.to_string()),
                    _ => {
                        return Err(src.xml(
                            p,
                            format!("Invalid macTableManager setting '{m}' in network port"),
                        ))
                    }
                },
            };
            let bridge = bridge.to_string();
            if kind.as_deref() == Some("network") {
                PortPlug::Network {
                    bridge,
                    mac_table_manager,
                }
            } else {
                PortPlug::Bridge {
                    bridge,
                    mac_table_manager,
                }
            }
        }
        "direct" => {
            let Some(dev) = p.attr("dev") else {
                return Err(src.xml(p, "Missing network port link device name"));
            };
            let mode = match p.attr("mode") {
                None => MACVLAN_MODES[0].to_string(),
                Some(m) if MACVLAN_MODES.contains(&m) => m.to_string(),
                Some(m) => {
                    return Err(src.xml(p, format!("Invalid mode setting '{m}' in network port")))
                }
            };
            PortPlug::Direct {
                dev: dev.to_string(),
                mode,
            }
        }
        "hostdev-pci" => {
            let managed = prop_tristate(src, p, "managed")?;
            let driver_el = p.child("driver");
            let driver = match driver_el
                .and_then(|d| d.attr("name"))
                .filter(|n| !n.is_empty())
            {
                None => None,
                Some(n) => match FORWARD_DRIVERS.iter().position(|x| *x == n) {
                    Some(i) if i > 0 => Some(n.to_string()),
                    _ => {
                        return Err(
                            src.xml(driver_el.unwrap_or(p), "Missing network port driver name")
                        )
                    }
                },
            };
            let Some(a) = p.child("address") else {
                return Err(src.xml(p, "Missing network port PCI address"));
            };
            PortPlug::HostdevPci {
                managed,
                driver,
                address: PciAddress::parse(src, a)?,
            }
        }
        _ => PortPlug::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "<networkport>
  <uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid>
  <owner>
    <name>memtest</name>
    <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>
  </owner>
";

    fn err(xml: &str) -> String {
        match NetworkPortDef::parse(xml) {
            Ok(d) => panic!("accepted: {d:?}"),
            Err(e) => e.libvirt_message("networkport_definition", xml),
        }
    }

    fn with(body: &str) -> String {
        format!("{HEAD}{body}</networkport>\n")
    }

    #[test]
    fn required_parts_are_libvirts_internal_errors() {
        assert_eq!(
            err("<networkport/>"),
            "internal error: network port has no uuid"
        );
        assert_eq!(
            err("<networkport><uuid>nope</uuid></networkport>"),
            "internal error: Unable to parse UUID 'nope'"
        );
        assert_eq!(
            err("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid></networkport>"),
            "internal error: network port has no owner name"
        );
        assert_eq!(
            err(
                "<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid>\
                 <owner><name>g</name></owner></networkport>"
            ),
            "internal error: network port has no owner UUID"
        );
        assert_eq!(err(&with("")), "internal error: network port has no mac");
        assert_eq!(
            err(&with("<mac address='52:54:00:zz:35:93'/>")),
            "internal error: Unable to parse MAC '52:54:00:zz:35:93'"
        );
        assert_eq!(
            err("<network/>"),
            "XML error: expecting root element of 'networkport', not 'network'"
        );
    }

    #[test]
    fn plug_checks_are_libvirts() {
        let mac = "<mac address='52:54:00:7b:35:93'/>";
        let cases = [
            (
                "<plug type='bogus'/>",
                "XML error: Invalid value for attribute 'type' in element 'plug': 'bogus'.",
            ),
            (
                "<plug type='bridge'/>",
                "XML error: Missing network port bridge name",
            ),
            (
                "<plug type='network' bridge='virbr0' macTableManager='default'/>",
                "XML error: Invalid macTableManager setting 'default' in network port",
            ),
            (
                "<plug type='direct'/>",
                "XML error: Missing network port link device name",
            ),
            (
                "<plug type='direct' dev='eth0' mode='x'/>",
                "XML error: Invalid mode setting 'x' in network port",
            ),
            (
                "<plug type='hostdev-pci'><driver name='default'/><address/></plug>",
                "XML error: Missing network port driver name",
            ),
            (
                "<plug type='hostdev-pci'/>",
                "XML error: Missing network port PCI address",
            ),
            (
                "<rxfilters trustGuest='maybe'/>",
                "XML error: Invalid value for attribute 'trustGuest' in element 'rxfilters': 'maybe'.",
            ),
            (
                "<bandwidth classID='x'><inbound average='1'/></bandwidth>",
                "internal error: Unable to parse class id 'x'",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(err(&with(&format!("{mac}{body}"))), want, "{body}");
        }
    }

    #[test]
    fn defaults_are_filled_as_libvirt_formats_them() {
        let d = NetworkPortDef::parse(&with(
            "<mac address='52:54:00:7B:35:93'/><plug type='direct' dev='eth0'/>",
        ))
        .expect("parse");
        assert_eq!(d.mac, "52:54:00:7b:35:93");
        assert!(d
            .to_xml()
            .contains("<plug type='direct' dev='eth0' mode='vepa'/>"));
        // A class ID without any rate is dropped with the bandwidth, as libvirt does.
        let d = NetworkPortDef::parse(&with(
            "<mac address='52:54:00:7b:35:93'/><bandwidth classID='3'/>",
        ))
        .expect("parse");
        assert!(!d.to_xml().contains("bandwidth"));
    }
}
