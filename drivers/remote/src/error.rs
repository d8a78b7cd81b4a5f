//! What can go wrong talking to a daemon, each worded as libvirt's client words it, so that
//! `error: {}` is the line virsh prints; and the mapping to `virtsh_api::Error`.

use crate::packet::PacketError;
use crate::transport::{ChildEof, TransportError};
use crate::xdr::XdrError;
use std::io;
use thiserror::Error;
use virtsh_api::{Error, ErrorKind};

/// An error the daemon sent (`remote_error`, alias `virNetMessageError`). The daemon formats
/// the message itself ("Domain not found: no domain with matching name 'x'"), so it is kept as
/// is; `code` and `domain` are libvirt's `virErrorNumber` and `virErrorDomain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: i32,
    pub domain: i32,
    pub level: i32,
    pub message: Option<String>,
    pub str1: Option<String>,
    pub str2: Option<String>,
    pub str3: Option<String>,
    pub int1: i32,
    pub int2: i32,
}

// libvirt's virErrorNumber / virErrorDomain values that the client adjusts by.
const VIR_ERR_NO_SUPPORT: i32 = 3;
const VIR_ERR_RPC: i32 = 39;
const VIR_ERR_INVALID_NWFILTER: i32 = 61;
const VIR_ERR_BUILD_FIREWALL: i32 = 63;
const VIR_WAR_NO_SECRET: i32 = 64;
const VIR_ERR_INVALID_SECRET: i32 = 65;
const VIR_ERR_OPERATION_TIMEOUT: i32 = 68;
const VIR_ERR_MIGRATE_PERSIST_FAILED: i32 = 69;
const VIR_ERR_ERROR: i32 = 2;
const VIR_FROM_XEN: i32 = 1;
const VIR_FROM_RPC: i32 = 7;
const VIR_FROM_QEMU: i32 = 10;
const VIR_FROM_REMOTE: i32 = 13;
const VIR_FROM_NWFILTER: i32 = 33;

impl ServerError {
    /// The message virsh prints: the daemon's, or libvirt's "Unknown error" when it sent none.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("Unknown error")
    }

    /// The error code as libvirt's client ends up reporting it
    /// (`virNetClientProgramDispatchError`): "unknown procedure" from the RPC layer means the
    /// daemon lacks the API (NO_SUPPORT), and codes that servers 0.7.1–0.7.7 sent shifted by
    /// four are shifted back.
    pub fn effective_code(&self) -> i32 {
        let code = self.code;
        if (self.domain == VIR_FROM_REMOTE || self.domain == VIR_FROM_RPC)
            && code == VIR_ERR_RPC
            && self.level == VIR_ERR_ERROR
            && self
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("unknown procedure"))
        {
            return VIR_ERR_NO_SUPPORT;
        }
        match code {
            VIR_ERR_INVALID_NWFILTER..=VIR_ERR_BUILD_FIREWALL
                if self.domain != VIR_FROM_NWFILTER =>
            {
                code + 4
            }
            VIR_WAR_NO_SECRET if self.domain == VIR_FROM_QEMU => VIR_ERR_OPERATION_TIMEOUT,
            VIR_ERR_INVALID_SECRET if self.domain == VIR_FROM_XEN => VIR_ERR_MIGRATE_PERSIST_FAILED,
            _ => code,
        }
    }
}

