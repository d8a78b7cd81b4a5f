//! `<ip>` and its `<dhcp>` (ranges, static hosts, leases, bootp) and `<tftp>`.

use super::addr::{format_ip, parse_ip, parse_mac, sockaddr_error};
use super::helpers::{
    attrs, missing_attr, prop_enum, prop_tristate, prop_uint, prop_ull, xpath_attr, yes_no, Src,
};
use super::subnet::{check_range, ip_prefix};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpDef {
    pub family: Option<String>,
    pub address: Option<IpAddr>,
    pub netmask: Option<IpAddr>,
    /// 0 when not given.
    pub prefix: u32,
    pub local_ptr: Option<bool>,
    pub tftp_root: Option<String>,
    pub ranges: Vec<DhcpRange>,
    pub hosts: Vec<DhcpHost>,
    pub bootp: Option<Bootp>,
}

impl IpDef {
    /// The prefix libvirt uses for this address (virNetworkIPDefPrefix); -1 when undefined.
    pub fn effective_prefix(&self) -> i64 {
        ip_prefix(self.address.as_ref(), self.netmask.as_ref(), self.prefix)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpRange {
    pub start: IpAddr,
    pub end: IpAddr,
    pub lease: Option<DhcpLease>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpLease {
    /// 0 means infinite.
    pub expiry: u64,
    /// "seconds", "minutes" (the default) or "hours".
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpHost {
    pub mac: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<IpAddr>,
    pub lease: Option<DhcpLease>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootp {
    pub file: String,
    pub server: Option<IpAddr>,
}

fn parse_lease(src: Src, el: &Element) -> Result<Option<DhcpLease>, XmlError> {
    let Some(expiry) = prop_ull(src, el, "expiry")? else {
        return Ok(None);
    };
    let unit = prop_enum(
        src,
        el,
        "unit",
        &["seconds", "minutes", "hours"],
        false,
        false,
    )?
    .unwrap_or_else(|| "minutes".to_string());
    if expiry > 0 && ((unit == "seconds" && expiry < 120) || (unit == "minutes" && expiry < 2)) {
        return Err(src.unsupported(
            el,
            "The minimum lease time should be greater than 2 minutes",
        ));
    }
    Ok(Some(DhcpLease { expiry, unit }))
}

pub(super) fn parse_ip_def(src: Src, net: &str, el: &Element) -> Result<IpDef, XmlError> {
    let mut def = IpDef {
        family: xpath_attr(el, "family").map(str::to_string),
        ..Default::default()
    };
    let Some(address) = xpath_attr(el, "address") else {
        return Err(src.xml(
            el,
            format!("Missing required address attribute in network '{net}'"),
        ));
    };
    let addr = parse_ip(address).ok_or_else(|| {
        src.xml(
            el,
            format!("Invalid address '{address}' in network '{net}'"),
        )
    })?;
    def.address = Some(addr);
    let netmask = xpath_attr(el, "netmask");
    if let Some(nm) = netmask {
        def.netmask =
            Some(parse_ip(nm).ok_or_else(|| {
                src.xml(el, format!("Invalid netmask '{nm}' in network '{net}'"))
            })?);
    }
    def.prefix = prop_uint(src, el, "prefix", 10, false, false)?.unwrap_or(0);
    def.local_ptr = prop_tristate(src, el, "localPtr")?;
    match def.family.as_deref() {
        None | Some("ipv4") => {
            if !addr.is_ipv4() {
                return Err(src.unsupported(
                    el,
                    format!(
                        "{} family specified for non-IPv4 address '{address}' in network '{net}'",
                        if def.family.is_none() { "no" } else { "ipv4" }
                    ),
                ));
            }
            if let Some(nm) = netmask {
                if !def.netmask.is_some_and(|m| m.is_ipv4()) {
                    return Err(src.unsupported(
                        el,
                        format!(
                            "Invalid netmask '{nm}' for address '{address}' in network '{net}' (both must be IPv4)"
                        ),
                    ));
                }
                if def.prefix > 0 {
                    return Err(src.unsupported(
                        el,
                        format!(
                            "Network '{net}' IP address cannot have both a prefix and a netmask"
                        ),
                    ));
                }
            } else if def.prefix > 32 {
                return Err(src.unsupported(
                    el,
                    format!("Invalid IPv4 prefix '{}' in network '{net}'", def.prefix),
                ));
            }
        }
        Some("ipv6") => {
            if !addr.is_ipv6() {
                return Err(src.unsupported(
                    el,
                    format!(
                        "Family 'ipv6' specified for non-IPv6 address '{address}' in network '{net}'"
                    ),
                ));
            }
            if netmask.is_some() {
                return Err(src.unsupported(
                    el,
                    format!("netmask not allowed for IPv6 address '{address}' in network '{net}'"),
                ));
            }
            if def.prefix > 128 {
                return Err(src.unsupported(
                    el,
                    format!("Invalid IPv6 prefix '{}' in network '{net}'", def.prefix),
                ));
            }
        }
        Some(f) => {
            return Err(src.xml(el, format!("Unrecognized family '{f}' in network '{net}'")));
        }
    }
    if let Some(dhcp) = el.child("dhcp") {
        parse_dhcp(src, net, dhcp, &mut def)?;
    }
    if let Some(t) = el.child("tftp") {
        if !addr.is_ipv4() {
            return Err(src.unsupported(
                t,
                format!("Unsupported <tftp> element in an IPv6 element in network '{net}'"),
            ));
        }
        def.tftp_root = xpath_attr(t, "root").map(str::to_string);
    }
    Ok(def)
}

fn parse_dhcp(src: Src, net: &str, dhcp: &Element, def: &mut IpDef) -> Result<(), XmlError> {
    let addr = def.address;
    for r in dhcp.children_named("range") {
        let Some(start) = r.attr("start") else {
            return Err(src.xml(
                r,
                format!("Missing 'start' attribute in dhcp range for network '{net}'"),
            ));
        };
        let s = parse_ip(start).ok_or_else(|| sockaddr_error(src, r, start))?;
        let Some(end) = r.attr("end") else {
            return Err(src.xml(
                r,
                format!("Missing 'end' attribute in dhcp range for network '{net}'"),
            ));
        };
        let e = parse_ip(end).ok_or_else(|| sockaddr_error(src, r, end))?;
        let network = addr.as_ref().map(|a| (a, def.effective_prefix()));
        check_range(src, r, &s, &e, network)?;
        let lease = match r.child("lease") {
            Some(l) => parse_lease(src, l)?,
            None => None,
        };
        def.ranges.push(DhcpRange {
            start: s,
            end: e,
            lease,
        });
    }
    let v6 = addr.is_some_and(|a| a.is_ipv6());
    for h in dhcp.children_named("host") {
        let mut host = DhcpHost::default();
        if let Some(mac) = h.attr("mac") {
            if v6 {
                return Err(src.xml(
                    h,
                    format!(
                        "Invalid to specify MAC address '{mac}' in network '{net}' IPv6 static host definition"
                    ),
                ));
            }
            let m = parse_mac(mac).ok_or_else(|| {
                src.xml(
                    h,
                    format!("Cannot parse MAC address '{mac}' in network '{net}'"),
                )
            })?;
            if m[0] & 1 == 1 {
                return Err(src.xml(
                    h,
                    format!(
                        "expected unicast mac address, found multicast '{mac}' in network '{net}'"
                    ),
                ));
            }
            // libvirt keeps the MAC string as written.
            host.mac = Some(mac.to_string());
        }
        if let Some(id) = h.attr("id") {
            if let Some(c) = id.chars().find(|c| !(c.is_ascii_hexdigit() || *c == ':')) {
                return Err(src.xml(
                    h,
                    format!("Invalid character '{c}' in id '{id}' of network '{net}'"),
                ));
            }
            host.id = Some(id.to_string());
        }
        if let Some(n) = h.attr("name") {
            if !n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
                return Err(src.xml(h, format!("Cannot use host name '{n}' in network '{net}'")));
            }
            host.name = Some(n.to_string());
        }
        if let Some(ip) = h.attr("ip") {
            host.ip = Some(parse_ip(ip).ok_or_else(|| {
                src.xml(
                    h,
                    format!("Invalid IP address in static host definition for network '{net}'"),
                )
            })?);
        }
        if v6 {
            if host.id.is_none() && host.name.is_none() {
                return Err(src.xml(
                    h,
                    format!(
                        "Static host definition in IPv6 network '{net}' must have id or name attribute"
                    ),
                ));
            }
        } else if host.mac.is_none() && host.name.is_none() {
            return Err(src.xml(
                h,
                format!(
                    "Static host definition in IPv4 network '{net}' must have mac or name attribute"
                ),
            ));
        }
        if host.ip.is_none() {
            return Err(src.xml(
                h,
                format!("Missing IP address in static host definition for network '{net}'"),
            ));
        }
        if let Some(l) = h.child("lease") {
            host.lease = parse_lease(src, l)?;
        }
        def.hosts.push(host);
    }
    if let Some(b) = dhcp.child("bootp") {
        if addr.is_some_and(|a| a.is_ipv4()) {
            let Some(file) = b.attr("file") else {
                return Err(missing_attr(src, b, "file"));
            };
            let server = match b.attr("server") {
                Some(s) => Some(parse_ip(s).ok_or_else(|| sockaddr_error(src, b, s))?),
                None => None,
            };
            def.bootp = Some(Bootp {
                file: file.to_string(),
                server,
            });
        }
    }
    Ok(())
}

fn format_lease(w: &mut XmlWriter, l: &DhcpLease) {
    if l.expiry == 0 {
        w.empty("lease", &[("expiry", "0")]);
    } else {
        w.empty(
            "lease",
            &[("expiry", &l.expiry.to_string()), ("unit", &l.unit)],
        );
    }
}

pub(super) fn format_ip_def(w: &mut XmlWriter, ip: &IpDef) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(f) = &ip.family {
        a.push(("family", f.clone()));
    }
    if let Some(ad) = &ip.address {
        a.push(("address", format_ip(ad)));
    }
    if let Some(m) = &ip.netmask {
        a.push(("netmask", format_ip(m)));
    }
    if ip.prefix > 0 {
        a.push(("prefix", ip.prefix.to_string()));
    }
    if let Some(l) = ip.local_ptr {
        a.push(("localPtr", yes_no(l).into()));
    }
    w.start("ip", &attrs(&a));
    if let Some(t) = &ip.tftp_root {
        w.empty("tftp", &[("root", t)]);
    }
    if !ip.ranges.is_empty() || !ip.hosts.is_empty() {
        w.start("dhcp", &[]);
        for r in &ip.ranges {
            let s = format_ip(&r.start);
            let e = format_ip(&r.end);
            match &r.lease {
                Some(l) => {
                    w.start("range", &[("start", &s), ("end", &e)]);
                    format_lease(w, l);
                    w.end("range");
                }
                None => w.empty("range", &[("start", &s), ("end", &e)]),
            }
        }
        for h in &ip.hosts {
            let mut ha: Vec<(&str, String)> = Vec::new();
            if let Some(v) = &h.mac {
                ha.push(("mac", v.clone()));
            }
            if let Some(v) = &h.id {
                ha.push(("id", v.clone()));
            }
            if let Some(v) = &h.name {
                ha.push(("name", v.clone()));
            }
            if let Some(v) = &h.ip {
                ha.push(("ip", format_ip(v)));
            }
            match &h.lease {
                Some(l) => {
                    w.start("host", &attrs(&ha));
                    format_lease(w, l);
                    w.end("host");
                }
                None => w.empty("host", &attrs(&ha)),
            }
        }
        if let Some(b) = &ip.bootp {
            match &b.server {
                Some(s) => w.empty("bootp", &[("file", &b.file), ("server", &format_ip(s))]),
                None => w.empty("bootp", &[("file", &b.file)]),
            }
        }
        w.end("dhcp");
    }
    w.end("ip");
}
