//! The `firewall_backend` setting of a libvirt-style `network.conf`.
//!
//! The file uses libvirt's conf syntax (virconf.c): `name = value` statements ended by a newline
//! or `;`, `#` comments, values that are strings (`"..."`, `'...'`, `"""..."""`), integers or
//! `[...]` lists spanning lines. The whole file is parsed, so a syntax error anywhere is
//! reported (as libvirt refuses such a file) rather than silently ignored.

use super::FirewallError;

/// The value of `firewall_backend` in the text of a network.conf, `None` when the file does not
/// set it. The first setting counts, as in libvirt. The value is not checked here; pass it to
/// [`super::Backend::choose`].
pub fn parse_network_conf(text: &str) -> Result<Option<String>, FirewallError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
    };
    let mut found: Option<String> = None;
    loop {
        p.skip_blanks_and_newlines();
        if p.peek().is_none() {
            return Ok(found);
        }
        let line = p.line;
        let name = p.name()?;
        p.skip_blanks();
        if p.peek() != Some('=') {
            return Err(p.error("expecting an assignment"));
        }
        p.pos += 1;
        p.skip_blanks();
        let value = p.value()?;
        p.skip_blanks();
        p.separator()?;
        if name == "firewall_backend" && found.is_none() {
            match value {
                Value::Str(s) => found = Some(s),
                Value::Other => {
                    return Err(FirewallError::Conf {
                        line,
                        message: "firewall_backend must be a string".into(),
                    })
                }
            }
        }
    }
}

enum Value {
    Str(String),
    Other,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn error(&self, message: &str) -> FirewallError {
        FirewallError::Conf {
            line: self.line,
            message: message.to_string(),
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// Spaces, tabs and a comment up to (not including) the end of the line.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '#' => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn skip_blanks_and_newlines(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(';') => self.pos += 1,
                _ => break,
            }
        }
    }

    fn name(&mut self) -> Result<String, FirewallError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.pos += 1,
            _ => return Err(self.error("expecting a name")),
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn value(&mut self) -> Result<Value, FirewallError> {
        match self.peek() {
            Some('"') | Some('\'') => self.string().map(Value::Str),
            Some('[') => {
                self.pos += 1;
                loop {
                    self.skip_blanks_and_newlines_in_list();
                    if self.peek() == Some(']') {
                        self.pos += 1;
                        return Ok(Value::Other);
                    }
                    self.value()?;
                    self.skip_blanks_and_newlines_in_list();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(']') => {}
                        _ => return Err(self.error("expecting a separator in list")),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => {
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                Ok(Value::Other)
            }
            _ => Err(self.error("expecting a value")),
        }
    }

    fn skip_blanks_and_newlines_in_list(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.line += 1;
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// A quoted string, without escapes (libvirt has none); `"""` strings may span lines.
    fn string(&mut self) -> Result<String, FirewallError> {
        let quote = self.peek().unwrap_or('"');
        let triple = quote == '"' && self.chars[self.pos..].starts_with(&['"', '"', '"']);
        self.pos += if triple { 3 } else { 1 };
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some('\n') if !triple => return Err(self.error("unterminated string")),
                Some('\n') => self.line += 1,
                Some('"') if triple && self.chars[self.pos..].starts_with(&['"', '"', '"']) => {
                    let s: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 3;
                    return Ok(s);
                }
                Some(c) if c == quote && !triple => {
                    let s: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Ok(s);
                }
                Some(_) => {}
            }
            self.pos += 1;
        }
    }

    fn separator(&mut self) -> Result<(), FirewallError> {
        match self.peek() {
            None => Ok(()),
            Some(';') => {
                self.pos += 1;
                Ok(())
            }
            Some('\n') => Ok(()),
            _ => Err(self.error("expecting a separator")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_setting() {
        let text = "# Master configuration file for the network driver.\n\
                    #\n\
                    # firewall_backend = \"iptables\"\n\
                    \n\
                    firewall_backend = \"nftables\"   # the default\n";
        assert_eq!(
            parse_network_conf(text).unwrap().as_deref(),
            Some("nftables")
        );
        assert_eq!(
            parse_network_conf("firewall_backend='iptables'")
                .unwrap()
                .as_deref(),
            Some("iptables")
        );
        assert_eq!(parse_network_conf("").unwrap(), None);
        assert_eq!(parse_network_conf("# only comments\n\n").unwrap(), None);
    }

    #[test]
    fn skips_other_settings() {
        let text = "a = 1; b = [ \"x\", # comment\n  'y',\n ]\nc=\"\"\"multi\nline\"\"\"\nfirewall_backend = \"iptables\"\nfirewall_backend = \"nftables\"\n";
        assert_eq!(
            parse_network_conf(text).unwrap().as_deref(),
            Some("iptables")
        );
    }

    #[test]
    fn reports_errors_with_lines() {
        let e = parse_network_conf("\nfirewall_backend = 1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "network.conf line 2: firewall_backend must be a string"
        );
        let e = parse_network_conf("ok = 1\nfirewall_backend \"x\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "network.conf line 2: expecting an assignment"
        );
        assert!(parse_network_conf("x = \"open\n").is_err());
        assert!(parse_network_conf("x = 1 2\n").is_err());
        assert!(parse_network_conf("x = [1, 2\n").is_err());
    }
}
