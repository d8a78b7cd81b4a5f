//! `domstats` (virConnectGetAllDomainStats): the typed parameter records of every stats group.

use virtsh_api::flags::stats as sg;
use virtsh_api::{Domain, DomainDriver, DomainStatsRecord, Result, TypedParam, TypedValue};
use virtsh_state::guest_stats::{
    gather_records, interface_params, state_params, stats_groups, stats_list_filter, uint, ull,
};

use super::block::{block_entries, entry_for, node_index, physical_size, storage_limits};
use super::cpu::cpu_totals;
use super::memory::{has_balloon, memory_stats_of, tag};
use super::procfs::{proc_stat, sched_wait_ns, schedstat_delay_ns};
use super::vcpu::vcpu_threads;
use crate::driver::{DomainView, QemuDriver};

/// The groups this driver answers. perf, iothread and memory are empty for the guests virtsh
/// runs (no perf events, iothreads or resctrl monitors), as libvirt's are then.
const STATS_SUPPORTED: u32 = sg::STATE
    | sg::CPU_TOTAL
    | sg::BALLOON
    | sg::VCPU
    | sg::INTERFACE
    | sg::BLOCK
    | sg::PERF
    | sg::IOTHREAD
    | sg::MEMORY;

/// qemuConnectGetAllDomainStats (`domstats`): the records of `doms` (every domain when empty)
/// that pass the list filters in `flags`, gathered in parallel.
pub(in crate::driver) fn domain_stats(
    drv: &QemuDriver,
    doms: &[Domain],
    stats: u32,
    flags: u32,
) -> Result<Vec<DomainStatsRecord>> {
    let stats = stats_groups(
        stats,
        flags,
        STATS_SUPPORTED,
        "qemuConnectGetAllDomainStats",
    )?;
    let listed = drv.list_all_domains(stats_list_filter(flags))?;
    Ok(gather_records(listed, doms, |dom| {
        one_record(drv, dom, stats)
    }))
}

/// The record of one domain; None when it went away meanwhile.
fn one_record(drv: &QemuDriver, dom: &Domain, stats: u32) -> Option<DomainStatsRecord> {
    let v = drv.view_of(dom).ok()?;
    let handle = v.handle();
    let mut p = Vec::new();
    if stats & sg::STATE != 0 {
        state_params(v.status.state, v.status.reason, &mut p);
    }
    // A guest that stops meanwhile gives what libvirt gives for an inactive one.
    let pid = v
        .is_active()
        .then(|| v.status.process.map(|q| q.pid))
        .flatten();
    if stats & sg::CPU_TOTAL != 0 {
        if let Some(st) = pid.and_then(|pid| cpu_totals(&v, pid).ok()) {
            p.push(ull("cpu.time", st.0));
            p.push(ull("cpu.user", st.1));
            p.push(ull("cpu.system", st.2));
        }
    }
    if stats & sg::BALLOON != 0 {
        stats_balloon(drv, &handle, &v, &mut p);
    }
    if stats & sg::VCPU != 0 {
        stats_vcpu(drv, &handle, &v, pid, &mut p);
    }
    if stats & sg::INTERFACE != 0 && v.is_active() {
        interface_params(&v.def.devices.interfaces, &mut p);
    }
    if stats & sg::BLOCK != 0 {
        stats_block(drv, &handle, &v, &mut p);
    }
    Some(DomainStatsRecord {
        domain: handle,
        params: p,
    })
}

