//! The dnsmasq configuration of a network, line for line as libvirt 9.0's
//! `networkDnsmasqConfContents` (src/network/bridge_driver.c) writes it, with the DHCP hosts
//! file (`hostsfileAdd` in src/util/virdnsmasq.c) and the addn-hosts file (`addnhostsWrite`).
//!
//! Differences from libvirt, all on purpose:
//! - `dhcp-leasefile=` before `dhcp-hostsfile=`, because virtsh has no lease helper (see the
//!   module documentation of [`super`]).
//! - Values containing a line break are refused instead of being written: one would add lines
//!   of its own to the file.
//! - `<dnsmasq:options>` (libvirt's XML namespace extension) is not in the network model yet,
//!   so nothing is appended for it.

use std::net::IpAddr;
use std::path::Path;

use virtsh_xml::network::{format_ip, DhcpLease, DnsSrv, IpDef};
use virtsh_xml::NetworkDef;

use super::{DnsmasqError, DnsmasqFiles};

/// What [`super::write`] puts on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsmasqConfig {
    /// The file given to dnsmasq with `--conf-file=`.
    pub conf: String,
    /// The `dhcp-hostsfile`: one `<dhcp><host>` a line, empty when there is none.
    pub hosts: String,
    /// The `addn-hosts` file: `IP\tNAME\t...\n` a line for the `<dns><host>` entries.
    pub addnhosts: String,
}

