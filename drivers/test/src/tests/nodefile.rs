//! Node files: host description, objects inline and in files, test namespace extras.

use super::*;
use crate::open;
use virtsh_api::{HostDriver, InterfaceDriver, NetworkDriver, StorageDriver, Uri};

fn open_node(name: &str) -> Result<TestConnection> {
    let uri = Uri::parse(&format!("test://{}", data_path(&format!("node/{name}")))).unwrap();
    open(&uri)
}

#[test]
fn node_file_objects_and_states() {
    let c = open_node("node.xml").unwrap();
    let n = c.node_info().unwrap();
    assert_eq!(
        (n.model.as_str(), n.cpus, n.mhz, n.memory_kib),
        ("i986", 50, 6000, 8192000)
    );
    assert_eq!((n.nodes, n.sockets, n.cores, n.threads), (4, 4, 4, 2));
    let id = |name: &str| c.lookup_domain_by_name(name).unwrap().id;
    assert_eq!((id("run1"), id("pause1"), id("filedom")), (1, 2, 3));
    assert_eq!((id("off1"), id("ms1")), (-1, -1));
    let pause1 = c.lookup_domain_by_name("pause1").unwrap();
    assert_eq!(state(&c, &pause1), (3, 0)); // paused (unknown)
    assert!(!c.domain_is_persistent(&pause1).unwrap());
    let ms1 = c.lookup_domain_by_name("ms1").unwrap();
    assert_eq!(state(&c, &ms1), (5, 0));
    assert!(c.domain_has_managed_save(&ms1).unwrap());
    let off1 = c.lookup_domain_by_name("off1").unwrap();
    assert_eq!(
        off1.uuid.hyphenated().to_string(),
        "11111111-2222-3333-4444-555555555555"
    );
    let filedom = c.lookup_domain_by_name("filedom").unwrap();
    let x = c.domain_xml(&filedom, 0).unwrap();
    assert!(x.starts_with("<domain type='test' id='3'>"), "{x}");
    assert!(x.contains("<target dev='testnet1'/>"), "{x}");
    // vCPUs run on the last CPU of the topology (4*4*4*2 = 128).
    let run1 = c.lookup_domain_by_name("run1").unwrap();
    assert_eq!(c.domain_vcpu_info(&run1).unwrap()[0].cpu, 127);
    let net = c.lookup_network_by_name("fnet").unwrap();
    assert!(c.network_is_active(&net).unwrap() && c.network_is_persistent(&net).unwrap());
    // A pool read with file= loses the volumes listed under its node element.
    let pool = c.lookup_pool_by_name("fpool").unwrap();
    assert!(c.list_all_volumes(&pool, 0).unwrap().is_empty());
    assert_eq!(
        c.lookup_interface_by_name("eth9").unwrap().mac,
        "00:11:22:33:44:55"
    );
    // No NUMA cells in node files.
    assert_eq!(c.free_memory().unwrap(), 0);
    assert!(c.cells_free_memory(0, 1).is_err());
    assert!(c
        .capabilities()
        .unwrap()
        .contains("<cells num='0'>\n      </cells>"));
    assert_eq!(
        c.uri().unwrap(),
        format!("test://{}", data_path("node/node.xml"))
    );
}

#[test]
fn inline_pool_volumes() {
    let c = open_node("node2.xml").unwrap();
    assert!(c.list_all_domains(0).unwrap().is_empty());
    let p = c.lookup_pool_by_name("ipool").unwrap();
    let mut vols: Vec<_> = c.list_all_volumes(&p, 0).unwrap();
    vols.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(vols.len(), 2);
    assert_eq!(
        (vols[0].name.as_str(), vols[0].key.as_str()),
        ("fvol", "/ipool/fvol")
    );
    assert_eq!(
        (vols[1].name.as_str(), vols[1].key.as_str()),
        ("inl", "/custom/inl")
    );
    let info = c.pool_info(&p).unwrap();
    assert_eq!((info.allocation, info.available), (1500, 107374180900));
    assert_eq!(c.node_info().unwrap().cpus, 16);
}

#[test]
fn snapshots_in_node_files() {
    let c = open_node("snap.xml").unwrap();
    let d = c.lookup_domain_by_name("snapdom").unwrap();
    let cur = c.current_snapshot(&d).unwrap().unwrap();
    assert_eq!(cur.name, "child");
    let base = c.snapshot_parent(&cur).unwrap().unwrap();
    assert_eq!(base.name, "base");
    assert_eq!(
        c.snapshot_xml(&base, 0).unwrap(),
        "<domainsnapshot>\n  <name>base</name>\n  <state>shutoff</state>\n  \
         <creationTime>1000</creationTime>\n  <memory snapshot='no'/>\n  <domain>\n    \
         <uuid>22222222-3333-4444-5555-666666666666</uuid>\n  </domain>\n</domainsnapshot>\n"
    );
}

#[test]
fn open_errors() {
    let e = |uri: &str| err(open(&Uri::parse(uri).unwrap()));
    assert_eq!(
        e("test:///"),
        "invalid argument: testOpen: supply a path or use test:///default"
    );
    assert_eq!(
        e("test://"),
        "invalid argument: testOpen: supply a path or use test:///default"
    );
    assert_eq!(
        e("test:///nonexistent.xml"),
        "XML error: failed to parse xml document '/nonexistent.xml'"
    );
    let path = data_path("node/dom.xml");
    assert_eq!(
        e(&format!("test://{path}")),
        "XML error: expecting root element of 'node', not 'domain'"
    );
    assert_eq!(
        err(open_node("badstate.xml")),
        "XML error: transient domain cannot have runstate 'shutoff'"
    );
    assert_eq!(
        err(open_node("badcpu.xml")),
        "XML error: invalid node cpu nodes value"
    );
    let m = err(open_node("malformed.xml"));
    assert_eq!(
        m,
        format!(
            "{}:2: Premature end of data in tag bad line 1\n(null)\n^",
            data_path("node/malformed.xml")
        )
    );
}

#[test]
fn default_connections_share_state() {
    let uri = Uri::parse("test:///default").unwrap();
    let a = open(&uri).unwrap();
    let b = open(&uri).unwrap();
    let name = "shared-state-probe";
    a.define_domain(&D1_XML.replace("d1", name), 0).unwrap();
    assert!(b.lookup_domain_by_name(name).is_ok());
    b.undefine_domain(&b.lookup_domain_by_name(name).unwrap(), 0)
        .unwrap();
}
