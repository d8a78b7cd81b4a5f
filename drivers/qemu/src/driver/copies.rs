//! The two copies of a domain's definition, as the registry keeps them
//! ([`virtsh_state::domains::impact`] and the registry's `persistent`, `save_config` and
//! `edit_live`), under the names the QEMU driver's calls use.

use virtsh_api::Result;
use virtsh_xml::domain::DomainDef;

use super::QemuDriver;

/// libvirt's virCheckFlags.
pub(crate) use virtsh_api::flags::check as check_flags;
pub(crate) use virtsh_state::domains::impact;

pub(crate) fn persistent(drv: &QemuDriver, name: &str) -> Result<DomainDef> {
    drv.reg.persistent(name)
}

pub(crate) fn save_config(drv: &QemuDriver, def: &DomainDef) -> Result<()> {
    drv.reg.save_config(def)
}

/// Edit the live definition as it is on disk now. The caller holds the domain's lock.
pub(crate) fn edit_live(
    drv: &QemuDriver,
    name: &str,
    edit: impl FnOnce(&mut DomainDef) -> Result<()>,
) -> Result<()> {
    drv.reg.edit_live(name, edit)
}
