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
use crate::def::{CommandDef, Complete, OptKind};
use crate::defs::admin as defs;
use crate::libvirt_conf::LibvirtConf;
use crate::output::table::Table;
use crate::parse::{self, ArgvTokens, ParsedCmd, StringTokens};
use crate::run::LIBVIRT_COMPAT_VERSION;
use crate::shell::{write_stdout, CmdError, CmdResult, LogLevel, Shell};
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use virtsh_api::{TypedParam, TypedValue};
use virtsh_remote::admin::{threadpool, AdminClient, AdminConnection};

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
fn handler(name: &str) -> Option<Handler> {
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

fn find(name: &str) -> Option<&'static CommandDef> {
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
fn env_debug() -> Result<Option<i32>, String> {
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
fn admin_conf() -> LibvirtConf {
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
fn with(context: impl Into<String>, e: impl std::fmt::Display) -> CmdError {
    CmdError::lines(vec![context.into(), e.to_string()])
}

/// A daemon error alone (virt-admin's `goto cleanup` after a failed lookup).
fn lib(e: impl std::fmt::Display) -> CmdError {
    CmdError::msg(e.to_string())
}

// ------------------------------------------------------------------ options

/// The parts of C's strtoul that virStrToLong_* accept: blanks, a sign, decimal digits to
/// the end. `None` when that is not the text, or the number is too big.
fn c_unsigned(s: &str) -> Option<(bool, u64)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(|v| (neg, v))
}

fn malformed(cmd: &ParsedCmd, name: &str) -> CmdError {
    CmdError::msg(format!(
        "Numeric value '{}' for <{name}> option is malformed or out of range",
        cmd.get(name).unwrap_or("")
    ))
}

/// vshCommandOptUInt: no negative numbers.
fn opt_uint(cmd: &ParsedCmd, name: &str) -> Result<Option<u32>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    match c_unsigned(text) {
        Some((false, v)) => u32::try_from(v).map(Some).map_err(|_| malformed(cmd, name)),
        _ => Err(malformed(cmd, name)),
    }
}

/// vshCommandOptULongLong (`wrap`: vshCommandOptULongLongWrap, `-1` is 2^64-1).
fn opt_ull(cmd: &ParsedCmd, name: &str, wrap: bool) -> Result<Option<u64>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    match c_unsigned(text) {
        Some((false, v)) => Ok(Some(v)),
        Some((true, v)) if wrap => Ok(Some(v.wrapping_neg())),
        _ => Err(malformed(cmd, name)),
    }
}

/// vshCommandOptStringReq on a required option: the value, never empty.
fn req_str<'a>(cmd: &'a ParsedCmd, name: &str) -> Result<&'a str, CmdError> {
    crate::commands::options::req_str(cmd, name)
}

// ------------------------------------------------------------------ output helpers

/// vshGetTypedParamValue.
fn typed_value(v: &TypedValue) -> String {
    match v {
        TypedValue::Int(i) => i.to_string(),
        TypedValue::UInt(u) => u.to_string(),
        TypedValue::LLong(l) => l.to_string(),
        TypedValue::ULLong(u) => u.to_string(),
        TypedValue::Double(d) => format!("{d:.6}"),
        TypedValue::Boolean(b) => crate::commands::options::yes_no(*b).to_string(),
        TypedValue::String(s) => s.clone(),
    }
}

/// `params[i].value.ui`: virt-admin prints every threadpool and limit value as unsigned int,
/// whatever its type.
fn as_uint(v: &TypedValue) -> u32 {
    match v {
        TypedValue::Int(i) => *i as u32,
        TypedValue::UInt(u) => *u,
        TypedValue::LLong(l) => *l as u32,
        TypedValue::ULLong(u) => *u as u32,
        TypedValue::Double(d) => d.to_bits() as u32,
        TypedValue::Boolean(b) => u32::from(*b),
        TypedValue::String(_) => 0,
    }
}

/// `g_date_time_format(g_date_time_new_from_unix_local(t), "%Y-%m-%d %H:%M:%S%z")`.
fn local_time(t: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(t, 0)
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M:%S%z").to_string())
        .unwrap_or_else(|| "(null)".into())
}

