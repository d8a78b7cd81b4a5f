//! Inspecting and going back to a snapshot: snapshot-info, snapshot-revert
//! (tools/virsh-snapshot.c).

use crate::commands::options::yes_no;
use crate::commands::snapshot::{domain, lookup_snapshot, parse_snapshot_xml, text_at};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::flags::{snapshot_list as L, snapshot_revert as R};
use virtsh_api::ErrorKind;

#[derive(Serialize)]
struct SnapInfo {
    name: String,
    domain: String,
    current: bool,
    state: String,
    /// "internal" or "external".
    location: String,
    parent: Option<String>,
    children: Option<usize>,
    descendants: Option<usize>,
    metadata: Option<bool>,
}

/// `snapshot-info`. JSON: `{"name", "domain", "current", "state", "location", "parent",
/// "children", "descendants", "metadata"}`.
pub fn cmd_snapshot_info(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain(sh, cmd)?;
    let snap = lookup_snapshot(sh, cmd, "snapshotname", true, &dom)?;
    let conn = sh.conn()?;
    // virDomainSnapshotIsCurrent, or virsh's fallback: compare with the current snapshot.
    let is_current = conn.snapshot_is_current(&snap, 0).unwrap_or_else(|_| {
        conn.current_snapshot(&dom)
            .ok()
            .flatten()
            .is_some_and(|c| c.name == snap.name)
    });
    let mut o = String::new();
    let line = |o: &mut String, k: &str, v: &str| o.push_str(&format!("{k:<15} {v}\n"));
    line(&mut o, "Name:", &snap.name);
    line(&mut o, "Domain:", &dom.name);
    line(&mut o, "Current:", yes_no(is_current));
    let mut info = SnapInfo {
        name: snap.name.clone(),
        domain: dom.name.clone(),
        current: is_current,
        state: String::new(),
        location: String::new(),
        parent: None,
        children: None,
        descendants: None,
        metadata: None,
    };
    let result = (|| -> CmdResult {
        let xml = conn.snapshot_xml(&snap, 0)?;
        let root = parse_snapshot_xml(&xml)?;
        let bad = || CmdError::msg("unexpected problem reading snapshot xml");
        let state = text_at(&root, "state").ok_or_else(bad)?;
        line(&mut o, "State:", &state);
        let is_root = root.name == "domainsnapshot";
        let external = match root.child("memory").filter(|_| is_root) {
            Some(m) => {
                m.attr("snapshot") == Some("external")
                    || root.child("disks").is_some_and(|d| {
                        d.children_named("disk")
                            .any(|d| d.attr("snapshot") == Some("external"))
                    })
            }
            None => state == "disk-snapshot",
        };
        let location = if external { "external" } else { "internal" };
        line(&mut o, "Location:", location);
        let parent = text_at(&root, "parent/name");
        line(&mut o, "Parent:", parent.as_deref().unwrap_or("-"));
        info.state = state;
        info.location = location.to_string();
        info.parent = parent;
        let children = match conn.snapshot_children(&snap, 0) {
            Ok(c) => c.len(),
            Err(e) if e.kind == ErrorKind::NoSupport => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        line(&mut o, "Children:", &children.to_string());
        info.children = Some(children);
        let descendants = conn.snapshot_children(&snap, L::DESCENDANTS)?.len();
        line(&mut o, "Descendants:", &descendants.to_string());
        info.descendants = Some(descendants);
        if let Ok(m) = conn.snapshot_has_metadata(&snap, 0) {
            line(&mut o, "Metadata:", yes_no(m));
            info.metadata = Some(m);
        }
        Ok(())
    })();
    if sh.json() {
        result?;
        return sh.print_json(&info);
    }
    sh.print(&o);
    result
}

/// `snapshot-revert DOMAIN (SNAPSHOTNAME | --current) [--running | --paused] [--force]
/// [--reset-nvram]`. Like virsh, `--force` is only passed on when the server says the revert
/// is risky, so that servers that refuse the flag still work.
pub fn cmd_snapshot_revert(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[
        ("running", R::RUNNING),
        ("paused", R::PAUSED),
        ("reset-nvram", R::RESET_NVRAM),
    ]);
    let (dom, _) = domain(sh, cmd)?;
    let snap = lookup_snapshot(sh, cmd, "snapshotname", true, &dom)?;
    let failed = |e| CmdError::with(format!("Failed to revert snapshot {}", snap.name), e);
    let conn = sh.writable("virDomainRevertToSnapshot").map_err(failed)?;
    match conn.revert_to_snapshot(&snap, flags) {
        Err(e) if cmd.has("force") && e.kind == ErrorKind::SnapshotRevertRisky => {
            conn.revert_to_snapshot(&snap, flags | R::FORCE)
        }
        r => r,
    }
    .map_err(failed)?;
    sh.print_extra(&format!("Domain snapshot {} reverted\n", snap.name));
    Ok(())
}
