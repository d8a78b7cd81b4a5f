//! The `Connection` that `src/` opens for `qemu:///system`, `qemu:///session` and
//! `qemu:///embed?root=DIR`.
//!
//! No daemon: every call reads the state files of [`crate::state`] and [`crate::runtime`], and
//! calls that act on a running guest go to its supervisor ([`crate::supervisor`]).
//!
//! - `mod.rs`: opening, the per-domain view ([`DomainView`]) with reconciliation of a dead
//!   supervisor, errors.
//! - `domain.rs`: the `DomainDriver` calls: definitions and lifecycle itself, the rest handed to
//!   `stats/` (counters), `guest.rs` (the guest agent), `hotplug/` (device and resource
//!   changes) and `display.rs` (screen and keyboard).
//! - `host.rs`: the `HostDriver` calls.

mod console;
mod copies;
mod display;
mod domain;
mod guest;
mod host;
mod hotplug;
mod index;
mod lifecycle;
mod monitor;
mod networks;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use virtsh_api::{Domain, Error, ErrorKind, Result, Uri};
use virtsh_xml::domain::{DomainDef, ParseOptions};

use crate::runtime::{DomainRuntime, DomainStatus};
use crate::state::{ConfigStore, ObjectLock, StateError, StatePaths};
use crate::supervisor::{self, launch};

/// How long a state change waits for another one on the same domain (libvirt's job wait).
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long `start` waits for the supervisor to report (a first start probes QEMU's
/// capabilities, about a second).
const START_WAIT: Duration = Duration::from_secs(60);

/// The QEMU driver's parse defaults: guests are x86_64 unless the XML says otherwise.
pub fn parse_options() -> ParseOptions {
    ParseOptions {
        default_arch: "x86_64".to_string(),
        live: false,
    }
}

/// [`parse_options`] for the live definition of a running domain (`run/NAME.xml`), which
/// keeps what QEMU chose at start (pty paths).
pub fn live_parse_options() -> ParseOptions {
    ParseOptions {
        live: true,
        ..parse_options()
    }
}

pub struct QemuDriver {
    uri: String,
    paths: StatePaths,
    store: ConfigStore,
    /// The program re-executed as the supervisor: this very binary.
    supervisor_exe: PathBuf,
    /// Definitions parsed during this connection, by file, with the file's identity when read:
    /// one command often looks at a domain several times (`list` asks for the state of each
    /// domain it listed), and a changed file has a new mtime or size, so it is read again.
    parsed: std::sync::Mutex<std::collections::HashMap<PathBuf, (FileStamp, DomainDef)>>,
    /// The UUIDs of persistent definitions, kept across commands (see `index.rs`); loaded
    /// on first use.
    index: std::sync::Mutex<Option<index::UuidIndex>>,
    /// QEMU capabilities read during this connection, by binary (see `caps_for`).
    caps: std::sync::Mutex<std::collections::HashMap<PathBuf, crate::caps::QemuCaps>>,
    /// The virtual networks of the same state root (see `networks.rs`).
    networks: virtsh_network::NetworkHost,
}

/// What tells one version of a file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    mtime_ns: i128,
    size: u64,
    inode: u64,
}

impl FileStamp {
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            size: m.size(),
            inode: m.ino(),
        })
    }
}

/// Open `qemu:///system`, `qemu:///session` or `qemu:///embed?root=DIR`. Creates the state
/// directories; starts nothing.
pub fn open(uri: &Uri) -> Result<QemuDriver> {
    let paths = StatePaths::for_uri(uri).map_err(|e| match e {
        StateError::InvalidUri { reason, .. } => Error::new(ErrorKind::InvalidArg, reason),
        other => Error::new(ErrorKind::OperationFailed, other.to_string()),
    })?;
    for dir in [&paths.run, &paths.log, &paths.lib] {
        crate::monitor_fd::create_private_dir(dir)
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
    }
    let name_of: virtsh_state::NameOf = std::sync::Arc::new(|xml: &str| {
        DomainDef::parse_with(xml, &parse_options())
            .map(|d| d.name)
            .map_err(|e| e.to_string())
    });
    let store = ConfigStore::open(&paths.config, "domain", name_of).map_err(state_error)?;
    let supervisor_exe = std::env::current_exe().map_err(|e| {
        Error::new(
            ErrorKind::OperationFailed,
            format!("cannot find the virtsh executable: {e}"),
        )
    })?;
    let canonical = match uri.path.as_str() {
        "/embed" => uri.original.clone(),
        p => format!("qemu://{p}"),
    };
    Ok(QemuDriver {
        uri: canonical,
        paths,
        store,
        supervisor_exe,
        parsed: std::sync::Mutex::new(std::collections::HashMap::new()),
        index: std::sync::Mutex::new(None),
        caps: std::sync::Mutex::new(std::collections::HashMap::new()),
        networks: virtsh_network::NetworkHost::open(uri)?,
    })
}

