//! libvirt's domain snapshot XML (`<domainsnapshot>`): the input of `snapshot-create` and the
//! output of `snapshot-dumpxml`, which embeds the domain definition one level deeper.

// XmlError carries its source text for diagnostics; its size is the error type's decision.
#![allow(clippy::result_large_err)]

use crate::dom::{self, Element};
use crate::domain::{DomainDef, FormatOptions};
use crate::error::XmlError;
use crate::writer::XmlWriter;

const MEMORY_MODES: &[&str] = &["no", "internal", "external", "manual"];
const DISK_MODES: &[&str] = &["no", "internal", "external", "manual"];
const STATES: &[&str] = &[
    "nostate",
    "running",
    "blocked",
    "paused",
    "shutdown",
    "shutoff",
    "crashed",
    "pmsuspended",
    "disk-snapshot",
];

/// `<memory snapshot='...' file='...'/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMemory {
    /// no, internal, external, manual.
    pub snapshot: String,
    pub file: Option<String>,
}

/// One `<disk>` of `<disks>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotDisk {
    /// The domain disk's target (`vda`) or source path.
    pub name: String,
    /// no, internal, external, manual; `None` when the XML leaves it to the driver.
    pub snapshot: Option<String>,
    /// The storage type of an external snapshot's new file (`file`, `block`).
    pub source_type: Option<String>,
    pub source_file: Option<String>,
    /// `<driver type='qcow2'/>`.
    pub driver_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDef {
    pub name: String,
    /// Whether the name was made up from the creation time (the XML had none).
    pub name_generated: bool,
    pub description: Option<String>,
    /// The domain state when the snapshot was taken (running, shutoff, disk-snapshot, ...).
    pub state: String,
    /// Seconds since the epoch.
    pub creation_time: i64,
    pub parent: Option<String>,
    pub memory: Option<SnapshotMemory>,
    pub disks: Vec<SnapshotDisk>,
    /// The domain definition at snapshot time.
    pub domain: Option<DomainDef>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn invalid(text: &str, el: &Element, msg: impl Into<String>) -> XmlError {
    XmlError::invalid(msg).at(text, el.offset)
}

impl SnapshotDef {
    /// Parse the XML given to `snapshot-create`: a missing name becomes the creation time, as
    /// libvirt names it; state, parent and creation time in the XML are ignored (the driver
    /// fills them in).
    pub fn parse(xml: &str) -> Result<SnapshotDef, XmlError> {
        Self::parse_inner(xml, false)
    }

    /// Parse a snapshot being redefined (`snapshot-create --redefine`) or read back from
    /// storage: name, state and creation time are required and kept, with the parent and the
    /// embedded domain.
    pub fn parse_redefine(xml: &str) -> Result<SnapshotDef, XmlError> {
        Self::parse_inner(xml, true)
    }

    fn parse_inner(xml: &str, redefine: bool) -> Result<SnapshotDef, XmlError> {
        let root = dom::parse(xml)?;
        if root.name != "domainsnapshot" {
            return Err(invalid(
                xml,
                &root,
                format!(
                    "expecting root element of 'domainsnapshot', not '{}'",
                    root.name
                ),
            ));
        }
        let creation = now();
        let name = root
            .text_at("name")
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let (name, name_generated) = match name {
            Some(n) => (n, false),
            None if redefine => {
                return Err(invalid(xml, &root, "a redefined snapshot must have a name"))
            }
            None => (creation.to_string(), true),
        };
        let description = root.child("description").map(|d| d.text.clone());
        let mut def = SnapshotDef {
            name,
            name_generated,
            description,
            state: "nostate".into(),
            creation_time: creation,
            parent: None,
            memory: None,
            disks: Vec::new(),
            domain: None,
        };
        if redefine {
            let st = root.child("state");
            let state = st.map(|s| s.text.trim()).unwrap_or_default();
            if state.is_empty() {
                return Err(invalid(xml, &root, "missing state from existing snapshot"));
            }
            if !STATES.contains(&state) {
                return Err(invalid(
                    xml,
                    st.unwrap_or(&root),
                    format!("Invalid state '{state}' in domain snapshot XML"),
                ));
            }
            def.state = state.to_string();
            let ct = root.child("creationTime");
            def.creation_time = ct.and_then(|c| c.text.trim().parse().ok()).ok_or_else(|| {
                invalid(
                    xml,
                    ct.unwrap_or(&root),
                    "missing creationTime from existing snapshot",
                )
            })?;
            def.parent = root
                .at_path("parent/name")
                .map(|p| p.text.trim().to_string())
                .filter(|p| !p.is_empty());
            if let Some(d) = root.child("domain") {
                let start = d.offset;
                let end = find_element_end(xml, d).unwrap_or(xml.len());
                def.domain = Some(DomainDef::parse(&xml[start..end])?);
            }
        }
        if let Some(m) = root.child("memory") {
            let snapshot = m.attr("snapshot").map(str::to_string);
            if let Some(s) = &snapshot {
                if !MEMORY_MODES.contains(&s.as_str()) {
                    return Err(invalid(
                        xml,
                        m,
                        format!("unknown memory snapshot setting '{s}'"),
                    ));
                }
            }
            let file = m.attr("file").map(str::to_string);
            let mode = match (&snapshot, &file) {
                (Some(s), Some(f)) if s != "external" => {
                    return Err(invalid(
                        xml,
                        m,
                        format!("memory filename '{f}' requires external snapshot"),
                    ))
                }
                (Some(s), _) => s.clone(),
                (None, Some(_)) => "external".to_string(),
                (None, None) => String::new(),
            };
            if !mode.is_empty() {
                def.memory = Some(SnapshotMemory {
                    snapshot: mode,
                    file,
                });
            }
        }
        if let Some(disks) = root.child("disks") {
            for d in disks.children_named("disk") {
                let name = d
                    .attr("name")
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid(xml, d, "missing name from disk snapshot element"))?;
                let snapshot = d.attr("snapshot").map(str::to_string);
                if let Some(s) = &snapshot {
                    if !DISK_MODES.contains(&s.as_str()) {
                        return Err(invalid(
                            xml,
                            d,
                            format!("unknown disk snapshot setting '{s}'"),
                        ));
                    }
                }
                let source_file = d
                    .child("source")
                    .and_then(|s| s.attr("file").or_else(|| s.attr("dev")))
                    .map(str::to_string);
                let snapshot = match (&snapshot, &source_file) {
                    (None, Some(_)) => Some("external".to_string()),
                    _ => snapshot,
                };
                def.disks.push(SnapshotDisk {
                    name: name.to_string(),
                    snapshot,
                    source_type: d.attr("type").map(str::to_string),
                    source_file,
                    driver_type: d
                        .child("driver")
                        .and_then(|x| x.attr("type"))
                        .map(str::to_string),
                });
            }
        }
        Ok(def)
    }

    /// virDomainSnapshotAlignDisks as the test driver uses it: every disk of `domain` gets an
    /// entry, in the domain's order, with `default_mode` (`internal`) where the XML said
    /// nothing. Entries may name a disk by target or by source; they end up named by target.
    /// Errors when the XML names a disk the domain does not have, or twice.
    pub fn align_disks(&mut self, domain: &DomainDef, default_mode: &str) -> Result<(), XmlError> {
        let mut given = std::mem::take(&mut self.disks);
        let mut out = Vec::new();
        for d in &domain.devices.disks {
            let pos = given.iter().position(|g| {
                g.name == d.target_dev || Some(g.name.as_str()) == d.source.as_deref()
            });
            let mut entry = match pos {
                Some(p) => given.remove(p),
                None => SnapshotDisk::default(),
            };
            if given.iter().any(|g| g.name == d.target_dev) {
                return Err(XmlError::invalid(format!(
                    "disk '{}' specified twice",
                    d.target_dev
                )));
            }
            entry.name = d.target_dev.clone();
            if entry.snapshot.is_none() {
                entry.snapshot = Some(default_mode.to_string());
            }
            out.push(entry);
        }
        if let Some(extra) = given.first() {
            return Err(XmlError::config(format!("no disk named '{}'", extra.name)));
        }
        self.disks = out;
        Ok(())
    }

    /// The snapshot as `snapshot-dumpxml` prints it; `opts.secure` is passed on to the
    /// embedded domain. Ends with a newline.
    pub fn to_xml(&self, opts: &FormatOptions) -> String {
        let mut w = XmlWriter::new();
        w.start("domainsnapshot", &[]);
        w.text("name", &[], &self.name);
        w.opt_text("description", self.description.as_deref());
        w.text("state", &[], &self.state);
        if let Some(p) = &self.parent {
            w.start("parent", &[]);
            w.text("name", &[], p);
            w.end("parent");
        }
        w.text("creationTime", &[], &self.creation_time.to_string());
        if let Some(m) = &self.memory {
            let mut a = vec![("snapshot", m.snapshot.as_str())];
            if let Some(f) = &m.file {
                a.push(("file", f.as_str()));
            }
            w.empty("memory", &a);
        }
        if !self.disks.is_empty() {
            w.start("disks", &[]);
            for d in &self.disks {
                let mut a = vec![("name", d.name.as_str())];
                if let Some(s) = &d.snapshot {
                    a.push(("snapshot", s.as_str()));
                }
                if d.source_file.is_none() && d.driver_type.is_none() {
                    w.empty("disk", &a);
                    continue;
                }
                a.push(("type", d.source_type.as_deref().unwrap_or("file")));
                w.start("disk", &a);
                if let Some(t) = &d.driver_type {
                    w.empty("driver", &[("type", t)]);
                }
                if let Some(f) = &d.source_file {
                    let attr = if d.source_type.as_deref() == Some("block") {
                        "dev"
                    } else {
                        "file"
                    };
                    w.empty("source", &[(attr, f)]);
                }
                w.end("disk");
            }
            w.end("disks");
        }
        let mut out = w.finish();
        if let Some(dom) = &self.domain {
            let dopts = FormatOptions {
                inactive: opts.inactive,
                id: None,
                secure: opts.secure,
            };
            out.push_str(&dom.to_xml_at_depth(&dopts, 1));
        }
        out.push_str("</domainsnapshot>\n");
        out
    }
}

