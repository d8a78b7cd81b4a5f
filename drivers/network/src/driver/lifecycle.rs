//! Starting and stopping a network on the host (networkStartNetworkVirtual and
//! networkShutdownNetworkVirtual in libvirt): the bridge and its addresses, the forwarding
//! sysctls, the firewall rules and dnsmasq, each recorded in the status file as soon as it
//! exists, and undone from that record.

use std::net::IpAddr;

use virtsh_api::{Error, Result};
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use super::status::{NetworkStatus, Phase};
use super::{failed, NetworkHost};
use crate::bridge::{self, BridgeSpec};
use crate::dnsmasq::{self, DnsmasqFiles};
use crate::firewall;

impl NetworkHost {
    pub(crate) fn dnsmasq_files(&self, name: &str) -> DnsmasqFiles {
        DnsmasqFiles::new(&self.paths.lib, &self.paths.run, name)
    }

    /// Remove dnsmasq's files of a network that is gone for good (undefined, or a transient
    /// one destroyed), leases included.
    pub(crate) fn forget_dnsmasq_files(&self, name: &str) {
        if let Err(e) = dnsmasq::remove(&self.dnsmasq_files(name)) {
            eprintln!("warning: {e}");
        }
    }

    /// dnsmasq drops root for an unprivileged user and re-reads its hosts files as that user
    /// when `net-update` signals it, so the directories down to its files must be
    /// searchable by others. virtsh makes its state directories 0700; the ones above dnsmasq's
    /// files get search permission only (0711: nothing can be listed), as libvirt's
    /// `/var/lib/libvirt` is.
    fn open_path_for_dnsmasq(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        // The network directory and the one virtsh made above it (`DIR/lib`,
        // `/var/lib/virtsh`); higher ones are the user's, and dnsmasq's own check names them.
        for dir in self.paths.lib.ancestors().take(2) {
            let meta =
                std::fs::metadata(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
            let mode = meta.permissions().mode();
            if mode & 0o001 != 0 {
                continue;
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o011)).map_err(
                |e| {
                    failed(format!(
                        "cannot make {} searchable for dnsmasq: {e}",
                        dir.display()
                    ))
                },
            )?;
        }
        Ok(())
    }

    /// Make everything `def` needs on the host and record it. On failure, what was made is
    /// undone and the status file removed.
    pub(crate) fn start_on_host(&self, def: &NetworkDef) -> Result<()> {
        for dir in [&self.paths.run, &self.paths.lib] {
            std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        }
        let mut status = NetworkStatus {
            phase: Phase::Starting,
            def_xml: def.to_xml(&NetworkFormatOptions { inactive: false }),
            created_bridge: None,
            firewall: None,
            dnsmasq: false,
        };
        let result = self.build(def, &mut status);
        match result {
            Ok(()) => {
                status.phase = Phase::Active;
                self.record(&def.name, &status)
            }
            Err(e) => {
                // The error that stopped the start is the one to report; a failure while
                // undoing is only a warning, and the record stays if something is left.
                match self.teardown(&def.name, &status) {
                    Ok(()) => {
                        let _ = NetworkStatus::remove(&self.paths.run, &def.name);
                    }
                    Err(undo) => eprintln!("warning: {}", undo.message),
                }
                Err(e)
            }
        }
    }

    fn record(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        status.write(&self.paths.run, name).map_err(failed)
    }

