//! Virtual networks run by virtsh itself, end to end, with real dnsmasq, nft and iptables,
//! inside network namespaces each test creates: a "host" namespace where virtsh runs the
//! network, an "upstream" one the host routes to, and guest namespaces on the bridge (veth),
//! which ask for DHCP leases with busybox's udhcpc. Nothing touches the machine's own
//! interfaces or rules.

mod support;

use std::time::Duration;

use support::netns::{have_tools, NetNs};
use support::Embed;

const UPSTREAM: &str = "10.77.0.2";

/// One test's world. Field order is drop order: the virtsh root goes first (it destroys what
/// runs, from inside the host namespace), then the namespaces.
struct Lab {
    env: Embed,
    host: NetNs,
    upstream: NetNs,
    guests: Vec<NetNs>,
}

impl Lab {
    /// `backend`: what `network.conf` names, or None for virtsh's own choice.
    fn new(tag: &str, backend: Option<&str>) -> Lab {
        let host = NetNs::new("h");
        let upstream = NetNs::new("u");
        host.veth("up0", &upstream, "eth0");
        host.ok(&["ip", "addr", "add", "10.77.0.1/24", "dev", "up0"]);
        host.ok(&["ip", "route", "add", "default", "via", UPSTREAM]);
        upstream.ok(&[
            "ip",
            "addr",
            "add",
            &format!("{UPSTREAM}/24"),
            "dev",
            "eth0",
        ]);
        let mut env = Embed::new(tag);
        env.netns = Some(host.name.clone());
        if let Some(b) = backend {
            std::fs::create_dir_all(env.root.join("etc")).expect("etc");
            std::fs::write(
                env.root.join("etc/network.conf"),
                format!("# chosen by the test\nfirewall_backend = \"{b}\"\n"),
            )
            .expect("write network.conf");
        }
        Lab {
            env,
            host,
            upstream,
            guests: Vec::new(),
        }
    }

    /// Define and start a network from `xml`; its bridge name.
    fn start(&self, name: &str, xml: &str) -> String {
        let path = self.env.root.join(format!("{name}.net.xml"));
        std::fs::write(&path, xml).expect("write network XML");
        let path = path.to_str().expect("utf-8");
        assert!(self.env.ok(&["net-define", path]).contains("defined from"));
        assert_eq!(
            self.env.ok(&["net-start", name]),
            format!("Network {name} started\n\n")
        );
        self.bridge(name)
    }

    fn bridge(&self, name: &str) -> String {
        self.env
            .ok(&["net-info", name])
            .lines()
            .find_map(|l| l.strip_prefix("Bridge:"))
            .expect("a Bridge: line")
            .trim()
            .to_string()
    }

    /// A guest namespace plugged into `bridge`, with `mac` when given; its index.
    fn plug(&mut self, bridge: &str, mac: Option<&str>) -> usize {
        let g = NetNs::new("g");
        let port = format!("vg{}", self.guests.len());
        self.host.veth(&port, &g, "eth0");
        self.host
            .ok(&["ip", "link", "set", &port, "master", bridge]);
        if let Some(m) = mac {
            g.ok(&["ip", "link", "set", "eth0", "down"]);
            g.ok(&["ip", "link", "set", "eth0", "address", m]);
            g.ok(&["ip", "link", "set", "eth0", "up"]);
        }
        self.guests.push(g);
        self.guests.len() - 1
    }

    fn ruleset(&self) -> String {
        self.host.ok(&["nft", "list", "ruleset"])
    }

    fn iptables_save(&self) -> String {
        self.host.ok(&["iptables-save"]) + &self.host.ok(&["ip6tables-save"])
    }

    fn dnsmasq_running(&self, name: &str) -> bool {
        let conf = self.env.root.join(format!("lib/network/{name}.conf"));
        self.host
            .run(&[
                "pgrep",
                "-f",
                "--",
                &format!("--conf-file={}", conf.display()),
            ])
            .status
            .success()
    }
}

fn nat_xml(name: &str, third: u8) -> String {
    format!(
        "<network>
  <name>{name}</name>
  <forward mode='nat'/>
  <ip address='192.168.{third}.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.{third}.100' end='192.168.{third}.200'/>
      <host mac='52:54:00:0a:0b:01' name='fixed' ip='192.168.{third}.10'/>
    </dhcp>
  </ip>
</network>
"
    )
}

