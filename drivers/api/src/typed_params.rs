//! libvirt's checks of typed parameters that every driver makes alike: the names of their
//! types in messages, and virTypedParamsValidate.

use crate::{Error, ErrorKind, Result, TypedParam, TypedValue};

/// The names libvirt gives typed parameter types in messages.
pub fn type_name(v: &TypedValue) -> &'static str {
    match v {
        TypedValue::Int(_) => "int",
        TypedValue::UInt(_) => "uint",
        TypedValue::LLong(_) => "llong",
        TypedValue::ULLong(_) => "ullong",
        TypedValue::Double(_) => "double",
        TypedValue::Boolean(_) => "boolean",
        TypedValue::String(_) => "string",
    }
}

/// The kind of value virTypedParamsValidate is told to expect for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UInt,
    LLong,
    ULLong,
    String,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::UInt => "uint",
            Kind::LLong => "llong",
            Kind::ULLong => "ullong",
            Kind::String => "string",
        }
    }

    fn matches(self, v: &TypedValue) -> bool {
        matches!(
            (self, v),
            (Kind::UInt, TypedValue::UInt(_))
                | (Kind::LLong, TypedValue::LLong(_))
                | (Kind::ULLong, TypedValue::ULLong(_))
                | (Kind::String, TypedValue::String(_))
        )
    }
}

/// virTypedParamsValidate: libvirt walks the parameters and the allowed names both sorted by
/// name, so which error comes first follows that order, and so does its duplicate check.
pub fn validate(params: &[TypedParam], allowed: &[(&str, Kind)]) -> Result<()> {
    let mut sorted: Vec<&TypedParam> = params.iter().collect();
    sorted.sort_by(|a, b| a.field.cmp(&b.field));
    let mut keys = allowed.to_vec();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let (mut i, mut j) = (0, 0);
    while i < sorted.len() && j < keys.len() {
        let p = sorted[i];
        if p.field != keys[j].0 {
            j += 1;
            continue;
        }
        if i > j && p.field == sorted[i - 1].field {
            return Err(Error::invalid_arg(format!(
                "parameter '{}' occurs multiple times",
                p.field
            )));
        }
        if !keys[j].1.matches(&p.value) {
            return Err(Error::invalid_arg(format!(
                "invalid type '{}' for parameter '{}', expected '{}'",
                type_name(&p.value),
                p.field,
                keys[j].1.name()
            )));
        }
        i += 1;
    }
    if j == keys.len() && i != sorted.len() {
        return Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            format!("parameter '{}' not supported", sorted[i].field),
        ));
    }
    Ok(())
}

/// virTypedParamsGetULLong: the first parameter of a name counts.
pub fn first_ullong(params: &[TypedParam], name: &str) -> Option<u64> {
    params
        .iter()
        .find(|p| p.field == name)
        .and_then(|p| match p.value {
            TypedValue::ULLong(v) => Some(v),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(field: &str, v: TypedValue) -> TypedParam {
        TypedParam::new(field, v)
    }

    #[test]
    fn validation_is_libvirts() {
        let allowed = [("hard_limit", Kind::ULLong), ("soft_limit", Kind::ULLong)];
        assert!(validate(&[p("hard_limit", TypedValue::ULLong(1))], &allowed).is_ok());
        let e = validate(&[p("min_guarantee", TypedValue::ULLong(1))], &allowed).unwrap_err();
        assert_eq!(
            e.message,
            "argument unsupported: parameter 'min_guarantee' not supported"
        );
        let e = validate(&[p("soft_limit", TypedValue::UInt(1))], &allowed).unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: invalid type 'uint' for parameter 'soft_limit', expected 'ullong'"
        );
    }
}
