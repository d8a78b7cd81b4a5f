//! XPath 1.0 over libvirt XML, evaluated the way libxml2 2.9 (the library under virsh 9.0)
//! evaluates it, and nodes serialised the way libxml2's `xmlNodeDump` writes them.
//!
//! virsh's `--xpath EXPR [--wrap]` (every `*dumpxml` command) parses the document libvirt
//! formatted, evaluates EXPR with the root element as context node and prints each selected
//! node. Matching it byte for byte needs more than XPath semantics:
//!
//! - the document is parsed as libvirt parses it: `XML_PARSE_NOBLANKS`, so whitespace-only text
//!   between elements is dropped (libxml2's `areBlanks` heuristic) and the printer re-indents;
//! - the printer is `xmlNodeDump(..., format=1)`: two-space indentation except inside elements
//!   that have text children, attributes in double quotes, non-ASCII in attribute values as
//!   character references, namespace declarations only where they are written;
//! - syntax errors are reported as libxml2 reports them on stderr ("XPath error : Invalid
//!   expression", the expression and a caret), and the compiler keeps libxml2's recovery quirks
//!   (`a[[` reports twice, `count(` is `count()`), and its streaming shortcut (`name|` is `name`).
//!
//! The tree is a small arena built by the parser below (not [`crate::dom`], which merges text),
//! because XPath needs text nodes, their order, attribute and namespace nodes and document order.

#![allow(clippy::result_large_err)]

use crate::error::{XmlError, XmlErrorKind};
use std::fmt::Write as _;

/// Index of a node in its [`Document`]. Ids follow document order: an element, then its
/// namespace nodes, then its attributes, then its children.
pub type NodeId = usize;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Document,
    Element,
    Attribute,
    Text,
    CData,
    Comment,
    ProcessingInstruction,
    /// A node of the namespace axis (libxml2 cannot print these: virsh shows "(null)").
    Namespace,
}

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    parent: Option<NodeId>,
    /// Element, attribute: local name (the whole qualified name when the prefix is unbound).
    /// Processing instruction: target. Namespace node: prefix ("" for the default namespace).
    name: String,
    /// Element, attribute: the prefix, when bound.
    prefix: Option<String>,
    /// Element, attribute: namespace URI. Namespace node: its URI.
    ns: Option<String>,
    /// Attribute value; text, CDATA, comment and processing-instruction content.
    value: String,
    children: Vec<NodeId>,
    attrs: Vec<NodeId>,
    ns_nodes: Vec<NodeId>,
    /// Namespace declarations written on this element, in order (prefix None: default).
    ns_defs: Vec<(Option<String>, String)>,
    /// Last id inside this node's subtree (itself for leaves).
    end: NodeId,
}

impl Node {
    fn new(kind: NodeKind, parent: Option<NodeId>) -> Self {
        Node {
            kind,
            parent,
            name: String::new(),
            prefix: None,
            ns: None,
            value: String::new(),
            children: Vec::new(),
            attrs: Vec::new(),
            ns_nodes: Vec::new(),
            ns_defs: Vec::new(),
            end: 0,
        }
    }
}

/// A parsed document: node 0 is the document node.
#[derive(Debug, Clone)]
pub struct Document {
    nodes: Vec<Node>,
}

// ------------------------------------------------------------------------------------------
// Parsing
// ------------------------------------------------------------------------------------------

fn is_blank(c: u8) -> bool {
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

impl Document {
    /// Parse XML as libvirt's `virXMLParse` does for virsh (`XML_PARSE_NOBLANKS`): white space
    /// between elements is not kept, white space that is an element's only content is.
    pub fn parse(text: &str) -> Result<Document, XmlError> {
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

    /// The document node.
    pub fn document_node(&self) -> NodeId {
        0
    }

    /// The root element.
    pub fn root_element(&self) -> NodeId {
        self.nodes[0]
            .children
            .iter()
            .copied()
            .find(|c| self.nodes[*c].kind == NodeKind::Element)
            .unwrap_or(0)
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.nodes[id].kind
    }

    /// The qualified name of an element or attribute (`prefix:local`), a PI's target.
    pub fn name(&self, id: NodeId) -> String {
        let n = &self.nodes[id];
        match (&n.prefix, n.kind) {
            (Some(p), NodeKind::Element | NodeKind::Attribute) => format!("{p}:{}", n.name),
            _ => n.name.clone(),
        }
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id].parent
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        &self.nodes[id].children
    }

    pub fn attributes(&self, id: NodeId) -> &[NodeId] {
        &self.nodes[id].attrs
    }

    /// XPath string-value: text of all descendant text nodes for elements and the document,
    /// the value of attributes, the content of text, comments and processing instructions.
    pub fn string_value(&self, id: NodeId) -> String {
        let n = &self.nodes[id];
        match n.kind {
            NodeKind::Document | NodeKind::Element => {
                let mut out = String::new();
                self.collect_text(id, &mut out);
                out
            }
            NodeKind::Namespace => n.ns.clone().unwrap_or_default(),
            _ => n.value.clone(),
        }
    }

    fn collect_text(&self, id: NodeId, out: &mut String) {
        for &c in &self.nodes[id].children {
            match self.nodes[c].kind {
                NodeKind::Text | NodeKind::CData => out.push_str(&self.nodes[c].value),
                NodeKind::Element => self.collect_text(c, out),
                _ => {}
            }
        }
    }

    /// Evaluate `expr` with `context` as context node, as `xmlXPathEval` does.
    pub fn evaluate(&self, context: NodeId, expr: &str) -> Evaluation {
        evaluate(self, context, expr)
    }

    /// A node as `xmlNodeDump(buf, doc, node, 0, 1)` writes it; None where libxml2 writes
    /// nothing (namespace nodes, which virsh then prints as "(null)").
    pub fn dump(&self, id: NodeId) -> Option<String> {
        self.dump_format(id, true)
    }

    /// `xmlNodeDump(buf, doc, node, 0, format)`: with `format` false nothing is re-indented.
    pub fn dump_format(&self, id: NodeId, format: bool) -> Option<String> {
        let out = self.to_out(id)?;
        let mut s = Serializer {
            unformatted: !format,
            ..Default::default()
        };
        s.node(&out, true);
        Some(s.out)
    }

    /// What `virsh --xpath ... --wrap` prints (without the final newline): copies of the nodes
    /// added to a new `<nodes>` element (`xmlDocCopyNode` + `xmlAddChild`), then dumped.
    pub fn dump_wrapped(&self, ids: &[NodeId]) -> String {
        let mut root = OElem {
            qname: "nodes".into(),
            ..Default::default()
        };
        for &id in ids {
            match self.nodes[id].kind {
                // xmlAddChild refuses a copied namespace node (virsh itself crashes there).
                NodeKind::Namespace => {}
                NodeKind::Attribute => {
                    // The copy has no parent, so it loses its namespace; xmlAddChild replaces
                    // an attribute of the same name and appends.
                    let a = OAttr {
                        qname: self.nodes[id].name.clone(),
                        value: self.nodes[id].value.clone(),
                    };
                    root.attrs.retain(|x| x.qname != a.qname);
                    root.attrs.push(a);
                }
                NodeKind::Text => {
                    let v = &self.nodes[id].value;
                    if let Some(Out::Text(last)) = root.children.last_mut() {
                        last.push_str(v);
                    } else {
                        root.children.push(Out::Text(v.clone()));
                    }
                }
                NodeKind::Element => {
                    let mut copier = Copier {
                        doc: self,
                        scope: Vec::new(),
                        top_extra: Vec::new(),
                    };
                    let mut el = copier.element(id);
                    el.ns_defs.extend(copier.top_extra);
                    root.children.push(Out::Elem(el));
                }
                kind => {
                    if let Some(mut o) = self.to_out(id) {
                        if kind == NodeKind::Document {
                            // xmlAddChild moves the copied document into the new one, whose
                            // encoding is unset: its attributes get character references.
                            if let Out::Doc(_, utf8) = &mut o {
                                *utf8 = false;
                            }
                        }
                        root.children.push(o);
                    }
                }
            }
        }
        let mut s = Serializer::default();
        s.node(&Out::Elem(root), true);
        s.out
    }

    fn to_out(&self, id: NodeId) -> Option<Out> {
        let n = &self.nodes[id];
        Some(match n.kind {
            NodeKind::Document => Out::Doc(
                n.children.iter().filter_map(|c| self.to_out(*c)).collect(),
                true,
            ),
            NodeKind::Element => Out::Elem(OElem {
                qname: self.name(id),
                ns_defs: n.ns_defs.clone(),
                attrs: n.attrs.iter().map(|a| self.out_attr(*a)).collect(),
                children: n.children.iter().filter_map(|c| self.to_out(*c)).collect(),
            }),
            NodeKind::Attribute => Out::Attr(self.out_attr(id)),
            NodeKind::Text => Out::Text(n.value.clone()),
            NodeKind::CData => Out::CData(n.value.clone()),
            NodeKind::Comment => Out::Comment(n.value.clone()),
            NodeKind::ProcessingInstruction => Out::Pi(n.name.clone(), n.value.clone()),
            NodeKind::Namespace => return None,
        })
    }

    fn out_attr(&self, id: NodeId) -> OAttr {
        OAttr {
            qname: self.name(id),
            value: self.nodes[id].value.clone(),
        }
    }

    /// The namespace a prefix is bound to at element `id` in the source tree (xmlSearchNs).
    fn search_ns(&self, mut id: NodeId, prefix: Option<&str>) -> Option<String> {
        if prefix == Some("xml") {
            return Some(XML_NS.into());
        }
        loop {
            let n = &self.nodes[id];
            if n.kind == NodeKind::Element {
                if let Some((_, h)) = n.ns_defs.iter().find(|(p, _)| p.as_deref() == prefix) {
                    return Some(h.clone());
                }
            }
            id = n.parent?;
        }
    }
}

// ------------------------------------------------------------------------------------------
// Serialisation (xmlsave.c)
// ------------------------------------------------------------------------------------------

/// An owned tree to print: the source nodes themselves, or the copies `--wrap` makes.
#[derive(Debug, Clone)]
enum Out {
    /// A document node; `utf8` when its attributes belong to a document with an encoding
    /// during the dump (the source document; not a copy that --wrap re-homes into `<nodes>`).
    Doc(Vec<Out>, bool),
    Elem(OElem),
    Attr(OAttr),
    Text(String),
    CData(String),
    Comment(String),
    Pi(String, String),
}

#[derive(Debug, Clone, Default)]
struct OElem {
    qname: String,
    ns_defs: Vec<(Option<String>, String)>,
    attrs: Vec<OAttr>,
    children: Vec<Out>,
}

#[derive(Debug, Clone)]
struct OAttr {
    qname: String,
    value: String,
}

/// `xmlDocCopyNode(node, newdoc, 1)`: a deep copy whose namespaces are reconciled: a prefix
/// not declared inside the copy is declared on the copy's top element.
struct Copier<'a> {
    doc: &'a Document,
    /// ns_defs of the copied ancestors, outermost first.
    scope: Vec<Vec<(Option<String>, String)>>,
    /// Declarations added to the top element, after its own.
    top_extra: Vec<(Option<String>, String)>,
}