/// A NAT network: leases from the range and the static host, `net-dhcp-leases`, the way out
/// through the masquerade, and a `net-destroy` that leaves nothing behind.
fn nat_network(backend: &str) {
    let test = format!("nat_network_{backend}");
    let tool = if backend == "nftables" {
        "nft"
    } else {
        "iptables"
    };
    if !have_tools(&test, &[tool, "nft", "iptables", "pgrep"]) {
        return;
    }
    let mut lab = Lab::new("nat", Some(backend));
    let br = lab.start("natnet", &nat_xml("natnet", 151));
    assert_eq!(br, "virbr0");
    assert!(lab.dnsmasq_running("natnet"));

    let fixed = lab.plug(&br, Some("52:54:00:0a:0b:01"));
    let roaming = lab.plug(&br, None);
    assert_eq!(
        lab.guests[fixed].dhcp("eth0", "g-fixed").as_deref(),
        Some("192.168.151.10")
    );
    let ip = lab.guests[roaming]
        .dhcp("eth0", "g-roaming")
        .expect("a lease from the range");
    let last: u8 = ip
        .rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("IPv4");
    assert!(
        ip.starts_with("192.168.151.") && (100..=200).contains(&last),
        "{ip}"
    );

    let leases = lab.env.ok(&["net-dhcp-leases", "natnet"]);
    assert!(leases.contains("192.168.151.10/24"), "{leases}");
    assert!(leases.contains(&format!("{ip}/24")), "{leases}");
    assert!(leases.contains("52:54:00:0a:0b:01"), "{leases}");
    assert!(leases.contains("g-roaming"), "{leases}");
    let one = lab
        .env
        .ok(&["net-dhcp-leases", "natnet", "--mac", "52:54:00:0A:0B:01"]);
    assert!(
        one.contains("192.168.151.10") && !one.contains(&ip),
        "{one}"
    );

    // The upstream has no route back to 192.168.151.0/24: only a masqueraded ping returns.
    assert!(lab.guests[roaming].ping(UPSTREAM), "no way out through NAT");
    assert!(
        !lab.upstream.ping(&ip),
        "the upstream reached a guest directly"
    );
    if backend == "nftables" {
        let rules = lab.ruleset();
        assert!(rules.contains("table ip virtsh_network"), "{rules}");
        assert!(rules.contains("masquerade to :1024-65535"), "{rules}");
        assert!(rules.contains("ip daddr 224.0.0.0/24"), "{rules}");
        assert!(rules.contains("ip daddr 255.255.255.255"), "{rules}");
        // Nothing in the tables `iptables -S` users look at.
        assert!(!lab.iptables_save().contains("192.168.151"));
    } else {
        let rules = lab.iptables_save();
        assert!(
            rules.contains("-j MASQUERADE --to-ports 1024-65535"),
            "{rules}"
        );
        assert!(rules.contains("-d 224.0.0.0/24 -j RETURN"), "{rules}");
        assert!(rules.contains("--checksum-fill"), "{rules}");
        assert!(!lab.ruleset().contains("virtsh_network"));
    }

    assert_eq!(
        lab.env.ok(&["net-destroy", "natnet"]),
        "Network natnet destroyed\n\n"
    );
    assert!(!lab.host.run(&["ip", "link", "show", &br]).status.success());
    assert!(!lab.dnsmasq_running("natnet"));
    let rules = lab.ruleset();
    assert!(
        !rules.contains("virtsh") && !rules.contains("192.168.151") && !rules.contains(&br),
        "{rules}"
    );
    let saved = lab.iptables_save();
    assert!(
        !saved.contains("192.168.151") && !saved.contains(&br),
        "{saved}"
    );
    assert!(lab.env.ok(&["net-list", "--all"]).contains("inactive"));
}

#[test]
fn nat_network_nftables() {
    nat_network("nftables");
}

#[test]
fn nat_network_iptables() {
    nat_network("iptables");
}

