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
//!
//! Every error names the file or directory it is about.

mod counters;
mod error;
mod file;
mod group;
mod layout;

pub use counters::{
    clock_ticks_per_sec, parse_cpu_stat, parse_cpuacct_stat, parse_percpu, CpuTimes,
};
pub use error::{CgroupError, Result};
pub use group::{sweep_empty, Cgroup};
pub use layout::{Layout, V1Hierarchy, Version};

/// The name of the parent group virtsh creates at the top of each hierarchy.
pub const ROOT_GROUP: &str = "virtsh";

/// The v1 controllers virtsh makes groups in.
pub const V1_CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "cpuset"];

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
            p == "cgroup" || V1_CONTROLLERS.contains(&p) || V2_CONTROLLERS.contains(&p)
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
        assert_eq!(escape_name(&"x".repeat(80)).len(), 64);
    }
}
