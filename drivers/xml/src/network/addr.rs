//! Identifiers in libvirt's textual forms: UUIDs (virUUIDParse), MAC addresses
//! (virMacAddrParse) and IP addresses as getaddrinfo parses and getnameinfo formats them.

use super::helpers::Src;
use crate::dom::Element;
use crate::error::XmlError;
use crate::units::c_strtoull;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use uuid::Uuid;

/// virUUIDParse: 32 hex digits; '-' and ' ' may appear between byte pairs; surrounding space ok.
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    let mut bytes = [0u8; 16];
    let b = s
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .as_bytes();
    let mut i = 0;
    let mut n = 0;
    while n < 16 {
        let c = *b.get(i)?;
        if c == b'-' || c == b' ' {
            i += 1;
            continue;
        }
        let hi = (c as char).to_digit(16)?;
        let lo = (*b.get(i + 1)? as char).to_digit(16)?;
        bytes[n] = (hi * 16 + lo) as u8;
        n += 1;
        i += 2;
    }
    if !b[i..].iter().all(|c| c.is_ascii_whitespace()) {
        return None;
    }
    Some(Uuid::from_bytes(bytes))
}

/// virMacAddrParse: six groups of one or two hex digits separated by ':' or '-'.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut rest = s;
    for (i, slot) in out.iter_mut().enumerate() {
        if !rest.as_bytes().first()?.is_ascii_hexdigit() {
            return None;
        }
        let n = c_strtoull(rest, 16);
        if n.end < 1 || n.end > 2 || n.magnitude > 0xff {
            return None;
        }
        *slot = n.magnitude as u8;
        let next = rest.as_bytes().get(n.end).copied();
        if i == 5 {
            // libvirt accepts anything at or below ' ' (including the end) after the last group.
            return match next {
                None => Some(out),
                Some(c) if c <= b' ' => Some(out),
                _ => None,
            };
        }
        // virMacAddrParse takes ':' only between groups.
        if next != Some(b':') {
            return None;
        }
        rest = &rest[n.end + 1..];
    }
    None
}

pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parse and canonicalise a MAC address the way libvirt stores it (lower case).
pub fn canonical_mac(s: &str) -> Option<String> {
    parse_mac(s).map(|m| format_mac(&m))
}

/// virSocketAddrParse (getaddrinfo with AI_NUMERICHOST): IPv4 in inet_aton's forms ("10.1",
/// "0x0a.0.0.1") or IPv6 in inet_pton's.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Some(v4) = inet_aton(s) {
        return Some(IpAddr::V4(v4));
    }
    // A zone suffix is accepted by getaddrinfo, and dropped by libvirt's formatting.
    let addr = s.split_once('%').map_or(s, |(a, _)| a);
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// glibc's inet_aton_exact: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, base) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if p.is_empty() || (digits.is_empty() && base != 16) {
            return None;
        }
        let v = if digits.is_empty() {
            0
        } else {
            if !digits.chars().all(|c| c.is_digit(base)) {
                return None;
            }
            u64::from_str_radix(digits, base).ok()?
        };
        vals.push(v);
    }
    let last = *vals.last()?;
    let head = &vals[..vals.len() - 1];
    if head.iter().any(|v| *v > 0xff) {
        return None;
    }
    let max_last: u64 = match head.len() {
        0 => 0xffff_ffff,
        1 => 0xff_ffff,
        2 => 0xffff,
        _ => 0xff,
    };
    if last > max_last {
        return None;
    }
    let mut n: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        n |= v << (24 - 8 * i);
    }
    n |= last;
    Some(Ipv4Addr::from(n as u32))
}

/// virSocketAddrFormat (getnameinfo NI_NUMERICHOST): glibc's inet_ntop layout.
pub fn format_ip(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format_ipv6(v6),
    }
}

fn format_ipv6(ip: &Ipv6Addr) -> String {
    let w = ip.segments();
    // Longest run of zero words of length >= 2 (first one wins on ties), as glibc does.
    let (mut best_base, mut best_len) = (usize::MAX, 0);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0);
    for (i, word) in w.iter().enumerate() {
        if *word == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if best_base == usize::MAX || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && (best_base == usize::MAX || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        // IPv4-compatible and IPv4-mapped addresses end in dotted quad.
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
            let o = ip.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            return out;
        }
        out.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(':');
    }
    out
}

/// "Cannot parse socket address" as virSocketAddrParse reports it when no caller rewords it.
pub(super) fn sockaddr_error(src: Src, el: &Element, value: &str) -> XmlError {
    src.detail(
        el,
        format!("Cannot parse socket address '{value}': Name or service not known"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_formatting_matches_glibc() {
        let f = |s: &str| format_ip(&parse_ip(s).unwrap());
        assert_eq!(f("2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(f("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(f("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(f("::1"), "::1");
        assert_eq!(f("::"), "::");
        assert_eq!(f("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(f("1:0:1:1:1:1:1:1"), "1:0:1:1:1:1:1:1");
        assert_eq!(f("fe80::"), "fe80::");
    }

    #[test]
    fn ipv4_inet_aton_forms() {
        let f = |s: &str| parse_ip(s).map(|a| format_ip(&a));
        assert_eq!(f("10.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(f("0x0a.010.0.1").as_deref(), Some("10.8.0.1"));
        assert_eq!(f("1.2.3.999"), None);
        assert_eq!(f("1.2.3.4 "), None);
    }

    #[test]
    fn uuid_and_mac_forms() {
        assert!(parse_uuid("1111 1111-2222-3333-4444-555555555555 ").is_some());
        assert!(parse_uuid("zz").is_none());
        assert_eq!(
            canonical_mac("52:54:00:AB:CD:EF").as_deref(),
            Some("52:54:00:ab:cd:ef")
        );
        assert_eq!(
            canonical_mac("2:4:0:a:b:c").as_deref(),
            Some("02:04:00:0a:0b:0c")
        );
        assert!(canonical_mac("zz").is_none());
    }
}
