//! Domain snapshots: snapshot-create, snapshot-create-as, snapshot-list, snapshot-dumpxml,
//! snapshot-current, snapshot-parent, snapshot-delete (tools/virsh-snapshot.c);
//! snapshot-info and snapshot-revert are in `snapshot_ops.rs`.

use crate::commands::lifecycle::read_file;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::commands::pool::string_to_array;
use crate::lookup;
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::flags::{snapshot_create as C, snapshot_list as L};
use virtsh_api::{Domain, DomainSnapshot, Error, ErrorKind};
use virtsh_xml::dom::Element;

/// VIR_DOMAIN_XML_SECURE
const XML_SECURE: u32 = 1 << 0;
/// virDomainSnapshotDeleteFlags
const DELETE_CHILDREN: u32 = 1 << 0;
const DELETE_METADATA_ONLY: u32 = 1 << 1;
const DELETE_CHILDREN_ONLY: u32 = 1 << 2;
const FILTERS_STATUS: u32 = L::INACTIVE | L::ACTIVE | L::DISK_ONLY;
const FILTERS_LOCATION: u32 = L::INTERNAL | L::EXTERNAL;

/// virshCommandOptDomain, refusing an empty name first as virsh does.
pub(crate) fn domain(sh: &Shell, cmd: &ParsedCmd) -> Result<(Domain, String), CmdError> {
    let text = req_str(cmd, "domain")?;
    let dom = lookup::domain_by(sh, text, lookup::BY_ANY)?;
    Ok((dom, text.to_string()))
}

/// The current snapshot, with libvirt's error when there is none.
fn current(sh: &Shell, dom: &Domain) -> Result<DomainSnapshot, Error> {
    sh.conn()
        .map_err(|e| Error::internal(e.lines.join(" ")))?
        .current_snapshot(dom)?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NoDomainSnapshot,
                "the domain does not have a current snapshot",
            )
        })
}

/// virshLookupSnapshot: the snapshot named by option `arg`, or the current one with
/// `--current`.
pub(crate) fn lookup_snapshot(
    sh: &Shell,
    cmd: &ParsedCmd,
    arg: &str,
    exclusive: bool,
    dom: &Domain,
) -> Result<DomainSnapshot, CmdError> {
    let want_current = cmd.has("current");
    let name = opt_str(cmd, arg)?;
    if exclusive && want_current && name.is_some() {
        return Err(CmdError::msg(format!(
            "--{arg} and --current are mutually exclusive"
        )));
    }
    match name {
        Some(n) => Ok(sh.conn()?.lookup_snapshot(dom, n)?),
        None if want_current => Ok(current(sh, dom)?),
        None => Err(CmdError::msg(format!("--{arg} or --current is required"))),
    }
}

/// virshGetSnapshotParent: the parent's name, None for a root.
fn snapshot_parent(sh: &Shell, snap: &DomainSnapshot) -> Result<Option<String>, CmdError> {
    let fail = |e: Error| {
        CmdError::lines(vec![
            e.message,
            "unable to determine if snapshot has parent".to_string(),
        ])
    };
    match sh.conn()?.snapshot_parent(snap) {
        Ok(p) => Ok(p.map(|p| p.name)),
        Err(e) if e.kind == ErrorKind::NoDomainSnapshot => Ok(None),
        Err(e) if e.kind == ErrorKind::NoSupport => {
            // Old servers: read the parent from the snapshot's XML.
            let xml = sh.conn()?.snapshot_xml(snap, 0).map_err(fail)?;
            let root = parse_snapshot_xml(&xml).map_err(fail)?;
            Ok(text_at(&root, "parent/name"))
        }
        Err(e) => Err(fail(e)),
    }
}

pub(crate) fn parse_snapshot_xml(xml: &str) -> Result<Element, Error> {
    virtsh_xml::dom::parse(xml).map_err(|e| Error::raw(ErrorKind::XmlError, e.message))
}

/// virXPathString("string(/domainsnapshot/PATH)"): None when absent or empty.
pub(crate) fn text_at(root: &Element, path: &str) -> Option<String> {
    if root.name != "domainsnapshot" {
        return None;
    }
    root.at_path(path)
        .map(|e| e.text.clone())
        .filter(|t| !t.is_empty())
}

