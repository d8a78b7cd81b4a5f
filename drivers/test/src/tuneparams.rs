//! Memory and block I/O tuning parameters (`memtune`, `blkiotune`): libvirt 9.0's
//! testDomain{Get,Set}{Memory,Blkio}Parameters, with the checks of the public API layer
//! (libvirt-domain.c) and of virTypedParamsValidate in front of them.
//!
//! The values live in the definitions (`<memtune>`, `<blkiotune>`), so `dumpxml` shows them;
//! `--live` and `--config` pick the one definition, as virDomainObjGetOneDef does.

use virtsh_api::typed_params::{first_ullong, validate, Kind};
use virtsh_api::{impact, Domain, Result, TypedParam, TypedValue};
use virtsh_xml::domain::tune::blkio_param;
use virtsh_xml::domain::tune::MemTuneChange;
use virtsh_xml::domain::MemTune;

use crate::domstate::exclusive_flags;
use crate::{check_flags, Driver};

/// VIR_TYPED_PARAM_STRING_OKAY: the library adds it to every getter call.
const STRING_OKAY: u32 = 1 << 2;

/// The typed-parameter names of virDomainSetMemoryParameters.
const HARD_LIMIT: &str = "hard_limit";
const SOFT_LIMIT: &str = "soft_limit";
const SWAP_HARD_LIMIT: &str = "swap_hard_limit";

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

fn ullong(v: u64) -> TypedValue {
    TypedValue::ULLong(v)
}

impl Driver {
    /// testDomainGetMemoryParameters: the three limits of the chosen definition.
    pub(crate) fn memory_params(&mut self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        check_get_flags(flags, "testDomainGetMemoryParameters")?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        let m = MemTune::from_node(def.memtune.as_ref());
        Ok(vec![
            TypedParam::new(HARD_LIMIT, ullong(m.hard_limit)),
            TypedParam::new(SOFT_LIMIT, ullong(m.soft_limit)),
            TypedParam::new(SWAP_HARD_LIMIT, ullong(m.swap_hard_limit)),
        ])
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
        validate(
            params,
            &[
                (HARD_LIMIT, Kind::ULLong),
                (SOFT_LIMIT, Kind::ULLong),
                (SWAP_HARD_LIMIT, Kind::ULLong),
            ],
        )?;
        let change = MemTuneChange {
            hard_limit: first_ullong(params, HARD_LIMIT),
            soft_limit: first_ullong(params, SOFT_LIMIT),
            swap_hard_limit: first_ullong(params, SWAP_HARD_LIMIT),
        };
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
        let b = &def.blkiotune;
        let mut out = vec![TypedParam::new(
            blkio_param::WEIGHT,
            TypedValue::UInt(b.weight),
        )];
        for list in blkio_param::DEVICE_LISTS {
            out.push(TypedParam::new(
                list,
                TypedValue::String(b.device_list(list)),
            ));
        }
        Ok(out)
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
        let mut allowed = vec![(blkio_param::WEIGHT, Kind::UInt)];
        allowed.extend(blkio_param::DEVICE_LISTS.iter().map(|l| (*l, Kind::String)));
        validate(params, &allowed)?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        let mut failure = None;
        for p in params {
            match &p.value {
                TypedValue::UInt(w) if p.field == blkio_param::WEIGHT => def.blkiotune.weight = *w,
                TypedValue::String(s) => {
                    if let Err(e) = def.blkiotune.merge_device_list(&p.field, s) {
                        failure = Some(e);
                    }
                }
                _ => {}
            }
        }
        failure.map_or(Ok(()), Err)
    }
}
