//! The container's error type: every error names the step and the path or name it was about,
//! so that `virtsh start` prints something a user can act on.

use std::io;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The spec cannot describe a container (an empty init, a relative mount target, an
    /// interface name too long, interfaces with a shared network namespace, ...).
    #[error("invalid container definition: {0}")]
    Invalid(String),
    /// A step done by the calling process (on the host side) failed.
    #[error("cannot {step} {path}: {source}")]
    Host {
        step: &'static str,
        path: String,
        source: io::Error,
    },
    /// clone(2) refused: EPERM without the privilege, EINVAL or ENOSPC for a namespace this
    /// kernel lacks or has used up.
    #[error("cannot create the container process (namespaces {namespaces}): {source}")]
    Clone {
        namespaces: String,
        source: io::Error,
    },
    /// A step inside the container process failed; the process is gone.
    #[error("container setup failed: cannot {step} {path}: {source}")]
    Setup {
        step: &'static str,
        path: String,
        source: io::Error,
    },
    /// The init is not there (libvirt's wording).
    #[error("cannot find init path '{0}' relative to container root")]
    InitNotFound(String),
    /// The container process ended before its exec without telling why (killed, or crashed).
    #[error("the container process ended during setup ({status})")]
    Died { status: String },
    /// The container process did not finish its setup in time; it was killed.
    #[error("container setup did not finish within {} s; the container process was killed", .0.as_secs())]
    Timeout(Duration),
    /// Talking to the container process over its pipes failed.
    #[error("cannot {step} the container process: {source}")]
    Sync {
        step: &'static str,
        source: io::Error,
    },
}
