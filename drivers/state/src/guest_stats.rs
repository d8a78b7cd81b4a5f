//! What the local drivers report alike about their guests: the gathering of `domstats`
//! records (flags, filters, queries in parallel), its `state` and `interface` groups, the
//! host side counters of a guest's interfaces (`domifstat`), and per host CPU times from a
//! guest's cgroup (`cpu-stats`).
//!
//! Each follows the shared helpers of libvirt's drivers (virDomainNetTypeSharesHostView,
//! virNetDevTapInterfaceStats, virCgroupGetPercpuStats), so the QEMU and LXC drivers answer
//! with the same names, order and errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use virtsh_api::flags::list_domains as lf;
use virtsh_api::{
    Domain, DomainStatsRecord, Error, ErrorKind, InterfaceStats, Result, TypedParam, TypedValue,
};
use virtsh_xml::domain::{parse_mac, NetInterface};

/// VIR_CONNECT_GET_ALL_DOMAINS_STATS_* behaviour flags.
pub const STATS_NOWAIT: u32 = 1 << 29;
pub const STATS_BACKING: u32 = 1 << 30;
pub const STATS_ENFORCE: u32 = 1 << 31;
/// The list filters virConnectGetAllDomainStats accepts (active, persistent, state).
pub const STATS_FILTERS: u32 = 0xFF;
/// At most this many domains are queried at the same time by `domstats`.
const STATS_PARALLEL: usize = 8;

/// Check a virConnectGetAllDomainStats request: its flags, and with ENFORCE the groups.
/// Returns the groups to gather: `supported` when none were named, else the named ones this
/// driver has.
pub fn stats_groups(stats: u32, flags: u32, supported: u32, function: &str) -> Result<u32> {
    virtsh_api::flags::check(
        flags,
        STATS_FILTERS | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE,
        function,
    )?;
    let stats = if stats == 0 { supported } else { stats };
    if flags & STATS_ENFORCE != 0 && stats & !supported != 0 {
        return Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            format!(
                "Stats types bits 0x{:x} are not supported by this daemon",
                stats & !supported
            ),
        ));
    }
    Ok(stats & supported)
}

/// The list filter of a stats request's flags, for `list_all_domains`.
pub fn stats_list_filter(flags: u32) -> u32 {
    flags & STATS_FILTERS & lf::ALL
}

/// The records of `doms` (every listed domain when empty) that are in `listed`, made by
/// `record` in parallel. A domain `record` answers None for (it went away) is left out.
pub fn gather_records<F>(listed: Vec<Domain>, doms: &[Domain], record: F) -> Vec<DomainStatsRecord>
where
    F: Fn(&Domain) -> Option<DomainStatsRecord> + Sync,
{
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
                let rec = record(dom);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = rec;
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

pub fn ull(field: impl Into<String>, n: u64) -> TypedParam {
    TypedParam::new(field, TypedValue::ULLong(n))
}

pub fn uint(field: impl Into<String>, n: u32) -> TypedParam {
    TypedParam::new(field, TypedValue::UInt(n))
}

/// The `state` group.
pub fn state_params(state: i32, reason: i32, p: &mut Vec<TypedParam>) {
    p.push(TypedParam::new("state.state", TypedValue::Int(state)));
    p.push(TypedParam::new("state.reason", TypedValue::Int(reason)));
}

/// The `interface` group of a running guest: interfaces without a host device (user
/// networking) have only their place in the count.
pub fn interface_params(nets: &[NetInterface], p: &mut Vec<TypedParam>) {
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

/// The host side counters of `ifname` (virNetDevTapInterfaceStats), seen from the guest when
/// `swapped` (a tap's or veth's transmit is the guest's receive).
///
/// From `/proc/net/dev`, as libvirt reads them: it shows the network namespace of the
/// caller, where `/sys/class/net` shows that of whoever mounted sysfs.
pub fn tap_stats(ifname: &str, swapped: bool) -> Result<InterfaceStats> {
    let text = std::fs::read_to_string("/proc/net/dev")
        .map_err(|e| Error::internal(format!("/proc/net/dev: {e}")))?;
    let counters = net_dev_counters(&text, ifname)
        .ok_or_else(|| Error::internal("/proc/net/dev: Interface not found"))?;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit.
    let (rx, tx) = counters.split_at(8);
    let (rx, tx) = if swapped { (tx, rx) } else { (rx, tx) };
    Ok(InterfaceStats {
        rx_bytes: rx[0],
        rx_packets: rx[1],
        rx_errs: rx[2],
        rx_drop: rx[3],
        tx_bytes: tx[0],
        tx_packets: tx[1],
        tx_errs: tx[2],
        tx_drop: tx[3],
    })
}

/// The 16 counters of `ifname` in the text of `/proc/net/dev` (`NAME: n n n ...`; a long
/// first number may touch the colon).
fn net_dev_counters(text: &str, ifname: &str) -> Option<Vec<i64>> {
    text.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name.trim() != ifname {
            return None;
        }
        let n: Vec<i64> = rest
            .split_whitespace()
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        (n.len() >= 16).then_some(n)
    })
}