/// The creation flags shared by snapshot-create and snapshot-create-as.
fn create_flags(cmd: &ParsedCmd) -> u32 {
    cmd.flags(&[
        ("redefine", C::REDEFINE),
        ("current", C::CURRENT),
        ("no-metadata", C::NO_METADATA),
        ("halt", C::HALT),
        ("disk-only", C::DISK_ONLY),
        ("reuse-external", C::REUSE_EXT),
        ("quiesce", C::QUIESCE),
        ("atomic", C::ATOMIC),
        ("live", C::LIVE),
        ("validate", C::VALIDATE),
    ])
}

/// virshSnapshotCreate: create, with virsh's retries for servers that refuse --validate or
/// --halt, then report.
fn snapshot_create(
    sh: &mut Shell,
    dom: &Domain,
    xml: &str,
    mut flags: u32,
    from: Option<&str>,
) -> CmdResult {
    let create = |sh: &Shell, flags: u32| {
        sh.writable("virDomainSnapshotCreateXML").and_then(|c| {
            create_flags_check(flags)?;
            c.create_snapshot(dom, xml, flags)
        })
    };
    let mut result = create(sh, flags);
    if let Err(e) = &result {
        if e.kind == ErrorKind::NoSupport && from.is_none() {
            flags &= !C::VALIDATE;
            result = create(sh, flags);
        }
    }
    let mut halt = false;
    if let Err(e) = &result {
        if e.kind == ErrorKind::InvalidArg && flags & C::HALT != 0 {
            let conn = sh.conn()?;
            let persistent = conn.domain_is_persistent(dom)?;
            if !persistent {
                return Err(CmdError::msg(
                    "cannot halt after snapshot of transient domain",
                ));
            }
            halt = conn.domain_is_active(dom).unwrap_or(false);
            flags &= !C::HALT;
            result = create(sh, flags);
        }
    }
    let snap = result?;
    if halt {
        sh.writable("virDomainDestroy")
            .and_then(|c| c.destroy_domain(dom, 0))?;
    }
    match from {
        Some(f) => sh.print_extra(&format!("Domain snapshot {} created from '{f}'", snap.name)),
        None => sh.print_extra(&format!("Domain snapshot {} created", snap.name)),
    }
    Ok(())
}

/// The flag rules libvirt's public API checks before it calls the driver
/// (virDomainSnapshotCreateXML), worded as it words them.
fn create_flags_check(flags: u32) -> virtsh_api::Result<()> {
    if flags & C::CURRENT != 0 && flags & C::REDEFINE == 0 {
        return Err(Error::raw(
            ErrorKind::InvalidArg,
            "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'",
        ));
    }
    for (bit, name) in [
        (C::NO_METADATA, "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA"),
        (C::HALT, "VIR_DOMAIN_SNAPSHOT_CREATE_HALT"),
    ] {
        if flags & C::REDEFINE != 0 && flags & bit != 0 {
            return Err(Error::raw(
                ErrorKind::InvalidArg,
                format!("Flags 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' and '{name}' are mutually exclusive"),
            ));
        }
    }
    Ok(())
}

/// `snapshot-create DOMAIN [XMLFILE]`.
pub fn cmd_snapshot_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = create_flags(cmd);
    let (dom, _) = domain(sh, cmd)?;
    let from = opt_str(cmd, "xmlfile")?;
    let xml = match from {
        None => "<domainsnapshot/>".to_string(),
        Some(f) => read_file(f)?,
    };
    snapshot_create(sh, &dom, &xml, flags, from)
}

/// virBufferEscapeString's escaping: XML specials become entities, most control characters
/// are dropped.
fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\u{1}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{19}' => {}
            c => o.push(c),
        }
    }
    o
}

/// virshParseSnapshotMemspec
fn memspec_xml(spec: &str) -> Result<String, CmdError> {
    let mut snapshot = None;
    let mut file = None;
    for item in string_to_array(spec) {
        if snapshot.is_none() && item.starts_with("snapshot=") {
            snapshot = Some(item["snapshot=".len()..].to_string());
        } else if file.is_none() && item.starts_with("file=") {
            file = Some(item["file=".len()..].to_string());
        } else if file.is_none() && item.starts_with('/') {
            file = Some(item);
        } else {
            return Err(CmdError::msg(format!("unable to parse memspec: {spec}")));
        }
    }
    let mut o = String::from("  <memory");
    if let Some(s) = snapshot {
        o.push_str(&format!(" snapshot='{}'", xml_escape(&s)));
    }
    if let Some(f) = file {
        o.push_str(&format!(" file='{}'", xml_escape(&f)));
    }
    o.push_str("/>\n");
    Ok(o)
}

