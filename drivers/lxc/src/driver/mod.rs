//! The `Connection` that `src/` opens for `lxc:///system`, `lxc:///session` and
//! `lxc:///embed?root=DIR`.
//!
//! No daemon: definitions and runtime files are the registry's ([`DomainRegistry`]), a start
//! launches the container's supervisor ([`crate::supervisor`]), and the calls on a running
//! container act on its init and its cgroup directly.
//!
//! - `mod.rs`: opening, the per-domain view with reconciliation of a dead supervisor.
//! - `domain.rs`: the `DomainDriver` calls; `process.rs`: signals, namespaces, addresses;
//!   `initctl.rs`: shutdown and reboot requests to the init.
//! - `host.rs`: the `HostDriver` calls.
//! - `tune.rs`: the cgroup limits of a definition; `params.rs` (`schedinfo`, `setmem`) and
//!   `limits.rs` (`memtune`, `blkiotune`): changing them; `stats.rs`: the counters
//!   (`cpu-stats`, `dommemstat`, `domstats`).

mod domain;
mod host;
mod initctl;
mod limits;
mod params;
mod process;
mod stats;
pub mod tune;

use std::path::PathBuf;
use std::time::Duration;

use virtsh_api::flags::state_reason;
use virtsh_api::{Domain, Error, ErrorKind, Result, Uri};
use virtsh_state::domains::{state_error, DomainRegistry, DomainView, Glance};
use virtsh_state::runtime::{DomainRuntime, DomainStatus};
use virtsh_state::{ObjectLock, StateError, StatePaths};
use virtsh_xml::domain::ParseOptions;

/// How long a state change waits for another one on the same domain (libvirt's job wait).
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long `start` waits for the supervisor to report.
const START_WAIT: Duration = Duration::from_secs(30);

/// The LXC driver's parse defaults: containers are of the host's architecture.
pub fn parse_options() -> ParseOptions {
    ParseOptions {
        default_arch: std::env::consts::ARCH.to_string(),
        live: false,
    }
}

/// [`parse_options`] for the live definition of a running container.
pub fn live_parse_options() -> ParseOptions {
    ParseOptions {
        live: true,
        ..parse_options()
    }
}

pub struct LxcDriver {
    uri: String,
    reg: DomainRegistry,
    /// The program re-executed as the supervisor: this very binary.
    supervisor_exe: PathBuf,
    /// The virtual networks of the same state root.
    networks: virtsh_network::NetworkHost,
    /// `lxc:///session`: containers of an unprivileged user (`crate::supervisor`'s
    /// `session` module), without interfaces and maybe without a cgroup.
    session: bool,
}

virtsh_network::network_driver_via!(LxcDriver, networks);
impl virtsh_api::StorageDriver for LxcDriver {}
impl virtsh_api::InterfaceDriver for LxcDriver {}
impl virtsh_api::SecretDriver for LxcDriver {}

/// Open `lxc:///system`, `lxc:///session` or `lxc:///embed?root=DIR`. Creates the state
/// directories; starts nothing.
pub fn open(uri: &Uri) -> Result<LxcDriver> {
    let paths = StatePaths::for_uri(uri).map_err(|e| match e {
        StateError::InvalidUri { reason, .. } => Error::new(ErrorKind::InvalidArg, reason),
        other => Error::new(ErrorKind::OperationFailed, other.to_string()),
    })?;
    for dir in [&paths.run, &paths.log, &paths.lib] {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::OperationFailed,
                format!("{}: {e}", dir.display()),
            )
        })?;
    }
    let supervisor_exe = std::env::current_exe().map_err(|e| {
        Error::new(
            ErrorKind::OperationFailed,
            format!("cannot find the virtsh executable: {e}"),
        )
    })?;
    let canonical = match uri.path.as_str() {
        "/embed" => uri.original.clone(),
        p => format!("lxc://{p}"),
    };
    Ok(LxcDriver {
        uri: canonical,
        reg: DomainRegistry::open(paths, parse_options())?,
        supervisor_exe,
        networks: virtsh_network::NetworkHost::open(uri)?,
        session: uri.path == "/session",
    })
}

/// The registry of connection `uri` (for the supervisor, which records the end).
pub(crate) fn registry_of(uri: &str) -> Result<DomainRegistry> {
    let uri = Uri::parse(uri)?;
    let paths = StatePaths::for_uri(&uri).map_err(state_error)?;
    DomainRegistry::open(paths, parse_options())
}

impl LxcDriver {
    fn runtime(&self, name: &str) -> DomainRuntime {
        self.reg.runtime(name)
    }

    fn lock(&self, name: &str) -> Result<ObjectLock> {
        self.reg.lock(name, LOCK_WAIT)
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.reg.paths.log.join(format!("{name}.log"))
    }

    /// The state of `name`, reconciled: a container recorded as running whose supervisor is
    /// gone has lost its console and its keeper, so it is ended (as a container of libvirt's
    /// dies with its `libvirt_lxc`) and recorded as crashed.
    fn status_of(&self, name: &str, wait: Duration) -> DomainStatus {
        self.reg
            .status_of(name, wait, &|rt, st| self.repair(rt, st))
    }

    /// Under the domain's lock, for a container whose supervisor died: end it, clean up.
    fn repair(&self, rt: &DomainRuntime, status: DomainStatus) -> DomainStatus {
        if let Some(init) = status.process.filter(|p| p.is_alive()) {
            // SAFETY: a signal to the recorded init, checked alive by pid and start time.
            unsafe { libc::kill(init.pid, libc::SIGKILL) };
        }
        if let Some(rel) = &status.cgroup {
            if let Ok(cg) = crate::supervisor::open_cgroup(rel) {
                let _ = cg.thaw();
                if let Err(e) = cg.remove() {
                    eprintln!("warning: domain '{}': {e}", rt.name);
                }
            }
        }
        virtsh_network::guests::release_network_ports(&self.uri, &rt.live_xml_path());
        let crashed = DomainStatus::shutoff(state_reason::SHUTOFF_CRASHED);
        self.reg.record_end(rt, &crashed);
        crashed
    }

    /// Repair `rt` under a lock the caller holds (see [`LxcDriver::repair`]).
    fn reconcile(&self, rt: &DomainRuntime) -> DomainStatus {
        self.reg.repair_locked(rt, &|rt, st| self.repair(rt, st))
    }

    fn view(&self, name: &str) -> Result<DomainView> {
        self.reg
            .view(name, LOCK_WAIT, &|rt, st| self.repair(rt, st))
    }

    /// The view of a handle, checked to be the same domain.
    fn view_of(&self, dom: &Domain) -> Result<DomainView> {
        self.reg
            .view_of(dom, LOCK_WAIT, &|rt, st| self.repair(rt, st))
    }

    fn glance(&self, name: &str, wait: Duration) -> Result<Glance> {
        self.reg.glance(name, wait, &|rt, st| self.repair(rt, st))
    }
}
