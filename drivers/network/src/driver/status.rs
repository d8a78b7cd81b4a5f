//! The runtime record of an active network: `RUN/NAME.status`, JSON.
//!
//! It is written after each host resource is made, so a command that dies half-way through
//! `net-start` leaves a record of exactly what exists, and `net-destroy` undoes that, whatever
//! build of virtsh made it. The firewall entry holds the commands that remove the rules (see
//! [`crate::firewall`]), never a description to regenerate them from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::firewall::FirewallRemoval;

/// How far `net-start` got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Still being set up (or its starter died): the record lists what exists so far.
    Starting,
    Active,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkStatus {
    pub phase: Phase,
    /// The live definition, as `net-dumpxml` shows it.
    pub def_xml: String,
    /// The bridge virtsh created (None for `<forward mode='bridge'>`, whose bridge is the
    /// host's own and is never touched).
    pub created_bridge: Option<String>,
    pub firewall: Option<FirewallRemoval>,
    /// Whether this network runs a dnsmasq (its pid file names it).
    pub dnsmasq: bool,
}

impl NetworkStatus {
    pub fn path(run: &Path, name: &str) -> PathBuf {
        run.join(format!("{name}.status"))
    }

    /// `Ok(None)` when the network is not active; an error names the file when it is corrupt.
    pub fn read(run: &Path, name: &str) -> Result<Option<NetworkStatus>, String> {
        let path = Self::path(run, name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: corrupt network status: {e}", path.display()))
    }

    pub fn write(&self, run: &Path, name: &str) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        virtsh_state::atomic::write(&Self::path(run, name), &text).map_err(|e| e.to_string())
    }

    pub fn remove(run: &Path, name: &str) -> Result<(), String> {
        let path = Self::path(run, name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}
