//! Statistics of running guests from QEMU (QMP `query-*`) and `/proc`: vCPUs, memory, block
//! and interface counters, `domstats`, `cpu-stats`, job and control information.
//!
//! Each call follows its counterpart in libvirt's QEMU driver (qemu_driver.c): the same
//! checks, the same error texts, the same typed parameter names and order. CPU times come from
//! QEMU's own cgroup (made by its supervisor, recorded in its status) when it has one; without
//! one, totals come from /proc, and per host CPU times (which need a cgroup) fail with
//! libvirt's words for a missing controller.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use virtsh_api::flags::{list_domains as lf, stats as sg, vcpu as vf};
use virtsh_api::impact;
use virtsh_api::{
    BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainDriver, DomainStatsRecord, Error,
    ErrorKind, InterfaceStats, Result, TypedParam, TypedValue, VcpuInfo,
};
use virtsh_xml::domain::{Disk, DomainDef};

use super::{DomainView, QemuDriver};
use crate::runtime::clock_ticks_per_sec;
use crate::state::ObjectLock;
use virtsh_xml::domain::disk_name_to_index;

/// virDomainMemoryStatTags used here.
mod tag {
    pub const SWAP_IN: i32 = 0;
    pub const SWAP_OUT: i32 = 1;
    pub const MAJOR_FAULT: i32 = 2;
    pub const MINOR_FAULT: i32 = 3;
    pub const UNUSED: i32 = 4;
    pub const AVAILABLE: i32 = 5;
    pub const ACTUAL: i32 = 6;
    pub const RSS: i32 = 7;
    pub const USABLE: i32 = 8;
    pub const LAST_UPDATE: i32 = 9;
    pub const DISK_CACHES: i32 = 10;
    pub const HUGETLB_PGALLOC: i32 = 11;
    pub const HUGETLB_PGFAIL: i32 = 12;
}

/// VIR_CONNECT_GET_ALL_DOMAINS_STATS_* behaviour flags.
const STATS_NOWAIT: u32 = 1 << 29;
const STATS_BACKING: u32 = 1 << 30;
const STATS_ENFORCE: u32 = 1 << 31;
/// The list filters virConnectGetAllDomainStats accepts (active, persistent, state).
const STATS_FILTERS: u32 = 0xFF;
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
/// At most this many domains are queried at the same time by `domstats`.
const STATS_PARALLEL: usize = 8;

/// VIR_DOMAIN_JOB_STATS_COMPLETED, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.
const JOB_COMPLETED: u32 = 1 << 0;
const JOB_KEEP_COMPLETED: u32 = 1 << 1;
/// VIR_TYPED_PARAM_STRING_OKAY
const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

/// libvirt's virCheckFlags.
fn check_flags(flags: u32, allowed: u32, func: &str) -> Result<()> {
    let bad = flags & !allowed;
    if bad != 0 {
        return Err(Error::invalid_arg(format!(
            "unsupported flags (0x{bad:x}) in function {func}"
        )));
    }
    Ok(())
}

fn not_running() -> Error {
    Error::invalid_op("domain is not running")
}

// ---------------------------------------------------------------------------------------------
// /proc and /sys

/// The fields of `/proc/PID[/task/TID]/stat` after `(comm)`: index 0 is field 3 (state).
fn stat_fields(pid: i32, tid: Option<i32>) -> io::Result<Vec<String>> {
    let path = match tid {
        Some(t) => format!("/proc/{pid}/task/{t}/stat"),
        None => format!("/proc/{pid}/stat"),
    };
    let text = std::fs::read_to_string(path)?;
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    Ok(rest.split_whitespace().map(str::to_string).collect())
}

/// What libvirt's virProcessGetStatInfo reads: user and system time (ns), the host CPU the
/// task last ran on, and the resident set (KiB).
#[derive(Debug, Default, Clone, Copy)]
struct ProcStat {
    user_ns: u64,
    system_ns: u64,
    cpu: i32,
    rss_kib: u64,
}

impl ProcStat {
    fn cpu_ns(&self) -> u64 {
        self.user_ns + self.system_ns
    }
}

fn ticks_to_ns(ticks: u64) -> u64 {
    ticks.saturating_mul(1_000_000_000) / clock_ticks_per_sec()
}

fn proc_stat(pid: i32, tid: Option<i32>) -> io::Result<ProcStat> {
    let f = stat_fields(pid, tid)?;
    let num = |i: usize| -> u64 { f.get(i).and_then(|s| s.parse().ok()).unwrap_or(0) };
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    Ok(ProcStat {
        // Fields 14 (utime), 15 (stime), 24 (rss, pages), 39 (processor).
        user_ns: ticks_to_ns(num(11)),
        system_ns: ticks_to_ns(num(12)),
        rss_kib: num(21) * page / 1024,
        cpu: f.get(36).and_then(|s| s.parse().ok()).unwrap_or(0),
    })
}