/// Push one line (format arguments, then `\n`).
macro_rules! emit {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// Build the configuration of `def` for its bridge `bridge` (the caller's choice: a definition
/// without `<bridge name=>` gets one assigned when it starts, as libvirt's `virbr%d`).
pub fn config(
    def: &NetworkDef,
    bridge: &str,
    files: &DnsmasqFiles,
) -> Result<DnsmasqConfig, DnsmasqError> {
    files.check_absolute()?;
    if bridge.is_empty() {
        return Err(DnsmasqError::Internal(format!(
            "network '{}' has no bridge name",
            def.name
        )));
    }
    let bridge = clean("bridge name", bridge)?;
    let dns = def.dns.clone().unwrap_or_default();
    let want_dns = dns.enable != Some(false);
    let mut out = String::new();

    // libvirt's header word for word, "virsh net-edit" included: virtsh answers to that name.
    emit!(
        out,
        "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
         ##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n\
         ##    virsh net-edit {}\n\
         ## or other application using the libvirt API.\n\
         ##\n\
         ## dnsmasq conf file created by libvirt\n\
         strict-order",
        clean("network name", &def.name)?
    );

    // port=0 tells dnsmasq not to serve DNS at all.
    if !want_dns {
        emit!(out, "port=0");
    }

    if want_dns && !dns.forwarders.is_empty() {
        // A forwarder with an address and no domain takes every "unclaimed" query, so the
        // host's resolv.conf is then not needed; otherwise it still is.
        let mut no_resolv = false;
        for fwd in &dns.forwarders {
            out.push_str("server=");
            if let Some(d) = &fwd.domain {
                out.push_str(&format!("/{}/", clean("DNS forwarder domain", d)?));
            }
            match &fwd.addr {
                Some(a) => {
                    emit!(out, "{}", format_ip(a));
                    if fwd.domain.is_none() {
                        no_resolv = true;
                    }
                }
                // "don't forward requests for this domain"
                None => emit!(out, "#"),
            }
        }
        if no_resolv {
            emit!(out, "no-resolv");
        }
    }

    if let Some(domain) = &def.domain {
        let name = clean("domain name", &domain.name)?;
        if domain.local_only == Some(true) {
            emit!(out, "local=/{name}/");
        }
        emit!(out, "domain={name}\nexpand-hosts");
    }

    if want_dns {
        for ip in def.ips.iter().filter(|ip| ip.local_ptr == Some(true)) {
            if let Some(addr) = &ip.address {
                emit!(out, "local=/{}/", ptr_domain(addr, ip.effective_prefix())?);
            }
        }
    }

    if want_dns && dns.forward_plain_names == Some(false) {
        // Plain (dot-less) names stay local, whether or not a domain is set.
        emit!(out, "domain-needed\nlocal=//");
    }

    emit!(out, "pid-file={}", path_value("pid file", &files.pid)?);

    // dnsmasq always listens on localhost unless told otherwise. bind-dynamic with only
    // interface= (no listen-address) keeps it from answering queries that arrive on any other
    // interface than the bridge (CVE-2012-3411).
    emit!(out, "except-interface=lo\nbind-dynamic\ninterface={bridge}");

    if def.forward_mode() == "none" {
        // Isolated: no default route for the guests (an empty option 3), no forwarding of DNS
        // queries through the host's resolv.conf (a channel to the outside), and a lifetime of
        // 0 for the default route that IPv6 router advertisements imply.
        emit!(out, "dhcp-option=3\nno-resolv\nra-param=*,0,0");
    }

    if want_dns {
        for txt in &dns.txts {
            emit!(
                out,
                "txt-record={},{}",
                clean("DNS TXT record name", &txt.name)?,
                clean("DNS TXT record value", &txt.value)?
            );
        }
        for srv in &dns.srvs {
            emit!(out, "{}", srv_line(srv)?);
        }
    }

    // The first <ip> of each family with DHCP; TFTP for every IPv4 address.
    let mut ipv4def: Option<&IpDef> = None;
    let mut ipv6def: Option<&IpDef> = None;
    let mut tftp_enabled = false;
    for ip in &def.ips {
        let Some(addr) = ip.address else { continue };
        let has_dhcp = !ip.ranges.is_empty() || !ip.hosts.is_empty();
        if addr.is_ipv4() {
            if has_dhcp {
                if ipv4def.is_some() {
                    return Err(DnsmasqError::Unsupported(
                        "For IPv4, multiple DHCP definitions cannot be specified.".into(),
                    ));
                }
                ipv4def = Some(ip);
            }
            if let Some(root) = &ip.tftp_root {
                if !tftp_enabled {
                    emit!(out, "enable-tftp");
                    tftp_enabled = true;
                }
                emit!(out, "tftp-root={}", clean("TFTP root", root)?);
            }
        } else if has_dhcp {
            if ipv6def.is_some() {
                return Err(DnsmasqError::Unsupported(
                    "For IPv6, multiple DHCP definitions cannot be specified.".into(),
                ));
            }
            ipv6def = Some(ip);
        }
    }

    let mut leases = 0u64;
    let mut hosts = String::new();
    for ip in [ipv4def, ipv6def].into_iter().flatten() {
        dhcp_lines(&mut out, &mut hosts, &mut leases, ip, bridge)?;
    }
    if leases > 0 {
        emit!(out, "dhcp-lease-max={leases}");
    }

    if ipv4def.is_some() || ipv6def.is_some() {
        emit!(
            out,
            "dhcp-leasefile={}",
            path_value("lease file", &files.leases)?
        );
        // Written even when empty, so hosts can be added at run time (SIGHUP).
        emit!(
            out,
            "dhcp-hostsfile={}",
            path_value("hosts file", &files.hostsfile)?
        );
    }
    if want_dns {
        emit!(
            out,
            "addn-hosts={}",
            path_value("addn-hosts file", &files.addnhosts)?
        );
    }

    // Tell DHCP clients the MTU of the network.
    if let Some(mtu) = def.mtu.filter(|m| *m > 0) {
        emit!(out, "dhcp-option=option:mtu,{mtu}");
    }

    if ipv6def.is_some() {
        emit!(out, "enable-ra");
    } else {
        // Router advertisements only (SLAAC) for IPv6 addresses without DHCP.
        for ip in &def.ips {
            if let Some(addr @ IpAddr::V6(_)) = ip.address {
                if ip.ranges.is_empty() && ip.hosts.is_empty() {
                    emit!(out, "dhcp-range={},ra-only", format_ip(&addr));
                }
            }
        }
    }

    Ok(DnsmasqConfig {
        conf: out,
        hosts,
        addnhosts: addn_hosts(def)?,
    })
}

/// networkDnsmasqConfDHCP: the ranges of one `<ip>`, its static hosts and (IPv4) its options.
fn dhcp_lines(
    out: &mut String,
    hosts: &mut String,
    leases: &mut u64,
    ip: &IpDef,
    bridge: &str,
) -> Result<(), DnsmasqError> {
    let Some(addr) = ip.address else {
        return Ok(());
    };
    let prefix = ip.effective_prefix();
    if prefix < 0 {
        return Err(DnsmasqError::Internal(format!(
            "bridge '{bridge}' has an invalid prefix"
        )));
    }
    for range in &ip.ranges {
        let (s, e) = (format_ip(&range.start), format_ip(&range.end));
        match addr {
            IpAddr::V6(_) => out.push_str(&format!("dhcp-range={s},{e},{prefix}")),
            IpAddr::V4(_) => {
                // dnsmasq wants a netmask, not a prefix, for IPv4.
                let mask = ipv4_netmask(prefix).ok_or_else(|| {
                    DnsmasqError::Internal(format!(
                        "Failed to translate bridge '{bridge}' prefix {prefix} to netmask"
                    ))
                })?;
                out.push_str(&format!("dhcp-range={s},{e},{mask}"));
            }
        }
        if let Some(lease) = &range.lease {
            out.push_str(&format!(",{}", lease_time(lease)));
        }
        out.push('\n');
        *leases += range_size(&range.start, &range.end)?;
    }

    // Static hosts only: a "static" range turns on the DHCP service for dhcp-host entries.
    if ip.ranges.is_empty() && !ip.hosts.is_empty() {
        out.push_str(&format!("dhcp-range={},static", format_ip(&addr)));
        if addr.is_ipv6() {
            out.push_str(&format!(",{prefix}"));
        }
        out.push('\n');
    }

    for host in &ip.hosts {
        if let Some(host_ip) = &host.ip {
            emit!(hosts, "{}", host_line(host, host_ip, addr.is_ipv6())?);
        }
    }

    if addr.is_ipv4() {
        if !ip.ranges.is_empty() || !ip.hosts.is_empty() {
            emit!(out, "dhcp-no-override\ndhcp-authoritative");
        }
        if let Some(bootp) = &ip.bootp {
            let file = clean("boot file", &bootp.file)?;
            match &bootp.server {
                Some(server) => emit!(out, "dhcp-boot={file},,{}", format_ip(server)),
                None => emit!(out, "dhcp-boot={file}"),
            }
        }
    }
    Ok(())
}

/// hostsfileAdd: `mac,ip,name` (IPv4), `id:DUID,name,[ip]` (IPv6), with an optional lease time.
fn host_line(
    host: &virtsh_xml::network::DhcpHost,
    ip: &IpAddr,
    ipv6: bool,
) -> Result<String, DnsmasqError> {
    let mac = host
        .mac
        .as_deref()
        .map(|m| clean("host MAC", m))
        .transpose()?;
    let name = host
        .name
        .as_deref()
        .map(|n| clean("host name", n))
        .transpose()?;
    let id = host
        .id
        .as_deref()
        .map(|i| clean("host id", i))
        .transpose()?;
    let ip = format_ip(ip);
    let mut line = if ipv6 {
        let who = match (name, id) {
            (Some(n), Some(i)) => format!("id:{i},{n}"),
            (Some(n), None) => n.to_string(),
            (None, Some(i)) => format!("id:{i}"),
            (None, None) => String::new(),
        };
        format!("{who},[{ip}]")
    } else {
        match (name, mac) {
            (Some(n), Some(m)) => format!("{m},{ip},{n}"),
            (Some(n), None) => format!("{n},{ip}"),
            // The parser requires a MAC or a name for IPv4 hosts.
            (None, m) => format!("{},{ip}", m.unwrap_or_default()),
        }
    };
    if let Some(lease) = &host.lease {
        line.push_str(&format!(",{}", lease_time(lease)));
    }
    Ok(line)
}

/// networkBuildDnsmasqLeaseTime: `infinite`, or the number and the unit's first letter.
fn lease_time(lease: &DhcpLease) -> String {
    if lease.expiry == 0 {
        "infinite".to_string()
    } else {
        let unit = lease.unit.chars().next().unwrap_or('m');
        format!("{}{unit}", lease.expiry)
    }
}

/// srv-host=_SERVICE._PROTOCOL[.DOMAIN][,TARGET[,PORT[,PRIORITY[,WEIGHT]]]]
fn srv_line(srv: &DnsSrv) -> Result<String, DnsmasqError> {
    // RFC 2782: service and protocol are preceded by an underscore.
    let mut line = format!(
        "srv-host=_{}._{}",
        clean("DNS SRV service", &srv.service)?,
        clean("DNS SRV protocol", &srv.protocol)?
    );
    if let Some(d) = &srv.domain {
        line.push_str(&format!(".{}", clean("DNS SRV domain", d)?));
    }
    // An empty target or "." means "decidedly not available here" (RFC 2782): port, priority
    // and weight are then irrelevant. The others are positional, so a later one given forces
    // the earlier ones (dnsmasq's default port is 1).
    if let Some(target) = srv.target.as_deref().filter(|t| *t != ".") {
        line.push_str(&format!(",{}", clean("DNS SRV target", target)?));
        if srv.port != 0 || srv.priority != 0 || srv.weight != 0 {
            line.push_str(&format!(",{}", if srv.port != 0 { srv.port } else { 1 }));
        }
        if srv.priority != 0 || srv.weight != 0 {
            line.push_str(&format!(",{}", srv.priority));
        }
        if srv.weight != 0 {
            line.push_str(&format!(",{}", srv.weight));
        }
    }
    Ok(line)
}

/// addnhostsAdd + addnhostsWrite: one line per address, in order of first appearance, each
/// name followed by a tab.
fn addn_hosts(def: &NetworkDef) -> Result<String, DnsmasqError> {
    let mut entries: Vec<(String, Vec<&str>)> = Vec::new();
    for host in def.dns.iter().flat_map(|d| &d.hosts) {
        let ip = format_ip(&host.ip);
        let idx = match entries.iter().position(|(i, _)| *i == ip) {
            Some(idx) => idx,
            None => {
                entries.push((ip, Vec::new()));
                entries.len() - 1
            }
        };
        for name in &host.hostnames {
            entries[idx].1.push(clean("DNS host name", name)?);
        }
    }
    let mut out = String::new();
    for (ip, names) in entries {
        out.push_str(&ip);
        out.push('\t');
        for n in names {
            out.push_str(n);
            out.push('\t');
        }
        out.push('\n');
    }
    Ok(out)
}

/// virSocketAddrPTRDomain: the reverse zone of a network whose prefix is a whole number of
/// octets (IPv4) or nibbles (IPv6).
fn ptr_domain(addr: &IpAddr, prefix: i64) -> Result<String, DnsmasqError> {
    let unsupported = |family: &str| {
        // libvirt prints the prefix as unsigned, so an undefined one (-1) shows as 4294967295.
        DnsmasqError::Unsupported(format!(
            "PTR domain for {family} network with prefix {} cannot be automatically created",
            prefix as u32
        ))
    };
    let mut out = String::new();
    match addr {
        IpAddr::V4(v4) => {
            if prefix <= 0 || prefix >= 32 || prefix % 8 != 0 {
                return Err(unsupported("IPv4"));
            }
            let octets = v4.octets();
            for i in (0..(prefix / 8) as usize).rev() {
                out.push_str(&format!("{}.", octets[i]));
            }
            out.push_str("in-addr.arpa");
        }
        IpAddr::V6(v6) => {
            if prefix <= 0 || prefix >= 128 || prefix % 4 != 0 {
                return Err(unsupported("IPv6"));
            }
            let nibbles: Vec<u8> = v6.octets().iter().flat_map(|b| [b >> 4, b & 0xf]).collect();
            for i in (0..(prefix / 4) as usize).rev() {
                out.push_str(&format!("{:x}.", nibbles[i]));
            }
            out.push_str("ip6.arpa");
        }
    }
    Ok(out)
}

fn ipv4_netmask(prefix: i64) -> Option<String> {
    if !(0..=32).contains(&prefix) {
        return None;
    }
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    Some(std::net::Ipv4Addr::from(bits).to_string())
}

/// virSocketAddrGetRange's count of the addresses in a range (used for dhcp-lease-max). The
/// parser has already checked that the range lies inside its network; libvirt only supports
/// ranges whose addresses differ in the last 16 bits.
fn range_size(start: &IpAddr, end: &IpAddr) -> Result<u64, DnsmasqError> {
    let (s, e) = (format_ip(start), format_ip(end));
    let too_large = || DnsmasqError::Internal(format!("range {s} - {e} is too large (> 65535)"));
    let (a, b) = match (start, end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (a.octets(), b.octets());
            if a[..2] != b[..2] {
                return Err(too_large());
            }
            (
                i64::from(a[2]) * 256 + i64::from(a[3]),
                i64::from(b[2]) * 256 + i64::from(b[3]),
            )
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (a.segments(), b.segments());
            if a[..7] != b[..7] {
                return Err(too_large());
            }
            (i64::from(a[7]), i64::from(b[7]))
        }
        _ => {
            return Err(DnsmasqError::Internal(format!(
                "mismatch of address family in range {s} - {e}"
            )))
        }
    };
    if b < a {
        return Err(DnsmasqError::Internal(format!(
            "range {s} - {e} is reversed "
        )));
    }
    Ok((b - a + 1) as u64)
}

