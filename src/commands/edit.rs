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
    let path = dir.join(format!("virtsh{what}{}.xml", std::process::id()));
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
    // The editor value may carry arguments ("emacs -nw"), as virsh passes it to the shell.
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(io)?;
    let result = std::fs::read_to_string(&path).map_err(io);
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        return Err(CmdError::msg(format!("{editor}: command failed: {status}")));
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
