//! XPath evaluation over a [`Document`], with libxml2's semantics where they differ from the
//! specification (axes from attribute nodes, the `(...)[1]` shortcut, recursion limits).

use super::ast::{Arith, Axis, Expr, NodeTest, NodeType, Step};
use super::compiler::{compile, Compiled};
use super::diagnostics::{report, XPathError};
use super::value::{format_number, string_to_number, Value};
use super::{Document, Evaluation, NodeId, NodeKind, XML_NS};
use std::fmt::Write as _;

/// The evaluation context. Position and size are only known inside predicates: at the top
/// xmlXPathNewContext leaves them at -1 and `position()`/`last()` fail there.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) node: NodeId,
    pub(super) pos: Option<usize>,
    pub(super) size: Option<usize>,
}

pub(super) struct Evaluator<'a> {
    pub(super) doc: &'a Document,
    pub(super) diag: String,
    expr_len: usize,
    expr: &'a str,
    depth: usize,
    /// libxml2's recursion limit (not hit by its streaming evaluation).
    limit: bool,
}

pub(super) type R<T> = Result<T, ()>;

/// Stack for one evaluation. libxml2 lets an expression nest 500 sub-expressions deep and
/// evaluation recurse 5000 operations deep (`a|a|a|...`, `1+1+1...`); that is more than the
/// 2 MiB of a test thread, so compile and evaluate on a thread of their own. The memory is
/// only reserved; what a normal expression touches is a few pages.
const EVAL_STACK: usize = 64 << 20;

pub(super) fn evaluate(doc: &Document, context: NodeId, expr: &str) -> Evaluation {
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
    pub(super) fn err<T>(&mut self, e: XPathError) -> R<T> {
        report(&mut self.diag, e, self.expr, self.expr_len);
        Err(())
    }

    pub(super) fn eval(&mut self, e: &Expr, ctx: Ctx) -> R<Value> {
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

    pub(super) fn string(&self, v: &Value) -> String {
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

    pub(super) fn number(&self, v: &Value) -> f64 {
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
}

#[cfg(test)]
mod tests {
    use crate::xpath::test_support::{diagnostics, select, DOMAIN};

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
}
