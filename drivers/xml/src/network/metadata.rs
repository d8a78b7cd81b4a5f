//! `<metadata>`: sanitised as virXMLNodeSanitizeNamespaces does and written back with libxml2's
//! serialisation rules (its escaping is shared with the XPath printer).

use crate::dom::Element;
use crate::writer::XmlWriter;
use crate::writer::{escape_libxml2_attr as escape_attr, escape_libxml2_text as escape_text};

/// libxml2's serialisation of a kept element (metadata): double quotes, its own indentation.
fn libxml_dump(el: &Element, out: &mut String, level: usize) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr(out, v, false);
        out.push('"');
    }
    let text = el.text.trim();
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if el.children.is_empty() || !text.is_empty() {
        // Mixed or text content: libxml2 does not indent inside it.
        escape_text(out, &el.text);
        for c in &el.children {
            libxml_dump(c, out, 0);
        }
    } else {
        for c in &el.children {
            out.push('\n');
            out.push_str(&"  ".repeat(level + 1));
            libxml_dump(c, out, level + 1);
        }
        out.push('\n');
        out.push_str(&"  ".repeat(level));
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

/// virXMLNodeSanitizeNamespaces: keep the first child element per namespace, drop children
/// without one. Returns None when nothing is left of the metadata but the empty element.
pub(super) fn sanitize_metadata(md: &Element) -> Element {
    let mut out = Element::new(&md.name);
    out.offset = md.offset;
    out.attrs = md.attrs.clone();
    let mut seen: Vec<String> = Vec::new();
    for c in &md.children {
        let prefix = c.name.split_once(':').map(|(p, _)| p);
        let decl = match prefix {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        let ns = c
            .attr(&decl)
            .or_else(|| md.attr(&decl))
            .filter(|s| !s.is_empty());
        let Some(ns) = ns else { continue };
        if seen.iter().any(|s| s == ns) {
            continue;
        }
        seen.push(ns.to_string());
        out.children.push(c.clone());
    }
    out
}

pub(super) fn format_metadata(w: &mut XmlWriter, md: &Element) {
    let mut s = String::new();
    libxml_dump(md, &mut s, 0);
    w.raw_lines(&s);
}
