//! virNetworkDefUpdateSection (libvirt's network_conf.c): applying one net-update command
//! (add-first, add-last, modify, delete) with an XML snippet to one section of a network
//! definition, with libvirt's messages. The sections libvirt can update are DHCP hosts and
//! ranges, forward interfaces and port groups here, DNS hosts, TXT and SRV records in
//! `update_dns`.
//!
//! This is the pure part of virNetworkUpdate, shared by the drivers; the live/config
//! bookkeeping around it (virNetworkObjUpdate) belongs to each driver.
//!
//! An element to add or modify is parsed the way libvirt parses it inside a whole network (it is
//! put into a minimal `<network>` tree and read with `NetworkDef::from_element`), so its checks
//! and messages are the network parser's. An element that only selects what to delete may be
//! partial, as libvirt allows; those few rules are here.

use std::net::IpAddr;

use virtsh_api::flags::{net_update_command as cmd, net_update_section as sec};
use virtsh_api::{Error, ErrorKind, Result};

use super::update_dns;
use super::{format_ip, parse_ip, parse_mac, subnet, DhcpHost, ForwardIf, IpDef, NetworkDef};
use crate::dom::{self, Element};
use crate::error::{XmlError, XmlErrorKind};

fn xml_err(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::XmlError, msg)
}

pub(super) fn xml_detail(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::XmlDetail, msg)
}

pub(super) fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::OperationUnsupported, msg)
}

pub(super) fn unknown_command(command: u32) -> Error {
    unsupported(format!(
        "unrecognized network update command code {command}"
    ))
}

pub(super) fn is_add(command: u32) -> bool {
    command == cmd::ADD_FIRST || command == cmd::ADD_LAST
}

/// Where an added entry goes: first or last.
pub(super) fn insert_at<T>(list: &mut Vec<T>, command: u32, item: T) {
    if command == cmd::ADD_FIRST {
        list.insert(0, item);
    } else {
        list.push(item);
    }
}

