//! libxml2's streaming shortcut: xmlPatterncompile(XML_PATTERN_XPATH) and xmlStreamCompile,
//! reduced to the question xmlXPathEvalExpr asks before it compiles an expression.

use super::lexer::{is_name_char, is_name_start};
use super::parser::is_blank;

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
pub(super) fn stream_segments(expr: &str) -> Option<Vec<(&str, bool, bool)>> {
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
