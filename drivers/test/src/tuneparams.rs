//! Memory and block I/O tuning parameters (`memtune`, `blkiotune`): libvirt 9.0's
//! testDomain{Get,Set}{Memory,Blkio}Parameters, with the checks of the public API layer
//! (libvirt-domain.c) and of virTypedParamsValidate in front of them.
//!
//! The values live in the definitions (`<memtune>`, `<blkiotune>`), so `dumpxml` shows them;
//! `--live` and `--config` pick the one definition, as virDomainObjGetOneDef does.

use virtsh_api::{impact, Domain, Error, ErrorKind, Result, TypedParam, TypedValue};
use virtsh_xml::domain::tune::blkio_param;
use virtsh_xml::domain::MemTune;

use crate::domstate::exclusive_flags;
use crate::domtune::type_name;
use crate::{check_flags, Driver};

/// VIR_TYPED_PARAM_STRING_OKAY: the library adds it to every getter call.
const STRING_OKAY: u32 = 1 << 2;

/// The typed-parameter names of virDomainSetMemoryParameters.
const HARD_LIMIT: &str = "hard_limit";
const SOFT_LIMIT: &str = "soft_limit";
const SWAP_HARD_LIMIT: &str = "swap_hard_limit";

/// The kinds of value virTypedParamsValidate is told to expect.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    UInt,
    ULLong,
    String,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::UInt => "uint",
            Kind::ULLong => "ullong",
            Kind::String => "string",
        }
    }

    fn matches(self, v: &TypedValue) -> bool {
        matches!(
            (self, v),
            (Kind::UInt, TypedValue::UInt(_))
                | (Kind::ULLong, TypedValue::ULLong(_))
                | (Kind::String, TypedValue::String(_))
        )
    }
}

/// virTypedParamsValidate: libvirt walks the parameters and the allowed names both sorted by
/// name, so which error comes first follows that order, and so does its duplicate check.
fn validate(params: &[TypedParam], allowed: &[(&str, Kind)]) -> Result<()> {
    let mut sorted: Vec<&TypedParam> = params.iter().collect();
    sorted.sort_by(|a, b| a.field.cmp(&b.field));
    let mut keys = allowed.to_vec();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let (mut i, mut j) = (0, 0);
    while i < sorted.len() && j < keys.len() {
        let p = sorted[i];
        if p.field != keys[j].0 {
            j += 1;
            continue;
        }
        if i > j && p.field == sorted[i - 1].field {
            return Err(Error::invalid_arg(format!(
                "parameter '{}' occurs multiple times",
                p.field
            )));
        }
        if !keys[j].1.matches(&p.value) {
            return Err(Error::invalid_arg(format!(
                "invalid type '{}' for parameter '{}', expected '{}'",
                type_name(&p.value),
                p.field,
                keys[j].1.name()
            )));
        }
        i += 1;
    }
    if j == keys.len() && i != sorted.len() {
        return Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            format!("parameter '{}' not supported", sorted[i].field),
        ));
    }
    Ok(())
}

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
        // virTypedParamsGetULLong: the first parameter of a name counts.
        let get = |name: &str| {
            params
                .iter()
                .find(|p| p.field == name)
                .and_then(|p| match p.value {
                    TypedValue::ULLong(v) => Some(v),
                    _ => None,
                })
        };
        let (hard, soft, swap) = (get(HARD_LIMIT), get(SOFT_LIMIT), get(SWAP_HARD_LIMIT));
        let obj = self.dom_mut(dom)?;
        let live = MemTune::from_node(obj.def.memtune.as_ref());
        let (def, _) = obj.one_def_state(flags)?;
        if hard.is_some() || swap.is_some() {
            let mem_limit = hard.unwrap_or(live.hard_limit);
            let swap_limit = swap.unwrap_or(live.swap_hard_limit);
            if mem_limit > swap_limit {
                return Err(Error::invalid_arg(
                    "memory hard_limit tunable value must be lower than or equal to swap_hard_limit",
                ));
            }
        }
        let mut m = MemTune::from_node(def.memtune.as_ref());
        if let Some(v) = soft {
            m.soft_limit = v;
        }
        if let Some(v) = hard {
            m.hard_limit = v;
        }
        if let Some(v) = swap {
            m.swap_hard_limit = v;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(field: &str, v: TypedValue) -> TypedParam {
        TypedParam::new(field, v)
    }

    #[test]
    fn validation_is_libvirts() {
        let allowed = [(HARD_LIMIT, Kind::ULLong), (SOFT_LIMIT, Kind::ULLong)];
        assert!(validate(&[p(HARD_LIMIT, ullong(1))], &allowed).is_ok());
        let e = validate(&[p("min_guarantee", ullong(1))], &allowed).unwrap_err();
        assert_eq!(
            e.message,
            "argument unsupported: parameter 'min_guarantee' not supported"
        );
        let e = validate(&[p(SOFT_LIMIT, TypedValue::UInt(1))], &allowed).unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: invalid type 'uint' for parameter 'soft_limit', expected 'ullong'"
        );
    }
}
