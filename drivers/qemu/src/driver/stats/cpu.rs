//! CPU statistics (`cpu-stats`): totals and per host CPU times, from a cgroup or `/proc`.

use std::path::{Path, PathBuf};

use virtsh_api::{Domain, Error, Result, TypedParam};
use virtsh_state::guest_stats::{
    cgroup_percpu_ns, check_total_request, host_cpu_count, missing_cpuacct, percpu_params, ull,
};

use super::procfs::{proc_stat, ticks_to_ns};
use super::vcpu::qemu_pid;
use super::{check_flags, not_running, TYPED_PARAM_STRING_OKAY};
use crate::driver::{DomainView, QemuDriver};

/// The cgroup v1 cpuacct directory that holds QEMU and nothing else, if there is one: only
/// then are its counters the guest's.
fn dedicated_cpuacct(pid: i32) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let rel = text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let _id = parts.next()?;
        let ctrls = parts.next()?;
        let path = parts.next()?;
        ctrls.split(',').any(|c| c == "cpuacct").then_some(path)
    })?;
    if rel == "/" {
        return None;
    }
    let rel = rel.trim_start_matches('/');
    let dir = ["cpu,cpuacct", "cpuacct,cpu", "cpuacct"]
        .iter()
        .map(|m| Path::new("/sys/fs/cgroup").join(m).join(rel))
        .find(|d| d.join("cpuacct.usage").is_file())?;
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).ok()?;
    let pid_s = pid.to_string();
    procs.lines().all(|l| l.trim() == pid_s).then_some(dir)
}

/// QEMU's own cgroup, as its supervisor recorded it; None when QEMU runs without one.
fn qemu_cgroup(v: &DomainView) -> Option<virtsh_cgroup::Cgroup> {
    virtsh_cgroup::Cgroup::open(v.status.cgroup.as_deref()?).ok()
}

/// The domain's total CPU times (ns): cpu_time, user_time, system_time.
pub(super) fn cpu_totals(v: &DomainView, pid: i32) -> Result<(u64, u64, u64)> {
    if let Some(t) = qemu_cgroup(v).and_then(|cg| cg.cpu_times().ok()) {
        return Ok((t.usage_ns, t.user_ns, t.system_ns));
    }
    if let Some(dir) = dedicated_cpuacct(pid) {
        let usage = std::fs::read_to_string(dir.join("cpuacct.usage"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let stat = std::fs::read_to_string(dir.join("cpuacct.stat")).unwrap_or_default();
        let field = |name: &str| {
            stat.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
        };
        if let (Some(u), Some(user), Some(sys)) = (usage, field("user "), field("system ")) {
            return Ok((u, ticks_to_ns(user), ticks_to_ns(sys)));
        }
    }
    let st = proc_stat(pid, None)
        .map_err(|e| Error::internal(format!("cannot read /proc/{pid}/stat: {e}")))?;
    Ok((st.cpu_ns(), st.user_ns, st.system_ns))
}

/// virDomainGetCPUStats(dom, NULL, 0, 0, 0, flags): the number of host CPUs the per-CPU
/// statistics cover. They come from QEMU's own cgroup (also on cgroup v2, where libvirt
/// counts the CPUs and only fails when reading them).
pub(in crate::driver) fn cpu_stats_count(
    drv: &QemuDriver,
    dom: &Domain,
    flags: u32,
) -> Result<u32> {
    check_flags(flags, TYPED_PARAM_STRING_OKAY, "qemuDomainGetCPUStats")?;
    let v = drv.view_of(dom)?;
    let pid = qemu_pid(&v).map_err(|_| not_running())?;
    if qemu_cgroup(&v).is_none() && dedicated_cpuacct(pid).is_none() {
        return Err(missing_cpuacct());
    }
    Ok(host_cpu_count() as u32)
}

/// qemuDomainGetCPUStats: the totals (`start_cpu` -1: cpu_time, user_time, system_time, from
/// the cgroup when QEMU has one, else from /proc as libvirt's domstats does), or per host CPU
/// (cpu_time, from a cgroup only: cpuacct.usage_percpu of cgroup v1).
pub(in crate::driver) fn cpu_stats(
    drv: &QemuDriver,
    dom: &Domain,
    start_cpu: i32,
    ncpus: u32,
    flags: u32,
) -> Result<Vec<Vec<TypedParam>>> {
    check_flags(flags, TYPED_PARAM_STRING_OKAY, "qemuDomainGetCPUStats")?;
    let v = drv.view_of(dom)?;
    let pid = qemu_pid(&v).map_err(|_| not_running())?;
    if start_cpu == -1 {
        check_total_request(ncpus)?;
        let (total, user, sys) = cpu_totals(&v, pid)?;
        return Ok(vec![vec![
            ull("cpu_time", total),
            ull("user_time", user),
            ull("system_time", sys),
        ]]);
    }
    percpu_params(start_cpu, ncpus, || match qemu_cgroup(&v) {
        Some(cg) => cgroup_percpu_ns(&cg),
        None => {
            let dir = dedicated_cpuacct(pid).ok_or_else(missing_cpuacct)?;
            Ok(std::fs::read_to_string(dir.join("cpuacct.usage_percpu"))
                .map_err(|e| Error::internal(format!("cannot read cpuacct.usage_percpu: {e}")))?
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect())
        }
    })
}
