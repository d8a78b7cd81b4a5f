//! A parser for the subset of the rpcgen language that libvirt's `.x` files use: `const`,
//! `typedef`, `struct`, `enum`, `union ... switch`, declarations with `[N]`, `<N>`, `<>` and
//! `*`, `%` pass-through lines and C comments. `program` blocks do not occur in libvirt (its
//! RPC layer is its own, not ONC RPC) and are refused, as is anything else unknown, with the
//! file and line, so a new construct in a future libvirt is noticed rather than mis-generated.

use crate::GenError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num { value: i64, text: String },
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeSpec {
    Int,
    UInt,
    Hyper,
    UHyper,
    Char,
    UChar,
    Short,
    UShort,
    Float,
    Double,
    Bool,
    Opaque,
    String,
    Named(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeclKind {
    Plain,
    Fixed(Value),
    /// `<N>`, or `<>` (None).
    Variable(Option<Value>),
    Optional,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    Void,
    Field {
        ty: TypeSpec,
        name: String,
        kind: DeclKind,
    },
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub name: String,
    pub value: Value,
    /// The `/** ... */` comment before it (procedure annotations such as `@readstream`).
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UnionArm {
    pub labels: Vec<Value>,
    pub decl: Decl,
}

#[derive(Debug, Clone)]
pub enum Definition {
    Const {
        name: String,
        value: Value,
    },
    Typedef(Decl),
    Struct {
        name: String,
        fields: Vec<Decl>,
    },
    Enum {
        name: String,
        values: Vec<EnumValue>,
    },
    Union {
        name: String,
        discriminant: Decl,
        arms: Vec<UnionArm>,
        default: Option<Decl>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(i64, String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    comment: Option<String>,
}

fn lex(file: &str, src: &str) -> Result<Vec<Token>, GenError> {
    let err = |line: usize, msg: String| GenError::Parse {
        file: file.to_string(),
        line,
        msg,
    };
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut comment: Option<String> = None;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // `%...` lines go to rpcgen's C output verbatim; `#` lines are cpp's.
        if line_start && (c == b'%' || c == b'#') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        line_start = false;
        if b[i..].starts_with(b"/*") {
            let start = i + 2;
            let end = src[start..]
                .find("*/")
                .map(|e| start + e)
                .ok_or_else(|| err(line, "unterminated comment".into()))?;
            let text = &src[start..end];
            line += text.matches('\n').count();
            comment = Some(text.to_string());
            i = end + 2;
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let text = &src[start..i];
            let (neg, digits) = match text.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, text),
            };
            let parsed = match digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0X"))
            {
                Some(hex) => i64::from_str_radix(hex, 16),
                None if digits.len() > 1 && digits.starts_with('0') => {
                    i64::from_str_radix(&digits[1..], 8)
                }
                None => digits.parse(),
            }
            .map_err(|_| err(line, format!("bad number {text}")))?;
            Tok::Num(if neg { -parsed } else { parsed }, text.to_string())
        } else if b"{}()[]<>;,=*:".contains(&c) {
            i += 1;
            Tok::Punct(c as char)
        } else {
            return Err(err(line, format!("unexpected character {:?}", c as char)));
        };
        out.push(Token {
            tok,
            line,
            comment: comment.take(),
        });
    }
    Ok(out)
}

struct Parser<'a> {
    file: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn error(&self, msg: impl Into<String>) -> GenError {
        GenError::Parse {
            file: self.file.to_string(),
            line: self.line(),
            msg: msg.into(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn next(&mut self) -> Result<Token, GenError> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| self.error("unexpected end of file"))?;
        self.pos += 1;
        Ok(t)
    }

    fn punct(&mut self, p: char) -> Result<(), GenError> {
        match self.next()?.tok {
            Tok::Punct(c) if c == p => Ok(()),
            other => Err(self.error(format!("expected '{p}', found {other:?}"))),
        }
    }

    fn is_punct(&self, p: char) -> bool {
        self.peek() == Some(&Tok::Punct(p))
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == w)
    }

    fn ident(&mut self) -> Result<String, GenError> {
        match self.next()?.tok {
            Tok::Ident(s) => Ok(s),
            other => Err(self.error(format!("expected a name, found {other:?}"))),
        }
    }

    fn value(&mut self) -> Result<Value, GenError> {
        match self.next()?.tok {
            Tok::Ident(s) => Ok(Value::Name(s)),
            Tok::Num(value, text) => Ok(Value::Num { value, text }),
            other => Err(self.error(format!("expected a value, found {other:?}"))),
        }
    }

    fn type_spec(&mut self) -> Result<TypeSpec, GenError> {
        let word = self.ident()?;
        Ok(match word.as_str() {
            "unsigned" => {
                let sub = match self.peek() {
                    Some(Tok::Ident(s)) if ["int", "hyper", "char", "short"].contains(&&**s) => {
                        self.ident()?
                    }
                    _ => "int".to_string(),
                };
                match sub.as_str() {
                    "hyper" => TypeSpec::UHyper,
                    "char" => TypeSpec::UChar,
                    "short" => TypeSpec::UShort,
                    _ => TypeSpec::UInt,
                }
            }
            "int" => TypeSpec::Int,
            "hyper" => TypeSpec::Hyper,
            "char" => TypeSpec::Char,
            "short" => TypeSpec::Short,
            "float" => TypeSpec::Float,
            "double" => TypeSpec::Double,
            "bool" => TypeSpec::Bool,
            "opaque" => TypeSpec::Opaque,
            "string" => TypeSpec::String,
            "struct" | "enum" | "union" => TypeSpec::Named(self.ident()?),
            "long" | "quadruple" => {
                return Err(self.error(format!("type '{word}' is not supported")));
            }
            _ => TypeSpec::Named(word),
        })
    }

    fn decl(&mut self) -> Result<Decl, GenError> {
        if self.is_word("void") {
            self.pos += 1;
            return Ok(Decl::Void);
        }
        let ty = self.type_spec()?;
        if self.is_punct('*') {
            self.pos += 1;
            let name = self.ident()?;
            return Ok(Decl::Field {
                ty,
                name,
                kind: DeclKind::Optional,
            });
        }
        let name = self.ident()?;
        let kind = if self.is_punct('[') {
            self.pos += 1;
            let v = self.value()?;
            self.punct(']')?;
            DeclKind::Fixed(v)
        } else if self.is_punct('<') {
            self.pos += 1;
            let v = if self.is_punct('>') {
                None
            } else {
                Some(self.value()?)
            };
            self.punct('>')?;
            DeclKind::Variable(v)
        } else {
            DeclKind::Plain
        };
        Ok(Decl::Field { ty, name, kind })
    }

    fn definition(&mut self) -> Result<Definition, GenError> {
        let word = self.ident()?;
        let def = match word.as_str() {
            "const" => {
                let name = self.ident()?;
                self.punct('=')?;
                let value = self.value()?;
                Definition::Const { name, value }
            }
            "typedef" => Definition::Typedef(self.decl()?),
            "struct" => {
                let name = self.ident()?;
                self.punct('{')?;
                let mut fields = Vec::new();
                while !self.is_punct('}') {
                    fields.push(self.decl()?);
                    self.punct(';')?;
                }
                self.punct('}')?;
                Definition::Struct { name, fields }
            }
            "enum" => {
                let name = self.ident()?;
                self.punct('{')?;
                let mut values = Vec::new();
                loop {
                    let tok = self.next()?;
                    let Tok::Ident(vname) = tok.tok else {
                        return Err(self.error("expected an enum value name"));
                    };
                    self.punct('=')?;
                    let value = self.value()?;
                    values.push(EnumValue {
                        name: vname,
                        value,
                        comment: tok.comment,
                    });
                    if self.is_punct(',') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                self.punct('}')?;
                Definition::Enum { name, values }
            }
            "union" => self.union()?,
            other => return Err(self.error(format!("unsupported definition '{other}'"))),
        };
        self.punct(';')?;
        Ok(def)
    }

    fn union(&mut self) -> Result<Definition, GenError> {
        let name = self.ident()?;
        if self.ident()? != "switch" {
            return Err(self.error("expected 'switch'"));
        }
        self.punct('(')?;
        let discriminant = self.decl()?;
        self.punct(')')?;
        self.punct('{')?;
        let mut arms = Vec::new();
        let mut default = None;
        while !self.is_punct('}') {
            if self.is_word("default") {
                self.pos += 1;
                self.punct(':')?;
                default = Some(self.decl()?);
                self.punct(';')?;
                continue;
            }
            let mut labels = Vec::new();
            while self.is_word("case") {
                self.pos += 1;
                labels.push(self.value()?);
                self.punct(':')?;
            }
            if labels.is_empty() {
                return Err(self.error("expected 'case' or 'default'"));
            }
            let decl = self.decl()?;
            self.punct(';')?;
            arms.push(UnionArm { labels, decl });
        }
        self.punct('}')?;
        Ok(Definition::Union {
            name,
            discriminant,
            arms,
            default,
        })
    }
}

/// Parses one `.x` file.
pub fn parse(file: &str, src: &str) -> Result<Vec<Definition>, GenError> {
    let toks = lex(file, src)?;
    let mut p = Parser { file, toks, pos: 0 };
    let mut defs = Vec::new();
    while p.peek().is_some() {
        defs.push(p.definition()?);
    }
    Ok(defs)
}

/// The leading comment of a `.x` file (its copyright and licence), without the `*` margins.
pub fn header_comment(src: &str) -> Vec<String> {
    let trimmed = src.trim_start();
    let Some(body) = trimmed.strip_prefix("/*") else {
        return Vec::new();
    };
    let Some(end) = body.find("*/") else {
        return Vec::new();
    };
    let lines: Vec<String> = body[..end]
        .lines()
        .map(|l| {
            let l = l.trim();
            let l = l.strip_prefix('*').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).trim_end().to_string()
        })
        .collect();
    // Drop the "-*- c -*-" marker line and blank edges.
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| l.replace("-*- c -*-", "").trim().to_string())
        .collect();
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_construct() {
        let src = r#"
/* header */
%#include "x.h"
const A = 0x10;
const B = A;
typedef string s<A>;
typedef s *os;
typedef opaque u[16];
struct st { unsigned hyper x; char m[32]; os name; int v<>; unsigned n; };
enum e { E_A = 0, /** @readstream: 1 */ E_B = 2 };
union un switch (int t) { case 1: int i; case E_B: void; default: void; };
"#;
        let defs = parse("t.x", src).unwrap();
        assert_eq!(defs.len(), 8);
        match &defs[5] {
            Definition::Struct { fields, .. } => {
                assert_eq!(fields.len(), 5);
                assert!(matches!(
                    &fields[4],
                    Decl::Field {
                        ty: TypeSpec::UInt,
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
        match &defs[6] {
            Definition::Enum { values, .. } => {
                assert!(values[1]
                    .comment
                    .as_deref()
                    .unwrap()
                    .contains("@readstream"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &defs[7],
            Definition::Union {
                default: Some(Decl::Void),
                ..
            }
        ));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("t.x", "const A = 1;\nprogram P { };").unwrap_err();
        assert!(e.to_string().contains("t.x:2"), "{e}");
    }
}