/// What one call knows about one domain.
pub(crate) struct DomainView {
    pub def: DomainDef,
    pub status: DomainStatus,
    pub persistent: bool,
}

impl DomainView {
    pub fn handle(&self) -> Domain {
        Domain {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
            id: if self.status.is_active() {
                self.status.id
            } else {
                -1
            },
        }
    }

    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }

    pub fn check_active(&self) -> Result<()> {
        if self.is_active() {
            Ok(())
        } else {
            Err(Error::invalid_op("domain is not running"))
        }
    }
}

impl QemuDriver {
    pub(crate) fn runtime(&self, name: &str) -> DomainRuntime {
        DomainRuntime::new(&self.paths.run, name)
    }

    fn lock(&self, name: &str) -> Result<ObjectLock> {
        ObjectLock::acquire(&self.paths.run, name, LOCK_WAIT).map_err(state_error)
    }

    /// The state of `name`, reconciled: a domain recorded as running whose supervisor is gone
    /// gets a new supervisor (QEMU still runs) or is recorded as crashed (QEMU is gone too).
    /// `wait` bounds how long reconciling may wait for another command's lock; a listing uses
    /// zero and reports the recorded state meanwhile.
    fn status_of(&self, name: &str, wait: Duration) -> DomainStatus {
        let rt = self.runtime(name);
        let status = match rt.read_status() {
            Ok(Some(s)) => s,
            Ok(None) => return DomainStatus::shutoff(0),
            Err(e) => {
                eprintln!("warning: {e}");
                return DomainStatus::shutoff(0);
            }
        };
        if !status.is_active() || rt.supervisor_alive().unwrap_or(true) {
            return status;
        }
        let Ok(_lock) = ObjectLock::acquire(&self.paths.run, name, wait) else {
            return status;
        };
        self.reconcile(&rt)
    }

