//! Byte streams to a daemon. The client needs a reading half (for its reader thread, which
//! must be able to answer keepalive pings while the caller is idle), a writing half, and a way
//! to unblock that reader when the connection is closed.
//!
//! - [`UnixTransport`] (here): a unix socket gives all three by cloning its descriptor;
//! - [`tcp::TcpTransport`]: the same over TCP (`+tcp`);
//! - [`tls::TlsTransport`]: TCP with rustls on top and libvirt's confirmation byte (`+tls`);
//! - [`ssh::SshTransport`] and [`ext::ExtTransport`]: a child process (`ssh`, or the URI's
//!   `command=`) whose stdin and stdout are one end of a socketpair, as libvirt's
//!   `virNetSocketNewConnectCommand` does it; closing kills the child. [`command`] holds what
//!   the two share.

pub mod command;
pub mod ext;
pub mod ssh;
pub mod tcp;
pub mod tls;

use crate::error::{os_reason, RemoteError};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;
use virtsh_api::ErrorKind;

pub use command::CommandTransport;
pub use ext::ExtTransport;
pub use ssh::{SshOptions, SshProxy, SshTransport};
pub use tcp::TcpTransport;
pub use tls::{TlsOptions, TlsTransport};

/// Failures of the transports other than unix, each worded as libvirt words it (the text is
/// what virsh prints after "error: "). They reach callers as [`RemoteError::Transport`].
#[derive(Debug, Error)]
pub enum TransportError {
    /// `getaddrinfo` failed (`virNetSocketNewConnectTCP`).
    #[error("Unable to resolve address '{host}' service '{port}': {reason}")]
    Resolve {
        host: String,
        port: u16,
        reason: String,
    },
    /// No address of the host accepted the connection.
    #[error("unable to connect to server at '{host}:{port}': {reason}")]
    TcpConnect {
        host: String,
        port: u16,
        reason: String,
    },
    /// The program of an ssh or ext transport does not exist (`virExec`'s wording).
    #[error("Cannot find '{program}' in path: {reason}")]
    ProgramNotFound { program: String, reason: String },
    /// The program exists but could not be started.
    #[error("cannot execute binary {program}: {reason}")]
    Spawn { program: String, reason: String },
    /// The child of an ssh or ext transport closed the connection and said why on stderr
    /// (libvirt's `virNetSocketReadWire` appends that text): "End of file while reading data:
    /// Permission denied (publickey).: Input/output error".
    #[error("End of file while reading data: {0}: Input/output error")]
    ChildEof(String),
    /// A TLS credential file is missing (`virNetTLSContextCheckCertFile`).
    #[error("Cannot read {what} '{path}': {reason}")]
    CredentialMissing {
        what: &'static str,
        path: String,
        reason: String,
    },
    /// A TLS credential file exists but cannot be used.
    #[error("{0}")]
    CredentialInvalid(String),
    /// The TLS handshake failed (`virNetTLSSessionHandshake`: an auth failure).
    #[error("authentication failed: TLS handshake failed {0}")]
    TlsHandshake(String),
    /// The server's certificate did not verify (`virNetTLSContextCheckCertificate`). libvirt
    /// puts the reason in a log warning only; here it follows the error.
    #[error("authentication failed: Failed to verify peer's certificate: {0}")]
    CertificateRejected(String),
    /// After the handshake the daemon checks our certificate and address, and sends one byte
    /// `\x01` when they pass; anything else is this.
    #[error("server verification (of our certificate or IP address) failed")]
    ServerVerification,
    /// A transport parameter of the URI is wrong (`proxy=`, `no_verify=` and the like).
    #[error("invalid argument: {0}")]
    InvalidArg(String),
}

impl TransportError {
    /// libvirt's error code for the failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransportError::TlsHandshake(_) | TransportError::CertificateRejected(_) => {
                ErrorKind::AuthFailed
            }
            TransportError::ServerVerification => ErrorKind::Rpc,
            TransportError::InvalidArg(_) => ErrorKind::InvalidArg,
            _ => ErrorKind::SystemError,
        }
    }
}

/// The payload of the `UnexpectedEof` error a child transport's reader returns when the child
/// left a message on stderr; [`RemoteError::io`] turns it into [`TransportError::ChildEof`].
#[derive(Debug)]
pub struct ChildEof(pub String);

impl fmt::Display for ChildEof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChildEof {}

/// The parts of an open transport, as the client uses them.
pub struct TransportParts {
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
    /// Ends the connection so that a read blocked on `reader` returns (shutdown(2) on a
    /// socket, killing a child for ssh). Called at most once.
    pub closer: Box<dyn FnOnce() + Send>,
}

/// A connection to a daemon, before the client takes it apart.
pub trait Transport: Send {
    /// Bounds how long one write may block: a daemon that stops reading must not hang a call
    /// forever. Transports that cannot bound writes ignore it.
    fn set_write_timeout(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    /// What the transport is connected to, for messages.
    fn describe(&self) -> String;

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts>;
}

/// A unix domain socket (`+unix` URIs, and the local end of everything else).
pub struct UnixTransport {
    stream: UnixStream,
    path: Option<PathBuf>,
}

impl UnixTransport {
    /// Connects to `path`. The error reads as libvirt's: "Failed to connect socket to
    /// '/var/run/libvirt/libvirt-sock': No such file or directory".
    pub fn connect(path: &Path) -> Result<UnixTransport, RemoteError> {
        let stream = UnixStream::connect(path).map_err(|e| RemoteError::Connect {
            path: path.display().to_string(),
            reason: os_reason(&e),
        })?;
        Ok(UnixTransport {
            stream,
            path: Some(path.to_path_buf()),
        })
    }

    /// An already connected socket (one end of a socketpair in tests, a descriptor inherited
    /// from a parent).
    pub fn from_stream(stream: UnixStream) -> UnixTransport {
        UnixTransport { stream, path: None }
    }
}

impl Transport for UnixTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("unix socket {}", p.display()),
            None => "unix socket".to_string(),
        }
    }

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts> {
        let reader = self.stream.try_clone()?;
        let closer = self.stream.try_clone()?;
        Ok(TransportParts {
            reader: Box::new(reader),
            writer: Box::new(self.stream),
            closer: Box::new(move || {
                // Already shut down or reset by the peer: nothing left to unblock.
                let _ = closer.shutdown(Shutdown::Both);
            }),
        })
    }
}
