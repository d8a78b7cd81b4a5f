//! virt-admin's commands, in its groups: virt-admin itself, monitoring, management.

use crate::def::{Complete, OptKind};
use crate::defs::admin as defs;
use crate::output::table::Table;
use crate::parse::ParsedCmd;
use crate::run::LIBVIRT_COMPAT_VERSION;
use crate::shell::{write_stdout, CmdError, CmdResult};
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::sync::{Arc, Mutex};
use virtsh_api::{TypedParam, TypedValue};
use virtsh_remote::admin::{threadpool, AdminClient};

use super::*;

// ------------------------------------------------------------------ Virt-admin itself

// cd, echo and pwd are vsh's, shared with virsh mode.
pub(super) fn cmd_cd(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_cd(&mut a.sh, cmd)
}

pub(super) fn cmd_echo(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_echo(&mut a.sh, cmd)
}

pub(super) fn cmd_pwd(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    crate::commands::virsh::cmd_pwd(&mut a.sh, cmd)
}

pub(super) fn cmd_quit(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    a.sh.quit = true;
    Ok(())
}

pub(super) fn cmd_help(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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
pub(super) fn cmd_self_test(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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
pub(super) fn cmd_complete(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_uri(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
    let uri = a.conn()?.uri();
    a.sh.print(&format!("{uri}\n"));
    Ok(())
}

/// major.minor.release of libvirt's version encoding.
pub(super) fn version_str(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v % 1_000_000) / 1000, v % 1000)
}

pub(super) fn cmd_version(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_connect(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_server_list(a: &mut Admin, _cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_threadpool_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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
pub(super) fn uint_params(
    cmd: &ParsedCmd,
    table: &[(&str, &str)],
) -> Result<Vec<TypedParam>, CmdError> {
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

pub(super) fn param(params: &[TypedParam], field: &str) -> Option<u32> {
    params
        .iter()
        .find(|p| p.field == field)
        .map(|p| as_uint(&p.value))
}

pub(super) fn cmd_threadpool_set(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_client_list(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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
pub(super) fn lookup_client(a: &mut Admin, server: &str, id: u64) -> Result<AdminClient, CmdError> {
    let conn = a.conn()?;
    let srv = conn.lookup_server(server).map_err(lib)?;
    conn.lookup_client(&srv, id).map_err(lib)
}

pub(super) fn cmd_client_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_clients_info(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_client_disconnect(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_clients_set(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_update_tls(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
    let name = req_str(cmd, "server")?;
    let conn = a.conn()?;
    let srv = conn.lookup_server(name).map_err(lib)?;
    conn.update_tls_files(&srv)
        .map_err(|e| with("Unable to update server's tls related files.", e))?;
    a.sh.print("update tls related files succeed\n");
    Ok(())
}

pub(super) fn cmd_log_filters(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_log_outputs(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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

pub(super) fn cmd_daemon_timeout(a: &mut Admin, cmd: &ParsedCmd) -> CmdResult {
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
pub(super) fn history_size() -> Result<usize, String> {
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

pub(super) fn repl(a: &mut Admin) -> i32 {
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
pub(super) fn repl_piped(a: &mut Admin) -> i32 {
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

pub(super) fn repl_terminal(a: &mut Admin, histsize: usize) -> i32 {
    use reedline::{FileBackedHistory, Signal};
    let servers = Arc::new(Mutex::new(Vec::new()));
    let mut editor = crate::repl::line_editor(Box::new(AdminCompleter {
        servers: Arc::clone(&servers),
    }));
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
