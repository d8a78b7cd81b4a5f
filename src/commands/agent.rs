//! Commands answered by the guest agent: qemu-agent-command, guestinfo, domfsinfo,
//! set-user-password (tools/virsh-domain.c: cmdQemuAgentCommand, cmdGuestInfo, cmdDomFSInfo,
//! cmdSetUserPassword).

use serde::Serialize;
use virtsh_api::flags::guest_info as gi;

use crate::commands::guest::domain_opt;
use crate::commands::host::opt_int;
use crate::commands::monitor::typed_value;
use crate::commands::options::req_str;
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};

/// VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK, _DEFAULT, _NOWAIT.
const AGENT_BLOCK: i32 = -2;
const AGENT_DEFAULT: i32 = -1;
const AGENT_NOWAIT: i32 = 0;

/// `qemu-agent-command DOMAIN [--timeout N | --async | --block] [--pretty] CMD...`: the
/// agent's reply as JSON text (yajl's pretty form with `--pretty`). JSON: the reply itself.
pub fn cmd_qemu_agent_command(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let text = cmd.all("cmd").join(" ");
    let mut timeout = AGENT_DEFAULT;
    let mut judge = 0;
    if let Some(t) = opt_int(cmd, "timeout")? {
        timeout = t;
        judge = 1;
        if t < 1 {
            return Err(CmdError::msg("timeout must be positive"));
        }
    }
    if cmd.has("async") {
        timeout = AGENT_NOWAIT;
        judge += 1;
    }
    if cmd.has("block") {
        timeout = AGENT_BLOCK;
        judge += 1;
    }
    if judge > 1 {
        return Err(CmdError::msg(
            "timeout, async and block options are exclusive",
        ));
    }
    let result = sh.conn()?.qemu_agent_command(&dom, &text, timeout, 0)?;
    if sh.json() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&result) {
            return sh.print_json(&v);
        }
    }
    let out = if cmd.has("pretty") {
        yajl_pretty(&result).unwrap_or(result)
    } else {
        result
    };
    sh.print(&format!("{out}\n"));
    Ok(())
}

/// `guestinfo DOMAIN [--user] [--os] [--timezone] [--hostname] [--filesystem] [--disk]
/// [--interface]`: one `FIELD : VALUE` line per typed parameter. JSON: `{"FIELD": VALUE}`.
pub fn cmd_guestinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let types = cmd.flags(&[
        ("user", gi::USERS),
        ("os", gi::OS),
        ("timezone", gi::TIMEZONE),
        ("hostname", gi::HOSTNAME),
        ("filesystem", gi::FILESYSTEM),
        ("disk", gi::DISKS),
        ("interface", gi::INTERFACES),
    ]);
    let (dom, _) = domain_opt(sh, cmd)?;
    let params = sh.conn()?.domain_guest_info(&dom, types, 0)?;
    if sh.json() {
        let map: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .map(|p| {
                (
                    p.field.clone(),
                    serde_json::to_value(&p.value).unwrap_or_default(),
                )
            })
            .collect();
        return sh.print_json(&map);
    }
    let mut out = String::new();
    for p in &params {
        out.push_str(&format!("{:<20}: {}\n", p.field, typed_value(&p.value)));
    }
    sh.print(&out);
    Ok(())
}

#[derive(Serialize)]
struct FsJson {
    mountpoint: String,
    name: String,
    #[serde(rename = "type")]
    fstype: String,
    targets: Vec<String>,
}

