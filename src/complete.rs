//! Completion of command lines: command names, options, and option values (object names,
//! files, fixed value lists), all derived from the command declarations.
//!
//! Used by the interactive prompt and by the hidden `complete` command that shell
//! completion scripts call (as virsh's bash completion calls `virsh complete`).
//!
//! Design of the object names: the prompt's completer runs inside reedline, which wants a
//! `Send` completer, while a connection is neither `Send` nor cheap to call at every keystroke.
//! So everything a completion may offer is gathered into a plain [`Names`] snapshot by
//! [`Names::collect`] before each prompt (and once by the `complete` command), and
//! [`complete`] is a pure function of the line and that snapshot:
//! - domains carry the `virConnectListAllDomains` filter bits they match, so a command can
//!   offer only the domains it accepts (see [`domain_filter`]);
//! - volumes are gathered per active pool, snapshots per domain that has any, each bounded by
//!   [`MAX_LISTED`] pools/domains so a large host does not slow every prompt down; a pool or
//!   domain beyond the bound just completes nothing.

use crate::def::{CommandDef, Complete, OptKind};
use virtsh_api::flags::list_domains as ld;

/// At most this many pools have their volumes listed, and this many domains their snapshots,
/// before each prompt.
pub const MAX_LISTED: usize = 64;

/// A domain name and the `VIR_CONNECT_LIST_DOMAINS_*` bits it matches. Both the positive and
/// the negative bit of each filter group are recorded (`ACTIVE` or `INACTIVE`, ...); when the
/// driver could not answer for a group, both are set, so the domain is never wrongly hidden.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DomainName {
    pub name: String,
    pub flags: u32,
}

/// Object names the completer may offer, fetched from the connection before each prompt so the
/// completer itself never talks to a driver.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub domains: Vec<DomainName>,
    pub networks: Vec<String>,
    pub pools: Vec<String>,
    pub interfaces: Vec<String>,
    /// (pool, volume names and keys) for active pools.
    pub volumes: Vec<(String, Vec<VolName>)>,
    /// (domain, snapshot names) for domains with snapshots.
    pub snapshots: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VolName {
    pub name: String,
    /// The key (a path for file-based pools): names a volume without its pool.
    pub key: String,
}

/// The filter groups of virConnectListAllDomains: within a group the bits are alternatives,
/// across groups all must hold (as libvirt's virDomainObjListFilter).
const DOMAIN_GROUPS: [u32; 7] = [
    ld::ACTIVE | ld::INACTIVE,
    ld::PERSISTENT | ld::TRANSIENT,
    ld::RUNNING | ld::PAUSED | ld::SHUTOFF | ld::OTHER,
    ld::MANAGEDSAVE | ld::NO_MANAGEDSAVE,
    ld::AUTOSTART | ld::NO_AUTOSTART,
    ld::HAS_SNAPSHOT | ld::NO_SNAPSHOT,
    ld::HAS_CHECKPOINT | ld::NO_CHECKPOINT,
];

/// Whether a domain with `have` bits passes the list filter `want`.
fn domain_matches(have: u32, want: u32) -> bool {
    DOMAIN_GROUPS
        .iter()
        .all(|g| want & g == 0 || have & want & g != 0)
}

