//! virNetworkUpdate for the test driver (testNetworkUpdate → virNetworkObjUpdate →
//! virNetworkDefUpdateSection in libvirt's network_conf.c): the sections libvirt can update
//! (DHCP hosts and ranges, forward interfaces, port groups, DNS hosts, TXT and SRV records),
//! the live/config bookkeeping, and libvirt's messages.
//!
//! The DNS sections are in `netupdate_dns.rs`.
//!
//! An element to add or modify is parsed the way libvirt parses it inside a whole network
//! (it is put into a minimal network document and read with `NetworkDef::parse`), so its checks
//! and messages are the network parser's. An element that only selects what to delete may be
//! partial, as libvirt allows; those few rules are here.

use std::net::IpAddr;

use virtsh_api::flags::{net_update as uf, net_update_command as cmd, net_update_section as sec};
use virtsh_api::{Error, ErrorKind, Network, Result};
use virtsh_xml::dom::Element;
use virtsh_xml::network::{format_ip, parse_ip, parse_mac, ForwardIf, IpDef};
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use crate::{check_flags, netupdate_dns, xmlconv, Driver};

fn xml_err(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::XmlError, msg)
}

pub(crate) fn xml_detail(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::XmlDetail, msg)
}

pub(crate) fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::OperationUnsupported, msg)
}

pub(crate) fn unknown_command(command: u32) -> Error {
    unsupported(format!(
        "unrecognized network update command code {command}"
    ))
}

pub(crate) fn is_add(command: u32) -> bool {
    command == cmd::ADD_FIRST || command == cmd::ADD_LAST
}

/// Where an added entry goes: first or last.
pub(crate) fn insert_at<T>(list: &mut Vec<T>, command: u32, item: T) {
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

impl Driver {
    /// testNetworkUpdate and virNetworkObjUpdate.
    pub(crate) fn network_update(
        &mut self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        check_flags(
            flags,
            uf::AFFECT_LIVE | uf::AFFECT_CONFIG,
            "testNetworkUpdate",
        )?;
        let uuid = self.net_by_uuid(&net.uuid)?.def.uuid;
        let i = self
            .networks
            .iter()
            .position(|n| n.def.uuid == uuid)
            .unwrap_or_default();
        let obj = &mut self.networks[i];
        let mut flags = flags;
        if flags & (uf::AFFECT_LIVE | uf::AFFECT_CONFIG) == uf::AFFECT_CURRENT {
            flags |= if obj.active {
                uf::AFFECT_LIVE
            } else {
                uf::AFFECT_CONFIG
            };
        }
        // virNetworkObjConfigChangeSetup
        if !obj.active && flags & uf::AFFECT_LIVE != 0 {
            return Err(Error::invalid_op("network is not running"));
        }
        if flags & uf::AFFECT_CONFIG != 0 {
            if !obj.persistent {
                return Err(Error::invalid_op(
                    "cannot change persistent config of a transient network",
                ));
            }
            if obj.active && obj.new_def.is_none() {
                obj.new_def = Some(obj.def.clone());
            }
        }
        let mut live = None;
        if flags & uf::AFFECT_LIVE != 0 {
            let mut def = obj.def.clone();
            update_section(&mut def, command, section, parent_index, xml)?;
            recheck(&def)?;
            live = Some(def);
        }
        let mut config = None;
        if flags & uf::AFFECT_CONFIG != 0 {
            let mut def = match (&obj.new_def, obj.active) {
                (Some(d), true) => d.clone(),
                _ => obj.def.clone(),
            };
            update_section(&mut def, command, section, parent_index, xml)?;
            recheck(&def)?;
            config = Some(def);
        }
        if let Some(def) = config {
            // virNetworkObjReplacePersistentDef
            if obj.active {
                obj.new_def = Some(def);
            } else {
                obj.def = def;
            }
        }
        if let Some(def) = live {
            obj.def = def;
        }
        Ok(())
    }
}

/// The final format/parse round of virNetworkObjUpdate: nothing illegal was added.
fn recheck(def: &NetworkDef) -> Result<()> {
    let text = def.to_xml(&NetworkFormatOptions { inactive: false });
    NetworkDef::parse(&text).map_err(|e| xmlconv::xml_error(&e, "network_definition", &text))?;
    Ok(())
}

/// virNetworkDefUpdateSection
fn update_section(
    def: &mut NetworkDef,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
) -> Result<()> {
    let el = virtsh_xml::dom::parse(xml).map_err(|e| snippet_error(&e, xml))?;
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
        sec::IP_DHCP_HOST => dhcp_host(def, command, parent_index, &el),
        sec::IP_DHCP_RANGE => dhcp_range(def, command, parent_index, &el),
        sec::FORWARD_INTERFACE => forward_interface(def, command, &el),
        sec::PORTGROUP => portgroup(def, command, &el),
        sec::DNS_HOST => netupdate_dns::dns_host(def, command, &el),
        sec::DNS_TXT => netupdate_dns::dns_txt(def, command, &el),
        sec::DNS_SRV => netupdate_dns::dns_srv(def, command, &el),
        _ => Err(unsupported("can't update unrecognized section of network")),
    }
}

