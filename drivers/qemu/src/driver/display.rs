//! The guest's screen and keyboard: `screenshot` and `send-key` through QMP.

use virtsh_api::{Domain, Error, Result, Screenshot};

use super::QemuDriver;

pub(super) fn screenshot(
    _drv: &QemuDriver,
    _dom: &Domain,
    _screen: u32,
    _flags: u32,
) -> Result<Screenshot> {
    Err(Error::unsupported("virDomainScreenshot"))
}

pub(super) fn send_key(
    _drv: &QemuDriver,
    _dom: &Domain,
    _codeset: u32,
    _holdtime: u32,
    _keycodes: &[u32],
    _flags: u32,
) -> Result<()> {
    Err(Error::unsupported("virDomainSendKey"))
}
