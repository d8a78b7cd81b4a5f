//! Snapshots: creation, current and parent bookkeeping, listing filters, deletion.

use super::*;
use virtsh_api::flags::{snapshot_create as cf, snapshot_list as lf, undefine};
use virtsh_api::DomainSnapshot;

fn names(v: Vec<DomainSnapshot>) -> Vec<String> {
    v.into_iter().map(|s| s.name).collect()
}

fn snap(c: &TestConnection, d: &Domain, name: &str) -> DomainSnapshot {
    let xml = format!("<domainsnapshot><name>{name}</name></domainsnapshot>");
    c.create_snapshot(d, &xml, 0).unwrap()
}

#[test]
fn create_current_parent_and_xml() {
    let c = conn();
    let t = test_dom(&c);
    assert_eq!(c.current_snapshot(&t).unwrap(), None);
    let first = c.create_snapshot(&t, "<domainsnapshot/>", 0).unwrap();
    assert!(
        first.name.parse::<i64>().is_ok(),
        "named after its creation time"
    );
    let s1 = c
        .create_snapshot(
            &t,
            "<domainsnapshot><name>s1</name><description>hello</description></domainsnapshot>",
            0,
        )
        .unwrap();
    let s2 = snap(&c, &t, "s2");
    assert_eq!(c.current_snapshot(&t).unwrap(), Some(s2.clone()));
    assert_eq!(c.snapshot_parent(&s2).unwrap(), Some(s1.clone()));
    assert_eq!(c.snapshot_parent(&first).unwrap(), None);
    let x = c.snapshot_xml(&s1, 0).unwrap();
    let head = format!(
        "<domainsnapshot>\n  <name>s1</name>\n  <description>hello</description>\n  \
         <state>running</state>\n  <parent>\n    <name>{}</name>\n  </parent>\n  <creationTime>",
        first.name
    );
    assert!(x.starts_with(&head), "{x}");
    assert!(x.contains(
        "  <memory snapshot='internal'/>\n  <disks>\n    <disk name='vda' snapshot='internal'/>\n  \
         </disks>\n  <domain type='test'>\n    <name>test</name>\n"
    ));
    assert!(x.ends_with("  </domain>\n</domainsnapshot>\n"));
    assert_eq!(
        err(c.create_snapshot(&t, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)),
        "operation failed: domain moment s1 already exists"
    );
    assert_eq!(
        err(c.lookup_snapshot(&t, "nope")),
        "Domain snapshot not found: no domain snapshot with matching name 'nope'"
    );
    assert_eq!(
        err(c.create_snapshot(&t, D1_XML, 0)),
        "XML error: expecting root element of 'domainsnapshot', not 'domain'"
    );
}

#[test]
fn shutoff_snapshots_and_disk_rules() {
    let c = conn();
    let d1 = define_d1(&c);
    let a = snap(&c, &d1, "a");
    let x = c.snapshot_xml(&a, 0).unwrap();
    assert!(x.contains("<state>shutoff</state>"), "{x}");
    assert!(
        x.contains("<memory snapshot='no'/>\n  <domain type='test'>"),
        "{x}"
    );
    let t = test_dom(&c);
    let bad = "<domainsnapshot><disks><disk name='vda' snapshot='no'/></disks></domainsnapshot>";
    assert_eq!(
        err(c.create_snapshot(&t, bad, 0)),
        "unsupported configuration: disk 'vda' must use snapshot mode 'internal'"
    );
    let ext = "<domainsnapshot><name>e</name><memory file='/tmp/m'/></domainsnapshot>";
    assert_eq!(
        err(c.create_snapshot(&t, ext, 0)),
        "unsupported configuration: source for disk 'vda' is not a regular file; refusing to \
         generate external snapshot name"
    );
}

