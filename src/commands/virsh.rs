//! The "Virsh itself" group and the help texts: help, echo, cd, pwd, connect, quit, exit,
//! plus `-h` and `-V`, all rendered from the command declarations.

use crate::def::{CommandDef, OptKind};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use std::fmt::Write as _;

pub fn cmd_help(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let Some(name) = cmd.get("command") else {
        let mut out = String::from("Grouped commands:\n\n");
        for g in crate::defs::GROUPS {
            out.push_str(&group_listing(g, true));
            out.push('\n');
        }
        sh.print(&out);
        return Ok(());
    };
    if let Some(def) = crate::defs::find(name) {
        sh.print(&command_help(def));
        return Ok(());
    }
    if let Some(g) = crate::defs::group(name) {
        sh.print(&group_listing(g, true));
        return Ok(());
    }
    Err(CmdError::msg(format!(
        "command or command group '{name}' doesn't exist"
    )))
}

/// ` Group (help keyword 'kw'):` and one line per command.
fn group_listing(g: &crate::def::Group, colon: bool) -> String {
    let mut out = format!(
        " {} (help keyword '{}'){}\n",
        g.name,
        g.keyword,
        if colon { ":" } else { "" }
    );
    for c in crate::defs::listed_in_group(g) {
        let _ = writeln!(out, "    {:<30} {}", c.name, c.help);
    }
    out
}

/// `help COMMAND`, as vshCmddefHelp lays it out.
pub fn command_help(def: &CommandDef) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "  NAME\n    {} - {}\n\n  SYNOPSIS\n    {}",
        def.name, def.help, def.name
    );
    // Whether some option before an argv one can be given positionally: it changes how the
    // argv option is shown.
    let mut shortopt = false;
    for o in def.opts {
        let s = match o.kind {
            OptKind::Bool => format!("[--{}]", o.name),
            OptKind::Int => {
                if !o.req_opt {
                    shortopt = true;
                }
                if o.required {
                    format!("<{}>", o.name)
                } else {
                    format!("[--{} <number>]", o.name)
                }
            }
            OptKind::String => {
                if !o.req_opt {
                    shortopt = true;
                }
                format!("[--{} <string>]", o.name)
            }
            OptKind::Data => {
                if !o.req_opt {
                    shortopt = true;
                }
                if o.required {
                    format!("<{}>", o.name)
                } else {
                    format!("[<{}>]", o.name)
                }
            }
            OptKind::Argv => match (shortopt, o.required) {
                (true, true) => format!("{{[--{}] <string>}}...", o.name),
                (true, false) => format!("[[--{}] <string>]...", o.name),
                (false, true) => format!("<{}>...", o.name),
                (false, false) => format!("[<{}>]...", o.name),
            },
            OptKind::Alias(_) => continue,
        };
        out.push(' ');
        out.push_str(&s);
    }
    out.push('\n');
    if !def.desc.is_empty() {
        let _ = writeln!(out, "\n  DESCRIPTION\n    {}", def.desc);
    }
    if def
        .opts
        .iter()
        .any(|o| !matches!(o.kind, OptKind::Alias(_)))
    {
        out.push_str("\n  OPTIONS\n");
        for o in def.opts {
            let label = match o.kind {
                OptKind::Bool => format!("--{}", o.name),
                OptKind::Int if o.required => format!("[--{}] <number>", o.name),
                OptKind::Int => format!("--{} <number>", o.name),
                OptKind::String => format!("--{} <string>", o.name),
                OptKind::Data => format!("[--{}] <string>", o.name),
                OptKind::Argv if shortopt => format!("[--{}] <string>", o.name),
                OptKind::Argv => format!("<{}>", o.name),
                OptKind::Alias(_) => continue,
            };
            let _ = writeln!(out, "    {label:<15}  {}", o.help);
        }
    }
    out.push('\n');
    out
}

/// `virsh -h`
pub fn usage(prog: &str) -> String {
    let mut out = format!(
        "\n{prog} [options]... [<command_string>]\n\
         {prog} [options]... <command> [args...]\n\n\
         \x20 options:\n\
         \x20   -c | --connect=URI      hypervisor connection URI\n\
         \x20   -d | --debug=NUM        debug level [0-4]\n\
         \x20   -e | --escape <char>    set escape sequence for console\n\
         \x20   -h | --help             this help\n\
         \x20   -k | --keepalive-interval=NUM\n\
         \x20                           keepalive interval in seconds, 0 for disable\n\
         \x20   -K | --keepalive-count=NUM\n\
         \x20                           number of possible missed keepalive messages\n\
         \x20   -l | --log=FILE         output logging to file\n\
         \x20   -o | --output=FORMAT    output format: text (default) or json\n\
         \x20   -q | --quiet            quiet mode\n\
         \x20   -r | --readonly         connect readonly\n\
         \x20   -t | --timing           print timing information\n\
         \x20   -v                      short version\n\
         \x20   -V                      long version\n\
         \x20        --version[=TYPE]   version, TYPE is short or long (default short)\n\
         \x20 commands (non interactive mode):\n\n"
    );
    for g in crate::defs::GROUPS {
        out.push_str(&group_listing(g, false));
        out.push('\n');
    }
    out.push_str(
        "\n  (specify help <group> for details about the commands in the group)\n\n  \
         (specify help <command> for details about the command)\n\n",
    );
    out
}

