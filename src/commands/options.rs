//! Option helpers every command shares: virsh's vshCommandOptStringReq and
//! VSH_EXCLUSIVE_OPTIONS, with virsh's wording.

use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult};

/// vshCommandOptStringReq: the value of an option, refusing an empty one with virsh's words.
pub fn opt_str<'a>(cmd: &'a ParsedCmd, name: &str) -> Result<Option<&'a str>, CmdError> {
    match cmd.get(name) {
        Some("") => Err(CmdError::msg(format!(
            "Failed to get option '{name}': Option argument is empty"
        ))),
        v => Ok(v),
    }
}

/// A required option (the parser has made sure it is there), refusing an empty value.
pub fn req_str<'a>(cmd: &'a ParsedCmd, name: &str) -> Result<&'a str, CmdError> {
    opt_str(cmd, name)?.ok_or_else(|| {
        CmdError::msg(format!(
            "Failed to get option '{name}': Mandatory option not present"
        ))
    })
}

/// VSH_EXCLUSIVE_OPTIONS
pub fn exclusive(cmd: &ParsedCmd, a: &str, b: &str) -> CmdResult {
    if cmd.has(a) && cmd.has(b) {
        return Err(CmdError::msg(format!(
            "Options --{a} and --{b} are mutually exclusive"
        )));
    }
    Ok(())
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// What C's strtol/strtoul accept before the digits, as virStrToLong_* use them over a whole
/// string: leading blanks, one sign, then only decimal digits to the end. The sign (true for
/// '-') and the digits; `None` when the text is not that.
pub fn c_sign_digits(s: &str) -> Option<(bool, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((neg, digits))
}
