//! vCPUs: `vcpucount`, `vcpuinfo` and the maximum, from QEMU's threads and the definition.

use std::time::Duration;

use serde_json::{json, Value};
use virtsh_api::flags::vcpu as vf;
use virtsh_api::impact;
use virtsh_api::{Domain, Error, Result, VcpuInfo};
use virtsh_xml::domain::DomainDef;

use super::check_flags;
use super::procfs::{affinity, proc_stat};
use crate::driver::{DomainView, QemuDriver};
use virtsh_state::guest_stats::host_cpu_count;

pub(super) fn qemu_pid(v: &DomainView) -> Result<i32> {
    v.check_active()?;
    v.status
        .process
        .map(|q| q.pid)
        .ok_or_else(|| Error::internal("the QEMU process of the domain is not known"))
}

/// One online vCPU: its index and host thread.
pub(super) struct VcpuThread {
    pub(super) index: u32,
    pub(super) tid: i32,
}

/// query-cpus-fast: the online vCPUs, by index.
pub(super) fn vcpu_threads(drv: &QemuDriver, dom: &Domain) -> Result<Vec<VcpuThread>> {
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
pub(in crate::driver) fn vcpus_count(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<u32> {
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
pub(in crate::driver) fn vcpu_info(drv: &QemuDriver, dom: &Domain) -> Result<Vec<VcpuInfo>> {
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
pub(in crate::driver) fn max_vcpus(drv: &QemuDriver, dom: &Domain) -> Result<u32> {
    vcpus_count(drv, dom, impact::LIVE | vf::MAXIMUM)
}
