//! Secrets: secret-define, secret-dumpxml, secret-set-value, secret-get-value,
//! secret-undefine, secret-list (tools/virsh-secret.c).

use crate::commands::lifecycle::read_file;
use crate::commands::network::parse_uuid_c;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::output::Table;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::flags::list_secrets as L;
use virtsh_api::{Error, ErrorKind, Secret};

/// virSecretUsageType, by value.
const USAGE_TYPES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// g_base64_encode
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// g_base64_decode: characters outside the alphabet are skipped, '=' ends the data.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = B64.iter().position(|x| *x == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// virshCommandOptSecret: the `--secret` option, a UUID.
fn secret(sh: &Shell, cmd: &ParsedCmd) -> Result<(Secret, String), CmdError> {
    let text = req_str(cmd, "secret")?;
    let found = match parse_uuid_c(text) {
        Some(u) => sh.conn()?.lookup_secret_by_uuid(&u),
        None => Err(Error::raw(
            ErrorKind::InvalidArg,
            "uuidstr in virSecretLookupByUUIDString must be a valid UUID",
        )),
    };
    found
        .map(|s| (s, text.to_string()))
        .map_err(|e| CmdError::with(format!("failed to get secret '{text}'"), e))
}

/// `secret-define FILE [--validate]`.
pub fn cmd_secret_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = req_str(cmd, "file")?;
    let f = u32::from(cmd.has("validate")); // VIR_SECRET_DEFINE_VALIDATE
    let xml = read_file(file)?;
    let s = sh
        .writable("virSecretDefineXML")
        .and_then(|c| c.define_secret(&xml, f))
        .map_err(|e| CmdError::with(format!("Failed to set attributes from {file}"), e))?;
    sh.print_extra(&format!("Secret {} created\n", s.uuid));
    Ok(())
}

/// `secret-dumpxml SECRET`: the XML (never JSON), or what `--xpath` selects.
pub fn cmd_secret_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (s, _) = secret(sh, cmd)?;
    let xml = sh.conn()?.secret_xml(&s, 0)?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

/// `secret-set-value SECRET (--file F [--plain] | --base64 B | --interactive)`.
pub fn cmd_secret_set_value(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    for (a, b) in [
        ("file", "base64"),
        ("plain", "base64"),
        ("interactive", "base64"),
        ("interactive", "plain"),
        ("interactive", "file"),
    ] {
        exclusive(cmd, a, b)?;
    }
    let mut plain = cmd.has("plain");
    let (s, _) = secret(sh, cmd)?;
    let base64 = opt_str(cmd, "base64")?;
    let file = opt_str(cmd, "file")?;
    let value: Vec<u8> = if let Some(b) = base64 {
        sh.error("Passing secret value as command-line argument is insecure!");
        b.as_bytes().to_vec()
    } else if let Some(f) = file {
        let text = std::fs::read(f).map_err(|e| {
            CmdError::msg(format!(
                "Failed to open file '{f}': {}",
                crate::commands::virsh::os_err(&e)
            ))
        })?;
        if text.len() > 1024 {
            return Err(CmdError::msg(format!("File '{f}' is too large")));
        }
        text
    } else if cmd.has("interactive") {
        sh.print("Enter new value for secret:");
        sh.flush();
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|_| CmdError::msg("Failed to read secret"))?;
        plain = true;
        line.trim_end_matches(['\n', '\r']).as_bytes().to_vec()
    } else {
        return Err(CmdError::msg("Input secret value is missing"));
    };
    let value = if plain {
        value
    } else {
        base64_decode(&String::from_utf8_lossy(&value))
    };
    sh.writable("virSecretSetValue")
        .and_then(|c| c.set_secret_value(&s, &value, 0))
        .map_err(|e| CmdError::with("Failed to set secret value", e))?;
    sh.print_extra("Secret value set\n");
    Ok(())
}

