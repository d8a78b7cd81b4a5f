//! What `list` needs of each domain without parsing every definition: the registry's glance
//! ([`virtsh_state::domains::Glance`]), after this driver has reconciled the domain's state.

use virtsh_api::Result;
use virtsh_state::domains::Glance;

use super::QemuDriver;

impl QemuDriver {
    /// Name, UUID, id, state and persistence of `name`. `wait`: as for `view_waiting`.
    pub(crate) fn glance(&self, name: &str, wait: std::time::Duration) -> Result<Glance> {
        self.reg.glance(name, wait, &|rt, st| self.repair(rt, st))
    }
}
