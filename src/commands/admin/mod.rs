//! virt-admin: the admin shell of libvirt's daemons (tools/virt-admin.c), run as
//! `virtsh admin ...` or through a symlink named `virt-admin`.
//!
//! It shares the shell's grammar (`parse.rs`), help layout, tables and output with virsh mode,
//! and has its own command set (`defs/admin.rs`), global options (`cli::parse_admin`), prompt
//! (`virt-admin # `) and connection: an [`AdminConnection`] to a daemon's admin socket instead
//! of a hypervisor connection. As virt-admin, it connects at start only when `-c` names a URI;
//! otherwise the first command that needs the daemon connects to the default one
//! (`LIBVIRT_ADMIN_DEFAULT_URI`, `uri_default` of libvirt-admin.conf, `libvirtd:///system` for
//! root, `libvirtd:///session` for others), and a connection the daemon dropped is reopened
//! before the next command. Output and error lines are virt-admin's own printf formats.

use crate::cli::{self, AdminAction, VersionKind};
use crate::def::CommandDef;
use crate::defs::admin as defs;
use crate::libvirt_conf::LibvirtConf;
use crate::parse::{self, ArgvTokens, ParsedCmd, StringTokens};
use crate::run::LIBVIRT_COMPAT_VERSION;
use crate::shell::{write_stdout, CmdError, CmdResult, LogLevel, Shell};
use std::path::PathBuf;
use virtsh_remote::admin::AdminConnection;

mod commands;
mod helpers;

use commands::*;
use helpers::*;
pub use helpers::{long_version, usage};

/// virt-admin's prompt (VIRT_ADMIN_PROMPT): the same whatever the connection.
pub const PROMPT: &str = "virt-admin # ";

/// `virtsh admin ARGS` or a `virt-admin` symlink: the exit status; `None` for virsh mode.
/// A `virsh` symlink never takes the `admin` word (virsh has no such command).
pub fn dispatch(args: &[String]) -> Option<i32> {
    let base = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("virtsh");
    if base == "virt-admin" {
        return Some(main("virt-admin", args.get(1..).unwrap_or_default()));
    }
    if base != "virsh" && args.get(1).map(String::as_str) == Some("admin") {
        return Some(main("virtsh admin", &args[2..]));
    }
    None
}

/// The admin shell's state: the shell's output and modes, and the daemon connection.
pub struct Admin {
    pub sh: Shell,
    conn: Option<AdminConnection>,
    /// The URI (or alias) from `-c` or `connect`; `None` means the default, looked up at
    /// each connect.
    name: Option<String>,
    /// What we were invoked as (`virt-admin`, `virtsh admin`), for usage and the banner.
    progname: String,
}

type Handler = fn(&mut Admin, &ParsedCmd) -> CmdResult;

/// The function that runs an admin command (aliases already resolved).
pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "cd" => cmd_cd,
        "echo" => cmd_echo,
        "pwd" => cmd_pwd,
        "exit" | "quit" => cmd_quit,
        "help" => cmd_help,
        "self-test" => cmd_self_test,
        "complete" => cmd_complete,
        "uri" => cmd_uri,
        "version" => cmd_version,
        "connect" => cmd_connect,
        "server-list" => cmd_server_list,
        "server-threadpool-info" => cmd_threadpool_info,
        "server-threadpool-set" => cmd_threadpool_set,
        "client-list" => cmd_client_list,
        "client-info" => cmd_client_info,
        "client-disconnect" => cmd_client_disconnect,
        "server-clients-info" => cmd_clients_info,
        "server-clients-set" => cmd_clients_set,
        "server-update-tls" => cmd_update_tls,
        "daemon-log-filters" => cmd_log_filters,
        "daemon-log-outputs" => cmd_log_outputs,
        "daemon-timeout" => cmd_daemon_timeout,
        _ => return None,
    })
}

pub(super) fn find(name: &str) -> Option<&'static CommandDef> {
    defs::find(name)
}

