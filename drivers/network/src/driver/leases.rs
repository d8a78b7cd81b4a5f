//! virNetworkGetDHCPLeases (networkGetDHCPLeases): dnsmasq's lease file, read back.

use std::net::IpAddr;

use virtsh_api::{DhcpLease, Result};
use virtsh_xml::NetworkDef;

use super::{failed, NetworkHost, NetworkView};
use crate::dnsmasq;

impl NetworkHost {
    /// The unexpired leases of a network, optionally of one MAC (compared without case).
    pub(crate) fn leases(&self, v: &NetworkView, mac: Option<&str>) -> Result<Vec<DhcpLease>> {
        let def = v.current();
        let iface = def
            .bridge
            .as_ref()
            .and_then(|b| b.name.clone())
            .unwrap_or_default();
        let all = dnsmasq::read_leases(&self.dnsmasq_files(&v.name))
            .map_err(|e| failed(e.to_string()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let want = mac.and_then(virtsh_xml::network::parse_mac);
        Ok(all
            .into_iter()
            // dnsmasq writes 0 for an infinite lease.
            .filter(|l| l.expiry == 0 || l.expiry > now)
            .filter(|l| match (&want, &l.mac) {
                (None, _) => true,
                (Some(w), Some(m)) => virtsh_xml::network::parse_mac(m).as_ref() == Some(w),
                (Some(_), None) => false,
            })
            .map(|l| DhcpLease {
                iface: iface.clone(),
                expirytime: l.expiry,
                kind: i32::from(l.ip.is_ipv6()),
                prefix: prefix_for(def, l.ip),
                mac: l.mac,
                iaid: l.iaid,
                ipaddr: l.ip.to_string(),
                hostname: l.hostname,
                clientid: l.clientid,
            })
            .collect())
    }
}

/// The prefix of the network's address of the lease's family, as libvirt reports it.
fn prefix_for(def: &NetworkDef, ip: IpAddr) -> u32 {
    def.ips
        .iter()
        .filter(|d| d.address.is_some_and(|a| a.is_ipv6() == ip.is_ipv6()))
        .map(|d| u32::try_from(d.effective_prefix()).unwrap_or(0))
        .next()
        .unwrap_or(0)
}
