//! What a new port gets from its network (libvirt's networkAllocatePort and
//! networkNotifyPort, and virNetDevVPortProfileMerge3): the portgroup's or network's settings
//! where the port has none, the plug, and libvirt's checks. Pure: no file, no host change.

use uuid::Uuid;
use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::network::{ForwardIf, NetworkPortDef, PortPlug, VirtualPortDef};
use virtsh_xml::NetworkDef;

/// networkAllocatePort for the networks virtsh runs (virtual ones and host bridges): the
/// portgroup's or network's settings where the port has none, the plug, and the checks.
pub(super) fn allocate(def: &NetworkDef, port: &mut NetworkPortDef) -> Result<()> {
    let portgroup = def.portgroups.iter().find(|pg| match &port.group {
        Some(g) => pg.name == *g,
        None => pg.is_default,
    });
    if port.bandwidth.is_none() {
        port.bandwidth = portgroup.and_then(|pg| pg.bandwidth.clone());
    }
    if port.vlan.as_ref().is_none_or(|v| v.tags.is_empty()) {
        let vlan = portgroup
            .and_then(|pg| pg.vlan.as_ref())
            .filter(|v| !v.tags.is_empty())
            .or(def.vlan.as_ref().filter(|v| !v.tags.is_empty()));
        if let Some(v) = vlan {
            port.vlan = Some(v.clone());
        }
    }
    if port.trust_guest_rx_filters.is_none() {
        port.trust_guest_rx_filters = portgroup
            .and_then(|pg| pg.trust_guest_rx_filters)
            .or(def.trust_guest_rx_filters);
    }
    if port.isolated.is_none() {
        port.isolated = def.port_isolated;
    }
    if let Some(merged) = merge3(
        port.virtualport.as_ref(),
        def.virtualport.as_ref(),
        portgroup.and_then(|pg| pg.virtualport.as_ref()),
    )? {
        port.virtualport = Some(merged);
    }

    let mode = def.forward_mode();
    let bridge = def.bridge.as_ref().and_then(|b| b.name.clone());
    let mac_table_manager = def
        .bridge
        .as_ref()
        .and_then(|b| b.mac_table_manager.clone());
    let vport_type = |v: &VirtualPortDef| v.vport_type.clone().unwrap_or_else(|| "none".into());
    match mode {
        "none" | "nat" | "route" | "open" => {
            let Some(bridge) = bridge else {
                return Err(Error::internal(format!(
                    "network '{}' does not have a bridge name.",
                    def.name
                )));
            };
            port.plug = PortPlug::Network {
                bridge,
                mac_table_manager,
            };
            if let Some(v) = &port.virtualport {
                return Err(Error::new(
                    ErrorKind::ConfigUnsupported,
                    format!(
                        "<virtualport type='{}'> not supported for network '{}' which uses IP forwarding",
                        vport_type(v),
                        def.name
                    ),
                ));
            }
        }
        "bridge" if bridge.is_some() => {
            port.plug = PortPlug::Bridge {
                bridge: bridge.unwrap_or_default(),
                mac_table_manager,
            };
            if let Some(v) = &port.virtualport {
                if v.vport_type.as_deref() != Some("openvswitch") {
                    return Err(Error::new(
                        ErrorKind::ConfigUnsupported,
                        format!(
                            "<virtualport type='{}'> not supported for network '{}' which uses a bridge device",
                            vport_type(v),
                            def.name
                        ),
                    ));
                }
            }
        }
        // Direct (macvtap) and hostdev networks are refused when defined (define.rs); a
        // definition from elsewhere that got this far is still not plugged.
        other => {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "forward mode '{other}' of network '{}' is not supported by virtsh's network driver",
                    def.name
                ),
            ))
        }
    }
    check_floor(def, port)?;
    if let Some(v) = &mut port.virtualport {
        check_complete(v)?;
    }
    Ok(())
}

/// networkCheckBandwidth's refusals of a 'floor'. Where libvirt would then reserve the floor
/// with a tc class, virtsh refuses: it applies no QoS to its networks, so it cannot keep the
/// guarantee.
fn check_floor(def: &NetworkDef, port: &NetworkPortDef) -> Result<()> {
    let floor = port
        .bandwidth
        .as_ref()
        .and_then(|b| b.inbound.as_ref())
        .is_some_and(|r| r.floor != 0);
    if !floor {
        return Ok(());
    }
    let mac = &port.mac;
    if !matches!(def.forward_mode(), "none" | "nat" | "route" | "open") {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!(
                "Invalid use of 'floor' on interface with MAC address {mac} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none"
            ),
        ));
    }
    if def
        .bandwidth
        .as_ref()
        .and_then(|b| b.inbound.as_ref())
        .is_none()
    {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            format!(
                "Invalid use of 'floor' on interface with MAC address {mac} - network '{}' has no inbound QoS set",
                def.name
            ),
        ));
    }
    Err(Error::new(
        ErrorKind::OperationUnsupported,
        format!(
            "'floor' on interface with MAC address {mac}: virtsh applies no QoS to network '{}'",
            def.name
        ),
    ))
}

