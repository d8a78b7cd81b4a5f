//! The host calls of the QEMU driver: what the machine and its QEMU are.

use virtsh_api::{Error, ErrorKind, HostDriver, NodeInfo, Result};

use super::QemuDriver;
use crate::supervisor::boot::{caps_cache, default_emulator};

/// The libvirt release whose behaviour virtsh reproduces (virConnectGetLibVersion).
const LIB_VERSION: u64 = 9_000_000;

impl QemuDriver {
    fn default_caps(&self) -> Result<crate::caps::QemuCaps> {
        let emulator = default_emulator();
        caps_cache(&self.paths)
            .get(&emulator)
            .map(|l| l.caps)
            .map_err(|e| {
                Error::new(
                    ErrorKind::InternalError,
                    format!("Cannot find suitable emulator for x86_64: {e}"),
                )
            })
    }
}

impl HostDriver for QemuDriver {
    fn uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }

    fn hypervisor_type(&self) -> Result<String> {
        Ok("QEMU".to_string())
    }

    fn hypervisor_version(&self) -> Result<u64> {
        Ok(self.default_caps()?.version.as_libvirt_number())
    }

    fn lib_version(&self) -> Result<u64> {
        Ok(LIB_VERSION)
    }

    fn hostname(&self) -> Result<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .map_err(|e| Error::new(ErrorKind::SystemError, format!("cannot get hostname: {e}")))
    }

    fn node_info(&self) -> Result<NodeInfo> {
        node_info().map_err(|e| {
            Error::new(
                ErrorKind::SystemError,
                format!("cannot read host information: {e}"),
            )
        })
    }

    fn max_vcpus(&self, _virt_type: Option<&str>) -> Result<u32> {
        let caps = self.default_caps()?;
        Ok(caps.default_machine().map_or(255, |m| m.cpu_max))
    }
}

/// virNodeGetInfo from /proc and /sys, as libvirt's `virHostCPUGetInfo` reads them.
fn node_info() -> std::io::Result<NodeInfo> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")?;
    let memory_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo")?;
    let mhz = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |f| f as u32);
    let mut packages = std::collections::BTreeSet::new();
    let mut cores = std::collections::BTreeSet::new();
    let mut cpus = 0u32;
    for e in std::fs::read_dir("/sys/devices/system/cpu")?.flatten() {
        let name = e.file_name();
        let Some(n) = name.to_str().and_then(|n| n.strip_prefix("cpu")) else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let online = std::fs::read_to_string(e.path().join("online"))
            .map(|s| s.trim() == "1")
            .unwrap_or(true);
        if !online {
            continue;
        }
        cpus += 1;
        let topo = |f: &str| {
            std::fs::read_to_string(e.path().join("topology").join(f))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let pkg = topo("physical_package_id");
        cores.insert((pkg.clone(), topo("core_id")));
        packages.insert(pkg);
    }
    let sockets = packages.len().max(1) as u32;
    let cores_per_socket = (cores.len() as u32 / sockets).max(1);
    let threads = (cpus / (sockets * cores_per_socket)).max(1);
    Ok(NodeInfo {
        model: std::env::consts::ARCH.to_string(),
        memory_kib,
        cpus,
        mhz,
        nodes: 1,
        sockets,
        cores: cores_per_socket,
        threads,
    })
}