    fn build(&self, def: &NetworkDef, status: &mut NetworkStatus) -> Result<()> {
        let host_err = |e: &dyn std::fmt::Display| failed(e.to_string());
        let mode = def.forward_mode();
        let bridge_def = def.bridge.clone().unwrap_or_default();
        let Some(br) = bridge_def.name.clone() else {
            return Err(Error::internal(format!(
                "network '{}' does not have a bridge name.",
                def.name
            )));
        };
        if mode == "bridge" {
            // A host bridge that someone else manages: it must exist, nothing else to do.
            if !bridge::link_exists(&br).map_err(|e| host_err(&e))? {
                return Err(failed(format!(
                    "bridge '{br}' of network '{}' does not exist on this host",
                    def.name
                )));
            }
            return Ok(());
        }
        self.record(&def.name, status)?;
        let mac = match &def.mac {
            Some(m) => Some(virtsh_xml::network::parse_mac(m).ok_or_else(|| {
                Error::internal(format!(
                    "invalid MAC address '{m}' of network '{}'",
                    def.name
                ))
            })?),
            None => None,
        };
        bridge::create_bridge(&BridgeSpec {
            name: &br,
            mac,
            mtu: def.mtu,
            stp: bridge_def.stp,
            delay_secs: bridge_def.delay,
        })
        .map_err(|e| host_err(&e))?;
        status.created_bridge = Some(br.clone());
        self.record(&def.name, status)?;

        let has_v6 = def
            .ips
            .iter()
            .any(|ip| matches!(ip.address, Some(IpAddr::V6(_))));
        let has_v4 = def
            .ips
            .iter()
            .any(|ip| matches!(ip.address, Some(IpAddr::V4(_))));
        bridge::set_ipv6_disabled(&br, !has_v6 && !def.ipv6).map_err(|e| host_err(&e))?;
        if has_v6 {
            // The bridge is the router of its subnet: it must not configure itself from
            // router advertisements on it (networkSetIPv6Sysctls).
            bridge::set_accept_ra(&br, 0).map_err(|e| host_err(&e))?;
            bridge::set_autoconf(&br, 0).map_err(|e| host_err(&e))?;
        }
        for ip in &def.ips {
            let Some(addr) = ip.address else { continue };
            let prefix = u8::try_from(ip.effective_prefix()).unwrap_or(0);
            bridge::add_address(&br, addr, prefix, None).map_err(|e| host_err(&e))?;
        }
        bridge::set_link_up(&br, true).map_err(|e| host_err(&e))?;
        if let Some(bw) = &def.bandwidth {
            // What the network sends to its guests leaves through the bridge: libvirt passes
            // "swapped" for the bridge too. The limits go with the bridge when it is deleted.
            crate::bandwidth::set(&br, bw, true).map_err(Error::from)?;
        }
        for r in &def.routes {
            let prefix = r.prefix.map_or_else(
                || r.netmask.map_or(0, prefix_of_mask),
                |p| u8::try_from(p).unwrap_or(0),
            );
            bridge::add_route(&br, r.address, prefix, r.gateway, r.metric.unwrap_or(1))
                .map_err(|e| host_err(&e))?;
        }

        if mode != "open" {
            let backend = self.firewall_backend()?;
            let removal =
                firewall::add_network_rules(backend, def, &br).map_err(|e| host_err(&e))?;
            status.firewall = Some(removal);
            self.record(&def.name, status)?;
        }
        if mode == "nat" || mode == "route" {
            if has_v4 {
                bridge::enable_ipv4_forwarding().map_err(|e| host_err(&e))?;
            }
            if has_v6 {
                bridge::enable_ipv6_forwarding().map_err(|e| host_err(&e))?;
            }
        }
        if dnsmasq::needed(def) {
            self.start_dnsmasq(def, &br)?;
            status.dnsmasq = true;
        }
        Ok(())
    }

    pub(crate) fn start_dnsmasq(&self, def: &NetworkDef, bridge: &str) -> Result<()> {
        self.open_path_for_dnsmasq()?;
        let files = self.dnsmasq_files(&def.name);
        let config = dnsmasq::config(def, bridge, &files).map_err(|e| failed(e.to_string()))?;
        dnsmasq::write(&config, &files).map_err(|e| failed(e.to_string()))?;
        dnsmasq::start(&files).map_err(|e| failed(e.to_string()))?;
        Ok(())
    }

    /// Undo what `status` records, in the reverse order of making it. Tries every step; the
    /// error lists what could not be undone.
    pub(crate) fn teardown(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        let mut problems = Vec::new();
        if status.dnsmasq {
            if let Err(e) = dnsmasq::stop(&self.dnsmasq_files(name)) {
                problems.push(e.to_string());
            }
        }
        if let Some(removal) = &status.firewall {
            if let Err(e) = firewall::remove_network_rules(removal) {
                problems.push(e.to_string());
            }
        }
        if let Some(br) = &status.created_bridge {
            match bridge::link_exists(br) {
                Ok(true) => {
                    if let Err(e) = bridge::delete_link(br) {
                        problems.push(e.to_string());
                    }
                }
                Ok(false) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(failed(format!(
                "network '{name}' was not stopped cleanly: {}",
                problems.join("; ")
            )))
        }
    }

    /// Stop an active network: undo its record and forget it. The record is removed even
    /// when some step failed (it is reported), since a second destroy could not do better.
    pub(crate) fn stop_on_host(&self, name: &str, status: &NetworkStatus) -> Result<()> {
        let result = self.teardown(name, status);
        self.remove_ports(name);
        NetworkStatus::remove(&self.paths.run, name).map_err(failed)?;
        result
    }

    /// What is wrong with an active network on the host: a dnsmasq that died, a bridge that
    /// is gone. Empty when it is healthy.
    pub(crate) fn problems(&self, name: &str, status: &NetworkStatus) -> Vec<String> {
        let mut out = Vec::new();
        if status.phase == Phase::Starting {
            out.push(format!(
                "network '{name}' did not finish starting; net-destroy cleans it up"
            ));
        }
        if let Some(br) = &status.created_bridge {
            if !bridge::link_exists(br).unwrap_or(true) {
                out.push(format!("bridge '{br}' of network '{name}' is gone"));
            }
        }
        if status.dnsmasq && dnsmasq::running(&self.dnsmasq_files(name)).is_none() {
            out.push(format!(
                "dnsmasq of network '{name}' is not running; net-start restarts it"
            ));
        }
        out
    }
}

fn prefix_of_mask(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => u32::from(m).count_ones(),
        IpAddr::V6(m) => u128::from(m).count_ones(),
    };
    u8::try_from(ones).unwrap_or(0)
}
