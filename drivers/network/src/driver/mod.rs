//! The embedded network driver: libvirt's virtual networks run by virtsh itself, with no
//! daemon (libvirt's `bridge_driver.c`). [`NetworkHost`] implements the api's
//! [`NetworkDriver`](virtsh_api::NetworkDriver) for the local connections (`qemu://`, `lxc://`
//! and their `embed?root=` forms), which all share one set of networks per root.
//!
//! - persistent definitions: `CONFIG/NAME.xml` ([`virtsh_state::ConfigStore`]), autostart
//!   links in `CONFIG/autostart/`, the firewall choice in `network.conf` beside `CONFIG`;
//! - an active network: `RUN/NAME.status` ([`status`]), holding the live definition and what
//!   was made on the host; a per-network lock (`RUN/NAME.lock`) serialises changes;
//! - dnsmasq's files in `LIB/` (configuration, hosts, leases) and its pid file in `RUN/`.

mod api;
mod define;
mod events;
mod leases;
mod lifecycle;
mod port_alloc;
mod ports;
pub mod status;
mod update;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use virtsh_api::{Error, ErrorKind, Network, Result, Uri};
use virtsh_state::{ConfigStore, ObjectLock, StateError, StatePaths};
use virtsh_xml::{NetworkDef, NetworkFormatOptions};

use crate::firewall::Backend;
use status::NetworkStatus;

/// How long a command waits for another one working on the same network.
const LOCK_WAIT: Duration = Duration::from_secs(30);

pub struct NetworkHost {
    paths: StatePaths,
    store: ConfigStore,
}

/// One network as the driver sees it: its persistent definition and its runtime record.
pub(crate) struct NetworkView {
    pub name: String,
    /// The stored definition (libvirt's newDef while active, def otherwise).
    pub persistent: Option<NetworkDef>,
    pub status: Option<NetworkStatus>,
    /// The live definition of an active network.
    pub live: Option<NetworkDef>,
}

impl NetworkView {
    /// What `net-dumpxml` shows without `--inactive`, and what identifies the network.
    pub fn current(&self) -> &NetworkDef {
        match (&self.live, &self.persistent) {
            (Some(d), _) | (None, Some(d)) => d,
            // A view is built only when one of the two exists.
            (None, None) => unreachable!("network view without definition"),
        }
    }

    pub fn handle(&self) -> Network {
        let d = self.current();
        Network {
            name: d.name.clone(),
            uuid: d.uuid,
        }
    }

    pub fn active(&self) -> bool {
        self.status.is_some()
    }
}

impl NetworkHost {
    /// The networks of a local connection URI. Creates the definition directory; starts
    /// nothing.
    pub fn open(uri: &Uri) -> Result<NetworkHost> {
        let paths = StatePaths::shared_for_uri(uri, "network").map_err(state_error)?;
        let name_of: virtsh_state::NameOf = Arc::new(|xml: &str| {
            NetworkDef::parse(xml)
                .map(|d| d.name)
                .map_err(|e| e.to_string())
        });
        let store = ConfigStore::open(&paths.config, "network", name_of).map_err(state_error)?;
        Ok(NetworkHost { paths, store })
    }

    pub fn paths(&self) -> &StatePaths {
        &self.paths
    }

    /// `network.conf` beside the definitions: `/etc/virtsh/network.conf` for system,
    /// `DIR/etc/network.conf` for `embed?root=DIR`.
    fn conf_path(&self) -> PathBuf {
        self.paths.config.with_extension("conf")
    }

