//! `domjobinfo`: progress and statistics of a domain's background job (virsh-domain.c's
//! cmdDomjobinfo).

use crate::commands::guest::domain_opt;
use crate::output::pretty_capacity;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{ErrorKind, TypedParam, TypedValue};

/// VIR_DOMAIN_JOB_STATS_COMPLETED, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.
const COMPLETED: u32 = 1 << 0;
const KEEP_COMPLETED: u32 = 1 << 1;

/// virDomainJobType
const JOB_NONE: i32 = 0;
const JOB_BOUNDED: i32 = 1;
const JOB_UNBOUNDED: i32 = 2;
const JOB_COMPLETED: i32 = 3;

/// virshDomainJobToString
fn job_type(t: i32) -> &'static str {
    match t {
        0 => "None",
        1 => "Bounded",
        2 => "Unbounded",
        3 => "Completed",
        4 => "Failed",
        5 => "Cancelled",
        _ => "unknown",
    }
}

/// virshDomainJobOperationToString
fn operation(op: i32) -> &'static str {
    match op {
        0 => "Unknown",
        1 => "Start",
        2 => "Save",
        3 => "Restore",
        4 => "Incoming migration",
        5 => "Outgoing migration",
        6 => "Snapshot",
        7 => "Snapshot revert",
        8 => "Dump",
        9 => "Backup",
        10 => "Snapshot delete",
        _ => "unknown",
    }
}

/// virTypedParameterToString (what `--rawstats` prints).
fn raw_value(v: &TypedValue) -> String {
    match v {
        TypedValue::Int(i) => i.to_string(),
        TypedValue::UInt(u) => u.to_string(),
        TypedValue::LLong(l) => l.to_string(),
        TypedValue::ULLong(u) => u.to_string(),
        TypedValue::Double(d) => format_g(*d),
        TypedValue::Boolean(b) => u8::from(*b).to_string(),
        TypedValue::String(s) => s.clone(),
    }
}

