//! Pools and volumes: the 100 GiB pools, allocation bookkeeping, lookups.

use super::*;
use virtsh_api::StorageDriver;

const P1: &str = "<pool type='dir'><name>p1</name><target><path>/p1</path></target></pool>";
const V1: &str = "<volume><name>v1</name><capacity unit='G'>2</capacity>\
                  <allocation>1000</allocation></volume>";
const GIB100: u64 = 107374182400;

#[test]
fn default_pool() {
    let c = conn();
    let p = c.lookup_pool_by_name("default-pool").unwrap();
    let i = c.pool_info(&p).unwrap();
    assert_eq!(
        (i.state, i.capacity, i.allocation, i.available),
        (2, GIB100, 0, GIB100)
    );
    assert!(c.pool_is_persistent(&p).unwrap());
    assert!(c.list_all_volumes(&p, 0).unwrap().is_empty());
    assert_eq!(
        err(c.lookup_pool_by_name("nope")),
        "Storage pool not found: no storage pool with matching name 'nope'"
    );
}

#[test]
fn pool_lifecycle() {
    let c = conn();
    let p = c.define_pool(P1, 0).unwrap();
    assert_eq!(c.pool_info(&p).unwrap().state, 0);
    c.build_pool(&p, 0).unwrap();
    c.start_pool(&p, 0).unwrap();
    let active = "Requested operation is not valid: storage pool 'p1' is active";
    assert_eq!(err(c.start_pool(&p, 0)), active);
    assert_eq!(err(c.build_pool(&p, 0)), active);
    assert_eq!(err(c.undefine_pool(&p)), active);
    assert_eq!(err(c.delete_pool(&p, 0)), active);
    c.refresh_pool(&p, 0).unwrap();
    c.destroy_pool(&p).unwrap();
    let inactive = "Requested operation is not valid: storage pool 'p1' is not active";
    assert_eq!(err(c.destroy_pool(&p)), inactive);
    assert_eq!(err(c.refresh_pool(&p, 0)), inactive);
    assert_eq!(
        err(c.list_all_volumes(&p, 0)),
        "Requested operation is not valid: storage pool is not active"
    );
    c.set_pool_autostart(&p, true).unwrap();
    assert!(c.pool_autostart(&p).unwrap());
    c.delete_pool(&p, 0).unwrap();
    c.undefine_pool(&p).unwrap();
    assert_eq!(c.list_all_pools(0).unwrap().len(), 1);
}

#[test]
fn pool_duplicates_and_transient() {
    let c = conn();
    let dup = "<pool type='dir'><name>p2</name><target><path>/default-pool</path></target></pool>";
    assert_eq!(
        err(c.define_pool(dup, 0)),
        "operation failed: Storage source conflict with pool: 'default-pool'"
    );
    c.define_pool(P1, 0).unwrap();
    let again = err(c.create_pool(P1, 0));
    assert!(
        again.starts_with("operation failed: pool 'p1' already exists with uuid "),
        "{again}"
    );
    let t = c.create_pool(&P1.replace("p1", "t1"), 0).unwrap();
    assert!(!c.pool_is_persistent(&t).unwrap());
    assert!(!c.pool_autostart(&t).unwrap());
    assert_eq!(
        err(c.set_pool_autostart(&t, true)),
        "invalid argument: pool has no config file"
    );
    c.destroy_pool(&t).unwrap();
    assert!(c.lookup_pool_by_name("t1").is_err());
}

