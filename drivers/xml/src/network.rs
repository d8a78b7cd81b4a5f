//! libvirt's virtual network XML (`<network>`): parse, validate, apply libvirt's defaults and
//! format canonically, as libvirt 9.0's `network_conf.c` does.
//!
//! The order of checks follows libvirt's parser, so that a definition with several faults is
//! refused with the same message virsh prints. Values keep the form libvirt keeps: addresses are
//! parsed and re-formatted (so `2001:DB8:0::1` comes back as `2001:db8::1`), MAC addresses are
//! lower-cased, and strings libvirt stores verbatim are stored verbatim.
//!
//! This module also holds the small pieces every libvirt XML model here shares (UUIDs, MACs,
//! IP addresses, libvirt's attribute readers and error wording); the storage, interface and
//! capabilities models use them through `pub(crate)`.

use crate::dom::{self, Element};
use crate::error::{XmlError, XmlErrorKind};
use crate::units::{c_strtoull, str_to_i, str_to_ll, str_to_ui, str_to_ui_p, str_to_ull_p};
use crate::writer::XmlWriter;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Shared helpers: libvirt's error wording, attribute readers, UUID/MAC/IP parsing.
// ---------------------------------------------------------------------------------------------

/// The source text a model is parsed from, so that every error can carry its position.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub text: &'a str,
}

impl<'a> Src<'a> {
    /// VIR_ERR_XML_ERROR: printed as "XML error: ...".
    pub fn xml(&self, el: &Element, msg: impl Into<String>) -> XmlError {
        XmlError::invalid(msg).at(self.text, el.offset)
    }
    /// VIR_ERR_CONFIG_UNSUPPORTED: "unsupported configuration: ...".
    pub fn unsupported(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!("unsupported configuration: {}", msg.as_ref()))
            .at(self.text, el.offset)
    }
    /// VIR_ERR_INTERNAL_ERROR: "internal error: ...".
    pub fn internal(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!("internal error: {}", msg.as_ref())).at(self.text, el.offset)
    }
    /// Codes whose message libvirt prints without a prefix (VIR_ERR_XML_DETAIL, system errors).
    pub fn detail(&self, el: &Element, msg: impl Into<String>) -> XmlError {
        XmlError::new(XmlErrorKind::Unsupported, msg).at(self.text, el.offset)
    }
    /// VIR_ERR_NO_SUPPORT: "this function is not supported by the connection driver: ...".
    pub fn no_support(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!(
            "this function is not supported by the connection driver: {}",
            msg.as_ref()
        ))
        .at(self.text, el.offset)
    }
}

/// Parse a document and check that its root is `root` (virXMLParse's check).
pub(crate) fn parse_root(text: &str, root: &str) -> Result<Element, XmlError> {
    let el = dom::parse(text)?;
    if el.name != root {
        return Err(XmlError::invalid(format!(
            "expecting root element of '{root}', not '{}'",
            el.name
        ))
        .at(text, el.offset));
    }
    Ok(el)
}

/// XPath `string(node)`: the concatenated text of the node and all its descendants.
pub(crate) fn string_value(el: &Element) -> String {
    // dom keeps only direct text per element, with children's text separate; libvirt's models
    // only read leaf elements this way, so direct text plus children (in order) is faithful.
    let mut out = el.text.clone();
    for c in &el.children {
        out.push_str(&string_value(c));
    }
    out
}

/// virXPathString("string(./path)"): None when absent or empty, the raw (untrimmed) text else.
pub(crate) fn xpath_text(el: &Element, path: &str) -> Option<String> {
    el.at_path(path).map(string_value).filter(|s| !s.is_empty())
}

/// virXPathString("string(./@attr)"): None when absent or empty.
pub(crate) fn xpath_attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attr(name).filter(|s| !s.is_empty())
}

/// virXPathString("string(./path/@attr)").
pub(crate) fn xpath_path_attr<'e>(el: &'e Element, path: &str, name: &str) -> Option<&'e str> {
    el.at_path(path).and_then(|e| xpath_attr(e, name))
}

/// virXMLPropTristateBool: absent is None, "yes"/"no" are values, anything else is an error.
pub(crate) fn prop_tristate(src: Src, el: &Element, name: &str) -> Result<Option<bool>, XmlError> {
    match el.attr(name) {
        None => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some("absent") => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted.",
                el.name
            ),
        )),
        Some(v) => Err(invalid_attr(src, el, name, v)),
    }
}

pub(crate) fn invalid_attr(src: Src, el: &Element, name: &str, value: &str) -> XmlError {
    src.xml(
        el,
        format!(
            "Invalid value for attribute '{name}' in element '{}': '{value}'.",
            el.name
        ),
    )
}

/// virXMLPropEnum against a list of names; `nonzero` refuses the first (default) entry.
pub(crate) fn prop_enum(
    src: Src,
    el: &Element,
    name: &str,
    values: &[&str],
    nonzero: bool,
    required: bool,
) -> Result<Option<String>, XmlError> {
    let Some(v) = el.attr(name) else {
        if required {
            return Err(missing_attr(src, el, name));
        }
        return Ok(None);
    };
    match values.iter().position(|x| *x == v) {
        None => Err(invalid_attr(src, el, name, v)),
        Some(0) if nonzero => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted.",
                el.name
            ),
        )),
        Some(_) => Ok(Some(v.to_string())),
    }
}

pub(crate) fn missing_attr(src: Src, el: &Element, name: &str) -> XmlError {
    src.xml(
        el,
        format!(
            "Missing required attribute '{name}' in element '{}'",
            el.name
        ),
    )
}

/// virXMLPropUInt: a non-negative integer attribute.
pub(crate) fn prop_uint(
    src: Src,
    el: &Element,
    name: &str,
    base: u32,
    required: bool,
    nonzero: bool,
) -> Result<Option<u32>, XmlError> {
    let Some(v) = el.attr(name) else {
        if required {
            return Err(missing_attr(src, el, name));
        }
        return Ok(None);
    };
    let Some(n) = str_to_ui_p(v, base) else {
        return Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
                el.name
            ),
        ));
    };
    if nonzero && n == 0 {
        return Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted",
                el.name
            ),
        ));
    }
    Ok(Some(n))
}

/// virXMLPropULongLong.
pub(crate) fn prop_ull(src: Src, el: &Element, name: &str) -> Result<Option<u64>, XmlError> {
    let Some(v) = el.attr(name) else {
        return Ok(None);
    };
    match str_to_ull_p(v, 10) {
        Some(n) => Ok(Some(n)),
        None => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
                el.name
            ),
        )),
    }
}

/// virXMLPropInt.
pub(crate) fn prop_int(
    src: Src,
    el: &Element,
    name: &str,
    base: u32,
) -> Result<Option<i32>, XmlError> {
    let Some(v) = el.attr(name) else {
        return Ok(None);
    };
    match str_to_i(v, base) {
        Some(n) => Ok(Some(n)),
        None => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected integer value",
                el.name
            ),
        )),
    }
}

/// virXPathUInt result: Ok(None) when absent/empty (-1), Err(()) when unparsable (-2).
pub(crate) fn xpath_uint(v: Option<&str>) -> Result<Option<u32>, ()> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => str_to_ui(s, 10).map(Some).ok_or(()),
    }
}

/// virXPathInt.
pub(crate) fn xpath_int(v: Option<&str>) -> Result<Option<i32>, ()> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => str_to_i(s, 10).map(Some).ok_or(()),
    }
}

/// virXPathLongLong.
pub(crate) fn xpath_ll(v: Option<&str>) -> Result<Option<i64>, ()> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => str_to_ll(s, 10).map(Some).ok_or(()),
    }
}

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
        if next != Some(b':') && next != Some(b'-') {
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

fn ip_bits(ip: &IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(v) => (u32::from(*v) as u128, 32),
        IpAddr::V6(v) => (u128::from(*v), 128),
    }
}

fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
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

fn mask_by_prefix(ip: &IpAddr, prefix: u32) -> Option<IpAddr> {
    let (bits, width) = ip_bits(ip);
    if prefix > width {
        return None;
    }
    Some(from_bits(ip, bits & prefix_mask(prefix, width)))
}

