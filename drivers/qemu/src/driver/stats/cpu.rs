//! CPU statistics (`cpu-stats`): totals and per host CPU times, from a cgroup or `/proc`.

use std::path::{Path, PathBuf};

use virtsh_api::{Domain, Error, ErrorKind, Result, TypedParam, TypedValue};

use super::procfs::{host_cpu_count, proc_stat, ticks_to_ns};
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

fn missing_cpuacct() -> Error {
    Error::invalid_op("cgroup CPUACCT controller is not mounted")
}

/// QEMU's own cgroup, as its supervisor recorded it; None when QEMU runs without one.
fn qemu_cgroup(v: &DomainView) -> Option<virtsh_cgroup::Cgroup> {
    virtsh_cgroup::Cgroup::open(v.status.cgroup.as_deref()?).ok()
}

/// libvirt's error for per host CPU times on cgroup v2, which has no cpuacct.usage_percpu
/// (the cgroup v2 backend has no getCpuacctPercpuUsage).
fn percpu_unsupported_v2() -> Error {
    Error::new(
        ErrorKind::OperationUnsupported,
        "operation 'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'",
    )
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
    let ull = |f: &str, n: u64| TypedParam::new(f, TypedValue::ULLong(n));
    if start_cpu == -1 {
        if ncpus != 1 {
            return Err(Error::invalid_arg(
                "ncpus in virDomainGetCPUStats must be 1 when start_cpu is -1",
            ));
        }
        let (total, user, sys) = cpu_totals(&v, pid)?;
        return Ok(vec![vec![
            ull("cpu_time", total),
            ull("user_time", user),
            ull("system_time", sys),
        ]]);
    }
    let cgroup = qemu_cgroup(&v);
    let dir = match &cgroup {
        Some(_) => None,
        None => Some(dedicated_cpuacct(pid).ok_or_else(missing_cpuacct)?),
    };
    let max = host_cpu_count();
    if start_cpu < 0 || start_cpu as usize >= max {
        return Err(Error::invalid_arg(format!(
            "start_cpu {start_cpu} larger than maximum of {}",
            max.saturating_sub(1)
        )));
    }
    let percpu: Vec<u64> = match (&cgroup, dir) {
        (Some(cg), _) => cg.cpu_usage_percpu_ns().map_err(|e| match e {
            virtsh_cgroup::CgroupError::PerCpuUnsupported { .. } => percpu_unsupported_v2(),
            e => Error::internal(e.to_string()),
        })?,
        (None, Some(dir)) => std::fs::read_to_string(dir.join("cpuacct.usage_percpu"))
            .map_err(|e| Error::internal(format!("cannot read cpuacct.usage_percpu: {e}")))?
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect(),
        (None, None) => return Err(missing_cpuacct()),
    };
    let start = start_cpu as usize;
    let end = (start + ncpus as usize).min(max);
    Ok((start..end)
        .map(|i| match percpu.get(i) {
            Some(n) => vec![ull("cpu_time", *n)],
            None => Vec::new(),
        })
        .collect())
}