#[test]
fn volumes() {
    let c = conn();
    let p = c.define_pool(P1, 0).unwrap();
    c.start_pool(&p, 0).unwrap();
    let v = c.create_vol(&p, V1, 0).unwrap();
    assert_eq!(
        (v.name.as_str(), v.key.as_str(), v.pool.as_str()),
        ("v1", "/p1/v1", "p1")
    );
    assert_eq!(
        err(c.create_vol(&p, V1, 0)),
        "operation failed: storage vol already exists"
    );
    let info = c.vol_info(&v).unwrap();
    assert_eq!(
        (info.vol_type, info.capacity, info.allocation),
        (0, 2147483648, 1000)
    );
    assert_eq!(c.vol_path(&v).unwrap(), "/p1/v1");
    assert_eq!(c.lookup_vol_by_path("/p1/v1").unwrap(), v);
    assert_eq!(c.lookup_vol_by_key("/p1/v1").unwrap(), v);
    assert_eq!(c.lookup_vol_by_name(&p, "v1").unwrap(), v);
    assert_eq!(
        c.vol_xml(&v, 0).unwrap(),
        "<volume type='file'>\n  <name>v1</name>\n  <key>/p1/v1</key>\n  \
         <capacity unit='bytes'>2147483648</capacity>\n  \
         <allocation unit='bytes'>1000</allocation>\n  <target>\n    <path>/p1/v1</path>\n    \
         <format type='raw'/>\n  </target>\n</volume>\n"
    );
    let pi = c.pool_info(&p).unwrap();
    assert_eq!((pi.allocation, pi.available), (1000, GIB100 - 1000));
    assert_eq!(
        err(c.lookup_vol_by_path("/nope")),
        "Storage volume not found: no storage vol with matching path '/nope'"
    );
    assert_eq!(
        err(c.lookup_vol_by_key("nokey")),
        "Storage volume not found: no storage vol with matching key 'nokey'"
    );
    assert_eq!(
        err(c.lookup_vol_by_name(&p, "nope")),
        "Storage volume not found: no storage vol with matching name 'nope'"
    );
    c.delete_vol(&v, 0).unwrap();
    assert_eq!(c.pool_info(&p).unwrap().allocation, 0);
    let huge = "<volume><name>big</name><capacity unit='T'>200</capacity></volume>";
    assert_eq!(
        err(c.create_vol(&p, huge, 0)),
        "internal error: Not enough free space in pool for volume 'big'"
    );
    assert_eq!(
        err(c.create_vol(&p, "<volume><capacity>1</capacity></volume>", 0)),
        "XML error: missing volume name element"
    );
}

#[test]
fn logical_pool_volumes_are_block_devices() {
    let c = conn();
    let xml = "<pool type='logical'><name>p3</name><source><name>vg</name></source>\
               <target><path>/dev/vg</path></target></pool>";
    let p = c.define_pool(xml, 0).unwrap();
    c.start_pool(&p, 0).unwrap();
    let v = c.create_vol(&p, V1, 0).unwrap();
    assert_eq!(c.vol_info(&v).unwrap().vol_type, 1);
    assert_eq!(c.vol_path(&v).unwrap(), "/dev/vg/v1");
}

#[test]
fn redefining_a_pool_keeps_its_definition_but_resets_counters() {
    let c = conn();
    let with_uuid = |path: &str| {
        format!(
            "<pool type='dir'><name>p1</name><uuid>a3096f46-4fb1-4809-be4c-451085effd69</uuid>\
             <target><path>{path}</path></target></pool>"
        )
    };
    let p = c.define_pool(&with_uuid("/p1"), 0).unwrap();
    c.start_pool(&p, 0).unwrap();
    c.create_vol(&p, V1, 0).unwrap();
    c.define_pool(&with_uuid("/p1new"), 0).unwrap();
    assert!(c.pool_xml(&p, 0).unwrap().contains("<path>/p1</path>"));
    assert_eq!(c.pool_info(&p).unwrap().allocation, 0);
    c.destroy_pool(&p).unwrap();
    // Creating over an inactive persistent pool takes the new definition and makes it
    // transient; the volumes stay.
    c.create_pool(&with_uuid("/p1new"), 0).unwrap();
    assert!(c.pool_xml(&p, 0).unwrap().contains("<path>/p1new</path>"));
    assert!(!c.pool_is_persistent(&p).unwrap());
    assert_eq!(c.list_all_volumes(&p, 0).unwrap().len(), 1);
}

#[test]
fn allocation_defaults_to_capacity() {
    let c = conn();
    let p = c.lookup_pool_by_name("default-pool").unwrap();
    let v = c
        .create_vol(
            &p,
            "<volume><name>x</name><capacity>1000</capacity></volume>",
            0,
        )
        .unwrap();
    assert_eq!(c.vol_info(&v).unwrap().allocation, 1000);
    assert_eq!(c.pool_info(&p).unwrap().allocation, 1000);
    assert_eq!(v.key, "/default-pool/x");
}