/// Refuse a value that would start a line of its own in a line-based file.
fn clean<'a>(what: &'static str, value: &'a str) -> Result<&'a str, DnsmasqError> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(DnsmasqError::InvalidValue {
            what,
            value: value.to_string(),
        });
    }
    Ok(value)
}

fn path_value<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, DnsmasqError> {
    let s = path.to_str().ok_or_else(|| DnsmasqError::InvalidValue {
        what,
        value: path.to_string_lossy().into_owned(),
    })?;
    clean(what, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(a) => a,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn ptr_domains() {
        assert_eq!(
            ptr_domain(&ip("192.168.122.1"), 24).ok(),
            Some("122.168.192.in-addr.arpa".to_string())
        );
        assert_eq!(
            ptr_domain(&ip("10.1.2.3"), 8).ok(),
            Some("10.in-addr.arpa".to_string())
        );
        assert_eq!(
            ptr_domain(&ip("2001:db8:ac10:fe01::1"), 64).ok(),
            Some("1.0.e.f.0.1.c.a.8.b.d.0.1.0.0.2.ip6.arpa".to_string())
        );
        let e = ptr_domain(&ip("10.1.2.3"), 20).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("PTR domain for IPv4 network with prefix 20 cannot be automatically created")
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            range_size(&ip("10.0.0.2"), &ip("10.0.0.254")).ok(),
            Some(253)
        );
        assert_eq!(range_size(&ip("10.0.1.0"), &ip("10.0.2.0")).ok(), Some(257));
        assert!(range_size(&ip("10.0.0.9"), &ip("10.0.0.2")).is_err());
        assert!(range_size(&ip("10.0.0.2"), &ip("10.1.0.2")).is_err());
        assert_eq!(
            range_size(&ip("fd00::1:10"), &ip("fd00::1:ff")).ok(),
            Some(240)
        );
        assert!(range_size(&ip("fd00::1:10"), &ip("fd00::2:ff")).is_err());
    }

    #[test]
    fn netmasks() {
        assert_eq!(ipv4_netmask(24).as_deref(), Some("255.255.255.0"));
        assert_eq!(ipv4_netmask(0).as_deref(), Some("0.0.0.0"));
        assert_eq!(ipv4_netmask(32).as_deref(), Some("255.255.255.255"));
        assert_eq!(ipv4_netmask(33), None);
    }

    #[test]
    fn line_breaks_are_refused() {
        assert!(clean("x", "a\nb").is_err());
        assert!(clean("x", "a\rb").is_err());
        assert_eq!(clean("x", "a b").ok(), Some("a b"));
    }
}