/// `/proc/PID/task/TID/sched`'s wait sum (ms with a fraction) in ns, as libvirt's
/// qemuGetSchedInfo reads it; 0 when the kernel does not keep it.
fn sched_wait_ns(pid: i32, tid: i32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/sched")) else {
        return 0;
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key == "se.statistics.wait_sum" || key == "se.wait_sum" || key == "stats.wait_sum" {
            if let Ok(ms) = value.trim().parse::<f64>() {
                return (ms * 1_000_000.0) as u64;
            }
        }
    }
    0
}

/// The run-queue delay of a thread (second field of `schedstat`, ns), as qemuGetSchedstatDelay.
fn schedstat_delay_ns(pid: i32, tid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
        .ok()
        .and_then(|t| t.split_whitespace().nth(1).and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Parse a kernel CPU list ("0-3,6"): the highest CPU number.
fn cpulist_max(s: &str) -> Option<usize> {
    s.trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.rsplit('-').next().and_then(|n| n.trim().parse().ok()))
        .max()
}

/// How many host CPUs there are (present ones, as virNodeGetCPUMap counts them).
fn host_cpu_count() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/present")
        .ok()
        .and_then(|s| cpulist_max(&s))
        .map(|m| m + 1)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// The CPUs thread `tid` may run on, one bool per host CPU.
fn affinity(tid: i32, ncpus: usize) -> Vec<bool> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc =
        unsafe { libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return vec![true; ncpus];
    }
    (0..ncpus)
        // SAFETY: `i` is below the number of host CPUs, within cpu_set_t for CPU_SETSIZE.
        .map(|i| i < libc::CPU_SETSIZE as usize && unsafe { libc::CPU_ISSET(i, &set) })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// vCPUs

fn qemu_pid(v: &DomainView) -> Result<i32> {
    v.check_active()?;
    v.status
        .qemu
        .map(|q| q.pid)
        .ok_or_else(|| Error::internal("the QEMU process of the domain is not known"))
}

/// One online vCPU: its index and host thread.
struct VcpuThread {
    index: u32,
    tid: i32,
}

/// query-cpus-fast: the online vCPUs, by index.
fn vcpu_threads(drv: &QemuDriver, dom: &Domain) -> Result<Vec<VcpuThread>> {
    let r = drv.qmp(dom, "query-cpus-fast", json!({}))?;
    let mut out: Vec<VcpuThread> = r
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some(VcpuThread {
                        index: c.get("cpu-index")?.as_u64()? as u32,
                        tid: c.get("thread-id")?.as_i64()? as i32,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|c| c.index);
    Ok(out)
}

/// qemuDomainGetVcpusFlags (`vcpucount`).
pub(super) fn vcpus_count(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<u32> {
    check_flags(
        flags,
        impact::LIVE | impact::CONFIG | vf::MAXIMUM | vf::GUEST,
        "qemuDomainGetVcpusFlags",
    )?;
    if flags & impact::LIVE != 0 && flags & impact::CONFIG != 0 {
        return Err(Error::invalid_arg(
            "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
        ));
    }
    if flags & vf::GUEST != 0 && flags & impact::CONFIG != 0 {
        return Err(Error::invalid_arg(
            "Flags 'VIR_DOMAIN_VCPU_GUEST' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
        ));
    }
    let v = drv.view_of(dom)?;
    if flags & vf::GUEST != 0 {
        if !v.is_active() {
            return Err(Error::invalid_arg(
                "vCPU count provided by the guest agent can only be requested for live domains",
            ));
        }
        let r = drv.agent(dom, "guest-get-vcpus", json!({}), Duration::from_secs(5))?;
        let cpus = r.as_array().cloned().unwrap_or_default();
        if flags & vf::MAXIMUM != 0 {
            return Ok(cpus.len() as u32);
        }
        return Ok(cpus
            .iter()
            .filter(|c| c.get("online").and_then(Value::as_bool) == Some(true))
            .count() as u32);
    }
    let def = def_for(drv, &v, flags)?;
    Ok(if flags & vf::MAXIMUM != 0 {
        def.vcpus
    } else {
        def.current_vcpus
    })
}

/// virDomainObjGetDefs: the live definition (LIVE, or CURRENT of a running domain) or the
/// persistent one.
fn def_for(drv: &QemuDriver, v: &DomainView, flags: u32) -> Result<DomainDef> {
    let live = if flags & impact::LIVE != 0 {
        true
    } else if flags & impact::CONFIG != 0 {
        false
    } else {
        v.is_active()
    };
    if live {
        v.check_active()?;
        return Ok(v.def.clone());
    }
    if !v.persistent {
        return Err(Error::invalid_op(
            "transient domains do not have any persistent config",
        ));
    }
    if !v.is_active() {
        return Ok(v.def.clone());
    }
    Ok(drv
        .persistent_def(&v.def.name)?
        .unwrap_or_else(|| v.def.clone()))
}

/// qemuDomainGetVcpus (`vcpuinfo`): every online vCPU, running, with its thread's CPU time,
/// last host CPU and affinity.
pub(super) fn vcpu_info(drv: &QemuDriver, dom: &Domain) -> Result<Vec<VcpuInfo>> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(Error::invalid_op(
            "cannot list vcpu pinning for an inactive domain",
        ));
    }
    let pid = qemu_pid(&v)?;
    let ncpus = host_cpu_count();
    Ok(vcpu_threads(drv, dom)?
        .into_iter()
        .map(|t| {
            let st = proc_stat(pid, Some(t.tid)).unwrap_or_default();
            VcpuInfo {
                number: t.index,
                state: 1,
                cpu_time: st.cpu_ns(),
                cpu: st.cpu,
                affinity: affinity(t.tid, ncpus),
            }
        })
        .collect())
}

/// qemuDomainGetMaxVcpus: the live maximum.
pub(super) fn max_vcpus(drv: &QemuDriver, dom: &Domain) -> Result<u32> {
    vcpus_count(drv, dom, impact::LIVE | vf::MAXIMUM)
}

// ---------------------------------------------------------------------------------------------
// Memory

fn has_balloon(def: &DomainDef) -> bool {
    def.devices
        .memballoon
        .as_ref()
        .and_then(|b| b.attr("model"))
        .is_some_and(|m| m != "none")
}

const BALLOON_PATH: &str = "/machine/peripheral/balloon0";

/// qemuDomainMemoryStatsInternal: the balloon's size and the guest's statistics (when the
/// balloon has any), then QEMU's resident set.
fn memory_stats_of(drv: &QemuDriver, dom: &Domain, v: &DomainView) -> Result<Vec<(i32, u64)>> {
    let pid = qemu_pid(v)?;
    let mut out = Vec::new();
    if has_balloon(&v.def) {
        match drv.qmp(dom, "query-balloon", json!({})) {
            Ok(b) => {
                if let Some(actual) = b.get("actual").and_then(Value::as_u64) {
                    out.push((tag::ACTUAL, actual / 1024));
                }
            }
            // No balloon driver behind the device yet: libvirt reports no balloon data.
            Err(e) if e.message.contains("not active") || e.message.contains("No balloon") => {}
            Err(e) => return Err(e),
        }
        ensure_stats_period(drv, dom, &v.def);
        if let Ok(r) = drv.qmp(
            dom,
            "qom-get",
            json!({"path": BALLOON_PATH, "property": "guest-stats"}),
        ) {
            out.extend(guest_memory_stats(&r));
        }
    }
    match proc_stat(pid, None) {
        Ok(st) => out.push((tag::RSS, st.rss_kib)),
        Err(_) => {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                "cannot get RSS for domain",
            ))
        }
    }
    Ok(out)
}

