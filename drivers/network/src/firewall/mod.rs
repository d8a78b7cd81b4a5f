//! The firewall rules of a virtual network, through nftables or iptables, as libvirt's network
//! driver adds them (libvirt ≥ 10.4 `network_nftables.c`, libvirt 9.0's iptables backend).
//!
//! [`add_network_rules`] adds a network's rules and returns a [`FirewallRemoval`]: the exact
//! commands that undo them, as data the caller stores with the network's runtime state.
//! [`remove_network_rules`] runs exactly those commands, never what this build would add, so a
//! network started by an older virtsh (or with a since-edited definition) is still cleaned up.
//!
//! - `rules`: what a network needs, independent of the backend (libvirt's rule list and order).
//! - `nftables`: everything in virtsh's own tables `ip virtsh_network` / `ip6 virtsh_network`.
//! - `iptables`: libvirt's private `LIBVIRT_*` chains, through `iptables`/`ip6tables`.
//! - `exec`: running the programs, and the host-wide lock that serialises virtsh processes.
//! - `conf`: the `firewall_backend` setting of a libvirt-style `network.conf`.
//!
//! Every command runs with argv (no shell) in the caller's network namespace.

mod conf;
mod exec;
mod iptables;
mod nftables;
mod rules;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use conf::parse_network_conf;

/// A firewall backend (`firewall_backend` in network.conf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Nftables,
    Iptables,
}

impl Backend {
    /// The backends in the order libvirt tries them when nothing is configured.
    pub const ALL: [Backend; 2] = [Backend::Nftables, Backend::Iptables];

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Nftables => "nftables",
            Backend::Iptables => "iptables",
        }
    }

    /// The programs this backend runs; all must be installed.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            Backend::Nftables => &["nft"],
            Backend::Iptables => &["iptables", "ip6tables"],
        }
    }

    /// Pick the backend: the configured one (`"nftables"` or `"iptables"`), which must have its
    /// programs installed, or with no setting the first installed one, nftables first.
    pub fn choose(setting: Option<&str>) -> Result<Backend, FirewallError> {
        match setting {
            Some(name) => {
                let backend = Backend::ALL
                    .into_iter()
                    .find(|b| b.as_str() == name.trim())
                    .ok_or_else(|| FirewallError::UnknownBackend(name.to_string()))?;
                if let Some(missing) = backend.missing_program() {
                    return Err(FirewallError::MissingProgram {
                        backend,
                        program: missing,
                    });
                }
                Ok(backend)
            }
            None => Backend::ALL
                .into_iter()
                .find(|b| b.missing_program().is_none())
                .ok_or(FirewallError::NoBackend),
        }
    }

    fn missing_program(self) -> Option<&'static str> {
        self.programs()
            .iter()
            .copied()
            .find(|p| crate::program::find(p).is_none())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The commands that remove one network's rules, in the order to run them (the reverse of the
/// order they were added). Each command is an argv; the program is `nft`, `iptables` or
/// `ip6tables`, looked up in `PATH` (and the sbin directories) when it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRemoval {
    pub backend: Backend,
    pub commands: Vec<Vec<String>>,
}

