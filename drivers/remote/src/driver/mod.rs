//! The remote driver: the `virtsh_api` traits carried out by a libvirt daemon over its RPC
//! protocol (libvirt's `src/remote/remote_driver.c`). One [`RemoteDriver`] is one open
//! [`Session`]; every call is one procedure of the `remote` program (or `qemu`, `lxc`),
//! made through [`RemoteDriver::call`].
//!
//! The trait impls are split by concern: `host.rs` (HostDriver), `domain*.rs` (DomainDriver),
//! `network.rs`, `storage.rs`, `interface.rs`, `secret.rs`; `handles.rs` converts between the
//! api's object handles and the protocol's `nonnull` structs.

mod domain;
mod handles;
mod host;
mod interface;
mod network;
mod secret;
mod storage;

use std::sync::{Mutex, MutexGuard};

use virtsh_api::{Error, ErrorKind, Result, Uri};

use crate::connect::{OpenOptions, Session};
use crate::procedure::Procedure;

pub struct RemoteDriver {
    session: Mutex<Session>,
    /// The URI as the user gave it (what `uri` prints is the daemon's answer, though).
    uri: String,
}

/// Open a remote URI (one with a transport, `test+unix:///default`, or a host).
pub fn open(uri: &Uri, readonly: bool) -> Result<RemoteDriver> {
    let opts = OpenOptions {
        readonly,
        client: crate::ClientConfig::default(),
    };
    let session = crate::connect::open(uri, &opts).map_err(Error::from)?;
    Ok(RemoteDriver {
        session: Mutex::new(session),
        uri: uri.original.clone(),
    })
}

impl RemoteDriver {
    /// Make procedure `P` with `args` and decode its reply; a daemon's error comes back as
    /// the `virtsh_api::Error` virsh would print.
    pub(crate) fn call<P: Procedure>(&self, args: &P::Args) -> Result<P::Ret> {
        self.session()?
            .client
            .call_proc::<P>(args)
            .map_err(Error::from)
    }

    fn session(&self) -> Result<MutexGuard<'_, Session>> {
        self.session.lock().map_err(|_| {
            Error::new(
                ErrorKind::InternalError,
                "the connection's lock was poisoned by an earlier failure",
            )
        })
    }

    /// The URI this driver was opened with.
    pub fn opened_uri(&self) -> &str {
        &self.uri
    }
}

/// virConnectClose: the daemon is told, and answers, before the process goes. A connection
/// that only ends with the process is cleaned up by the daemon in its own time, so the next
/// client could still find this one's state (the shared `test:///default`, for one).
impl Drop for RemoteDriver {
    fn drop(&mut self) {
        if let Ok(session) = self.session.get_mut() {
            let _ = session.close_now();
        }
    }
}