#[test]
fn list_filters_and_tree() {
    let c = conn();
    let d1 = define_d1(&c);
    let a = snap(&c, &d1, "a");
    snap(&c, &d1, "b");
    snap(&c, &d1, "c");
    let t = test_dom(&c);
    snap(&c, &t, "r");
    assert_eq!(names(c.list_snapshots(&d1, 0).unwrap()), ["a", "b", "c"]);
    assert_eq!(names(c.list_snapshots(&d1, lf::ROOTS).unwrap()), ["a"]);
    assert_eq!(names(c.list_snapshots(&d1, lf::LEAVES).unwrap()), ["c"]);
    assert_eq!(
        names(c.list_snapshots(&d1, lf::NO_LEAVES).unwrap()),
        ["a", "b"]
    );
    assert_eq!(
        names(c.list_snapshots(&d1, lf::INACTIVE).unwrap()),
        ["a", "b", "c"]
    );
    assert!(c.list_snapshots(&d1, lf::ACTIVE).unwrap().is_empty());
    assert_eq!(names(c.list_snapshots(&t, lf::ACTIVE).unwrap()), ["r"]);
    assert!(c.list_snapshots(&d1, lf::NO_METADATA).unwrap().is_empty());
    assert!(c.list_snapshots(&d1, lf::EXTERNAL).unwrap().is_empty());
    assert_eq!(c.list_snapshots(&d1, lf::INTERNAL).unwrap().len(), 3);
    assert_eq!(names(c.snapshot_children(&a, 0).unwrap()), ["b"]);
    assert_eq!(
        names(c.snapshot_children(&a, lf::DESCENDANTS).unwrap()),
        ["b", "c"]
    );
    assert_eq!(
        err(c.list_snapshots(&d1, 1 << 11)),
        "unsupported flags (0x800) in function testDomainListAllSnapshots"
    );
}

#[test]
fn delete_reparents_and_moves_current() {
    let c = conn();
    let d1 = define_d1(&c);
    let a = snap(&c, &d1, "a");
    snap(&c, &d1, "b");
    snap(&c, &d1, "c");
    c.revert_to_snapshot(&a, 0).unwrap();
    let d = snap(&c, &d1, "d");
    assert_eq!(
        err(c.undefine_domain(&d1, 0)),
        "Requested operation is not valid: cannot delete inactive domain with 4 snapshots"
    );
    c.delete_snapshot(&a, 0).unwrap();
    // a's children became roots, newest-linked first.
    assert_eq!(names(c.list_snapshots(&d1, lf::ROOTS).unwrap()), ["d", "b"]);
    assert_eq!(c.current_snapshot(&d1).unwrap(), Some(d.clone()));
    c.delete_snapshot(&d, 0).unwrap();
    assert_eq!(c.current_snapshot(&d1).unwrap(), None);
    let b = c.lookup_snapshot(&d1, "b").unwrap();
    c.delete_snapshot(&b, 4).unwrap(); // children only
    assert_eq!(names(c.list_snapshots(&d1, 0).unwrap()), ["b"]);
    c.undefine_domain(&d1, undefine::SNAPSHOTS_METADATA)
        .unwrap();
}

#[test]
fn halt_redefine_and_revert() {
    let c = conn();
    let t = test_dom(&c);
    let s = c
        .create_snapshot(
            &t,
            "<domainsnapshot><name>h</name></domainsnapshot>",
            cf::HALT,
        )
        .unwrap();
    assert_eq!(state(&c, &t), (5, 7)); // shut off (from snapshot)
    c.revert_to_snapshot(&s, 0).unwrap();
    assert_eq!(state(&c, &t), (1, 4)); // running (from snapshot)
    assert_eq!(c.lookup_domain_by_name("test").unwrap().id, 2);
    let tr = c.create_domain(&D1_XML.replace("d1", "tr"), 0).unwrap();
    assert_eq!(
        err(c.create_snapshot(&tr, "<domainsnapshot/>", cf::HALT)),
        "Requested operation is not valid: cannot halt after transient domain snapshot"
    );
    let bare = "<domainsnapshot><name>old</name><state>shutoff</state>\
                <creationTime>1000</creationTime></domainsnapshot>";
    assert_eq!(
        err(c.create_snapshot(&t, bare, cf::REDEFINE)),
        "internal error: missing domain in snapshot"
    );
    let orphan = bare.replace("</state>", "</state><parent><name>nope</name></parent>");
    assert_eq!(
        err(c.create_snapshot(&t, &orphan, cf::REDEFINE)),
        "invalid argument: parent nope for moment old not found"
    );
    let h_xml = c.snapshot_xml(&s, 0).unwrap();
    let creation = h_xml
        .lines()
        .find(|l| l.contains("<creationTime>"))
        .unwrap()
        .trim()
        .to_string();
    let redefined = h_xml
        .replace("<name>h</name>", "<name>old</name>")
        .replace(&creation, "<creationTime>1000</creationTime>");
    let old = c.create_snapshot(&t, &redefined, cf::REDEFINE).unwrap();
    assert_eq!(
        c.current_snapshot(&t).unwrap().map(|s| s.name),
        Some(s.name)
    );
    assert!(c
        .snapshot_xml(&old, 0)
        .unwrap()
        .contains("<creationTime>1000</creationTime>"));
    assert_eq!(
        err(c.create_snapshot(&t, "<domainsnapshot/>", cf::REDEFINE)),
        "XML error: a redefined snapshot must have a name"
    );
}
