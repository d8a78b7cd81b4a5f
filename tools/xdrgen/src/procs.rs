//! The `procs` module of each program: one marker type per procedure that ties its number to
//! its argument and reply types, found by libvirt's own naming rule (`REMOTE_PROC_FOO_BAR` →
//! `remote_foo_bar_args`, `remote_foo_bar_ret`, `remote_foo_bar_msg`; gendispatch.pl relies on
//! it too). A missing struct means void.

use crate::emit::{Ctx, SymKind};
use crate::names::camel;
use crate::parse::Definition;
use crate::{GenError, Module};
use std::fmt::Write as _;

fn stream_kind(comment: Option<&str>) -> &'static str {
    let c = comment.unwrap_or("");
    if c.contains("@readstream") {
        "StreamKind::Read"
    } else if c.contains("@writestream") {
        "StreamKind::Write"
    } else {
        "StreamKind::None"
    }
}

pub fn procedures(ctx: &Ctx, m: &Module) -> Result<String, GenError> {
    let mut s = String::new();
    for def in &m.defs {
        let Definition::Enum { name, values } = def else {
            continue;
        };
        let Some(prefix) = name.strip_suffix("_procedure") else {
            continue;
        };
        let upper = prefix.to_ascii_uppercase();
        let program = format!("{upper}_PROGRAM");
        let version = format!("{upper}_PROTOCOL_VERSION");
        for c in [&program, &version] {
            if !matches!(
                ctx.syms.get(c).map(|s| &s.kind),
                Some(SymKind::Const { .. })
            ) {
                return Err(GenError::Unresolved(c.clone()));
            }
        }
        let _ = write!(
            s,
            "\n/// Typed procedures of `{name}`: each marker names its program, number, argument\n\
             /// and reply types, for `Client::call_proc`. Events (sent by the daemon as messages)\n\
             /// take their `_msg` body as `Args`.\n\
             pub mod procs {{\n    use super::*;\n    \
             use crate::procedure::{{Procedure, StreamKind}};\n"
        );
        let proc_prefix = format!("{upper}_PROC_");
        for v in values {
            let Some(base) = v.name.strip_prefix(&proc_prefix) else {
                return Err(GenError::Unsupported(format!(
                    "{} does not start with {proc_prefix}",
                    v.name
                )));
            };
            let stem = format!("{prefix}_{}", base.to_ascii_lowercase());
            let ty = |suffix: &str| -> Option<String> {
                let n = format!("{stem}_{suffix}");
                match ctx.syms.get(&n).map(|s| &s.kind) {
                    Some(SymKind::Type { rust, .. }) => Some(rust.clone()),
                    _ => None,
                }
            };
            let args = ty("args")
                .or_else(|| ty("msg"))
                .unwrap_or_else(|| "()".into());
            let ret = ty("ret").unwrap_or_else(|| "()".into());
            let number = match ctx.syms.get(&v.name).map(|s| &s.kind) {
                Some(SymKind::EnumValue { value }) => *value,
                _ => return Err(GenError::Unresolved(v.name.clone())),
            };
            let marker = camel(base);
            let _ = write!(
                s,
                "\n    /// `{}` ({number})\n    pub struct {marker};\n\n    \
                 impl Procedure for {marker} {{\n        \
                 const PROGRAM: u32 = {program};\n        \
                 const VERSION: u32 = {version};\n        \
                 const PROC: i32 = {};\n        \
                 const NAME: &'static str = \"{}\";\n        \
                 const STREAM: StreamKind = {};\n        \
                 type Args = {args};\n        \
                 type Ret = {ret};\n    }}\n",
                v.name,
                v.name,
                v.name,
                stream_kind(v.comment.as_deref()),
            );
        }
        s.push_str("}\n");
    }
    Ok(s)
}
