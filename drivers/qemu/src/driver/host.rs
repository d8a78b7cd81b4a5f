//! The host calls of the QEMU driver: what the machine and its QEMU are.

use std::path::{Path, PathBuf};

use virtsh_api::{Error, ErrorKind, HostDriver, NodeInfo, Result};

use super::QemuDriver;
use crate::caps::QemuCaps;
use crate::supervisor::boot::{caps_cache, default_emulator};

mod capsxml;
mod native;

impl QemuDriver {
    /// The capabilities of `binary`: from this connection's memory while the binary is the
    /// same file (a chain of a thousand `define`s reads the cache file once), else from the
    /// capabilities cache (which probes when it must).
    pub(crate) fn caps_for(
        &self,
        binary: &Path,
    ) -> std::result::Result<QemuCaps, crate::caps::CapsError> {
        let key = crate::caps::BinaryKey::of(binary).ok();
        let mut memo = self.caps.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(key), Some(c)) = (&key, memo.get(binary)) {
            if &c.key == key {
                return Ok(c.clone());
            }
        }
        let caps = caps_cache(&self.reg.paths).get(binary)?.caps;
        memo.insert(binary.to_path_buf(), caps.clone());
        Ok(caps)
    }

    fn default_caps(&self) -> Result<crate::caps::QemuCaps> {
        let emulator = default_emulator();
        self.caps_for(&emulator).map_err(|e| {
            Error::new(
                ErrorKind::InternalError,
                format!("Cannot find suitable emulator for x86_64: {e}"),
            )
        })
    }
}

impl HostDriver for QemuDriver {
    /// libvirt's QEMU driver with `security_driver = "none"` (no SELinux or AppArmor
    /// confinement), which is what virtsh is: `dominfo` then shows model `none`, DOI `0`.
    fn security_model(&self) -> Result<virtsh_api::SecurityModel> {
        Ok(virtsh_state::host::no_security_model())
    }

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
        Ok(virtsh_state::host::LIB_VERSION)
    }

    fn hostname(&self) -> Result<String> {
        virtsh_state::host::hostname()
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

    fn capabilities(&self) -> Result<String> {
        let x86_64 = self.default_caps()?;
        let emulator = default_emulator();
        // libvirt serves i686 guests with qemu-system-i386 when it is installed, else with the
        // x86_64 binary.
        let i386 = emulator.with_file_name("qemu-system-i386");
        let i686 = if i386.is_file() {
            self.caps_for(&i386).ok().map(|c| (i386.clone(), c))
        } else {
            None
        };
        let i686 = i686.unwrap_or_else(|| (emulator.clone(), x86_64.clone()));
        Ok(capsxml::capabilities(&[
            ("i686", i686.0.as_path(), &i686.1),
            ("x86_64", emulator.as_path(), &x86_64),
        ]))
    }

    fn domain_capabilities(
        &self,
        emulator: Option<&str>,
        arch: Option<&str>,
        machine: Option<&str>,
        virttype: Option<&str>,
        _flags: u32,
    ) -> Result<String> {
        let virttype = virttype.unwrap_or(if kvm_usable() { "kvm" } else { "qemu" });
        if !matches!(virttype, "qemu" | "kvm") {
            return Err(match virttype {
                "xen" | "lxc" | "test" | "vmware" | "hyperv" | "vbox" | "parallels" | "bhyve"
                | "vz" | "kqemu" | "uml" | "openvz" | "phyp" | "hvf" | "none" => Error::new(
                    ErrorKind::ConfigUnsupported,
                    format!(
                        "virttype '{virttype}' is not supported by '{}' on this host",
                        emulator
                            .map(PathBuf::from)
                            .unwrap_or_else(default_emulator)
                            .display()
                    ),
                ),
                _ => Error::new(
                    ErrorKind::InvalidArg,
                    format!("unknown virttype: {virttype}"),
                ),
            });
        }
        let arch = match arch {
            None => None,
            Some(a @ ("x86_64" | "i686")) => Some(a),
            Some(a) if virtsh_xml::domain::ARCHES.contains(&a) => {
                return Err(Error::new(
                    ErrorKind::InvalidArg,
                    format!("unable to find any emulator to serve '{a}' architecture"),
                ))
            }
            Some(a) => {
                return Err(Error::new(
                    ErrorKind::InvalidArg,
                    format!("unknown architecture: {a}"),
                ))
            }
        };
        let binary = match emulator {
            Some(e) => PathBuf::from(e),
            None if arch == Some("i686") => {
                let i386 = default_emulator().with_file_name("qemu-system-i386");
                if i386.is_file() {
                    i386
                } else {
                    default_emulator()
                }
            }
            None => default_emulator(),
        };
        let arch = arch.unwrap_or(if binary.ends_with("qemu-system-i386") {
            "i686"
        } else {
            "x86_64"
        });
        let caps = self.caps_of(&binary)?;
        if virttype == "kvm" && !kvm_usable() {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "KVM is not supported by '{}' on this host",
                    binary.display()
                ),
            ));
        }
        let m = match machine {
            Some(name) => caps
                .machine(name)
                .filter(|m| m.name != "none")
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArg,
                        format!(
                            "the machine '{name}' is not supported by emulator '{}'",
                            binary.display()
                        ),
                    )
                })?,
            None => caps.default_machine().ok_or_else(|| {
                Error::internal(format!("no default machine type in '{}'", binary.display()))
            })?,
        };
        Ok(capsxml::domain_capabilities(
            &binary, &caps, arch, m, virttype,
        ))
    }

    fn sysinfo(&self) -> Result<String> {
        Ok(capsxml::sysinfo())
    }

    // libvirt 9.0 reads the model names from its own cpu_map (src/cpu_map/x86_*.xml). virtsh
    // has no cpu_map: it lists the models the probed QEMU offers (query-cpu-definitions),
    // which for x86 is the same family of names plus QEMU's versioned aliases (-v1, -v2...).
    fn cpu_model_names(&self, arch: &str, _flags: u32) -> Result<Vec<String>> {
        if !matches!(arch, "x86_64" | "i686") {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                format!("cannot find architecture {arch}"),
            ));
        }
        let caps = self.default_caps()?;
        Ok(caps
            .cpu_models
            .iter()
            .filter(|m| capsxml::is_named_model(&m.name))
            .map(|m| m.name.clone())
            .collect())
    }

    fn domain_xml_to_native(&self, format: &str, xml: &str, _flags: u32) -> Result<String> {
        if format != "qemu-argv" {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                format!("unsupported config type {format}"),
            ));
        }
        native::xml_to_argv(self, xml)
    }
}

impl QemuDriver {
    /// The capabilities of the QEMU binary `binary` (probed once, then cached).
    pub(super) fn caps_of(&self, binary: &Path) -> Result<QemuCaps> {
        if let Err(e) = std::fs::metadata(binary) {
            return Err(Error::new(
                ErrorKind::SystemError,
                format!(
                    "Cannot check QEMU binary {}: {}",
                    binary.display(),
                    virtsh_api::strerror(&e)
                ),
            ));
        }
        self.caps_for(binary).map_err(|e| {
            Error::new(
                ErrorKind::InternalError,
                format!("Cannot check QEMU binary {}: {e}", binary.display()),
            )
        })
    }
}

/// Whether this process can use KVM (/dev/kvm opens read-write).
pub(super) fn kvm_usable() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
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