pub fn long_version(prog: &str) -> String {
    format!(
        "Virsh command line tool of libvirt {v}\n\
         See web site at https://libvirt.org/\n\n\
         Compiled with support for:\n \
         Hypervisors: Test\n \
         Networking: Virtual\n \
         Storage: Dir\n \
         Miscellaneous: Daemon-less\n\n\
         ({prog} {own})\n",
        v = crate::run::LIBVIRT_COMPAT_VERSION,
        own = env!("CARGO_PKG_VERSION"),
    )
}

pub fn cmd_echo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let shell = cmd.has("shell");
    let xml = cmd.has("xml");
    let split = cmd.has("split");
    let mut words: Vec<String> = Vec::new();
    for arg in cmd.all("string") {
        if split {
            words.extend(split_commas(arg));
        } else {
            words.push(arg.to_string());
        }
    }
    let text = words
        .iter()
        .map(|w| {
            let w = if xml {
                virtsh_xml::writer::escape(w)
            } else {
                w.clone()
            };
            if shell {
                shell_quote(&w)
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if cmd.has("err") {
        sh.error(&text);
    } else {
        sh.print(&text);
    }
    Ok(())
}

/// virsh's vshStringToArray: split on ',', with ',,' standing for a literal comma.
pub fn split_commas(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                if let Some(w) = out.last_mut() {
                    w.push(',');
                }
            } else {
                out.push(String::new());
            }
        } else if let Some(w) = out.last_mut() {
            w.push(c);
        }
    }
    out
}

/// libvirt's virBufferEscapeShell: quote only when needed, `'` as `'\''`.
fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    const SPECIAL: &str = "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~";
    if !s.chars().any(|c| SPECIAL.contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn cmd_cd(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    if !sh.interactive {
        return Err(CmdError::msg("cd: command valid only in interactive mode"));
    }
    let dir = match cmd.get("dir") {
        Some(d) => d.to_string(),
        None => std::env::var("HOME").unwrap_or_else(|_| "/".into()),
    };
    std::env::set_current_dir(&dir)
        .map_err(|e| CmdError::msg(format!("cd: Unable to change to {dir}: {}", os_err(&e))))
}

pub fn cmd_pwd(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    let cwd = std::env::current_dir()
        .map_err(|e| CmdError::msg(format!("failed to get current directory: {}", os_err(&e))))?;
    sh.print(&format!("{}\n", cwd.display()));
    Ok(())
}

/// The strerror() text, without Rust's " (os error N)" suffix.
pub use virtsh_api::strerror as os_err;

pub fn cmd_connect(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let readonly = cmd.has("readonly");
    let uri = match cmd.get("name") {
        Some(u) => u.to_string(),
        None => sh
            .uri
            .clone()
            .unwrap_or_else(|| crate::connect::resolve_uri(None)),
    };
    // virsh closes the old connection before opening the new one, so `connect` to the same
    // test:///default starts from fresh state. When the new one fails, the next command gets
    // the old URI back (virsh reconnects to it).
    let old = sh.conn.take();
    let old_uri = sh.uri.clone();
    drop(old);
    if let Err(lines) = sh.connect(&uri, readonly) {
        if let Some(u) = old_uri {
            let _ = sh.connect(&u, sh.readonly);
        }
        return Err(CmdError::lines(lines));
    }
    Ok(())
}

pub fn cmd_quit(sh: &mut Shell, _cmd: &ParsedCmd) -> CmdResult {
    sh.quit = true;
    Ok(())
}

/// The hidden `complete` command: candidates for a partial command line, one per line, for
/// shell completion scripts.
pub fn cmd_complete(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let line = cmd.all("string").join(" ");
    let names = sh
        .conn
        .as_deref()
        .map(crate::complete::Names::collect)
        .unwrap_or_default();
    let (_, candidates) = crate::complete::complete(&line, &names);
    let mut out = String::new();
    for c in candidates {
        out.push_str(&c);
        out.push('\n');
    }
    sh.print(&out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_split_with_escape() {
        assert_eq!(split_commas("a,b,,c"), vec!["a", "b,c"]);
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("plain"), "plain");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