/// virt-admin's main(): options, the named connection, then the commands or the prompt.
pub fn main(progname: &str, args: &[String]) -> i32 {
    let mut sh = Shell::new();
    // The log's program name, and VIRT_ADMIN_HISTSIZE for the prompt's history.
    sh.prog = "virt-admin".into();
    // vshInit reads VIRT_ADMIN_DEBUG and VIRT_ADMIN_LOG_FILE before the options.
    let env_debug = env_debug();
    let g = match cli::parse_admin(args) {
        Ok(g) => g,
        Err(e) => {
            if let Err(msg) = &env_debug {
                eprintln!("error: {msg}");
            }
            eprintln!("error: {e}");
            return 1;
        }
    };
    if let Err(msg) = &env_debug {
        eprintln!("error: {msg}");
    }
    for w in &g.warnings {
        eprintln!("error: {w}");
    }
    match g.action {
        Some(AdminAction::Help) => {
            let _ = write_stdout(&usage(progname));
            return 0;
        }
        Some(AdminAction::Version(VersionKind::Short)) => {
            let _ = write_stdout(&format!("{LIBVIRT_COMPAT_VERSION}\n"));
            return 0;
        }
        Some(AdminAction::Version(VersionKind::Long)) => {
            let _ = write_stdout(&long_version());
            return 0;
        }
        None => {}
    }
    sh.quiet = g.quiet;
    sh.debug = g.debug.or(env_debug.clone().ok().flatten()).unwrap_or(-1);
    let log_path = g.log.clone().or_else(|| {
        std::env::var("VIRT_ADMIN_LOG_FILE")
            .ok()
            .filter(|v| !v.is_empty())
    });
    if let Some(path) = &log_path {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => sh.log_file = Some(f),
            Err(_) => {
                eprintln!("error: failed to open the log file. check the log file path");
                return 1;
            }
        }
    }
    let mut admin = Admin {
        sh,
        conn: None,
        name: g.connect.clone(),
        progname: progname.to_string(),
    };
    // The command line is parsed before connecting (vshAdmParseArgv, then vshAdmInit).
    let cmds = if g.rest.is_empty() {
        None
    } else {
        let parsed = if g.rest.len() == 1 {
            admin
                .sh
                .debug(LogLevel::Info, &format!("commands: \"{}\"", g.rest[0]));
            parse::parse_all(&mut StringTokens::new(&g.rest[0]), &find)
        } else {
            parse::parse_all(&mut ArgvTokens::new(g.rest.iter().cloned()), &find)
        };
        match parsed {
            Ok(cmds) => {
                admin.trace(&cmds);
                Some(cmds)
            }
            Err(e) => {
                for line in e.lines() {
                    admin.sh.error(line);
                }
                return 1;
            }
        }
    };
    // vshAdmInit re-reads VIRT_ADMIN_DEBUG (and says again what is wrong with it).
    if let Err(msg) = &env_debug {
        if g.debug.is_none() {
            eprintln!("error: {msg}");
        }
    }
    // A named connection must open; shell completion still gets command names without it.
    let completing = cmds
        .as_ref()
        .and_then(|c| c.first())
        .is_some_and(|c| c.def.name == "complete");
    if admin.name.is_some() {
        if let Err(e) = admin.reconnect() {
            if !completing {
                admin.sh.error(&e);
                return 1;
            }
        }
    }
    let code = match cmds {
        Some(cmds) => {
            if admin.run_all(&cmds) {
                0
            } else {
                1
            }
        }
        None => {
            admin.sh.interactive = true;
            repl(&mut admin)
        }
    };
    admin.disconnect();
    code
}

/// VIRT_ADMIN_DEBUG: `Ok(None)` when unset, an error message when not a level.
pub(super) fn env_debug() -> Result<Option<i32>, String> {
    let Ok(v) = std::env::var("VIRT_ADMIN_DEBUG") else {
        return Ok(None);
    };
    match crate::commands::host::c_str_to_i32(&v) {
        Some(n) if (0..=4).contains(&n) => Ok(Some(n)),
        _ => Err("VIRT_ADMIN_DEBUG not set with a valid numeric value".into()),
    }
}

