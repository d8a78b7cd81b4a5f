//! virt-admin's commands, as libvirt 9.0's tools/virt-admin.c declares them (its three groups,
//! in its order, aliases included), plus the commands every vsh shell has (tools/vsh.h:
//! `VSH_CMD_CD` ... `VSH_CMD_COMPLETE`). Written by hand from the C tables; help texts, option
//! names, kinds and flags are virt-admin's, byte for byte (trailing blanks included).
//!
//! These never mix with virsh's tables in `defs/mod.rs`: `virtsh admin` and a `virt-admin`
//! symlink look commands up here ([`find`]), virsh mode never does. The conventions are those
//! of `defs/mod.rs`, except that an alias stands where virt-admin has it: before its target.
//!
//! Completion: an option named `server` completes the daemon's server names (virt-admin's
//! `vshAdmServerCompleter`) on the commands listed in [`SERVER_COMPLETER`]; the rest is declared
//! with [`Complete`] as in virsh's tables.

use crate::def::{CommandDef, Complete, Group, OptDef};

pub static ADMIN: Group = Group {
    name: "Virt-admin itself",
    keyword: "virt-admin",
};

pub static MONITOR: Group = Group {
    name: "Monitoring commands",
    keyword: "monitor",
};

pub static MANAGEMENT: Group = Group {
    name: "Management commands",
    keyword: "management",
};

/// The groups, in `virt-admin help` order.
pub static GROUPS: &[&Group] = &[&ADMIN, &MONITOR, &MANAGEMENT];

/// The commands whose `server` option completes with the daemon's server names
/// (`.completer = vshAdmServerCompleter`; server-update-tls has none in virt-admin).
pub static SERVER_COMPLETER: &[&str] = &[
    "server-threadpool-info",
    "server-threadpool-set",
    "client-list",
    "client-info",
    "client-disconnect",
    "server-clients-info",
    "server-clients-set",
];

const HELP_DESC: &str =
    "Prints global help, command specific help, or help for a\n    group of related commands";

pub static ADMIN_COMMANDS: &[CommandDef] = &[
    CommandDef::new(
        "cd",
        &ADMIN,
        "change the current directory",
        "Change the current directory.",
        // No completer, as in virt-admin (its self-test --completers-missing says so).
        &[OptDef::string(
            "dir",
            "directory to switch to (default: home or else root)",
        )],
    )
    .no_connect(),
    CommandDef::new(
        "echo",
        &ADMIN,
        "echo arguments. Used for internal testing.",
        "Echo back arguments, possibly with quoting. Used for internal testing.",
        &[
            OptDef::bool("shell", "escape for shell use"),
            OptDef::bool("xml", "escape for XML use"),
            OptDef::bool(
                "split",
                "split each argument on ','; ',,' is an escape sequence",
            ),
            OptDef::bool("err", "output to stderr"),
            OptDef::alias("str", "string"),
            OptDef::alias("hi", "string=hello"),
            OptDef::argv("string", "arguments to echo"),
        ],
    )
    .no_connect(),
    CommandDef::new("exit", &ADMIN, "quit this interactive terminal", "", &[]).no_connect(),
    CommandDef::new(
        "help",
        &ADMIN,
        "print help",
        HELP_DESC,
        &[OptDef::string(
            "command",
            "Prints global help, command specific help, or help for a group of related commands",
        )
        .complete(Complete::Command)],
    )
    .no_connect(),
    CommandDef::new(
        "pwd",
        &ADMIN,
        "print the current directory",
        "Print the current directory.",
        &[],
    )
    .no_connect(),
    CommandDef::new("quit", &ADMIN, "quit this interactive terminal", "", &[]).no_connect(),
    CommandDef::new(
        "self-test",
        &ADMIN,
        "internal command for testing virt shells",
        "internal use only",
        &[OptDef::bool(
            "completers-missing",
            "output the list of options which are missing completers",
        )],
    )
    .no_connect()
    .hidden(),
    CommandDef::new(
        "complete",
        &ADMIN,
        "internal command for autocompletion",
        "internal use only",
        &[OptDef::argv("string", "partial string to autocomplete")],
    )
    .no_connect()
    .hidden(),
    CommandDef::new("uri", &ADMIN, "print the admin server URI", "", &[]),
    CommandDef::new(
        "version",
        &ADMIN,
        "show version",
        "Display the system and also the daemon version information.",
        &[],
    ),
    CommandDef::new(
        "connect",
        &ADMIN,
        "connect to daemon's admin server",
        "Connect to a daemon's administrating server.",
        &[OptDef::string(
            "name",
            "daemon's admin server connection URI",
        )],
    )
    .no_connect(),
];