/// Failures of the remote client. `Display` is the message virsh prints after "error: ".
#[derive(Debug, Error)]
pub enum RemoteError {
    /// The daemon answered with an error.
    #[error("{}", .0.message())]
    Server(ServerError),
    /// The socket could not be connected.
    #[error("Failed to connect socket to '{path}': {reason}")]
    Connect { path: String, reason: String },
    /// The daemon closed the connection (it exited or dropped us).
    #[error("End of file while reading data: Input/output error")]
    Eof,
    /// Reading or writing the connection failed (`action` is "recv" or "write", as in
    /// libvirt's "Cannot recv data: Connection reset by peer").
    #[error("Cannot {action} data: {reason}")]
    Io {
        action: &'static str,
        reason: String,
    },
    /// The connection was already closed by an earlier failure (reported then) or by us.
    #[error("internal error: client socket is closed")]
    Closed,
    /// The daemon stopped answering keepalive pings.
    #[error("internal error: connection closed due to keepalive timeout")]
    KeepaliveTimeout,
    /// No reply within the call's timeout, although the daemon still answers pings.
    #[error(
        "Timed out during operation: no reply to {procedure} from the daemon in {}",
        seconds(.after)
    )]
    Timeout {
        procedure: String,
        after: std::time::Duration,
    },
    /// A malformed packet from the daemon; the connection is closed.
    #[error("{0}")]
    Packet(#[from] PacketError),
    /// A reply whose payload does not decode as the procedure's reply type.
    #[error("Unable to decode message payload: {0}")]
    Decode(XdrError),
    /// Arguments that cannot be encoded (a string longer than the protocol allows).
    #[error("Unable to encode message payload: {0}")]
    Encode(XdrError),
    /// Any other break of the protocol by the daemon (an unexpected reply).
    #[error("{0}")]
    Protocol(String),
    /// The daemon asks for an authentication method that virtsh does not implement.
    #[error("authentication method {0} is not supported by virtsh yet")]
    AuthUnsupported(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("invalid argument: {0}")]
    InvalidArg(String),
    /// Something libvirt supports that virtsh's client does not (yet).
    #[error("Operation not supported: {0}")]
    Unsupported(String),
    /// Setting up a tcp, tls, ssh or ext transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl RemoteError {
    /// The libvirt error code this error carries to the shell.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RemoteError::Server(e) => ErrorKind::from_code(e.effective_code()),
            RemoteError::Connect { .. } | RemoteError::Eof | RemoteError::Io { .. } => {
                ErrorKind::SystemError
            }
            RemoteError::Closed | RemoteError::KeepaliveTimeout => ErrorKind::InternalError,
            RemoteError::Timeout { .. } => ErrorKind::OperationTimeout,
            RemoteError::Packet(_)
            | RemoteError::Decode(_)
            | RemoteError::Encode(_)
            | RemoteError::Protocol(_) => ErrorKind::Rpc,
            RemoteError::AuthUnsupported(_) | RemoteError::Auth(_) => ErrorKind::AuthFailed,
            RemoteError::InvalidArg(_) => ErrorKind::InvalidArg,
            RemoteError::Unsupported(_) => ErrorKind::OperationUnsupported,
            RemoteError::Transport(t) => t.kind(),
        }
    }

    /// An I/O failure on the connection, worded as libvirt words it.
    pub(crate) fn io(action: &'static str, e: &io::Error) -> RemoteError {
        match e.kind() {
            // An ssh or ext child that exited with a message on stderr: libvirt shows it.
            io::ErrorKind::UnexpectedEof => match e.get_ref().and_then(|i| i.downcast_ref()) {
                Some(ChildEof(text)) => TransportError::ChildEof(text.clone()).into(),
                None => RemoteError::Eof,
            },
            _ => RemoteError::Io {
                action,
                reason: os_reason(e),
            },
        }
    }
}

/// "5 s", "0.3 s".
fn seconds(d: &std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub(crate) use virtsh_api::strerror as os_reason;

impl From<RemoteError> for Error {
    fn from(e: RemoteError) -> Error {
        Error::raw(e.kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: i32, domain: i32, message: &str) -> ServerError {
        ServerError {
            code,
            domain,
            level: VIR_ERR_ERROR,
            message: Some(message.to_string()),
            str1: None,
            str2: None,
            str3: None,
            int1: 0,
            int2: 0,
        }
    }

    #[test]
    fn daemon_messages_are_kept_raw() {
        let msg = "Domain not found: no domain with matching name 'x'";
        let e: Error = RemoteError::Server(server(42, 12, msg)).into();
        assert_eq!(e.kind, ErrorKind::NoDomain);
        assert_eq!(e.message, msg);
    }

    #[test]
    fn unknown_procedure_means_no_support() {
        let e = RemoteError::Server(server(39, VIR_FROM_RPC, "unknown procedure: 999"));
        assert_eq!(e.kind(), ErrorKind::NoSupport);
        assert_eq!(e.to_string(), "unknown procedure: 999");
        let other = RemoteError::Server(server(39, VIR_FROM_RPC, "authentication required"));
        assert_eq!(other.kind(), ErrorKind::Rpc);
    }

    #[test]
    fn missing_message_is_unknown_error() {
        let mut s = server(1, 0, "");
        s.message = None;
        assert_eq!(RemoteError::Server(s).to_string(), "Unknown error");
    }

    #[test]
    fn old_server_codes_are_shifted_back() {
        assert_eq!(server(61, 0, "m").effective_code(), 65);
        assert_eq!(server(61, VIR_FROM_NWFILTER, "m").effective_code(), 61);
        assert_eq!(server(64, VIR_FROM_QEMU, "m").effective_code(), 68);
    }

    #[test]
    fn local_failures_read_like_libvirt() {
        let e = io::Error::from_raw_os_error(libc::ECONNRESET);
        assert_eq!(
            RemoteError::io("recv", &e).to_string(),
            "Cannot recv data: Connection reset by peer"
        );
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        let e: Error = RemoteError::io("recv", &eof).into();
        assert_eq!(
            e.message,
            "End of file while reading data: Input/output error"
        );
        assert_eq!(e.kind, ErrorKind::SystemError);
        assert_eq!(
            RemoteError::AuthUnsupported("sasl".into()).to_string(),
            "authentication method sasl is not supported by virtsh yet"
        );
    }
}
