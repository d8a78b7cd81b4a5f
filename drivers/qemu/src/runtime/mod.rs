//! The QEMU driver's view of the runtime state: the shared layer of `virtsh-state`
//! ([`virtsh_state::runtime`]: status, liveness, ids) plus what only QEMU guests have here:
//! their cgroup's removal.

pub use virtsh_state::runtime::*;

/// Remove the cgroup a guest ran in (`rel`, as recorded in its status), once QEMU is gone.
/// A group that is already gone is fine; anything else is returned to be logged.
pub fn remove_guest_cgroup(rel: &str) -> Result<(), String> {
    match virtsh_cgroup::Cgroup::open(rel) {
        Ok(cg) => cg.remove().map_err(|e| e.to_string()),
        Err(virtsh_cgroup::CgroupError::NotFound { .. }) => Ok(()),
        Err(e) => Err(format!("cannot remove QEMU's cgroup: {e}")),
    }
}
