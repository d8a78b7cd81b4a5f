//! Global options, parsed as virsh parses them (getopt_long with "+:c:d:e:hk:K:l:qrtvV").
//!
//! Written by hand rather than with clap because scripts rely on getopt's behaviour that clap
//! does not reproduce: option parsing stops at the first non-option (the command), short
//! options cluster (`-rq`), and errors are worded as virsh words them.

use crate::shell::OutputFormat;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GlobalOpts {
    pub connect: Option<String>,
    pub debug: Option<i32>,
    pub escape: Option<String>,
    pub help: bool,
    pub keepalive_interval: Option<i32>,
    pub keepalive_count: Option<u32>,
    pub log: Option<String>,
    pub quiet: bool,
    pub readonly: bool,
    pub timing: bool,
    /// `-v`/`--version[=short]` or `-V`/`--version=long`.
    pub version: Option<VersionKind>,
    pub output: Option<OutputFormat>,
    /// Problems virsh reports with `error:` but does not stop for.
    pub warnings: Vec<String>,
    /// What follows the options: a command string (one argument) or a command and its args.
    pub rest: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionKind {
    Short,
    Long,
}

/// (long name, short letter, takes an argument)
const OPTIONS: &[(&str, char, bool)] = &[
    ("connect", 'c', true),
    ("debug", 'd', true),
    ("escape", 'e', true),
    ("help", 'h', false),
    ("keepalive-interval", 'k', true),
    ("keepalive-count", 'K', true),
    ("log", 'l', true),
    ("quiet", 'q', false),
    ("readonly", 'r', false),
    ("timing", 't', false),
    ("output", 'o', true),
];

pub fn parse(args: &[String]) -> Result<GlobalOpts, String> {
    let mut g = GlobalOpts::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if name == "version" {
                g.version = Some(match inline.as_deref() {
                    None | Some("short") => VersionKind::Short,
                    Some("long") => VersionKind::Long,
                    Some(other) => {
                        return Err(format!("unknown version type '{other}'"));
                    }
                });
                i += 1;
                continue;
            }
            let Some(&(lname, short, takes)) = OPTIONS.iter().find(|(n, _, _)| *n == name) else {
                return Err(format!("unsupported option '{arg}'. See --help."));
            };
            let value = if takes {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        Some(args.get(i).cloned().ok_or_else(|| missing(short, lname))?)
                    }
                }
            } else {
                if inline.is_some() {
                    return Err(format!("unsupported option '{arg}'. See --help."));
                }
                None
            };
            apply(&mut g, short, value)?;
            i += 1;
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                match c {
                    'v' => g.version = Some(VersionKind::Short),
                    'V' => g.version = Some(VersionKind::Long),
                    _ => {
                        let Some(&(lname, _, takes)) = OPTIONS.iter().find(|(_, s, _)| *s == c)
                        else {
                            return Err(format!("unsupported option '-{c}'. See --help."));
                        };
                        if takes {
                            let rest: String = chars[j + 1..].iter().collect();
                            let value = if !rest.is_empty() {
                                rest
                            } else {
                                i += 1;
                                args.get(i).cloned().ok_or_else(|| missing(c, lname))?
                            };
                            apply(&mut g, c, Some(value))?;
                            break;
                        }
                        apply(&mut g, c, None)?;
                    }
                }
                j += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    g.rest = args[i..].to_vec();
    Ok(g)
}

fn missing(short: char, long: &str) -> String {
    format!("option '-{short}'/'--{long}' requires an argument")
}

