//! Resource changes: memory (balloon, current and maximum) and vCPU counts (hotplug).

use serde_json::{json, Value};
use virtsh_api::flags::{memory, vcpu};
use virtsh_api::{Domain, Error, ErrorKind, Result};

use super::qemu_ids::unplug;
use super::{CONFIG, LIVE};
use crate::driver::copies::{check_flags, edit_live, impact, persistent, save_config};
use crate::driver::QemuDriver;

pub(in crate::driver) fn set_memory(
    drv: &QemuDriver,
    dom: &Domain,
    kib: u64,
    flags: u32,
) -> Result<()> {
    check_flags(
        flags,
        LIVE | CONFIG | memory::MAXIMUM,
        "qemuDomainSetMemoryFlags",
    )?;
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
    let mut pdef = if config {
        Some(persistent(drv, &dom.name)?)
    } else {
        None
    };
    if flags & memory::MAXIMUM != 0 {
        if live {
            return Err(Error::invalid_op(
                "cannot resize the maximum memory on an active domain",
            ));
        }
        if let Some(p) = pdef.as_mut() {
            if p.max_memory_kib.is_some_and(|m| m < kib) {
                return Err(Error::invalid_op(
                    "cannot set initial memory size greater than the maximum memory size",
                ));
            }
            p.memory_kib = kib;
            if p.current_memory_kib > kib {
                p.current_memory_kib = kib;
            }
            save_config(drv, p)?;
        }
        return Ok(());
    }
    let mut oldmax = if live { v.def.memory_kib } else { 0 };
    if let Some(p) = &pdef {
        if !live || oldmax > p.memory_kib {
            oldmax = p.memory_kib;
        }
    }
    if kib > oldmax {
        return Err(Error::invalid_arg(
            "cannot set memory higher than max memory",
        ));
    }
    if live {
        let balloon = v
            .def
            .devices
            .memballoon
            .as_ref()
            .is_some_and(|b| b.attr("model") != Some("none"));
        if !balloon {
            return Err(Error::invalid_op(
                "Unable to change memory of active domain without the balloon device and guest \
                 OS balloon driver",
            ));
        }
        drv.qmp(dom, "balloon", json!({"value": kib * 1024}))?;
    }
    if let Some(p) = pdef.as_mut() {
        p.current_memory_kib = kib;
        save_config(drv, p)?;
    }
    Ok(())
}

pub(in crate::driver) fn set_vcpus(
    drv: &QemuDriver,
    dom: &Domain,
    count: u32,
    flags: u32,
) -> Result<()> {
    check_flags(
        flags,
        LIVE | CONFIG | vcpu::MAXIMUM | vcpu::GUEST | vcpu::HOTPLUGGABLE,
        "qemuDomainSetVcpusFlags",
    )?;
    if flags & vcpu::GUEST != 0 {
        return Err(Error::new(
            ErrorKind::OperationUnsupported,
            "setting the vCPUs a guest uses through its agent is not supported",
        ));
    }
    let _lock = drv.lock(&dom.name)?;
    let v = drv.view_of(dom)?;
    let (live, config) = impact(&v, flags & (LIVE | CONFIG))?;
    let mut pdef = if config {
        Some(persistent(drv, &dom.name)?)
    } else {
        None
    };
    if flags & vcpu::MAXIMUM != 0 {
        if live {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                "maximum vcpu count of a live domain can't be modified",
            ));
        }
        if let Some(p) = pdef.as_mut() {
            p.vcpus = count;
            if p.current_vcpus > count {
                p.current_vcpus = count;
            }
            save_config(drv, p)?;
        }
        return Ok(());
    }
    let max = v.def.vcpus.max(1);
    if live && count > max {
        return Err(Error::invalid_arg(format!(
            "requested vcpus is greater than max allowable vcpus for the live domain: {count} > {max}"
        )));
    }
    if let Some(p) = &pdef {
        if count > p.vcpus {
            return Err(Error::invalid_arg(format!(
                "requested vcpus is greater than max allowable vcpus for the persistent domain: {count} > {}",
                p.vcpus
            )));
        }
    }
    if live {
        hotplug_vcpus(drv, dom, count)?;
        edit_live(drv, &dom.name, |def| {
            def.current_vcpus = count;
            Ok(())
        })?;
    }
    if let Some(p) = pdef.as_mut() {
        p.current_vcpus = count;
        save_config(drv, p)?;
    }
    Ok(())
}

/// Plug or unplug vCPUs (query-hotpluggable-cpus, device_add/device_del) until `count` are
/// present.
fn hotplug_vcpus(drv: &QemuDriver, dom: &Domain, count: u32) -> Result<()> {
    let slots = drv.qmp(dom, "query-hotpluggable-cpus", Value::Null)?;
    let mut slots: Vec<Value> = slots.as_array().cloned().unwrap_or_default();
    let key = |s: &Value| {
        let p = s.get("props");
        let g = |k: &str| {
            p.and_then(|p| p.get(k))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        (g("socket-id"), g("die-id"), g("core-id"), g("thread-id"))
    };
    slots.sort_by_key(key);
    let present = |s: &Value| s.get("qom-path").is_some();
    let now: u32 = slots
        .iter()
        .filter(|s| present(s))
        .map(|s| s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32)
        .sum();
    if count > now {
        let mut have = now;
        for (i, s) in slots.iter().enumerate() {
            if have >= count {
                break;
            }
            if present(s) {
                continue;
            }
            let mut args = serde_json::Map::new();
            args.insert(
                "driver".into(),
                s.get("type").cloned().unwrap_or(Value::Null),
            );
            args.insert("id".into(), format!("vcpu{i}").into());
            if let Some(props) = s.get("props").and_then(Value::as_object) {
                for (k, v) in props {
                    if k != "node-id" {
                        args.insert(k.clone(), v.clone());
                    }
                }
            }
            drv.qmp(dom, "device_add", Value::Object(args))?;
            have += s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32;
        }
        if have < count {
            return Err(Error::internal(format!(
                "only {have} of {count} vCPUs could be plugged"
            )));
        }
    } else if count < now {
        let mut have = now;
        for (i, s) in slots.iter().enumerate().rev() {
            if have <= count {
                break;
            }
            if !present(s) {
                continue;
            }
            let path = s.get("qom-path").and_then(Value::as_str).unwrap_or("");
            let Some(id) = path.strip_prefix("/machine/peripheral/") else {
                return Err(Error::invalid_op(format!(
                    "vcpu '{i}' can't be hotunplugged"
                )));
            };
            unplug(drv, dom, id)?;
            have -= s.get("vcpus-count").and_then(Value::as_u64).unwrap_or(1) as u32;
        }
    }
    Ok(())
}
