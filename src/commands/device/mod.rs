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

mod disk;
mod find;
mod interface;
mod media;

pub use disk::cmd_attach_disk;
pub use find::{cmd_detach_disk, cmd_detach_interface};
pub use interface::cmd_attach_interface;
pub use media::cmd_change_media;
