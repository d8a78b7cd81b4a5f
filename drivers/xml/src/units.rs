//! Scaled sizes and C-style number parsing, as libvirt does them.
//!
//! libvirt reads every number through `strtol`/`strtoull` wrappers (`virStrToLong_*`) whose quirks
//! show up in what a definition accepts: leading white space and a `+` are fine, `-1` is accepted
//! by the unsigned-int parser as `UINT_MAX`, trailing garbage is an error. Sizes with units go
//! through `virScaleInteger` ("KiB" is 1024, "KB" is 1000, "k" is 1024, "bytes" is 1). Matching
//! these exactly is what keeps `virtsh` accepting and refusing the same XML as libvirt.

use crate::error::{XmlError, XmlErrorKind};

/// What C's `strtoull` saw in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CNumber {
    /// The magnitude read (saturated on overflow), before any negation.
    pub magnitude: u64,
    /// Byte index just past the number (0 when no digits were read, like strtoull's endptr).
    pub end: usize,
    pub negative: bool,
    pub overflow: bool,
}

/// `strtoull` semantics: skip C white space, optional sign, base prefix (base 0 or 16), digits.
pub(crate) fn c_strtoull(s: &str, base: u32) -> CNumber {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let mut base = base;
    let has_hex_prefix = i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] == b'x' || b[i + 1] == b'X')
        && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
    if (base == 0 || base == 16) && has_hex_prefix {
        base = 16;
        i += 2;
    } else if base == 0 {
        base = if i < b.len() && b[i] == b'0' { 8 } else { 10 };
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else {
            break;
        };
        match value
            .checked_mul(base as u64)
            .and_then(|v| v.checked_add(d as u64))
        {
            Some(v) => value = v,
            None => {
                overflow = true;
                value = u64::MAX;
            }
        }
        i += 1;
    }
    if i == start {
        // No digits: strtoull leaves endptr at the very start of the string.
        return CNumber {
            magnitude: 0,
            end: 0,
            negative: false,
            overflow: false,
        };
    }
    CNumber {
        magnitude: value,
        end: i,
        negative,
        overflow,
    }
}

/// `virStrToLong_ullp` on the whole string: no sign, no trailing characters.
pub(crate) fn str_to_ull_p(s: &str, base: u32) -> Option<u64> {
    let n = c_strtoull(s, base);
    if n.end == 0 || n.end != s.len() || n.negative || n.overflow {
        return None;
    }
    Some(n.magnitude)
}

/// `virStrToLong_uip`: an unsigned int, no sign allowed.
pub(crate) fn str_to_ui_p(s: &str, base: u32) -> Option<u32> {
    str_to_ull_p(s, base).and_then(|v| u32::try_from(v).ok())
}

/// `virStrToLong_ui`: "-1" is accepted as UINT_MAX (libvirt allows it on purpose).
pub(crate) fn str_to_ui(s: &str, base: u32) -> Option<u32> {
    let n = c_strtoull(s, base);
    if n.end == 0 || n.end != s.len() || n.overflow {
        return None;
    }
    if n.negative {
        if n.magnitude > u32::MAX as u64 {
            return None;
        }
        return Some((n.magnitude as u32).wrapping_neg());
    }
    u32::try_from(n.magnitude).ok()
}

