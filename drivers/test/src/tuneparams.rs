//! Memory and block I/O tuning parameters (`memtune`, `blkiotune`): libvirt 9.0's
//! testDomain{Get,Set}{Memory,Blkio}Parameters, with the checks of the public API layer
//! (libvirt-domain.c) and of virTypedParamsValidate in front of them.
//!
//! The values live in the definitions (`<memtune>`, `<blkiotune>`), so `dumpxml` shows them;
//! `--live` and `--config` pick the one definition, as virDomainObjGetOneDef does.

use virtsh_api::{impact, Domain, Result, TypedParam};
use virtsh_xml::domain::tune::MemTuneChange;
use virtsh_xml::domain::{BlkioTune, MemTune};

use crate::domstate::exclusive_flags;
use crate::{check_flags, Driver};

/// VIR_TYPED_PARAM_STRING_OKAY: the library adds it to every getter call.
const STRING_OKAY: u32 = 1 << 2;

/// The getters' checks before the driver: libvirt-domain.c refuses --live with --config,
/// then the driver its unknown flags.
fn check_get_flags(flags: u32, func: &str) -> Result<()> {
    if flags & impact::LIVE != 0 && flags & impact::CONFIG != 0 {
        return Err(exclusive_flags(
            "VIR_DOMAIN_AFFECT_LIVE",
            "VIR_DOMAIN_AFFECT_CONFIG",
        ));
    }
    check_flags(flags, impact::LIVE | impact::CONFIG | STRING_OKAY, func)
}

impl Driver {
    /// testDomainGetMemoryParameters: the three limits of the chosen definition.
    pub(crate) fn memory_params(&mut self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        check_get_flags(flags, "testDomainGetMemoryParameters")?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        Ok(MemTune::from_node(def.memtune.as_ref()).to_params())
    }

    /// testDomainSetMemoryParameters. The hard limit is compared with the swap limit of the
    /// live definition even when the persistent one changes, as libvirt does.
    pub(crate) fn set_memory_params(
        &mut self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "testDomainSetMemoryParameters",
        )?;
        let change = MemTuneChange::from_params(params)?;
        let obj = self.dom_mut(dom)?;
        let live = MemTune::from_node(obj.def.memtune.as_ref());
        let (def, _) = obj.one_def_state(flags)?;
        change.check_against(&live)?;
        let mut m = MemTune::from_node(def.memtune.as_ref());
        change.apply_to(&mut m);
        def.memtune = m.to_node();
        Ok(())
    }

    /// testDomainGetBlkioParameters: the weight, then each per-device list.
    pub(crate) fn blkio_params(&mut self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        check_get_flags(flags, "testDomainGetBlkioParameters")?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        Ok(def.blkiotune.to_params(def.blkiotune.weight))
    }

    /// testDomainSetBlkioParameters (virDomainDriverSetupPersistentDefBlkioParams): every
    /// parameter is applied in turn; one that fails does not stop the others, and the call
    /// reports the last failure.
    pub(crate) fn set_blkio_params(
        &mut self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "testDomainSetBlkioParameters",
        )?;
        BlkioTune::validate_params(params)?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        let mut failure = None;
        for p in params {
            if let Err(e) = def.blkiotune.apply_param(p) {
                failure = Some(e);
            }
        }
        failure.map_or(Ok(()), Err)
    }
}
