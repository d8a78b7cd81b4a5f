//! attach-interface: the interface XML virsh builds from its options (cmdAttachInterface).

use super::disk::*;
use super::*;

/// virDomainNetType names.
pub(super) const NET_TYPES: &[&str] = &[
    "user",
    "ethernet",
    "vhostuser",
    "server",
    "client",
    "mcast",
    "network",
    "bridge",
    "internal",
    "direct",
    "hostdev",
    "udp",
    "vdpa",
    "null",
    "vds",
];

/// virshParseRateStr: average, peak, burst, floor.
pub(super) fn parse_rate(s: &str) -> Result<[u64; 4], CmdError> {
    let tok: Vec<&str> = s.split(',').collect();
    if tok.len() > 4 {
        return Err(CmdError::msg(format!(
            "Rate string '{s}' has too many fields"
        )));
    }
    let mut r = [0u64; 4];
    for (i, name) in ["average", "peak", "burst", "floor"].iter().enumerate() {
        if let Some(t) = tok.get(i).filter(|t| !t.is_empty()) {
            r[i] = match strtoul(t, 10, u64::MAX) {
                Some((v, "")) => v,
                _ => return Err(CmdError::msg(format!("field '{name}' is malformed"))),
            };
        }
    }
    Ok(r)
}

pub fn cmd_attach_interface(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (mut f, current, persistent) = impact(cmd, true)?;
    let ty = req_str(cmd, "type")?;
    let source = req_str(cmd, "source")?;
    let mut o = std::collections::HashMap::new();
    for name in [
        "target",
        "mac",
        "script",
        "model",
        "alias",
        "inbound",
        "outbound",
        "source-mode",
    ] {
        if let Some(v) = opt_str(cmd, name)? {
            o.insert(name, v);
        }
    }
    let get = |n: &str| o.get(n).copied();
    let unsupported =
        || CmdError::msg(format!("No support for {ty} in command 'attach-interface'"));
    if !NET_TYPES.contains(&ty) {
        return Err(unsupported());
    }
    let mode = match get("source-mode") {
        None => None,
        Some(m @ ("server" | "client")) => Some(m),
        Some(m) => return Err(CmdError::msg(format!("Invalid source mode: {m}"))),
    };
    let inbound = match get("inbound") {
        None => None,
        Some(s) => {
            let r = parse_rate(s)?;
            if r[0] == 0 && r[3] == 0 {
                return Err(CmdError::msg(
                    "either inbound average or floor is mandatory",
                ));
            }
            Some(r)
        }
    };
    let outbound = match get("outbound") {
        None => None,
        Some(s) => {
            let r = parse_rate(s)?;
            if r[0] == 0 {
                return Err(CmdError::msg("outbound average is mandatory"));
            }
            if r[3] != 0 {
                return Err(CmdError::msg("outbound floor is unsupported yet"));
            }
            Some(r)
        }
    };
    let mut x = format!("<interface type='{ty}'");
    x.push_str(if cmd.has("managed") {
        " managed='yes'>\n"
    } else {
        ">\n"
    });
    match ty {
        "network" | "bridge" => x.push_str(&format!("  <source {ty}='{source}'/>\n")),
        "direct" => x.push_str(&format!("  <source dev='{source}'/>\n")),
        "hostdev" => {
            let Some((_, line)) =
                disk_address(&format!("pci:{source}"), false).filter(|(t, _)| *t == "pci")
            else {
                return Err(CmdError::msg(format!(
                    "cannot parse pci address '{source}' for network interface"
                )));
            };
            x.push_str(&format!("  <source>\n    {line}  </source>\n"));
        }
        "vhostuser" => {
            let Some(m) = mode else {
                return Err(CmdError::msg("source-mode is mandatory"));
            };
            x.push_str(&format!(
                "  <source type='unix' path='{source}' mode='{m}'/>\n"
            ));
        }
        _ => return Err(unsupported()),
    }
    for (elem, opt, attr) in [
        ("target", "target", "dev"),
        ("mac", "mac", "address"),
        ("script", "script", "path"),
        ("model", "model", "type"),
        ("alias", "alias", "name"),
    ] {
        if let Some(v) = get(opt) {
            x.push_str(&format!("  <{elem} {attr}='{v}'/>\n"));
        }
    }
    if inbound.is_some() || outbound.is_some() {
        x.push_str("  <bandwidth>\n");
        if let Some(r) = inbound.filter(|r| r[0] > 0 || r[3] > 0) {
            x.push_str("    <inbound");
            for (i, n) in ["average", "peak", "burst", "floor"].iter().enumerate() {
                if r[i] > 0 {
                    x.push_str(&format!(" {n}='{}'", r[i]));
                }
            }
            x.push_str("/>\n");
        }
        if let Some(r) = outbound.filter(|r| r[0] > 0) {
            x.push_str(&format!("    <outbound average='{}'", r[0]));
            for (i, n) in ["peak", "burst"].iter().enumerate() {
                if r[i + 1] > 0 {
                    x.push_str(&format!(" {n}='{}'", r[i + 1]));
                }
            }
            x.push_str("/>\n");
        }
        x.push_str("  </bandwidth>\n");
    }
    x.push_str("</interface>\n");
    if cmd.has("print-xml") {
        sh.print(&x);
        return Ok(());
    }
    let dom = lookup::domain(sh, cmd)?;
    add_live_if_persistent(sh, &dom, persistent, &mut f);
    device_call(sh, &dom, &x, f, current, Call::Attach)
        .map_err(|e| CmdError::with("Failed to attach interface", e))?;
    sh.print_extra("Interface attached successfully\n");
    Ok(())
}
