//! `memtune` and `blkiotune` of containers, as libvirt's lxc_driver.c answers them: a running
//! container's values are its cgroup's (then recorded in the live definition), `--config`
//! reads and changes the persistent definition.

use virtsh_api::flags::device_modify;
use virtsh_api::typed_params::{first_ullong, validate, Kind};
use virtsh_api::{Domain, Error, ErrorKind, Result, TypedParam, TypedValue};
use virtsh_cgroup::{BlkioDeviceLimit, Cgroup, CgroupError};
use virtsh_state::domains::impact;
use virtsh_xml::domain::tune::{blkio_param, parse_device_list, MemTuneChange};
use virtsh_xml::domain::{BlkioTune, DomainDef, MemTune};

use super::LxcDriver;

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;
/// VIR_TYPED_PARAM_STRING_OKAY
const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

const HARD_LIMIT: &str = "hard_limit";
const SOFT_LIMIT: &str = "soft_limit";
const SWAP_HARD_LIMIT: &str = "swap_hard_limit";

fn no_memory_controller() -> Error {
    Error::invalid_op("cgroup memory controller is not mounted")
}

fn no_blkio_controller() -> Error {
    Error::invalid_op("blkio cgroup isn't mounted")
}

/// A cgroup failure in libvirt's words where it has its own.
fn cgroup_failed(e: CgroupError) -> Error {
    match e {
        CgroupError::InvalidValue(m) => Error::invalid_arg(m),
        CgroupError::NotBlockDevice { .. } => Error::invalid_op(e.to_string()),
        CgroupError::Unsupported { path, .. } if path.to_string_lossy().contains("weight") => {
            Error::invalid_op("blkio weight is valid only for bfq or cfq scheduler")
        }
        e => Error::new(ErrorKind::SystemError, e.to_string()),
    }
}

/// The cgroup MemTune of a change (same units, KiB).
fn cgroup_memtune(c: &MemTuneChange) -> virtsh_cgroup::MemTune {
    virtsh_cgroup::MemTune {
        hard_limit: c.hard_limit,
        soft_limit: c.soft_limit,
        swap_hard_limit: c.swap_hard_limit,
    }
}

/// The cgroup's file for one per-device list.
fn device_limit(list: &str) -> BlkioDeviceLimit {
    match list {
        blkio_param::DEVICE_WEIGHT => BlkioDeviceLimit::Weight,
        blkio_param::DEVICE_READ_IOPS => BlkioDeviceLimit::ReadIops,
        blkio_param::DEVICE_WRITE_IOPS => BlkioDeviceLimit::WriteIops,
        blkio_param::DEVICE_READ_BPS => BlkioDeviceLimit::ReadBps,
        _ => BlkioDeviceLimit::WriteBps,
    }
}

/// The per-device lists of a definition, after the weight.
fn device_lists(b: &BlkioTune, out: &mut Vec<TypedParam>) {
    for list in blkio_param::DEVICE_LISTS {
        out.push(TypedParam::new(
            list,
            TypedValue::String(b.device_list(list)),
        ));
    }
}

/// Apply one blkio parameter to the cgroup (live) and to `def`; libvirt's
/// virDomainCgroupSetupDomainBlkioParameters for one parameter.
fn set_blkio_live(cg: &Cgroup, def: &mut DomainDef, p: &TypedParam) -> Result<()> {
    match &p.value {
        TypedValue::UInt(w) if p.field == blkio_param::WEIGHT => {
            cg.set_blkio_weight(*w).map_err(cgroup_failed)?;
            def.blkiotune.weight = cg.blkio_weight().map_err(cgroup_failed)?;
            Ok(())
        }
        TypedValue::String(s) => {
            let limit = device_limit(&p.field);
            for dev in parse_device_list(&p.field, s)? {
                cg.set_blkio_device(limit, std::path::Path::new(&dev.path), dev.get(&p.field))
                    .map_err(cgroup_failed)?;
            }
            def.blkiotune.merge_device_list(&p.field, s)
        }
        _ => Ok(()),
    }
}

/// Apply one blkio parameter to a persistent definition
/// (virDomainDriverSetupPersistentDefBlkioParams).
fn set_blkio_config(def: &mut DomainDef, p: &TypedParam) -> Result<()> {
    match &p.value {
        TypedValue::UInt(w) if p.field == blkio_param::WEIGHT => {
            def.blkiotune.weight = *w;
            Ok(())
        }
        TypedValue::String(s) => def.blkiotune.merge_device_list(&p.field, s),
        _ => Ok(()),
    }
}

