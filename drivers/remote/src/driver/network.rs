//! NetworkDriver over the protocol: virNetwork*, network ports and network lifecycle events,
//! each the procedure libvirt's `remote_driver.c` makes for it.

use std::time::{Duration, Instant};

use uuid::Uuid;
use virtsh_api::{DhcpLease, Error, Network, NetworkEvent, NetworkPort, Result};

use super::handles::{
    network_from_remote, network_port_from_remote, network_port_to_remote, network_to_remote,
    uuid_to_remote,
};
use super::RemoteDriver;
use crate::generated::remote::*;
use crate::procedure::Procedure;

/// VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER (libvirt_internal.h).
const FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER: i32 = 16;

/// VIR_NETWORK_EVENT_ID_LIFECYCLE, the one network event of libvirt 9.0.
const NETWORK_EVENT_ID_LIFECYCLE: i32 = 0;

/// How long one wait for an event lasts before the driver's lock is given back (so that an
/// endless watch never holds the connection longer than this at a time).
const EVENT_POLL: Duration = Duration::from_millis(500);

/// CONNECT_SUPPORTS_FEATURE, as libvirt's VIR_DRV_SUPPORTS_FEATURE asks it.
fn supports_feature(drv: &RemoteDriver, feature: i32) -> Result<bool> {
    let ret =
        drv.call::<procs::ConnectSupportsFeature>(&RemoteConnectSupportsFeatureArgs { feature })?;
    Ok(ret.supported != 0)
}

impl virtsh_api::NetworkDriver for RemoteDriver {
    fn list_all_networks(&self, flags: u32) -> Result<Vec<Network>> {
        let ret =
            self.call::<procs::ConnectListAllNetworks>(&RemoteConnectListAllNetworksArgs {
                need_results: 1,
                flags,
            })?;
        Ok(ret.nets.into_iter().map(network_from_remote).collect())
    }

    fn lookup_network_by_name(&self, name: &str) -> Result<Network> {
        let ret = self.call::<procs::NetworkLookupByName>(&RemoteNetworkLookupByNameArgs {
            name: name.to_string(),
        })?;
        Ok(network_from_remote(ret.net))
    }

    fn lookup_network_by_uuid(&self, uuid: &Uuid) -> Result<Network> {
        let ret = self.call::<procs::NetworkLookupByUuid>(&RemoteNetworkLookupByUuidArgs {
            uuid: uuid_to_remote(uuid),
        })?;
        Ok(network_from_remote(ret.net))
    }

    fn network_xml(&self, net: &Network, flags: u32) -> Result<String> {
        let ret = self.call::<procs::NetworkGetXmlDesc>(&RemoteNetworkGetXmlDescArgs {
            net: network_to_remote(net),
            flags,
        })?;
        Ok(ret.xml)
    }

    /// virsh's net-define calls virNetworkDefineXML without flags and
    /// virNetworkDefineXMLFlags (libvirt 7.7) with them; so does this.
    fn define_network(&self, xml: &str, flags: u32) -> Result<Network> {
        let net = if flags == 0 {
            self.call::<procs::NetworkDefineXml>(&RemoteNetworkDefineXmlArgs {
                xml: xml.to_string(),
            })?
            .net
        } else {
            self.call::<procs::NetworkDefineXmlFlags>(&RemoteNetworkDefineXmlFlagsArgs {
                xml: xml.to_string(),
                flags,
            })?
            .net
        };
        Ok(network_from_remote(net))
    }

    /// net-create: virNetworkCreateXML without flags, virNetworkCreateXMLFlags (7.8) with.
    fn create_network(&self, xml: &str, flags: u32) -> Result<Network> {
        let net = if flags == 0 {
            self.call::<procs::NetworkCreateXml>(&RemoteNetworkCreateXmlArgs {
                xml: xml.to_string(),
            })?
            .net
        } else {
            self.call::<procs::NetworkCreateXmlFlags>(&RemoteNetworkCreateXmlFlagsArgs {
                xml: xml.to_string(),
                flags,
            })?
            .net
        };
        Ok(network_from_remote(net))
    }

