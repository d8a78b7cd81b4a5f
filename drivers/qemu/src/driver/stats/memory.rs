//! Memory: the balloon and the guest's memory statistics (`dommemstat`).

use serde_json::{json, Value};
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::DomainDef;

use super::not_running;
use super::procfs::proc_stat;
use super::vcpu::qemu_pid;
use crate::driver::{DomainView, QemuDriver};

/// virDomainMemoryStatTags used here.
pub(super) mod tag {
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

pub(super) fn has_balloon(def: &DomainDef) -> bool {
    def.devices
        .memballoon
        .as_ref()
        .and_then(|b| b.attr("model"))
        .is_some_and(|m| m != "none")
}

const BALLOON_PATH: &str = "/machine/peripheral/balloon0";

/// qemuDomainMemoryStatsInternal: the balloon's size and the guest's statistics (when the
/// balloon has any), then QEMU's resident set.
pub(super) fn memory_stats_of(
    drv: &QemuDriver,
    dom: &Domain,
    v: &DomainView,
) -> Result<Vec<(i32, u64)>> {
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
pub(in crate::driver) fn memory_stats(drv: &QemuDriver, dom: &Domain) -> Result<Vec<(i32, u64)>> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    memory_stats_of(drv, dom, &v)
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
}
