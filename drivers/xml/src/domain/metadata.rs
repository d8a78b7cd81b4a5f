//! A domain's title, description and `<metadata>` elements as virDomainGetMetadata and
//! virDomainSetMetadata read and change them, for every driver: the argument checks of the
//! public API, the namespace handling, and libxml2's layout of what is returned.

use virtsh_api::flags::metadata as kind;
use virtsh_api::{Error, ErrorKind};

use super::node::dump_libxml2;
use super::top::metadata_namespace;
use super::DomainDef;
use crate::dom::Element;

/// A checked virDomainSetMetadata request, ready to apply to one or more definitions.
#[derive(Debug, Clone)]
pub enum Change {
    Title(Option<String>),
    Description(Option<String>),
    /// Replace (or with `None`, remove) the element of namespace `uri`.
    Element {
        uri: String,
        element: Option<Element>,
    },
}

/// virDomainGetMetadata on `def`.
pub fn get(def: &DomainDef, which: i32, uri: Option<&str>) -> Result<String, Error> {
    let found = match which {
        kind::DESCRIPTION => def.description.clone(),
        kind::TITLE => def.title.clone(),
        kind::ELEMENT => {
            let Some(uri) = uri else {
                return Err(Error::raw(
                    ErrorKind::InvalidArg,
                    "uri in virDomainGetMetadata must not be NULL",
                ));
            };
            def.metadata.as_ref().and_then(|md| {
                md.iter()
                    .find(|e| metadata_namespace(e).as_deref() == Some(uri))
                    .map(extract)
            })
        }
        _ => {
            return Err(Error::invalid_arg(format!(
                "unknown metadata type '{which}'"
            )))
        }
    };
    found.ok_or_else(|| {
        Error::new(
            ErrorKind::NoDomainMetadata,
            "Requested metadata element is not present",
        )
    })
}

/// The checks virDomainSetMetadata makes before any driver sees the call.
pub fn prepare(
    which: i32,
    value: Option<&str>,
    key: Option<&str>,
    uri: Option<&str>,
) -> Result<Change, Error> {
    let text = value.filter(|v| !v.is_empty()).map(str::to_string);
    match which {
        kind::TITLE => {
            if value.is_some_and(|v| v.contains('\n')) {
                return Err(Error::raw(
                    ErrorKind::InvalidArg,
                    "metadata title can't contain newlines",
                ));
            }
            Ok(Change::Title(text))
        }
        kind::DESCRIPTION => Ok(Change::Description(text)),
        kind::ELEMENT => {
            let Some(uri) = uri else {
                return Err(Error::raw(
                    ErrorKind::InvalidArg,
                    "uri in virDomainSetMetadata must not be NULL",
                ));
            };
            let element = match value {
                Some(v) => {
                    let Some(key) = key else {
                        return Err(Error::raw(
                            ErrorKind::InvalidArg,
                            "key in virDomainSetMetadata must not be NULL",
                        ));
                    };
                    Some(inject(v, key, uri)?)
                }
                None => None,
            };
            Ok(Change::Element {
                uri: uri.to_string(),
                element,
            })
        }
        _ => Err(Error::invalid_arg(format!(
            "unknown metadata type '{which}'"
        ))),
    }
}

/// Apply a prepared change to one definition.
pub fn apply(def: &mut DomainDef, change: &Change) {
    match change {
        Change::Title(t) => def.title = t.clone(),
        Change::Description(d) => def.description = d.clone(),
        Change::Element { uri, element } => {
            let md = def.metadata.get_or_insert_with(Vec::new);
            md.retain(|e| metadata_namespace(e).as_deref() != Some(uri.as_str()));
            if let Some(el) = element {
                md.push(el.clone());
            }
            if md.is_empty() {
                def.metadata = None;
            }
        }
    }
}

/// The element `xml` put into namespace `uri` with prefix `key`, as virDomainSetMetadata
/// stores it.
pub fn inject(xml: &str, key: &str, uri: &str) -> Result<Element, Error> {
    let mut root = crate::dom::parse(xml).map_err(|e| e.api_error("metadata_xml", xml))?;
    if !is_ncname(key) {
        return Err(Error::new(
            ErrorKind::InternalError,
            "failed to validate prefix for a new XML namespace",
        ));
    }
    fn prefix_all(el: &mut Element, key: &str) {
        let local = el
            .name
            .split_once(':')
            .map(|(_, l)| l.to_string())
            .unwrap_or_else(|| el.name.clone());
        el.name = format!("{key}:{local}");
        for c in &mut el.children {
            prefix_all(c, key);
        }
    }
    prefix_all(&mut root, key);
    root.attrs
        .retain(|(k, _)| k != "xmlns" && !k.starts_with("xmlns:"));
    root.attrs
        .insert(0, (format!("xmlns:{key}"), uri.to_string()));
    Ok(root)
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The element as virDomainGetMetadata returns it: its namespace removed from it and its
/// descendants, printed in libxml2's layout.
pub fn extract(el: &Element) -> String {
    let prefix = el.name.split_once(':').map(|(p, _)| p.to_string());
    let mut copy = el.clone();
    fn strip(el: &mut Element, prefix: &Option<String>) {
        match prefix {
            Some(p) => {
                if let Some(local) = el.name.strip_prefix(&format!("{p}:")) {
                    el.name = local.to_string();
                }
                el.attrs.retain(|(k, _)| k != &format!("xmlns:{p}"));
            }
            None => el.attrs.retain(|(k, _)| k != "xmlns"),
        }
        for c in &mut el.children {
            strip(c, prefix);
        }
    }
    strip(&mut copy, &prefix);
    let mut out = String::new();
    dump_libxml2(&copy, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip_strips_namespace() {
        let el = inject("<a><b>1</b></a>", "x", "http://x.org/").unwrap();
        assert_eq!(el.name, "x:a");
        assert_eq!(metadata_namespace(&el).as_deref(), Some("http://x.org/"));
        assert_eq!(extract(&el), "<a>\n  <b>1</b>\n</a>");
    }

    #[test]
    fn malformed_metadata_is_reported_like_libvirt() {
        let e = inject("<a>b", "k", "http://x/").unwrap_err();
        assert_eq!(e.kind, ErrorKind::XmlDetail);
        assert!(e.message.starts_with("(metadata_xml):1: "), "{}", e.message);
    }
}
