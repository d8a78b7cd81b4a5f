//! Starting and stopping a network on the host (networkStartNetworkVirtual and
//! networkShutdownNetworkVirtual in libvirt): the bridge and its addresses, the forwarding
//! sysctls, the firewall rules and dnsmasq, each recorded in the status file as soon as it
//! exists, and undone from that record.

use std::net::IpAddr;

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use super::status::{NetworkStatus, Phase};
use super::{failed, NetworkHost};
use crate::bridge::{self, BridgeSpec};
use crate::dnsmasq::{self, DnsmasqFiles};
use crate::firewall;

impl NetworkHost {
    pub(crate) fn dnsmasq_files(&self, name: &str) -> DnsmasqFiles {
        DnsmasqFiles::new(&self.paths.lib, &self.paths.run, name)
    }

    /// Remove dnsmasq's files of a network that is gone for good (undefined, or a transient
    /// one destroyed), leases included.
    pub(crate) fn forget_dnsmasq_files(&self, name: &str) {
        if let Err(e) = dnsmasq::remove(&self.dnsmasq_files(name)) {
            eprintln!("warning: {e}");
        }
    }

    /// dnsmasq drops root for an unprivileged user and re-reads its hosts files as that user
    /// when `net-update` signals it, so the directories down to its files must be
    /// searchable by others. virtsh makes its state directories 0700; the ones above dnsmasq's
    /// files get search permission only (0711: nothing can be listed), as libvirt's
    /// `/var/lib/libvirt` is.
    fn open_path_for_dnsmasq(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        // The network directory and the one virtsh made above it (`DIR/lib`,
        // `/var/lib/virtsh`); higher ones are the user's, and dnsmasq's own check names them.
        for dir in self.paths.lib.ancestors().take(2) {
            let meta =
                std::fs::metadata(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
            let mode = meta.permissions().mode();
            if mode & 0o001 != 0 {
                continue;
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o011)).map_err(
                |e| {
                    failed(format!(
                        "cannot make {} searchable for dnsmasq: {e}",
                        dir.display()
                    ))
                },
            )?;
        }
        Ok(())
    }

    /// Make everything `def` needs on the host and record it. On failure, what was made is
    /// undone and the status file removed.
    pub(crate) fn start_on_host(&self, def: &NetworkDef) -> Result<()> {
        let mut live = def.clone();
        fill_nat_ports(&mut live);
        let def = &live;
        for dir in [&self.paths.run, &self.paths.lib] {
            std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        }
        let mut status = NetworkStatus {
            phase: Phase::Starting,
            def_xml: def.to_xml(&NetworkFormatOptions { inactive: false }),
            created_bridge: None,
            firewall: None,
            dnsmasq: false,
        };
        let result = self.build(def, &mut status);
        match result {
            Ok(()) => {
                status.phase = Phase::Active;
                self.record(&def.name, &status)
            }
            Err(e) => {
                // The error that stopped the start is the one to report; a failure while
                // undoing is only a warning, and the record stays if something is left.
                match self.teardown(&def.name, &status) {
                    Ok(()) => {
                        let _ = NetworkStatus::remove(&self.paths.run, &def.name);
                    }
                    Err(undo) => eprintln!("warning: {}", undo.message),
                }
                Err(e)
            }
        }
    }

    fn record(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        status.write(&self.paths.run, name).map_err(failed)
    }

