//! Tuning a container, live through its cgroup and in its definitions, as libvirt's
//! lxc_driver.c does: `schedinfo` (the "posix" scheduler: cpu_shares, vcpu_period,
//! vcpu_quota) and `setmem` (the memory limit).
//!
//! A live change is made in the cgroup first, then recorded in the live definition, so a
//! refused value changes nothing; `--config` changes the persistent definition.

use virtsh_api::flags::{device_modify, memory};
use virtsh_api::typed_params::{validate, Kind};
use virtsh_api::{Domain, Error, ErrorKind, Result, TypedParam, TypedValue};
use virtsh_cgroup::{Cgroup, CgroupError};
use virtsh_state::domains::{impact, DomainView};
use virtsh_xml::domain::{DomainDef, Node};

use super::LxcDriver;

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;
/// VIR_TYPED_PARAM_STRING_OKAY
const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

const CPU_SHARES: &str = "cpu_shares";
const VCPU_PERIOD: &str = "vcpu_period";
const VCPU_QUOTA: &str = "vcpu_quota";

fn no_cpu_controller() -> Error {
    Error::invalid_op("cgroup CPU controller is not mounted")
}

/// A cgroup write refused by the kernel or by libvirt's range checks, in libvirt's words.
fn cgroup_failed(e: CgroupError) -> Error {
    match e {
        CgroupError::InvalidValue(m) => Error::invalid_arg(m),
        CgroupError::NoController { .. } => no_cpu_controller(),
        e => Error::new(ErrorKind::SystemError, e.to_string()),
    }
}

/// Whether the cgroup has CFS bandwidth control (virCgroupSupportsCpuBW).
fn supports_cpu_bw(cg: &Cgroup) -> bool {
    cg.cpu_cfs_period().is_ok()
}

/// A `<cputune>` child as a number; libvirt's zero when it is not set.
fn cputune_value<T: std::str::FromStr + Default>(def: &DomainDef, name: &str) -> T {
    def.cputune
        .as_ref()
        .and_then(|c| c.child(name))
        .and_then(|c| c.text.as_deref())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_default()
}

/// Set (or with None remove) a `<cputune>` child. The parser puts the children in libvirt's
/// order when the definition is read again.
fn set_cputune(def: &mut DomainDef, name: &str, value: Option<String>) {
    let tune = def.cputune.get_or_insert_with(|| Node::new("cputune"));
    tune.children.retain(|c| c.name != name);
    if let Some(v) = value {
        let mut c = Node::new(name);
        c.text = Some(v);
        tune.children.push(c);
    }
    if tune.children.is_empty() && tune.attrs.is_empty() {
        def.cputune = None;
    }
}

/// One scheduler parameter, checked against the type libvirt's virTypedParamsValidate wants.
enum SchedParam {
    Shares(u64),
    Period(u64),
    Quota(i64),
}

fn sched_params(params: &[TypedParam]) -> Result<Vec<SchedParam>> {
    validate(
        params,
        &[
            (CPU_SHARES, Kind::ULLong),
            (VCPU_PERIOD, Kind::ULLong),
            (VCPU_QUOTA, Kind::LLong),
        ],
    )?;
    Ok(params
        .iter()
        .filter_map(|p| match (p.field.as_str(), &p.value) {
            (CPU_SHARES, TypedValue::ULLong(n)) => Some(SchedParam::Shares(*n)),
            (VCPU_PERIOD, TypedValue::ULLong(n)) => Some(SchedParam::Period(*n)),
            (VCPU_QUOTA, TypedValue::LLong(n)) => Some(SchedParam::Quota(*n)),
            _ => None,
        })
        .collect())
}

