//! `virtsh --generate=bash|zsh|fish|man`: the shell completion scripts and the manual page,
//! printed on stdout and rendered from the command declarations in `defs/` (ARCHITECTURE.md,
//! "One definition per command"). The results are committed as `completions/virtsh.bash`,
//! `completions/_virtsh`, `completions/virtsh.fish` and `man/virtsh.1`; `tests/generated.rs`
//! fails when they are stale. They cover `virtsh admin` and a `virt-admin` symlink too.
//!
//! `--generate` is not a virsh option: `run::main` looks for it before parsing virsh's global
//! options, so everything else parses (and fails) exactly as virsh does.

mod completion;
mod man;

/// The artifacts `--generate` knows, with the file each is committed as.
pub const TARGETS: &[(&str, &str)] = &[
    ("bash", "completions/virtsh.bash"),
    ("zsh", "completions/_virtsh"),
    ("fish", "completions/virtsh.fish"),
    ("man", "man/virtsh.1"),
];

/// If `args` (argv without argv[0]) asks for `--generate=WHAT` (or `--generate WHAT`), print
/// the artifact and return the exit status; `None` when it does not ask.
pub fn handle(args: &[String]) -> Option<i32> {
    let first = args.first()?;
    let what = if let Some(w) = first.strip_prefix("--generate=") {
        w.to_string()
    } else if first == "--generate" {
        args.get(1).cloned().unwrap_or_default()
    } else {
        return None;
    };
    match render(&what) {
        Some(text) => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                return Some(1);
            }
            Some(0)
        }
        None => {
            let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            eprintln!(
                "error: unknown --generate target '{what}': use one of {}",
                names.join(", ")
            );
            Some(1)
        }
    }
}

/// The text of one artifact.
pub fn render(what: &str) -> Option<String> {
    Some(match what {
        "bash" => completion::bash(),
        "zsh" => completion::zsh(),
        "fish" => completion::fish(),
        "man" => man::page(),
        _ => return None,
    })
}

/// A global option of virsh, as `virsh -h` lists it. `cli.rs` parses these (its table holds
/// only what parsing needs); this one adds what the completions and the manual show, and a test
/// below checks the two agree.
pub struct GlobalOpt {
    pub short: Option<char>,
    pub long: Option<&'static str>,
    /// The value's placeholder when the option takes one.
    pub arg: Option<&'static str>,
    pub help: &'static str,
    /// What completes the value.
    pub values: Values,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Values {
    Nothing,
    File,
    List(&'static [&'static str]),
}

const fn opt(
    short: Option<char>,
    long: Option<&'static str>,
    arg: Option<&'static str>,
    help: &'static str,
) -> GlobalOpt {
    GlobalOpt {
        short,
        long,
        arg,
        help,
        values: Values::Nothing,
    }
}

pub static GLOBAL_OPTS: &[GlobalOpt] = &[
    opt(
        Some('c'),
        Some("connect"),
        Some("URI"),
        "hypervisor connection URI",
    ),
    opt(Some('d'), Some("debug"), Some("NUM"), "debug level [0-4]"),
    opt(
        Some('e'),
        Some("escape"),
        Some("CHAR"),
        "set escape sequence for console",
    ),
    opt(Some('h'), Some("help"), None, "this help"),
    opt(
        Some('k'),
        Some("keepalive-interval"),
        Some("NUM"),
        "keepalive interval in seconds, 0 for disable",
    ),
    opt(
        Some('K'),
        Some("keepalive-count"),
        Some("NUM"),
        "number of possible missed keepalive messages",
    ),
    GlobalOpt {
        values: Values::File,
        ..opt(
            Some('l'),
            Some("log"),
            Some("FILE"),
            "output logging to file",
        )
    },
    GlobalOpt {
        values: Values::List(&["text", "json"]),
        ..opt(
            Some('o'),
            Some("output"),
            Some("FORMAT"),
            "output format: text (default) or json",
        )
    },
    opt(Some('q'), Some("quiet"), None, "quiet mode"),
    opt(Some('r'), Some("readonly"), None, "connect readonly"),
    opt(Some('t'), Some("timing"), None, "print timing information"),
    opt(Some('v'), None, None, "short version"),
    opt(Some('V'), None, None, "long version"),
    opt(
        None,
        Some("version"),
        None,
        "version, TYPE is short or long (default short)",
    ),
];

