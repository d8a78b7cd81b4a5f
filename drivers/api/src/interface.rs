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
    /// virInterfaceDefineXML
    fn define_interface(&self, _xml: &str, _flags: u32) -> Result<Interface> {
        Err(Error::unsupported("virInterfaceDefineXML"))
    }
    /// virInterfaceUndefine
    fn undefine_interface(&self, _iface: &Interface) -> Result<()> {
        Err(Error::unsupported("virInterfaceUndefine"))
    }
    /// virInterfaceCreate
    fn start_interface(&self, _iface: &Interface, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virInterfaceCreate"))
    }
    /// virInterfaceDestroy
    fn destroy_interface(&self, _iface: &Interface, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virInterfaceDestroy"))
    }
    /// virInterfaceChangeBegin
    fn interface_change_begin(&self, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virInterfaceChangeBegin"))
    }
    /// virInterfaceChangeCommit
    fn interface_change_commit(&self, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virInterfaceChangeCommit"))
    }
    /// virInterfaceChangeRollback
    fn interface_change_rollback(&self, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virInterfaceChangeRollback"))
    }
}