fn apply(g: &mut GlobalOpts, short: char, value: Option<String>) -> Result<(), String> {
    let v = value.unwrap_or_default();
    match short {
        'c' => g.connect = Some(v),
        'd' => match v.parse::<i32>() {
            Ok(n) if (0..=4).contains(&n) => g.debug = Some(n),
            _ => g
                .warnings
                .push(format!("ignoring debug level {v} out of range [0-4]")),
        },
        'e' => {
            // vshGetEscapeChar: one character, or ^ and a control-key letter.
            let ok = match v.strip_prefix('^') {
                Some(rest) => {
                    rest.len() == 1
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_alphabetic() || "[\\]^_".contains(c))
                }
                None => v.chars().count() == 1,
            };
            if !ok {
                return Err(format!("Invalid string '{v}' for escape sequence"));
            }
            g.escape = Some(v)
        }
        'h' => g.help = true,
        'k' => {
            g.keepalive_interval = Some(
                v.parse()
                    .ok()
                    .filter(|n: &i32| *n >= 0)
                    .ok_or("option -k requires a positive integer argument")?,
            )
        }
        'K' => {
            g.keepalive_count = Some(
                v.parse()
                    .map_err(|_| "option -K requires a positive integer argument")?,
            )
        }
        'l' => g.log = Some(v),
        'q' => g.quiet = true,
        'r' => g.readonly = true,
        't' => g.timing = true,
        'o' => {
            g.output = Some(match v.as_str() {
                "json" => OutputFormat::Json,
                "text" => OutputFormat::Text,
                _ => return Err(format!("unsupported output format '{v}': use text or json")),
            })
        }
        _ => return Err(format!("unsupported option '-{short}'. See --help.")),
    }
    Ok(())
}

/// virt-admin's global options, parsed as it parses them (getopt_long with "+:c:d:hl:qvV";
/// long options may be abbreviated). Used by `virtsh admin` and a `virt-admin` symlink.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdminOpts {
    pub connect: Option<String>,
    pub debug: Option<i32>,
    pub log: Option<String>,
    pub quiet: bool,
    /// Problems virt-admin reports with `error:` but does not stop for.
    pub warnings: Vec<String>,
    /// `-h`, `-v`, `-V`, `--version[=long]`: virt-admin acts on the first one at once, so the
    /// parse stops there.
    pub action: Option<AdminAction>,
    /// What follows the options: a command string (one argument) or a command and its args.
    pub rest: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Help,
    Version(VersionKind),
}

/// (long name, short letter, takes an argument); `version` takes an optional one.
const ADMIN_OPTIONS: &[(&str, char, bool)] = &[
    ("connect", 'c', true),
    ("debug", 'd', true),
    ("help", 'h', false),
    ("log", 'l', true),
    ("quiet", 'q', false),
    ("version", 'v', false),
];

pub fn parse_admin(args: &[String]) -> Result<AdminOpts, String> {
    let mut g = AdminOpts::default();
    let mut i = 0;
    while i < args.len() && g.action.is_none() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            // getopt_long: an exact name, or the one name it abbreviates.
            let matches: Vec<_> = ADMIN_OPTIONS
                .iter()
                .filter(|(n, _, _)| n.starts_with(name) && !name.is_empty())
                .collect();
            let found =
                ADMIN_OPTIONS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .or(if matches.len() == 1 {
                        Some(matches[0])
                    } else {
                        None
                    });
            let Some(&(lname, short, takes)) = found else {
                return Err(format!("unsupported option '{arg}'. See --help."));
            };
            if lname == "version" {
                g.action = Some(AdminAction::Version(match inline.as_deref() {
                    Some("long") => VersionKind::Long,
                    _ => VersionKind::Short,
                }));
                break;
            }
            let value = if takes {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        Some(args.get(i).cloned().ok_or_else(|| missing(short, lname))?)
                    }
                }
            } else if inline.is_some() {
                return Err(format!("unsupported option '-{short}'. See --help."));
            } else {
                None
            };
            apply_admin(&mut g, short, value, true)?;
            i += 1;
            continue;
        }
        if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() && g.action.is_none() {
                let c = chars[j];
                let Some(&(lname, _, takes)) =
                    ADMIN_OPTIONS
                        .iter()
                        .find(|(_, s, _)| *s == c)
                        .or(if c == 'V' {
                            Some(&("version", 'V', false))
                        } else {
                            None
                        })
                else {
                    return Err(format!("unsupported option '-{c}'. See --help."));
                };
                if takes {
                    let rest: String = chars[j + 1..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        args.get(i).cloned().ok_or_else(|| missing(c, lname))?
                    };
                    apply_admin(&mut g, c, Some(value), false)?;
                    break;
                }
                apply_admin(&mut g, c, None, false)?;
                j += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    if g.action.is_none() {
        g.rest = args[i.min(args.len())..].to_vec();
    }
    Ok(g)
}