impl LxcDriver {
    /// lxcDomainGetSchedulerType: "posix", with three parameters where the cgroup has CFS
    /// bandwidth control (and for a container that is not running).
    pub(super) fn scheduler_type(&self, dom: &Domain) -> Result<(String, i32)> {
        let v = self.view_of(dom)?;
        if !v.is_active() {
            return Ok(("posix".into(), 3));
        }
        let cg = Self::cgroup_of(&v)?;
        if cg.cpu_shares().is_err() {
            return Err(no_cpu_controller());
        }
        let n = if supports_cpu_bw(&cg) { 3 } else { 1 };
        Ok(("posix".into(), n))
    }

    /// lxcDomainGetSchedulerParametersFlags: from the persistent definition with `--config`,
    /// else from the running container's cgroup.
    pub(super) fn scheduler_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | TYPED_PARAM_STRING_OKAY,
            "lxcDomainGetSchedulerParametersFlags",
        )?;
        let v = self.view_of(dom)?;
        let (_, config) = impact(&v, flags & (LIVE | CONFIG))?;
        let (shares, bw) = if config {
            let def = self.reg.persistent(&dom.name)?;
            let period: u64 = cputune_value(&def, "period");
            let quota: i64 = cputune_value(&def, "quota");
            (cputune_value::<u64>(&def, "shares"), Some((period, quota)))
        } else {
            let cg = Self::cgroup_of(&v)?;
            let shares = cg.cpu_shares().map_err(|_| no_cpu_controller())?;
            let bw = if supports_cpu_bw(&cg) {
                let period = cg.cpu_cfs_period().map_err(cgroup_failed)?;
                let quota = cg.cpu_cfs_quota().map_err(cgroup_failed)?;
                Some((period, quota))
            } else {
                None
            };
            (shares, bw)
        };
        let mut out = vec![TypedParam::new(CPU_SHARES, TypedValue::ULLong(shares))];
        if let Some((period, quota)) = bw {
            out.push(TypedParam::new(VCPU_PERIOD, TypedValue::ULLong(period)));
            out.push(TypedParam::new(VCPU_QUOTA, TypedValue::LLong(quota)));
        }
        Ok(out)
    }

    /// lxcDomainSetSchedulerParametersFlags: the cgroup and the live definition, and/or the
    /// persistent definition. A period or quota of zero leaves the cgroup's value alone.
    pub(super) fn set_scheduler_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        virtsh_api::flags::check(flags, LIVE | CONFIG, "lxcDomainSetSchedulerParametersFlags")?;
        let params = sched_params(params)?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let (live, config) = impact(&v, flags)?;
        let mut pdef = if config {
            Some(self.reg.persistent(&dom.name)?)
        } else {
            None
        };
        if live {
            let cg = Self::cgroup_of(&v)?;
            if cg.cpu_shares().is_err() {
                return Err(no_cpu_controller());
            }
            for p in &params {
                match *p {
                    SchedParam::Shares(n) => cg.set_cpu_shares(n),
                    SchedParam::Period(0) | SchedParam::Quota(0) => Ok(()),
                    SchedParam::Period(n) => cg.set_cpu_cfs_period(n),
                    SchedParam::Quota(n) => cg.set_cpu_cfs_quota(n),
                }
                .map_err(cgroup_failed)?;
            }
            self.reg.edit_live(&dom.name, |def| {
                for p in &params {
                    match *p {
                        SchedParam::Shares(n) => set_cputune(def, "shares", Some(n.to_string())),
                        SchedParam::Period(0) | SchedParam::Quota(0) => {}
                        SchedParam::Period(n) => set_cputune(def, "period", Some(n.to_string())),
                        SchedParam::Quota(n) => set_cputune(def, "quota", Some(n.to_string())),
                    }
                }
                Ok(())
            })?;
        }
        if let Some(def) = pdef.as_mut() {
            for p in &params {
                let (name, value) = match *p {
                    SchedParam::Shares(n) => ("shares", Some(n.to_string())),
                    SchedParam::Period(n) => ("period", (n != 0).then(|| n.to_string())),
                    SchedParam::Quota(n) => ("quota", (n != 0).then(|| n.to_string())),
                };
                set_cputune(def, name, value);
            }
            self.reg.save_config(def)?;
        }
        Ok(())
    }

    /// lxcDomainSetMemoryFlags: the current memory, which for a running container is its
    /// cgroup's memory limit; with VIR_DOMAIN_MEM_MAXIMUM the maximum, of the persistent
    /// definition only.
    pub(super) fn set_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        virtsh_api::flags::check(
            flags,
            LIVE | CONFIG | memory::MAXIMUM,
            "lxcDomainSetMemoryFlags",
        )?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
        let mut pdef = if config {
            Some(self.reg.persistent(&dom.name)?)
        } else {
            None
        };
        if flags & memory::MAXIMUM != 0 {
            if live {
                return Err(Error::invalid_op(
                    "Cannot resize the max memory on an active domain",
                ));
            }
            if let Some(def) = pdef.as_mut() {
                def.memory_kib = kib;
                def.current_memory_kib = def.current_memory_kib.min(kib);
                self.reg.save_config(def)?;
            }
            return Ok(());
        }
        let oldmax = max_memory(live.then_some(&v), pdef.as_ref());
        if kib > oldmax {
            return Err(Error::invalid_arg(
                "Cannot set memory higher than max memory",
            ));
        }
        if live {
            Self::cgroup_of(&v)?
                .set_memory_hard_limit(kib)
                .map_err(|_| {
                    Error::new(
                        ErrorKind::OperationFailed,
                        "Failed to set memory for domain",
                    )
                })?;
            self.reg.edit_live(&dom.name, |def| {
                def.current_memory_kib = kib;
                Ok(())
            })?;
        }
        if let Some(def) = pdef.as_mut() {
            def.current_memory_kib = kib;
            self.reg.save_config(def)?;
        }
        Ok(())
    }
}

