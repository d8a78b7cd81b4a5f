//! Host interfaces: iface-list, iface-dumpxml, iface-name, iface-mac
//! (tools/virsh-interface.c).

use crate::commands::network::{exclusive, req_str};
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
