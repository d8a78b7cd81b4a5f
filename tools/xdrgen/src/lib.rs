//! xdrgen: virtsh-remote's Rust protocol definitions, generated from libvirt's rpcgen `.x`
//! files (`drivers/remote/proto/`) into `drivers/remote/src/generated/`.
//!
//! A Rust program in the workspace, not a script: it runs with the toolchain every developer
//! and CI already has (no interpreter to install), and `virtsh-remote`'s staleness test calls
//! [`generate`] as a library and compares its output with the checked-in files byte for byte.
//! Generation is offline and its output is committed, so building virtsh never needs the `.x`
//! files parsed (no build script).
//!
//! ```text
//! cargo run -p virtsh-xdrgen -- drivers/remote/proto drivers/remote/src/generated
//! ```
//!
//! Every struct, union, enum, typedef and constant becomes Rust (`remote_nonnull_domain` →
//! `RemoteNonnullDomain`, fields in snake_case, the libvirt name in a doc comment) with an
//! `Xdr` impl, and each `*_procedure` enum also gets a `procs` module of marker types that
//! tie a procedure number to its `_args`/`_ret` types (`remote::procs::DomainGetInfo`).
//! Constants that the `.x` files take from libvirt's C headers are in [`EXTERNALS`].

pub mod emit;
pub mod names;
pub mod parse;
mod procs;

use emit::{Ctx, Emitter, Sym, SymKind};
use parse::{Decl, Definition, Value};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GenError {
    #[error("{file}:{line}: {msg}")]
    Parse {
        file: String,
        line: usize,
        msg: String,
    },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("unknown name {0}")]
    Unresolved(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{file}:{line}: generated line is {width} columns wide (more than 100)")]
    TooWide {
        file: String,
        line: usize,
        width: usize,
    },
}

/// The `.x` files and the Rust module each becomes, in dependency order.
pub const FILES: &[(&str, &str)] = &[
    ("virnetprotocol.x", "virnet"),
    ("virkeepaliveprotocol.x", "keepalive"),
    ("remote_protocol.x", "remote"),
    ("qemu_protocol.x", "qemu"),
    ("lxc_protocol.x", "lxc"),
    ("admin_protocol.x", "admin"),
];