/// `secret-get-value SECRET [--plain]`: the value in base64 (no newline), or raw.
pub fn cmd_secret_get_value(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (s, _) = secret(sh, cmd)?;
    let value = sh.writable("virSecretGetValue")?.secret_value(&s, 0)?;
    if cmd.has("plain") {
        sh.flush();
        use std::io::Write;
        std::io::stdout()
            .write_all(&value)
            .map_err(|_| CmdError::msg("failed to write secret"))?;
        return Ok(());
    }
    sh.print(&base64_encode(&value));
    Ok(())
}

/// `secret-undefine SECRET`.
pub fn cmd_secret_undefine(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (s, text) = secret(sh, cmd)?;
    sh.writable("virSecretUndefine")
        .and_then(|c| c.undefine_secret(&s))
        .map_err(|e| CmdError::with(format!("Failed to delete secret {text}"), e))?;
    sh.print_extra(&format!("Secret {text} deleted\n"));
    Ok(())
}

/// virshSecretListCollect: virConnectListAllSecrets, or the old calls when the server has
/// no such call (and no filter was asked for).
fn collect(sh: &Shell, flags: u32) -> Result<Vec<Secret>, CmdError> {
    let conn = sh.conn()?;
    let mut list = match conn.list_all_secrets(flags) {
        Ok(l) => l,
        Err(e) if e.kind == ErrorKind::NoSupport => {
            if flags != 0 {
                return Err(CmdError::msg("Filtering is not supported by this libvirt"));
            }
            let n = conn
                .num_of_secrets()
                .map_err(|e| CmdError::with("Failed to count secrets", e))?;
            if n == 0 {
                return Ok(Vec::new());
            }
            let uuids = conn
                .list_secret_uuids(n)
                .map_err(|e| CmdError::with("Failed to list secrets", e))?;
            uuids
                .iter()
                .filter_map(|u| parse_uuid_c(u))
                .filter_map(|u| conn.lookup_secret_by_uuid(&u).ok())
                .collect()
        }
        Err(e) => return Err(CmdError::with("Failed to list node secrets", e)),
    };
    list.sort_by_key(|s| s.uuid.to_string().to_lowercase());
    Ok(list)
}

#[derive(Serialize)]
struct SecretEntry {
    uuid: String,
    /// "volume", "ceph", ... or null when unused.
    usage: Option<String>,
    usage_id: Option<String>,
}

/// `secret-list [--ephemeral] [--no-ephemeral] [--private] [--no-private]`. JSON:
/// `[{"uuid", "usage", "usage_id"}]`, by UUID.
pub fn cmd_secret_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[
        ("ephemeral", L::EPHEMERAL),
        ("no-ephemeral", L::NO_EPHEMERAL),
        ("private", L::PRIVATE),
        ("no-private", L::NO_PRIVATE),
    ]);
    let list = collect(sh, flags)?;
    let usage_name = |t: i32| USAGE_TYPES.get(t as usize).copied().unwrap_or("");
    if sh.json() {
        let out: Vec<SecretEntry> = list
            .iter()
            .map(|s| SecretEntry {
                uuid: s.uuid.to_string(),
                usage: (s.usage_type != 0).then(|| usage_name(s.usage_type).to_string()),
                usage_id: (s.usage_type != 0).then(|| s.usage_id.clone()),
            })
            .collect();
        return sh.print_json(&out);
    }
    let mut t = Table::new(&["UUID", "Usage"]);
    for s in &list {
        let usage = if s.usage_type != 0 {
            format!("{} {}", usage_name(s.usage_type), s.usage_id)
        } else {
            "Unused".to_string()
        };
        t.add_row(vec![s.uuid.to_string(), usage]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "a", "ab", "abc", "abcd", "secret value"] {
            assert_eq!(base64_decode(&base64_encode(s.as_bytes())), s.as_bytes());
        }
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YW\nJj"), b"abc");
    }
}
