//! The committed completion scripts and manual page (completions/, man/) are what
//! `virtsh --generate=...` prints now, document every command, and the scripts complete for real
//! in bash, zsh and fish by calling back into the built binary. The zsh script runs inside zsh's
//! own completion system: an interactive `zsh -f` in tmux, Tab pressed, the screen read back.
//!
//! zsh, fish and tmux are installed by tests/run (DEBIAN_PACKAGES). Without them their tests
//! print a warning and pass on a developer's machine; under CI=true a missing one fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::tmux::{shell_quote, wait_until, Tmux};

const VIRTSH: &str = env!("CARGO_BIN_EXE_virtsh");
const URI: &str = "test:///default";

/// Each `--generate` target and the file it is committed as.
const TARGETS: &[(&str, &str)] = &[
    ("bash", "completions/virtsh.bash"),
    ("zsh", "completions/_virtsh"),
    ("fish", "completions/virtsh.fish"),
    ("man", "man/virtsh.1"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(what: &str) -> String {
    let out = Command::new(VIRTSH)
        .arg(format!("--generate={what}"))
        .output()
        .expect("run virtsh");
    assert!(
        out.status.success(),
        "virtsh --generate={what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn committed_files_are_up_to_date() {
    let mut stale = Vec::new();
    for (what, file) in TARGETS {
        let committed = std::fs::read_to_string(root().join(file)).unwrap_or_default();
        if committed != generate(what) {
            stale.push(format!("{file} (virtsh --generate={what})"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files: {}\nregenerate them with:\n  cargo build --release && \
         for t in bash:completions/virtsh.bash zsh:completions/_virtsh \
         fish:completions/virtsh.fish man:man/virtsh.1; do \
         target/release/virtsh --generate=${{t%%:*}} > ${{t#*:}}; done",
        stale.join(", ")
    );
}

#[test]
fn unknown_target_is_an_error() {
    let out = Command::new(VIRTSH).arg("--generate=csh").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

/// The text of a roff page with the escapes the generator writes undone.
fn unroff(s: &str) -> String {
    s.replace("\\-", "-")
        .replace("\\&", "")
        .replace("\\e", "\\")
}

/// `virtsh help` lists every non-hidden command with its help line; each one has a section in
/// the page with that line, and the synopsis `virtsh help COMMAND` prints.
#[test]
fn man_page_documents_every_listed_command() {
    let page = unroff(&generate("man"));
    let out = Command::new(VIRTSH)
        .args(["-c", URI, "help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8(out.stdout).unwrap();
    let mut commands = Vec::new();
    for line in listing.lines() {
        // "    name                           help line"
        let Some(body) = line.strip_prefix("    ") else {
            continue;
        };
        let (name, help) = body.split_once(' ').expect("name and help");
        commands.push(name.to_string());
        let section = format!(".SS {name}\n{}\n", help.trim_start());
        assert!(page.contains(&section), "man page lacks:\n{section}");
    }
    assert!(commands.len() > 250, "only {} commands", commands.len());

    // One process prints every command's help: `help a; help b; ...`.
    let script: Vec<String> = commands.iter().map(|c| format!("help {c}")).collect();
    let out = Command::new(VIRTSH)
        .args(["-c", URI, &script.join("; ")])
        .output()
        .unwrap();
    let helps = String::from_utf8(out.stdout).unwrap();
    let synopses: Vec<&str> = helps
        .split("  SYNOPSIS\n    ")
        .skip(1)
        .map(|s| s.lines().next().unwrap())
        .collect();
    assert_eq!(synopses.len(), commands.len());
    for (name, synopsis) in commands.iter().zip(synopses) {
        let rest = synopsis.strip_prefix(name.as_str()).unwrap();
        let roff = format!("\\fB{name}\\fR{rest}\n");
        assert!(
            page.contains(&roff),
            "man page lacks the synopsis {synopsis}"
        );
    }
}

/// The directory of the built binary, first on PATH: the scripts find `virtsh` there, as they
/// would once it is installed.
fn bin_dir() -> PathBuf {
    Path::new(VIRTSH).parent().unwrap().to_path_buf()
}

fn path_env() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Whether `tool` runs (`tool probe...` succeeds); when not, fail under CI and warn otherwise.
fn have(tool: &str, probe: &[&str]) -> bool {
    if Command::new(tool)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    let msg = format!("{tool} is not installed (tests/run installs it)");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("warning: {msg}; skipping its completion test (under CI=true this fails)");
    false
}

fn lines(out: std::process::Output, what: &str) -> Vec<String> {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// What the bash script offers for `line` (the cursor at its end). COMP_WORDS is split as bash
/// splits it, at blanks and at COMP_WORDBREAKS (so `test:///default` is three words).
fn bash_complete(line: &str, env: &[(&str, &str)]) -> Vec<String> {
    let script = r#"
        source completions/virtsh.bash
        COMP_LINE=$1
        COMP_POINT=${#1}
        COMP_WORDS=()
        w=
        for (( k = 0; k < ${#1}; k++ )); do
            ch=${1:k:1}
            case $ch in
                ' ') [[ -n $w ]] && COMP_WORDS+=("$w"); w= ;;
                [:=]) [[ -n $w ]] && COMP_WORDS+=("$w"); COMP_WORDS+=("$ch"); w= ;;
                *) w+=$ch ;;
            esac
        done
        COMP_WORDS+=("$w")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        complete -p virtsh >/dev/null || exit 3
        _virtsh virtsh
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let mut cmd = Command::new("bash");
    cmd.current_dir(root())
        .args(["-c", script, "bash", line])
        .env("PATH", path_env())
        .env_remove("LIBVIRT_DEFAULT_URI")
        .env_remove("VIRSH_DEFAULT_CONNECT_URI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    lines(cmd.output().unwrap(), line)
}

#[test]
fn bash_script_completes_by_calling_virtsh() {
    if !have("bash", &["-c", "exit 0"]) {
        return;
    }
    let c = bash_complete("virtsh -c test:///default dominf", &[]);
    assert!(c.contains(&"dominfo".to_string()), "{c:?}");
    assert_eq!(
        bash_complete("virtsh -c test:///default dominfo t", &[]),
        ["test"]
    );
    assert_eq!(
        bash_complete("virtsh --connect=test:///default net-info ", &[]),
        ["default"]
    );
    assert_eq!(
        bash_complete("virtsh -rc test:///default list --state-r", &[]),
        ["--state-running"]
    );
    // LIBVIRT_DEFAULT_URI stands for -c.
    assert_eq!(
        bash_complete("virtsh dominfo ", &[("LIBVIRT_DEFAULT_URI", URI)]),
        ["test"]
    );
    // Global options and their values are the script's own.
    let c = bash_complete("virtsh --con", &[]);
    assert_eq!(c, ["--connect"]);
    assert_eq!(bash_complete("virtsh -o j", &[]), ["json"]);
}

/// A real interactive `zsh -f` in a terminal (tests/support/tmux.rs: its own tmux server, killed
/// on drop, failures included) with its own HOME. The test types into the pane and reads the
/// screen back, as tests/repl.rs does for the REPL.
struct Zsh(Tmux);

impl std::ops::Deref for Zsh {
    type Target = Tmux;

    fn deref(&self) -> &Tmux {
        &self.0
    }
}

/// The prompt the test sets, so the line being edited is easy to find.
const PS1: &str = "zsh> ";

impl Zsh {
    /// zsh with the committed script on fpath, compinit run, emacs keys, the built virtsh first
    /// on PATH and LIBVIRT_DEFAULT_URI=test:///default.
    fn start() -> Zsh {
        let zsh = Zsh(Tmux::new("zsh"));
        // `env` fixes zsh's environment whatever the caller's: VIRSH_DEFAULT_CONNECT_URI would
        // win over LIBVIRT_DEFAULT_URI, and an EDITOR naming vi would select the vi keymap.
        let cmd = format!(
            "env -u VIRSH_DEFAULT_CONNECT_URI -u EDITOR -u VISUAL -u ZDOTDIR HOME={} PATH={} \
             LIBVIRT_DEFAULT_URI={URI} zsh -f",
            shell_quote(&zsh.dir.display().to_string()),
            shell_quote(&path_env()),
        );
        zsh.new_session(Some(&zsh.dir), &cmd);
        // compinit -D: no dump file; the marker is computed so that only its output, not the
        // typed line, matches.
        zsh.type_text(&format!(
            "bindkey -e; fpath=({} $fpath); autoload -Uz compinit; compinit -u -D; \
             PS1='{PS1}'; print ready-$((6*7))",
            shell_quote(&root().join("completions").display().to_string())
        ));
        zsh.key("Enter");
        zsh.wait_for("zsh and compinit", |screen, _| {
            screen.lines().any(|l| l == "ready-42")
        });
        zsh
    }

    /// Polls the screen until `pred(screen, before_cursor)` holds (a trailing space before the
    /// cursor is what zsh appends after a completed word); fails with the screen after the
    /// deadline (virtsh runs once per Tab).
    fn wait_for(&self, what: &str, pred: impl Fn(&str, &str) -> bool) -> String {
        wait_until(what, || {
            let (screen, before) = self.snapshot();
            if pred(&screen, &before) {
                Ok(screen)
            } else {
                Err(format!(
                    "line before the cursor {before:?}; screen:\n{screen}"
                ))
            }
        })
    }

    /// Waits until the line before the cursor is the prompt and `line`, exactly.
    fn wait_line(&self, line: &str) -> String {
        let want = format!("{PS1}{line}");
        self.wait_for(&format!("the line {want:?}"), |_, before| before == want)
    }

    /// Starts a fresh line on a cleared screen, types `text` and presses Tab.
    fn tab(&self, text: &str) {
        self.key("C-u");
        self.key("C-l");
        self.wait_line("");
        self.type_text(text);
        self.key("Tab");
    }
}

/// The committed `_virtsh` in real zsh completion (compinit, compsys, compadd), not a stand-in:
/// what a user sees after Tab.
#[test]
fn zsh_script_completes_by_calling_virtsh() {
    if !have("zsh", &["-f", "-c", "exit 0"]) || !have("tmux", &["-V"]) {
        return;
    }
    let z = Zsh::start();

    // A unique command is completed, and a space follows it.
    z.tab("virtsh dominf");
    z.wait_line("virtsh dominfo ");
    // Several: their common prefix, then a second Tab lists them.
    z.tab("virtsh domst");
    z.wait_line("virtsh domstat");
    z.key("Tab");
    z.wait_for("the list of domstate and domstats", |screen, _| {
        screen
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["domstate", "domstats"])
    });

    // Domain names from the test driver, through LIBVIRT_DEFAULT_URI: as an argument and as
    // the value of --domain (destroy offers running domains; the test driver's `test` runs).
    z.tab("virtsh dominfo te");
    z.wait_line("virtsh dominfo test ");
    z.tab("virtsh destroy --domain ");
    z.wait_line("virtsh destroy --domain test ");
    // start offers only inactive domains, so nothing: the next key lands right after the space.
    z.tab("virtsh start --domain ");
    z.type_text("X");
    z.wait_line("virtsh start --domain X");
    // An open quote is closed around the completed name.
    z.tab("virtsh dominfo 'te");
    z.wait_line("virtsh dominfo 'test' ");

    // Option names of a command.
    z.tab("virtsh list --ina");
    z.wait_line("virtsh list --inactive ");

    // The script's own: global options, their values, and -c's URI passed on to virtsh.
    z.tab("virtsh --con");
    z.wait_line("virtsh --connect ");
    z.tab("virtsh -o j");
    z.wait_line("virtsh -o json ");
    z.tab("virtsh -c test:///default net-info ");
    z.wait_line("virtsh -c test:///default net-info default ");
}

#[test]
fn fish_script_completes_by_calling_virtsh() {
    if !have("fish", &["--no-config", "-c", "exit 0"]) {
        return;
    }
    let run = |line: &str| {
        let out = Command::new("fish")
            .current_dir(root())
            .args([
                "--no-config",
                "-c",
                "source completions/virtsh.fish; complete -C $argv[1]",
                line,
            ])
            .env("PATH", path_env())
            .output()
            .unwrap();
        lines(out, line)
    };
    let c = run("virtsh -c test:///default dominf");
    assert!(c.iter().any(|l| l == "dominfo"), "{c:?}");
    assert_eq!(run("virtsh -c test:///default dominfo t"), ["test"]);
}
