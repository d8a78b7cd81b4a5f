//! Networks: define/create/start/destroy/undefine, autostart, bridge name.

use super::*;
use virtsh_api::flags::list_networks as lf;
use virtsh_api::NetworkDriver;

const N1: &str = "<network><name>n1</name><bridge name='br5'/></network>";
const N2: &str = "<network><name>n2</name></network>";

fn names(c: &TestConnection, flags: u32) -> Vec<String> {
    let mut v: Vec<String> = c
        .list_all_networks(flags)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    v.sort();
    v
}

#[test]
fn default_network() {
    let c = conn();
    let n = c.lookup_network_by_name("default").unwrap();
    assert_eq!(
        n.uuid.hyphenated().to_string(),
        "dd8fe884-6c02-601e-7551-cca97df1c5df"
    );
    assert_eq!(c.lookup_network_by_uuid(&n.uuid).unwrap(), n);
    assert!(c.network_is_active(&n).unwrap());
    assert!(c.network_is_persistent(&n).unwrap());
    assert!(!c.network_autostart(&n).unwrap());
    assert_eq!(c.network_bridge_name(&n).unwrap(), "virbr0");
    assert_eq!(
        err(c.lookup_network_by_name("nope")),
        "Network not found: no network with matching name 'nope'"
    );
    assert_eq!(
        err(c.lookup_network_by_uuid(&uuid::Uuid::nil())),
        "Network not found: no network with matching uuid '00000000-0000-0000-0000-000000000000'"
    );
    assert_eq!(
        err(c.network_xml(&n, 1)),
        "unsupported flags (0x1) in function testNetworkGetXMLDesc"
    );
}

#[test]
fn define_start_destroy_undefine() {
    let c = conn();
    let n1 = c.define_network(N1, 0).unwrap();
    assert_eq!(names(&c, lf::INACTIVE), ["n1"]);
    assert_eq!(c.network_bridge_name(&n1).unwrap(), "br5");
    c.start_network(&n1).unwrap();
    assert_eq!(
        err(c.start_network(&n1)),
        "Requested operation is not valid: Network 'n1' is already running"
    );
    c.destroy_network(&n1).unwrap();
    // The test driver does not mind destroying an inactive network.
    c.destroy_network(&n1).unwrap();
    let default = c.lookup_network_by_name("default").unwrap();
    assert_eq!(
        err(c.undefine_network(&default)),
        "Requested operation is not valid: Network 'default' is still running"
    );
    c.set_network_autostart(&n1, true).unwrap();
    assert_eq!(names(&c, lf::AUTOSTART), ["n1"]);
    assert_eq!(names(&c, lf::NO_AUTOSTART), ["default"]);
    let again = err(c.define_network(N1, 0));
    assert!(
        again.starts_with("operation failed: network 'n1' already exists with uuid "),
        "{again}"
    );
    c.undefine_network(&n1).unwrap();
    assert_eq!(names(&c, 0), ["default"]);
}

#[test]
fn create_is_transient() {
    let c = conn();
    let n2 = c.create_network(N2, 0).unwrap();
    assert!(c.network_is_active(&n2).unwrap());
    assert!(!c.network_is_persistent(&n2).unwrap());
    assert_eq!(names(&c, lf::TRANSIENT), ["n2"]);
    assert_eq!(
        err(c.network_bridge_name(&n2)),
        "internal error: network 'n2' does not have a bridge name."
    );
    assert_eq!(
        c.network_xml(&n2, 0).unwrap(),
        format!(
            "<network>\n  <name>n2</name>\n  <uuid>{}</uuid>\n  <bridge stp='on' delay='0'/>\n</network>\n",
            n2.uuid.hyphenated()
        )
    );
    c.destroy_network(&n2).unwrap();
    assert_eq!(names(&c, 0), ["default"]);
}

#[test]
fn parse_errors() {
    let c = conn();
    assert_eq!(
        err(c.define_network("<network><bridge name='x'/></network>", 0)),
        "missing name information"
    );
    let bad = "<domain type=\"test\">\n  <name>x</name>\n  <memory>1024\n</domain>\n";
    assert!(err(c.define_network(bad, 0)).starts_with(
        "(network_definition):4: Opening and ending tag mismatch: memory line 3 and domain\n\
         </domain>\n"
    ));
    assert_eq!(
        err(c.create_network(D1_XML, 0)),
        "XML error: expecting root element of 'network', not 'domain'"
    );
}

#[test]
fn redefining_an_active_network_parks_the_config() {
    let c = conn();
    let n = c.lookup_network_by_name("default").unwrap();
    let xml7 = c.network_xml(&n, 0).unwrap().replace("virbr0", "virbr7");
    c.define_network(&xml7, 0).unwrap();
    // The test driver keeps showing (and never swaps in) the live definition.
    assert_eq!(c.network_bridge_name(&n).unwrap(), "virbr0");
    c.destroy_network(&n).unwrap();
    assert_eq!(c.network_bridge_name(&n).unwrap(), "virbr0");
    // Creating over the inactive persistent network replaces the live definition.
    c.create_network(&xml7, 0).unwrap();
    assert_eq!(c.network_bridge_name(&n).unwrap(), "virbr7");
    assert!(c.network_is_persistent(&n).unwrap());
    c.destroy_network(&n).unwrap();
    assert_eq!(names(&c, lf::INACTIVE | lf::PERSISTENT), ["default"]);
    assert_eq!(
        err(c
            .create_network(&xml7.replace("virbr7", "x"), 0)
            .and_then(|_| { c.create_network(&xml7, 0) })),
        "Requested operation is not valid: network is already active as 'default'"
    );
}
