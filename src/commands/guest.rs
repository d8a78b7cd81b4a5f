//! What a running guest tells: domifaddr, domhostname, domtime, domif-getlink, domcontrol,
//! domblkerror (tools/virsh-domain-monitor.c, tools/virsh-domain.c).

use crate::commands::options::{exclusive, opt_str, req_str};
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::flags::ifaddr_source;
use virtsh_api::Domain;

/// virshCommandOptDomain: the `--domain` option, refusing an empty value first.
pub fn domain_opt(sh: &Shell, cmd: &ParsedCmd) -> Result<(Domain, String), CmdError> {
    let text = req_str(cmd, "domain")?;
    let dom = lookup::domain_by(sh, text, lookup::BY_ANY)?;
    Ok((dom, text.to_string()))
}

/// vshCommandOptLongLong
pub(crate) fn opt_ll(cmd: &ParsedCmd, name: &str) -> Result<Option<i64>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    let t = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let ok = !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit());
    let t = t.strip_prefix('+').unwrap_or(t);
    ok.then(|| t.parse::<i64>().ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| {
            CmdError::msg(format!(
                "Numeric value '{text}' for <{name}> option is malformed or out of range"
            ))
        })
}

#[derive(Serialize)]
struct AddrJson {
    name: String,
    mac: Option<String>,
    /// "ipv4" or "ipv6".
    protocol: &'static str,
    address: String,
    prefix: u32,
}

/// `domifaddr DOMAIN [--interface NAME] [--full] [--source lease|agent|arp]`. JSON:
/// `[{"name", "mac", "protocol", "address", "prefix"}]`, one per address.
pub fn cmd_domifaddr(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let iface = opt_str(cmd, "interface")?;
    let source = match opt_str(cmd, "source")? {
        None | Some("lease") => ifaddr_source::LEASE,
        Some("agent") => ifaddr_source::AGENT,
        Some("arp") => ifaddr_source::ARP,
        Some(s) => return Err(CmdError::msg(format!("Unknown data source '{s}'"))),
    };
    let (dom, _) = domain_opt(sh, cmd)?;
    let ifaces = sh
        .conn()?
        .domain_interface_addresses(&dom, source, 0)
        .map_err(|e| CmdError::with("Failed to query for interfaces addresses", e))?;
    let full = cmd.has("full");
    let proto = |k: i32| if k == 1 { "ipv6" } else { "ipv4" };
    let shown = ifaces.iter().filter(|i| iface.is_none_or(|n| n == i.name));
    if sh.json() {
        let mut out = Vec::new();
        for i in shown {
            for a in &i.addrs {
                out.push(AddrJson {
                    name: i.name.clone(),
                    mac: i.hwaddr.clone(),
                    protocol: proto(a.kind),
                    address: a.addr.clone(),
                    prefix: a.prefix,
                });
            }
        }
        return sh.print_json(&out);
    }
    sh.print_extra(&format!(
        " {:<10} {:<20} {:<8}     {}\n{}{}\n",
        "Name",
        "MAC address",
        "Protocol",
        "Address",
        "-".repeat(49),
        "-".repeat(30)
    ));
    let mut o = String::new();
    for i in shown {
        if i.addrs.is_empty() {
            o.push_str(&format!(
                " {:<10} {:<17}    {:<12} {}\n",
                i.name,
                i.hwaddr.as_deref().unwrap_or("N/A"),
                "N/A",
                "N/A"
            ));
            continue;
        }
        for (j, a) in i.addrs.iter().enumerate() {
            let addr = format!("{:<12} {}/{}", proto(a.kind), a.addr, a.prefix);
            if full || j == 0 {
                o.push_str(&format!(
                    " {:<10} {:<17}    {addr}\n",
                    i.name,
                    i.hwaddr.as_deref().unwrap_or("")
                ));
            } else {
                o.push_str(&format!(" {:<10} {:<17}    {addr}\n", "-", "-"));
            }
        }
    }
    sh.print(&o);
    Ok(())
}

/// `domhostname DOMAIN [--source lease|agent]`. JSON: the name as a string.
pub fn cmd_domhostname(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    // VIR_DOMAIN_GET_HOSTNAME_LEASE / _AGENT
    let flags = match opt_str(cmd, "source")? {
        None => 0,
        Some("lease") => 1 << 0,
        Some("agent") => 1 << 1,
        Some(s) => return Err(CmdError::msg(format!("Unknown data source '{s}'"))),
    };
    let name = sh
        .conn()?
        .domain_hostname(&dom, flags)
        .map_err(|e| CmdError::with("failed to get hostname", e))?;
    if sh.json() {
        return sh.print_json(&name);
    }
    sh.print(&format!("{name}\n"));
    Ok(())
}

#[derive(Serialize)]
struct TimeJson {
    seconds: i64,
    nseconds: u32,
}

/// `domtime DOMAIN [--now | --sync | --time N] [--pretty]`: show the guest's clock, or set
/// it. JSON (when showing): `{"seconds", "nseconds"}`.
pub fn cmd_domtime(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "time", "now")?;
    exclusive(cmd, "time", "sync")?;
    exclusive(cmd, "now", "sync")?;
    let (dom, _) = domain_opt(sh, cmd)?;
    let time = opt_ll(cmd, "time")?;
    let (now, sync) = (cmd.has("now"), cmd.has("sync"));
    if time.is_some() || now || sync {
        let mut secs = time.unwrap_or(0);
        if now {
            secs = chrono::Utc::now().timestamp();
        }
        let flags = u32::from(sync); // VIR_DOMAIN_TIME_SYNC
        sh.writable("virDomainSetTime")
            .and_then(|c| c.set_domain_time(&dom, secs, 0, flags))?;
        return Ok(());
    }
    let (secs, nsecs) = sh.conn()?.domain_time(&dom, 0)?;
    if sh.json() {
        return sh.print_json(&TimeJson {
            seconds: secs,
            nseconds: nsecs,
        });
    }
    if cmd.has("pretty") {
        let when = chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        sh.print(&format!("Time: {when}"));
    } else {
        sh.print(&format!("Time: {secs}"));
    }
    Ok(())
}

