//! What a local hypervisor driver's guests (QEMU NICs, LXC veths) need of the virtual networks:
//! a port per `<interface type='network'>` while the guest runs (libvirt's `portid` in the live
//! XML, and the bridge to join), released by whoever sees the guest end, and the DHCP leases
//! behind `domifaddr --source lease` and `domhostname --source lease`.

use uuid::Uuid;
use virtsh_api::{DhcpLease, DomainInterface, IpAddress, NetworkDriver, Result, Uri};
use virtsh_xml::domain::{DomainDef, NetInterface, ParseOptions};

use crate::NetworkHost;

/// Release every network port the live definition in `live_xml` records. Problems are warnings: the
/// guest is gone either way, and a network that was destroyed meanwhile took its ports along.
pub fn release_network_ports(uri: &str, live_xml: &std::path::Path) {
    let Ok(xml) = std::fs::read_to_string(live_xml) else {
        return;
    };
    let opts = ParseOptions {
        live: true,
        ..ParseOptions::default()
    };
    let Ok(def) = DomainDef::parse_with(&xml, &opts) else {
        return;
    };
    release_ports_of(uri, &def.name, &def.devices.interfaces);
}

/// Release the ports the network NICs among `nics` of guest `owner` hold.
pub fn release_ports_of(uri: &str, owner: &str, nics: &[NetInterface]) {
    let held: Vec<(String, Uuid)> = nics
        .iter()
        .filter(|n| n.if_type == "network")
        .filter_map(|n| {
            let port = n.source_extra.attr("portid")?.parse().ok()?;
            Some((n.source.clone()?, port))
        })
        .collect();
    if held.is_empty() {
        return;
    }
    let host = Uri::parse(uri)
        .map_err(|e| e.to_string())
        .and_then(|u| NetworkHost::open(&u).map_err(|e| e.message));
    let host = match host {
        Ok(h) => h,
        Err(e) => {
            eprintln!("warning: cannot release the network ports of '{owner}': {e}");
            return;
        }
    };
    for (network, port) in held {
        if let Err(e) = host.release_port(&network, port) {
            eprintln!(
                "warning: cannot release port {port} of network '{network}': {}",
                e.message
            );
        }
    }
}

impl NetworkHost {
    /// Plug each `<interface type='network'>` of a guest about to run into its network: a
    /// port owned by the guest (libvirt's `portid`) and the network's bridge (the live
    /// `<source bridge=...>` the supervisor's tap joins). The network must be active, as
    /// libvirt requires. On failure the ports taken so far are released.
    pub fn plug_interfaces(&self, uri: &str, def: &mut DomainDef) -> Result<()> {
        let (name, uuid) = (def.name.clone(), def.uuid);
        for i in 0..def.devices.interfaces.len() {
            if let Err(e) = self.plug_interface(&name, uuid, &mut def.devices.interfaces[i]) {
                release_ports_of(uri, &name, &def.devices.interfaces);
                return Err(e);
            }
        }
        Ok(())
    }

    pub fn plug_interface(
        &self,
        owner: &str,
        owner_uuid: Uuid,
        iface: &mut NetInterface,
    ) -> Result<()> {
        if iface.if_type != "network" {
            return Ok(());
        }
        let name = iface.source.clone().unwrap_or_default();
        let mac = iface.mac.clone().unwrap_or_default();
        let portgroup = iface.source_extra.attr("portgroup").map(str::to_string);
        let (port, bridge) =
            self.allocate_port(&name, owner, owner_uuid, &mac, portgroup.as_deref())?;
        iface
            .source_extra
            .set_attr("portid", &port.hyphenated().to_string());
        iface.source_extra.set_attr("bridge", &bridge);
        Ok(())
    }

    /// virDomainNetDHCPInterfaces: the addresses the networks' dnsmasq leased to each
    /// `type='network'` NIC of a running guest (`domifaddr --source lease`).
    pub fn lease_interfaces(&self, def: &DomainDef) -> Result<Vec<DomainInterface>> {
        let mut out = Vec::new();
        for (nic, leases) in self.nic_leases(def)? {
            if leases.is_empty() {
                continue;
            }
            out.push(DomainInterface {
                name: nic.target_dev.clone().unwrap_or_default(),
                hwaddr: nic.mac.clone(),
                addrs: leases
                    .into_iter()
                    .map(|l| IpAddress {
                        kind: l.kind,
                        addr: l.ipaddr,
                        prefix: l.prefix,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// qemuDomainGetHostnameLease: the first host name a network's DHCP server recorded
    /// for one of the guest's NICs.
    pub fn lease_hostname(&self, def: &DomainDef) -> Result<Option<String>> {
        Ok(self
            .nic_leases(def)?
            .into_iter()
            .flat_map(|(_, leases)| leases)
            .find_map(|l| l.hostname))
    }

    fn nic_leases<'a>(
        &self,
        def: &'a DomainDef,
    ) -> Result<Vec<(&'a NetInterface, Vec<DhcpLease>)>> {
        let mut out = Vec::new();
        for nic in def
            .devices
            .interfaces
            .iter()
            .filter(|n| n.if_type == "network")
        {
            let name = nic.source.clone().unwrap_or_default();
            let net = self.lookup_network_by_name(&name)?;
            let leases = self.network_dhcp_leases(&net, nic.mac.as_deref(), 0)?;
            out.push((nic, leases));
        }
        Ok(out)
    }
}
