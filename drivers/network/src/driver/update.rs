//! virNetworkUpdate for the embedded network driver (networkUpdate in bridge_driver.c): the
//! same live/config rules as the test driver, and then the host follows the live change:
//! dnsmasq re-reads its hosts files (SIGHUP) or restarts, and the firewall rules are
//! replaced when the addresses or forwarding they derive from changed.

use virtsh_api::flags::{self, net_update as uf, net_update_section as sec};
use virtsh_api::{Error, Network, Result};
use virtsh_xml::network::update_section;
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use super::status::Phase;
use super::{failed, NetworkHost};
use crate::{dnsmasq, firewall};

/// What the host must do after a live change of a section.
enum Follow {
    Nothing,
    /// New hosts files, then SIGHUP: dnsmasq re-reads dhcp-hostsfile and addn-hosts.
    ReloadDnsmasq,
    /// Its configuration file changed: dnsmasq reads that only when it starts.
    RestartDnsmasq,
    /// The rules derive from the addresses and forwarding: replace them.
    Firewall,
}

fn follow(section: u32) -> Follow {
    match section {
        sec::IP_DHCP_HOST | sec::DNS_HOST => Follow::ReloadDnsmasq,
        sec::IP_DHCP_RANGE | sec::DNS_TXT | sec::DNS_SRV => Follow::RestartDnsmasq,
        sec::IP | sec::FORWARD | sec::FORWARD_INTERFACE => Follow::Firewall,
        _ => Follow::Nothing,
    }
}

impl NetworkHost {
    pub(crate) fn update(
        &self,
        net: &Network,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        f: u32,
    ) -> Result<()> {
        flags::check(f, uf::AFFECT_LIVE | uf::AFFECT_CONFIG, "networkUpdate")?;
        let _lock = self.lock(&net.name)?;
        let v = self.view_of(net)?;
        let (affect_live, affect_config) = uf::targets(f, v.active(), v.persistent.is_some())?;
        // Both copies are computed before either is stored, so a change that fails for one
        // changes neither.
        let config = match (&v.persistent, affect_config) {
            (Some(p), true) => Some(updated(p, command, section, parent_index, xml)?),
            _ => None,
        };
        let live = match (&v.live, affect_live) {
            (Some(l), true) => Some(updated(l, command, section, parent_index, xml)?),
            _ => None,
        };
        if let (Some(new), Some(status)) = (&live, &v.status) {
            let mut status = status.clone();
            if status.phase != Phase::Active {
                return Err(Error::invalid_op(format!(
                    "network '{}' did not finish starting; destroy and start it again",
                    net.name
                )));
            }
            let bridge = status.created_bridge.clone().unwrap_or_default();
            match follow(section) {
                Follow::Nothing => {}
                Follow::ReloadDnsmasq if status.dnsmasq => {
                    let files = self.dnsmasq_files(&net.name);
                    let config =
                        dnsmasq::config(new, &bridge, &files).map_err(|e| failed(e.to_string()))?;
                    dnsmasq::write(&config, &files).map_err(|e| failed(e.to_string()))?;
                    dnsmasq::reload(&files).map_err(|e| failed(e.to_string()))?;
                }
                Follow::RestartDnsmasq if status.dnsmasq => {
                    dnsmasq::stop(&self.dnsmasq_files(&net.name))
                        .map_err(|e| failed(e.to_string()))?;
                    self.start_dnsmasq(new, &bridge)?;
                }
                Follow::ReloadDnsmasq | Follow::RestartDnsmasq => {}
                Follow::Firewall => {
                    if let Some(old) = status.firewall.take() {
                        firewall::remove_network_rules(&old).map_err(|e| failed(e.to_string()))?;
                        // Recorded at once: the old rules are gone whatever happens next.
                        status.write(&self.paths.run, &net.name).map_err(failed)?;
                        let added = firewall::add_network_rules(old.backend, new, &bridge)
                            .map_err(|e| failed(e.to_string()))?;
                        status.firewall = Some(added);
                    }
                }
            }
            status.def_xml = new.to_xml(&NetworkFormatOptions { inactive: false });
            status.write(&self.paths.run, &net.name).map_err(failed)?;
        }
        if let Some(def) = config {
            self.write_config(&def)?;
        }
        Ok(())
    }
}

/// `def` with the change applied.
fn updated(
    def: &NetworkDef,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
) -> Result<NetworkDef> {
    let mut def = def.clone();
    update_section(&mut def, command, section, parent_index, xml)?;
    Ok(def)
}
