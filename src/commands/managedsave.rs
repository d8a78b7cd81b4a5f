//! Managed save images: managedsave, managedsave-remove (tools/virsh-domain.c).

use crate::commands::guest::domain_opt;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::flags::save;

/// `managedsave DOMAIN [--bypass-cache] [--running | --paused] [--verbose]`.
pub fn cmd_managedsave(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[
        ("bypass-cache", save::BYPASS_CACHE),
        ("running", save::RUNNING),
        ("paused", save::PAUSED),
    ]);
    let (dom, name) = domain_opt(sh, cmd)?;
    sh.writable("virDomainManagedSave")
        .and_then(|c| c.managed_save(&dom, flags))
        .map_err(|e| CmdError::with(format!("Failed to save domain '{name}' state"), e))?;
    if cmd.has("verbose") {
        // The test driver saves at once, so virshWatchJob's only report is the last one.
        sh.flush();
        crate::output::progress::Progress::new("Managedsave").finish();
    }
    sh.print_extra(&format!("\nDomain '{name}' state saved by libvirt\n"));
    Ok(())
}

/// `managedsave-remove DOMAIN`.
pub fn cmd_managedsave_remove(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, name) = domain_opt(sh, cmd)?;
    let has = sh
        .conn()?
        .domain_has_managed_save(&dom)
        .map_err(|e| CmdError::with("Failed to check for domain managed save image", e))?;
    if !has {
        sh.print_extra(&format!(
            "Domain '{name}' has no manage save image; removal skipped"
        ));
        return Ok(());
    }
    sh.writable("virDomainManagedSaveRemove")
        .and_then(|c| c.managed_save_remove(&dom, 0))
        .map_err(|e| {
            CmdError::with(
                format!("Failed to remove managed save image for domain '{name}'"),
                e,
            )
        })?;
    sh.print_extra(&format!("Removed managedsave image for domain '{name}'"));
    Ok(())
}