impl LxcDriver {
    /// lxcDomainGetMemoryParameters: the three limits, of the cgroup or of the persistent
    /// definition (`--config`).
    pub(super) fn memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | TYPED_PARAM_STRING_OKAY,
            "lxcDomainGetMemoryParameters",
        )?;
        let v = self.view_of(dom)?;
        let (live, _) = impact(&v, flags & (LIVE | CONFIG))?;
        let m = if live {
            let t = Self::cgroup_of(&v)?
                .memtune()
                .map_err(|_| no_memory_controller())?;
            let unlimited = virtsh_api::flags::MEMORY_PARAM_UNLIMITED;
            MemTune {
                hard_limit: t.hard_limit.unwrap_or(unlimited),
                soft_limit: t.soft_limit.unwrap_or(unlimited),
                // A host without swap accounting has no swap limit to report.
                swap_hard_limit: t.swap_hard_limit.unwrap_or(unlimited),
                min_guarantee: 0,
            }
        } else {
            MemTune::from_node(self.reg.persistent(&dom.name)?.memtune.as_ref())
        };
        Ok(vec![
            TypedParam::new(HARD_LIMIT, TypedValue::ULLong(m.hard_limit)),
            TypedParam::new(SOFT_LIMIT, TypedValue::ULLong(m.soft_limit)),
            TypedParam::new(SWAP_HARD_LIMIT, TypedValue::ULLong(m.swap_hard_limit)),
        ])
    }

    /// lxcDomainSetMemoryParameters (virDomainCgroupSetMemoryLimitParameters): the hard limit
    /// may not exceed the swap hard limit in either definition; the cgroup takes the limits
    /// in an order it accepts.
    pub(super) fn set_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        virtsh_api::flags::check(flags, LIVE | CONFIG, "lxcDomainSetMemoryParameters")?;
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
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let (live, config) = impact(&v, flags)?;
        let cg = if live {
            let cg = Self::cgroup_of(&v)?;
            cg.memory_hard_limit().map_err(|_| no_memory_controller())?;
            Some(cg)
        } else {
            None
        };
        let mut pdef = if config {
            Some(self.reg.persistent(&dom.name)?)
        } else {
            None
        };
        if live {
            change.check_against(&MemTune::from_node(v.def.memtune.as_ref()))?;
        }
        if let Some(p) = &pdef {
            change.check_against(&MemTune::from_node(p.memtune.as_ref()))?;
        }
        if let Some(cg) = &cg {
            cg.set_memtune(&cgroup_memtune(&change))
                .map_err(cgroup_failed)?;
            self.reg.edit_live(&dom.name, |def| {
                let mut m = MemTune::from_node(def.memtune.as_ref());
                change.apply_to(&mut m);
                def.memtune = m.to_node();
                Ok(())
            })?;
        }
        if let Some(def) = pdef.as_mut() {
            let mut m = MemTune::from_node(def.memtune.as_ref());
            change.apply_to(&mut m);
            def.memtune = m.to_node();
            self.reg.save_config(def)?;
        }
        Ok(())
    }

    /// lxcDomainGetBlkioParameters: the weight (the cgroup's while running) and the
    /// per-device lists of the definition.
    pub(super) fn blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | TYPED_PARAM_STRING_OKAY,
            "lxcDomainGetBlkioParameters",
        )?;
        let v = self.view_of(dom)?;
        let (live, _) = impact(&v, flags & (LIVE | CONFIG))?;
        let (weight, def) = if live {
            let cg = Self::cgroup_of(&v)?;
            let weight = match cg.blkio_weight() {
                Err(CgroupError::NoController { .. }) => return Err(no_blkio_controller()),
                w => w.map_err(cgroup_failed)?,
            };
            (weight, v.def)
        } else {
            let def = self.reg.persistent(&dom.name)?;
            (def.blkiotune.weight, def)
        };
        let mut out = vec![TypedParam::new(
            blkio_param::WEIGHT,
            TypedValue::UInt(weight),
        )];
        device_lists(&def.blkiotune, &mut out);
        Ok(out)
    }

    /// lxcDomainSetBlkioParameters: every parameter is tried in turn; one that fails does not
    /// stop the others, and the call reports the last failure, as libvirt does.
    pub(super) fn set_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        virtsh_api::flags::check(flags, LIVE | CONFIG, "lxcDomainSetBlkioParameters")?;
        let mut allowed = vec![(blkio_param::WEIGHT, Kind::UInt)];
        allowed.extend(blkio_param::DEVICE_LISTS.iter().map(|l| (*l, Kind::String)));
        validate(params, &allowed)?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let (live, config) = impact(&v, flags)?;
        let mut failure = None;
        if live {
            let cg = Self::cgroup_of(&v)?;
            if matches!(cg.blkio_weight(), Err(CgroupError::NoController { .. })) {
                return Err(no_blkio_controller());
            }
            self.reg.edit_live(&dom.name, |def| {
                for p in params {
                    if let Err(e) = set_blkio_live(&cg, def, p) {
                        failure = Some(e);
                    }
                }
                Ok(())
            })?;
        }
        if config {
            let mut def = self.reg.persistent(&dom.name)?;
            for p in params {
                if let Err(e) = set_blkio_config(&mut def, p) {
                    failure = Some(e);
                }
            }
            self.reg.save_config(&def)?;
        }
        failure.map_or(Ok(()), Err)
    }
}
