//! Network ports (virNetworkPort*): where guest NICs are plugged into a running network, as
//! libvirt's bridge_driver.c keeps them (networkPortCreateXML, networkAllocatePort,
//! networkNotifyPort, networkReleasePort, networkPortDelete, networkListAllPorts).
//!
//! A port lives as long as its network runs: `RUN/NETWORK.ports/UUID.xml` holds its
//! `<networkport>` (written atomically, under the network's lock), and `net-destroy` removes
//! the directory, as libvirt's virNetworkObjDeleteAllPorts does. The port count is the
//! `connections` libvirt shows in the live network XML.
//!
//! What libvirt's allocation does on the host and virtsh does not: tc classes for a port's
//! bandwidth 'floor' (refused, since virtsh applies no network QoS), the MAC table of
//! `macTableManager='libvirt'` bridges, and network hook scripts.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use uuid::Uuid;
use virtsh_api::flags;
use virtsh_api::{Error, ErrorKind, Network, NetworkPort, Result};
use virtsh_xml::network::{canonical_mac, NetworkPortDef, PortPlug};
use virtsh_xml::NetworkDef;

use super::port_alloc::{allocate, notify_port};
use super::{failed, NetworkHost, NetworkView};

/// VIR_NETWORK_PORT_CREATE_RECLAIM: the port is already plugged in (its `<plug>` says where);
/// only record it.
const CREATE_RECLAIM: u32 = 1 << 0;
/// VIR_NETWORK_PORT_CREATE_VALIDATE: the schema check libvirt offers; virtsh's parser is as
/// strict with or without it.
const CREATE_VALIDATE: u32 = 1 << 1;

fn not_active(name: &str) -> Error {
    Error::invalid_op(format!("network '{name}' is not active"))
}

fn no_port(uuid: &Uuid) -> Error {
    Error::new(
        ErrorKind::NoNetworkPort,
        format!(
            "Network port with UUID {} does not exist",
            uuid.hyphenated()
        ),
    )
}

impl NetworkHost {
    fn ports_dir(&self, network: &str) -> PathBuf {
        self.paths.run.join(format!("{network}.ports"))
    }

    fn port_path(&self, network: &str, uuid: &Uuid) -> PathBuf {
        self.ports_dir(network)
            .join(format!("{}.xml", uuid.hyphenated()))
    }

