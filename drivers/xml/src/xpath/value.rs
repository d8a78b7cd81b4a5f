//! XPath values and libxml2's conversions between them: `boolean()`, number formatting
//! (xmlXPathFormatNumber) and string-to-number parsing (xmlXPathStringEvalNumber).

use super::parser::is_blank;
use super::NodeId;

/// The result of an XPath expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nodes in document order, without duplicates.
    NodeSet(Vec<NodeId>),
    Boolean(bool),
    Number(f64),
    String(String),
}

impl Value {
    /// XPath boolean().
    pub fn boolean(&self) -> bool {
        match self {
            Value::NodeSet(s) => !s.is_empty(),
            Value::Boolean(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
        }
    }
}

/// xmlXPathFormatNumber: integers without a fraction, up to 15 significant digits otherwise,
/// scientific notation outside [1e-5, 1e9].
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n > i32::MIN as f64 && n < i32::MAX as f64 && n == (n as i32) as f64 {
        return format!("{}", n as i32);
    }
    let abs = n.abs();
    let (mut mantissa, exponent) = if !(1e-5..=1e9).contains(&abs) {
        // "%*.*e" with 14 fraction digits.
        let s = format!("{:.14e}", n);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        (m.to_string(), format!("e{sign}{:02}", e.abs()))
    } else {
        let integer_place = abs.log10() as i32;
        let fraction_place = if integer_place > 0 {
            15 - integer_place - 1
        } else {
            15 - integer_place
        };
        (
            format!("{:.*}", fraction_place.max(0) as usize, n),
            String::new(),
        )
    };
    if mantissa.contains('.') {
        while mantissa.ends_with('0') {
            mantissa.pop();
        }
        if mantissa.ends_with('.') {
            mantissa.pop();
        }
    }
    mantissa + &exponent
}

/// xmlXPathStringEvalNumber: optional blanks and '-', digits, a fraction, an exponent (a
/// libxml2 extension); anything else is NaN.
pub(super) fn string_to_number(s: &str) -> f64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i >= b.len() || !(b[i] == b'.' || b[i] == b'-' || b[i].is_ascii_digit()) {
        return f64::NAN;
    }
    let neg = b[i] == b'-';
    if neg {
        i += 1;
    }
    let (mut ret, next, ok) = parse_digits(b, i);
    i = next;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if (i >= b.len() || !b[i].is_ascii_digit()) && !ok {
            return f64::NAN;
        }
        let (frac, next) = parse_fraction(b, i);
        ret += frac;
        i = next;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let mut eneg = false;
        if i < b.len() && b[i] == b'-' {
            eneg = true;
            i += 1;
        } else if i < b.len() && b[i] == b'+' {
            i += 1;
        }
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if e < 1_000_000 {
                e = e * 10 + (b[i] - b'0') as i32;
            }
            i += 1;
        }
        if eneg {
            e = -e;
        }
        ret *= 10f64.powi(e);
    }
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i != b.len() {
        return f64::NAN;
    }
    if neg {
        -ret
    } else {
        ret
    }
}

pub(super) fn parse_digits(b: &[u8], mut i: usize) -> (f64, usize, bool) {
    let mut ret = 0.0;
    let mut ok = false;
    while i < b.len() && b[i].is_ascii_digit() {
        ret = ret * 10.0 + (b[i] - b'0') as f64;
        ok = true;
        i += 1;
    }
    (ret, i, ok)
}

/// The digits after '.', as libxml2 sums them (at most 20 significant digits).
pub(super) fn parse_fraction(b: &[u8], mut i: usize) -> (f64, usize) {
    let mut frac = 0i32;
    let mut fraction = 0.0;
    while i < b.len() && b[i] == b'0' {
        frac += 1;
        i += 1;
    }
    let max = frac + 20;
    while i < b.len() && b[i].is_ascii_digit() && frac < max {
        fraction = fraction * 10.0 + (b[i] - b'0') as f64;
        frac += 1;
        i += 1;
    }
    fraction /= 10f64.powi(frac);
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    (fraction, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_libxml2() {
        for (n, s) in [
            (1.0 / 3.0, "0.333333333333333"),
            (2.0 / 3.0, "0.666666666666667"),
            (0.1 + 0.2, "0.3"),
            (1e10, "1e+10"),
            (1e9, "1000000000"),
            (1000000001.5, "1.0000000015e+09"),
            (0.00001, "0.00001"),
            (0.000001, "1e-06"),
            (-123.456, "-123.456"),
            (2147483648.0, "2.147483648e+09"),
            (-0.0, "0"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (0.0000012345, "1.2345e-06"),
        ] {
            assert_eq!(format_number(n), s, "{n}");
        }
    }

    #[test]
    fn string_to_number_follows_libxml2() {
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number("-.5"), -0.5);
        assert_eq!(string_to_number("1e3"), 1000.0);
        assert!(string_to_number("+5").is_nan());
        assert!(string_to_number("").is_nan());
        assert!(string_to_number("4 2").is_nan());
    }
}