impl FirewallRemoval {
    /// A record with nothing to remove (an `open` network, or a mode without a firewall).
    pub fn empty(backend: Backend) -> FirewallRemoval {
        FirewallRemoval {
            backend,
            commands: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

/// A backend's addition: the removal commands, or on failure the removal commands of the rules
/// added before it (for the rollback) and the failure.
pub(crate) type AddResult = Result<Vec<Vec<String>>, (Vec<Vec<String>>, CommandFailure)>;

/// One command that failed: the command as a shell would show it, and why (its stderr, or its
/// exit status when it printed nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{command}' failed: {message}")]
pub struct CommandFailure {
    pub command: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("unknown firewall backend '{0}' (expected 'nftables' or 'iptables')")]
    UnknownBackend(String),
    #[error("the {backend} firewall backend needs '{program}', which is not installed")]
    MissingProgram {
        backend: Backend,
        program: &'static str,
    },
    #[error(
        "no firewall backend is available: neither nft (nftables) nor iptables and ip6tables are installed"
    )]
    NoBackend,
    #[error("network.conf line {line}: {message}")]
    Conf { line: usize, message: String },
    #[error("cannot build the firewall rules of network '{network}': {message}")]
    InvalidNetwork { network: String, message: String },
    #[error("timed out waiting for the firewall lock {path}")]
    LockTimeout { path: String },
    #[error("cannot add the firewall rules of network '{network}': {failure}{}", rollback_note(.rollback_failures))]
    AddFailed {
        network: String,
        failure: CommandFailure,
        /// Rules added before the failure that could not be removed again.
        rollback_failures: Vec<CommandFailure>,
    },
    #[error("{} of {total} firewall removal commands failed: {}", .failures.len(), join_failures(.failures))]
    RemoveFailed {
        total: usize,
        failures: Vec<CommandFailure>,
    },
}

fn join_failures(failures: &[CommandFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn rollback_note(failures: &[CommandFailure]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(
            "; removing the rules already added also failed: {}",
            join_failures(failures)
        )
    }
}

/// Add the rules of network `def`, whose bridge is `bridge` (it must exist: nftables matches it
/// by interface index, as libvirt does). Forward modes `none` (isolated), `nat` and `route` get
/// rules; `open` and the modes without a virtsh bridge get none (an empty record).
///
/// The shared table/chains are created when missing and are not part of the record. If a rule
/// fails, the ones added so far are removed again and the error says what failed.
pub fn add_network_rules(
    backend: Backend,
    def: &virtsh_xml::NetworkDef,
    bridge: &str,
) -> Result<FirewallRemoval, FirewallError> {
    let plan = rules::plan(def, bridge, backend == Backend::Iptables)?;
    if plan.rules.is_empty() {
        return Ok(FirewallRemoval::empty(backend));
    }
    let _lock = exec::HostLock::acquire()?;
    let added = match backend {
        Backend::Nftables => nftables::add(&plan),
        Backend::Iptables => iptables::add(&plan),
    };
    match added {
        Ok(commands) => Ok(FirewallRemoval { backend, commands }),
        Err((commands, failure)) => {
            let rollback_failures = run_removal(backend, &commands);
            Err(FirewallError::AddFailed {
                network: def.name.clone(),
                failure,
                rollback_failures,
            })
        }
    }
}

/// Run the commands of `removal`, all of them even when some fail (a rule already deleted by
/// hand), then, for nftables, delete virtsh's table of each family when it holds no network's
/// rules any more. `Err` lists what failed.
pub fn remove_network_rules(removal: &FirewallRemoval) -> Result<(), FirewallError> {
    if removal.commands.is_empty() {
        return Ok(());
    }
    let _lock = exec::HostLock::acquire()?;
    let failures = run_removal(removal.backend, &removal.commands);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(FirewallError::RemoveFailed {
            total: removal.commands.len(),
            failures,
        })
    }
}

/// Run removal commands (the caller holds the lock) and return the failures.
fn run_removal(backend: Backend, commands: &[Vec<String>]) -> Vec<CommandFailure> {
    let mut failures = Vec::new();
    let mut allowed = Vec::new();
    for argv in commands {
        // A record is data read back from a state file: run only removals by this backend's
        // own programs, so an edited or corrupt record cannot run anything else.
        match check_removal_command(backend, argv) {
            Ok(()) => allowed.push(argv),
            Err(reason) => failures.push(CommandFailure {
                command: crate::program::display(argv),
                message: format!("refused: {reason}"),
            }),
        }
    }
    match backend {
        Backend::Nftables => {
            failures.extend(nftables::remove(&allowed));
            failures.extend(nftables::delete_empty_tables());
        }
        Backend::Iptables => {
            failures.extend(allowed.iter().filter_map(|argv| exec::run(argv).err()));
        }
    }
    failures
}