const SRV_LIST: (&str, &str) = (
    "list available servers on a daemon",
    "List all manageable servers on a daemon.",
);

const SRV_THREADPOOL_INFO: (&str, &str) = (
    "get server workerpool parameters",
    "Retrieve threadpool attributes from a server. ",
);
const SRV_THREADPOOL_INFO_OPTS: &[OptDef] = &[OptDef::data(
    "server",
    "Server to retrieve threadpool attributes from.",
)];

const SRV_CLIENTS_LIST: (&str, &str) = (
    "list clients connected to <server>",
    "List all manageable clients connected to <server>.",
);
const SRV_CLIENTS_LIST_OPTS: &[OptDef] = &[OptDef::data(
    "server",
    "server which to list connected clients from",
)];

const SRV_CLIENTS_INFO: (&str, &str) = (
    "get server's client-related configuration limits",
    "Retrieve server's client-related configuration limits ",
);
const SRV_CLIENTS_INFO_OPTS: &[OptDef] = &[OptDef::data(
    "server",
    "Server to retrieve the client limits from.",
)];

pub static MONITOR_COMMANDS: &[CommandDef] = &[
    CommandDef::new("srv-list", &MONITOR, SRV_LIST.0, SRV_LIST.1, &[]).alias_of("server-list"),
    CommandDef::new("server-list", &MONITOR, SRV_LIST.0, SRV_LIST.1, &[]),
    CommandDef::new(
        "srv-threadpool-info",
        &MONITOR,
        SRV_THREADPOOL_INFO.0,
        SRV_THREADPOOL_INFO.1,
        SRV_THREADPOOL_INFO_OPTS,
    )
    .alias_of("server-threadpool-info"),
    CommandDef::new(
        "server-threadpool-info",
        &MONITOR,
        SRV_THREADPOOL_INFO.0,
        SRV_THREADPOOL_INFO.1,
        SRV_THREADPOOL_INFO_OPTS,
    ),
    CommandDef::new(
        "srv-clients-list",
        &MONITOR,
        SRV_CLIENTS_LIST.0,
        SRV_CLIENTS_LIST.1,
        SRV_CLIENTS_LIST_OPTS,
    )
    .alias_of("client-list"),
    CommandDef::new(
        "client-list",
        &MONITOR,
        SRV_CLIENTS_LIST.0,
        SRV_CLIENTS_LIST.1,
        SRV_CLIENTS_LIST_OPTS,
    ),
    CommandDef::new(
        "client-info",
        &MONITOR,
        "retrieve client's identity info from server",
        "Retrieve identity details about <client> from <server>",
        &[
            OptDef::data("server", "server to which <client> is connected to"),
            OptDef::data(
                "client",
                "client which to retrieve identity information for",
            ),
        ],
    ),
    CommandDef::new(
        "srv-clients-info",
        &MONITOR,
        SRV_CLIENTS_INFO.0,
        SRV_CLIENTS_INFO.1,
        SRV_CLIENTS_INFO_OPTS,
    )
    .alias_of("server-clients-info"),
    CommandDef::new(
        "server-clients-info",
        &MONITOR,
        SRV_CLIENTS_INFO.0,
        SRV_CLIENTS_INFO.1,
        SRV_CLIENTS_INFO_OPTS,
    ),
];

const SRV_THREADPOOL_SET: (&str, &str) = (
    "set server workerpool parameters",
    "Tune threadpool attributes on a server. See OPTIONS for currently supported attributes.",
);
const SRV_THREADPOOL_SET_OPTS: &[OptDef] = &[
    OptDef::data("server", "Server to alter threadpool attributes on."),
    OptDef::int("min-workers", "Change bottom limit to number of workers."),
    OptDef::int("max-workers", "Change upper limit to number of workers."),
    OptDef::int(
        "priority-workers",
        "Change the current number of priority workers",
    ),
];

const SRV_CLIENTS_SET: (&str, &str) = (
    "set server's client-related configuration limits",
    "Tune server's client-related configuration limits. See OPTIONS for currently supported \
     attributes.",
);
const SRV_CLIENTS_SET_OPTS: &[OptDef] = &[
    OptDef::data(
        "server",
        "Server to alter the client-related configuration limits on.",
    ),
    OptDef::int(
        "max-clients",
        "Change the upper limit to overall number of clients connected to the server.",
    ),
    OptDef::int(
        "max-unauth-clients",
        "Change the upper limit to number of clients waiting for authentication to be \
         connected to the server",
    ),
];