/// libvirt sets the balloon's statistics period when the guest starts; the supervisor does not
/// yet, so it is set here when `<stats period>` asks for one QEMU does not have.
fn ensure_stats_period(drv: &QemuDriver, dom: &Domain, def: &DomainDef) {
    let Some(period) = def
        .devices
        .memballoon
        .as_ref()
        .and_then(|b| b.child("stats"))
        .and_then(|s| s.attr("period"))
        .and_then(|p| p.parse::<i64>().ok())
    else {
        return;
    };
    let prop = "guest-stats-polling-interval";
    let current = drv
        .qmp(
            dom,
            "qom-get",
            json!({"path": BALLOON_PATH, "property": prop}),
        )
        .ok()
        .and_then(|v| v.as_i64());
    if current.is_some_and(|c| c != period) {
        let _ = drv.qmp(
            dom,
            "qom-set",
            json!({"path": BALLOON_PATH, "property": prop, "value": period}),
        );
    }
}

/// qemuMonitorJSONGetMemoryStats: the balloon's `guest-stats`, in libvirt's order and units
/// (KiB for sizes); statistics the guest does not collect (-1) are left out.
fn guest_memory_stats(r: &Value) -> Vec<(i32, u64)> {
    let stats = r.get("stats");
    let get = |obj: Option<&Value>, field: &str| -> Option<u64> {
        let v = obj?.get(field)?;
        let n = v.as_u64()?;
        (n != u64::MAX).then_some(n)
    };
    let mut out = Vec::new();
    let mut add = |obj: Option<&Value>, field: &str, t: i32, div: u64| {
        if let Some(n) = get(obj, field) {
            out.push((t, n / div));
        }
    };
    add(stats, "stat-swap-in", tag::SWAP_IN, 1024);
    add(stats, "stat-swap-out", tag::SWAP_OUT, 1024);
    add(stats, "stat-major-faults", tag::MAJOR_FAULT, 1);
    add(stats, "stat-minor-faults", tag::MINOR_FAULT, 1);
    add(stats, "stat-free-memory", tag::UNUSED, 1024);
    add(stats, "stat-total-memory", tag::AVAILABLE, 1024);
    add(stats, "stat-available-memory", tag::USABLE, 1024);
    add(Some(r), "last-update", tag::LAST_UPDATE, 1);
    add(stats, "stat-disk-caches", tag::DISK_CACHES, 1024);
    add(stats, "stat-htlb-pgalloc", tag::HUGETLB_PGALLOC, 1);
    add(stats, "stat-htlb-pgfail", tag::HUGETLB_PGFAIL, 1);
    out
}

