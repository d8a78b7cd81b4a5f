//! The host programs the network driver runs (dnsmasq, nft, iptables, tc): finding them and
//! naming a command in messages. One place, so every module looks in the same directories.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// Where the programs live when `PATH` lacks the sbin directories (a user's shell, sudo).
const SBIN_DIRS: [&str; 3] = ["/usr/sbin", "/sbin", "/usr/local/sbin"];

/// The executable `name`: the first in `PATH` (absolute entries only: a relative one would
/// depend on the directory virtsh runs in), else in the sbin directories.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The command as one would type it in a shell, for messages.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '-' | '_' | '.' | '/' | ':' | ',' | '=' | '+')
                });
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
