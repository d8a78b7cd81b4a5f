//! The DNS sections of virNetworkDefUpdateSection (virNetworkDefUpdateDNSHost,
//! virNetworkDefUpdateDNSTxt, virNetworkDefUpdateDNSSrv in libvirt's network_conf.c), and the
//! partial records a delete may give.

use std::net::IpAddr;

use virtsh_api::flags::net_update_command as cmd;
use virtsh_api::{Error, Result};

use super::update::{
    check_name, element, insert_at, is_add, parse_within, unknown_command, unsupported, xml_detail,
};
use super::{parse_ip, DnsDef, DnsHost, DnsSrv, DnsTxt, NetworkDef};
use crate::dom::Element;

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
fn parse_dns_record(def: &NetworkDef, xml: &str, el: &Element) -> Result<DnsDef> {
    let parsed = parse_within(def, xml, element("dns", Vec::new(), vec![el.clone()]))?;
    Ok(parsed.dns.unwrap_or_default())
}

/// virNetworkDefUpdateDNSHost
pub(super) fn dns_host(def: &mut NetworkDef, command: u32, xml: &str, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS HOST records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "host")?;
    let net = def.name.clone();
    let add = is_add(command);
    let (ip, names) = if add {
        let Some(h) = parse_dns_record(def, xml, el)?.hosts.into_iter().next() else {
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
pub(super) fn dns_txt(def: &mut NetworkDef, command: u32, xml: &str, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS TXT records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "txt")?;
    let net = def.name.clone();
    let add = is_add(command);
    let txt = if add {
        let Some(t) = parse_dns_record(def, xml, el)?.txts.into_iter().next() else {
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
pub(super) fn dns_srv(def: &mut NetworkDef, command: u32, xml: &str, el: &Element) -> Result<()> {
    if command == cmd::MODIFY {
        return Err(unsupported(
            "DNS SRV records cannot be modified, only added or deleted",
        ));
    }
    check_name(def, el, "srv")?;
    let net = def.name.clone();
    let add = is_add(command);
    let (key, full) = if add {
        let Some(s) = parse_dns_record(def, xml, el)?.srvs.into_iter().next() else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::update_section;
    use virtsh_api::flags::net_update_section as sec;

    fn lab() -> NetworkDef {
        NetworkDef::parse("<network><name>lab</name></network>").unwrap()
    }

    #[test]
    fn dns_hosts_need_a_single_match_to_delete() {
        let mut def = lab();
        let a = "<host ip='10.0.0.5'><hostname>a</hostname><hostname>b</hostname></host>";
        let c = "<host ip='10.0.0.6'><hostname>b</hostname></host>";
        update_section(&mut def, cmd::ADD_LAST, sec::DNS_HOST, -1, a).unwrap();
        update_section(&mut def, cmd::ADD_FIRST, sec::DNS_HOST, -1, c).unwrap();
        let hosts = &def.dns.as_ref().unwrap().hosts;
        assert_eq!(hosts[0].hostnames, ["b"]);
        let del = "<host><hostname>b</hostname></host>";
        let err = update_section(&mut def, cmd::DELETE, sec::DNS_HOST, -1, del).unwrap_err();
        assert!(
            err.to_string()
                .contains("multiple matching DNS HOST records were found in network lab"),
            "{err}"
        );
        let err = update_section(&mut def, cmd::MODIFY, sec::DNS_HOST, -1, a).unwrap_err();
        assert!(
            err.to_string()
                .contains("DNS HOST records cannot be modified"),
            "{err}"
        );
    }

    #[test]
    fn an_emptied_dns_is_dropped() {
        let mut def = lab();
        let txt = "<txt name='example' value='v'/>";
        update_section(&mut def, cmd::ADD_LAST, sec::DNS_TXT, -1, txt).unwrap();
        let err = update_section(&mut def, cmd::ADD_LAST, sec::DNS_TXT, -1, txt).unwrap_err();
        assert!(
            err.to_string()
                .contains("there is already a DNS TXT record with name 'example' in network lab"),
            "{err}"
        );
        update_section(
            &mut def,
            cmd::DELETE,
            sec::DNS_TXT,
            -1,
            "<txt name='example'/>",
        )
        .unwrap();
        assert_eq!(def.dns, None);
    }

    #[test]
    fn srv_records_match_on_given_fields() {
        let mut def = lab();
        let srv =
            "<srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024'/>";
        update_section(&mut def, cmd::ADD_LAST, sec::DNS_SRV, -1, srv).unwrap();
        let err = update_section(
            &mut def,
            cmd::DELETE,
            sec::DNS_SRV,
            -1,
            "<srv service='n@me'/>",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid character in service attribute 'n@me'"),
            "{err}"
        );
        update_section(
            &mut def,
            cmd::DELETE,
            sec::DNS_SRV,
            -1,
            "<srv protocol='tcp'/>",
        )
        .unwrap();
        assert_eq!(def.dns, None);
    }
}
