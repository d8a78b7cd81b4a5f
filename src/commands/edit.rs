//! `edit`-style commands: open the XML in $VISUAL / $EDITOR (default vi), then define the
//! result if it changed (tools/virsh-edit.c).

use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use std::io::Write;

/// Run the user's editor on `text` and return what was saved.
pub fn edit_text(text: &str, what: &str) -> Result<String, CmdError> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("EDITOR").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "vi".into());
    let dir = std::env::temp_dir();
    let path = dir.join(format!("virsh{}.xml", temp_suffix(what)));
    let io = |e: std::io::Error| {
        CmdError::msg(format!(
            "{}: {}",
            path.display(),
            crate::commands::virsh::os_err(&e)
        ))
    };
    {
        let mut f = std::fs::File::create(&path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
    }
    // As virsh (vshEditFile): an editor value made only of plain characters runs directly;
    // anything else ("emacs -nw", quoting) goes through the shell with the file appended.
    let plain = editor
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
    let shell_cmd = format!("{editor} {}", path.display());
    let status = if plain {
        std::process::Command::new(&editor).arg(&path).status()
    } else {
        std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&shell_cmd)
            .status()
    }
    .map_err(io)?;
    let shown = if plain {
        shell_cmd.clone()
    } else {
        format!("sh -c '{shell_cmd}'")
    };
    let result = std::fs::read_to_string(&path).map_err(io);
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("unexpected exit status {code}"),
            None => format!("terminated by {status}"),
        };
        return Err(CmdError::msg(format!(
            "internal error: Child process ({shown}) {how}"
        )));
    }
    result
}

pub fn cmd_edit(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let f = virtsh_api::flags::domain_xml::INACTIVE | virtsh_api::flags::domain_xml::SECURE;
    let before = sh.conn()?.domain_xml(&dom, f)?;
    let after = edit_text(&before, "domain")?;
    if after == before {
        sh.print_extra(&format!(
            "Domain '{}' XML configuration not changed.\n",
            dom.name
        ));
        return Ok(());
    }
    let new = sh
        .writable("virDomainDefineXMLFlags")
        .and_then(|c| c.define_domain(&after, 0))?;
    sh.print_extra(&format!(
        "Domain '{}' XML configuration edited.\n",
        new.name
    ));
    Ok(())
}

/// Six characters for the temporary file's name, as mkstemp gives virsh (`/tmp/virshXXXXXX.xml`),
/// unique per process and per call.
fn temp_suffix(what: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(what.as_bytes());
    h.write_u32(std::process::id());
    let mut n = h.finish();
    (0..6)
        .map(|_| {
            let c = ALPHABET[(n % 62) as usize] as char;
            n /= 62;
            c
        })
        .collect()
}
