//! virt-admin's option readers (virStrToLong_* rules) and output helpers (typed values, times,
//! help and usage texts).

use crate::defs::admin as defs;
use crate::parse::ParsedCmd;
use crate::run::LIBVIRT_COMPAT_VERSION;
use crate::shell::CmdError;
use std::fmt::Write as _;
use virtsh_api::TypedValue;

// ------------------------------------------------------------------ options

/// The parts of C's strtoul that virStrToLong_* accept: blanks, a sign, decimal digits to
/// the end. `None` when that is not the text, or the number is too big.
pub(super) fn c_unsigned(s: &str) -> Option<(bool, u64)> {
    let (neg, digits) = crate::commands::options::c_sign_digits(s)?;
    digits.parse::<u64>().ok().map(|v| (neg, v))
}

pub(super) fn malformed(cmd: &ParsedCmd, name: &str) -> CmdError {
    CmdError::msg(format!(
        "Numeric value '{}' for <{name}> option is malformed or out of range",
        cmd.get(name).unwrap_or("")
    ))
}

/// vshCommandOptUInt: no negative numbers.
pub(super) fn opt_uint(cmd: &ParsedCmd, name: &str) -> Result<Option<u32>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    match c_unsigned(text) {
        Some((false, v)) => u32::try_from(v).map(Some).map_err(|_| malformed(cmd, name)),
        _ => Err(malformed(cmd, name)),
    }
}

/// vshCommandOptULongLong (`wrap`: vshCommandOptULongLongWrap, `-1` is 2^64-1).
pub(super) fn opt_ull(cmd: &ParsedCmd, name: &str, wrap: bool) -> Result<Option<u64>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    match c_unsigned(text) {
        Some((false, v)) => Ok(Some(v)),
        Some((true, v)) if wrap => Ok(Some(v.wrapping_neg())),
        _ => Err(malformed(cmd, name)),
    }
}

/// vshCommandOptStringReq on a required option: the value, never empty.
pub(super) fn req_str<'a>(cmd: &'a ParsedCmd, name: &str) -> Result<&'a str, CmdError> {
    crate::commands::options::req_str(cmd, name)
}

// ------------------------------------------------------------------ output helpers

/// vshGetTypedParamValue.
pub(super) fn typed_value(v: &TypedValue) -> String {
    match v {
        TypedValue::Int(i) => i.to_string(),
        TypedValue::UInt(u) => u.to_string(),
        TypedValue::LLong(l) => l.to_string(),
        TypedValue::ULLong(u) => u.to_string(),
        TypedValue::Double(d) => format!("{d:.6}"),
        TypedValue::Boolean(b) => crate::commands::options::yes_no(*b).to_string(),
        TypedValue::String(s) => s.clone(),
    }
}

/// `params[i].value.ui`: virt-admin prints every threadpool and limit value as unsigned int,
/// whatever its type.
pub(super) fn as_uint(v: &TypedValue) -> u32 {
    match v {
        TypedValue::Int(i) => *i as u32,
        TypedValue::UInt(u) => *u,
        TypedValue::LLong(l) => *l as u32,
        TypedValue::ULLong(u) => *u as u32,
        TypedValue::Double(d) => d.to_bits() as u32,
        TypedValue::Boolean(b) => u32::from(*b),
        TypedValue::String(_) => 0,
    }
}

/// `g_date_time_format(g_date_time_new_from_unix_local(t), "%Y-%m-%d %H:%M:%S%z")`.
pub(super) fn local_time(t: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(t, 0)
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M:%S%z").to_string())
        .unwrap_or_else(|| "(null)".into())
}

/// ` Group (help keyword 'kw'):` and one line per listed command.
pub(super) fn group_listing(g: &crate::def::Group, colon: bool) -> String {
    let mut out = format!(
        " {} (help keyword '{}'){}\n",
        g.name,
        g.keyword,
        if colon { ":" } else { "" }
    );
    for c in defs::listed_in_group(g) {
        let _ = writeln!(out, "    {:<30} {}", c.name, c.help);
    }
    out
}

/// `virt-admin -h` (vshAdmUsage).
pub fn usage(progname: &str) -> String {
    let mut out = format!(
        "\n{progname} [options]... [<command_string>]\n\
         {progname} [options]... <command> [args...]\n\n\
         \x20 options:\n\
         \x20   -c | --connect=URI      daemon admin connection URI\n\
         \x20   -d | --debug=NUM        debug level [0-4]\n\
         \x20   -h | --help             this help\n\
         \x20   -l | --log=FILE         output logging to file\n\
         \x20   -q | --quiet            quiet mode\n\
         \x20   -v                      short version\n\
         \x20   -V                      long version\n\
         \x20        --version[=TYPE]   version, TYPE is short or long (default short)\n\
         \x20 commands (non interactive mode):\n\n"
    );
    for g in defs::GROUPS {
        out.push_str(&group_listing(g, false));
        out.push('\n');
    }
    out.push_str(
        "\n  (specify help <group> for details about the commands in the group)\n\n  \
         (specify help <command> for details about the command)\n\n",
    );
    out
}

/// `virt-admin -V` (vshAdmShowVersion), then our own version, as virsh mode's `-V` ends.
pub fn long_version() -> String {
    format!(
        "Virt-admin command line tool of libvirt {LIBVIRT_COMPAT_VERSION}\n\
         See web site at https://libvirt.org/\n\n\
         Compiled with support for: Daemon Debug Readline\n\n\
         (virtsh {})\n",
        env!("CARGO_PKG_VERSION")
    )
}