fn from_bits(like: &IpAddr, bits: u128) -> IpAddr {
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
fn ip_prefix(address: Option<&IpAddr>, netmask: Option<&IpAddr>, prefix: u32) -> i64 {
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
fn check_range(
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

/// "Cannot parse socket address" as virSocketAddrParse reports it when no caller rewords it.
fn sockaddr_error(src: Src, el: &Element, value: &str) -> XmlError {
    src.detail(
        el,
        format!("Cannot parse socket address '{value}': Name or service not known"),
    )
}

/// Attribute list helper: the writer takes borrowed pairs.
pub(crate) fn attrs<'a>(v: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

// ---------------------------------------------------------------------------------------------
// Shared network-device sub-elements: <bandwidth>, <vlan>, <virtualport>, PCI <address>.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BandwidthRate {
    pub average: u64,
    pub peak: u64,
    pub burst: u64,
    pub floor: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BandwidthDef {
    pub inbound: Option<BandwidthRate>,
    pub outbound: Option<BandwidthRate>,
}

impl BandwidthDef {
    /// virNetDevBandwidthParse. None when neither direction is given (libvirt drops it).
    pub(crate) fn parse(
        src: Src,
        el: &Element,
        allow_floor: bool,
    ) -> Result<Option<BandwidthDef>, XmlError> {
        if el.attr("classID").is_some() {
            return Err(src.detail(
                el,
                "classID attribute not supported on <bandwidth> in this usage context",
            ));
        }
        let ins: Vec<&Element> = el.children_named("inbound").collect();
        let outs: Vec<&Element> = el.children_named("outbound").collect();
        if ins.len() > 1 {
            return Err(src.detail(el, "Only one child <inbound> element allowed"));
        }
        if outs.len() > 1 {
            return Err(src.detail(el, "Only one child <outbound> element allowed"));
        }
        let mut def = BandwidthDef::default();
        if let Some(i) = ins.first() {
            let r = parse_rate(src, i)?;
            if r.floor != 0 && !allow_floor {
                return Err(src.unsupported(i, "floor attribute is not supported for this config"));
            }
            def.inbound = Some(r);
        }
        if let Some(o) = outs.first() {
            let r = parse_rate(src, o)?;
            if r.floor != 0 {
                return Err(
                    src.unsupported(o, "'floor' attribute allowed only in <inbound> element")
                );
            }
            def.outbound = Some(r);
        }
        if def.inbound.is_none() && def.outbound.is_none() {
            return Ok(None);
        }
        Ok(Some(def))
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        w.start("bandwidth", &[]);
        for (name, rate) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            let Some(r) = rate else { continue };
            if r.average == 0 && r.floor == 0 {
                continue;
            }
            let mut a: Vec<(&str, String)> = Vec::new();
            if r.average != 0 {
                a.push(("average", r.average.to_string()));
            }
            if r.peak != 0 {
                a.push(("peak", r.peak.to_string()));
            }
            if r.floor != 0 {
                a.push(("floor", r.floor.to_string()));
            }
            if r.burst != 0 {
                a.push(("burst", r.burst.to_string()));
            }
            w.empty(name, &attrs(&a));
        }
        w.end("bandwidth");
    }
}

fn parse_rate(src: Src, el: &Element) -> Result<BandwidthRate, XmlError> {
    let mut r = BandwidthRate::default();
    let average = el.attr("average");
    let peak = el.attr("peak");
    let burst = el.attr("burst");
    let floor = el.attr("floor");
    let conv = |v: &str, what: &str| {
        str_to_ull_p(v, 10).ok_or_else(|| {
            src.unsupported(
                el,
                format!("could not convert bandwidth {what} value '{v}'"),
            )
        })
    };
    if let Some(a) = average {
        r.average = conv(a, "average")?;
    } else if floor.is_none() {
        return Err(src.detail(el, "Missing mandatory average or floor attributes"));
    }
    if (peak.is_some() || burst.is_some()) && average.is_none() {
        return Err(src.unsupported(el, "'peak' and 'burst' require 'average' attribute"));
    }
    if let Some(p) = peak {
        r.peak = conv(p, "peak")?;
    }
    if let Some(b) = burst {
        r.burst = conv(b, "burst")?;
    }
    if let Some(f) = floor {
        r.floor = conv(f, "floor")?;
    }
    Ok(r)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VlanDef {
    pub tags: Vec<u32>,
    pub trunk: bool,
    /// "tagged" or "untagged", applying to `native_tag`.
    pub native_mode: Option<String>,
    pub native_tag: u32,
}

impl VlanDef {
    /// virNetDevVlanParse.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<VlanDef, XmlError> {
        let tags: Vec<&Element> = el.children_named("tag").collect();
        if tags.is_empty() {
            return Err(src.xml(
                el,
                "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement",
            ));
        }
        let mut def = VlanDef::default();
        for t in &tags {
            let id = prop_uint(src, t, "id", 10, true, false)?.unwrap_or(0);
            if id > 4095 {
                return Err(src.xml(t, format!("vlan tag id {id} too large (maximum 4095)")));
            }
            if let Some(mode) = prop_enum(
                src,
                t,
                "nativeMode",
                &["default", "tagged", "untagged"],
                true,
                false,
            )? {
                if def.native_mode.is_some() {
                    return Err(src.xml(t, "duplicate native vlan setting"));
                }
                def.native_mode = Some(mode);
                def.native_tag = id;
            }
            def.tags.push(id);
        }
        def.trunk = tags.len() > 1;
        if let Some(trunk) = xpath_attr(el, "trunk") {
            def.trunk = trunk.eq_ignore_ascii_case("yes");
            if !def.trunk {
                if tags.len() > 1 {
                    return Err(src.xml(
                        el,
                        format!("invalid \"trunk='{trunk}'\" in <vlan> - trunk='yes' is required for more than one vlan tag"),
                    ));
                }
                if def.native_mode.is_some() {
                    return Err(src.xml(
                        el,
                        "invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native vlan id",
                    ));
                }
                if !trunk.eq_ignore_ascii_case("no") {
                    return Err(src.xml(
                        el,
                        format!("invalid \"trunk='{trunk}'\" in <vlan> - must be yes or no"),
                    ));
                }
            }
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        if self.tags.is_empty() {
            return;
        }
        if self.trunk {
            w.start("vlan", &[("trunk", "yes")]);
        } else {
            w.start("vlan", &[]);
        }
        for t in &self.tags {
            let id = t.to_string();
            match &self.native_mode {
                Some(mode) if self.native_tag == *t => {
                    w.empty("tag", &[("id", &id), ("nativeMode", mode)])
                }
                _ => w.empty("tag", &[("id", &id)]),
            }
        }
        w.end("vlan");
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtualPortDef {
    /// "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"; None for a typeless one.
    pub vport_type: Option<String>,
    pub manager_id: Option<u32>,
    pub type_id: Option<u32>,
    pub type_id_version: Option<u32>,
    pub instance_id: Option<Uuid>,
    pub profile_id: Option<String>,
    pub interface_id: Option<Uuid>,
}

impl VirtualPortDef {
    /// virNetDevVPortProfileParse (no defaults generated: networks never ask for them).
    pub(crate) fn parse(
        src: Src,
        el: &Element,
        require_type: bool,
    ) -> Result<VirtualPortDef, XmlError> {
        const TYPES: [&str; 5] = ["none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"];
        let mut def = VirtualPortDef::default();
        if let Some(t) = el.attr("type") {
            if TYPES.iter().position(|x| *x == t).unwrap_or(0) == 0 {
                return Err(src.unsupported(el, format!("unknown virtualport type {t}")));
            }
            def.vport_type = Some(t.to_string());
        }
        if def.vport_type.is_none() && require_type {
            return Err(src.xml(el, "missing required virtualport type"));
        }
        if let Some(p) = el.child("parameters") {
            let num = |name: &str, max: u32, what: &str| -> Result<Option<u32>, XmlError> {
                let Some(v) = p.attr(name) else {
                    return Ok(None);
                };
                let n = str_to_ui(v, 0)
                    .ok_or_else(|| src.xml(p, format!("cannot parse value of {name} parameter")))?;
                if n > max {
                    return Err(src.xml(p, what.to_string()));
                }
                Ok(Some(n))
            };
            def.manager_id = num("managerid", 0xff, "value of managerid out of range")?;
            def.type_id = num("typeid", 0xff_ffff, "value for typeid out of range")?;
            def.type_id_version =
                num("typeidversion", 0xff, "value of typeidversion out of range")?;
            if let Some(v) = p.attr("instanceid") {
                def.instance_id =
                    Some(parse_uuid(v).ok_or_else(|| {
                        src.xml(p, "cannot parse instanceid parameter as a uuid")
                    })?);
            }
            if let Some(v) = p.attr("profileid") {
                if v.len() >= 40 {
                    return Err(src.xml(p, "profileid parameter too long"));
                }
                if !v.is_empty() {
                    def.profile_id = Some(v.to_string());
                }
            }
            if let Some(v) = p.attr("interfaceid") {
                def.interface_id =
                    Some(parse_uuid(v).ok_or_else(|| {
                        src.xml(p, "cannot parse interfaceid parameter as a uuid")
                    })?);
            }
        }
        def.check_no_extras(src, el)?;
        Ok(def)
    }

    /// virNetDevVPortProfileCheckNoExtras.
    fn check_no_extras(&self, src: Src, el: &Element) -> Result<(), XmlError> {
        let t = self.vport_type.as_deref().unwrap_or("none");
        let present = [
            ("managerid", self.manager_id.is_some()),
            ("typeid", self.type_id.is_some()),
            ("typeidversion", self.type_id_version.is_some()),
            ("instanceid", self.instance_id.is_some()),
            ("profileid", self.profile_id.is_some()),
            ("interfaceid", self.interface_id.is_some()),
        ];
        let forbidden: &[&str] = match t {
            "802.1Qbg" => &["profileid", "interfaceid"],
            "802.1Qbh" => &[
                "managerid",
                "typeid",
                "typeidversion",
                "instanceid",
                "interfaceid",
            ],
            "midonet" => &[
                "managerid",
                "typeid",
                "typeidversion",
                "instanceid",
                "profileid",
            ],
            "openvswitch" => &["managerid", "typeid", "typeidversion", "instanceid"],
            _ => &[],
        };
        for (name, is) in present {
            if is && forbidden.contains(&name) {
                return Err(src.xml(
                    el,
                    format!("extra {name} unsupported in <virtualport type='{t}'>"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        let t = self.vport_type.as_deref();
        let no_params = self.manager_id.is_none()
            && self.type_id.is_none()
            && self.type_id_version.is_none()
            && self.instance_id.is_none()
            && self.profile_id.is_none()
            && self.interface_id.is_none();
        match t {
            None if no_params => return,
            None => w.start("virtualport", &[]),
            Some(t) if no_params => {
                w.empty("virtualport", &[("type", t)]);
                return;
            }
            Some(t) => w.start("virtualport", &[("type", t)]),
        }
        let tn = t.unwrap_or("none");
        let qbg = tn == "802.1Qbg" || tn == "none";
        let mut a: Vec<(&str, String)> = Vec::new();
        if qbg {
            if let Some(v) = self.manager_id {
                a.push(("managerid", v.to_string()));
            }
            if let Some(v) = self.type_id {
                a.push(("typeid", v.to_string()));
            }
            if let Some(v) = self.type_id_version {
                a.push(("typeidversion", v.to_string()));
            }
            if let Some(v) = self.instance_id {
                a.push(("instanceid", v.to_string()));
            }
        }
        if let Some(v) = self.interface_id {
            if matches!(tn, "midonet" | "openvswitch" | "none") {
                a.push(("interfaceid", v.to_string()));
            }
        }
        if let Some(v) = &self.profile_id {
            if matches!(tn, "openvswitch" | "802.1Qbh" | "none") {
                a.push(("profileid", v.clone()));
            }
        }
        w.empty("parameters", &attrs(&a));
        w.end("virtualport");
    }
}

/// A PCI address (`<address type='pci' domain= bus= slot= function=/>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PciAddress {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
}

impl PciAddress {
    /// virPCIDeviceAddressParseXML: numbers in any C base, range-checked.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<PciAddress, XmlError> {
        let get = |name: &str, max: u32| -> Result<u32, XmlError> {
            match el.attr(name) {
                None => Ok(0),
                Some(v) => {
                    let n = str_to_ui_p(v, 0).ok_or_else(|| {
                        src.unsupported(el, format!("Cannot parse <address> '{name}' attribute"))
                    })?;
                    if n > max {
                        return Err(src.xml(
                            el,
                            format!("Invalid PCI address {name}='{v}', must be <= 0x{max:X}"),
                        ));
                    }
                    Ok(n)
                }
            }
        };
        Ok(PciAddress {
            domain: get("domain", 0xffff)?,
            bus: get("bus", 0xff)?,
            slot: get("slot", 0x1f)?,
            function: get("function", 7)?,
        })
    }

    pub(crate) fn format(&self, w: &mut XmlWriter, with_type: bool) {
        let d = format!("0x{:04x}", self.domain);
        let b = format!("0x{:02x}", self.bus);
        let s = format!("0x{:02x}", self.slot);
        let f = format!("0x{:x}", self.function);
        if with_type {
            w.empty(
                "address",
                &[
                    ("type", "pci"),
                    ("domain", &d),
                    ("bus", &b),
                    ("slot", &s),
                    ("function", &f),
                ],
            );
        } else {
            w.empty(
                "address",
                &[("domain", &d), ("bus", &b), ("slot", &s), ("function", &f)],
            );
        }
    }
}

/// libxml2's serialisation of a kept element (metadata): double quotes, its own indentation.
pub(crate) fn libxml_dump(el: &Element, out: &mut String, level: usize) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                '\n' => out.push_str("&#10;"),
                '\r' => out.push_str("&#13;"),
                '\t' => out.push_str("&#9;"),
                _ => out.push(c),
            }
        }
        out.push('"');
    }
    let text = el.text.trim();
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if el.children.is_empty() || !text.is_empty() {
        // Mixed or text content: libxml2 does not indent inside it.
        out.push_str(&escape_text(&el.text));
        for c in &el.children {
            libxml_dump(c, out, 0);
        }
    } else {
        for c in &el.children {
            out.push('\n');
            out.push_str(&"  ".repeat(level + 1));
            libxml_dump(c, out, level + 1);
        }
        out.push('\n');
        out.push_str(&"  ".repeat(level));
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;")
}

/// virXMLNodeSanitizeNamespaces: keep the first child element per namespace, drop children
/// without one. Returns None when nothing is left of the metadata but the empty element.
pub(crate) fn sanitize_metadata(md: &Element) -> Element {
    let mut out = Element::new(&md.name);
    out.offset = md.offset;
    out.attrs = md.attrs.clone();
    let mut seen: Vec<String> = Vec::new();
    for c in &md.children {
        let prefix = c.name.split_once(':').map(|(p, _)| p);
        let decl = match prefix {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        let ns = c
            .attr(&decl)
            .or_else(|| md.attr(&decl))
            .filter(|s| !s.is_empty());
        let Some(ns) = ns else { continue };
        if seen.iter().any(|s| s == ns) {
            continue;
        }
        seen.push(ns.to_string());
        out.children.push(c.clone());
    }
    out
}

pub(crate) fn format_metadata(w: &mut XmlWriter, md: &Element) {
    let mut s = String::new();
    libxml_dump(md, &mut s, 0);
    w.raw_lines(&s);
}

// ---------------------------------------------------------------------------------------------
// The network model.
// ---------------------------------------------------------------------------------------------

/// libvirt's forward modes, in enum order ("none" is the absence of <forward>).
pub const FORWARD_MODES: [&str; 9] = [
    "none",
    "nat",
    "route",
    "open",
    "bridge",
    "private",
    "vepa",
    "passthrough",
    "hostdev",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDef {
    pub name: String,
    /// Generated (v4) when the XML has none, as libvirt does.
    pub uuid: Uuid,
    pub uuid_specified: bool,
    /// Runtime count of guest connections; shown only in live XML.
    pub connections: Option<u32>,
    /// `ipv6='yes'` on <network>: guest-to-guest IPv6 without a gateway address.
    pub ipv6: bool,
    pub trust_guest_rx_filters: Option<bool>,
    /// `<metadata>`, kept as libvirt keeps it (sanitized, reformatted by libxml2's rules).
    pub metadata: Option<Element>,
    pub forward: Option<ForwardDef>,
    /// `<bridge>`; absent means libvirt's defaults (stp on, delay 0) where a bridge applies.
    pub bridge: Option<BridgeDef>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub domain: Option<NetworkDomain>,
    pub dns: Option<DnsDef>,
    pub vlan: Option<VlanDef>,
    pub bandwidth: Option<BandwidthDef>,
    pub port_isolated: Option<bool>,
    pub ips: Vec<IpDef>,
    pub routes: Vec<RouteDef>,
    pub virtualport: Option<VirtualPortDef>,
    pub portgroups: Vec<PortGroupDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeDef {
    pub name: Option<String>,
    pub zone: Option<String>,
    pub stp: bool,
    pub delay: u64,
    /// "kernel" or "libvirt".
    pub mac_table_manager: Option<String>,
}

impl Default for BridgeDef {
    fn default() -> Self {
        BridgeDef {
            name: None,
            zone: None,
            stp: true,
            delay: 0,
            mac_table_manager: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardDef {
    pub mode: String,
    /// hostdev mode only: `managed='yes'`.
    pub managed: bool,
    /// `<driver name='kvm|vfio'/>`.
    pub driver_name: Option<String>,
    pub nat: Option<NatDef>,
    /// `<pf dev=.../>` (at most one).
    pub pfs: Vec<String>,
    /// Forward devices, in order: `dev=` and `<interface>` give net devices, `<address>` PCI ones.
    pub interfaces: Vec<ForwardIf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardIf {
    Netdev {
        dev: String,
        connections: Option<u32>,
    },
    Pci(PciAddress),
}

impl ForwardDef {
    /// The `dev` attribute libvirt shows: the first forward device when it is a net device.
    pub fn dev(&self) -> Option<&str> {
        match self.interfaces.first() {
            Some(ForwardIf::Netdev { dev, .. }) => Some(dev),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatDef {
    pub ipv6: Option<bool>,
    pub address_start: Option<IpAddr>,
    pub address_end: Option<IpAddr>,
    pub port_start: u32,
    pub port_end: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkDomain {
    pub name: String,
    pub local_only: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsDef {
    pub enable: Option<bool>,
    pub forward_plain_names: Option<bool>,
    pub forwarders: Vec<DnsForwarder>,
    pub txts: Vec<DnsTxt>,
    pub srvs: Vec<DnsSrv>,
    pub hosts: Vec<DnsHost>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsForwarder {
    pub domain: Option<String>,
    pub addr: Option<IpAddr>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsTxt {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSrv {
    pub service: String,
    pub protocol: String,
    pub domain: Option<String>,
    pub target: Option<String>,
    pub port: u32,
    pub priority: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsHost {
    pub ip: IpAddr,
    pub hostnames: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpDef {
    pub family: Option<String>,
    pub address: Option<IpAddr>,
    pub netmask: Option<IpAddr>,
    /// 0 when not given.
    pub prefix: u32,
    pub local_ptr: Option<bool>,
    pub tftp_root: Option<String>,
    pub ranges: Vec<DhcpRange>,
    pub hosts: Vec<DhcpHost>,
    pub bootp: Option<Bootp>,
}

impl IpDef {
    /// The prefix libvirt uses for this address (virNetworkIPDefPrefix); -1 when undefined.
    pub fn effective_prefix(&self) -> i64 {
        ip_prefix(self.address.as_ref(), self.netmask.as_ref(), self.prefix)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpRange {
    pub start: IpAddr,
    pub end: IpAddr,
    pub lease: Option<DhcpLease>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpLease {
    /// 0 means infinite.
    pub expiry: u64,
    /// "seconds", "minutes" (the default) or "hours".
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpHost {
    pub mac: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<IpAddr>,
    pub lease: Option<DhcpLease>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootp {
    pub file: String,
    pub server: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    pub family: Option<String>,
    pub address: IpAddr,
    pub netmask: Option<IpAddr>,
    pub prefix: Option<u32>,
    pub gateway: IpAddr,
    pub metric: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortGroupDef {
    pub name: String,
    pub is_default: bool,
    pub trust_guest_rx_filters: Option<bool>,
    pub vlan: Option<VlanDef>,
    pub virtualport: Option<VirtualPortDef>,
    pub bandwidth: Option<BandwidthDef>,
}

/// What to include when formatting (virNetworkXMLFlags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkFormatOptions {
    /// VIR_NETWORK_XML_INACTIVE: the persistent config, without runtime counters.
    pub inactive: bool,
}

impl NetworkDef {
    /// A minimal definition, as if parsed from `<network><name>NAME</name></network>`.
    pub fn new(name: &str) -> NetworkDef {
        NetworkDef {
            name: name.to_string(),
            uuid: Uuid::new_v4(),
            uuid_specified: false,
            connections: None,
            ipv6: false,
            trust_guest_rx_filters: None,
            metadata: None,
            forward: None,
            bridge: None,
            mtu: None,
            mac: None,
            domain: None,
            dns: None,
            vlan: None,
            bandwidth: None,
            port_isolated: None,
            ips: Vec::new(),
            routes: Vec::new(),
            virtualport: None,
            portgroups: Vec::new(),
        }
    }

    /// The forward mode, "none" for an isolated network.
    pub fn forward_mode(&self) -> &str {
        self.forward.as_ref().map_or("none", |f| f.mode.as_str())
    }

    /// virNetworkDefParseString: parse and validate as libvirt does on net-define/net-create.
    pub fn parse(xml: &str) -> Result<NetworkDef, XmlError> {
        let root = parse_root(xml, "network")?;
        Self::from_element(xml, &root)
    }

    /// Parse from an already parsed `<network>` element of `text` (for embedding documents).
    pub fn from_element(text: &str, root: &Element) -> Result<NetworkDef, XmlError> {
        let src = Src { text };
        let name = match xpath_text(root, "name") {
            Some(n) => n,
            None => {
                let at = root.child("name").unwrap_or(root);
                return Err(
                    XmlError::new(XmlErrorKind::Missing, "missing name information")
                        .at(text, at.offset),
                );
            }
        };
        let name_el = root.child("name").unwrap_or(root);
        if name.contains('/') {
            return Err(src.detail(name_el, "invalid char in name: /"));
        }
        let mut def = NetworkDef::new(&name);
        if let Some(u) = xpath_text(root, "uuid") {
            let el = root.child("uuid").unwrap_or(root);
            def.uuid = parse_uuid(&u).ok_or_else(|| src.internal(el, "malformed uuid element"))?;
            def.uuid_specified = true;
        }
        if let Some(v) = xpath_attr(root, "ipv6") {
            def.ipv6 = match v {
                "yes" => true,
                "no" => false,
                _ => {
                    return Err(src.xml(
                        root,
                        format!("Invalid ipv6 setting '{v}' in network '{name}'"),
                    ))
                }
            };
        }
        def.trust_guest_rx_filters = prop_tristate(src, root, "trustGuestRxFilters")?;

        if let Some(d) = root.child("domain") {
            let local_only = prop_tristate(src, d, "localOnly")?;
            if let Some(n) = d.attr("name") {
                def.domain = Some(NetworkDomain {
                    name: n.to_string(),
                    local_only,
                });
            }
        }
        if let Some(b) = root.child("bandwidth") {
            def.bandwidth = BandwidthDef::parse(src, b, false)?;
        }
        if let Some(v) = root.child("vlan") {
            def.vlan = Some(VlanDef::parse(src, v)?);
        }
        if let Some(p) = root.child("port") {
            def.port_isolated = prop_tristate(src, p, "isolated")?;
        }

        // <bridge>: libvirt reads its attributes with XPath, so empty values count as absent.
        let bridge_el = root.child("bridge");
        let stp_given = bridge_el.and_then(|b| xpath_attr(b, "stp")).is_some();
        if let Some(b) = bridge_el {
            let mut bd = BridgeDef {
                name: xpath_attr(b, "name").map(str::to_string),
                zone: xpath_attr(b, "zone").map(str::to_string),
                stp: xpath_attr(b, "stp") != Some("off"),
                delay: 0,
                mac_table_manager: None,
            };
            if let Some(d) = xpath_attr(b, "delay") {
                bd.delay = str_to_ull_p(d, 10).ok_or_else(|| {
                    src.xml(b, format!("Invalid delay value in network '{name}'"))
                })?;
            }
            if let Some(m) = xpath_attr(b, "macTableManager") {
                if m != "kernel" && m != "libvirt" {
                    return Err(src.xml(
                        b,
                        format!("Invalid macTableManager setting '{m}' in network '{name}'"),
                    ));
                }
                bd.mac_table_manager = Some(m.to_string());
            }
            def.bridge = Some(bd);
        }

        if let Some(m) = root.child("mac") {
            if let Some(a) = xpath_attr(m, "address") {
                let mac = parse_mac(a).ok_or_else(|| {
                    src.xml(
                        m,
                        format!("Invalid bridge mac address '{a}' in network '{name}'"),
                    )
                })?;
                if mac[0] & 1 == 1 {
                    return Err(src.xml(
                        m,
                        format!("Invalid multicast bridge mac address '{a}' in network '{name}'"),
                    ));
                }
                def.mac = Some(format_mac(&mac));
            }
        }
        if let Some(m) = root.child("mtu") {
            if let Some(s) = xpath_attr(m, "size") {
                def.mtu = Some(str_to_ui(s, 10).ok_or_else(|| {
                    src.xml(m, format!("Invalid mtu size '{s}' in network '{name}'"))
                })?);
            }
        }
        if let Some(d) = root.child("dns") {
            def.dns = Some(parse_dns(src, &name, d)?);
        }
        if let Some(v) = root.child("virtualport") {
            def.virtualport = Some(VirtualPortDef::parse(src, v, true)?);
        }
        for pg in root.children_named("portgroup") {
            def.portgroups.push(parse_portgroup(src, pg)?);
        }
        for ip in root.children_named("ip") {
            def.ips.push(parse_ip_def(src, &name, ip)?);
        }
        let route_els: Vec<&Element> = root.children_named("route").collect();
        for r in &route_els {
            def.routes.push(parse_route(src, &name, r)?);
        }
        for (r, el) in def.routes.iter().zip(&route_els) {
            let reachable = def.ips.iter().any(|ip| {
                let Some(addr) = ip.address else { return false };
                if !same_family(&r.gateway, &addr) {
                    return false;
                }
                let p = ip.effective_prefix();
                if p < 0 {
                    return false;
                }
                match (
                    mask_by_prefix(&addr, p as u32),
                    mask_by_prefix(&r.gateway, p as u32),
                ) {
                    (Some(a), Some(g)) => a == g,
                    _ => false,
                }
            });
            if !reachable {
                return Err(src.unsupported(
                    el,
                    format!(
                        "unreachable static route gateway '{}' specified for network '{name}'",
                        format_ip(&r.gateway)
                    ),
                ));
            }
        }
        if let Some(f) = root.child("forward") {
            def.forward = Some(parse_forward(src, &name, f)?);
        }
        def.validate_forward(src, root, stp_given)?;
        if let Some(md) = root.child("metadata") {
            def.metadata = Some(sanitize_metadata(md));
        }
        Ok(def)
    }

    /// The checks libvirt makes between the forward mode and the rest of the definition.
    fn validate_forward(&self, src: Src, root: &Element, stp_given: bool) -> Result<(), XmlError> {
        let mode = self.forward_mode();
        let fwd_el = root.child("forward").unwrap_or(root);
        let name = &self.name;
        let nifs = self.forward.as_ref().map_or(0, |f| f.interfaces.len());
        let npfs = self.forward.as_ref().map_or(0, |f| f.pfs.len());
        let bridge = self.bridge.clone().unwrap_or_default();
        match mode {
            "none" => {}
            "route" | "nat" | "open" => {
                if self.ips.is_empty() {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "{mode} forwarding requested, but no IP address provided for network '{name}'"
                        ),
                    ));
                }
                if nifs > 1 {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "multiple forwarding interfaces specified for network '{name}', only one is supported"
                        ),
                    ));
                }
                if mode == "open" && nifs > 0 {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "forward dev not allowed for network '{name}' with forward mode='{mode}'"
                        ),
                    ));
                }
            }
            _ => {
                if mode != "bridge" {
                    if bridge.name.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!("bridge name not allowed in {mode} mode (network '{name}')"),
                        ));
                    }
                    if bridge.zone.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!("bridge zone not allowed in {mode} mode (network '{name}')"),
                        ));
                    }
                    if bridge.mac_table_manager.is_some() {
                        return Err(src.xml(
                            fwd_el,
                            format!(
                                "bridge macTableManager setting not allowed in {mode} mode (network '{name}')"
                            ),
                        ));
                    }
                }
                if bridge.delay != 0 || stp_given || bridge.zone.is_some() {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in {mode} (network '{name}')"
                        ),
                    ));
                }
                if bridge.name.is_some() && (nifs > 0 || npfs > 0) {
                    return Err(src.xml(
                        fwd_el,
                        format!(
                            "A network with forward mode='{mode}' can specify a bridge name or a forward dev, but not both (network '{name}')"
                        ),
                    ));
                }
            }
        }
        if self.mtu.unwrap_or(0) != 0 && !matches!(mode, "none" | "nat" | "route" | "open") {
            return Err(src.xml(
                root.child("mtu").unwrap_or(root),
                format!(
                    "mtu size only allowed in open, route, nat, and isolated mode, not in {mode} (network '{name}')"
                ),
            ));
        }
        Ok(())
    }

    /// virNetworkDefFormat.
    pub fn to_xml(&self, opts: &NetworkFormatOptions) -> String {
        let mut w = XmlWriter::new();
        let mut ra: Vec<(&str, String)> = Vec::new();
        if let Some(c) = self.connections.filter(|c| *c > 0 && !opts.inactive) {
            ra.push(("connections", c.to_string()));
        }
        if self.ipv6 {
            ra.push(("ipv6", "yes".into()));
        }
        if let Some(t) = self.trust_guest_rx_filters {
            ra.push(("trustGuestRxFilters", yes_no(t).into()));
        }
        w.start("network", &attrs(&ra));
        w.text("name", &[], &self.name);
        w.text("uuid", &[], &self.uuid.to_string());
        if let Some(md) = &self.metadata {
            format_metadata(&mut w, md);
        }
        if let Some(f) = &self.forward {
            format_forward(&mut w, f, opts);
        }
        let mode = self.forward_mode();
        let hasbridge = matches!(mode, "none" | "nat" | "route" | "open");
        let bridge = self.bridge.clone().unwrap_or_default();
        if hasbridge || bridge.name.is_some() || bridge.mac_table_manager.is_some() {
            let mut a: Vec<(&str, String)> = Vec::new();
            if let Some(n) = &bridge.name {
                a.push(("name", n.clone()));
            }
            if let Some(z) = &bridge.zone {
                a.push(("zone", z.clone()));
            }
            if hasbridge {
                a.push(("stp", if bridge.stp { "on" } else { "off" }.into()));
                a.push(("delay", bridge.delay.to_string()));
            }
            if let Some(m) = &bridge.mac_table_manager {
                a.push(("macTableManager", m.clone()));
            }
            w.empty("bridge", &attrs(&a));
        }
        if let Some(m) = self.mtu.filter(|m| *m > 0) {
            w.empty("mtu", &[("size", &m.to_string())]);
        }
        if let Some(m) = &self.mac {
            w.empty("mac", &[("address", m)]);
        }
        if let Some(d) = &self.domain {
            match d.local_only {
                Some(l) => w.empty("domain", &[("name", &d.name), ("localOnly", yes_no(l))]),
                None => w.empty("domain", &[("name", &d.name)]),
            }
        }
        if let Some(d) = &self.dns {
            format_dns(&mut w, d);
        }
        if let Some(v) = &self.vlan {
            v.format(&mut w);
        }
        if let Some(b) = &self.bandwidth {
            b.format(&mut w);
        }
        if let Some(p) = self.port_isolated {
            w.empty("port", &[("isolated", yes_no(p))]);
        }
        for ip in &self.ips {
            format_ip_def(&mut w, ip);
        }
        for r in &self.routes {
            format_route(&mut w, r);
        }
        if let Some(v) = &self.virtualport {
            v.format(&mut w);
        }
        for pg in &self.portgroups {
            let mut a: Vec<(&str, String)> = vec![("name", pg.name.clone())];
            if pg.is_default {
                a.push(("default", "yes".into()));
            }
            if let Some(t) = pg.trust_guest_rx_filters {
                a.push(("trustGuestRxFilters", yes_no(t).into()));
            }
            w.start("portgroup", &attrs(&a));
            if let Some(v) = &pg.vlan {
                v.format(&mut w);
            }
            if let Some(v) = &pg.virtualport {
                v.format(&mut w);
            }
            if let Some(b) = &pg.bandwidth {
                b.format(&mut w);
            }
            w.end("portgroup");
        }
        w.end("network");
        w.finish()
    }
}

fn parse_lease(src: Src, el: &Element) -> Result<Option<DhcpLease>, XmlError> {
    let Some(expiry) = prop_ull(src, el, "expiry")? else {
        return Ok(None);
    };
    let unit = prop_enum(
        src,
        el,
        "unit",
        &["seconds", "minutes", "hours"],
        false,
        false,
    )?
    .unwrap_or_else(|| "minutes".to_string());
    if expiry > 0 && ((unit == "seconds" && expiry < 120) || (unit == "minutes" && expiry < 2)) {
        return Err(src.unsupported(
            el,
            "The minimum lease time should be greater than 2 minutes",
        ));
    }
    Ok(Some(DhcpLease { expiry, unit }))
}

fn parse_ip_def(src: Src, net: &str, el: &Element) -> Result<IpDef, XmlError> {
    let mut def = IpDef {
        family: xpath_attr(el, "family").map(str::to_string),
        ..Default::default()
    };
    let Some(address) = xpath_attr(el, "address") else {
        return Err(src.xml(
            el,
            format!("Missing required address attribute in network '{net}'"),
        ));
    };
    let addr = parse_ip(address).ok_or_else(|| {
        src.xml(
            el,
            format!("Invalid address '{address}' in network '{net}'"),
        )
    })?;
    def.address = Some(addr);
    let netmask = xpath_attr(el, "netmask");
    if let Some(nm) = netmask {
        def.netmask =
            Some(parse_ip(nm).ok_or_else(|| {
                src.xml(el, format!("Invalid netmask '{nm}' in network '{net}'"))
            })?);
    }
    def.prefix = prop_uint(src, el, "prefix", 10, false, false)?.unwrap_or(0);
    def.local_ptr = prop_tristate(src, el, "localPtr")?;
    match def.family.as_deref() {
        None | Some("ipv4") => {
            if !addr.is_ipv4() {
                return Err(src.unsupported(
                    el,
                    format!(
                        "{} family specified for non-IPv4 address '{address}' in network '{net}'",
                        if def.family.is_none() { "no" } else { "ipv4" }
                    ),
                ));
            }
            if let Some(nm) = netmask {
                if !def.netmask.is_some_and(|m| m.is_ipv4()) {
                    return Err(src.unsupported(
                        el,
                        format!(
                            "Invalid netmask '{nm}' for address '{address}' in network '{net}' (both must be IPv4)"
                        ),
                    ));
                }
                if def.prefix > 0 {
                    return Err(src.unsupported(
                        el,
                        format!(
                            "Network '{net}' IP address cannot have both a prefix and a netmask"
                        ),
                    ));
                }
            } else if def.prefix > 32 {
                return Err(src.unsupported(
                    el,
                    format!("Invalid IPv4 prefix '{}' in network '{net}'", def.prefix),
                ));
            }
        }
        Some("ipv6") => {
            if !addr.is_ipv6() {
                return Err(src.unsupported(
                    el,
                    format!(
                        "Family 'ipv6' specified for non-IPv6 address '{address}' in network '{net}'"
                    ),
                ));
            }
            if netmask.is_some() {
                return Err(src.unsupported(
                    el,
                    format!("netmask not allowed for IPv6 address '{address}' in network '{net}'"),
                ));
            }
            if def.prefix > 128 {
                return Err(src.unsupported(
                    el,
                    format!("Invalid IPv6 prefix '{}' in network '{net}'", def.prefix),
                ));
            }
        }
        Some(f) => {
            return Err(src.xml(el, format!("Unrecognized family '{f}' in network '{net}'")));
        }
    }
    if let Some(dhcp) = el.child("dhcp") {
        parse_dhcp(src, net, dhcp, &mut def)?;
    }
    if let Some(t) = el.child("tftp") {
        if !addr.is_ipv4() {
            return Err(src.unsupported(
                t,
                format!("Unsupported <tftp> element in an IPv6 element in network '{net}'"),
            ));
        }
        def.tftp_root = xpath_attr(t, "root").map(str::to_string);
    }
    Ok(def)
}

fn parse_dhcp(src: Src, net: &str, dhcp: &Element, def: &mut IpDef) -> Result<(), XmlError> {
    let addr = def.address;
    for r in dhcp.children_named("range") {
        let Some(start) = r.attr("start") else {
            return Err(src.xml(
                r,
                format!("Missing 'start' attribute in dhcp range for network '{net}'"),
            ));
        };
        let s = parse_ip(start).ok_or_else(|| sockaddr_error(src, r, start))?;
        let Some(end) = r.attr("end") else {
            return Err(src.xml(
                r,
                format!("Missing 'end' attribute in dhcp range for network '{net}'"),
            ));
        };
        let e = parse_ip(end).ok_or_else(|| sockaddr_error(src, r, end))?;
        let network = addr.as_ref().map(|a| (a, def.effective_prefix()));
        check_range(src, r, &s, &e, network)?;
        let lease = match r.child("lease") {
            Some(l) => parse_lease(src, l)?,
            None => None,
        };
        def.ranges.push(DhcpRange {
            start: s,
            end: e,
            lease,
        });
    }
    let v6 = addr.is_some_and(|a| a.is_ipv6());
    for h in dhcp.children_named("host") {
        let mut host = DhcpHost::default();
        if let Some(mac) = h.attr("mac") {
            if v6 {
                return Err(src.xml(
                    h,
                    format!(
                        "Invalid to specify MAC address '{mac}' in network '{net}' IPv6 static host definition"
                    ),
                ));
            }
            let m = parse_mac(mac).ok_or_else(|| {
                src.xml(
                    h,
                    format!("Cannot parse MAC address '{mac}' in network '{net}'"),
                )
            })?;
            if m[0] & 1 == 1 {
                return Err(src.xml(
                    h,
                    format!(
                        "expected unicast mac address, found multicast '{mac}' in network '{net}'"
                    ),
                ));
            }
            // libvirt keeps the MAC string as written.
            host.mac = Some(mac.to_string());
        }
        if let Some(id) = h.attr("id") {
            if let Some(c) = id.chars().find(|c| !(c.is_ascii_hexdigit() || *c == ':')) {
                return Err(src.xml(
                    h,
                    format!("Invalid character '{c}' in id '{id}' of network '{net}'"),
                ));
            }
            host.id = Some(id.to_string());
        }
        if let Some(n) = h.attr("name") {
            if !n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
                return Err(src.xml(h, format!("Cannot use host name '{n}' in network '{net}'")));
            }
            host.name = Some(n.to_string());
        }
        if let Some(ip) = h.attr("ip") {
            host.ip = Some(parse_ip(ip).ok_or_else(|| {
                src.xml(
                    h,
                    format!("Invalid IP address in static host definition for network '{net}'"),
                )
            })?);
        }
        if v6 {
            if host.id.is_none() && host.name.is_none() {
                return Err(src.xml(
                    h,
                    format!(
                        "Static host definition in IPv6 network '{net}' must have id or name attribute"
                    ),
                ));
            }
        } else if host.mac.is_none() && host.name.is_none() {
            return Err(src.xml(
                h,
                format!(
                    "Static host definition in IPv4 network '{net}' must have mac or name attribute"
                ),
            ));
        }
        if host.ip.is_none() {
            return Err(src.xml(
                h,
                format!("Missing IP address in static host definition for network '{net}'"),
            ));
        }
        if let Some(l) = h.child("lease") {
            host.lease = parse_lease(src, l)?;
        }
        def.hosts.push(host);
    }
    if let Some(b) = dhcp.child("bootp") {
        if addr.is_some_and(|a| a.is_ipv4()) {
            let Some(file) = b.attr("file") else {
                return Err(missing_attr(src, b, "file"));
            };
            let server = match b.attr("server") {
                Some(s) => Some(parse_ip(s).ok_or_else(|| sockaddr_error(src, b, s))?),
                None => None,
            };
            def.bootp = Some(Bootp {
                file: file.to_string(),
                server,
            });
        }
    }
    Ok(())
}

const PROTOCOL_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/";
const SERVICE_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*";
/// DNS_RECORD_LENGTH_SRV in libvirt.
const DNS_SRV_MAX: usize = 512 - 30;

fn parse_dns(src: Src, net: &str, el: &Element) -> Result<DnsDef, XmlError> {
    let mut def = DnsDef {
        enable: prop_tristate(src, el, "enable")?,
        forward_plain_names: prop_tristate(src, el, "forwardPlainNames")?,
        ..Default::default()
    };
    for f in el.children_named("forwarder") {
        let addr = match f.attr("addr") {
            Some(a) => Some(parse_ip(a).ok_or_else(|| {
                src.xml(
                    f,
                    format!("Invalid forwarder IP address '{a}' in network '{net}'"),
                )
            })?),
            None => None,
        };
        let domain = f.attr("domain").map(str::to_string);
        if addr.is_none() && domain.is_none() {
            return Err(src.xml(
                f,
                "Invalid forwarder element, must contain at least one of addr or domain",
            ));
        }
        def.forwarders.push(DnsForwarder { domain, addr });
    }
    for h in el.children_named("host") {
        let names: Vec<&Element> = h.children_named("hostname").collect();
        let mut hostnames = Vec::new();
        for n in &names {
            let s = string_value(n);
            if s.is_empty() {
                return Err(src.detail(
                    n,
                    format!("Missing hostname in network '{net}' DNS HOST record"),
                ));
            }
            hostnames.push(s);
        }
        if names.is_empty() {
            return Err(src.detail(
                h,
                format!("Missing hostname in network '{net}' DNS HOST record"),
            ));
        }
        let Some(ip) = h.attr("ip") else {
            return Err(src.detail(
                h,
                format!("Missing IP address in network '{net}' DNS HOST record"),
            ));
        };
        let ip = parse_ip(ip).ok_or_else(|| {
            src.detail(
                h,
                format!("Invalid IP address in network '{net}' DNS HOST record"),
            )
        })?;
        def.hosts.push(DnsHost { ip, hostnames });
    }
    for s in el.children_named("srv") {
        def.srvs.push(parse_srv(src, net, s)?);
    }
    for t in el.children_named("txt") {
        let Some(name) = t.attr("name") else {
            return Err(src.detail(
                t,
                format!("missing required name attribute in DNS TXT record of network {net}"),
            ));
        };
        if name.contains(' ') || name.contains(',') {
            return Err(src.detail(
                t,
                format!("prohibited character in DNS TXT record name '{name}' of network {net}"),
            ));
        }
        let Some(value) = t.attr("value") else {
            return Err(src.detail(
                t,
                format!(
                    "missing required value attribute in DNS TXT record named '{name}' of network {net}"
                ),
            ));
        };
        def.txts.push(DnsTxt {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    if def.enable == Some(false)
        && !(def.forwarders.is_empty()
            && def.hosts.is_empty()
            && def.srvs.is_empty()
            && def.txts.is_empty())
    {
        return Err(src.xml(el, format!("Extra data in disabled network '{net}'")));
    }
    Ok(def)
}

fn parse_srv(src: Src, net: &str, el: &Element) -> Result<DnsSrv, XmlError> {
    let Some(service) = el.attr("service") else {
        return Err(src.detail(
            el,
            format!("missing required service attribute in DNS SRV record of network '{net}'"),
        ));
    };
    if service.len() > DNS_SRV_MAX {
        return Err(src.detail(
            el,
            format!(
                "service attribute '{service}' in network '{net}' is too long, limit is {DNS_SRV_MAX} bytes"
            ),
        ));
    }
    if !service.chars().all(|c| SERVICE_CHARS.contains(c)) {
        return Err(src.detail(
            el,
            format!(
                "invalid character in service attribute '{service}' in DNS SRV record of network '{net}'"
            ),
        ));
    }
    let Some(protocol) = el.attr("protocol") else {
        return Err(src.detail(
            el,
            format!(
                "missing required protocol attribute in DNS SRV record '{service}' of network '{net}'"
            ),
        ));
    };
    if !protocol.chars().all(|c| PROTOCOL_CHARS.contains(c)) {
        return Err(src.detail(
            el,
            format!(
                "invalid character in protocol attribute '{protocol}' in DNS SRV record of network '{net}'"
            ),
        ));
    }
    let mut def = DnsSrv {
        service: service.to_string(),
        protocol: protocol.to_string(),
        domain: el.attr("domain").map(str::to_string),
        target: el.attr("target").map(str::to_string),
        ..Default::default()
    };
    let has_target = def.target.is_some();
    let check = |attr: &str, what: &str, cap: &str, min: u32| -> Result<u32, XmlError> {
        match xpath_uint(el.attr(attr)) {
            Ok(None) => Ok(0),
            Ok(Some(v)) => {
                if !has_target {
                    return Err(src.detail(
                        el,
                        format!(
                            "DNS SRV {attr} attribute not permitted without target for service '{service}' in network '{net}'"
                        ),
                    ));
                }
                if v < min || v > 65535 {
                    return Err(src.detail(
                        el,
                        format!(
                            "{cap} DNS SRV {what} attribute for service '{service}' in network '{net}'"
                        ),
                    ));
                }
                Ok(v)
            }
            Err(()) => Err(src.detail(
                el,
                format!(
                    "{cap} DNS SRV {what} attribute for service '{service}' in network '{net}'"
                ),
            )),
        }
    };
    def.port = check("port", "port", "invalid", 1)?;
    def.priority = check("priority", "priority", "Invalid", 0)?;
    def.weight = check("weight", "weight", "invalid", 0)?;
    Ok(def)
}

fn parse_portgroup(src: Src, el: &Element) -> Result<PortGroupDef, XmlError> {
    let Some(name) = xpath_attr(el, "name") else {
        return Err(src.xml(el, "Missing required name attribute in portgroup"));
    };
    let mut def = PortGroupDef {
        name: name.to_string(),
        is_default: xpath_attr(el, "default").is_some_and(|d| d.eq_ignore_ascii_case("yes")),
        trust_guest_rx_filters: prop_tristate(src, el, "trustGuestRxFilters")?,
        ..Default::default()
    };
    if let Some(v) = el.child("virtualport") {
        def.virtualport = Some(VirtualPortDef::parse(src, v, false)?);
    }
    if let Some(b) = el.child("bandwidth") {
        def.bandwidth = BandwidthDef::parse(src, b, false)?;
    }
    if let Some(v) = el.child("vlan") {
        def.vlan = Some(VlanDef::parse(src, v)?);
    }
    Ok(def)
}

fn parse_route(src: Src, net: &str, el: &Element) -> Result<RouteDef, XmlError> {
    let prefix = prop_uint(src, el, "prefix", 10, false, false)?;
    let metric = prop_uint(src, el, "metric", 10, false, true)?;
    let family = el.attr("family").map(str::to_string);
    let Some(address) = el.attr("address") else {
        return Err(src.xml(
            el,
            format!("{net}: Missing required address attribute in route definition"),
        ));
    };
    let Some(gateway) = el.attr("gateway") else {
        return Err(src.xml(
            el,
            format!("{net}: Missing required gateway attribute in route definition"),
        ));
    };
    let addr = parse_ip(address).ok_or_else(|| {
        src.xml(
            el,
            format!("{net}: Bad network address '{address}' in route definition"),
        )
    })?;
    let gw = parse_ip(gateway).ok_or_else(|| {
        src.xml(
            el,
            format!("{net}: Bad gateway address '{gateway}' in route definition"),
        )
    })?;
    let netmask_s = el.attr("netmask");
    let mut netmask = None;
    let p = prefix.unwrap_or(0);
    match family.as_deref() {
        None | Some("ipv4") => {
            let none = family.is_none();
            if !addr.is_ipv4() {
                return Err(src.xml(
                    el,
                    if none {
                        format!("{net}: No family specified for non-IPv4 address '{address}' in route definition")
                    } else {
                        format!("{net}: IPv4 family specified for non-IPv4 address '{address}' in route definition")
                    },
                ));
            }
            if !gw.is_ipv4() {
                return Err(src.xml(
                    el,
                    if none {
                        format!("{net}: No family specified for non-IPv4 gateway '{address}' in route definition")
                    } else {
                        format!("{net}: IPv4 family specified for non-IPv4 gateway '{address}' in route definition")
                    },
                ));
            }
            if let Some(nm) = netmask_s {
                let m = parse_ip(nm).ok_or_else(|| {
                    src.xml(
                        el,
                        format!("{net}: Bad netmask address '{nm}' in route definition"),
                    )
                })?;
                if !m.is_ipv4() {
                    return Err(src.xml(
                        el,
                        format!(
                            "{net}: Invalid netmask '{nm}' for address '{address}' (both must be IPv4)"
                        ),
                    ));
                }
                if prefix.is_some() {
                    return Err(src.xml(
                        el,
                        format!("{net}: Route definition cannot have both a prefix and a netmask"),
                    ));
                }
                netmask = Some(m);
            }
            if p > 32 {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Invalid prefix {p} specified in route definition, must be 0 - 32"
                    ),
                ));
            }
        }
        Some("ipv6") => {
            if !addr.is_ipv6() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: ipv6 family specified for non-IPv6 address '{address}' in route definition"
                    ),
                ));
            }
            if netmask_s.is_some() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Specifying netmask invalid for IPv6 address '{address}' in route definition"
                    ),
                ));
            }
            if !gw.is_ipv6() {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: ipv6 specified for non-IPv6 gateway address '{gateway}' in route definition"
                    ),
                ));
            }
            if p > 128 {
                return Err(src.xml(
                    el,
                    format!(
                        "{net}: Invalid prefix {p} specified in route definition, must be 0 - 128"
                    ),
                ));
            }
        }
        Some(f) => {
            return Err(src.xml(
                el,
                format!("{net}: Unrecognized family '{f}' in route definition"),
            ));
        }
    }
    let masked = match &netmask {
        Some(m) => {
            let (a, _) = ip_bits(&addr);
            let (mb, _) = ip_bits(m);
            Some(from_bits(&addr, a & mb))
        }
        None => mask_by_prefix(&addr, p),
    };
    if masked != Some(addr) {
        return Err(src.xml(
            el,
            format!("{net}: Address '{address}' in route definition is not a network address"),
        ));
    }
    Ok(RouteDef {
        family,
        address: addr,
        netmask,
        prefix,
        gateway: gw,
        metric,
    })
}

