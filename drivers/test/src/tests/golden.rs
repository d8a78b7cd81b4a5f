//! Documents compared byte for byte with what virsh 9.0 prints for `test:///default`.

use super::*;
use virtsh_api::{HostDriver, InterfaceDriver, NetworkDriver, StorageDriver};

#[test]
fn domain_xml_live_and_inactive() {
    let c = conn();
    let d = test_dom(&c);
    assert_eq!(c.domain_xml(&d, 0).unwrap(), golden("dom_test_live.xml"));
    assert_eq!(
        c.domain_xml(&d, 2).unwrap(),
        golden("dom_test_inactive.xml")
    );
}

#[test]
fn network_pool_interface_xml() {
    let c = conn();
    let n = c.lookup_network_by_name("default").unwrap();
    assert_eq!(c.network_xml(&n, 0).unwrap(), golden("net_default.xml"));
    let p = c.lookup_pool_by_name("default-pool").unwrap();
    assert_eq!(c.pool_xml(&p, 0).unwrap(), golden("pool_default.xml"));
    let i = c.lookup_interface_by_name("eth1").unwrap();
    assert_eq!(c.interface_xml(&i, 0).unwrap(), golden("iface_eth1.xml"));
}

#[test]
fn host_documents() {
    let c = conn();
    assert_eq!(c.capabilities().unwrap(), golden("capabilities.xml"));
    assert_eq!(c.sysinfo().unwrap(), golden("sysinfo.xml"));
}

#[test]
fn host_facts() {
    let c = conn();
    let n = c.node_info().unwrap();
    assert_eq!(
        (n.model.as_str(), n.memory_kib, n.cpus, n.mhz),
        ("i686", 3145728, 16, 1400)
    );
    assert_eq!((n.nodes, n.sockets, n.cores, n.threads), (2, 2, 2, 2));
    assert_eq!(c.uri().unwrap(), "test:///default");
    assert_eq!(c.hypervisor_type().unwrap(), "TEST");
    assert_eq!(c.hypervisor_version().unwrap(), 2);
    assert_eq!(c.lib_version().unwrap(), 9_000_000);
    assert_eq!(c.max_vcpus(None).unwrap(), 32);
    // virsh freecell: "Total: 3072 KiB"; --all: 2048 and 4096 KiB.
    assert_eq!(c.free_memory().unwrap(), 3145728);
    assert_eq!(c.cells_free_memory(0, 8).unwrap(), vec![2097152, 4194304]);
    assert_eq!(c.cells_free_memory(1, 1).unwrap(), vec![4194304]);
    assert_eq!(
        err(c.cells_free_memory(2, 1)),
        "invalid argument: Range exceeds available cells"
    );
    let m = c.security_model().unwrap();
    assert_eq!((m.model.as_str(), m.doi.as_str()), ("testSecurity", ""));
    assert!(!c.hostname().unwrap().is_empty());
}
