//! The DNS sections of virNetworkUpdate (virNetworkDefUpdateDNSHost, virNetworkDefUpdateDNSTxt,
//! virNetworkDefUpdateDNSSrv in libvirt's network_conf.c), and the partial records a delete
//! may give.

use std::net::IpAddr;

use virtsh_api::flags::net_update_command as cmd;
use virtsh_api::{Error, Result};
use virtsh_xml::dom::Element;
use virtsh_xml::network::{parse_ip, DnsDef, DnsHost, DnsSrv, DnsTxt};
use virtsh_xml::NetworkDef;

use crate::netupdate::{
    check_name, element_text, insert_at, is_add, parse_within, unknown_command, unsupported,
    xml_detail,
};

/// The `<dns>` of a definition, created empty when missing.
fn dns_of(def: &mut NetworkDef) -> &mut DnsDef {
    def.dns.get_or_insert_with(Default::default)
}

/// An empty `<dns>` is not kept (libvirt does not format one).
fn tidy_dns(def: &mut NetworkDef) {
    if def.dns.as_ref().is_some_and(|d| *d == DnsDef::default()) {
        def.dns = None;
    }
}

/// The `<dns>` record parsed as libvirt parses a full one.
fn parse_dns_record(def: &NetworkDef, el: &Element) -> Result<DnsDef> {
    let parsed = parse_within(def, &format!("<dns>{}</dns>", element_text(el)))?;
    Ok(parsed.dns.unwrap_or_default())
}

/// virNetworkDefUpdateDNSHost
pub(crate) fn dns_host(def: &mut NetworkDef, command: u32, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS HOST records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "host")?;
    let net = def.name.clone();
    let add = is_add(command);
    let (ip, names) = if add {
        let Some(h) = parse_dns_record(def, el)?.hosts.into_iter().next() else {
            return Err(Error::internal("no DNS host parsed"));
        };
        (Some(h.ip), h.hostnames)
    } else {
        partial_dns_host(&net, el)?
    };
    let hosts = def.dns.as_ref().map(|d| d.hosts.as_slice()).unwrap_or(&[]);
    let matches: Vec<usize> = hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            Some(h.ip) == ip || (!add && names.iter().any(|n| h.hostnames.iter().any(|m| m == n)))
        })
        .map(|(i, _)| i)
        .collect();
    if add {
        if !matches.is_empty() {
            return Err(Error::invalid_op(format!(
                "there is already at least one DNS HOST record with a matching field in network {net}"
            )));
        }
        let Some(ip) = ip else {
            return Err(Error::internal("DNS host without address"));
        };
        let host = DnsHost {
            ip,
            hostnames: names,
        };
        insert_at(&mut dns_of(def).hosts, command, host);
        return Ok(());
    }
    if command != cmd::DELETE {
        return Err(unknown_command(command));
    }
    match matches.as_slice() {
        [] => Err(Error::invalid_op(format!(
            "couldn't locate a matching DNS HOST record in network {net}"
        ))),
        [i] => {
            dns_of(def).hosts.remove(*i);
            tidy_dns(def);
            Ok(())
        }
        _ => Err(Error::invalid_op(format!(
            "multiple matching DNS HOST records were found in network {net}"
        ))),
    }
}

/// virNetworkDNSHostDefParseXML with partialOkay.
fn partial_dns_host(net: &str, el: &Element) -> Result<(Option<IpAddr>, Vec<String>)> {
    let mut names = Vec::new();
    for h in el.children_named("hostname") {
        if h.text.is_empty() {
            return Err(xml_detail(format!(
                "Missing hostname in network '{net}' DNS HOST record"
            )));
        }
        names.push(h.text.clone());
    }
    let ip = match el.attr("ip") {
        Some(t) => Some(parse_ip(t).ok_or_else(|| {
            xml_detail(format!(
                "Invalid IP address in network '{net}' DNS HOST record"
            ))
        })?),
        None if names.is_empty() => {
            return Err(xml_detail(format!(
                "Missing ip and hostname in network '{net}' DNS HOST record"
            )))
        }
        None => None,
    };
    Ok((ip, names))
}

