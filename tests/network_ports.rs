//! Network ports (net-port-list, net-port-create, net-port-dumpxml, net-port-delete) of a
//! network virtsh runs itself, end to end through the binary, inside a network namespace the
//! test creates: an isolated network without addresses (a bridge and its firewall rules, no
//! dnsmasq), ports created from a file, listed, shown, counted as the network's connections,
//! deleted, and gone with the network.

mod support;

use support::netns::{have_tools, NetNs};
use support::Embed;

const PORT: &str = "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
const OTHER: &str = "0a2f9e44-1d1c-4a5e-9c3b-7e1f00c0ffee";

/// Field order is drop order: the virtsh root first, then the namespace it ran in.
struct World {
    env: Embed,
    _ns: NetNs,
}

impl World {
    fn new(tag: &str) -> World {
        let ns = NetNs::new("p");
        let mut env = Embed::new(tag);
        env.netns = Some(ns.name.clone());
        World { env, _ns: ns }
    }

    /// Write `text` into the root; its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.env.root.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path.to_str().expect("utf-8 path").to_string()
    }

    fn ports_dir(&self, network: &str) -> std::path::PathBuf {
        self.env.root.join(format!("run/network/{network}.ports"))
    }
}

fn port_xml(uuid: &str, mac: &str) -> String {
    format!(
        "<networkport>
  <uuid>{uuid}</uuid>
  <owner>
    <name>memtest</name>
    <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>
  </owner>
  <mac address='{mac}'/>
</networkport>
"
    )
}