const SRV_UPDATE_TLS: (&str, &str) = (
    "notify server to update TLS related files online.",
    "notify server to update the CA cert, CA CRL, server cert / key without restarts. See \
     OPTIONS for currently supported attributes.",
);
const SRV_UPDATE_TLS_OPTS: &[OptDef] = &[OptDef::data(
    "server",
    "Available servers on a daemon. Currently only supports 'libvirtd' or 'virtproxyd'.",
)];

pub static MANAGEMENT_COMMANDS: &[CommandDef] = &[
    CommandDef::new(
        "srv-threadpool-set",
        &MANAGEMENT,
        SRV_THREADPOOL_SET.0,
        SRV_THREADPOOL_SET.1,
        SRV_THREADPOOL_SET_OPTS,
    )
    .alias_of("server-threadpool-set"),
    CommandDef::new(
        "server-threadpool-set",
        &MANAGEMENT,
        SRV_THREADPOOL_SET.0,
        SRV_THREADPOOL_SET.1,
        SRV_THREADPOOL_SET_OPTS,
    ),
    CommandDef::new(
        "client-disconnect",
        &MANAGEMENT,
        "force disconnect a client from the given server",
        "Force close a specific client's connection to the given server.",
        &[
            OptDef::data(
                "server",
                "server which the client is currently connected to",
            ),
            OptDef::int("client", "client which to disconnect, specified by ID").req(),
        ],
    ),
    CommandDef::new(
        "srv-clients-set",
        &MANAGEMENT,
        SRV_CLIENTS_SET.0,
        SRV_CLIENTS_SET.1,
        SRV_CLIENTS_SET_OPTS,
    )
    .alias_of("server-clients-set"),
    CommandDef::new(
        "server-clients-set",
        &MANAGEMENT,
        SRV_CLIENTS_SET.0,
        SRV_CLIENTS_SET.1,
        SRV_CLIENTS_SET_OPTS,
    ),
    CommandDef::new(
        "srv-update-tls",
        &MANAGEMENT,
        SRV_UPDATE_TLS.0,
        SRV_UPDATE_TLS.1,
        SRV_UPDATE_TLS_OPTS,
    )
    .alias_of("server-update-tls"),
    CommandDef::new(
        "server-update-tls",
        &MANAGEMENT,
        SRV_UPDATE_TLS.0,
        SRV_UPDATE_TLS.1,
        SRV_UPDATE_TLS_OPTS,
    ),
    CommandDef::new(
        "daemon-log-filters",
        &MANAGEMENT,
        "fetch or set the currently defined set of logging filters on daemon",
        "Depending on whether run with or without options, the command fetches or redefines \
         the existing active set of filters on daemon.",
        &[OptDef::string(
            "filters",
            "redefine the existing set of logging filters",
        )],
    ),
    CommandDef::new(
        "daemon-log-outputs",
        &MANAGEMENT,
        "fetch or set the currently defined set of logging outputs on daemon",
        "Depending on whether run with or without options, the command fetches or redefines \
         the existing active set of outputs on daemon.",
        &[OptDef::string(
            "outputs",
            "redefine the existing set of logging outputs",
        )],
    ),
    CommandDef::new(
        "daemon-timeout",
        &MANAGEMENT,
        "set the auto shutdown timeout of the daemon",
        "set the auto shutdown timeout of the daemon",
        &[OptDef::int(
            "timeout",
            "number of seconds the daemon will run without any active connection",
        )
        .req()
        .req_opt()],
    ),
];

/// Each group's commands, in the order of [`GROUPS`].
fn tables() -> [&'static [CommandDef]; 3] {
    [ADMIN_COMMANDS, MONITOR_COMMANDS, MANAGEMENT_COMMANDS]
}

/// Every admin command, aliases and hidden ones included, in `virt-admin help` order.
pub fn all() -> impl Iterator<Item = &'static CommandDef> {
    tables().into_iter().flatten()
}

/// The admin command called `name` (an alias as itself; the parser follows it).
pub fn find(name: &str) -> Option<&'static CommandDef> {
    all().find(|c| c.name == name)
}

/// `name` itself, or the command it is an alias of.
pub fn resolve(def: &'static CommandDef) -> &'static CommandDef {
    def.alias_of.and_then(find).unwrap_or(def)
}

/// A group by its keyword or its name.
pub fn group(keyword_or_name: &str) -> Option<&'static Group> {
    GROUPS
        .iter()
        .copied()
        .find(|g| g.keyword == keyword_or_name || g.name == keyword_or_name)
}