/// `domfsinfo DOMAIN`: Mountpoint, Name, Type, Target (the disks, comma-separated). JSON:
/// `[{"mountpoint", "name", "type", "targets": [...]}]`.
pub fn cmd_domfsinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let info = sh
        .conn()?
        .domain_fs_info(&dom, 0)
        .map_err(|e| CmdError::with("Unable to get filesystem information", e))?;
    if sh.json() {
        let v: Vec<FsJson> = info
            .into_iter()
            .map(|f| FsJson {
                mountpoint: f.mountpoint,
                name: f.name,
                fstype: f.fstype,
                targets: f.dev_aliases,
            })
            .collect();
        return sh.print_json(&v);
    }
    if info.is_empty() {
        sh.print_extra("No filesystems are mounted in the domain");
        return Ok(());
    }
    let mut t = Table::new(&["Mountpoint", "Name", "Type", "Target"]);
    for f in info {
        t.add_row(vec![
            f.mountpoint,
            f.name,
            f.fstype,
            f.dev_aliases.join(","),
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

/// `set-user-password DOMAIN USER PASSWORD [--encrypted]`.
pub fn cmd_set_user_password(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = u32::from(cmd.has("encrypted")); // VIR_DOMAIN_PASSWORD_ENCRYPTED
    let user = req_str(cmd, "user")?.to_string();
    let password = req_str(cmd, "password")?.to_string();
    let (dom, name) = domain_opt(sh, cmd)?;
    sh.writable("virDomainSetUserPassword")
        .and_then(|c| c.set_user_password(&dom, &user, &password, flags))?;
    sh.print_extra(&format!("Password set successfully for {user} in {name}"));
    Ok(())
}

/// One lexical token of a JSON text.
enum Tok<'a> {
    Open(u8),
    Close(u8),
    Comma,
    Colon,
    /// A string (still escaped, quotes included), number or literal.
    Atom(&'a str),
}

fn tokens(text: &str) -> Option<Vec<Tok<'_>>> {
    let b = text.as_bytes();
    let mut v = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'{' | b'[' => {
                v.push(Tok::Open(b[i]));
                i += 1;
            }
            b'}' | b']' => {
                v.push(Tok::Close(b[i]));
                i += 1;
            }
            b',' => {
                v.push(Tok::Comma);
                i += 1;
            }
            b':' => {
                v.push(Tok::Colon);
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return None;
                }
                i += 1;
                v.push(Tok::Atom(text.get(start..i)?));
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\n\r{}[],:\"".contains(&b[i]) {
                    i += 1;
                }
                v.push(Tok::Atom(text.get(start..i)?));
            }
        }
    }
    Some(v)
}

/// virJSONValueToString(value, pretty=true): yajl's beautifier with a two-space indent,
/// reproduced state by state (yajl_gen.c: INSERT_SEP, INSERT_WHITESPACE, APPENDED_ATOM,
/// FINAL_NEWLINE), so `{"return":{}}` becomes `{\n  "return": {\n\n  }\n}\n`. `None` for
/// text that is not JSON (virsh then prints it unchanged).
fn yajl_pretty(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text).ok()?;
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Start,
        MapStart,
        MapKey,
        MapVal,
        ArrayStart,
        InArray,
        Complete,
    }
    let mut state = vec![St::Start];
    let mut out = String::new();
    let sep = |state: &[St], out: &mut String| match state[state.len() - 1] {
        St::MapKey | St::InArray => out.push_str(",\n"),
        St::MapVal => out.push_str(": "),
        _ => {}
    };
    let white = |state: &[St], out: &mut String| {
        if state[state.len() - 1] != St::MapVal {
            out.push_str(&"  ".repeat(state.len() - 1));
        }
    };
    let appended = |state: &mut [St]| {
        let top = state.len() - 1;
        state[top] = match state[top] {
            St::Start => St::Complete,
            St::MapStart | St::MapKey => St::MapVal,
            St::ArrayStart => St::InArray,
            St::MapVal => St::MapKey,
            s => s,
        };
    };
    let final_nl = |state: &[St], out: &mut String| {
        if state[state.len() - 1] == St::Complete {
            out.push('\n');
        }
    };
    for t in tokens(text)? {
        match t {
            Tok::Comma | Tok::Colon => {}
            Tok::Open(c) => {
                sep(&state, &mut out);
                white(&state, &mut out);
                state.push(if c == b'{' {
                    St::MapStart
                } else {
                    St::ArrayStart
                });
                out.push(c as char);
                out.push('\n');
                final_nl(&state, &mut out);
            }
            Tok::Close(c) => {
                state.pop();
                if state.is_empty() {
                    return None;
                }
                out.push('\n');
                appended(&mut state);
                white(&state, &mut out);
                out.push(c as char);
                final_nl(&state, &mut out);
            }
            Tok::Atom(a) => {
                sep(&state, &mut out);
                white(&state, &mut out);
                out.push_str(a);
                appended(&mut state);
                final_nl(&state, &mut out);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::yajl_pretty;

    #[test]
    fn pretty_is_yajls() {
        assert_eq!(
            yajl_pretty(r#"{"return":{}}"#).unwrap(),
            "{\n  \"return\": {\n\n  }\n}\n"
        );
        assert_eq!(
            yajl_pretty(r#"{"return":{"a":[1,"x,y"],"b":true}}"#).unwrap(),
            "{\n  \"return\": {\n    \"a\": [\n      1,\n      \"x,y\"\n    ],\n    \"b\": true\n  }\n}\n"
        );
        assert_eq!(yajl_pretty("3").unwrap(), "3\n");
        assert!(yajl_pretty("{").is_none());
    }
}