fn parse_forward(src: Src, net: &str, el: &Element) -> Result<ForwardDef, XmlError> {
    let mode = match xpath_attr(el, "mode") {
        None => "nat".to_string(),
        Some(m) => {
            if !FORWARD_MODES.contains(&m) {
                return Err(src.unsupported(el, format!("unknown forwarding type '{m}'")));
            }
            m.to_string()
        }
    };
    let mut def = ForwardDef {
        managed: xpath_attr(el, "managed").is_some_and(|m| m.eq_ignore_ascii_case("yes")),
        mode,
        ..Default::default()
    };
    if let Some(d) = xpath_path_attr(el, "driver", "name") {
        if d != "kvm" && d != "vfio" {
            return Err(src.unsupported(
                el,
                format!("Unknown forward <driver name='{d}'/> in network {net}"),
            ));
        }
        def.driver_name = Some(d.to_string());
    }
    let ifs: Vec<&Element> = el.children_named("interface").collect();
    let addrs: Vec<&Element> = el.children_named("address").collect();
    let pfs: Vec<&Element> = el.children_named("pf").collect();
    let nats: Vec<&Element> = el.children_named("nat").collect();
    if nats.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <nat> element is allowed in <forward> of network {net}"),
        ));
    }
    if let Some(n) = nats.first() {
        def.nat = Some(parse_nat(src, net, n, &def.mode)?);
    }
    let dev = xpath_attr(el, "dev");
    if dev.is_some() && (!addrs.is_empty() || !pfs.is_empty()) {
        // libvirt passes a "%s" format without an argument here; its message keeps the "%1$s".
        return Err(src.xml(
            el,
            "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network %1$s",
        ));
    }
    if !ifs.is_empty() || dev.is_some() {
        if let Some(d) = dev {
            def.interfaces.push(ForwardIf::Netdev {
                dev: d.to_string(),
                connections: None,
            });
        }
        for (i, ie) in ifs.iter().enumerate() {
            let Some(d) = ie.attr("dev") else {
                return Err(src.xml(
                    ie,
                    format!(
                        "Missing required dev attribute in <forward> <interface> element of network {net}"
                    ),
                ));
            };
            if i == 0 && dev.is_some() {
                if Some(d) != dev {
                    return Err(src.xml(
                        ie,
                        format!(
                            "<forward dev='{}'> must match first <interface dev='{d}'/> in network {net}",
                            dev.unwrap_or_default()
                        ),
                    ));
                }
                continue;
            }
            // libvirt compares against the entries before this index only.
            let dup = def
                .interfaces
                .iter()
                .take(i)
                .any(|x| matches!(x, ForwardIf::Netdev { dev: other, .. } if other == d));
            if dup {
                return Err(src.xml(
                    ie,
                    format!("interface '{d}' can only be listed once in network {net}"),
                ));
            }
            def.interfaces.push(ForwardIf::Netdev {
                dev: d.to_string(),
                connections: None,
            });
        }
    } else if !addrs.is_empty() {
        for a in &addrs {
            let Some(t) = a.attr("type") else {
                return Err(src.xml(a, format!("missing address type in network {net}")));
            };
            match t {
                "pci" => {}
                "none" | "netdev" => {
                    return Err(src.xml(
                        a,
                        format!("unsupported address type '{t}' in network {net}"),
                    ))
                }
                _ => {
                    return Err(
                        src.unsupported(a, format!("unknown address type '{t}' in network {net}"))
                    )
                }
            }
            let pci = PciAddress::parse(src, a)?;
            if def.interfaces.contains(&ForwardIf::Pci(pci)) {
                return Err(src.xml(
                    a,
                    format!(
                        "PCI device '{:04x}:{:02x}:{:02x}.{:x}' can only be listed once in network {net}",
                        pci.domain, pci.bus, pci.slot, pci.function
                    ),
                ));
            }
            def.interfaces.push(ForwardIf::Pci(pci));
        }
    } else if pfs.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <pf> element is allowed in <forward> of network {net}"),
        ));
    } else if let Some(pf) = pfs.first() {
        let Some(d) = pf.attr("dev") else {
            return Err(src.xml(
                pf,
                format!("Missing required dev attribute in <pf> element of network '{net}'"),
            ));
        };
        def.pfs.push(d.to_string());
    }
    Ok(def)
}