fn same_mac(a: &str, b: &str) -> bool {
    match (parse_mac(a), parse_mac(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The C library's "%s" of a NULL string.
fn or_null(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("(null)")
}

/// virNetworkDefUpdateSection: apply `command` (`flags::net_update_command`) with the element
/// in `xml` to `section` (`flags::net_update_section`) of `def`. `parent_index` picks the
/// `<ip>` of the DHCP sections (-1: the one libvirt would pick). The result is checked as
/// virNetworkObjUpdate does, with a last format/parse round, so nothing illegal is added. On
/// error `def` may be partly changed: callers update a copy.
///
/// Only the definition is updated: the driver decides which definitions (live, config) it
/// applies this to.
pub fn update_section(
    def: &mut NetworkDef,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
) -> Result<()> {
    apply(def, command, section, parent_index, xml)?;
    let text = def.to_xml(&super::NetworkFormatOptions { inactive: false });
    NetworkDef::parse(&text).map_err(|e| e.api_error("network_definition", &text))?;
    Ok(())
}

fn apply(
    def: &mut NetworkDef,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
) -> Result<()> {
    let el = dom::parse(xml).map_err(|e| snippet_error(&e, xml))?;
    let no_support = |what: &str| {
        Err(unsupported(format!(
            "can't update '{what}' section of network '{}'",
            def.name
        )))
    };
    match section {
        sec::BRIDGE => no_support("bridge"),
        sec::DOMAIN => no_support("domain"),
        sec::IP => no_support("ip"),
        sec::FORWARD => no_support("forward"),
        sec::FORWARD_PF => no_support("forward pf"),
        sec::IP_DHCP_HOST => dhcp_host(def, command, parent_index, xml, &el),
        sec::IP_DHCP_RANGE => dhcp_range(def, command, parent_index, xml, &el),
        sec::FORWARD_INTERFACE => forward_interface(def, command, &el),
        sec::PORTGROUP => portgroup(def, command, xml, &el),
        sec::DNS_HOST => update_dns::dns_host(def, command, xml, &el),
        sec::DNS_TXT => update_dns::dns_txt(def, command, xml, &el),
        sec::DNS_SRV => update_dns::dns_srv(def, command, xml, &el),
        _ => Err(unsupported("can't update unrecognized section of network")),
    }
}

/// Malformed update XML, as libvirt words it for this document (named without the
/// parentheses the definitions get).
fn snippet_error(e: &XmlError, xml: &str) -> Error {
    match (e.kind, e.line) {
        (XmlErrorKind::Malformed, Some(line)) => {
            let col = e.column.unwrap_or(1);
            let src = xml.lines().nth(line.saturating_sub(1)).unwrap_or("");
            Error::raw(
                ErrorKind::XmlDetail,
                format!(
                    "network_update_xml:{line}: {}\n{src}\n{}^",
                    e.message,
                    "-".repeat(col.saturating_sub(1))
                ),
            )
        }
        _ => e.api_error("network_update_xml", xml),
    }
}

/// virNetworkDefUpdateCheckElementName
pub(super) fn check_name(def: &NetworkDef, el: &Element, want: &str) -> Result<()> {
    if el.name != want {
        return Err(xml_err(format!(
            "unexpected element <{}>, expecting <{want}>, while updating network '{}'",
            el.name, def.name
        )));
    }
    Ok(())
}

/// An element with these attributes and children (no source position: errors about it are
/// worded without one).
pub(super) fn element(name: &str, attrs: Vec<(String, String)>, children: Vec<Element>) -> Element {
    Element {
        attrs,
        children,
        ..Element::new(name)
    }
}

/// Parse `inner` (elements of the update snippet `xml`, or wrapped around it) as the content
/// of a minimal network named like `def`.
pub(super) fn parse_within(def: &NetworkDef, xml: &str, inner: Element) -> Result<NetworkDef> {
    let name = Element {
        text: def.name.clone(),
        ..Element::new("name")
    };
    let root = element("network", Vec::new(), vec![name, inner]);
    NetworkDef::from_element(xml, &root).map_err(|e| e.api_error("network_definition", xml))
}

/// `el` inside `<ip><dhcp>`, the `<ip>` having the addressing of `ip` (what the DHCP parsers
/// check against).
fn within_dhcp(ip: &IpDef, el: &Element) -> Element {
    let mut attrs = Vec::new();
    if let Some(f) = &ip.family {
        attrs.push(("family".to_string(), f.clone()));
    }
    if let Some(a) = &ip.address {
        attrs.push(("address".to_string(), format_ip(a)));
    }
    if let Some(m) = &ip.netmask {
        attrs.push(("netmask".to_string(), format_ip(m)));
    }
    if ip.prefix > 0 {
        attrs.push(("prefix".to_string(), ip.prefix.to_string()));
    }
    let dhcp = element("dhcp", Vec::new(), vec![el.clone()]);
    element("ip", attrs, vec![dhcp])
}

/// virNetworkIPDefByIndex: which `<ip>` a DHCP update works on.
fn ip_index(def: &NetworkDef, parent_index: i32) -> Result<usize> {
    if parent_index >= 0 {
        let i = parent_index as usize;
        if i < def.ips.len() {
            return Ok(i);
        }
        return Err(Error::invalid_op(format!(
            "couldn't update dhcp host entry - no <ip> element found at index {parent_index} in network '{}'",
            def.name
        )));
    }
    let family_first = |v4: bool| {
        def.ips
            .iter()
            .position(|ip| ip.address.is_some_and(|a| a.is_ipv4() == v4))
    };
    def.ips
        .iter()
        .position(|ip| !ip.ranges.is_empty() || !ip.hosts.is_empty())
        .or_else(|| family_first(true))
        .or_else(|| family_first(false))
        .ok_or_else(|| {
            Error::invalid_op(format!(
                "couldn't update dhcp host entry - no <ip> element found in network '{}'",
                def.name
            ))
        })
}

/// Both addresses of the same family, or both absent.
fn same_family(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => subnet::same_family(&x, &y),
        (None, None) => true,
        _ => false,
    }
}

/// virNetworkDefUpdateCheckMultiDHCP
fn check_multi_dhcp(def: &NetworkDef, idx: usize) -> Result<()> {
    let v4 = def.ips[idx].address.map(|a| a.is_ipv4());
    for (i, ip) in def.ips.iter().enumerate() {
        if i == idx || ip.address.map(|a| a.is_ipv4()) != v4 {
            continue;
        }
        if !ip.ranges.is_empty() || !ip.hosts.is_empty() {
            return Err(Error::invalid_op(format!(
                "dhcp is supported only for a single {} address on each network",
                if v4 == Some(true) { "IPv4" } else { "IPv6" }
            )));
        }
    }
    Ok(())
}

/// A static host as a search key: what virNetworkDHCPHostDefParseXML accepts with
/// partialOkay.
struct HostKey {
    mac: Option<String>,
    name: Option<String>,
    ip: Option<IpAddr>,
}

fn partial_dhcp_host(net: &str, ip: &IpDef, el: &Element) -> Result<HostKey> {
    let mac = el.attr("mac").map(str::to_string);
    if let Some(m) = &mac {
        if ip.address.is_some_and(|a| a.is_ipv6()) {
            return Err(xml_err(format!(
                "Invalid to specify MAC address '{m}' in network '{net}' IPv6 static host definition"
            )));
        }
        match parse_mac(m) {
            None => {
                return Err(xml_err(format!(
                    "Cannot parse MAC address '{m}' in network '{net}'"
                )))
            }
            Some(b) if b[0] & 1 == 1 => {
                return Err(xml_err(format!(
                    "expected unicast mac address, found multicast '{m}' in network '{net}'"
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(id) = el.attr("id") {
        if let Some(c) = id.chars().find(|c| !(c.is_ascii_hexdigit() || *c == ':')) {
            return Err(xml_err(format!(
                "Invalid character '{c}' in id '{id}' of network '{net}'"
            )));
        }
    }
    let name = el.attr("name").map(str::to_string);
    if let Some(n) = &name {
        if !n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err(xml_err(format!(
                "Cannot use host name '{n}' in network '{net}'"
            )));
        }
    }
    let ip_text = el.attr("ip");
    let addr = match ip_text {
        Some(t) => Some(parse_ip(t).ok_or_else(|| {
            xml_err(format!(
                "Invalid IP address in static host definition for network '{net}'"
            ))
        })?),
        None => None,
    };
    if mac.is_none() && name.is_none() && ip_text.is_none() {
        return Err(xml_err(format!(
            "At least one of name, mac, or ip attribute must be specified for static host definition in network '{net}' "
        )));
    }
    Ok(HostKey {
        mac,
        name,
        ip: addr,
    })
}

/// virNetworkDefUpdateIPDHCPHost
fn dhcp_host(
    def: &mut NetworkDef,
    command: u32,
    parent_index: i32,
    xml: &str,
    el: &Element,
) -> Result<()> {
    check_name(def, el, "host")?;
    let idx = ip_index(def, parent_index)?;
    let ip = &def.ips[idx];
    let net = def.name.clone();
    if command == cmd::DELETE {
        let key = partial_dhcp_host(&net, ip, el)?;
        let found = ip.hosts.iter().position(|h| {
            (key.mac.is_none()
                || h.mac.is_none()
                || same_mac(
                    key.mac.as_deref().unwrap_or(""),
                    h.mac.as_deref().unwrap_or(""),
                ))
                && (key.name.is_none() || key.name == h.name)
                && (key.ip.is_none() || key.ip == h.ip)
        });
        let Some(i) = found else {
            return Err(Error::invalid_op(format!(
                "couldn't locate a matching dhcp host entry in network '{net}'"
            )));
        };
        def.ips[idx].hosts.remove(i);
        return Ok(());
    }
    let parsed = parse_within(def, xml, within_dhcp(ip, el))?;
    let Some(host) = parsed.ips.first().and_then(|i| i.hosts.first()).cloned() else {
        return Err(Error::internal("no host parsed"));
    };
    let ip = &def.ips[idx];
    if !same_family(ip.address, host.ip) {
        return Err(Error::invalid_op(
            "the address family of a host entry IP must match the address family of the dhcp element's parent",
        ));
    }
    let mac_eq = |h: &DhcpHost| match (&host.mac, &h.mac) {
        (Some(a), Some(b)) => same_mac(a, b),
        _ => false,
    };
    let name_eq = |h: &DhcpHost| host.name.is_some() && host.name == h.name;
    let ip_eq = |h: &DhcpHost| host.ip.is_some() && host.ip == h.ip;
    let ip_str = host
        .ip
        .as_ref()
        .map(format_ip)
        .unwrap_or_else(|| "unknown".to_string());
    let mac_str = host.mac.clone().unwrap_or_else(|| "unknown".to_string());
    if command == cmd::MODIFY {
        let Some(i) = ip
            .hosts
            .iter()
            .position(|h| mac_eq(h) || ip_eq(h) || name_eq(h))
        else {
            return Err(Error::invalid_op(format!(
                "couldn't locate an existing dhcp host entry with \"mac='{mac_str}'\" \"name='{}'\" \"ip='{ip_str}'\" in network '{net}'",
                or_null(&host.name)
            )));
        };
        def.ips[idx].hosts[i] = host;
        return Ok(());
    }
    if !is_add(command) {
        return Err(unknown_command(command));
    }
    check_multi_dhcp(def, idx)?;
    if ip.hosts.iter().any(|h| mac_eq(h) || name_eq(h) || ip_eq(h)) {
        return Err(Error::invalid_op(format!(
            "there is an existing dhcp host entry in network '{net}' that matches \"<host mac='{mac_str}' name='{}' ip='{ip_str}'/>\"",
            or_null(&host.name)
        )));
    }
    insert_at(&mut def.ips[idx].hosts, command, host);
    Ok(())
}

/// virNetworkDefUpdateIPDHCPRange
fn dhcp_range(
    def: &mut NetworkDef,
    command: u32,
    parent_index: i32,
    xml: &str,
    el: &Element,
) -> Result<()> {
    check_name(def, el, "range")?;
    let idx = ip_index(def, parent_index)?;
    if command == cmd::MODIFY {
        return Err(unsupported(
            "dhcp ranges cannot be modified, only added or deleted",
        ));
    }
    let parsed = parse_within(def, xml, within_dhcp(&def.ips[idx], el))?;
    let Some(range) = parsed.ips.first().and_then(|i| i.ranges.first()).cloned() else {
        return Err(Error::internal("no range parsed"));
    };
    let net = def.name.clone();
    let ip = &def.ips[idx];
    if !same_family(ip.address, Some(range.start)) {
        return Err(Error::invalid_op(
            "the address family of a dhcp range must match the address family of the dhcp element's parent",
        ));
    }
    let found = ip
        .ranges
        .iter()
        .position(|r| r.start == range.start && r.end == range.end);
    if is_add(command) {
        check_multi_dhcp(def, idx)?;
        if found.is_some() {
            return Err(Error::invalid_op(format!(
                "there is an existing dhcp range entry in network '{net}' that matches \"<range start='{}' end='{}'/>\"",
                format_ip(&range.start),
                format_ip(&range.end)
            )));
        }
        insert_at(&mut def.ips[idx].ranges, command, range);
        return Ok(());
    }
    if command != cmd::DELETE {
        return Err(unknown_command(command));
    }
    let Some(i) = found else {
        return Err(Error::invalid_op(format!(
            "couldn't locate a matching dhcp range entry in network '{net}'"
        )));
    };
    def.ips[idx].ranges.remove(i);
    Ok(())
}

/// virNetworkDefUpdateForwardInterface
fn forward_interface(def: &mut NetworkDef, command: u32, el: &Element) -> Result<()> {
    check_name(def, el, "interface")?;
    if command == cmd::MODIFY {
        return Err(unsupported(
            "forward interface entries cannot be modified, only added or deleted",
        ));
    }
    let Some(dev) = el.attr("dev") else {
        return Err(xml_err("missing dev attribute in <interface> element"));
    };
    let net = def.name.clone();
    // Without <forward> libvirt keeps the list but never shows it; an empty definition that
    // is dropped again is the same thing here.
    let mut scratch = None;
    let fwd = match def.forward.as_mut() {
        Some(f) => f,
        None => scratch.get_or_insert_with(Default::default),
    };
    let found = fwd
        .interfaces
        .iter()
        .position(|i| matches!(i, ForwardIf::Netdev { dev: d, .. } if d == dev));
    if is_add(command) {
        if found.is_some() {
            return Err(Error::invalid_op(format!(
                "there is an existing interface entry in network '{net}' that matches \"<interface dev='{dev}'>\""
            )));
        }
        let item = ForwardIf::Netdev {
            dev: dev.to_string(),
            connections: None,
        };
        insert_at(&mut fwd.interfaces, command, item);
        return Ok(());
    }
    if command != cmd::DELETE {
        return Err(unknown_command(command));
    }
    let Some(i) = found else {
        return Err(Error::invalid_op(format!(
            "couldn't find an interface entry in network '{net}' matching <interface dev='{dev}'>"
        )));
    };
    if let ForwardIf::Netdev {
        connections: Some(n),
        ..
    } = &fwd.interfaces[i]
    {
        if *n > 0 {
            return Err(Error::invalid_op(format!(
                "unable to delete interface '{dev}' in network '{net}'. It is currently being used by {n} domains."
            )));
        }
    }
    fwd.interfaces.remove(i);
    Ok(())
}

/// virNetworkDefUpdatePortGroup
fn portgroup(def: &mut NetworkDef, command: u32, xml: &str, el: &Element) -> Result<()> {
    check_name(def, el, "portgroup")?;
    let parsed = parse_within(def, xml, el.clone())?;
    let Some(pg) = parsed.portgroups.first().cloned() else {
        return Err(Error::internal("no portgroup parsed"));
    };
    let net = def.name.clone();
    let found_name = def.portgroups.iter().position(|p| p.name == pg.name);
    let found_default = def.portgroups.iter().rposition(|p| p.is_default);
    match found_name {
        None if command == cmd::MODIFY || command == cmd::DELETE => {
            return Err(Error::invalid_op(format!(
                "couldn't find a portgroup entry in network '{net}' matching <portgroup name='{}'>",
                pg.name
            )))
        }
        Some(_) if is_add(command) => {
            return Err(Error::invalid_op(format!(
                "there is an existing portgroup entry in network '{net}' that matches \"<portgroup name='{}'>\"",
                pg.name
            )))
        }
        _ => {}
    }
    if command != cmd::DELETE
        && pg.is_default
        && found_default.is_some()
        && found_default != found_name
    {
        return Err(Error::invalid_op(format!(
            "a different portgroup entry in network '{net}' is already set as the default. Only one default is allowed."
        )));
    }
    match (command, found_name) {
        (cmd::MODIFY, Some(i)) => def.portgroups[i] = pg,
        (cmd::DELETE, Some(i)) => {
            def.portgroups.remove(i);
        }
        (c, _) if is_add(c) => insert_at(&mut def.portgroups, c, pg),
        (c, _) => return Err(unknown_command(c)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: &str = "<network><name>lab</name>\
        <forward mode='passthrough'><interface dev='eth10'/></forward>\
        <portgroup name='sales' default='yes'/>\
        <ip address='192.168.122.1' netmask='255.255.255.0'>\
        <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>\
        <ip family='ipv6' address='fd00::1' prefix='64'/></network>";

    fn lab() -> NetworkDef {
        NetworkDef::parse(NET).unwrap()
    }

    fn message(r: Result<()>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn dhcp_hosts_are_added_matched_and_deleted() {
        let mut def = lab();
        let host = "<host mac='52:54:00:00:00:01' name='db1' ip='192.168.122.10'/>";
        update_section(&mut def, cmd::ADD_LAST, sec::IP_DHCP_HOST, -1, host).unwrap();
        assert_eq!(def.ips[0].hosts.len(), 1);
        assert_eq!(def.ips[0].hosts[0].name.as_deref(), Some("db1"));
        let dup = "<host mac='52:54:00:00:00:09' ip='192.168.122.10'/>";
        let err = message(update_section(
            &mut def,
            cmd::ADD_FIRST,
            sec::IP_DHCP_HOST,
            -1,
            dup,
        ));
        assert!(err.contains("there is an existing dhcp host entry in network 'lab' that matches \"<host mac='52:54:00:00:00:09' name='(null)' ip='192.168.122.10'/>\""), "{err}");
        let before = def.clone();
        let err = message(update_section(
            &mut def,
            cmd::DELETE,
            sec::IP_DHCP_HOST,
            -1,
            "<host/>",
        ));
        assert!(
            err.contains("At least one of name, mac, or ip attribute"),
            "{err}"
        );
        assert_eq!(def, before);
        update_section(
            &mut def,
            cmd::DELETE,
            sec::IP_DHCP_HOST,
            -1,
            "<host name='db1'/>",
        )
        .unwrap();
        assert!(def.ips[0].hosts.is_empty());
    }

    #[test]
    fn dhcp_host_checks_the_parent_ip() {
        let mut def = lab();
        let v6 = "<host mac='52:54:00:00:00:03' name='v6' ip='fd00::3'/>";
        let err = message(update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::IP_DHCP_HOST,
            -1,
            v6,
        ));
        assert!(
            err.contains("the address family of a host entry IP must match"),
            "{err}"
        );
        let host = "<host mac='52:54:00:00:00:03' ip='192.168.122.30'/>";
        let err = message(update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::IP_DHCP_HOST,
            5,
            host,
        ));
        assert!(
            err.contains("no <ip> element found at index 5 in network 'lab'"),
            "{err}"
        );
    }

    #[test]
    fn dhcp_ranges_cannot_be_modified() {
        let mut def = lab();
        let range = "<range start='192.168.122.2' end='192.168.122.254'/>";
        let err = message(update_section(
            &mut def,
            cmd::MODIFY,
            sec::IP_DHCP_RANGE,
            -1,
            range,
        ));
        assert!(
            err.contains("dhcp ranges cannot be modified, only added or deleted"),
            "{err}"
        );
        update_section(&mut def, cmd::DELETE, sec::IP_DHCP_RANGE, -1, range).unwrap();
        assert!(def.ips[0].ranges.is_empty());
    }

    #[test]
    fn forward_interfaces_and_portgroups() {
        let mut def = lab();
        let eth9 = "<interface dev='eth9'/>";
        update_section(&mut def, cmd::ADD_FIRST, sec::FORWARD_INTERFACE, -1, eth9).unwrap();
        let devs: Vec<_> = def.forward.as_ref().unwrap().interfaces.iter().collect();
        assert!(matches!(devs[0], ForwardIf::Netdev { dev, .. } if dev == "eth9"));
        let pg = "<portgroup name='ops' default='yes'/>";
        let err = message(update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::PORTGROUP,
            -1,
            pg,
        ));
        assert!(
            err.contains("is already set as the default. Only one default is allowed."),
            "{err}"
        );
        let pg = "<portgroup name='dev'><vlan><tag id='7'/></vlan></portgroup>";
        update_section(&mut def, cmd::ADD_LAST, sec::PORTGROUP, -1, pg).unwrap();
        assert_eq!(def.portgroups[1].name, "dev");
        assert!(def.portgroups[1].vlan.is_some());
    }

    #[test]
    fn snippets_and_sections_are_checked() {
        let mut def = lab();
        let err = update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::IP_DHCP_HOST,
            -1,
            "<host></hos>",
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::XmlDetail);
        assert!(
            err.to_string()
                .contains("network_update_xml:1: Opening and ending tag mismatch"),
            "{err}"
        );
        let err = message(update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::IP_DHCP_HOST,
            -1,
            "<range/>",
        ));
        assert!(
            err.contains(
                "unexpected element <range>, expecting <host>, while updating network 'lab'"
            ),
            "{err}"
        );
        let err = message(update_section(
            &mut def,
            cmd::ADD_LAST,
            sec::BRIDGE,
            -1,
            "<bridge/>",
        ));
        assert!(
            err.contains("can't update 'bridge' section of network 'lab'"),
            "{err}"
        );
        let err = message(update_section(&mut def, cmd::ADD_LAST, 99, -1, "<x/>"));
        assert!(
            err.contains("can't update unrecognized section of network"),
            "{err}"
        );
    }
}