/// ` Group (help keyword 'kw'):` and one line per listed command.
fn group_listing(g: &crate::def::Group, colon: bool) -> String {
    let mut out = format!(
        " {} (help keyword '{}'){}\n",
        g.name,
        g.keyword,
        if colon { ":" } else { "" }
    );
    for c in defs::listed_in_group(g) {
        let _ = writeln!(out, "    {:<30} {}", c.name, c.help);
    }
    out
}

/// `virt-admin -h` (vshAdmUsage).
pub fn usage(progname: &str) -> String {
    let mut out = format!(
        "\n{progname} [options]... [<command_string>]\n\
         {progname} [options]... <command> [args...]\n\n\
         \x20 options:\n\
         \x20   -c | --connect=URI      daemon admin connection URI\n\
         \x20   -d | --debug=NUM        debug level [0-4]\n\
         \x20   -h | --help             this help\n\
         \x20   -l | --log=FILE         output logging to file\n\
         \x20   -q | --quiet            quiet mode\n\
         \x20   -v                      short version\n\
         \x20   -V                      long version\n\
         \x20        --version[=TYPE]   version, TYPE is short or long (default short)\n\
         \x20 commands (non interactive mode):\n\n"
    );
    for g in defs::GROUPS {
        out.push_str(&group_listing(g, false));
        out.push('\n');
    }
    out.push_str(
        "\n  (specify help <group> for details about the commands in the group)\n\n  \
         (specify help <command> for details about the command)\n\n",
    );
    out
}

/// `virt-admin -V` (vshAdmShowVersion), then our own version, as virsh mode's `-V` ends.
pub fn long_version() -> String {
    format!(
        "Virt-admin command line tool of libvirt {LIBVIRT_COMPAT_VERSION}\n\
         See web site at https://libvirt.org/\n\n\
         Compiled with support for: Daemon Debug Readline\n\n\
         (virtsh {})\n",
        env!("CARGO_PKG_VERSION")
    )
}

// ------------------------------------------------------------------ Virt-admin itself

// cd, echo and pwd are vsh's, shared with virsh mode.
fn cmd_cd(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_cd(&mut a.sh, cmd)
}

fn cmd_echo(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_echo(&mut a.sh, cmd)
}

fn cmd_pwd(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_pwd(&mut a.sh, cmd)
}

fn cmd_quit(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    a.sh.quit = true;
    Ok(())
}

fn cmd_help(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let Some(name) = cmd.get("command") else {
        let mut out = String::from("Grouped commands:\n\n");
        for g in defs::GROUPS {
            out.push_str(&group_listing(g, true));
            out.push('\n');
        }
        a.sh.print(&out);
        return Ok(());
    };
    if let Some(def) = defs::find(name) {
        a.sh.print(&crate::commands::virsh::command_help(defs::resolve(def)));
        return Ok(());
    }
    if let Some(g) = defs::group(name) {
        a.sh.print(&group_listing(g, true));
        return Ok(());
    }
    Err(CmdError::msg(format!(
        "command or command group '{name}' doesn't exist"
    )))
}

/// `self-test`: the declarations are checked by unit tests; `--completers-missing` lists
/// the string options nothing completes, as vshCmddefCheckInternals does.
fn cmd_self_test(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    if !cmd.has("completers-missing") {
        return Ok(());
    }
    let mut out = String::new();
    for def in defs::all().filter(|d| d.alias_of.is_none()) {
        let missing: Vec<&str> = def
            .opts
            .iter()
            .filter(|o| matches!(o.kind, OptKind::String | OptKind::Data))
            .filter(|o| {
                o.complete == Complete::Nothing && !defs::completes_servers(def.name, o.name)
            })
            .map(|o| o.name)
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(out, "{}: {}", def.name, missing.join(", "));
        }
    }
    a.sh.print_extra(&out);
    Ok(())
}

/// The hidden `complete` command, which the shell completion scripts call.
fn cmd_complete(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let line = cmd.all("string").join(" ");
    let (_, cands) = complete(&line, &mut || a.server_names());
    let mut out = String::new();
    for c in cands {
        out.push_str(&c);
        out.push('\n');
    }
    a.sh.print(&out);
    Ok(())
}

fn cmd_uri(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    let uri = a.conn()?.uri();
    a.sh.print(&format!("{uri}\n"));
    Ok(())
}