/// An isolated network leases addresses but lets nothing out, with either backend.
#[test]
fn isolated_network_lets_nothing_out() {
    if !have_tools("isolated_network", &["nft", "iptables"]) {
        return;
    }
    for backend in ["nftables", "iptables"] {
        let mut lab = Lab::new("iso", Some(backend));
        let xml = "<network>
  <name>iso</name>
  <ip address='192.168.152.1' prefix='24'>
    <dhcp><range start='192.168.152.50' end='192.168.152.60'/></dhcp>
  </ip>
</network>
";
        let br = lab.start("iso", xml);
        let g = lab.plug(&br, None);
        let ip = lab.guests[g].dhcp("eth0", "iso-guest").expect("a lease");
        assert!(ip.starts_with("192.168.152."), "{ip}");
        lab.guests[g].ok(&["ip", "route", "replace", "default", "via", "192.168.152.1"]);
        assert!(!lab.guests[g].ping(UPSTREAM), "{backend}: a packet left");
        lab.env.ok(&["net-destroy", "iso"]);
        assert!(!lab.ruleset().contains("192.168.152"), "{backend}");
        assert!(!lab.iptables_save().contains("192.168.152"), "{backend}");
    }
}

/// A dnsmasq that died is reported by `net-info` and restarted by `net-start`; `net-destroy`
/// of such a network is clean too.
#[test]
fn killed_dnsmasq_is_reported_and_restarted() {
    if !have_tools("killed_dnsmasq", &["nft", "pgrep"]) {
        return;
    }
    let mut lab = Lab::new("kdns", None);
    let br = lab.start("kdns", &nat_xml("kdns", 153));
    let pid_file = lab.env.root.join("run/network/kdns.pid");
    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    lab.host.ok(&["kill", "-9", pid.trim()]);
    // Gone means its files are closed: a dying process loses its command line (so pgrep no
    // longer finds it) before its sockets, and only a zombie or no process is surely done.
    let stat = format!("/proc/{}/stat", pid.trim());
    NetNs::wait("dnsmasq gone", Duration::from_secs(5), || {
        !lab.dnsmasq_running("kdns")
            && std::fs::read_to_string(&stat).map_or(true, |s| {
                s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
            })
    });
    let o = lab.env.run(&["net-info", "kdns"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("dnsmasq of network 'kdns' is not running"),
        "{err}"
    );

    assert_eq!(
        lab.env.ok(&["net-start", "kdns"]),
        "Network kdns started\n\n"
    );
    assert!(lab.dnsmasq_running("kdns"));
    let o = lab.env.run(&["net-info", "kdns"]);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let g = lab.plug(&br, None);
    assert!(lab.guests[g].dhcp("eth0", "after").is_some());
    // An active healthy network is refused as libvirt refuses it.
    let e = lab.env.err(&["net-start", "kdns"]);
    assert!(e.contains("network is already active"), "{e}");

    let pid = std::fs::read_to_string(&pid_file).expect("pid file");
    lab.host.ok(&["kill", "-9", pid.trim()]);
    lab.env.ok(&["net-destroy", "kdns"]);
    assert!(!lab.host.run(&["ip", "link", "show", &br]).status.success());
    assert!(!lab.ruleset().contains("192.168.153"));
}

/// `net-destroy` removes exactly what the status record lists, not what this build would
/// add: a rule the record names (as an older or newer virtsh would have made it) goes too,
/// and a network redefined with another subnet while running still loses its old rules.
#[test]
fn destroy_runs_the_recorded_removal() {
    if !have_tools("destroy_runs_the_recorded_removal", &["nft"]) {
        return;
    }
    let lab = Lab::new("rec", Some("nftables"));
    let br = lab.start("rec", &nat_xml("rec", 154));
    // "Another build" added one more rule and recorded how to remove it.
    let echo = lab.host.ok(&[
        "nft",
        "-ae",
        "add",
        "rule",
        "ip",
        "virtsh_network",
        "guest_output",
        "iif",
        &br,
        "counter",
        "comment",
        "\"other-build\"",
    ]);
    let handle = echo
        .split_whitespace()
        .skip_while(|w| *w != "handle")
        .nth(1)
        .expect("nft -ae prints the handle")
        .to_string();
    let status_path = lab.env.root.join("run/network/rec.status");
    let mut status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&status_path).expect("status"))
            .expect("JSON status");
    status["firewall"]["commands"]
        .as_array_mut()
        .expect("a command list")
        .insert(
            0,
            serde_json::json!([
                "nft",
                "delete",
                "rule",
                "ip",
                "virtsh_network",
                "guest_output",
                "handle",
                handle
            ]),
        );
    std::fs::write(&status_path, status.to_string()).expect("rewrite status");
    // The definition changes under the running network; destroy must not care.
    let path = lab.env.root.join("rec2.xml");
    std::fs::write(
        &path,
        nat_xml("rec", 155).replace(
            "<name>rec</name>",
            "<name>rec</name>\n  <bridge name='virbr0'/>",
        ),
    )
    .expect("write");
    let uuid = lab.env.ok(&["net-uuid", "rec"]);
    let xml = std::fs::read_to_string(&path).expect("read").replace(
        "<forward",
        &format!("<uuid>{}</uuid>\n  <forward", uuid.trim()),
    );
    std::fs::write(&path, xml).expect("write");
    lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);

    lab.env.ok(&["net-destroy", "rec"]);
    let rules = lab.ruleset();
    assert!(
        !rules.contains("other-build")
            && !rules.contains("192.168.154")
            && !rules.contains("virtsh"),
        "{rules}"
    );
}

