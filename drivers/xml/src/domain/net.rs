//! `<interface>`: parse, MAC addresses (libvirt's `52:54:00` prefix when none is given), and the
//! format order of virDomainNetDefFormat.

use super::devices::{parse_info, DeviceInfo};
use super::node::{canonical, Node};
use super::{enum_attr, err};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

const NET_TYPES: &[&str] = &[
    "user",
    "ethernet",
    "vhostuser",
    "server",
    "client",
    "mcast",
    "network",
    "bridge",
    "internal",
    "direct",
    "hostdev",
    "udp",
    "vdpa",
    "null",
    "vds",
];

const VIRTIO_MODELS: &[&str] = &["virtio", "virtio-transitional", "virtio-non-transitional"];

/// Interface names libvirt generates itself; a definition that carries one gets a new one.
const GENERATED_PREFIXES: &[&str] = &["vnet", "macvtap", "macvlan"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetInterface {
    /// network, bridge, user, direct, ethernet, ...
    pub if_type: String,
    /// Lower-case `aa:bb:cc:dd:ee:ff`; generated at parse time when absent.
    pub mac: Option<String>,
    /// `type` and `check` on `<mac>`.
    pub mac_extra: Vec<(String, String)>,
    /// What `virsh domiflist` shows as source: the network, bridge or host device.
    pub source: Option<String>,
    /// The rest of `<source>` (portgroup, mode, ...).
    pub source_extra: Node,
    pub model: Option<String>,
    pub target_dev: Option<String>,
    /// `<target managed='no'>` for ethernet interfaces.
    pub target_managed: Option<String>,
    /// `<link state='up|down'>`.
    pub link_state: Option<String>,
    /// vlan, virtualport, bandwidth, driver, filterref, mtu, ... kept canonical.
    pub extra: Vec<Node>,
    pub info: DeviceInfo,
}

/// virDomainNetDefFormat's order of children (device info follows).
const ORDER: &[&str] = &[
    "mac",
    "source",
    "vlan",
    "virtualport",
    "bandwidth",
    "port",
    "ip",
    "route",
    "script",
    "downscript",
    "backenddomain",
    "target",
    "guest",
    "model",
    "driver",
    "backend",
    "filterref",
    "tune",
    "teaming",
    "link",
    "mtu",
    "coalesce",
];

impl NetInterface {
    /// The `<source>` attribute that [`NetInterface::source`] stands for.
    fn source_attr(&self) -> Option<&'static str> {
        match self.if_type.as_str() {
            "network" => Some("network"),
            "bridge" => Some("bridge"),
            "direct" | "vdpa" => Some("dev"),
            "vhostuser" => Some("path"),
            "internal" => Some("name"),
            "server" | "client" | "mcast" | "udp" => Some("address"),
            _ => None,
        }
    }

    /// The host bridge this NIC joins: the source of `type='bridge'`, and for
    /// `type='network'` the bridge its network had when the guest started (live XML only).
    pub fn host_bridge(&self) -> Option<&str> {
        match self.if_type.as_str() {
            "bridge" => self.source.as_deref(),
            "network" => self.source_extra.attr("bridge"),
            _ => None,
        }
    }

    pub fn is_virtio(&self) -> bool {
        self.model
            .as_deref()
            .is_some_and(|m| VIRTIO_MODELS.contains(&m))
    }

    /// The interface's `<bandwidth>`, read as libvirt's virNetDevBandwidthParse does: `floor`
    /// is allowed only for `type='network'`; `None` without the element or without any
    /// `<inbound>`/`<outbound>`. An invalid element is an error in libvirt's words.
    pub fn bandwidth(&self) -> Result<Option<crate::network::BandwidthDef>, XmlError> {
        let Some(node) = self.extra.iter().find(|n| n.name == "bandwidth") else {
            return Ok(None);
        };
        let el = node_element(node);
        let src = crate::network::helpers::Src { text: "" };
        let allow_floor = self.if_type == "network";
        crate::network::BandwidthDef::parse(src, &el, allow_floor).map_err(|mut e| {
            // The element is no longer in its source text: a position would point nowhere.
            e.line = None;
            e.column = None;
            e.span = None;
            e
        })
    }
}

/// An element for the parsers that read [`Element`]s (no source position).
fn node_element(n: &Node) -> Element {
    Element {
        name: n.name.clone(),
        attrs: n.attrs.clone(),
        children: n.children.iter().map(node_element).collect(),
        text: n.text.clone().unwrap_or_default(),
        offset: 0,
    }
}

/// A MAC in libvirt's `52:54:00` range, random in its last three bytes.
pub fn generate_mac() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// virMacAddrParse, shared with the network model.
pub use crate::network::parse_mac;

