//! Host statistics and capabilities: nodecpustats, nodecpumap, nodememstats, domcapabilities
//! (tools/virsh-host.c).

use crate::commands::host::opt_int;
use crate::commands::options::opt_str;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{Error, ErrorKind};

/// virshCPUStats: the fields nodecpustats knows, in its output order.
const CPU_FIELDS: [(&str, &str); 6] = [
    ("user", "user:"),
    ("kernel", "system:"),
    ("idle", "idle:"),
    ("iowait", "iowait:"),
    ("intr", "intr:"),
    ("utilization", "usage:"),
];
const USAGE: usize = 5;

/// The public API's check of a CPU or cell number (virNodeGetCPUStats, virNodeGetMemoryStats).
fn check_negative(n: i32, what: &str, api: &str) -> Result<(), Error> {
    if n < 0 && n != -1 {
        return Err(Error::raw(
            ErrorKind::InvalidArg,
            format!("{what} in {api} only accepts -1 as a negative value"),
        ));
    }
    Ok(())
}

/// printf's "%5.1f", NaN printed as glibc prints the one 0/0 gives ("-nan").
fn pct(v: f64) -> String {
    let s = if v.is_nan() {
        "-nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:.1}")
    };
    format!("{s:>5}")
}

/// `nodecpustats [--cpu N] [--percent]`. JSON: `{"user", "system", "idle", "iowait", "intr",
/// "usage"}` with what the host reports: nanoseconds (integers), or percentages with --percent.
pub fn cmd_nodecpustats(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let percent = cmd.has("percent");
    let cpu = opt_int(cmd, "cpu")?.unwrap_or(-1);
    let count_err = |e| CmdError::with("Unable to get number of cpu stats", e);
    check_negative(cpu, "cpuNum", "virNodeGetCPUStats").map_err(count_err)?;
    let first = sh.conn()?.node_cpu_stats(cpu, 0).map_err(count_err)?;
    if first.is_empty() {
        return Ok(());
    }
    let mut stats = [0u64; 6];
    let mut present = [false; 6];
    for round in 0..2 {
        let params = sh
            .conn()?
            .node_cpu_stats(cpu, 0)
            .map_err(|e| CmdError::with("Unable to get node cpu stats", e))?;
        for (field, value) in params {
            let Some(i) = CPU_FIELDS.iter().position(|(f, _)| *f == field) else {
                continue;
            };
            if round == 0 {
                stats[i] = value;
                present[i] = true;
            } else if present[i] {
                stats[i] = value.wrapping_sub(stats[i]);
            }
        }
        if present[USAGE] || !percent {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let mut values: [Option<f64>; 6] = [None; 6];
    let mut o = String::new();
    if !percent {
        for i in 0..USAGE {
            if present[i] {
                values[i] = Some(stats[i] as f64);
                o.push_str(&format!("{:<15} {:>20}\n", CPU_FIELDS[i].1, stats[i]));
            }
        }
    } else if present[USAGE] {
        let usage = stats[USAGE];
        values[USAGE] = Some(usage as f64);
        values[2] = Some(100u64.wrapping_sub(usage) as f64);
        o.push_str(&format!("{:<15} {:>5}%\n", "usage:", usage));
        o.push_str(&format!(
            "{:<15} {:>5}%\n",
            "idle:",
            100u64.wrapping_sub(usage)
        ));
    } else {
        let total: f64 = stats[..USAGE].iter().map(|v| *v as f64).sum();
        let usage = (stats[0] as f64 + stats[1] as f64) / total * 100.0;
        values[USAGE] = Some(usage);
        o.push_str(&format!("{:<15} {}%\n", "usage:", pct(usage)));
        for i in 0..USAGE {
            if present[i] {
                let v = stats[i] as f64 / total * 100.0;
                values[i] = Some(v);
                o.push_str(&format!("{:<15} {}%\n", CPU_FIELDS[i].1, pct(v)));
            }
        }
    }
    if sh.json() {
        let mut map = serde_json::Map::new();
        for (i, v) in values.iter().enumerate() {
            let Some(v) = v.filter(|x| x.is_finite()) else {
                continue;
            };
            let value = if percent {
                serde_json::Value::from(v)
            } else {
                serde_json::Value::from(stats[i])
            };
            map.insert(CPU_FIELDS[i].1.trim_end_matches(':').to_string(), value);
        }
        return sh.print_json(&map);
    }
    sh.print(&o);
    Ok(())
}

#[derive(Serialize)]
struct CpuMapJson {
    present: usize,
    online: u32,
    /// The online CPUs.
    online_cpus: Vec<usize>,
}

/// `nodecpumap [--pretty]`. JSON: `{"present", "online", "online_cpus": [N, ...]}`.
pub fn cmd_nodecpumap(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let map = sh
        .conn()?
        .node_cpu_map(0)
        .map_err(|e| CmdError::with("Unable to get cpu map", e))?;
    if sh.json() {
        return sh.print_json(&CpuMapJson {
            present: map.cpus.len(),
            online: map.online,
            online_cpus: (0..map.cpus.len()).filter(|i| map.cpus[*i]).collect(),
        });
    }
    let mut o = format!("{:<15} {}\n", "CPUs present:", map.cpus.len());
    o.push_str(&format!("{:<15} {}\n", "CPUs online:", map.online));
    o.push_str(&format!("{:<15} ", "CPU map:"));
    if cmd.has("pretty") {
        o.push_str(&crate::output::cpu_ranges(&map.cpus));
    } else {
        o.extend(map.cpus.iter().map(|b| if *b { 'y' } else { '-' }));
    }
    o.push('\n');
    sh.print(&o);
    Ok(())
}

/// `nodememstats [--cell N]`. JSON: `{"FIELD": KiB, ...}` in the driver's order.
pub fn cmd_nodememstats(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let cell = opt_int(cmd, "cell")?.unwrap_or(-1);
    let count_err = |e| CmdError::with("Unable to get number of memory stats", e);
    check_negative(cell, "cellNum", "virNodeGetMemoryStats").map_err(count_err)?;
    let stats = sh.conn()?.node_memory_stats(cell, 0).map_err(count_err)?;
    if sh.json() {
        let map: serde_json::Map<String, serde_json::Value> = stats
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
            .collect();
        return sh.print_json(&map);
    }
    let mut o = String::new();
    for (field, value) in &stats {
        o.push_str(&format!("{field:<7}: {value:>20} KiB\n"));
    }
    sh.print(&o);
    Ok(())
}

/// `domcapabilities [--virttype T] [--emulatorbin P] [--arch A] [--machine M]`: the XML
/// (never JSON), or what `--xpath` selects.
pub fn cmd_domcapabilities(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let virttype = opt_str(cmd, "virttype")?;
    let emulator = opt_str(cmd, "emulatorbin")?;
    let arch = opt_str(cmd, "arch")?;
    let machine = opt_str(cmd, "machine")?;
    let caps = sh
        .conn()?
        .domain_capabilities(emulator, arch, machine, virttype, 0)
        .map_err(|e| CmdError::with("failed to get emulator capabilities", e))?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_like_libvirt() {
        let b = |s: &str| s.chars().map(|c| c == 'y').collect::<Vec<_>>();
        assert_eq!(crate::output::cpu_ranges(&b("y-y-y---")), "0,2,4");
        assert_eq!(crate::output::cpu_ranges(&b("yyy-yy")), "0-2,4-5");
        assert_eq!(crate::output::cpu_ranges(&b("----")), "");
    }

    #[test]
    fn percentages_like_printf() {
        assert_eq!(pct(f64::NAN), " -nan");
        assert_eq!(pct(12.345), " 12.3");
        assert_eq!(pct(100.0), "100.0");
    }
}
