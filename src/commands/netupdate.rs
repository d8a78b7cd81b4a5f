//! Changing and inspecting a network in place: net-update, net-dhcp-leases
//! (tools/virsh-network.c).

use crate::commands::host::opt_int;
use crate::commands::lifecycle::read_file;
use crate::commands::network::network;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::flags::{net_update as F, net_update_command as C};

/// virshNetworkUpdateCommand, by value.
const COMMANDS: [&str; 5] = ["none", "modify", "delete", "add-last", "add-first"];
/// virshNetworkSection, by value.
const SECTIONS: [&str; 13] = [
    "none",
    "bridge",
    "domain",
    "ip",
    "ip-dhcp-host",
    "ip-dhcp-range",
    "forward",
    "forward-interface",
    "forward-pf",
    "portgroup",
    "dns-host",
    "dns-txt",
    "dns-srv",
];

/// `net-update NETWORK COMMAND SECTION XML [--parent-index N] [--config] [--live]
/// [--current]`. XML is the element itself when it starts with '<', a file name otherwise.
pub fn cmd_net_update(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "current", "live")?;
    exclusive(cmd, "current", "config")?;
    let net = network(sh, cmd)?;
    let command_str = req_str(cmd, "command")?;
    let command = if command_str == "add" {
        C::ADD_LAST
    } else {
        match COMMANDS.iter().position(|c| *c == command_str) {
            Some(i) if i > 0 => i as u32,
            _ => {
                return Err(CmdError::msg(format!(
                    "unrecognized command name '{command_str}'"
                )))
            }
        }
    };
    let section_str = req_str(cmd, "section")?;
    let section = match SECTIONS.iter().position(|s| *s == section_str) {
        Some(i) if i > 0 => i as u32,
        _ => {
            return Err(CmdError::msg(format!(
                "unrecognized section name '{section_str}'"
            )))
        }
    };
    let parent_index = opt_int(cmd, "parent-index")?.unwrap_or(-1);
    let xml_arg = req_str(cmd, "xml")?;
    let xml = if xml_arg.starts_with('<') {
        xml_arg.to_string()
    } else {
        read_file(xml_arg)?
    };
    let (config, live) = (cmd.has("config"), cmd.has("live"));
    let mut flags = F::AFFECT_CURRENT;
    if config {
        flags |= F::AFFECT_CONFIG;
    }
    if live {
        flags |= F::AFFECT_LIVE;
    }
    sh.writable("virNetworkUpdate")
        .and_then(|c| c.update_network(&net, command, section, parent_index, &xml, flags))
        .map_err(|e| CmdError::with(format!("Failed to update network {}", net.name), e))?;
    let what = if config && live {
        "persistent config and live state"
    } else if config {
        "persistent config"
    } else if live || sh.conn()?.network_is_active(&net).unwrap_or(true) {
        "live state"
    } else {
        "persistent config"
    };
    sh.print_extra(&format!("Updated network {} {what}", net.name));
    Ok(())
}

#[derive(Serialize)]
struct LeaseJson {
    expiry_time: i64,
    mac: Option<String>,
    protocol: Option<&'static str>,
    ip_address: String,
    prefix: u32,
    hostname: Option<String>,
    client_id: Option<String>,
}

/// `net-dhcp-leases NETWORK [--mac MAC]`. JSON: `[{"expiry_time" (epoch seconds), "mac",
/// "protocol", "ip_address", "prefix", "hostname", "client_id"}]`, by MAC address.
pub fn cmd_net_dhcp_leases(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mac = opt_str(cmd, "mac")?;
    let net = network(sh, cmd)?;
    let name = req_str(cmd, "network")?;
    let mut leases = sh
        .conn()?
        .network_dhcp_leases(&net, mac, 0)
        .map_err(|e| CmdError::with(format!("Failed to get leases info for {name}"), e))?;
    leases.sort_by_key(|l| l.mac.as_deref().unwrap_or("").to_lowercase());
    let protocol = |kind: i32| match kind {
        0 => Some("ipv4"),
        1 => Some("ipv6"),
        _ => None,
    };
    if sh.json() {
        let out: Vec<LeaseJson> = leases
            .iter()
            .map(|l| LeaseJson {
                expiry_time: l.expirytime,
                mac: l.mac.clone(),
                protocol: protocol(l.kind),
                ip_address: l.ipaddr.clone(),
                prefix: l.prefix,
                hostname: l.hostname.clone(),
                client_id: l.clientid.clone(),
            })
            .collect();
        return sh.print_json(&out);
    }
    let mut t = Table::new(&[
        "Expiry Time",
        "MAC address",
        "Protocol",
        "IP address",
        "Hostname",
        "Client ID or DUID",
    ]);
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    for l in &leases {
        let when = chrono::DateTime::from_timestamp(l.expirytime, 0)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        t.add_row(vec![
            when,
            dash(&l.mac),
            protocol(l.kind).unwrap_or("-").to_string(),
            format!("{}/{}", l.ipaddr, l.prefix),
            dash(&l.hostname),
            dash(&l.clientid),
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}
