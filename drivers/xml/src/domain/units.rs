//! Scaled integers (memory sizes) and CPU bitmaps, parsed and reported the way libvirt's
//! `virScaleInteger`, `virDomainParseMemory` and `virBitmapParse` do.

use super::err;
use crate::dom::Element;
use crate::error::XmlError;

/// libvirt bounds memory sizes by `LLONG_MAX` bytes on 64-bit hosts.
pub const MEMORY_MAX_BYTES: u64 = i64::MAX as u64;

/// Multiply `value` by the unit `suffix` (`None`/empty: `default_scale`), refusing results above
/// `limit`. Words and error kinds are those of `virScaleInteger`.
pub fn scale_integer(
    value: u64,
    suffix: Option<&str>,
    default_scale: u64,
    limit: u64,
) -> Result<u64, XmlError> {
    let suffix = suffix.unwrap_or("");
    let scale: u64 = if suffix.is_empty() {
        default_scale
    } else if ["b", "byte", "bytes"]
        .iter()
        .any(|s| suffix.eq_ignore_ascii_case(s))
    {
        1
    } else {
        let rest = &suffix[suffix.chars().next().map_or(0, char::len_utf8)..];
        let base: u64 = if rest.is_empty() || rest.eq_ignore_ascii_case("iB") {
            1024
        } else if rest.eq_ignore_ascii_case("b") {
            1000
        } else {
            return Err(err::invalid_arg(format!("unknown suffix '{suffix}'")));
        };
        let power = match suffix.chars().next().map(|c| c.to_ascii_lowercase()) {
            Some('k') => 1,
            Some('m') => 2,
            Some('g') => 3,
            Some('t') => 4,
            Some('p') => 5,
            Some('e') => 6,
            _ => return Err(err::invalid_arg(format!("unknown suffix '{suffix}'"))),
        };
        base.pow(power)
    };
    if value != 0 && value > limit / scale {
        return Err(err::overflow(format!("value too large: {value}{suffix}")));
    }
    Ok(value * scale)
}

/// `virStrToLong_ullp`: base 10, leading blanks and a `+` allowed, no sign `-`, nothing after.
pub fn parse_u64_strict(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `virDomainParseMemory` on the element `el` (its text, its `unit` attribute): the size in KiB,
/// rounded up; `None` when the element or its text is absent. `xpath` names the element in
/// errors, as libvirt does (`./memory[1]`).
pub fn parse_memory_kib(el: Option<&Element>, xpath: &str) -> Result<Option<u64>, XmlError> {
    let Some(el) = el else { return Ok(None) };
    parse_memory_kib_value(&el.text, el.attr("unit"), xpath)
}

pub fn parse_memory_kib_value(
    text: &str,
    unit: Option<&str>,
    xpath: &str,
) -> Result<Option<u64>, XmlError> {
    if text.is_empty() {
        return Ok(None);
    }
    let value = parse_u64_strict(text).ok_or_else(|| {
        XmlError::invalid(format!(
            "Invalid value '{text}' for element or attribute '{xpath}'"
        ))
    })?;
    let bytes = scale_integer(value, unit, 1024, MEMORY_MAX_BYTES)?;
    let kib = bytes.div_ceil(1024);
    if kib >= MEMORY_MAX_BYTES.div_ceil(1024) {
        return Err(err::overflow("size value too large"));
    }
    Ok(Some(kib))
}

/// The highest CPU number libvirt accepts in a cpuset (`VIR_DOMAIN_CPUMASK_LEN`).
const CPUMASK_LEN: usize = 8192;

/// Parse a libvirt bitmap (`0-3,^2,8`) into the sorted set of its members.
pub fn parse_bitmap(s: &str) -> Result<Vec<usize>, XmlError> {
    let bad = || err::invalid_arg(format!("Failed to parse bitmap '{s}'"));
    let mut set = vec![false; CPUMASK_LEN];
    let mut any = false;
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(bad());
        }
        let (neg, body) = match part.strip_prefix('^') {
            Some(b) => (true, b),
            None => (false, part),
        };
        let num = |t: &str| -> Result<usize, XmlError> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: usize = t.parse().map_err(|_| bad())?;
            if n >= CPUMASK_LEN {
                return Err(bad());
            }
            Ok(n)
        };
        match body.split_once('-') {
            Some((a, b)) if !neg => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad());
                }
                for bit in set.iter_mut().take(b + 1).skip(a) {
                    *bit = true;
                }
                any = true;
            }
            Some(_) => return Err(bad()),
            None => {
                let n = num(body)?;
                set[n] = !neg;
                any |= !neg;
            }
        }
    }
    if !any {
        return Err(bad());
    }
    Ok(set
        .iter()
        .enumerate()
        .filter(|(_, b)| **b)
        .map(|(i, _)| i)
        .collect())
}

