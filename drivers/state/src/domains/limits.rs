//! `memtune` and `blkiotune` of a local driver's domains, as libvirt's LXC and QEMU drivers
//! answer them (virDomainCgroupSetMemoryLimitParameters, virDomainCgroupSetupDomainBlkio
//! Parameters): a running domain's values are its cgroup's (then recorded in the live
//! definition), `--config` reads and changes the persistent definition.
//!
//! The driver names itself (`lxc`, `qemu`) for libvirt's flag errors, and gives the domain's
//! cgroup; the caller holds the domain's lock for the setters.

use virtsh_api::flags::device_modify;
use virtsh_api::{Error, ErrorKind, Result, TypedParam, TypedValue};
use virtsh_cgroup::{BlkioDeviceLimit, Cgroup, CgroupError};
use virtsh_xml::domain::tune::{blkio_param, limit_is_set, parse_device_list, MemTuneChange};
use virtsh_xml::domain::{BlkioTune, DomainDef, MemTune};

use super::{impact, DomainRegistry, DomainView};

/// How a driver's domain is tuned: its name in libvirt's function names, and its cgroup.
pub struct Tunable<'a> {
    /// `lxc`, `qemu`: libvirt's `lxcDomainGetMemoryParameters` and so on.
    pub driver: &'a str,
    pub view: &'a DomainView,
    /// The running domain's cgroup, asked for only when the call's impact is live; None when
    /// it runs without one (then libvirt's error for the missing controller).
    pub cgroup: &'a dyn Fn(&DomainView) -> Result<Option<Cgroup>>,
}

impl Tunable<'_> {
    fn function(&self, name: &str) -> String {
        format!("{}{name}", self.driver)
    }

    fn name(&self) -> &str {
        &self.view.def.name
    }
}

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;
/// VIR_TYPED_PARAM_STRING_OKAY
const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

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
        // virReportSystemError(EINVAL, ...) in libvirt.
        CgroupError::NotBlockDevice { .. } => Error::new(
            ErrorKind::SystemError,
            format!(
                "{e}: {}",
                virtsh_api::strerror(&std::io::Error::from_raw_os_error(libc::EINVAL))
            ),
        ),
        // libvirt's v1 and v2 backends word a missing weight file differently.
        CgroupError::Unsupported { ref path, .. } => {
            match path.file_name().and_then(|n| n.to_str()) {
                Some("blkio.weight") => {
                    Error::invalid_op("blkio device weight is valid only for bfq or cfq scheduler")
                }
                Some("io.weight") => {
                    Error::invalid_op("blkio weight is valid only for bfq or cfq scheduler")
                }
                Some(n) if n.ends_with("weight_device") => device_weight_unsupported(),
                _ => Error::new(ErrorKind::SystemError, e.to_string()),
            }
        }
        e => Error::new(ErrorKind::SystemError, e.to_string()),
    }
}

fn device_weight_unsupported() -> Error {
    Error::invalid_op("blkio device weight is valid only for cfq scheduler")
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
                    .map_err(|e| match e {
                        CgroupError::Unsupported { .. } if limit == BlkioDeviceLimit::Weight => {
                            device_weight_unsupported()
                        }
                        e => cgroup_failed(e),
                    })?;
            }
            def.blkiotune.merge_device_list(&p.field, s)
        }
        _ => Ok(()),
    }
}

/// A definition's `<memtune>` limits and `<blkiotune>` weight and devices, applied to the
/// cgroup of a domain that starts (libvirt's qemuSetupMemoryCgroup, qemuSetupBlkioCgroup,
/// virLXCCgroupSetupMemTune, virLXCCgroupSetupBlkioTune). What it does not name is left alone.
pub fn apply_tuning(cg: &Cgroup, def: &DomainDef) -> std::result::Result<(), CgroupError> {
    let m = MemTune::from_node(def.memtune.as_ref());
    let set = |kib: u64| limit_is_set(kib).then_some(kib);
    let limits = virtsh_cgroup::MemTune {
        hard_limit: set(m.hard_limit),
        soft_limit: set(m.soft_limit),
        swap_hard_limit: set(m.swap_hard_limit),
    };
    if limits != virtsh_cgroup::MemTune::default() {
        cg.set_memtune(&limits)?;
    }
    let b = &def.blkiotune;
    if b.weight != 0 {
        cg.set_blkio_weight(b.weight)?;
    }
    for dev in &b.devices {
        for list in blkio_param::DEVICE_LISTS {
            let v = dev.get(list);
            if v != 0 {
                cg.set_blkio_device(device_limit(list), std::path::Path::new(&dev.path), v)?;
            }
        }
    }
    Ok(())
}

