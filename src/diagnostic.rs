//! Diagnostics that point into the XML a user gave: file, line, column and the offending
//! snippet, rendered with miette.
//!
//! virsh's own error lines stay exactly as virsh prints them (scripts match on them); the
//! diagnostic is added after them for people: when stderr is a terminal, or when
//! VIRTSH_DIAGNOSTICS=always asks for it (VIRTSH_DIAGNOSTICS=never turns it off).

use std::io::IsTerminal;
use virtsh_xml::XmlError;

/// Which kind of document a file was meant to hold.
#[derive(Debug, Clone, Copy)]
pub enum XmlKind {
    Domain,
    Network,
    StoragePool,
    StorageVol,
}

pub fn wanted() -> bool {
    match std::env::var("VIRTSH_DIAGNOSTICS").as_deref() {
        Ok("always") => true,
        Ok("never") => false,
        _ => std::io::stderr().is_terminal(),
    }
}

/// Parse `text` as `kind` and, if it fails with a position, render the diagnostic. The driver
/// has already refused the document; this only explains where, so a parse that succeeds here
/// (the driver refused it for another reason) yields nothing.
pub fn explain(kind: XmlKind, file: &str, text: &str) -> Option<String> {
    let err = parse_error(kind, text)?;
    err.line?;
    let err = err.with_source(file, text);
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    handler.render_report(&mut out, &err).ok()?;
    Some(out)
}

fn parse_error(kind: XmlKind, text: &str) -> Option<XmlError> {
    use virtsh_xml::{domain, network, storage_pool, storage_vol};
    match kind {
        XmlKind::Domain => domain::DomainDef::parse(text).err(),
        XmlKind::Network => network::NetworkDef::parse(text).err(),
        XmlKind::StoragePool => storage_pool::StoragePoolDef::parse(text).err(),
        XmlKind::StorageVol => storage_vol::StorageVolDef::parse(text, "dir").err(),
    }
}

/// For an unknown command or option, the nearest declared name, as a hint line
/// (`did you mean 'dominfo'?`). Printed after virsh's own error line, for people only.
pub fn suggest(error: &str) -> Option<String> {
    if let Some(name) = error
        .strip_prefix("unknown command: '")
        .and_then(|r| r.strip_suffix('\''))
    {
        let names = crate::defs::all()
            .filter(|c| !c.hidden)
            .map(|c| c.name.to_string());
        return nearest(name, names).map(|n| format!("did you mean '{n}'?"));
    }
    // "command 'list' doesn't support option --al"
    let rest = error.strip_prefix("command '")?;
    let (cmd, rest) = rest.split_once("' doesn't support option --")?;
    let def = crate::defs::find(cmd)?;
    let names = def
        .opts
        .iter()
        .map(|o| o.name.to_string())
        .chain(std::iter::once("help".to_string()));
    nearest(rest, names).map(|n| format!("did you mean '--{n}'?"))
}

/// The candidate closest to `wanted`, if it is close enough to be a likely typo: a prefix of
/// it, or within a third of its length in edits.
fn nearest(wanted: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let limit = (wanted.len() / 3).max(1);
    candidates
        .map(|c| {
            let d = if c.starts_with(wanted) && !wanted.is_empty() {
                0
            } else {
                strsim::damerau_levenshtein(wanted, &c)
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.len().cmp(&b.1.len())))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_file() {
        let text = "<domain type='test'>\n  <name>x</name>\n  <memory>1\n</domain>\n";
        let out = explain(XmlKind::Domain, "bad.xml", text).expect("a diagnostic");
        assert!(out.contains("bad.xml:4:"), "{out}");
        assert!(out.contains("</domain>"), "{out}");
        assert!(out.contains("Opening and ending tag mismatch"), "{out}");
    }

    #[test]
    fn suggests_near_names() {
        assert_eq!(
            suggest("unknown command: 'dominf'").as_deref(),
            Some("did you mean 'dominfo'?")
        );
        assert_eq!(
            suggest("unknown command: 'lsit'").as_deref(),
            Some("did you mean 'list'?")
        );
        assert_eq!(
            suggest("command 'list' doesn't support option --al").as_deref(),
            Some("did you mean '--all'?")
        );
        assert_eq!(suggest("unknown command: 'zzzzzzzz'"), None);
    }

    #[test]
    fn valid_documents_have_nothing_to_explain() {
        let text = "<domain type='test'><name>x</name><memory>1024</memory>\
                    <os><type>hvm</type></os></domain>";
        assert!(explain(XmlKind::Domain, "ok.xml", text).is_none());
    }
}
