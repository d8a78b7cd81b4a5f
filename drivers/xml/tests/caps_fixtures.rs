//! Capabilities: `virsh -c test:///default capabilities` must come back byte for byte from a
//! parsed `Capabilities`, and so must the other recorded documents in tests/data/caps.

#[path = "data/network/harness.rs"]
mod common;

use virtsh_xml::Capabilities;

/// The document virsh printed, without the blank lines virsh adds after it.
fn document(printed: &str) -> String {
    format!("{}\n", printed.trim_end_matches('\n'))
}

fn docs() -> Vec<(String, String)> {
    let dir = common::data_dir("caps");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("caps dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (p.display().to_string(), document(&text))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn test_driver_capabilities_round_trip() {
    let text = document(
        &std::fs::read_to_string(common::data_dir("caps").join("test-default.xml"))
            .expect("fixture"),
    );
    let caps = Capabilities::parse(&text).expect("parse");
    assert_eq!(caps.host.arch.as_deref(), Some("i686"));
    assert_eq!(caps.guests.len(), 2);
    assert_eq!(caps.host.numa_cells.as_ref().map(Vec::len), Some(2));
    assert_eq!(caps.to_xml(), text);
}

#[test]
fn all_recorded_capabilities_round_trip() {
    let all = docs();
    assert!(all.len() >= 3);
    for (name, text) in all {
        let caps = Capabilities::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(caps.to_xml(), text, "{name}");
    }
}

#[test]
fn capabilities_validate_against_schema() {
    // test-custom-node.xml is libvirt's own output that its schema refuses (empty <cells>).
    let outs: Vec<String> = docs()
        .into_iter()
        .filter(|(name, _)| !name.ends_with("test-custom-node.xml"))
        .map(|(_, t)| Capabilities::parse(&t).expect("parse").to_xml())
        .collect();
    common::validate_with_schema("capability", &outs);
}

#[test]
fn built_from_values_like_the_test_driver() {
    use virtsh_xml::capabilities::*;
    // A driver builds its capabilities from values; this one mirrors the test driver's guests.
    let guest = |os: &str| GuestCaps {
        os_type: os.into(),
        arch: GuestArch {
            name: "i686".into(),
            wordsize: 32,
            emulator: Some("/usr/bin/test-hv".into()),
            domains: vec![GuestDomain {
                domain_type: "test".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
        features: ["pae", "nonpae"]
            .iter()
            .map(|n| GuestFeature {
                name: n.to_string(),
                ..Default::default()
            })
            .collect(),
    };
    let caps = Capabilities {
        host: HostCaps {
            arch: Some("i686".into()),
            features: vec!["pae".into(), "nonpae".into()],
            pages: vec![4, 8, 2048, 1048576],
            numa_cells: Some(Vec::new()),
            secmodels: vec![SecModel {
                model: "testSecurity".into(),
                doi: String::new(),
                baselabels: Vec::new(),
            }],
            ..Default::default()
        },
        guests: vec![guest("hvm"), guest("xen")],
        pool_types: Vec::new(),
    };
    let expected = document(
        &std::fs::read_to_string(common::data_dir("caps").join("test-custom-node.xml"))
            .expect("fixture"),
    );
    assert_eq!(caps.to_xml(), expected);
}

#[test]
fn storage_pool_types_section() {
    let caps = Capabilities {
        pool_types: vec!["dir".into(), "fs".into()],
        ..Default::default()
    };
    let xml = caps.to_xml();
    assert_eq!(
        xml,
        "<capabilities>\n\n  <pool>\n    <enum name='type'>\n      <value>dir</value>\n      <value>fs</value>\n    </enum>\n  </pool>\n\n</capabilities>\n"
    );
    assert_eq!(Capabilities::parse(&xml).expect("parse"), caps);
}
