//! Storage volumes: vol-list, vol-info, vol-dumpxml, vol-create-as, vol-create, vol-delete,
//! vol-path, vol-name, vol-key, vol-pool (tools/virsh-volume.c). Resizing, wiping and the
//! data transfers are in `voldata.rs`.

use crate::commands::lifecycle::read_file;
use crate::commands::options::{opt_str, req_str};
use crate::commands::pool::pool_opt;
use crate::output::{pretty_capacity, Table};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{Error, StoragePool, StorageVol};

/// virStorageVolCreateFlags
const CREATE_PREALLOC_METADATA: u32 = 1 << 0;
const CREATE_VALIDATE: u32 = 1 << 2;
/// VIR_STORAGE_VOL_GET_PHYSICAL
const VOL_GET_PHYSICAL: u32 = 1 << 0;
/// virStorageVolDeleteFlags
const DELETE_WITH_SNAPSHOTS: u32 = 1 << 1;

/// virshStorageVolTypeToString
fn type_str(t: i32) -> &'static str {
    match t {
        0 => "file",
        1 => "block",
        2 => "dir",
        3 => "network",
        4 => "netdir",
        5 => "ploop",
        _ => "unknown",
    }
}

fn pretty(v: u64) -> String {
    let (val, unit) = pretty_capacity(v);
    format!("{val:.2} {unit}")
}

/// virshCommandOptVolBy: the volume named by `--vol`, by name inside `--pool` (when the command
/// has that option and it is given), else by key, then by path; with virsh's error lines.
fn vol_lookup(
    sh: &Shell,
    cmd: &ParsedCmd,
    pool_opt_name: Option<&str>,
) -> Result<StorageVol, CmdError> {
    let text = req_str(cmd, "vol")?;
    let pool_text = match pool_opt_name {
        Some(p) => opt_str(cmd, p)?,
        None => None,
    };
    let pool = match (pool_opt_name, pool_text) {
        (Some(opt), Some(p)) => {
            let pool = pool_opt(sh, cmd, opt, true, true)?;
            if !sh.conn()?.pool_is_active(&pool).unwrap_or(false) {
                return Err(CmdError::msg(format!("pool '{p}' is not active")));
            }
            Some(pool)
        }
        _ => None,
    };
    let conn = sh.conn()?;
    let mut found = None;
    let mut last = None;
    if let Some(pool) = &pool {
        match conn.lookup_vol_by_name(pool, text) {
            Ok(v) => found = Some(v),
            Err(e) => last = Some(e),
        }
    }
    if found.is_none() {
        match conn.lookup_vol_by_key(text) {
            Ok(v) => found = Some(v),
            Err(e) => last = Some(e),
        }
    }
    if found.is_none() {
        match conn.lookup_vol_by_path(text) {
            Ok(v) => found = Some(v),
            Err(e) => last = Some(e),
        }
    }
    let Some(vol) = found else {
        let line = match pool_opt_name {
            Some(opt) if pool.is_none() => {
                format!("failed to get vol '{text}', specifying --{opt} might help")
            }
            _ => format!("failed to get vol '{text}'"),
        };
        return Err(match last {
            Some(e) => CmdError::with(line, e),
            None => CmdError::msg(line),
        });
    };
    if let Some(pool) = &pool {
        if vol.pool != pool.name {
            return Err(CmdError::msg(format!(
                "Requested volume '{text}' is not in pool '{}'",
                pool.name
            )));
        }
    }
    Ok(vol)
}

/// virshCommandOptVol with the optional `--pool`.
pub fn vol(sh: &Shell, cmd: &ParsedCmd) -> Result<StorageVol, CmdError> {
    vol_lookup(sh, cmd, Some("pool"))
}

/// virStorageVolLookupByName / Key / Path of a backing volume for vol-create-as.
fn backing_vol(sh: &Shell, pool: &StoragePool, text: &str) -> Result<StorageVol, CmdError> {
    let conn = sh.conn()?;
    conn.lookup_vol_by_name(pool, text)
        .or_else(|_| conn.lookup_vol_by_key(text))
        .or_else(|_| conn.lookup_vol_by_path(text))
        .map_err(|e| CmdError::with(format!("failed to get vol '{text}'"), e))
}

/// virshVolSize: a C unsigned number (white space and '+' allowed, no '-') followed by an
/// optional unit suffix; the error carries libvirt's message when the suffix is the problem.
fn vol_size(s: &str) -> Result<u64, Option<Error>> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    if i < b.len() && b[i] == b'-' {
        return Err(None);
    }
    if i < b.len() && b[i] == b'+' {
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b[i] - b'0')))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start || overflow {
        return Err(None);
    }
    let suffix = &s[i..];
    virtsh_xml::units::scale_integer(v, Some(suffix), 1, u64::MAX)
        .map_err(|e| Some(Error::raw(virtsh_api::ErrorKind::InvalidArg, e.message)))
}

