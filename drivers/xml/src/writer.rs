//! Formatting in libvirt's canonical style: two-space indentation, single-quoted attributes,
//! `<x/>` for empty elements, and libvirt's escaping (virBufferEscapeString).

use std::fmt::Write as _;

#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start writing at an extra indentation (for documents embedded in others, such as the
    /// domain inside a snapshot).
    pub fn with_depth(depth: usize) -> Self {
        XmlWriter {
            out: String::new(),
            depth,
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("='");
            self.out.push_str(&escape(v));
            self.out.push('\'');
        }
    }

    /// `<name a='b'>` on its own line; children follow one level deeper.
    pub fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.open_tag(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub fn end(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name a='b'/>`
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.open_tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// `<name a='b'>text</name>`
    pub fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open_tag(name, attrs);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Like `text`, but writes nothing when the value is absent.
    pub fn opt_text(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.text(name, &[], t);
        }
    }

    /// Raw, already formatted lines (each re-indented to the current depth).
    pub fn raw_lines(&mut self, lines: &str) {
        for line in lines.lines() {
            self.indent();
            self.out.push_str(line);
            self.out.push('\n');
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// libvirt escapes these five characters in both text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// How libxml2 serialises (xmlNodeDump): used where libvirt copies XML through libxml2
/// (metadata, --xpath) rather than formatting it itself.
/// xmlBufAttrSerializeTxt: an attribute value inside double quotes. `char_refs`: non-ASCII
/// characters become character references, as libxml2 writes them in a document without an
/// encoding (libvirt's documents have none).
pub fn escape_libxml2_attr(out: &mut String, value: &str, char_refs: bool) {
    for c in value.chars() {
        match c {
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if !c.is_ascii() && char_refs => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// xmlEscapeContent: text nodes keep `"` and non-ASCII characters.
pub fn escape_libxml2_text(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_libvirt_layout() {
        let mut w = XmlWriter::new();
        w.start("network", &[]);
        w.text("name", &[], "a<b");
        w.empty("forward", &[("mode", "nat")]);
        w.end("network");
        assert_eq!(
            w.finish(),
            "<network>\n  <name>a&lt;b</name>\n  <forward mode='nat'/>\n</network>\n"
        );
    }
}