    /// Under the domain's lock: repair the state of a domain whose supervisor died.
    fn reconcile(&self, rt: &DomainRuntime) -> DomainStatus {
        let status = match rt.read_status() {
            Ok(Some(s)) => s,
            _ => return DomainStatus::shutoff(0),
        };
        if !status.is_active() || rt.supervisor_alive().unwrap_or(true) {
            return status;
        }
        if status.process.is_some_and(|q| q.is_alive()) {
            let args = supervisor::Args {
                uri: self.uri.clone(),
                name: rt.name.clone(),
                id: status.id,
                paused: false,
                attach: true,
                autodestroy: status.autodestroy,
            };
            match launch::launch(
                &self.supervisor_exe,
                &args,
                &self.log_path(&rt.name),
                START_WAIT,
            ) {
                Ok(()) => return rt.read_status().ok().flatten().unwrap_or(status),
                Err(e) => eprintln!(
                    "warning: domain '{}': cannot re-attach to its QEMU: {e}",
                    rt.name
                ),
            }
            return status;
        }
        // QEMU and its supervisor are both gone: the guest crashed. Nobody else will remove
        // its cgroup.
        if let Some(rel) = &status.cgroup {
            if let Err(e) = crate::runtime::remove_guest_cgroup(rel) {
                eprintln!("warning: domain '{}': {e}", rt.name);
            }
        }
        crate::runtime::ports::release_network_ports(&self.uri, rt);
        let crashed = DomainStatus::shutoff(virtsh_api::flags::state_reason::SHUTOFF_CRASHED);
        if self.store.path_of(&rt.name).is_ok_and(|p| p.exists()) {
            rt.remove_live_files();
            if let Err(e) = rt.write_status(&crashed) {
                eprintln!("warning: {e}");
            }
        } else {
            rt.remove_all();
        }
        crashed
    }

    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.paths.log.join(format!("{name}.log"))
    }

    /// The domain called `name`: its live definition while active, else its persistent one.
    pub(crate) fn view(&self, name: &str) -> Result<DomainView> {
        self.view_waiting(name, LOCK_WAIT)
    }

    /// [`view`](Self::view), waiting at most `wait` to reconcile a dead supervisor. A listing
    /// passes zero: it must not wait behind another command's lock, so it reports the
    /// recorded state and leaves reconciling to a command that acts on the domain.
    pub(crate) fn view_waiting(&self, name: &str, wait: Duration) -> Result<DomainView> {
        if let Err(e) = crate::state::validate_name(name) {
            // A file whose name cannot be a domain's: not one of ours, say so by name.
            if self.store.dir().join(format!("{name}.xml")).exists() {
                return Err(Error::internal(format!(
                    "skipping {}: {e}",
                    self.store.dir().join(format!("{name}.xml")).display()
                )));
            }
            return Err(no_domain(name));
        }
        let status = self.status_of(name, wait);
        let config = self.store.path_of(name).map_err(state_error)?;
        let persistent = config.exists();
        let rt = self.runtime(name);
        let xml_path = if status.is_active() {
            rt.live_xml_path()
        } else if persistent {
            config
        } else {
            return Err(no_domain(name));
        };
        let def = self.parse_file(&xml_path, name, status.is_active())?;
        Ok(DomainView {
            def,
            status,
            persistent,
        })
    }

    /// The definition in `path` (domain `name`), parsed once per version of the file.
    fn parse_file(&self, path: &std::path::Path, name: &str, live: bool) -> Result<DomainDef> {
        let stamp = FileStamp::of(path);
        if let (Some(stamp), Ok(cache)) = (stamp, self.parsed.lock()) {
            if let Some((s, def)) = cache.get(path) {
                if *s == stamp {
                    return Ok(def.clone());
                }
            }
        }
        let xml = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                no_domain(name)
            } else {
                Error::new(
                    ErrorKind::OperationFailed,
                    format!("{}: {e}", path.display()),
                )
            }
        })?;
        let opts = if live {
            live_parse_options()
        } else {
            parse_options()
        };
        let def = DomainDef::parse_with(&xml, &opts).map_err(|e| {
            Error::internal(format!(
                "corrupt definition {}: {}",
                path.display(),
                e.libvirt_message("domain_definition", &xml)
            ))
        })?;
        if def.name != name {
            return Err(Error::internal(format!(
                "corrupt definition {}: it defines domain '{}', which does not match the file name",
                path.display(),
                def.name
            )));
        }
        if let (Some(stamp), Ok(mut cache)) = (stamp, self.parsed.lock()) {
            cache.insert(path.to_path_buf(), (stamp, def.clone()));
        }
        Ok(def)
    }

    /// The view of a handle, checked to be the same domain (a handle outlives a rename or an
    /// undefine plus define).
    pub(crate) fn view_of(&self, dom: &Domain) -> Result<DomainView> {
        let v = self.view(&dom.name)?;
        if v.def.uuid != dom.uuid {
            return Err(no_domain(&dom.name));
        }
        Ok(v)
    }

    /// The persistent definition of `name`, if it has one.
    pub(crate) fn persistent_def(&self, name: &str) -> Result<Option<DomainDef>> {
        match self.store.read(name) {
            Ok(xml) => DomainDef::parse_with(&xml, &parse_options())
                .map(Some)
                .map_err(|e| Error::internal(format!("corrupt definition of '{name}': {e}"))),
            Err(StateError::NotFound { .. }) => Ok(None),
            Err(e) => Err(state_error(e)),
        }
    }

    /// Every domain name: the persistent ones and the running transient ones, by file name
    /// (a corrupt definition is reported by whoever reads it: see `list_all_domains`).
    pub(crate) fn all_names(&self) -> Result<Vec<String>> {
        let mut names = self.store.names().map_err(state_error)?;
        if let Ok(entries) = std::fs::read_dir(&self.paths.run) {
            for e in entries.flatten() {
                let file = e.file_name();
                let Some(n) = file.to_str().and_then(|f| f.strip_suffix(".status")) else {
                    continue;
                };
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

pub(crate) fn no_domain(name: &str) -> Error {
    Error::no_domain_name(name)
}

pub(crate) fn state_error(e: StateError) -> Error {
    match e {
        StateError::Busy { .. } => Error::raw(ErrorKind::OperationTimeout, e.to_string()),
        StateError::InvalidName { reason, .. } => Error::new(ErrorKind::XmlError, reason),
        StateError::NotFound { name, .. } => no_domain(&name),
        other => Error::new(ErrorKind::OperationFailed, other.to_string()),
    }
}

impl virtsh_api::StorageDriver for QemuDriver {}
impl virtsh_api::InterfaceDriver for QemuDriver {}
impl virtsh_api::SecretDriver for QemuDriver {}
