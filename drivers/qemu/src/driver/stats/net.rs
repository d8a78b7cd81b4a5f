//! Interfaces: the counters of a guest's tap devices (`domifstat`).

use virtsh_api::{Domain, InterfaceStats, Result};

use super::not_running;
use crate::driver::QemuDriver;

/// qemuDomainInterfaceStats (`domifstat`): by MAC address or host interface name.
pub(in crate::driver) fn interface_stats(
    drv: &QemuDriver,
    dom: &Domain,
    device: &str,
) -> Result<InterfaceStats> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    virtsh_state::guest_stats::interface_stats_of(&v.def.devices.interfaces, device)
}
