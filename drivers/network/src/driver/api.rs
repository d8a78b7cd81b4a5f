//! The virNetwork* calls of the embedded network driver (networkXxx in libvirt's
//! bridge_driver.c), with libvirt's flag checks and messages.

use virtsh_api::flags::{self, list_networks as lf};
use virtsh_api::{DhcpLease, Error, Network, NetworkDriver, NetworkEvent, NetworkPort, Result};
use virtsh_xml::NetworkFormatOptions;

use super::{failed, NetworkHost, NetworkView};
use crate::dnsmasq;

/// VIR_NETWORK_DEFINE_VALIDATE / VIR_NETWORK_CREATE_VALIDATE: the schema check libvirt offers;
/// virtsh's parser is as strict with or without it.
const VALIDATE: u32 = 1 << 0;
/// VIR_NETWORK_XML_INACTIVE
const XML_INACTIVE: u32 = 1 << 0;

fn matches(v: &NetworkView, autostart: bool, f: u32) -> bool {
    let pick = |a: u32, b: u32, yes: bool| {
        f & (a | b) == 0 || f & (a | b) == a | b || (f & a != 0 && yes) || (f & b != 0 && !yes)
    };
    pick(lf::ACTIVE, lf::INACTIVE, v.active())
        && pick(lf::PERSISTENT, lf::TRANSIENT, v.persistent.is_some())
        && pick(lf::AUTOSTART, lf::NO_AUTOSTART, autostart)
}

impl NetworkDriver for NetworkHost {
    fn list_all_networks(&self, f: u32) -> Result<Vec<Network>> {
        flags::check(f, 0x3F, "networkConnectListAllNetworks")?;
        Ok(self
            .views()?
            .iter()
            .filter(|v| matches(v, self.autostart_link(&v.name).exists(), f))
            .map(NetworkView::handle)
            .collect())
    }

    fn lookup_network_by_name(&self, name: &str) -> Result<Network> {
        Ok(self.view(name)?.handle())
    }

    fn lookup_network_by_uuid(&self, uuid: &uuid::Uuid) -> Result<Network> {
        self.views()?
            .iter()
            .find(|v| v.current().uuid == *uuid)
            .map(NetworkView::handle)
            .ok_or_else(|| {
                Error::new(
                    virtsh_api::ErrorKind::NoNetwork,
                    format!("no network with matching uuid '{}'", uuid.hyphenated()),
                )
            })
    }

    fn network_xml(&self, net: &Network, f: u32) -> Result<String> {
        flags::check(f, XML_INACTIVE, "networkGetXMLDesc")?;
        let v = self.view_of(net)?;
        let def = match (&v.persistent, f & XML_INACTIVE != 0) {
            (Some(p), true) => p,
            _ => v.current(),
        };
        // libvirt's live XML counts the guests plugged in (`connections`), from the ports.
        let mut def = def.clone();
        if v.active() && f & XML_INACTIVE == 0 {
            def.connections = Some(self.port_count(&net.name)?).filter(|n| *n > 0);
        }
        Ok(def.to_xml(&NetworkFormatOptions {
            inactive: f & XML_INACTIVE != 0,
        }))
    }

    fn define_network(&self, xml: &str, f: u32) -> Result<Network> {
        flags::check(f, VALIDATE, "networkDefineXMLFlags")?;
        let mut def = self.parse_new(xml)?;
        let _lock = self.lock(&def.name)?;
        self.check_identity(&def)?;
        self.fill_in(&mut def)?;
        self.write_config(&def)?;
        Ok(Network {
            name: def.name.clone(),
            uuid: def.uuid,
        })
    }

    fn create_network(&self, xml: &str, f: u32) -> Result<Network> {
        flags::check(f, VALIDATE, "networkCreateXMLFlags")?;
        let mut def = self.parse_new(xml)?;
        let _lock = self.lock(&def.name)?;
        self.check_identity(&def)?;
        if let Ok(v) = self.view(&def.name) {
            if v.active() {
                return Err(Error::invalid_op(format!(
                    "network is already active as '{}'",
                    def.name
                )));
            }
        }
        self.fill_in(&mut def)?;
        self.start_on_host(&def)?;
        Ok(Network {
            name: def.name.clone(),
            uuid: def.uuid,
        })
    }

    /// libvirt lets an active network be undefined: it keeps running as a transient one.
    fn undefine_network(&self, net: &Network) -> Result<()> {
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        if v.persistent.is_none() {
            // networkUndefine's words.
            return Err(Error::invalid_op("can't undefine transient network"));
        }
        let _ = std::fs::remove_file(self.autostart_link(&net.name));
        self.store.remove(&net.name).map_err(super::state_error)?;
        if !v.active() {
            self.forget_dnsmasq_files(&net.name);
        }
        Ok(())
    }

