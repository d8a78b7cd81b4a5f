//! Snapshot XML against `virsh snapshot-dumpxml` of libvirt 9.0's test driver (fixtures in
//! tests/data/snapshot, see its README), with the steps the test driver takes at
//! snapshot-create: state from the domain, internal memory and disks, the parent, and the
//! domain definition embedded.

use std::fs;
use std::path::{Path, PathBuf};
use virtsh_xml::domain::{DomainDef, FormatOptions};
use virtsh_xml::snapshot::{SnapshotDef, SnapshotMemory};

fn data(name: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/snapshot")
        .join(name);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn create(input: &str, parent: Option<&str>, time: i64) -> SnapshotDef {
    let domain = DomainDef::parse(&data("test-domain.xml")).expect("test domain");
    let mut s = SnapshotDef::parse(input).expect("snapshot input");
    s.state = "running".into();
    s.creation_time = time;
    s.parent = parent.map(str::to_string);
    s.memory = Some(SnapshotMemory {
        snapshot: "internal".into(),
        file: None,
    });
    s.align_disks(&domain, "internal").expect("align");
    s.domain = Some(domain);
    s
}

#[test]
fn snapshot_with_description_matches_virsh() {
    let s = create(&data("s1.xml"), None, 1_700_000_000);
    assert_eq!(s.to_xml(&FormatOptions::default()), data("s1.expected.xml"));
}

#[test]
fn child_snapshot_matches_virsh() {
    let s = create(
        "<domainsnapshot><name>s2</name></domainsnapshot>",
        Some("s1"),
        1_700_000_001,
    );
    let opts = FormatOptions {
        secure: true,
        ..Default::default()
    };
    assert_eq!(s.to_xml(&opts), data("s2.expected.xml"));
}

#[test]
fn dumped_snapshot_redefines_to_itself() {
    let xml = data("s2.expected.xml");
    let s = SnapshotDef::parse_redefine(&xml).expect("redefine");
    assert_eq!(s.parent.as_deref(), Some("s1"));
    assert_eq!(
        s.to_xml(&FormatOptions {
            secure: true,
            ..Default::default()
        }),
        xml
    );
}