/// `virStrToLong_ll` (64-bit signed, whole string).
pub(crate) fn str_to_ll(s: &str, base: u32) -> Option<i64> {
    let n = c_strtoull(s, base);
    if n.end == 0 || n.end != s.len() || n.overflow {
        return None;
    }
    if n.negative {
        if n.magnitude > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((n.magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(n.magnitude).ok()
    }
}

/// `virStrToLong_i` (int, whole string).
pub(crate) fn str_to_i(s: &str, base: u32) -> Option<i32> {
    str_to_ll(s, base).and_then(|v| i32::try_from(v).ok())
}

/// virScaleInteger: multiply `value` by the unit named by `suffix` (case-insensitive), or by
/// `scale` when there is no suffix; fail when the result would exceed `limit`.
pub fn scale_integer(
    value: u64,
    suffix: Option<&str>,
    scale: u64,
    limit: u64,
) -> Result<u64, XmlError> {
    let suffix = suffix.unwrap_or("");
    let scale = if suffix.is_empty() {
        if scale == 0 {
            return Err(XmlError::unsupported(format!(
                "internal error: invalid scale {scale}"
            )));
        }
        scale
    } else if ["b", "byte", "bytes"]
        .iter()
        .any(|u| suffix.eq_ignore_ascii_case(u))
    {
        1
    } else {
        let rest = &suffix[suffix.chars().next().map_or(0, char::len_utf8)..];
        let base: u64 = if rest.is_empty() || rest.eq_ignore_ascii_case("iB") {
            1024
        } else if rest.len() == 1 && rest.eq_ignore_ascii_case("b") {
            1000
        } else {
            return Err(unknown_suffix(suffix));
        };
        let power = match suffix.as_bytes()[0].to_ascii_lowercase() {
            b'k' => 1,
            b'm' => 2,
            b'g' => 3,
            b't' => 4,
            b'p' => 5,
            b'e' => 6,
            _ => return Err(unknown_suffix(suffix)),
        };
        base.pow(power)
    };
    if value != 0 && value > limit / scale {
        return Err(XmlError::new(
            XmlErrorKind::Unsupported,
            format!("numerical overflow: value too large: {value}{suffix}"),
        ));
    }
    Ok(value * scale)
}

fn unknown_suffix(suffix: &str) -> XmlError {
    XmlError::unsupported(format!("invalid argument: unknown suffix '{suffix}'"))
}

/// Parse a size as libvirt's XML parsers do (virParseScaledValue / virDomainParseScaledValue):
/// `value` is the element text (a plain non-negative integer), `unit` its `unit` attribute, and
/// `default_unit_bytes` the scale when no unit is given (1 for bytes, 1024 for KiB). Returns bytes.
pub fn parse_scaled(
    value: &str,
    unit: Option<&str>,
    default_unit_bytes: u64,
) -> Result<u64, XmlError> {
    parse_scaled_limit(value, unit, default_unit_bytes, u64::MAX, "value")
}

/// [`parse_scaled`] with libvirt's upper bound and the element name used in the error message
/// ("Invalid value '...' for element or attribute '<what>'").
pub fn parse_scaled_limit(
    value: &str,
    unit: Option<&str>,
    default_unit_bytes: u64,
    limit: u64,
    what: &str,
) -> Result<u64, XmlError> {
    let Some(n) = str_to_ull_p(value, 10) else {
        return Err(XmlError::invalid(format!(
            "Invalid value '{value}' for element or attribute '{what}'"
        )));
    };
    // libvirt reads attributes through XPath string(), which turns an empty unit into "none".
    scale_integer(n, unit.filter(|u| !u.is_empty()), default_unit_bytes, limit)
}

/// Bytes to KiB, rounding up as libvirt does when it stores memory sizes (VIR_DIV_UP).
pub fn to_kib(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}

/// A size given on virsh's command line (vshCommandOptScaledInt, virshVolSize): a number with an
/// optional unit suffix right after it ("10G", "512MiB", "100" = `default_scale` units).
/// `None` when virsh would say "Malformed size ...".
pub fn parse_virsh_size(s: &str, default_scale: u64, limit: u64) -> Option<u64> {
    let n = c_strtoull(s, 10);
    if n.end == 0 || n.negative || n.overflow {
        return None;
    }
    scale_integer(n.magnitude, Some(&s[n.end..]), default_scale, limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_like_libvirt() {
        assert_eq!(scale_integer(1, Some("KiB"), 1, u64::MAX).unwrap(), 1024);
        assert_eq!(scale_integer(1, Some("KB"), 1, u64::MAX).unwrap(), 1000);
        assert_eq!(scale_integer(1, Some("k"), 1, u64::MAX).unwrap(), 1024);
        assert_eq!(scale_integer(2, Some("G"), 1, u64::MAX).unwrap(), 2 << 30);
        assert_eq!(scale_integer(3, Some("bytes"), 1024, u64::MAX).unwrap(), 3);
        assert_eq!(scale_integer(3, None, 1024, u64::MAX).unwrap(), 3072);
        assert_eq!(scale_integer(1, Some("EiB"), 1, u64::MAX).unwrap(), 1 << 60);
        let e = scale_integer(1, Some("xB"), 1, u64::MAX).unwrap_err();
        assert_eq!(e.message, "invalid argument: unknown suffix 'xB'");
        let e = scale_integer(99999999999, Some("E"), 1, u64::MAX).unwrap_err();
        assert_eq!(
            e.message,
            "numerical overflow: value too large: 99999999999E"
        );
    }

    #[test]
    fn c_number_quirks() {
        assert_eq!(str_to_ull_p(" 42", 10), Some(42));
        assert_eq!(str_to_ull_p("+42", 10), Some(42));
        assert_eq!(str_to_ull_p("-42", 10), None);
        assert_eq!(str_to_ull_p("42x", 10), None);
        assert_eq!(str_to_ull_p("", 10), None);
        assert_eq!(str_to_ui("-1", 10), Some(u32::MAX));
        assert_eq!(str_to_ui_p("0x10", 0), Some(16));
        assert_eq!(str_to_ui_p("010", 0), Some(8));
        assert_eq!(str_to_ui_p("4294967296", 10), None);
        assert_eq!(str_to_i("-5", 10), Some(-5));
        assert_eq!(str_to_ll("-9223372036854775808", 10), Some(i64::MIN));
    }

    #[test]
    fn parse_scaled_and_kib() {
        assert_eq!(parse_scaled("1", Some("GiB"), 1024).unwrap(), 1 << 30);
        assert_eq!(parse_scaled("1", None, 1024).unwrap(), 1024);
        assert!(parse_scaled("1x", None, 1).is_err());
        assert_eq!(to_kib(1025), 2);
        assert_eq!(to_kib(2048), 2);
    }

    #[test]
    fn virsh_sizes() {
        assert_eq!(parse_virsh_size("1G", 1, u64::MAX), Some(1 << 30));
        assert_eq!(parse_virsh_size("10M", 1, u64::MAX), Some(10 << 20));
        assert_eq!(parse_virsh_size("100", 1, u64::MAX), Some(100));
        assert_eq!(parse_virsh_size("5GB", 1, u64::MAX), Some(5_000_000_000));
        assert_eq!(parse_virsh_size("abc", 1, u64::MAX), None);
        assert_eq!(parse_virsh_size("-1", 1, u64::MAX), None);
        assert_eq!(parse_virsh_size("1Q", 1, u64::MAX), None);
    }
}