#[test]
fn ports_of_an_isolated_network() {
    if !have_tools("ports_of_an_isolated_network", &["nft"]) {
        return;
    }
    let w = World::new("port");
    let env = &w.env;
    let net = w.file("x.xml", "<network><name>x</name></network>");
    let port = w.file("port.xml", &port_xml(PORT, "52:54:00:7B:35:93"));
    let other = w.file("other.xml", &port_xml(OTHER, "52:54:00:7b:35:94"));

    // Defined but not running: no ports, libvirt's message.
    env.ok(&["net-define", &net]);
    assert_eq!(
        env.err(&["net-port-list", "x"]),
        "error: Requested operation is not valid: network 'x' is not active\n"
    );
    assert_eq!(
        env.err(&["net-port-create", "x", &port]),
        format!(
            "error: Failed to create network from {port}\n\
             error: Requested operation is not valid: network 'x' is not active\n"
        )
    );

    env.ok(&["net-start", "x"]);
    let bridge = env
        .ok(&["net-info", "x"])
        .lines()
        .find_map(|l| l.strip_prefix("Bridge:"))
        .expect("a Bridge: line")
        .trim()
        .to_string();
    assert_eq!(env.ok(&["net-port-list", "x"]), " UUID\n-------\n\n");
    assert!(!env.ok(&["net-dumpxml", "x"]).contains("connections"));

    assert_eq!(
        env.ok(&["net-port-create", "x", &port]),
        format!("Network port {PORT} created from {port}\n\n")
    );
    assert_eq!(
        env.ok(&["net-port-create", "--network", "x", "--file", &other]),
        format!("Network port {OTHER} created from {other}\n\n")
    );
    // The same UUID twice: libvirt's VIR_ERR_NETWORK_PORT_EXIST, words and all.
    assert_eq!(
        env.err(&["net-port-create", "x", &port]),
        format!(
            "error: Failed to create network from {port}\n\
             error: network port Network port with UUID {PORT} already exists exists already\n"
        )
    );

    // virsh's table, sorted by UUID; --uuid alone; JSON.
    assert_eq!(
        env.ok(&["net-port-list", "x"]),
        format!(" UUID\n---------------------------------------\n {OTHER}\n {PORT}\n\n")
    );
    assert_eq!(
        env.ok(&["net-port-list", "x", "--uuid"]),
        format!("{OTHER}\n{PORT}\n\n")
    );
    assert_eq!(
        env.ok(&["-q", "net-port-list", "x", "--table"]),
        format!(" {OTHER}\n {PORT}\n")
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["-o", "json", "net-port-list", "x"])).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!([{ "uuid": OTHER }, { "uuid": PORT }])
    );
    assert_eq!(
        env.err(&["net-port-list", "x", "--uuid", "--table"]),
        "error: Only one argument from --table and --uuid may be specified.\n"
    );

    // The port as the network plugged it in: its bridge, the MAC in libvirt's form.
    assert_eq!(
        env.ok(&["net-port-dumpxml", "x", PORT]),
        format!(
            "<networkport>
  <uuid>{PORT}</uuid>
  <owner>
    <name>memtest</name>
    <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>
  </owner>
  <mac address='52:54:00:7b:35:93'/>
  <plug type='network' bridge='{bridge}'/>
</networkport>

"
        )
    );
    assert_eq!(
        env.ok(&["net-port-dumpxml", "x", PORT, "--xpath", "//plug/@bridge"]),
        format!(" bridge=\"{bridge}\"\n\n")
    );
    // The live network counts its guests; the persistent definition does not.
    let live = env.ok(&["net-dumpxml", "x"]);
    assert!(live.starts_with("<network connections='2'>\n"), "{live}");
    let config = env.ok(&["net-dumpxml", "x", "--inactive"]);
    assert!(config.starts_with("<network>\n"), "{config}");

    // An unknown port: virsh's line, and (as virsh 9.0) status 0.
    let o = env.run(&[
        "net-port-dumpxml",
        "x",
        "11111111-2222-3333-4444-555555555555",
    ]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: failed to get network port '11111111-2222-3333-4444-555555555555'\n"
    );
    let o = env.run(&["net-port-delete", "x", "not-a-uuid"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: failed to get network port 'not-a-uuid'\n"
    );

    assert_eq!(
        env.ok(&["net-port-delete", "x", OTHER]),
        format!("Network port {OTHER} deleted\n\n")
    );
    assert_eq!(
        env.ok(&["net-port-list", "x", "--uuid"]),
        format!("{PORT}\n\n")
    );
    assert!(env
        .ok(&["net-dumpxml", "x"])
        .starts_with("<network connections='1'>\n"));
    let o = env.run(&["net-port-dumpxml", "x", OTHER]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("error: failed to get network port '{OTHER}'\n")
    );

    // A port that names its plug is a reclaim, which virsh never asks for.
    let plugged = w.file(
        "plugged.xml",
        &port_xml(OTHER, "52:54:00:7b:35:95").replace(
            "</networkport>",
            "  <plug type='bridge' bridge='virbr7'/>\n</networkport>",
        ),
    );
    assert_eq!(
        env.err(&["net-port-create", "x", &plugged]),
        format!(
            "error: Failed to create network from {plugged}\n\
             error: invalid argument: Port reclaim not requested but plug type is not none\n"
        )
    );
    let bad = w.file("bad.xml", "<networkport><uuid>x</uuid></networkport>");
    assert_eq!(
        env.err(&["net-port-create", "x", &bad]),
        format!(
            "error: Failed to create network from {bad}\n\
             error: internal error: Unable to parse UUID 'x'\n"
        )
    );

    // Destroying the network forgets its ports.
    assert!(w.ports_dir("x").is_dir());
    env.ok(&["net-destroy", "x"]);
    assert!(!w.ports_dir("x").exists());
    env.ok(&["net-start", "x"]);
    assert_eq!(env.ok(&["net-port-list", "x", "--uuid"]), "\n");
    assert!(!env.ok(&["net-dumpxml", "x"]).contains("connections"));
    env.ok(&["net-destroy", "x"]);
}

/// A read-only connection may look but not plug in or unplug.
#[test]
fn read_only_connections_cannot_change_ports() {
    if !have_tools("read_only_connections_cannot_change_ports", &["nft"]) {
        return;
    }
    let w = World::new("portro");
    let env = &w.env;
    let net = w.file("y.xml", "<network><name>y</name></network>");
    let port = w.file("port.xml", &port_xml(PORT, "52:54:00:7b:35:93"));
    env.ok(&["net-define", &net]);
    env.ok(&["net-start", "y"]);
    env.ok(&["net-port-create", "y", &port]);
    assert_eq!(
        env.err(&["-r", "net-port-create", "y", &port]),
        format!(
            "error: Failed to create network from {port}\n\
             error: operation forbidden: read only access prevents virNetworkPortCreateXML\n"
        )
    );
    assert_eq!(
        env.ok(&["-r", "net-port-list", "y", "--uuid"]),
        format!("{PORT}\n\n")
    );
    // virsh reports a failed delete and still succeeds.
    let o = env.run(&["-r", "net-port-delete", "y", PORT]);
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("error: Failed to delete network port {PORT}\n")),
        "{stderr}"
    );
    assert_eq!(
        env.ok(&["net-port-list", "y", "--uuid"]),
        format!("{PORT}\n\n")
    );
    env.ok(&["net-destroy", "y"]);
}
