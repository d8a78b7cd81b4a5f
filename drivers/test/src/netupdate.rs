//! virNetworkUpdate for the test driver (testNetworkUpdate → virNetworkObjUpdate): the flags
//! check and the live/config bookkeeping on the test driver's network objects. Updating a
//! definition itself (virNetworkDefUpdateSection: the sections, their rules and libvirt's
//! messages) is `virtsh_xml::network::update_section`, shared with the other drivers.

use virtsh_api::flags::net_update as uf;
use virtsh_api::{Network, Result};
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
        let (affect_live, affect_config) = uf::targets(flags, obj.active, obj.persistent)?;
        if affect_config && obj.active && obj.new_def.is_none() {
            obj.new_def = Some(obj.def.clone());
        }
        let mut live = None;
        if affect_live {
            let mut def = obj.def.clone();
            update_section(&mut def, command, section, parent_index, xml)?;
            live = Some(def);
        }
        let mut config = None;
        if affect_config {
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
