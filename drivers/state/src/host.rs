//! What every local driver answers alike about its host: the library version virsh reports,
//! the host name, and the security model when no security driver confines guests.

use virtsh_api::{Error, ErrorKind, Result, SecurityModel};

/// libvirt 9.0.0, the version whose behaviour virtsh follows (virsh's `version`).
pub const LIB_VERSION: u64 = 9_000_000;

/// virConnectGetHostname.
pub fn hostname() -> Result<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::new(ErrorKind::SystemError, format!("cannot get hostname: {e}")))
}

/// virNodeGetSecurityModel with no security driver (no SELinux or AppArmor labels).
pub fn no_security_model() -> SecurityModel {
    SecurityModel {
        model: "none".to_string(),
        doi: "0".to_string(),
    }
}
