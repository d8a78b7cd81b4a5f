//! The interactive prompt: reedline on a terminal, a plain line reader otherwise.
//!
//! On a terminal: history in the user's data directory (VIRSH_HISTSIZE entries, default 500),
//! Ctrl-R searches it, a line ending in a backslash continues on the next one, the synopsis of
//! the command being typed is hinted after the cursor, Tab completes, Ctrl-C drops the line,
//! Ctrl-D quits. From a pipe, virsh (through readline) still prints the
//! banner and the prompt and echoes each line; we do the same so transcripts match.
//!
//! Ctrl-R differs from virsh's in one way: Enter takes the match onto the line and a second
//! Enter runs it, where readline runs it at once. No key binding can do better with reedline
//! (0.38, and upstream still so): while searching, its engine handles every event in
//! `handle_history_search_event`, where Enter, Submit and SubmitOrNewline only copy the match
//! to the line and leave the search, `UntilFound` stops at that first handled event, and
//! `Multiple` is ignored; the only events that end `read_line` from there are Ctrl-C, Ctrl-D
//! and ExecuteHostCommand (which keeps the search mode for the next prompt). An edit mode maps
//! one terminal event to one such event, so the submit would need a second key.

use crate::complete::{complete, hint, Names};
use crate::run::run_line;
use crate::shell::{write_stdout, Shell};
use reedline::{
    default_emacs_keybindings, ColumnarMenu, Completer, Emacs, FileBackedHistory, Hinter, History,
    KeyCode, KeyModifiers, MenuBuilder, Prompt, PromptEditMode, PromptHistorySearch, Reedline,
    ReedlineEvent, ReedlineMenu, Signal, Span, Suggestion, ValidationResult, Validator,
};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::sync::{Arc, Mutex};

const BANNER: &str = "Welcome to {prog}, the virtualization interactive terminal.\n\n\
Type:  'help' for help with commands\n       'quit' to quit\n\n";

/// virsh's prompt: `virsh # `, or `virsh > ` on a read-only connection.
fn prompt_text(sh: &Shell) -> String {
    format!("{} {} ", sh.prog, if sh.readonly { ">" } else { "#" })
}

pub fn run(sh: &mut Shell) -> i32 {
    // virsh checks its history size before anything else in interactive mode, and gives up on
    // a bad one (vshReadlineInit).
    let histsize = match history_size(&sh.prog) {
        Ok(n) => n,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    if write_stdout(&BANNER.replace("{prog}", &sh.prog)).is_err() {
        return 0;
    }
    if std::io::stdin().is_terminal() {
        run_terminal(sh, histsize)
    } else {
        run_piped(sh)
    }
}

fn run_piped(sh: &mut Shell) -> i32 {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if write_stdout(&prompt_text(sh)).is_err() {
            return 0;
        }
        let Some(Ok(line)) = lines.next() else {
            let _ = write_stdout("\n");
            return 0;
        };
        if write_stdout(&format!("{line}\n")).is_err() {
            return 0;
        }
        run_line(sh, &line);
        if sh.quit {
            return 0;
        }
    }
}

struct VirshPrompt(String);

impl Prompt for VirshPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_indicator(&self, _mode: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }
    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        Cow::Owned(format!("(reverse-i-search)`{}': ", search.term))
    }
}

/// virsh's HISTSIZE_MAX.
const HISTSIZE_MAX: i64 = 500_000;

/// The history size from `VIRSH_HISTSIZE` (`VIRT_ADMIN_HISTSIZE` as virt-admin): 500 when
/// unset; virsh's errors for a value that is not a number or not in 0..=500000.
fn history_size(prog: &str) -> Result<usize, String> {
    let var = if prog == "virt-admin" {
        "VIRT_ADMIN_HISTSIZE"
    } else {
        "VIRSH_HISTSIZE"
    };
    parse_history_size(var, std::env::var(var).ok().as_deref())
}

fn parse_history_size(var: &str, value: Option<&str>) -> Result<usize, String> {
    let Some(value) = value else {
        return Ok(500);
    };
    // virStrToLong_i: an int, nothing after it.
    let n: i64 = value
        .parse::<i32>()
        .map_err(|_| format!("Bad ${var} value."))?
        .into();
    if !(0..=HISTSIZE_MAX).contains(&n) {
        return Err(format!(
            "${var} value should be between 0 and {HISTSIZE_MAX}"
        ));
    }
    Ok(n as usize)
}

/// A line whose last character is an unescaped backslash continues on the next line.
struct ContinuationValidator;

impl Validator for ContinuationValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Complete
        }
    }
}