fn check_removal_command(backend: Backend, argv: &[String]) -> Result<(), String> {
    let Some(program) = argv.first() else {
        return Err("empty command".into());
    };
    if !backend.programs().contains(&program.as_str()) {
        return Err(format!(
            "'{program}' is not a program of the {backend} backend"
        ));
    }
    let removes = match backend {
        Backend::Nftables => argv.get(1).is_some_and(|a| a == "delete"),
        Backend::Iptables => argv.iter().any(|a| a == "-D" || a == "--delete"),
    };
    if !removes {
        return Err("not a deletion".into());
    }
    // nft removals run as one script, where a newline or `;` in an argument would start
    // another command: they name tables, chains and handles, plain words all.
    let plain = |a: &String| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if backend == Backend::Nftables && !argv.iter().all(plain) {
        return Err("an argument that is not a plain word".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_backend_is_an_error() {
        let e = Backend::choose(Some("pf")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown firewall backend 'pf' (expected 'nftables' or 'iptables')"
        );
    }

    #[test]
    fn backend_serde_and_display() {
        let r = FirewallRemoval {
            backend: Backend::Nftables,
            commands: vec![vec!["nft".into(), "delete".into()]],
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"backend":"nftables","commands":[["nft","delete"]]}"#
        );
        assert_eq!(serde_json::from_str::<FirewallRemoval>(&json).unwrap(), r);
        assert_eq!(Backend::Iptables.to_string(), "iptables");
    }

    #[test]
    fn removal_commands_are_checked() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(
            check_removal_command(Backend::Nftables, &v("nft delete rule ip t c handle 1")).is_ok()
        );
        assert!(
            check_removal_command(Backend::Nftables, &v("nft add rule ip t c accept")).is_err()
        );
        assert!(check_removal_command(Backend::Nftables, &v("sh -c true")).is_err());
        let injected = vec![
            "nft".to_string(),
            "delete".into(),
            "rule".into(),
            "ip".into(),
            "t".into(),
            "c".into(),
            "handle".into(),
            "1\nadd rule ip t c accept".into(),
        ];
        assert!(check_removal_command(Backend::Nftables, &injected).is_err());
        assert!(check_removal_command(
            Backend::Iptables,
            &v("ip6tables -w -t filter -D X -j ACCEPT")
        )
        .is_ok());
        assert!(check_removal_command(
            Backend::Iptables,
            &v("iptables -w -t filter -I X -j ACCEPT")
        )
        .is_err());
        assert!(check_removal_command(Backend::Iptables, &v("nft delete table ip x")).is_err());
        assert!(check_removal_command(Backend::Iptables, &[]).is_err());
    }

    #[test]
    fn error_messages() {
        let f = CommandFailure {
            command: "nft delete rule ip virtsh_network guest_nat handle 9".into(),
            message: "Error: Could not process rule: No such file or directory".into(),
        };
        let e = FirewallError::RemoveFailed {
            total: 3,
            failures: vec![f.clone()],
        };
        assert_eq!(
            e.to_string(),
            "1 of 3 firewall removal commands failed: 'nft delete rule ip virtsh_network guest_nat handle 9' failed: Error: Could not process rule: No such file or directory"
        );
        let e = FirewallError::AddFailed {
            network: "default".into(),
            failure: f.clone(),
            rollback_failures: vec![],
        };
        assert!(e
            .to_string()
            .starts_with("cannot add the firewall rules of network 'default': 'nft"));
        let e = FirewallError::AddFailed {
            network: "default".into(),
            failure: f.clone(),
            rollback_failures: vec![f],
        };
        assert!(e
            .to_string()
            .contains("; removing the rules already added also failed: 'nft"));
    }
}
