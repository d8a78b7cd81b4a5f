//! attach-disk: the disk XML virsh builds from its options (cmdAttachDisk).

use super::*;

/// strtoul-like parse of one field (virStrToLong_uip/ullp): the value and the rest.
pub(super) fn strtoul(s: &str, base: u32, max: u64) -> Option<(u64, &str)> {
    let t = s.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.starts_with('-') {
        return None;
    }
    let t = if base == 16 {
        t.strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_hexdigit()))
            .unwrap_or(t)
    } else {
        t
    };
    let end = t
        .char_indices()
        .find(|(_, c)| !c.is_digit(base))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    let v = u64::from_str_radix(&t[..end], base).ok()?;
    (v <= max).then_some((v, &t[end..]))
}

/// Parse `n` fields of `base` separated by any one character each.
pub(super) fn fields(s: &str, bases: &[(u32, u64)]) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    let mut rest = s;
    for (i, (base, max)) in bases.iter().enumerate() {
        if i > 0 {
            let mut cs = rest.chars();
            cs.next()?;
            rest = cs.as_str();
        }
        let (v, r) = strtoul(rest, *base, *max)?;
        out.push(v);
        rest = r;
    }
    Some(out)
}

/// virshAddressParse + virshAddressFormat: the `<address>` line, and its type.
pub(super) fn disk_address(s: &str, multifunction: bool) -> Option<(&'static str, String)> {
    let (ty, a) = s.split_once(':')?;
    let u = u64::from(u32::MAX);
    Some(match ty {
        "pci" => {
            let v = fields(a, &[(16, u), (16, u), (16, u), (16, u)])?;
            let mf = if multifunction {
                " multifunction='on'"
            } else {
                ""
            };
            (
                "pci",
                format!(
                    "<address type='pci' domain='0x{:04x}' bus='0x{:02x}' slot='0x{:02x}' function='0x{:x}'{mf}/>\n",
                    v[0], v[1], v[2], v[3]
                ),
            )
        }
        "sata" | "ide" | "scsi" => {
            let v = fields(a, &[(10, u), (10, u), (10, u64::MAX)])?;
            (
                match ty {
                    "sata" => "sata",
                    "ide" => "ide",
                    _ => "scsi",
                },
                format!(
                    "<address type='drive' controller='{}' bus='{}' unit='{}'/>\n",
                    v[0], v[1], v[2]
                ),
            )
        }
        "ccw" => {
            let v = fields(a, &[(16, u), (16, u), (16, u)])?;
            (
                "ccw",
                format!(
                    "<address type='ccw' cssid='0x{:02x}' ssid='0x{:01x}' devno='0x{:04x}'/>\n",
                    v[0], v[1], v[2]
                ),
            )
        }
        "usb" => {
            let v = fields(a, &[(10, u), (10, u)])?;
            (
                "usb",
                format!("<address type='usb' bus='{}' port='{}'/>\n", v[0], v[1]),
            )
        }
        _ => return None,
    })
}