/// `net-update` of a DHCP host, live: dnsmasq re-reads its hosts (SIGHUP, same pid) and a
/// guest with that MAC gets the new fixed address.
#[test]
fn live_dhcp_host_update_reaches_dnsmasq() {
    if !have_tools("live_dhcp_host_update", &["nft"]) {
        return;
    }
    let mut lab = Lab::new("upd", None);
    let br = lab.start("upd", &nat_xml("upd", 156));
    let pid_file = lab.env.root.join("run/network/upd.pid");
    let pid = std::fs::read_to_string(&pid_file).expect("pid");
    let out = lab.env.ok(&[
        "net-update",
        "upd",
        "add",
        "ip-dhcp-host",
        "<host mac='52:54:00:0a:0b:77' name='late' ip='192.168.156.77'/>",
        "--live",
        "--config",
    ]);
    assert!(
        out.contains("Updated network upd persistent config and live state"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&pid_file).expect("pid"), pid);
    let g = lab.plug(&br, Some("52:54:00:0a:0b:77"));
    assert_eq!(
        lab.guests[g].dhcp("eth0", "late").as_deref(),
        Some("192.168.156.77")
    );
    assert!(lab
        .env
        .ok(&["net-dumpxml", "--inactive", "upd"])
        .contains("192.168.156.77"));

    // A DNS host is re-read on SIGHUP too; a new DHCP range needs dnsmasq restarted.
    lab.env.ok(&[
        "net-update",
        "upd",
        "add",
        "dns-host",
        "<host ip='192.168.156.5'><hostname>printer</hostname></host>",
    ]);
    let addn =
        std::fs::read_to_string(lab.env.root.join("lib/network/upd.addnhosts")).expect("addnhosts");
    assert!(addn.contains("192.168.156.5\tprinter"), "{addn}");
    assert_eq!(std::fs::read_to_string(&pid_file).expect("pid"), pid);
    lab.env.ok(&[
        "net-update",
        "upd",
        "add",
        "ip-dhcp-range",
        "<range start='192.168.156.210' end='192.168.156.220'/>",
    ]);
    let new_pid = std::fs::read_to_string(&pid_file).expect("pid");
    assert_ne!(new_pid, pid, "dnsmasq reads ranges only when it starts");
    assert!(lab.dnsmasq_running("upd"));
    let conf = std::fs::read_to_string(lab.env.root.join("lib/network/upd.conf")).expect("conf");
    assert!(
        conf.contains("dhcp-range=192.168.156.210,192.168.156.220"),
        "{conf}"
    );
    // The live change did not touch the stored definition.
    assert!(!lab
        .env
        .ok(&["net-dumpxml", "--inactive", "upd"])
        .contains("192.168.156.210"));
    // Changes that fail leave both copies as they were.
    let e = lab.env.err(&[
        "net-update",
        "upd",
        "add",
        "ip-dhcp-host",
        "<host mac='52:54:00:0a:0b:77' ip='192.168.156.78'/>",
    ]);
    assert!(e.contains("52:54:00:0a:0b:77"), "{e}");
}

