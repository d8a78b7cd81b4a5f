//! The bridge to `virtsh_xml`: parsing with libvirt's error reporting, and the few XML
//! operations the test driver performs on its own (metadata elements, node-file fragments).

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::dom::Element;
use virtsh_xml::{XmlError, XmlErrorKind};

/// Turn an XML-layer error into the error libvirt reports. `context` is libvirt's name for the
/// document (`domain_definition`, `network_definition`, ...), used for malformed XML.
pub(crate) fn xml_error(err: &XmlError, context: &str, text: &str) -> Error {
    err.api_error(context, text)
}

/// Malformed XML read from a file, worded as libvirt's catchXMLError does for files:
/// `PATH:LINE: MESSAGE`, the offending line, and a caret under the column.
pub(crate) fn file_xml_error(err: &XmlError, path: &str, text: &str) -> Error {
    match (err.kind, err.line) {
        (XmlErrorKind::Malformed, Some(line)) => {
            let col = err.column.unwrap_or(1);
            let src_line = text.lines().nth(line.saturating_sub(1)).unwrap_or("(null)");
            let caret: String = src_line
                .chars()
                .take(col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { '-' })
                .collect();
            Error::raw(
                ErrorKind::XmlDetail,
                format!("{path}:{line}: {}\n{src_line}\n{caret}^", err.message),
            )
        }
        _ => xml_error(err, path, text),
    }
}

/// Parse a whole document into an element tree, reporting malformed XML libvirt's way.
pub(crate) fn parse_tree(text: &str, context: &str) -> Result<Element> {
    virtsh_xml::dom::parse(text).map_err(|e| xml_error(&e, context, text))
}

/// Serialise an element tree back to XML text (used to hand node-file fragments to the typed
/// parsers). Namespace declarations of the ancestors are carried over so prefixed elements
/// stay well-formed.
pub(crate) fn element_to_xml(el: &Element, inherited_ns: &[(String, String)]) -> String {
    let mut out = String::new();
    write_element(el, inherited_ns, &mut out);
    out
}

fn write_element(el: &Element, extra_attrs: &[(String, String)], out: &mut String) {
    out.push('<');
    out.push_str(&el.name);
    let mut attrs: Vec<&(String, String)> = el.attrs.iter().collect();
    for a in extra_attrs {
        if !el.attrs.iter().any(|(k, _)| k == &a.0) {
            attrs.push(a);
        }
    }
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&escape(v, true));
        out.push('"');
    }
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    out.push_str(&escape(&el.text, false));
    for c in &el.children {
        write_element(c, &[], out);
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

/// libxml2's escaping, as libvirt's test driver copies these fragments through libxml2.
fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    if attr {
        virtsh_xml::writer::escape_libxml2_attr(&mut out, s, false);
    } else {
        virtsh_xml::writer::escape_libxml2_text(&mut out, s);
    }
    out
}

/// The `xmlns:*` declarations on an element (to carry into fragments cut out of it).
pub(crate) fn ns_decls(el: &Element) -> Vec<(String, String)> {
    el.attrs
        .iter()
        .filter(|(k, _)| k.starts_with("xmlns:"))
        .cloned()
        .collect()
}

/// Children of `el` whose local name is `local` in namespace `ns_uri`, the prefix being
/// declared on `el` itself or on one of `scopes` (outermost last).
pub(crate) fn ns_children<'a>(
    el: &'a Element,
    scopes: &[&Element],
    ns_uri: &str,
    local: &str,
) -> Vec<&'a Element> {
    el.children
        .iter()
        .filter(|c| match c.name.split_once(':') {
            Some((prefix, name)) if name == local => {
                let decl = format!("xmlns:{prefix}");
                std::iter::once(el)
                    .chain(scopes.iter().copied())
                    .chain(std::iter::once(*c))
                    .any(|s| s.attr(&decl) == Some(ns_uri))
            }
            _ => false,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Domain metadata elements (virDomainDefSetMetadata / virXMLExtractNamespaceXML).

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_keep_namespaces() {
        let root = virtsh_xml::dom::parse("<node xmlns:t='urn:t'><d a='1'><t:x>2</t:x></d></node>")
            .unwrap();
        let d = &root.children[0];
        let xml = element_to_xml(d, &ns_decls(&root));
        assert_eq!(xml, "<d a=\"1\" xmlns:t=\"urn:t\"><t:x>2</t:x></d>");
        assert_eq!(ns_children(d, &[&root], "urn:t", "x").len(), 1);
    }
}