/// virNetworkDefUpdateDNSTxt
pub(crate) fn dns_txt(def: &mut NetworkDef, command: u32, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS TXT records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "txt")?;
    let net = def.name.clone();
    let add = is_add(command);
    let txt = if add {
        let Some(t) = parse_dns_record(def, el)?.txts.into_iter().next() else {
            return Err(Error::internal("no DNS TXT parsed"));
        };
        t
    } else {
        let Some(name) = el.attr("name") else {
            return Err(xml_detail(
                "missing required name attribute in DNS TXT record",
            ));
        };
        if name.contains([' ', ',']) {
            return Err(xml_detail(format!(
                "prohibited character in DNS TXT record name '{name}'"
            )));
        }
        DnsTxt {
            name: name.to_string(),
            value: el.attr("value").unwrap_or_default().to_string(),
        }
    };
    let found = def
        .dns
        .as_ref()
        .and_then(|d| d.txts.iter().position(|t| t.name == txt.name));
    if add {
        if found.is_some() {
            return Err(Error::invalid_op(format!(
                "there is already a DNS TXT record with name '{}' in network {net}",
                txt.name
            )));
        }
        insert_at(&mut dns_of(def).txts, command, txt);
        return Ok(());
    }
    if command != cmd::DELETE {
        return Err(unknown_command(command));
    }
    let Some(i) = found else {
        return Err(Error::invalid_op(format!(
            "couldn't locate a matching DNS TXT record in network {net}"
        )));
    };
    dns_of(def).txts.remove(i);
    tidy_dns(def);
    Ok(())
}

/// An SRV record as a search key (virNetworkDNSSrvDefParseXML with partialOkay).
struct SrvKey {
    service: Option<String>,
    protocol: Option<String>,
    domain: Option<String>,
    target: Option<String>,
}

impl SrvKey {
    fn matches(&self, s: &DnsSrv) -> bool {
        let eq = |k: &Option<String>, v: Option<&str>| k.is_none() || k.as_deref() == v;
        eq(&self.service, Some(&s.service))
            && eq(&self.protocol, Some(&s.protocol))
            && eq(&self.domain, s.domain.as_deref())
            && eq(&self.target, s.target.as_deref())
    }
}

fn partial_dns_srv(net: &str, el: &Element) -> Result<SrvKey> {
    const SERVICE: &str = "_-+/*";
    const PROTOCOL: &str = "-+/";
    let service = el.attr("service").map(str::to_string);
    if let Some(s) = &service {
        if s.len() > 512 - 30 {
            return Err(xml_detail(format!(
                "service attribute '{s}' in network '{net}' is too long, limit is {} bytes",
                512 - 30
            )));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SERVICE.contains(c))
        {
            return Err(xml_detail(format!(
                "invalid character in service attribute '{s}' in DNS SRV record of network '{net}'"
            )));
        }
    }
    let protocol = el.attr("protocol").map(str::to_string);
    if let Some(p) = &protocol {
        if !p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || PROTOCOL.contains(c))
        {
            return Err(xml_detail(format!(
                "invalid character in protocol attribute '{p}' in DNS SRV record of network '{net}'"
            )));
        }
    }
    Ok(SrvKey {
        service,
        protocol,
        domain: el.attr("domain").map(str::to_string),
        target: el.attr("target").map(str::to_string),
    })
}

/// virNetworkDefUpdateDNSSrv
pub(crate) fn dns_srv(def: &mut NetworkDef, command: u32, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS SRV records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "srv")?;
    let net = def.name.clone();
    let add = is_add(command);
    let (key, full) = if add {
        let Some(s) = parse_dns_record(def, el)?.srvs.into_iter().next() else {
            return Err(Error::internal("no DNS SRV parsed"));
        };
        let key = SrvKey {
            service: Some(s.service.clone()),
            protocol: Some(s.protocol.clone()),
            domain: s.domain.clone(),
            target: s.target.clone(),
        };
        (key, Some(s))
    } else {
        (partial_dns_srv(&net, el)?, None)
    };
    let srvs = def.dns.as_ref().map(|d| d.srvs.as_slice()).unwrap_or(&[]);
    let matches: Vec<usize> = srvs
        .iter()
        .enumerate()
        .filter(|(_, s)| key.matches(s))
        .map(|(i, _)| i)
        .collect();
    if let Some(srv) = full {
        if !matches.is_empty() {
            return Err(Error::invalid_op(format!(
                "there is already at least one DNS SRV record matching all specified fields in network {net}"
            )));
        }
        insert_at(&mut dns_of(def).srvs, command, srv);
        return Ok(());
    }
    if command != cmd::DELETE {
        return Err(unknown_command(command));
    }
    match matches.as_slice() {
        [] => Err(Error::invalid_op(format!(
            "couldn't locate a matching DNS SRV record in network {net}"
        ))),
        [i] => {
            dns_of(def).srvs.remove(*i);
            tidy_dns(def);
            Ok(())
        }
        _ => Err(Error::invalid_op(format!(
            "multiple DNS SRV records matching all specified fields were found in network {net}"
        ))),
    }
}
