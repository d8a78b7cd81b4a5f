//! What `/proc` and `/sys` say about QEMU's process and threads and about the host CPUs.

use std::io;

use crate::runtime::clock_ticks_per_sec;

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
pub(super) struct ProcStat {
    pub(super) user_ns: u64,
    pub(super) system_ns: u64,
    pub(super) cpu: i32,
    pub(super) rss_kib: u64,
}

impl ProcStat {
    pub(super) fn cpu_ns(&self) -> u64 {
        self.user_ns + self.system_ns
    }
}

pub(super) fn ticks_to_ns(ticks: u64) -> u64 {
    ticks.saturating_mul(1_000_000_000) / clock_ticks_per_sec()
}

pub(super) fn proc_stat(pid: i32, tid: Option<i32>) -> io::Result<ProcStat> {
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
pub(super) fn sched_wait_ns(pid: i32, tid: i32) -> u64 {
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
pub(super) fn schedstat_delay_ns(pid: i32, tid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
        .ok()
        .and_then(|t| t.split_whitespace().nth(1).and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// The CPUs thread `tid` may run on, one bool per host CPU.
pub(super) fn affinity(tid: i32, ncpus: usize) -> Vec<bool> {
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