    /// The firewall backend `network.conf` names, or the first one installed.
    pub(crate) fn firewall_backend(&self) -> Result<Backend> {
        let path = self.conf_path();
        let setting = match std::fs::read_to_string(&path) {
            Ok(text) => crate::firewall::parse_network_conf(&text).map_err(|e| {
                Error::new(
                    ErrorKind::ConfigUnsupported,
                    format!("{}: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(failed(format!("{}: {e}", path.display()))),
        };
        Backend::choose(setting.as_deref())
            .map_err(|e| Error::new(ErrorKind::ConfigUnsupported, e.to_string()))
    }

    fn lock(&self, name: &str) -> Result<ObjectLock> {
        std::fs::create_dir_all(&self.paths.run)
            .map_err(|e| failed(format!("{}: {e}", self.paths.run.display())))?;
        ObjectLock::acquire(&self.paths.run, name, LOCK_WAIT).map_err(state_error)
    }

    fn autostart_link(&self, name: &str) -> PathBuf {
        self.paths
            .config
            .join("autostart")
            .join(format!("{name}.xml"))
    }

    /// Every network name: the defined ones and the active transient ones.
    fn names(&self) -> Result<Vec<String>> {
        let mut names = self.store.names().map_err(state_error)?;
        if let Ok(entries) = std::fs::read_dir(&self.paths.run) {
            for e in entries.flatten() {
                let file = e.file_name();
                if let Some(n) = file.to_str().and_then(|f| f.strip_suffix(".status")) {
                    if !n.starts_with('.') && !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// The network called `name`, or libvirt's "no network with matching name".
    pub(crate) fn view(&self, name: &str) -> Result<NetworkView> {
        if virtsh_state::validate_name(name).is_err() {
            return Err(no_network(name));
        }
        let persistent = match self.store.read(name) {
            Ok(xml) => Some(parse_stored(
                &self.store.dir().join(format!("{name}.xml")),
                &xml,
            )?),
            Err(StateError::NotFound { .. }) => None,
            Err(e) => return Err(state_error(e)),
        };
        let status = NetworkStatus::read(&self.paths.run, name).map_err(Error::internal)?;
        let live = match &status {
            Some(s) => Some(parse_stored(
                &NetworkStatus::path(&self.paths.run, name),
                &s.def_xml,
            )?),
            None => None,
        };
        if persistent.is_none() && live.is_none() {
            return Err(no_network(name));
        }
        Ok(NetworkView {
            name: name.to_string(),
            persistent,
            status,
            live,
        })
    }

    /// The view of a handle, checking that it is still the same network (same UUID).
    pub(crate) fn view_of(&self, net: &Network) -> Result<NetworkView> {
        let v = self.view(&net.name)?;
        if v.current().uuid != net.uuid {
            return Err(no_network(&net.name));
        }
        Ok(v)
    }

    /// Every network that can be read; a corrupt one is reported on stderr by name and
    /// skipped, so the others still list.
    pub(crate) fn views(&self) -> Result<Vec<NetworkView>> {
        let mut out = Vec::new();
        for name in self.names()? {
            match self.view(&name) {
                Ok(v) => out.push(v),
                Err(e) if e.kind == ErrorKind::NoNetwork => {}
                Err(e) => eprintln!("warning: skipping network '{name}': {}", e.message),
            }
        }
        Ok(out)
    }

    fn write_config(&self, def: &NetworkDef) -> Result<()> {
        let xml = def.to_xml(&NetworkFormatOptions { inactive: true });
        self.store.write(&def.name, &xml).map_err(state_error)
    }
}

fn parse_stored(path: &std::path::Path, xml: &str) -> Result<NetworkDef> {
    NetworkDef::parse(xml).map_err(|e| {
        Error::internal(format!(
            "corrupt network definition {}: {e}",
            path.display()
        ))
    })
}

pub(crate) fn no_network(name: &str) -> Error {
    Error::new(
        ErrorKind::NoNetwork,
        format!("no network with matching name '{name}'"),
    )
}

pub(crate) fn failed(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::OperationFailed, msg)
}

pub(crate) fn state_error(e: StateError) -> Error {
    match e {
        StateError::Busy { .. } => Error::raw(ErrorKind::OperationTimeout, e.to_string()),
        StateError::InvalidName { reason, .. } => Error::new(ErrorKind::XmlError, reason),
        StateError::NotFound { name, .. } => no_network(&name),
        StateError::InvalidUri { reason, .. } => Error::new(ErrorKind::InvalidArg, reason),
        other => failed(other.to_string()),
    }
}