/// The maximum memory a `setmem` may not exceed: the smaller of the live and the persistent
/// definition's (libvirt's oldmax).
fn max_memory(live: Option<&DomainView>, persistent: Option<&DomainDef>) -> u64 {
    let live_max = live.map(|v| v.def.memory_kib).unwrap_or(0);
    match persistent {
        Some(p) if live_max == 0 || live_max > p.memory_kib => p.memory_kib,
        _ => live_max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> DomainDef {
        let xml = "<domain type='lxc'><name>c</name><memory>1000</memory>\
                   <os><type>exe</type><init>/bin/sh</init></os></domain>";
        DomainDef::parse_with(xml, &super::super::parse_options()).expect("a valid definition")
    }

    #[test]
    fn cputune_children_are_set_and_removed() {
        let mut def = def();
        set_cputune(&mut def, "shares", Some("512".into()));
        set_cputune(&mut def, "quota", Some("-1".into()));
        assert_eq!(cputune_value::<u64>(&def, "shares"), 512);
        assert_eq!(cputune_value::<i64>(&def, "quota"), -1);
        assert_eq!(cputune_value::<u64>(&def, "period"), 0);
        set_cputune(&mut def, "shares", None);
        set_cputune(&mut def, "quota", None);
        assert!(def.cputune.is_none());
    }

    #[test]
    fn params_are_typed_as_libvirt_validates() {
        let ok = [
            TypedParam::new(CPU_SHARES, TypedValue::ULLong(2)),
            TypedParam::new(VCPU_QUOTA, TypedValue::LLong(-1)),
        ];
        assert_eq!(sched_params(&ok).map(|p| p.len()).ok(), Some(2));
        let bad = [TypedParam::new("weight", TypedValue::UInt(2))];
        assert!(sched_params(&bad).is_err_and(|e| e.kind == ErrorKind::ArgumentUnsupported));
    }

    #[test]
    fn max_memory_is_the_smaller_copy() {
        let p = def();
        assert_eq!(max_memory(None, Some(&p)), 1000);
        assert_eq!(max_memory(None, None), 0);
    }
}