pub fn size_arg(s: &str) -> Result<u64, CmdError> {
    vol_size(s).map_err(|e| {
        let line = format!("Malformed size {s}");
        match e {
            Some(e) => CmdError::with(line, e),
            None => CmdError::msg(line),
        }
    })
}

/// `vol-create-as` (cmdVolCreateAs); `--print-xml` prints the XML instead of creating.
pub fn cmd_vol_create_as(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("prealloc-metadata") {
        CREATE_PREALLOC_METADATA
    } else {
        0
    };
    let pool = pool_opt(sh, cmd, "pool", true, true)?;
    let name = req_str(cmd, "name")?;
    let capacity = size_arg(req_str(cmd, "capacity")?)?;
    // vshCommandOptStringQuiet: an empty --allocation is as if it were not given.
    let allocation = match cmd.get("allocation").filter(|a| !a.is_empty()) {
        Some(a) => Some(size_arg(a)?),
        None => None,
    };
    let format = opt_str(cmd, "format")?;
    let backing = opt_str(cmd, "backing-vol")?;
    let backing_format = opt_str(cmd, "backing-vol-format")?;

    let mut xml = String::from("<volume>\n");
    xml.push_str(&format!("  <name>{name}</name>\n"));
    xml.push_str(&format!("  <capacity>{capacity}</capacity>\n"));
    if let Some(a) = allocation {
        xml.push_str(&format!("  <allocation>{a}</allocation>\n"));
    }
    if let Some(fmt) = format {
        xml.push_str(&format!(
            "  <target>\n    <format type='{fmt}'/>\n  </target>\n"
        ));
    }
    if let Some(b) = backing {
        let bvol = backing_vol(sh, &pool, b)?;
        let path = sh.conn()?.vol_path(&bvol)?;
        xml.push_str(&format!("  <backingStore>\n    <path>{path}</path>\n"));
        if let Some(bf) = backing_format {
            xml.push_str(&format!("    <format type='{bf}'/>\n"));
        }
        xml.push_str("  </backingStore>\n");
    }
    xml.push_str("</volume>\n");

    if cmd.has("print-xml") {
        sh.print(&xml);
        return Ok(());
    }
    sh.writable("virStorageVolCreateXML")
        .and_then(|c| c.create_vol(&pool, &xml, f))
        .map_err(|e| CmdError::with(format!("Failed to create vol {name}"), e))?;
    sh.print_extra(&format!("Vol {name} created\n"));
    Ok(())
}