/// The domains a command accepts, as the `VIR_CONNECT_LIST_DOMAINS_*` flags virsh's domain
/// completer is given for it: libvirt 9.0 tools/virsh-domain.c, virsh-domain-monitor.c,
/// virsh-snapshot.c, virsh-checkpoint.c and virsh-backup.c, the argument of
/// `VIRSH_COMMON_OPT_DOMAIN_FULL(flags)` / `VIRSH_COMMON_OPT_DOMAIN(help, flags)` in each
/// command's option table. Commands not listed take flags 0: every domain.
pub fn domain_filter(command: &str) -> u32 {
    const ACTIVE: &[&str] = &[
        "backup-begin",
        "backup-dumpxml",
        "blockcommit",
        "blockcopy",
        "blockjob",
        "blockpull",
        "blockresize",
        "checkpoint-create",
        "checkpoint-create-as",
        "console",
        "cpu-stats",
        "destroy",
        "domblkerror",
        "domblkstat",
        "domblkthreshold",
        "domcontrol",
        "domdisplay",
        "domfsfreeze",
        "domfsinfo",
        "domfsthaw",
        "domfstrim",
        "domhostname",
        "domid",
        "domifaddr",
        "domifstat",
        "domjobabort",
        "domjobinfo",
        "dommemstat",
        "domtime",
        "dump",
        "get-user-sshkeys",
        "guestinfo",
        "guestvcpus",
        "inject-nmi",
        "lxc-enter-namespace",
        "managedsave",
        "migrate-compcache",
        "migrate-getmaxdowntime",
        "migrate-getspeed",
        "migrate-postcopy",
        "migrate-setmaxdowntime",
        "migrate-setspeed",
        "qemu-agent-command",
        "qemu-monitor-command",
        "reboot",
        "reset",
        "save",
        "screenshot",
        "send-key",
        "send-process-signal",
        "set-user-password",
        "set-user-sshkeys",
        "shutdown",
        "ttyconsole",
        "vncdisplay",
    ];
    const HAS_SNAPSHOT: &[&str] = &[
        "snapshot-current",
        "snapshot-delete",
        "snapshot-dumpxml",
        "snapshot-edit",
        "snapshot-info",
        "snapshot-list",
        "snapshot-parent",
        "snapshot-revert",
    ];
    const HAS_CHECKPOINT: &[&str] = &[
        "checkpoint-dumpxml",
        "checkpoint-edit",
        "checkpoint-info",
        "checkpoint-list",
        "checkpoint-parent",
    ];
    const MANAGEDSAVE: &[&str] = &[
        "managedsave-define",
        "managedsave-dumpxml",
        "managedsave-edit",
        "managedsave-remove",
    ];
    match command {
        "start" => ld::SHUTOFF,
        "domrename" => ld::INACTIVE,
        "suspend" | "dompmsuspend" => ld::RUNNING,
        "resume" => ld::PAUSED,
        "dompmwakeup" => ld::OTHER,
        "autostart" | "undefine" => ld::PERSISTENT,
        "checkpoint-delete" => ld::HAS_CHECKPOINT | ld::ACTIVE,
        c if ACTIVE.contains(&c) => ld::ACTIVE,
        c if HAS_SNAPSHOT.contains(&c) => ld::HAS_SNAPSHOT,
        c if HAS_CHECKPOINT.contains(&c) => ld::HAS_CHECKPOINT,
        c if MANAGEDSAVE.contains(&c) => ld::MANAGEDSAVE,
        _ => 0,
    }
}

fn names_of<T>(r: virtsh_api::Result<Vec<T>>, name: impl Fn(T) -> String) -> Vec<String> {
    r.map(|v| v.into_iter().map(name).collect())
        .unwrap_or_default()
}

