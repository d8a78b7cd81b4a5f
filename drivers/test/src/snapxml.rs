//! The test driver's side of the snapshot document: parsing through `virtsh_xml` with
//! libvirt's error reporting, the disk alignment rules of virDomainSnapshotAlignDisks as the
//! test driver applies them, and formatting.

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, FormatOptions};
use virtsh_xml::snapshot::{SnapshotDef, SnapshotDisk};

use crate::xmlconv;

pub(crate) type SnapDef = SnapshotDef;

fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorKind::ConfigUnsupported, msg)
}

/// virDomainSnapshotIsExternal
pub(crate) fn is_external(def: &SnapDef) -> bool {
    def.memory
        .as_ref()
        .is_some_and(|m| m.snapshot == "external")
        || def
            .disks
            .iter()
            .any(|d| d.snapshot.as_deref() == Some("external"))
}

/// Parse a snapshot document (virDomainSnapshotDefParseString); `redefine` demands what a
/// redefinition must carry and reads the state, parent and domain.
pub(crate) fn parse(xml: &str, redefine: bool) -> Result<SnapDef> {
    let res = if redefine {
        SnapshotDef::parse_redefine(xml)
    } else {
        SnapshotDef::parse(xml)
    };
    let def = res.map_err(|e| xmlconv::xml_error(&e, "domain_snapshot", xml))?;
    if def.memory.as_ref().is_some_and(|m| m.snapshot == "manual") {
        return Err(unsupported(
            "'manual' snapshot mode is not supported by the test driver",
        ));
    }
    Ok(def)
}

/// Parse a snapshot of a node file: a redefinition that may say `<active>1</active>` to mark
/// the current snapshot.
pub(crate) fn parse_with_active(xml: &str) -> Result<(SnapDef, bool)> {
    let root = xmlconv::parse_tree(xml, "domain_snapshot")?;
    let Some(active) = root.child("active") else {
        return Err(Error::internal("Could not find 'active' element"));
    };
    let active = active.text.trim() == "1";
    Ok((parse(xml, true)?, active))
}

/// virDomainSnapshotAlignDisks for the test driver: every disk of the domain gets an entry,
/// in the domain's order. Internal snapshots must stay uniform; with external memory, the
/// disks default to external files named after the snapshot.
pub(crate) fn align_disks(def: &mut SnapDef, dom: &DomainDef) -> Result<()> {
    let external = def
        .memory
        .as_ref()
        .is_some_and(|m| m.snapshot == "external");
    let default = if external { "external" } else { "internal" };
    let disks = &dom.devices.disks;
    if def.disks.len() > disks.len() {
        return Err(unsupported("too many disk snapshot requests for domain"));
    }
    let mut requested: Vec<Option<SnapshotDisk>> = vec![None; disks.len()];
    for mut sd in std::mem::take(&mut def.disks) {
        let pos = if sd.name.starts_with('/') {
            disks
                .iter()
                .position(|d| d.source.as_deref() == Some(&*sd.name))
        } else {
            disks.iter().position(|d| d.target_dev == sd.name)
        }
        .ok_or_else(|| unsupported(format!("no disk named '{}'", sd.name)))?;
        if requested[pos].is_some() {
            return Err(unsupported(format!("disk '{}' specified twice", sd.name)));
        }
        match sd.snapshot.as_deref() {
            None => sd.snapshot = Some(default.to_string()),
            Some(s) if !external && s != default => {
                return Err(unsupported(format!(
                    "disk '{}' must use snapshot mode '{default}'",
                    sd.name
                )))
            }
            _ => {}
        }
        if let Some(f) = &sd.source_file {
            if sd.snapshot.as_deref() != Some("external") {
                return Err(unsupported(format!(
                    "file '{f}' for disk '{}' requires use of external snapshot mode",
                    sd.name
                )));
            }
        }
        sd.name = disks[pos].target_dev.clone();
        requested[pos] = Some(sd);
    }
    for (i, d) in disks.iter().enumerate() {
        let sd = match requested[i].take() {
            Some(sd) => sd,
            None => {
                let empty = d.source.as_deref().unwrap_or("").is_empty();
                let mode = if empty || d.readonly { "no" } else { default };
                SnapshotDisk {
                    name: d.target_dev.clone(),
                    snapshot: Some(mode.to_string()),
                    ..SnapshotDisk::default()
                }
            }
        };
        def.disks.push(sd);
    }
    assign_external_names(def, dom)
}

/// virDomainSnapshotDefAssignExternalNames: `IMAGE.SNAPNAME` next to each disk's image, which
/// must be a regular file of the host.
fn assign_external_names(def: &mut SnapDef, dom: &DomainDef) -> Result<()> {
    let snap_name = def.name.clone();
    for sd in def.disks.iter_mut() {
        if sd.snapshot.as_deref() != Some("external") || sd.source_file.is_some() {
            continue;
        }
        let orig = dom
            .devices
            .disks
            .iter()
            .find(|d| d.target_dev == sd.name)
            .and_then(|d| d.source.clone())
            .ok_or_else(|| {
                unsupported(format!(
                    "cannot generate external snapshot name for disk '{}' without source",
                    sd.name
                ))
            })?;
        if !std::fs::metadata(&orig).is_ok_and(|m| m.is_file()) {
            return Err(unsupported(format!(
                "source for disk '{}' is not a regular file; refusing to generate external snapshot name",
                sd.name
            )));
        }
        let base = match orig.rfind('.') {
            Some(dot) if !orig[dot..].contains('/') => &orig[..dot],
            _ => orig.as_str(),
        };
        sd.source_file = Some(format!("{base}.{snap_name}"));
    }
    Ok(())
}

/// virDomainSnapshotDefFormat: the embedded domain in its inactive form.
pub(crate) fn format(def: &SnapDef, dom_uuid: &uuid::Uuid, secure: bool) -> String {
    let opts = FormatOptions {
        inactive: true,
        id: None,
        secure,
    };
    let mut out = def.to_xml(&opts);
    if def.domain.is_none() {
        let close = "</domainsnapshot>\n";
        if out.ends_with(close) {
            out.truncate(out.len() - close.len());
            out.push_str(&format!(
                "  <domain>\n    <uuid>{}</uuid>\n  </domain>\n{close}",
                dom_uuid.hyphenated()
            ));
        }
    }
    out
}