pub fn cmd_vol_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut f = 0;
    if cmd.has("prealloc-metadata") {
        f |= CREATE_PREALLOC_METADATA;
    }
    if cmd.has("validate") {
        f |= CREATE_VALIDATE;
    }
    let pool = pool_opt(sh, cmd, "pool", true, true)?;
    let file = req_str(cmd, "file")?;
    let xml = read_file(file)?;
    let v = sh
        .writable("virStorageVolCreateXML")
        .and_then(|c| c.create_vol(&pool, &xml, f))
        .map_err(|e| {
            CmdError::with(format!("Failed to create vol from {file}"), e).explain_xml(
                crate::diagnostic::XmlKind::StorageVol,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Vol {} created from {file}\n", v.name));
    Ok(())
}

pub fn cmd_vol_delete(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let f = if cmd.has("delete-snapshots") {
        DELETE_WITH_SNAPSHOTS
    } else {
        0
    };
    sh.writable("virStorageVolDelete")
        .and_then(|c| c.delete_vol(&v, f))
        .map_err(|e| CmdError::with(format!("Failed to delete vol {name}"), e))?;
    sh.print_extra(&format!("Vol {name} deleted\n"));
    Ok(())
}

#[derive(Serialize)]
struct VolInfo {
    name: String,
    /// "file", "block", "dir", "network", "netdir", "ploop".
    #[serde(rename = "type")]
    vol_type: String,
    /// Bytes.
    capacity: u64,
    allocation: u64,
}

/// `vol-info [--bytes]`. JSON: `{"name", "type", "capacity", "allocation"}` (bytes).
pub fn cmd_vol_info(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    let physical = cmd.has("physical");
    let info = if physical {
        sh.conn()?.vol_info_flags(&v, VOL_GET_PHYSICAL)
    } else {
        sh.conn()?.vol_info(&v)
    };
    if sh.json() {
        let info = info?;
        return sh.print_json(&VolInfo {
            name: v.name.clone(),
            vol_type: type_str(info.vol_type).to_string(),
            capacity: info.capacity,
            allocation: info.allocation,
        });
    }
    sh.print(&format!("{:<15} {}\n", "Name:", v.name));
    let info = info?;
    let alloc_label = if physical { "Physical:" } else { "Allocation:" };
    let mut o = format!("{:<15} {}\n", "Type:", type_str(info.vol_type));
    if cmd.has("bytes") {
        o.push_str(&format!("{:<15} {} bytes\n", "Capacity:", info.capacity));
        o.push_str(&format!("{alloc_label:<15} {} bytes\n", info.allocation));
    } else {
        o.push_str(&format!("{:<15} {}\n", "Capacity:", pretty(info.capacity)));
        o.push_str(&format!("{alloc_label:<15} {}\n", pretty(info.allocation)));
    }
    sh.print(&o);
    Ok(())
}

/// `vol-dumpxml`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_vol_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    let xml = sh.conn()?.vol_xml(&v, 0)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

#[derive(Serialize)]
struct VolEntry {
    name: String,
    path: Option<String>,
    #[serde(rename = "type")]
    vol_type: Option<String>,
    /// Bytes; null when the driver cannot tell.
    capacity: Option<u64>,
    allocation: Option<u64>,
}

/// `vol-list [--details]`. JSON: `[{"name", "path", "type", "capacity", "allocation"}]`
/// (bytes), sorted by name.
pub fn cmd_vol_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let pool = pool_opt(sh, cmd, "pool", true, true)?;
    let details = cmd.has("details") || sh.output == crate::shell::OutputFormat::Json;
    let conn = sh.conn()?;
    let mut vols = conn
        .list_all_volumes(&pool, 0)
        .map_err(|e| CmdError::with("Failed to list volumes", e))?;
    vols.sort_by_key(|v| v.name.to_lowercase());
    let mut entries = Vec::new();
    for v in &vols {
        let mut e = VolEntry {
            name: v.name.clone(),
            path: conn.vol_path(v).ok(),
            vol_type: None,
            capacity: None,
            allocation: None,
        };
        if details {
            if let Ok(info) = conn.vol_info(v) {
                e.vol_type = Some(type_str(info.vol_type).to_string());
                e.capacity = Some(info.capacity);
                e.allocation = Some(info.allocation);
            }
        }
        entries.push(e);
    }
    if sh.json() {
        return sh.print_json(&entries);
    }
    let unknown = || "unknown".to_string();
    let text = if cmd.has("details") {
        let mut t = Table::new(&["Name", "Path", "Type", "Capacity", "Allocation"]);
        for e in entries {
            t.add_row(vec![
                e.name,
                e.path.unwrap_or_else(unknown),
                e.vol_type.unwrap_or_else(unknown),
                e.capacity.map_or_else(unknown, pretty),
                e.allocation.map_or_else(unknown, pretty),
            ]);
        }
        t.render(!sh.quiet)
    } else {
        let mut t = Table::new(&["Name", "Path"]);
        for e in entries {
            t.add_row(vec![e.name, e.path.unwrap_or_else(unknown)]);
        }
        t.render(!sh.quiet)
    };
    sh.print(&text);
    Ok(())
}

/// `vol-path`. JSON: the path as a string.
pub fn cmd_vol_path(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    let path = sh.conn()?.vol_path(&v)?;
    if sh.json() {
        return sh.print_json(&path);
    }
    sh.print(&format!("{path}\n"));
    Ok(())
}

/// `vol-name` (by key or path). JSON: the name as a string.
pub fn cmd_vol_name(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol_lookup(sh, cmd, None)?;
    if sh.json() {
        return sh.print_json(&v.name);
    }
    sh.print(&format!("{}\n", v.name));
    Ok(())
}

/// `vol-key`. JSON: the key as a string.
pub fn cmd_vol_key(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    if sh.json() {
        return sh.print_json(&v.key);
    }
    sh.print(&format!("{}\n", v.key));
    Ok(())
}

/// `vol-pool [--uuid]` (by key or path). JSON: `{"name", "uuid"}` of the pool.
pub fn cmd_vol_pool(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol_lookup(sh, cmd, None)?;
    let pool = sh
        .conn()?
        .lookup_pool_by_name(&v.pool)
        .map_err(|e| CmdError::with("failed to get parent pool", e))?;
    if sh.json() {
        #[derive(Serialize)]
        struct P {
            name: String,
            uuid: String,
        }
        return sh.print_json(&P {
            name: pool.name.clone(),
            uuid: pool.uuid.to_string(),
        });
    }
    if cmd.has("uuid") {
        sh.print(&format!("{}\n", pool.uuid));
    } else {
        sh.print(&format!("{}\n", pool.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_virsh() {
        assert_eq!(vol_size("10M").unwrap(), 10 << 20);
        assert_eq!(vol_size(" +10").unwrap(), 10);
        assert_eq!(vol_size("1kb").unwrap(), 1000);
        assert!(vol_size("-1").unwrap_err().is_none());
        assert!(vol_size("abc").unwrap_err().is_none());
        assert_eq!(
            vol_size("1X").unwrap_err().unwrap().message,
            "invalid argument: unknown suffix 'X'"
        );
    }
}