/// The bookkeeping around running networks: transient ones, undefine while running,
/// autostart, the bridge name and MAC libvirt fills in, and libvirt's refusals.
#[test]
fn define_create_undefine_and_autostart() {
    if !have_tools("define_create_undefine", &["nft"]) {
        return;
    }
    let lab = Lab::new("book", None);
    let path = lab.env.root.join("t.xml");
    std::fs::write(&path, "<network><name>tr</name></network>").expect("write");
    let p = path.to_str().expect("utf-8");
    assert_eq!(
        lab.env.ok(&["net-create", p]),
        format!("Network tr created from {p}\n\n")
    );
    let xml = lab.env.ok(&["net-dumpxml", "tr"]);
    assert!(
        xml.contains("<bridge name='virbr0' stp='on' delay='0'/>"),
        "{xml}"
    );
    assert!(xml.contains("<mac address='52:54:00:"), "{xml}");
    let e = lab.env.err(&["net-autostart", "tr"]);
    assert!(
        e.contains("cannot set autostart for transient network"),
        "{e}"
    );
    lab.env.ok(&["net-destroy", "tr"]);
    assert!(lab
        .env
        .err(&["net-info", "tr"])
        .contains("no network with matching name 'tr'"));

    let br = lab.start("pers", &nat_xml("pers", 157));
    assert_eq!(br, "virbr0", "the transient network's bridge is free again");
    lab.env.ok(&["net-autostart", "pers"]);
    assert_eq!(
        lab.env.ok(&["net-list", "--autostart", "--name"]),
        "pers\n\n"
    );
    lab.env.ok(&["net-undefine", "pers"]);
    // Still running, now transient, as libvirt does.
    let list = lab.env.ok(&["net-list", "--transient", "--name"]);
    assert_eq!(list, "pers\n\n");
    lab.env.ok(&["net-destroy", "pers"]);
    assert_eq!(lab.env.ok(&["net-list", "--all", "--name"]), "\n");
    assert!(!lab.host.run(&["ip", "link", "show", &br]).status.success());
}

/// A real QEMU guest (TCG) with `<interface type='network'>`: its tap joins the network's
/// bridge, the guest's DHCP client gets a lease, and `domifaddr --source lease` and
/// `domhostname --source lease` read it back from the network's dnsmasq.
#[test]
fn qemu_guest_on_a_network_gets_a_lease() {
    if !have_tools("qemu_guest_on_a_network", &["nft"]) {
        return;
    }
    let Some(guest) = support::tiny_guest("qemu_guest_on_a_network") else {
        return;
    };
    let lab = Lab::new("qnet", None);
    let br = lab.start("qnet", &nat_xml("qnet", 158));
    let name = support::unique_name("qnet");
    // Refused while the network is down, as libvirt does.
    lab.env.ok(&["net-destroy", "qnet"]);
    let nic = "<interface type='network'><mac address='52:54:00:0a:0b:01'/>\
               <source network='qnet'/><model type='virtio'/></interface>";
    lab.env
        .define(&name, &support::tiny_xml(&lab.env, &guest, &name, nic));
    let e = lab.env.err(&["start", &name]);
    assert!(e.contains("network 'qnet' is not active"), "{e}");
    lab.env.ok(&["net-start", "qnet"]);

    lab.env.ok(&["start", &name]);
    let xml = lab.env.ok(&["dumpxml", &name]);
    // The NIC holds a port of the network, as libvirt's live XML shows it.
    let ports = lab.env.ok(&["net-port-list", "qnet", "--uuid"]);
    let port = ports.lines().next().unwrap_or_default().to_string();
    assert_eq!(ports, format!("{port}\n\n"));
    assert!(
        xml.contains(&format!(
            "<source network='qnet' portid='{port}' bridge='{br}'/>"
        )),
        "{xml}"
    );
    let port_xml = lab.env.ok(&["net-port-dumpxml", "qnet", &port]);
    assert!(
        port_xml.contains(&format!("<name>{name}</name>")),
        "{port_xml}"
    );
    assert!(lab
        .env
        .ok(&["net-dumpxml", "qnet"])
        .contains("<network connections='1'>"));
    let ports = lab.host.ok(&["ip", "-o", "link", "show", "master", &br]);
    assert!(ports.contains("vnet0"), "{ports}");
    let mut addrs = String::new();
    NetNs::wait("a DHCP lease of the guest", Duration::from_secs(90), || {
        addrs = lab.env.ok(&["domifaddr", &name, "--source", "lease"]);
        addrs.contains("192.168.158.10/24")
    });
    assert!(
        addrs.contains("vnet0") && addrs.contains("52:54:00:0a:0b:01"),
        "{addrs}"
    );
    // The static host's name, which dnsmasq records over the one the client sent.
    assert_eq!(
        lab.env.ok(&["domhostname", &name, "--source", "lease"]),
        "fixed\n\n"
    );
    // A NIC plugged in live joins the same bridge.
    lab.env.ok(&[
        "attach-interface",
        &name,
        "network",
        "qnet",
        "--model",
        "virtio",
        "--live",
    ]);
    let ports = lab.host.ok(&["ip", "-o", "link", "show", "master", &br]);
    assert!(ports.contains("vnet1"), "{ports}");
    let list = lab.env.ok(&["domiflist", &name]);
    assert!(list.contains("vnet1") && list.contains("qnet"), "{list}");
    // The inactive definition keeps no trace of the run's bridge.
    assert!(!lab
        .env
        .ok(&["dumpxml", "--inactive", &name])
        .contains("bridge="));
    assert_eq!(
        lab.env
            .ok(&["net-port-list", "qnet", "--uuid"])
            .lines()
            .count(),
        3
    );
    lab.env.ok(&["destroy", &name]);
    // The supervisor gave the ports back when the guest ended.
    assert_eq!(lab.env.ok(&["net-port-list", "qnet", "--uuid"]), "\n");
    lab.env.ok(&["net-destroy", "qnet"]);
}

