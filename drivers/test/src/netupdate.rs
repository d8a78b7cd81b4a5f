//! virNetworkUpdate for the test driver (testNetworkUpdate → virNetworkObjUpdate): the flags
//! check and the live/config bookkeeping on the test driver's network objects. Updating a
//! definition itself (virNetworkDefUpdateSection: the sections, their rules and libvirt's
//! messages) is `virtsh_xml::network::update_section`, shared with the other drivers.

use virtsh_api::flags::net_update as uf;
use virtsh_api::{Error, Network, Result};
use virtsh_xml::network::update_section;

use crate::{check_flags, Driver};

impl Driver {
    /// testNetworkUpdate and virNetworkObjUpdate.
    pub(crate) fn network_update(
        &mut self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        check_flags(
            flags,
            uf::AFFECT_LIVE | uf::AFFECT_CONFIG,
            "testNetworkUpdate",
        )?;
        let uuid = self.net_by_uuid(&net.uuid)?.def.uuid;
        let i = self
            .networks
            .iter()
            .position(|n| n.def.uuid == uuid)
            .unwrap_or_default();
        let obj = &mut self.networks[i];
        let mut flags = flags;
        if flags & (uf::AFFECT_LIVE | uf::AFFECT_CONFIG) == uf::AFFECT_CURRENT {
            flags |= if obj.active {
                uf::AFFECT_LIVE
            } else {
                uf::AFFECT_CONFIG
            };
        }
        // virNetworkObjConfigChangeSetup
        if !obj.active && flags & uf::AFFECT_LIVE != 0 {
            return Err(Error::invalid_op("network is not running"));
        }
        if flags & uf::AFFECT_CONFIG != 0 {
            if !obj.persistent {
                return Err(Error::invalid_op(
                    "cannot change persistent config of a transient network",
                ));
            }
            if obj.active && obj.new_def.is_none() {
                obj.new_def = Some(obj.def.clone());
            }
        }
        let mut live = None;
        if flags & uf::AFFECT_LIVE != 0 {
            let mut def = obj.def.clone();
            update_section(&mut def, command, section, parent_index, xml)?;
            live = Some(def);
        }
        let mut config = None;
        if flags & uf::AFFECT_CONFIG != 0 {
            let mut def = match (&obj.new_def, obj.active) {
                (Some(d), true) => d.clone(),
                _ => obj.def.clone(),
            };
            update_section(&mut def, command, section, parent_index, xml)?;
            config = Some(def);
        }
        if let Some(def) = config {
            // virNetworkObjReplacePersistentDef
            if obj.active {
                obj.new_def = Some(def);
            } else {
                obj.def = def;
            }
        }
        if let Some(def) = live {
            obj.def = def;
        }
        Ok(())
    }
}