/// !virDomainNetTypeSharesHostView: direct and ethernet interfaces count as the host sees
/// them; the others are swapped.
pub fn swapped(if_type: &str) -> bool {
    !matches!(if_type, "direct" | "ethernet")
}

/// `domifstat` of a running guest's interfaces `nets`: the one named by MAC address or host
/// interface name `device`.
pub fn interface_stats_of(nets: &[NetInterface], device: &str) -> Result<InterfaceStats> {
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

/// Parse a kernel CPU list ("0-3,6"): the highest CPU number.
pub fn cpulist_max(s: &str) -> Option<usize> {
    s.trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.rsplit('-').next().and_then(|n| n.trim().parse().ok()))
        .max()
}

/// How many host CPUs there are (present ones, as virNodeGetCPUMap counts them).
pub fn host_cpu_count() -> usize {
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

/// libvirt's error for a guest without the cgroup controller that counts CPU time.
pub fn missing_cpuacct() -> Error {
    Error::invalid_op("cgroup CPUACCT controller is not mounted")
}

/// libvirt's error for per host CPU times on cgroup v2, which has no cpuacct.usage_percpu
/// (the cgroup v2 backend has no getCpuacctPercpuUsage).
fn percpu_unsupported_v2() -> Error {
    Error::new(
        ErrorKind::OperationUnsupported,
        "operation 'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'",
    )
}

/// The `cpu-stats` totals of a cgroup (virCgroupGetDomainTotalCpuStats): cpu_time,
/// user_time, system_time.
pub fn total_cpu_params(cg: &virtsh_cgroup::Cgroup) -> Result<Vec<TypedParam>> {
    let t = cg.cpu_times().map_err(|e| Error::internal(e.to_string()))?;
    Ok(vec![
        ull("cpu_time", t.usage_ns),
        ull("user_time", t.user_ns),
        ull("system_time", t.system_ns),
    ])
}

/// Check a `cpu-stats` request for the totals (`start_cpu` -1): libvirt's virDomainGetCPUStats
/// wants `ncpus` 1 then.
pub fn check_total_request(ncpus: u32) -> Result<()> {
    if ncpus != 1 {
        return Err(Error::invalid_arg(
            "ncpus in virDomainGetCPUStats must be 1 when start_cpu is -1",
        ));
    }
    Ok(())
}

/// Per host CPU times (virCgroupGetPercpuStats): `cpu_time` of each CPU from `start_cpu`,
/// `ncpus` of them at most, from per CPU counters `percpu` (ns) that `read` gives.
pub fn percpu_params<F>(start_cpu: i32, ncpus: u32, read: F) -> Result<Vec<Vec<TypedParam>>>
where
    F: FnOnce() -> Result<Vec<u64>>,
{
    let max = host_cpu_count();
    if start_cpu < 0 || start_cpu as usize >= max {
        return Err(Error::invalid_arg(format!(
            "start_cpu {start_cpu} larger than maximum of {}",
            max.saturating_sub(1)
        )));
    }
    let percpu = read()?;
    let start = start_cpu as usize;
    let end = (start + ncpus as usize).min(max);
    Ok((start..end)
        .map(|i| match percpu.get(i) {
            Some(n) => vec![ull("cpu_time", *n)],
            None => Vec::new(),
        })
        .collect())
}

/// Per host CPU times of a cgroup (`cpuacct.usage_percpu`; cgroup v2 has none).
pub fn cgroup_percpu_ns(cg: &virtsh_cgroup::Cgroup) -> Result<Vec<u64>> {
    cg.cpu_usage_percpu_ns().map_err(|e| match e {
        virtsh_cgroup::CgroupError::PerCpuUnsupported { .. } => percpu_unsupported_v2(),
        e => Error::internal(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpulist_max("0-3,6\n"), Some(6));
        assert_eq!(cpulist_max("0"), Some(0));
        assert!(host_cpu_count() >= 1);
    }

    #[test]
    fn groups_are_checked_only_when_enforced() {
        assert_eq!(stats_groups(0, 0, 0b11, "f").ok(), Some(0b11));
        assert_eq!(stats_groups(0b101, 0, 0b11, "f").ok(), Some(0b1));
        let e = stats_groups(0b101, STATS_ENFORCE, 0b11, "f").err();
        assert!(e.is_some_and(|e| e.message.contains("0x4")));
    }

    #[test]
    fn net_dev_lines() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nveth1:123456789 2 0 0 0 0 0 0 9 8 0 0 0 0 0 0\n";
        assert_eq!(net_dev_counters(text, "lo").map(|c| c[8]), Some(9));
        assert_eq!(
            net_dev_counters(text, "veth1").map(|c| c[0]),
            Some(123_456_789)
        );
        assert_eq!(net_dev_counters(text, "veth"), None);
    }

    #[test]
    fn percpu_bounds() {
        let max = host_cpu_count();
        assert!(percpu_params(max as i32, 1, || Ok(vec![])).is_err());
        let one = percpu_params(0, 1, || Ok(vec![7])).unwrap_or_default();
        assert_eq!(one, vec![vec![ull("cpu_time", 7)]]);
    }
}