fn parse_nat(src: Src, net: &str, el: &Element, mode: &str) -> Result<NatDef, XmlError> {
    if mode != "nat" {
        return Err(src.xml(
            el,
            format!(
                "The <nat> element can only be used when <forward> 'mode' is 'nat' in network {net}"
            ),
        ));
    }
    let mut def = NatDef {
        ipv6: prop_tristate(src, el, "ipv6")?,
        ..Default::default()
    };
    let addrs: Vec<&Element> = el.children_named("address").collect();
    if addrs.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <address> element is allowed in <nat> in <forward> in network {net}"),
        ));
    }
    let mut start = None;
    let mut end = None;
    if let Some(a) = addrs.first() {
        start = Some(a.attr("start").ok_or_else(|| {
            src.xml(
                a,
                format!(
                    "missing 'start' attribute in <address> element in <nat> in <forward> in network {net}"
                ),
            )
        })?);
        end = Some(a.attr("end").ok_or_else(|| {
            src.xml(
                a,
                format!(
                    "missing 'end' attribute in <address> element in <nat> in <forward> in network {net}"
                ),
            )
        })?);
    }
    let v4 = |s: &str| parse_ip(s).filter(|a| a.is_ipv4());
    if let (Some(s), Some(a)) = (start, addrs.first()) {
        def.address_start = Some(v4(s).ok_or_else(|| {
            src.xml(
                a,
                format!("Bad ipv4 start address '{s}' in <nat> in <forward> in network '{net}'"),
            )
        })?);
    }
    if let (Some(e), Some(a)) = (end, addrs.first()) {
        def.address_end = Some(v4(e).ok_or_else(|| {
            src.xml(
                a,
                format!("Bad ipv4 end address '{e}' in <nat> in <forward> in network '{net}'"),
            )
        })?);
    }
    if let (Some(s), Some(e), Some(a)) = (&def.address_start, &def.address_end, addrs.first()) {
        check_range(src, a, s, e, None)?;
    }
    let ports: Vec<&Element> = el.children_named("port").collect();
    if ports.len() > 1 {
        return Err(src.xml(
            el,
            format!("Only one <port> element is allowed in <nat> in <forward> in network {net}"),
        ));
    }
    if let Some(p) = ports.first() {
        match xpath_uint(p.attr("start")) {
            Ok(Some(v)) if v <= 65535 => def.port_start = v,
            _ => {
                return Err(src.detail(
                    p,
                    format!(
                        "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network {net}"
                    ),
                ))
            }
        }
        match xpath_uint(p.attr("end")) {
            Ok(Some(v)) if v <= 65535 && v >= def.port_start => def.port_end = v,
            _ => {
                return Err(src.detail(
                    p,
                    format!(
                        "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network {net}"
                    ),
                ))
            }
        }
    }
    Ok(def)
}