/// qemuDomainGetStatsBalloon
fn stats_balloon(drv: &QemuDriver, dom: &Domain, v: &DomainView, p: &mut Vec<TypedParam>) {
    let balloon = has_balloon(&v.def);
    let mem = if v.is_active() && balloon {
        memory_stats_of(drv, dom, v).ok()
    } else {
        None
    };
    let current = if balloon {
        mem.as_ref()
            .and_then(|m| m.iter().find(|(t, _)| *t == tag::ACTUAL).map(|(_, n)| *n))
            .unwrap_or(v.def.current_memory_kib)
    } else {
        v.def.memory_kib
    };
    p.push(ull("balloon.current", current));
    p.push(ull("balloon.maximum", v.def.memory_kib));
    if !v.is_active() {
        return;
    }
    let mem = match mem {
        Some(m) => m,
        None => match memory_stats_of(drv, dom, v) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    for (t, n) in mem {
        let name = match t {
            tag::SWAP_IN => "swap_in",
            tag::SWAP_OUT => "swap_out",
            tag::MAJOR_FAULT => "major_fault",
            tag::MINOR_FAULT => "minor_fault",
            tag::UNUSED => "unused",
            tag::AVAILABLE => "available",
            tag::RSS => "rss",
            tag::LAST_UPDATE => "last-update",
            tag::USABLE => "usable",
            tag::DISK_CACHES => "disk_caches",
            tag::HUGETLB_PGALLOC => "hugetlb_pgalloc",
            tag::HUGETLB_PGFAIL => "hugetlb_pgfail",
            _ => continue,
        };
        p.push(ull(format!("balloon.{name}"), n));
    }
}

/// qemuDomainGetStatsVcpu: the counts always, per vCPU state and times while running.
fn stats_vcpu(
    drv: &QemuDriver,
    dom: &Domain,
    v: &DomainView,
    pid: Option<i32>,
    p: &mut Vec<TypedParam>,
) {
    p.push(uint("vcpu.current", v.def.current_vcpus));
    p.push(uint("vcpu.maximum", v.def.vcpus));
    let Some(pid) = pid else { return };
    let Ok(threads) = vcpu_threads(drv, dom) else {
        return;
    };
    for t in threads {
        let n = t.index;
        let st = proc_stat(pid, Some(t.tid)).unwrap_or_default();
        p.push(TypedParam::new(
            format!("vcpu.{n}.state"),
            TypedValue::Int(1),
        ));
        p.push(ull(format!("vcpu.{n}.time"), st.cpu_ns()));
        p.push(ull(format!("vcpu.{n}.wait"), sched_wait_ns(pid, t.tid)));
        p.push(ull(
            format!("vcpu.{n}.delay"),
            schedstat_delay_ns(pid, t.tid),
        ));
    }
}

/// qemuDomainGetStatsBlock: name and path of every disk; QEMU's counters and sizes while
/// running, the sizes of the files otherwise.
fn stats_block(drv: &QemuDriver, dom: &Domain, v: &DomainView, p: &mut Vec<TypedParam>) {
    let entries = if v.is_active() {
        block_entries(drv, dom, true).unwrap_or_default()
    } else {
        Vec::new()
    };
    let disks = &v.def.devices.disks;
    p.push(uint("block.count", disks.len() as u32));
    for (i, disk) in disks.iter().enumerate() {
        p.push(TypedParam::new(
            format!("block.{i}.name"),
            TypedValue::String(disk.target_dev.clone()),
        ));
        let src = disk.source.as_deref().filter(|s| !s.is_empty());
        let local = matches!(disk.disk_type.as_str(), "file" | "block" | "dir");
        if let (Some(src), true) = (src, local) {
            p.push(TypedParam::new(
                format!("block.{i}.path"),
                TypedValue::String(src.to_string()),
            ));
        }
        if !v.is_active() {
            if src.is_none() || !local {
                continue;
            }
            if let Ok((capacity, allocation, physical)) = storage_limits(disk) {
                for (f, n) in [
                    ("allocation", allocation),
                    ("capacity", capacity),
                    ("physical", physical),
                ] {
                    if n != 0 {
                        p.push(ull(format!("block.{i}.{f}"), n));
                    }
                }
            }
            continue;
        }
        let Some(e) = entry_for(&v.def, i, &entries) else {
            continue;
        };
        if src.is_some() {
            if let Some(id) = node_index(e) {
                p.push(uint(format!("block.{i}.backingIndex"), id));
            }
        }
        if e.stats.is_some() {
            for (f, q) in [
                ("rd.reqs", "rd_operations"),
                ("rd.bytes", "rd_bytes"),
                ("rd.times", "rd_total_time_ns"),
                ("wr.reqs", "wr_operations"),
                ("wr.bytes", "wr_bytes"),
                ("wr.times", "wr_total_time_ns"),
                ("fl.reqs", "flush_operations"),
                ("fl.times", "flush_total_time_ns"),
            ] {
                p.push(ull(format!("block.{i}.{f}"), e.stat(q).unwrap_or(0)));
            }
        }
        if src.is_none() {
            continue;
        }
        if let Some(w) = e.wr_highest_offset {
            p.push(ull(format!("block.{i}.allocation"), w));
        }
        if let Some(c) = e.capacity.filter(|c| *c != 0) {
            p.push(ull(format!("block.{i}.capacity"), c));
        }
        if let Some(ph) = e.actual.filter(|a| *a != 0).or_else(|| physical_size(disk)) {
            p.push(ull(format!("block.{i}.physical"), ph));
        }
    }
}
