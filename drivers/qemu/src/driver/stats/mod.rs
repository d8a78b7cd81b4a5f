//! Statistics of running guests from QEMU (QMP `query-*`) and `/proc`: vCPUs, memory, block
//! and interface counters, `domstats`, `cpu-stats`, job and control information.
//!
//! Each call follows its counterpart in libvirt's QEMU driver (qemu_driver.c): the same
//! checks, the same error texts, the same typed parameter names and order. CPU times come from
//! QEMU's own cgroup (made by its supervisor, recorded in its status) when it has one; without
//! one, totals come from /proc, and per host CPU times (which need a cgroup) fail with
//! libvirt's words for a missing controller.

use virtsh_api::Error;

mod block;
mod cpu;
mod domstats;
mod job;
mod memory;
mod net;
mod procfs;
mod vcpu;

pub(super) use block::{block_info, block_stats, block_stats_flags, disk_errors};
pub(super) use cpu::{cpu_stats, cpu_stats_count};
pub(super) use domstats::domain_stats;
pub(super) use job::{control_info, job_stats};
pub(super) use memory::memory_stats;
pub(super) use net::interface_stats;
pub(super) use vcpu::{max_vcpus, vcpu_info, vcpus_count};

/// VIR_TYPED_PARAM_STRING_OKAY
pub(super) const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

/// libvirt's virCheckFlags.
pub(super) use virtsh_api::flags::check as check_flags;

pub(super) fn not_running() -> Error {
    Error::invalid_op("domain is not running")
}

#[cfg(test)]
mod tests {
    use super::procfs::proc_stat;
    use super::*;

    #[test]
    fn own_process_stat() {
        assert!(proc_stat(std::process::id() as i32, None).is_ok());
    }

    #[test]
    fn flags_are_checked_as_libvirt_does() {
        assert_eq!(
            check_flags(4, 1, "qemuDomainGetJobStats")
                .unwrap_err()
                .message,
            "unsupported flags (0x4) in function qemuDomainGetJobStats"
        );
    }
}