fn format_forward(w: &mut XmlWriter, f: &ForwardDef, opts: &NetworkFormatOptions) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if f.pfs.is_empty() {
        if let Some(d) = f.dev() {
            a.push(("dev", d.to_string()));
        }
    }
    a.push(("mode", f.mode.clone()));
    if f.mode == "hostdev" {
        a.push(("managed", yes_no(f.managed).into()));
    }
    let nat = f.nat.clone().unwrap_or_default();
    let short = f.interfaces.is_empty()
        && f.pfs.is_empty()
        && nat.address_start.is_none()
        && nat.address_end.is_none()
        && nat.port_start == 0
        && nat.port_end == 0
        && f.driver_name.is_none()
        && nat.ipv6.is_none();
    if short {
        w.empty("forward", &attrs(&a));
        return;
    }
    w.start("forward", &attrs(&a));
    if let Some(d) = &f.driver_name {
        w.empty("driver", &[("name", d)]);
    }
    if f.mode == "nat" {
        let has_inner = nat.address_start.is_some()
            || nat.address_end.is_some()
            || nat.port_start != 0
            || nat.port_end != 0;
        if has_inner || nat.ipv6.is_some() {
            let mut na: Vec<(&str, String)> = Vec::new();
            if let Some(v) = nat.ipv6 {
                na.push(("ipv6", yes_no(v).into()));
            }
            if !has_inner {
                w.empty("nat", &attrs(&na));
            } else {
                w.start("nat", &attrs(&na));
                if let Some(s) = &nat.address_start {
                    let mut aa = vec![("start", format_ip(s))];
                    if let Some(e) = &nat.address_end {
                        aa.push(("end", format_ip(e)));
                    }
                    w.empty("address", &attrs(&aa));
                }
                if nat.port_start != 0 || nat.port_end != 0 {
                    let mut pa = vec![("start", nat.port_start.to_string())];
                    if nat.port_end != 0 {
                        pa.push(("end", nat.port_end.to_string()));
                    }
                    w.empty("port", &attrs(&pa));
                }
                w.end("nat");
            }
        }
    }
    if let Some(pf) = f.pfs.first() {
        w.empty("pf", &[("dev", pf)]);
    }
    if !f.interfaces.is_empty() && (f.pfs.is_empty() || !opts.inactive) {
        for i in &f.interfaces {
            match i {
                ForwardIf::Netdev { dev, connections } => {
                    match connections.filter(|c| *c > 0 && !opts.inactive) {
                        Some(c) => w.empty(
                            "interface",
                            &[("dev", dev), ("connections", &c.to_string())],
                        ),
                        None => w.empty("interface", &[("dev", dev)]),
                    }
                }
                ForwardIf::Pci(p) => p.format(w, true),
            }
        }
    }
    w.end("forward");
}