/// `net-event` sees what other commands do to networks, with no daemon to tell it: each
/// change of the state files is one of libvirt's lifecycle events.
#[test]
fn net_event_reports_changes_made_by_other_commands() {
    if !have_tools("net_event", &["nft"]) {
        return;
    }
    let lab = Lab::new("ev", None);
    let watcher = lab
        .env
        .cmd(&[
            "net-event",
            "--event",
            "lifecycle",
            "--loop",
            "--timeout",
            "6",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start net-event");
    std::thread::sleep(Duration::from_millis(500));
    let path = lab.env.root.join("ev.xml");
    std::fs::write(&path, "<network><name>ev</name></network>").expect("write");
    lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);
    std::thread::sleep(Duration::from_millis(400));
    lab.env.ok(&["net-start", "ev"]);
    std::thread::sleep(Duration::from_millis(400));
    lab.env.ok(&["net-destroy", "ev"]);
    std::thread::sleep(Duration::from_millis(400));
    lab.env.ok(&["net-undefine", "ev"]);
    let out = watcher.wait_with_output().expect("net-event ends");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "event 'lifecycle' for network ev: Defined\n\
         event 'lifecycle' for network ev: Started\n\
         event 'lifecycle' for network ev: Stopped\n\
         event 'lifecycle' for network ev: Undefined\n\
         event loop timed out\n\
         events received: 4\n\n"
    );
    assert!(out.status.success());
}

/// The boot script starts autostart networks before autostart guests, so a guest whose NIC
/// is on such a network comes up.
#[test]
fn the_boot_script_starts_networks_before_guests() {
    if !have_tools("the_boot_script_starts_networks", &["nft"]) {
        return;
    }
    if support::tiny_guest("the_boot_script_starts_networks").is_none() {
        return;
    }
    let lab = Lab::new("boot", None);
    let path = lab.env.root.join("bootnet.xml");
    std::fs::write(&path, "<network><name>bootnet</name></network>").expect("write");
    lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);
    lab.env.ok(&["net-autostart", "bootnet"]);
    let name = support::unique_name("boot");
    let nic =
        "<interface type='network'><source network='bootnet'/><model type='virtio'/></interface>";
    lab.env.define(&name, &support::bare_xml(&name, nic));
    lab.env.ok(&["autostart", &name]);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/systemd/virtsh-autostart");
    let o = lab
        .host
        .cmd(&["sh", script.to_str().expect("utf-8"), &lab.env.uri])
        .env("VIRTSH", env!("CARGO_BIN_EXE_virtsh"))
        .output()
        .expect("run the boot script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lab.env.ok(&["net-list", "--name"]), "bootnet\n\n");
    assert_eq!(lab.env.state(&name), "running (booted)");
    lab.env.ok(&["destroy", &name]);
    lab.env.ok(&["net-destroy", "bootnet"]);
}

