//! Host interfaces (testInterface* in test_driver.c): listing, lookups, XML, define/undefine,
//! start/destroy, and the change transactions (begin/commit/rollback).

use virtsh_api::flags::list_interfaces as lf;
use virtsh_api::{Error, ErrorKind, Interface, InterfaceDriver, Result};
use virtsh_xml::interface::InterfaceDef;

use crate::{check_flags, xmlconv, Driver, TestConnection};

#[derive(Clone)]
pub(crate) struct IfaceObj {
    pub def: InterfaceDef,
    pub active: bool,
}

impl IfaceObj {
    fn handle(&self) -> Interface {
        Interface {
            name: self.def.name.clone(),
            mac: self.def.mac.clone().unwrap_or_default(),
        }
    }
}

pub(crate) fn parse_iface(xml: &str) -> Result<InterfaceDef> {
    InterfaceDef::parse(xml).map_err(|e| xmlconv::xml_error(&e, "interface_definition", xml))
}

impl Driver {
    fn iface_by_name(&self, name: &str) -> Result<usize> {
        self.ifaces
            .iter()
            .position(|i| i.def.name == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoInterface,
                    format!("no interface with matching name '{name}'"),
                )
            })
    }

    /// virInterfaceObjListAssignDef: a definition replaces the one of the same name.
    pub(crate) fn add_iface(&mut self, def: InterfaceDef) -> usize {
        match self.ifaces.iter().position(|i| i.def.name == def.name) {
            Some(i) => {
                self.ifaces[i].def = def;
                i
            }
            None => {
                self.ifaces.push(IfaceObj { def, active: false });
                self.ifaces.len() - 1
            }
        }
    }
}

impl InterfaceDriver for TestConnection {
    fn list_all_interfaces(&self, flags: u32) -> Result<Vec<Interface>> {
        check_flags(
            flags,
            lf::ACTIVE | lf::INACTIVE,
            "testConnectListAllInterfaces",
        )?;
        let both = lf::ACTIVE | lf::INACTIVE;
        let drv = self.lock();
        Ok(drv
            .ifaces
            .iter()
            .filter(|i| {
                flags & both == 0
                    || flags & both == both
                    || (flags & lf::ACTIVE != 0 && i.active)
                    || (flags & lf::INACTIVE != 0 && !i.active)
            })
            .map(IfaceObj::handle)
            .collect())
    }

    fn lookup_interface_by_name(&self, name: &str) -> Result<Interface> {
        let drv = self.lock();
        Ok(drv.ifaces[drv.iface_by_name(name)?].handle())
    }

    fn lookup_interface_by_mac(&self, mac: &str) -> Result<Interface> {
        let drv = self.lock();
        let found: Vec<&IfaceObj> = drv
            .ifaces
            .iter()
            .filter(|i| {
                i.def
                    .mac
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(mac))
            })
            .collect();
        match found.as_slice() {
            [] => Err(Error::new(
                ErrorKind::NoInterface,
                format!("no interface with matching mac '{mac}'"),
            )),
            [one] => Ok(Interface {
                name: one.def.name.clone(),
                mac: mac.to_string(),
            }),
            _ => Err(Error::raw(
                ErrorKind::InternalError,
                "multiple matching interfaces found",
            )),
        }
    }

    fn interface_xml(&self, iface: &Interface, flags: u32) -> Result<String> {
        check_flags(flags, 0, "testInterfaceGetXMLDesc")?;
        let drv = self.lock();
        Ok(drv.ifaces[drv.iface_by_name(&iface.name)?].def.to_xml())
    }

    fn interface_is_active(&self, iface: &Interface) -> Result<bool> {
        let drv = self.lock();
        Ok(drv.ifaces[drv.iface_by_name(&iface.name)?].active)
    }

    /// testInterfaceDefineXML
    fn define_interface(&self, xml: &str, flags: u32) -> Result<Interface> {
        // VIR_INTERFACE_DEFINE_VALIDATE
        check_flags(flags, 1, "testInterfaceDefineXML")?;
        let def = parse_iface(xml)?;
        let mut drv = self.lock();
        let i = drv.add_iface(def);
        Ok(drv.ifaces[i].handle())
    }

    /// testInterfaceUndefine
    fn undefine_interface(&self, iface: &Interface) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.iface_by_name(&iface.name)?;
        drv.ifaces.remove(i);
        Ok(())
    }

    /// testInterfaceCreate
    fn start_interface(&self, iface: &Interface, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testInterfaceCreate")?;
        let mut drv = self.lock();
        let i = drv.iface_by_name(&iface.name)?;
        if drv.ifaces[i].active {
            return Err(op_invalid());
        }
        drv.ifaces[i].active = true;
        Ok(())
    }

    /// testInterfaceDestroy
    fn destroy_interface(&self, iface: &Interface, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testInterfaceDestroy")?;
        let mut drv = self.lock();
        let i = drv.iface_by_name(&iface.name)?;
        if !drv.ifaces[i].active {
            return Err(op_invalid());
        }
        drv.ifaces[i].active = false;
        Ok(())
    }

    /// testInterfaceChangeBegin: keep a copy of the definitions. The copy is made as
    /// virInterfaceObjListClone makes it, from the definitions only, so every interface comes
    /// back inactive from a rollback.
    fn interface_change_begin(&self, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testInterfaceChangeBegin")?;
        let mut drv = self.lock();
        if drv.iface_backup.is_some() {
            return Err(Error::invalid_op("there is another transaction running."));
        }
        let backup = drv
            .ifaces
            .iter()
            .map(|i| IfaceObj {
                def: i.def.clone(),
                active: false,
            })
            .collect();
        drv.iface_backup = Some(backup);
        Ok(())
    }

    /// testInterfaceChangeCommit
    fn interface_change_commit(&self, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testInterfaceChangeCommit")?;
        let mut drv = self.lock();
        if drv.iface_backup.take().is_none() {
            return Err(Error::invalid_op(
                "no transaction running, nothing to be committed.",
            ));
        }
        Ok(())
    }

    /// testInterfaceChangeRollback
    fn interface_change_rollback(&self, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testInterfaceChangeRollback")?;
        let mut drv = self.lock();
        match drv.iface_backup.take() {
            Some(backup) => {
                drv.ifaces = backup;
                Ok(())
            }
            None => Err(Error::invalid_op(
                "no transaction running, nothing to rollback.",
            )),
        }
    }
}

/// VIR_ERR_OPERATION_INVALID without a detail.
fn op_invalid() -> Error {
    Error::raw(
        ErrorKind::OperationInvalid,
        "Requested operation is not valid",
    )
}
