//! `<route>`: static routes, checked against libvirt's rules for families, prefixes and
//! network addresses.

use super::addr::{format_ip, parse_ip};
use super::helpers::{attrs, prop_uint, Src};
use super::subnet::{from_bits, ip_bits, mask_by_prefix};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    pub family: Option<String>,
    pub address: IpAddr,
    pub netmask: Option<IpAddr>,
    pub prefix: Option<u32>,
    pub gateway: IpAddr,
    pub metric: Option<u32>,
}

pub(super) fn parse_route(src: Src, net: &str, el: &Element) -> Result<RouteDef, XmlError> {
    let prefix = prop_uint(src, el, "prefix", 10, false, false)?;
    let metric = prop_uint(src, el, "metric", 10, false, true)?;
    let family = el.attr("family").map(str::to_string);
    let Some(address) = el.attr("address") else {
        return Err(src.xml(
            el,
            format!("{net}: Missing required address attribute in route definition"),
        ));
    };
    let Some(gateway) = el.attr("gateway") else {
        return Err(src.xml(
            el,
            format!("{net}: Missing required gateway attribute in route definition"),
        ));
    };
    let addr = parse_ip(address).ok_or_else(|| {
        src.xml(
            el,
            format!("{net}: Bad network address '{address}' in route definition"),
        )
    })?;
    let gw = parse_ip(gateway).ok_or_else(|| {
        src.xml(
            el,
            format!("{net}: Bad gateway address '{gateway}' in route definition"),
        )
    })?;
    let netmask_s = el.attr("netmask");
    let mut netmask = None;
    let p = prefix.unwrap_or(0);
    match family.as_deref() {
        None | Some("ipv4") => {
            let none = family.is_none();
            if !addr.is_ipv4() {
                return Err(src.xml(
                    el,
                    if none {
                        format!("{net}: No family specified for non-IPv4 address '{address}' in route definition")
                    } else {
                        format!("{net}: IPv4 family specified for non-IPv4 address '{address}' in route definition")
                    },
                ));
            }
            if !gw.is_ipv4() {
                return Err(src.xml(
                    el,
                    if none {
                        format!("{net}: No family specified for non-IPv4 gateway '{address}' in route definition")
                    } else {
                        format!("{net}: IPv4 family specified for non-IPv4 gateway '{address}' in route definition")
                    },
                ));
            }
            if let Some(nm) = netmask_s {
                let m = parse_ip(nm).ok_or_else(|| {
                    src.xml(
                        el,
                        format!("{net}: Bad netmask address '{nm}' in route definition"),
                    )
                })?;
                if !m.is_ipv4() {
                    return Err(src.xml(
                        el,
                        format!(
                            "{net}: Invalid netmask '{nm}' for address '{address}' (both must be IPv4)"
                        ),
                    ));
                }
                if prefix.is_some() {
                    return Err(src.xml(
                        el,
                        format!("{net}: Route definition cannot have both a prefix and a netmask"),
                    ));
                }
                netmask = Some(m);
            }
            if p > 32 {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Invalid prefix {p} specified in route definition, must be 0 - 32"
                    ),
                ));
            }
        }
        Some("ipv6") => {
            if !addr.is_ipv6() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: ipv6 family specified for non-IPv6 address '{address}' in route definition"
                    ),
                ));
            }
            if netmask_s.is_some() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Specifying netmask invalid for IPv6 address '{address}' in route definition"
                    ),
                ));
            }
            if !gw.is_ipv6() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: ipv6 specified for non-IPv6 gateway address '{gateway}' in route definition"
                    ),
                ));
            }
            if p > 128 {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Invalid prefix {p} specified in route definition, must be 0 - 128"
                    ),
                ));
            }
        }
        Some(f) => {
            return Err(src.xml(
                el,
                format!("{net}: Unrecognized family '{f}' in route definition"),
            ));
        }
    }
    let masked = match &netmask {
        Some(m) => {
            let (a, _) = ip_bits(&addr);
            let (mb, _) = ip_bits(m);
            Some(from_bits(&addr, a & mb))
        }
        None => mask_by_prefix(&addr, p),
    };
    if masked != Some(addr) {
        return Err(src.xml(
            el,
            format!("{net}: Address '{address}' in route definition is not a network address"),
        ));
    }
    Ok(RouteDef {
        family,
        address: addr,
        netmask,
        prefix,
        gateway: gw,
        metric,
    })
}

pub(super) fn format_route(w: &mut XmlWriter, r: &RouteDef) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(f) = &r.family {
        a.push(("family", f.clone()));
    }
    a.push(("address", format_ip(&r.address)));
    if let Some(m) = &r.netmask {
        a.push(("netmask", format_ip(m)));
    }
    if let Some(p) = r.prefix {
        a.push(("prefix", p.to_string()));
    }
    a.push(("gateway", format_ip(&r.gateway)));
    if let Some(m) = r.metric.filter(|m| *m > 0) {
        a.push(("metric", m.to_string()));
    }
    w.empty("route", &attrs(&a));
}