fn format_dns(w: &mut XmlWriter, d: &DnsDef) {
    let empty =
        d.forwarders.is_empty() && d.hosts.is_empty() && d.srvs.is_empty() && d.txts.is_empty();
    if d.enable.is_none() && d.forward_plain_names.is_none() && empty {
        return;
    }
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(e) = d.enable {
        a.push(("enable", yes_no(e).into()));
    }
    if let Some(f) = d.forward_plain_names {
        a.push(("forwardPlainNames", yes_no(f).into()));
    }
    if empty {
        w.empty("dns", &attrs(&a));
        return;
    }
    w.start("dns", &attrs(&a));
    for f in &d.forwarders {
        let mut fa: Vec<(&str, String)> = Vec::new();
        if let Some(dom) = &f.domain {
            fa.push(("domain", dom.clone()));
        }
        if let Some(ad) = &f.addr {
            fa.push(("addr", format_ip(ad)));
        }
        w.empty("forwarder", &attrs(&fa));
    }
    for t in &d.txts {
        w.empty("txt", &[("name", &t.name), ("value", &t.value)]);
    }
    for s in &d.srvs {
        let mut sa: Vec<(&str, String)> = vec![
            ("service", s.service.clone()),
            ("protocol", s.protocol.clone()),
        ];
        if let Some(v) = &s.domain {
            sa.push(("domain", v.clone()));
        }
        if let Some(v) = &s.target {
            sa.push(("target", v.clone()));
        }
        if s.port != 0 {
            sa.push(("port", s.port.to_string()));
        }
        if s.priority != 0 {
            sa.push(("priority", s.priority.to_string()));
        }
        if s.weight != 0 {
            sa.push(("weight", s.weight.to_string()));
        }
        w.empty("srv", &attrs(&sa));
    }
    for h in &d.hosts {
        w.start("host", &[("ip", &format_ip(&h.ip))]);
        for n in &h.hostnames {
            w.text("hostname", &[], n);
        }
        w.end("host");
    }
    w.end("dns");
}