/// virshParseSnapshotDiskspec (indented for its place inside <disks>).
fn diskspec_xml(spec: &str) -> Result<String, CmdError> {
    let bad = || CmdError::msg(format!("unable to parse diskspec: {spec}"));
    let items = string_to_array(spec);
    let name = &items[0];
    let (mut snapshot, mut driver, mut stype, mut file) = (None, None, None, None);
    for item in &items[1..] {
        if snapshot.is_none() && item.starts_with("snapshot=") {
            snapshot = Some(&item["snapshot=".len()..]);
        } else if driver.is_none() && item.starts_with("driver=") {
            driver = Some(&item["driver=".len()..]);
        } else if stype.is_none() && item.starts_with("stype=") {
            stype = Some(&item["stype=".len()..]);
        } else if file.is_none() && item.starts_with("file=") {
            file = Some(&item["file=".len()..]);
        } else {
            return Err(bad());
        }
    }
    let mut o = format!("    <disk name='{}'", xml_escape(name));
    if let Some(s) = snapshot {
        o.push_str(&format!(" snapshot='{s}'"));
    }
    let mut is_file = true;
    if let Some(t) = stype {
        if t == "block" {
            is_file = false;
        } else if t != "file" {
            return Err(CmdError::lines(vec![
                format!("Unknown storage type: '{t}'"),
                format!("unable to parse diskspec: {spec}"),
            ]));
        }
        o.push_str(&format!(" type='{t}'"));
    }
    if driver.is_some() || file.is_some() {
        o.push_str(">\n");
        if let Some(d) = driver {
            o.push_str(&format!("      <driver type='{d}'/>\n"));
        }
        if let Some(f) = file {
            let attr = if is_file { "file" } else { "dev" };
            o.push_str(&format!("      <source {attr}='{}'/>\n", xml_escape(f)));
        }
        o.push_str("    </disk>\n");
    } else {
        o.push_str("/>\n");
    }
    Ok(o)
}

/// `snapshot-create-as DOMAIN [NAME] [DESCRIPTION] ...` (`--print-xml` prints the XML).
pub fn cmd_snapshot_create_as(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = create_flags(cmd);
    let (dom, _) = domain(sh, cmd)?;
    let name = opt_str(cmd, "name")?;
    let desc = opt_str(cmd, "description")?;
    let mut xml = String::from("<domainsnapshot>\n");
    if let Some(n) = name {
        xml.push_str(&format!("  <name>{}</name>\n", xml_escape(n)));
    }
    if let Some(d) = desc {
        xml.push_str(&format!("  <description>{}</description>\n", xml_escape(d)));
    }
    if let Some(m) = opt_str(cmd, "memspec")? {
        xml.push_str(&memspec_xml(m)?);
    }
    if cmd.has("diskspec") {
        xml.push_str("  <disks>\n");
        for spec in cmd.all("diskspec") {
            xml.push_str(&diskspec_xml(spec)?);
        }
        xml.push_str("  </disks>\n");
    }
    xml.push_str("</domainsnapshot>\n");
    if cmd.has("print-xml") {
        sh.print(&format!("{xml}\n"));
        return Ok(());
    }
    snapshot_create(sh, &dom, &xml, flags, None)
}

/// One snapshot of a listing, with its parent when the listing needs it.
struct Snap {
    snap: DomainSnapshot,
    parent: Option<String>,
}

/// virshSnapshotFilter: the status/location filter virsh applies itself when the server
/// refuses those flags.
fn filter_matches(sh: &Shell, snap: &DomainSnapshot, flags: u32) -> Result<bool, CmdError> {
    let xml = sh.conn()?.snapshot_xml(snap, 0)?;
    let root = parse_snapshot_xml(&xml)?;
    let Some(state) = text_at(&root, "state") else {
        return Err(CmdError::msg("unable to perform snapshot filtering"));
    };
    if state == "disk-snapshot" {
        return Ok(flags & L::DISK_ONLY != 0 && flags & L::EXTERNAL != 0);
    }
    if flags & L::INTERNAL == 0 {
        return Ok(false);
    }
    if state == "shutoff" {
        return Ok(flags & L::INACTIVE != 0);
    }
    Ok(flags & L::ACTIVE != 0)
}

