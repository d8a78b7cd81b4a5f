//! Address arithmetic on networks: prefixes and netmasks (virSocketAddrGetIPPrefix and
//! friends) and virSocketAddrGetRange's checks of a DHCP or NAT range, with libvirt's messages.

use super::addr::format_ip;
use super::helpers::Src;
use crate::dom::Element;
use crate::error::XmlError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) fn ip_bits(ip: &IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(v) => (u32::from(*v) as u128, 32),
        IpAddr::V6(v) => (u128::from(*v), 128),
    }
}

pub(super) fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn prefix_mask(prefix: u32, width: u32) -> u128 {
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    if prefix == 0 {
        0
    } else if prefix >= width {
        all
    } else {
        all & !((1u128 << (width - prefix)) - 1)
    }
}

pub(super) fn mask_by_prefix(ip: &IpAddr, prefix: u32) -> Option<IpAddr> {
    let (bits, width) = ip_bits(ip);
    if prefix > width {
        return None;
    }
    Some(from_bits(ip, bits & prefix_mask(prefix, width)))
}

pub(super) fn from_bits(like: &IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// virSocketAddrGetNumNetmaskBits: the prefix of a contiguous netmask, None otherwise.
fn netmask_bits(mask: &IpAddr) -> Option<u32> {
    let (bits, width) = ip_bits(mask);
    let ones = bits.count_ones();
    (prefix_mask(ones, width) == bits).then_some(ones)
}

/// virSocketAddrGetIPPrefix: explicit prefix, else netmask bits, else the classful default.
pub(super) fn ip_prefix(address: Option<&IpAddr>, netmask: Option<&IpAddr>, prefix: u32) -> i64 {
    if prefix > 0 {
        return prefix as i64;
    }
    if let Some(m) = netmask {
        return netmask_bits(m).map_or(-1, |b| b as i64);
    }
    match address {
        Some(IpAddr::V4(v4)) => {
            if v4.is_unspecified() {
                return 0;
            }
            let o = v4.octets()[0];
            if o & 0x80 == 0 {
                8
            } else if o & 0xc0 == 0x80 {
                16
            } else if o & 0xe0 == 0xc0 {
                24
            } else {
                -1
            }
        }
        Some(IpAddr::V6(v6)) => {
            if v6.is_unspecified() {
                0
            } else {
                64
            }
        }
        None => -1,
    }
}

/// virSocketAddrGetRange's checks, with its exact messages (all internal errors).
pub(super) fn check_range(
    src: Src,
    el: &Element,
    start: &IpAddr,
    end: &IpAddr,
    network: Option<(&IpAddr, i64)>,
) -> Result<(), XmlError> {
    let (s, e) = (format_ip(start), format_ip(end));
    if !same_family(start, end) {
        return Err(src.internal(el, format!("mismatch of address family in range {s} - {e}")));
    }
    if let Some((net, prefix)) = network {
        let n = format_ip(net);
        if !same_family(start, net) {
            return Err(src.internal(
                el,
                format!("mismatch of address family in range {s} - {e} for network {n}"),
            ));
        }
        let (_, width) = ip_bits(net);
        if prefix < 0 || prefix as u32 > width {
            return Err(src.internal(
                el,
                format!("bad prefix {prefix} for network {n} when  checking range {s} - {e}"),
            ));
        }
        let p = prefix as u32;
        let netaddr = mask_by_prefix(net, p);
        if mask_by_prefix(start, p) != netaddr || mask_by_prefix(end, p) != netaddr {
            return Err(src.internal(
                el,
                format!("range {s} - {e} is not entirely within network {n}/{prefix}"),
            ));
        }
        if start.is_ipv4() {
            let (nbits, _) = ip_bits(net);
            let host = (1u128 << (32 - p)) - 1;
            let broadcast = from_bits(net, (nbits & !host) | host);
            if Some(*start) == netaddr {
                return Err(src.internal(
                    el,
                    format!(
                        "start of range {s} - {e} in network {n}/{prefix} is the network address"
                    ),
                ));
            }
            if *end == broadcast {
                return Err(src.internal(
                    el,
                    format!(
                        "end of range {s} - {e} in network {n}/{prefix} is the broadcast address"
                    ),
                ));
            }
        }
    }
    let (a, _) = ip_bits(start);
    let (b, _) = ip_bits(end);
    // libvirt requires all but the last 16 bits to match, for both families.
    let (low_a, low_b) = ((a & 0xffff) as i64, (b & 0xffff) as i64);
    if a >> 16 != b >> 16 {
        return Err(src.internal(el, format!("range {s} - {e} is too large (> 65535)")));
    }
    if low_b - low_a < 0 {
        return Err(src.internal(el, format!("range {s} - {e} is reversed ")));
    }
    Ok(())
}
