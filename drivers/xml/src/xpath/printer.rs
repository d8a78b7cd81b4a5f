//! Serialisation as libxml2's xmlsave.c does it: `xmlNodeDump(..., format)` for the nodes virsh
//! prints, and the `xmlDocCopyNode` + `xmlAddChild` copies `--wrap` gathers under `<nodes>`.
//! The escaping helpers are shared with the other models that keep libxml2-formatted content.

use super::{Document, NodeId, NodeKind, XML_NS};

/// `xmlNodeDump(buf, doc, node, 0, format)`; None where libxml2 writes nothing (namespace nodes).
pub(super) fn dump(doc: &Document, id: NodeId, format: bool) -> Option<String> {
    let out = doc.to_out(id)?;
    let mut s = Serializer {
        unformatted: !format,
        ..Default::default()
    };
    s.node(&out, true);
    Some(s.out)
}

/// `virsh --xpath ... --wrap`: copies of the nodes added to a new `<nodes>` element, dumped.
pub(super) fn dump_wrapped(doc: &Document, ids: &[NodeId]) -> String {
    let mut root = OElem {
        qname: "nodes".into(),
        ..Default::default()
    };
    for &id in ids {
        match doc.nodes[id].kind {
            // xmlAddChild refuses a copied namespace node (virsh itself crashes there).
            NodeKind::Namespace => {}
            NodeKind::Attribute => {
                // The copy has no parent, so it loses its namespace; xmlAddChild replaces
                // an attribute of the same name and appends.
                let a = OAttr {
                    qname: doc.nodes[id].name.clone(),
                    value: doc.nodes[id].value.clone(),
                };
                root.attrs.retain(|x| x.qname != a.qname);
                root.attrs.push(a);
            }
            NodeKind::Text => {
                let v = &doc.nodes[id].value;
                if let Some(Out::Text(last)) = root.children.last_mut() {
                    last.push_str(v);
                } else {
                    root.children.push(Out::Text(v.clone()));
                }
            }
            NodeKind::Element => {
                let mut copier = Copier {
                    doc,
                    scope: Vec::new(),
                    top_extra: Vec::new(),
                };
                let mut el = copier.element(id);
                el.ns_defs.extend(copier.top_extra);
                root.children.push(Out::Elem(el));
            }
            kind => {
                if let Some(mut o) = doc.to_out(id) {
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

impl Document {
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
            Out::Text(t) => crate::writer::escape_libxml2_text(&mut self.out, t),
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
        crate::writer::escape_libxml2_attr(&mut self.out, &a.value, self.in_doc == 0);
        self.out.push('"');
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

#[cfg(test)]
mod tests {
    use crate::xpath::test_support::doc;
    use crate::xpath::Value;

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
}
