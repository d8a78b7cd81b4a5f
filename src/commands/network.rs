//! Virtual networks: net-list, net-info, net-dumpxml, net-define, net-undefine, net-create,
//! net-start, net-destroy, net-autostart, net-uuid, net-name, net-edit (tools/virsh-network.c).
//!
//! This file also holds the object lookup and edit flow the pool, volume and secret commands
//! share, and libvirt's lenient UUID parser.

use crate::commands::edit::edit_text;
use crate::commands::lifecycle::read_file;
use crate::commands::options::{req_str, yes_no};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use uuid::Uuid;
use virtsh_api::{flags::list_networks as L, Network};

/// libvirt's virUUIDParse (32 hex digits, '-' or ' ' between pairs, blanks around).
pub fn parse_uuid_c(s: &str) -> Option<Uuid> {
    virtsh_xml::network::parse_uuid(s)
}

/// Lookup of an object by UUID and/or name (virshCommandOptNetworkBy and its pool twin): the
/// UUID is tried only for 36-character strings; the error of the last lookup tried follows
/// virsh's own line. `what` is "network" or "pool"; `api` the UUID lookup's public name.
pub fn lookup_by<T>(
    text: &str,
    by_uuid: bool,
    by_name: bool,
    what: &str,
    api: &str,
    uuid_lookup: impl FnOnce(&Uuid) -> virtsh_api::Result<T>,
    name_lookup: impl FnOnce(&str) -> virtsh_api::Result<T>,
) -> Result<T, CmdError> {
    let mut last: Option<virtsh_api::Error> = None;
    if by_uuid && text.len() == 36 {
        match parse_uuid_c(text) {
            Some(u) => match uuid_lookup(&u) {
                Ok(o) => return Ok(o),
                Err(e) => last = Some(e),
            },
            None => {
                // The public API's own check, worded without the usual prefix.
                last = Some(virtsh_api::Error::raw(
                    virtsh_api::ErrorKind::InvalidArg,
                    format!("uuidstr in {api} must be a valid UUID"),
                ))
            }
        }
    }
    if by_name {
        match name_lookup(text) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
    }
    let line = format!("failed to get {what} '{text}'");
    Err(match last {
        Some(e) => CmdError::with(line, e),
        None => CmdError::msg(line),
    })
}

/// The `--network` option, by UUID and/or name.
fn network_by(
    sh: &Shell,
    cmd: &ParsedCmd,
    by_uuid: bool,
    by_name: bool,
) -> Result<Network, CmdError> {
    let text = req_str(cmd, "network")?;
    let conn = sh.conn()?;
    lookup_by(
        text,
        by_uuid,
        by_name,
        "network",
        "virNetworkLookupByUUIDString",
        |u| conn.lookup_network_by_uuid(u),
        |n| conn.lookup_network_by_name(n),
    )
}

/// virshCommandOptNetwork: the `--network` option, by UUID or name.
pub fn network(sh: &Shell, cmd: &ParsedCmd) -> Result<Network, CmdError> {
    network_by(sh, cmd, true, true)
}

#[derive(Serialize)]
struct NetEntry {
    name: String,
    uuid: String,
    active: bool,
    /// null when the driver cannot tell.
    autostart: Option<bool>,
    persistent: bool,
}