/// networkNotifyPort: a port that says where it is plugged in must fit the network.
pub(super) fn notify_port(def: &NetworkDef, port: &NetworkPortDef) -> Result<()> {
    match &port.plug {
        PortPlug::None => Err(Error::internal(
            "Unexpectedly got a network port without a plug",
        )),
        PortPlug::Network { .. } | PortPlug::Bridge { .. } => {
            if def.bridge.as_ref().and_then(|b| b.name.as_ref()).is_none() {
                return Err(Error::internal(
                    "Unexpectedly got a network port without a network bridge",
                ));
            }
            Ok(())
        }
        PortPlug::Direct { dev, .. } => {
            let found = def.forward.as_ref().is_some_and(|f| {
                f.interfaces
                    .iter()
                    .any(|i| matches!(i, ForwardIf::Netdev { dev: d, .. } if d == dev))
            });
            if found {
                return Ok(());
            }
            Err(Error::internal(format!(
                "network '{}' doesn't have dev='{dev}' in use by network port '{}'",
                def.name,
                port.uuid.hyphenated()
            )))
        }
        PortPlug::HostdevPci { address, .. } => {
            let found = def.forward.as_ref().is_some_and(|f| {
                f.interfaces
                    .iter()
                    .any(|i| matches!(i, ForwardIf::Pci(a) if a == address))
            });
            if found {
                return Ok(());
            }
            Err(Error::internal(format!(
                "network '{}' doesn't have PCI device {:04x}:{:02x}:{:02x}.{:x} in use by network port",
                def.name, address.domain, address.bus, address.slot, address.function
            )))
        }
    }
}

/// virNetDevVPortProfileMerge3: the port's virtualport, completed from the network's and
/// then the portgroup's; None when none of them has a type.
pub(super) fn merge3(
    port: Option<&VirtualPortDef>,
    network: Option<&VirtualPortDef>,
    portgroup: Option<&VirtualPortDef>,
) -> Result<Option<VirtualPortDef>> {
    let typed = |v: Option<&VirtualPortDef>| v.is_some_and(|v| v.vport_type.is_some());
    if !typed(port) && !typed(network) && !typed(portgroup) {
        return Ok(None);
    }
    let mut out = port.cloned().unwrap_or_default();
    for mods in [network, portgroup].into_iter().flatten() {
        merge(&mut out, mods)?;
    }
    Ok(Some(out))
}

/// virNetDevVPortProfileMerge: fill what `orig` lacks from `mods`; a conflict is an error.
fn merge(orig: &mut VirtualPortDef, mods: &VirtualPortDef) -> Result<()> {
    let xml_err = |m: String| Error::new(ErrorKind::XmlError, m);
    if let Some(t) = &mods.vport_type {
        if let Some(o) = &orig.vport_type {
            if o != t {
                return Err(xml_err(format!(
                    "attempt to merge virtualports with mismatched types ({o} and {t})"
                )));
            }
        }
        orig.vport_type = Some(t.clone());
    }
    let otype = orig.vport_type.clone().unwrap_or_else(|| "none".into());
    let qbg = otype == "802.1Qbg" || otype == "none";
    if qbg {
        merge_field(
            &mut orig.manager_id,
            mods.manager_id,
            "managerids",
            |v| v.to_string(),
            false,
        )?;
        merge_field(
            &mut orig.type_id,
            mods.type_id,
            "typeids",
            |v| v.to_string(),
            false,
        )?;
        merge_field(
            &mut orig.type_id_version,
            mods.type_id_version,
            "typeidversions",
            |v| v.to_string(),
            false,
        )?;
        merge_field(
            &mut orig.instance_id,
            mods.instance_id,
            "instanceids",
            |v| v.hyphenated().to_string(),
            true,
        )?;
    }
    if otype == "openvswitch" || otype == "none" {
        merge_field(
            &mut orig.interface_id,
            mods.interface_id,
            "interfaceids",
            |v| v.hyphenated().to_string(),
            true,
        )?;
    }
    if matches!(otype.as_str(), "openvswitch" | "802.1Qbh" | "none") {
        merge_field(
            &mut orig.profile_id,
            mods.profile_id.clone(),
            "profileids",
            |v| v.clone(),
            true,
        )?;
    }
    Ok(())
}

fn merge_field<T: PartialEq>(
    orig: &mut Option<T>,
    mods: Option<T>,
    what: &str,
    show: impl Fn(&T) -> String,
    quoted: bool,
) -> Result<()> {
    let Some(m) = mods else { return Ok(()) };
    if let Some(o) = orig.as_ref() {
        if *o != m {
            let (a, b) = if quoted {
                (format!("'{}'", show(o)), format!("'{}'", show(&m)))
            } else {
                (show(o), show(&m))
            };
            return Err(Error::new(
                ErrorKind::XmlError,
                format!("attempt to merge virtualports with mismatched {what} ({a} and {b})"),
            ));
        }
    }
    *orig = Some(m);
    Ok(())
}

/// virNetDevVPortProfileCheckComplete with generateMissing: the IDs a switch needs are
/// generated, the others must be there.
fn check_complete(v: &mut VirtualPortDef) -> Result<()> {
    let Some(t) = v.vport_type.clone() else {
        return Ok(());
    };
    let missing = match t.as_str() {
        "802.1Qbg" => {
            if v.manager_id.is_none() {
                Some("managerid")
            } else if v.type_id.is_none() {
                Some("typeid")
            } else if v.type_id_version.is_none() {
                Some("typeidversion")
            } else {
                if v.instance_id.is_none() {
                    v.instance_id = Some(Uuid::new_v4());
                }
                None
            }
        }
        "802.1Qbh" => v.profile_id.is_none().then_some("profileid"),
        "openvswitch" => {
            if v.interface_id.is_none() {
                v.interface_id = Some(Uuid::new_v4());
            }
            None
        }
        "midonet" => v.interface_id.is_none().then_some("interfaceid"),
        _ => None,
    };
    match missing {
        Some(m) => Err(Error::new(
            ErrorKind::XmlError,
            format!("missing {m} in <virtualport type='{t}'>"),
        )),
        None => Ok(()),
    }
}
