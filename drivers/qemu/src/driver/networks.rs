//! Virtual networks on a QEMU connection: the embedded network driver of the same state
//! root ([`virtsh_network::NetworkHost`]), as libvirt's qemu:// connections reach its network
//! driver.

use virtsh_api::{
    DhcpLease, DomainInterface, IpAddress, Network, NetworkDriver, NetworkEvent, NetworkPort,
    Result,
};
use virtsh_xml::domain::{DomainDef, NetInterface};

use super::QemuDriver;

impl NetworkDriver for QemuDriver {
    fn list_all_networks(&self, flags: u32) -> Result<Vec<Network>> {
        self.networks.list_all_networks(flags)
    }
    fn lookup_network_by_name(&self, name: &str) -> Result<Network> {
        self.networks.lookup_network_by_name(name)
    }
    fn lookup_network_by_uuid(&self, uuid: &uuid::Uuid) -> Result<Network> {
        self.networks.lookup_network_by_uuid(uuid)
    }
    fn network_xml(&self, net: &Network, flags: u32) -> Result<String> {
        self.networks.network_xml(net, flags)
    }
    fn define_network(&self, xml: &str, flags: u32) -> Result<Network> {
        self.networks.define_network(xml, flags)
    }
    fn create_network(&self, xml: &str, flags: u32) -> Result<Network> {
        self.networks.create_network(xml, flags)
    }
    fn undefine_network(&self, net: &Network) -> Result<()> {
        self.networks.undefine_network(net)
    }
    fn start_network(&self, net: &Network) -> Result<()> {
        self.networks.start_network(net)
    }
    fn destroy_network(&self, net: &Network) -> Result<()> {
        self.networks.destroy_network(net)
    }
    fn network_autostart(&self, net: &Network) -> Result<bool> {
        self.networks.network_autostart(net)
    }
    fn set_network_autostart(&self, net: &Network, on: bool) -> Result<()> {
        self.networks.set_network_autostart(net, on)
    }
    fn network_is_active(&self, net: &Network) -> Result<bool> {
        self.networks.network_is_active(net)
    }
    fn network_is_persistent(&self, net: &Network) -> Result<bool> {
        self.networks.network_is_persistent(net)
    }
    fn network_bridge_name(&self, net: &Network) -> Result<String> {
        self.networks.network_bridge_name(net)
    }
    fn network_health(&self, net: &Network) -> Result<Vec<String>> {
        self.networks.network_health(net)
    }
    fn update_network(
        &self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        self.networks
            .update_network(net, command, section, parent_index, xml, flags)
    }
    fn network_dhcp_leases(
        &self,
        net: &Network,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        self.networks.network_dhcp_leases(net, mac, flags)
    }
    fn list_network_ports(&self, net: &Network, flags: u32) -> Result<Vec<NetworkPort>> {
        self.networks.list_network_ports(net, flags)
    }
    fn lookup_network_port(&self, net: &Network, uuid: &uuid::Uuid) -> Result<NetworkPort> {
        self.networks.lookup_network_port(net, uuid)
    }
    fn create_network_port(&self, net: &Network, xml: &str, flags: u32) -> Result<NetworkPort> {
        self.networks.create_network_port(net, xml, flags)
    }
    fn network_port_xml(&self, port: &NetworkPort, flags: u32) -> Result<String> {
        self.networks.network_port_xml(port, flags)
    }
    fn delete_network_port(&self, port: &NetworkPort, flags: u32) -> Result<()> {
        self.networks.delete_network_port(port, flags)
    }
    fn network_events(
        &self,
        net: Option<&Network>,
        timeout: Option<std::time::Duration>,
        sink: &mut dyn FnMut(NetworkEvent) -> bool,
    ) -> Result<()> {
        self.networks.network_events(net, timeout, sink)
    }
}

impl QemuDriver {
    /// Plug each `<interface type='network'>` of a guest about to run into its network: a
    /// port owned by the guest (libvirt's `portid`) and the network's bridge (the live
    /// `<source bridge=...>` the supervisor's tap joins). The network must be active, as
    /// libvirt requires. On failure the ports taken so far are released.
    pub(super) fn resolve_networks(&self, def: &mut DomainDef) -> Result<()> {
        let (name, uuid) = (def.name.clone(), def.uuid);
        for i in 0..def.devices.interfaces.len() {
            if let Err(e) = self.resolve_network(&name, uuid, &mut def.devices.interfaces[i]) {
                crate::runtime::ports::release_ports_of(&self.uri, &name, &def.devices.interfaces);
                return Err(e);
            }
        }
        Ok(())
    }

    pub(crate) fn resolve_network(
        &self,
        owner: &str,
        owner_uuid: uuid::Uuid,
        iface: &mut NetInterface,
    ) -> Result<()> {
        if iface.if_type != "network" {
            return Ok(());
        }
        let name = iface.source.clone().unwrap_or_default();
        let mac = iface.mac.clone().unwrap_or_default();
        let portgroup = iface.source_extra.attr("portgroup").map(str::to_string);
        let (port, bridge) =
            self.networks
                .allocate_port(&name, owner, owner_uuid, &mac, portgroup.as_deref())?;
        iface
            .source_extra
            .set_attr("portid", &port.hyphenated().to_string());
        iface.source_extra.set_attr("bridge", &bridge);
        Ok(())
    }
}

impl QemuDriver {
    /// virDomainNetDHCPInterfaces: the addresses the networks' dnsmasq leased to each
    /// `type='network'` NIC of a running guest (`domifaddr --source lease`).
    pub(super) fn lease_interfaces(&self, def: &DomainDef) -> Result<Vec<DomainInterface>> {
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
    pub(super) fn lease_hostname(&self, def: &DomainDef) -> Result<Option<String>> {
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
            let net = self.networks.lookup_network_by_name(&name)?;
            let leases = self
                .networks
                .network_dhcp_leases(&net, nic.mac.as_deref(), 0)?;
            out.push((nic, leases));
        }
        Ok(out)
    }
}
