//! virtsh's embedded QEMU driver (`qemu:///system`, `qemu:///session`, `qemu:///embed`).
//!
//! This crate owns everything that talks to QEMU directly, per ARCHITECTURE.md, "The daemonless
//! model". So far it holds the first, self-contained layer:
//!
//! - [`qmp`]: a synchronous QMP client with a timeout on every call, replies matched by id,
//!   queued asynchronous events, and typed errors ([`qmp::QmpError`]).
//! - [`monitor_fd`]: the QMP monitor socket, created by virtsh in a private runtime directory and
//!   handed to QEMU as an already-listening fd, so nothing polls for a socket to appear.
//! - [`caps`]: QEMU capabilities (version, machine types, CPU models, QOM types, QMP commands,
//!   KVM), probed once per binary and cached as JSON keyed by canonical path, size and mtime.
//! - [`cmdline`]: the QEMU command line for a domain definition, checked against those
//!   capabilities, with QEMU's comma escaping so a path cannot inject an option.
//! - [`state`]: per-URI state directories, atomic file writes, per-object flock locks, and the
//!   store of `<name>.xml` definitions that lists around corrupt files.
//!
//! - [`runtime`]: the runtime files of each domain (status, live XML, liveness lock, ids).
//! - [`supervisor`]: the per-guest supervisor (a hidden mode of the `virtsh` binary) and the
//!   CLI's side of it (launch, requests).
//! - [`driver`]: the `Connection` that `src/` opens ([`open`]).

pub mod caps;
pub mod cmdline;
pub mod driver;
pub mod monitor_fd;
pub mod qmp;
pub mod runtime;
pub use virtsh_state as state;
pub mod supervisor;

pub use driver::{open, QemuDriver};

pub use caps::{CacheOutcome, CapsCache, CapsError, CapsLookup, ProbeOptions, QemuCaps};
pub use monitor_fd::{MonitorError, MonitorSocket};
pub use qmp::{ErrorClass, QemuVersion, QmpClient, QmpError, QmpEvent};
