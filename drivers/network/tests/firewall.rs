//! The firewall of virtual networks against the real `nft`, `iptables` and `ip6tables`.
//!
//! Every test runs in a fresh network namespace (a thread that calls `unshare(CLONE_NEWNET)`;
//! the programs it spawns inherit the namespace), so the host's own rules are never read or
//! touched, and the namespace with all its rules disappears when the thread ends. Without the
//! programs or the privilege to unshare, a test is skipped with a message, unless `CI=true`,
//! where that is a failure.

mod common;

use std::path::PathBuf;
use std::process::Command;
use virtsh_network::firewall::{
    add_network_rules, parse_network_conf, remove_network_rules, Backend, FirewallError,
    FirewallRemoval,
};
use virtsh_xml::NetworkDef;

const BRIDGE: &str = "vbr0";
const BRIDGE2: &str = "vbr1";

const NAT: &str = "<network><name>default</name><forward mode='nat'/>\
    <ip address='192.168.122.1' netmask='255.255.255.0'>\
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>";
const NAT2: &str = "<network><name>second</name><forward mode='nat'/>\
    <ip address='192.168.123.1' prefix='24'/></network>";
const ROUTE: &str = "<network><name>routed</name><forward mode='route'/>\
    <ip address='192.168.100.1' prefix='24'/></network>";
const ISOLATED: &str = "<network><name>isolated</name>\
    <ip address='192.168.150.1' prefix='24'/></network>";
const OPEN: &str = "<network><name>open</name><forward mode='open'/>\
    <ip address='192.168.160.1' prefix='24'/></network>";
const DUAL: &str = "<network><name>dual</name><forward mode='nat'/>\
    <ip address='192.168.122.1' prefix='24'/>\
    <ip family='ipv6' address='fd00:1::1' prefix='64'/></network>";
const DUAL_NAT6: &str =
    "<network><name>dual6</name><forward mode='nat'><nat ipv6='yes'/></forward>\
    <ip address='192.168.122.1' prefix='24'/>\
    <ip family='ipv6' address='fd00:1::1' prefix='64'/></network>";

fn def(xml: &str) -> NetworkDef {
    NetworkDef::parse(xml).unwrap()
}

use common::skip;
use virtsh_network::program::find;

fn programs(backend: Backend) -> Vec<&'static str> {
    let mut v = vec!["ip"];
    v.extend(backend.programs());
    if backend == Backend::Iptables {
        v.extend(["iptables-save", "ip6tables-save"]);
    }
    v
}

/// Run `body` in a new network namespace that has the bridges `vbr0` and `vbr1`.
fn in_netns(backend: Backend, body: impl FnOnce() + Send + 'static) {
    for p in programs(backend) {
        if find(p).is_none() {
            return skip(&format!("'{p}' is not installed"));
        }
    }
    common::in_fresh_netns(move || {
        for br in [BRIDGE, BRIDGE2] {
            sh(&["ip", "link", "add", br, "type", "bridge"]);
        }
        body();
    });
}

