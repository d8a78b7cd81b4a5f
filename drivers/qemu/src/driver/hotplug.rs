//! Changes to a domain's devices and resources, live (QMP on the running guest) and in its
//! persistent definition, with virsh's `--live`/`--config`/`--current` semantics.

use virtsh_api::{Domain, Error, Result};

use super::QemuDriver;

pub(super) fn attach_device(
    _drv: &QemuDriver,
    _dom: &Domain,
    _xml: &str,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainAttachDeviceFlags"))
}

pub(super) fn detach_device(
    _drv: &QemuDriver,
    _dom: &Domain,
    _xml: &str,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainDetachDeviceFlags"))
}

pub(super) fn detach_device_alias(
    _drv: &QemuDriver,
    _dom: &Domain,
    _alias: &str,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainDetachDeviceAlias"))
}

pub(super) fn update_device(
    _drv: &QemuDriver,
    _dom: &Domain,
    _xml: &str,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainUpdateDeviceFlags"))
}

pub(super) fn set_memory(_drv: &QemuDriver, _dom: &Domain, _kib: u64, _flags: u32) -> Result<()> {
    Err(Error::unsupported("virDomainSetMemoryFlags"))
}

pub(super) fn set_vcpus(_drv: &QemuDriver, _dom: &Domain, _count: u32, _flags: u32) -> Result<()> {
    Err(Error::unsupported("virDomainSetVcpusFlags"))
}