/// The byte offset just past the end tag of `el` (the subtree's text), found by counting
/// nested elements of the same name.
fn find_element_end(text: &str, el: &Element) -> Option<usize> {
    let open = format!("<{}", el.name);
    let close = format!("</{}>", el.name);
    let mut depth = 0usize;
    let mut pos = el.offset;
    loop {
        let next_open = text[pos..].find(&open).map(|i| i + pos);
        let next_close = text[pos..].find(&close).map(|i| i + pos)?;
        match next_open {
            Some(o) if o < next_close => {
                let after = text[o + open.len()..].chars().next();
                let tag_end = text[o..].find('>').map(|i| i + o)?;
                let self_closing = text[..tag_end].ends_with('/');
                if matches!(after, Some(' ' | '>' | '/' | '\t' | '\n' | '\r')) && !self_closing {
                    depth += 1;
                }
                pos = tag_end + 1;
            }
            _ => {
                depth = depth.checked_sub(1)?;
                pos = next_close + close.len();
                if depth == 0 {
                    return Some(pos);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "<domain type='test'><name>test</name>\
        <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>8388608</memory>\
        <currentMemory>2097152</currentMemory><vcpu>2</vcpu><os><type arch='i686'>hvm</type></os>\
        <devices><disk type='file' device='disk'><source file='/guest/diskimage1'/>\
        <target dev='vda' bus='virtio'/></disk></devices></domain>";

    #[test]
    fn unnamed_snapshot_is_named_after_its_time() {
        let s = SnapshotDef::parse("<domainsnapshot><description>d</description></domainsnapshot>")
            .unwrap();
        assert!(s.name_generated);
        assert_eq!(s.name, s.creation_time.to_string());
    }

    #[test]
    fn formats_like_snapshot_dumpxml() {
        let mut s = SnapshotDef::parse(
            "<domainsnapshot><name>s1</name><description>first &amp; &lt;one&gt;</description></domainsnapshot>",
        )
        .unwrap();
        let dom = DomainDef::parse(DOMAIN).unwrap();
        s.state = "running".into();
        s.creation_time = 1795854233;
        s.memory = Some(SnapshotMemory {
            snapshot: "internal".into(),
            file: None,
        });
        s.align_disks(&dom, "internal").unwrap();
        s.domain = Some(dom);
        let out = s.to_xml(&FormatOptions::default());
        let expected = "<domainsnapshot>\n  <name>s1</name>\n  <description>first &amp; &lt;one&gt;</description>\n  <state>running</state>\n  <creationTime>1795854233</creationTime>\n  <memory snapshot='internal'/>\n  <disks>\n    <disk name='vda' snapshot='internal'/>\n  </disks>\n  <domain type='test'>\n    <name>test</name>\n";
        assert!(out.starts_with(expected), "{out}");
        assert!(
            out.ends_with("    </devices>\n  </domain>\n</domainsnapshot>\n"),
            "{out}"
        );
    }

    #[test]
    fn external_disks_and_errors() {
        let s = SnapshotDef::parse(
            "<domainsnapshot><name>e</name><disks><disk name='vda'><source file='/s.qcow2'/><driver type='qcow2'/></disk></disks></domainsnapshot>",
        )
        .unwrap();
        assert_eq!(s.disks[0].snapshot.as_deref(), Some("external"));
        let e = SnapshotDef::parse(
            "<domainsnapshot><memory snapshot='internal' file='/m'/></domainsnapshot>",
        )
        .unwrap_err();
        assert_eq!(e.message, "memory filename '/m' requires external snapshot");
        let e = SnapshotDef::parse("<domainsnapshot><disks><disk/></disks></domainsnapshot>")
            .unwrap_err();
        assert_eq!(e.message, "missing name from disk snapshot element");
        assert!(SnapshotDef::parse_redefine("<domainsnapshot/>").is_err());
    }

    #[test]
    fn redefine_keeps_domain_and_parent() {
        let xml = format!(
            "<domainsnapshot><name>s2</name><state>shutoff</state><parent><name>s1</name></parent><creationTime>42</creationTime>{DOMAIN}</domainsnapshot>"
        );
        let s = SnapshotDef::parse_redefine(&xml).unwrap();
        assert_eq!(s.parent.as_deref(), Some("s1"));
        assert_eq!(s.creation_time, 42);
        assert_eq!(s.domain.as_ref().map(|d| d.name.as_str()), Some("test"));
    }
}