/// qemuDomainMemoryStats (`dommemstat`).
pub(super) fn memory_stats(drv: &QemuDriver, dom: &Domain) -> Result<Vec<(i32, u64)>> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    memory_stats_of(drv, dom, &v)
}

// ---------------------------------------------------------------------------------------------
// Disks

/// virDomainDiskByName: a disk by target name or by source path.
fn disk_index(def: &DomainDef, name: &str) -> Option<usize> {
    let disks = &def.devices.disks;
    disks
        .iter()
        .position(|d| d.target_dev == name)
        .or_else(|| disks.iter().position(|d| d.source.as_deref() == Some(name)))
}

fn is_q35(def: &DomainDef) -> bool {
    def.os
        .machine
        .as_deref()
        .is_some_and(|m| m.starts_with("pc-q35") || m == "q35")
}

/// The `-device` id the command line generator gives a disk (cmdline/devices.rs).
fn disk_device_id(def: &DomainDef, disk: &Disk) -> Option<String> {
    let index = disk_name_to_index(&disk.target_dev)?;
    Some(match disk.bus() {
        "virtio" => format!("virtio-disk{index}"),
        "scsi" => format!("scsi0-0-0-{index}"),
        bus @ ("ide" | "sata") => {
            let (b, u) = if is_q35(def) {
                (index, 0)
            } else {
                (index / 2, index % 2)
            };
            let prefix = if bus == "sata" { "sata0" } else { "ide0" };
            format!("{prefix}-{b}-{u}")
        }
        _ => return None,
    })
}

fn qdev_matches(qdev: &str, id: &str) -> bool {
    qdev == id
        || qdev
            .strip_prefix("/machine/peripheral/")
            .is_some_and(|rest| rest == id || rest.starts_with(&format!("{id}/")))
}

/// What QEMU says about one block backend: query-block joined with query-blockstats.
#[derive(Debug, Default, Clone)]
struct BlockEntry {
    qdev: String,
    node: Option<String>,
    file: Option<String>,
    /// image virtual-size
    capacity: Option<u64>,
    /// image actual-size (host allocation)
    actual: Option<u64>,
    io_status: Option<String>,
    /// BlockDeviceStats of the frontend.
    stats: Option<Value>,
    /// wr_highest_offset of the protocol node below the format node.
    wr_highest_offset: Option<u64>,
}

impl BlockEntry {
    fn stat(&self, field: &str) -> Option<u64> {
        self.stats.as_ref()?.get(field)?.as_u64()
    }
}

