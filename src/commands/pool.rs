//! Storage pools: pool-list, pool-info, pool-dumpxml, pool-define, pool-define-as, pool-create,
//! pool-create-as, pool-build, pool-start, pool-destroy, pool-delete, pool-undefine,
//! pool-autostart, pool-refresh, pool-name, pool-uuid, pool-edit (tools/virsh-pool.c).

use crate::commands::lifecycle::read_file;
use crate::commands::network::{edit_object, lookup_by};
use crate::commands::options::{exclusive, opt_str, req_str, yes_no};
use crate::output::{pretty_capacity, Table};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{flags::list_pools as L, StoragePool};
use virtsh_xml::{pool_def_from_args, PoolArgs};

/// virStoragePoolCreateFlags
const CREATE_WITH_BUILD: u32 = 1 << 0;
const CREATE_WITH_BUILD_OVERWRITE: u32 = 1 << 1;
const CREATE_WITH_BUILD_NO_OVERWRITE: u32 = 1 << 2;
/// virStoragePoolBuildFlags
const BUILD_NO_OVERWRITE: u32 = 1 << 2;
const BUILD_OVERWRITE: u32 = 1 << 3;
/// VIR_STORAGE_XML_INACTIVE
const XML_INACTIVE: u32 = 1 << 0;

/// A pool named by option `opt`, by UUID and/or name (virshCommandOptPoolBy).
pub fn pool_opt(
    sh: &Shell,
    cmd: &ParsedCmd,
    opt: &str,
    by_uuid: bool,
    by_name: bool,
) -> Result<StoragePool, CmdError> {
    let text = req_str(cmd, opt)?;
    pool_text(sh, text, by_uuid, by_name)
}

pub fn pool_text(
    sh: &Shell,
    text: &str,
    by_uuid: bool,
    by_name: bool,
) -> Result<StoragePool, CmdError> {
    let conn = sh.conn()?;
    lookup_by(
        text,
        by_uuid,
        by_name,
        "pool",
        "virStoragePoolLookupByUUIDString",
        |u| conn.lookup_pool_by_uuid(u),
        |n| conn.lookup_pool_by_name(n),
    )
}

fn pool(sh: &Shell, cmd: &ParsedCmd) -> Result<StoragePool, CmdError> {
    pool_opt(sh, cmd, "pool", true, true)
}

/// virshStoragePoolStateToString
fn state_str(state: i32) -> &'static str {
    match state {
        0 => "inactive",
        1 => "building",
        2 => "running",
        3 => "degraded",
        4 => "inaccessible",
        _ => "unknown",
    }
}

fn pretty(v: u64) -> String {
    let (val, unit) = pretty_capacity(v);
    format!("{val:.2} {unit}")
}

/// The --build/--overwrite/--no-overwrite trio of pool-create, pool-create-as and pool-start.
fn create_flags(cmd: &ParsedCmd) -> Result<u32, CmdError> {
    exclusive(cmd, "overwrite", "no-overwrite")?;
    let mut f = 0;
    if cmd.has("build") {
        f |= CREATE_WITH_BUILD;
    }
    if cmd.has("overwrite") {
        f |= CREATE_WITH_BUILD_OVERWRITE;
    }
    if cmd.has("no-overwrite") {
        f |= CREATE_WITH_BUILD_NO_OVERWRITE;
    }
    Ok(f)
}

#[derive(Serialize)]
struct PoolEntry {
    name: String,
    uuid: String,
    /// "running", "inactive", ... (virsh's --details words); null when unknown.
    state: Option<String>,
    autostart: Option<bool>,
    persistent: Option<bool>,
    /// Bytes; null when the pool is not running.
    capacity: Option<u64>,
    allocation: Option<u64>,
    available: Option<u64>,
}