/// Malformed update XML, as libvirt words it for this document (named without the
/// parentheses the definitions get).
fn snippet_error(e: &virtsh_xml::XmlError, xml: &str) -> Error {
    match (e.kind, e.line) {
        (virtsh_xml::XmlErrorKind::Malformed, Some(line)) => {
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
        _ => xmlconv::xml_error(e, "network_update_xml", xml),
    }
}

/// virNetworkDefUpdateCheckElementName
pub(crate) fn check_name(def: &NetworkDef, el: &Element, want: &str) -> Result<()> {
    if el.name != want {
        return Err(xml_err(format!(
            "unexpected element <{}>, expecting <{want}>, while updating network '{}'",
            el.name, def.name
        )));
    }
    Ok(())
}

/// Parse `inner` (already serialised) as part of a minimal network named like `def`.
pub(crate) fn parse_within(def: &NetworkDef, inner: &str) -> Result<NetworkDef> {
    let text = format!(
        "<network><name>{}</name>{inner}</network>",
        xml_text(&def.name)
    );
    NetworkDef::parse(&text).map_err(|e| xmlconv::xml_error(&e, "network_definition", &text))
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// An `<ip>` start tag with the addressing of `ip` (what the DHCP parsers check against).
fn ip_open_tag(ip: &IpDef) -> String {
    let mut s = String::from("<ip");
    if let Some(f) = &ip.family {
        s.push_str(&format!(" family='{f}'"));
    }
    if let Some(a) = &ip.address {
        s.push_str(&format!(" address='{}'", format_ip(a)));
    }
    if let Some(m) = &ip.netmask {
        s.push_str(&format!(" netmask='{}'", format_ip(m)));
    }
    if ip.prefix > 0 {
        s.push_str(&format!(" prefix='{}'", ip.prefix));
    }
    s.push('>');
    s
}

pub(crate) fn element_text(el: &Element) -> String {
    xmlconv::element_to_xml(el, &[])
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

fn same_family(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.is_ipv4() == y.is_ipv4(),
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
fn dhcp_host(def: &mut NetworkDef, command: u32, parent_index: i32, el: &Element) -> Result<()> {
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
    let inner = format!("{}<dhcp>{}</dhcp></ip>", ip_open_tag(ip), element_text(el));
    let parsed = parse_within(def, &inner)?;
    let Some(host) = parsed.ips.first().and_then(|i| i.hosts.first()).cloned() else {
        return Err(Error::internal("no host parsed"));
    };
    let ip = &def.ips[idx];
    if !same_family(ip.address, host.ip) {
        return Err(Error::invalid_op(
            "the address family of a host entry IP must match the address family of the dhcp element's parent",
        ));
    }
    let mac_eq = |h: &virtsh_xml::network::DhcpHost| match (&host.mac, &h.mac) {
        (Some(a), Some(b)) => same_mac(a, b),
        _ => false,
    };
    let name_eq = |h: &virtsh_xml::network::DhcpHost| host.name.is_some() && host.name == h.name;
    let ip_eq = |h: &virtsh_xml::network::DhcpHost| host.ip.is_some() && host.ip == h.ip;
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
fn dhcp_range(def: &mut NetworkDef, command: u32, parent_index: i32, el: &Element) -> Result<()> {
    check_name(def, el, "range")?;
    let idx = ip_index(def, parent_index)?;
    if command == cmd::MODIFY {
        return Err(unsupported(
            "dhcp ranges cannot be modified, only added or deleted",
        ));
    }
    let inner = format!(
        "{}<dhcp>{}</dhcp></ip>",
        ip_open_tag(&def.ips[idx]),
        element_text(el)
    );
    let parsed = parse_within(def, &inner)?;
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
fn portgroup(def: &mut NetworkDef, command: u32, el: &Element) -> Result<()> {
    check_name(def, el, "portgroup")?;
    let parsed = parse_within(def, &element_text(el))?;
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