/// Run a command, which must succeed, and return its stdout.
fn sh(argv: &[&str]) -> String {
    let program = find(argv[0]).unwrap_or_else(|| PathBuf::from(argv[0]));
    let out = Command::new(program).args(&argv[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn try_sh(argv: &[String]) -> bool {
    let program = find(&argv[0]).unwrap_or_else(|| PathBuf::from(&argv[0]));
    Command::new(program)
        .args(&argv[1..])
        .output()
        .unwrap()
        .status
        .success()
}

/// What the backend shows of the namespace's rules.
fn listing(backend: Backend) -> String {
    match backend {
        Backend::Nftables => sh(&["nft", "list", "ruleset"]),
        Backend::Iptables => sh(&["iptables-save"]) + &sh(&["ip6tables-save"]),
    }
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

/// Nothing of any network is left: for nftables nothing at all (the table is gone), for
/// iptables no rule naming a bridge or a subnet (libvirt's empty chains stay).
fn assert_clean(backend: Backend) {
    let text = listing(backend);
    match backend {
        Backend::Nftables => assert_eq!(text.trim(), "", "nft ruleset not empty:\n{text}"),
        Backend::Iptables => {
            for line in text.lines() {
                assert!(
                    !["vbr", "192.168.", "fd00:"]
                        .iter()
                        .any(|w| line.contains(w)),
                    "rule left: {line}\nin:\n{text}"
                );
            }
        }
    }
}

/// One test per backend, each running `body(backend)` in its own namespace.
macro_rules! both {
    ($nft:ident, $ipt:ident, $body:ident) => {
        #[test]
        fn $nft() {
            in_netns(Backend::Nftables, || $body(Backend::Nftables));
        }
        #[test]
        fn $ipt() {
            in_netns(Backend::Iptables, || $body(Backend::Iptables));
        }
    };
}

// ---------------------------------------------------------------------------------------------
// NAT networks

fn nat_rules(backend: Backend) {
    let removal = add_network_rules(backend, &def(NAT), BRIDGE).unwrap();
    assert_eq!(removal.backend, backend);
    let text = listing(backend);
    match backend {
        Backend::Nftables => {
            assert_has(&text, &[
                "table ip virtsh_network {",
                "meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter packets 0 bytes 0 masquerade to :1024-65535",
                "meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter packets 0 bytes 0 masquerade to :1024-65535",
                "ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter packets 0 bytes 0 masquerade\n",
                "ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter packets 0 bytes 0 return",
                "ip saddr 192.168.122.0/24 ip daddr 255.255.255.255 counter packets 0 bytes 0 return",
                "oif \"vbr0\" ip daddr 192.168.122.0/24 ct state established,related counter packets 0 bytes 0 accept",
                "ip saddr 192.168.122.0/24 iif \"vbr0\" counter packets 0 bytes 0 accept",
                "iif \"vbr0\" counter packets 0 bytes 0 reject",
                "oif \"vbr0\" counter packets 0 bytes 0 reject",
                "iif \"vbr0\" oif \"vbr0\" counter packets 0 bytes 0 accept",
                "type nat hook postrouting priority srcnat; policy accept;",
            ]);
            // Never in the tables iptables-nft uses, and no host or checksum rules.
            assert!(
                !text.contains("table ip filter") && !text.contains("table ip nat"),
                "{text}"
            );
            assert!(!text.contains("dport") && !text.contains("ip6"), "{text}");
            // Order: the exemptions come before the masquerades; the guest-to-guest jump first.
            let pos = |s: &str| text.find(s).unwrap();
            assert!(pos("daddr 224.0.0.0/24") < pos("meta l4proto tcp"));
            assert!(pos("meta l4proto tcp") < pos("meta l4proto udp"));
            assert!(pos("jump guest_cross") < pos("jump guest_input"));
            assert!(pos("jump guest_input") < pos("jump guest_output"));
            assert!(removal.commands.iter().all(|c| c[..5]
                == ["nft", "delete", "rule", "ip", "virtsh_network"]
                && c[6] == "handle"));
            assert_eq!(removal.commands.len(), 10);
        }
        Backend::Iptables => {
            assert_has(&text, &[
                "-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535",
                "-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p udp -j MASQUERADE --to-ports 1024-65535",
                "-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE\n",
                "-A LIBVIRT_PRT -s 192.168.122.0/24 -d 224.0.0.0/24 -j RETURN",
                "-A LIBVIRT_PRT -s 192.168.122.0/24 -d 255.255.255.255/32 -j RETURN",
                "-A LIBVIRT_FWI -d 192.168.122.0/24 -o vbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A LIBVIRT_FWO -s 192.168.122.0/24 -i vbr0 -j ACCEPT",
                "-A LIBVIRT_FWO -i vbr0 -j REJECT",
                "-A LIBVIRT_FWI -o vbr0 -j REJECT",
                "-A LIBVIRT_FWX -i vbr0 -o vbr0 -j ACCEPT",
                "-A LIBVIRT_INP -i vbr0 -p udp -m udp --dport 67 -j ACCEPT",
                "-A LIBVIRT_INP -i vbr0 -p tcp -m tcp --dport 53 -j ACCEPT",
                "-A LIBVIRT_OUT -o vbr0 -p udp -m udp --dport 68 -j ACCEPT",
                "-A INPUT -j LIBVIRT_INP",
                "-A OUTPUT -j LIBVIRT_OUT",
                "-A FORWARD -j LIBVIRT_FWX",
                "-A POSTROUTING -j LIBVIRT_PRT",
            ]);
            // No tftp without <tftp>; the DHCP checksum fix when the kernel has CHECKSUM.
            assert!(!text.contains("--dport 69"));
            let checksum =
                "-A LIBVIRT_PRT -o vbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill";
            let recorded = removal
                .commands
                .iter()
                .any(|c| c.contains(&"CHECKSUM".to_string()));
            assert_eq!(text.contains(checksum), recorded);
            let pos = |s: &str| text.find(s).unwrap();
            assert!(pos("-d 224.0.0.0/24 -j RETURN") < pos("-p tcp -j MASQUERADE"));
            assert!(pos("-A FORWARD -j LIBVIRT_FWX") < pos("-A FORWARD -j LIBVIRT_FWO"));
            assert!(removal
                .commands
                .iter()
                .all(|c| c[0] == "iptables" && c.contains(&"-D".to_string())));
        }
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);
}

both!(nftables_nat_network, iptables_nat_network, nat_rules);

fn nat_options(backend: Backend) {
    let xml = "<network><name>n</name><forward mode='nat' dev='eth9'>\
        <nat><address start='10.1.0.5' end='10.1.0.9'/><port start='2000' end='3000'/></nat></forward>\
        <ip address='192.168.122.1' prefix='24'/></network>";
    let removal = add_network_rules(backend, &def(xml), BRIDGE).unwrap();
    let text = listing(backend);
    match backend {
        Backend::Nftables => assert_has(&text, &[
            "meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 oifname \"eth9\" counter packets 0 bytes 0 snat to 10.1.0.5-10.1.0.9:2000-3000",
            "ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 oifname \"eth9\" counter packets 0 bytes 0 snat to 10.1.0.5-10.1.0.9\n",
            "ip saddr 192.168.122.0/24 iif \"vbr0\" oifname \"eth9\" counter packets 0 bytes 0 accept",
        ]),
        Backend::Iptables => assert_has(&text, &[
            "-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -o eth9 -p tcp -j SNAT --to-source 10.1.0.5-10.1.0.9:2000-3000",
            "-A LIBVIRT_FWO -s 192.168.122.0/24 -i vbr0 -o eth9 -j ACCEPT",
            "-A LIBVIRT_FWI -d 192.168.122.0/24 -i eth9 -o vbr0 -m conntrack",
        ]),
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);
}

both!(
    nftables_nat_address_port_range_and_forward_dev,
    iptables_nat_address_port_range_and_forward_dev,
    nat_options
);

// ---------------------------------------------------------------------------------------------
// The other modes

fn modes(backend: Backend) {
    // route: forwarding both ways, no NAT at all.
    let removal = add_network_rules(backend, &def(ROUTE), BRIDGE).unwrap();
    let text = listing(backend);
    match backend {
        Backend::Nftables => {
            assert_has(
                &text,
                &[
                    "ip daddr 192.168.100.0/24 oif \"vbr0\" counter packets 0 bytes 0 accept",
                    "ip saddr 192.168.100.0/24 iif \"vbr0\" counter packets 0 bytes 0 accept",
                ],
            );
            assert!(
                !text.contains("masquerade") && !text.contains("ct state"),
                "{text}"
            );
        }
        Backend::Iptables => {
            assert_has(
                &text,
                &[
                    "-A LIBVIRT_FWI -d 192.168.100.0/24 -o vbr0 -j ACCEPT",
                    "-A LIBVIRT_FWO -s 192.168.100.0/24 -i vbr0 -j ACCEPT",
                ],
            );
            assert!(
                !text.contains("MASQUERADE") && !text.contains("-A LIBVIRT_PRT -s"),
                "{text}"
            );
        }
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);

    // isolated: closed both ways, guest to guest allowed, nothing forwarded.
    let removal = add_network_rules(backend, &def(ISOLATED), BRIDGE).unwrap();
    let text = listing(backend);
    match backend {
        Backend::Nftables => {
            assert_has(
                &text,
                &[
                    "iif \"vbr0\" counter packets 0 bytes 0 reject",
                    "oif \"vbr0\" counter packets 0 bytes 0 reject",
                    "iif \"vbr0\" oif \"vbr0\" counter packets 0 bytes 0 accept",
                ],
            );
            assert!(
                !text.contains("192.168.150") && !text.contains("masquerade"),
                "{text}"
            );
            assert_eq!(removal.commands.len(), 3);
        }
        Backend::Iptables => {
            assert_has(
                &text,
                &[
                    "-A LIBVIRT_FWO -i vbr0 -j REJECT",
                    "-A LIBVIRT_FWI -o vbr0 -j REJECT",
                    "-A LIBVIRT_FWX -i vbr0 -o vbr0 -j ACCEPT",
                ],
            );
            assert!(
                !text.contains("192.168.150") && !text.contains("MASQUERADE"),
                "{text}"
            );
        }
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);

    // open: no rules at all (with nftables, not even the table).
    let removal = add_network_rules(backend, &def(OPEN), BRIDGE).unwrap();
    assert!(removal.is_empty());
    assert_clean(backend);
    remove_network_rules(&removal).unwrap();
}

both!(
    nftables_route_isolated_open,
    iptables_route_isolated_open,
    modes
);

fn ipv6(backend: Backend) {
    // IPv6 in a NAT network is routed, not masqueraded.
    let removal = add_network_rules(backend, &def(DUAL), BRIDGE).unwrap();
    let text = listing(backend);
    match backend {
        Backend::Nftables => {
            assert_has(
                &text,
                &[
                    "table ip6 virtsh_network {",
                    "ip6 saddr fd00:1::/64 iif \"vbr0\" counter packets 0 bytes 0 accept",
                    "ip6 daddr fd00:1::/64 oif \"vbr0\" counter packets 0 bytes 0 accept",
                    "meta l4proto tcp ip saddr 192.168.122.0/24",
                ],
            );
            assert!(
                !text.contains("ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64"),
                "{text}"
            );
        }
        Backend::Iptables => {
            assert_has(
                &text,
                &[
                    "-A LIBVIRT_FWO -s fd00:1::/64 -i vbr0 -j ACCEPT",
                    "-A LIBVIRT_FWI -d fd00:1::/64 -o vbr0 -j ACCEPT",
                    "-A LIBVIRT_INP -i vbr0 -p udp -m udp --dport 547 -j ACCEPT",
                    "-A LIBVIRT_OUT -o vbr0 -p udp -m udp --dport 546 -j ACCEPT",
                ],
            );
            assert!(!text.contains("-s fd00:1::/64 ! -d"), "{text}");
        }
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);

    // <nat ipv6='yes'>: IPv6 masquerade too (no broadcast exemption, multicast ff02::/16).
    let removal = add_network_rules(backend, &def(DUAL_NAT6), BRIDGE).unwrap();
    let text = listing(backend);
    match backend {
        Backend::Nftables => assert_has(&text, &[
            "meta l4proto tcp ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64 counter packets 0 bytes 0 masquerade to :1024-65535",
            "ip6 saddr fd00:1::/64 ip6 daddr ff02::/16 counter packets 0 bytes 0 return",
        ]),
        Backend::Iptables => assert_has(&text, &[
            "-A LIBVIRT_PRT -s fd00:1::/64 ! -d fd00:1::/64 -p tcp -j MASQUERADE --to-ports 1024-65535",
            "-A LIBVIRT_PRT -s fd00:1::/64 -d ff02::/16 -j RETURN",
        ]),
    }
    remove_network_rules(&removal).unwrap();
    assert_clean(backend);
}

both!(nftables_ipv6, iptables_ipv6, ipv6);

// ---------------------------------------------------------------------------------------------
// Shared table and chains

fn two_networks(backend: Backend) {
    let first = add_network_rules(backend, &def(NAT), BRIDGE).unwrap();
    let second = add_network_rules(backend, &def(NAT2), BRIDGE2).unwrap();
    let text = listing(backend);
    match backend {
        // One table, and the jumps to its chains only once.
        Backend::Nftables => {
            assert_eq!(text.matches("table ip virtsh_network").count(), 1);
            assert_eq!(text.matches("jump guest_output").count(), 1);
        }
        Backend::Iptables => assert_eq!(text.matches("-A FORWARD -j LIBVIRT_FWO").count(), 1),
    }
    remove_network_rules(&first).unwrap();
    // The second network keeps its rules (and nftables its table).
    let text = listing(backend);
    assert!(
        !text.contains("192.168.122.") && !text.contains("\"vbr0\"") && !text.contains(" vbr0 ")
    );
    assert_has(&text, &["192.168.123.0/24"]);
    remove_network_rules(&second).unwrap();
    assert_clean(backend);
}

both!(
    nftables_two_networks_share_the_table,
    iptables_two_networks_share_the_chains,
    two_networks
);

// ---------------------------------------------------------------------------------------------
// The removal record

fn partly_deleted(backend: Backend) {
    let removal = add_network_rules(backend, &def(NAT), BRIDGE).unwrap();
    // Someone deletes two of the rules by hand.
    for cmd in &removal.commands[2..4] {
        assert!(try_sh(cmd), "{cmd:?}");
    }
    let err = remove_network_rules(&removal).unwrap_err();
    let FirewallError::RemoveFailed { total, failures } = &err else {
        panic!("unexpected error {err}");
    };
    assert_eq!(*total, removal.commands.len());
    assert_eq!(failures.len(), 2, "{err}");
    for f in failures {
        assert!(
            removal.commands[2..4]
                .iter()
                .any(|c| f.command.replace('\'', "") == c.join(" ")),
            "{f}"
        );
        assert!(!f.message.is_empty());
    }
    assert!(err.to_string().starts_with("2 of "), "{err}");
    // The rest is gone anyway.
    assert_clean(backend);
}

both!(
    nftables_removal_past_rules_deleted_by_hand,
    iptables_removal_past_rules_deleted_by_hand,
    partly_deleted
);

fn follows_the_record(backend: Backend) {
    // The record survives a round trip through the caller's state file.
    let removal = add_network_rules(backend, &def(NAT), BRIDGE).unwrap();
    let json = serde_json::to_string(&removal).unwrap();
    let mut stored: FirewallRemoval = serde_json::from_str(&json).unwrap();
    assert_eq!(stored, removal);

    // What this build would add for that network now is something else (the definition
    // changed since it started): removal must not look at it, only at the record.
    let changed = def(&NAT.replace("192.168.122.", "10.9.9."));
    let now = add_network_rules(backend, &changed, BRIDGE2).unwrap();

    // Drop one command from the record: exactly that rule stays.
    let kept = stored.commands.remove(1);
    remove_network_rules(&stored).unwrap();
    assert!(
        listing(backend).contains("10.9.9.0/24"),
        "the other network's rules were touched"
    );
    assert!(
        try_sh(&kept),
        "the rule left out of the record was removed: {kept:?}"
    );

    // A record can only delete, and only through the backend's programs.
    let marker = std::env::temp_dir().join(format!("virtsh-fw-test-{}", std::process::id()));
    let bogus = FirewallRemoval {
        backend,
        commands: vec![vec!["touch".into(), marker.display().to_string()]],
    };
    let err = remove_network_rules(&bogus).unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(!marker.exists());

    remove_network_rules(&now).unwrap();
    assert_clean(backend);
}

both!(
    nftables_removal_follows_the_record,
    iptables_removal_follows_the_record,
    follows_the_record
);

#[test]
fn iptables_hand_built_record() {
    in_netns(Backend::Iptables, || {
        // Create the chains through a network, then a rule of an older build by hand.
        let removal = add_network_rules(Backend::Iptables, &def(ISOLATED), BRIDGE).unwrap();
        sh(&[
            "iptables",
            "-w",
            "-t",
            "filter",
            "-I",
            "LIBVIRT_FWX",
            "-i",
            "vbr9",
            "-o",
            "vbr9",
            "-j",
            "ACCEPT",
        ]);
        let old: Vec<String> = [
            "iptables",
            "-w",
            "-t",
            "filter",
            "-D",
            "LIBVIRT_FWX",
            "-i",
            "vbr9",
            "-o",
            "vbr9",
            "-j",
            "ACCEPT",
        ]
        .map(String::from)
        .to_vec();
        let mut record = removal.clone();
        record.commands.push(old);
        remove_network_rules(&record).unwrap();
        assert_clean(Backend::Iptables);
    });
}

// ---------------------------------------------------------------------------------------------
// A failed addition rolls back

#[test]
fn nftables_failed_add_rolls_back() {
    in_netns(Backend::Nftables, || {
        // An ip6 table of that name whose guest_nat is a filter chain: the IPv6 setup fails
        // after the IPv4 rules went in.
        sh(&["nft", "add", "table", "ip6", "virtsh_network"]);
        sh(&["nft", "add chain ip6 virtsh_network guest_nat { type filter hook postrouting priority 0; policy accept; }"]);
        let err = add_network_rules(Backend::Nftables, &def(DUAL), BRIDGE).unwrap_err();
        let FirewallError::AddFailed {
            failure,
            rollback_failures,
            network,
        } = &err
        else {
            panic!("unexpected error {err}");
        };
        assert_eq!(network, "dual");
        assert!(
            failure
                .command
                .starts_with("nft 'add table ip6 virtsh_network"),
            "{err}"
        );
        assert!(failure.message.contains("Error"), "{err}");
        assert!(rollback_failures.is_empty(), "{err}");
        let text = listing(Backend::Nftables);
        assert!(
            !text.contains("vbr0") && !text.contains("192.168."),
            "not rolled back:\n{text}"
        );
        assert!(!text.contains("table ip virtsh_network"), "{text}");
    });
}

#[test]
fn iptables_failed_add_rolls_back() {
    in_netns(Backend::Iptables, || {
        // A base chain named like libvirt's in ip6's filter table: ip6tables cannot create it,
        // after the IPv4 rules went in.
        sh(&["nft", "add", "table", "ip6", "filter"]);
        sh(&["nft", "add chain ip6 filter LIBVIRT_FWO { type filter hook forward priority 0; policy accept; }"]);
        let err = add_network_rules(Backend::Iptables, &def(DUAL), BRIDGE).unwrap_err();
        let FirewallError::AddFailed {
            failure,
            rollback_failures,
            ..
        } = &err
        else {
            panic!("unexpected error {err}");
        };
        assert!(
            failure
                .command
                .starts_with("ip6tables -w --table filter --new-chain LIBVIRT_FWO"),
            "{err}"
        );
        assert!(failure.message.contains("File exists"), "{err}");
        assert!(rollback_failures.is_empty(), "{err}");
        assert_clean(Backend::Iptables);
    });
}

#[test]
fn nftables_missing_bridge_fails_cleanly() {
    in_netns(Backend::Nftables, || {
        let err = add_network_rules(Backend::Nftables, &def(NAT), "nosuchbr0").unwrap_err();
        assert!(
            err.to_string().contains("Interface does not exist"),
            "{err}"
        );
        assert_clean(Backend::Nftables);
    });
}

// ---------------------------------------------------------------------------------------------
// Choosing the backend

#[test]
fn choose_backend() {
    let err = Backend::choose(Some("ebtables")).unwrap_err();
    assert!(
        matches!(err, FirewallError::UnknownBackend(ref v) if v == "ebtables"),
        "{err}"
    );
    let nft = find("nft").is_some();
    let ipt = find("iptables").is_some() && find("ip6tables").is_some();
    if !nft || !ipt {
        return skip("nft or iptables is not installed");
    }
    assert_eq!(Backend::choose(None).unwrap(), Backend::Nftables);
    assert_eq!(
        Backend::choose(Some("iptables")).unwrap(),
        Backend::Iptables
    );
    let conf = "# network.conf\nfirewall_backend = \"iptables\" # pinned\n";
    let setting = parse_network_conf(conf).unwrap();
    assert_eq!(
        Backend::choose(setting.as_deref()).unwrap(),
        Backend::Iptables
    );
    assert_eq!(
        Backend::choose(parse_network_conf("").unwrap().as_deref()).unwrap(),
        Backend::Nftables
    );
}