impl Copier<'_> {
    fn in_copy(&self, own: &[(Option<String>, String)], prefix: Option<&str>) -> bool {
        if prefix == Some("xml") {
            return true;
        }
        let hit =
            |defs: &[(Option<String>, String)]| defs.iter().any(|(p, _)| p.as_deref() == prefix);
        hit(own) || self.scope.iter().any(|d| hit(d)) || hit(&self.top_extra)
    }

    fn declare(&mut self, src: NodeId, prefix: Option<&str>) {
        if let Some(href) = self.doc.search_ns(src, prefix) {
            self.top_extra.push((prefix.map(str::to_string), href));
        }
    }

    fn element(&mut self, id: NodeId) -> OElem {
        let n = &self.doc.nodes[id];
        let own = n.ns_defs.clone();
        if n.ns.is_some() && !self.in_copy(&own, n.prefix.as_deref()) {
            self.declare(id, n.prefix.as_deref());
        }
        let mut attrs = Vec::new();
        for &a in &n.attrs {
            let an = &self.doc.nodes[a];
            if an.prefix.is_some() && !self.in_copy(&own, an.prefix.as_deref()) {
                self.declare(id, an.prefix.as_deref());
            }
            attrs.push(self.doc.out_attr(a));
        }
        self.scope.push(own.clone());
        let mut children = Vec::new();
        for &c in &n.children {
            match self.doc.nodes[c].kind {
                NodeKind::Element => children.push(Out::Elem(self.element(c))),
                _ => {
                    if let Some(o) = self.doc.to_out(c) {
                        children.push(o);
                    }
                }
            }
        }
        self.scope.pop();
        OElem {
            qname: self.doc.name(id),
            ns_defs: own,
            attrs,
            children,
        }
    }
}

/// xmlNodeDumpOutputInternal with format=1, its level and format state included: a document
/// node resets the level to 0, an element with a text child turns formatting off inside it.
#[derive(Default)]
struct Serializer {
    out: String,
    level: usize,
    unformatted: bool,
    /// Inside a document node the document's encoding is "UTF-8" and attribute values keep
    /// non-ASCII characters; elsewhere (the encoding libvirt's document has: none) they become
    /// character references.
    in_doc: usize,
}

impl Serializer {
    fn indent(&mut self) {
        for _ in 0..self.level.min(30) {
            self.out.push_str("  ");
        }
    }

    fn node(&mut self, n: &Out, is_root: bool) {
        let format = !self.unformatted;
        match n {
            Out::Doc(children, utf8) => {
                self.out
                    .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                let utf8 = *utf8 as usize;
                self.in_doc += utf8;
                for c in children {
                    self.level = 0;
                    self.node(c, true);
                    self.out.push('\n');
                }
                self.in_doc -= utf8;
            }
            Out::Elem(e) => {
                if !is_root && format {
                    self.indent();
                }
                self.out.push('<');
                self.out.push_str(&e.qname);
                for (p, href) in &e.ns_defs {
                    if p.as_deref() == Some("xml") {
                        continue;
                    }
                    self.out.push_str(" xmlns");
                    if let Some(p) = p {
                        self.out.push(':');
                        self.out.push_str(p);
                    }
                    self.out.push('=');
                    quoted(&mut self.out, href);
                }
                for a in &e.attrs {
                    self.attr(a);
                }
                if e.children.is_empty() {
                    self.out.push_str("/>");
                    return;
                }
                let mut switched = false;
                if format
                    && e.children
                        .iter()
                        .any(|c| matches!(c, Out::Text(_) | Out::CData(_)))
                {
                    self.unformatted = true;
                    switched = true;
                }
                self.out.push('>');
                if !self.unformatted {
                    self.out.push('\n');
                }
                self.level += 1;
                for c in &e.children {
                    self.node(c, false);
                    if !self.unformatted {
                        self.out.push('\n');
                    }
                }
                self.level = self.level.saturating_sub(1);
                if !self.unformatted {
                    self.indent();
                }
                self.out.push_str("</");
                self.out.push_str(&e.qname);
                self.out.push('>');
                if switched {
                    self.unformatted = false;
                }
            }
            Out::Attr(a) => self.attr(a),
            Out::Text(t) => escape_text(&mut self.out, t),
            Out::CData(t) => {
                if t.is_empty() {
                    self.out.push_str("<![CDATA[]]>");
                } else {
                    // A "]]>" inside is split across two sections, as libxml2 does.
                    let mut rest = t.as_str();
                    while let Some(i) = rest.find("]]>") {
                        self.out.push_str("<![CDATA[");
                        self.out.push_str(&rest[..i + 2]);
                        self.out.push_str("]]>");
                        rest = &rest[i + 2..];
                    }
                    if !rest.is_empty() {
                        self.out.push_str("<![CDATA[");
                        self.out.push_str(rest);
                        self.out.push_str("]]>");
                    }
                }
            }
            Out::Comment(t) => {
                if !is_root && format {
                    self.indent();
                }
                self.out.push_str("<!--");
                self.out.push_str(t);
                self.out.push_str("-->");
            }
            Out::Pi(target, content) => {
                if !is_root && format {
                    self.indent();
                }
                self.out.push_str("<?");
                self.out.push_str(target);
                if !content.is_empty() {
                    self.out.push(' ');
                    self.out.push_str(content);
                }
                self.out.push_str("?>");
            }
        }
    }

    fn attr(&mut self, a: &OAttr) {
        self.out.push(' ');
        self.out.push_str(&a.qname);
        self.out.push_str("=\"");
        for c in a.value.chars() {
            match c {
                '\n' => self.out.push_str("&#10;"),
                '\r' => self.out.push_str("&#13;"),
                '\t' => self.out.push_str("&#9;"),
                '"' => self.out.push_str("&quot;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '&' => self.out.push_str("&amp;"),
                c if !c.is_ascii() && self.in_doc == 0 => {
                    let _ = write!(self.out, "&#x{:X};", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// xmlEscapeContent: text nodes keep `"` and non-ASCII characters.
fn escape_text(out: &mut String, t: &str) {
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

/// xmlBufWriteQuotedString (namespace URIs: no escaping beyond the choice of quotes).
fn quoted(out: &mut String, s: &str) {
    if s.contains('"') {
        if s.contains('\'') {
            out.push('"');
            out.push_str(&s.replace('"', "&quot;"));
            out.push('"');
        } else {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        }
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

// ------------------------------------------------------------------------------------------
// XPath: values
// ------------------------------------------------------------------------------------------

/// The result of an XPath expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nodes in document order, without duplicates.
    NodeSet(Vec<NodeId>),
    Boolean(bool),
    Number(f64),
    String(String),
}

/// What `xmlXPathEval` gives: the value, or None when evaluation failed; and what libxml2
/// printed on stderr meanwhile (its error reports, each line newline-terminated).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub value: Option<Value>,
    pub diagnostics: String,
}

/// libxml2's xmlXPathErrorCode values that the compiler and evaluator raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XPathError {
    NumberError,
    UnfinishedLiteral,
    StartLiteral,
    VariableRef,
    UndefVariable,
    InvalidPredicate,
    Expr,
    Unclosed,
    UnknownFunc,
    InvalidOperand,
    InvalidType,
    InvalidArity,
    InvalidCtxtSize,
    InvalidCtxtPosition,
    UndefPrefix,
    RecursionLimit,
}

impl XPathError {
    /// The message libxml2 prints after "XPath error : ".
    pub fn message(self) -> &'static str {
        match self {
            XPathError::NumberError => "Number encoding",
            XPathError::UnfinishedLiteral => "Unfinished literal",
            XPathError::StartLiteral => "Start of literal",
            XPathError::VariableRef => "Expected $ for variable reference",
            XPathError::UndefVariable => "Undefined variable",
            XPathError::InvalidPredicate => "Invalid predicate",
            XPathError::Expr => "Invalid expression",
            XPathError::Unclosed => "Missing closing curly brace",
            XPathError::UnknownFunc => "Unregistered function",
            XPathError::InvalidOperand => "Invalid operand",
            XPathError::InvalidType => "Invalid type",
            XPathError::InvalidArity => "Invalid number of arguments",
            XPathError::InvalidCtxtSize => "Invalid context size",
            XPathError::InvalidCtxtPosition => "Invalid context position",
            XPathError::UndefPrefix => "Undefined namespace prefix",
            XPathError::RecursionLimit => "Recursion limit exceeded",
        }
    }
}

/// libxml2's report of an XPath error: the message, and below it the expression with a caret
/// when the error position is inside it (and before column 100).
fn report(out: &mut String, err: XPathError, expr: &str, pos: usize) {
    out.push_str("XPath error : ");
    out.push_str(err.message());
    out.push('\n');
    if pos < 100 && pos < expr.len() {
        out.push_str(expr);
        out.push('\n');
        out.push_str(&" ".repeat(pos));
        out.push_str("^\n");
    }
}

/// xmlXPathFormatNumber: integers without a fraction, up to 15 significant digits otherwise,
/// scientific notation outside [1e-5, 1e9].
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n > i32::MIN as f64 && n < i32::MAX as f64 && n == (n as i32) as f64 {
        return format!("{}", n as i32);
    }
    let abs = n.abs();
    let (mut mantissa, exponent) = if !(1e-5..=1e9).contains(&abs) {
        // "%*.*e" with 14 fraction digits.
        let s = format!("{:.14e}", n);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        (m.to_string(), format!("e{sign}{:02}", e.abs()))
    } else {
        let integer_place = abs.log10() as i32;
        let fraction_place = if integer_place > 0 {
            15 - integer_place - 1
        } else {
            15 - integer_place
        };
        (
            format!("{:.*}", fraction_place.max(0) as usize, n),
            String::new(),
        )
    };
    if mantissa.contains('.') {
        while mantissa.ends_with('0') {
            mantissa.pop();
        }
        if mantissa.ends_with('.') {
            mantissa.pop();
        }
    }
    mantissa + &exponent
}

/// xmlXPathStringEvalNumber: optional blanks and '-', digits, a fraction, an exponent (a
/// libxml2 extension); anything else is NaN.
fn string_to_number(s: &str) -> f64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i >= b.len() || !(b[i] == b'.' || b[i] == b'-' || b[i].is_ascii_digit()) {
        return f64::NAN;
    }
    let neg = b[i] == b'-';
    if neg {
        i += 1;
    }
    let (mut ret, next, ok) = parse_digits(b, i);
    i = next;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if (i >= b.len() || !b[i].is_ascii_digit()) && !ok {
            return f64::NAN;
        }
        let (frac, next) = parse_fraction(b, i);
        ret += frac;
        i = next;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let mut eneg = false;
        if i < b.len() && b[i] == b'-' {
            eneg = true;
            i += 1;
        } else if i < b.len() && b[i] == b'+' {
            i += 1;
        }
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if e < 1_000_000 {
                e = e * 10 + (b[i] - b'0') as i32;
            }
            i += 1;
        }
        if eneg {
            e = -e;
        }
        ret *= 10f64.powi(e);
    }
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i != b.len() {
        return f64::NAN;
    }
    if neg {
        -ret
    } else {
        ret
    }
}

fn parse_digits(b: &[u8], mut i: usize) -> (f64, usize, bool) {
    let mut ret = 0.0;
    let mut ok = false;
    while i < b.len() && b[i].is_ascii_digit() {
        ret = ret * 10.0 + (b[i] - b'0') as f64;
        ok = true;
        i += 1;
    }
    (ret, i, ok)
}

/// The digits after '.', as libxml2 sums them (at most 20 significant digits).
fn parse_fraction(b: &[u8], mut i: usize) -> (f64, usize) {
    let mut frac = 0i32;
    let mut fraction = 0.0;
    while i < b.len() && b[i] == b'0' {
        frac += 1;
        i += 1;
    }
    let max = frac + 20;
    while i < b.len() && b[i].is_ascii_digit() && frac < max {
        fraction = fraction * 10.0 + (b[i] - b'0') as f64;
        frac += 1;
        i += 1;
    }
    fraction /= 10f64.powi(frac);
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    (fraction, i)
}

// ------------------------------------------------------------------------------------------
// XPath: syntax tree and compiler (a transcription of xpath.c's recursive descent, including
// where it does and does not stop after an error, so that error reports match)
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Ancestor,
    AncestorOrSelf,
    Attribute,
    Child,
    Descendant,
    DescendantOrSelf,
    Following,
    FollowingSibling,
    Namespace,
    Parent,
    Preceding,
    PrecedingSibling,
    Itself,
}

impl Axis {
    fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "attribute" => Axis::Attribute,
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "namespace" => Axis::Namespace,
            "parent" => Axis::Parent,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "self" => Axis::Itself,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeType {
    Node,
    Text,
    Comment,
    Pi,
}

#[derive(Debug, Clone, PartialEq)]
enum NodeTest {
    Type(NodeType),
    Pi(String),
    All(Option<String>),
    Name(Option<String>, String),
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    axis: Axis,
    test: NodeTest,
    preds: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    /// Placeholder after a syntax error (never evaluated).
    Error,
    Root,
    Context,
    Literal(String),
    Number(f64),
    Var(Option<String>, String),
    Func(Option<String>, String, Vec<Expr>),
    /// A parenthesised expression that libxml2 wraps in a SORT operation (anything but a
    /// literal or a number); `(...)[1]` and `(...)[last()]` take a shortcut on those.
    Sorted(Box<Expr>),
    Filter(Box<Expr>, Box<Expr>),
    /// Location steps applied in turn to a starting node-set (kept flat, not nested, so that
    /// a path of thousands of steps needs no deep recursion).
    Path(Box<Expr>, Vec<Step>),
    Union(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Equal(bool, Box<Expr>, Box<Expr>),
    /// inf (`<`/`<=`), strict (`<`/`>`).
    Compare(bool, bool, Box<Expr>, Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    ToNumber(Box<Expr>),
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '-' | '_')
        || (!c.is_ascii()
            && (c.is_alphanumeric()
                || matches!(c as u32, 0xB7 | 0x2D0 | 0x2D1 | 0x387 | 0x640 | 0xE46 | 0xEC6 | 0x3005
                    | 0x3031..=0x3035 | 0x309D..=0x309E | 0x30FC..=0x30FE
                    | 0x300..=0x36F | 0x483..=0x486 | 0x591..=0x5C4 | 0x64B..=0x652
                    | 0x20D0..=0x20E1 | 0x302A..=0x302F | 0x3099..=0x309A)))
}

struct Compiler<'a> {
    s: &'a str,
    b: &'a [u8],
    cur: usize,
    error: Option<XPathError>,
    diag: String,
    depth: usize,
}

impl<'a> Compiler<'a> {
    fn new(s: &'a str) -> Self {
        Compiler {
            s,
            b: s.as_bytes(),
            cur: 0,
            error: None,
            diag: String::new(),
            depth: 0,
        }
    }