/// libvirt-admin.conf: `/etc/libvirt/libvirt-admin.conf` for root, the user's
/// `$XDG_CONFIG_HOME/libvirt/libvirt-admin.conf` otherwise (VIRTSH_LIBVIRT_ADMIN_CONF
/// overrides both, for tests). Its `uri_default` and `uri_aliases` are libvirt.conf's.
pub(super) fn admin_conf() -> LibvirtConf {
    let path = match std::env::var_os("VIRTSH_LIBVIRT_ADMIN_CONF") {
        Some(p) => Some(PathBuf::from(p)),
        None if crate::connect::is_root() => Some(PathBuf::from("/etc/libvirt/libvirt-admin.conf")),
        None => {
            directories::BaseDirs::new().map(|d| d.config_dir().join("libvirt/libvirt-admin.conf"))
        }
    };
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| LibvirtConf::parse(&t))
        .unwrap_or_default()
}

/// virAdmConnectOpen's choice of URI: the name given, else virAdmGetDefaultURI; then an
/// alias from libvirt-admin.conf stands for its URI.
pub fn resolve_uri(name: Option<&str>) -> String {
    let conf = admin_conf();
    let uri = match name {
        Some(n) => n.to_string(),
        None => std::env::var("LIBVIRT_ADMIN_DEFAULT_URI")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| conf.uri_default.clone())
            .unwrap_or_else(|| {
                if crate::connect::is_root() {
                    "libvirtd:///system".into()
                } else {
                    "libvirtd:///session".into()
                }
            }),
    };
    match conf.resolve_alias(&uri) {
        Some(u) => u.to_string(),
        None => uri,
    }
}

impl Admin {
    /// vshAdmReconnect: drop the connection (if any) and open `name` again. Says so as
    /// virt-admin does; on failure the old connection is gone and libvirt's message is
    /// returned for the caller to report.
    fn reconnect(&mut self) -> Result<(), String> {
        let was_connected = self.conn.is_some();
        self.disconnect();
        match AdminConnection::open(&resolve_uri(self.name.as_deref())) {
            Ok(c) => {
                self.conn = Some(c);
                if was_connected {
                    self.sh.print("Reconnected to the admin server\n");
                }
                Ok(())
            }
            Err(e) => {
                self.sh.error(if was_connected {
                    "Failed to reconnect to the admin server"
                } else {
                    "Failed to connect to the admin server"
                });
                Err(e.to_string())
            }
        }
    }

    fn disconnect(&mut self) {
        if let Some(c) = self.conn.take() {
            // virt-admin reports a failed close, but a daemon that is already gone is the
            // usual reason for it and nothing is left to do.
            let _ = c.close();
        }
    }

    /// vshAdmConnectionHandler: reopen a connection the daemon closed (or the default one
    /// never opened yet) before a command that needs it.
    fn ensure_connection(&mut self) -> Result<(), CmdError> {
        let mut why = None;
        if !self.conn.as_ref().is_some_and(AdminConnection::is_alive) {
            why = self.reconnect().err();
        }
        if !self.conn.as_ref().is_some_and(AdminConnection::is_alive) {
            let mut lines = vec!["no valid connection".to_string()];
            lines.extend(why);
            return Err(CmdError::lines(lines));
        }
        Ok(())
    }

    fn conn(&mut self) -> Result<&mut AdminConnection, CmdError> {
        self.conn
            .as_mut()
            .ok_or_else(|| CmdError::msg("no valid connection"))
    }

    /// vshCommandRun: each command in turn, a failure reported and the next one still run;
    /// a blank line after each (not under `-q`); `quit` stops.
    pub fn run_all(&mut self, cmds: &[ParsedCmd]) -> bool {
        let mut ok = true;
        for cmd in cmds {
            ok = self.run_one(cmd);
            if matches!(cmd.def.name, "quit" | "exit") {
                self.sh.flush();
                return ok;
            }
            self.sh.print_extra("\n");
            self.sh.flush();
        }
        ok
    }

