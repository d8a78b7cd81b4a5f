//! The XPath 1.0 core function library, as libxml2 implements it (argument checks, rounding,
//! its error reports for unknown functions and prefixes).

use super::ast::Expr;
use super::diagnostics::XPathError;
use super::eval::{Ctx, Evaluator, R};
use super::parser::is_blank;
use super::value::{string_to_number, Value};
use super::{NodeId, NodeKind, XML_NS};
use std::fmt::Write as _;

impl Evaluator<'_> {
    fn node_set_arg(&mut self, v: Value) -> R<Vec<NodeId>> {
        match v {
            Value::NodeSet(s) => Ok(s),
            _ => self.err(XPathError::InvalidType),
        }
    }

    pub(super) fn call(
        &mut self,
        prefix: Option<&str>,
        name: &str,
        args: &[Expr],
        ctx: Ctx,
    ) -> R<Value> {
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

#[cfg(test)]
mod tests {
    use crate::xpath::test_support::{string, value, DOMAIN};
    use crate::xpath::Value;

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
}
