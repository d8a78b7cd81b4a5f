//! The `HostDriver` calls of the LXC driver that a container connection needs.

use virtsh_api::{Error, ErrorKind, HostDriver, Result};

use super::LxcDriver;

impl HostDriver for LxcDriver {
    /// No security driver (SELinux, AppArmor) confines containers here.
    fn security_model(&self) -> Result<virtsh_api::SecurityModel> {
        Ok(virtsh_state::host::no_security_model())
    }

    fn uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }

    fn hypervisor_type(&self) -> Result<String> {
        Ok("LXC".to_string())
    }

    /// lxcConnectGetVersion: the running kernel's version (major * 1000000 + minor * 1000 +
    /// micro), as libvirt reports for containers.
    fn hypervisor_version(&self) -> Result<u64> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_err(|e| {
            Error::new(
                ErrorKind::SystemError,
                format!(
                    "Cannot read the kernel version: {}",
                    virtsh_api::strerror(&e)
                ),
            )
        })?;
        let mut parts = release
            .trim()
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u64>().unwrap_or(0));
        let (a, b, c) = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        Ok(a * 1_000_000 + b * 1_000 + c)
    }

    fn lib_version(&self) -> Result<u64> {
        Ok(virtsh_state::host::LIB_VERSION)
    }

    fn hostname(&self) -> Result<String> {
        virtsh_state::host::hostname()
    }
}
