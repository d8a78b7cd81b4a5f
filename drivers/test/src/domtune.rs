//! Domain tuning and monitoring: memory, vCPUs, metadata, block info, memory and domain
//! statistics, scheduler parameters — with the test driver's fixed numbers and libvirt's checks.

use virtsh_api::flags::{metadata, vcpu};
use virtsh_api::{
    impact, BlockInfo, Domain, DomainStatsRecord, Error, ErrorKind, Result, TypedParam, TypedValue,
    VcpuInfo,
};
use virtsh_xml::domain::DomainDef;

use crate::domstate::exclusive_flags;
use crate::{check_flags, real_time_us, Driver};

/// VIR_DOMAIN_MEM_MAXIMUM
const MEM_MAXIMUM: u32 = virtsh_api::flags::memory::MAXIMUM;
/// testConnectGetMaxVcpus
const MAX_VCPUS: u32 = 32;
/// The stat groups the test driver implements: state and iothread.
const STATS_SUPPORTED: u32 = virtsh_api::flags::stats::STATE | virtsh_api::flags::stats::IOTHREAD;
/// VIR_CONNECT_GET_ALL_DOMAINS_STATS_{NOWAIT,BACKING,ENFORCE_STATS}
const STATS_NOWAIT: u32 = 1 << 29;
const STATS_BACKING: u32 = 1 << 30;
const STATS_ENFORCE: u32 = 1 << 31;
/// The CPUs testNodeGetCPUMap reports, which bounds the affinity maps callers see.
const NODE_CPUMAP_CPUS: usize = 8;

/// virDomainMemoryStatTags
mod tag {
    pub const SWAP_IN: i32 = 0;
    pub const SWAP_OUT: i32 = 1;
    pub const MAJOR_FAULT: i32 = 2;
    pub const MINOR_FAULT: i32 = 3;
    pub const UNUSED: i32 = 4;
    pub const AVAILABLE: i32 = 5;
    pub const ACTUAL_BALLOON: i32 = 6;
    pub const RSS: i32 = 7;
    pub const USABLE: i32 = 8;
    pub const LAST_UPDATE: i32 = 9;
    pub const DISK_CACHES: i32 = 10;
    pub const HUGETLB_PGALLOC: i32 = 11;
    pub const HUGETLB_PGFAIL: i32 = 12;
}

/// virDomainDefSetVcpus: the number of online vCPUs.
fn set_current_vcpus(def: &mut DomainDef, n: u32) {
    def.current_vcpus = n;
}

/// virDomainDefSetVcpusMax: the maximum; online vCPUs above it go away.
fn set_max_vcpus(def: &mut DomainDef, n: u32) {
    def.vcpus = n;
    if def.current_vcpus > n {
        def.current_vcpus = n;
    }
}

/// virDomainDiskIndexByName (not ambiguous): a target name, or an absolute source path that
/// only one disk uses.
pub(crate) fn find_disk<'a>(
    def: &'a DomainDef,
    name: &str,
) -> Option<&'a virtsh_xml::domain::Disk> {
    let disks = &def.devices.disks;
    if !name.starts_with('/') {
        return disks.iter().find(|d| d.target_dev == name);
    }
    let mut matching = disks.iter().filter(|d| d.source.as_deref() == Some(name));
    let first = matching.next()?;
    match matching.next() {
        Some(_) => None,
        None => Some(first),
    }
}

fn has_memballoon(def: &DomainDef) -> bool {
    def.devices
        .memballoon
        .as_ref()
        .is_some_and(|m| m.attr("model") != Some("none"))
}