/// virshSnapshotListCollect (the part that modern servers need).
fn collect(
    sh: &Shell,
    dom: &Domain,
    from: Option<&DomainSnapshot>,
    orig_flags: u32,
    tree: bool,
) -> Result<Vec<Snap>, CmdError> {
    let list = |flags: u32| -> virtsh_api::Result<Vec<DomainSnapshot>> {
        let conn = sh.conn().map_err(|e| Error::internal(e.lines.join(" ")))?;
        match from {
            Some(f) => conn.snapshot_children(f, flags),
            None => conn.list_snapshots(dom, flags),
        }
    };
    let mut flags = orig_flags;
    let mut filter_fallback = false;
    let snaps = match list(flags) {
        Ok(s) => s,
        // Servers older than 1.0.1 refuse the status and location filters: virsh filters
        // on the XML itself.
        Err(e)
            if e.kind == ErrorKind::InvalidArg
                && flags & (FILTERS_STATUS | FILTERS_LOCATION) != 0 =>
        {
            flags &= !(FILTERS_STATUS | FILTERS_LOCATION);
            filter_fallback = true;
            list(flags)?
        }
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<Snap> = Vec::with_capacity(snaps.len() + 1);
    for s in snaps {
        let parent = if tree { snapshot_parent(sh, &s)? } else { None };
        out.push(Snap { snap: s, parent });
    }
    if tree {
        if let Some(f) = from {
            out.push(Snap {
                snap: f.clone(),
                parent: None,
            });
        }
    }
    if filter_fallback {
        // As virsh does (which makes the filter keep every snapshot whose XML reads).
        let f = orig_flags | FILTERS_STATUS | FILTERS_LOCATION;
        let mut kept = Vec::new();
        for s in out {
            if filter_matches(sh, &s.snap, f)? {
                kept.push(s);
            }
        }
        out = kept;
    }
    if orig_flags & L::TOPOLOGICAL == 0 {
        out.sort_by_key(|s| s.snap.name.to_lowercase());
    }
    Ok(out)
}

/// vshTreePrintInternal
fn tree_print(
    out: &mut String,
    list: &[Snap],
    devid: usize,
    lastdev: usize,
    root: bool,
    indent: &mut String,
) {
    let dev = &list[devid].snap.name;
    out.push_str(&format!("{indent}{}{dev}\n", if root { "" } else { "+- " }));
    if !root {
        indent.push(if devid == lastdev { ' ' } else { '|' });
        indent.push(' ');
    }
    let children: Vec<usize> = (0..list.len())
        .filter(|&i| list[i].parent.as_deref() == Some(dev.as_str()))
        .collect();
    let nextlastdev = children.last().copied();
    if nextlastdev.is_some() {
        out.push_str(&format!("{indent}  |\n"));
    }
    indent.push_str("  ");
    for &i in &children {
        tree_print(
            out,
            list,
            i,
            nextlastdev.unwrap_or(usize::MAX),
            false,
            indent,
        );
    }
    indent.truncate(indent.len() - 2);
    if nextlastdev.is_none() && devid == lastdev {
        out.push_str(&format!("{indent}\n"));
    }
    if !root {
        indent.truncate(indent.len() - 2);
    }
}

#[derive(Serialize)]
struct SnapEntry {
    name: String,
    /// Seconds since the epoch.
    creation_time: i64,
    state: String,
    parent: Option<String>,
}

/// The creation time as virsh prints it: local time, "%Y-%m-%d %H:%M:%S %z".
fn format_time(secs: i64) -> Option<String> {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(secs, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S %z").to_string())
}

/// `snapshot-list`. JSON: `[{"name", "creation_time" (epoch seconds), "state", "parent"}]`,
/// in the order of the listing (by name, or topological with --topological), whatever the
/// layout options (--tree, --name, --parent).
pub fn cmd_snapshot_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let tree = cmd.has("tree");
    let name_only = cmd.has("name");
    let want_parent = cmd.has("parent");
    let roots = cmd.has("roots");
    let from_opt = cmd.has("from");
    let cur = cmd.has("current");
    exclusive(cmd, "tree", "name")?;
    exclusive(cmd, "parent", "roots")?;
    exclusive(cmd, "parent", "tree")?;
    exclusive(cmd, "roots", "tree")?;
    exclusive(cmd, "roots", "from")?;
    exclusive(cmd, "roots", "current")?;
    let mut flags = 0;
    for (opt, bit) in [
        ("leaves", L::LEAVES),
        ("no-leaves", L::NO_LEAVES),
        ("inactive", L::INACTIVE),
        ("active", L::ACTIVE),
        ("disk-only", L::DISK_ONLY),
        ("internal", L::INTERNAL),
        ("external", L::EXTERNAL),
    ] {
        if cmd.has(opt) {
            if tree {
                return Err(CmdError::msg(format!(
                    "--{opt} and --tree are mutually exclusive"
                )));
            }
            flags |= bit;
        }
    }
    if cmd.has("topological") {
        flags |= L::TOPOLOGICAL;
    }
    if roots {
        flags |= L::ROOTS;
    }
    if cmd.has("metadata") {
        flags |= L::METADATA;
    }
    if cmd.has("no-metadata") {
        flags |= L::NO_METADATA;
    }
    if cmd.has("descendants") {
        if !from_opt && !cur {
            return Err(CmdError::msg(
                "--descendants requires either --from or --current",
            ));
        }
        flags |= L::DESCENDANTS;
    }
    let (dom, _) = domain(sh, cmd)?;
    let start = if from_opt || cur {
        Some(lookup_snapshot(sh, cmd, "from", true, &dom)?)
    } else {
        None
    };
    let list = collect(sh, &dom, start.as_ref(), flags, tree)?;

    if tree && !sh.json() {
        let mut out = String::new();
        for i in 0..list.len() {
            if list[i].parent.is_none() {
                tree_print(&mut out, &list, i, i, true, &mut String::new());
            }
        }
        sh.print(&out);
        return Ok(());
    }
    if name_only && !sh.json() {
        let mut out = String::new();
        for s in &list {
            out.push_str(&s.snap.name);
            out.push('\n');
        }
        sh.print(&out);
        return Ok(());
    }
    let mut entries = Vec::new();
    for s in &list {
        let Ok(xml) = sh.conn()?.snapshot_xml(&s.snap, 0) else {
            continue;
        };
        let Ok(root) = parse_snapshot_xml(&xml) else {
            continue;
        };
        let parent = if want_parent || sh.output == crate::shell::OutputFormat::Json {
            text_at(&root, "parent/name")
        } else {
            None
        };
        let Some(state) = text_at(&root, "state") else {
            continue;
        };
        let Some(time) = text_at(&root, "creationTime").and_then(|t| t.trim().parse::<i64>().ok())
        else {
            continue;
        };
        entries.push(SnapEntry {
            name: s.snap.name.clone(),
            creation_time: time,
            state,
            parent,
        });
    }
    if sh.json() {
        return sh.print_json(&entries);
    }
    let mut t = if want_parent {
        Table::new(&["Name", "Creation Time", "State", "Parent"])
    } else {
        Table::new(&["Name", "Creation Time", "State"])
    };
    for e in entries {
        let mut row = vec![
            e.name,
            format_time(e.creation_time).unwrap_or_default(),
            e.state,
        ];
        if want_parent {
            row.push(e.parent.unwrap_or_default());
        }
        t.add_row(row);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

/// `snapshot-dumpxml`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_snapshot_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("security-info") {
        XML_SECURE
    } else {
        0
    };
    let name = req_str(cmd, "snapshotname")?;
    let (dom, _) = domain(sh, cmd)?;
    let snap = sh.conn()?.lookup_snapshot(&dom, name)?;
    let xml = sh.conn()?.snapshot_xml(&snap, f)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

/// `snapshot-current DOMAIN [--name] [SNAPSHOTNAME]`: show the current snapshot, or make
/// SNAPSHOTNAME current. JSON (when showing with --name): the name as a string.
pub fn cmd_snapshot_current(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("security-info") {
        XML_SECURE
    } else {
        0
    };
    exclusive(cmd, "name", "snapshotname")?;
    let (dom, domname) = domain(sh, cmd)?;
    if let Some(name) = opt_str(cmd, "snapshotname")? {
        let conn = sh.conn()?;
        let snap = conn.lookup_snapshot(&dom, name)?;
        let xml = conn.snapshot_xml(&snap, XML_SECURE)?;
        let mut flags = C::REDEFINE | C::CURRENT;
        if xml.contains("<state>disk-snapshot</state>") {
            flags |= C::DISK_ONLY;
        }
        sh.writable("virDomainSnapshotCreateXML")
            .and_then(|c| c.create_snapshot(&dom, &xml, flags))?;
        sh.print_extra(&format!("Snapshot {name} set as current"));
        return Ok(());
    }
    let snap = match sh.conn()?.current_snapshot(&dom)? {
        Some(s) => s,
        None => {
            return Err(CmdError::msg(format!(
                "domain '{domname}' has no current snapshot"
            )))
        }
    };
    if cmd.has("name") {
        if sh.json() {
            return sh.print_json(&snap.name);
        }
        sh.print(&snap.name);
    } else {
        let xml = sh.conn()?.snapshot_xml(&snap, f)?;
        sh.print(&xml);
    }
    Ok(())
}

/// `snapshot-parent`. JSON: the parent's name as a string.
pub fn cmd_snapshot_parent(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain(sh, cmd)?;
    let snap = lookup_snapshot(sh, cmd, "snapshotname", true, &dom)?;
    let Some(parent) = snapshot_parent(sh, &snap)? else {
        return Err(CmdError::msg(format!(
            "snapshot '{}' has no parent",
            snap.name
        )));
    };
    if sh.json() {
        return sh.print_json(&parent);
    }
    sh.print(&parent);
    Ok(())
}

/// `snapshot-delete [--children | --children-only] [--metadata]`.
pub fn cmd_snapshot_delete(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain(sh, cmd)?;
    let snap = lookup_snapshot(sh, cmd, "snapshotname", true, &dom)?;
    let mut f = 0;
    if cmd.has("children") {
        f |= DELETE_CHILDREN;
    }
    if cmd.has("children-only") {
        f |= DELETE_CHILDREN_ONLY;
    }
    if cmd.has("metadata") {
        f |= DELETE_METADATA_ONLY;
    }
    sh.writable("virDomainSnapshotDelete")
        .and_then(|c| {
            // virDomainSnapshotDelete's own check, before the driver.
            if f & DELETE_CHILDREN != 0 && f & DELETE_CHILDREN_ONLY != 0 {
                return Err(Error::raw(
                    ErrorKind::InvalidArg,
                    "Flags 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN' and 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY' are mutually exclusive",
                ));
            }
            c.delete_snapshot(&snap, f)
        })
        .map_err(|e| CmdError::with(format!("Failed to delete snapshot {}", snap.name), e))?;
    if f & DELETE_CHILDREN_ONLY != 0 {
        sh.print_extra(&format!("Domain snapshot {} children deleted\n", snap.name));
    } else {
        sh.print_extra(&format!("Domain snapshot {} deleted\n", snap.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_virbuffer() {
        assert_eq!(
            xml_escape("a<b>&'\"\u{1}\tz"),
            "a&lt;b&gt;&amp;&apos;&quot;\tz"
        );
    }

    #[test]
    fn diskspecs() {
        assert_eq!(diskspec_xml("vda").unwrap(), "    <disk name='vda'/>\n");
        assert_eq!(
            diskspec_xml("vda,snapshot=external,driver=qcow2,file=/a,,b").unwrap(),
            "    <disk name='vda' snapshot='external'>\n      <driver type='qcow2'/>\n      <source file='/a,b'/>\n    </disk>\n"
        );
        assert_eq!(
            diskspec_xml("vda,stype=block,file=/dev/x").unwrap(),
            "    <disk name='vda' type='block'>\n      <source dev='/dev/x'/>\n    </disk>\n"
        );
        assert_eq!(diskspec_xml("vda,stype=net").unwrap_err().lines.len(), 2);
        assert!(diskspec_xml("vda,bogus").is_err());
        assert_eq!(
            memspec_xml("/x,snapshot=external").unwrap(),
            "  <memory snapshot='external' file='/x'/>\n"
        );
        assert!(memspec_xml("x").is_err());
    }
}