    fn undefine_network(&self, net: &Network) -> Result<()> {
        self.call::<procs::NetworkUndefine>(&RemoteNetworkUndefineArgs {
            net: network_to_remote(net),
        })
    }

    fn start_network(&self, net: &Network) -> Result<()> {
        self.call::<procs::NetworkCreate>(&RemoteNetworkCreateArgs {
            net: network_to_remote(net),
        })
    }

    fn destroy_network(&self, net: &Network) -> Result<()> {
        self.call::<procs::NetworkDestroy>(&RemoteNetworkDestroyArgs {
            net: network_to_remote(net),
        })
    }

    fn network_autostart(&self, net: &Network) -> Result<bool> {
        let ret = self.call::<procs::NetworkGetAutostart>(&RemoteNetworkGetAutostartArgs {
            net: network_to_remote(net),
        })?;
        Ok(ret.autostart != 0)
    }

    fn set_network_autostart(&self, net: &Network, on: bool) -> Result<()> {
        self.call::<procs::NetworkSetAutostart>(&RemoteNetworkSetAutostartArgs {
            net: network_to_remote(net),
            autostart: i32::from(on),
        })
    }

    fn network_is_active(&self, net: &Network) -> Result<bool> {
        let ret = self.call::<procs::NetworkIsActive>(&RemoteNetworkIsActiveArgs {
            net: network_to_remote(net),
        })?;
        Ok(ret.active != 0)
    }

    fn network_is_persistent(&self, net: &Network) -> Result<bool> {
        let ret = self.call::<procs::NetworkIsPersistent>(&RemoteNetworkIsPersistentArgs {
            net: network_to_remote(net),
        })?;
        Ok(ret.persistent != 0)
    }

    fn network_bridge_name(&self, net: &Network) -> Result<String> {
        let ret = self.call::<procs::NetworkGetBridgeName>(&RemoteNetworkGetBridgeNameArgs {
            net: network_to_remote(net),
        })?;
        Ok(ret.name)
    }

    /// virNetworkUpdate. Until libvirt 8.x fixed it, `command` and `section` travelled swapped;
    /// libvirt's client asks the daemon (VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER)
    /// before every update and swaps them for a daemon that does not know the fix. So does
    /// this.
    fn update_network(
        &self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        let (command, section) =
            if supports_feature(self, FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER)? {
                (command, section)
            } else {
                (section, command)
            };
        self.call::<procs::NetworkUpdate>(&RemoteNetworkUpdateArgs {
            net: network_to_remote(net),
            command,
            section,
            parent_index,
            xml: xml.to_string(),
            flags,
        })
    }

    fn network_dhcp_leases(
        &self,
        net: &Network,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        let ret = self.call::<procs::NetworkGetDhcpLeases>(&RemoteNetworkGetDhcpLeasesArgs {
            net: network_to_remote(net),
            mac: mac.map(str::to_string),
            need_results: 1,
            flags,
        })?;
        Ok(ret.leases.into_iter().map(lease_from_remote).collect())
    }

    fn list_network_ports(&self, net: &Network, flags: u32) -> Result<Vec<NetworkPort>> {
        let ret = self.call::<procs::NetworkListAllPorts>(&RemoteNetworkListAllPortsArgs {
            network: network_to_remote(net),
            need_results: 1,
            flags,
        })?;
        Ok(ret
            .ports
            .into_iter()
            .map(network_port_from_remote)
            .collect())
    }

    fn lookup_network_port(&self, net: &Network, uuid: &Uuid) -> Result<NetworkPort> {
        let ret =
            self.call::<procs::NetworkPortLookupByUuid>(&RemoteNetworkPortLookupByUuidArgs {
                network: network_to_remote(net),
                uuid: uuid_to_remote(uuid),
            })?;
        Ok(network_port_from_remote(ret.port))
    }