    fn build(&self, def: &NetworkDef, status: &mut NetworkStatus) -> Result<()> {
        let host_err = |e: &dyn std::fmt::Display| failed(e.to_string());
        let mode = def.forward_mode();
        let bridge_def = def.bridge.clone().unwrap_or_default();
        let Some(br) = bridge_def.name.clone() else {
            return Err(Error::internal(format!(
                "network '{}' does not have a bridge name.",
                def.name
            )));
        };
        if mode == "bridge" {
            // A host bridge that someone else manages: it must exist, nothing else to do.
            if !bridge::link_exists(&br).map_err(|e| host_err(&e))? {
                return Err(failed(format!(
                    "bridge '{br}' of network '{}' does not exist on this host",
                    def.name
                )));
            }
            return Ok(());
        }
        // Before anything is made, as networkStartNetworkVirtual does.
        check_route_collision(def)?;
        self.record(&def.name, status)?;
        let mac = match &def.mac {
            Some(m) => Some(virtsh_xml::network::parse_mac(m).ok_or_else(|| {
                Error::internal(format!(
                    "invalid MAC address '{m}' of network '{}'",
                    def.name
                ))
            })?),
            None => None,
        };
        bridge::create_bridge(&BridgeSpec {
            name: &br,
            mac,
            mtu: def.mtu,
            stp: bridge_def.stp,
            delay_secs: bridge_def.delay,
        })
        .map_err(|e| bridge_create_error(&br, &e))?;
        status.created_bridge = Some(br.clone());
        self.record(&def.name, status)?;

        let has_v6 = def
            .ips
            .iter()
            .any(|ip| matches!(ip.address, Some(IpAddr::V6(_))));
        let has_v4 = def
            .ips
            .iter()
            .any(|ip| matches!(ip.address, Some(IpAddr::V4(_))));
        bridge::set_ipv6_disabled(&br, !has_v6 && !def.ipv6).map_err(|e| host_err(&e))?;
        if has_v6 {
            // The bridge is the router of its subnet: it must not configure itself from
            // router advertisements on it (networkSetIPv6Sysctls).
            bridge::set_accept_ra(&br, 0).map_err(|e| host_err(&e))?;
            bridge::set_autoconf(&br, 0).map_err(|e| host_err(&e))?;
        }
        for ip in &def.ips {
            let Some(addr) = ip.address else { continue };
            let prefix = u8::try_from(ip.effective_prefix()).unwrap_or(0);
            bridge::add_address(&br, addr, prefix, None).map_err(|e| host_err(&e))?;
        }
        bridge::set_link_up(&br, true).map_err(|e| host_err(&e))?;
        if let Some(bw) = &def.bandwidth {
            // What the network sends to its guests leaves through the bridge: libvirt passes
            // "swapped" for the bridge too. The limits go with the bridge when it is deleted.
            crate::bandwidth::set(&br, bw, true).map_err(Error::from)?;
        }
        for r in &def.routes {
            let prefix = r.prefix.map_or_else(
                || r.netmask.map_or(0, prefix_of_mask),
                |p| u8::try_from(p).unwrap_or(0),
            );
            bridge::add_route(&br, r.address, prefix, r.gateway, r.metric.unwrap_or(1))
                .map_err(|e| host_err(&e))?;
        }

        if mode != "open" {
            let backend = self.firewall_backend()?;
            let removal =
                firewall::add_network_rules(backend, def, &br).map_err(|e| host_err(&e))?;
            status.firewall = Some(removal);
            self.record(&def.name, status)?;
        }
        if mode == "nat" || mode == "route" {
            if has_v4 {
                bridge::enable_ipv4_forwarding().map_err(|e| host_err(&e))?;
            }
            if has_v6 {
                bridge::enable_ipv6_forwarding().map_err(|e| host_err(&e))?;
            }
        }
        if dnsmasq::needed(def) {
            self.start_dnsmasq(def, &br)?;
            status.dnsmasq = true;
        }
        Ok(())
    }

    pub(crate) fn start_dnsmasq(&self, def: &NetworkDef, bridge: &str) -> Result<()> {
        self.open_path_for_dnsmasq()?;
        let files = self.dnsmasq_files(&def.name);
        let config = dnsmasq::config(def, bridge, &files).map_err(|e| failed(e.to_string()))?;
        dnsmasq::write(&config, &files).map_err(|e| failed(e.to_string()))?;
        dnsmasq::start(&files).map_err(|e| failed(e.to_string()))?;
        Ok(())
    }