/// virValidateWWN
pub(super) fn valid_wwn(w: &str) -> bool {
    let h = w
        .strip_prefix("0x")
        .or_else(|| w.strip_prefix("0X"))
        .unwrap_or(w);
    h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn cmd_attach_disk(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (mut f, current, persistent) = impact(cmd, true)?;
    for (a, b) in [
        ("source-host-name", "source-protocol"),
        ("source-host-transport", "source-protocol"),
        ("source-host-socket", "source-protocol"),
        ("source-host-socket", "source-host-transport"),
    ] {
        if cmd.has(a) && !cmd.has(b) {
            return Err(CmdError::msg(format!(
                "Option --{b} is required by option --{a}"
            )));
        }
    }
    exclusive(cmd, "source-host-name", "source-host-socket")?;
    let source = cmd.get("source");
    let target = req_str(cmd, "target")?;
    let mut o = std::collections::HashMap::new();
    for name in [
        "driver",
        "subdriver",
        "type",
        "mode",
        "iothread",
        "cache",
        "io",
        "serial",
        "wwn",
        "address",
        "targetbus",
        "alias",
        "sourcetype",
        "source-protocol",
        "source-host-name",
        "source-host-transport",
        "source-host-socket",
    ] {
        if let Some(v) = opt_str(cmd, name)? {
            o.insert(name, v);
        }
    }
    let get = |n: &str| o.get(n).copied();
    let driver = get("driver");
    let protocol = get("source-protocol");
    let mut stype = match get("sourcetype") {
        None | Some("") => "",
        Some(t @ ("file" | "block" | "network")) => t,
        Some(t) => return Err(CmdError::msg(format!("Unknown source type: '{t}'"))),
    };
    if stype.is_empty() {
        stype = if protocol.is_some() {
            "network"
        } else if !matches!(driver, Some("file" | "tap"))
            && source.is_some_and(|s| {
                use std::os::unix::fs::FileTypeExt;
                std::fs::metadata(s).is_ok_and(|m| m.file_type().is_block_device())
            })
        {
            "block"
        } else {
            "file"
        };
    }
    if (stype == "network") != protocol.is_some() {
        return Err(CmdError::msg(
            "--source-protocol option requires --sourcetype network",
        ));
    }
    if let Some(m) = get("mode") {
        if m != "readonly" && m != "shareable" {
            return Err(CmdError::msg(format!(
                "No support for {m} in command 'attach-disk'"
            )));
        }
    }
    if let Some(w) = get("wwn") {
        if !valid_wwn(w) {
            return Err(CmdError::msg(format!("internal error: Malformed wwn: {w}")));
        }
    }

    let mut x = format!("<disk type='{stype}'");
    if let Some(d) = get("type") {
        x.push_str(&format!(" device='{}'", esc(d)));
    }
    if cmd.has("rawio") {
        x.push_str(" rawio='yes'");
    }
    x.push_str(">\n");
    let mut drv = String::new();
    for (attr, opt) in [
        ("name", "driver"),
        ("type", "subdriver"),
        ("iothread", "iothread"),
        ("cache", "cache"),
        ("io", "io"),
    ] {
        if let Some(v) = get(opt) {
            drv.push_str(&format!(" {attr}='{}'", esc(v)));
        }
    }
    if !drv.is_empty() {
        x.push_str(&format!("  <driver{drv}/>\n"));
    }
    let mut src = String::new();
    let mut host = String::new();
    match stype {
        "file" => {
            if let Some(s) = source {
                src = format!(" file='{}'", esc(s));
            }
        }
        "block" => {
            if let Some(s) = source {
                src = format!(" dev='{}'", esc(s));
            }
        }
        _ => {
            if let Some(p) = protocol {
                src.push_str(&format!(" protocol='{}'", esc(p)));
            }
            if let Some(s) = source {
                src.push_str(&format!(" name='{}'", esc(s)));
            }
            if let Some(t) = get("source-host-transport") {
                host.push_str(&format!(" transport='{}'", esc(t)));
            }
            if let Some(s) = get("source-host-socket") {
                host.push_str(&format!(" socket='{}'", esc(s)));
            }
            if let Some(h) = get("source-host-name") {
                let (name, port) = match h.split_once(':') {
                    Some((n, p)) => (n, Some(p)),
                    None => (h, None),
                };
                host.push_str(&format!(" name='{}'", esc(name)));
                if let Some(p) = port {
                    host.push_str(&format!(" port='{}'", esc(p)));
                }
            }
        }
    }
    if !host.is_empty() {
        x.push_str(&format!(
            "  <source{src}>\n    <host{host}/>\n  </source>\n"
        ));
    } else if !src.is_empty() {
        x.push_str(&format!("  <source{src}/>\n"));
    }
    x.push_str(&format!("  <target dev='{target}'"));
    if let Some(b) = get("targetbus") {
        x.push_str(&format!(" bus='{b}'"));
    }
    x.push_str("/>\n");
    if let Some(m) = get("mode") {
        x.push_str(&format!("  <{m}/>\n"));
    }
    if let Some(s) = get("serial") {
        x.push_str(&format!("  <serial>{s}</serial>\n"));
    }
    if let Some(a) = get("alias") {
        x.push_str(&format!("  <alias name='{a}'/>\n"));
    }
    if let Some(w) = get("wwn") {
        x.push_str(&format!("  <wwn>{w}</wwn>\n"));
    }
    if let Some(a) = get("address") {
        let Some((ty, line)) = disk_address(a, cmd.has("multifunction")) else {
            return Err(CmdError::msg("Invalid address."));
        };
        if target.starts_with("vd") {
            if ty != "pci" && ty != "ccw" {
                return Err(CmdError::msg(
                    "expecting a pci:0000.00.00.00 or ccw:00.0.0000 address.",
                ));
            }
        } else if target.starts_with("sd") {
            if !matches!(ty, "scsi" | "usb" | "sata") {
                return Err(CmdError::msg(
                    "expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.",
                ));
            }
        } else if target.starts_with("hd") && ty != "ide" {
            return Err(CmdError::msg("expecting an ide:00.00.00 address."));
        }
        x.push_str("  ");
        x.push_str(&line);
    }
    x.push_str("</disk>\n");

    if cmd.has("print-xml") {
        sh.print(&x);
        return Ok(());
    }
    let dom = lookup::domain(sh, cmd)?;
    add_live_if_persistent(sh, &dom, persistent, &mut f);
    device_call(sh, &dom, &x, f, current, Call::Attach)
        .map_err(|e| CmdError::with("Failed to attach disk", e))?;
    sh.print_extra("Disk attached successfully\n");
    Ok(())
}