/// Constants the `.x` files use but take from libvirt's C headers: name, Rust type, value,
/// and where libvirt 9.0 defines it.
pub const EXTERNALS: &[(&str, &str, i64, &str)] = &[
    ("VIR_UUID_BUFLEN", "u32", 16, "libvirt-host.h"),
    (
        "VIR_SECURITY_LABEL_BUFLEN",
        "u32",
        4096 + 1,
        "libvirt-host.h",
    ),
    (
        "VIR_SECURITY_MODEL_BUFLEN",
        "u32",
        256 + 1,
        "libvirt-host.h",
    ),
    ("VIR_SECURITY_DOI_BUFLEN", "u32", 256 + 1, "libvirt-host.h"),
    ("VIR_TYPED_PARAM_INT", "i32", 1, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_UINT", "i32", 2, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_LLONG", "i32", 3, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_ULLONG", "i32", 4, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_DOUBLE", "i32", 5, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_BOOLEAN", "i32", 6, "libvirt-common.h"),
    ("VIR_TYPED_PARAM_STRING", "i32", 7, "libvirt-common.h"),
];

const EXTERNALS_MODULE: &str = "libvirt_h";

pub struct Module {
    pub file: String,
    pub name: String,
    pub header: Vec<String>,
    pub defs: Vec<Definition>,
}

/// Generates every file of `src/generated/` from the `.x` files in `proto_dir`: (file name,
/// contents) pairs, `mod.rs` included.
pub fn generate(proto_dir: &Path) -> Result<Vec<(String, String)>, GenError> {
    let mut modules = Vec::new();
    for (file, name) in FILES {
        let path = proto_dir.join(file);
        let src = std::fs::read_to_string(&path).map_err(|source| GenError::Io {
            path: path.display().to_string(),
            source,
        })?;
        modules.push(Module {
            file: file.to_string(),
            name: name.to_string(),
            header: parse::header_comment(&src),
            defs: parse::parse(file, &src)?,
        });
    }
    let mut ctx = Ctx {
        syms: HashMap::new(),
    };
    for (name, ty, value, _) in EXTERNALS {
        let kind = SymKind::Const { ty, value: *value };
        add(&mut ctx, name, EXTERNALS_MODULE, kind)?;
    }
    let mut files = vec![(format!("{EXTERNALS_MODULE}.rs"), externals_file())];
    for m in &modules {
        // Symbols are added as each definition is met: rpcgen (C) needs a type defined before
        // it is used, and Eq/Default of a struct depend on its fields' types.
        let mut uses = BTreeSet::new();
        let mut bodies = String::new();
        let mut after_const = true;
        for def in &m.defs {
            let is_const = matches!(def, Definition::Const { .. });
            if is_const && !after_const {
                bodies.push('\n');
            }
            after_const = is_const;
            let mut e = Emitter {
                ctx: &ctx,
                out: String::new(),
                uses: BTreeSet::new(),
            };
            e.definition(def)?;
            bodies.push_str(&e.out);
            uses.extend(e.uses);
            for (name, kind) in symbols(&ctx, def, &mut uses)? {
                add(&mut ctx, &name, &m.name, kind)?;
            }
        }
        bodies.push_str(&procs::procedures(&ctx, m)?);
        files.push((format!("{}.rs", m.name), module_file(m, &uses, &bodies)));
    }
    files.push(("mod.rs".to_string(), mod_file(&modules)));
    for (file, text) in &files {
        for (i, line) in text.lines().enumerate() {
            if line.chars().count() > 100 {
                return Err(GenError::TooWide {
                    file: file.clone(),
                    line: i + 1,
                    width: line.chars().count(),
                });
            }
        }
    }
    files.sort();
    Ok(files)
}

fn add(ctx: &mut Ctx, name: &str, module: &str, kind: SymKind) -> Result<(), GenError> {
    let sym = Sym {
        module: module.to_string(),
        kind,
    };
    if ctx.syms.insert(name.to_string(), sym).is_some() {
        return Err(GenError::Unsupported(format!("{name} is defined twice")));
    }
    Ok(())
}

/// The names a definition adds.
fn symbols(
    ctx: &Ctx,
    def: &Definition,
    uses: &mut BTreeSet<String>,
) -> Result<Vec<(String, SymKind)>, GenError> {
    let number = |v: &Value| -> Result<i64, GenError> {
        match v {
            Value::Num { value, .. } => Ok(*value),
            Value::Name(n) => match ctx.syms.get(n).map(|s| &s.kind) {
                Some(SymKind::Const { value, .. } | SymKind::EnumValue { value }) => Ok(*value),
                _ => Err(GenError::Unresolved(n.clone())),
            },
        }
    };
    Ok(match def {
        Definition::Const { name, value } => {
            let value = number(value)?;
            let ty = if value < 0 { "i32" } else { "u32" };
            vec![(name.clone(), SymKind::Const { ty, value })]
        }
        Definition::Typedef(Decl::Field { ty, name, kind }) => {
            let r = ctx.resolve(ty, kind, uses)?;
            vec![(name.clone(), SymKind::Typedef(r))]
        }
        Definition::Typedef(Decl::Void) => Vec::new(),
        Definition::Struct { name, fields } => {
            let (mut eq, mut default) = (true, true);
            for f in fields {
                if let Decl::Field { ty, kind, .. } = f {
                    let r = ctx.resolve(ty, kind, uses)?;
                    eq &= r.eq;
                    default &= r.default;
                }
            }
            let rust = names::camel(name);
            vec![(name.clone(), SymKind::Type { rust, eq, default })]
        }
        Definition::Union { name, arms, .. } => {
            let mut eq = true;
            for arm in arms {
                if let Decl::Field { ty, kind, .. } = &arm.decl {
                    eq &= ctx.resolve(ty, kind, uses)?.eq;
                }
            }
            let rust = names::camel(name);
            let kind = SymKind::Type {
                rust,
                eq,
                default: false,
            };
            vec![(name.clone(), kind)]
        }
        Definition::Enum { name, values } => {
            let rust = names::camel(name);
            let mut out = vec![(
                name.clone(),
                SymKind::Type {
                    rust,
                    eq: true,
                    default: false,
                },
            )];
            for v in values {
                let value = number(&v.value)?;
                out.push((v.name.clone(), SymKind::EnumValue { value }));
            }
            out
        }
    })
}

const GENERATED_NOTE: &str =
    "// Generated by tools/xdrgen from drivers/remote/proto; do not edit. Regenerate with\n\
// `cargo run -p virtsh-xdrgen -- drivers/remote/proto drivers/remote/src/generated`.\n";

fn externals_file() -> String {
    let mut s = String::from(GENERATED_NOTE);
    s.push_str(
        "\n//! Constants that libvirt's `.x` files take from its C headers (libvirt 9.0).\n\n",
    );
    for (name, ty, value, header) in EXTERNALS {
        let _ = writeln!(s, "/// From `{header}`.\npub const {name}: {ty} = {value};");
    }
    s
}

fn module_file(m: &Module, uses: &BTreeSet<String>, bodies: &str) -> String {
    let mut s = String::from(GENERATED_NOTE);
    if !m.header.is_empty() {
        let _ = writeln!(
            s,
            "//\n// The definitions are libvirt's, from {}:\n//",
            m.file
        );
        for l in &m.header {
            if l.is_empty() {
                s.push_str("//\n");
            } else {
                let _ = writeln!(s, "// {l}");
            }
        }
    }
    let _ = writeln!(s, "\n//! libvirt's `{}` (libvirt 9.0) in Rust.\n", m.file);
    // Snake-case field names that libvirt spells in camelCase are the only divergence from
    // the C names, and they are documented on each field.
    let has_codec = m
        .defs
        .iter()
        .any(|d| !matches!(d, Definition::Const { .. } | Definition::Typedef(_)));
    // rustfmt's order: `super::` paths before `crate::` ones.
    for u in uses {
        if *u != m.name {
            let _ = writeln!(s, "use super::{u}::*;");
        }
    }
    if has_codec {
        s.push_str("use crate::xdr::{Xdr, XdrError, XdrReader, XdrWriter};\n");
    }
    if has_codec || uses.iter().any(|u| *u != m.name) {
        s.push('\n');
    }
    s.push_str(bodies.trim_start_matches('\n'));
    s
}

fn mod_file(modules: &[Module]) -> String {
    let mut s = String::from(GENERATED_NOTE);
    s.push_str(
        "\n//! libvirt 9.0's RPC protocol definitions, generated from the `.x` files in\n\
         //! `drivers/remote/proto/` by `tools/xdrgen`.\n\n",
    );
    let mut mods: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    mods.push(EXTERNALS_MODULE);
    mods.sort();
    for m in &mods {
        let _ = writeln!(s, "pub mod {m};");
    }
    s.push_str(
        "\n/// The libvirt name of procedure `proc_` of program `prog`, for messages and logs.\n",
    );
    s.push_str("pub fn procedure_name(prog: u32, proc_: i32) -> Option<&'static str> {\n");
    s.push_str("    match prog {\n");
    for m in modules {
        for def in &m.defs {
            if let Definition::Enum { name, .. } = def {
                if let Some(prefix) = name.strip_suffix("_procedure") {
                    let upper = prefix.to_ascii_uppercase();
                    let _ = writeln!(
                        s,
                        "        {}::{upper}_PROGRAM => {}::{}::name_of(proc_),",
                        m.name,
                        m.name,
                        names::camel(name)
                    );
                }
            }
        }
    }
    s.push_str("        _ => None,\n    }\n}\n");
    s
}
