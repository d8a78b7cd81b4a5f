//! libvirt's virtual network XML (`<network>`): parse, validate, apply libvirt's defaults and
//! format canonically, as libvirt 9.0's `network_conf.c` does.
//!
//! The order of checks follows libvirt's parser, so that a definition with several faults is
//! refused with the same message virsh prints. Values keep the form libvirt keeps: addresses are
//! parsed and re-formatted (so `2001:DB8:0::1` comes back as `2001:db8::1`), MAC addresses are
//! lower-cased, and strings libvirt stores verbatim are stored verbatim.
//!
//! Layout: this module holds the `<network>` model itself (its top-level elements, `<bridge>`,
//! the checks between the forward mode and the rest, and the formatter); each sub-element with
//! rules of its own has a module (`forward`, `ip` with its DHCP, `route`, `dns`, `portgroup`,
//! `netdev` for bandwidth, vlan, virtualport and PCI addresses, `metadata`), and the address
//! arithmetic is in `subnet`. `update` (and `update_dns`) change a definition the way
//! `net-update` does, for every driver.
//!
//! The pieces every libvirt XML model here shares (UUIDs, MACs, IP addresses in `addr`,
//! libvirt's attribute readers and error wording in `helpers`) live here too; the storage,
//! interface and capabilities models use them through `crate::network`.

mod addr;
mod dns;
mod forward;
pub(crate) mod helpers;
mod ip;
mod metadata;
mod netdev;
mod port;
mod portgroup;
mod route;
mod subnet;
mod update;
mod update_dns;

pub use addr::{canonical_mac, format_ip, format_mac, parse_ip, parse_mac, parse_uuid};
pub use dns::{DnsDef, DnsForwarder, DnsHost, DnsSrv, DnsTxt};
pub use forward::{ForwardDef, ForwardIf, NatDef, FORWARD_MODES};
pub use ip::{Bootp, DhcpHost, DhcpLease, DhcpRange, IpDef};
pub use netdev::{BandwidthDef, BandwidthRate, PciAddress, VirtualPortDef, VlanDef};
pub use port::{NetworkPortDef, PortPlug};
pub use portgroup::PortGroupDef;
pub use route::RouteDef;
pub use update::update_section;

pub(crate) use helpers::{
    attrs, missing_attr, parse_root, prop_enum, prop_int, prop_tristate, prop_uint, string_value,
    xpath_attr, xpath_int, xpath_ll, xpath_path_attr, xpath_text, xpath_uint, yes_no, Src,
};