    fn run_one(&mut self, cmd: &ParsedCmd) -> bool {
        let def = defs::resolve(cmd.def);
        let Some(run) = handler(def.name) else {
            self.sh.error(&format!(
                "command '{}' is not implemented by virtsh yet",
                def.name
            ));
            return false;
        };
        let result = if def.no_connect {
            run(self, cmd)
        } else {
            self.ensure_connection().and_then(|()| run(self, cmd))
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                for line in &e.lines {
                    self.sh.error(line);
                }
                false
            }
        }
    }

    /// vshCommandParse's debug lines: each option of each command, before any runs.
    fn trace(&mut self, cmds: &[ParsedCmd]) {
        for cmd in cmds {
            for (opt, value) in &cmd.opts {
                let trace = match value {
                    Some(v) => format!("{}: {}(optdata): {v}", cmd.def.name, opt.name),
                    None => format!("{}: {}(bool): (none)", cmd.def.name, opt.name),
                };
                self.sh.debug(LogLevel::Info, &trace);
            }
        }
        self.sh.flush();
    }

    fn run_line(&mut self, line: &str) {
        match parse::parse_all(&mut StringTokens::new(line), &find) {
            Ok(cmds) => {
                self.trace(&cmds);
                self.run_all(&cmds);
            }
            Err(e) => {
                for l in e.lines() {
                    self.sh.error(l);
                }
            }
        }
    }

    /// The daemon's server names, for completion; empty when there is no daemon to ask.
    fn server_names(&mut self) -> Vec<String> {
        if self.conn.is_none() {
            let uri = resolve_uri(self.name.as_deref());
            self.conn = AdminConnection::open(&uri).ok();
        }
        self.conn
            .as_mut()
            .and_then(|c| c.list_servers().ok())
            .unwrap_or_default()
    }
}

/// A daemon error after virt-admin's context line (its vshError, then vshReportError).
pub(super) fn with(context: impl Into<String>, e: impl std::fmt::Display) -> CmdError {
    CmdError::lines(vec![context.into(), e.to_string()])
}

/// A daemon error alone (virt-admin's `goto cleanup` after a failed lookup).
pub(super) fn lib(e: impl std::fmt::Display) -> CmdError {
    CmdError::msg(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use virtsh_api::TypedValue;

    fn cands(line: &str) -> Vec<String> {
        complete(line, &mut || vec!["libvirtd".into(), "admin".into()]).1
    }

    #[test]
    fn completes_names_options_and_servers() {
        assert_eq!(cands("server-l"), ["server-list"]);
        assert!(cands("").contains(&"daemon-timeout".to_string()));
        assert!(!cands("").iter().any(|c| c == "srv-list" || c == "complete"));
        assert_eq!(cands("server-threadpool-info "), ["libvirtd", "admin"]);
        assert_eq!(cands("srv-threadpool-info l"), ["libvirtd"]);
        assert_eq!(cands("client-info --server a"), ["admin"]);
        assert_eq!(cands("client-info libvirtd "), Vec::<String>::new());
        assert_eq!(
            cands("server-threadpool-set libvirtd --m"),
            ["--min-workers", "--max-workers"]
        );
        assert_eq!(cands("help daemon-log-f"), ["daemon-log-filters"]);
        // server-update-tls has no completer in virt-admin.
        assert_eq!(cands("server-update-tls "), Vec::<String>::new());
        assert_eq!(cands("uri; client-list a"), ["admin"]);
        assert_eq!(cands("nosuch "), Vec::<String>::new());
    }

    #[test]
    fn numbers_as_vsh_reads_them() {
        assert_eq!(c_unsigned(" +12"), Some((false, 12)));
        assert_eq!(c_unsigned("-1"), Some((true, 1)));
        assert_eq!(c_unsigned("1x"), None);
        assert_eq!(c_unsigned(""), None);
        assert_eq!(c_unsigned("99999999999999999999"), None);
    }

    #[test]
    fn typed_values_as_vsh_prints_them() {
        assert_eq!(typed_value(&TypedValue::Boolean(false)), "no");
        assert_eq!(typed_value(&TypedValue::Double(1.5)), "1.500000");
        assert_eq!(typed_value(&TypedValue::Int(-2)), "-2");
        assert_eq!(as_uint(&TypedValue::Int(-1)), u32::MAX);
    }

    #[test]
    fn usage_lists_the_groups() {
        let u = usage("virt-admin");
        assert!(u.starts_with("\nvirt-admin [options]... [<command_string>]\n"));
        assert!(u.contains(" Monitoring commands (help keyword 'monitor')\n"));
        assert!(u.contains("    daemon-timeout                 set the auto shutdown"));
        assert!(!u.contains("srv-list"));
    }
}
