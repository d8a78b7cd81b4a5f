//! A small element tree read with quick-xml, keeping the source offset of every element.
//!
//! The typed models (domain, network, ...) read from this tree instead of from the event stream:
//! libvirt's parsers look elements up by path (XPath), in any order, and so do ours. Offsets let
//! a validation error point at the element it is about.

use crate::error::{XmlError, XmlErrorKind};
use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Text directly inside the element (concatenated, unescaped, untrimmed).
    pub text: String,
    /// Byte offset of the element's start tag in the source.
    pub offset: usize,
}

impl Element {
    pub fn new(name: &str) -> Self {
        Element {
            name: name.to_string(),
            ..Default::default()
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a `/`-separated path of child names below this one.
    pub fn at_path(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |e, part| e.child(part))
    }

    /// Text of the child at `path`, trimmed; None when absent.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.at_path(path).map(|e| e.text.trim())
    }
}

/// Parse a whole document and return its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    // We check end names ourselves to word the error as libxml2 does.
    reader.config_mut().check_end_names = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| malformed(text, reader.error_position() as usize, e.to_string()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() && stack.is_empty() => {
                let _ = start;
                return Err(malformed(
                    text,
                    pos,
                    "Extra content at the end of the document",
                ));
            }
            Event::Start(start) => {
                stack.push(element_from(text, pos, &start)?);
            }
            Event::Empty(start) => {
                let el = element_from(text, pos, &start)?;
                attach(&mut stack, &mut root, el);
            }
            Event::End(end) => {
                let Some(el) = stack.pop() else {
                    return Err(malformed(text, pos, "unexpected end tag"));
                };
                let end_name = String::from_utf8_lossy(end.name().as_ref()).into_owned();
                if end_name != el.name {
                    let (open_line, _) = crate::error::line_col(text, el.offset);
                    // libxml2 reports the position just past the offending end tag.
                    return Err(malformed(
                        text,
                        reader.buffer_position() as usize,
                        format!(
                            "Opening and ending tag mismatch: {} line {} and {}",
                            el.name, open_line, end_name
                        ),
                    ));
                }
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t
                        .unescape()
                        .map_err(|e| malformed(text, pos, e.to_string()))?;
                    top.text.push_str(&s);
                } else if !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(malformed(text, pos, "Start tag expected, '<' not found"));
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::Eof => break,
            // Comments, processing instructions and the declaration carry nothing libvirt keeps.
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(malformed(
            text,
            text.len(),
            format!("Premature end of data in tag {} line {}", open.name, {
                crate::error::line_col(text, open.offset).0
            }),
        ));
    }
    root.ok_or_else(|| malformed(text, 0, "Document is empty"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn element_from(
    text: &str,
    pos: usize,
    start: &quick_xml::events::BytesStart,
) -> Result<Element, XmlError> {
    let mut el = Element::new(&String::from_utf8_lossy(start.name().as_ref()));
    el.offset = pos;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| malformed(text, pos, e.to_string()))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|e| malformed(text, pos, e.to_string()))?
            .into_owned();
        if el.attrs.iter().any(|(k, _)| *k == key) {
            return Err(malformed(text, pos, format!("Attribute {key} redefined")));
        }
        el.attrs.push((key, value));
    }
    Ok(el)
}

fn malformed(text: &str, offset: usize, message: impl Into<String>) -> XmlError {
    XmlError::new(XmlErrorKind::Malformed, message).at(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_and_attributes() {
        let root = parse("<a x='1'><b>hi</b><c y=\"2\"/></a>").unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1"));
        assert_eq!(root.text_at("b"), Some("hi"));
        assert_eq!(root.at_path("c").and_then(|c| c.attr("y")), Some("2"));
    }

    #[test]
    fn mismatched_tags_report_line() {
        let err = parse("<domain>\n  <name>x</name>\n  <memory>1\n</domain>\n").unwrap_err();
        assert_eq!(err.kind, XmlErrorKind::Malformed);
        assert_eq!(err.line, Some(4));
        assert!(
            err.message.contains("memory line 3 and domain"),
            "{}",
            err.message
        );
    }

    #[test]
    fn empty_document_is_an_error() {
        assert!(parse("   ").is_err());
    }

    #[test]
    fn unterminated_document_is_an_error() {
        let err = parse("<a><b>").unwrap_err();
        assert!(err.message.contains("Premature end"), "{}", err.message);
    }
}