    fn start_network(&self, net: &Network) -> Result<()> {
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        if let Some(status) = &v.status {
            // An active network whose dnsmasq died is repaired rather than refused: that is
            // what a user running net-start after seeing net-info's warning wants.
            let live = v.current();
            let dnsmasq_dead = status.dnsmasq
                && status.phase == super::status::Phase::Active
                && dnsmasq::running(&self.dnsmasq_files(&net.name)).is_none();
            if dnsmasq_dead {
                let bridge = status.created_bridge.clone().unwrap_or_default();
                return self.start_dnsmasq(live, &bridge);
            }
            return Err(Error::invalid_op("network is already active"));
        }
        let Some(def) = v.persistent else {
            return Err(failed(format!("network '{}' has no definition", net.name)));
        };
        self.start_on_host(&def)
    }

    fn destroy_network(&self, net: &Network) -> Result<()> {
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        let Some(status) = &v.status else {
            return Err(Error::invalid_op(format!(
                "network '{}' is not active",
                net.name
            )));
        };
        let result = self.stop_on_host(&net.name, status);
        if v.persistent.is_none() {
            self.forget_dnsmasq_files(&net.name);
        }
        result
    }

    fn network_autostart(&self, net: &Network) -> Result<bool> {
        self.view_of(net)?;
        Ok(self.autostart_link(&net.name).exists())
    }

    fn set_network_autostart(&self, net: &Network, on: bool) -> Result<()> {
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        if v.persistent.is_none() {
            return Err(Error::invalid_op(
                "cannot set autostart for transient network",
            ));
        }
        let link = self.autostart_link(&net.name);
        if on {
            if link.exists() {
                return Ok(());
            }
            let dir = self.paths.config.join("autostart");
            std::fs::create_dir_all(&dir).map_err(|e| {
                failed(format!(
                    "cannot create autostart directory '{}': {e}",
                    dir.display()
                ))
            })?;
            let target = self.paths.config.join(format!("{}.xml", net.name));
            std::os::unix::fs::symlink(&target, &link).map_err(|e| {
                failed(format!(
                    "Failed to create symlink '{}' to '{}': {e}",
                    link.display(),
                    target.display()
                ))
            })
        } else {
            match std::fs::remove_file(&link) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(failed(format!(
                    "Failed to delete symlink '{}': {e}",
                    link.display()
                ))),
            }
        }
    }

    fn network_is_active(&self, net: &Network) -> Result<bool> {
        Ok(self.view_of(net)?.active())
    }

    fn network_is_persistent(&self, net: &Network) -> Result<bool> {
        Ok(self.view_of(net)?.persistent.is_some())
    }

    fn network_bridge_name(&self, net: &Network) -> Result<String> {
        let v = self.view_of(net)?;
        let def = v.current();
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

    fn network_health(&self, net: &Network) -> Result<Vec<String>> {
        let v = self.view_of(net)?;
        Ok(match &v.status {
            Some(s) => self.problems(&net.name, s),
            None => Vec::new(),
        })
    }

    fn update_network(
        &self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        f: u32,
    ) -> Result<()> {
        self.update(net, command, section, parent_index, xml, f)
    }

    fn network_dhcp_leases(
        &self,
        net: &Network,
        mac: Option<&str>,
        f: u32,
    ) -> Result<Vec<DhcpLease>> {
        flags::check(f, 0, "networkGetDHCPLeases")?;
        // networkGetDHCPLeases checks the MAC before it looks the network up.
        if let Some(m) = mac.filter(|m| virtsh_xml::network::parse_mac(m).is_none()) {
            return Err(Error::new(virtsh_api::ErrorKind::InvalidMac, m));
        }
        let v = self.view_of(net)?;
        self.leases(&v, mac)
    }

    fn list_network_ports(&self, net: &Network, f: u32) -> Result<Vec<NetworkPort>> {
        self.list_ports(net, f)
    }

    fn lookup_network_port(&self, net: &Network, uuid: &uuid::Uuid) -> Result<NetworkPort> {
        self.lookup_port(net, uuid)
    }

    fn create_network_port(&self, net: &Network, xml: &str, f: u32) -> Result<NetworkPort> {
        self.create_port(net, xml, f)
    }

    fn network_port_xml(&self, port: &NetworkPort, f: u32) -> Result<String> {
        self.port_xml(port, f)
    }

    fn delete_network_port(&self, port: &NetworkPort, f: u32) -> Result<()> {
        self.delete_port(port, f)
    }

    fn network_events(
        &self,
        net: Option<&Network>,
        timeout: Option<std::time::Duration>,
        sink: &mut dyn FnMut(NetworkEvent) -> bool,
    ) -> Result<()> {
        self.watch_events(net, timeout, sink)
    }
}
