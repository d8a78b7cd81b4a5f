//! Virtual networks (testNetwork* in test_driver.c): define/create/undefine/start/destroy,
//! autostart, bridge name, and the object list rules of virNetworkObjAssignDef.

use virtsh_api::flags::list_networks as lf;
use virtsh_api::{Error, ErrorKind, Network, NetworkDriver, Result};
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use crate::{check_flags, xmlconv, Driver, TestConnection};

/// VIR_NETWORK_DEFINE_VALIDATE
const DEFINE_VALIDATE: u32 = 1 << 0;
/// VIR_NETWORK_CREATE_VALIDATE
const CREATE_VALIDATE: u32 = 1 << 0;

pub(crate) struct NetworkObj {
    pub def: NetworkDef,
    /// A persistent definition waiting for the network to stop (never used by the test driver,
    /// which keeps showing the live one).
    pub new_def: Option<NetworkDef>,
    pub active: bool,
    pub persistent: bool,
    pub autostart: bool,
}

impl NetworkObj {
    fn handle(&self) -> Network {
        Network {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
        }
    }

    fn matches(&self, flags: u32) -> bool {
        let pick = |a: u32, b: u32, v: bool| {
            flags & (a | b) == 0
                || flags & (a | b) == a | b
                || (flags & a != 0 && v)
                || (flags & b != 0 && !v)
        };
        pick(lf::ACTIVE, lf::INACTIVE, self.active)
            && pick(lf::PERSISTENT, lf::TRANSIENT, self.persistent)
            && pick(lf::AUTOSTART, lf::NO_AUTOSTART, self.autostart)
    }
}

pub(crate) fn parse_network(xml: &str) -> Result<NetworkDef> {
    NetworkDef::parse(xml).map_err(|e| xmlconv::xml_error(&e, "network_definition", xml))
}

impl Driver {
    pub(crate) fn net_by_name(&mut self, name: &str) -> Result<usize> {
        self.networks
            .iter()
            .position(|n| n.def.name == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoNetwork,
                    format!("no network with matching name '{name}'"),
                )
            })
    }

    pub(crate) fn net_by_uuid(&self, uuid: &uuid::Uuid) -> Result<&NetworkObj> {
        self.networks
            .iter()
            .find(|n| n.def.uuid == *uuid)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoNetwork,
                    format!("no network with matching uuid '{}'", uuid.hyphenated()),
                )
            })
    }

    /// virNetworkObjAssignDef: add, or replace the definition of the network with the same
    /// UUID and name. `live` is VIR_NETWORK_OBJ_LIST_ADD_LIVE|CHECK_LIVE (create).
    pub(crate) fn add_network(&mut self, def: NetworkDef, live: bool) -> Result<usize> {
        if let Some(i) = self.networks.iter().position(|n| n.def.uuid == def.uuid) {
            let obj = &mut self.networks[i];
            if obj.def.name != def.name {
                return Err(Error::new(
                    ErrorKind::OperationFailed,
                    format!(
                        "network '{}' is already defined with uuid {}",
                        obj.def.name,
                        obj.def.uuid.hyphenated()
                    ),
                ));
            }
            if live && obj.active {
                return Err(Error::invalid_op(format!(
                    "network is already active as '{}'",
                    obj.def.name
                )));
            }
            // virNetworkObjUpdateAssignDef
            if live {
                if obj.persistent && obj.new_def.is_none() {
                    obj.new_def = Some(std::mem::replace(&mut obj.def, def));
                } else {
                    obj.def = def;
                }
            } else {
                if obj.active {
                    obj.new_def = Some(def);
                } else {
                    obj.def = def;
                    obj.new_def = None;
                }
                obj.persistent = true;
            }
            return Ok(i);
        }
        if let Some(obj) = self.networks.iter().find(|n| n.def.name == def.name) {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!(
                    "network '{}' already exists with uuid {}",
                    def.name,
                    obj.def.uuid.hyphenated()
                ),
            ));
        }
        self.networks.push(NetworkObj {
            def,
            new_def: None,
            active: false,
            persistent: !live,
            autostart: false,
        });
        Ok(self.networks.len() - 1)
    }
}