/// major.minor.release of libvirt's version encoding.
fn version_str(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v % 1_000_000) / 1000, v % 1000)
}

fn cmd_version(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    a.sh.print(&format!(
        "Compiled against library: libvirt {LIBVIRT_COMPAT_VERSION}\n\
         Using library: libvirt {LIBVIRT_COMPAT_VERSION}\n"
    ));
    match a.conn()?.lib_version() {
        Ok(v) => {
            a.sh.print(&format!("Running against daemon: {}\n", version_str(v)))
        }
        // virt-admin says so, and the command still succeeds.
        Err(_) => a.sh.error("failed to get the daemon version"),
    }
    Ok(())
}

fn cmd_connect(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let connected = a.conn.is_some();
    if let Some(name) = cmd.get("name") {
        a.name = Some(name.to_string());
    }
    a.reconnect().map_err(CmdError::msg)?;
    if !connected {
        a.sh.print("Connected to the admin server\n");
    }
    Ok(())
}

// ------------------------------------------------------------------ monitoring

fn cmd_server_list(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    let conn = a.conn()?;
    let servers = conn.list_servers().map_err(|e| {
        with(
            format!(
                "failed to obtain list of available servers from {}",
                conn.uri()
            ),
            e,
        )
    })?;
    let mut table = Table::new(&["Id", "Name"]);
    for (i, name) in servers.into_iter().enumerate() {
        table.add_row(vec![i.to_string(), name]);
    }
    let text = table.render(!a.sh.quiet);
    a.sh.print(&text);
    Ok(())
}

fn cmd_threadpool_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    let params = conn
        .threadpool_parameters(&srv)
        .map_err(|e| with("Unable to get server workerpool parameters", e))?;
    let mut out = String::new();
    for p in &params {
        let _ = writeln!(out, "{:<15}: {}", p.field, as_uint(&p.value));
    }
    a.sh.print(&out);
    Ok(())
}

/// PARSE_CMD_TYPED_PARAM: each given option as an unsigned typed parameter, in this order.
fn uint_params(cmd: &ParsedCmd, table: &[(&str, &str)]) -> Result<Vec<TypedParam>, CmdError> {
    let mut params = Vec::new();
    for (opt, field) in table {
        match opt_uint(cmd, opt) {
            Ok(Some(v)) => params.push(TypedParam::new(*field, TypedValue::UInt(v))),
            Ok(None) => {}
            Err(mut e) => {
                e.lines
                    .push(format!("Unable to parse integer parameter '{opt}'"));
                return Err(e);
            }
        }
    }
    Ok(params)
}

fn param(params: &[TypedParam], field: &str) -> Option<u32> {
    params
        .iter()
        .find(|p| p.field == field)
        .map(|p| as_uint(&p.value))
}

fn cmd_threadpool_set(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let params = uint_params(
        cmd,
        &[
            ("max-workers", threadpool::WORKERS_MAX),
            ("min-workers", threadpool::WORKERS_MIN),
            ("priority-workers", threadpool::WORKERS_PRIORITY),
        ],
    )?;
    if params.is_empty() {
        return Err(CmdError::msg(
            "At least one of options --min-workers, --max-workers, --priority-workers is \
             mandatory ",
        ));
    }
    if let (Some(max), Some(min)) = (
        param(&params, threadpool::WORKERS_MAX),
        param(&params, threadpool::WORKERS_MIN),
    ) {
        if min > max {
            return Err(CmdError::msg(
                "--min-workers must be less than or equal to --max-workers",
            ));
        }
    }
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    conn.set_threadpool_parameters(&srv, &params)
        .map_err(|e| with("Unable to change server workerpool parameters", e))
}

fn cmd_client_list(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    let clients = conn.list_clients(&srv).map_err(|e| {
        with(
            format!("failed to obtain list of connected clients from server '{srv}'"),
            e,
        )
    })?;
    let mut table = Table::new(&["Id", "Transport", "Connected since"]);
    for c in &clients {
        table.add_row(vec![
            c.id.to_string(),
            c.transport.name().to_string(),
            local_time(c.timestamp),
        ]);
    }
    let text = table.render(!a.sh.quiet);
    a.sh.print(&text);
    Ok(())
}