fn apply_admin(
    g: &mut AdminOpts,
    short: char,
    value: Option<String>,
    long: bool,
) -> Result<(), String> {
    let v = value.unwrap_or_default();
    match short {
        'c' => g.connect = Some(v),
        'd' => {
            // virStrToLong_i: leading blanks, a sign, digits to the end.
            let n: i32 = v.trim_start().parse().map_err(|_| {
                format!(
                    "option {} takes a numeric argument",
                    if long { "--debug" } else { "-d" }
                )
            })?;
            if (0..=4).contains(&n) {
                g.debug = Some(n);
            } else {
                g.warnings
                    .push(format!("ignoring debug level {n} out of range [0-4]"));
            }
        }
        'h' => g.action = Some(AdminAction::Help),
        'l' => g.log = Some(v),
        'q' => g.quiet = true,
        'v' => g.action = Some(AdminAction::Version(VersionKind::Short)),
        'V' => g.action = Some(AdminAction::Version(VersionKind::Long)),
        _ => return Err(format!("unsupported option '-{short}'. See --help.")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<GlobalOpts, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn stops_at_the_command() {
        let g = p(&["-c", "test:///default", "-rq", "list", "--all"]).unwrap();
        assert_eq!(g.connect.as_deref(), Some("test:///default"));
        assert!(g.readonly && g.quiet);
        assert_eq!(g.rest, vec!["list", "--all"]);
    }

    #[test]
    fn long_forms() {
        let g = p(&["--connect=test:///default", "--version=long"]).unwrap();
        assert_eq!(g.connect.as_deref(), Some("test:///default"));
        assert_eq!(g.version, Some(VersionKind::Long));
        let g = p(&["-ctest:///default", "-o", "json", "list"]).unwrap();
        assert_eq!(g.connect.as_deref(), Some("test:///default"));
        assert_eq!(g.output, Some(OutputFormat::Json));
    }

    #[test]
    fn errors_as_virsh() {
        assert_eq!(
            p(&["-Z"]).unwrap_err(),
            "unsupported option '-Z'. See --help."
        );
        assert_eq!(
            p(&["-c"]).unwrap_err(),
            "option '-c'/'--connect' requires an argument"
        );
    }

    fn pa(args: &[&str]) -> Result<AdminOpts, String> {
        parse_admin(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn virt_admin_options() {
        let g = pa(&["-c", "libvirtd:///system", "-q", "srv-list"]).unwrap();
        assert_eq!(g.connect.as_deref(), Some("libvirtd:///system"));
        assert!(g.quiet);
        assert_eq!(g.rest, vec!["srv-list"]);
        // Abbreviated long options, as getopt_long takes them.
        let g = pa(&["--conn=x", "--deb", "3", "--qu", "uri"]).unwrap();
        assert_eq!(
            (g.connect.as_deref(), g.debug, g.quiet),
            (Some("x"), Some(3), true)
        );
        let g = pa(&["-d", "9", "uri"]).unwrap();
        assert_eq!(g.warnings, ["ignoring debug level 9 out of range [0-4]"]);
        assert_eq!(
            pa(&["-d", "x"]).unwrap_err(),
            "option -d takes a numeric argument"
        );
        assert_eq!(
            pa(&["--debug=x"]).unwrap_err(),
            "option --debug takes a numeric argument"
        );
        assert_eq!(
            pa(&["-r", "uri"]).unwrap_err(),
            "unsupported option '-r'. See --help."
        );
        assert_eq!(
            pa(&["--readonly"]).unwrap_err(),
            "unsupported option '--readonly'. See --help."
        );
        assert_eq!(
            pa(&["--log"]).unwrap_err(),
            "option '-l'/'--log' requires an argument"
        );
        // -h and the version options act at once: what follows is not looked at.
        assert_eq!(pa(&["-h", "-Z"]).unwrap().action, Some(AdminAction::Help));
        assert_eq!(
            pa(&["--version=long"]).unwrap().action,
            Some(AdminAction::Version(VersionKind::Long))
        );
        assert_eq!(
            pa(&["--version=other"]).unwrap().action,
            Some(AdminAction::Version(VersionKind::Short))
        );
        assert_eq!(
            pa(&["-qV"]).unwrap().action,
            Some(AdminAction::Version(VersionKind::Long))
        );
    }
}