/// virt-admin's global options, as `virt-admin -h` lists them (`cli::parse_admin` parses
/// them), for `virtsh admin` and a `virt-admin` symlink.
pub static ADMIN_GLOBAL_OPTS: &[GlobalOpt] = &[
    opt(
        Some('c'),
        Some("connect"),
        Some("URI"),
        "daemon admin connection URI",
    ),
    opt(Some('d'), Some("debug"), Some("NUM"), "debug level [0-4]"),
    opt(Some('h'), Some("help"), None, "this help"),
    GlobalOpt {
        values: Values::File,
        ..opt(
            Some('l'),
            Some("log"),
            Some("FILE"),
            "output logging to file",
        )
    },
    opt(Some('q'), Some("quiet"), None, "quiet mode"),
    opt(Some('v'), None, None, "short version"),
    opt(Some('V'), None, None, "long version"),
    opt(
        None,
        Some("version"),
        None,
        "version, TYPE is short or long (default short)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Every option in the table parses as described, and `virsh -h` lists it.
    /// A value the option accepts.
    fn value(o: &GlobalOpt) -> &'static str {
        match o.values {
            Values::List(l) => l[0],
            _ => "1",
        }
    }

    #[test]
    fn global_options_agree_with_the_parser_and_usage() {
        let usage = crate::commands::virsh::usage("virtsh");
        for o in GLOBAL_OPTS {
            if let Some(s) = o.short {
                let mut a = vec![format!("-{s}")];
                if o.arg.is_some() {
                    a.push(value(o).into());
                }
                a.push("list".into());
                let g = crate::cli::parse(&a).unwrap_or_else(|e| panic!("-{s}: {e}"));
                assert_eq!(g.rest, vec!["list"], "-{s}");
                assert!(usage.contains(&format!("-{s}")), "-{s} not in usage");
            }
            if let Some(l) = o.long {
                let a = match o.arg {
                    Some(_) => args(&[&format!("--{l}={}", value(o)), "list"]),
                    None => args(&[&format!("--{l}"), "list"]),
                };
                let g = crate::cli::parse(&a).unwrap_or_else(|e| panic!("--{l}: {e}"));
                assert_eq!(g.rest, vec!["list"], "--{l}");
                assert!(usage.contains(&format!("--{l}")), "--{l} not in usage");
                if o.arg.is_some() {
                    // Taking a value: a bare last `--name` lacks it.
                    assert!(crate::cli::parse(&args(&[&format!("--{l}")])).is_err());
                }
            }
        }
    }

    #[test]
    fn admin_options_agree_with_the_parser_and_usage() {
        let usage = crate::commands::admin::usage("virt-admin");
        for o in ADMIN_GLOBAL_OPTS {
            let mut spellings = Vec::new();
            if let Some(s) = o.short {
                spellings.push(format!("-{s}"));
            }
            if let Some(l) = o.long {
                spellings.push(format!("--{l}"));
            }
            for sp in spellings {
                assert!(usage.contains(&sp), "{sp} not in usage");
                let mut a = vec![sp.clone()];
                if o.arg.is_some() {
                    a.push(value(o).into());
                }
                a.push("uri".into());
                let g = crate::cli::parse_admin(&a).unwrap_or_else(|e| panic!("{sp}: {e}"));
                assert!(g.rest == ["uri"] || g.action.is_some(), "{sp}");
            }
        }
        // What virsh has and virt-admin has not.
        for bad in ["-r", "-t", "-e", "--readonly", "--output"] {
            assert!(
                crate::cli::parse_admin(&args(&[bad, "x", "uri"])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn generate_is_recognised_only_first() {
        assert_eq!(handle(&args(&["list"])), None);
        assert_eq!(handle(&args(&["-c", "x", "--generate=man"])), None);
        assert!(render("nope").is_none());
        for (t, _) in TARGETS {
            assert!(!render(t).unwrap().is_empty());
        }
    }
}