/// The server and the client `id` on it (virAdmConnectLookupServer, virAdmServerLookupClient).
fn lookup_client(a: &mut Admin, server: &str, id: u64) -> Result<AdminClient, CmdError> {
    let conn = a.conn()?;
    let srv = conn.lookup_server(server).map_err(lib)?;
    conn.lookup_client(&srv, id).map_err(lib)
}

fn cmd_client_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let id = opt_ull(cmd, "client", false)?.unwrap_or_default();
    let server = req_str(cmd, "server")?;
    let client = lookup_client(a, server, id)?;
    let params = a.conn()?.client_info(&client).map_err(|e| {
        with(
            format!(
                "failed to retrieve client identity information for client '{id}' \
                 connected to server '{}'",
                client.server
            ),
            e,
        )
    })?;
    let mut out = String::new();
    let _ = writeln!(out, "{:<15}: {}", "id", client.id);
    let _ = writeln!(
        out,
        "{:<15}: {}",
        "connection_time",
        local_time(client.timestamp)
    );
    let _ = writeln!(out, "{:<15}: {}", "transport", client.transport.name());
    for p in &params {
        let _ = writeln!(out, "{:<15}: {}", p.field, typed_value(&p.value));
    }
    a.sh.print(&out);
    Ok(())
}

fn cmd_clients_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    let params = conn.client_limits(&srv).map_err(|e| {
        with(
            "Unable to retrieve client limits from server's configuration",
            e,
        )
    })?;
    let mut out = String::new();
    for p in &params {
        let _ = writeln!(out, "{:<20}: {}", p.field, as_uint(&p.value));
    }
    a.sh.print(&out);
    Ok(())
}

// ------------------------------------------------------------------ management

fn cmd_client_disconnect(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let server = req_str(cmd, "server")?;
    let id = opt_ull(cmd, "client", true)?.unwrap_or_default();
    let client = lookup_client(a, server, id)?;
    a.conn()?.close_client(&client).map_err(|e| {
        with(
            format!(
                "Failed to disconnect client '{id}' from server {}",
                client.server
            ),
            e,
        )
    })?;
    // virt-admin prints no newline here; the blank line after the command ends it.
    a.sh.print(&format!("Client '{id}' disconnected"));
    Ok(())
}

fn cmd_clients_set(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    use virtsh_remote::admin::client_limits as limits;
    let name = req_str(cmd, "server")?;
    let params = uint_params(
        cmd,
        &[
            ("max-clients", limits::MAX),
            ("max-unauth-clients", limits::UNAUTH_MAX),
        ],
    )?;
    if params.is_empty() {
        return Err(CmdError::msg(
            "At least one of options --max-clients, --max-unauth-clients is mandatory",
        ));
    }
    if let (Some(max), Some(unauth)) = (
        param(&params, limits::MAX),
        param(&params, limits::UNAUTH_MAX),
    ) {
        if unauth > max {
            return Err(CmdError::msg(
                "--max-unauth-clients must be less than or equal to --max-clients",
            ));
        }
    }
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    conn.set_client_limits(&srv, &params).map_err(|e| {
        with(
            "Unable to change server's client-related configuration limits",
            e,
        )
    })
}

fn cmd_update_tls(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    conn.update_tls_files(&srv)
        .map_err(|e| with("Unable to update server's tls related files.", e))?;
    a.sh.print("update tls related files succeed\n");
    Ok(())
}

fn cmd_log_filters(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let conn = a.conn()?;
    if cmd.has("filters") {
        // VSH_OFLAG_EMPTY_OK: "" clears the filters.
        return conn
            .set_logging_filters(cmd.get("filters"))
            .map_err(|e| with("Unable to change daemon logging settings", e));
    }
    let filters = conn
        .logging_filters()
        .map_err(|e| with("Unable to get daemon logging filters information", e))?;
    a.sh.print_extra(&format!(" {:<15}", "Logging filters: "));
    a.sh.print(&format!("{}\n", filters.unwrap_or_default()));
    Ok(())
}