/// The commands `help` lists for group `g`: neither aliases nor hidden commands.
pub fn listed_in_group(g: &Group) -> impl Iterator<Item = &'static CommandDef> + '_ {
    all().filter(move |c| std::ptr::eq(c.group, g) && c.alias_of.is_none() && !c.hidden)
}

/// Whether option `opt` of command `cmd` completes with server names.
pub fn completes_servers(cmd: &str, opt: &str) -> bool {
    opt == "server" && SERVER_COMPLETER.contains(&cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::def::OptKind;
    use std::collections::HashSet;

    /// `virt-admin help` (9.0): each group's name, keyword and listed commands.
    #[test]
    fn groups_are_virt_admin_help_s() {
        let expect: &[(&str, &str, &[&str])] = &[
            (
                "Virt-admin itself",
                "virt-admin",
                &[
                    "cd", "echo", "exit", "help", "pwd", "quit", "uri", "version", "connect",
                ],
            ),
            (
                "Monitoring commands",
                "monitor",
                &[
                    "server-list",
                    "server-threadpool-info",
                    "client-list",
                    "client-info",
                    "server-clients-info",
                ],
            ),
            (
                "Management commands",
                "management",
                &[
                    "server-threadpool-set",
                    "client-disconnect",
                    "server-clients-set",
                    "server-update-tls",
                    "daemon-log-filters",
                    "daemon-log-outputs",
                    "daemon-timeout",
                ],
            ),
        ];
        assert_eq!(GROUPS.len(), expect.len());
        for (g, (name, keyword, cmds)) in GROUPS.iter().zip(expect) {
            assert_eq!((g.name, g.keyword), (*name, *keyword));
            let listed: Vec<_> = listed_in_group(g).map(|c| c.name).collect();
            assert_eq!(listed, *cmds);
            assert_eq!(group(keyword), Some(*g));
            assert_eq!(group(name), Some(*g));
        }
        assert_eq!(all().count(), 30);
    }

    #[test]
    fn aliases_share_their_target_s_declaration() {
        let aliases: Vec<_> = all()
            .filter_map(|c| c.alias_of.map(|t| (c.name, t)))
            .collect();
        assert_eq!(
            aliases,
            [
                ("srv-list", "server-list"),
                ("srv-threadpool-info", "server-threadpool-info"),
                ("srv-clients-list", "client-list"),
                ("srv-clients-info", "server-clients-info"),
                ("srv-threadpool-set", "server-threadpool-set"),
                ("srv-clients-set", "server-clients-set"),
                ("srv-update-tls", "server-update-tls"),
            ]
        );
        for c in all().filter(|c| c.alias_of.is_some()) {
            let t = resolve(c);
            assert!(t.alias_of.is_none());
            assert!(std::ptr::eq(t.group, c.group));
            assert_eq!((c.help, c.desc), (t.help, t.desc));
            assert!(std::ptr::eq(c.opts, t.opts), "{}", c.name);
        }
    }

    #[test]
    fn names_are_unique_and_options_keep_vsh_s_rules() {
        let mut names = HashSet::new();
        for c in all() {
            assert!(names.insert(c.name), "{} twice", c.name);
            assert!(!c.help.is_empty() && !c.help.contains('\n'));
            let mut optional_seen = false;
            for (i, o) in c.opts.iter().enumerate() {
                assert!(!o.help.is_empty());
                if o.kind == OptKind::Data {
                    assert!(o.required);
                }
                if o.kind == OptKind::Argv {
                    assert_eq!(i, c.opts.len() - 1);
                }
                if o.positional() && o.kind != OptKind::Argv {
                    assert!(!(o.required && optional_seen), "{} --{}", c.name, o.name);
                    optional_seen |= !o.required;
                }
            }
        }
        for name in SERVER_COMPLETER {
            assert!(find(name).and_then(|c| c.opt("server")).is_some(), "{name}");
        }
    }

    #[test]
    fn no_connect_commands() {
        let names: Vec<_> = all().filter(|c| c.no_connect).map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "cd",
                "echo",
                "exit",
                "help",
                "pwd",
                "quit",
                "self-test",
                "complete",
                "connect"
            ]
        );
        let hidden: Vec<_> = all().filter(|c| c.hidden).map(|c| c.name).collect();
        assert_eq!(hidden, ["self-test", "complete"]);
    }
}
