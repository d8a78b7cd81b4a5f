//! The shell's state between commands: the connection, the global modes, and output.
//!
//! Output of a command is collected and written when the command ends, stdout first, so that
//! error lines (stderr) never interleave with half a table.

use crate::def::CommandDef;
use crate::parse::ParsedCmd;
use std::io::Write;
use virtsh_api::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// virsh's own text, byte for byte.
    Text,
    /// `--output json`: one JSON document per command.
    Json,
}

/// An error a command reports: each line is printed as `error: LINE` (virsh prints its own
/// context line, then libvirt's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError {
    pub lines: Vec<String>,
    /// A rendered diagnostic for people, printed after the lines (see `diagnostic.rs`).
    pub diagnostic: Option<String>,
}

impl CmdError {
    pub fn msg(line: impl Into<String>) -> Self {
        CmdError {
            lines: vec![line.into()],
            diagnostic: None,
        }
    }

    /// Our context line followed by the driver's message.
    pub fn with(context: impl Into<String>, err: virtsh_api::Error) -> Self {
        CmdError {
            lines: vec![context.into(), err.message],
            diagnostic: None,
        }
    }

    /// Several lines, printed in order.
    pub fn lines(lines: Vec<String>) -> Self {
        CmdError {
            lines,
            diagnostic: None,
        }
    }

    /// Point into the XML file the command read, when people are watching.
    pub fn explain_xml(mut self, kind: crate::diagnostic::XmlKind, file: &str, text: &str) -> Self {
        if crate::diagnostic::wanted() {
            self.diagnostic = crate::diagnostic::explain(kind, file, text);
        }
        self
    }
}

impl From<virtsh_api::Error> for CmdError {
    fn from(e: virtsh_api::Error) -> Self {
        CmdError::msg(e.message)
    }
}

pub type CmdResult = Result<(), CmdError>;

/// The levels of virsh's messages we emit (vshErrorLevel values: `-d N` shows levels >= N;
/// virsh's DEBUG 0, NOTICE 2 and WARNING 3 have no emitter here yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Info = 1,
    Error = 4,
}

impl LogLevel {
    fn name(self) -> &'static str {
        match self {
            LogLevel::Info => "INFO",
            LogLevel::Error => "ERROR",
        }
    }
}

pub type Handler = fn(&mut Shell, &ParsedCmd) -> CmdResult;

pub struct Shell {
    pub conn: Option<Box<dyn Connection>>,
    /// The URI asked for (`-c`, the environment, or the default).
    pub uri: Option<String>,
    pub readonly: bool,
    pub quiet: bool,
    pub timing: bool,
    pub debug: i32,
    pub output: OutputFormat,
    pub interactive: bool,
    pub escape_char: String,
    /// Set by `quit`/`exit`.
    pub quit: bool,
    /// The name we were invoked as, for prompts and banners (`virsh` through a symlink).
    pub prog: String,
    /// `-l FILE`: errors (and, with `-d`, debug traces) are appended there too.
    pub log_file: Option<std::fs::File>,
    out: String,
}

impl Shell {
    pub fn new() -> Self {
        Shell {
            conn: None,
            uri: None,
            readonly: false,
            quiet: false,
            timing: false,
            debug: -1,
            output: OutputFormat::Text,
            interactive: false,
            escape_char: "^]".into(),
            quit: false,
            prog: "virtsh".into(),
            log_file: None,
            out: String::new(),
        }
    }

    /// Print as virsh's vshPrint: always.
    pub fn print(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Print as virsh's vshPrintExtra: not under `--quiet`.
    pub fn print_extra(&mut self, s: &str) {
        if !self.quiet {
            self.out.push_str(s);
        }
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// Print one JSON value (pretty, newline-terminated).
    pub fn print_json<T: serde::Serialize>(&mut self, value: &T) -> CmdResult {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CmdError::msg(format!("cannot format JSON: {e}")))?;
        self.out.push_str(&text);
        self.out.push('\n');
        Ok(())
    }

    /// One value on a line of its own, or as a JSON document under `--output json`.
    pub fn print_value<T: serde::Serialize + std::fmt::Display>(&mut self, value: &T) -> CmdResult {
        if self.json() {
            return self.print_json(value);
        }
        self.print(&format!("{value}\n"));
        Ok(())
    }

    /// Write what the command printed so far.
    pub fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`virtsh list | head -1`) is not an error worth reporting.
        let _ = stdout.write_all(self.out.as_bytes());
        let _ = stdout.flush();
        self.out.clear();
    }

    /// Print an error line now, after what stdout already has.
    pub fn error(&mut self, line: &str) {
        self.flush();
        eprintln!("error: {line}");
        self.log(LogLevel::Error, line);
    }

    /// A debug trace, as vshDebug: printed on stdout when `-d` allows its level, and logged.
    pub fn debug(&mut self, level: LogLevel, line: &str) {
        if self.debug >= 0 && level as i32 >= self.debug {
            self.print(line);
            self.print("\n");
            self.log(level, line);
        }
    }

    /// Append one line to the `-l` log, in virsh's layout:
    /// `[YYYY.MM.DD HH:MM:SS virsh PID] LEVEL message`.
    fn log(&mut self, level: LogLevel, line: &str) {
        let Some(f) = self.log_file.as_mut() else {
            return;
        };
        let stamp = chrono::Local::now().format("%Y.%m.%d %H:%M:%S");
        let entry = format!(
            "[{stamp} {} {}] {} {line}\n",
            self.prog,
            std::process::id(),
            level.name()
        );
        // A log that cannot be written must not stop the command; virsh ignores it too.
        let _ = f.write_all(entry.as_bytes());
    }

    pub fn conn(&self) -> Result<&dyn Connection, CmdError> {
        self.conn
            .as_deref()
            .ok_or_else(|| CmdError::msg("no valid connection"))
    }

    /// Refuse a state change on a read-only connection, worded as libvirt's public API layer
    /// words it (the API name is part of the message).
    pub fn writable(&self, api: &str) -> Result<&dyn Connection, virtsh_api::Error> {
        if self.readonly {
            return Err(virtsh_api::Error::new(
                virtsh_api::ErrorKind::OperationDenied,
                format!("read only access prevents {api}"),
            ));
        }
        self.conn
            .as_deref()
            .ok_or_else(|| virtsh_api::Error::internal("no valid connection"))
    }
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

/// Write to stdout now. A closed pipe (`virtsh -h | head -1`) is reported as an error for the
/// caller to stop on, never as a panic; virsh simply dies of SIGPIPE there.
pub fn write_stdout(s: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()
}

/// Find a command declaration by name.
pub fn find_command(name: &str) -> Option<&'static CommandDef> {
    crate::defs::find(name)
}

impl Shell {
    /// Open `uri` and make it the current connection. On failure the old connection is kept
    /// and the lines to report are returned (virsh's "failed to connect to the hypervisor").
    pub fn connect(&mut self, uri: &str, readonly: bool) -> Result<(), Vec<String>> {
        match crate::connect::open(uri, readonly) {
            Ok(conn) => {
                self.conn = Some(conn);
                self.uri = Some(uri.to_string());
                self.readonly = readonly;
                Ok(())
            }
            Err(e) => Err(vec![
                "failed to connect to the hypervisor".to_string(),
                e.message,
            ]),
        }
    }
}
