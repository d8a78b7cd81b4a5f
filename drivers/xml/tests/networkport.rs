//! `<networkport>` against libvirt 9.0's own test data: every file of
//! tests/virnetworkportxml2xmldata (copied into tests/networkport/) must come back byte for
//! byte from parse + format, as virnetworkportxml2xmltest checks, and validate against
//! libvirt's networkport.rng.

#[path = "data/network/harness.rs"]
mod common;

use std::path::Path;

use virtsh_xml::network::{NetworkPortDef, PortPlug};

fn cases() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/networkport");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                text,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn networkport_round_trips_like_libvirt() {
    let mut checked = 0;
    for (name, xml) in cases() {
        let def = NetworkPortDef::parse(&xml).unwrap_or_else(|e| {
            panic!(
                "{name}: {}",
                e.libvirt_message("networkport_definition", &xml)
            )
        });
        assert_eq!(def.to_xml(), xml, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 7, "libvirt 9.0 has 7 networkport cases");
}

#[test]
fn networkport_plugs_parse_to_their_types() {
    for (name, xml) in cases() {
        let def = NetworkPortDef::parse(&xml).expect("parse");
        let want = name
            .trim_end_matches(".xml")
            .trim_start_matches("plug-")
            .replace("-mactbl", "")
            .replace("-unmanaged", "");
        assert_eq!(def.plug.type_name(), want, "{name}");
        match &def.plug {
            PortPlug::Bridge { bridge, .. } | PortPlug::Network { bridge, .. } => {
                assert_eq!(bridge, "virbr0")
            }
            PortPlug::HostdevPci { address, .. } => {
                assert_eq!((address.domain, address.bus, address.slot), (1, 2, 3))
            }
            _ => {}
        }
    }
}

#[test]
fn networkport_outputs_validate_against_schema() {
    let outs: Vec<String> = cases()
        .into_iter()
        .map(|(_, xml)| NetworkPortDef::parse(&xml).expect("parse").to_xml())
        .collect();
    common::validate_with_schema("networkport", &outs);
}