fn format_lease(w: &mut XmlWriter, l: &DhcpLease) {
    if l.expiry == 0 {
        w.empty("lease", &[("expiry", "0")]);
    } else {
        w.empty(
            "lease",
            &[("expiry", &l.expiry.to_string()), ("unit", &l.unit)],
        );
    }
}

fn format_ip_def(w: &mut XmlWriter, ip: &IpDef) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(f) = &ip.family {
        a.push(("family", f.clone()));
    }
    if let Some(ad) = &ip.address {
        a.push(("address", format_ip(ad)));
    }
    if let Some(m) = &ip.netmask {
        a.push(("netmask", format_ip(m)));
    }
    if ip.prefix > 0 {
        a.push(("prefix", ip.prefix.to_string()));
    }
    if let Some(l) = ip.local_ptr {
        a.push(("localPtr", yes_no(l).into()));
    }
    w.start("ip", &attrs(&a));
    if let Some(t) = &ip.tftp_root {
        w.empty("tftp", &[("root", t)]);
    }
    if !ip.ranges.is_empty() || !ip.hosts.is_empty() {
        w.start("dhcp", &[]);
        for r in &ip.ranges {
            let s = format_ip(&r.start);
            let e = format_ip(&r.end);
            match &r.lease {
                Some(l) => {
                    w.start("range", &[("start", &s), ("end", &e)]);
                    format_lease(w, l);
                    w.end("range");
                }
                None => w.empty("range", &[("start", &s), ("end", &e)]),
            }
        }
        for h in &ip.hosts {
            let mut ha: Vec<(&str, String)> = Vec::new();
            if let Some(v) = &h.mac {
                ha.push(("mac", v.clone()));
            }
            if let Some(v) = &h.id {
                ha.push(("id", v.clone()));
            }
            if let Some(v) = &h.name {
                ha.push(("name", v.clone()));
            }
            if let Some(v) = &h.ip {
                ha.push(("ip", format_ip(v)));
            }
            match &h.lease {
                Some(l) => {
                    w.start("host", &attrs(&ha));
                    format_lease(w, l);
                    w.end("host");
                }
                None => w.empty("host", &attrs(&ha)),
            }
        }
        if let Some(b) = &ip.bootp {
            match &b.server {
                Some(s) => w.empty("bootp", &[("file", &b.file), ("server", &format_ip(s))]),
                None => w.empty("bootp", &[("file", &b.file)]),
            }
        }
        w.end("dhcp");
    }
    w.end("ip");
}

fn format_route(w: &mut XmlWriter, r: &RouteDef) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(f) = &r.family {
        a.push(("family", f.clone()));
    }
    a.push(("address", format_ip(&r.address)));
    if let Some(m) = &r.netmask {
        a.push(("netmask", format_ip(m)));
    }
    if let Some(p) = r.prefix {
        a.push(("prefix", p.to_string()));
    }
    a.push(("gateway", format_ip(&r.gateway)));
    if let Some(m) = r.metric.filter(|m| *m > 0) {
        a.push(("metric", m.to_string()));
    }
    w.empty("route", &attrs(&a));
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

    #[test]
    fn missing_name_is_libvirts_error() {
        let e = NetworkDef::parse(
            "<network><uuid>11111111-2222-3333-4444-555555555555</uuid></network>",
        )
        .unwrap_err();
        assert_eq!(e.libvirt_message("x", ""), "missing name information");
    }
}
