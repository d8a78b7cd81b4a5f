//! Interfaces: the counters of a guest's tap devices (`domifstat`).

use std::path::Path;

use virtsh_api::{Domain, Error, InterfaceStats, Result};

use super::not_running;
use crate::driver::QemuDriver;

pub(super) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// The host side counters of tap `ifname` (virNetDevTapInterfaceStats), seen from the guest
/// when `swapped` (a tap's transmit is the guest's receive).
pub(super) fn tap_stats(ifname: &str, swapped: bool) -> Result<InterfaceStats> {
    let dir = Path::new("/sys/class/net").join(ifname).join("statistics");
    if !dir.is_dir() {
        return Err(Error::internal("/proc/net/dev: Interface not found"));
    }
    let read = |f: &str| -> i64 {
        std::fs::read_to_string(dir.join(f))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let (rx, tx) = if swapped { ("tx", "rx") } else { ("rx", "tx") };
    Ok(InterfaceStats {
        rx_bytes: read(&format!("{rx}_bytes")),
        rx_packets: read(&format!("{rx}_packets")),
        rx_errs: read(&format!("{rx}_errors")),
        rx_drop: read(&format!("{rx}_dropped")),
        tx_bytes: read(&format!("{tx}_bytes")),
        tx_packets: read(&format!("{tx}_packets")),
        tx_errs: read(&format!("{tx}_errors")),
        tx_drop: read(&format!("{tx}_dropped")),
    })
}

/// virDomainNetTypeSharesHostView: direct and ethernet interfaces count as the host sees them.
pub(super) fn swapped(if_type: &str) -> bool {
    !matches!(if_type, "direct" | "ethernet")
}

/// qemuDomainInterfaceStats (`domifstat`): by MAC address or host interface name.
pub(in crate::driver) fn interface_stats(
    drv: &QemuDriver,
    dom: &Domain,
    device: &str,
) -> Result<InterfaceStats> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let nets = &v.def.devices.interfaces;
    let net = match parse_mac(device) {
        Some(mac) => nets
            .iter()
            .find(|n| n.mac.as_deref().and_then(parse_mac) == Some(mac)),
        None => nets
            .iter()
            .find(|n| n.target_dev.as_deref() == Some(device)),
    };
    let Some(net) = net else {
        return Err(Error::invalid_arg(format!(
            "'{device}' is not a known interface"
        )));
    };
    let Some(ifname) = net.target_dev.as_deref() else {
        return Err(Error::internal("Interface name not provided"));
    };
    tap_stats(ifname, swapped(&net.if_type))
}
