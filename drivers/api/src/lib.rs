//! virtsh-api owns the contract between the shell and the drivers: the `Connection` traits,
//! object handles, libvirt's flag values, typed errors whose kinds mirror libvirt's error codes,
//! and URI parsing. It does no I/O and knows no driver.

pub mod console;
pub mod domain;
pub mod error;
pub mod flags;
pub mod host;
pub mod interface;
pub mod json_text;
pub mod network;
pub mod secret;
pub mod storage;
pub mod typed_params;
pub mod types;
pub mod uri;

pub use console::ConsoleStream;
pub use domain::DomainDriver;
pub use error::{strerror, Error, ErrorKind, Result};
pub use host::HostDriver;
pub use interface::InterfaceDriver;
pub use network::NetworkDriver;
pub use secret::SecretDriver;
pub use storage::StorageDriver;
pub use types::*;
pub use uri::Uri;

/// One open connection to a hypervisor, embedded or remote. Every trait method a driver does
/// not implement answers libvirt's "this function is not supported by the connection driver".
pub trait Connection:
    HostDriver + DomainDriver + NetworkDriver + StorageDriver + InterfaceDriver + SecretDriver
{
}

impl<T> Connection for T where
    T: HostDriver + DomainDriver + NetworkDriver + StorageDriver + InterfaceDriver + SecretDriver
{
}
