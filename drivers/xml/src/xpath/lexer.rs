//! The character level of the XPath compiler: the cursor, names (xmlXPathParseNCName,
//! xmlXPathParseQName, xmlXPathScanName), number and string literals.

use super::ast::Expr;
use super::compiler::Compiler;
use super::diagnostics::XPathError;
use super::parser::is_blank;
use super::value::{parse_digits, parse_fraction};

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '-' | '_')
        || (!c.is_ascii()
            && (c.is_alphanumeric()
                || matches!(c as u32, 0xB7 | 0x2D0 | 0x2D1 | 0x387 | 0x640 | 0xE46 | 0xEC6 | 0x3005
                    | 0x3031..=0x3035 | 0x309D..=0x309E | 0x30FC..=0x30FE
                    | 0x300..=0x36F | 0x483..=0x486 | 0x591..=0x5C4 | 0x64B..=0x652
                    | 0x20D0..=0x20E1 | 0x302A..=0x302F | 0x3099..=0x309A)))
}

impl<'a> Compiler<'a> {
    pub(super) fn c(&self) -> u8 {
        *self.b.get(self.cur).unwrap_or(&0)
    }

    pub(super) fn nxt(&self, n: usize) -> u8 {
        *self.b.get(self.cur + n).unwrap_or(&0)
    }

    pub(super) fn next(&mut self) {
        if self.cur < self.b.len() {
            self.cur += 1;
        }
    }

    pub(super) fn skip(&mut self, n: usize) {
        self.cur = (self.cur + n).min(self.b.len());
    }

    pub(super) fn skip_blanks(&mut self) {
        while is_blank(self.c()) {
            self.cur += 1;
        }
    }

    pub(super) fn char_at(&self, pos: usize) -> Option<char> {
        self.s.get(pos..).and_then(|r| r.chars().next())
    }

    /// xmlXPathParseNCName.
    pub(super) fn ncname(&mut self) -> Option<String> {
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
    pub(super) fn qname(&mut self) -> (Option<String>, Option<String>) {
        let name = self.ncname();
        if name.is_some() && self.c() == b':' {
            self.next();
            let local = self.ncname();
            return (name, local);
        }
        (None, name)
    }

    /// xmlXPathScanName: look ahead at a name (':' included) without consuming it.
    pub(super) fn scan_name(&self) -> Option<&'a str> {
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

    pub(super) fn number(&mut self) -> Expr {
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
    pub(super) fn parse_literal(&mut self) -> Option<String> {
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
}