/// `net-list`. JSON: `[{"name", "uuid", "active": bool, "autostart": bool|null,
/// "persistent": bool}]`, sorted by name as the table is.
pub fn cmd_net_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut f = L::ACTIVE;
    if cmd.has("inactive") {
        f = L::INACTIVE;
    }
    if cmd.has("all") {
        f = L::ACTIVE | L::INACTIVE;
    }
    f |= cmd.flags(&[
        ("persistent", L::PERSISTENT),
        ("transient", L::TRANSIENT),
        ("autostart", L::AUTOSTART),
        ("no-autostart", L::NO_AUTOSTART),
    ]);
    let (opt_name, opt_uuid) = (cmd.has("name"), cmd.has("uuid"));
    if usize::from(cmd.has("table")) + usize::from(opt_name) + usize::from(opt_uuid) > 1 {
        return Err(CmdError::msg(
            "Only one argument from --table, --name and --uuid may be specified.",
        ));
    }
    let conn = sh.conn()?;
    let mut nets = conn
        .list_all_networks(f)
        .map_err(|e| CmdError::with("Failed to list networks", e))?;
    nets.sort_by_key(|n| n.name.to_lowercase());
    let entries: Vec<NetEntry> = nets
        .iter()
        .map(|n| NetEntry {
            name: n.name.clone(),
            uuid: n.uuid.to_string(),
            // virNetworkIsActive / IsPersistent returning -1 print as true in virsh.
            active: conn.network_is_active(n).unwrap_or(true),
            autostart: conn.network_autostart(n).ok(),
            persistent: conn.network_is_persistent(n).unwrap_or(true),
        })
        .collect();
    if sh.json() {
        return sh.print_json(&entries);
    }
    let mut out = String::new();
    if opt_uuid || opt_name {
        for e in &entries {
            out.push_str(if opt_uuid { &e.uuid } else { &e.name });
            out.push('\n');
        }
        sh.print(&out);
        return Ok(());
    }
    let mut t = crate::output::Table::new(&["Name", "State", "Autostart", "Persistent"]);
    for e in entries {
        t.add_row(vec![
            e.name,
            if e.active { "active" } else { "inactive" }.to_string(),
            match e.autostart {
                None => "no autostart",
                Some(a) => yes_no(a),
            }
            .to_string(),
            yes_no(e.persistent).to_string(),
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

#[derive(Serialize)]
struct NetInfo {
    name: String,
    uuid: String,
    active: Option<bool>,
    persistent: Option<bool>,
    autostart: Option<bool>,
    bridge: Option<String>,
    /// What is wrong with it on the host (embedded driver only; empty when healthy).
    problems: Vec<String>,
}

/// `net-info`. JSON: `{"name", "uuid", "active", "persistent", "autostart", "bridge",
/// "problems"}`, each but the first two null when the driver cannot tell. Problems (a dead
/// dnsmasq, a missing bridge) are `warning:` lines on stderr in text mode, so the lines
/// scripts parse stay virsh's.
pub fn cmd_net_info(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network(sh, cmd)?;
    let conn = sh.conn()?;
    let info = NetInfo {
        name: net.name.clone(),
        uuid: net.uuid.to_string(),
        active: conn.network_is_active(&net).ok(),
        persistent: conn.network_is_persistent(&net).ok(),
        autostart: conn.network_autostart(&net).ok(),
        bridge: conn.network_bridge_name(&net).ok(),
        problems: conn.network_health(&net).unwrap_or_default(),
    };
    if sh.json() {
        return sh.print_json(&info);
    }
    let mut o = String::new();
    let mut line = |k: &str, v: &str| o.push_str(&format!("{k:<15} {v}\n"));
    line("Name:", &info.name);
    line("UUID:", &info.uuid);
    if let Some(a) = info.active {
        line("Active:", yes_no(a));
    }
    line("Persistent:", info.persistent.map_or("unknown", yes_no));
    line("Autostart:", info.autostart.map_or("no autostart", yes_no));
    if let Some(b) = &info.bridge {
        line("Bridge:", b);
    }
    sh.print(&o);
    for p in &info.problems {
        eprintln!("warning: {p}");
    }
    Ok(())
}

/// `net-dumpxml`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_net_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network(sh, cmd)?;
    let mut f = 0;
    if cmd.has("inactive") {
        f |= 1; // VIR_NETWORK_XML_INACTIVE
    }
    let xml = sh.conn()?.network_xml(&net, f)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

pub fn cmd_net_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let validate = cmd.has("validate");
    let xml = read_file(file)?;
    let api = if validate {
        "virNetworkDefineXMLFlags"
    } else {
        "virNetworkDefineXML"
    };
    let net = sh
        .writable(api)
        .and_then(|c| c.define_network(&xml, u32::from(validate)))
        .map_err(|e| {
            CmdError::with(format!("Failed to define network from {file}"), e).explain_xml(
                crate::diagnostic::XmlKind::Network,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Network {} defined from {file}\n", net.name));
    Ok(())
}

pub fn cmd_net_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let validate = cmd.has("validate");
    let xml = read_file(file)?;
    let api = if validate {
        "virNetworkCreateXMLFlags"
    } else {
        "virNetworkCreateXML"
    };
    let net = sh
        .writable(api)
        .and_then(|c| c.create_network(&xml, u32::from(validate)))
        .map_err(|e| {
            CmdError::with(format!("Failed to create network from {file}"), e).explain_xml(
                crate::diagnostic::XmlKind::Network,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Network {} created from {file}\n", net.name));
    Ok(())
}

/// The shape of net-start / net-destroy / net-undefine: look up, act, report with the name
/// as given on the command line (virsh prints the option's text, not the object's name).
fn net_action(
    sh: &mut Shell,
    cmd: &ParsedCmd,
    api: &str,
    act: impl FnOnce(&dyn virtsh_api::Connection, &Network) -> virtsh_api::Result<()>,
    done: &str,
    failed: &str,
) -> CmdResult {
    let net = network(sh, cmd)?;
    let name = req_str(cmd, "network")?.to_string();
    sh.writable(api)
        .and_then(|c| act(c, &net))
        .map_err(|e| CmdError::with(format!("Failed to {failed} network {name}"), e))?;
    sh.print_extra(&format!("Network {name} {done}\n"));
    Ok(())
}

pub fn cmd_net_start(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    net_action(
        sh,
        cmd,
        "virNetworkCreate",
        |c, n| c.start_network(n),
        "started",
        "start",
    )
}

pub fn cmd_net_destroy(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    net_action(
        sh,
        cmd,
        "virNetworkDestroy",
        |c, n| c.destroy_network(n),
        "destroyed",
        "destroy",
    )
}

pub fn cmd_net_undefine(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    net_action(
        sh,
        cmd,
        "virNetworkUndefine",
        |c, n| c.undefine_network(n),
        "has been undefined",
        "undefine",
    )
}

pub fn cmd_net_autostart(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network(sh, cmd)?;
    let name = req_str(cmd, "network")?.to_string();
    let on = !cmd.has("disable");
    let un = if on { "" } else { "un" };
    sh.writable("virNetworkSetAutostart")
        .and_then(|c| c.set_network_autostart(&net, on))
        .map_err(|e| {
            CmdError::with(
                format!("failed to {un}mark network {name} as autostarted"),
                e,
            )
        })?;
    sh.print_extra(&format!("Network {name} {un}marked as autostarted\n"));
    Ok(())
}

/// `net-uuid`. JSON: the UUID as a string.
pub fn cmd_net_uuid(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network_by(sh, cmd, false, true)?;
    if sh.json() {
        return sh.print_json(&net.uuid.to_string());
    }
    sh.print(&format!("{}\n", net.uuid));
    Ok(())
}

/// `net-name`. JSON: the name as a string.
pub fn cmd_net_name(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network_by(sh, cmd, true, false)?;
    if sh.json() {
        return sh.print_json(&net.name);
    }
    sh.print(&format!("{}\n", net.name));
    Ok(())
}

/// virsh-edit.c, for the objects whose edit is "get the XML, edit it, define it": network
/// and pool (`what` is "Network" or "Pool", `name` the object's name). `get_xml` fetches the
/// definition to edit, `define` defines the edited text and returns the new object's name.
///
/// As virsh does: the definition is read again before defining, to catch a change made by
/// someone else meanwhile; on a failure, a terminal is asked whether to edit again, and
/// without one the failure is reported but the command still ends "edited" (virsh's own
/// behaviour, object name "(null)" included).
pub fn edit_object(
    sh: &mut Shell,
    what: &str,
    name: &str,
    get_xml: &dyn Fn(&Shell) -> virtsh_api::Result<String>,
    define: &dyn Fn(&Shell, &str) -> virtsh_api::Result<String>,
) -> CmdResult {
    use std::io::{BufRead, IsTerminal, Write};
    let mut doc = get_xml(sh)?;
    let mut text = doc.clone();
    'reedit: loop {
        let edited = edit_text(&text, &what.to_lowercase())?;
        if edited == doc {
            sh.print_extra(&format!("{what} {name} XML configuration not changed.\n"));
            return Ok(());
        }
        text = edited.clone();
        loop {
            // redefine:
            let reread = get_xml(sh)?;
            let (msg, err) = if reread != doc {
                doc = reread;
                ("The XML configuration was changed by another user.", None)
            } else {
                match define(sh, &edited) {
                    Ok(new_name) => {
                        sh.print_extra(&format!("{what} {new_name} XML configuration edited.\n"));
                        return Ok(());
                    }
                    Err(e) => ("Failed.", Some(e)),
                }
            };
            if !std::io::stdin().is_terminal() {
                sh.error(msg);
                sh.print_extra(&format!("{what} (null) XML configuration edited.\n"));
                return Ok(());
            }
            if let Some(e) = err {
                sh.error(&e.message);
            }
            let answer = loop {
                sh.print(&format!("\r{msg} Try again? [y,n,f,?]: "));
                sh.flush();
                let mut line = String::new();
                if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 {
                    break 'n';
                }
                match line.trim().chars().next().map(|c| c.to_ascii_lowercase()) {
                    Some('?') => sh.print(
                        "\ny - yes, start editor again\nn - no, throw away my changes\nf - force, try to redefine again\n? - print this help\n",
                    ),
                    Some(c @ ('y' | 'n' | 'f')) => break c,
                    _ => {}
                }
            };
            sh.print("\r\n");
            let _ = std::io::stdout().flush();
            match answer {
                'y' => continue 'reedit,
                'f' => continue,
                _ => return Err(CmdError::lines(vec![])),
            }
        }
    }
}

/// virshNetworkGetXMLDesc: the inactive definition, or the live one from servers that do not
/// know the flag.
fn net_edit_xml(sh: &Shell, net: &Network) -> virtsh_api::Result<String> {
    let conn = sh
        .conn()
        .map_err(|e| virtsh_api::Error::internal(e.lines.join(" ")))?;
    match conn.network_xml(net, 1) {
        Err(e) if e.kind == virtsh_api::ErrorKind::InvalidArg => conn.network_xml(net, 0),
        r => r,
    }
}

pub fn cmd_net_edit(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network(sh, cmd)?;
    edit_object(
        sh,
        "Network",
        &net.name.clone(),
        &|sh| net_edit_xml(sh, &net),
        &|sh, xml| {
            sh.writable("virNetworkDefineXML")
                .and_then(|c| c.define_network(xml, 0))
                .map(|n| n.name)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_parse_is_lenient_like_libvirt() {
        let u = "dd8fe884-6c02-601e-7551-cca97df1c5df";
        assert_eq!(parse_uuid_c(u).unwrap().to_string(), u);
        assert!(parse_uuid_c("dd8fe884 6c02 601e 7551 cca97df1c5df").is_some());
        assert!(parse_uuid_c("dd8fe8846c02601e7551cca97df1c5df----").is_none());
        assert!(parse_uuid_c("dd8fe884-6c02-601e-7551-cca97df1c5dx").is_none());
        assert!(parse_uuid_c(" dd8fe8846c02601e7551cca97df1c5df ").is_some());
        assert!(parse_uuid_c("dd8fe8846c02601e7551cca97df1c5d").is_none());
    }
}
