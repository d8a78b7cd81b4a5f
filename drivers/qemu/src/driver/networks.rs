//! Virtual networks on a QEMU connection: the embedded network driver of the same state
//! root ([`virtsh_network::NetworkHost`]), as libvirt's qemu:// connections reach its network
//! driver.

use super::QemuDriver;

virtsh_network::network_driver_via!(QemuDriver, networks);
