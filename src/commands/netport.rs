//! Network ports: net-port-list, net-port-create, net-port-dumpxml, net-port-delete
//! (tools/virsh-network.c, cmdNetworkPort*).
//!
//! virsh 9.0's net-port-dumpxml and net-port-delete start from `ret = true`, so a network or
//! port that cannot be found prints virsh's one `error:` line and still exits 0 (libvirt's own
//! message is never shown). Scripts see that status, so it is kept.

use crate::commands::lifecycle::read_file;
use crate::commands::network::{network, parse_uuid_c};
use crate::commands::options::req_str;
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{Error, ErrorKind, Network, NetworkPort};

/// VIR_NETWORK_PORT_CREATE_VALIDATE
const CREATE_VALIDATE: u32 = 1 << 1;

#[derive(Serialize)]
struct PortEntry {
    uuid: String,
}

/// `net-port-list NETWORK [--uuid | --table]`. JSON: `[{"uuid"}]`, in UUID order as the
/// table is.
pub fn cmd_net_port_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    if cmd.has("table") && cmd.has("uuid") {
        return Err(CmdError::msg(
            "Only one argument from --table and --uuid may be specified.",
        ));
    }
    let net = network(sh, cmd)?;
    // virsh adds no line of its own when the listing fails.
    let mut ports = sh.conn()?.list_network_ports(&net, 0)?;
    // virshNetworkPortSorter: memcmp of the UUID bytes.
    ports.sort_by_key(|p| *p.uuid.as_bytes());
    let uuids: Vec<String> = ports.iter().map(|p| p.uuid.to_string()).collect();
    if sh.json() {
        let entries: Vec<PortEntry> = uuids.into_iter().map(|uuid| PortEntry { uuid }).collect();
        return sh.print_json(&entries);
    }
    if cmd.has("uuid") {
        let mut out = String::new();
        for u in &uuids {
            out.push_str(u);
            out.push('\n');
        }
        sh.print(&out);
        return Ok(());
    }
    let mut t = Table::new(&["UUID"]);
    for u in uuids {
        t.add_row(vec![u]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

/// `net-port-create NETWORK FILE [--validate]`.
pub fn cmd_net_port_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let net = network(sh, cmd)?;
    let file = req_str(cmd, "file")?;
    let flags = if cmd.has("validate") {
        CREATE_VALIDATE
    } else {
        0
    };
    let xml = read_file(file)?;
    let port = sh
        .writable("virNetworkPortCreateXML")
        .and_then(|c| c.create_network_port(&net, &xml, flags))
        // virsh's own words: "network", not "network port".
        .map_err(|e| CmdError::with(format!("Failed to create network from {file}"), e))?;
    sh.print_extra(&format!("Network port {} created from {file}\n", port.uuid));
    Ok(())
}

/// virshCommandOptNetwork and virshCommandOptNetworkPort as net-port-dumpxml and
/// net-port-delete use them: on failure, virsh's line is printed here and None returned (the
/// command then ends successfully, as virsh's does).
fn network_and_port(sh: &mut Shell, cmd: &ParsedCmd) -> Result<Option<NetworkPort>, CmdError> {
    let net = match network(sh, cmd) {
        Ok(n) => n,
        Err(e) => {
            if let Some(first) = e.lines.first() {
                sh.error(first);
            }
            return Ok(None);
        }
    };
    let text = req_str(cmd, "port")?;
    match lookup_port(sh, &net, text) {
        Ok(p) => Ok(Some(p)),
        Err(_) => {
            sh.error(&format!("failed to get network port '{text}'"));
            Ok(None)
        }
    }
}

/// virNetworkPortLookupByUUIDString.
fn lookup_port(sh: &Shell, net: &Network, text: &str) -> Result<NetworkPort, CmdError> {
    let uuid = parse_uuid_c(text).ok_or_else(|| {
        Error::raw(
            ErrorKind::InvalidArg,
            "uuidstr in virNetworkPortLookupByUUIDString must be a valid UUID",
        )
    })?;
    Ok(sh.conn()?.lookup_network_port(net, &uuid)?)
}

/// `net-port-dumpxml NETWORK PORT [--xpath EXPR [--wrap]]`: the XML (never JSON).
pub fn cmd_net_port_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let Some(port) = network_and_port(sh, cmd)? else {
        return Ok(());
    };
    match sh.conn()?.network_port_xml(&port, 0) {
        Ok(xml) => crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml),
        Err(e) => {
            // virsh ends here silently with success; the reason is worth a line.
            sh.error(&e.message);
            Ok(())
        }
    }
}

/// `net-port-delete NETWORK PORT`.
pub fn cmd_net_port_delete(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let Some(port) = network_and_port(sh, cmd)? else {
        return Ok(());
    };
    let uuid = port.uuid;
    match sh
        .writable("virNetworkPortDelete")
        .and_then(|c| c.delete_network_port(&port, 0))
    {
        Ok(()) => sh.print_extra(&format!("Network port {uuid} deleted\n")),
        Err(e) => {
            // virsh prints its line and still succeeds; the reason follows it here.
            sh.error(&format!("Failed to delete network port {uuid}"));
            sh.error(&e.message);
        }
    }
    Ok(())
}
