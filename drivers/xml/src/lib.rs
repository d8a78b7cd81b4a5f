//! virtsh-xml owns libvirt's XML formats: the typed models of domains, networks, storage pools
//! and volumes, host interfaces, capabilities and snapshots; parsing them (with positions for
//! diagnostics) and formatting them canonically, byte for byte as libvirt 9.0 does.
//!
//! No I/O and no driver knowledge: drivers hand text in and get text out.

pub mod capabilities;
pub mod dom;
pub mod domain;
pub mod error;
pub mod interface;
pub mod network;
pub mod snapshot;
pub mod storage_pool;
pub mod storage_vol;
pub mod units;
pub mod writer;
pub mod xpath;

pub use capabilities::Capabilities;
pub use domain::{DomainDef, FormatOptions};
pub use error::{XmlError, XmlErrorKind};
pub use interface::InterfaceDef;
pub use network::{NetworkDef, NetworkFormatOptions};
pub use snapshot::SnapshotDef;
pub use storage_pool::{pool_def_from_args, PoolArgs, StoragePoolDef};
pub use storage_vol::{vol_def_from_args, StorageVolDef};