    /// The port `uuid` of `network`, or libvirt's "does not exist".
    fn read_port(&self, network: &str, uuid: &Uuid) -> Result<NetworkPortDef> {
        let path = self.port_path(network, uuid);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_port(uuid)),
            Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
        };
        NetworkPortDef::parse(&text).map_err(|e| {
            Error::internal(format!(
                "corrupt network port {}: {}",
                path.display(),
                e.libvirt_message("networkport_definition", &text)
            ))
        })
    }

    /// Every port of `network`, by UUID. A file that cannot be read is reported on stderr by
    /// name and skipped (libvirt's virNetworkObjLoadAllPorts warns the same way), so the other
    /// ports still list.
    fn read_ports(&self, network: &str) -> Result<Vec<NetworkPortDef>> {
        let dir = self.ports_dir(network);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(failed(format!("{}: {e}", dir.display()))),
        };
        let mut ports = Vec::new();
        for entry in entries.flatten() {
            let file = entry.file_name();
            // Only `UUID.xml`: the atomic writer's temporary files start with a dot.
            let Some(uuid) = file
                .to_str()
                .and_then(|f| f.strip_suffix(".xml"))
                .and_then(|u| Uuid::try_parse(u).ok())
            else {
                continue;
            };
            match self.read_port(network, &uuid) {
                Ok(p) => ports.push(p),
                Err(e) if e.kind == ErrorKind::NoNetworkPort => {}
                Err(e) => eprintln!("warning: skipping network port: {}", e.message),
            }
        }
        ports.sort_by_key(|p| p.uuid);
        Ok(ports)
    }

    /// How many guests are plugged into `network`: libvirt's `connections`.
    pub(crate) fn port_count(&self, network: &str) -> Result<u32> {
        let n = self.read_ports(network)?.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Forget every port of a network that stops (virNetworkObjDeleteAllPorts). A failure is a
    /// warning: the network is stopping whatever happens, and a later start ignores nothing
    /// but these files.
    pub(crate) fn remove_ports(&self, network: &str) {
        let dir = self.ports_dir(network);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("warning: Unable to delete {}: {e}", dir.display()),
        }
    }

    /// Record a new port (virNetworkObjAddPort): refused when its UUID is taken.
    fn add_port(&self, network: &str, port: &NetworkPortDef) -> Result<()> {
        let path = self.port_path(network, &port.uuid);
        if path.exists() {
            // libvirt's VIR_ERR_NETWORK_PORT_EXIST puts its detail inside "network port %s
            // exists already", so the words repeat; virsh prints exactly this.
            return Err(Error::raw(
                ErrorKind::NetworkPortExist,
                format!(
                    "network port Network port with UUID {} already exists exists already",
                    port.uuid.hyphenated()
                ),
            ));
        }
        let dir = self.ports_dir(network);
        // Private like the rest of the runtime directory.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        virtsh_state::atomic::write(&path, port.to_xml().as_bytes())
            .map_err(|e| failed(e.to_string()))
    }

    fn delete_port_file(&self, network: &str, uuid: &Uuid) -> Result<()> {
        let path = self.port_path(network, uuid);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::raw(
                ErrorKind::SystemError,
                format!("Unable to delete {}: {e}", path.display()),
            )),
        }
    }

    /// The live definition of an active network, or libvirt's "is not active".
    fn active_def<'v>(&self, v: &'v NetworkView) -> Result<&'v NetworkDef> {
        match &v.live {
            Some(d) if v.active() => Ok(d),
            _ => Err(not_active(&v.name)),
        }
    }

    pub(crate) fn list_ports(&self, net: &Network, f: u32) -> Result<Vec<NetworkPort>> {
        flags::check(f, 0, "networkListAllPorts")?;
        let v = self.view_of(net)?;
        self.active_def(&v)?;
        Ok(self
            .read_ports(&net.name)?
            .into_iter()
            .map(|p| NetworkPort {
                network: v.handle(),
                uuid: p.uuid,
            })
            .collect())
    }

    pub(crate) fn lookup_port(&self, net: &Network, uuid: &Uuid) -> Result<NetworkPort> {
        let v = self.view_of(net)?;
        self.read_port(&net.name, uuid)?;
        self.active_def(&v)?;
        Ok(NetworkPort {
            network: v.handle(),
            uuid: *uuid,
        })
    }

    pub(crate) fn create_port(&self, net: &Network, xml: &str, f: u32) -> Result<NetworkPort> {
        flags::check(f, CREATE_RECLAIM | CREATE_VALIDATE, "networkPortCreateXML")?;
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        let mut port =
            NetworkPortDef::parse(xml).map_err(|e| e.api_error("networkport_definition", xml))?;
        let def = self.active_def(&v)?;
        let reclaim = f & CREATE_RECLAIM != 0;
        match (&port.plug, reclaim) {
            (PortPlug::None, true) => {
                return Err(Error::invalid_arg(
                    "Port reclaim requested but plug type is none",
                ))
            }
            (PortPlug::None, false) => {}
            (_, false) => {
                return Err(Error::invalid_arg(
                    "Port reclaim not requested but plug type is not none",
                ))
            }
            (_, true) => {}
        }
        if reclaim {
            notify_port(def, &port)?;
        } else {
            allocate(def, &mut port)?;
        }
        self.add_port(&net.name, &port)?;
        Ok(NetworkPort {
            network: v.handle(),
            uuid: port.uuid,
        })
    }

    pub(crate) fn port_xml(&self, port: &NetworkPort, f: u32) -> Result<String> {
        flags::check(f, 0, "networkPortGetXMLDesc")?;
        let v = self.view_of(&port.network)?;
        let def = self.read_port(&v.name, &port.uuid)?;
        self.active_def(&v)?;
        Ok(def.to_xml())
    }

    pub(crate) fn delete_port(&self, port: &NetworkPort, f: u32) -> Result<()> {
        flags::check(f, 0, "networkPortDelete")?;
        let _lock = self.lock(&port.network.name)?;
        let v = self.view_of(&port.network)?;
        self.read_port(&v.name, &port.uuid)?;
        self.active_def(&v)?;
        // networkReleasePort: nothing to undo on the host for the plugs virtsh makes (no QoS
        // classes, no MAC table, no hooks).
        self.delete_port_file(&v.name, &port.uuid)
    }

    /// Plug a guest NIC into network `network`: a port owned by the guest; returns the port's
    /// UUID and the bridge to join.
    ///
    /// For the QEMU driver when a guest with `<interface type='network'>` starts (libvirt's
    /// virDomainNetAllocateActualDevice). The network must be active; `mac` is the guest NIC's
    /// address; `portgroup` picks the network's portgroup (None: its default one).
    pub fn allocate_port(
        &self,
        network: &str,
        owner_name: &str,
        owner_uuid: Uuid,
        mac: &str,
        portgroup: Option<&str>,
    ) -> Result<(Uuid, String)> {
        let mac = canonical_mac(mac)
            .ok_or_else(|| Error::invalid_arg(format!("unable to parse mac address '{mac}'")))?;
        if virtsh_state::validate_name(network).is_err() {
            return Err(super::no_network(network));
        }
        let _lock = self.lock(network)?;
        let v = self.view(network)?;
        let def = self.active_def(&v)?;
        let mut port = NetworkPortDef::new(Uuid::new_v4(), owner_name, owner_uuid, &mac);
        port.group = portgroup.map(str::to_string);
        allocate(def, &mut port)?;
        let bridge = port.plug.bridge().map(str::to_string).ok_or_else(|| {
            Error::internal(format!(
                "network '{network}' gave a '{}' plug, not a bridge",
                port.plug.type_name()
            ))
        })?;
        self.add_port(network, &port)?;
        Ok((port.uuid, bridge))
    }

    /// Unplug: remove the port (a missing one or an inactive network is not an error).
    ///
    /// For the QEMU driver when the guest stops or the NIC is unplugged: by then the network
    /// may have been destroyed (its ports went with it) or even undefined.
    pub fn release_port(&self, network: &str, port: Uuid) -> Result<()> {
        // An invalid name cannot have ports (and must not become a lock file name).
        if virtsh_state::validate_name(network).is_err() {
            return Ok(());
        }
        let _lock = self.lock(network)?;
        let v = match self.view(network) {
            Ok(v) => v,
            Err(e) if e.kind == ErrorKind::NoNetwork => return Ok(()),
            Err(e) => return Err(e),
        };
        if !v.active() {
            return Ok(());
        }
        self.delete_port_file(network, &port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::port_alloc::merge3;
    use virtsh_xml::network::VirtualPortDef;

    fn net(xml: &str) -> NetworkDef {
        NetworkDef::parse(xml).expect("network XML")
    }

    fn port(body: &str) -> NetworkPortDef {
        NetworkPortDef::parse(&format!(
            "<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid>\
             <owner><name>g</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>\
             <mac address='52:54:00:7b:35:93'/>{body}</networkport>"
        ))
        .expect("port XML")
    }

    /// An "active" network as the driver sees it: its status record, with nothing made on
    /// the host (allocation itself touches no host resource).
    fn host_with_running(name: &str, xml: &str) -> (NetworkHost, std::path::PathBuf) {
        use super::super::status::{NetworkStatus, Phase};
        let root = std::env::temp_dir().join(format!("vt-ports-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let uri = virtsh_api::Uri::parse(&format!("qemu:///embed?root={}", root.display()))
            .expect("embed URI");
        let host = NetworkHost::open(&uri).expect("open");
        std::fs::create_dir_all(&host.paths.run).expect("run dir");
        NetworkStatus {
            phase: Phase::Active,
            def_xml: net(xml).to_xml(&virtsh_xml::NetworkFormatOptions { inactive: false }),
            created_bridge: None,
            firewall: None,
            dnsmasq: false,
        }
        .write(&host.paths.run, name)
        .expect("status");
        (host, root)
    }

    #[test]
    fn guest_ports_are_allocated_and_released() {
        use virtsh_api::NetworkDriver;
        let (host, root) = host_with_running(
            "gp",
            "<network><name>gp</name><bridge name='vtbr5'/>\
             <portgroup name='web'><vlan><tag id='3'/></vlan></portgroup></network>",
        );
        let owner = Uuid::new_v4();
        let (a, bridge) = host
            .allocate_port("gp", "guest1", owner, "52:54:00:AA:BB:01", Some("web"))
            .expect("allocate");
        assert_eq!(bridge, "vtbr5");
        let (b, _) = host
            .allocate_port("gp", "guest2", owner, "52:54:00:aa:bb:02", None)
            .expect("allocate");
        let handle = host.lookup_network_by_name("gp").expect("network");
        let mut listed: Vec<Uuid> = host
            .list_network_ports(&handle, 0)
            .expect("list")
            .into_iter()
            .map(|p| p.uuid)
            .collect();
        listed.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(listed, want);
        let xml = host
            .network_port_xml(
                &NetworkPort {
                    network: handle.clone(),
                    uuid: a,
                },
                0,
            )
            .expect("port XML");
        assert!(xml.contains("<name>guest1</name>"), "{xml}");
        assert!(xml.contains("<group>web</group>"), "{xml}");
        assert!(xml.contains("<mac address='52:54:00:aa:bb:01'/>"), "{xml}");
        assert!(xml.contains("<tag id='3'/>"), "{xml}");
        assert!(host
            .network_xml(&handle, 0)
            .expect("XML")
            .starts_with("<network connections='2'>"));
        assert!(host
            .network_xml(&handle, 1)
            .expect("XML")
            .starts_with("<network>"));

        host.release_port("gp", a).expect("release");
        // Releasing twice, or from a network that is gone, is not an error.
        host.release_port("gp", a).expect("release again");
        host.release_port("nosuch", a)
            .expect("release from no network");
        host.release_port("../x", a)
            .expect("release from an impossible network");
        assert_eq!(
            host.allocate_port("../x", "g", owner, "52:54:00:aa:bb:03", None)
                .unwrap_err()
                .message,
            "Network not found: no network with matching name '../x'"
        );
        assert!(host
            .network_xml(&handle, 0)
            .expect("XML")
            .starts_with("<network connections='1'>"));
        assert_eq!(
            host.allocate_port("gp", "g", owner, "nonsense", None)
                .unwrap_err()
                .message,
            "invalid argument: unable to parse mac address 'nonsense'"
        );

        // Destroying the network forgets its ports; allocating then needs it running.
        assert!(root.join("run/network/gp.ports").is_dir());
        host.destroy_network(&handle).expect("destroy");
        assert!(!root.join("run/network/gp.ports").exists());
        host.release_port("gp", b).expect("release after destroy");
        assert_eq!(
            host.allocate_port("gp", "g", owner, "52:54:00:aa:bb:03", None)
                .unwrap_err()
                .message,
            "Network not found: no network with matching name 'gp'"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn isolated_network_plugs_its_bridge_with_portgroup_settings() {
        let def = net("<network><name>n</name>\
             <bridge name='virbr9' macTableManager='libvirt'/>\
             <vlan><tag id='7'/></vlan>\
             <portgroup name='web' default='yes' trustGuestRxFilters='yes'>\
               <bandwidth><outbound average='128'/></bandwidth></portgroup>\
             <portgroup name='db'><vlan><tag id='9'/></vlan></portgroup></network>");
        let mut p = port("");
        allocate(&def, &mut p).expect("allocate");
        assert_eq!(
            p.plug,
            PortPlug::Network {
                bridge: "virbr9".into(),
                mac_table_manager: Some("libvirt".into())
            }
        );
        // The default portgroup's settings, the network's vlan.
        assert_eq!(p.trust_guest_rx_filters, Some(true));
        assert!(p.bandwidth.is_some());
        assert_eq!(p.vlan.as_ref().map(|v| v.tags.clone()), Some(vec![7]));

        let mut p = port("<group>db</group>");
        allocate(&def, &mut p).expect("allocate");
        assert_eq!(p.vlan.as_ref().map(|v| v.tags.clone()), Some(vec![9]));
        assert_eq!(p.trust_guest_rx_filters, None);
        assert!(p
            .to_xml()
            .contains("<plug type='network' bridge='virbr9' macTableManager='libvirt'/>"));
    }

    #[test]
    fn host_bridge_plugs_as_bridge_and_accepts_only_openvswitch() {
        let def =
            net("<network><name>h</name><forward mode='bridge'/><bridge name='br0'/></network>");
        let mut p = port("<virtualport type='openvswitch'/>");
        allocate(&def, &mut p).expect("allocate");
        assert_eq!(p.plug.bridge(), Some("br0"));
        assert_eq!(p.plug.type_name(), "bridge");
        // The switch's interface id is generated, as libvirt does.
        assert!(p
            .virtualport
            .as_ref()
            .is_some_and(|v| v.interface_id.is_some()));

        let mut p = port("<virtualport type='802.1Qbh'><parameters profileid='x'/></virtualport>");
        assert_eq!(
            allocate(&def, &mut p).unwrap_err().message,
            "unsupported configuration: <virtualport type='802.1Qbh'> not supported for network 'h' which uses a bridge device"
        );
    }

    #[test]
    fn refusals_are_libvirts() {
        let def = net("<network><name>n</name><bridge name='virbr9'/></network>");
        let mut p = port("<virtualport type='openvswitch'/>");
        assert_eq!(
            allocate(&def, &mut p).unwrap_err().message,
            "unsupported configuration: <virtualport type='openvswitch'> not supported for network 'n' which uses IP forwarding"
        );
        let mut p = port("<bandwidth><inbound average='10' floor='5'/></bandwidth>");
        assert_eq!(
            allocate(&def, &mut p).unwrap_err().message,
            "Operation not supported: Invalid use of 'floor' on interface with MAC address 52:54:00:7b:35:93 - network 'n' has no inbound QoS set"
        );
        let a = VirtualPortDef {
            vport_type: Some("802.1Qbg".into()),
            manager_id: Some(1),
            ..Default::default()
        };
        let b = VirtualPortDef {
            manager_id: Some(2),
            ..Default::default()
        };
        assert_eq!(
            merge3(Some(&a), Some(&b), None).unwrap_err().message,
            "XML error: attempt to merge virtualports with mismatched managerids (1 and 2)"
        );
        assert_eq!(
            notify_port(&def, &port("<plug type='direct' dev='eth0'/>"))
                .unwrap_err()
                .message,
            "internal error: network 'n' doesn't have dev='eth0' in use by network port '5d744f21-ba4a-4d6e-bdb2-30a35ff3207d'"
        );
        assert!(notify_port(&def, &port("<plug type='bridge' bridge='virbr9'/>")).is_ok());
    }
}
