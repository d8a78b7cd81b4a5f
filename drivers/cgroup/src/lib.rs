//! Control groups for virtsh's embedded drivers.
//!
//! This crate owns two things, for every driver that runs host processes (the QEMU driver for
//! its guests, and the LXC driver for its containers):
//!
//! - **detection** of the host's cgroup layout from `/proc/self/mountinfo`: the cgroup v1
//!   hierarchies (`cpu`, `cpuacct`, `memory`, `pids`, `cpuset`, mounted together or apart) and
//!   the cgroup v2 (unified) mount. A host that mounts any of those v1 controllers is driven in
//!   v1; a pure v2 host (the modern default) in v2. A hybrid host's extra v2 mount (systemd's
//!   `/sys/fs/cgroup/unified`, without controllers) is not used by default.
//! - **per-object groups**: [`Cgroup::create`] makes `virtsh/PART/PART...` under the top of each
//!   hierarchy (v1: in each of the controllers above that is mounted; v2: once, enabling the
//!   controllers in the `cgroup.subtree_control` of the parents virtsh owns), moves processes in
//!   ([`Cgroup::add_pid`]), reads counters ([`Cgroup::cpu_times`], [`Cgroup::cpu_usage_ns`],
//!   [`Cgroup::cpu_usage_percpu_ns`] (v1 only: v2 has no per-CPU usage),
//!   [`Cgroup::memory_current`]), and removes the group when its processes are gone
//!   ([`Cgroup::remove`]), along with the `virtsh` parents that are then empty.
//! - **controls**, the tunables libvirt sets on a guest or a container, for v1 and v2 alike and
//!   in libvirt's units and conventions: memory limits ([`Cgroup::set_memtune`], in KiB, with
//!   [`MEMORY_UNLIMITED_KIB`]), CPU shares and CFS bandwidth ([`Cgroup::set_cpu_shares`],
//!   [`Cgroup::set_cpu_cfs_quota`]), the block I/O weight ([`Cgroup::set_blkio_weight`]), the
//!   freezer ([`Cgroup::freeze`], [`Cgroup::thaw`]) and the device allow-list
//!   ([`Cgroup::set_devices`]: `devices.allow` on v1, a BPF program on v2).
//!
//! A container also needs the v1 `blkio`, `freezer` and `devices` hierarchies, which QEMU's
//! groups do without: a caller asks for them with [`Cgroup::create_with`] ([`Extra`]).
//!
//! Every error names the file or directory it is about; a control that this host lacks is
//! [`CgroupError::Unsupported`].

mod blkio;
mod bpf;
mod counters;
mod cpu;
mod devices;
mod devprog;
mod error;
mod file;
mod freezer;
mod group;
mod layout;
mod memory;

pub use blkio::BlkioDeviceLimit;
pub use counters::{
    clock_ticks_per_sec, parse_cpu_stat, parse_cpuacct_stat, parse_percpu, CpuTimes,
};
pub use cpu::{
    CPU_PERIOD_MAX, CPU_PERIOD_MIN, CPU_QUOTA_MAX, CPU_QUOTA_MIN, CPU_SHARES_MAX, CPU_SHARES_MIN,
};
pub use devices::{lxc_default_devices, DeviceAccess, DeviceKind, DeviceRule};
pub use error::{CgroupError, Result};
pub use freezer::FreezerState;
pub use group::{sweep_empty, Cgroup};
pub use layout::{Layout, V1Hierarchy, Version};
pub use memory::{MemTune, MEMORY_UNLIMITED_KIB};

/// The name of the parent group virtsh creates at the top of each hierarchy.
pub const ROOT_GROUP: &str = "virtsh";

/// The v1 controllers virtsh makes groups in.
pub const V1_CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "cpuset"];

/// The v1 controllers a group gets only when its creator asks ([`Extra`]).
pub const V1_EXTRA_CONTROLLERS: [&str; 3] = ["blkio", "freezer", "devices"];

/// A v1 controller beyond [`V1_CONTROLLERS`], for [`Cgroup::create_with`]. A container needs
/// all three ([`Extra::ALL`]); QEMU's groups only `blkio`, for `<blkiotune>` (QEMU pauses
/// through QMP, and libvirt's device ACL for QEMU is not used by virtsh). On v2 these ask for nothing: the freezer
/// (`cgroup.freeze`) and the device filter (BPF) are in every group, and `io` is among
/// [`V2_CONTROLLERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extra {
    Blkio,
    Freezer,
    Devices,
}

impl Extra {
    /// Everything a container asks for.
    pub const ALL: [Extra; 3] = [Extra::Blkio, Extra::Freezer, Extra::Devices];

    /// The controller's name, as in `/proc/self/mountinfo`.
    pub fn name(self) -> &'static str {
        match self {
            Extra::Blkio => "blkio",
            Extra::Freezer => "freezer",
            Extra::Devices => "devices",
        }
    }
}

/// The v2 controllers virtsh enables for its groups, when the parent offers them.
pub const V2_CONTROLLERS: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// `VIRTSH_CGROUP=v2`: use the cgroup2 mount only (see [`Layout::detect`]).
pub const FORCE_ENV: &str = "VIRTSH_CGROUP";

/// An object's name as one cgroup directory name, the way libvirt makes machine names: only
/// ASCII letters, digits, `-`, `_` and `.` are kept, at most 64 of them, and a name that would
/// be empty, hidden or clash with a cgroup file (`cgroup.procs`, `cpu.stat`, ...) gets a `_`
/// in front.
pub fn escape_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    let clashes = out.contains('.')
        && out.split('.').next().is_some_and(|p| {
            p == "cgroup"
                || V1_CONTROLLERS.contains(&p)
                || V1_EXTRA_CONTROLLERS.contains(&p)
                || V2_CONTROLLERS.contains(&p)
        });
    if out.is_empty() || out.starts_with('.') || out.starts_with('_') || clashes {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(escape_name("vm1"), "vm1");
        assert_eq!(escape_name("my vm/1,x"), "myvm1x");
        assert_eq!(escape_name("..."), "_...");
        assert_eq!(escape_name("été"), "t");
        assert_eq!(escape_name("ééé"), "_");
        assert_eq!(escape_name("cpu.shares"), "_cpu.shares");
        assert_eq!(escape_name("a.b"), "a.b");
        assert_eq!(escape_name("devices.allow"), "_devices.allow");
        assert_eq!(escape_name("freezer"), "freezer");
        assert_eq!(escape_name(&"x".repeat(80)).len(), 64);
    }
}
