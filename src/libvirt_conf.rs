//! libvirt's client configuration file, `libvirt.conf`: URI aliases and the default URI.
//!
//! The format is libvirt's virConf: `key = value` lines, `#` comments, values that are quoted
//! strings, numbers or `[ ... ]` lists that may span lines. Only the keys the client reads are
//! kept. Written by hand: no crate reads virConf, and the subset is small.

use std::path::PathBuf;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LibvirtConf {
    /// `uri_aliases = [ "name=uri", ... ]`
    pub uri_aliases: Vec<(String, String)>,
    /// `uri_default = "uri"`
    pub uri_default: Option<String>,
}

impl LibvirtConf {
    /// The client configuration in effect: `/etc/libvirt/libvirt.conf` for root, the user's
    /// `$XDG_CONFIG_HOME/libvirt/libvirt.conf` otherwise (VIRTSH_LIBVIRT_CONF overrides both,
    /// for tests). A missing or unreadable file is an empty configuration, as in libvirt.
    pub fn load() -> LibvirtConf {
        config_path()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| LibvirtConf::parse(&t))
            .unwrap_or_default()
    }

    pub fn parse(text: &str) -> LibvirtConf {
        let mut conf = LibvirtConf::default();
        for (key, values) in entries(text) {
            match key.as_str() {
                "uri_aliases" => {
                    conf.uri_aliases = values
                        .iter()
                        .filter_map(|v| v.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }
                "uri_default" => conf.uri_default = values.into_iter().next(),
                _ => {}
            }
        }
        conf
    }

    /// The URI an alias stands for. libvirt only treats names made of letters, digits, `_`
    /// and `-` as aliases, so a real URI is never rewritten.
    pub fn resolve_alias(&self, name: &str) -> Option<&str> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return None;
        }
        self.uri_aliases
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIRTSH_LIBVIRT_CONF") {
        return Some(PathBuf::from(p));
    }
    if crate::connect::is_root() {
        return Some(PathBuf::from("/etc/libvirt/libvirt.conf"));
    }
    directories::BaseDirs::new().map(|d| d.config_dir().join("libvirt/libvirt.conf"))
}

/// `key = value` entries; a value is the list of strings it holds (one for a scalar).
fn entries(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        skip_blank(&mut chars);
        let key: String = std::iter::from_fn(|| {
            chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        })
        .collect();
        if key.is_empty() {
            // Not a key: a line end, or junk (a comment) to skip up to the line end.
            match chars.next() {
                None => return out,
                Some('\n') => {}
                Some(_) => while chars.next_if(|c| *c != '\n').is_some() {},
            }
            continue;
        }
        skip_blank(&mut chars);
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        skip_blank(&mut chars);
        let mut values = Vec::new();
        if chars.next_if_eq(&'[').is_some() {
            loop {
                skip_blank_lines(&mut chars);
                match chars.peek() {
                    Some(']') => {
                        chars.next();
                        break;
                    }
                    Some(',') => {
                        chars.next();
                    }
                    Some('"') | Some('\'') => values.push(quoted(&mut chars)),
                    Some(_) => values.push(bare(&mut chars)),
                    None => break,
                }
            }
        } else if matches!(chars.peek(), Some('"') | Some('\'')) {
            values.push(quoted(&mut chars));
        } else {
            values.push(bare(&mut chars));
        }
        out.push((key, values));
    }
}

fn skip_blank(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
}

/// Blanks, newlines and comments, as allowed inside a list.
fn skip_blank_lines(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    loop {
        if chars.next_if(|c| c.is_whitespace()).is_some() {
            continue;
        }
        if chars.next_if_eq(&'#').is_some() {
            while chars.next_if(|c| *c != '\n').is_some() {}
            continue;
        }
        return;
    }
}

fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let q = chars.next().unwrap_or('"');
    let mut s = String::new();
    for c in chars.by_ref() {
        if c == q {
            break;
        }
        s.push(c);
    }
    s
}

fn bare(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != ',' && *c != ']')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_default() {
        let conf = LibvirtConf::parse(
            "# client config\n\
             uri_aliases = [\n  \"hail=qemu+ssh://root@hail.example.com/system\",\n  \
             \"sleet=qemu+ssh://root@sleet.example.com/system\", # comment\n]\n\
             uri_default = \"test:///default\"\n",
        );
        assert_eq!(
            conf.resolve_alias("hail"),
            Some("qemu+ssh://root@hail.example.com/system")
        );
        assert_eq!(
            conf.resolve_alias("sleet"),
            Some("qemu+ssh://root@sleet.example.com/system")
        );
        assert_eq!(conf.resolve_alias("qemu:///system"), None);
        assert_eq!(conf.uri_default.as_deref(), Some("test:///default"));
    }

    #[test]
    fn empty_and_odd_files() {
        assert_eq!(LibvirtConf::parse(""), LibvirtConf::default());
        let conf = LibvirtConf::parse("garbage line\nuri_default='qemu:///session'");
        assert_eq!(conf.uri_default.as_deref(), Some("qemu:///session"));
    }
}
