//! virtsh-state owns the local drivers' state on disk, per ARCHITECTURE.md, "The daemonless
//! model": the QEMU driver's domains and the network driver's networks share it.
//!
//! - [`paths`]: where a connection URI keeps its files ([`StatePaths::for_uri`]): `qemu:///system`,
//!   `qemu:///session` (XDG directories) and `qemu:///embed?root=DIR`.
//! - [`chrdev`]: one console session at a time on a guest's pty (libvirt's virChrdevOpen).
//! - [`atomic`]: atomic file replacement (temporary file in the same directory, fsync, rename,
//!   fsync of the directory).
//! - [`lock`]: the per-object `flock` that serialises state changes, with a bounded wait.
//! - [`runtime`]: each domain's runtime files (status, liveness lock, ids) that the CLI and
//!   the domain's supervisor share.
//! - [`host`]: the host facts every local driver reports alike.
//! - [`guest_stats`]: `domstats` gathering and the counters both drivers read alike.
//! - [`launch`]: starting a domain's supervisor and its readiness report.
//! - [`store`]: a directory of `<name>.xml` definitions; a corrupt file is reported by name and
//!   never stops the others from listing.

pub mod atomic;
pub mod chrdev;
pub mod domains;
pub mod guest_stats;
pub mod host;
pub mod launch;
pub mod lock;
pub mod paths;
pub mod runtime;
pub mod store;

pub use lock::ObjectLock;
pub use paths::StatePaths;
pub use store::{ConfigStore, FileProblem, Listing, NameOf};

use std::path::PathBuf;
use std::time::Duration;

/// Errors of the state layer. Every message names the object, file or URI concerned.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The URI does not name a local state root this driver understands.
    #[error("invalid argument: {reason} (URI {uri})")]
    InvalidUri { uri: String, reason: String },
    /// The name cannot be used as an object (and file) name.
    #[error("invalid name '{name}': {reason}")]
    InvalidName { name: String, reason: String },
    /// An I/O error on a given file or directory.
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process (or thread) holds the object's state change lock, and it was not released
    /// within the bound. The wording follows libvirt's VIR_ERR_OPERATION_TIMEOUT.
    #[error(
        "Timed out during operation: cannot acquire state change lock for '{name}' \
         (held by another command, lock file {path}) after {waited:?}",
        path = path.display()
    )]
    Busy {
        name: String,
        path: PathBuf,
        waited: Duration,
    },
    /// No such object in the store.
    #[error("no object with matching name '{name}' ({path})", path = path.display())]
    NotFound { name: String, path: PathBuf },
    /// The directory environment (home directory) needed for `qemu:///session` is unavailable.
    #[error("cannot determine the user's directories for {uri}: no valid home directory")]
    NoHome { uri: String },
}

impl StateError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StateError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Check a name that becomes a file name (`<name>.xml`, `<name>.lock`).
///
/// libvirt's own rules come from [`virtsh_xml::domain::validate_name`] (not empty, no `/`, no
/// newline, and virtsh also refuses every control character), with libvirt's messages. On top of
/// those, names that are special as path components are refused here, since they become file
/// names in the state directories: `.` and `..` (and any name starting with `.`: `..` alone is the
/// dangerous one, but a leading dot also makes a hidden file, and the state layer reserves
/// dot-files for its own temporary files, so a name can never collide with one).
pub fn validate_name(name: &str) -> Result<(), StateError> {
    let invalid = |reason: String| StateError::InvalidName {
        name: name.to_string(),
        reason,
    };
    virtsh_xml::domain::validate_name(name).map_err(|e| invalid(e.message))?;
    if name == ".." || name == "." {
        return Err(invalid(format!(
            "name {name} cannot be '.' or '..' since it names a file"
        )));
    }
    if name.starts_with('.') {
        return Err(invalid(format!(
            "name {name} cannot start with '.' since it names a file"
        )));
    }
    Ok(())
}