fn block_entries(drv: &QemuDriver, dom: &Domain, with_stats: bool) -> Result<Vec<BlockEntry>> {
    let blocks = drv.qmp(dom, "query-block", json!({}))?;
    let mut out: Vec<BlockEntry> = blocks
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| {
                    let inserted = b.get("inserted");
                    let image = inserted.and_then(|i| i.get("image"));
                    BlockEntry {
                        qdev: b
                            .get("qdev")
                            .and_then(Value::as_str)
                            .or_else(|| b.get("device").and_then(Value::as_str))
                            .unwrap_or("")
                            .to_string(),
                        node: inserted
                            .and_then(|i| i.get("node-name"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        file: inserted
                            .and_then(|i| i.get("file"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        capacity: image
                            .and_then(|i| i.get("virtual-size"))
                            .and_then(Value::as_u64),
                        actual: image
                            .and_then(|i| i.get("actual-size"))
                            .and_then(Value::as_u64),
                        io_status: b
                            .get("io-status")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        stats: None,
                        wr_highest_offset: None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !with_stats {
        return Ok(out);
    }
    let stats = drv.qmp(dom, "query-blockstats", json!({}))?;
    for s in stats.as_array().into_iter().flatten() {
        let qdev = s.get("qdev").and_then(Value::as_str).unwrap_or("");
        let node = s.get("node-name").and_then(Value::as_str);
        let entry = out.iter_mut().find(|e| {
            (!qdev.is_empty() && e.qdev == qdev) || (node.is_some() && e.node.as_deref() == node)
        });
        let Some(e) = entry else { continue };
        e.stats = s.get("stats").cloned();
        e.wr_highest_offset = s
            .get("parent")
            .and_then(|p| p.get("stats"))
            .and_then(|p| p.get("wr_highest_offset"))
            .and_then(Value::as_u64)
            .or_else(|| e.stat("wr_highest_offset"));
    }
    Ok(out)
}

/// The entry of disk `i` of `def`: by the device id the command line gave it, else by its
/// source file.
fn entry_for<'a>(def: &DomainDef, i: usize, entries: &'a [BlockEntry]) -> Option<&'a BlockEntry> {
    let disk = def.devices.disks.get(i)?;
    if let Some(id) = disk_device_id(def, disk) {
        if let Some(e) = entries.iter().find(|e| qdev_matches(&e.qdev, &id)) {
            return Some(e);
        }
    }
    let src = disk.source.as_deref()?;
    entries.iter().find(|e| e.file.as_deref() == Some(src))
}

/// libvirt's numbering of a disk's nodes (`libvirt-N-format`): N, its backingIndex.
fn node_index(e: &BlockEntry) -> Option<u32> {
    e.node
        .as_deref()?
        .strip_prefix("libvirt-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Sizes of a disk's source on the host (qemuStorageLimitsRefresh): (capacity, allocation,
/// physical).
fn storage_limits(disk: &Disk) -> io::Result<(u64, u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let path = disk
        .source
        .as_deref()
        .ok_or_else(|| io::Error::other("no source"))?;
    let mut f = std::fs::File::open(path)?;
    let md = f.metadata()?;
    let (allocation, physical) = if md.file_type().is_file() {
        (md.blocks() * 512, md.len())
    } else {
        let end = f.seek(SeekFrom::End(0))?;
        f.seek(SeekFrom::Start(0))?;
        (end, end)
    };
    let mut capacity = physical;
    if disk.driver_type.as_deref() == Some("qcow2") {
        let mut hdr = [0u8; 32];
        if f.read_exact(&mut hdr).is_ok() && &hdr[..4] == b"QFI\xfb" {
            capacity = u64::from_be_bytes(hdr[24..32].try_into().unwrap_or([0; 8]));
        }
    }
    Ok((capacity, allocation, physical))
}

/// The host size of a disk's source (qemuDomainStorageUpdatePhysical).
fn physical_size(disk: &Disk) -> Option<u64> {
    storage_limits(disk).ok().map(|(_, _, p)| p)
}

fn storage_error(disk: &Disk, e: io::Error) -> Error {
    Error::raw(
        ErrorKind::SystemError,
        format!(
            "cannot stat file '{}': {}",
            disk.source.as_deref().unwrap_or(""),
            errno_text(&e)
        ),
    )
}

/// An io::Error as libvirt words errno ("No such file or directory"), without Rust's
/// "(os error N)".
fn errno_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// qemuDomainGetBlockInfo (`domblkinfo`): from QEMU while the guest runs, from the file
/// otherwise.
pub(super) fn block_info(drv: &QemuDriver, dom: &Domain, disk_name: &str) -> Result<BlockInfo> {
    let v = drv.view_of(dom)?;
    let Some(i) = disk_index(&v.def, disk_name) else {
        return Err(Error::invalid_arg(format!(
            "invalid path {disk_name} not assigned to domain"
        )));
    };
    let disk = &v.def.devices.disks[i];
    if disk.source.as_deref().unwrap_or("").is_empty() {
        return Err(Error::invalid_arg(format!(
            "disk '{disk_name}' does not currently have a source assigned"
        )));
    }
    if !v.is_active() {
        let (capacity, allocation, physical) =
            storage_limits(disk).map_err(|e| storage_error(disk, e))?;
        return Ok(BlockInfo {
            capacity,
            allocation,
            physical,
        });
    }
    let entries = block_entries(drv, dom, true)?;
    let Some(e) = entry_for(&v.def, i, &entries) else {
        return Err(Error::internal(format!(
            "failed to gather stats for disk '{}'",
            disk.target_dev
        )));
    };
    let physical_q = e.actual.or(e.capacity).unwrap_or(0);
    let mut allocation = match e.wr_highest_offset {
        Some(w) if disk.driver_type.as_deref() != Some("qcow2") || disk.disk_type != "file" => w,
        _ => physical_q,
    };
    let physical = if physical_q == 0 || allocation == 0 || allocation == physical_q {
        if allocation == 0 {
            allocation = physical_q;
        }
        physical_size(disk).unwrap_or(physical_q)
    } else {
        physical_q
    };
    Ok(BlockInfo {
        capacity: e.capacity.unwrap_or(0),
        allocation,
        physical,
    })
}

/// The disk `path` names for the block counters: its entry, or the error libvirt gives.
fn stats_entries<'a>(
    v: &DomainView,
    path: &str,
    entries: &'a [BlockEntry],
) -> Result<Vec<&'a BlockEntry>> {
    if path.is_empty() {
        return Ok((0..v.def.devices.disks.len())
            .filter_map(|i| entry_for(&v.def, i, entries))
            .collect());
    }
    let Some(i) = disk_index(&v.def, path) else {
        return Err(Error::invalid_arg(format!("invalid path: {path}")));
    };
    match entry_for(&v.def, i, entries) {
        Some(e) => Ok(vec![e]),
        None => Err(Error::internal(format!(
            "cannot find statistics for device '{}'",
            v.def.devices.disks[i].target_dev
        ))),
    }
}

/// The counters of `path` ("" sums every disk): rd_req, rd_bytes, wr_req, wr_bytes, fl_req,
/// rd_times, wr_times, fl_times.
fn block_counters(drv: &QemuDriver, dom: &Domain, path: &str) -> Result<[u64; 8]> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let entries = block_entries(drv, dom, true)?;
    let mut sum = [0u64; 8];
    for e in stats_entries(&v, path, &entries)? {
        let fields = [
            "rd_operations",
            "rd_bytes",
            "wr_operations",
            "wr_bytes",
            "flush_operations",
            "rd_total_time_ns",
            "wr_total_time_ns",
            "flush_total_time_ns",
        ];
        for (s, f) in sum.iter_mut().zip(fields) {
            *s += e.stat(f).unwrap_or(0);
        }
    }
    Ok(sum)
}

/// qemuDomainBlockStats (`domblkstat` against an old server): QEMU has no error count.
pub(super) fn block_stats(drv: &QemuDriver, dom: &Domain, disk: &str) -> Result<BlockStats> {
    let c = block_counters(drv, dom, disk)?;
    Ok(BlockStats {
        rd_req: c[0] as i64,
        rd_bytes: c[1] as i64,
        wr_req: c[2] as i64,
        wr_bytes: c[3] as i64,
        errs: -1,
    })
}

/// qemuDomainBlockStatsFlags (`domblkstat`): libvirt's fields in libvirt's order.
pub(super) fn block_stats_flags(
    drv: &QemuDriver,
    dom: &Domain,
    disk: &str,
    flags: u32,
) -> Result<Vec<TypedParam>> {
    check_flags(flags, TYPED_PARAM_STRING_OKAY, "qemuDomainBlockStatsFlags")?;
    let c = block_counters(drv, dom, disk)?;
    let p = |f: &str, n: u64| TypedParam::new(f, TypedValue::LLong(n as i64));
    Ok(vec![
        p("wr_bytes", c[3]),
        p("wr_operations", c[2]),
        p("rd_bytes", c[1]),
        p("rd_operations", c[0]),
        p("flush_operations", c[4]),
        p("wr_total_times", c[6]),
        p("rd_total_times", c[5]),
        p("flush_total_times", c[7]),
    ])
}

/// qemuDomainGetDiskErrors (`domblkerror`): disks whose I/O status is not ok.
pub(super) fn disk_errors(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
    check_flags(flags, 0, "qemuDomainGetDiskErrors")?;
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let entries = block_entries(drv, dom, false)?;
    let mut out = Vec::new();
    for (i, disk) in v.def.devices.disks.iter().enumerate() {
        let Some(e) = entry_for(&v.def, i, &entries) else {
            continue;
        };
        let error = match e.io_status.as_deref() {
            None | Some("ok") => continue,
            Some("nospace") => 2,
            Some(_) => 1,
        };
        out.push(DiskError {
            disk: disk.target_dev.clone(),
            error,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Interfaces

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// The host side counters of tap `ifname` (virNetDevTapInterfaceStats), seen from the guest
/// when `swapped` (a tap's transmit is the guest's receive).
fn tap_stats(ifname: &str, swapped: bool) -> Result<InterfaceStats> {
    let dir = Path::new("/sys/class/net").join(ifname).join("statistics");
    if !dir.is_dir() {
        return Err(Error::internal("/proc/net/dev: Interface not found"));
    }
    let read = |f: &str| -> i64 {
        std::fs::read_to_string(dir.join(f))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let (rx, tx) = if swapped { ("tx", "rx") } else { ("rx", "tx") };
    Ok(InterfaceStats {
        rx_bytes: read(&format!("{rx}_bytes")),
        rx_packets: read(&format!("{rx}_packets")),
        rx_errs: read(&format!("{rx}_errors")),
        rx_drop: read(&format!("{rx}_dropped")),
        tx_bytes: read(&format!("{tx}_bytes")),
        tx_packets: read(&format!("{tx}_packets")),
        tx_errs: read(&format!("{tx}_errors")),
        tx_drop: read(&format!("{tx}_dropped")),
    })
}

/// virDomainNetTypeSharesHostView: direct and ethernet interfaces count as the host sees them.
fn swapped(if_type: &str) -> bool {
    !matches!(if_type, "direct" | "ethernet")
}

/// qemuDomainInterfaceStats (`domifstat`): by MAC address or host interface name.
pub(super) fn interface_stats(
    drv: &QemuDriver,
    dom: &Domain,
    device: &str,
) -> Result<InterfaceStats> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let nets = &v.def.devices.interfaces;
    let net = match parse_mac(device) {
        Some(mac) => nets
            .iter()
            .find(|n| n.mac.as_deref().and_then(parse_mac) == Some(mac)),
        None => nets
            .iter()
            .find(|n| n.target_dev.as_deref() == Some(device)),
    };
    let Some(net) = net else {
        return Err(Error::invalid_arg(format!(
            "'{device}' is not a known interface"
        )));
    };
    let Some(ifname) = net.target_dev.as_deref() else {
        return Err(Error::internal("Interface name not provided"));
    };
    tap_stats(ifname, swapped(&net.if_type))
}

// ---------------------------------------------------------------------------------------------
// CPU statistics

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
fn cpu_totals(v: &DomainView, pid: i32) -> Result<(u64, u64, u64)> {
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
pub(super) fn cpu_stats_count(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<u32> {
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
pub(super) fn cpu_stats(
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

// ---------------------------------------------------------------------------------------------
// Control and jobs

/// qemuDomainGetControlInfo (`domcontrol`): ok, a state change of another command under way
/// (job), or an unreachable supervisor (error, monitor).
pub(super) fn control_info(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<ControlInfo> {
    check_flags(flags, 0, "qemuDomainGetControlInfo")?;
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let rt = drv.runtime(&v.def.name);
    if !rt.supervisor_alive().unwrap_or(true) {
        return Ok(ControlInfo {
            state: 3,
            details: 1,
            state_time: 0,
        });
    }
    if ObjectLock::acquire(&drv.paths.run, &v.def.name, Duration::ZERO).is_err() {
        return Ok(ControlInfo {
            state: 1,
            details: 0,
            state_time: 0,
        });
    }
    Ok(ControlInfo {
        state: 0,
        details: 0,
        state_time: 0,
    })
}

/// qemuDomainGetJobStats (`domjobinfo`): virtsh runs no background jobs (migration, save,
/// dump, backup), so there is never an active or a completed one.
pub(super) fn job_stats(
    drv: &QemuDriver,
    dom: &Domain,
    flags: u32,
) -> Result<(i32, Vec<TypedParam>)> {
    check_flags(
        flags,
        JOB_COMPLETED | JOB_KEEP_COMPLETED,
        "qemuDomainGetJobStats",
    )?;
    if flags & JOB_KEEP_COMPLETED != 0 && flags & JOB_COMPLETED == 0 {
        return Err(Error::invalid_arg(
            "invalid flag, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED requires VIR_DOMAIN_JOB_STATS_COMPLETED",
        ));
    }
    let v = drv.view_of(dom)?;
    if flags & JOB_COMPLETED == 0 && !v.is_active() {
        return Err(not_running());
    }
    Ok((0, Vec::new()))
}

// ---------------------------------------------------------------------------------------------
// domstats

/// qemuConnectGetAllDomainStats (`domstats`): the records of `doms` (every domain when empty)
/// that pass the list filters in `flags`, gathered in parallel.
pub(super) fn domain_stats(
    drv: &QemuDriver,
    doms: &[Domain],
    stats: u32,
    flags: u32,
) -> Result<Vec<DomainStatsRecord>> {
    check_flags(
        flags,
        STATS_FILTERS | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE,
        "qemuConnectGetAllDomainStats",
    )?;
    let mut stats = if stats == 0 { STATS_SUPPORTED } else { stats };
    if flags & STATS_ENFORCE != 0 && stats & !STATS_SUPPORTED != 0 {
        return Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            format!(
                "Stats types bits 0x{:x} are not supported by this daemon",
                stats & !STATS_SUPPORTED
            ),
        ));
    }
    stats &= STATS_SUPPORTED;
    let listed = drv.list_all_domains(flags & STATS_FILTERS & lf::ALL)?;
    let selected: Vec<Domain> = if doms.is_empty() {
        listed
    } else {
        // Domains that went away meanwhile, or that the filters leave out, are skipped.
        doms.iter()
            .filter_map(|d| listed.iter().find(|l| l.uuid == d.uuid).cloned())
            .collect()
    };
    let results: Vec<Mutex<Option<DomainStatsRecord>>> =
        selected.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..selected.len().min(STATS_PARALLEL) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(dom) = selected.get(i) else { break };
                let rec = one_record(drv, dom, stats);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = rec;
                }
            });
        }
    });
    Ok(results
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect())
}

/// The record of one domain; None when it went away meanwhile.
fn one_record(drv: &QemuDriver, dom: &Domain, stats: u32) -> Option<DomainStatsRecord> {
    let v = drv.view_of(dom).ok()?;
    let handle = v.handle();
    let mut p = Vec::new();
    if stats & sg::STATE != 0 {
        p.push(TypedParam::new(
            "state.state",
            TypedValue::Int(v.status.state),
        ));
        p.push(TypedParam::new(
            "state.reason",
            TypedValue::Int(v.status.reason),
        ));
    }
    // A guest that stops meanwhile gives what libvirt gives for an inactive one.
    let pid = v
        .is_active()
        .then(|| v.status.qemu.map(|q| q.pid))
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
        stats_interface(&v, &mut p);
    }
    if stats & sg::BLOCK != 0 {
        stats_block(drv, &handle, &v, &mut p);
    }
    Some(DomainStatsRecord {
        domain: handle,
        params: p,
    })
}

fn ull(field: impl Into<String>, n: u64) -> TypedParam {
    TypedParam::new(field, TypedValue::ULLong(n))
}

fn uint(field: impl Into<String>, n: u32) -> TypedParam {
    TypedParam::new(field, TypedValue::UInt(n))
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

/// qemuDomainGetStatsInterface: interfaces without a host device (user networking) have only
/// their place in the count.
fn stats_interface(v: &DomainView, p: &mut Vec<TypedParam>) {
    let nets = &v.def.devices.interfaces;
    p.push(uint("net.count", nets.len() as u32));
    for (i, net) in nets.iter().enumerate() {
        let Some(ifname) = net.target_dev.as_deref() else {
            continue;
        };
        p.push(TypedParam::new(
            format!("net.{i}.name"),
            TypedValue::String(ifname.to_string()),
        ));
        let Ok(s) = tap_stats(ifname, swapped(&net.if_type)) else {
            continue;
        };
        for (f, n) in [
            ("rx.bytes", s.rx_bytes),
            ("rx.pkts", s.rx_packets),
            ("rx.errs", s.rx_errs),
            ("rx.drop", s.rx_drop),
            ("tx.bytes", s.tx_bytes),
            ("tx.pkts", s.tx_packets),
            ("tx.errs", s.tx_errs),
            ("tx.drop", s.tx_drop),
        ] {
            if n >= 0 {
                p.push(ull(format!("net.{i}.{f}"), n as u64));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_stats_in_libvirt_order_and_units() {
        let r = json!({
            "stats": {
                "stat-swap-in": 4096, "stat-free-memory": 2048 * 1024,
                "stat-total-memory": -1, "stat-major-faults": 3,
                "stat-available-memory": 18446744073709551615u64
            },
            "last-update": 17
        });
        assert_eq!(
            guest_memory_stats(&r),
            vec![
                (tag::SWAP_IN, 4),
                (tag::MAJOR_FAULT, 3),
                (tag::UNUSED, 2048),
                (tag::LAST_UPDATE, 17)
            ]
        );
    }

    #[test]
    fn qdev_paths_and_ids() {
        assert!(qdev_matches(
            "/machine/peripheral/virtio-disk0/virtio-backend",
            "virtio-disk0"
        ));
        assert!(qdev_matches("ide0-0-1", "ide0-0-1"));
        assert!(!qdev_matches(
            "/machine/peripheral/virtio-disk10/virtio-backend",
            "virtio-disk1"
        ));
    }

    #[test]
    fn cpu_lists_and_macs() {
        assert_eq!(cpulist_max("0-3,6\n"), Some(6));
        assert_eq!(cpulist_max("0"), Some(0));
        assert_eq!(
            parse_mac("52:54:00:AB:cd:01"),
            Some([0x52, 0x54, 0, 0xab, 0xcd, 1])
        );
        assert_eq!(parse_mac("vnet0"), None);
        assert!(proc_stat(std::process::id() as i32, None).is_ok());
        assert!(host_cpu_count() >= 1);
    }

    #[test]
    fn flags_are_checked_as_libvirt_does() {
        assert_eq!(
            check_flags(4, 1, "qemuDomainGetJobStats")
                .unwrap_err()
                .message,
            "invalid argument: unsupported flags (0x4) in function qemuDomainGetJobStats"
        );
    }
}
