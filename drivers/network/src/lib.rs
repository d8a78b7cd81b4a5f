//! virtsh-network owns the host side of guest networking (ARCHITECTURE.md, "Layers and
//! rules": the local hypervisor drivers use it for host resources).
//!
//! So far: [`tap`], the tap devices that connect a guest NIC to a host bridge (`<interface
//! type='bridge'>`) or stand alone (`type='ethernet'`). Virtual networks (bridges, dnsmasq,
//! nftables or iptables) are still to come (issue 5).

pub mod tap;

pub use tap::{Tap, TapError};