/// A dual-stack NAT network: the bridge gets both addresses, IPv6 is routed (no NAT) by rules
/// in the ip6 table, dnsmasq serves both ranges, and destroy removes it all.
#[test]
fn dual_stack_network() {
    if !have_tools("dual_stack_network", &["nft"]) {
        return;
    }
    let lab = Lab::new("v6", Some("nftables"));
    let xml = "<network>
  <name>v6</name>
  <forward mode='nat'/>
  <ip address='192.168.159.1' prefix='24'>
    <dhcp><range start='192.168.159.2' end='192.168.159.9'/></dhcp>
  </ip>
  <ip family='ipv6' address='fd00:159::1' prefix='64'>
    <dhcp><range start='fd00:159::100' end='fd00:159::1ff'/></dhcp>
  </ip>
</network>
";
    let br = lab.start("v6", xml);
    let addrs = lab.host.ok(&["ip", "addr", "show", "dev", &br]);
    assert!(addrs.contains("inet 192.168.159.1/24"), "{addrs}");
    assert!(addrs.contains("inet6 fd00:159::1/64"), "{addrs}");
    let rules = lab.ruleset();
    assert!(rules.contains("table ip6 virtsh_network"), "{rules}");
    assert!(rules.contains("ip6 saddr fd00:159::/64"), "{rules}");
    let v6_table = rules
        .split("table ip6 virtsh_network")
        .nth(1)
        .unwrap_or_default();
    assert!(
        !v6_table.contains("masquerade"),
        "IPv6 is routed: {v6_table}"
    );
    let conf = std::fs::read_to_string(lab.env.root.join("lib/network/v6.conf")).expect("conf");
    assert!(
        conf.contains("dhcp-range=fd00:159::100,fd00:159::1ff,64"),
        "{conf}"
    );
    assert_eq!(
        lab.host
            .ok(&["cat", "/proc/sys/net/ipv6/conf/all/forwarding"])
            .trim(),
        "1"
    );
    lab.env.ok(&["net-destroy", "v6"]);
    let rules = lab.ruleset();
    assert!(
        !rules.contains("virtsh") && !rules.contains("fd00:159"),
        "{rules}"
    );
}

/// `<bandwidth>` on a guest NIC and on a network go to tc on the tap and the bridge, as
/// libvirt puts them. Kernels without the schedulers libvirt's commands use (sfq, the fw
/// classifier, police: Debian's cloud kernel here lacks them) refuse them, and then the
/// start fails naming the tc command, leaving nothing behind; elsewhere the limits are set.
#[test]
fn bandwidth_limits_go_to_tc() {
    if !have_tools("bandwidth_limits_go_to_tc", &["nft", "tc"]) {
        return;
    }
    if support::tiny_guest("bandwidth_limits_go_to_tc").is_none() {
        return;
    }
    let lab = Lab::new("bw", None);
    let path = lab.env.root.join("bw.xml");
    std::fs::write(
        &path,
        "<network><name>bw</name>\
         <bandwidth><inbound average='2000' peak='4000' burst='1024'/></bandwidth></network>",
    )
    .expect("write");
    lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);
    let o = lab.env.run(&["net-start", "bw"]);
    let kernel_has_sfq = o.status.success();
    if kernel_has_sfq {
        let classes = lab.host.ok(&["tc", "class", "show", "dev", "virbr0"]);
        assert!(classes.contains("rate 16Mbit"), "{classes}");
    } else {
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("tc qdisc add dev virbr0"), "{e}");
        assert!(!lab
            .host
            .run(&["ip", "link", "show", "virbr0"])
            .status
            .success());
        // The guest part needs a running network: one without limits.
        lab.env.ok(&["net-undefine", "bw"]);
        std::fs::write(&path, "<network><name>bw</name></network>").expect("write");
        lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);
        lab.env.ok(&["net-start", "bw"]);
    }
    let name = support::unique_name("bw");
    let nic = "<interface type='network'><source network='bw'/><model type='virtio'/>\
               <bandwidth><inbound average='1000' peak='5000' burst='1024'/></bandwidth>\
               </interface>";
    lab.env.define(&name, &support::bare_xml(&name, nic));
    let o = lab.env.run(&["start", &name]);
    if kernel_has_sfq {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let classes = lab.host.ok(&["tc", "class", "show", "dev", "vnet0"]);
        assert!(classes.contains("rate 8Mbit ceil 40Mbit"), "{classes}");
        lab.env.ok(&["destroy", &name]);
    } else {
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("tc qdisc add dev vnet0"), "{e}");
        assert_eq!(lab.env.state(&name), "shut off (unknown)");
        assert!(!lab
            .host
            .run(&["ip", "link", "show", "vnet0"])
            .status
            .success());
    }
    // Either way no port is left on the network.
    assert_eq!(lab.env.ok(&["net-port-list", "bw", "--uuid"]), "\n");
}
