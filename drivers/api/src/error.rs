//! Errors as libvirt reports them: a kind that mirrors `virErrorNumber`, and the finished message.
//!
//! The kind decides the message prefix ("Domain not found: ", "Requested operation is not valid: ")
//! exactly as libvirt's `virErrorMsg` does, so the shell can print `error: {message}` and match
//! virsh byte for byte. The numeric code is libvirt's, so the remote driver can carry it both ways.

use std::fmt;

/// One table for every kind: its libvirt code and the prefix libvirt's `virErrorMsg` puts
/// before the detail. The enum, `code`, `from_code` and `prefix` are all generated from it.
macro_rules! error_kinds {
    ($($kind:ident = $code:literal, $prefix:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $($kind,)*
        }

        impl ErrorKind {
            /// libvirt's `virErrorNumber` value.
            pub fn code(self) -> i32 {
                match self {
                    $(ErrorKind::$kind => $code,)*
                }
            }

            /// The kind for a libvirt code; unknown codes become internal errors (the message
            /// is kept).
            pub fn from_code(code: i32) -> ErrorKind {
                match code {
                    $($code => ErrorKind::$kind,)*
                    _ => ErrorKind::InternalError,
                }
            }

            /// The prefix libvirt's `virErrorMsg` puts before the detail.
            fn prefix(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $prefix,)*
                }
            }
        }
    };
}

error_kinds! {
    InternalError = 1, "internal error: ";
    NoSupport = 3, "this function is not supported by the connection driver: ";
    NoConnect = 5, "no connection driver available for ";
    InvalidConn = 6, "invalid connection pointer in ";
    InvalidArg = 8, "invalid argument: ";
    OperationFailed = 9, "operation failed: ";
    NoName = 21, "";
    XmlError = 27, "XML error: ";
    DomExist = 28, "operation failed: ";
    OperationDenied = 29, "operation forbidden: ";
    OpenFailed = 30, "failed to open configuration file ";
    ReadFailed = 31, "failed to read configuration file ";
    WriteFailed = 34, "failed to write configuration file: ";
    XmlDetail = 35, "";
    NetworkExist = 37, "operation failed: ";
    SystemError = 38, "";
    Rpc = 39, "";
    NoDomain = 42, "Domain not found: ";
    NoNetwork = 43, "Network not found: ";
    InvalidMac = 44, "invalid MAC address: ";
    AuthFailed = 45, "authentication failed: ";
    NoStoragePool = 49, "Storage pool not found: ";
    NoStorageVol = 50, "Storage volume not found: ";
    OperationInvalid = 55, "Requested operation is not valid: ";
    NoInterface = 57, "Interface not found: ";
    ConfigUnsupported = 67, "unsupported configuration: ";
    OperationTimeout = 68, "Timed out during operation: ";
    NoDomainSnapshot = 72, "Domain snapshot not found: ";
    SnapshotRevertRisky = 73, "revert requires force: ";
    ArgumentUnsupported = 74, "argument unsupported: ";
    NoDomainMetadata = 80, "metadata not found: ";
    OperationUnsupported = 84, "Operation not supported: ";
    AgentUnresponsive = 86, "Guest agent is not responding: ";
    ResourceBusy = 87, "resource busy: ";
    StorageVolExist = 90, "storage volume already exists: ";
    // libvirt's message for this code is "network port %s exists already", with the detail
    // in the middle: drivers word it whole and raise it with `Error::raw`.
    NetworkPortExist = 106, "";
    NoNetworkPort = 107, "network port not found: ";
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

/// An OS error as libvirt words it, strerror's text ("No such file or directory"), without
/// the " (os error N)" that Rust's Display adds.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => match text.strip_suffix(&format!(" (os error {code})")) {
            Some(bare) => bare.to_string(),
            None => text,
        },
        None => text,
    }
}

#[cfg(test)]
mod strerror_tests {
    #[test]
    fn drops_the_os_error_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(super::strerror(&e), "No such file or directory");
        let other = std::io::Error::other("plain words");
        assert_eq!(super::strerror(&other), "plain words");
    }
}
