//! Errors as libvirt reports them: a kind that mirrors `virErrorNumber`, and the finished message.
//!
//! The kind decides the message prefix ("Domain not found: ", "Requested operation is not valid: ")
//! exactly as libvirt's `virErrorMsg` does, so the shell can print `error: {message}` and match
//! virsh byte for byte. The numeric code is libvirt's, so the remote driver can carry it both ways.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InternalError,
    NoSupport,
    NoConnect,
    InvalidConn,
    InvalidArg,
    OperationFailed,
    NoName,
    XmlError,
    DomExist,
    OperationDenied,
    OpenFailed,
    ReadFailed,
    WriteFailed,
    XmlDetail,
    NetworkExist,
    SystemError,
    Rpc,
    NoDomain,
    NoNetwork,
    AuthFailed,
    NoStoragePool,
    NoStorageVol,
    OperationInvalid,
    NoInterface,
    ConfigUnsupported,
    OperationTimeout,
    NoDomainSnapshot,
    SnapshotRevertRisky,
    ArgumentUnsupported,
    NoDomainMetadata,
    OperationUnsupported,
    ResourceBusy,
    StorageVolExist,
}

impl ErrorKind {
    /// libvirt's `virErrorNumber` value.
    pub fn code(self) -> i32 {
        use ErrorKind::*;
        match self {
            InternalError => 1,
            NoSupport => 3,
            NoConnect => 5,
            InvalidConn => 6,
            InvalidArg => 8,
            OperationFailed => 9,
            NoName => 21,
            XmlError => 27,
            DomExist => 28,
            OperationDenied => 29,
            OpenFailed => 30,
            ReadFailed => 31,
            WriteFailed => 34,
            XmlDetail => 35,
            NetworkExist => 37,
            SystemError => 38,
            Rpc => 39,
            NoDomain => 42,
            NoNetwork => 43,
            AuthFailed => 45,
            NoStoragePool => 49,
            NoStorageVol => 50,
            OperationInvalid => 55,
            NoInterface => 57,
            ConfigUnsupported => 67,
            OperationTimeout => 68,
            NoDomainSnapshot => 72,
            SnapshotRevertRisky => 73,
            ArgumentUnsupported => 74,
            NoDomainMetadata => 80,
            OperationUnsupported => 84,
            ResourceBusy => 87,
            StorageVolExist => 90,
        }
    }

    /// The kind for a libvirt code; unknown codes become internal errors (the message is kept).
    pub fn from_code(code: i32) -> ErrorKind {
        use ErrorKind::*;
        const ALL: [ErrorKind; 33] = [
            InternalError,
            NoSupport,
            NoConnect,
            InvalidConn,
            InvalidArg,
            OperationFailed,
            NoName,
            XmlError,
            DomExist,
            OperationDenied,
            OpenFailed,
            ReadFailed,
            WriteFailed,
            XmlDetail,
            NetworkExist,
            SystemError,
            Rpc,
            NoDomain,
            NoNetwork,
            AuthFailed,
            NoStoragePool,
            NoStorageVol,
            OperationInvalid,
            NoInterface,
            ConfigUnsupported,
            OperationTimeout,
            NoDomainSnapshot,
            SnapshotRevertRisky,
            ArgumentUnsupported,
            NoDomainMetadata,
            OperationUnsupported,
            ResourceBusy,
            StorageVolExist,
        ];
        ALL.into_iter()
            .find(|k| k.code() == code)
            .unwrap_or(InternalError)
    }

    /// The prefix libvirt's `virErrorMsg` puts before the detail.
    fn prefix(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InternalError => "internal error: ",
            NoSupport => "this function is not supported by the connection driver: ",
            NoConnect => "no connection driver available for ",
            InvalidConn => "invalid connection pointer in ",
            InvalidArg => "invalid argument: ",
            OperationFailed => "operation failed: ",
            NoName => "",
            XmlError => "XML error: ",
            DomExist => "operation failed: ",
            OperationDenied => "operation forbidden: ",
            OpenFailed => "failed to open configuration file ",
            ReadFailed => "failed to read configuration file ",
            WriteFailed => "failed to write configuration file: ",
            XmlDetail => "",
            NetworkExist => "operation failed: ",
            SystemError => "",
            Rpc => "",
            NoDomain => "Domain not found: ",
            NoNetwork => "Network not found: ",
            AuthFailed => "authentication failed: ",
            NoStoragePool => "Storage pool not found: ",
            NoStorageVol => "Storage volume not found: ",
            OperationInvalid => "Requested operation is not valid: ",
            NoInterface => "Interface not found: ",
            ConfigUnsupported => "unsupported configuration: ",
            OperationTimeout => "Timed out during operation: ",
            NoDomainSnapshot => "Domain snapshot not found: ",
            SnapshotRevertRisky => "revert requires force: ",
            ArgumentUnsupported => "argument unsupported: ",
            NoDomainMetadata => "metadata not found: ",
            OperationUnsupported => "Operation not supported: ",
            ResourceBusy => "resource busy: ",
            StorageVolExist => "storage volume already exists: ",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The whole message, as virsh prints it after "error: ".
    pub message: String,
}

impl Error {
    /// An error of `kind` whose message is libvirt's prefix for that kind followed by `detail`.
    pub fn new(kind: ErrorKind, detail: impl AsRef<str>) -> Self {
        Error {
            kind,
            message: format!("{}{}", kind.prefix(), detail.as_ref()),
        }
    }

    /// An error whose message is taken as is (from a remote daemon, or worded by libvirt
    /// without the usual prefix).
    pub fn raw(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The error every driver returns for an API it does not implement.
    pub fn unsupported(api: &str) -> Self {
        Error::new(ErrorKind::NoSupport, api)
    }

    pub fn no_domain_name(name: &str) -> Self {
        Error::new(
            ErrorKind::NoDomain,
            format!("no domain with matching name '{name}'"),
        )
    }

    pub fn invalid_op(detail: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::OperationInvalid, detail)
    }

    pub fn invalid_arg(detail: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::InvalidArg, detail)
    }

    pub fn internal(detail: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::InternalError, detail)
    }

    pub fn read_only() -> Self {
        Error::new(
            ErrorKind::OperationDenied,
            "read only access prevents this operation",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_libvirt_prefixes() {
        assert_eq!(
            Error::no_domain_name("x").message,
            "Domain not found: no domain with matching name 'x'"
        );
        assert_eq!(
            Error::unsupported("virDomainCreate").to_string(),
            "this function is not supported by the connection driver: virDomainCreate"
        );
    }

    #[test]
    fn codes_round_trip() {
        for code in 0..100 {
            let kind = ErrorKind::from_code(code);
            if kind != ErrorKind::InternalError {
                assert_eq!(kind.code(), code);
            }
        }
        assert_eq!(ErrorKind::NoDomain.code(), 42);
    }
}
