//! Host and connection: nodeinfo, hostname, uri, version, capabilities, sysinfo, freecell,
//! maxvcpus (tools/virsh-host.c).

use crate::commands::options::{exclusive, opt_str};
use crate::parse::ParsedCmd;
use crate::run::LIBVIRT_COMPAT_VERSION;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;

/// vshCommandOptInt: an optional int option, with virsh's message for a malformed value.
pub fn opt_int(cmd: &ParsedCmd, name: &str) -> Result<Option<i32>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    c_str_to_i32(text).map(Some).ok_or_else(|| {
        CmdError::msg(format!(
            "Numeric value '{text}' for <{name}> option is malformed or out of range"
        ))
    })
}

/// virStrToLong_i: strtol in base 10 over the whole string.
pub fn c_str_to_i32(s: &str) -> Option<i32> {
    let (neg, digits) = crate::commands::options::c_sign_digits(s)?;
    let v: i64 = digits.parse::<i64>().ok()?;
    let v = if neg { -v } else { v };
    i32::try_from(v).ok()
}

#[derive(Serialize)]
struct NodeInfoJson {
    cpu_model: String,
    cpus: u32,
    mhz: u32,
    sockets: u32,
    cores_per_socket: u32,
    threads_per_core: u32,
    numa_cells: u32,
    memory_kib: u64,
}

/// `nodeinfo`. JSON: `{"cpu_model", "cpus", "mhz", "sockets", "cores_per_socket",
/// "threads_per_core", "numa_cells", "memory_kib"}`.
pub fn cmd_nodeinfo(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let info = sh
        .conn()?
        .node_info()
        .map_err(|e| CmdError::with("failed to get node information", e))?;
    if sh.json() {
        return sh.print_json(&NodeInfoJson {
            cpu_model: info.model,
            cpus: info.cpus,
            mhz: info.mhz,
            sockets: info.sockets,
            cores_per_socket: info.cores,
            threads_per_core: info.threads,
            numa_cells: info.nodes,
            memory_kib: info.memory_kib,
        });
    }
    let mut o = String::new();
    let mut line = |k: &str, v: String| o.push_str(&format!("{k:<20} {v}\n"));
    line("CPU model:", info.model.clone());
    line("CPU(s):", info.cpus.to_string());
    if info.mhz != 0 {
        line("CPU frequency:", format!("{} MHz", info.mhz));
    }
    line("CPU socket(s):", info.sockets.to_string());
    line("Core(s) per socket:", info.cores.to_string());
    line("Thread(s) per core:", info.threads.to_string());
    line("NUMA cell(s):", info.nodes.to_string());
    line("Memory size:", format!("{} KiB", info.memory_kib));
    sh.print(&o);
    Ok(())
}

/// `hostname`. JSON: the name as a string.
pub fn cmd_hostname(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let name = sh
        .conn()?
        .hostname()
        .map_err(|e| CmdError::with("failed to get hostname", e))?;
    if sh.json() {
        return sh.print_json(&name);
    }
    sh.print(&format!("{name}\n"));
    Ok(())
}

/// `uri`. JSON: the URI as a string.
pub fn cmd_uri(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let uri = sh
        .conn()?
        .uri()
        .map_err(|e| CmdError::with("failed to get URI", e))?;
    if sh.json() {
        return sh.print_json(&uri);
    }
    sh.print(&format!("{uri}\n"));
    Ok(())
}

/// major.minor.release of libvirt's version encoding.
fn version_str(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v % 1_000_000) / 1000, v % 1000)
}

#[derive(Serialize)]
struct VersionJson {
    library: String,
    api: String,
    hypervisor_type: String,
    /// null when the running hypervisor's version cannot be told.
    hypervisor_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    daemon: Option<String>,
}

/// `version [--daemon]`. JSON: `{"library", "api", "hypervisor_type", "hypervisor_version",
/// "daemon"}` (versions as "major.minor.release"; "daemon" only with --daemon).
pub fn cmd_version(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let hv_type = sh
        .conn()?
        .hypervisor_type()
        .map_err(|e| CmdError::with("failed to get hypervisor type", e))?;
    let lib = LIBVIRT_COMPAT_VERSION;
    let hv = sh.conn()?.hypervisor_version();
    let daemon = if cmd.has("daemon") {
        Some(sh.conn()?.lib_version())
    } else {
        None
    };
    if sh.json() {
        let hv = hv.map_err(|e| CmdError::with("failed to get the hypervisor version", e))?;
        return sh.print_json(&VersionJson {
            library: lib.to_string(),
            api: lib.to_string(),
            hypervisor_type: hv_type,
            hypervisor_version: (hv != 0).then(|| version_str(hv)),
            daemon: daemon.and_then(|d| d.ok()).map(version_str),
        });
    }
    let mut o = format!(
        "Compiled against library: libvirt {lib}\nUsing library: libvirt {lib}\nUsing API: {hv_type} {lib}\n"
    );
    match hv {
        Err(e) => {
            sh.print(&o);
            return Err(CmdError::with("failed to get the hypervisor version", e));
        }
        Ok(0) => o.push_str(&format!(
            "Cannot extract running {hv_type} hypervisor version\n"
        )),
        Ok(v) => o.push_str(&format!(
            "Running hypervisor: {hv_type} {}\n",
            version_str(v)
        )),
    }
    match daemon {
        None => {}
        Some(Ok(d)) => o.push_str(&format!("Running against daemon: {}\n", version_str(d))),
        Some(Err(_)) => {
            sh.print(&o);
            o.clear();
            sh.error("failed to get the daemon version");
        }
    }
    sh.print(&o);
    Ok(())
}

