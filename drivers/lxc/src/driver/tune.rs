//! A container's cgroup limits from its definition, as libvirt's lxc_cgroup.c sets them: the
//! memory of `<memory>` (then `<memtune>` and `<blkiotune>`, as every local driver applies
//! them), `<cputune>` shares, period and quota, and the device allow-list of a container
//! (with its host devices).

use virtsh_cgroup::{Cgroup, DeviceAccess, DeviceRule, Result};
use virtsh_xml::domain::{DomainDef, Node};

use crate::container::DeviceNode;

/// A `<cputune>` child as a number, if set.
pub(crate) fn cputune_num<T: std::str::FromStr>(def: &DomainDef, name: &str) -> Option<T> {
    let cputune: &Node = def.cputune.as_ref()?;
    cputune.child(name)?.text.as_deref()?.trim().parse().ok()
}

/// Apply every limit `def` asks for, and the device allow-list with `devices` (the host
/// devices of `def`, as [`crate::spec::host_devices`] found them).
pub fn apply_limits(cg: &Cgroup, def: &DomainDef, devices: &[DeviceNode]) -> Result<()> {
    apply_resources(cg, def)?;
    cg.set_devices(&device_allow_list(devices))
}

/// The resource limits of `def`: memory, `<memtune>`, `<blkiotune>`, `<cputune>`. A limit the
/// definition does not name is left alone, so a host without (say) swap accounting only
/// fails a container that asks for a swap limit.
pub fn apply_resources(cg: &Cgroup, def: &DomainDef) -> Result<()> {
    // `<memory>` is in every definition, so a host whose cgroups have no memory controller
    // where virtsh looks (the v2 mount of a hybrid host with VIRTSH_CGROUP=v2) still runs
    // containers, without that limit, and says so in the log. `<memtune>` limits, which
    // someone asked for, are not waived.
    if let Err(e) = cg.set_memory_hard_limit(def.memory_kib) {
        if !e.is_unsupported() {
            return Err(e);
        }
        eprintln!("warning: domain '{}': no memory limit: {e}", def.name);
    }
    virtsh_state::domains::apply_tuning(cg, def)?;
    if let Some(shares) = cputune_num::<u64>(def, "shares") {
        cg.set_cpu_shares(shares)?;
    }
    if let Some(period) = cputune_num::<u64>(def, "period") {
        cg.set_cpu_cfs_period(period)?;
    }
    if let Some(quota) = cputune_num::<i64>(def, "quota") {
        cg.set_cpu_cfs_quota(quota)?;
    }
    Ok(())
}

/// libvirt's allow-list of a container (virLXCCgroupSetupDeviceACL): its default nodes, then
/// each host device given to it, `rwm` (the `m` lets the container's setup make its node).
pub fn device_allow_list(devices: &[DeviceNode]) -> Vec<DeviceRule> {
    let mut rules = virtsh_cgroup::lxc_default_devices();
    rules.extend(devices.iter().map(|d| {
        let make = if d.block {
            DeviceRule::block
        } else {
            DeviceRule::char
        };
        make(d.major, Some(d.minor), DeviceAccess::RWM)
    }));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_devices_join_the_default_list() {
        let node = |block, major, minor| DeviceNode {
            source: "/dev/x".into(),
            target: "/dev/x".into(),
            block,
            major,
            minor,
        };
        let rules = device_allow_list(&[node(true, 7, 5), node(false, 10, 200)]);
        let text: Vec<String> = rules.iter().map(ToString::to_string).collect();
        let defaults = virtsh_cgroup::lxc_default_devices().len();
        assert_eq!(text.len(), defaults + 2);
        assert_eq!(text[defaults..], ["b 7:5 rwm", "c 10:200 rwm"]);
        assert!(text.contains(&"c 1:3 rwm".to_string()));
    }
}
