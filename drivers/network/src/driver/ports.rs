//! Network ports (virNetworkPort*): stub, being written.

use virtsh_api::{Error, Network, NetworkPort, Result};

use super::NetworkHost;

impl NetworkHost {
    pub(crate) fn list_ports(&self, _net: &Network, _f: u32) -> Result<Vec<NetworkPort>> {
        Err(Error::unsupported("virNetworkListAllPorts"))
    }
    pub(crate) fn lookup_port(&self, _net: &Network, _uuid: &uuid::Uuid) -> Result<NetworkPort> {
        Err(Error::unsupported("virNetworkPortLookupByUUID"))
    }
    pub(crate) fn create_port(&self, _net: &Network, _xml: &str, _f: u32) -> Result<NetworkPort> {
        Err(Error::unsupported("virNetworkPortCreateXML"))
    }
    pub(crate) fn port_xml(&self, _port: &NetworkPort, _f: u32) -> Result<String> {
        Err(Error::unsupported("virNetworkPortGetXMLDesc"))
    }
    pub(crate) fn delete_port(&self, _port: &NetworkPort, _f: u32) -> Result<()> {
        Err(Error::unsupported("virNetworkPortDelete"))
    }
}
