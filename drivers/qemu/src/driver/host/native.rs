//! `domxml-to-native qemu-argv` (virConnectDomainXMLToNative): the command line virtsh would
//! run for a definition, printed as libvirt 9.0's qemuConnectDomainXMLToNative prints it
//! (virCommandToString: the environment, the binary and the arguments on one line, each
//! shell-quoted when needed, and a final newline).
//!
//! As libvirt's "pretend" command line, the monitor is shown as a socket path in the domain's
//! private directory (`-chardev socket,id=charmonitor,path=DIR/monitor.sock,server=on,wait=off`)
//! where a running guest gets an inherited fd. NVRAM files are not prepared (that would
//! write files), so `<os firmware='efi'>` without an explicit `<loader>` is refused here.

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::DomainDef;

use super::super::{parse_options, QemuDriver};
use crate::cmdline::{self, CmdlineEnv};

/// A placeholder fd number for the monitor; its option is rewritten to the path form.
const FAKE_MONITOR_FD: i32 = 1729;

/// virBufferEscapeShell: quote with single quotes when the word has a shell metacharacter.
pub(crate) fn shell_escape(s: &str) -> String {
    const SPECIAL: &[char] = &[
        '\r', '\t', '\n', ' ', '!', '"', '#', '$', '&', '\'', '(', ')', '*', ';', '<', '>', '?',
        '[', '\\', ']', '^', '`', '{', '|', '}', '~',
    ];
    if !s.is_empty() && !s.contains(SPECIAL) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub(super) fn xml_to_argv(drv: &QemuDriver, xml: &str) -> Result<String> {
    let mut def = DomainDef::parse_with(xml, &parse_options())
        .map_err(|e| e.api_error("domain_definition", xml))?;
    let (emulator, accel) = crate::supervisor::boot::emulator_and_accel(&def)?;
    let caps = drv.caps_of(&emulator)?;
    // libvirt's pretend domain has id -1: its private directory is "domain--1-NAME".
    let dir = drv.reg.paths.lib.join(format!("domain--1-{}", def.name));
    let env = CmdlineEnv {
        monitor_fd: FAKE_MONITOR_FD,
        tap_fds: def.devices.interfaces.iter().map(|_| None).collect(),
        runtime_dir: dir.clone(),
        log_path: drv.log_path(&def.name),
        accel,
        sandbox: true,
    };
    cmdline::assign_channel_paths(&mut def, &dir);
    let argv = cmdline::build(&def, &caps, &env).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("unsupported configuration: ") {
            Some(rest) => Error::new(ErrorKind::ConfigUnsupported, rest),
            None => Error::new(ErrorKind::InternalError, msg),
        }
    })?;
    let fd_form = format!("socket,id=charmonitor,fd={FAKE_MONITOR_FD},server=on,wait=off");
    let path_form = format!(
        "socket,id=charmonitor,path={},server=on,wait=off",
        cmdline::escape::opt_value("monitor path", &dir.join("monitor.sock").to_string_lossy())
            .map_err(|e| Error::internal(e.to_string()))?
    );
    let dir_s = dir.to_string_lossy().into_owned();
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let logname = std::env::var("LOGNAME").unwrap_or_else(|_| user.clone());
    let mut words: Vec<String> = vec![
        "LC_ALL=C".into(),
        format!("PATH={path}"),
        format!("HOME={dir_s}"),
        format!("USER={user}"),
        format!("LOGNAME={logname}"),
        format!("XDG_DATA_HOME={dir_s}/.local/share"),
        format!("XDG_CACHE_HOME={dir_s}/.cache"),
        format!("XDG_CONFIG_HOME={dir_s}/.config"),
        emulator.to_string_lossy().into_owned(),
    ];
    words.extend(
        argv.into_iter()
            .map(|a| if a == fd_form { path_form.clone() } else { a }),
    );
    let mut out = words
        .iter()
        .map(|w| shell_escape(w))
        .collect::<Vec<_>>()
        .join(" ");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::shell_escape;

    #[test]
    fn quoting_like_virbufferescapeshell() {
        assert_eq!(shell_escape("-name"), "-name");
        assert_eq!(
            shell_escape("guest=a,debug-threads=on"),
            "guest=a,debug-threads=on"
        );
        assert_eq!(shell_escape(r#"{"a":1}"#), r#"'{"a":1}'"#);
        assert_eq!(shell_escape("it's"), r"'it'\''s'");
        assert_eq!(shell_escape(""), "''");
    }
}