use crate::dom::Element;
use crate::error::{XmlError, XmlErrorKind};
use crate::units::{str_to_ui, str_to_ull_p};
use crate::writer::XmlWriter;
use dns::{format_dns, parse_dns};
use forward::{format_forward, parse_forward};
use ip::{format_ip_def, parse_ip_def};
use metadata::{format_metadata, sanitize_metadata};
use portgroup::{format_portgroup, parse_portgroup};
use route::{format_route, parse_route};
use subnet::{mask_by_prefix, same_family};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDef {
    pub name: String,
    /// Generated (v4) when the XML has none, as libvirt does.
    pub uuid: Uuid,
    pub uuid_specified: bool,
    /// Runtime count of guest connections; shown only in live XML.
    pub connections: Option<u32>,
    /// `ipv6='yes'` on <network>: guest-to-guest IPv6 without a gateway address.
    pub ipv6: bool,
    pub trust_guest_rx_filters: Option<bool>,
    /// `<metadata>`, kept as libvirt keeps it (sanitized, reformatted by libxml2's rules).
    pub metadata: Option<Element>,
    pub forward: Option<ForwardDef>,
    /// `<bridge>`; absent means libvirt's defaults (stp on, delay 0) where a bridge applies.
    pub bridge: Option<BridgeDef>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub domain: Option<NetworkDomain>,
    pub dns: Option<DnsDef>,
    pub vlan: Option<VlanDef>,
    pub bandwidth: Option<BandwidthDef>,
    pub port_isolated: Option<bool>,
    pub ips: Vec<IpDef>,
    pub routes: Vec<RouteDef>,
    pub virtualport: Option<VirtualPortDef>,
    pub portgroups: Vec<PortGroupDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeDef {
    pub name: Option<String>,
    pub zone: Option<String>,
    pub stp: bool,
    pub delay: u64,
    /// "kernel" or "libvirt".
    pub mac_table_manager: Option<String>,
}

impl Default for BridgeDef {
    fn default() -> Self {
        BridgeDef {
            name: None,
            zone: None,
            stp: true,
            delay: 0,
            mac_table_manager: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkDomain {
    pub name: String,
    pub local_only: Option<bool>,
}

/// What to include when formatting (virNetworkXMLFlags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkFormatOptions {
    /// VIR_NETWORK_XML_INACTIVE: the persistent config, without runtime counters.
    pub inactive: bool,
}

impl NetworkDef {
    /// A minimal definition, as if parsed from `<network><name>NAME</name></network>`.
    pub fn new(name: &str) -> NetworkDef {
        NetworkDef {
            name: name.to_string(),
            uuid: Uuid::new_v4(),
            uuid_specified: false,
            connections: None,
            ipv6: false,
            trust_guest_rx_filters: None,
            metadata: None,
            forward: None,
            bridge: None,
            mtu: None,
            mac: None,
            domain: None,
            dns: None,
            vlan: None,
            bandwidth: None,
            port_isolated: None,
            ips: Vec::new(),
            routes: Vec::new(),
            virtualport: None,
            portgroups: Vec::new(),
        }
    }

    /// The forward mode, "none" for an isolated network.
    pub fn forward_mode(&self) -> &str {
        self.forward.as_ref().map_or("none", |f| f.mode.as_str())
    }

    /// virNetworkDefParseString: parse and validate as libvirt does on net-define/net-create.
    pub fn parse(xml: &str) -> Result<NetworkDef, XmlError> {
        let root = parse_root(xml, "network")?;
        Self::from_element(xml, &root)
    }

    /// Parse from an already parsed `<network>` element of `text` (for embedding documents).
    pub fn from_element(text: &str, root: &Element) -> Result<NetworkDef, XmlError> {
        let src = Src { text };
        let name = match xpath_text(root, "name") {
            Some(n) => n,
            None => {
                let at = root.child("name").unwrap_or(root);
                return Err(
                    XmlError::new(XmlErrorKind::Missing, "missing name information")
                        .at(text, at.offset),
                );
            }
        };
        let name_el = root.child("name").unwrap_or(root);
        if name.contains('/') {
            return Err(src.detail(name_el, "invalid char in name: /"));
        }
        let mut def = NetworkDef::new(&name);
        if let Some(u) = xpath_text(root, "uuid") {
            let el = root.child("uuid").unwrap_or(root);
            def.uuid = parse_uuid(&u).ok_or_else(|| src.internal(el, "malformed uuid element"))?;
            def.uuid_specified = true;
        }
        if let Some(v) = xpath_attr(root, "ipv6") {
            def.ipv6 = match v {
                "yes" => true,
                "no" => false,
                _ => {
                    return Err(src.xml(
                        root,
                        format!("Invalid ipv6 setting '{v}' in network '{name}'"),
                    ))
                }
            };
        }
        def.trust_guest_rx_filters = prop_tristate(src, root, "trustGuestRxFilters")?;

        if let Some(d) = root.child("domain") {
            let local_only = prop_tristate(src, d, "localOnly")?;
            if let Some(n) = d.attr("name") {
                def.domain = Some(NetworkDomain {
                    name: n.to_string(),
                    local_only,
                });
            }
        }
        if let Some(b) = root.child("bandwidth") {
            def.bandwidth = BandwidthDef::parse(src, b, false)?;
        }
        if let Some(v) = root.child("vlan") {
            def.vlan = Some(VlanDef::parse(src, v)?);
        }
        if let Some(p) = root.child("port") {
            def.port_isolated = prop_tristate(src, p, "isolated")?;
        }

        // <bridge>: libvirt reads its attributes with XPath, so empty values count as absent.
        let bridge_el = root.child("bridge");
        let stp_given = bridge_el.and_then(|b| xpath_attr(b, "stp")).is_some();
        if let Some(b) = bridge_el {
            let mut bd = BridgeDef {
                name: xpath_attr(b, "name").map(str::to_string),
                zone: xpath_attr(b, "zone").map(str::to_string),
                stp: xpath_attr(b, "stp") != Some("off"),
                delay: 0,
                mac_table_manager: None,
            };
            if let Some(d) = xpath_attr(b, "delay") {
                bd.delay = str_to_ull_p(d, 10).ok_or_else(|| {
                    src.xml(b, format!("Invalid delay value in network '{name}'"))
                })?;
            }
            if let Some(m) = xpath_attr(b, "macTableManager") {
                if m != "kernel" && m != "libvirt" {
                    return Err(src.xml(
                        b,
                        format!("Invalid macTableManager setting '{m}' in network '{name}'"),
                    ));
                }
                bd.mac_table_manager = Some(m.to_string());
            }
            def.bridge = Some(bd);
        }

        if let Some(m) = root.child("mac") {
            if let Some(a) = xpath_attr(m, "address") {
                let mac = parse_mac(a).ok_or_else(|| {
                    src.xml(
                        m,
                        format!("Invalid bridge mac address '{a}' in network '{name}'"),
                    )
                })?;
                if mac[0] & 1 == 1 {
                    return Err(src.xml(
                        m,
                        format!("Invalid multicast bridge mac address '{a}' in network '{name}'"),
                    ));
                }
                def.mac = Some(format_mac(&mac));
            }
        }
        if let Some(m) = root.child("mtu") {
            if let Some(s) = xpath_attr(m, "size") {
                def.mtu = Some(str_to_ui(s, 10).ok_or_else(|| {
                    src.xml(m, format!("Invalid mtu size '{s}' in network '{name}'"))
                })?);
            }
        }
        if let Some(d) = root.child("dns") {
            def.dns = Some(parse_dns(src, &name, d)?);
        }
        if let Some(v) = root.child("virtualport") {
            def.virtualport = Some(VirtualPortDef::parse(src, v, true)?);
        }
        for pg in root.children_named("portgroup") {
            def.portgroups.push(parse_portgroup(src, pg)?);
        }
        for ip in root.children_named("ip") {
            def.ips.push(parse_ip_def(src, &name, ip)?);
        }
        let route_els: Vec<&Element> = root.children_named("route").collect();
        for r in &route_els {
            def.routes.push(parse_route(src, &name, r)?);
        }
        for (r, el) in def.routes.iter().zip(&route_els) {
            let reachable = def.ips.iter().any(|ip| {
                let Some(addr) = ip.address else { return false };
                if !same_family(&r.gateway, &addr) {
                    return false;
                }
                let p = ip.effective_prefix();
                if p < 0 {
                    return false;
                }
                match (
                    mask_by_prefix(&addr, p as u32),
                    mask_by_prefix(&r.gateway, p as u32),
                ) {
                    (Some(a), Some(g)) => a == g,
                    _ => false,
                }
            });
            if !reachable {
                return Err(src.unsupported(
                    el,
                    format!(
                        "unreachable static route gateway '{}' specified for network '{name}'",
                        format_ip(&r.gateway)
                    ),
                ));
            }
        }
        if let Some(f) = root.child("forward") {
            def.forward = Some(parse_forward(src, &name, f)?);
        }
        def.validate_forward(src, root, stp_given)?;
        if let Some(md) = root.child("metadata") {
            def.metadata = Some(sanitize_metadata(md));
        }
        Ok(def)
    }

    /// The checks libvirt makes between the forward mode and the rest of the definition.
    fn validate_forward(&self, src: Src, root: &Element, stp_given: bool) -> Result<(), XmlError> {
        let mode = self.forward_mode();
        let fwd_el = root.child("forward").unwrap_or(root);
        let name = &self.name;
        let nifs = self.forward.as_ref().map_or(0, |f| f.interfaces.len());
        let npfs = self.forward.as_ref().map_or(0, |f| f.pfs.len());
        let bridge = self.bridge.clone().unwrap_or_default();
        match mode {
            "none" => {}
            "route" | "nat" | "open" => {
                if self.ips.is_empty() {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "{mode} forwarding requested, but no IP address provided for network '{name}'"
                        ),
                    ));
                }
                if nifs > 1 {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "multiple forwarding interfaces specified for network '{name}', only one is supported"
                        ),
                    ));
                }
                if mode == "open" && nifs > 0 {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "forward dev not allowed for network '{name}' with forward mode='{mode}'"
                        ),
                    ));
                }
            }
            _ => {
                if mode != "bridge" {
                    if bridge.name.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!("bridge name not allowed in {mode} mode (network '{name}')"),
                        ));
                    }
                    if bridge.zone.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!("bridge zone not allowed in {mode} mode (network '{name}')"),
                        ));
                    }
                    if bridge.mac_table_manager.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!(
                                "bridge macTableManager setting not allowed in {mode} mode (network '{name}')"
                            ),
                        ));
                    }
                }
                if bridge.delay != 0 || stp_given || bridge.zone.is_some() {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in {mode} (network '{name}')"
                        ),
                    ));
                }
                if bridge.name.is_some() && (nifs > 0 || npfs > 0) {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "A network with forward mode='{mode}' can specify a bridge name or a forward dev, but not both (network '{name}')"
                        ),
                    ));
                }
            }
        }
        if self.mtu.unwrap_or(0) != 0 && !matches!(mode, "none" | "nat" | "route" | "open") {
            return Err(src.xml(
                root.child("mtu").unwrap_or(root),
                format!(
                    "mtu size only allowed in open, route, nat, and isolated mode, not in {mode} (network '{name}')"
                ),
            ));
        }
        Ok(())
    }

    /// virNetworkDefFormat.
    pub fn to_xml(&self, opts: &NetworkFormatOptions) -> String {
        let mut w = XmlWriter::new();
        let mut ra: Vec<(&str, String)> = Vec::new();
        if let Some(c) = self.connections.filter(|c| *c > 0 && !opts.inactive) {
            ra.push(("connections", c.to_string()));
        }
        if self.ipv6 {
            ra.push(("ipv6", "yes".into()));
        }
        if let Some(t) = self.trust_guest_rx_filters {
            ra.push(("trustGuestRxFilters", yes_no(t).into()));
        }
        w.start("network", &attrs(&ra));
        w.text("name", &[], &self.name);
        w.text("uuid", &[], &self.uuid.to_string());
        if let Some(md) = &self.metadata {
            format_metadata(&mut w, md);
        }
        if let Some(f) = &self.forward {
            format_forward(&mut w, f, opts);
        }
        let mode = self.forward_mode();
        let hasbridge = matches!(mode, "none" | "nat" | "route" | "open");
        let bridge = self.bridge.clone().unwrap_or_default();
        if hasbridge || bridge.name.is_some() || bridge.mac_table_manager.is_some() {
            let mut a: Vec<(&str, String)> = Vec::new();
            if let Some(n) = &bridge.name {
                a.push(("name", n.clone()));
            }
            if let Some(z) = &bridge.zone {
                a.push(("zone", z.clone()));
            }
            if hasbridge {
                a.push(("stp", if bridge.stp { "on" } else { "off" }.into()));
                a.push(("delay", bridge.delay.to_string()));
            }
            if let Some(m) = &bridge.mac_table_manager {
                a.push(("macTableManager", m.clone()));
            }
            w.empty("bridge", &attrs(&a));
        }
        if let Some(m) = self.mtu.filter(|m| *m > 0) {
            w.empty("mtu", &[("size", &m.to_string())]);
        }
        if let Some(m) = &self.mac {
            w.empty("mac", &[("address", m)]);
        }
        if let Some(d) = &self.domain {
            match d.local_only {
                Some(l) => w.empty("domain", &[("name", &d.name), ("localOnly", yes_no(l))]),
                None => w.empty("domain", &[("name", &d.name)]),
            }
        }
        if let Some(d) = &self.dns {
            format_dns(&mut w, d);
        }
        if let Some(v) = &self.vlan {
            v.format(&mut w);
        }
        if let Some(b) = &self.bandwidth {
            b.format(&mut w);
        }
        if let Some(p) = self.port_isolated {
            w.empty("port", &[("isolated", yes_no(p))]);
        }
        for ip in &self.ips {
            format_ip_def(&mut w, ip);
        }
        for r in &self.routes {
            format_route(&mut w, r);
        }
        if let Some(v) = &self.virtualport {
            v.format(&mut w);
        }
        for pg in &self.portgroups {
            format_portgroup(&mut w, pg);
        }
        w.end("network");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_name_is_libvirts_error() {
        let e = NetworkDef::parse(
            "<network><uuid>11111111-2222-3333-4444-555555555555</uuid></network>",
        )
        .unwrap_err();
        assert_eq!(e.libvirt_message("x", ""), "missing name information");
    }
}
