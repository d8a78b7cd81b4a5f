//! What a virtual network's firewall holds, independent of the backend: libvirt's list of rules
//! (`network_iptables.c` / `network_nftables.c`: the "general" rules of each family, then the
//! rules of each `<ip>`), in libvirt's order. Every rule is *inserted* at the head of its chain,
//! so the catch-all rejects added first end up last and the accepts added later come before them.

use super::FirewallError;
use std::net::IpAddr;
use virtsh_xml::NetworkDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    pub(crate) fn of(addr: &IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One rule. The bridge and the forward device are the plan's; `net` is `address/prefix` of the
/// network, masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Accept packets from guests to a host service (DHCP, DNS, TFTP) on the bridge. The
    /// iptables backend only: nftables' own table cannot override anybody's reject anyway.
    HostInput {
        family: Family,
        proto: Proto,
        port: u16,
    },
    /// Accept packets from a host service to the guests.
    HostOutput {
        family: Family,
        proto: Proto,
        port: u16,
    },
    /// Guests' traffic out through the forward device.
    AllowOut { family: Family, net: String },
    /// Replies (established, related) back in to the guests.
    AllowRelatedIn { family: Family, net: String },
    /// Any traffic in to the guests (routed networks).
    AllowIn { family: Family, net: String },
    /// Guest to guest across the bridge.
    AllowCross { family: Family },
    /// Catch-all: anything else out of the bridge.
    RejectOut { family: Family },
    /// Catch-all: anything else in to the bridge.
    RejectIn { family: Family },
    /// Source NAT of the network's traffic leaving it, for one protocol or for all.
    Masquerade {
        family: Family,
        net: String,
        proto: Option<Proto>,
        /// `<nat><address start end>`: SNAT to this address or range instead of masquerading.
        snat: Option<String>,
        /// Source ports for tcp/udp (libvirt: 1024-65535 unless `<nat><port>` says otherwise).
        ports: (u32, u32),
    },
    /// No NAT towards `dest` (local multicast, broadcast).
    DontMasquerade {
        family: Family,
        net: String,
        dest: &'static str,
    },
}

