//! `memtune` and `blkiotune` of containers: the registry's (see
//! `virtsh_state::domains::Tunable`), with the container's cgroup.

use virtsh_api::{Domain, Result, TypedParam};
use virtsh_state::domains::{DomainView, Tunable};

use super::LxcDriver;

impl LxcDriver {
    fn tunable<'a>(v: &'a DomainView) -> Tunable<'a> {
        Tunable {
            driver: "lxc",
            view: v,
            cgroup: &|v| Self::cgroup_of(v).map(Some),
        }
    }

    pub(super) fn memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        let v = self.view_of(dom)?;
        self.reg.memory_params(&Self::tunable(&v), flags)
    }

    pub(super) fn set_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        self.reg
            .set_memory_params(&Self::tunable(&v), params, flags)
    }

    pub(super) fn blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        let v = self.view_of(dom)?;
        self.reg.blkio_params(&Self::tunable(&v), flags)
    }

    pub(super) fn set_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        self.reg.set_blkio_params(&Self::tunable(&v), params, flags)
    }
}