fn cmd_log_outputs(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let conn = a.conn()?;
    if cmd.has("outputs") {
        return conn
            .set_logging_outputs(cmd.get("outputs"))
            .map_err(|e| with("Unable to change daemon logging settings", e));
    }
    let outputs = conn
        .logging_outputs()
        .map_err(|e| with("Unable to get daemon logging outputs information", e))?;
    a.sh.print_extra(&format!(" {:<15}", "Logging outputs: "));
    a.sh.print(&format!("{outputs}\n"));
    Ok(())
}

fn cmd_daemon_timeout(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let timeout = opt_uint(cmd, "timeout")?.unwrap_or_default();
    a.conn()?.set_daemon_timeout(timeout).map_err(lib)
}

// ------------------------------------------------------------------ completion

/// Candidates for the word that ends `line`, and where that word starts: command names,
/// options not given yet, and the values of the options being typed (server names from the
/// daemon, command names for `help`). `servers` is only asked when a server name is wanted.
pub fn complete(line: &str, servers: &mut dyn FnMut() -> Vec<String>) -> (usize, Vec<String>) {
    let cmd_start = line.rfind(';').map_or(0, |i| i + 1);
    let current = &line[cmd_start..];
    let word_start = current.rfind([' ', '\t']).map_or(0, |i| i + 1);
    let prefix = &current[word_start..];
    let before: Vec<&str> = current[..word_start].split_whitespace().collect();
    let start = cmd_start + word_start;
    let names = |prefix: &str| -> Vec<String> {
        defs::all()
            .filter(|c| !c.hidden && c.alias_of.is_none() && c.name.starts_with(prefix))
            .map(|c| c.name.to_string())
            .collect()
    };
    let Some(first) = before.first() else {
        return (start, names(prefix));
    };
    let Some(def) = defs::find(first).map(defs::resolve) else {
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
    // Which option the word is the value of: the one just named, else the next positional.
    let mut named = Vec::new();
    let mut positional = 0;
    let mut pending = None;
    for w in args {
        if let Some(n) = pending.take() {
            named.push(n);
            continue;
        }
        if let Some(opt) = w.strip_prefix("--") {
            let (n, inline) = match opt.split_once('=') {
                Some((n, _)) => (n, true),
                None => (opt, false),
            };
            match def.opt(n) {
                Some(o) if o.kind != OptKind::Bool && !inline => pending = Some(o.name),
                Some(o) => named.push(o.name),
                None => {}
            }
        } else {
            positional += 1;
        }
    }
    let opt = match pending {
        Some(n) => def.opt(n),
        None => def
            .opts
            .iter()
            .filter(|o| o.positional() && !named.contains(&o.name))
            .nth(positional)
            .or_else(|| def.opts.iter().find(|o| o.kind == OptKind::Argv)),
    };
    let Some(opt) = opt else {
        return (start, Vec::new());
    };
    let cands = if defs::completes_servers(def.name, opt.name) {
        servers()
            .into_iter()
            .filter(|s| s.starts_with(prefix))
            .collect()
    } else {
        match opt.complete {
            Complete::Command => names(prefix),
            Complete::Values(list) => list
                .iter()
                .filter(|v| v.starts_with(prefix))
                .map(|v| v.to_string())
                .collect(),
            _ => Vec::new(),
        }
    };
    (start, cands)
}

// ------------------------------------------------------------------ the prompt

/// virsh's HISTSIZE_MAX.
const HISTSIZE_MAX: i64 = 500_000;

/// VIRT_ADMIN_HISTSIZE: 500 when unset; vsh's errors for a bad value.
fn history_size() -> Result<usize, String> {
    let Ok(value) = std::env::var("VIRT_ADMIN_HISTSIZE") else {
        return Ok(500);
    };
    let n: i64 = crate::commands::host::c_str_to_i32(&value)
        .ok_or("Bad $VIRT_ADMIN_HISTSIZE value.")?
        .into();
    if !(0..=HISTSIZE_MAX).contains(&n) {
        return Err(format!(
            "$VIRT_ADMIN_HISTSIZE value should be between 0 and {HISTSIZE_MAX}"
        ));
    }
    Ok(n as usize)
}

fn repl(a: &mut Admin) -> i32 {
    let histsize = match history_size() {
        Ok(n) => n,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    if !a.sh.quiet {
        let banner = format!(
            "Welcome to {}, the administrating virtualization interactive terminal.\n\n\
             Type:  'help' for help with commands\n       'quit' to quit\n\n",
            a.progname
        );
        if write_stdout(&banner).is_err() {
            return 0;
        }
    }
    if std::io::stdin().is_terminal() {
        repl_terminal(a, histsize)
    } else {
        repl_piped(a)
    }
}

/// From a pipe, virt-admin (through readline) still prints the prompt and echoes each line.
fn repl_piped(a: &mut Admin) -> i32 {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if write_stdout(PROMPT).is_err() {
            return 0;
        }
        let Some(Ok(line)) = lines.next() else {
            let _ = write_stdout("\n");
            return 0;
        };
        if write_stdout(&format!("{line}\n")).is_err() {
            return 0;
        }
        if !line.is_empty() {
            a.run_line(&line);
        }
        if a.sh.quit {
            // virt-admin's "line break after alone prompt" comes after `quit` too: its
            // command string is freed (NULL) by then.
            let _ = write_stdout("\n");
            return 0;
        }
    }
}

struct AdminPrompt;

impl reedline::Prompt for AdminPrompt {
    fn render_prompt_left(&self) -> std::borrow::Cow<'_, str> {
        PROMPT.into()
    }
    fn render_prompt_right(&self) -> std::borrow::Cow<'_, str> {
        "".into()
    }
    fn render_prompt_indicator(
        &self,
        _mode: reedline::PromptEditMode,
    ) -> std::borrow::Cow<'_, str> {
        "".into()
    }
    fn render_prompt_multiline_indicator(&self) -> std::borrow::Cow<'_, str> {
        "> ".into()
    }
    fn render_prompt_history_search_indicator(
        &self,
        search: reedline::PromptHistorySearch,
    ) -> std::borrow::Cow<'_, str> {
        format!("(reverse-i-search)`{}': ", search.term).into()
    }
}

