//! Calls on virtual networks (virNetwork*).

use crate::error::{Error, Result};
use crate::types::{DhcpLease, Network, NetworkEvent, NetworkPort};
use uuid::Uuid;

pub trait NetworkDriver {
    fn list_all_networks(&self, _flags: u32) -> Result<Vec<Network>> {
        Err(Error::unsupported("virConnectListAllNetworks"))
    }
    fn lookup_network_by_name(&self, _name: &str) -> Result<Network> {
        Err(Error::unsupported("virNetworkLookupByName"))
    }
    fn lookup_network_by_uuid(&self, _uuid: &Uuid) -> Result<Network> {
        Err(Error::unsupported("virNetworkLookupByUUID"))
    }
    fn network_xml(&self, _net: &Network, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virNetworkGetXMLDesc"))
    }
    fn define_network(&self, _xml: &str, _flags: u32) -> Result<Network> {
        Err(Error::unsupported("virNetworkDefineXMLFlags"))
    }
    fn create_network(&self, _xml: &str, _flags: u32) -> Result<Network> {
        Err(Error::unsupported("virNetworkCreateXMLFlags"))
    }
    fn undefine_network(&self, _net: &Network) -> Result<()> {
        Err(Error::unsupported("virNetworkUndefine"))
    }
    fn start_network(&self, _net: &Network) -> Result<()> {
        Err(Error::unsupported("virNetworkCreate"))
    }
    fn destroy_network(&self, _net: &Network) -> Result<()> {
        Err(Error::unsupported("virNetworkDestroy"))
    }
    fn network_autostart(&self, _net: &Network) -> Result<bool> {
        Err(Error::unsupported("virNetworkGetAutostart"))
    }
    fn set_network_autostart(&self, _net: &Network, _on: bool) -> Result<()> {
        Err(Error::unsupported("virNetworkSetAutostart"))
    }
    fn network_is_active(&self, _net: &Network) -> Result<bool> {
        Err(Error::unsupported("virNetworkIsActive"))
    }
    fn network_is_persistent(&self, _net: &Network) -> Result<bool> {
        Err(Error::unsupported("virNetworkIsPersistent"))
    }
    fn network_bridge_name(&self, _net: &Network) -> Result<String> {
        Err(Error::unsupported("virNetworkGetBridgeName"))
    }
    /// What is wrong with an active network on the host (a DHCP server that died, a bridge
    /// that is gone), for `net-info` to warn about. Not a libvirt call: its daemon repairs
    /// these itself, and virtsh has no daemon.
    fn network_health(&self, _net: &Network) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// virNetworkUpdate: `command` is flags::net_update_command, `section`
    /// flags::net_update_section, `parent_index` -1 for "the one that fits".
    fn update_network(
        &self,
        _net: &Network,
        _command: u32,
        _section: u32,
        _parent_index: i32,
        _xml: &str,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virNetworkUpdate"))
    }
    /// virNetworkGetDHCPLeases
    fn network_dhcp_leases(
        &self,
        _net: &Network,
        _mac: Option<&str>,
        _flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        Err(Error::unsupported("virNetworkGetDHCPLeases"))
    }
    /// virNetworkListAllPorts (flags: none defined).
    fn list_network_ports(&self, _net: &Network, _flags: u32) -> Result<Vec<NetworkPort>> {
        Err(Error::unsupported("virNetworkListAllPorts"))
    }
    /// virNetworkPortLookupByUUID
    fn lookup_network_port(&self, _net: &Network, _uuid: &Uuid) -> Result<NetworkPort> {
        Err(Error::unsupported("virNetworkPortLookupByUUID"))
    }
    /// virNetworkPortCreateXML (flags: VIR_NETWORK_PORT_CREATE_RECLAIM 1, _VALIDATE 2).
    fn create_network_port(&self, _net: &Network, _xml: &str, _flags: u32) -> Result<NetworkPort> {
        Err(Error::unsupported("virNetworkPortCreateXML"))
    }
    /// virNetworkPortGetXMLDesc
    fn network_port_xml(&self, _port: &NetworkPort, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virNetworkPortGetXMLDesc"))
    }
    /// virNetworkPortDelete
    fn delete_network_port(&self, _port: &NetworkPort, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virNetworkPortDelete"))
    }
    /// Lifecycle events of one network (or all with `None`) until `timeout` passes or `sink`
    /// returns false (`net-event`): virConnectNetworkEventRegisterAny and its event loop.
    fn network_events(
        &self,
        _net: Option<&Network>,
        _timeout: Option<std::time::Duration>,
        _sink: &mut dyn FnMut(NetworkEvent) -> bool,
    ) -> Result<()> {
        Err(Error::unsupported("virConnectNetworkEventRegisterAny"))
    }
}
