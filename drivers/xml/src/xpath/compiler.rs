//! The XPath compiler: a transcription of xpath.c's recursive descent, including where it does
//! and does not stop after an error, so that error reports match; and xmlXPathEvalExpr's choice
//! between it and the streaming pattern compiler.

use super::ast::{add_step, descendant_or_self, Arith, Axis, Expr, NodeTest, NodeType, Step};
use super::diagnostics::{report, XPathError};
use super::parser::is_blank;
use super::pattern::stream_segments;

pub(super) struct Compiler<'a> {
    pub(super) s: &'a str,
    pub(super) b: &'a [u8],
    pub(super) cur: usize,
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

    fn failed(&self) -> bool {
        self.error.is_some()
    }

    pub(super) fn err(&mut self, e: XPathError) -> Expr {
        report(&mut self.diag, e, self.s, self.cur);
        self.error = Some(e);
        Expr::Error
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

/// How xmlXPathEvalExpr compiles: a pattern (streaming) compile first when the expression
/// has no '[', '(', '@' or ':', else the XPath compiler, which must consume everything.
pub(super) enum Compiled {
    Xpath(Expr),
    /// The segments of a streamable pattern: (expression, starts at the root, is just ".").
    Stream(Vec<(Expr, bool, bool)>),
}

pub(super) fn compile(expr: &str) -> (Option<Compiled>, String) {
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

#[cfg(test)]
mod tests {
    use crate::xpath::test_support::{diagnostics, eval, select, string, value, DOMAIN};
    use crate::xpath::Value;

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
}
