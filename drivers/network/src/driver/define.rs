//! What `net-define` and `net-create` do to a definition before it is kept: libvirt's checks
//! against the other networks (virNetworkObjAssignDef) and the fill-ins it saves with it
//! (networkBridgeNameValidate, virNetworkSetBridgeMacAddr): a free `virbrN` bridge name and a
//! random `52:54:00` MAC for the networks whose bridge virtsh makes.

use std::collections::HashSet;
use std::time::Duration;

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_state::ObjectLock;
use virtsh_xml::network::BridgeDef;
use virtsh_xml::NetworkDef;

use super::{failed, state_error, NetworkHost};

/// Forward modes whose bridge virtsh creates and whose addresses, firewall and dnsmasq it
/// runs; `bridge` uses a host bridge as it is. libvirt's other modes (passthrough, private,
/// vepa, hostdev) hand guests a host NIC directly, which this driver does not do.
pub(crate) const VIRTUAL_MODES: [&str; 4] = ["none", "nat", "route", "open"];

pub(crate) fn check_supported(def: &NetworkDef) -> Result<()> {
    let mode = def.forward_mode();
    if VIRTUAL_MODES.contains(&mode) {
        return Ok(());
    }
    if mode == "bridge" {
        if def.bridge.as_ref().and_then(|b| b.name.as_ref()).is_none() {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "network '{}' with forward mode 'bridge' needs <bridge name='...'/>: \
                     virtsh does not give guests a host NIC directly",
                    def.name
                ),
            ));
        }
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::ConfigUnsupported,
        format!(
            "forward mode '{mode}' of network '{}' is not supported by virtsh's network driver",
            def.name
        ),
    ))
}

impl NetworkHost {
    /// Parse `xml` as `net-define`/`net-create` do.
    pub(crate) fn parse_new(&self, xml: &str) -> Result<NetworkDef> {
        let def = NetworkDef::parse(xml).map_err(|e| e.api_error("network_definition", xml))?;
        virtsh_state::validate_name(&def.name).map_err(state_error)?;
        check_supported(&def)?;
        Ok(def)
    }

    /// virNetworkObjAssignDef's rules: a definition with the UUID of another network must
    /// have its name, and a name belongs to one UUID.
    pub(crate) fn check_identity(&self, def: &NetworkDef) -> Result<()> {
        for v in self.views()? {
            let other = v.current();
            if other.uuid == def.uuid && other.name != def.name {
                return Err(failed(format!(
                    "network '{}' is already defined with uuid {}",
                    other.name,
                    other.uuid.hyphenated()
                )));
            }
            if other.name == def.name && other.uuid != def.uuid {
                return Err(failed(format!(
                    "network '{}' already exists with uuid {}",
                    def.name,
                    other.uuid.hyphenated()
                )));
            }
        }
        Ok(())
    }

    /// Give a virtual network its bridge name and MAC if the XML has none, as libvirt saves
    /// them with the definition. Holds a lock while choosing, so two defines at once cannot
    /// pick the same `virbrN`.
    pub(crate) fn fill_in(&self, def: &mut NetworkDef) -> Result<()> {
        if !VIRTUAL_MODES.contains(&def.forward_mode()) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.paths.lib)
            .map_err(|e| failed(format!("{}: {e}", self.paths.lib.display())))?;
        let _lock = ObjectLock::acquire(&self.paths.lib, "bridge-names", Duration::from_secs(30))
            .map_err(state_error)?;
        let mut taken: HashSet<String> = HashSet::new();
        for v in self.views()? {
            if v.current().name == def.name {
                continue;
            }
            for d in [v.live.as_ref(), v.persistent.as_ref()]
                .into_iter()
                .flatten()
            {
                if let Some(b) = d.bridge.as_ref().and_then(|b| b.name.clone()) {
                    taken.insert(b);
                }
            }
        }
        let bridge = def.bridge.get_or_insert_with(BridgeDef::default);
        match bridge.name.clone() {
            Some(name) if !name.contains("%d") => {
                if taken.contains(&name) {
                    // networkBridgeNameValidate reports it as an internal error.
                    return Err(Error::internal(format!(
                        "bridge name '{name}' already in use."
                    )));
                }
            }
            template => {
                let template = template.unwrap_or_else(|| "virbr%d".to_string());
                let host =
                    crate::bridge::bridge_names_in_use().map_err(|e| failed(e.to_string()))?;
                let free = (0..256)
                    .map(|i| template.replacen("%d", &i.to_string(), 1))
                    .find(|n| !taken.contains(n) && !host.iter().any(|h| h == n))
                    .ok_or_else(|| {
                        Error::internal(format!("Bridge generation exceeded max id {}", 256))
                    })?;
                bridge.name = Some(free);
            }
        }
        if def.mac.is_none() {
            let r = uuid::Uuid::new_v4();
            let b = r.as_bytes();
            def.mac = Some(format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2]));
        }
        Ok(())
    }
}
