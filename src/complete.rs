//! Completion of command lines: command names, options, and option values (object names,
//! files, fixed value lists), all derived from the command declarations.
//!
//! Used by the interactive prompt and by the hidden `complete` command that shell
//! completion scripts call (as virsh's bash completion calls `virsh complete`).

use crate::def::{CommandDef, Complete, OptKind};

/// Object names the completer may offer, fetched from the connection before each prompt so the
/// completer itself never talks to a driver.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub domains: Vec<String>,
    pub networks: Vec<String>,
    pub pools: Vec<String>,
    pub interfaces: Vec<String>,
}

impl Names {
    pub fn collect(conn: &dyn virtsh_api::Connection) -> Names {
        let all =
            virtsh_api::flags::list_domains::ACTIVE | virtsh_api::flags::list_domains::INACTIVE;
        Names {
            domains: conn
                .list_all_domains(all)
                .map(|v| v.into_iter().map(|d| d.name).collect())
                .unwrap_or_default(),
            networks: conn
                .list_all_networks(0)
                .map(|v| v.into_iter().map(|n| n.name).collect())
                .unwrap_or_default(),
            pools: conn
                .list_all_pools(0)
                .map(|v| v.into_iter().map(|p| p.name).collect())
                .unwrap_or_default(),
            interfaces: conn
                .list_all_interfaces(0)
                .map(|v| v.into_iter().map(|i| i.name).collect())
                .unwrap_or_default(),
        }
    }
}

/// Candidates for the word that ends at the end of `line`, and the byte offset where that word
/// starts (what a candidate replaces).
pub fn complete(line: &str, names: &Names) -> (usize, Vec<String>) {
    // Only the last `;`-separated command matters.
    let cmd_start = line.rfind(';').map_or(0, |i| i + 1);
    let current = &line[cmd_start..];
    let word_start = current.rfind([' ', '\t']).map_or(0, |i| i + 1);
    let prefix = &current[word_start..];
    let before: Vec<&str> = current[..word_start].split_whitespace().collect();
    let start = cmd_start + word_start;

    let Some(first) = before.first() else {
        let cands = crate::defs::all()
            .filter(|c| !c.hidden && c.alias_of.is_none() && c.name.starts_with(prefix))
            .map(|c| c.name.to_string())
            .collect();
        return (start, cands);
    };
    let Some(def) = crate::defs::find(first) else {
        return (start, Vec::new());
    };
    let args = &before[1..];
    if prefix.starts_with('-') {
        let cands = def
            .opts
            .iter()
            .filter(|o| !matches!(o.kind, OptKind::Alias(_)))
            .filter(|o| {
                o.kind == OptKind::Argv || !args.contains(&format!("--{}", o.name).as_str())
            })
            .map(|o| format!("--{}", o.name))
            .filter(|o| o.starts_with(prefix))
            .collect();
        return (start, cands);
    }
    let kind = value_kind(def, args);
    (start, values(kind, prefix, names))
}

/// What the word being typed is the value of: the option just named (`--domain |`), or the
/// next positional option not yet given.
fn value_kind(def: &CommandDef, args: &[&str]) -> Complete {
    if let Some(last) = args.last().and_then(|a| a.strip_prefix("--")) {
        if let Some(o) = def.opt(last) {
            if o.kind != OptKind::Bool {
                return o.complete;
            }
        }
    }
    let mut given: Vec<&str> = Vec::new();
    let mut positional = 0;
    let mut i = 0;
    while i < args.len() {
        if let Some(name) = args[i].strip_prefix("--") {
            let name = name.split('=').next().unwrap_or(name);
            given.push(name);
            if let Some(o) = def.opt(name) {
                if o.kind != OptKind::Bool && !args[i].contains('=') {
                    i += 1;
                }
            }
        } else {
            positional += 1;
        }
        i += 1;
    }
    def.opts
        .iter()
        .filter(|o| o.positional() && !given.contains(&o.name))
        .nth(positional)
        .or_else(|| def.opts.iter().find(|o| o.kind == OptKind::Argv))
        .map_or(Complete::Nothing, |o| o.complete)
}

fn values(kind: Complete, prefix: &str, names: &Names) -> Vec<String> {
    let pick = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect()
    };
    match kind {
        Complete::Domain => pick(&names.domains),
        Complete::Network => pick(&names.networks),
        Complete::Pool => pick(&names.pools),
        Complete::Interface => pick(&names.interfaces),
        Complete::Values(list) => list
            .iter()
            .filter(|v| v.starts_with(prefix))
            .map(|v| v.to_string())
            .collect(),
        Complete::Command => crate::defs::all()
            .filter(|c| !c.hidden && c.alias_of.is_none() && c.name.starts_with(prefix))
            .map(|c| c.name.to_string())
            .collect(),
        Complete::File => files(prefix),
        Complete::Volume | Complete::Snapshot | Complete::Nothing => Vec::new(),
    }
}

/// Paths starting with `prefix`; directories get a trailing `/`.
fn files(prefix: &str) -> Vec<String> {
    let (dir, base) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(base) || (name.starts_with('.') && !base.starts_with('.')) {
                return None;
            }
            let slash = if e.file_type().ok()?.is_dir() {
                "/"
            } else {
                ""
            };
            Some(format!("{dir}{name}{slash}"))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            domains: vec!["test".into(), "web1".into()],
            networks: vec!["default".into()],
            pools: vec!["default-pool".into()],
            interfaces: vec!["eth1".into()],
        }
    }

    #[test]
    fn command_names() {
        let (start, c) = complete("domst", &names());
        assert_eq!(start, 0);
        assert!(c.contains(&"domstate".to_string()) && c.contains(&"domstats".to_string()));
        let (start, c) = complete("list; domsta", &names());
        assert_eq!(start, 6);
        assert!(c.contains(&"domstate".to_string()));
    }

    #[test]
    fn options_not_yet_given() {
        let (_, c) = complete("list --all --in", &names());
        assert_eq!(c, vec!["--inactive"]);
        let (_, c) = complete("list --all --al", &names());
        assert!(c.is_empty());
    }

    #[test]
    fn object_names_by_position_or_option() {
        assert_eq!(complete("dominfo w", &names()).1, vec!["web1"]);
        assert_eq!(complete("dominfo --domain t", &names()).1, vec!["test"]);
        assert_eq!(complete("net-info ", &names()).1, vec!["default"]);
        assert_eq!(complete("pool-info d", &names()).1, vec!["default-pool"]);
        let (_, c) = complete("help domi", &names());
        assert!(c.contains(&"dominfo".to_string()), "{c:?}");
    }
}
