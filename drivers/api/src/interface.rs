//! Calls on host network interfaces (virInterface*).

use crate::error::{Error, Result};
use crate::types::Interface;

pub trait InterfaceDriver {
    fn list_all_interfaces(&self, _flags: u32) -> Result<Vec<Interface>> {
        Err(Error::unsupported("virConnectListAllInterfaces"))
    }
    fn lookup_interface_by_name(&self, _name: &str) -> Result<Interface> {
        Err(Error::unsupported("virInterfaceLookupByName"))
    }
    fn lookup_interface_by_mac(&self, _mac: &str) -> Result<Interface> {
        Err(Error::unsupported("virInterfaceLookupByMACString"))
    }
    fn interface_xml(&self, _iface: &Interface, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virInterfaceGetXMLDesc"))
    }
    fn interface_is_active(&self, _iface: &Interface) -> Result<bool> {
        Err(Error::unsupported("virInterfaceIsActive"))
    }
}
