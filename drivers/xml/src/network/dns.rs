//! `<dns>`: forwarders, host, SRV and TXT records, with libvirt's validation messages.

use super::addr::{format_ip, parse_ip};
use super::helpers::{attrs, prop_tristate, string_value, xpath_uint, yes_no, Src};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsDef {
    pub enable: Option<bool>,
    pub forward_plain_names: Option<bool>,
    pub forwarders: Vec<DnsForwarder>,
    pub txts: Vec<DnsTxt>,
    pub srvs: Vec<DnsSrv>,
    pub hosts: Vec<DnsHost>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsForwarder {
    pub domain: Option<String>,
    pub addr: Option<IpAddr>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsTxt {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSrv {
    pub service: String,
    pub protocol: String,
    pub domain: Option<String>,
    pub target: Option<String>,
    pub port: u32,
    pub priority: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsHost {
    pub ip: IpAddr,
    pub hostnames: Vec<String>,
}

const PROTOCOL_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/";
const SERVICE_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*";
/// DNS_RECORD_LENGTH_SRV in libvirt.
const DNS_SRV_MAX: usize = 512 - 30;

pub(super) fn parse_dns(src: Src, net: &str, el: &Element) -> Result<DnsDef, XmlError> {
    let mut def = DnsDef {
        enable: prop_tristate(src, el, "enable")?,
        forward_plain_names: prop_tristate(src, el, "forwardPlainNames")?,
        ..Default::default()
    };
    for f in el.children_named("forwarder") {
        let addr = match f.attr("addr") {
            Some(a) => Some(parse_ip(a).ok_or_else(|| {
                src.xml(
                    f,
                    format!("Invalid forwarder IP address '{a}' in network '{net}'"),
                )
            })?),
            None => None,
        };
        let domain = f.attr("domain").map(str::to_string);
        if addr.is_none() && domain.is_none() {
            return Err(src.xml(
                f,
                "Invalid forwarder element, must contain at least one of addr or domain",
            ));
        }
        def.forwarders.push(DnsForwarder { domain, addr });
    }
    for h in el.children_named("host") {
        let names: Vec<&Element> = h.children_named("hostname").collect();
        let mut hostnames = Vec::new();
        for n in &names {
            let s = string_value(n);
            if s.is_empty() {
                return Err(src.detail(
                    n,
                    format!("Missing hostname in network '{net}' DNS HOST record"),
                ));
            }
            hostnames.push(s);
        }
        if names.is_empty() {
            return Err(src.detail(
                h,
                format!("Missing hostname in network '{net}' DNS HOST record"),
            ));
        }
        let Some(ip) = h.attr("ip") else {
            return Err(src.detail(
                h,
                format!("Missing IP address in network '{net}' DNS HOST record"),
            ));
        };
        let ip = parse_ip(ip).ok_or_else(|| {
            src.detail(
                h,
                format!("Invalid IP address in network '{net}' DNS HOST record"),
            )
        })?;
        def.hosts.push(DnsHost { ip, hostnames });
    }
    for s in el.children_named("srv") {
        def.srvs.push(parse_srv(src, net, s)?);
    }
    for t in el.children_named("txt") {
        let Some(name) = t.attr("name") else {
            return Err(src.detail(
                t,
                format!("missing required name attribute in DNS TXT record of network {net}"),
            ));
        };
        if name.contains(' ') || name.contains(',') {
            return Err(src.detail(
                t,
                format!("prohibited character in DNS TXT record name '{name}' of network {net}"),
            ));
        }
        let Some(value) = t.attr("value") else {
            return Err(src.detail(
                t,
                format!(
                    "missing required value attribute in DNS TXT record named '{name}' of network {net}"
                ),
            ));
        };
        def.txts.push(DnsTxt {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    if def.enable == Some(false)
        && !(def.forwarders.is_empty()
            && def.hosts.is_empty()
            && def.srvs.is_empty()
            && def.txts.is_empty())
    {
        return Err(src.xml(el, format!("Extra data in disabled network '{net}'")));
    }
    Ok(def)
}

fn parse_srv(src: Src, net: &str, el: &Element) -> Result<DnsSrv, XmlError> {
    let Some(service) = el.attr("service") else {
        return Err(src.detail(
            el,
            format!("missing required service attribute in DNS SRV record of network '{net}'"),
        ));
    };
    if service.len() > DNS_SRV_MAX {
        return Err(src.detail(
            el,
            format!(
                "service attribute '{service}' in network '{net}' is too long, limit is {DNS_SRV_MAX} bytes"
            ),
        ));
    }
    if !service.chars().all(|c| SERVICE_CHARS.contains(c)) {
        return Err(src.detail(
            el,
            format!(
                "invalid character in service attribute '{service}' in DNS SRV record of network '{net}'"
            ),
        ));
    }
    let Some(protocol) = el.attr("protocol") else {
        return Err(src.detail(
            el,
            format!(
                "missing required protocol attribute in DNS SRV record '{service}' of network '{net}'"
            ),
        ));
    };
    if !protocol.chars().all(|c| PROTOCOL_CHARS.contains(c)) {
        return Err(src.detail(
            el,
            format!(
                "invalid character in protocol attribute '{protocol}' in DNS SRV record of network '{net}'"
            ),
        ));
    }
    let mut def = DnsSrv {
        service: service.to_string(),
        protocol: protocol.to_string(),
        domain: el.attr("domain").map(str::to_string),
        target: el.attr("target").map(str::to_string),
        ..Default::default()
    };
    let has_target = def.target.is_some();
    let check = |attr: &str, what: &str, cap: &str, min: u32| -> Result<u32, XmlError> {
        match xpath_uint(el.attr(attr)) {
            Ok(None) => Ok(0),
            Ok(Some(v)) => {
                if !has_target {
                    return Err(src.detail(
                        el,
                        format!(
                            "DNS SRV {attr} attribute not permitted without target for service '{service}' in network '{net}'"
                        ),
                    ));
                }
                if v < min || v > 65535 {
                    return Err(src.detail(
                        el,
                        format!(
                            "{cap} DNS SRV {what} attribute for service '{service}' in network '{net}'"
                        ),
                    ));
                }
                Ok(v)
            }
            Err(()) => Err(src.detail(
                el,
                format!(
                    "{cap} DNS SRV {what} attribute for service '{service}' in network '{net}'"
                ),
            )),
        }
    };
    def.port = check("port", "port", "invalid", 1)?;
    def.priority = check("priority", "priority", "Invalid", 0)?;
    def.weight = check("weight", "weight", "invalid", 0)?;
    Ok(def)
}

pub(super) fn format_dns(w: &mut XmlWriter, d: &DnsDef) {
    let empty =
        d.forwarders.is_empty() && d.hosts.is_empty() && d.srvs.is_empty() && d.txts.is_empty();
    if d.enable.is_none() && d.forward_plain_names.is_none() && empty {
        return;
    }
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(e) = d.enable {
        a.push(("enable", yes_no(e).into()));
    }
    if let Some(f) = d.forward_plain_names {
        a.push(("forwardPlainNames", yes_no(f).into()));
    }
    if empty {
        w.empty("dns", &attrs(&a));
        return;
    }
    w.start("dns", &attrs(&a));
    for f in &d.forwarders {
        let mut fa: Vec<(&str, String)> = Vec::new();
        if let Some(dom) = &f.domain {
            fa.push(("domain", dom.clone()));
        }
        if let Some(ad) = &f.addr {
            fa.push(("addr", format_ip(ad)));
        }
        w.empty("forwarder", &attrs(&fa));
    }
    for t in &d.txts {
        w.empty("txt", &[("name", &t.name), ("value", &t.value)]);
    }
    for s in &d.srvs {
        let mut sa: Vec<(&str, String)> = vec![
            ("service", s.service.clone()),
            ("protocol", s.protocol.clone()),
        ];
        if let Some(v) = &s.domain {
            sa.push(("domain", v.clone()));
        }
        if let Some(v) = &s.target {
            sa.push(("target", v.clone()));
        }
        if s.port != 0 {
            sa.push(("port", s.port.to_string()));
        }
        if s.priority != 0 {
            sa.push(("priority", s.priority.to_string()));
        }
        if s.weight != 0 {
            sa.push(("weight", s.weight.to_string()));
        }
        w.empty("srv", &attrs(&sa));
    }
    for h in &d.hosts {
        w.start("host", &[("ip", &format_ip(&h.ip))]);
        for n in &h.hostnames {
            w.text("hostname", &[], n);
        }
        w.end("host");
    }
    w.end("dns");
}