/// The lower-case "aa:bb:cc:dd:ee:ff" of a MAC address virMacAddrParse accepts.
fn normalize_mac(s: &str) -> Option<String> {
    if !crate::commands::interface::is_mac(s) {
        return None;
    }
    let parts: Vec<u8> = s
        .trim_end()
        .split(':')
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(
        parts
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// `domif-getlink DOMAIN INTERFACE [--config]`: "INTERFACE up|down". JSON: `{"interface",
/// "state"}`.
pub fn cmd_domif_getlink(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let iface = req_str(cmd, "interface")?.to_string();
    let (dom, _) = domain_opt(sh, cmd)?;
    let flags = if cmd.has("config") {
        virtsh_api::flags::domain_xml::INACTIVE
    } else {
        0
    };
    let xml = sh.conn()?.domain_xml(&dom, flags)?;
    let root = virtsh_xml::dom::parse(&xml)
        .map_err(|_| CmdError::msg("Failed to extract interface information"))?;
    let mac = normalize_mac(&iface).unwrap_or_default();
    let matches: Vec<_> = root
        .child("devices")
        .into_iter()
        .flat_map(|d| d.children_named("interface"))
        .filter(|i| {
            i.child("mac").and_then(|m| m.attr("address")) == Some(mac.as_str())
                || i.child("target").and_then(|t| t.attr("dev")) == Some(iface.as_str())
        })
        .collect();
    let found = match matches.as_slice() {
        [] if !mac.is_empty() => {
            return Err(CmdError::msg(format!("Interface (mac: {mac}) not found.")))
        }
        [] => {
            return Err(CmdError::msg(format!(
                "Interface (dev: {iface}) not found."
            )))
        }
        [one] => *one,
        _ => return Err(CmdError::msg("multiple matching interfaces found")),
    };
    let state = found
        .child("link")
        .and_then(|l| l.attr("state"))
        .unwrap_or("up")
        .to_string();
    if sh.json() {
        #[derive(Serialize)]
        struct Link {
            interface: String,
            state: String,
        }
        return sh.print_json(&Link {
            interface: iface,
            state,
        });
    }
    sh.print(&format!("{iface} {state}"));
    Ok(())
}

/// virshDomainControlState / virshDomainControlErrorReason
fn control_state(state: i32) -> &'static str {
    ["ok", "background job", "occupied", "error"]
        .get(state as usize)
        .copied()
        .unwrap_or("unknown")
}

fn control_reason(reason: i32) -> &'static str {
    ["", "unknown", "monitor failure", "internal (locking) error"]
        .get(reason as usize)
        .copied()
        .unwrap_or("unknown")
}

#[derive(Serialize)]
struct ControlJson {
    state: &'static str,
    /// Seconds in the state (for a job or an occupied monitor).
    time: Option<f64>,
    reason: Option<&'static str>,
}

/// `domcontrol DOMAIN`. JSON: `{"state", "time", "reason"}`.
pub fn cmd_domcontrol(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let info = sh.conn()?.domain_control_info(&dom, 0)?;
    let state = control_state(info.state);
    let busy = info.state != 0 && info.state != 3;
    let secs = info.state_time as f64 / 1000.0;
    if sh.json() {
        return sh.print_json(&ControlJson {
            state,
            time: busy.then_some(secs),
            reason: (info.state == 3 && info.details > 0).then(|| control_reason(info.details)),
        });
    }
    let line = if busy {
        format!("{state} ({secs:.3}s)\n")
    } else if info.state == 3 && info.details > 0 {
        format!("{state}: {}\n", control_reason(info.details))
    } else {
        format!("{state}\n")
    };
    sh.print(&line);
    Ok(())
}

/// `domblkerror DOMAIN`. JSON: `[{"disk", "error"}]`.
pub fn cmd_domblkerror(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let errors = sh.conn()?.domain_disk_errors(&dom, 0)?;
    let name = |e: i32| {
        ["no error", "unspecified error", "no space"]
            .get(e as usize)
            .copied()
            .unwrap_or("unknown error")
    };
    if sh.json() {
        #[derive(Serialize)]
        struct E {
            disk: String,
            error: &'static str,
        }
        let out: Vec<E> = errors
            .iter()
            .map(|e| E {
                disk: e.disk.clone(),
                error: name(e.error),
            })
            .collect();
        return sh.print_json(&out);
    }
    if errors.is_empty() {
        sh.print("No errors found\n");
        return Ok(());
    }
    let mut o = String::new();
    for e in &errors {
        o.push_str(&format!("{}: {}\n", e.disk, name(e.error)));
    }
    sh.print(&o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_normalized() {
        assert_eq!(
            normalize_mac("AA:b:cc:dd:ee:ff").as_deref(),
            Some("aa:0b:cc:dd:ee:ff")
        );
        assert_eq!(normalize_mac("testnet0"), None);
    }
}
