//! From argv to exit status: global options, the connection, then commands.

use crate::cli::{self, VersionKind};
use crate::parse::{self, ArgvTokens, ParsedCmd, StringTokens, Tokens};
use crate::shell::{find_command, write_stdout, LogLevel, OutputFormat, Shell};
use std::time::Instant;

/// The libvirt release whose virsh we reproduce; `--version` reports it so scripts that gate on
/// virsh's version keep working.
pub const LIBVIRT_COMPAT_VERSION: &str = "9.0.0";

pub fn main(args: &[String]) -> i32 {
    // `--generate=bash|zsh|fish|man` (not a virsh option) prints a completion script or the
    // manual page; looked for before virsh's own option parsing, which stays untouched.
    if let Some(code) = crate::generate::handle(args.get(1..).unwrap_or_default()) {
        return code;
    }
    let g = match cli::parse(args.get(1..).unwrap_or_default()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    for w in &g.warnings {
        eprintln!("error: {w}");
    }
    if g.help {
        let _ = write_stdout(&crate::commands::virsh::usage(&invoked_as(
            args.first().map(String::as_str).unwrap_or("virtsh"),
        )));
        return 0;
    }
    match g.version {
        Some(VersionKind::Short) => {
            let _ = write_stdout(&format!("{LIBVIRT_COMPAT_VERSION}\n"));
            return 0;
        }
        Some(VersionKind::Long) => {
            let _ = write_stdout(&crate::commands::virsh::long_version(&invoked_as(
                args.first().map(String::as_str).unwrap_or("virtsh"),
            )));
            return 0;
        }
        None => {}
    }

    let mut sh = Shell::new();
    sh.prog = invoked_as(args.first().map(String::as_str).unwrap_or("virtsh"));
    sh.readonly = g.readonly;
    sh.quiet = g.quiet;
    sh.timing = g.timing;
    // VIRSH_DEBUG and VIRSH_LOG_FILE are virsh's environment spellings of -d and -l.
    sh.debug = g
        .debug
        .or_else(|| {
            std::env::var("VIRSH_DEBUG")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| (0..=4).contains(n))
        })
        .unwrap_or(-1);
    let log_path = g.log.clone().or_else(|| {
        std::env::var("VIRSH_LOG_FILE")
            .ok()
            .filter(|v| !v.is_empty())
    });
    sh.output = g.output.unwrap_or(OutputFormat::Text);
    if let Some(e) = &g.escape {
        sh.escape_char = e.clone();
    }
    if let Some(path) = &log_path {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => sh.log_file = Some(f),
            Err(e) => {
                eprintln!(
                    "error: failed to open the log file. check the log file path: {}",
                    crate::commands::virsh::os_err(&e)
                );
                return 1;
            }
        }
    }
    let uri = crate::connect::resolve_uri(g.connect.as_deref());
    // Shell completion scripts call `complete`; they get command names and options even when
    // the URI cannot be opened (object names need the connection).
    let completing = g.rest.first().and_then(|a| a.split_whitespace().next()) == Some("complete");
    if let Err(lines) = sh.connect(&uri, g.readonly) {
        if !completing {
            for l in lines {
                sh.error(&l);
            }
            return 1;
        }
    }
    // virsh asks for keepalive when -k (non-zero) or -K is given, and gives up the connection
    // when the driver cannot do it.
    if g.keepalive_interval.is_some_and(|i| i > 0) || g.keepalive_count.is_some() {
        let interval = g.keepalive_interval.unwrap_or(5);
        let count = g.keepalive_count.unwrap_or(6);
        if let Err(e) = sh
            .conn()
            .map_err(|_| virtsh_api::Error::internal("no connection"))
            .and_then(|c| c.set_keepalive(interval, count))
        {
            sh.error("Cannot setup keepalive on connection as requested, disconnecting");
            sh.error("failed to connect to the hypervisor");
            sh.error(&e.message);
            return 1;
        }
    }

    if g.rest.is_empty() {
        sh.interactive = true;
        return crate::repl::run(&mut sh);
    }
    let parsed = if g.rest.len() == 1 {
        sh.debug(LogLevel::Info, &format!("commands: \"{}\"", g.rest[0]));
        parse::parse_all(&mut StringTokens::new(&g.rest[0]), &find_command)
    } else {
        parse::parse_all(&mut ArgvTokens::new(g.rest.iter().cloned()), &find_command)
    };
    match parsed {
        Ok(cmds) => {
            if run_all(&mut sh, &cmds) {
                0
            } else {
                1
            }
        }
        Err(e) => {
            report_parse_error(&mut sh, &e);
            1
        }
    }
}

/// Parse and run one line typed at the prompt.
pub fn run_line(sh: &mut Shell, line: &str) -> bool {
    let mut tokens = StringTokens::new(line);
    run_tokens(sh, &mut tokens)
}

fn run_tokens(sh: &mut Shell, tokens: &mut dyn Tokens) -> bool {
    match parse::parse_all(tokens, &find_command) {
        Ok(cmds) => run_all(sh, &cmds),
        Err(e) => {
            report_parse_error(sh, &e);
            false
        }
    }
}

/// virsh's lines, then (for people, see diagnostic.rs) the nearest name to a mistyped one.
fn report_parse_error(sh: &mut Shell, error: &str) {
    for line in error.lines() {
        sh.error(line);
    }
    if crate::diagnostic::wanted() {
        if let Some(hint) = error.lines().next().and_then(crate::diagnostic::suggest) {
            eprintln!("hint: {hint}");
        }
    }
}

/// Run commands in order, as vshCommandRun does: each one's failure is reported and the next
/// still runs; the result is the last command's. A blank line follows each command's output
/// (not under --quiet), or the timing when --timing is on.
pub fn run_all(sh: &mut Shell, cmds: &[ParsedCmd]) -> bool {
    let mut ok = true;
    for cmd in cmds {
        let start = Instant::now();
        ok = run_one(sh, cmd);
        let elapsed = start.elapsed();
        if matches!(cmd.def.name, "quit" | "exit") {
            sh.flush();
            return ok;
        }
        if sh.timing {
            sh.print(&format!(
                "\n(Time: {:.3} ms)\n\n",
                elapsed.as_secs_f64() * 1000.0
            ));
        } else {
            sh.print_extra("\n");
        }
        sh.flush();
    }
    ok
}

fn run_one(sh: &mut Shell, cmd: &ParsedCmd) -> bool {
    let Some(handler) = crate::commands::handler(cmd.def.name) else {
        sh.error(&format!(
            "command '{}' is not implemented by virtsh yet",
            cmd.def.name
        ));
        return false;
    };
    if !cmd.def.no_connect && sh.conn.is_none() {
        sh.error("no valid connection");
        return false;
    }
    for (opt, value) in &cmd.opts {
        let trace = match value {
            Some(v) => format!("{}: {}(optdata): {v}", cmd.def.name, opt.name),
            None => format!("{}: {}(bool): (none)", cmd.def.name, opt.name),
        };
        sh.debug(LogLevel::Info, &trace);
    }
    match handler(sh, cmd) {
        Ok(()) => true,
        Err(e) => {
            for line in &e.lines {
                sh.error(line);
            }
            if let Some(d) = &e.diagnostic {
                eprint!("{d}");
            }
            false
        }
    }
}

/// `virsh` when run through a symlink of that name, `virtsh` otherwise.
fn invoked_as(argv0: &str) -> String {
    let base = std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("virtsh");
    if base == "virsh" { "virsh" } else { "virtsh" }.to_string()
}