impl Rule {
    pub(crate) fn family(&self) -> Family {
        match self {
            Rule::HostInput { family, .. }
            | Rule::HostOutput { family, .. }
            | Rule::AllowOut { family, .. }
            | Rule::AllowRelatedIn { family, .. }
            | Rule::AllowIn { family, .. }
            | Rule::AllowCross { family }
            | Rule::RejectOut { family }
            | Rule::RejectIn { family }
            | Rule::Masquerade { family, .. }
            | Rule::DontMasquerade { family, .. } => *family,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub bridge: String,
    /// `<forward dev=...>`: traffic is forwarded through this interface only.
    pub physdev: Option<String>,
    pub rules: Vec<Rule>,
    /// iptables only: fill in the checksum of DHCP replies (mangle table, udp port 68).
    pub checksum_fix: bool,
}

const LOCAL_MULTICAST_V4: &str = "224.0.0.0/24";
const LOCAL_MULTICAST_V6: &str = "ff02::/16";
const LOCAL_BROADCAST: &str = "255.255.255.255/32";

/// The rules of `def` on `bridge`; `host_rules` adds the INPUT/OUTPUT accepts and the checksum
/// fix of the iptables backend.
pub(crate) fn plan(
    def: &NetworkDef,
    bridge: &str,
    host_rules: bool,
) -> Result<Plan, FirewallError> {
    let invalid = |message: String| FirewallError::InvalidNetwork {
        network: def.name.clone(),
        message,
    };
    check_ifname(bridge).map_err(|m| invalid(format!("bridge {m}")))?;
    let physdev = def
        .forward
        .as_ref()
        .and_then(|f| f.dev())
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    if let Some(d) = &physdev {
        check_ifname(d).map_err(|m| invalid(format!("forward device {m}")))?;
    }
    let mut plan = Plan {
        bridge: bridge.to_string(),
        physdev,
        rules: Vec::new(),
        checksum_fix: false,
    };
    let mode = def.forward_mode();
    // libvirt adds rules for the networks whose bridge it runs (isolated, nat, route); `open`
    // deliberately has none, and the other modes use a host bridge or devices it does not own.
    if !matches!(mode, "none" | "nat" | "route") {
        return Ok(plan);
    }
    let ips: Vec<(&virtsh_xml::network::IpDef, IpAddr)> = def
        .ips
        .iter()
        .filter_map(|ip| ip.address.map(|a| (ip, a)))
        .collect();
    let v4: Vec<_> = ips.iter().filter(|(_, a)| a.is_ipv4()).collect();
    let has_v6 = ips.iter().any(|(_, a)| a.is_ipv6());
    let rules = &mut plan.rules;

    // General IPv4 rules, added for every such network (even without an IPv4 address).
    if host_rules {
        use Proto::{Tcp, Udp};
        let f = Family::V4;
        for (proto, port) in [(Tcp, 67), (Udp, 67)] {
            rules.push(Rule::HostInput {
                family: f,
                proto,
                port,
            });
        }
        for (proto, port) in [(Tcp, 68), (Udp, 68)] {
            rules.push(Rule::HostOutput {
                family: f,
                proto,
                port,
            });
        }
        for proto in [Tcp, Udp] {
            rules.push(Rule::HostInput {
                family: f,
                proto,
                port: 53,
            });
        }
        for proto in [Tcp, Udp] {
            rules.push(Rule::HostOutput {
                family: f,
                proto,
                port: 53,
            });
        }
        // libvirt looks at the first IPv4 address with DHCP or TFTP only.
        let dhcp_ip = v4.iter().find(|(ip, _)| {
            !ip.ranges.is_empty() || !ip.hosts.is_empty() || ip.tftp_root.is_some()
        });
        if dhcp_ip.is_some_and(|(ip, _)| ip.tftp_root.is_some()) {
            rules.push(Rule::HostInput {
                family: f,
                proto: Udp,
                port: 69,
            });
            rules.push(Rule::HostOutput {
                family: f,
                proto: Udp,
                port: 69,
            });
        }
    }
    rules.push(Rule::RejectOut { family: Family::V4 });
    rules.push(Rule::RejectIn { family: Family::V4 });
    rules.push(Rule::AllowCross { family: Family::V4 });

    // General IPv6 rules: with an IPv6 address, or `<network ipv6='yes'>` (guest to guest only).
    if has_v6 || def.ipv6 {
        let f = Family::V6;
        rules.push(Rule::RejectOut { family: f });
        rules.push(Rule::RejectIn { family: f });
        rules.push(Rule::AllowCross { family: f });
        if has_v6 && host_rules {
            use Proto::{Tcp, Udp};
            rules.push(Rule::HostInput {
                family: f,
                proto: Tcp,
                port: 53,
            });
            rules.push(Rule::HostInput {
                family: f,
                proto: Udp,
                port: 53,
            });
            rules.push(Rule::HostOutput {
                family: f,
                proto: Tcp,
                port: 53,
            });
            rules.push(Rule::HostOutput {
                family: f,
                proto: Udp,
                port: 53,
            });
            rules.push(Rule::HostInput {
                family: f,
                proto: Udp,
                port: 547,
            });
            rules.push(Rule::HostOutput {
                family: f,
                proto: Udp,
                port: 546,
            });
        }
    }

    let nat = def
        .forward
        .as_ref()
        .and_then(|f| f.nat.clone())
        .unwrap_or_default();
    for (ip, addr) in &ips {
        let family = Family::of(addr);
        let prefix = ip.effective_prefix();
        let max = if family == Family::V4 { 32 } else { 128 };
        if !(0..=max).contains(&prefix) {
            return Err(invalid(format!("Invalid prefix or netmask for '{bridge}'")));
        }
        let net = network_string(addr, prefix as u32);
        let nat_this = mode == "nat" && (family == Family::V4 || nat.ipv6 == Some(true));
        if nat_this {
            let ports = match (nat.port_start, nat.port_end) {
                (0, 0) => (1024, 65535),
                (s, e) if s < e && e < 65536 => (s, e),
                (s, e) => return Err(invalid(format!("Invalid port range '{s}-{e}'."))),
            };
            // SNAT only to addresses of the rule's family (the model allows IPv4 ones).
            let snat = nat
                .address_start
                .filter(|s| Family::of(s) == family)
                .map(
                    |s| match nat.address_end.filter(|e| Family::of(e) == family) {
                        Some(e) => format!("{s}-{e}"),
                        None => s.to_string(),
                    },
                );
            rules.push(Rule::AllowOut {
                family,
                net: net.clone(),
            });
            rules.push(Rule::AllowRelatedIn {
                family,
                net: net.clone(),
            });
            // Inserted at the chain head, so the final order is the reverse: the exemptions
            // first, then tcp and udp with their port range, then everything else.
            for proto in [None, Some(Proto::Udp), Some(Proto::Tcp)] {
                rules.push(Rule::Masquerade {
                    family,
                    net: net.clone(),
                    proto,
                    snat: snat.clone(),
                    ports,
                });
            }
            if family == Family::V4 {
                rules.push(Rule::DontMasquerade {
                    family,
                    net: net.clone(),
                    dest: LOCAL_BROADCAST,
                });
            }
            let multicast = if family == Family::V4 {
                LOCAL_MULTICAST_V4
            } else {
                LOCAL_MULTICAST_V6
            };
            rules.push(Rule::DontMasquerade {
                family,
                net,
                dest: multicast,
            });
        } else if mode == "nat" || mode == "route" {
            // IPv6 in a NAT network is routed, as libvirt does without <nat ipv6='yes'>.
            rules.push(Rule::AllowOut {
                family,
                net: net.clone(),
            });
            rules.push(Rule::AllowIn { family, net });
        }
    }
    plan.checksum_fix = host_rules
        && v4
            .iter()
            .any(|(ip, _)| !ip.ranges.is_empty() || !ip.hosts.is_empty());
    Ok(plan)
}

/// `address/prefix` with the host bits cleared, as libvirt formats a network.
pub(crate) fn network_string(addr: &IpAddr, prefix: u32) -> String {
    let masked = match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(*a);
            let mask = u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(*a);
            let mask = u128::MAX.checked_shl(128 - prefix.min(128)).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
    };
    format!("{masked}/{prefix}")
}

/// Interface names go into nft rules (quoted) and iptables arguments: allow what Linux allows,
/// minus the characters that could end a quoted nft string or start an option.
fn check_ifname(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.len() > 15
        || name == "."
        || name == ".."
        || name.starts_with('-')
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '"' | '\\'));
    if bad {
        Err(format!(
            "name '{name}' is not a valid interface name (1 to 15 bytes, no '/', ':', quotes, backslashes or spaces, not starting with '-')"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(xml: &str) -> NetworkDef {
        NetworkDef::parse(xml).unwrap()
    }

    #[test]
    fn masks_networks() {
        let a: IpAddr = "192.168.122.1".parse().unwrap();
        assert_eq!(network_string(&a, 24), "192.168.122.0/24");
        assert_eq!(network_string(&a, 0), "0.0.0.0/0");
        assert_eq!(network_string(&a, 32), "192.168.122.1/32");
        let a: IpAddr = "fd00:1:2:3::1".parse().unwrap();
        assert_eq!(network_string(&a, 64), "fd00:1:2:3::/64");
        assert_eq!(network_string(&a, 128), "fd00:1:2:3::1/128");
    }

    #[test]
    fn nat_network_in_libvirt_order() {
        let d = net("<network><name>n</name><forward mode='nat'/><ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>");
        let p = plan(&d, "virbr0", false).unwrap();
        let n = "192.168.122.0/24".to_string();
        let f = Family::V4;
        let m = |proto| Rule::Masquerade {
            family: f,
            net: n.clone(),
            proto,
            snat: None,
            ports: (1024, 65535),
        };
        assert_eq!(
            p.rules,
            vec![
                Rule::RejectOut { family: f },
                Rule::RejectIn { family: f },
                Rule::AllowCross { family: f },
                Rule::AllowOut {
                    family: f,
                    net: n.clone()
                },
                Rule::AllowRelatedIn {
                    family: f,
                    net: n.clone()
                },
                m(None),
                m(Some(Proto::Udp)),
                m(Some(Proto::Tcp)),
                Rule::DontMasquerade {
                    family: f,
                    net: n.clone(),
                    dest: LOCAL_BROADCAST
                },
                Rule::DontMasquerade {
                    family: f,
                    net: n.clone(),
                    dest: LOCAL_MULTICAST_V4
                },
            ]
        );
        assert!(!p.checksum_fix);
        let p = plan(&d, "virbr0", true).unwrap();
        assert_eq!(p.rules.len(), 10 + 8);
        assert!(p.checksum_fix);
    }

    #[test]
    fn nat_ranges_and_forward_dev() {
        let d = net("<network><name>n</name><forward mode='nat' dev='eth0'><nat><address start='10.0.0.5' end='10.0.0.9'/><port start='2000' end='3000'/></nat></forward><ip address='192.168.5.1' prefix='24'/></network>");
        let p = plan(&d, "br5", false).unwrap();
        assert_eq!(p.physdev.as_deref(), Some("eth0"));
        assert!(p.rules.contains(&Rule::Masquerade {
            family: Family::V4,
            net: "192.168.5.0/24".into(),
            proto: Some(Proto::Tcp),
            snat: Some("10.0.0.5-10.0.0.9".into()),
            ports: (2000, 3000),
        }));
        let d = net("<network><name>n</name><forward mode='nat'><nat><port start='2000' end='2000'/></nat></forward><ip address='192.168.5.1' prefix='24'/></network>");
        let e = plan(&d, "br5", false).unwrap_err();
        assert!(
            e.to_string().contains("Invalid port range '2000-2000'."),
            "{e}"
        );
    }

    #[test]
    fn ipv6_is_routed_unless_nat_ipv6() {
        let xml = |nat: &str| {
            format!("<network><name>n</name><forward mode='nat'>{nat}</forward><ip address='192.168.7.1' prefix='24'/><ip family='ipv6' address='fd00:7::1' prefix='64'/></network>")
        };
        let p = plan(&net(&xml("")), "br7", false).unwrap();
        let six: Vec<_> = p
            .rules
            .iter()
            .filter(|r| r.family() == Family::V6)
            .cloned()
            .collect();
        let n = "fd00:7::/64".to_string();
        assert_eq!(
            six,
            vec![
                Rule::RejectOut { family: Family::V6 },
                Rule::RejectIn { family: Family::V6 },
                Rule::AllowCross { family: Family::V6 },
                Rule::AllowOut {
                    family: Family::V6,
                    net: n.clone()
                },
                Rule::AllowIn {
                    family: Family::V6,
                    net: n.clone()
                },
            ]
        );
        let p = plan(&net(&xml("<nat ipv6='yes'/>")), "br7", false).unwrap();
        assert!(p.rules.contains(&Rule::DontMasquerade {
            family: Family::V6,
            net: n,
            dest: LOCAL_MULTICAST_V6
        }));
    }

    #[test]
    fn modes() {
        let p = plan(&net("<network><name>n</name><forward mode='open'/><ip address='192.168.8.1' prefix='24'/></network>"), "br8", true).unwrap();
        assert!(p.rules.is_empty() && !p.checksum_fix);
        let p = plan(&net("<network><name>n</name><ip address='192.168.8.1' prefix='24'><tftp root='/srv'/><dhcp><range start='192.168.8.2' end='192.168.8.9'/></dhcp></ip></network>"), "br8", true).unwrap();
        assert!(p.rules.contains(&Rule::HostInput {
            family: Family::V4,
            proto: Proto::Udp,
            port: 69
        }));
        assert!(!p
            .rules
            .iter()
            .any(|r| matches!(r, Rule::AllowOut { .. } | Rule::Masquerade { .. })));
        let p = plan(&net("<network><name>n</name><forward mode='route'/><ip address='192.168.8.1' prefix='24'/></network>"), "br8", false).unwrap();
        assert!(p.rules.contains(&Rule::AllowIn {
            family: Family::V4,
            net: "192.168.8.0/24".into()
        }));
        assert!(!p.rules.iter().any(|r| matches!(r, Rule::Masquerade { .. })));
        let p = plan(
            &net("<network ipv6='yes'><name>n</name></network>"),
            "br8",
            false,
        )
        .unwrap();
        assert_eq!(p.rules.len(), 6);
    }

    #[test]
    fn interface_names_are_checked() {
        let d = net("<network><name>n</name></network>");
        for bad in ["", "a\"b", "x y", "-j", "sixteen-chars-xx", "a/b"] {
            assert!(plan(&d, bad, false).is_err(), "{bad}");
        }
        assert!(plan(&d, "virbr-0.1_x", false).is_ok());
    }
}
