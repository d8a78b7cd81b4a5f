//! Calls answered by the QEMU guest agent inside the guest (through the supervisor, which
//! holds the agent's channel): `qemu-agent-command`, time, hostname, addresses, filesystems,
//! guest information, user passwords, and `shutdown --mode agent`.

use virtsh_api::{Domain, DomainInterface, Error, FsInfo, Result, TypedParam};

use super::QemuDriver;

pub(super) fn agent_command(
    _drv: &QemuDriver,
    _dom: &Domain,
    _cmd: &str,
    _timeout: i32,
    _flags: u32,
) -> Result<String> {
    Err(Error::unsupported("virDomainQemuAgentCommand"))
}

pub(super) fn hostname(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<String> {
    Err(Error::unsupported("virDomainGetHostname"))
}

pub(super) fn time(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<(i64, u32)> {
    Err(Error::unsupported("virDomainGetTime"))
}

pub(super) fn set_time(
    _drv: &QemuDriver,
    _dom: &Domain,
    _secs: i64,
    _nsecs: u32,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainSetTime"))
}

pub(super) fn interface_addresses(
    _drv: &QemuDriver,
    _dom: &Domain,
    _source: u32,
    _flags: u32,
) -> Result<Vec<DomainInterface>> {
    Err(Error::unsupported("virDomainInterfaceAddresses"))
}

pub(super) fn guest_info(
    _drv: &QemuDriver,
    _dom: &Domain,
    _types: u32,
    _flags: u32,
) -> Result<Vec<TypedParam>> {
    Err(Error::unsupported("virDomainGetGuestInfo"))
}

pub(super) fn fs_info(_drv: &QemuDriver, _dom: &Domain, _flags: u32) -> Result<Vec<FsInfo>> {
    Err(Error::unsupported("virDomainGetFSInfo"))
}

pub(super) fn set_user_password(
    _drv: &QemuDriver,
    _dom: &Domain,
    _user: &str,
    _password: &str,
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainSetUserPassword"))
}
