//! Rust source from parsed `.x` definitions.
//!
//! The output is written to be exactly what `rustfmt --edition 2021` would make of it (the
//! widths below are rustfmt's defaults), so the checked-in files are rustfmt-clean without
//! running rustfmt, and the staleness test compares bytes without depending on a rustfmt
//! version. `generated_files_are_rustfmt_clean` in drivers/remote/tests/generated.rs checks
//! the claim, and [`crate::generate`] refuses any line wider than 100 columns.

use crate::names::{camel, snake, variant_names};
use crate::parse::{Decl, DeclKind, Definition, EnumValue, TypeSpec, UnionArm, Value};
use crate::GenError;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

const MAX_WIDTH: usize = 100;
/// rustfmt's `fn_call_width`: wider argument lists go one per line.
const FN_CALL_WIDTH: usize = 60;
/// rustfmt's `struct_lit_width`: wider struct literal bodies go one field per line.
const STRUCT_LIT_WIDTH: usize = 18;

#[derive(Debug, Clone)]
pub enum SymKind {
    /// A constant of Rust type `ty` ("u32" or "i32").
    Const {
        ty: &'static str,
        value: i64,
    },
    EnumValue {
        value: i64,
    },
    Typedef(Resolved),
    /// A struct, union or enum: its Rust name, whether it can derive Eq and Default.
    Type {
        rust: String,
        eq: bool,
        default: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Sym {
    pub module: String,
    pub kind: SymKind,
}

/// How a declaration is encoded, beyond its Rust type.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Through the `Xdr` trait.
    Trait,
    Str {
        max: String,
    },
    OptStr {
        max: String,
    },
    Opaque {
        max: String,
    },
    FixedOpaque,
    Array {
        max: String,
    },
    StrArray {
        max: String,
        item_max: String,
    },
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub rust: String,
    pub shape: Shape,
    pub eq: bool,
    pub default: bool,
}

pub struct Ctx {
    pub syms: HashMap<String, Sym>,
}

impl Ctx {
    fn sym(&self, name: &str) -> Result<&Sym, GenError> {
        self.syms
            .get(name)
            .ok_or_else(|| GenError::Unresolved(name.to_string()))
    }

    /// A value as a `u32` expression (a length or a maximum), and its number.
    fn value(&self, v: &Value, uses: &mut BTreeSet<String>) -> Result<(String, i64), GenError> {
        match v {
            Value::Num { value, text } => Ok((text.clone(), *value)),
            Value::Name(n) => match &self.sym(n)?.kind {
                SymKind::Const { ty: "u32", value } => {
                    uses.insert(self.sym(n)?.module.clone());
                    Ok((n.clone(), *value))
                }
                _ => Err(GenError::Unsupported(format!(
                    "{n} is not an unsigned constant"
                ))),
            },
        }
    }

    /// The number a union label or enum value stands for.
    fn number(&self, v: &Value) -> Result<i64, GenError> {
        match v {
            Value::Num { value, .. } => Ok(*value),
            Value::Name(n) => match &self.sym(n)?.kind {
                SymKind::Const { value, .. } | SymKind::EnumValue { value } => Ok(*value),
                _ => Err(GenError::Unsupported(format!("{n} is not a constant"))),
            },
        }
    }