/// `virBitmapFormat`: runs of consecutive members as `a-b`, others alone.
pub fn format_bitmap(members: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < members.len() {
        let start = members[i];
        let mut end = start;
        while i + 1 < members.len() && members[i + 1] == end + 1 {
            i += 1;
            end = members[i];
        }
        if end > start {
            out.push(format!("{start}-{end}"));
        } else {
            out.push(start.to_string());
        }
        i += 1;
    }
    out.join(",")
}

/// A cpuset as libvirt prints it back.
pub fn canonical_bitmap(s: &str) -> Result<String, XmlError> {
    Ok(format_bitmap(&parse_bitmap(s)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kib(text: &str, unit: Option<&str>) -> Result<Option<u64>, String> {
        parse_memory_kib_value(text, unit, "./memory[1]").map_err(|e| e.libvirt_message("x", text))
    }

    #[test]
    fn units_scale_like_libvirt() {
        assert_eq!(kib("3", Some("b")), Ok(Some(1)));
        assert_eq!(kib("1025", Some("bytes")), Ok(Some(2)));
        assert_eq!(kib("3", Some("k")), Ok(Some(3)));
        assert_eq!(kib("3", Some("MB")), Ok(Some(2930)));
        assert_eq!(kib("3", Some("MiB")), Ok(Some(3072)));
        assert_eq!(kib("3", Some("GB")), Ok(Some(2929688)));
        assert_eq!(kib("3", Some("G")), Ok(Some(3145728)));
        assert_eq!(kib("3", Some("TB")), Ok(Some(2929687500)));
        assert_eq!(kib("3", Some("EiB")), Ok(Some(3377699720527872)));
        assert_eq!(kib("1", Some("mib")), Ok(Some(1024)));
        assert_eq!(kib("1", Some("")), Ok(Some(1)));
        assert_eq!(kib("1024", None), Ok(Some(1024)));
        assert_eq!(kib("+5", None), Ok(Some(5)));
        assert_eq!(kib(" 7", None), Ok(Some(7)));
        assert_eq!(kib("", None), Ok(None));
    }

    #[test]
    fn unit_errors_match_libvirt() {
        assert_eq!(
            kib("1", Some("XB")),
            Err("invalid argument: unknown suffix 'XB'".into())
        );
        assert_eq!(
            kib("1", Some("Ki")),
            Err("invalid argument: unknown suffix 'Ki'".into())
        );
        assert_eq!(
            kib("8", Some("EiB")),
            Err("numerical overflow: value too large: 8EiB".into())
        );
        assert_eq!(
            kib("9007199254740992", Some("KiB")),
            Err("numerical overflow: value too large: 9007199254740992KiB".into())
        );
        assert_eq!(
            kib("9007199254740991", Some("KiB")),
            Ok(Some(9007199254740991))
        );
        assert_eq!(
            kib("9223372036854775807", Some("b")),
            Err("numerical overflow: size value too large".into())
        );
        assert_eq!(
            kib("-5", None),
            Err("XML error: Invalid value '-5' for element or attribute './memory[1]'".into())
        );
        assert_eq!(
            kib("1024 ", None),
            Err("XML error: Invalid value '1024 ' for element or attribute './memory[1]'".into())
        );
        assert!(kib("99999999999999999999999", None).is_err());
        assert!(kib("0x400", None).is_err());
    }

    #[test]
    fn bitmaps_round_trip() {
        assert_eq!(canonical_bitmap("0-3,^2").unwrap(), "0-1,3");
        assert_eq!(canonical_bitmap("1,2,3").unwrap(), "1-3");
        assert_eq!(canonical_bitmap("2,3").unwrap(), "2-3");
        assert_eq!(canonical_bitmap("5,1").unwrap(), "1,5");
        assert!(canonical_bitmap("x").is_err());
        assert!(canonical_bitmap("3-1").is_err());
        assert!(canonical_bitmap("").is_err());
    }
}
