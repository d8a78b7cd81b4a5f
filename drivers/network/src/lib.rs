//! virtsh-network owns the host side of guest networking (ARCHITECTURE.md, "Layers and
//! rules": the local hypervisor drivers use it for host resources).
//!
//! - [`driver`]: the network driver itself ([`NetworkHost`]): definitions, state, and the
//!   virNetwork* calls of the local connections.
//! - [`bandwidth`]: bandwidth limits (`<bandwidth>`) on a tap or a bridge, through `tc`.
//! - [`bridge`]: host bridges, their addresses and forwarding sysctls, through netlink.
//! - [`dnsmasq`]: the DHCP and DNS server of a virtual network: its configuration, process and
//!   leases.
//! - [`firewall`]: the rules of a virtual network, through nftables or iptables, and the exact
//!   commands that remove them.
//! - [`tap`]: the tap devices that connect a guest NIC to a host bridge (`<interface
//!   type='bridge'>` or `'network'`) or stand alone (`type='ethernet'`).

pub mod bandwidth;
pub mod bridge;
mod delegate;
pub mod dnsmasq;
pub mod driver;
pub mod firewall;
pub mod guests;
pub mod program;
pub mod tap;

pub use driver::NetworkHost;

/// For [`network_driver_via!`]'s expansion in other crates.
#[doc(hidden)]
pub mod __api {
    pub use uuid::Uuid as __Uuid;
    pub use virtsh_api::*;
}
pub use tap::{Tap, TapError};