/// The line as one command line: each backslash-newline the validator let through is removed,
/// as a shell does (`list \<newline>--all` is `list --all`).
fn join_continuations(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '\n' && backslashes % 2 == 1 {
            out.pop();
            backslashes = 0;
            continue;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// Shows the synopsis of the command being typed after the cursor, dimmed. Only a display:
/// Right arrow does not insert it (complete_hint is empty).
struct SynopsisHinter;

impl Hinter for SynopsisHinter {
    fn handle(
        &mut self,
        line: &str,
        pos: usize,
        _history: &dyn History,
        use_ansi_coloring: bool,
        _cwd: &str,
    ) -> String {
        if pos < line.len() || line.contains('\n') {
            return String::new();
        }
        let mut text = hint(line);
        // Long synopses (migrate ...) would wrap over several lines: cut them short.
        const MAX: usize = 72;
        if text.chars().count() > MAX {
            text = text.chars().take(MAX - 1).collect::<String>() + "…";
        }
        if text.is_empty() || !use_ansi_coloring {
            text
        } else {
            format!("\x1b[2m{text}\x1b[0m")
        }
    }
    fn complete_hint(&self) -> String {
        String::new()
    }
    fn next_hint_token(&self) -> String {
        String::new()
    }
}

fn history_path() -> Option<std::path::PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "virtsh")?;
    let dir = dirs.data_dir().to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// Tab completion at the prompt. The object names are refreshed before each prompt, so
/// completing never waits on a driver.
struct LineCompleter {
    names: Arc<Mutex<Names>>,
}

impl Completer for LineCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let line = &line[..pos.min(line.len())];
        let names = self.names.lock().map(|n| n.clone()).unwrap_or_default();
        let (start, candidates) = complete(line, &names);
        candidates
            .into_iter()
            .map(|value| Suggestion {
                append_whitespace: !value.ends_with('/'),
                value,
                span: Span::new(start, pos),
                ..Suggestion::default()
            })
            .collect()
    }
}

/// The line editor of both prompts (virsh's and virt-admin's): Emacs keys, Tab cycling a
/// completion menu, and readline's way with candidates (a single one is taken at once,
/// several fill their common prefix).
pub(crate) fn line_editor(completer: Box<dyn Completer>) -> Reedline {
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion_menu".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    Reedline::create()
        .with_completer(completer)
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(
            ColumnarMenu::default()
                .with_name("completion_menu")
                .with_marker(""),
        )))
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .with_quick_completions(true)
        .with_partial_completions(true)
}

fn run_terminal(sh: &mut Shell, histsize: usize) -> i32 {
    let names = Arc::new(Mutex::new(Names::default()));
    let mut editor = line_editor(Box::new(LineCompleter {
        names: Arc::clone(&names),
    }))
    .with_validator(Box::new(ContinuationValidator))
    .with_hinter(Box::new(SynopsisHinter));
    if let Some(path) = history_path() {
        match FileBackedHistory::with_file(histsize, path) {
            Ok(h) => editor = editor.with_history(Box::new(h)),
            Err(e) => eprintln!("error: cannot open history: {e}"),
        }
    }
    loop {
        if let (Some(conn), Ok(mut n)) = (sh.conn.as_deref(), names.lock()) {
            *n = Names::collect(conn);
        }
        let prompt = VirshPrompt(prompt_text(sh));
        match editor.read_line(&prompt) {
            Ok(Signal::Success(line)) => {
                let line = join_continuations(&line);
                if line.trim().is_empty() {
                    continue;
                }
                run_line(sh, &line);
                if sh.quit {
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

    #[test]
    fn history_size_as_virsh_reads_it() {
        let v = "VIRSH_HISTSIZE";
        assert_eq!(parse_history_size(v, None), Ok(500));
        assert_eq!(parse_history_size(v, Some("0")), Ok(0));
        assert_eq!(parse_history_size(v, Some("500000")), Ok(500_000));
        assert_eq!(
            parse_history_size(v, Some("12x")),
            Err("Bad $VIRSH_HISTSIZE value.".into())
        );
        assert_eq!(
            parse_history_size(v, Some("500001")),
            Err("$VIRSH_HISTSIZE value should be between 0 and 500000".into())
        );
        assert!(parse_history_size(v, Some("-1")).is_err());
    }

    #[test]
    fn trailing_backslash_continues() {
        let v = ContinuationValidator;
        assert!(matches!(
            v.validate("list \\"),
            ValidationResult::Incomplete
        ));
        assert!(matches!(
            v.validate("echo \\\\"),
            ValidationResult::Complete
        ));
        assert!(matches!(v.validate("list"), ValidationResult::Complete));
        assert_eq!(join_continuations("list \\\n--all"), "list --all");
        assert_eq!(join_continuations("a \\\nb \\\nc"), "a b c");
        assert_eq!(join_continuations("echo \\\\"), "echo \\\\");
    }

    #[test]
    fn hint_is_the_synopsis_and_never_inserted() {
        let mut h = SynopsisHinter;
        let hist = FileBackedHistory::new(10).unwrap();
        assert_eq!(
            h.handle("dominfo ", 8, &hist, false, ""),
            "# dominfo <domain>"
        );
        assert_eq!(h.handle("dominfo ", 3, &hist, false, ""), "");
        assert!(h.handle("migrate ", 8, &hist, false, "").chars().count() <= 72);
        assert_eq!(h.complete_hint(), "");
    }
}
