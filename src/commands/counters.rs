//! Running counters of a guest: cpu-stats, domblkstat, domifstat (tools/virsh-domain.c,
//! tools/virsh-domain-monitor.c).

use crate::commands::guest::domain_opt;
use crate::commands::host::opt_int;
use crate::commands::monitor::typed_value;
use crate::commands::options::req_str;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{ErrorKind, TypedParam, TypedValue};

/// One parameter line of cpu-stats: times in seconds with nanoseconds, the rest as is.
fn cpu_line(p: &TypedParam, time_fields: &[&str]) -> String {
    match (&p.value, time_fields.contains(&p.field.as_str())) {
        (TypedValue::ULLong(ns), true) => format!(
            "\t{:<12} {:>9}.{:09} seconds\n",
            p.field,
            ns / 1_000_000_000,
            ns % 1_000_000_000
        ),
        _ => format!("\t{:<12} {}\n", p.field, typed_value(&p.value)),
    }
}

#[derive(Serialize)]
struct CpuJson {
    cpu: usize,
    stats: Vec<TypedParam>,
}

#[derive(Serialize)]
struct CpuStatsJson {
    cpus: Vec<CpuJson>,
    total: Option<Vec<TypedParam>>,
}

/// What cpu-stats shows: the CPUs from `start` (`count` of them, or as many as there are)
/// and/or the totals.
struct CpuStatsReq {
    per_cpu: bool,
    total: bool,
    start: i32,
    count: i32,
}

/// The body of cpu-stats: text goes to `o` as it is made, so that what was gathered before a
/// failure is still printed.
fn cpu_stats_into(
    conn: &dyn virtsh_api::Connection,
    dom: &virtsh_api::Domain,
    req: &CpuStatsReq,
    o: &mut String,
    json: &mut CpuStatsJson,
) -> CmdResult {
    let failed = |e| {
        CmdError::with(
            format!(
                "Failed to retrieve CPU statistics for domain '{}'",
                dom.name
            ),
            e,
        )
    };
    if req.per_cpu {
        let mut cpu = req.start;
        let max = conn.domain_cpu_stats_count(dom, 0).map_err(failed)? as i32;
        if cpu >= max {
            return Err(CmdError::msg(format!(
                "Start CPU {cpu} is out of range (min: 0, max: {})",
                max - 1
            )));
        }
        let mut show = req.count;
        if show < 0 || show > max {
            if show > max {
                o.push_str(&format!("Only {max} CPUs available to show\n"));
            }
            show = max - cpu;
        }
        while show > 0 {
            let n = show.min(128);
            let stats = conn
                .domain_cpu_stats(dom, cpu, n as u32, 0)
                .map_err(failed)?;
            for (i, params) in stats.iter().enumerate() {
                if params.is_empty() {
                    continue;
                }
                let id = cpu as usize + i;
                o.push_str(&format!("CPU{id}:\n"));
                for p in params {
                    o.push_str(&cpu_line(p, &["cpu_time", "vcpu_time"]));
                }
                json.cpus.push(CpuJson {
                    cpu: id,
                    stats: params.clone(),
                });
            }
            cpu += n;
            show -= n;
        }
    }
    if req.total {
        let params = conn
            .domain_cpu_stats(dom, -1, 1, 0)
            .map_err(failed)?
            .into_iter()
            .next()
            .unwrap_or_default();
        if params.is_empty() {
            o.push_str("No total stats available");
            return Ok(());
        }
        o.push_str("Total:\n");
        for p in &params {
            o.push_str(&cpu_line(p, &["cpu_time", "user_time", "system_time"]));
        }
        json.total = Some(params);
    }
    Ok(())
}

/// `cpu-stats DOMAIN [--total] [--start N] [--count N]`. JSON: `{"cpus": [{"cpu", "stats":
/// [{"field", "value"}]}], "total": [{"field", "value"}] | null}`.
pub fn cmd_cpu_stats(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let mut req = CpuStatsReq {
        per_cpu: false,
        total: cmd.has("total"),
        start: 0,
        count: -1,
    };
    if let Some(s) = opt_int(cmd, "start")? {
        if s < 0 {
            return Err(CmdError::msg("Invalid value for start CPU"));
        }
        req.start = s;
        req.per_cpu = true;
    }
    if let Some(c) = opt_int(cmd, "count")? {
        if c < 0 {
            return Err(CmdError::msg("Invalid value for number of CPUs to show"));
        }
        req.count = c;
        req.per_cpu = true;
    }
    if !req.total && !req.per_cpu {
        req.total = true;
        req.per_cpu = true;
    }
    let mut o = String::new();
    let mut json = CpuStatsJson {
        cpus: Vec::new(),
        total: None,
    };
    let result = cpu_stats_into(sh.conn()?, &dom, &req, &mut o, &mut json);
    if sh.json() {
        result?;
        return sh.print_json(&json);
    }
    sh.print(&o);
    result
}