    pub fn resolve(
        &self,
        ty: &TypeSpec,
        kind: &DeclKind,
        uses: &mut BTreeSet<String>,
    ) -> Result<Resolved, GenError> {
        let prim = |rust: &str, eq: bool| Resolved {
            rust: rust.to_string(),
            shape: Shape::Trait,
            eq,
            default: true,
        };
        let base = match ty {
            TypeSpec::Int => prim("i32", true),
            TypeSpec::UInt => prim("u32", true),
            TypeSpec::Hyper => prim("i64", true),
            TypeSpec::UHyper => prim("u64", true),
            TypeSpec::Char => prim("i8", true),
            TypeSpec::UChar => prim("u8", true),
            TypeSpec::Short => prim("i16", true),
            TypeSpec::UShort => prim("u16", true),
            TypeSpec::Float => prim("f32", false),
            TypeSpec::Double => prim("f64", false),
            TypeSpec::Bool => prim("bool", true),
            TypeSpec::Opaque | TypeSpec::String => prim("", true),
            TypeSpec::Named(n) => {
                let sym = self.sym(n)?;
                uses.insert(sym.module.clone());
                match &sym.kind {
                    SymKind::Type { rust, eq, default } => Resolved {
                        rust: rust.clone(),
                        shape: Shape::Trait,
                        eq: *eq,
                        default: *default,
                    },
                    SymKind::Typedef(r) => Resolved {
                        rust: camel(n),
                        ..r.clone()
                    },
                    _ => return Err(GenError::Unsupported(format!("{n} is not a type"))),
                }
            }
        };
        let bytes = matches!(ty, TypeSpec::Opaque | TypeSpec::String);
        let max = |m: &Option<Value>, uses: &mut BTreeSet<String>| match m {
            Some(v) => self.value(v, uses).map(|(e, _)| e),
            None => Ok("u32::MAX".to_string()),
        };
        let unsupported = || {
            GenError::Unsupported(format!(
                "declaration of {ty:?} as {kind:?} (extend xdrgen and the XDR helpers)"
            ))
        };
        Ok(match (kind, ty, &base.shape) {
            (DeclKind::Plain, _, _) if !bytes => base,
            (DeclKind::Fixed(n), TypeSpec::Opaque, _) => {
                let (len, count) = self.value(n, uses)?;
                Resolved {
                    rust: format!("[u8; {}]", array_len(&len)),
                    shape: Shape::FixedOpaque,
                    eq: true,
                    default: count <= 32,
                }
            }
            (DeclKind::Variable(m), TypeSpec::Opaque, _) => Resolved {
                rust: "Vec<u8>".into(),
                shape: Shape::Opaque { max: max(m, uses)? },
                eq: true,
                default: true,
            },
            (DeclKind::Variable(m), TypeSpec::String, _) => Resolved {
                rust: "String".into(),
                shape: Shape::Str { max: max(m, uses)? },
                eq: true,
                default: true,
            },
            (DeclKind::Fixed(n), _, Shape::Trait) if !bytes => {
                let (len, count) = self.value(n, uses)?;
                Resolved {
                    rust: format!("[{}; {}]", base.rust, array_len(&len)),
                    shape: Shape::Trait,
                    eq: base.eq,
                    default: base.default && count <= 32,
                }
            }
            (DeclKind::Variable(m), _, Shape::Trait) if !bytes => Resolved {
                rust: format!("Vec<{}>", base.rust),
                shape: Shape::Array { max: max(m, uses)? },
                eq: base.eq,
                default: true,
            },
            (DeclKind::Variable(m), _, Shape::Str { max: item_max }) => Resolved {
                rust: format!("Vec<{}>", base.rust),
                shape: Shape::StrArray {
                    max: max(m, uses)?,
                    item_max: item_max.clone(),
                },
                eq: true,
                default: true,
            },
            (DeclKind::Optional, _, Shape::Trait) if !bytes => Resolved {
                rust: format!("Option<{}>", base.rust),
                shape: Shape::Trait,
                eq: base.eq,
                default: true,
            },
            (DeclKind::Optional, _, Shape::Str { max }) => Resolved {
                rust: format!("Option<{}>", base.rust),
                shape: Shape::OptStr { max: max.clone() },
                eq: true,
                default: true,
            },
            _ => return Err(unsupported()),
        })
    }
}

fn array_len(len: &str) -> String {
    if len.starts_with(|c: char| c.is_ascii_digit()) {
        len.to_string()
    } else {
        format!("{len} as usize")
    }
}

/// A call statement or expression as rustfmt lays it out: on one line when its arguments fit
/// in `FN_CALL_WIDTH` and the line in `MAX_WIDTH`, else one argument per line.
fn call(indent: &str, head: &str, callee: &str, args: &[String], tail: &str) -> String {
    let joined = args.join(", ");
    let one = format!("{indent}{head}{callee}({joined}){tail}\n");
    if joined.len() <= FN_CALL_WIDTH && one.len() - 1 <= MAX_WIDTH {
        return one;
    }
    let mut s = format!("{indent}{head}{callee}(\n");
    for a in args {
        let _ = writeln!(s, "{indent}    {a},");
    }
    let _ = writeln!(s, "{indent}){tail}");
    s
}

/// The statement that encodes `expr` (a place such as `self.x`, or `*v` for a reference `v`).
fn encode_stmt(indent: &str, place: &str, by_ref: &str, shape: &Shape, tail: &str) -> String {
    let a = |s: &str| s.to_string();
    match shape {
        Shape::Trait => format!("{indent}{place}.encode(w){tail}\n"),
        Shape::Str { max } => call(indent, "", "w.put_string", &[a(by_ref), a(max)], tail),
        Shape::OptStr { max } => call(indent, "", "w.put_opt_string", &[a(by_ref), a(max)], tail),
        Shape::Opaque { max } => call(indent, "", "w.put_opaque", &[a(by_ref), a(max)], tail),
        Shape::FixedOpaque => call(indent, "", "w.put_fixed_opaque", &[a(by_ref)], tail),
        Shape::Array { max } => call(indent, "", "w.put_array", &[a(by_ref), a(max)], tail),
        Shape::StrArray { max, item_max } => call(
            indent,
            "",
            "w.put_string_array",
            &[a(by_ref), a(max), a(item_max)],
            tail,
        ),
    }
}

/// The decoding call for `shape` and its arguments (`Xdr::decode` needs the type from its
/// context, which the struct literal or the enum variant gives).
fn decode_call(shape: &Shape) -> (&'static str, Vec<String>) {
    match shape {
        Shape::Trait => ("Xdr::decode", vec!["r".into()]),
        Shape::Str { max } => ("r.get_string", vec![max.clone()]),
        Shape::OptStr { max } => ("r.get_opt_string", vec![max.clone()]),
        Shape::Opaque { max } => ("r.get_opaque", vec![max.clone()]),
        Shape::FixedOpaque => ("r.get_fixed_opaque", vec![]),
        Shape::Array { max } => ("r.get_array", vec![max.clone()]),
        Shape::StrArray { max, item_max } => {
            ("r.get_string_array", vec![max.clone(), item_max.clone()])
        }
    }
}

/// `name: r.get_x(args)?,` inside a struct literal, as rustfmt breaks it.
fn decode_field(indent: &str, name: &str, shape: &Shape) -> String {
    let (callee, args) = decode_call(shape);
    let joined = args.join(", ");
    let line = format!("{indent}{name}: {callee}({joined})?,");
    if joined.len() > FN_CALL_WIDTH {
        return call(indent, &format!("{name}: "), callee, &args, "?,");
    }
    if line.len() <= MAX_WIDTH {
        return line + "\n";
    }
    // Too wide although the arguments are short: rustfmt breaks the method chain.
    let (recv, method) = callee.split_once('.').unwrap_or(("", callee));
    format!("{indent}{name}: {recv}\n{indent}    .{method}({joined})?,\n")
}

fn derives(eq: bool, default: bool, extra: &str) -> String {
    let mut d = vec!["Debug", "Clone"];
    if !extra.is_empty() {
        d.push(extra);
    }
    d.push("PartialEq");
    if eq {
        d.push("Eq");
    }
    if default {
        d.push("Default");
    }
    format!("#[derive({})]\n", d.join(", "))
}

pub struct Emitter<'a> {
    pub ctx: &'a Ctx,
    pub out: String,
    /// Modules whose names this one uses.
    pub uses: BTreeSet<String>,
}