/// `live`: keep generated target names (see [`super::ParseOptions::live`]).
pub fn parse(text: &str, el: &Element, live: bool) -> Result<NetInterface, XmlError> {
    let at = |e: XmlError, el: &Element| e.at(text, el.offset);
    let if_type = match enum_attr(text, el, "type", NET_TYPES)? {
        Some(t) => t.to_string(),
        None => return Err(at(err::missing_attr("type", "interface"), el)),
    };
    let mut n = NetInterface {
        if_type,
        ..Default::default()
    };
    if let Some(m) = el.child("mac") {
        if let Some(addr) = m.attr("address") {
            let bytes = parse_mac(addr)
                .ok_or_else(|| at(err::xml(format!("unable to parse mac address '{addr}'")), m))?;
            if bytes[0] & 1 == 1 {
                return Err(at(
                    err::xml(format!(
                        "expected unicast mac address, found multicast '{addr}'"
                    )),
                    m,
                ));
            }
            n.mac = Some(
                bytes
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            );
        }
        for a in ["type", "check"] {
            if let Some(v) = m.attr(a) {
                n.mac_extra.push((a.to_string(), v.to_string()));
            }
        }
    }
    if n.mac.is_none() {
        n.mac = Some(generate_mac());
    }
    let main = n.source_attr();
    let mut source_extra = Node::new("source");
    if let Some(src) = el.child("source") {
        n.source = main.and_then(|a| src.attr(a)).map(str::to_string);
        let order = [
            "type",
            "mode",
            "portgroup",
            "portid",
            "bridge",
            "port",
            "switchid",
            "connectionid",
        ];
        for a in order {
            // The bridge a network NIC was plugged into is runtime state (libvirt's "actual"
            // network), kept only in a live definition.
            let runtime_only = a == "bridge" && n.if_type == "network";
            if Some(a) != main && (live || !runtime_only) {
                if let Some(v) = src.attr(a) {
                    source_extra.attrs.push((a.to_string(), v.to_string()));
                }
            }
        }
        source_extra.children = src.children.iter().map(Node::raw).collect();
    }
    if n.if_type == "direct" && source_extra.attr("mode").is_none() {
        source_extra.set_attr("mode", "vepa");
    }
    n.source_extra = source_extra;
    n.model = el
        .child("model")
        .and_then(|m| m.attr("type"))
        .map(str::to_string);
    if let Some(t) = el.child("target") {
        n.target_managed = t.attr("managed").map(str::to_string);
        // A generated name (vnet0) belongs to one run of the guest: a definition drops it, the
        // live definition a driver reads back keeps it.
        n.target_dev = t.attr("dev").map(str::to_string).filter(|d| {
            let unmanaged_tap =
                n.if_type == "ethernet" && n.target_managed.as_deref() == Some("no");
            live || unmanaged_tap || !GENERATED_PREFIXES.iter().any(|p| d.starts_with(p))
        });
    }
    n.link_state = el
        .child("link")
        .and_then(|l| l.attr("state"))
        .map(str::to_string);
    for c in &el.children {
        let key = format!("interface/{}", c.name);
        match c.name.as_str() {
            "driver" if n.is_virtio() => n.extra.push(Node::raw(c)),
            "virtualport" => n.extra.push(virtualport(c)),
            "ip" => n.extra.push(guest_ip(c)),
            "vlan" | "bandwidth" | "filterref" | "tune" | "mtu" | "coalesce" | "guest"
            | "route" | "script" | "downscript" | "backenddomain" | "backend" | "teaming"
            | "port" => n.extra.push(canonical(&key, c)),
            _ => {}
        }
    }
    n.info = parse_info(text, el, true, true)?;
    Ok(n)
}

/// A guest-side `<ip>` (of an interface, or of a network hostdev): libvirt fills in the
/// family from the address.
pub(super) fn guest_ip(el: &Element) -> Node {
    let mut ip = canonical("interface/ip", el);
    if ip.attr("family").is_none() {
        let fam = if ip.attr("address").is_some_and(|a| a.contains(':')) {
            "ipv6"
        } else {
            "ipv4"
        };
        ip.set_attr("family", fam);
        ip.order_attrs(&["address", "family", "prefix", "peer"]);
    }
    ip
}

/// Open vSwitch ports need an interface id; libvirt makes one up when the XML has none.
fn virtualport(el: &Element) -> Node {
    let mut n = Node::raw(el);
    if n.attr("type") == Some("openvswitch") {
        let has_params = n.child("parameters").is_some();
        if !has_params {
            n.children.insert(0, Node::new("parameters"));
        }
        if let Some(p) = n.child_mut("parameters") {
            if p.attr("interfaceid").is_none() {
                p.attrs
                    .insert(0, ("interfaceid".into(), uuid::Uuid::new_v4().to_string()));
            }
        }
    }
    n
}