/// vshStringToArray: split at commas, ",," standing for a literal comma.
pub fn string_to_array(s: &str) -> Vec<String> {
    let mut parts = s.split(',');
    let mut out = vec![parts.next().unwrap_or("").to_string()];
    let mut concat = false;
    for p in parts {
        if concat {
            let last = out.last_mut().expect("never empty");
            last.push(',');
            last.push_str(p);
            concat = false;
            continue;
        }
        if p.is_empty() {
            concat = true;
        } else {
            out.push(p.to_string());
        }
    }
    if concat {
        out.push(String::new());
    }
    out
}

/// `pool-list`. JSON: `[{"name", "uuid", "state", "autostart", "persistent", "capacity",
/// "allocation", "available"}]` (sizes in bytes, null when the pool is not running).
pub fn cmd_pool_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let details = cmd.has("details");
    exclusive(cmd, "all", "inactive")?;
    let mut f = L::ACTIVE;
    if cmd.has("inactive") {
        f = L::INACTIVE;
    }
    if cmd.has("all") {
        f = L::ACTIVE | L::INACTIVE;
    }
    f |= cmd.flags(&[
        ("autostart", L::AUTOSTART),
        ("no-autostart", L::NO_AUTOSTART),
        ("persistent", L::PERSISTENT),
        ("transient", L::TRANSIENT),
    ]);
    let (opt_uuid, opt_name) = (cmd.has("uuid"), cmd.has("name"));
    let types = opt_str(cmd, "type")?;
    exclusive(cmd, "details", "uuid")?;
    exclusive(cmd, "details", "name")?;
    if let Some(types) = types {
        for t in string_to_array(types) {
            match L::TYPES.iter().find(|(n, _)| *n == t) {
                Some((_, bit)) => f |= bit,
                None => return Err(CmdError::msg(format!("Invalid pool type '{t}'"))),
            }
        }
    }
    let conn = sh.conn()?;
    let mut pools = conn
        .list_all_pools(f)
        .map_err(|e| CmdError::with("Failed to list pools", e))?;
    pools.sort_by_key(|p| p.name.to_lowercase());

    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for p in &pools {
        let conn = sh.conn()?;
        let autostart = conn.pool_autostart(p).ok();
        let persistent = conn.pool_is_persistent(p).ok();
        let mut e = PoolEntry {
            name: p.name.clone(),
            uuid: p.uuid.to_string(),
            state: None,
            autostart,
            persistent,
            capacity: None,
            allocation: None,
            available: None,
        };
        match conn.pool_info(p) {
            Err(_) => errors.push(entries.len()),
            Ok(info) => {
                e.state = Some(
                    if details || sh.output == crate::shell::OutputFormat::Json {
                        state_str(info.state).to_string()
                    } else if conn.pool_is_active(p).unwrap_or(true) {
                        "active".to_string()
                    } else {
                        "inactive".to_string()
                    },
                );
                if info.state == 2 || info.state == 3 {
                    e.capacity = Some(info.capacity);
                    e.allocation = Some(info.allocation);
                    e.available = Some(info.available);
                }
            }
        }
        entries.push(e);
    }
    // virsh reports each failed pool as it goes, before the listing.
    for _ in &errors {
        sh.error("Could not retrieve pool information");
    }
    if sh.json() {
        return sh.print_json(&entries);
    }
    if !details {
        if opt_uuid || opt_name {
            let mut out = String::new();
            for e in &entries {
                if opt_uuid {
                    out.push_str(&format!(
                        "{:<36}{}",
                        e.uuid,
                        if opt_name { ' ' } else { '\n' }
                    ));
                }
                if opt_name {
                    out.push_str(&format!("{:<20}\n", e.name));
                }
            }
            sh.print(&out);
            return Ok(());
        }
        let mut t = Table::new(&["Name", "State", "Autostart"]);
        for e in entries {
            t.add_row(vec![
                e.name,
                e.state.unwrap_or_else(|| "unknown".into()),
                e.autostart.map_or("no autostart", yes_no).to_string(),
            ]);
        }
        let text = t.render(!sh.quiet);
        sh.print(&text);
        return Ok(());
    }
    let mut t = Table::new(&[
        "Name",
        "State",
        "Autostart",
        "Persistent",
        "Capacity",
        "Allocation",
        "Available",
    ]);
    for e in entries {
        let known = e.state.is_some();
        let size = |v: Option<u64>| match v {
            Some(v) => pretty(v),
            None if known => "-".to_string(),
            None => "unknown".to_string(),
        };
        t.add_row(vec![
            e.name,
            e.state.clone().unwrap_or_else(|| "unknown".into()),
            e.autostart.map_or("no autostart", yes_no).to_string(),
            e.persistent.map_or("unknown", yes_no).to_string(),
            size(e.capacity),
            size(e.allocation),
            size(e.available),
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

#[derive(Serialize)]
struct PoolInfo {
    name: String,
    uuid: String,
    state: String,
    persistent: Option<bool>,
    autostart: Option<bool>,
    /// Bytes; null when the pool is not running.
    capacity: Option<u64>,
    allocation: Option<u64>,
    available: Option<u64>,
}

/// `pool-info [--bytes]`. JSON: `{"name", "uuid", "state", "persistent", "autostart",
/// "capacity", "allocation", "available"}` (bytes, null when the pool is not running).
pub fn cmd_pool_info(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let p = pool(sh, cmd)?;
    let bytes = cmd.has("bytes");
    let conn = sh.conn()?;
    let info = conn.pool_info(&p);
    let persistent = conn.pool_is_persistent(&p).ok();
    let autostart = conn.pool_autostart(&p).ok();
    if sh.json() {
        let info = info?;
        let running = info.state == 2 || info.state == 3;
        return sh.print_json(&PoolInfo {
            name: p.name.clone(),
            uuid: p.uuid.to_string(),
            state: state_str(info.state).to_string(),
            persistent,
            autostart,
            capacity: running.then_some(info.capacity),
            allocation: running.then_some(info.allocation),
            available: running.then_some(info.available),
        });
    }
    let mut o = String::new();
    let mut line = |k: &str, v: &str| o.push_str(&format!("{k:<15} {v}\n"));
    line("Name:", &p.name);
    line("UUID:", &p.uuid.to_string());
    let result = match info {
        Ok(info) => {
            line("State:", state_str(info.state));
            line("Persistent:", persistent.map_or("unknown", yes_no));
            line("Autostart:", autostart.map_or("no autostart", yes_no));
            if info.state == 2 || info.state == 3 {
                for (k, v) in [
                    ("Capacity:", info.capacity),
                    ("Allocation:", info.allocation),
                    ("Available:", info.available),
                ] {
                    if bytes {
                        line(k, &v.to_string());
                    } else {
                        line(k, &pretty(v));
                    }
                }
            }
            Ok(())
        }
        Err(e) => Err(CmdError::from(e)),
    };
    sh.print(&o);
    result
}

/// `pool-dumpxml`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_pool_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("inactive") { XML_INACTIVE } else { 0 };
    let p = pool(sh, cmd)?;
    let xml = sh.conn()?.pool_xml(&p, f)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

pub fn cmd_pool_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let f = u32::from(cmd.has("validate"));
    let xml = read_file(file)?;
    let p = sh
        .writable("virStoragePoolDefineXML")
        .and_then(|c| c.define_pool(&xml, f))
        .map_err(|e| {
            CmdError::with(format!("Failed to define pool from {file}"), e).explain_xml(
                crate::diagnostic::XmlKind::StoragePool,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Pool {} defined from {file}\n", p.name));
    Ok(())
}

pub fn cmd_pool_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let f = create_flags(cmd)?;
    let xml = read_file(file)?;
    let p = sh
        .writable("virStoragePoolCreateXML")
        .and_then(|c| c.create_pool(&xml, f))
        .map_err(|e| {
            CmdError::with(format!("Failed to create pool from {file}"), e).explain_xml(
                crate::diagnostic::XmlKind::StoragePool,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Pool {} created from {file}\n", p.name));
    Ok(())
}

/// virshBuildPoolXML: the options of pool-define-as / pool-create-as, read in virsh's order.
fn build_pool_xml(cmd: &ParsedCmd) -> Result<(String, String), CmdError> {
    exclusive(cmd, "secret-usage", "secret-uuid")?;
    let name = req_str(cmd, "name")?.to_string();
    let pool_type = req_str(cmd, "type")?.to_string();
    let o = |n: &str| opt_str(cmd, n).map(|v| v.map(str::to_string));
    let args = PoolArgs {
        name: name.clone(),
        pool_type,
        source_host: o("source-host")?,
        source_path: o("source-path")?,
        source_dev: o("source-dev")?,
        source_name: o("source-name")?,
        source_format: o("source-format")?,
        target: o("target")?,
        auth_type: o("auth-type")?,
        auth_username: o("auth-username")?,
        secret_usage: o("secret-usage")?,
        secret_uuid: o("secret-uuid")?,
        adapter_name: o("adapter-name")?,
        adapter_wwnn: o("adapter-wwnn")?,
        adapter_wwpn: o("adapter-wwpn")?,
        adapter_parent: o("adapter-parent")?,
        adapter_parent_wwnn: o("adapter-parent-wwnn")?,
        adapter_parent_wwpn: o("adapter-parent-wwpn")?,
        adapter_parent_fabric_wwn: o("adapter-parent-fabric-wwn")?,
        source_protocol_ver: o("source-protocol-ver")?,
        source_initiator: o("source-initiator")?,
    };
    let xml = pool_def_from_args(&args).map_err(CmdError::msg)?;
    Ok((name, xml))
}

/// `pool-define-as` (`--print-xml` prints the XML it would define).
pub fn cmd_pool_define_as(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (name, xml) = build_pool_xml(cmd)?;
    if cmd.has("print-xml") {
        sh.print(&xml);
        return Ok(());
    }
    sh.writable("virStoragePoolDefineXML")
        .and_then(|c| c.define_pool(&xml, 0))
        .map_err(|e| CmdError::with(format!("Failed to define pool {name}"), e))?;
    sh.print_extra(&format!("Pool {name} defined\n"));
    Ok(())
}

/// `pool-create-as` (`--print-xml` prints the XML it would create).
pub fn cmd_pool_create_as(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = create_flags(cmd)?;
    let (name, xml) = build_pool_xml(cmd)?;
    if cmd.has("print-xml") {
        sh.print(&xml);
        return Ok(());
    }
    sh.writable("virStoragePoolCreateXML")
        .and_then(|c| c.create_pool(&xml, f))
        .map_err(|e| CmdError::with(format!("Failed to create pool {name}"), e))?;
    sh.print_extra(&format!("Pool {name} created\n"));
    Ok(())
}

/// The shape of pool-build / -start / -destroy / -delete / -undefine / -refresh: look up, act,
/// report with the name as given on the command line.
fn pool_action(
    sh: &mut Shell,
    cmd: &ParsedCmd,
    api: &str,
    flags: impl FnOnce(&ParsedCmd) -> Result<u32, CmdError>,
    act: impl FnOnce(&dyn virtsh_api::Connection, &StoragePool, u32) -> virtsh_api::Result<()>,
    done: &str,
    failed: &str,
) -> CmdResult {
    let p = pool(sh, cmd)?;
    let name = req_str(cmd, "pool")?.to_string();
    let f = flags(cmd)?;
    sh.writable(api)
        .and_then(|c| act(c, &p, f))
        .map_err(|e| CmdError::with(format!("Failed to {failed} pool {name}"), e))?;
    sh.print_extra(&format!("Pool {name} {done}\n"));
    Ok(())
}

fn no_flags(_: &ParsedCmd) -> Result<u32, CmdError> {
    Ok(0)
}

pub fn cmd_pool_build(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolBuild",
        |cmd| {
            let mut f = 0;
            if cmd.has("no-overwrite") {
                f |= BUILD_NO_OVERWRITE;
            }
            if cmd.has("overwrite") {
                f |= BUILD_OVERWRITE;
            }
            Ok(f)
        },
        |c, p, f| c.build_pool(p, f),
        "built",
        "build",
    )
}

pub fn cmd_pool_start(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolCreate",
        create_flags,
        |c, p, f| c.start_pool(p, f),
        "started",
        "start",
    )
}

pub fn cmd_pool_destroy(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolDestroy",
        no_flags,
        |c, p, _| c.destroy_pool(p),
        "destroyed",
        "destroy",
    )
}

pub fn cmd_pool_delete(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolDelete",
        no_flags,
        |c, p, f| c.delete_pool(p, f),
        "deleted",
        "delete",
    )
}

pub fn cmd_pool_undefine(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolUndefine",
        no_flags,
        |c, p, _| c.undefine_pool(p),
        "has been undefined",
        "undefine",
    )
}

pub fn cmd_pool_refresh(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    pool_action(
        sh,
        cmd,
        "virStoragePoolRefresh",
        no_flags,
        |c, p, f| c.refresh_pool(p, f),
        "refreshed",
        "refresh",
    )
}

pub fn cmd_pool_autostart(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let p = pool(sh, cmd)?;
    let name = req_str(cmd, "pool")?.to_string();
    let on = !cmd.has("disable");
    let un = if on { "" } else { "un" };
    sh.writable("virStoragePoolSetAutostart")
        .and_then(|c| c.set_pool_autostart(&p, on))
        .map_err(|e| CmdError::with(format!("failed to {un}mark pool {name} as autostarted"), e))?;
    sh.print_extra(&format!("Pool {name} {un}marked as autostarted\n"));
    Ok(())
}

/// `pool-name`. JSON: the name as a string.
pub fn cmd_pool_name(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let p = pool_opt(sh, cmd, "pool", true, false)?;
    if sh.json() {
        return sh.print_json(&p.name);
    }
    sh.print(&format!("{}\n", p.name));
    Ok(())
}

/// `pool-uuid`. JSON: the UUID as a string.
pub fn cmd_pool_uuid(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let p = pool_opt(sh, cmd, "pool", false, true)?;
    if sh.json() {
        return sh.print_json(&p.uuid.to_string());
    }
    sh.print(&format!("{}\n", p.uuid));
    Ok(())
}

pub fn cmd_pool_edit(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let p = pool(sh, cmd)?;
    // Servers that do not know VIR_STORAGE_XML_INACTIVE get asked without it.
    let flags = match sh.conn()?.pool_xml(&p, XML_INACTIVE) {
        Err(e) if e.kind == virtsh_api::ErrorKind::InvalidArg => 0,
        Err(e) => return Err(e.into()),
        Ok(_) => XML_INACTIVE,
    };
    edit_object(
        sh,
        "Pool",
        &p.name.clone(),
        &|sh| {
            sh.conn()
                .map_err(|e| virtsh_api::Error::internal(e.lines.join(" ")))?
                .pool_xml(&p, flags)
        },
        &|sh, xml| {
            sh.writable("virStoragePoolDefineXML")
                .and_then(|c| c.define_pool(xml, 0))
                .map(|p| p.name)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_array_like_virsh() {
        assert_eq!(string_to_array("dir,fs"), vec!["dir", "fs"]);
        assert_eq!(string_to_array("a,,b,c"), vec!["a,b", "c"]);
        assert_eq!(string_to_array("a,"), vec!["a", ""]);
        assert_eq!(string_to_array(""), vec![""]);
    }
}