impl Emitter<'_> {
    fn field(&mut self, decl: &Decl) -> Result<Option<(String, String, Resolved)>, GenError> {
        match decl {
            Decl::Void => Ok(None),
            Decl::Field { ty, name, kind } => {
                let r = self.ctx.resolve(ty, kind, &mut self.uses)?;
                Ok(Some((name.clone(), snake(name), r)))
            }
        }
    }

    pub fn definition(&mut self, def: &Definition) -> Result<(), GenError> {
        match def {
            Definition::Const { name, value } => {
                let (ty, expr) = match value {
                    Value::Num { value, text } => (if *value < 0 { "i32" } else { "u32" }, text),
                    Value::Name(n) => {
                        let sym = self.ctx.sym(n)?;
                        self.uses.insert(sym.module.clone());
                        match sym.kind {
                            SymKind::Const { ty, .. } => (ty, n),
                            _ => return Err(GenError::Unresolved(n.clone())),
                        }
                    }
                };
                let _ = writeln!(self.out, "pub const {name}: {ty} = {expr};");
            }
            Definition::Typedef(decl) => {
                let Some((cname, _, r)) = self.field(decl)? else {
                    return Err(GenError::Unsupported("typedef void".into()));
                };
                let _ = writeln!(
                    self.out,
                    "\n/// libvirt: `{cname}`\npub type {} = {};",
                    camel(&cname),
                    r.rust
                );
            }
            Definition::Struct { name, fields } => self.structure(name, fields)?,
            Definition::Enum { name, values } => self.enumeration(name, values)?,
            Definition::Union {
                name,
                discriminant,
                arms,
                default,
            } => self.union(name, discriminant, arms, default.as_ref())?,
        }
        Ok(())
    }

    fn structure(&mut self, name: &str, fields: &[Decl]) -> Result<(), GenError> {
        let rust = camel(name);
        let mut resolved = Vec::new();
        let mut seen = BTreeSet::new();
        for f in fields {
            let Some(field) = self.field(f)? else {
                return Err(GenError::Unsupported(format!(
                    "void field in struct {name}"
                )));
            };
            if !seen.insert(field.1.clone()) {
                return Err(GenError::Unsupported(format!(
                    "two fields of {name} are both named {} in Rust",
                    field.1
                )));
            }
            resolved.push(field);
        }
        let eq = resolved.iter().all(|(_, _, r)| r.eq);
        let default = resolved.iter().all(|(_, _, r)| r.default);
        let o = &mut self.out;
        let _ = write!(o, "\n/// libvirt: `{name}`\n{}", derives(eq, default, ""));
        let _ = writeln!(o, "pub struct {rust} {{");
        for (cname, field, r) in &resolved {
            if cname != field.trim_start_matches("r#") {
                let _ = writeln!(o, "    /// `{cname}`");
            }
            let _ = writeln!(o, "    pub {field}: {},", r.rust);
        }
        let _ = writeln!(o, "}}\n\nimpl Xdr for {rust} {{");
        let _ = writeln!(o, "    fn encode(&self, w: &mut XdrWriter) {{");
        for (_, field, r) in &resolved {
            let place = format!("self.{field}");
            o.push_str(&encode_stmt(
                "        ",
                &place,
                &format!("&{place}"),
                &r.shape,
                ";",
            ));
        }
        let _ = writeln!(o, "    }}\n");
        let _ = writeln!(
            o,
            "    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {{"
        );
        let inline: Vec<String> = resolved
            .iter()
            .map(|(_, field, r)| {
                let (callee, args) = decode_call(&r.shape);
                format!("{field}: {callee}({})?", args.join(", "))
            })
            .collect();
        let body = inline.join(", ");
        let one = format!("        Ok(Self {{ {body} }})");
        if body.len() <= STRUCT_LIT_WIDTH && one.len() <= MAX_WIDTH {
            let _ = writeln!(o, "{one}");
        } else {
            let _ = writeln!(o, "        Ok(Self {{");
            for (_, field, r) in &resolved {
                o.push_str(&decode_field("            ", field, &r.shape));
            }
            let _ = writeln!(o, "        }})");
        }
        let _ = writeln!(o, "    }}\n}}");
        Ok(())
    }

    fn enumeration(&mut self, name: &str, values: &[EnumValue]) -> Result<(), GenError> {
        let rust = camel(name);
        let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
        let single = name
            .strip_suffix("_procedure")
            .map(|p| format!("{}_PROC_", p.to_ascii_uppercase()));
        let variants = variant_names(&names, single.as_deref());
        let mut numbers = Vec::new();
        for v in values {
            numbers.push(self.ctx.number(&v.value)?);
        }
        let distinct: BTreeSet<_> = numbers.iter().collect();
        if distinct.len() != numbers.len() {
            return Err(GenError::Unsupported(format!(
                "enum {name} repeats a value"
            )));
        }
        let o = &mut self.out;
        let _ = write!(
            o,
            "\n/// libvirt: `{name}`\n{}",
            derives(true, false, "Copy")
        );
        let _ = writeln!(o, "#[repr(i32)]\npub enum {rust} {{");
        for ((v, var), n) in values.iter().zip(&variants).zip(&numbers) {
            let _ = writeln!(o, "    /// `{}`\n    {var} = {n},", v.name);
        }
        let _ = writeln!(o, "}}\n");
        for (v, n) in values.iter().zip(&numbers) {
            let _ = writeln!(o, "pub const {}: i32 = {n};", v.name);
        }
        let _ = writeln!(o, "\nimpl {rust} {{");
        let _ = writeln!(o, "    pub fn from_i32(value: i32) -> Option<Self> {{");
        let _ = writeln!(o, "        match value {{");
        for (var, n) in variants.iter().zip(&numbers) {
            let _ = writeln!(o, "            {n} => Some(Self::{var}),");
        }
        let _ = writeln!(o, "            _ => None,\n        }}\n    }}\n");
        let _ = writeln!(o, "    /// The libvirt name of the value.");
        let _ = writeln!(o, "    pub fn name(self) -> &'static str {{");
        let _ = writeln!(o, "        match self {{");
        for (v, var) in values.iter().zip(&variants) {
            let arm = format!("            Self::{var} => \"{}\",", v.name);
            if arm.len() <= MAX_WIDTH {
                let _ = writeln!(o, "{arm}");
            } else {
                // rustfmt's layout for an arm whose body does not fit beside its pattern.
                let _ = writeln!(
                    o,
                    "            Self::{var} => {{\n                \"{}\"\n            }}",
                    v.name
                );
            }
        }
        let _ = writeln!(o, "        }}\n    }}\n");
        let _ = writeln!(
            o,
            "    /// The libvirt name of `value`, if it is one of the enum's."
        );
        let _ = writeln!(
            o,
            "    pub fn name_of(value: i32) -> Option<&'static str> {{\n        \
             Self::from_i32(value).map(Self::name)\n    }}\n}}\n"
        );
        let _ = writeln!(o, "impl Xdr for {rust} {{");
        let _ = writeln!(o, "    fn encode(&self, w: &mut XdrWriter) {{");
        let _ = writeln!(o, "        w.put_i32(*self as i32)\n    }}\n");
        let _ = writeln!(
            o,
            "    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {{"
        );
        let _ = writeln!(o, "        let value = r.get_i32()?;");
        let _ = writeln!(
            o,
            "        Self::from_i32(value).ok_or(XdrError::BadEnum {{"
        );
        let _ = writeln!(o, "            name: \"{name}\",\n            value,");
        let _ = writeln!(o, "        }})\n    }}\n}}");
        Ok(())
    }

    fn union(
        &mut self,
        name: &str,
        discriminant: &Decl,
        arms: &[UnionArm],
        default: Option<&Decl>,
    ) -> Result<(), GenError> {
        let rust = camel(name);
        let (dty, dname) = match discriminant {
            Decl::Field {
                ty: TypeSpec::Int,
                name,
                kind: DeclKind::Plain,
            } => ("i32", format!("int {name}")),
            Decl::Field {
                ty: TypeSpec::UInt,
                name,
                kind: DeclKind::Plain,
            } => ("u32", format!("unsigned int {name}")),
            Decl::Field {
                ty: TypeSpec::Named(t),
                name,
                kind: DeclKind::Plain,
            } if matches!(self.ctx.sym(t)?.kind, SymKind::Type { .. }) => {
                ("i32", format!("{t} {name}"))
            }
            _ => {
                return Err(GenError::Unsupported(format!(
                    "discriminant of union {name}"
                )))
            }
        };
        if default.is_some_and(|d| *d != Decl::Void) {
            return Err(GenError::Unsupported(format!("non-void default in {name}")));
        }
        let mut labels = Vec::new();
        let mut numbers = Vec::new();
        for arm in arms {
            let [label] = arm.labels.as_slice() else {
                return Err(GenError::Unsupported(format!(
                    "shared arms in union {name}"
                )));
            };
            labels.push(match label {
                Value::Name(n) => n.clone(),
                Value::Num { text, .. } => format!("V{text}"),
            });
            numbers.push(self.ctx.number(label)?);
        }
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let variants = variant_names(&label_refs, None);
        let mut fields = Vec::new();
        for arm in arms {
            fields.push(self.field(&arm.decl)?);
        }
        let eq = fields.iter().flatten().all(|(_, _, r)| r.eq);
        let o = &mut self.out;
        let _ = write!(
            o,
            "\n/// libvirt: `{name}`, a union on `{dname}`\n{}",
            derives(eq, false, "")
        );
        let _ = writeln!(o, "pub enum {rust} {{");
        for ((var, label), f) in variants.iter().zip(&labels).zip(&fields) {
            match f {
                Some((cname, _, r)) => {
                    let _ = writeln!(o, "    /// `{label}`: `{cname}`\n    {var}({}),", r.rust);
                }
                None => {
                    let _ = writeln!(o, "    /// `{label}`: void\n    {var},");
                }
            }
        }
        if default.is_some() {
            let _ = writeln!(
                o,
                "    /// Any other discriminant (the `default:` arm, void)."
            );
            let _ = writeln!(o, "    Other({dty}),");
        }
        let _ = writeln!(o, "}}\n\nimpl {rust} {{");
        let _ = writeln!(o, "    /// The discriminant on the wire.");
        let _ = writeln!(
            o,
            "    pub fn discriminant(&self) -> {dty} {{\n        match self {{"
        );
        for ((var, n), f) in variants.iter().zip(&numbers).zip(&fields) {
            let pat = if f.is_some() { "(_)" } else { "" };
            let _ = writeln!(o, "            Self::{var}{pat} => {n},");
        }
        if default.is_some() {
            let _ = writeln!(o, "            Self::Other(d) => *d,");
        }
        let _ = writeln!(o, "        }}\n    }}\n}}\n");
        let _ = writeln!(o, "impl Xdr for {rust} {{");
        let _ = writeln!(o, "    fn encode(&self, w: &mut XdrWriter) {{");
        let _ = writeln!(
            o,
            "        self.discriminant().encode(w);\n        match self {{"
        );
        for (var, f) in variants.iter().zip(&fields) {
            match f {
                Some((_, _, r)) => {
                    let stmt = encode_stmt("", "v", "v", &r.shape, ",");
                    if stmt.trim_end().contains('\n') {
                        // rustfmt would wrap this arm in a block; no libvirt union needs it.
                        return Err(GenError::Unsupported(format!(
                            "arm {var} of union {name} is too long for one line"
                        )));
                    }
                    let _ = write!(o, "            Self::{var}(v) => {stmt}");
                }
                None => {
                    let _ = writeln!(o, "            Self::{var} => {{}}");
                }
            }
        }
        if default.is_some() {
            let _ = writeln!(o, "            Self::Other(_) => {{}}");
        }
        let _ = writeln!(o, "        }}\n    }}\n");
        let _ = writeln!(
            o,
            "    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {{"
        );
        let getter = if dty == "i32" { "get_i32" } else { "get_u32" };
        let _ = writeln!(o, "        match r.{getter}()? {{");
        for ((var, n), f) in variants.iter().zip(&numbers).zip(&fields) {
            match f {
                Some((_, _, r)) => {
                    let (callee, args) = decode_call(&r.shape);
                    let _ = writeln!(
                        o,
                        "            {n} => Ok(Self::{var}({callee}({})?)),",
                        args.join(", ")
                    );
                }
                None => {
                    let _ = writeln!(o, "            {n} => Ok(Self::{var}),");
                }
            }
        }
        if default.is_some() {
            let _ = writeln!(o, "            other => Ok(Self::Other(other)),");
        } else if dty == "i32" {
            let _ = writeln!(
                o,
                "            value => Err(XdrError::BadDiscriminant {{\n                \
                 name: \"{name}\",\n                value,\n            }}),"
            );
        } else {
            let _ = writeln!(
                o,
                "            value => Err(XdrError::BadDiscriminant {{\n                \
                 name: \"{name}\",\n                value: value as i32,\n            }}),"
            );
        }
        let _ = writeln!(o, "        }}\n    }}\n}}");
        Ok(())
    }
}
