//! `memtune` and `blkiotune` of QEMU guests: the registry's (see
//! `virtsh_state::domains::Tunable`), with QEMU's own cgroup. A guest that runs without one
//! gives libvirt's error for the missing controller.

use virtsh_api::{Domain, Result, TypedParam};
use virtsh_state::domains::{DomainView, Tunable};

use super::QemuDriver;

fn tunable(v: &DomainView) -> Tunable<'_> {
    Tunable {
        driver: "qemu",
        view: v,
        cgroup: &|v| {
            Ok(v.status
                .cgroup
                .as_deref()
                .and_then(|rel| virtsh_cgroup::Cgroup::open(rel).ok()))
        },
    }
}

pub(super) fn memory_params(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
    let v = drv.view_of(dom)?;
    drv.reg.memory_params(&tunable(&v), flags)
}

pub(super) fn set_memory_params(
    drv: &QemuDriver,
    dom: &Domain,
    params: &[TypedParam],
    flags: u32,
) -> Result<()> {
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    drv.reg.set_memory_params(&tunable(&v), params, flags)
}

pub(super) fn blkio_params(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
    let v = drv.view_of(dom)?;
    drv.reg.blkio_params(&tunable(&v), flags)
}

pub(super) fn set_blkio_params(
    drv: &QemuDriver,
    dom: &Domain,
    params: &[TypedParam],
    flags: u32,
) -> Result<()> {
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    drv.reg.set_blkio_params(&tunable(&v), params, flags)
}