    fn c(&self) -> u8 {
        *self.b.get(self.cur).unwrap_or(&0)
    }

    fn nxt(&self, n: usize) -> u8 {
        *self.b.get(self.cur + n).unwrap_or(&0)
    }

    fn next(&mut self) {
        if self.cur < self.b.len() {
            self.cur += 1;
        }
    }

    fn skip(&mut self, n: usize) {
        self.cur = (self.cur + n).min(self.b.len());
    }

    fn skip_blanks(&mut self) {
        while is_blank(self.c()) {
            self.cur += 1;
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn err(&mut self, e: XPathError) -> Expr {
        report(&mut self.diag, e, self.s, self.cur);
        self.error = Some(e);
        Expr::Error
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.s.get(pos..).and_then(|r| r.chars().next())
    }

    /// xmlXPathParseNCName.
    fn ncname(&mut self) -> Option<String> {
        let start = self.cur;
        let c = self.char_at(start)?;
        if !is_name_start(c) {
            return None;
        }
        let mut end = start + c.len_utf8();
        while let Some(c) = self.char_at(end) {
            if !is_name_char(c) {
                break;
            }
            end += c.len_utf8();
        }
        self.cur = end;
        Some(self.s[start..end].to_string())
    }

    /// xmlXPathParseQName: (prefix, name).
    fn qname(&mut self) -> (Option<String>, Option<String>) {
        let name = self.ncname();
        if name.is_some() && self.c() == b':' {
            self.next();
            let local = self.ncname();
            return (name, local);
        }
        (None, name)
    }

    /// xmlXPathScanName: look ahead at a name (':' included) without consuming it.
    fn scan_name(&self) -> Option<&'a str> {
        let start = self.cur;
        let c = self.char_at(start)?;
        if !(is_name_start(c) || c == ':') {
            return None;
        }
        let mut end = start;
        while let Some(c) = self.char_at(end) {
            if c == ' ' || c == '>' || c == '/' || !(is_name_char(c) || c == ':') {
                break;
            }
            end += c.len_utf8();
        }
        Some(&self.s[start..end])
    }

    /// xmlXPathCompileExpr: OrExpr.
    fn expr(&mut self) -> Expr {
        if self.depth >= 5000 {
            return self.err(XPathError::RecursionLimit);
        }
        self.depth += 10;
        let mut e = self.and_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'o' && self.nxt(1) == b'r' {
            self.skip(2);
            self.skip_blanks();
            let r = self.and_expr();
            if self.failed() {
                return r;
            }
            e = Expr::Or(Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        self.depth -= 10;
        e
    }

    fn and_expr(&mut self) -> Expr {
        let mut e = self.equality_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'a' && self.nxt(1) == b'n' && self.nxt(2) == b'd' {
            self.skip(3);
            self.skip_blanks();
            let r = self.equality_expr();
            if self.failed() {
                return r;
            }
            e = Expr::And(Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn equality_expr(&mut self) -> Expr {
        let mut e = self.relational_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'=' || (self.c() == b'!' && self.nxt(1) == b'=') {
            let eq = self.c() == b'=';
            self.next();
            if !eq {
                self.next();
            }
            self.skip_blanks();
            let r = self.relational_expr();
            if self.failed() {
                return r;
            }
            e = Expr::Equal(!eq, Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn relational_expr(&mut self) -> Expr {
        let mut e = self.additive_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'<' || self.c() == b'>' {
            let inf = self.c() == b'<';
            let strict = self.nxt(1) != b'=';
            self.next();
            if !strict {
                self.next();
            }
            self.skip_blanks();
            let r = self.additive_expr();
            if self.failed() {
                return r;
            }
            e = Expr::Compare(inf, strict, Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn additive_expr(&mut self) -> Expr {
        let mut e = self.multiplicative_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'+' || self.c() == b'-' {
            let op = if self.c() == b'+' {
                Arith::Add
            } else {
                Arith::Sub
            };
            self.next();
            self.skip_blanks();
            let r = self.multiplicative_expr();
            if self.failed() {
                return r;
            }
            e = Expr::Arith(op, Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn multiplicative_expr(&mut self) -> Expr {
        let mut e = self.unary_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        loop {
            let op = if self.c() == b'*' {
                self.next();
                Arith::Mul
            } else if self.c() == b'd' && self.nxt(1) == b'i' && self.nxt(2) == b'v' {
                self.skip(3);
                Arith::Div
            } else if self.c() == b'm' && self.nxt(1) == b'o' && self.nxt(2) == b'd' {
                self.skip(3);
                Arith::Mod
            } else {
                break;
            };
            self.skip_blanks();
            let r = self.unary_expr();
            if self.failed() {
                return r;
            }
            e = Expr::Arith(op, Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn unary_expr(&mut self) -> Expr {
        let mut minus = false;
        let mut found = false;
        self.skip_blanks();
        while self.c() == b'-' {
            minus = !minus;
            found = true;
            self.next();
            self.skip_blanks();
        }
        let e = self.union_expr();
        if self.failed() {
            return e;
        }
        match (found, minus) {
            (false, _) => e,
            (true, true) => Expr::Negate(Box::new(e)),
            (true, false) => Expr::ToNumber(Box::new(e)),
        }
    }

    fn union_expr(&mut self) -> Expr {
        let mut e = self.path_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'|' {
            self.next();
            self.skip_blanks();
            let r = self.path_expr();
            e = Expr::Union(Box::new(e), Box::new(r));
            self.skip_blanks();
        }
        e
    }

    fn path_expr(&mut self) -> Expr {
        self.skip_blanks();
        let c = self.c();
        let lc = if matches!(c, b'$' | b'(' | b'\'' | b'"')
            || c.is_ascii_digit()
            || (c == b'.' && self.nxt(1).is_ascii_digit())
        {
            false
        } else if matches!(c, b'*' | b'/' | b'@' | b'.') {
            true
        } else {
            self.skip_blanks();
            match self.scan_name() {
                None => return self.err(XPathError::Expr),
                Some(name) if name.contains("::") => true,
                Some(name) => {
                    let mut len = name.len();
                    let mut lc = true;
                    loop {
                        let n = self.nxt(len);
                        if n == 0 {
                            break;
                        }
                        if is_blank(n) {
                            len += 1;
                            continue;
                        }
                        if n == b'(' {
                            lc = matches!(
                                name,
                                "node" | "text" | "comment" | "processing-instruction"
                            );
                        }
                        break;
                    }
                    lc
                }
            }
        };
        let mut e;
        if lc {
            let start = if self.c() == b'/' {
                Expr::Root
            } else {
                Expr::Context
            };
            e = self.location_path(start);
        } else {
            e = self.filter_expr();
            if self.failed() {
                return e;
            }
            if self.c() == b'/' && self.nxt(1) == b'/' {
                self.skip(2);
                self.skip_blanks();
                e = descendant_or_self(e);
                e = self.relative_location_path(e);
            } else if self.c() == b'/' {
                e = self.relative_location_path(e);
            }
        }
        self.skip_blanks();
        e
    }

    fn filter_expr(&mut self) -> Expr {
        let mut e = self.primary_expr();
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'[' {
            let p = self.predicate();
            e = Expr::Filter(Box::new(e), Box::new(p));
            self.skip_blanks();
        }
        e
    }

    fn primary_expr(&mut self) -> Expr {
        self.skip_blanks();
        let c = self.c();
        let e = if c == b'$' {
            self.variable_reference()
        } else if c == b'(' {
            self.next();
            self.skip_blanks();
            let inner = self.expr();
            if self.failed() {
                return inner;
            }
            if self.c() != b')' {
                return self.err(XPathError::Expr);
            }
            self.next();
            self.skip_blanks();
            match inner {
                Expr::Literal(_) | Expr::Number(_) => inner,
                other => Expr::Sorted(Box::new(other)),
            }
        } else if c.is_ascii_digit() || (c == b'.' && self.nxt(1).is_ascii_digit()) {
            self.number()
        } else if c == b'\'' || c == b'"' {
            self.literal()
        } else {
            self.function_call()
        };
        self.skip_blanks();
        e
    }

    fn variable_reference(&mut self) -> Expr {
        self.skip_blanks();
        if self.c() != b'$' {
            return self.err(XPathError::VariableRef);
        }
        self.next();
        let (prefix, name) = self.qname();
        let Some(name) = name else {
            return self.err(XPathError::VariableRef);
        };
        self.skip_blanks();
        Expr::Var(prefix, name)
    }

    fn number(&mut self) -> Expr {
        if self.c() != b'.' && !self.c().is_ascii_digit() {
            return self.err(XPathError::NumberError);
        }
        let (mut ret, next, ok) = parse_digits(self.b, self.cur);
        self.cur = next;
        if self.c() == b'.' {
            self.next();
            if !self.c().is_ascii_digit() && !ok {
                return self.err(XPathError::NumberError);
            }
            let (frac, next) = parse_fraction(self.b, self.cur);
            ret += frac;
            self.cur = next;
        }
        if self.c() == b'e' || self.c() == b'E' {
            self.next();
            let mut neg = false;
            if self.c() == b'-' {
                neg = true;
                self.next();
            } else if self.c() == b'+' {
                self.next();
            }
            let mut e: i32 = 0;
            while self.c().is_ascii_digit() {
                if e < 1_000_000 {
                    e = e * 10 + (self.c() - b'0') as i32;
                }
                self.next();
            }
            if neg {
                e = -e;
            }
            ret *= 10f64.powi(e);
        }
        Expr::Number(ret)
    }

    /// xmlXPathParseLiteral; None after reporting the error.
    fn parse_literal(&mut self) -> Option<String> {
        let q = self.c();
        if q != b'"' && q != b'\'' {
            self.err(XPathError::StartLiteral);
            return None;
        }
        self.next();
        let start = self.cur;
        let is_char = |c: u8| c >= 0x20 || c == 0x9 || c == 0xA || c == 0xD;
        while is_char(self.c()) && self.c() != q {
            self.next();
        }
        if !is_char(self.c()) {
            self.err(XPathError::UnfinishedLiteral);
            return None;
        }
        let lit = self.s[start..self.cur].to_string();
        self.next();
        Some(lit)
    }

    fn literal(&mut self) -> Expr {
        match self.parse_literal() {
            Some(l) => Expr::Literal(l),
            None => Expr::Error,
        }
    }

    fn function_call(&mut self) -> Expr {
        let (prefix, name) = self.qname();
        let Some(name) = name else {
            return self.err(XPathError::Expr);
        };
        self.skip_blanks();
        if self.c() != b'(' {
            return self.err(XPathError::Expr);
        }
        self.next();
        self.skip_blanks();
        let mut args = Vec::new();
        if self.c() != b')' {
            // libxml2 accepts a missing ')' at the end: "count(" is "count()".
            while self.c() != 0 {
                let a = self.expr();
                if self.failed() {
                    return a;
                }
                args.push(a);
                if self.c() == b')' {
                    break;
                }
                if self.c() != b',' {
                    return self.err(XPathError::Expr);
                }
                self.next();
                self.skip_blanks();
            }
        }
        self.next();
        self.skip_blanks();
        Expr::Func(prefix, name, args)
    }

    fn predicate(&mut self) -> Expr {
        self.skip_blanks();
        if self.c() != b'[' {
            return self.err(XPathError::InvalidPredicate);
        }
        self.next();
        self.skip_blanks();
        let e = self.expr();
        if self.failed() {
            return e;
        }
        if self.c() != b']' {
            return self.err(XPathError::InvalidPredicate);
        }
        self.next();
        self.skip_blanks();
        e
    }

    fn location_path(&mut self, start: Expr) -> Expr {
        self.skip_blanks();
        if self.c() != b'/' {
            return self.relative_location_path(start);
        }
        let mut e = start;
        while self.c() == b'/' {
            if self.nxt(1) == b'/' {
                self.skip(2);
                self.skip_blanks();
                e = descendant_or_self(e);
                e = self.relative_location_path(e);
            } else {
                self.next();
                self.skip_blanks();
                let c = self.c();
                if c != 0 && (c.is_ascii_alphabetic() || matches!(c, b'_' | b'.' | b'@' | b'*')) {
                    e = self.relative_location_path(e);
                }
            }
            if self.failed() {
                return e;
            }
        }
        e
    }

    fn relative_location_path(&mut self, input: Expr) -> Expr {
        self.skip_blanks();
        let mut e = input;
        if self.c() == b'/' && self.nxt(1) == b'/' {
            self.skip(2);
            self.skip_blanks();
            e = descendant_or_self(e);
        } else if self.c() == b'/' {
            self.next();
            self.skip_blanks();
        }
        e = self.step(e);
        if self.failed() {
            return e;
        }
        self.skip_blanks();
        while self.c() == b'/' {
            if self.nxt(1) == b'/' {
                self.skip(2);
                self.skip_blanks();
                e = descendant_or_self(e);
                e = self.step(e);
            } else {
                self.next();
                self.skip_blanks();
                e = self.step(e);
            }
            self.skip_blanks();
        }
        e
    }

    fn step(&mut self, input: Expr) -> Expr {
        self.skip_blanks();
        if self.c() == b'.' && self.nxt(1) == b'.' {
            self.skip(2);
            self.skip_blanks();
            return add_step(
                input,
                Step {
                    axis: Axis::Parent,
                    test: NodeTest::Type(NodeType::Node),
                    preds: Vec::new(),
                },
            );
        }
        if self.c() == b'.' {
            self.next();
            self.skip_blanks();
            return input;
        }
        let mut name = None;
        let axis;
        if self.c() == b'*' {
            axis = Axis::Child;
        } else {
            name = self.ncname();
            if let Some(n) = &name {
                match Axis::from_name(n) {
                    Some(a) => {
                        self.skip_blanks();
                        if self.c() == b':' && self.nxt(1) == b':' {
                            self.skip(2);
                            name = None;
                            axis = a;
                        } else {
                            axis = Axis::Child;
                        }
                    }
                    None => axis = Axis::Child,
                }
            } else if self.c() == b'@' {
                self.next();
                axis = Axis::Attribute;
            } else {
                axis = Axis::Child;
            }
        }
        if self.failed() {
            return Expr::Error;
        }
        let Some(test) = self.node_test(name) else {
            return Expr::Error;
        };
        self.skip_blanks();
        let mut preds = Vec::new();
        while self.c() == b'[' {
            preds.push(self.predicate());
        }
        add_step(input, Step { axis, test, preds })
    }

    /// xmlXPathCompNodeTest; None where libxml2 leaves the test unset (the step is dropped).
    fn node_test(&mut self, name: Option<String>) -> Option<NodeTest> {
        self.skip_blanks();
        if name.is_none() && self.c() == b'*' {
            self.next();
            return Some(NodeTest::All(None));
        }
        let name = match name {
            Some(n) => n,
            None => match self.ncname() {
                Some(n) => n,
                None => {
                    self.err(XPathError::Expr);
                    return None;
                }
            },
        };
        let blanks = is_blank(self.c());
        self.skip_blanks();
        if self.c() == b'(' {
            self.next();
            let ty = match name.as_str() {
                "comment" => NodeType::Comment,
                "node" => NodeType::Node,
                "processing-instruction" => NodeType::Pi,
                "text" => NodeType::Text,
                _ => {
                    self.err(XPathError::Expr);
                    return None;
                }
            };
            let mut test = NodeTest::Type(ty);
            self.skip_blanks();
            if ty == NodeType::Pi && self.c() != b')' {
                match self.parse_literal() {
                    Some(l) => test = NodeTest::Pi(l),
                    None => {
                        self.err(XPathError::Expr);
                        return Some(test);
                    }
                }
                self.skip_blanks();
            }
            if self.c() != b')' {
                self.err(XPathError::Unclosed);
                return Some(test);
            }
            self.next();
            return Some(test);
        }
        if !blanks && self.c() == b':' {
            self.next();
            if self.c() == b'*' {
                self.next();
                return Some(NodeTest::All(Some(name)));
            }
            return match self.ncname() {
                Some(local) => Some(NodeTest::Name(Some(name), local)),
                None => {
                    self.err(XPathError::Expr);
                    Some(NodeTest::Name(Some(name), String::new()))
                }
            };
        }
        Some(NodeTest::Name(None, name))
    }
}

fn descendant_or_self(input: Expr) -> Expr {
    add_step(
        input,
        Step {
            axis: Axis::DescendantOrSelf,
            test: NodeTest::Type(NodeType::Node),
            preds: Vec::new(),
        },
    )
}

fn add_step(input: Expr, step: Step) -> Expr {
    match input {
        Expr::Path(base, mut steps) => {
            steps.push(step);
            Expr::Path(base, steps)
        }
        other => Expr::Path(Box::new(other), vec![step]),
    }
}

/// How xmlXPathEvalExpr compiles: a pattern (streaming) compile first when the expression
/// has no '[', '(', '@' or ':', else the XPath compiler, which must consume everything.
enum Compiled {
    Xpath(Expr),
    /// The segments of a streamable pattern: (expression, starts at the root, is just ".").
    Stream(Vec<(Expr, bool, bool)>),
}

fn compile(expr: &str) -> (Option<Compiled>, String) {
    if let Some(segments) = stream_segments(expr) {
        let mut out = Vec::new();
        for (text, from_root, dot) in segments {
            let mut c = Compiler::new(text);
            let e = c.expr();
            if c.failed() || c.cur != c.b.len() {
                out.clear();
                break;
            }
            out.push((e, from_root, dot));
        }
        if !out.is_empty() {
            return (Some(Compiled::Stream(out)), String::new());
        }
    }
    let mut c = Compiler::new(expr);
    let e = c.expr();
    if !c.failed() && c.cur != c.b.len() {
        c.err(XPathError::Expr);
    }
    if c.failed() {
        (None, c.diag)
    } else {
        (Some(Compiled::Xpath(e)), c.diag)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatOp {
    Root,
    Ancestor,
    Parent,
    /// A named element, or None for ".".
    Elem(bool),
    All,
}

/// xmlPatterncompile(XML_PATTERN_XPATH) and xmlStreamCompile, reduced to the question libxml2
/// asks: is this expression a streamable pattern? If so, its '|'-separated segments (a final
/// empty one is ignored, so "name|" is "name"), whether each starts at the root and whether it
/// is exactly "." (the only relative pattern that selects the context node itself).
fn stream_segments(expr: &str) -> Option<Vec<(&str, bool, bool)>> {
    if expr.contains(['[', '(', '@', ':']) || expr.is_empty() {
        return None;
    }
    let mut segments = Vec::new();
    let mut kind: Option<bool> = None;
    let mut rest = expr;
    while !rest.is_empty() {
        let (seg, next) = match rest.find('|') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let (ops, from_root) = pattern_ops(seg)?;
        match kind {
            None => kind = Some(from_root),
            Some(k) if k != from_root => return None,
            _ => {}
        }
        let dot = ops == [PatOp::Elem(false)];
        if !dot && !stream_compiles(&ops) {
            return None;
        }
        segments.push((seg, from_root, dot));
    }
    Some(segments)
}

fn pattern_ops(seg: &str) -> Option<(Vec<PatOp>, bool)> {
    let b = seg.as_bytes();
    let mut i = 0;
    let at = |i: usize| *b.get(i).unwrap_or(&0);
    let skip_blanks = |i: &mut usize| {
        while is_blank(at(*i)) {
            *i += 1;
        }
    };
    let mut ops = Vec::new();
    skip_blanks(&mut i);
    let from_root = at(i) == b'/';
    let step = |i: &mut usize, ops: &mut Vec<PatOp>| -> Option<()> {
        skip_blanks(i);
        if at(*i) == b'.' {
            *i += 1;
            ops.push(PatOp::Elem(false));
            return Some(());
        }
        let c = seg.get(*i..).and_then(|r| r.chars().next());
        match c {
            Some(c) if is_name_start(c) => {
                *i += c.len_utf8();
                while let Some(c) = seg.get(*i..).and_then(|r| r.chars().next()) {
                    if !is_name_char(c) {
                        break;
                    }
                    *i += c.len_utf8();
                }
                skip_blanks(i);
                if at(*i) == b'*' {
                    return None;
                }
                ops.push(PatOp::Elem(true));
            }
            _ => {
                if at(*i) != b'*' {
                    return None;
                }
                *i += 1;
                ops.push(PatOp::All);
            }
        }
        Some(())
    };
    if at(i) == b'/' && at(i + 1) == b'/' {
        ops.push(PatOp::Ancestor);
        i += 2;
    } else if at(i) == b'.' && at(i + 1) == b'/' && at(i + 2) == b'/' {
        ops.push(PatOp::Ancestor);
        i += 3;
        skip_blanks(&mut i);
        if at(i) == 0 {
            return None;
        }
    }
    if at(i) == b'/' {
        ops.push(PatOp::Root);
        i += 1;
        skip_blanks(&mut i);
        if at(i) == 0 {
            return None;
        }
    }
    step(&mut i, &mut ops)?;
    skip_blanks(&mut i);
    while at(i) == b'/' {
        if at(i + 1) == b'/' {
            ops.push(PatOp::Ancestor);
            i += 2;
            skip_blanks(&mut i);
        } else {
            ops.push(PatOp::Parent);
            i += 1;
            skip_blanks(&mut i);
            if at(i) == 0 {
                return None;
            }
        }
        step(&mut i, &mut ops)?;
    }
    if at(i) != 0 {
        return None;
    }
    Some((ops, from_root))
}

/// xmlStreamCompile's failure cases: a root step not first, or no step at all.
fn stream_compiles(ops: &[PatOp]) -> bool {
    let mut steps = 0;
    let mut desc = false;
    for (i, op) in ops.iter().enumerate() {
        match op {
            PatOp::Root if i != 0 => return false,
            PatOp::Root | PatOp::Parent => {}
            PatOp::Ancestor => desc = true,
            PatOp::Elem(false) => {
                if i + 1 == ops.len() && desc {
                    steps += 1;
                    desc = false;
                }
            }
            PatOp::Elem(true) | PatOp::All => {
                steps += 1;
                desc = false;
            }
        }
    }
    steps > 0
}

// ------------------------------------------------------------------------------------------
// XPath: evaluation
// ------------------------------------------------------------------------------------------

/// The evaluation context. Position and size are only known inside predicates: at the top
/// xmlXPathNewContext leaves them at -1 and `position()`/`last()` fail there.
#[derive(Clone, Copy)]
struct Ctx {
    node: NodeId,
    pos: Option<usize>,
    size: Option<usize>,
}

struct Evaluator<'a> {
    doc: &'a Document,
    diag: String,
    expr_len: usize,
    expr: &'a str,
    depth: usize,
    /// libxml2's recursion limit (not hit by its streaming evaluation).
    limit: bool,
}

type R<T> = Result<T, ()>;

/// Stack for one evaluation. libxml2 lets an expression nest 500 sub-expressions deep and
/// evaluation recurse 5000 operations deep (`a|a|a|...`, `1+1+1...`); that is more than the
/// 2 MiB of a test thread, so compile and evaluate on a thread of their own. The memory is
/// only reserved; what a normal expression touches is a few pages.
const EVAL_STACK: usize = 64 << 20;

fn evaluate(doc: &Document, context: NodeId, expr: &str) -> Evaluation {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("xpath".into())
            .stack_size(EVAL_STACK)
            .spawn_scoped(scope, || evaluate_here(doc, context, expr));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => evaluate_here(doc, context, expr),
        }
    })
}

fn evaluate_here(doc: &Document, context: NodeId, expr: &str) -> Evaluation {
    // libxml2 sees a C string: it ends at the first NUL.
    let expr = expr.split('\0').next().unwrap_or("");
    let (compiled, mut diagnostics) = compile(expr);
    let Some(compiled) = compiled else {
        return Evaluation {
            value: None,
            diagnostics,
        };
    };
    let mut ev = Evaluator {
        doc,
        diag: String::new(),
        expr_len: expr.len(),
        expr,
        depth: 0,
        limit: true,
    };
    let ctx = Ctx {
        node: context,
        pos: None,
        size: None,
    };
    let value = match compiled {
        Compiled::Xpath(e) => ev.eval(&e, ctx).ok(),
        Compiled::Stream(segments) => {
            ev.limit = false;
            let mut all = Vec::new();
            let mut ok = true;
            for (e, from_root, dot) in segments {
                if dot {
                    all.push(context);
                    continue;
                }
                match ev.eval(&e, ctx) {
                    Ok(Value::NodeSet(mut s)) => {
                        // The stream walk starts below the context node: it never matches it.
                        if !from_root {
                            s.retain(|n| *n != context);
                        }
                        all.extend(s);
                    }
                    _ => ok = false,
                }
            }
            all.sort_unstable();
            all.dedup();
            ok.then_some(Value::NodeSet(all))
        }
    };
    diagnostics.push_str(&ev.diag);
    Evaluation { value, diagnostics }
}

impl Evaluator<'_> {
    fn err<T>(&mut self, e: XPathError) -> R<T> {
        report(&mut self.diag, e, self.expr, self.expr_len);
        Err(())
    }

    fn eval(&mut self, e: &Expr, ctx: Ctx) -> R<Value> {
        if self.limit && self.depth >= 5000 {
            return self.err(XPathError::RecursionLimit);
        }
        self.depth += 1;
        let r = self.eval_inner(e, ctx);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr, ctx: Ctx) -> R<Value> {
        Ok(match e {
            Expr::Error => return Err(()),
            Expr::Root => Value::NodeSet(vec![0]),
            Expr::Context => Value::NodeSet(vec![ctx.node]),
            Expr::Literal(s) => Value::String(s.clone()),
            Expr::Number(n) => Value::Number(*n),
            Expr::Var(prefix, name) => {
                if let Some(p) = prefix {
                    if p != "xml" {
                        let _ = writeln!(
                            self.diag,
                            "xmlXPathCompOpEval: variable {name} bound to undefined prefix {p}"
                        );
                        return Err(());
                    }
                }
                return self.err(XPathError::UndefVariable);
            }
            Expr::Func(prefix, name, args) => self.call(prefix.as_deref(), name, args, ctx)?,
            Expr::Sorted(inner) => self.eval(inner, ctx)?,
            Expr::Filter(base, pred) => {
                // (...)[1] and (...)[last()] are shortcuts in libxml2 that skip the node-set
                // type check.
                let first = matches!(**pred, Expr::Number(n) if n == 1.0)
                    && matches!(**base, Expr::Sorted(_) | Expr::Filter(..));
                let last = matches!(&**pred, Expr::Func(None, n, a) if n == "last" && a.is_empty())
                    && matches!(**base, Expr::Sorted(_));
                let v = self.eval(base, ctx)?;
                match v {
                    Value::NodeSet(s) if first => Value::NodeSet(s.into_iter().take(1).collect()),
                    Value::NodeSet(s) if last => {
                        Value::NodeSet(s.last().copied().into_iter().collect())
                    }
                    v if first || last => v,
                    Value::NodeSet(s) => Value::NodeSet(self.filter(s, pred)?),
                    _ => return self.err(XPathError::InvalidType),
                }
            }
            Expr::Path(base, steps) => {
                // libxml2 recurses once per step to reach the base.
                self.depth += steps.len();
                let base = self.eval(base, ctx);
                self.depth -= steps.len();
                let Value::NodeSet(mut set) = base? else {
                    return self.err(XPathError::InvalidType);
                };
                for step in steps {
                    set = self.step(set, step)?;
                }
                Value::NodeSet(set)
            }
            Expr::Union(l, r) => {
                let a = self.eval(l, ctx)?;
                let b = self.eval(r, ctx)?;
                match (a, b) {
                    (Value::NodeSet(mut a), Value::NodeSet(b)) => {
                        a.extend(b);
                        a.sort_unstable();
                        a.dedup();
                        Value::NodeSet(a)
                    }
                    _ => return self.err(XPathError::InvalidType),
                }
            }
            Expr::Or(l, r) => {
                if self.eval(l, ctx)?.boolean() {
                    Value::Boolean(true)
                } else {
                    Value::Boolean(self.eval(r, ctx)?.boolean())
                }
            }
            Expr::And(l, r) => {
                if !self.eval(l, ctx)?.boolean() {
                    Value::Boolean(false)
                } else {
                    Value::Boolean(self.eval(r, ctx)?.boolean())
                }
            }
            Expr::Equal(neq, l, r) => {
                let a = self.eval(l, ctx)?;
                let b = self.eval(r, ctx)?;
                Value::Boolean(self.equal(&a, &b, *neq))
            }
            Expr::Compare(inf, strict, l, r) => {
                let a = self.eval(l, ctx)?;
                let b = self.eval(r, ctx)?;
                Value::Boolean(self.compare(&a, &b, *inf, *strict))
            }
            Expr::Arith(op, l, r) => {
                let a = self.eval(l, ctx)?;
                let b = self.eval(r, ctx)?;
                let (x, y) = (self.number(&a), self.number(&b));
                Value::Number(match op {
                    Arith::Add => x + y,
                    Arith::Sub => x - y,
                    Arith::Mul => x * y,
                    Arith::Div => x / y,
                    Arith::Mod => x % y,
                })
            }
            Expr::Negate(inner) => {
                let v = self.eval(inner, ctx)?;
                Value::Number(-self.number(&v))
            }
            Expr::ToNumber(inner) => {
                let v = self.eval(inner, ctx)?;
                Value::Number(self.number(&v))
            }
        })
    }

    fn step(&mut self, set: Vec<NodeId>, step: &Step) -> R<Vec<NodeId>> {
        let uri = match &step.test {
            NodeTest::All(Some(p)) | NodeTest::Name(Some(p), _) => {
                // Only the implicit "xml" prefix is bound: virsh registers no namespace.
                if p != "xml" {
                    return self.err(XPathError::UndefPrefix);
                }
                Some(XML_NS)
            }
            _ => None,
        };
        let mut out = Vec::new();
        for n in set {
            let mut sel: Vec<NodeId> = self
                .axis(n, step.axis)
                .into_iter()
                .filter(|c| self.test(*c, step.axis, &step.test, uri))
                .collect();
            for p in &step.preds {
                sel = self.filter(sel, p)?;
            }
            out.extend(sel);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Keep the nodes for which `pred` holds, with positions in the order given.
    fn filter(&mut self, set: Vec<NodeId>, pred: &Expr) -> R<Vec<NodeId>> {
        let size = set.len();
        let mut out = Vec::new();
        for (i, n) in set.into_iter().enumerate() {
            let ctx = Ctx {
                node: n,
                pos: Some(i + 1),
                size: Some(size),
            };
            let keep = match self.eval(pred, ctx)? {
                Value::Number(x) => x == (i + 1) as f64,
                v => v.boolean(),
            };
            if keep {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn is_tree_node(&self, id: NodeId) -> bool {
        !matches!(
            self.doc.nodes[id].kind,
            NodeKind::Attribute | NodeKind::Namespace | NodeKind::Document
        )
    }

    /// The nodes of an axis in proximity order (reverse axes nearest first).
    fn axis(&self, n: NodeId, axis: Axis) -> Vec<NodeId> {
        let d = self.doc;
        let node = &d.nodes[n];
        let leafish = matches!(node.kind, NodeKind::Attribute | NodeKind::Namespace);
        match axis {
            Axis::Child => {
                if leafish {
                    Vec::new()
                } else {
                    node.children.clone()
                }
            }
            Axis::Attribute => node.attrs.clone(),
            Axis::Namespace => node.ns_nodes.clone(),
            Axis::Itself => vec![n],
            Axis::Parent => node.parent.into_iter().collect(),
            Axis::Ancestor | Axis::AncestorOrSelf => {
                let mut out = Vec::new();
                if axis == Axis::AncestorOrSelf {
                    out.push(n);
                }
                let mut p = node.parent;
                while let Some(x) = p {
                    out.push(x);
                    p = d.nodes[x].parent;
                }
                out
            }
            Axis::Descendant | Axis::DescendantOrSelf => {
                let mut out = Vec::new();
                if axis == Axis::DescendantOrSelf {
                    out.push(n);
                }
                if !leafish {
                    self.descendants(n, &mut out);
                }
                out
            }
            Axis::FollowingSibling | Axis::PrecedingSibling => {
                if leafish {
                    return Vec::new();
                }
                let Some(p) = node.parent else {
                    return Vec::new();
                };
                let sibs = &d.nodes[p].children;
                let i = sibs.iter().position(|x| *x == n).unwrap_or(0);
                if axis == Axis::FollowingSibling {
                    sibs[i + 1..].to_vec()
                } else {
                    sibs[..i].iter().rev().copied().collect()
                }
            }
            Axis::Following => {
                // libxml2 starts an attribute's following axis after its element.
                let start = if leafish { node.parent.unwrap_or(n) } else { n };
                if start == 0 {
                    return Vec::new();
                }
                let end = d.nodes[start].end;
                (end + 1..d.nodes.len())
                    .filter(|x| self.is_tree_node(*x))
                    .collect()
            }
            Axis::Preceding => {
                let start = if leafish { node.parent.unwrap_or(n) } else { n };
                let mut ancestors = Vec::new();
                let mut p = d.nodes[start].parent;
                while let Some(x) = p {
                    ancestors.push(x);
                    p = d.nodes[x].parent;
                }
                (1..start)
                    .rev()
                    .filter(|x| self.is_tree_node(*x) && !ancestors.contains(x))
                    .collect()
            }
        }
    }

    fn descendants(&self, n: NodeId, out: &mut Vec<NodeId>) {
        for &c in &self.doc.nodes[n].children {
            out.push(c);
            self.descendants(c, out);
        }
    }

    fn test(&self, id: NodeId, axis: Axis, test: &NodeTest, uri: Option<&str>) -> bool {
        let n = &self.doc.nodes[id];
        let principal = match axis {
            Axis::Attribute => NodeKind::Attribute,
            Axis::Namespace => NodeKind::Namespace,
            _ => NodeKind::Element,
        };
        match test {
            NodeTest::Type(NodeType::Node) => true,
            NodeTest::Type(NodeType::Text) => matches!(n.kind, NodeKind::Text | NodeKind::CData),
            NodeTest::Type(NodeType::Comment) => n.kind == NodeKind::Comment,
            NodeTest::Type(NodeType::Pi) => n.kind == NodeKind::ProcessingInstruction,
            NodeTest::Pi(target) => n.kind == NodeKind::ProcessingInstruction && n.name == *target,
            NodeTest::All(prefix) => {
                n.kind == principal
                    && (prefix.is_none()
                        || principal == NodeKind::Namespace
                        || n.ns.as_deref() == uri)
            }
            NodeTest::Name(prefix, name) => {
                if n.kind != principal || n.name != *name {
                    return false;
                }
                match principal {
                    NodeKind::Namespace => true,
                    _ if prefix.is_none() => n.ns.is_none(),
                    _ => n.ns.as_deref() == uri,
                }
            }
        }
    }

    fn string(&self, v: &Value) -> String {
        match v {
            Value::NodeSet(s) => s
                .first()
                .map(|n| self.doc.string_value(*n))
                .unwrap_or_default(),
            Value::Boolean(b) => if *b { "true" } else { "false" }.into(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
        }
    }

    fn number(&self, v: &Value) -> f64 {
        match v {
            Value::NodeSet(_) => string_to_number(&self.string(v)),
            Value::Boolean(b) => {
                if *b {
                    1.0
                } else {
                    0.0
                }
            }
            Value::Number(n) => *n,
            Value::String(s) => string_to_number(s),
        }
    }

    fn equal(&self, a: &Value, b: &Value, neq: bool) -> bool {
        let (a, b) = match (a, b) {
            (Value::NodeSet(_), _) => (a, b),
            (_, Value::NodeSet(_)) => (b, a),
            _ => {
                let eq = match (a, b) {
                    (Value::Boolean(_), _) | (_, Value::Boolean(_)) => a.boolean() == b.boolean(),
                    (Value::Number(_), _) | (_, Value::Number(_)) => {
                        self.number(a) == self.number(b)
                    }
                    _ => self.string(a) == self.string(b),
                };
                return eq != neq;
            }
        };
        let Value::NodeSet(set) = a else {
            unreachable!()
        };
        match b {
            Value::NodeSet(other) => {
                if set.is_empty() || other.is_empty() {
                    return false;
                }
                let xs: Vec<String> = set.iter().map(|n| self.doc.string_value(*n)).collect();
                let ys: Vec<String> = other.iter().map(|n| self.doc.string_value(*n)).collect();
                xs.iter().any(|x| ys.iter().any(|y| (x == y) != neq))
            }
            Value::Boolean(v) => (set.is_empty() != *v) != neq,
            Value::Number(f) => set.iter().any(|n| {
                let v = string_to_number(&self.doc.string_value(*n));
                if v.is_nan() {
                    neq
                } else {
                    (v == *f) != neq
                }
            }),
            Value::String(s) => set.iter().any(|n| (self.doc.string_value(*n) == *s) != neq),
        }
    }

    fn compare(&self, a: &Value, b: &Value, inf: bool, strict: bool) -> bool {
        let cmp = |x: f64, y: f64| match (inf, strict) {
            (true, true) => x < y,
            (true, false) => x <= y,
            (false, true) => x > y,
            (false, false) => x >= y,
        };
        let numbers = |v: &Value| -> Vec<f64> {
            match v {
                Value::NodeSet(s) => s
                    .iter()
                    .map(|n| string_to_number(&self.doc.string_value(*n)))
                    .collect(),
                Value::Boolean(_) => vec![self.number(v)],
                v => vec![self.number(v)],
            }
        };
        match (a, b) {
            (Value::NodeSet(_), Value::Boolean(x)) => {
                cmp(a.boolean() as u8 as f64, *x as u8 as f64)
            }
            (Value::Boolean(x), Value::NodeSet(_)) => {
                cmp(*x as u8 as f64, b.boolean() as u8 as f64)
            }
            _ => {
                let xs = numbers(a);
                let ys = numbers(b);
                xs.iter().any(|x| ys.iter().any(|y| cmp(*x, *y)))
            }
        }
    }

    fn node_set_arg(&mut self, v: Value) -> R<Vec<NodeId>> {
        match v {
            Value::NodeSet(s) => Ok(s),
            _ => self.err(XPathError::InvalidType),
        }
    }

    fn call(&mut self, prefix: Option<&str>, name: &str, args: &[Expr], ctx: Ctx) -> R<Value> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, ctx)?);
        }
        if let Some(p) = prefix {
            if p == "xml" {
                let _ = writeln!(self.diag, "xmlXPathCompOpEval: function {name} not found");
                return self.err(XPathError::UnknownFunc);
            }
            let _ = writeln!(
                self.diag,
                "xmlXPathCompOpEval: function {name} bound to undefined prefix {p}"
            );
            return Err(());
        }
        let n = vals.len();
        let arity = |me: &mut Self, want: usize| -> R<()> {
            if n != want {
                me.err(XPathError::InvalidArity)
            } else {
                Ok(())
            }
        };
        let context_set = || Value::NodeSet(vec![ctx.node]);
        let mut vals = vals.into_iter();
        let mut next = || vals.next().unwrap();
        Ok(match name {
            "last" => {
                arity(self, 0)?;
                match ctx.size {
                    Some(size) => Value::Number(size as f64),
                    None => return self.err(XPathError::InvalidCtxtSize),
                }
            }
            "position" => {
                arity(self, 0)?;
                match ctx.pos {
                    Some(pos) => Value::Number(pos as f64),
                    None => return self.err(XPathError::InvalidCtxtPosition),
                }
            }
            "count" => {
                arity(self, 1)?;
                Value::Number(self.node_set_arg(next())?.len() as f64)
            }
            "id" => {
                arity(self, 1)?;
                let v = next();
                let tokens: Vec<String> = match &v {
                    Value::NodeSet(s) => s.iter().map(|n| self.doc.string_value(*n)).collect(),
                    v => vec![self.string(v)],
                };
                let mut out = Vec::new();
                for t in &tokens {
                    for id in t.split(|c: char| c.is_ascii() && is_blank(c as u8)) {
                        if id.is_empty() {
                            continue;
                        }
                        out.extend(
                            self.doc
                                .nodes
                                .iter()
                                .filter(|n| {
                                    n.kind == NodeKind::Attribute
                                        && n.name == "id"
                                        && n.ns.as_deref() == Some(XML_NS)
                                        && n.value == id
                                })
                                .filter_map(|n| n.parent),
                        );
                    }
                }
                out.sort_unstable();
                out.dedup();
                Value::NodeSet(out)
            }
            "local-name" | "namespace-uri" | "name" => {
                let v = if n == 0 { context_set() } else { next() };
                if n > 1 {
                    return self.err(XPathError::InvalidArity);
                }
                let set = self.node_set_arg(v)?;
                let Some(&first) = set.first() else {
                    return Ok(Value::String(String::new()));
                };
                let node = &self.doc.nodes[first];
                Value::String(match (name, node.kind) {
                    ("namespace-uri", NodeKind::Element | NodeKind::Attribute) => {
                        node.ns.clone().unwrap_or_default()
                    }
                    ("namespace-uri", _) => String::new(),
                    ("name", NodeKind::Element | NodeKind::Attribute) => self.doc.name(first),
                    (
                        _,
                        NodeKind::Element
                        | NodeKind::Attribute
                        | NodeKind::ProcessingInstruction
                        | NodeKind::Namespace,
                    ) => node.name.clone(),
                    _ => String::new(),
                })
            }
            "string" => {
                if n == 0 {
                    return Ok(Value::String(self.doc.string_value(ctx.node)));
                }
                arity(self, 1)?;
                Value::String(self.string(&next()))
            }
            "string-length" => {
                if n == 0 {
                    return Ok(Value::Number(
                        self.doc.string_value(ctx.node).chars().count() as f64,
                    ));
                }
                arity(self, 1)?;
                Value::Number(self.string(&next()).chars().count() as f64)
            }
            "concat" => {
                if n < 2 {
                    return self.err(XPathError::InvalidArity);
                }
                let mut s = String::new();
                for _ in 0..n {
                    s.push_str(&self.string(&next()));
                }
                Value::String(s)
            }
            "contains" | "starts-with" | "substring-before" | "substring-after" => {
                arity(self, 2)?;
                let hay = self.string(&next());
                let needle = self.string(&next());
                match name {
                    "contains" => Value::Boolean(hay.contains(&needle)),
                    "starts-with" => Value::Boolean(hay.starts_with(&needle)),
                    "substring-before" => Value::String(
                        hay.find(&needle)
                            .map(|i| hay[..i].to_string())
                            .unwrap_or_default(),
                    ),
                    _ => Value::String(
                        hay.find(&needle)
                            .map(|i| hay[i + needle.len()..].to_string())
                            .unwrap_or_default(),
                    ),
                }
            }
            "substring" => {
                if !(2..=3).contains(&n) {
                    return self.err(XPathError::InvalidArity);
                }
                let s = self.string(&next());
                let start = self.number(&next());
                let len = if n == 3 {
                    Some(self.number(&next()))
                } else {
                    None
                };
                Value::String(substring(&s, start, len))
            }
            "normalize-space" => {
                let v = if n == 0 { context_set() } else { next() };
                if n > 1 {
                    return self.err(XPathError::InvalidArity);
                }
                let s = self.string(&v);
                let words: Vec<&str> = s
                    .split(|c: char| c.is_ascii() && is_blank(c as u8))
                    .filter(|w| !w.is_empty())
                    .collect();
                Value::String(words.join(" "))
            }
            "translate" => {
                arity(self, 3)?;
                let s = self.string(&next());
                let from: Vec<char> = self.string(&next()).chars().collect();
                let to: Vec<char> = self.string(&next()).chars().collect();
                Value::String(
                    s.chars()
                        .filter_map(|c| match from.iter().position(|f| *f == c) {
                            Some(i) => to.get(i).copied(),
                            None => Some(c),
                        })
                        .collect(),
                )
            }
            "boolean" => {
                arity(self, 1)?;
                Value::Boolean(next().boolean())
            }
            "not" => {
                arity(self, 1)?;
                Value::Boolean(!next().boolean())
            }
            "true" | "false" => {
                arity(self, 0)?;
                Value::Boolean(name == "true")
            }
            "lang" => {
                arity(self, 1)?;
                let want = self.string(&next());
                Value::Boolean(self.lang_matches(ctx.node, &want))
            }
            "number" => {
                if n == 0 {
                    return Ok(Value::Number(string_to_number(
                        &self.doc.string_value(ctx.node),
                    )));
                }
                arity(self, 1)?;
                Value::Number(self.number(&next()))
            }
            "sum" => {
                arity(self, 1)?;
                let set = self.node_set_arg(next())?;
                Value::Number(
                    set.iter()
                        .map(|n| string_to_number(&self.doc.string_value(*n)))
                        .sum(),
                )
            }
            "floor" | "ceiling" | "round" => {
                arity(self, 1)?;
                let x = self.number(&next());
                Value::Number(match name {
                    "floor" => x.floor(),
                    "ceiling" => x.ceil(),
                    _ => {
                        if (-0.5..0.5).contains(&x) {
                            x * 0.0
                        } else {
                            let r = x.floor();
                            if x - r >= 0.5 {
                                r + 1.0
                            } else {
                                r
                            }
                        }
                    }
                })
            }
            _ => {
                let _ = writeln!(self.diag, "xmlXPathCompOpEval: function {name} not found");
                return self.err(XPathError::UnknownFunc);
            }
        })
    }

    fn lang_matches(&self, mut id: NodeId, want: &str) -> bool {
        let lang = loop {
            let n = &self.doc.nodes[id];
            if n.kind == NodeKind::Element {
                if let Some(a) = n.attrs.iter().find(|a| {
                    let a = &self.doc.nodes[**a];
                    a.name == "lang" && a.ns.as_deref() == Some(XML_NS)
                }) {
                    break self.doc.nodes[*a].value.clone();
                }
            }
            match n.parent {
                Some(p) => id = p,
                None => return false,
            }
        };
        let (w, l) = (want.as_bytes(), lang.as_bytes());
        for (i, c) in w.iter().enumerate() {
            if l.get(i).map(|x| x.to_ascii_uppercase()) != Some(c.to_ascii_uppercase()) {
                return false;
            }
        }
        matches!(l.get(w.len()), None | Some(b'-'))
    }
}

/// XPath substring() with libxml2's rounding (the negated comparisons are NaN checks).
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn substring(s: &str, start: f64, len: Option<f64>) -> String {
    let round = |x: f64| {
        let r = x.floor();
        if x - r >= 0.5 {
            r + 1.0
        } else {
            r
        }
    };
    let imax = i32::MAX as f64;
    let mut i: i64 = 1;
    let mut j: i64 = i32::MAX as i64;
    if !(start < imax) {
        i = i32::MAX as i64;
    } else if start >= 1.0 {
        i = start as i64;
        if start - start.floor() >= 0.5 {
            i += 1;
        }
    }
    if let Some(le) = len {
        let end = round(start) + round(le);
        if !(end >= 1.0) {
            j = 1;
        } else if end < imax {
            j = end as i64;
        }
    }
    if i < j {
        s.chars()
            .skip((i - 1) as usize)
            .take((j - i) as usize)
            .collect()
    } else {
        String::new()
    }
}

impl Value {
    /// XPath boolean().
    pub fn boolean(&self) -> bool {
        match self {
            Value::NodeSet(s) => !s.is_empty(),
            Value::Boolean(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What `virsh -c test:///default dumpxml test` prints.
    const DOMAIN: &str = "<domain type='test' id='1'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
  </devices>
</domain>
";

    fn doc(xml: &str) -> Document {
        Document::parse(xml).unwrap()
    }

    fn eval(xml: &str, expr: &str) -> (Document, Evaluation) {
        let d = doc(xml);
        let ev = d.evaluate(d.root_element(), expr);
        (d, ev)
    }

    /// Each selected node as xmlNodeDump prints it; panics unless the result is a node-set.
    fn select(xml: &str, expr: &str) -> Vec<String> {
        let (d, ev) = eval(xml, expr);
        assert_eq!(ev.diagnostics, "", "{expr}");
        match ev.value {
            Some(Value::NodeSet(ns)) => ns
                .into_iter()
                .map(|n| d.dump(n).unwrap_or_else(|| "(null)".into()))
                .collect(),
            other => panic!("{expr}: {other:?}"),
        }
    }

    fn value(xml: &str, expr: &str) -> Value {
        let (_, ev) = eval(xml, expr);
        assert_eq!(ev.diagnostics, "", "{expr}");
        ev.value.unwrap_or_else(|| panic!("{expr} failed"))
    }

    fn string(expr: &str) -> String {
        match value(DOMAIN, expr) {
            Value::String(s) => s,
            other => panic!("{expr}: {other:?}"),
        }
    }

    fn diagnostics(expr: &str) -> String {
        let (_, ev) = eval(DOMAIN, expr);
        assert_eq!(ev.value, None, "{expr}");
        ev.diagnostics
    }

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

    #[test]
    fn location_paths() {
        assert_eq!(select(DOMAIN, "name"), ["<name>test</name>"]);
        assert_eq!(select(DOMAIN, "/domain/name"), ["<name>test</name>"]);
        assert_eq!(select(DOMAIN, "//boot"), ["<boot dev=\"hd\"/>"]);
        assert_eq!(select(DOMAIN, "os/boot/.."), select(DOMAIN, "//os"));
        assert_eq!(select(DOMAIN, "./name/text()"), ["test"]);
        assert_eq!(select(DOMAIN, "@*"), [" type=\"test\"", " id=\"1\""]);
        assert_eq!(select(DOMAIN, "@id"), [" id=\"1\""]);
        assert_eq!(
            select(DOMAIN, "devices/*/@type"),
            [" type=\"file\"", " type=\"network\""]
        );
        assert_eq!(select(DOMAIN, "//os/node()").len(), 2);
        assert_eq!(
            select(DOMAIN, "//os/*[1]"),
            ["<type arch=\"i686\">hvm</type>"]
        );
        assert_eq!(select(DOMAIN, "//address/@slot").len(), 2);
        assert_eq!(select(DOMAIN, "//devices//source").len(), 2);
        assert_eq!(select(DOMAIN, "child::*").len(), 7);
        assert_eq!(select(DOMAIN, "//nothing"), Vec::<String>::new());
    }

    #[test]
    fn predicates() {
        assert_eq!(
            select(DOMAIN, "devices/*[2]/mac/@address"),
            [" address=\"aa:bb:cc:dd:ee:ff\""]
        );
        assert_eq!(
            select(DOMAIN, "devices/*[last()]/@type"),
            [" type=\"network\""]
        );
        assert_eq!(select(DOMAIN, "*[position() > 5]").len(), 2);
        assert_eq!(
            select(DOMAIN, "//*[@type='pci'][@slot='0x01']/@bus"),
            [" bus=\"0x00\""]
        );
        assert_eq!(
            select(DOMAIN, "//disk[target/@dev='vda']/source/@file").len(),
            1
        );
        assert_eq!(select(DOMAIN, "//*[@dev='vda' or @dev='hd']").len(), 2);
        assert_eq!(select(DOMAIN, "//*[@bus and @slot]").len(), 2);
        assert_eq!(select(DOMAIN, "//*[not(@*)][not(*)]").len(), 3);
        assert_eq!(select(DOMAIN, "//memory[. > 8000000]").len(), 1);
        assert_eq!(select(DOMAIN, "//memory[. < 8000000]").len(), 0);
        assert_eq!(select(DOMAIN, "//vcpu[. = 2]").len(), 1);
        assert_eq!(select(DOMAIN, "//vcpu[. != '2']").len(), 0);
        assert_eq!(select(DOMAIN, "//*[contains(name(), 'on_')]").len(), 1);
        assert_eq!(select(DOMAIN, "//*[starts-with(@address, 'aa:')]").len(), 1);
        // <os> and <type>: blank text between elements is gone.
        assert_eq!(select(DOMAIN, "//*[normalize-space() = 'hvm']").len(), 2);
        assert_eq!(select(DOMAIN, "//*[count(*) = 3]").len(), 2);
        assert_eq!(select(DOMAIN, "//*[local-name() = 'uuid']").len(), 1);
        assert_eq!(select(DOMAIN, "(//address)[2]/@slot"), [" slot=\"0x01\""]);
        assert_eq!(
            select(DOMAIN, "(//address)[last()]/@slot"),
            [" slot=\"0x01\""]
        );
    }

    #[test]
    fn reverse_axes_count_from_the_context_node() {
        assert_eq!(
            select(DOMAIN, "//boot/ancestor::*[1]"),
            select(DOMAIN, "//os")
        );
        assert_eq!(
            select(DOMAIN, "//boot/ancestor::*[last()]"),
            select(DOMAIN, "/domain")
        );
        assert_eq!(
            select(DOMAIN, "//boot/preceding-sibling::*[1]/@arch"),
            [" arch=\"i686\""]
        );
        assert_eq!(
            select(DOMAIN, "//on_crash/preceding::*[1]"),
            select(DOMAIN, "//boot")
        );
        assert_eq!(
            select(DOMAIN, "//os/following::*[1]"),
            select(DOMAIN, "//on_crash")
        );
        // libxml2: an attribute's following axis starts after its element.
        assert_eq!(
            select(DOMAIN, "//disk/@type/following::*[1]"),
            select(DOMAIN, "//interface")
        );
    }

    #[test]
    fn unions_are_in_document_order_without_duplicates() {
        let got = select(DOMAIN, "//uuid | //name | //name/text() | //name");
        assert_eq!(
            got,
            [
                "<name>test</name>",
                "test",
                "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
            ]
        );
    }

    #[test]
    fn functions() {
        assert_eq!(value(DOMAIN, "count(//address)"), Value::Number(2.0));
        assert_eq!(
            value(DOMAIN, "sum(//vcpu | //memory)"),
            Value::Number(8388610.0)
        );
        // "0x0" is not a number.
        assert!(
            matches!(value(DOMAIN, "sum(//address/@function)"), Value::Number(n) if n.is_nan())
        );
        assert_eq!(string("string(//name)"), "test");
        assert_eq!(string("concat(name, '-', vcpu)"), "test-2");
        assert_eq!(string("name(//@type)"), "type");
        assert_eq!(string("local-name()"), "domain");
        assert_eq!(string("namespace-uri()"), "");
        assert_eq!(string("substring-before(//mac/@address, ':')"), "aa");
        assert_eq!(string("substring-after(//mac/@address, 'ee:')"), "ff");
        assert_eq!(string("substring('12345', 1.5, 2.6)"), "234");
        assert_eq!(string("substring('12345', 0, 3)"), "12");
        assert_eq!(string("substring('12345', -42, 1 div 0)"), "12345");
        assert_eq!(string("substring('héllo', 2, 3)"), "éll");
        assert_eq!(string("translate('--aaa--', 'abc-', 'ABC')"), "AAA");
        assert_eq!(string("normalize-space('  a   b  c  ')"), "a b c");
        assert_eq!(value(DOMAIN, "string-length('héllo')"), Value::Number(5.0));
        assert_eq!(value(DOMAIN, "boolean(//disk)"), Value::Boolean(true));
        assert_eq!(value(DOMAIN, "not(//nothing)"), Value::Boolean(true));
        assert_eq!(value(DOMAIN, "round(-2.5)"), Value::Number(-2.0));
        assert_eq!(value(DOMAIN, "number(' -12.5e1 ')"), Value::Number(-125.0));
        assert_eq!(value(DOMAIN, "5 mod -3"), Value::Number(2.0));
        assert_eq!(value(DOMAIN, "1 = '1.0'"), Value::Boolean(true));
        assert_eq!(value(DOMAIN, "//vcpu = //vcpu"), Value::Boolean(true));
        assert_eq!(value(DOMAIN, "//nothing != //vcpu"), Value::Boolean(false));
    }

    #[test]
    fn numbers_format_as_libxml2() {
        for (n, s) in [
            (1.0 / 3.0, "0.333333333333333"),
            (2.0 / 3.0, "0.666666666666667"),
            (0.1 + 0.2, "0.3"),
            (1e10, "1e+10"),
            (1e9, "1000000000"),
            (1000000001.5, "1.0000000015e+09"),
            (0.00001, "0.00001"),
            (0.000001, "1e-06"),
            (-123.456, "-123.456"),
            (2147483648.0, "2.147483648e+09"),
            (-0.0, "0"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (0.0000012345, "1.2345e-06"),
        ] {
            assert_eq!(format_number(n), s, "{n}");
        }
    }

    #[test]
    fn position_and_size_are_unknown_outside_predicates() {
        assert_eq!(
            diagnostics("position()"),
            "XPath error : Invalid context position\n"
        );
        assert_eq!(
            diagnostics("last()"),
            "XPath error : Invalid context size\n"
        );
    }

    #[test]
    fn syntax_errors_are_reported_as_libxml2_does() {
        assert_eq!(
            diagnostics("//disk[@type=]"),
            "XPath error : Invalid expression\n//disk[@type=]\n             ^\n"
        );
        // At the end of the expression there is no caret.
        assert_eq!(diagnostics("//disk["), "XPath error : Invalid expression\n");
        assert_eq!(diagnostics("//name[1"), "XPath error : Invalid predicate\n");
        assert_eq!(
            diagnostics("//name]"),
            "XPath error : Invalid expression\n//name]\n      ^\n"
        );
        // libxml2 goes on after the first error here and reports twice.
        assert_eq!(
            diagnostics("a[["),
            "XPath error : Invalid expression\na[[\n  ^\nXPath error : Invalid expression\n"
        );
        assert_eq!(diagnostics("'abc"), "XPath error : Unfinished literal\n");
        assert_eq!(diagnostics("$x"), "XPath error : Undefined variable\n");
        assert_eq!(
            diagnostics("//app:x"),
            "XPath error : Undefined namespace prefix\n"
        );
        assert_eq!(
            diagnostics("//name[foo()]"),
            "xmlXPathCompOpEval: function foo not found\nXPath error : Unregistered function\n"
        );
        assert_eq!(
            diagnostics("//disk[foo:bar()]"),
            "xmlXPathCompOpEval: function bar bound to undefined prefix foo\n"
        );
        assert_eq!(
            diagnostics("count()"),
            "XPath error : Invalid number of arguments\n"
        );
        assert_eq!(
            diagnostics("//name[sum(1)]"),
            "XPath error : Invalid type\n"
        );
        // The caret counts bytes and is left out from column 100 on.
        let long = format!("{}]", "/n".repeat(60));
        assert_eq!(diagnostics(&long), "XPath error : Invalid expression\n");
    }

    #[test]
    fn libxml2_compiler_quirks() {
        // A function call may lack its ')' at the very end, after '(' or ','.
        assert_eq!(value(DOMAIN, "count(//address,"), Value::Number(2.0));
        assert_eq!(
            string("string("),
            "test6695eb01-f6a4-8304-79aa-97f2502e193f8388608\
                                      2hvmdestroy"
        );
        assert_eq!(
            diagnostics("count("),
            "XPath error : Invalid number of arguments\n"
        );
        assert_eq!(
            diagnostics("count(//address"),
            "XPath error : Invalid expression\n"
        );
        // Expressions without '[', '(', '@' or ':' go through the pattern compiler first,
        // which ignores a trailing '|' and never selects the context node below it.
        assert_eq!(select(DOMAIN, "name|"), ["<name>test</name>"]);
        assert_eq!(select(DOMAIN, ".//.")[0], "<name>test</name>");
        assert_eq!(select(DOMAIN, "self::node()//.")[0], select(DOMAIN, ".")[0]);
        let (_, ev) = eval(DOMAIN, "name[1]|");
        assert_eq!(
            (ev.value, ev.diagnostics.as_str()),
            (None, "XPath error : Invalid expression\n")
        );
        // (...)[1] on a non-node-set passes the value through instead of failing.
        assert_eq!(value(DOMAIN, "(1+1)[1]"), Value::Number(2.0));
        let (_, ev) = eval(DOMAIN, "(1)[1]");
        assert_eq!(ev.diagnostics, "XPath error : Invalid type\n");
    }

    #[test]
    fn deep_expressions_hit_libxml2_limits_not_the_stack() {
        let nested = format!("{}name{}", "(".repeat(499), ")".repeat(499));
        assert_eq!(select(DOMAIN, &nested), ["<name>test</name>"]);
        let too_deep = format!("{}name{}", "(".repeat(500), ")".repeat(500));
        let (_, ev) = eval(DOMAIN, &too_deep);
        assert_eq!(ev.diagnostics, "XPath error : Recursion limit exceeded\n");
        let long_path = format!("/domain{}", "/n".repeat(20000));
        assert!(select(DOMAIN, &long_path).is_empty());
        let long_union = vec!["n[1]"; 6000].join("|");
        let (_, ev) = eval(DOMAIN, &long_union);
        assert_eq!(ev.diagnostics, "XPath error : Recursion limit exceeded\n");
    }

    #[test]
    fn namespaces() {
        let xml = "<r xmlns:a='urn:a'><a:x a:k='1' k='2'>t</a:x><y xmlns='urn:d'><z/></y></r>";
        assert_eq!(select(xml, "//x"), Vec::<String>::new());
        assert_eq!(
            select(xml, "//*[local-name()='x']"),
            ["<a:x a:k=\"1\" k=\"2\">t</a:x>"]
        );
        assert_eq!(select(xml, "//*[local-name()='x']/@k"), [" k=\"2\""]);
        assert_eq!(
            select(xml, "//*[name()='a:x']/@*[name()='a:k']"),
            [" a:k=\"1\""]
        );
        assert_eq!(select(xml, "//*[namespace-uri()='urn:d']").len(), 2);
        assert_eq!(
            select(xml, "*[2]/namespace::*"),
            ["(null)", "(null)", "(null)"]
        );
    }

    #[test]
    fn dump_formats_like_xml_node_dump() {
        let d = doc("<a x='&lt;é&#10;&quot;'><b>t &amp; \"é\"</b><c><d/></c><e>mixed<f><g/></f></e><h><!--c--><?pi data?></h></a>");
        let a = d.root_element();
        assert_eq!(
            d.dump(a).unwrap(),
            "<a x=\"&lt;&#xE9;&#10;&quot;\">\n  <b>t &amp; \"é\"</b>\n  <c>\n    <d/>\n  </c>\n  <e>mixed<f><g/></f></e>\n  <h>\n    <!--c-->\n    <?pi data?>\n  </h>\n</a>"
        );
        assert_eq!(d.dump_format(a, false).unwrap().lines().count(), 1);
        // A document node: the declaration, and non-ASCII attribute values left alone.
        assert_eq!(
            d.dump(d.document_node())
                .unwrap()
                .lines()
                .take(2)
                .collect::<Vec<_>>(),
            [
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<a x=\"&lt;é&#10;&quot;\">"
            ]
        );
    }

    #[test]
    fn wrapped_copies_are_reconciled() {
        let xml = "<r xmlns:a='urn:a'><m xmlns='urn:d'><a:x a:k='1'>t<o/></a:x></m><p q='1'/><p q='2' s='3'/></r>";
        let d = doc(xml);
        let ev = d.evaluate(
            d.root_element(),
            "//*[local-name()='x'] | //*[local-name()='o']",
        );
        let Some(Value::NodeSet(ns)) = ev.value else {
            panic!()
        };
        assert_eq!(
            d.dump_wrapped(&ns),
            "<nodes>\n  <a:x xmlns:a=\"urn:a\" xmlns=\"urn:d\" a:k=\"1\">t<o/></a:x>\n  <o xmlns=\"urn:d\"/>\n</nodes>"
        );
        // Attributes land on <nodes>, a later one of the same name replacing an earlier one.
        let ev = d.evaluate(d.root_element(), "//p/@*");
        let Some(Value::NodeSet(ns)) = ev.value else {
            panic!()
        };
        assert_eq!(d.dump_wrapped(&ns), "<nodes q=\"2\" s=\"3\"/>");
        // Adjacent text nodes merge.
        let ev = d.evaluate(d.root_element(), "//text() | //text()");
        let Some(Value::NodeSet(ns)) = ev.value else {
            panic!()
        };
        assert_eq!(d.dump_wrapped(&ns), "<nodes>t</nodes>");
        assert_eq!(d.dump_wrapped(&[]), "<nodes/>");
    }

    #[test]
    fn string_to_number_follows_libxml2() {
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number("-.5"), -0.5);
        assert_eq!(string_to_number("1e3"), 1000.0);
        assert!(string_to_number("+5").is_nan());
        assert!(string_to_number("").is_nan());
        assert!(string_to_number("4 2").is_nan());
    }
}