impl Names {
    pub fn collect(conn: &dyn virtsh_api::Connection) -> Names {
        let domains = Self::collect_domains(conn);
        let pools: Vec<String> = names_of(conn.list_all_pools(0), |p| p.name);
        let volumes = conn
            .list_all_pools(virtsh_api::flags::list_pools::ACTIVE)
            .unwrap_or_default()
            .into_iter()
            .take(MAX_LISTED)
            .map(|p| {
                let vols = conn
                    .list_all_volumes(&p, 0)
                    .map(|v| {
                        v.into_iter()
                            .map(|v| VolName {
                                name: v.name,
                                key: v.key,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (p.name, vols)
            })
            .collect();
        let snapshots = conn
            .list_all_domains(ld::ACTIVE | ld::INACTIVE | ld::HAS_SNAPSHOT)
            .unwrap_or_default()
            .into_iter()
            .take(MAX_LISTED)
            .map(|d| {
                let snaps = names_of(conn.list_snapshots(&d, 0), |s| s.name);
                (d.name, snaps)
            })
            .collect();
        Names {
            domains,
            networks: names_of(conn.list_all_networks(0), |n| n.name),
            pools,
            interfaces: names_of(conn.list_all_interfaces(0), |i| i.name),
            volumes,
            snapshots,
        }
    }

    /// Every domain with the filter bits it matches: one listing per group the completion
    /// table uses (a fixed number of calls, whatever the number of domains).
    fn collect_domains(conn: &dyn virtsh_api::Connection) -> Vec<DomainName> {
        let Ok(all) = conn.list_all_domains(ld::ACTIVE | ld::INACTIVE) else {
            return Vec::new();
        };
        let listed = |flag: u32| -> Option<Vec<String>> {
            conn.list_all_domains(flag)
                .ok()
                .map(|v| v.into_iter().map(|d| d.name).collect())
        };
        // (bit when listed, bit when not listed, the listing).
        let groups = [
            (ld::PERSISTENT, ld::TRANSIENT, listed(ld::PERSISTENT)),
            (ld::RUNNING, 0, listed(ld::RUNNING)),
            (ld::PAUSED, 0, listed(ld::PAUSED)),
            (ld::MANAGEDSAVE, ld::NO_MANAGEDSAVE, listed(ld::MANAGEDSAVE)),
            (ld::HAS_SNAPSHOT, ld::NO_SNAPSHOT, listed(ld::HAS_SNAPSHOT)),
            (
                ld::HAS_CHECKPOINT,
                ld::NO_CHECKPOINT,
                listed(ld::HAS_CHECKPOINT),
            ),
        ];
        all.into_iter()
            .map(|d| {
                // Inactive domains are shut off; active ones neither running nor paused are
                // in some other state (blocked, pmsuspended, shutting down, crashed).
                let mut flags = if d.is_running() {
                    ld::ACTIVE
                } else {
                    ld::INACTIVE | ld::SHUTOFF
                };
                flags |= ld::AUTOSTART | ld::NO_AUTOSTART;
                for (yes, no, list) in &groups {
                    flags |= match list {
                        Some(l) if l.contains(&d.name) => *yes,
                        Some(_) => *no,
                        None => yes | no,
                    };
                }
                if d.is_running() && flags & (ld::RUNNING | ld::PAUSED) == 0 {
                    flags |= ld::OTHER;
                }
                DomainName {
                    name: d.name,
                    flags,
                }
            })
            .collect()
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
    let given = Given::parse(def, args);
    let kind = given.completing;
    (start, values(kind, prefix, names, def, &given))
}

/// What the words already on the line say: the values given to options (by name or by
/// position), and what the word being typed is the value of.
struct Given<'a> {
    values: Vec<(&'static str, &'a str)>,
    completing: Complete,
}

impl<'a> Given<'a> {
    fn parse(def: &CommandDef, args: &[&'a str]) -> Given<'a> {
        let mut values: Vec<(&'static str, &'a str)> = Vec::new();
        let mut named: Vec<&str> = Vec::new();
        let mut positional: Vec<&'a str> = Vec::new();
        let mut completing = None;
        let mut i = 0;
        while i < args.len() {
            if let Some(opt) = args[i].strip_prefix("--") {
                let (name, inline) = match opt.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (opt, None),
                };
                named.push(name);
                if let Some(o) = def.opt(name) {
                    if o.kind != OptKind::Bool {
                        match inline {
                            Some(v) => values.push((o.name, v)),
                            None => match args.get(i + 1) {
                                Some(v) => {
                                    values.push((o.name, v));
                                    i += 1;
                                }
                                // `--domain |`: the word being typed is its value.
                                None => completing = Some(o.complete),
                            },
                        }
                    }
                }
            } else {
                positional.push(args[i]);
            }
            i += 1;
        }
        let mut free = def
            .opts
            .iter()
            .filter(|o| o.positional() && !named.contains(&o.name));
        let argv = def.opts.iter().find(|o| o.kind == OptKind::Argv);
        for v in positional {
            if let Some(o) = free.next().or(argv) {
                values.push((o.name, v));
            }
        }
        let completing = completing.unwrap_or_else(|| {
            free.next()
                .or(argv)
                .map_or(Complete::Nothing, |o| o.complete)
        });
        Given { values, completing }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

fn values(
    kind: Complete,
    prefix: &str,
    names: &Names,
    def: &CommandDef,
    given: &Given,
) -> Vec<String> {
    let pick = |list: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        list.filter(|n| n.starts_with(prefix)).cloned().collect()
    };
    match kind {
        Complete::Domain => {
            let want = domain_filter(def.alias_of.unwrap_or(def.name));
            pick(
                &mut names
                    .domains
                    .iter()
                    .filter(|d| domain_matches(d.flags, want))
                    .map(|d| &d.name),
            )
        }
        Complete::Network => pick(&mut names.networks.iter()),
        Complete::Pool => pick(&mut names.pools.iter()),
        Complete::Interface => pick(&mut names.interfaces.iter()),
        Complete::Volume => {
            // The volume's pool: `--inputpool` where the command has one (vol-create-from,
            // where `--pool` is the new volume's), else `--pool`, by name or position.
            let pool_opt = if def.opt("inputpool").is_some() {
                "inputpool"
            } else {
                "pool"
            };
            match given.get(pool_opt) {
                Some(pool) => names
                    .volumes
                    .iter()
                    .filter(|(p, _)| p == pool)
                    .flat_map(|(_, v)| v.iter().map(|v| &v.name))
                    .filter(|n| n.starts_with(prefix))
                    .cloned()
                    .collect(),
                // Without a pool a volume is found by key or path only, so offer those.
                None => {
                    let mut keys: Vec<String> = names
                        .volumes
                        .iter()
                        .flat_map(|(_, v)| v.iter().map(|v| &v.key))
                        .filter(|k| k.starts_with(prefix))
                        .cloned()
                        .collect();
                    keys.sort();
                    keys.dedup();
                    keys
                }
            }
        }
        Complete::Snapshot => match given.get("domain") {
            Some(dom) => names
                .snapshots
                .iter()
                .filter(|(d, _)| d == dom)
                .flat_map(|(_, s)| s.iter())
                .filter(|n| n.starts_with(prefix))
                .cloned()
                .collect(),
            None => Vec::new(),
        },
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
        Complete::Nothing => Vec::new(),
    }
}

/// The command's one-line synopsis, exactly as `help COMMAND` prints it under SYNOPSIS
/// (`dominfo <domain>`), for the prompt's hint.
pub fn synopsis(def: &CommandDef) -> String {
    let help = crate::commands::virsh::command_help(def);
    let mut lines = help.lines();
    lines
        .by_ref()
        .find(|l| l.trim() == "SYNOPSIS")
        .and_then(|_| lines.next())
        .map_or_else(|| def.name.to_string(), |l| l.trim().to_string())
}

/// The hint shown after the typed line: the synopsis of the command being typed, once its
/// name is complete (empty otherwise).
pub fn hint(line: &str) -> String {
    let cmd_start = line.rfind(';').map_or(0, |i| i + 1);
    let current = &line[cmd_start..];
    let mut words = current.split_whitespace();
    let Some(first) = words.next() else {
        return String::new();
    };
    // While the name is still being typed, no hint (it could be a prefix of another).
    if words.next().is_none() && !current.ends_with([' ', '\t']) {
        return String::new();
    }
    let Some(def) = crate::defs::find(first) else {
        return String::new();
    };
    let def = def.alias_of.and_then(crate::defs::find).unwrap_or(def);
    let sep = if line.ends_with([' ', '\t']) {
        ""
    } else {
        "  "
    };
    format!("{sep}# {}", synopsis(def))
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

    fn dom(name: &str, flags: u32) -> DomainName {
        DomainName {
            name: name.into(),
            flags,
        }
    }

    fn names() -> Names {
        let running = ld::ACTIVE | ld::RUNNING | ld::PERSISTENT | ld::NO_MANAGEDSAVE;
        Names {
            domains: vec![
                dom("test", running | ld::HAS_SNAPSHOT | ld::NO_CHECKPOINT),
                dom("web1", running | ld::NO_SNAPSHOT | ld::NO_CHECKPOINT),
                dom(
                    "off1",
                    ld::INACTIVE | ld::SHUTOFF | ld::PERSISTENT | ld::MANAGEDSAVE | ld::NO_SNAPSHOT,
                ),
                dom(
                    "paused1",
                    ld::ACTIVE | ld::PAUSED | ld::TRANSIENT | ld::NO_SNAPSHOT,
                ),
            ],
            networks: vec!["default".into()],
            pools: vec!["default-pool".into(), "other".into()],
            interfaces: vec!["eth1".into()],
            volumes: vec![
                (
                    "default-pool".into(),
                    vec![
                        VolName {
                            name: "disk1.img".into(),
                            key: "/pool/disk1.img".into(),
                        },
                        VolName {
                            name: "disk2.img".into(),
                            key: "/pool/disk2.img".into(),
                        },
                    ],
                ),
                (
                    "other".into(),
                    vec![VolName {
                        name: "data.qcow2".into(),
                        key: "/other/data.qcow2".into(),
                    }],
                ),
            ],
            snapshots: vec![("test".into(), vec!["snap1".into(), "snap2".into()])],
        }
    }

    fn cands(line: &str) -> Vec<String> {
        complete(line, &names()).1
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
        assert_eq!(cands("list --all --in"), vec!["--inactive"]);
        assert!(cands("list --all --al").is_empty());
    }

    #[test]
    fn object_names_by_position_or_option() {
        assert_eq!(cands("dominfo w"), vec!["web1"]);
        assert_eq!(cands("dominfo --domain t"), vec!["test"]);
        assert_eq!(cands("net-info "), vec!["default"]);
        assert_eq!(cands("pool-info d"), vec!["default-pool"]);
        let c = cands("help domi");
        assert!(c.contains(&"dominfo".to_string()), "{c:?}");
    }

    #[test]
    fn domains_filtered_per_command() {
        // All of them where virsh passes no flags.
        assert_eq!(cands("dominfo "), vec!["test", "web1", "off1", "paused1"]);
        // Only the shut off ones for start.
        assert_eq!(cands("start "), vec!["off1"]);
        assert_eq!(cands("start --domain "), vec!["off1"]);
        // Active ones (running or paused) for shutdown, destroy, console.
        for cmd in [
            "shutdown",
            "reboot",
            "destroy",
            "console",
            "domstate --reason; destroy",
        ] {
            assert_eq!(
                cands(&format!("{cmd} ")),
                vec!["test", "web1", "paused1"],
                "{cmd}"
            );
        }
        // Running ones for suspend, paused ones for resume.
        assert_eq!(cands("suspend "), vec!["test", "web1"]);
        assert_eq!(cands("resume "), vec!["paused1"]);
        // Persistent ones for undefine, those with a managed save image for its commands.
        assert_eq!(cands("undefine "), vec!["test", "web1", "off1"]);
        assert_eq!(cands("managedsave-remove "), vec!["off1"]);
        assert_eq!(cands("snapshot-list "), vec!["test"]);
        assert_eq!(cands("shutdown w"), vec!["web1"]);
    }

    #[test]
    fn unknown_filter_groups_hide_nothing() {
        // A domain the driver could not classify carries both bits of each group.
        let all = DOMAIN_GROUPS.iter().fold(0, |a, g| a | g);
        for want in [ld::ACTIVE, ld::INACTIVE, ld::PAUSED, ld::HAS_SNAPSHOT, 0] {
            assert!(domain_matches(all, want));
        }
        assert!(domain_matches(
            ld::ACTIVE | ld::HAS_CHECKPOINT,
            ld::ACTIVE | ld::HAS_CHECKPOINT
        ));
        assert!(!domain_matches(
            ld::INACTIVE | ld::HAS_CHECKPOINT,
            ld::ACTIVE | ld::HAS_CHECKPOINT
        ));
    }

    #[test]
    fn volumes_of_the_named_pool() {
        assert_eq!(
            cands("vol-info --pool default-pool "),
            vec!["disk1.img", "disk2.img"]
        );
        assert_eq!(cands("vol-info --pool=other "), vec!["data.qcow2"]);
        assert_eq!(
            cands("vol-info --pool default-pool disk2"),
            vec!["disk2.img"]
        );
        // The pool given positionally (vol-create-from POOL FILE VOL --inputpool P).
        assert_eq!(
            cands("vol-create-from default-pool f.xml --inputpool other "),
            vec!["data.qcow2"]
        );
        // A pool with no listing completes nothing.
        assert!(cands("vol-info --pool nosuch ").is_empty());
        // Without a pool: keys and paths, which find a volume on their own.
        assert_eq!(
            cands("vol-info /pool/"),
            vec!["/pool/disk1.img", "/pool/disk2.img"]
        );
        // The option's own value is still a pool.
        assert_eq!(cands("vol-info disk1.img --pool o"), vec!["other"]);
    }

    #[test]
    fn snapshots_of_the_named_domain() {
        assert_eq!(cands("snapshot-info test "), vec!["snap1", "snap2"]);
        assert_eq!(
            cands("snapshot-info --domain test --snapshotname snap2"),
            vec!["snap2"]
        );
        assert_eq!(cands("snapshot-dumpxml test s"), vec!["snap1", "snap2"]);
        assert!(cands("snapshot-info web1 ").is_empty());
        assert!(cands("snapshot-info --snapshotname ").is_empty());
    }

    #[test]
    fn synopsis_and_hint() {
        let def = crate::defs::find("dominfo").unwrap();
        assert_eq!(synopsis(def), "dominfo <domain>");
        assert_eq!(hint("dominfo "), "# dominfo <domain>");
        assert_eq!(hint("dominfo te"), "  # dominfo <domain>");
        assert_eq!(hint("list; dominfo "), "# dominfo <domain>");
        // Nothing while the command name is typed, or for an unknown command.
        assert_eq!(hint("domin"), "");
        assert_eq!(hint("nosuch "), "");
        assert_eq!(hint(""), "");
        assert!(hint("vol-info ").starts_with("# vol-info <vol> [--pool <string>]"));
    }

    #[test]
    fn collect_from_the_test_driver() {
        let conn = crate::connect::open("test:///default", false).unwrap();
        let names = Names::collect(conn.as_ref());
        let test = names.domains.iter().find(|d| d.name == "test").unwrap();
        assert!(domain_matches(
            test.flags,
            ld::ACTIVE | ld::RUNNING | ld::PERSISTENT
        ));
        assert!(!domain_matches(test.flags, ld::PAUSED));
        assert!(!domain_matches(test.flags, ld::SHUTOFF));
        assert_eq!(complete("shutdown t", &names).1, vec!["test"]);
        assert!(complete("start t", &names).1.is_empty());
        assert!(complete("resume t", &names).1.is_empty());
        // Paused: resume offers it, suspend no longer does.
        let dom = conn.lookup_domain_by_name("test").unwrap();
        conn.suspend_domain(&dom).unwrap();
        let names = Names::collect(conn.as_ref());
        assert_eq!(complete("resume t", &names).1, vec!["test"]);
        assert!(complete("suspend t", &names).1.is_empty());
        // Volumes of the active pool and snapshots of the domain are gathered.
        assert!(names.pools.contains(&"default-pool".to_string()));
        assert!(names.volumes.iter().any(|(p, _)| p == "default-pool"));
        conn.create_snapshot(&dom, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)
            .unwrap();
        let names = Names::collect(conn.as_ref());
        assert_eq!(complete("snapshot-info test ", &names).1, vec!["s1"]);
        assert_eq!(complete("snapshot-list ", &names).1, vec!["test"]);
    }
}