/// `capabilities`: the XML, never JSON.
pub fn cmd_capabilities(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let caps = sh
        .conn()?
        .capabilities()
        .map_err(|e| CmdError::with("failed to get capabilities", e))?;
    sh.print(&format!("{caps}\n"));
    Ok(())
}

/// `sysinfo`: the XML, never JSON.
pub fn cmd_sysinfo(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let info = sh
        .conn()?
        .sysinfo()
        .map_err(|e| CmdError::with("failed to get sysinfo", e))?;
    sh.print(&info);
    Ok(())
}

#[derive(Serialize)]
struct CellFree {
    cell: u64,
    free_kib: u64,
}

#[derive(Serialize)]
struct FreecellJson {
    /// The cells asked for (none when only the host total was asked for).
    cells: Vec<CellFree>,
    /// The sum of `cells`, or the host's free memory without --all/--cellno.
    total_kib: u64,
}

/// virNodeGetCellsFreeMemory with the public API's argument check.
fn cell_free(sh: &Shell, cell: i32) -> Result<u64, CmdError> {
    if cell < 0 {
        return Err(CmdError::msg(
            "startCell in virNodeGetCellsFreeMemory must be zero or greater",
        ));
    }
    let v = sh.conn()?.cells_free_memory(cell, 1)?;
    v.first()
        .copied()
        .ok_or_else(|| CmdError::msg("internal error: no free memory reported for the cell"))
}

/// `freecell [--cellno N | --all]`. JSON: `{"cells": [{"cell", "free_kib"}], "total_kib"}`.
pub fn cmd_freecell(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "all", "cellno")?;
    let cellno = opt_int(cmd, "cellno")?;
    if !cmd.has("all") {
        if let Some(cell) = cellno {
            let mem = cell_free(sh, cell)?;
            if sh.json() {
                return sh.print_json(&FreecellJson {
                    cells: vec![CellFree {
                        cell: cell as u64,
                        free_kib: mem / 1024,
                    }],
                    total_kib: mem / 1024,
                });
            }
            sh.print(&format!("{cell}: {} KiB\n", mem / 1024));
            return Ok(());
        }
        let mem = sh.conn()?.free_memory()?;
        if sh.json() {
            return sh.print_json(&FreecellJson {
                cells: vec![],
                total_kib: mem / 1024,
            });
        }
        sh.print(&format!("Total: {} KiB\n", mem / 1024));
        return Ok(());
    }
    let caps = sh
        .conn()?
        .capabilities()
        .map_err(|e| CmdError::with("unable to get node capabilities", e))?;
    let root = virtsh_xml::dom::parse(&caps)
        .map_err(|_| CmdError::msg("unable to get node capabilities"))?;
    let mut ids = Vec::new();
    if let Some(cells) = root.at_path("host/topology/cells") {
        for c in cells.children_named("cell") {
            let id = c
                .attr("id")
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| CmdError::msg("conversion from string failed"))?;
            ids.push(id);
        }
    }
    let mut cells = Vec::new();
    let mut total_bytes: u64 = 0;
    for id in ids {
        let mem = i32::try_from(id)
            .ok()
            .and_then(|c| sh.conn().ok()?.cells_free_memory(c, 1).ok())
            .and_then(|v| v.first().copied())
            .ok_or_else(|| {
                CmdError::msg(format!(
                    "failed to get free memory for NUMA node number: {id}"
                ))
            })?;
        total_bytes = total_bytes.wrapping_add(mem);
        cells.push(CellFree {
            cell: id,
            free_kib: mem / 1024,
        });
    }
    let total = total_bytes / 1024;
    if sh.json() {
        return sh.print_json(&FreecellJson {
            cells,
            total_kib: total,
        });
    }
    let mut o = String::new();
    for c in &cells {
        o.push_str(&format!("{:>5}: {:>10} KiB\n", c.cell, c.free_kib));
    }
    sh.print(&o);
    sh.print_extra("--------------------\n");
    sh.print_extra(&format!("{:>5}: {:>10} KiB\n", "Total", total));
    Ok(())
}

/// `maxvcpus [--type T]`. JSON: the number.
pub fn cmd_maxvcpus(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let t = opt_str(cmd, "type")?;
    let n = sh.conn()?.max_vcpus(t)?;
    if sh.json() {
        return sh.print_json(&n);
    }
    sh.print(&format!("{n}\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_ints() {
        assert_eq!(c_str_to_i32(" -3"), Some(-3));
        assert_eq!(c_str_to_i32("+4"), Some(4));
        assert_eq!(c_str_to_i32("4x"), None);
        assert_eq!(c_str_to_i32(""), None);
        assert_eq!(c_str_to_i32("99999999999"), None);
    }
}
