//! Device commands: attach-disk, detach-disk, attach-interface, detach-interface,
//! attach-device, detach-device, detach-device-alias, update-device, change-media
//! (tools/virsh-domain.c: cmdAttachDisk, cmdAttachInterface, cmdDetachDisk, ...).
//!
//! The XML these commands build or cut out of the domain's XML is virsh's, byte for byte:
//! `--print-xml` shows it. A call without any of --live/--config/--current/--persistent is
//! virsh's flag-less API (virDomainAttachDevice, ...), which drivers apply to the running
//! domain; it is passed on as `LIVE`.

use crate::commands::lifecycle::read_file;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::flags::device_modify::{CONFIG, FORCE, LIVE};
use virtsh_api::{Domain, Error, ErrorKind};

/// virBufferEscapeString's escaping of a value inside `'...'`.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\'' => o.push_str("&apos;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// libxml2's escaping of an attribute value written with `"..."`.
fn esc_attr_dq(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c => o.push(c),
        }
    }
    o
}

/// The --live/--config/--current/--persistent options as virsh reads them for the device
/// commands: (flags, current, persistent).
fn impact(cmd: &ParsedCmd, with_persistent: bool) -> Result<(u32, bool, bool), CmdError> {
    if with_persistent {
        exclusive(cmd, "persistent", "current")?;
    }
    exclusive(cmd, "current", "live")?;
    exclusive(cmd, "current", "config")?;
    let persistent = with_persistent && cmd.has("persistent");
    let mut f = 0;
    if cmd.has("config") || persistent {
        f |= CONFIG;
    }
    if cmd.has("live") {
        f |= LIVE;
    }
    Ok((f, cmd.has("current"), persistent))
}

/// `--persistent` on a running domain also changes it live.
fn add_live_if_persistent(sh: &Shell, dom: &Domain, persistent: bool, f: &mut u32) {
    if persistent {
        if let Ok(conn) = sh.conn() {
            if conn.domain_is_active(dom).unwrap_or(false) {
                *f |= LIVE;
            }
        }
    }
}

enum Call {
    Attach,
    Detach,
}

/// virDomainAttachDevice(Flags) / virDomainDetachDevice(Flags): the flag-less API when no
/// impact option was given.
fn device_call(
    sh: &Shell,
    dom: &Domain,
    xml: &str,
    flags: u32,
    current: bool,
    call: Call,
) -> Result<(), Error> {
    let flagless = flags == 0 && !current;
    let (api, api_flags) = match call {
        Call::Attach => ("virDomainAttachDevice", "virDomainAttachDeviceFlags"),
        Call::Detach => ("virDomainDetachDevice", "virDomainDetachDeviceFlags"),
    };
    let name = if flagless { api } else { api_flags };
    let conn = sh.writable(name)?;
    let f = if flagless { LIVE } else { flags };
    let r = match call {
        Call::Attach => conn.attach_device(dom, xml, f),
        Call::Detach => conn.detach_device(dom, xml, f),
    };
    r.map_err(|e| {
        if e.kind == ErrorKind::NoSupport && flagless {
            Error::unsupported(api)
        } else {
            e
        }
    })
}

// ---------------------------------------------------------------------------------------------
// attach-device, detach-device, update-device, detach-device-alias

fn from_file(sh: &mut Shell, cmd: &ParsedCmd, call: Call) -> CmdResult {
    let (mut f, current, persistent) = impact(cmd, true)?;
    let dom = lookup::domain(sh, cmd)?;
    let file = req_str(cmd, "file")?;
    add_live_if_persistent(sh, &dom, persistent, &mut f);
    let xml = read_file(file)?;
    let (what, done) = match call {
        Call::Attach => ("attach", "Device attached successfully\n"),
        Call::Detach => ("detach", "Device detached successfully\n"),
    };
    device_call(sh, &dom, &xml, f, current, call)
        .map_err(|e| CmdError::with(format!("Failed to {what} device from {file}"), e))?;
    sh.print_extra(done);
    Ok(())
}

pub fn cmd_attach_device(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    from_file(sh, cmd, Call::Attach)
}

pub fn cmd_detach_device(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    from_file(sh, cmd, Call::Detach)
}

pub fn cmd_update_device(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (mut f, _current, persistent) = impact(cmd, true)?;
    let dom = lookup::domain(sh, cmd)?;
    let file = req_str(cmd, "file")?;
    add_live_if_persistent(sh, &dom, persistent, &mut f);
    let xml = read_file(file)?;
    if cmd.has("force") {
        f |= FORCE;
    }
    sh.writable("virDomainUpdateDeviceFlags")
        .and_then(|c| c.update_device(&dom, &xml, f))
        .map_err(|e| CmdError::with(format!("Failed to update device from {file}"), e))?;
    sh.print_extra("Device updated successfully\n");
    Ok(())
}