impl Driver {
    pub(crate) fn get_metadata(
        &mut self,
        dom: &Domain,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        if kind == metadata::ELEMENT && uri.is_none() {
            return Err(Error::raw(
                ErrorKind::InvalidArg,
                "uri in virDomainGetMetadata must not be NULL",
            ));
        }
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "testDomainGetMetadata",
        )?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        virtsh_xml::domain::metadata::get(def, kind, uri)
    }

    pub(crate) fn set_metadata(
        &mut self,
        dom: &Domain,
        kind: i32,
        value: Option<&str>,
        key: Option<&str>,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        // The checks of the public entry point (virDomainSetMetadata) come first.
        let change = virtsh_xml::domain::metadata::prepare(kind, value, key, uri)?;
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "testDomainSetMetadata",
        )?;
        self.dom_mut(dom)?.with_defs(flags, |def| {
            virtsh_xml::domain::metadata::apply(def, &change);
            Ok(())
        })
    }

    /// testDomainSetMemoryFlags
    pub(crate) fn set_memory(&mut self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        if kib == 0 {
            return Err(Error::raw(
                ErrorKind::InvalidArg,
                "memory in virDomainSetMemoryFlags must not be zero",
            ));
        }
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG | MEM_MAXIMUM,
            "testDomainSetMemoryFlags",
        )?;
        let obj = self.dom_mut(dom)?;
        let (def, live) = obj.one_def_state(flags)?;
        if flags & MEM_MAXIMUM != 0 {
            if live {
                return Err(Error::invalid_op(
                    "cannot resize the maximum memory on an active domain",
                ));
            }
            if def.max_memory_kib.is_some_and(|m| m > 0 && m < kib) {
                return Err(Error::invalid_op(
                    "cannot set initial memory size greater than the maximum memory size",
                ));
            }
            def.memory_kib = kib;
            if def.current_memory_kib > kib {
                def.current_memory_kib = kib;
            }
        } else {
            if kib > def.memory_kib {
                return Err(Error::invalid_arg(
                    "cannot set memory higher than max memory",
                ));
            }
            def.current_memory_kib = kib;
        }
        Ok(())
    }

    /// testDomainSetVcpusFlags, with the checks of virDomainSetVcpusFlags.
    pub(crate) fn set_vcpus(&mut self, dom: &Domain, count: u32, flags: u32) -> Result<()> {
        if count == 0 {
            return Err(Error::raw(
                ErrorKind::InvalidArg,
                "nvcpus in virDomainSetVcpusFlags must not be zero",
            ));
        }
        if flags & vcpu::MAXIMUM != 0 && flags & vcpu::GUEST != 0 {
            return Err(exclusive_flags(
                "VIR_DOMAIN_VCPU_MAXIMUM",
                "VIR_DOMAIN_VCPU_GUEST",
            ));
        }
        if flags & vcpu::MAXIMUM != 0 && flags & impact::CONFIG == 0 {
            return Err(Error::raw(
                ErrorKind::InvalidArg,
                "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'",
            ));
        }
        if count > u16::MAX as u32 {
            return Err(Error::raw(
                ErrorKind::InternalError,
                format!("numerical overflow: input too large: {count}"),
            ));
        }
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG | vcpu::MAXIMUM,
            "testDomainSetVcpusFlags",
        )?;
        if count > MAX_VCPUS {
            return Err(Error::invalid_arg(format!(
                "requested cpu amount exceeds maximum supported amount ({count} > {MAX_VCPUS})"
            )));
        }
        let obj = self.dom_mut(dom)?;
        let (live, config) = obj.defs_flags(flags)?;
        let maximum = flags & vcpu::MAXIMUM != 0;
        let exceeds = |max: u32| {
            Error::invalid_arg(format!(
                "requested cpu amount exceeds maximum ({count} > {max})"
            ))
        };
        if live && obj.def.vcpus < count {
            return Err(exceeds(obj.def.vcpus));
        }
        if config && !maximum {
            let max = obj.persistent_def_mut().vcpus;
            if max < count {
                return Err(exceeds(max));
            }
        }
        if live {
            set_current_vcpus(&mut obj.def, count);
        }
        if config {
            let def = obj.persistent_def_mut();
            if maximum {
                set_max_vcpus(def, count);
            } else {
                set_current_vcpus(def, count);
            }
        }
        Ok(())
    }

    /// testDomainGetVcpusFlags
    pub(crate) fn vcpus_count(&mut self, dom: &Domain, flags: u32) -> Result<u32> {
        if flags & impact::LIVE != 0 && flags & impact::CONFIG != 0 {
            return Err(exclusive_flags(
                "VIR_DOMAIN_AFFECT_LIVE",
                "VIR_DOMAIN_AFFECT_CONFIG",
            ));
        }
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG | vcpu::MAXIMUM,
            "testDomainGetVcpusFlags",
        )?;
        let obj = self.dom_mut(dom)?;
        let (def, _) = obj.one_def_state(flags)?;
        Ok(if flags & vcpu::MAXIMUM != 0 {
            def.vcpus
        } else {
            def.current_vcpus
        })
    }

    /// testDomainGetVcpus: every online vCPU runs on the last host CPU it may use, with a
    /// made-up CPU time.
    pub(crate) fn vcpu_info(&mut self, dom: &Domain) -> Result<Vec<VcpuInfo>> {
        let host_cpus = self.max_cpus();
        let obj = self.dom_mut(dom)?;
        if !obj.is_active() {
            return Err(Error::invalid_op(
                "cannot list vcpus for an inactive domain",
            ));
        }
        let cpu_time = real_time_us() / 10;
        let shown = NODE_CPUMAP_CPUS.min(host_cpus as usize);
        Ok((0..obj.def.current_vcpus)
            .map(|i| VcpuInfo {
                number: i,
                state: 1,
                cpu_time,
                cpu: host_cpus as i32 - 1,
                affinity: vec![true; shown],
            })
            .collect())
    }

    /// testDomainGetBlockInfo: fixed sizes for any disk that has a source.
    pub(crate) fn block_info(&mut self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        let obj = self.dom_mut(dom)?;
        let Some(d) = find_disk(&obj.def, disk) else {
            return Err(Error::invalid_arg(format!(
                "invalid path {disk} not assigned to domain"
            )));
        };
        if d.source.as_deref().unwrap_or("").is_empty() {
            return Err(Error::invalid_arg(format!(
                "disk '{disk}' does not currently have a source assigned"
            )));
        }
        Ok(BlockInfo {
            capacity: 1099506450432,
            allocation: 1099511627776,
            physical: 1099511627776,
        })
    }

    /// testDomainMemoryStats: numbers derived from the current balloon size.
    pub(crate) fn memory_stats(&mut self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        if !has_memballoon(&obj.def) {
            return Ok(Vec::new());
        }
        // The test driver keeps the balloon size in an int.
        let cur = obj.def.current_memory_kib as i32 as i64 as u64;
        Ok(vec![
            (tag::ACTUAL_BALLOON, cur),
            (tag::SWAP_IN, 0),
            (tag::SWAP_OUT, 0),
            (tag::MAJOR_FAULT, 0),
            (tag::MINOR_FAULT, 0),
            (tag::UNUSED, cur / 2),
            (tag::AVAILABLE, cur),
            (tag::USABLE, cur / 2),
            (tag::LAST_UPDATE, 627319920),
            (tag::DISK_CACHES, cur / 8),
            (tag::HUGETLB_PGALLOC, 0),
            (tag::HUGETLB_PGFAIL, 0),
            (tag::RSS, cur / 2),
        ])
    }

    /// testConnectGetAllDomainStats / virDomainListGetStats.
    pub(crate) fn stats(
        &mut self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        check_flags(
            flags,
            0xFF | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE,
            "testConnectGetAllDomainStats",
        )?;
        let mut stats = if stats == 0 { STATS_SUPPORTED } else { stats };
        if flags & STATS_ENFORCE != 0 && stats & !STATS_SUPPORTED != 0 {
            return Err(Error::new(
                ErrorKind::ArgumentUnsupported,
                format!(
                    "Stats types bits 0x{:x} are not supported by this daemon",
                    stats & !STATS_SUPPORTED
                ),
            ));
        }
        stats &= STATS_SUPPORTED;
        let filter = flags & 0xFF;
        let selected: Vec<usize> = if doms.is_empty() {
            (0..self.domains.len()).collect()
        } else {
            // Domains that went away meanwhile are skipped.
            doms.iter().filter_map(|d| self.dom_index(d).ok()).collect()
        };
        Ok(selected
            .into_iter()
            .map(|i| &self.domains[i])
            .filter(|obj| obj.matches(filter))
            .map(|obj| {
                let mut params = Vec::new();
                if stats & virtsh_api::flags::stats::STATE != 0 {
                    params.push(TypedParam::new("state.state", TypedValue::Int(obj.state)));
                    params.push(TypedParam::new("state.reason", TypedValue::Int(obj.reason)));
                }
                DomainStatsRecord {
                    domain: obj.handle(),
                    params,
                }
            })
            .collect())
    }

    /// testDomainGetSchedulerParametersFlags: the weight is always 50.
    pub(crate) fn sched_params(&mut self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        check_flags(flags, 0, "testDomainGetSchedulerParametersFlags")?;
        self.dom_mut(dom)?;
        Ok(vec![TypedParam::new("weight", TypedValue::UInt(50))])
    }

    /// testDomainSetSchedulerParametersFlags: checked, then forgotten.
    pub(crate) fn set_sched_params(
        &mut self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        check_flags(flags, 0, "testDomainSetSchedulerParametersFlags")?;
        for p in params {
            if p.field != "weight" {
                return Err(Error::invalid_arg(format!(
                    "parameter '{}' not supported",
                    p.field
                )));
            }
            if !matches!(p.value, TypedValue::UInt(_)) {
                return Err(Error::invalid_arg(format!(
                    "invalid type '{}' for parameter '{}', expected 'uint'",
                    virtsh_api::typed_params::type_name(&p.value),
                    p.field
                )));
            }
        }
        self.dom_mut(dom)?;
        Ok(())
    }
}
