//! Storage volume XML against real virsh 9.0 (`vol-create` + `vol-dumpxml` on the test driver,
//! see tests/data/vol/regen.sh), errors included, and `vol-create-as --print-xml`.

#[path = "data/network/harness.rs"]
mod common;

use virtsh_xml::{vol_def_from_args, StorageVolDef};

/// Which pool a fixture was created in by regen.sh, and that pool's target path.
fn pool_of(name: &str) -> (&'static str, &'static str) {
    if name.starts_with("disk-") {
        ("disk", "/dev")
    } else if name.starts_with("logical-") {
        ("logical", "/dev/vg")
    } else {
        ("dir", "/default-pool")
    }
}

/// What the test driver does on vol-create: the path is the pool's target path plus the name,
/// and the key is the path.
fn as_test_driver(mut def: StorageVolDef, pool_path: &str) -> StorageVolDef {
    let path = format!("{pool_path}/{}", def.name);
    def.target_path = Some(path.clone());
    def.key = Some(path);
    def
}

#[test]
fn vol_outputs_match_virsh() {
    let mut n = 0;
    for (name, input, expected) in common::ok_fixtures("vol") {
        let (pool_type, pool_path) = pool_of(&name);
        let def = StorageVolDef::parse(&input, pool_type).unwrap_or_else(|e| {
            panic!(
                "{name}: {}",
                e.libvirt_message("storage_volume_definition", &input)
            )
        });
        let out = as_test_driver(def, pool_path).to_xml();
        assert_eq!(out, expected, "{name}");
        let again = StorageVolDef::parse(&out, pool_type)
            .expect("reparse")
            .to_xml();
        assert_eq!(again, out, "{name}: not stable under reparse");
        n += 1;
    }
    assert!(n >= 6, "only {n} volume fixtures");
}

#[test]
fn vol_errors_match_virsh() {
    let mut n = 0;
    for (name, input, expected) in common::err_fixtures("vol") {
        let err = match StorageVolDef::parse(&input, "dir") {
            Ok(_) => panic!("{name}: accepted, virsh said: {expected}"),
            Err(e) => e,
        };
        let msg = err.libvirt_message("storage_volume_definition", &input);
        assert_eq!(msg.lines().next().unwrap_or(""), expected, "{name}");
        assert!(err.line.is_some(), "{name}: no position");
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn vol_outputs_validate_against_schema() {
    let docs: Vec<String> = common::ok_fixtures("vol")
        .into_iter()
        .map(|(name, i, _)| {
            let (t, p) = pool_of(&name);
            as_test_driver(StorageVolDef::parse(&i, t).expect("parse"), p).to_xml()
        })
        .collect();
    common::validate_with_schema("storagevol", &docs);
}

#[test]
fn runtime_fields_format_like_libvirt() {
    let mut def = StorageVolDef::parse(
        "<volume><name>lv</name><capacity>4096</capacity></volume>",
        "logical",
    )
    .expect("parse");
    def.physical = Some(8192);
    def.source_extents = vec![
        ("/dev/sda1".into(), 0, 1024),
        ("/dev/sda1".into(), 2048, 4096),
        ("/dev/sdb1".into(), 0, 512),
    ];
    def.timestamps = Some(virtsh_xml::storage_vol::VolTimestamps {
        atime: Some((1700000000, 5)),
        mtime: Some((1700000001, 0)),
        ..Default::default()
    });
    let out = def.to_xml();
    let expected = "<volume type='file'>
  <name>lv</name>
  <source>
    <device path='/dev/sda1'>
      <extent start='0' end='1024'/>
      <extent start='2048' end='4096'/>
    </device>
    <device path='/dev/sdb1'>
      <extent start='0' end='512'/>
    </device>
  </source>
  <capacity unit='bytes'>4096</capacity>
  <allocation unit='bytes'>4096</allocation>
  <physical unit='bytes'>8192</physical>
  <target>
    <timestamps>
      <atime>1700000000.000000005</atime>
      <mtime>1700000001</mtime>
    </timestamps>
  </target>
</volume>
";
    assert_eq!(out, expected);
}

#[test]
fn vol_create_as_matches_virsh_print_xml() {
    // Expected texts: `virsh -c test:///default vol-create-as default-pool ... --print-xml`.
    let dir = common::data_dir("vol").join("create-as");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("fixture");
    assert_eq!(
        vol_def_from_args("a.img", "1G", None, None, None, None).unwrap(),
        read("plain.xml")
    );
    assert_eq!(
        vol_def_from_args("b.qcow2", "10GB", Some("0"), Some("qcow2"), None, None).unwrap(),
        read("format.xml")
    );
    assert_eq!(
        vol_def_from_args(
            "c.qcow2",
            "512MiB",
            Some("1k"),
            Some("qcow2"),
            Some("/default-pool/base.img"),
            Some("raw")
        )
        .unwrap(),
        read("backing.xml")
    );
    assert_eq!(
        vol_def_from_args("d", "100", None, None, None, None).unwrap(),
        read("bytes.xml")
    );
    assert_eq!(
        vol_def_from_args("e", "10Q", None, None, None, None).unwrap_err(),
        "Malformed size 10Q"
    );
    assert_eq!(
        vol_def_from_args("e", "1G", Some("-1"), None, None, None).unwrap_err(),
        "Malformed size -1"
    );
}
