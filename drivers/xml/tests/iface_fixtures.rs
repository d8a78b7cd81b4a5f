//! Host interface XML against real virsh 9.0 (`iface-define` + `iface-dumpxml` on the test
//! driver, see tests/data/iface/regen.sh), errors included.

#[path = "data/network/harness.rs"]
mod common;

use virtsh_xml::InterfaceDef;

#[test]
fn iface_outputs_match_virsh() {
    let mut n = 0;
    for (name, input, expected) in common::ok_fixtures("iface") {
        let def = InterfaceDef::parse(&input).unwrap_or_else(|e| {
            panic!(
                "{name}: {}",
                e.libvirt_message("interface_definition", &input)
            )
        });
        let out = def.to_xml();
        assert_eq!(out, expected, "{name}");
        assert_eq!(
            InterfaceDef::parse(&out).expect("reparse").to_xml(),
            out,
            "{name}"
        );
        n += 1;
    }
    assert!(n >= 4, "only {n} interface fixtures");
}

#[test]
fn iface_errors_match_virsh() {
    let mut n = 0;
    for (name, input, expected) in common::err_fixtures("iface") {
        let err = match InterfaceDef::parse(&input) {
            Ok(_) => panic!("{name}: accepted, virsh said: {expected}"),
            Err(e) => e,
        };
        let msg = err.libvirt_message("interface_definition", &input);
        assert_eq!(msg.lines().next().unwrap_or(""), expected, "{name}");
        assert!(err.line.is_some(), "{name}: no position");
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn iface_outputs_validate_against_schema() {
    let docs: Vec<String> = common::ok_fixtures("iface")
        .into_iter()
        .map(|(_, i, _)| InterfaceDef::parse(&i).expect("parse").to_xml())
        .collect();
    common::validate_with_schema("interface", &docs);
}

#[test]
fn bad_bridge_stp_is_accepted_and_dropped_like_libvirt() {
    // libvirt reports the bad value but its parser still succeeds; virsh defines the interface.
    let def = InterfaceDef::parse(
        "<interface type='bridge' name='br7'><bridge stp='maybe'/></interface>",
    )
    .expect("parse");
    assert_eq!(
        def.to_xml(),
        "<interface type='bridge' name='br7'>\n  <bridge>\n  </bridge>\n</interface>\n"
    );
}
