//! JSON text re-printed the way libvirt 9.0 prints it (its virJSONValueToString, on yajl), with
//! the members in the order they came. QEMU monitor and agent replies cross the API as text,
//! and virsh prints them compact or `--pretty`; a parse into serde_json's sorted maps would lose
//! the order, so this works on the text itself.
//!
//! Written by hand because no crate reproduces yajl's beautifier byte for byte (an empty object
//! prints as `{`, an empty line, then the closing brace at the member's indentation).

/// Re-print `text` compact (`pretty == false`) or as yajl's beautifier with two-space indents
/// and a final newline. `None` if `text` is not one valid JSON value.
pub fn reformat(text: &str, pretty: bool) -> Option<String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    Some(print(&v, pretty))
}

/// `v` as [`reformat`] prints it.
fn print(v: &Json, pretty: bool) -> String {
    let mut out = String::new();
    write(v, pretty.then_some(0), &mut out);
    if pretty {
        out.push('\n');
    }
    out
}

/// The text of member `key` of the top-level object in `text`, compact (or pretty), in order.
pub fn member(text: &str, key: &str, pretty: bool) -> Option<String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let Json::Object(members) = p.value()? else {
        return None;
    };
    let (_, v) = members.into_iter().find(|(k, _)| k == key)?;
    Some(print(&v, pretty))
}

enum Json {
    /// A number, `true`, `false` or `null`: kept as written.
    Atom(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Json::Object(members));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value()?;
                    members.push((k, v));
                    self.ws();
                    match self.s.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Json::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Json::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(Json::Str),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(self.s[self.i], b'0'..=b'9' | b'a'..=b'z' | b'+' | b'-' | b'.' | b'E')
                {
                    self.i += 1;
                }
                let atom = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                // Let serde_json judge the atom, so `tru` or `1.2.3` are refused.
                serde_json::from_str::<serde_json::Value>(atom).ok()?;
                Some(Json::Atom(atom.to_string()))
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i;
        self.i += 1;
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                    return serde_json::from_str::<String>(raw).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }
}

/// yajl's string encoding: `"`, `\` and control characters escaped; `/` and non-ASCII as is.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Print `v` compact (`depth` None) or as yajl's beautifier at `depth`: a container opens with
/// a newline, each element is indented by its depth, elements are separated by `,` and a
/// newline, and the container closes with a newline and the closer at the container's depth
/// (so an empty one spans an empty line).
fn write(v: &Json, depth: Option<usize>, out: &mut String) {
    let (open, close, items): (char, char, Vec<(Option<&str>, &Json)>) = match v {
        Json::Atom(a) => return out.push_str(a),
        Json::Str(s) => return write_str(s, out),
        Json::Array(items) => ('[', ']', items.iter().map(|i| (None, i)).collect()),
        Json::Object(members) => (
            '{',
            '}',
            members.iter().map(|(k, i)| (Some(k.as_str()), i)).collect(),
        ),
    };
    let indent = |n: usize, out: &mut String| out.push_str(&"  ".repeat(n));
    out.push(open);
    if depth.is_some() {
        out.push('\n');
    }
    for (n, (key, item)) in items.into_iter().enumerate() {
        if n > 0 {
            out.push_str(if depth.is_some() { ",\n" } else { "," });
        }
        if let Some(d) = depth {
            indent(d + 1, out);
        }
        if let Some(k) = key {
            write_str(k, out);
            out.push_str(if depth.is_some() { ": " } else { ":" });
        }
        write(item, depth.map(|d| d + 1), out);
    }
    if let Some(d) = depth {
        out.push('\n');
        indent(d, out);
    }
    out.push(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_member_order() {
        let t = r#"{"return": {"status": "running", "singlestep": false, "running": true}, "id": "libvirt-5"}"#;
        assert_eq!(
            reformat(t, false).unwrap(),
            r#"{"return":{"status":"running","singlestep":false,"running":true},"id":"libvirt-5"}"#
        );
        assert_eq!(
            member(t, "return", false).unwrap(),
            r#"{"status":"running","singlestep":false,"running":true}"#
        );
    }

    #[test]
    fn pretty_is_yajls() {
        assert_eq!(
            reformat(r#"{"return":{},"id":"libvirt-1","a":[1,"x\n"]}"#, true).unwrap(),
            "{\n  \"return\": {\n\n  },\n  \"id\": \"libvirt-1\",\n  \"a\": [\n    1,\n    \"x\\n\"\n  ]\n}\n"
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert!(reformat("{\"a\":tru}", false).is_none());
        assert!(reformat("{} x", false).is_none());
        assert!(reformat("\"unterminated", false).is_none());
    }
}
