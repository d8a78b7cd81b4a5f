//! virtsh-lxc: the embedded LXC driver (`lxc:///system`, `lxc:///session`,
//! `lxc:///embed?root=DIR`), libvirt-style containers with no daemon.
//!
//! - [`container`]: making one container process: new namespaces, its root filesystem and
//!   mounts, a minimal `/dev`, the hostname, dropped capabilities, and the exec of its init.
//! - [`spec`]: the domain XML of a container turned into that process's spec.
//! - [`supervisor`]: the per-container process (`virtsh __lxc-supervise`), the parent of the
//!   init: console relay, veths, cgroup, and the cleanup when the init ends.
//! - [`driver`]: the connection: definitions, lifecycle, console.

pub mod container;
pub mod driver;
pub mod spec;
pub mod supervisor;

pub use driver::{open, LxcDriver};
