//! Domain lifecycle: define, undefine, create, start, shutdown, reboot, reset, destroy,
//! suspend, resume, autostart, domrename. Messages are virsh's (tools/virsh-domain.c).

use crate::diagnostic::XmlKind;
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::flags;

/// Read the file a define/create command names, with virsh's error for a missing file.
pub fn read_file(path: &str) -> Result<String, CmdError> {
    use std::io::Read;
    let err = |what: &str, e: std::io::Error| {
        CmdError::msg(format!(
            "Failed to {what} file '{path}': {}",
            crate::commands::virsh::os_err(&e)
        ))
    };
    let mut f = std::fs::File::open(path).map_err(|e| err("open", e))?;
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(|e| err("read", e))?;
    Ok(text)
}

pub fn cmd_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = crate::commands::options::req_str(cmd, "file")?;
    let xml = read_file(file)?;
    let mut f = 0;
    if cmd.has("validate") {
        f |= 1; // VIR_DOMAIN_DEFINE_VALIDATE
    }
    // virsh calls the flag-less API when it has no flag to pass; the name shows in errors.
    let api = if f == 0 {
        "virDomainDefineXML"
    } else {
        "virDomainDefineXMLFlags"
    };
    let dom = sh
        .writable(api)
        .and_then(|c| c.define_domain(&xml, f))
        .map_err(|e| {
            CmdError::with(format!("Failed to define domain from {file}"), e).explain_xml(
                XmlKind::Domain,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Domain '{}' defined from {file}\n", dom.name));
    Ok(())
}

pub fn cmd_create(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = crate::commands::options::req_str(cmd, "file")?;
    let xml = read_file(file)?;
    let mut f = 0;
    if cmd.has("paused") {
        f |= flags::create::PAUSED;
    }
    if cmd.has("autodestroy") {
        f |= flags::create::AUTODESTROY;
    }
    if cmd.has("validate") {
        f |= flags::create::VALIDATE;
    }
    let dom = sh
        .writable("virDomainCreateXML")
        .and_then(|c| c.create_domain(&xml, f))
        .map_err(|e| {
            CmdError::with(format!("Failed to create domain from {file}"), e).explain_xml(
                XmlKind::Domain,
                file,
                &xml,
            )
        })?;
    sh.print_extra(&format!("Domain '{}' created from {file}\n", dom.name));
    if cmd.has("console") {
        return crate::commands::console::run_console(sh, &dom, None, false, false);
    }
    Ok(())
}

pub fn cmd_undefine(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let f = cmd.flags(&[
        ("managed-save", flags::undefine::MANAGED_SAVE),
        ("snapshots-metadata", flags::undefine::SNAPSHOTS_METADATA),
        (
            "checkpoints-metadata",
            flags::undefine::CHECKPOINTS_METADATA,
        ),
        ("nvram", flags::undefine::NVRAM),
        ("keep-nvram", flags::undefine::KEEP_NVRAM),
        ("tpm", flags::undefine::TPM),
        ("keep-tpm", flags::undefine::KEEP_TPM),
    ]);
    sh.writable("virDomainUndefineFlags")
        .and_then(|c| c.undefine_domain(&dom, f))
        .map_err(|e| CmdError::with(format!("Failed to undefine domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' has been undefined\n", dom.name));
    Ok(())
}

pub fn cmd_start(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain_by(
        sh,
        crate::commands::options::req_str(cmd, "domain")?,
        lookup::BY_UUID_NAME,
    )?;
    if dom.is_running() {
        return Err(CmdError::msg("Domain is already active"));
    }
    let f = cmd.flags(&[
        ("paused", flags::create::PAUSED),
        ("autodestroy", flags::create::AUTODESTROY),
        ("bypass-cache", flags::create::BYPASS_CACHE),
        ("force-boot", flags::create::FORCE_BOOT),
        ("reset-nvram", flags::create::RESET_NVRAM),
    ]);
    let dom = sh
        .writable("virDomainCreateWithFlags")
        .and_then(|c| c.start_domain(&dom, f))
        .map_err(|e| CmdError::with(format!("Failed to start domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' started\n", dom.name));
    if cmd.has("console") {
        return crate::commands::console::run_console(sh, &dom, None, false, false);
    }
    Ok(())
}

/// virsh's --mode for shutdown and reboot: a comma-separated list of methods.
fn shutdown_mode(cmd: &ParsedCmd) -> Result<u32, CmdError> {
    let Some(mode) = cmd.get("mode") else {
        return Ok(0);
    };
    let mut f = 0;
    for m in mode.split(',') {
        f |= match m {
            "acpi" => flags::shutdown::ACPI_POWER_BTN,
            "agent" => flags::shutdown::GUEST_AGENT,
            "initctl" => flags::shutdown::INITCTL,
            "signal" => flags::shutdown::SIGNAL,
            "paravirt" => flags::shutdown::PARAVIRT,
            _ => {
                return Err(CmdError::msg(format!(
                    "Unknown mode {m} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'"
                )))
            }
        };
    }
    Ok(f)
}

pub fn cmd_shutdown(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = shutdown_mode(cmd)?;
    let dom = lookup::domain(sh, cmd)?;
    let api = if f == 0 {
        "virDomainShutdown"
    } else {
        "virDomainShutdownFlags"
    };
    sh.writable(api)
        .and_then(|c| c.shutdown_domain(&dom, f))
        .map_err(|e| CmdError::with(format!("Failed to shutdown domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' is being shutdown\n", dom.name));
    Ok(())
}

pub fn cmd_reboot(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = shutdown_mode(cmd)?;
    let dom = lookup::domain(sh, cmd)?;
    sh.writable("virDomainReboot")
        .and_then(|c| c.reboot_domain(&dom, f))
        .map_err(|e| CmdError::with(format!("Failed to reboot domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' is being rebooted\n", dom.name));
    Ok(())
}

pub fn cmd_reset(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    sh.writable("virDomainReset")
        .and_then(|c| c.reset_domain(&dom))
        .map_err(|e| CmdError::with(format!("Failed to reset domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' was reset\n", dom.name));
    Ok(())
}

pub fn cmd_destroy(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let mut f = 0;
    if cmd.has("graceful") {
        f |= flags::destroy::GRACEFUL;
    }
    if cmd.has("remove-logs") {
        f |= flags::destroy::REMOVE_LOGS;
    }
    sh.writable("virDomainDestroy")
        .and_then(|c| c.destroy_domain(&dom, f))
        .map_err(|e| CmdError::with(format!("Failed to destroy domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' destroyed\n", dom.name));
    Ok(())
}

pub fn cmd_suspend(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    sh.writable("virDomainSuspend")
        .and_then(|c| c.suspend_domain(&dom))
        .map_err(|e| CmdError::with(format!("Failed to suspend domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' suspended\n", dom.name));
    Ok(())
}

pub fn cmd_resume(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    sh.writable("virDomainResume")
        .and_then(|c| c.resume_domain(&dom))
        .map_err(|e| CmdError::with(format!("Failed to resume domain '{}'", dom.name), e))?;
    sh.print_extra(&format!("Domain '{}' resumed\n", dom.name));
    Ok(())
}

pub fn cmd_autostart(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let on = !cmd.has("disable");
    let (done, failed) = if on {
        ("marked as autostarted", "mark")
    } else {
        ("unmarked as autostarted", "unmark")
    };
    sh.writable("virDomainSetAutostart")
        .and_then(|c| c.set_domain_autostart(&dom, on))
        .map_err(|e| {
            CmdError::with(
                format!("Failed to {failed} domain '{}' as autostarted", dom.name),
                e,
            )
        })?;
    sh.print_extra(&format!("Domain '{}' {done}\n", dom.name));
    Ok(())
}

pub fn cmd_domrename(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain_by(
        sh,
        crate::commands::options::req_str(cmd, "domain")?,
        lookup::BY_UUID_NAME,
    )?;
    let new_name = crate::commands::options::req_str(cmd, "new-name")?;
    sh.writable("virDomainRename")
        .and_then(|c| c.rename_domain(&dom, new_name))
        .map_err(CmdError::from)?;
    sh.print_extra("Domain successfully renamed\n");
    Ok(())
}