    /// Undo what `status` records, in the reverse order of making it. Tries every step; the
    /// error lists what could not be undone.
    pub(crate) fn teardown(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        let mut problems = Vec::new();
        if status.dnsmasq {
            if let Err(e) = dnsmasq::stop(&self.dnsmasq_files(name)) {
                problems.push(e.to_string());
            }
        }
        if let Some(removal) = &status.firewall {
            if let Err(e) = firewall::remove_network_rules(removal) {
                problems.push(e.to_string());
            }
        }
        if let Some(br) = &status.created_bridge {
            match bridge::link_exists(br) {
                Ok(true) => {
                    if let Err(e) = bridge::delete_link(br) {
                        problems.push(e.to_string());
                    }
                }
                Ok(false) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(failed(format!(
                "network '{name}' was not stopped cleanly: {}",
                problems.join("; ")
            )))
        }
    }

    /// Stop an active network: undo its record and forget it. The record is removed even
    /// when some step failed (it is reported), since a second destroy could not do better.
    pub(crate) fn stop_on_host(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        let result = self.teardown(name, status);
        self.remove_ports(name);
        NetworkStatus::remove(&self.paths.run, name).map_err(failed)?;
        result
    }

    /// What is wrong with an active network on the host: a dnsmasq that died, a bridge that
    /// is gone. Empty when it is healthy.
    pub(crate) fn problems(&self, name: &str, status: &NetworkStatus) -> Vec<String> {
        let mut out = Vec::new();
        if status.phase == Phase::Starting {
            out.push(format!(
                "network '{name}' did not finish starting; net-destroy cleans it up"
            ));
        }
        if let Some(br) = &status.created_bridge {
            if !bridge::link_exists(br).unwrap_or(true) {
                out.push(format!("bridge '{br}' of network '{name}' is gone"));
            }
        }
        if status.dnsmasq && dnsmasq::running(&self.dnsmasq_files(name)).is_none() {
            out.push(format!(
                "dnsmasq of network '{name}' is not running; net-start restarts it"
            ));
        }
        out
    }
}

/// virNetDevBridgeCreate's report when the kernel refuses the bridge (libvirt built with
/// netlink, as Debian's is): a system error, "error creating bridge interface NAME: STRERROR"
/// (`File exists` when a link has that name). Other failures keep virtsh's own words.
fn bridge_create_error(name: &str, e: &bridge::BridgeError) -> Error {
    match e {
        bridge::BridgeError::Failed { what, source, .. }
            if *what == format!("Unable to create bridge {name}") =>
        {
            if source.raw_os_error().is_some() {
                let text = virtsh_api::strerror(source);
                return Error::raw(
                    ErrorKind::SystemError,
                    format!("error creating bridge interface {name}: {text}"),
                );
            }
            failed(e.to_string())
        }
        _ => failed(e.to_string()),
    }
}

/// libvirt's masquerading rules (iptablesForwardMasquerade in viriptables.c) write their
/// default source-port range, 1024-65535, into the live definition of a NAT network when they
/// are made for one of its addresses (IPv4, or IPv6 with `<nat ipv6='yes'/>`): its live XML
/// then shows `<nat><port start='1024' end='65535'/></nat>`. The rules virtsh makes use the
/// same range.
fn fill_nat_ports(def: &mut NetworkDef) {
    let Some(fwd) = def.forward.as_mut().filter(|f| f.mode == "nat") else {
        return;
    };
    let nat_ipv6 = fwd.nat.as_ref().and_then(|n| n.ipv6) == Some(true);
    let masquerades = def.ips.iter().any(|ip| match ip.address {
        Some(IpAddr::V4(_)) => true,
        Some(IpAddr::V6(_)) => nat_ipv6,
        None => false,
    });
    if !masquerades {
        return;
    }
    let nat = fwd.nat.get_or_insert_with(Default::default);
    if nat.port_start == 0 && nat.port_end == 0 {
        nat.port_start = 1024;
        nat.port_end = 65535;
    }
}

/// networkCheckRouteCollision (bridge_driver_linux.c): a network does not start when one of
/// its IPv4 subnets, or of its IPv4 static routes, is already routed on the host (another
/// network's bridge, a host interface). The table is `/proc/net/route` of the namespace virtsh
/// runs in; a table that cannot be read is no collision, as in libvirt.
fn check_route_collision(def: &NetworkDef) -> Result<()> {
    match std::fs::read_to_string("/proc/net/route") {
        Ok(table) => route_collision(def, &table),
        Err(_) => Ok(()),
    }
}

/// An IPv4 address or mask as `/proc/net/route` prints it: the network-order value read as
/// a native integer.
fn route_u32(a: std::net::Ipv4Addr) -> u32 {
    u32::from_ne_bytes(a.octets())
}

fn v4_mask(prefix: i64) -> Option<std::net::Ipv4Addr> {
    match prefix {
        0 => Some(std::net::Ipv4Addr::UNSPECIFIED),
        1..=32 => Some(std::net::Ipv4Addr::from(u32::MAX << (32 - prefix))),
        _ => None,
    }
}

/// virSocketAddrGetIPPrefix for an IPv4 route: its prefix, its netmask's bits, or the
/// address's natural (class) prefix.
fn route_prefix(r: &virtsh_xml::network::RouteDef, addr: std::net::Ipv4Addr) -> i64 {
    if let Some(p) = r.prefix.filter(|p| *p > 0) {
        return i64::from(p);
    }
    if let Some(m @ IpAddr::V4(_)) = r.netmask {
        return i64::from(prefix_of_mask(m));
    }
    let octet = addr.octets()[0];
    if addr.is_unspecified() {
        0
    } else if octet & 0x80 == 0 {
        8
    } else if octet & 0xC0 == 0x80 {
        16
    } else if octet & 0xE0 == 0xC0 {
        24
    } else {
        -1
    }
}

fn route_collision(def: &NetworkDef, table: &str) -> Result<()> {
    if !table.starts_with("Iface") {
        return Ok(());
    }
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(iface), Some(dest), Some(mask)) = (fields.first(), fields.get(1), fields.get(7))
        else {
            continue;
        };
        let (Ok(dest), Ok(mask)) = (u32::from_str_radix(dest, 16), u32::from_str_radix(mask, 16))
        else {
            continue;
        };
        let dest = dest & mask;
        for ip in &def.ips {
            let Some(IpAddr::V4(addr)) = ip.address else {
                continue;
            };
            let netmask = match ip.netmask {
                Some(IpAddr::V4(m)) => Some(m),
                _ => v4_mask(ip.effective_prefix()),
            };
            let Some(netmask) = netmask else { continue };
            if route_u32(addr) & route_u32(netmask) == dest && route_u32(netmask) == mask {
                return Err(Error::internal(format!(
                    "Network is already in use by interface {iface}"
                )));
            }
        }
        for r in &def.routes {
            let IpAddr::V4(addr) = r.address else {
                continue;
            };
            let Some(r_mask) = v4_mask(route_prefix(r, addr)) else {
                continue;
            };
            let r_addr = route_u32(addr) & route_u32(r_mask);
            if r_addr == dest && route_u32(r_mask) == mask {
                return Err(Error::internal(format!(
                    "Route address '{}' conflicts with IP address for '{iface}'",
                    std::net::Ipv4Addr::from(r_addr.to_ne_bytes())
                )));
            }
        }
    }
    Ok(())
}

