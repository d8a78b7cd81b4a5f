//! Lookups, listing filters and argument checks.

use super::*;
use virtsh_api::flags::list_domains as lf;
use virtsh_api::{ErrorKind, InterfaceDriver};

fn names(c: &TestConnection, flags: u32) -> Vec<String> {
    let mut v: Vec<String> = c
        .list_all_domains(flags)
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    v.sort();
    v
}

#[test]
fn lookups_by_name_id_uuid() {
    let c = conn();
    let uuid = uuid::Uuid::parse_str("6695eb01-f6a4-8304-79aa-97f2502e193f").unwrap();
    let by_id = c.lookup_domain_by_id(1).unwrap();
    let by_uuid = c.lookup_domain_by_uuid(&uuid).unwrap();
    assert_eq!(by_id, by_uuid);
    assert_eq!((by_id.name.as_str(), by_id.id), ("test", 1));
    let e = c.lookup_domain_by_name("nosuch").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NoDomain, "Domain not found")
    );
    assert_eq!(err(c.lookup_domain_by_id(5)), "Domain not found");
    assert_eq!(
        err(c.lookup_domain_by_uuid(&uuid::Uuid::nil())),
        "Domain not found"
    );
    // An inactive domain has no id to be found by.
    define_d1(&c);
    assert!(c.lookup_domain_by_id(-1).is_err());
}

#[test]
fn list_filters() {
    let c = conn();
    let d1 = define_d1(&c);
    c.create_domain(&D1_XML.replace("d1", "tr"), 0).unwrap();
    c.set_domain_autostart(&d1, true).unwrap();
    assert_eq!(names(&c, 0), ["d1", "test", "tr"]);
    assert_eq!(names(&c, lf::ACTIVE), ["test", "tr"]);
    assert_eq!(names(&c, lf::INACTIVE), ["d1"]);
    assert_eq!(names(&c, lf::ACTIVE | lf::INACTIVE), ["d1", "test", "tr"]);
    assert_eq!(names(&c, lf::PERSISTENT), ["d1", "test"]);
    assert_eq!(names(&c, lf::TRANSIENT), ["tr"]);
    assert_eq!(names(&c, lf::SHUTOFF), ["d1"]);
    assert_eq!(names(&c, lf::RUNNING | lf::PAUSED), ["test", "tr"]);
    assert_eq!(names(&c, lf::OTHER), Vec::<String>::new());
    assert_eq!(names(&c, lf::AUTOSTART), ["d1"]);
    assert_eq!(names(&c, lf::NO_AUTOSTART), ["test", "tr"]);
    assert_eq!(names(&c, lf::HAS_SNAPSHOT), Vec::<String>::new());
    assert_eq!(names(&c, lf::NO_SNAPSHOT | lf::INACTIVE), ["d1"]);
    assert_eq!(
        err(c.list_all_domains(1 << 16)),
        "unsupported flags (0x10000) in function testConnectListAllDomains"
    );
}

#[test]
fn interfaces_list_and_lookup() {
    let c = conn();
    let all = c.list_all_interfaces(0).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].name.as_str(), all[0].mac.as_str()),
        ("eth1", "aa:bb:cc:dd:ee:ff")
    );
    assert!(c.list_all_interfaces(1).unwrap().is_empty()); // inactive
    assert_eq!(c.list_all_interfaces(2).unwrap().len(), 1);
    assert_eq!(
        c.lookup_interface_by_mac("AA:BB:CC:DD:EE:FF").unwrap().name,
        "eth1"
    );
    assert_eq!(
        err(c.lookup_interface_by_mac("00:11:22:33:44:55")),
        "Interface not found: no interface with matching mac '00:11:22:33:44:55'"
    );
    assert_eq!(
        err(c.lookup_interface_by_name("nope")),
        "Interface not found: no interface with matching name 'nope'"
    );
    let eth1 = &all[0];
    assert!(c.interface_is_active(eth1).unwrap());
    assert_eq!(
        err(c.interface_xml(eth1, 1)),
        "unsupported flags (0x1) in function testInterfaceGetXMLDesc"
    );
    c.destroy_interface(eth1, 0).unwrap();
    assert_eq!(c.list_all_interfaces(1).unwrap().len(), 1);
    assert_eq!(
        err(c.destroy_interface(eth1, 0)),
        "Requested operation is not valid"
    );
    c.start_interface(eth1, 0).unwrap();
    assert_eq!(
        err(c.start_interface(eth1, 0)),
        "Requested operation is not valid"
    );
    c.undefine_interface(eth1).unwrap();
    assert!(c.list_all_interfaces(0).unwrap().is_empty());
}

#[test]
fn xml_errors_map_to_libvirt_messages() {
    let c = conn();
    let malformed = "<domain type=\"test\">\n  <name>x</name>\n  <memory>1024\n</domain>\n";
    let e = c.define_domain(malformed, 0).unwrap_err();
    assert_eq!(e.kind, ErrorKind::XmlDetail);
    // libvirt then prints a caret under column 10 ("---------^"); the column comes from the
    // XML layer.
    assert!(
        e.message.starts_with(
            "(domain_definition):4: Opening and ending tag mismatch: memory line 3 and domain\n\
             </domain>\n"
        ),
        "{}",
        e.message
    );
    let noname =
        "<domain type=\"test\">\n  <memory>1024</memory>\n<os><type>hvm</type></os></domain>";
    assert_eq!(err(c.define_domain(noname, 0)), "missing name information");
    let nomem = "<domain type='test'><name>n</name><os><type>hvm</type></os></domain>";
    assert_eq!(
        err(c.define_domain(nomem, 0)),
        "XML error: Memory size must be specified via <memory> or in the <numa> configuration"
    );
    let newline = "<domain type='test'><name>a\nb</name><memory>1024</memory>\
        <os><type>hvm</type></os></domain>";
    assert_eq!(err(c.define_domain(newline, 0)), "invalid char in name: \n");
    assert_eq!(
        err(c.define_domain(D1_XML, 2)),
        "unsupported flags (0x2) in function testDomainDefineXMLFlags"
    );
}
