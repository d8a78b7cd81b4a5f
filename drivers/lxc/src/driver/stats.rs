//! Counters of containers, from their cgroup and the host ends of their veths: `cpu-stats`,
//! `dommemstat`, `domifstat` and `domstats`, as libvirt's lxc_driver.c answers them.
//!
//! libvirt 9.0's LXC driver has no virConnectGetAllDomainStats; virtsh answers `domstats`
//! for containers with the groups a container has (state, cpu-total, balloon, vcpu counts,
//! interface), in the names and order of libvirt's QEMU driver.

use virtsh_api::flags::stats as sg;
use virtsh_api::{
    Domain, DomainDriver, DomainStatsRecord, Error, InterfaceStats, Result, TypedParam,
};
use virtsh_state::domains::DomainView;
use virtsh_state::guest_stats::{
    cgroup_percpu_ns, check_total_request, gather_records, host_cpu_count, interface_params,
    interface_stats_of, missing_cpuacct, percpu_params, state_params, stats_groups,
    stats_list_filter, total_cpu_params, uint, ull,
};

use super::LxcDriver;

/// VIR_TYPED_PARAM_STRING_OKAY
const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;
/// virDomainMemoryStatTags that a container has.
const TAG_SWAP_IN: i32 = 0;
const TAG_ACTUAL_BALLOON: i32 = 6;
const TAG_RSS: i32 = 7;
/// The `domstats` groups of a container.
const STATS_SUPPORTED: u32 = sg::STATE | sg::CPU_TOTAL | sg::BALLOON | sg::VCPU | sg::INTERFACE;

impl LxcDriver {
    /// The cgroup of a running container, for a call that needs it running.
    fn running_cgroup(&self, dom: &Domain) -> Result<(DomainView, virtsh_cgroup::Cgroup)> {
        let v = self.view_of(dom)?;
        v.check_active()?;
        let cg = Self::cgroup_of(&v)?;
        Ok((v, cg))
    }

    /// lxcDomainGetCPUStats with no CPUs asked: how many host CPUs the statistics cover.
    pub(super) fn cpu_stats_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        virtsh_api::flags::check(flags, TYPED_PARAM_STRING_OKAY, "lxcDomainGetCPUStats")?;
        self.running_cgroup(dom)?;
        Ok(host_cpu_count() as u32)
    }

    /// lxcDomainGetCPUStats: the totals (`start_cpu` -1) or per host CPU, from the cgroup.
    pub(super) fn cpu_stats(
        &self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        virtsh_api::flags::check(flags, TYPED_PARAM_STRING_OKAY, "lxcDomainGetCPUStats")?;
        let (_, cg) = self.running_cgroup(dom)?;
        if start_cpu == -1 {
            check_total_request(ncpus)?;
            return Ok(vec![total_cpu_params(&cg).map_err(|_| missing_cpuacct())?]);
        }
        percpu_params(start_cpu, ncpus, || cgroup_percpu_ns(&cg))
    }

    /// lxcDomainMemoryStats: the balloon (the current memory), the swap usage and the memory
    /// usage of the cgroup, in KiB.
    pub(super) fn memory_stats(&self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        let (v, cg) = self.running_cgroup(dom)?;
        let fail = |e: virtsh_cgroup::CgroupError| Error::internal(e.to_string());
        let swap = cg.memory_swap_current().map_err(fail)?;
        let rss = cg.memory_current().map_err(fail)?;
        Ok(vec![
            (TAG_ACTUAL_BALLOON, v.def.current_memory_kib),
            (TAG_SWAP_IN, swap / 1024),
            (TAG_RSS, rss / 1024),
        ])
    }

    /// lxcDomainInterfaceStats: the host end of the veth, swapped to the container's view.
    pub(super) fn interface_stats(&self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        let v = self.view_of(dom)?;
        v.check_active()?;
        interface_stats_of(&v.def.devices.interfaces, device)
    }

    /// `domstats` for containers (see the module doc).
    pub(super) fn all_stats(
        &self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        let stats = stats_groups(stats, flags, STATS_SUPPORTED, "lxcConnectGetAllDomainStats")?;
        let listed = self.list_all_domains(stats_list_filter(flags))?;
        Ok(gather_records(listed, doms, |dom| {
            self.stats_record(dom, stats)
        }))
    }

    /// The record of one container; None when it went away meanwhile.
    fn stats_record(&self, dom: &Domain, stats: u32) -> Option<DomainStatsRecord> {
        let v = self.view_of(dom).ok()?;
        let mut p = Vec::new();
        if stats & sg::STATE != 0 {
            state_params(v.status.state, v.status.reason, &mut p);
        }
        let cg = if v.is_active() {
            Self::cgroup_of(&v).ok()
        } else {
            None
        };
        if stats & sg::CPU_TOTAL != 0 {
            if let Some(t) = cg.as_ref().and_then(|cg| cg.cpu_times().ok()) {
                p.push(ull("cpu.time", t.usage_ns));
                p.push(ull("cpu.user", t.user_ns));
                p.push(ull("cpu.system", t.system_ns));
            }
        }
        if stats & sg::BALLOON != 0 {
            p.push(ull("balloon.current", v.def.current_memory_kib));
            p.push(ull("balloon.maximum", v.def.memory_kib));
            if let Some(cg) = &cg {
                if let Ok(swap) = cg.memory_swap_current() {
                    p.push(ull("balloon.swap_in", swap / 1024));
                }
                if let Ok(rss) = cg.memory_current() {
                    p.push(ull("balloon.rss", rss / 1024));
                }
            }
        }
        if stats & sg::VCPU != 0 {
            p.push(uint("vcpu.current", v.def.current_vcpus));
            p.push(uint("vcpu.maximum", v.def.vcpus));
        }
        if stats & sg::INTERFACE != 0 && v.is_active() {
            interface_params(&v.def.devices.interfaces, &mut p);
        }
        Some(DomainStatsRecord {
            domain: v.handle(),
            params: p,
        })
    }
}
