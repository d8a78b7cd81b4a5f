//! The sysctls libvirt's network driver sets for a virtual network, written to `/proc/sys`.
//!
//! `/proc/sys/net` belongs to the network namespace of the thread that opens the file, so these
//! act on the caller's namespace, like the netlink calls beside them.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{check_name, BridgeError};

const SYSCTL_NET: &str = "/proc/sys/net";

fn write_sysctl(path: PathBuf, value: &str) -> Result<(), BridgeError> {
    // No create, no truncate: a sysctl file takes the whole value in one write.
    let result = OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{value}\n").as_bytes()));
    result.map_err(|source| BridgeError::Sysctl {
        path,
        value: value.to_string(),
        source,
    })
}

/// `net.ipv4.ip_forward = 1`, for a network with `<forward mode='nat'|'route'>` and IPv4.
pub fn enable_ipv4_forwarding() -> Result<(), BridgeError> {
    write_sysctl(Path::new(SYSCTL_NET).join("ipv4/ip_forward"), "1")
}

/// `net.ipv6.conf.all.forwarding = 1`, for a forwarding network with IPv6.
pub fn enable_ipv6_forwarding() -> Result<(), BridgeError> {
    write_sysctl(Path::new(SYSCTL_NET).join("ipv6/conf/all/forwarding"), "1")
}

/// `net.ipv6.conf.BRIDGE.disable_ipv6`: libvirt disables IPv6 on a bridge whose network has no
/// IPv6 address, and enables it otherwise (the default is not known).
///
/// Disabling is a no-op on a kernel without IPv6 (no `/proc/sys/net/ipv6`), as in libvirt;
/// enabling there is an error naming the missing file.
pub fn set_ipv6_disabled(bridge: &str, disabled: bool) -> Result<(), BridgeError> {
    check_name(bridge)?;
    let path = Path::new(SYSCTL_NET).join(format!("ipv6/conf/{bridge}/disable_ipv6"));
    if disabled && !Path::new(SYSCTL_NET).join("ipv6").exists() {
        return Ok(());
    }
    write_sysctl(path, if disabled { "1" } else { "0" })
}

/// `net.ipv6.conf.BRIDGE.accept_ra`: libvirt sets 0, so that a guest cannot hijack the host's
/// routing by sending router advertisements on the bridge.
pub fn set_accept_ra(bridge: &str, value: u32) -> Result<(), BridgeError> {
    set_ipv6_conf(bridge, "accept_ra", value)
}

/// `net.ipv6.conf.BRIDGE.autoconf`: libvirt sets 0, as for every interface used as a gateway.
pub fn set_autoconf(bridge: &str, value: u32) -> Result<(), BridgeError> {
    set_ipv6_conf(bridge, "autoconf", value)
}

fn set_ipv6_conf(bridge: &str, key: &str, value: u32) -> Result<(), BridgeError> {
    check_name(bridge)?;
    write_sysctl(
        Path::new(SYSCTL_NET).join(format!("ipv6/conf/{bridge}/{key}")),
        &value.to_string(),
    )
}

/// Reads a sysctl under `/proc/sys/net` (e.g. `"ipv4/ip_forward"`), trimmed. For checks and
/// tests; `key` is relative and must not contain `..`.
pub fn read_net_sysctl(key: &str) -> Result<String, BridgeError> {
    if key.is_empty() || key.starts_with('/') || key.split('/').any(|part| part == "..") {
        return Err(BridgeError::InvalidArgument(format!(
            "invalid sysctl key '{key}'"
        )));
    }
    let path = Path::new(SYSCTL_NET).join(key);
    std::fs::read_to_string(&path)
        .map(|text| text.trim().to_string())
        .map_err(|source| BridgeError::SysctlRead { path, source })
}