/// C's `%g`: six significant digits, trailing zeros dropped.
fn format_g(d: f64) -> String {
    if d == 0.0 || !d.is_finite() {
        return format!("{d}");
    }
    let exp = d.abs().log10().floor() as i32;
    if !(-4..6).contains(&exp) {
        let s = format!("{:.5e}", d);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", e.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{d:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn ullong(params: &[TypedParam], field: &str) -> Option<u64> {
    params
        .iter()
        .find(|p| p.field == field)
        .and_then(|p| match p.value {
            TypedValue::ULLong(u) => Some(u),
            TypedValue::LLong(l) => Some(l as u64),
            TypedValue::UInt(u) => Some(u64::from(u)),
            TypedValue::Int(i) => Some(i as u64),
            _ => None,
        })
}

fn int(params: &[TypedParam], field: &str) -> Option<i32> {
    params
        .iter()
        .find(|p| p.field == field)
        .and_then(|p| match p.value {
            TypedValue::Int(i) => Some(i),
            TypedValue::UInt(u) => Some(u as i32),
            _ => None,
        })
}

fn string<'a>(params: &'a [TypedParam], field: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|p| p.field == field)
        .and_then(|p| match &p.value {
            TypedValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

fn ms_line(label: &str, v: u64) -> String {
    format!("{label:<17} {v:<12} ms\n")
}

fn size_line(label: &str, v: u64, suffix: &str) -> String {
    let (val, unit) = pretty_capacity(v);
    format!("{label:<17} {val:.3} {unit}{suffix}\n")
}

#[derive(Serialize)]
struct JobJson {
    #[serde(rename = "type")]
    job_type: &'static str,
    operation: Option<&'static str>,
    stats: Vec<TypedParam>,
}

/// The text body of a job with statistics (everything after "Job type:").
fn job_text(t: i32, params: &[TypedParam], anystats: bool, completed_flag: bool) -> String {
    let mut o = String::new();
    let op = int(params, "operation").unwrap_or(0);
    o.push_str(&format!("{:<17} {:<12}\n", "Operation:", operation(op)));
    let with_stats = matches!(t, JOB_BOUNDED | JOB_UNBOUNDED)
        || (t == JOB_COMPLETED && completed_flag)
        || anystats;
    if !with_stats {
        if let Some(e) = string(params, "errmsg") {
            o.push_str(&format!("{:<17} {e:<13}\n", "Error message:"));
        }
        return o;
    }
    let u = |f: &str| ullong(params, f);
    o.push_str(&ms_line("Time elapsed:", u("time_elapsed").unwrap_or(0)));
    if let Some(v) = u("time_elapsed_net") {
        o.push_str(&ms_line("Time elapsed w/o network:", v));
    }
    if t == JOB_BOUNDED {
        o.push_str(&ms_line(
            "Time remaining:",
            u("time_remaining").unwrap_or(0),
        ));
    }
    let triple = |o: &mut String, base: &str, label: &str| -> bool {
        let processed = u(&format!("{base}_processed")).unwrap_or(0);
        let remaining = u(&format!("{base}_remaining")).unwrap_or(0);
        let total = u(&format!("{base}_total")).unwrap_or(0);
        if processed == 0 && remaining == 0 && total == 0 {
            return false;
        }
        o.push_str(&size_line(&format!("{label} processed:"), processed, ""));
        o.push_str(&size_line(&format!("{label} remaining:"), remaining, ""));
        o.push_str(&size_line(&format!("{label} total:"), total, ""));
        true
    };
    triple(&mut o, "data", "Data");
    if triple(&mut o, "memory", "Memory") {
        if let Some(v) = u("memory_bps").filter(|v| *v != 0) {
            o.push_str(&size_line("Memory bandwidth:", v, "/s"));
        }
        if let Some(v) = u("memory_dirty_rate") {
            o.push_str(&format!("{:<17} {v:<12} pages/s\n", "Dirty rate:"));
        }
        if let Some(v) = u("memory_page_size") {
            o.push_str(&format!("{:<17} {v:<12} bytes\n", "Page size:"));
        }
        for (f, label) in [
            ("memory_iteration", "Iteration:"),
            ("memory_postcopy_requests", "Postcopy requests:"),
            ("memory_constant", "Constant pages:"),
            ("memory_normal", "Normal pages:"),
        ] {
            if let Some(v) = u(f) {
                o.push_str(&format!("{label:<17} {v:<12}\n"));
            }
        }
        if let Some(v) = u("memory_normal_bytes") {
            o.push_str(&size_line("Normal data:", v, ""));
        }
    }
    if triple(&mut o, "disk", "File") {
        if let Some(v) = u("disk_bps").filter(|v| *v != 0) {
            o.push_str(&size_line("File bandwidth:", v, "/s"));
        }
    }
    for (f, label) in [
        ("downtime", "Total downtime:"),
        ("downtime_net", "Downtime w/o network:"),
        ("setup_time", "Setup time:"),
    ] {
        if let Some(v) = u(f) {
            o.push_str(&ms_line(label, v));
        }
    }
    for (f, label) in [
        ("compression_cache", "Compression cache:"),
        ("compression_bytes", "Compressed data:"),
    ] {
        if let Some(v) = u(f) {
            o.push_str(&size_line(label, v, ""));
        }
    }
    for (f, label) in [
        ("compression_pages", "Compressed pages:"),
        ("compression_cache_misses", "Compression cache misses:"),
        ("compression_overflow", "Compression overflows:"),
    ] {
        if let Some(v) = u(f) {
            o.push_str(&format!("{label:<17} {v:<13}\n"));
        }
    }
    if let Some(v) = int(params, "auto_converge_throttle") {
        o.push_str(&format!("{:<17} {v:<13}\n", "Auto converge throttle:"));
    }
    for (f, label) in [
        ("disk_temp_used", "Temporary disk space use:"),
        ("disk_temp_total", "Temporary disk space total:"),
    ] {
        if let Some(v) = u(f) {
            o.push_str(&size_line(label, v, ""));
        }
    }
    if let Some(e) = string(params, "errmsg") {
        o.push_str(&format!("{:<17} {e:<13}\n", "Error message:"));
    }
    o
}

/// `domjobinfo DOMAIN [--completed [--keep-completed]] [--anystats] [--rawstats]`. JSON:
/// `{"type", "operation", "stats": [{"field", "value"}]}`.
pub fn cmd_domjobinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    if cmd.has("keep-completed") && !cmd.has("completed") {
        return Err(CmdError::msg(
            "Option --completed is required by option --keep-completed",
        ));
    }
    let (dom, _) = domain_opt(sh, cmd)?;
    let rawstats = cmd.has("rawstats");
    let mut flags = 0;
    if cmd.has("completed") {
        flags |= COMPLETED;
    }
    if cmd.has("keep-completed") {
        flags |= KEEP_COMPLETED;
    }
    let (t, params) = match sh.conn()?.domain_job_stats(&dom, flags) {
        Ok(r) => r,
        Err(e) if e.kind == ErrorKind::NoSupport => {
            if flags != 0 || rawstats {
                return Err(CmdError::msg(
                    "Optional flags or --rawstats are not supported by the daemon",
                ));
            }
            // virsh falls back to virDomainGetJobInfo, which no driver here has either.
            return Err(virtsh_api::Error::unsupported("virDomainGetJobInfo").into());
        }
        Err(e) => return Err(e.into()),
    };
    if sh.json() {
        return sh.print_json(&JobJson {
            job_type: job_type(t),
            operation: (t != JOB_NONE).then(|| operation(int(&params, "operation").unwrap_or(0))),
            stats: params,
        });
    }
    let mut o = String::new();
    if rawstats {
        o.push_str(&format!("Job type: {t}\n\n"));
        for p in &params {
            o.push_str(&format!("{}: {}\n", p.field, raw_value(&p.value)));
        }
    } else {
        o.push_str(&format!("{:<17} {:<12}\n", "Job type:", job_type(t)));
        if t != JOB_NONE {
            o.push_str(&job_text(
                t,
                &params,
                cmd.has("anystats"),
                flags & COMPLETED != 0,
            ));
        }
    }
    sh.print(&o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_g() {
        assert_eq!(format_g(0.5), "0.5");
        assert_eq!(format_g(123456.0), "123456");
        assert_eq!(format_g(1234567.0), "1.23457e+06");
        assert_eq!(format_g(0.0001), "0.0001");
    }

    #[test]
    fn migration_job_text() {
        let p = vec![
            TypedParam::new("operation", TypedValue::Int(5)),
            TypedParam::new("time_elapsed", TypedValue::ULLong(1500)),
            TypedParam::new("memory_processed", TypedValue::ULLong(1024 * 1024)),
            TypedParam::new("memory_remaining", TypedValue::ULLong(0)),
            TypedParam::new("memory_total", TypedValue::ULLong(2 * 1024 * 1024)),
        ];
        let t = job_text(JOB_UNBOUNDED, &p, false, false);
        assert_eq!(
            t,
            "Operation:        Outgoing migration\n\
             Time elapsed:     1500         ms\n\
             Memory processed: 1.000 MiB\n\
             Memory remaining: 0.000 B\n\
             Memory total:     2.000 MiB\n"
        );
    }
}