/// Tab at the prompt: the server names are fetched before each prompt, so completing never
/// waits on the daemon.
struct AdminCompleter {
    servers: Arc<Mutex<Vec<String>>>,
}

impl reedline::Completer for AdminCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<reedline::Suggestion> {
        let line = &line[..pos.min(line.len())];
        let servers = self.servers.lock().map(|s| s.clone()).unwrap_or_default();
        let (start, cands) = complete(line, &mut || servers.clone());
        cands
            .into_iter()
            .map(|value| reedline::Suggestion {
                value,
                span: reedline::Span::new(start, pos),
                append_whitespace: true,
                ..reedline::Suggestion::default()
            })
            .collect()
    }
}

fn repl_terminal(a: &mut Admin, histsize: usize) -> i32 {
    use reedline::{
        default_emacs_keybindings, ColumnarMenu, Emacs, FileBackedHistory, KeyCode, KeyModifiers,
        MenuBuilder, Reedline, ReedlineEvent, ReedlineMenu, Signal,
    };
    let servers = Arc::new(Mutex::new(Vec::new()));
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion_menu".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    let mut editor = Reedline::create()
        .with_completer(Box::new(AdminCompleter {
            servers: Arc::clone(&servers),
        }))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(
            ColumnarMenu::default()
                .with_name("completion_menu")
                .with_marker(""),
        )))
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .with_quick_completions(true)
        .with_partial_completions(true);
    let history = directories::ProjectDirs::from("", "", "virtsh").and_then(|d| {
        let dir = d.data_dir().to_path_buf();
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir.join("admin-history"))
    });
    if let Some(path) = history {
        match FileBackedHistory::with_file(histsize, path) {
            Ok(h) => editor = editor.with_history(Box::new(h)),
            Err(e) => eprintln!("error: cannot open history: {e}"),
        }
    }
    loop {
        if let Some(c) = a.conn.as_mut().filter(|c| c.is_alive()) {
            let names = c.list_servers().unwrap_or_default();
            if let Ok(mut s) = servers.lock() {
                *s = names;
            }
        }
        match editor.read_line(&AdminPrompt) {
            Ok(Signal::Success(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                a.run_line(&line);
                if a.sh.quit {
                    let _ = write_stdout("\n");
                    return 0;
                }
            }
            Ok(Signal::CtrlC) => continue,
            Ok(Signal::CtrlD) => {
                let _ = write_stdout("\n");
                return 0;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