impl NetworkDriver for TestConnection {
    fn list_all_networks(&self, flags: u32) -> Result<Vec<Network>> {
        check_flags(flags, 0x3F, "testConnectListAllNetworks")?;
        let drv = self.lock();
        Ok(drv
            .networks
            .iter()
            .filter(|n| n.matches(flags))
            .map(NetworkObj::handle)
            .collect())
    }

    fn lookup_network_by_name(&self, name: &str) -> Result<Network> {
        let mut drv = self.lock();
        let i = drv.net_by_name(name)?;
        Ok(drv.networks[i].handle())
    }

    fn lookup_network_by_uuid(&self, uuid: &uuid::Uuid) -> Result<Network> {
        Ok(self.lock().net_by_uuid(uuid)?.handle())
    }

    fn network_xml(&self, net: &Network, flags: u32) -> Result<String> {
        check_flags(flags, 0, "testNetworkGetXMLDesc")?;
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        Ok(drv.networks[i]
            .def
            .to_xml(&NetworkFormatOptions { inactive: false }))
    }

    fn define_network(&self, xml: &str, flags: u32) -> Result<Network> {
        check_flags(flags, DEFINE_VALIDATE, "testNetworkDefineXMLFlags")?;
        let def = parse_network(xml)?;
        let mut drv = self.lock();
        let i = drv.add_network(def, false)?;
        Ok(drv.networks[i].handle())
    }

    fn create_network(&self, xml: &str, flags: u32) -> Result<Network> {
        check_flags(flags, CREATE_VALIDATE, "testNetworkCreateXMLFlags")?;
        let def = parse_network(xml)?;
        let mut drv = self.lock();
        let i = drv.add_network(def, true)?;
        drv.networks[i].active = true;
        Ok(drv.networks[i].handle())
    }

    fn undefine_network(&self, net: &Network) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        if drv.networks[i].active {
            return Err(Error::invalid_op(format!(
                "Network '{}' is still running",
                net.name
            )));
        }
        drv.networks.remove(i);
        Ok(())
    }

    fn start_network(&self, net: &Network) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        if drv.networks[i].active {
            return Err(Error::invalid_op(format!(
                "Network '{}' is already running",
                net.name
            )));
        }
        drv.networks[i].active = true;
        Ok(())
    }

    /// testNetworkDestroy stops a network whatever its state; a transient one goes away.
    fn destroy_network(&self, net: &Network) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        drv.networks[i].active = false;
        if !drv.networks[i].persistent {
            drv.networks.remove(i);
        }
        Ok(())
    }

    fn network_autostart(&self, net: &Network) -> Result<bool> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        Ok(drv.networks[i].autostart)
    }

    fn set_network_autostart(&self, net: &Network, on: bool) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        drv.networks[i].autostart = on;
        Ok(())
    }

    fn network_is_active(&self, net: &Network) -> Result<bool> {
        Ok(self.lock().net_by_uuid(&net.uuid)?.active)
    }

    fn network_is_persistent(&self, net: &Network) -> Result<bool> {
        Ok(self.lock().net_by_uuid(&net.uuid)?.persistent)
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
        self.lock()
            .network_update(net, command, section, parent_index, xml, flags)
    }

    /// Nothing else can change this connection's networks while the shell waits (the test
    /// driver lives in this one process), so the wait ends with no event, as virsh's does.
    fn network_events(
        &self,
        _net: Option<&Network>,
        timeout: Option<std::time::Duration>,
        _sink: &mut dyn FnMut(virtsh_api::NetworkEvent) -> bool,
    ) -> Result<()> {
        crate::domain::wait_for_nothing(timeout);
        Ok(())
    }

    fn network_bridge_name(&self, net: &Network) -> Result<String> {
        let mut drv = self.lock();
        let i = drv.net_by_name(&net.name)?;
        let def = &drv.networks[i].def;
        def.bridge
            .as_ref()
            .and_then(|b| b.name.clone())
            .ok_or_else(|| {
                Error::internal(format!(
                    "network '{}' does not have a bridge name.",
                    def.name
                ))
            })
    }
}
