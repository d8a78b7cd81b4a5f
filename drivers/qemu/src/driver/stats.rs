//! Statistics of running guests from QEMU (QMP `query-*`) and `/proc`: vCPUs, memory, block
//! and interface counters, `domstats`, `cpu-stats`, job and control information.

use virtsh_api::{
    BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainStatsRecord, Error,
    InterfaceStats, Result, TypedParam, VcpuInfo,
};

use super::QemuDriver;

pub(super) fn vcpus_count(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<u32> {
    Err(Error::unsupported("virDomainGetVcpusFlags"))
}

pub(super) fn vcpu_info(_drv: &QemuDriver, _dom: &Domain) -> Result<Vec<VcpuInfo>> {
    Err(Error::unsupported("virDomainGetVcpus"))
}

pub(super) fn max_vcpus(_drv: &QemuDriver, _dom: &Domain) -> Result<u32> {
    Err(Error::unsupported("virDomainGetMaxVcpus"))
}

pub(super) fn block_info(_drv: &QemuDriver, _dom: &Domain, _disk: &str) -> Result<BlockInfo> {
    Err(Error::unsupported("virDomainGetBlockInfo"))
}

pub(super) fn memory_stats(_drv: &QemuDriver, _dom: &Domain) -> Result<Vec<(i32, u64)>> {
    Err(Error::unsupported("virDomainMemoryStats"))
}

pub(super) fn domain_stats(
    _drv: &QemuDriver,
    _doms: &[Domain],
    _stats: u32,
    _flags: u32,
) -> Result<Vec<DomainStatsRecord>> {
    Err(Error::unsupported("virConnectGetAllDomainStats"))
}

pub(super) fn cpu_stats_count(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<u32> {
    Err(Error::unsupported("virDomainGetCPUStats"))
}

pub(super) fn cpu_stats(
    _drv: &QemuDriver,
    _dom: &Domain,
    _start_cpu: i32,
    _ncpus: u32,
    _flags: u32,
) -> Result<Vec<Vec<TypedParam>>> {
    Err(Error::unsupported("virDomainGetCPUStats"))
}

pub(super) fn block_stats(_drv: &QemuDriver, _dom: &Domain, _disk: &str) -> Result<BlockStats> {
    Err(Error::unsupported("virDomainBlockStats"))
}

pub(super) fn block_stats_flags(
    _drv: &QemuDriver,
    _dom: &Domain,
    _disk: &str,
    _flags: u32,
) -> Result<Vec<TypedParam>> {
    Err(Error::unsupported("virDomainBlockStatsFlags"))
}

pub(super) fn interface_stats(
    _drv: &QemuDriver,
    _dom: &Domain,
    _device: &str,
) -> Result<InterfaceStats> {
    Err(Error::unsupported("virDomainInterfaceStats"))
}

pub(super) fn control_info(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<ControlInfo> {
    Err(Error::unsupported("virDomainGetControlInfo"))
}

pub(super) fn disk_errors(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<Vec<DiskError>> {
    Err(Error::unsupported("virDomainGetDiskErrors"))
}

pub(super) fn job_stats(
    _drv: &QemuDriver,
    _dom: &Domain,
    _flags: u32,
) -> Result<(i32, Vec<TypedParam>)> {
    Err(Error::unsupported("virDomainGetJobStats"))
}
