//! Host interfaces: iface-list, iface-dumpxml, iface-name, iface-mac, iface-define,
//! iface-undefine, iface-start, iface-destroy, iface-begin, iface-commit, iface-rollback
//! (tools/virsh-interface.c).

use crate::commands::lifecycle::read_file;
use crate::commands::options::{exclusive, req_str};
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{flags::list_interfaces as L, Interface};

/// virMacAddrParse: six groups of one or two hex digits separated by ':', optionally followed
/// by white space or control characters.
pub fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    for group in 0..6 {
        let start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() && i - start < 3 {
            i += 1;
        }
        let len = i - start;
        if !(1..=2).contains(&len) {
            return false;
        }
        if group == 5 {
            return b.get(i).is_none_or(|c| *c <= b' ');
        }
        if b.get(i) != Some(&b':') {
            return false;
        }
        i += 1;
    }
    false
}

/// virshCommandOptInterfaceBy: a MAC address is only looked up as a MAC, anything else only
/// as a name; `by_name`/`by_mac` say which of the two the command accepts.
fn interface_by(
    sh: &Shell,
    cmd: &ParsedCmd,
    by_name: bool,
    by_mac: bool,
) -> Result<Interface, CmdError> {
    let text = req_str(cmd, "interface")?;
    let conn = sh.conn()?;
    let mac = is_mac(text);
    let result = if !mac && by_name {
        Some(conn.lookup_interface_by_name(text))
    } else if mac && by_mac {
        Some(conn.lookup_interface_by_mac(text))
    } else {
        None
    };
    let line = format!("failed to get interface '{text}'");
    match result {
        Some(Ok(i)) => Ok(i),
        Some(Err(e)) => Err(CmdError::with(line, e)),
        None => Err(CmdError::msg(line)),
    }
}

#[derive(Serialize)]
struct IfaceEntry {
    name: String,
    active: bool,
    mac: String,
}

/// `iface-list [--inactive | --all]`. JSON: `[{"name", "active": bool, "mac"}]`, by name.
pub fn cmd_iface_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "all", "inactive")?;
    let mut f = L::ACTIVE;
    if cmd.has("inactive") {
        f = L::INACTIVE;
    }
    if cmd.has("all") {
        f = L::INACTIVE | L::ACTIVE;
    }
    let conn = sh.conn()?;
    let mut list = conn
        .list_all_interfaces(f)
        .map_err(|e| CmdError::with("Failed to list interfaces", e))?;
    list.sort_by_key(|i| i.name.to_lowercase());
    let entries: Vec<IfaceEntry> = list
        .iter()
        .map(|i| IfaceEntry {
            name: i.name.clone(),
            active: conn.interface_is_active(i).unwrap_or(true),
            mac: i.mac.clone(),
        })
        .collect();
    if sh.json() {
        return sh.print_json(&entries);
    }
    let mut t = Table::new(&["Name", "State", "MAC Address"]);
    for e in entries {
        t.add_row(vec![
            e.name,
            if e.active { "active" } else { "inactive" }.to_string(),
            e.mac,
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

/// `iface-dumpxml [--inactive]`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_iface_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = u32::from(cmd.has("inactive")); // VIR_INTERFACE_XML_INACTIVE
    let iface = interface_by(sh, cmd, true, true)?;
    let xml = sh.conn()?.interface_xml(&iface, f)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

/// `iface-name MAC`. JSON: the name as a string.
pub fn cmd_iface_name(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let iface = interface_by(sh, cmd, false, true)?;
    if sh.json() {
        return sh.print_json(&iface.name);
    }
    sh.print(&format!("{}\n", iface.name));
    Ok(())
}

/// `iface-mac NAME`. JSON: the MAC address as a string.
pub fn cmd_iface_mac(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let iface = interface_by(sh, cmd, true, false)?;
    if sh.json() {
        return sh.print_json(&iface.mac);
    }
    sh.print(&format!("{}\n", iface.mac));
    Ok(())
}

/// `iface-define FILE [--validate]`.
pub fn cmd_iface_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let f = u32::from(cmd.has("validate")); // VIR_INTERFACE_DEFINE_VALIDATE
    let xml = read_file(file)?;
    let iface = sh
        .writable("virInterfaceDefineXML")
        .and_then(|c| c.define_interface(&xml, f))
        .map_err(|e| CmdError::with(format!("Failed to define interface from {file}"), e))?;
    sh.print_extra(&format!("Interface {} defined from {file}\n", iface.name));
    Ok(())
}

/// The commands that act on one interface, by name or MAC address, and report with the
/// name as given.
fn iface_action(
    sh: &mut Shell,
    cmd: &ParsedCmd,
    api: &str,
    verb: &str,
    done: &str,
    act: impl FnOnce(&dyn virtsh_api::Connection, &Interface) -> virtsh_api::Result<()>,
) -> CmdResult {
    let iface = interface_by(sh, cmd, true, true)?;
    let text = req_str(cmd, "interface")?.to_string();
    sh.writable(api)
        .and_then(|c| act(c, &iface))
        .map_err(|e| CmdError::with(format!("Failed to {verb} interface {text}"), e))?;
    sh.print_extra(&format!("Interface {text} {done}\n"));
    Ok(())
}

/// `iface-undefine INTERFACE`.
pub fn cmd_iface_undefine(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    iface_action(
        sh,
        cmd,
        "virInterfaceUndefine",
        "undefine",
        "undefined",
        |c, i| c.undefine_interface(i),
    )
}

/// `iface-start INTERFACE`.
pub fn cmd_iface_start(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    iface_action(sh, cmd, "virInterfaceCreate", "start", "started", |c, i| {
        c.start_interface(i, 0)
    })
}

/// `iface-destroy INTERFACE`.
pub fn cmd_iface_destroy(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    iface_action(
        sh,
        cmd,
        "virInterfaceDestroy",
        "destroy",
        "destroyed",
        |c, i| c.destroy_interface(i, 0),
    )
}

/// The three change-transaction commands: (verb in errors, message on success).
fn transaction(
    sh: &mut Shell,
    api: &str,
    verb: &str,
    done: &str,
    act: impl FnOnce(&dyn virtsh_api::Connection) -> virtsh_api::Result<()>,
) -> CmdResult {
    sh.writable(api).and_then(act).map_err(|e| {
        CmdError::with(
            format!("Failed to {verb} network config change transaction"),
            e,
        )
    })?;
    sh.print_extra(&format!("Network config change transaction {done}\n"));
    Ok(())
}

/// `iface-begin`.
pub fn cmd_iface_begin(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    transaction(sh, "virInterfaceChangeBegin", "begin", "started", |c| {
        c.interface_change_begin(0)
    })
}

/// `iface-commit`.
pub fn cmd_iface_commit(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    transaction(sh, "virInterfaceChangeCommit", "commit", "committed", |c| {
        c.interface_change_commit(0)
    })
}

/// `iface-rollback`.
pub fn cmd_iface_rollback(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    transaction(
        sh,
        "virInterfaceChangeRollback",
        "rollback",
        "rolled back",
        |c| c.interface_change_rollback(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_like_libvirt() {
        assert!(is_mac("aa:bb:cc:dd:ee:ff"));
        assert!(is_mac("0:1:2:3:4:5"));
        assert!(is_mac("aa:bb:cc:dd:ee:ff "));
        assert!(!is_mac("aa:bb:cc:dd:ee"));
        assert!(!is_mac("aa:bb:cc:dd:ee:ff:00"));
        assert!(!is_mac("eth1"));
        assert!(!is_mac("aaa:bb:cc:dd:ee:ff"));
    }
}
