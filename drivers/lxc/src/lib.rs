//! virtsh-lxc: the embedded LXC driver (`lxc:///system`, `lxc:///session`,
//! `lxc:///embed?root=DIR`), libvirt-style containers with no daemon.
//!
//! - [`container`]: making one container process: new namespaces, its root filesystem and
//!   mounts, a minimal `/dev`, the hostname, dropped capabilities, and the exec of its init.

pub mod container;