    fn create_network_port(&self, net: &Network, xml: &str, flags: u32) -> Result<NetworkPort> {
        let ret = self.call::<procs::NetworkPortCreateXml>(&RemoteNetworkPortCreateXmlArgs {
            network: network_to_remote(net),
            xml: xml.to_string(),
            flags,
        })?;
        Ok(network_port_from_remote(ret.port))
    }

    fn network_port_xml(&self, port: &NetworkPort, flags: u32) -> Result<String> {
        let ret = self.call::<procs::NetworkPortGetXmlDesc>(&RemoteNetworkPortGetXmlDescArgs {
            port: network_port_to_remote(port),
            flags,
        })?;
        Ok(ret.xml)
    }

    fn delete_network_port(&self, port: &NetworkPort, flags: u32) -> Result<()> {
        self.call::<procs::NetworkPortDelete>(&RemoteNetworkPortDeleteArgs {
            port: network_port_to_remote(port),
            flags,
        })
    }

    /// virConnectNetworkEventRegisterAny: one callback registered with the daemon (filtered
    /// to `net` on its side, as libvirt's client asks), its events handed to `sink` until
    /// `timeout` passes or `sink` says stop, then deregistered.
    fn network_events(
        &self,
        net: Option<&Network>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(NetworkEvent) -> bool,
    ) -> Result<()> {
        let ret = self.call::<procs::ConnectNetworkEventRegisterAny>(
            &RemoteConnectNetworkEventRegisterAnyArgs {
                event_id: NETWORK_EVENT_ID_LIFECYCLE,
                net: net.map(network_to_remote),
            },
        )?;
        let callback_id = ret.callback_id;
        let watched = watch_network_events(self, callback_id, net, timeout, sink);
        let deregistered = self.call::<procs::ConnectNetworkEventDeregisterAny>(
            &RemoteConnectNetworkEventDeregisterAnyArgs { callback_id },
        );
        watched.and(deregistered)
    }
}

/// The event loop of [`network_events`](virtsh_api::NetworkDriver::network_events).
/// Events that are not this callback's (left over from an earlier watch) are dropped.
fn watch_network_events(
    drv: &RemoteDriver,
    callback_id: i32,
    net: Option<&Network>,
    timeout: Option<Duration>,
    sink: &mut dyn FnMut(NetworkEvent) -> bool,
) -> Result<()> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(EVENT_POLL),
                _ => return Ok(()),
            },
            None => EVENT_POLL,
        };
        let event = {
            let session = drv.session()?;
            session.client.wait_event(wait).map_err(Error::from)?
        };
        let Some(event) = event else { continue };
        if event.header.prog != procs::NetworkEventLifecycle::PROGRAM
            || event.header.proc != procs::NetworkEventLifecycle::PROC
        {
            continue;
        }
        let msg: RemoteNetworkEventLifecycleMsg = event
            .decode()
            .map_err(|e| Error::from(crate::RemoteError::Decode(e)))?;
        if msg.callback_id != callback_id {
            continue;
        }
        let network = network_from_remote(msg.net);
        // libvirt's client filters by UUID as well (virObjectEventStateRegisterID).
        if net.is_some_and(|n| n.uuid != network.uuid) {
            continue;
        }
        let more = sink(NetworkEvent::Lifecycle {
            network,
            event: msg.event,
            detail: msg.detail,
        });
        if !more {
            return Ok(());
        }
    }
}

fn lease_from_remote(l: RemoteNetworkDhcpLease) -> DhcpLease {
    DhcpLease {
        iface: l.iface,
        expirytime: l.expirytime,
        kind: l.r#type,
        mac: l.mac,
        iaid: l.iaid,
        ipaddr: l.ipaddr,
        prefix: l.prefix,
        hostname: l.hostname,
        clientid: l.clientid,
    }
}
