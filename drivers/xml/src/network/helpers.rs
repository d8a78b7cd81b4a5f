//! The small pieces every libvirt XML model in this crate shares: the source text errors point
//! into and libvirt's error wording ([`Src`]), the root check, libvirt's attribute and XPath
//! readers (virXMLProp*, virXPath*), and the writer's attribute-list helpers. The storage,
//! interface and capabilities models use them through `crate::network`.

use crate::dom::{self, Element};
use crate::error::{XmlError, XmlErrorKind};
use crate::units::{str_to_i, str_to_ll, str_to_ui, str_to_ui_p, str_to_ull_p};

/// The source text a model is parsed from, so that every error can carry its position.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub text: &'a str,
}

impl<'a> Src<'a> {
    /// VIR_ERR_XML_ERROR: printed as "XML error: ...".
    pub fn xml(&self, el: &Element, msg: impl Into<String>) -> XmlError {
        XmlError::invalid(msg).at(self.text, el.offset)
    }
    /// VIR_ERR_CONFIG_UNSUPPORTED: "unsupported configuration: ...".
    pub fn unsupported(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!("unsupported configuration: {}", msg.as_ref()))
            .at(self.text, el.offset)
    }
    /// VIR_ERR_INTERNAL_ERROR: "internal error: ...".
    pub fn internal(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!("internal error: {}", msg.as_ref())).at(self.text, el.offset)
    }
    /// Codes whose message libvirt prints without a prefix (VIR_ERR_XML_DETAIL, system errors).
    pub fn detail(&self, el: &Element, msg: impl Into<String>) -> XmlError {
        XmlError::new(XmlErrorKind::Unsupported, msg).at(self.text, el.offset)
    }
    /// VIR_ERR_NO_SUPPORT: "this function is not supported by the connection driver: ...".
    pub fn no_support(&self, el: &Element, msg: impl AsRef<str>) -> XmlError {
        XmlError::unsupported(format!(
            "this function is not supported by the connection driver: {}",
            msg.as_ref()
        ))
        .at(self.text, el.offset)
    }
}

/// Parse a document and check that its root is `root` (virXMLParse's check).
pub(crate) fn parse_root(text: &str, root: &str) -> Result<Element, XmlError> {
    let el = dom::parse(text)?;
    if el.name != root {
        return Err(XmlError::invalid(format!(
            "expecting root element of '{root}', not '{}'",
            el.name
        ))
        .at(text, el.offset));
    }
    Ok(el)
}

/// XPath `string(node)`: the concatenated text of the node and all its descendants.
pub(crate) fn string_value(el: &Element) -> String {
    // dom keeps only direct text per element, with children's text separate; libvirt's models
    // only read leaf elements this way, so direct text plus children (in order) is faithful.
    let mut out = el.text.clone();
    for c in &el.children {
        out.push_str(&string_value(c));
    }
    out
}

/// virXPathString("string(./path)"): None when absent or empty, the raw (untrimmed) text else.
pub(crate) fn xpath_text(el: &Element, path: &str) -> Option<String> {
    el.at_path(path).map(string_value).filter(|s| !s.is_empty())
}

/// virXPathString("string(./@attr)"): None when absent or empty.
pub(crate) fn xpath_attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attr(name).filter(|s| !s.is_empty())
}

/// virXPathString("string(./path/@attr)").
pub(crate) fn xpath_path_attr<'e>(el: &'e Element, path: &str, name: &str) -> Option<&'e str> {
    el.at_path(path).and_then(|e| xpath_attr(e, name))
}

/// virXMLPropTristateBool: absent is None, "yes"/"no" are values, anything else is an error.
pub(crate) fn prop_tristate(src: Src, el: &Element, name: &str) -> Result<Option<bool>, XmlError> {
    match el.attr(name) {
        None => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some("absent") => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted.",
                el.name
            ),
        )),
        Some(v) => Err(invalid_attr(src, el, name, v)),
    }
}

pub(crate) fn invalid_attr(src: Src, el: &Element, name: &str, value: &str) -> XmlError {
    src.xml(
        el,
        format!(
            "Invalid value for attribute '{name}' in element '{}': '{value}'.",
            el.name
        ),
    )
}

/// virXMLPropEnum against a list of names; `nonzero` refuses the first (default) entry.
pub(crate) fn prop_enum(
    src: Src,
    el: &Element,
    name: &str,
    values: &[&str],
    nonzero: bool,
    required: bool,
) -> Result<Option<String>, XmlError> {
    let Some(v) = el.attr(name) else {
        if required {
            return Err(missing_attr(src, el, name));
        }
        return Ok(None);
    };
    match values.iter().position(|x| *x == v) {
        None => Err(invalid_attr(src, el, name, v)),
        Some(0) if nonzero => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted.",
                el.name
            ),
        )),
        Some(_) => Ok(Some(v.to_string())),
    }
}

pub(crate) fn missing_attr(src: Src, el: &Element, name: &str) -> XmlError {
    src.xml(
        el,
        format!(
            "Missing required attribute '{name}' in element '{}'",
            el.name
        ),
    )
}

/// virXMLPropUInt: a non-negative integer attribute.
pub(crate) fn prop_uint(
    src: Src,
    el: &Element,
    name: &str,
    base: u32,
    required: bool,
    nonzero: bool,
) -> Result<Option<u32>, XmlError> {
    let Some(v) = el.attr(name) else {
        if required {
            return Err(missing_attr(src, el, name));
        }
        return Ok(None);
    };
    let Some(n) = str_to_ui_p(v, base) else {
        return Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
                el.name
            ),
        ));
    };
    if nonzero && n == 0 {
        return Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': Zero is not permitted",
                el.name
            ),
        ));
    }
    Ok(Some(n))
}

/// virXMLPropULongLong.
pub(crate) fn prop_ull(src: Src, el: &Element, name: &str) -> Result<Option<u64>, XmlError> {
    let Some(v) = el.attr(name) else {
        return Ok(None);
    };
    match str_to_ull_p(v, 10) {
        Some(n) => Ok(Some(n)),
        None => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
                el.name
            ),
        )),
    }
}

/// virXMLPropInt.
pub(crate) fn prop_int(
    src: Src,
    el: &Element,
    name: &str,
    base: u32,
) -> Result<Option<i32>, XmlError> {
    let Some(v) = el.attr(name) else {
        return Ok(None);
    };
    match str_to_i(v, base) {
        Some(n) => Ok(Some(n)),
        None => Err(src.xml(
            el,
            format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected integer value",
                el.name
            ),
        )),
    }
}

/// virXPathUInt, virXPathInt, virXPathLongLong: Ok(None) when absent or empty (-1), Err(())
/// when unparsable (-2).
fn xpath_number<T>(v: Option<&str>, parse: fn(&str, u32) -> Option<T>) -> Result<Option<T>, ()> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s, 10).map(Some).ok_or(()),
    }
}

/// virXPathUInt.
pub(crate) fn xpath_uint(v: Option<&str>) -> Result<Option<u32>, ()> {
    xpath_number(v, str_to_ui)
}

/// virXPathInt.
pub(crate) fn xpath_int(v: Option<&str>) -> Result<Option<i32>, ()> {
    xpath_number(v, str_to_i)
}

/// virXPathLongLong.
pub(crate) fn xpath_ll(v: Option<&str>) -> Result<Option<i64>, ()> {
    xpath_number(v, str_to_ll)
}

/// Attribute list helper: the writer takes borrowed pairs.
pub(crate) fn attrs<'a>(v: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
