//! A generic, already canonical element: the form in which the domain model keeps the parts of
//! the XML it does not need to understand field by field (tuning blocks, features, CPU, clock,
//! most device internals).
//!
//! libvirt parses those parts into structs and prints them back in a fixed attribute and child
//! order, dropping what it does not know. [`canonical`] reproduces that with a table of element
//! layouts (see `spec.rs`) instead of one struct per element: most of libvirt's formatting is
//! exactly "known attributes in a fixed order, known children in a fixed order".

use super::spec;
use crate::dom::Element;
use crate::writer::XmlWriter;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: Option<String>,
    /// libvirt prints a few empty elements as an open and a close tag on separate lines
    /// (`<hyperv mode='passthrough'>` / `</hyperv>`); this reproduces it.
    pub open_close: bool,
}

impl Node {
    pub fn new(name: &str) -> Self {
        Node {
            name: name.to_string(),
            ..Default::default()
        }
    }

    pub fn with_attrs(name: &str, attrs: &[(&str, &str)]) -> Self {
        let mut n = Node::new(name);
        for (k, v) in attrs {
            n.attrs.push((k.to_string(), v.to_string()));
        }
        n
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Set an attribute, keeping its position when it exists.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|(k, _)| k != name);
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Attributes ordered as `order` lists them; ones not listed follow in their current order.
    pub fn order_attrs(&mut self, order: &[&str]) {
        self.attrs
            .sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    }

    pub fn write(&self, w: &mut XmlWriter) {
        let attrs: Vec<(&str, &str)> = self
            .attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if !self.children.is_empty() || self.open_close {
            w.start(&self.name, &attrs);
            for c in &self.children {
                c.write(w);
            }
            w.end(&self.name);
        } else if let Some(t) = &self.text {
            w.text(&self.name, &attrs, t);
        } else {
            w.empty(&self.name, &attrs);
        }
    }

    /// The element as it was written, without any canonical layout (attributes in source order,
    /// every child, text trimmed away when there are children).
    pub fn raw(el: &Element) -> Node {
        let children: Vec<Node> = el.children.iter().map(Node::raw).collect();
        let text = if children.is_empty() && !el.text.is_empty() {
            Some(el.text.clone())
        } else {
            None
        };
        Node {
            name: el.name.clone(),
            attrs: el.attrs.clone(),
            children,
            text,
            open_close: false,
        }
    }
}

/// Canonicalise `el` following the layout table entry `key` (e.g. `"memtune"`, `"disk/iotune"`).
/// Without an entry the element is kept as written.
pub fn canonical(key: &str, el: &Element) -> Node {
    let Some(layout) = spec::layout(key) else {
        return Node::raw(el);
    };
    let mut node = Node::new(&el.name);
    if layout.attrs.first() == Some(&"*") {
        node.attrs = el.attrs.clone();
    } else {
        for a in &layout.attrs {
            if let Some(v) = el.attr(a) {
                node.attrs.push((a.to_string(), v.to_string()));
            }
        }
    }
    if layout.children.first() == Some(&"*") {
        node.children = el.children.iter().map(Node::raw).collect();
    } else {
        for c in &layout.children {
            for child in el.children_named(c) {
                node.children.push(canonical(&format!("{key}/{c}"), child));
            }
        }
    }
    if layout.text {
        let t = el.text.trim();
        if !t.is_empty() || node.children.is_empty() {
            node.text = Some(t.to_string());
        }
    }
    node.open_close = layout.open_close;
    node
}

/// libxml2's xmlNodeDump layout, used for `<metadata>`: double-quoted attributes, two spaces per
/// level, children on their own lines only when an element holds nothing but elements.
pub fn dump_libxml2(el: &Element, level: usize, out: &mut String) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&escape_libxml2(v, true));
        out.push('"');
    }
    let text_blank = el.text.chars().all(char::is_whitespace);
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if el.children.is_empty() {
        out.push_str(&escape_libxml2(&el.text, false));
    } else if text_blank {
        for c in &el.children {
            out.push('\n');
            out.push_str(&"  ".repeat(level + 1));
            dump_libxml2(c, level + 1, out);
        }
        out.push('\n');
        out.push_str(&"  ".repeat(level));
    } else {
        // Mixed content: libxml2 does not indent it. Our tree does not keep the interleaving,
        // so the text goes first.
        out.push_str(&escape_libxml2(&el.text, false));
        for c in &el.children {
            dump_libxml2(c, level + 1, out);
        }
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

fn escape_libxml2(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    if attr {
        crate::writer::escape_libxml2_attr(&mut out, s, false);
    } else {
        crate::writer::escape_libxml2_text(&mut out, s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_dump_matches_libxml2() {
        let el = crate::dom::parse("<a:x xmlns:a='urn:a' q='&quot;'><a:y>1</a:y>\n <a:z/> </a:x>")
            .unwrap();
        let mut out = String::new();
        dump_libxml2(&el, 2, &mut out);
        assert_eq!(
            out,
            "<a:x xmlns:a=\"urn:a\" q=\"&quot;\">\n      <a:y>1</a:y>\n      <a:z/>\n    </a:x>"
        );
    }
}
