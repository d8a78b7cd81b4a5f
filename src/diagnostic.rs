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
    fn valid_documents_have_nothing_to_explain() {
        let text = "<domain type='test'><name>x</name><memory>1024</memory>\
                    <os><type>hvm</type></os></domain>";
        assert!(explain(XmlKind::Domain, "ok.xml", text).is_none());
    }
}
