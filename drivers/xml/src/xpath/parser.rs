//! The XML parser that builds a [`Document`] the way libvirt's `virXMLParse` has libxml2 build
//! it for virsh (`XML_PARSE_NOBLANKS`): document order kept, adjacent text merged, blank text
//! between elements dropped by libxml2's `areBlanks` heuristic, namespaces resolved.

use super::{Document, Node, NodeId, NodeKind, XML_NS};
use crate::error::{XmlError, XmlErrorKind};

pub(super) fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

struct XmlParser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    /// Open elements: id, whether xml:space="preserve" is in effect.
    stack: Vec<(NodeId, bool)>,
}

impl<'a> XmlParser<'a> {
    fn fail(&self, msg: impl Into<String>) -> XmlError {
        XmlError::new(XmlErrorKind::Malformed, msg).at(self.src, self.pos)
    }

    fn starts(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn skip_blanks(&mut self) {
        while self.pos < self.b.len() && is_blank(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    fn until(&mut self, end: &str, what: &str) -> Result<&'a str, XmlError> {
        let rest = &self.src[self.pos..];
        let Some(i) = rest.find(end) else {
            return Err(self.fail(format!("{what} not terminated")));
        };
        self.pos += i + end.len();
        Ok(&rest[..i])
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let start = self.pos;
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            if is_blank(c) || matches!(c, b'/' | b'>' | b'=' | b'<' | b'?' | b'\'' | b'"') {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.fail("StartTag: invalid element name"));
        }
        Ok(&self.src[start..self.pos])
    }

    fn add(&mut self, node: Node) -> NodeId {
        let id = self.nodes.len();
        let mut node = node;
        node.end = id;
        self.nodes.push(node);
        id
    }

    fn current(&self) -> NodeId {
        self.stack.last().map(|s| s.0).unwrap_or(0)
    }

    fn append_child(&mut self, parent: NodeId, node: Node) -> NodeId {
        let id = self.add(node);
        self.nodes[parent].children.push(id);
        id
    }

    /// Decode character and predefined entity references.
    fn decode(&self, raw: &str, at: usize) -> Result<String, XmlError> {
        if !raw.contains('&') {
            return Ok(raw.to_string());
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            let Some(j) = rest.find(';') else {
                return Err(
                    XmlError::new(XmlErrorKind::Malformed, "EntityRef: expecting ';'")
                        .at(self.src, at),
                );
            };
            let ent = &rest[..j];
            rest = &rest[j + 1..];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = ent.strip_prefix("#x") {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse::<u32>().ok()
                    } else {
                        return Err(XmlError::new(
                            XmlErrorKind::Malformed,
                            format!("Entity '{ent}' not defined"),
                        )
                        .at(self.src, at));
                    };
                    match code.and_then(char::from_u32) {
                        Some(c) => c,
                        None => {
                            return Err(XmlError::new(
                                XmlErrorKind::Malformed,
                                format!("xmlParseCharRef: invalid xmlChar value {ent}"),
                            )
                            .at(self.src, at))
                        }
                    }
                }
            };
            out.push(c);
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup_ns(
        &self,
        pending: &[(Option<String>, String)],
        prefix: Option<&str>,
    ) -> Option<String> {
        if prefix == Some("xml") {
            return Some(XML_NS.to_string());
        }
        let find = |defs: &[(Option<String>, String)]| {
            defs.iter()
                .find(|(p, _)| p.as_deref() == prefix)
                .map(|(_, h)| h.clone())
        };
        if let Some(h) = find(pending) {
            return Some(h);
        }
        for (id, _) in self.stack.iter().rev() {
            if let Some(h) = find(&self.nodes[*id].ns_defs) {
                return Some(h);
            }
        }
        None
    }

    fn start_tag(&mut self) -> Result<(), XmlError> {
        self.pos += 1; // '<'
        let qname = self.name()?;
        let mut attrs: Vec<(&str, String)> = Vec::new();
        let mut ns_defs: Vec<(Option<String>, String)> = Vec::new();
        let empty;
        loop {
            self.skip_blanks();
            if self.starts("/>") {
                self.pos += 2;
                empty = true;
                break;
            }
            if self.starts(">") {
                self.pos += 1;
                empty = false;
                break;
            }
            if self.pos >= self.b.len() {
                return Err(self.fail(format!("Couldn't find end of Start Tag {qname}")));
            }
            let aname = self.name()?;
            self.skip_blanks();
            if !self.starts("=") {
                return Err(self.fail(format!(
                    "Specification mandates value for attribute {aname}"
                )));
            }
            self.pos += 1;
            self.skip_blanks();
            let q = *self.b.get(self.pos).unwrap_or(&0);
            if q != b'"' && q != b'\'' {
                return Err(self.fail("AttValue: \" or ' expected"));
            }
            self.pos += 1;
            let at = self.pos;
            let raw = self.until(if q == b'"' { "\"" } else { "'" }, "AttValue")?;
            // Attribute-value normalisation: literal white space becomes a space.
            let raw: String = raw
                .chars()
                .map(|c| {
                    if matches!(c, '\t' | '\n' | '\r') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            let value = self.decode(&raw, at)?;
            if aname == "xmlns" {
                ns_defs.push((None, value));
            } else if let Some(p) = aname.strip_prefix("xmlns:") {
                ns_defs.push((Some(p.to_string()), value));
            } else {
                attrs.push((aname, value));
            }
        }
        let parent = self.current();
        let mut el = Node::new(NodeKind::Element, Some(parent));
        match qname.split_once(':') {
            Some((p, local)) => match self.lookup_ns(&ns_defs, Some(p)) {
                Some(uri) => {
                    el.prefix = Some(p.to_string());
                    el.name = local.to_string();
                    el.ns = Some(uri);
                }
                None => el.name = qname.to_string(),
            },
            None => {
                el.name = qname.to_string();
                el.ns = self.lookup_ns(&ns_defs, None).filter(|uri| !uri.is_empty());
            }
        }
        // In-scope namespaces for the namespace axis, as xmlGetNsList collects them.
        let mut in_scope: Vec<(Option<String>, String)> = Vec::new();
        let mut push_scope = |defs: &[(Option<String>, String)]| {
            for (p, h) in defs {
                if !in_scope.iter().any(|(q, _)| q == p) {
                    in_scope.push((p.clone(), h.clone()));
                }
            }
        };
        push_scope(&ns_defs);
        for (id, _) in self.stack.iter().rev() {
            push_scope(&self.nodes[*id].ns_defs);
        }
        el.ns_defs = ns_defs.clone();
        let id = self.append_child(parent, el);
        let mut ns_nodes = Vec::new();
        let mut xml = Node::new(NodeKind::Namespace, Some(id));
        xml.name = "xml".into();
        xml.ns = Some(XML_NS.into());
        ns_nodes.push(self.add(xml));
        for (p, h) in in_scope.into_iter().rev() {
            let mut n = Node::new(NodeKind::Namespace, Some(id));
            n.name = p.unwrap_or_default();
            n.ns = Some(h);
            ns_nodes.push(self.add(n));
        }
        self.nodes[id].ns_nodes = ns_nodes;
        let mut preserve = self.stack.last().map(|s| s.1).unwrap_or(false);
        let mut attr_ids = Vec::new();
        for (aname, value) in attrs {
            let mut a = Node::new(NodeKind::Attribute, Some(id));
            match aname.split_once(':') {
                Some((p, local)) => match self.lookup_ns(&ns_defs, Some(p)) {
                    Some(uri) => {
                        a.prefix = Some(p.to_string());
                        a.name = local.to_string();
                        a.ns = Some(uri);
                    }
                    None => a.name = aname.to_string(),
                },
                None => a.name = aname.to_string(),
            }
            if a.ns.as_deref() == Some(XML_NS) && a.name == "space" {
                match value.as_str() {
                    "preserve" => preserve = true,
                    "default" => preserve = false,
                    _ => {}
                }
            }
            a.value = value;
            attr_ids.push(self.add(a));
        }
        self.nodes[id].attrs = attr_ids;
        if empty {
            self.nodes[id].end = self.nodes.len() - 1;
        } else {
            self.stack.push((id, preserve));
        }
        Ok(())
    }

    fn end_tag(&mut self) -> Result<(), XmlError> {
        self.pos += 2; // "</"
        let name = self.name()?;
        self.skip_blanks();
        if !self.starts(">") {
            return Err(self.fail("expected '>'"));
        }
        self.pos += 1;
        let Some((id, _)) = self.stack.pop() else {
            return Err(self.fail("unexpected end tag"));
        };
        let n = &self.nodes[id];
        let open = match &n.prefix {
            Some(p) => format!("{p}:{}", n.name),
            None => n.name.clone(),
        };
        if open != name {
            return Err(self.fail(format!(
                "Opening and ending tag mismatch: {open} and {name}"
            )));
        }
        self.nodes[id].end = self.nodes.len() - 1;
        Ok(())
    }

    /// Character data up to the next '<', dropped when libxml2's `areBlanks` would drop it.
    fn text(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        let rest = &self.src[start..];
        let len = rest.find('<').unwrap_or(rest.len());
        self.pos += len;
        let raw = &rest[..len];
        let Some(&(parent, preserve)) = self.stack.last() else {
            if raw.bytes().all(is_blank) {
                return Ok(());
            }
            return Err(self.fail("Extra content at the end of the document"));
        };
        if raw.bytes().all(is_blank) && !preserve && self.pos < self.b.len() {
            let p = &self.nodes[parent];
            let keep = if p.children.is_empty() {
                self.starts("</")
            } else {
                let last = *p.children.last().unwrap();
                let first = p.children[0];
                self.nodes[last].kind == NodeKind::Text || self.nodes[first].kind == NodeKind::Text
            };
            if !keep {
                return Ok(());
            }
        }
        let text = self.decode(raw, start)?;
        self.add_text(parent, text);
        Ok(())
    }

    fn add_text(&mut self, parent: NodeId, text: String) {
        if let Some(&last) = self.nodes[parent].children.last() {
            if self.nodes[last].kind == NodeKind::Text {
                self.nodes[last].value.push_str(&text);
                return;
            }
        }
        let mut t = Node::new(NodeKind::Text, Some(parent));
        t.value = text;
        self.append_child(parent, t);
    }

    fn misc(&mut self, kind: NodeKind) -> Result<(), XmlError> {
        let parent = self.current();
        let mut n = Node::new(kind, Some(parent));
        match kind {
            NodeKind::Comment => {
                self.pos += 4;
                n.value = self.until("-->", "Comment")?.to_string();
            }
            NodeKind::CData => {
                self.pos += 9;
                n.value = self.until("]]>", "CData section")?.to_string();
            }
            _ => {
                self.pos += 2;
                let body = self.until("?>", "PI")?;
                let (target, content) = match body.find(|c: char| c.is_ascii_whitespace()) {
                    Some(i) => (&body[..i], body[i..].trim_start()),
                    None => (body, ""),
                };
                n.name = target.to_string();
                n.value = content.to_string();
            }
        }
        self.append_child(parent, n);
        Ok(())
    }

    fn run(mut self) -> Result<Document, XmlError> {
        self.nodes.push(Node::new(NodeKind::Document, None));
        if self.starts("\u{feff}") {
            self.pos += 3;
        }
        if self.starts("<?xml") && self.b.get(5).is_some_and(|c| is_blank(*c)) {
            self.until("?>", "XML declaration")?;
        }
        let mut seen_root = false;
        while self.pos < self.b.len() {
            if self.starts("<!--") {
                self.misc(NodeKind::Comment)?;
            } else if self.starts("<![CDATA[") {
                if self.stack.is_empty() {
                    return Err(self.fail("Extra content at the end of the document"));
                }
                self.misc(NodeKind::CData)?;
            } else if self.starts("<?") {
                self.misc(NodeKind::ProcessingInstruction)?;
            } else if self.starts("<!DOCTYPE") && self.stack.is_empty() {
                self.doctype()?;
            } else if self.starts("</") {
                self.end_tag()?;
            } else if self.starts("<") {
                if self.stack.is_empty() {
                    if seen_root {
                        return Err(self.fail("Extra content at the end of the document"));
                    }
                    seen_root = true;
                }
                self.start_tag()?;
            } else {
                self.text()?;
            }
        }
        if let Some((id, _)) = self.stack.last() {
            let name = self.nodes[*id].name.clone();
            return Err(self.fail(format!("Premature end of data in tag {name}")));
        }
        if !seen_root {
            return Err(self.fail("Document is empty"));
        }
        self.nodes[0].end = self.nodes.len() - 1;
        Ok(Document { nodes: self.nodes })
    }

    fn doctype(&mut self) -> Result<(), XmlError> {
        let mut depth = 0usize;
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.fail("DOCTYPE not terminated"))
    }
}

/// Parse XML as libvirt's `virXMLParse` does for virsh (`XML_PARSE_NOBLANKS`): white space
/// between elements is not kept, white space that is an element's only content is.
pub(super) fn parse(text: &str) -> Result<Document, XmlError> {
    let normalized;
    let text = if text.contains('\r') {
        normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        text
    };
    XmlParser {
        src: text,
        b: text.as_bytes(),
        pos: 0,
        nodes: Vec::new(),
        stack: Vec::new(),
    }
    .run()
}

#[cfg(test)]
mod tests {
    use crate::xpath::test_support::doc;

    #[test]
    fn blank_text_between_elements_is_dropped() {
        let d = doc("<a>\n  <b/>\n  <c>  </c>\n  <d>\n  </d>\n</a>");
        let a = d.root_element();
        assert_eq!(d.children(a).len(), 3);
        let c = d.children(a)[1];
        assert_eq!(d.string_value(c), "  ");
        assert_eq!(d.string_value(d.children(a)[2]), "\n  ");
    }

    #[test]
    fn blank_text_in_mixed_content_is_kept() {
        let d = doc("<a>text <b/> <c/> </a>");
        let a = d.root_element();
        assert_eq!(d.children(a).len(), 5);
        assert_eq!(d.string_value(a), "text   ");
        let d = doc("<a><b/> &amp; <c/></a>");
        assert_eq!(d.string_value(d.root_element()), " & ");
        let d = doc("<a xml:space='preserve'> <b/> </a>");
        assert_eq!(d.children(d.root_element()).len(), 3);
    }
}
