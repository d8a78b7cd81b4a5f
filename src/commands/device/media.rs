//! change-media: eject, insert or update the medium of a cdrom or floppy (cmdChangeMedia).

use super::find::*;
use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    Eject,
    Insert,
    Update,
}

/// virshUpdateDiskXML on the dumped disk element.
pub(super) fn update_disk_xml(
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
