//! Finding a device in the domain XML as virsh does (virshFindDisk, virshDomainDetachInterface), and the detach-disk and detach-interface commands built on it.

use super::*;

/// The `n`th (1-based) element selected by `path`, as xmlNodeDump writes it.
/// The element keeps the indentation it has in the domain XML (`<devices>` children sit at
/// depth 2 of libvirt's two-space layout), as libxml2 keeps the document's whitespace nodes.
pub(super) fn node_text(xml: &str, path: &str) -> Result<String, CmdError> {
    let s = crate::commands::xpath::evaluate(xml, path, false)?.stdout;
    let s = s.strip_suffix('\n').unwrap_or(&s);
    Ok(s.replace('\n', "\n    "))
}

pub(super) fn attr_of<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    // Attributes in xmlNodeDump's output: ` name="value"`.
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')?;
    Some(&tag[i..i + j])
}

/// The start tag of the first child element `name` of the dumped element `node`.
pub(super) fn child_tag<'a>(node: &'a str, name: &str) -> Option<&'a str> {
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

pub(super) fn unescape(s: &str) -> String {
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
pub(super) fn remove_element(node: &str, name: &str) -> String {
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
pub(super) fn find_disk(xml: &str, path: &str, changeable: bool) -> Result<String, CmdError> {
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
pub(super) fn mac_octets(s: &str) -> Option<Vec<u8>> {
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
pub(super) fn detach_interface_in(
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
