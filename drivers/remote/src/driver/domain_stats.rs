//! The domain calls that take more than one procedure or unpack typed parameters: memory and
//! vCPU changes, vCPU information, memory/CPU/block statistics, scheduler parameters, disk
//! errors and `domstats`. Each follows libvirt's client (and virsh's calling pattern) closely,
//! including its checks on what the daemon sends back.

use virtsh_api::flags;
use virtsh_api::{
    DiskError, Domain, DomainStatsRecord, Error, ErrorKind, Result, TypedParam, VcpuInfo,
};

use super::super::handles::{domain_from_remote, typed_params_from_remote};
use super::{rdom, RemoteDriver, TYPED_PARAM_STRING_OKAY};
use crate::generated::remote::{procs, *};

/// VIR_DOMAIN_MEMORY_STAT_NR in libvirt 9.0: virsh's `dommemstat` asks for this many.
const MEMORY_STAT_NR: u32 = 13;

fn rpc_error(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::Rpc, msg)
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl RemoteDriver {
    /// virsh calls virDomainSetMaxMemory for a plain `setmaxmem`, virDomainSetMemoryFlags
    /// otherwise (the shell has already turned a plain `setmem` into a live change).
    pub(super) fn set_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        if flags == flags::memory::MAXIMUM {
            return self.call::<procs::DomainSetMaxMemory>(&RemoteDomainSetMaxMemoryArgs {
                dom: rdom(dom),
                memory: kib,
            });
        }
        self.call::<procs::DomainSetMemoryFlags>(&RemoteDomainSetMemoryFlagsArgs {
            dom: rdom(dom),
            memory: kib,
            flags,
        })
    }

    pub(super) fn set_vcpus(&self, dom: &Domain, count: u32, flags: u32) -> Result<()> {
        self.call::<procs::DomainSetVcpusFlags>(&RemoteDomainSetVcpusFlagsArgs {
            dom: rdom(dom),
            nvcpus: count,
            flags,
        })
    }

    /// How many CPUs the host has, as virsh's virshNodeGetCPUCount finds out: virNodeGetCPUMap,
    /// or the node information from an older daemon.
    fn host_cpu_count(&self) -> Result<u32> {
        match self.call::<procs::NodeGetCpuMap>(&RemoteNodeGetCpuMapArgs {
            need_map: 0,
            need_online: 0,
            flags: 0,
        }) {
            Ok(r) if r.ret >= 0 => Ok(count(r.ret)),
            _ => Ok(count(self.call::<procs::NodeGetInfo>(&())?.cpus)),
        }
    }

    /// virDomainGetVcpus for every vCPU of the domain, with affinity maps as wide as the
    /// host (virsh's `vcpuinfo`).
    pub(super) fn vcpu_info(&self, dom: &Domain) -> Result<Vec<VcpuInfo>> {
        let host_cpus = self.host_cpu_count()?;
        let info =
            self.call::<procs::DomainGetInfo>(&RemoteDomainGetInfoArgs { dom: rdom(dom) })?;
        let maxinfo = i32::from(info.nr_virt_cpu);
        let maplen = host_cpus.div_ceil(8).max(1) as i32;
        if maxinfo > REMOTE_VCPUINFO_MAX as i32 {
            return Err(rpc_error(format!(
                "vCPU count exceeds maximum: {maxinfo} > {REMOTE_VCPUINFO_MAX}"
            )));
        }
        if i64::from(maxinfo) * i64::from(maplen) > i64::from(REMOTE_CPUMAPS_MAX) {
            return Err(rpc_error(format!(
                "vCPU map buffer length exceeds maximum: {} > {REMOTE_CPUMAPS_MAX}",
                i64::from(maxinfo) * i64::from(maplen)
            )));
        }
        let r = self.call::<procs::DomainGetVcpus>(&RemoteDomainGetVcpusArgs {
            dom: rdom(dom),
            maxinfo,
            maplen,
        })?;
        if r.info.len() > maxinfo as usize {
            return Err(rpc_error(format!(
                "host reports too many vCPUs: {} > {maxinfo}",
                r.info.len()
            )));
        }
        if r.cpumaps.len() > (maxinfo * maplen) as usize {
            return Err(rpc_error(format!(
                "host reports map buffer length exceeds maximum: {} > {}",
                r.cpumaps.len(),
                maxinfo * maplen
            )));
        }
        let maplen = maplen as usize;
        Ok(r.info
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let map = r.cpumaps.get(i * maplen..(i + 1) * maplen).unwrap_or(&[]);
                let affinity = (0..host_cpus as usize)
                    .map(|c| map.get(c / 8).is_some_and(|b| b & (1 << (c % 8)) != 0))
                    .collect();
                VcpuInfo {
                    number: v.number,
                    state: v.state,
                    cpu_time: v.cpu_time,
                    cpu: v.cpu,
                    affinity,
                }
            })
            .collect())
    }

    pub(super) fn memory_stats(&self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        let r = self.call::<procs::DomainMemoryStats>(&RemoteDomainMemoryStatsArgs {
            dom: rdom(dom),
            max_stats: MEMORY_STAT_NR,
            flags: 0,
        })?;
        Ok(r.stats.into_iter().map(|s| (s.tag, s.val)).collect())
    }

    /// virConnectGetAllDomainStats (no domains) or virDomainListGetStats (some): one procedure.
    pub(super) fn all_domain_stats(
        &self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        let r =
            self.call::<procs::ConnectGetAllDomainStats>(&RemoteConnectGetAllDomainStatsArgs {
                doms: doms.iter().map(rdom).collect(),
                stats,
                flags,
            })?;
        Ok(r.ret_stats
            .into_iter()
            .map(|rec| DomainStatsRecord {
                domain: domain_from_remote(rec.dom),
                params: typed_params_from_remote(rec.params),
            })
            .collect())
    }

    /// virDomainGetSchedulerType for the number of parameters, then the parameters: with
    /// flags 0 through virDomainGetSchedulerParameters (virsh's call when no impact option is
    /// given), otherwise virDomainGetSchedulerParametersFlags with the flags as the caller
    /// gives them (the shell adds VIR_TYPED_PARAM_STRING_OKAY as libvirt's library does).
    pub(super) fn scheduler_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        let t = self.call::<procs::DomainGetSchedulerType>(&RemoteDomainGetSchedulerTypeArgs {
            dom: rdom(dom),
        })?;
        if t.nparams <= 0 {
            return Ok(Vec::new());
        }
        let params = if flags == 0 {
            self.call::<procs::DomainGetSchedulerParameters>(
                &RemoteDomainGetSchedulerParametersArgs {
                    dom: rdom(dom),
                    nparams: t.nparams,
                },
            )?
            .params
        } else {
            self.call::<procs::DomainGetSchedulerParametersFlags>(
                &RemoteDomainGetSchedulerParametersFlagsArgs {
                    dom: rdom(dom),
                    nparams: t.nparams,
                    flags,
                },
            )?
            .params
        };
        if params.len() > t.nparams as usize {
            return Err(rpc_error(
                "remoteDomainGetSchedulerParameters: returned number of parameters exceeds limit",
            ));
        }
        Ok(typed_params_from_remote(params))
    }

    /// virDomainGetCPUStats(dom, NULL, 0, 0, 0, flags): the number of host CPUs covered.
    pub(super) fn cpu_stats_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        let r = self.call::<procs::DomainGetCpuStats>(&RemoteDomainGetCpuStatsArgs {
            dom: rdom(dom),
            nparams: 0,
            start_cpu: 0,
            ncpus: 0,
            flags: flags | TYPED_PARAM_STRING_OKAY,
        })?;
        Ok(count(r.nparams))
    }

    /// virDomainGetCPUStats as virsh's `cpu-stats` makes it: once for the number of
    /// parameters, then for the values, at most 128 CPUs per call. The daemon leaves out
    /// unset entries, so each CPU's stride is the reply's `nparams` and CPUs past the end of
    /// the reply have none.
    pub(super) fn cpu_stats(
        &self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        let flags = flags | TYPED_PARAM_STRING_OKAY;
        let ask = |nparams: u32, start: i32, n: u32| {
            self.call::<procs::DomainGetCpuStats>(&RemoteDomainGetCpuStatsArgs {
                dom: rdom(dom),
                nparams,
                start_cpu: start,
                ncpus: n,
                flags,
            })
        };
        let nparams = count(ask(0, start_cpu, 1)?.nparams);
        if nparams > REMOTE_NODE_CPU_STATS_MAX {
            return Err(rpc_error(format!(
                "nparams count exceeds maximum: {nparams} > {REMOTE_NODE_CPU_STATS_MAX}"
            )));
        }
        let total = if start_cpu < 0 { 1 } else { ncpus };
        let mut out: Vec<Vec<TypedParam>> = Vec::with_capacity(total as usize);
        if nparams == 0 {
            out.resize(total as usize, Vec::new());
            return Ok(out);
        }
        let mut done = 0u32;
        while done < total {
            let n = (total - done).min(REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX);
            let start = if start_cpu < 0 {
                start_cpu
            } else {
                start_cpu.saturating_add(done as i32)
            };
            let r = ask(nparams, start, n)?;
            let stride = count(r.nparams) as usize;
            if r.params.len() > (nparams * n) as usize
                || (!r.params.is_empty()
                    && (stride == 0 || r.params.len() % stride != 0 || stride > nparams as usize))
            {
                return Err(rpc_error(
                    "remoteDomainGetCPUStats: returned number of stats exceeds limit",
                ));
            }
            let params = typed_params_from_remote(r.params);
            let mut got = 0u32;
            if stride > 0 {
                for chunk in params.chunks(stride) {
                    out.push(chunk.to_vec());
                    got += 1;
                }
            }
            for _ in got..n {
                out.push(Vec::new());
            }
            done += n;
        }
        Ok(out)
    }

    /// virDomainBlockStatsFlags as virsh's `domblkstat` makes it: the count, then the values.
    pub(super) fn block_stats_flags(
        &self,
        dom: &Domain,
        disk: &str,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        let flags = flags | TYPED_PARAM_STRING_OKAY;
        let ask = |nparams: i32| {
            self.call::<procs::DomainBlockStatsFlags>(&RemoteDomainBlockStatsFlagsArgs {
                dom: rdom(dom),
                path: disk.to_string(),
                nparams,
                flags,
            })
        };
        let nparams = ask(0)?.nparams;
        if nparams <= 0 {
            return Ok(Vec::new());
        }
        let r = ask(nparams)?;
        if r.params.len() > REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX as usize
            || r.params.len() > nparams as usize
        {
            return Err(rpc_error(
                "remoteDomainBlockStatsFlags: returned number of stats exceeds limit",
            ));
        }
        Ok(typed_params_from_remote(r.params))
    }

    /// virDomainGetDiskErrors as virsh's `domblkerror` makes it: the count, then the errors.
    pub(super) fn disk_errors(&self, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
        let ask = |maxerrors: u32| {
            self.call::<procs::DomainGetDiskErrors>(&RemoteDomainGetDiskErrorsArgs {
                dom: rdom(dom),
                maxerrors,
                flags,
            })
        };
        let n = count(ask(0)?.nerrors);
        if n == 0 {
            return Ok(Vec::new());
        }
        let r = ask(n.min(REMOTE_DOMAIN_DISK_ERRORS_MAX))?;
        if r.errors.len() > n as usize {
            return Err(rpc_error(format!(
                "too many disk errors '{}' for limit '{n}'",
                r.errors.len()
            )));
        }
        Ok(r.errors
            .into_iter()
            .map(|e| DiskError {
                disk: e.disk,
                error: e.error,
            })
            .collect())
    }
}