/// domblkstat_output: (field, legacy name, human explanation).
const BLKSTAT_FIELDS: [(&str, Option<&str>, &str); 9] = [
    (
        "rd_operations",
        Some("rd_req"),
        "number of read operations:",
    ),
    ("rd_bytes", Some("rd_bytes"), "number of bytes read:"),
    (
        "wr_operations",
        Some("wr_req"),
        "number of write operations:",
    ),
    ("wr_bytes", Some("wr_bytes"), "number of bytes written:"),
    ("errs", Some("errs"), "error count:"),
    ("flush_operations", None, "number of flush operations:"),
    ("rd_total_times", None, "total duration of reads (ns):"),
    ("wr_total_times", None, "total duration of writes (ns):"),
    ("flush_total_times", None, "total duration of flushes (ns):"),
];

/// `domblkstat DOMAIN [DEVICE] [--human]`: the typed statistics when the server has them,
/// the five legacy counters otherwise. JSON: `{"FIELD": value, ...}`.
pub fn cmd_domblkstat(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, name) = domain_opt(sh, cmd)?;
    let human = cmd.has("human");
    let device = cmd.get("device").unwrap_or("").to_string();
    let conn = sh.conn()?;
    let width = if human { 31 } else { 0 };
    let mut o = String::new();
    let mut json = serde_json::Map::new();
    let shown_dev = if human { "" } else { device.as_str() };
    match conn.domain_block_stats_flags(&dom, &device, 0) {
        Err(e) if e.kind == ErrorKind::NoSupport => {
            let s = conn.domain_block_stats(&dom, &device).map_err(|e| {
                CmdError::with(format!("Failed to get block stats {name} {device}"), e)
            })?;
            if human {
                o.push_str(&format!("Device: {device}\n"));
            }
            let values = [s.rd_req, s.rd_bytes, s.wr_req, s.wr_bytes, s.errs];
            for (i, v) in values.iter().enumerate() {
                if *v < 0 {
                    continue;
                }
                let (field, legacy, text) = BLKSTAT_FIELDS[i];
                let label = if human { text } else { legacy.unwrap_or(field) };
                o.push_str(&format!("{shown_dev} {label:<width$} {v}\n"));
                json.insert(legacy.unwrap_or(field).to_string(), (*v).into());
            }
        }
        Err(e) => return Err(e.into()),
        Ok(params) => {
            if human {
                o.push_str(&format!("Device: {device}\n"));
            }
            let mut rest: Vec<&TypedParam> = params.iter().collect();
            for (field, legacy, text) in BLKSTAT_FIELDS {
                let Some(pos) = rest.iter().position(|p| p.field == field) else {
                    continue;
                };
                let p = rest.remove(pos);
                let label = if human { text } else { legacy.unwrap_or(field) };
                let value = typed_value(&p.value);
                o.push_str(&format!("{shown_dev} {label:<width$} {value}\n"));
                json.insert(
                    field.to_string(),
                    serde_json::to_value(&p.value).unwrap_or_default(),
                );
            }
            for p in rest {
                let value = typed_value(&p.value);
                o.push_str(&format!("{shown_dev} {} {value}\n", p.field));
                json.insert(
                    p.field.clone(),
                    serde_json::to_value(&p.value).unwrap_or_default(),
                );
            }
        }
    }
    if sh.json() {
        return sh.print_json(&json);
    }
    sh.print(&o);
    Ok(())
}

/// `domifstat DOMAIN INTERFACE`. JSON: `{"rx_bytes", ...}` (counters the driver has).
pub fn cmd_domifstat(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, name) = domain_opt(sh, cmd)?;
    let device = req_str(cmd, "interface")?.to_string();
    let s = sh
        .conn()?
        .domain_interface_stats(&dom, &device)
        .map_err(|e| CmdError::with(format!("Failed to get interface stats {name} {device}"), e))?;
    let values = [
        ("rx_bytes", s.rx_bytes),
        ("rx_packets", s.rx_packets),
        ("rx_errs", s.rx_errs),
        ("rx_drop", s.rx_drop),
        ("tx_bytes", s.tx_bytes),
        ("tx_packets", s.tx_packets),
        ("tx_errs", s.tx_errs),
        ("tx_drop", s.tx_drop),
    ];
    if sh.json() {
        let map: serde_json::Map<String, serde_json::Value> = values
            .iter()
            .filter(|(_, v)| *v >= 0)
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        return sh.print_json(&map);
    }
    let mut o = String::new();
    for (k, v) in values {
        if v >= 0 {
            o.push_str(&format!("{device} {k} {v}\n"));
        }
    }
    sh.print(&o);
    Ok(())
}
