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
//! The tree is a small arena ([`Document`], built by `parser`; not [`crate::dom`], which merges
//! text), because XPath needs text nodes, their order, attribute and namespace nodes and
//! document order.
//!
//! Layout: `parser` builds the tree; `lexer` and `compiler` turn an expression into the syntax
//! tree of `ast` (or `pattern` takes libxml2's streaming shortcut); `eval` walks it, with the
//! XPath function library in `functions` and the value conversions in `value`; `diagnostics`
//! words errors as libxml2 does; `printer` serialises nodes as `xmlNodeDump` does.

#![allow(clippy::result_large_err)]

mod ast;
mod compiler;
mod diagnostics;
mod eval;
mod functions;
mod lexer;
mod parser;
mod pattern;
pub(crate) mod printer;
#[cfg(test)]
mod test_support;
mod value;

pub use diagnostics::XPathError;
pub use value::{format_number, Value};

use crate::error::XmlError;

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

impl Document {
    /// Parse XML as libvirt's `virXMLParse` does for virsh (`XML_PARSE_NOBLANKS`): white space
    /// between elements is not kept, white space that is an element's only content is.
    pub fn parse(text: &str) -> Result<Document, XmlError> {
        parser::parse(text)
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
        eval::evaluate(self, context, expr)
    }

    /// A node as `xmlNodeDump(buf, doc, node, 0, 1)` writes it; None where libxml2 writes
    /// nothing (namespace nodes, which virsh then prints as "(null)").
    pub fn dump(&self, id: NodeId) -> Option<String> {
        self.dump_format(id, true)
    }

    /// `xmlNodeDump(buf, doc, node, 0, format)`: with `format` false nothing is re-indented.
    pub fn dump_format(&self, id: NodeId, format: bool) -> Option<String> {
        printer::dump(self, id, format)
    }

    /// What `virsh --xpath ... --wrap` prints (without the final newline): copies of the nodes
    /// added to a new `<nodes>` element (`xmlDocCopyNode` + `xmlAddChild`), then dumped.
    pub fn dump_wrapped(&self, ids: &[NodeId]) -> String {
        printer::dump_wrapped(self, ids)
    }
}

/// What `xmlXPathEval` gives: the value, or None when evaluation failed; and what libxml2
/// printed on stderr meanwhile (its error reports, each line newline-terminated).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub value: Option<Value>,
    pub diagnostics: String,
}