pub fn cmd_detach_device_alias(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (f, _, _) = impact(cmd, false)?;
    let dom = lookup::domain(sh, cmd)?;
    let alias = req_str(cmd, "alias")?;
    sh.writable("virDomainDetachDeviceAlias")
        .and_then(|c| c.detach_device_alias(&dom, alias, f))
        .map_err(|e| CmdError::with(format!("Failed to detach device with alias {alias}"), e))?;
    sh.print_extra("Device detach request sent successfully\n");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// attach-disk

/// strtoul-like parse of one field (virStrToLong_uip/ullp): the value and the rest.
fn strtoul(s: &str, base: u32, max: u64) -> Option<(u64, &str)> {
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
fn fields(s: &str, bases: &[(u32, u64)]) -> Option<Vec<u64>> {
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
fn disk_address(s: &str, multifunction: bool) -> Option<(&'static str, String)> {
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
fn valid_wwn(w: &str) -> bool {
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

// ---------------------------------------------------------------------------------------------
// attach-interface

/// virDomainNetType names.
const NET_TYPES: &[&str] = &[
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
fn parse_rate(s: &str) -> Result<[u64; 4], CmdError> {
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

// ---------------------------------------------------------------------------------------------
// Finding devices in the domain XML (virshFindDisk, virshDomainDetachInterface).

/// The `n`th (1-based) element selected by `path`, as xmlNodeDump writes it.
/// The element keeps the indentation it has in the domain XML (`<devices>` children sit at
/// depth 2 of libvirt's two-space layout), as libxml2 keeps the document's whitespace nodes.
fn node_text(xml: &str, path: &str) -> Result<String, CmdError> {
    let s = crate::commands::xpath::evaluate(xml, path, false)?.stdout;
    let s = s.strip_suffix('\n').unwrap_or(&s);
    Ok(s.replace('\n', "\n    "))
}

fn attr_of<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    // Attributes in xmlNodeDump's output: ` name="value"`.
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')?;
    Some(&tag[i..i + j])
}

/// The start tag of the first child element `name` of the dumped element `node`.
fn child_tag<'a>(node: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let mut from = node.find('>')? + 1;
    while let Some(i) = node[from..].find(&open) {
        let at = from + i;
        let after = node[at + open.len()..].chars().next();
        if matches!(after, Some(' ' | '/' | '>')) {
            let end = node[at..].find('>')? + at + 1;
            return Some(&node[at..end]);
        }
        from = at + open.len();
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#9;", "\t")
        .replace("&amp;", "&")
}

/// Remove the first `<name .../>` or `<name ...>...</name>` (outermost) from `node`,
/// leaving the text around it.
fn remove_element(node: &str, name: &str) -> String {
    let Some(tag) = child_tag(node, name) else {
        return node.to_string();
    };
    let start = node.find(tag).unwrap_or(0);
    let end = if tag.ends_with("/>") {
        start + tag.len()
    } else {
        let close = format!("</{name}>");
        match node.rfind(&close) {
            Some(i) if i > start => i + close.len(),
            _ => start + tag.len(),
        }
    };
    format!("{}{}", &node[..start], &node[end..])
}

/// virshFindDisk: the disk element whose target or source is `path`.
fn find_disk(xml: &str, path: &str, changeable: bool) -> Result<String, CmdError> {
    let all = crate::commands::xpath::evaluate(xml, "/domain/devices/disk", false)
        .map(|s| s.stdout)
        .unwrap_or_default();
    if all.trim().is_empty() {
        return Err(CmdError::msg("Failed to get disk information"));
    }
    for i in 1.. {
        let node = node_text(xml, &format!("/domain/devices/disk[{i}]"))?;
        if node.is_empty() {
            break;
        }
        let start = &node[..node.find('>').map_or(node.len(), |j| j + 1)];
        if changeable {
            if let Some(d) = attr_of(start, "device") {
                if d != "cdrom" && d != "floppy" {
                    continue;
                }
            }
        }
        let mut hit = child_tag(&node, "target")
            .and_then(|t| attr_of(t, "dev"))
            .is_some_and(|d| unescape(d) == path);
        if let Some(s) = child_tag(&node, "source") {
            for a in ["file", "dev", "dir", "name"] {
                hit |= attr_of(s, a).is_some_and(|v| unescape(v) == path);
            }
        }
        if hit {
            return Ok(remove_element(&node, "backingStore"));
        }
    }
    Err(CmdError::msg(format!(
        "No disk found whose source path or target is {path}"
    )))
}

pub fn cmd_detach_disk(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (mut f, current, persistent) = impact(cmd, true)?;
    let dom = lookup::domain(sh, cmd)?;
    let target = req_str(cmd, "target")?;
    let xml = sh.conn()?.domain_xml(
        &dom,
        if f == CONFIG {
            virtsh_api::flags::domain_xml::INACTIVE
        } else {
            0
        },
    )?;
    add_live_if_persistent(sh, &dom, persistent, &mut f);
    let disk = find_disk(&xml, target, false)?;
    if cmd.has("print-xml") {
        sh.print(&disk);
        return Ok(());
    }
    device_call(sh, &dom, &disk, f, current, Call::Detach)
        .map_err(|e| CmdError::with("Failed to detach disk", e))?;
    sh.print_extra("Disk detached successfully\n");
    Ok(())
}

/// virMacAddrCompare: the six octets, however written.
fn mac_octets(s: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    parts
        .iter()
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect()
}

/// virshDomainDetachInterface.
#[allow(clippy::too_many_arguments)]
fn detach_interface_in(
    sh: &mut Shell,
    dom: &Domain,
    doc: &str,
    flags: u32,
    current: bool,
    ty: &str,
    mac: Option<&str>,
    print: bool,
) -> Result<(), CmdError> {
    let path = format!("/domain/devices/interface[@type='{ty}']");
    let mut nodes = Vec::new();
    for i in 1.. {
        let n = node_text(doc, &format!("{path}[{i}]"))?;
        if n.is_empty() {
            break;
        }
        nodes.push(n);
    }
    if nodes.is_empty() {
        return Err(CmdError::msg(format!(
            "No interface found whose type is {ty}"
        )));
    }
    let chosen = match mac {
        Some(m) => {
            let want = mac_octets(m);
            let mut found: Option<&String> = None;
            for n in &nodes {
                let has = child_tag(n, "mac")
                    .and_then(|t| attr_of(t, "address"))
                    .is_some_and(|a| {
                        let a = unescape(a);
                        match (&want, mac_octets(&a)) {
                            (Some(w), Some(o)) => *w == o,
                            _ => a == m,
                        }
                    });
                if has {
                    if found.is_some() {
                        return Err(CmdError::msg(format!(
                            "Domain has multiple interfaces matching MAC address {m}. You must use detach-device and specify the device pci address to remove it."
                        )));
                    }
                    found = Some(n);
                }
            }
            found.ok_or_else(|| {
                CmdError::msg(format!("No interface with MAC address {m} was found"))
            })?
        }
        None => {
            if nodes.len() > 1 {
                return Err(CmdError::msg(format!(
                    "Domain has {} interfaces. Please specify which one to detach using --mac",
                    nodes.len()
                )));
            }
            &nodes[0]
        }
    };
    if print {
        sh.print(chosen);
        return Ok(());
    }
    let chosen = chosen.clone();
    device_call(sh, dom, &chosen, flags, current, Call::Detach)
        .map_err(|e| CmdError::lines(vec!["Failed to detach interface".into(), e.message]))
}

pub fn cmd_detach_interface(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "persistent", "current")?;
    exclusive(cmd, "current", "live")?;
    exclusive(cmd, "current", "config")?;
    let current = cmd.has("current");
    let persistent = cmd.has("persistent");
    let print = cmd.has("print-xml");
    let dom = lookup::domain(sh, cmd)?;
    let fail = |mut e: CmdError| {
        if !e.lines.iter().any(|l| l == "Failed to detach interface") {
            e.lines.push("Failed to detach interface".into());
        }
        e
    };
    let ty = req_str(cmd, "type").map_err(fail)?;
    let mac = opt_str(cmd, "mac").map_err(fail)?;
    let affect_config = cmd.has("config") || persistent;
    if affect_config {
        let doc = sh
            .conn()?
            .domain_xml(&dom, virtsh_api::flags::domain_xml::INACTIVE)
            .map_err(|e| fail(CmdError::from(e)))?;
        detach_interface_in(sh, &dom, &doc, CONFIG, current, ty, mac, print).map_err(fail)?;
    }
    let active = sh.conn()?.domain_is_active(&dom).unwrap_or(false);
    let affect_live = cmd.has("live") || (persistent && active);
    if affect_live || !affect_config {
        let flags = if affect_live { LIVE } else { 0 };
        let doc = sh.conn()?.domain_xml(&dom, 0).map_err(|e| fail(e.into()))?;
        let r = detach_interface_in(sh, &dom, &doc, flags, current, ty, mac, print);
        if print {
            return r;
        }
        r.map_err(fail)?;
    }
    if print {
        return Ok(());
    }
    sh.print_extra("Interface detached successfully\n");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// change-media

#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    Eject,
    Insert,
    Update,
}

/// virshUpdateDiskXML on the dumped disk element.
fn update_disk_xml(
    node: &str,
    new_source: Option<&str>,
    block: bool,
    target: &str,
    how: Media,
) -> Result<String, CmdError> {
    let start_end = node.find('>').map_or(node.len(), |j| j + 1);
    let start = &node[..start_end];
    let device = attr_of(start, "device");
    if !matches!(device, Some("cdrom" | "floppy")) {
        return Err(CmdError::msg(format!(
            "The disk device '{target}' is not removable"
        )));
    }
    let source_tag = child_tag(node, "source");
    let (new_source, block) = if how == Media::Eject {
        if source_tag.is_none() {
            return Err(CmdError::msg(format!(
                "The disk device '{target}' doesn't have media"
            )));
        }
        (None, false)
    } else {
        match new_source {
            Some(s) => (Some(s), block),
            None => return Err(CmdError::msg("New disk media source was not specified")),
        }
    };
    let mut out = node.to_string();
    let mut policy = None;
    if let Some(tag) = source_tag {
        let has_path = ["file", "dev", "dir", "pool", "name"]
            .iter()
            .any(|a| attr_of(tag, a).is_some());
        if has_path && how == Media::Insert {
            return Err(CmdError::msg(format!(
                "The disk device '{target}' already has media"
            )));
        }
        policy = attr_of(tag, "startupPolicy").map(str::to_string);
        out = remove_element(&out, "source");
    }
    // The disk's type attribute.
    let new_type = if block { "block" } else { "file" };
    let start_end = out.find('>').map_or(out.len(), |j| j + 1);
    let mut start = out[..start_end].to_string();
    if let Some(old) = attr_of(&start, "type") {
        let from = format!(" type=\"{old}\"");
        start = start.replacen(&from, &format!(" type=\"{new_type}\""), 1);
    } else {
        let at = start.len() - if start.ends_with("/>") { 2 } else { 1 };
        start.insert_str(at, &format!(" type=\"{new_type}\""));
    }
    out = format!("{start}{}", &out[start_end..]);
    if let Some(src) = new_source {
        let mut s = format!(
            "<source {}=\"{}\"",
            if block { "dev" } else { "file" },
            esc_attr_dq(src)
        );
        if let Some(p) = policy {
            s.push_str(&format!(" startupPolicy=\"{p}\""));
        }
        s.push_str("/>");
        if let Some(t) = child_tag(&out, "target") {
            let at = out.find(t).unwrap_or(out.len());
            // The whitespace before <target>, repeated after the new <source>.
            let ws_start = out[..at].rfind('\n').unwrap_or(at);
            let ws = out[ws_start..at].to_string();
            out.insert_str(at, &format!("{s}{ws}"));
        }
    }
    Ok(out)
}

pub fn cmd_change_media(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "eject", "insert")?;
    exclusive(cmd, "eject", "update")?;
    exclusive(cmd, "insert", "update")?;
    exclusive(cmd, "eject", "block")?;
    let source = opt_str(cmd, "source")?;
    let mut eject = cmd.has("eject");
    let insert = cmd.has("insert");
    let mut update = cmd.has("update");
    if update && source.is_none() {
        update = false;
        eject = true;
    }
    let (how, action, done) = if update || (!eject && !insert) {
        (Media::Update, "update", "Successfully updated media.")
    } else if insert {
        (Media::Insert, "insert", "Successfully inserted media.")
    } else {
        (Media::Eject, "eject", "Successfully ejected media.")
    };
    exclusive(cmd, "current", "live")?;
    exclusive(cmd, "current", "config")?;
    let mut f = 0;
    if cmd.has("config") {
        f |= CONFIG;
    }
    if cmd.has("live") {
        f |= LIVE;
    }
    if cmd.has("force") {
        f |= FORCE;
    }
    let dom = lookup::domain(sh, cmd)?;
    let path = req_str(cmd, "path")?;
    let xml = sh.conn()?.domain_xml(
        &dom,
        if f & CONFIG != 0 {
            virtsh_api::flags::domain_xml::INACTIVE
        } else {
            0
        },
    )?;
    let disk = find_disk(&xml, path, true)?;
    let new = update_disk_xml(&disk, source, cmd.has("block"), path, how)?;
    if cmd.has("print-xml") {
        sh.print(&new);
        return Ok(());
    }
    sh.writable("virDomainUpdateDeviceFlags")
        .and_then(|c| c.update_device(&dom, &new, f))
        .map_err(|e| CmdError::with(format!("Failed to complete action {action} on media"), e))?;
    sh.print(done);
    Ok(())
}
