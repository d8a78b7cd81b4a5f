//! virsh's command-line grammar (tools/vsh.c: vshCommandParse and its two tokenizers).
//!
//! Written by hand rather than with clap: virsh's rules are its own and scripts depend on them.
//! Options may be given positionally in declaration order, `--opt=value` and `--opt value` are
//! both accepted, `--` ends options, `;` and newlines separate commands, `#` starts a comment,
//! quoting follows the shell's single/double-quote rules, and `--help` turns a command into
//! `help COMMAND`. Error texts are virsh's.

use crate::def::{CommandDef, OptDef, OptKind};

/// One parsed command: its declaration and the options given, in order. A bool option has no
/// value; an argv option may appear many times.
#[derive(Debug, Clone)]
pub struct ParsedCmd {
    pub def: &'static CommandDef,
    pub opts: Vec<(&'static OptDef, Option<String>)>,
}

impl ParsedCmd {
    pub fn has(&self, name: &str) -> bool {
        self.opts.iter().any(|(o, _)| o.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.opts
            .iter()
            .find(|(o, _)| o.name == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// The OR of the bits whose option was given: virsh's usual way from options to flags.
    pub fn flags(&self, table: &[(&str, u32)]) -> u32 {
        table
            .iter()
            .filter(|(opt, _)| self.has(opt))
            .fold(0, |f, (_, bit)| f | bit)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.opts
            .iter()
            .filter(|(o, _)| o.name == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Token {
    Arg(String),
    /// `;` or a newline: the end of one command.
    CommandEnd,
    End,
}

pub trait Tokens {
    fn next_token(&mut self) -> Result<Token, String>;
}

/// Tokens of one command string, as typed at the prompt or passed as a single argument.
pub struct StringTokens<'a> {
    rest: &'a str,
}

impl<'a> StringTokens<'a> {
    pub fn new(s: &'a str) -> Self {
        StringTokens { rest: s }
    }
}

impl Tokens for StringTokens<'_> {
    fn next_token(&mut self) -> Result<Token, String> {
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' => i += 1,
                b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
                _ => break,
            }
        }
        if i == bytes.len() {
            self.rest = "";
            return Ok(Token::End);
        }
        if bytes[i] == b';' || bytes[i] == b'\n' {
            self.rest = &self.rest[i + 1..];
            return Ok(Token::CommandEnd);
        }
        if bytes[i] == b'#' {
            let end = self.rest[i..].find('\n').map(|p| i + p + 1);
            self.rest = end.map(|e| &self.rest[e..]).unwrap_or("");
            return Ok(Token::CommandEnd);
        }
        let mut out: Vec<u8> = Vec::new();
        let (mut single, mut double) = (false, false);
        while i < bytes.len() {
            let c = bytes[i];
            if !single && !double && matches!(c, b' ' | b'\t' | b';' | b'\n') {
                break;
            }
            if !double && c == b'\'' {
                single = !single;
                i += 1;
                continue;
            }
            if !single && c == b'\\' {
                i += 1;
                match bytes.get(i) {
                    None => return Err("dangling \\".into()),
                    Some(b'\n') => {
                        i += 1;
                        continue;
                    }
                    Some(_) => {}
                }
            } else if !single && c == b'"' {
                double = !double;
                i += 1;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        if double {
            return Err("missing \"".into());
        }
        self.rest = &self.rest[i..];
        Ok(Token::Arg(String::from_utf8_lossy(&out).into_owned()))
    }
}

/// Tokens of a command given as separate process arguments: no quoting, no `;`.
pub struct ArgvTokens<I> {
    args: I,
}

impl<I: Iterator<Item = String>> ArgvTokens<I> {
    pub fn new(args: I) -> Self {
        ArgvTokens { args }
    }
}

impl<I: Iterator<Item = String>> Tokens for ArgvTokens<I> {
    fn next_token(&mut self) -> Result<Token, String> {
        Ok(self.args.next().map(Token::Arg).unwrap_or(Token::End))
    }
}

/// Parse every command in `tokens`. Like virsh, one error rejects the whole input: nothing runs.
/// The error may span several lines (one per missing option); each is printed as `error: LINE`.
pub fn parse_all(
    tokens: &mut dyn Tokens,
    find: &dyn Fn(&str) -> Option<&'static CommandDef>,
) -> Result<Vec<ParsedCmd>, String> {
    let mut cmds = Vec::new();
    loop {
        let (cmd, last) = parse_one(tokens, find)?;
        cmds.extend(cmd);
        if last {
            return Ok(cmds);
        }
    }
}

/// Parse one command; returns it (None for an empty or comment-only command) and whether the
/// input ended.
fn parse_one(
    tokens: &mut dyn Tokens,
    find: &dyn Fn(&str) -> Option<&'static CommandDef>,
) -> Result<(Option<ParsedCmd>, bool), String> {
    let mut def: Option<&'static CommandDef> = None;
    let mut opts: Vec<(&'static OptDef, Option<String>)> = Vec::new();
    let mut seen = vec![false; 0];
    let mut data_only = false;
    let mut help_requested = false;
    let ended = loop {
        let tok = match tokens.next_token()? {
            Token::Arg(t) => t,
            Token::CommandEnd => break false,
            Token::End => break true,
        };
        let Some(d) = def else {
            let found = find(&tok).ok_or_else(|| format!("unknown command: '{tok}'"))?;
            let resolved = match found.alias_of {
                Some(target) => find(target).unwrap_or(found),
                None => found,
            };
            def = Some(resolved);
            seen = vec![false; resolved.opts.len()];
            continue;
        };
        let is_help = d.name == "help";
        let bytes = tok.as_bytes();
        if !data_only
            && bytes.len() > 2
            && tok.starts_with("--")
            && bytes[2].is_ascii_alphanumeric()
        {
            let (name, mut value) = match tok[2..].split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (tok[2..].to_string(), None),
            };
            if name == "help" {
                help_requested = true;
                continue;
            }
            let Some((index, opt)) = lookup_option(d, &name, &mut value)? else {
                if is_help {
                    continue;
                }
                return Err(format!(
                    "command '{}' doesn't support option --{name}",
                    d.name
                ));
            };
            if seen[index] && opt.kind != OptKind::Argv {
                return Err(format!("option --{} already seen", opt.name));
            }
            seen[index] = true;
            if opt.kind == OptKind::Bool {
                if value.is_some() {
                    return Err(format!("invalid '=' after option --{}", opt.name));
                }
                opts.push((opt, None));
            } else {
                let value = match value {
                    Some(v) => v,
                    None => match tokens.next_token()? {
                        Token::Arg(v) => v,
                        _ => {
                            let what = if opt.kind == OptKind::Int {
                                "number"
                            } else {
                                "string"
                            };
                            return Err(format!("expected syntax: --{} <{what}>", opt.name));
                        }
                    },
                };
                opts.push((opt, Some(value)));
            }
        } else if !data_only && tok == "--" {
            data_only = true;
        } else {
            // The first positional option not yet given takes the data (virsh's opts_need_arg).
            let next = d
                .opts
                .iter()
                .enumerate()
                .find(|(i, o)| o.positional() && (!seen[*i] || o.kind == OptKind::Argv));
            match next {
                Some((i, opt)) => {
                    seen[i] = true;
                    opts.push((opt, Some(tok)));
                }
                None if is_help => {}
                None => return Err(format!("unexpected data '{tok}'")),
            }
        }
    };
    let Some(def) = def else {
        return Ok((None, ended));
    };
    if help_requested {
        let help = find("help").ok_or("unknown command: 'help'")?;
        let opt = help.opts.first().ok_or("unknown command: 'help'")?;
        return Ok((
            Some(ParsedCmd {
                def: help,
                opts: vec![(opt, Some(def.name.to_string()))],
            }),
            ended,
        ));
    }
    // Every missing required option is reported, one line each, as vshCommandCheckOpts does.
    let missing: Vec<String> = def
        .opts
        .iter()
        .enumerate()
        .filter(|(i, o)| o.required && !seen[*i])
        .map(|(_, o)| match o.kind {
            OptKind::Data | OptKind::Argv => {
                format!("command '{}' requires <{}> option", def.name, o.name)
            }
            _ => format!("command '{}' requires --{} option", def.name, o.name),
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing.join("\n"));
    }
    Ok((Some(ParsedCmd { def, opts }), ended))
}

/// Find an option by name, following aliases (`name` or `name=value`, the value becoming the
/// option's argument).
fn lookup_option(
    def: &'static CommandDef,
    name: &str,
    value: &mut Option<String>,
) -> Result<Option<(usize, &'static OptDef)>, String> {
    let find = |n: &str| def.opts.iter().enumerate().find(|(_, o)| o.name == n);
    let Some((i, opt)) = find(name) else {
        return Ok(None);
    };
    let OptKind::Alias(target) = opt.kind else {
        return Ok(Some((i, opt)));
    };
    let target_name = match target.split_once('=') {
        Some((t, v)) => {
            if value.is_some() {
                return Err(format!("invalid '=' after option --{}", opt.name));
            }
            *value = Some(v.to_string());
            t
        }
        None => target,
    };
    Ok(find(target_name).filter(|(_, o)| !matches!(o.kind, OptKind::Alias(_))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::def::{Group, OptDef};

    static G: Group = Group {
        name: "Test",
        keyword: "test",
    };
    static OPTS: &[OptDef] = &[
        OptDef::data("domain", "domain"),
        OptDef::int("count", "count").req(),
        OptDef::bool("live", "live"),
        OptDef::string("file", "file"),
        OptDef::alias("current-alias", "live"),
    ];
    static CMDS: &[CommandDef] = &[
        CommandDef::new("setvcpus", &G, "h", "", OPTS),
        CommandDef::new("help", &G, "h", "", &[OptDef::string("command", "c")]),
        CommandDef::new("echo", &G, "h", "", &[OptDef::argv("string", "s")]),
    ];

    fn find(name: &str) -> Option<&'static CommandDef> {
        CMDS.iter().find(|c| c.name == name)
    }

    fn parse(s: &str) -> Result<Vec<ParsedCmd>, String> {
        parse_all(&mut StringTokens::new(s), &find)
    }

    #[test]
    fn positional_and_named() {
        let c = &parse("setvcpus test 2 --live").unwrap()[0];
        assert_eq!(c.get("domain"), Some("test"));
        assert_eq!(c.get("count"), Some("2"));
        assert!(c.has("live"));
        let c = &parse("setvcpus --count=3 --domain x").unwrap()[0];
        assert_eq!(c.get("count"), Some("3"));
        assert_eq!(c.get("domain"), Some("x"));
    }

    #[test]
    fn errors_are_virsh_words() {
        assert_eq!(parse("nosuch").unwrap_err(), "unknown command: 'nosuch'");
        assert_eq!(
            parse("setvcpus x").unwrap_err(),
            "command 'setvcpus' requires --count option"
        );
        assert_eq!(
            parse("setvcpus").unwrap_err(),
            "command 'setvcpus' requires <domain> option\ncommand 'setvcpus' requires --count option"
        );
        // 'y' fills the optional positional --file; '2' is left over.
        assert_eq!(
            parse("setvcpus x 1 y 2").unwrap_err(),
            "unexpected data '2'"
        );
        assert_eq!(
            parse("setvcpus x 1 --live=1").unwrap_err(),
            "invalid '=' after option --live"
        );
        assert_eq!(
            parse("setvcpus x 1 --file").unwrap_err(),
            "expected syntax: --file <string>"
        );
        assert_eq!(
            parse("setvcpus x 1 --domain y").unwrap_err(),
            "option --domain already seen"
        );
    }

    #[test]
    fn quoting_comments_and_chains() {
        let cmds = parse("echo 'a b' \"c;d\" e\\ f # comment; echo x\necho y").unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].all("string"), vec!["a b", "c;d", "e f"]);
        assert_eq!(cmds[1].all("string"), vec!["y"]);
        assert_eq!(parse("echo \"x").unwrap_err(), "missing \"");
    }

    #[test]
    fn help_option_becomes_help_command() {
        let c = &parse("setvcpus --help").unwrap()[0];
        assert_eq!(c.def.name, "help");
        assert_eq!(c.get("command"), Some("setvcpus"));
    }

    #[test]
    fn alias_maps_to_target() {
        let c = &parse("setvcpus d 1 --current-alias").unwrap()[0];
        assert!(c.has("live"));
    }

    #[test]
    fn double_dash_ends_options() {
        let c = &parse("echo -- --not-an-option").unwrap()[0];
        assert_eq!(c.all("string"), vec!["--not-an-option"]);
    }
}
