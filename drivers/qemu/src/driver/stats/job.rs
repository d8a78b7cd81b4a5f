//! Control and job information: `domcontrol` and `domjobinfo`.

use std::time::Duration;

use virtsh_api::{ControlInfo, Domain, Error, Result, TypedParam};

use super::{check_flags, not_running};
use crate::driver::QemuDriver;
use crate::state::ObjectLock;

/// VIR_DOMAIN_JOB_STATS_COMPLETED, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.
const JOB_COMPLETED: u32 = 1 << 0;
const JOB_KEEP_COMPLETED: u32 = 1 << 1;

/// qemuDomainGetControlInfo (`domcontrol`): ok, a state change of another command under way
/// (job), or an unreachable supervisor (error, monitor).
pub(in crate::driver) fn control_info(
    drv: &QemuDriver,
    dom: &Domain,
    flags: u32,
) -> Result<ControlInfo> {
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
    if ObjectLock::acquire(&drv.reg.paths.run, &v.def.name, Duration::ZERO).is_err() {
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
pub(in crate::driver) fn job_stats(
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
