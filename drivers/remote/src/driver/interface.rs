//! InterfaceDriver over the protocol: virInterface* and the interface change transactions,
//! each the procedure libvirt's `remote_driver.c` makes for it.

use virtsh_api::{Interface, Result};

use super::handles::{interface_from_remote, interface_to_remote};
use super::RemoteDriver;
use crate::generated::remote::*;

impl virtsh_api::InterfaceDriver for RemoteDriver {
    fn list_all_interfaces(&self, flags: u32) -> Result<Vec<Interface>> {
        let ret =
            self.call::<procs::ConnectListAllInterfaces>(&RemoteConnectListAllInterfacesArgs {
                need_results: 1,
                flags,
            })?;
        Ok(ret.ifaces.into_iter().map(interface_from_remote).collect())
    }

    fn lookup_interface_by_name(&self, name: &str) -> Result<Interface> {
        let ret = self.call::<procs::InterfaceLookupByName>(&RemoteInterfaceLookupByNameArgs {
            name: name.to_string(),
        })?;
        Ok(interface_from_remote(ret.iface))
    }

    fn lookup_interface_by_mac(&self, mac: &str) -> Result<Interface> {
        let ret = self.call::<procs::InterfaceLookupByMacString>(
            &RemoteInterfaceLookupByMacStringArgs {
                mac: mac.to_string(),
            },
        )?;
        Ok(interface_from_remote(ret.iface))
    }

    fn interface_xml(&self, iface: &Interface, flags: u32) -> Result<String> {
        let ret = self.call::<procs::InterfaceGetXmlDesc>(&RemoteInterfaceGetXmlDescArgs {
            iface: interface_to_remote(iface),
            flags,
        })?;
        Ok(ret.xml)
    }

    fn interface_is_active(&self, iface: &Interface) -> Result<bool> {
        let ret = self.call::<procs::InterfaceIsActive>(&RemoteInterfaceIsActiveArgs {
            iface: interface_to_remote(iface),
        })?;
        Ok(ret.active != 0)
    }

    fn define_interface(&self, xml: &str, flags: u32) -> Result<Interface> {
        let ret = self.call::<procs::InterfaceDefineXml>(&RemoteInterfaceDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        })?;
        Ok(interface_from_remote(ret.iface))
    }

    fn undefine_interface(&self, iface: &Interface) -> Result<()> {
        self.call::<procs::InterfaceUndefine>(&RemoteInterfaceUndefineArgs {
            iface: interface_to_remote(iface),
        })
    }

    fn start_interface(&self, iface: &Interface, flags: u32) -> Result<()> {
        self.call::<procs::InterfaceCreate>(&RemoteInterfaceCreateArgs {
            iface: interface_to_remote(iface),
            flags,
        })
    }

    fn destroy_interface(&self, iface: &Interface, flags: u32) -> Result<()> {
        self.call::<procs::InterfaceDestroy>(&RemoteInterfaceDestroyArgs {
            iface: interface_to_remote(iface),
            flags,
        })
    }

    fn interface_change_begin(&self, flags: u32) -> Result<()> {
        self.call::<procs::InterfaceChangeBegin>(&RemoteInterfaceChangeBeginArgs { flags })
    }

    fn interface_change_commit(&self, flags: u32) -> Result<()> {
        self.call::<procs::InterfaceChangeCommit>(&RemoteInterfaceChangeCommitArgs { flags })
    }

    fn interface_change_rollback(&self, flags: u32) -> Result<()> {
        self.call::<procs::InterfaceChangeRollback>(&RemoteInterfaceChangeRollbackArgs { flags })
    }
}