fn prefix_of_mask(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => u32::from(m).count_ones(),
        IpAddr::V6(m) => u128::from(m).count_ones(),
    };
    u8::try_from(ones).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
virbr0\t007AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

    fn net(xml: &str) -> NetworkDef {
        NetworkDef::parse(xml).expect("test network")
    }

    #[test]
    fn a_subnet_routed_on_the_host_collides() {
        let table = if cfg!(target_endian = "little") {
            TABLE.to_string()
        } else {
            TABLE
                .replace("007AA8C0", "C0A87A00")
                .replace("00FFFFFF", "FFFFFF00")
                .replace("0102A8C0", "C0A80201")
        };
        let same = net("<network><name>a</name><ip address='192.168.122.7' netmask='255.255.255.0'/></network>");
        assert_eq!(
            route_collision(&same, &table).unwrap_err().message,
            "internal error: Network is already in use by interface virbr0"
        );
        // Another prefix of the same address is another route.
        let wider =
            net("<network><name>a</name><ip address='192.168.122.7' prefix='16'/></network>");
        assert!(route_collision(&wider, &table).is_ok());
        let other =
            net("<network><name>a</name><ip address='192.168.123.1' prefix='24'/></network>");
        assert!(route_collision(&other, &table).is_ok());
        let route = net(
            "<network><name>a</name><ip address='192.168.123.1' prefix='24'/>\
            <route address='192.168.122.0' prefix='24' gateway='192.168.123.2'/></network>",
        );
        assert_eq!(
            route_collision(&route, &table).unwrap_err().message,
            "internal error: Route address '192.168.122.0' conflicts with IP address for 'virbr0'"
        );
        // Not a routing table: nothing to check.
        assert!(route_collision(&same, "garbage\n").is_ok());
    }
}
