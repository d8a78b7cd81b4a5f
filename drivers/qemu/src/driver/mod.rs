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
//!   changes), `tune.rs` (`memtune`, `blkiotune`) and `display.rs` (screen and keyboard).
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
mod tune;

use std::path::PathBuf;
use std::time::Duration;

use virtsh_api::{Domain, Error, ErrorKind, Result, Uri};
use virtsh_xml::domain::{DomainDef, ParseOptions};

use crate::runtime::{DomainRuntime, DomainStatus};
use crate::state::{ObjectLock, StateError, StatePaths};
use crate::supervisor;
use virtsh_state::domains::DomainRegistry;
pub(crate) use virtsh_state::domains::{state_error, DomainView};

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
    /// The domains' definitions and runtime files.
    reg: DomainRegistry,
    /// The program re-executed as the supervisor: this very binary.
    supervisor_exe: PathBuf,
    /// QEMU capabilities read during this connection, by binary (see `caps_for`).
    caps: std::sync::Mutex<std::collections::HashMap<PathBuf, crate::caps::QemuCaps>>,
    /// The virtual networks of the same state root (see `networks.rs`).
    networks: virtsh_network::NetworkHost,
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
        reg: DomainRegistry::open(paths, parse_options())?,
        supervisor_exe,
        caps: std::sync::Mutex::new(std::collections::HashMap::new()),
        networks: virtsh_network::NetworkHost::open(uri)?,
    })
}

impl QemuDriver {
    pub(crate) fn runtime(&self, name: &str) -> DomainRuntime {
        self.reg.runtime(name)
    }

    fn lock(&self, name: &str) -> Result<ObjectLock> {
        self.reg.lock(name, LOCK_WAIT)
    }

    /// The state of `name`, reconciled: a domain recorded as running whose supervisor is gone
    /// gets a new supervisor (QEMU still runs) or is recorded as crashed (QEMU is gone too).
    /// `wait` bounds how long reconciling may wait for another command's lock; a listing uses
    /// zero and reports the recorded state meanwhile.
    fn status_of(&self, name: &str, wait: Duration) -> DomainStatus {
        self.reg
            .status_of(name, wait, &|rt, st| self.repair(rt, st))
    }

    /// Under the domain's lock, for a domain whose supervisor died: re-attach a supervisor to a
    /// QEMU that still runs, or record the crash.
    fn repair(&self, rt: &DomainRuntime, status: DomainStatus) -> DomainStatus {
        if status.process.is_some_and(|q| q.is_alive()) {
            let args = supervisor::Args {
                uri: self.uri.clone(),
                name: rt.name.clone(),
                id: status.id,
                paused: false,
                attach: true,
                autodestroy: status.autodestroy,
            };
            match supervisor::launch(
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
        virtsh_network::guests::release_network_ports(&self.uri, &rt.live_xml_path());
        let crashed = DomainStatus::shutoff(virtsh_api::flags::state_reason::SHUTOFF_CRASHED);
        self.reg.record_end(rt, &crashed);
        crashed
    }

    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.reg.paths.log.join(format!("{name}.log"))
    }

    /// The domain called `name`: its live definition while active, else its persistent one.
    pub(crate) fn view(&self, name: &str) -> Result<DomainView> {
        self.view_waiting(name, LOCK_WAIT)
    }

    /// [`view`](Self::view), waiting at most `wait` to reconcile a dead supervisor. A listing
    /// passes zero: it must not wait behind another command's lock, so it reports the
    /// recorded state and leaves reconciling to a command that acts on the domain.
    pub(crate) fn view_waiting(&self, name: &str, wait: Duration) -> Result<DomainView> {
        self.reg.view(name, wait, &|rt, st| self.repair(rt, st))
    }

    /// The view of a handle, checked to be the same domain (a handle outlives a rename or an
    /// undefine plus define).
    pub(crate) fn view_of(&self, dom: &Domain) -> Result<DomainView> {
        self.reg
            .view_of(dom, LOCK_WAIT, &|rt, st| self.repair(rt, st))
    }

    /// The persistent definition of `name`, if it has one.
    pub(crate) fn persistent_def(&self, name: &str) -> Result<Option<DomainDef>> {
        self.reg.persistent_def(name)
    }

    /// Every domain name: the persistent ones and the running transient ones.
    pub(crate) fn all_names(&self) -> Result<Vec<String>> {
        self.reg.all_names()
    }
}

impl virtsh_api::StorageDriver for QemuDriver {}
impl virtsh_api::InterfaceDriver for QemuDriver {}
impl virtsh_api::SecretDriver for QemuDriver {}
