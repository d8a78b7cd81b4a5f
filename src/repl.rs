//! The interactive prompt: reedline on a terminal, a plain line reader otherwise.
//!
//! On a terminal: history in the user's data directory (VIRSH_HISTSIZE entries, default 500),
//! Ctrl-C drops the line, Ctrl-D quits. From a pipe, virsh (through readline) still prints the
//! banner and the prompt and echoes each line; we do the same so transcripts match.

use crate::complete::{complete, Names};
use crate::run::run_line;
use crate::shell::Shell;
use reedline::{
    default_emacs_keybindings, ColumnarMenu, Completer, Emacs, FileBackedHistory, KeyCode,
    KeyModifiers, MenuBuilder, Prompt, PromptEditMode, PromptHistorySearch, Reedline,
    ReedlineEvent, ReedlineMenu, Signal, Span, Suggestion,
};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

const BANNER: &str = "Welcome to {prog}, the virtualization interactive terminal.\n\n\
Type:  'help' for help with commands\n       'quit' to quit\n\n";

/// virsh's prompt: `virsh # `, or `virsh > ` on a read-only connection.
fn prompt_text(sh: &Shell) -> String {
    format!("{} {} ", sh.prog, if sh.readonly { ">" } else { "#" })
}

pub fn run(sh: &mut Shell) -> i32 {
    print!("{}", BANNER.replace("{prog}", &sh.prog));
    if std::io::stdin().is_terminal() {
        run_terminal(sh)
    } else {
        run_piped(sh)
    }
}

fn run_piped(sh: &mut Shell) -> i32 {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("{}", prompt_text(sh));
        let _ = std::io::stdout().flush();
        let Some(Ok(line)) = lines.next() else {
            println!();
            return 0;
        };
        println!("{line}");
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

fn history_size() -> usize {
    std::env::var("VIRSH_HISTSIZE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n <= 500_000)
        .unwrap_or(500)
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

fn run_terminal(sh: &mut Shell) -> i32 {
    let names = Arc::new(Mutex::new(Names::default()));
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
        .with_completer(Box::new(LineCompleter {
            names: Arc::clone(&names),
        }))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(
            ColumnarMenu::default()
                .with_name("completion_menu")
                .with_marker(""),
        )))
        .with_edit_mode(Box::new(Emacs::new(keys)))
        // Like readline: a single candidate is taken at once, several fill their common prefix.
        .with_quick_completions(true)
        .with_partial_completions(true);
    if let Some(path) = history_path() {
        match FileBackedHistory::with_file(history_size(), path) {
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
                println!();
                return 0;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    }
}