pub fn assign_test_ifnames(nets: &mut [NetInterface]) {
    for i in 0..nets.len() {
        if nets[i].target_dev.is_some() {
            continue;
        }
        let name = (0..1024)
            .map(|n| format!("testnet{n}"))
            .find(|cand| !nets.iter().any(|x| x.target_dev.as_deref() == Some(cand)));
        nets[i].target_dev = name;
    }
}

pub fn format(n: &NetInterface, w: &mut XmlWriter) {
    w.start("interface", &[("type", &n.if_type)]);
    let mut parts: Vec<Node> = Vec::new();
    if let Some(mac) = &n.mac {
        let mut m = Node::with_attrs("mac", &[("address", mac)]);
        m.attrs.extend(n.mac_extra.iter().cloned());
        parts.push(m);
    }
    let mut src = Node::new("source");
    if let (Some(a), Some(v)) = (n.source_attr(), &n.source) {
        src.attrs.push((a.to_string(), v.clone()));
    }
    src.attrs.extend(n.source_extra.attrs.iter().cloned());
    src.children = n.source_extra.children.clone();
    if !src.attrs.is_empty() || !src.children.is_empty() {
        parts.push(src);
    }
    if n.target_dev.is_some() || n.target_managed.is_some() {
        let mut t = Node::new("target");
        if let Some(d) = &n.target_dev {
            t.attrs.push(("dev".into(), d.clone()));
        }
        if let Some(m) = &n.target_managed {
            t.attrs.push(("managed".into(), m.clone()));
        }
        parts.push(t);
    }
    if let Some(m) = &n.model {
        parts.push(Node::with_attrs("model", &[("type", m)]));
    }
    if let Some(s) = &n.link_state {
        parts.push(Node::with_attrs("link", &[("state", s)]));
    }
    parts.extend(n.extra.iter().cloned());
    parts.sort_by_key(|p| {
        ORDER
            .iter()
            .position(|o| *o == p.name)
            .unwrap_or(ORDER.len())
    });
    for p in &parts {
        p.write(w);
    }
    n.info.write(w);
    w.end("interface");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_and_generate() {
        assert_eq!(
            parse_mac("52:54:00:AA:bb:0c"),
            Some([0x52, 0x54, 0, 0xaa, 0xbb, 0x0c])
        );
        assert_eq!(parse_mac("zz"), None);
        assert_eq!(parse_mac("52:54:00:aa:bb"), None);
        let m = generate_mac();
        assert!(m.starts_with("52:54:00:") && m.len() == 17, "{m}");
    }

    fn iface(xml: &str) -> NetInterface {
        let el = crate::dom::parse(xml).unwrap();
        parse(xml, &el, false).unwrap()
    }

    #[test]
    fn bandwidth_is_read_from_the_interface() {
        use crate::network::{BandwidthDef, BandwidthRate};
        let n = iface(
            "<interface type='bridge'><source bridge='br0'/><bandwidth>\
             <inbound average='1000' peak='5000' burst='1024'/><outbound average='128'/>\
             </bandwidth></interface>",
        );
        assert_eq!(
            n.bandwidth().unwrap(),
            Some(BandwidthDef {
                inbound: Some(BandwidthRate {
                    average: 1000,
                    peak: 5000,
                    burst: 1024,
                    floor: 0
                }),
                outbound: Some(BandwidthRate {
                    average: 128,
                    ..Default::default()
                }),
            })
        );
        assert_eq!(iface("<interface type='user'/>").bandwidth().unwrap(), None);
        let empty = iface("<interface type='user'><bandwidth/></interface>");
        assert_eq!(empty.bandwidth().unwrap(), None);
    }

    #[test]
    fn bandwidth_floor_only_on_network_interfaces() {
        let xml = |t: &str| {
            format!(
                "<interface type='{t}'><source {t}='x'/><bandwidth>\
                 <inbound floor='200'/></bandwidth></interface>"
            )
        };
        let net = iface(&xml("network")).bandwidth().unwrap().unwrap();
        assert_eq!(net.inbound.unwrap().floor, 200);
        let err = iface(&xml("bridge")).bandwidth().unwrap_err();
        assert_eq!(
            err.message,
            "unsupported configuration: floor attribute is not supported for this config"
        );
        assert_eq!(err.line, None);
        let bad =
            iface("<interface type='user'><bandwidth><outbound peak='3'/></bandwidth></interface>");
        assert_eq!(
            bad.bandwidth().unwrap_err().message,
            "Missing mandatory average or floor attributes"
        );
    }
}