impl DomainRegistry {
    /// lxcDomainGetMemoryParameters: the three limits, of the cgroup or of the persistent
    /// definition (`--config`).
    pub fn memory_params(&self, t: &Tunable<'_>, flags: u32) -> Result<Vec<TypedParam>> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | TYPED_PARAM_STRING_OKAY,
            &t.function("DomainGetMemoryParameters"),
        )?;
        let (live, _) = impact(t.view, flags & (LIVE | CONFIG))?;
        let m = if live {
            let t = (t.cgroup)(t.view)?
                .ok_or_else(no_memory_controller)?
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
            MemTune::from_node(self.persistent(t.name())?.memtune.as_ref())
        };
        Ok(m.to_params())
    }

    /// lxcDomainSetMemoryParameters (virDomainCgroupSetMemoryLimitParameters): the hard limit
    /// may not exceed the swap hard limit in either definition; the cgroup takes the limits
    /// in an order it accepts.
    pub fn set_memory_params(
        &self,
        t: &Tunable<'_>,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG,
            &t.function("DomainSetMemoryParameters"),
        )?;
        let change = MemTuneChange::from_params(params)?;
        let v = t.view;
        let (live, config) = impact(v, flags)?;
        let cg = if live {
            let cg = (t.cgroup)(v)?.ok_or_else(no_memory_controller)?;
            cg.memory_hard_limit().map_err(|_| no_memory_controller())?;
            Some(cg)
        } else {
            None
        };
        let mut pdef = if config {
            Some(self.persistent(t.name())?)
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
            self.edit_live(t.name(), |def| {
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
            self.save_config(def)?;
        }
        Ok(())
    }

    /// lxcDomainGetBlkioParameters: the weight (the cgroup's while running) and the
    /// per-device lists of the definition.
    pub fn blkio_params(&self, t: &Tunable<'_>, flags: u32) -> Result<Vec<TypedParam>> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | TYPED_PARAM_STRING_OKAY,
            &t.function("DomainGetBlkioParameters"),
        )?;
        let (live, _) = impact(t.view, flags & (LIVE | CONFIG))?;
        let (weight, blkio) = if live {
            let cg = (t.cgroup)(t.view)?.ok_or_else(no_blkio_controller)?;
            let weight = match cg.blkio_weight() {
                Err(CgroupError::NoController { .. }) => return Err(no_blkio_controller()),
                w => w.map_err(cgroup_failed)?,
            };
            (weight, t.view.def.blkiotune.clone())
        } else {
            let def = self.persistent(t.name())?;
            (def.blkiotune.weight, def.blkiotune)
        };
        Ok(blkio.to_params(weight))
    }

    /// lxcDomainSetBlkioParameters: every parameter is tried in turn; one that fails does not
    /// stop the others, and the call reports the last failure, as libvirt does.
    pub fn set_blkio_params(
        &self,
        t: &Tunable<'_>,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG,
            &t.function("DomainSetBlkioParameters"),
        )?;
        BlkioTune::validate_params(params)?;
        let (live, config) = impact(t.view, flags)?;
        let mut failure = None;
        if live {
            let cg = (t.cgroup)(t.view)?.ok_or_else(no_blkio_controller)?;
            if matches!(cg.blkio_weight(), Err(CgroupError::NoController { .. })) {
                return Err(no_blkio_controller());
            }
            self.edit_live(t.name(), |def| {
                for p in params {
                    if let Err(e) = set_blkio_live(&cg, def, p) {
                        failure = Some(e);
                    }
                }
                Ok(())
            })?;
        }
        if config {
            let mut def = self.persistent(t.name())?;
            for p in params {
                if let Err(e) = def.blkiotune.apply_param(p) {
                    failure = Some(e);
                }
            }
            self.save_config(&def)?;
        }
        failure.map_or(Ok(()), Err)
    }
}
