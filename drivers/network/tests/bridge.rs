//! Tests of `virtsh_network::bridge` against the real kernel, each in a network namespace of its
//! own: the test body runs in a new thread that first calls `unshare(CLONE_NEWNET)`. Network
//! namespaces are per thread, so the library's netlink sockets, the `/proc/sys/net` files it
//! writes and the `ip` commands the test spawns (a child starts in its parent thread's
//! namespaces) all see that namespace, never the host's network.
//!
//! They need CAP_SYS_ADMIN and CAP_NET_ADMIN (root); without them each test says so and skips.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;
use virtsh_network::bridge::{self, BridgeError, BridgeSpec};

/// Runs `body` in a new thread, in a fresh network namespace.
fn in_netns(body: impl FnOnce() + Send + 'static) {
    common::in_fresh_netns(body);
}

use common::ip;

fn ip_json(args: &[&str]) -> Value {
    let mut all = vec!["-d", "-j"];
    all.extend_from_slice(args);
    serde_json::from_str(&ip(&all)).unwrap()
}

/// `ip -d -j link show dev NAME`, the one object.
fn link(name: &str) -> Value {
    ip_json(&["link", "show", "dev", name])[0].clone()
}

fn is_up(name: &str) -> bool {
    link(name)["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "UP")
}

fn spec(name: &str) -> BridgeSpec<'_> {
    BridgeSpec {
        name,
        mac: None,
        mtu: None,
        stp: false,
        delay_secs: 0,
    }
}

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

#[test]
fn create_with_mac_mtu_stp_and_delay() {
    in_netns(|| {
        bridge::create_bridge(&BridgeSpec {
            mac: Some(MAC),
            mtu: Some(9000),
            stp: true,
            delay_secs: 2,
            ..spec("virbr0")
        })
        .unwrap();

        let l = link("virbr0");
        assert_eq!(l["address"], "52:54:00:12:34:56");
        assert_eq!(l["mtu"], 9000);
        assert_eq!(l["linkinfo"]["info_kind"], "bridge");
        let data = &l["linkinfo"]["info_data"];
        assert_eq!(data["stp_state"], 1);
        assert_eq!(data["forward_delay"], 200, "2 s in clock_t (1/100 s)");
        assert!(!is_up("virbr0"), "a new bridge is down");

        assert!(bridge::link_exists("virbr0").unwrap());
        assert!(!bridge::link_exists("virbr1").unwrap());
        assert_eq!(bridge::link_mac("virbr0").unwrap(), MAC);
    });
}

#[test]
fn stp_on_with_zero_delay_and_stp_off() {
    in_netns(|| {
        // libvirt's default network: stp='on' delay='0'. Accepted (the kernel refuses a delay
        // outside 2..=30 s once STP is on, so the delay must be applied first), and then the
        // kernel clamps it to 2 s as it starts STP, as it does under libvirt.
        bridge::create_bridge(&BridgeSpec {
            stp: true,
            ..spec("virbr0")
        })
        .unwrap();
        let data = &link("virbr0")["linkinfo"]["info_data"];
        assert_eq!(data["stp_state"], 1);
        assert_eq!(data["forward_delay"], 200);
        bridge::create_bridge(&BridgeSpec {
            stp: true,
            delay_secs: 45,
            ..spec("virbr2")
        })
        .unwrap();
        assert_eq!(
            link("virbr2")["linkinfo"]["info_data"]["forward_delay"],
            3000
        );

        bridge::create_bridge(&BridgeSpec {
            delay_secs: 15,
            ..spec("virbr1")
        })
        .unwrap();
        let data = &link("virbr1")["linkinfo"]["info_data"];
        assert_eq!(data["stp_state"], 0);
        assert_eq!(data["forward_delay"], 1500);
    });
}

#[test]
fn duplicate_create_fails_and_leaves_the_link_alone() {
    in_netns(|| {
        bridge::create_bridge(&BridgeSpec {
            mac: Some(MAC),
            ..spec("virbr0")
        })
        .unwrap();
        let err = bridge::create_bridge(&BridgeSpec {
            mtu: Some(1400),
            ..spec("virbr0")
        })
        .unwrap_err();
        assert!(err.is_exists(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "Unable to create bridge virbr0: File exists"
        );
        assert_eq!(link("virbr0")["mtu"], 1500);
        assert_eq!(bridge::link_mac("virbr0").unwrap(), MAC);

        // A link of another kind with that name: refused too, not turned into a bridge.
        ip(&[
            "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet1",
        ]);
        let err = bridge::create_bridge(&BridgeSpec {
            stp: true,
            ..spec("vnet0")
        })
        .unwrap_err();
        assert!(err.is_exists(), "{err:?}");
        assert_eq!(link("vnet0")["linkinfo"]["info_kind"], "veth");
    });
}

#[test]
fn failed_create_leaves_nothing_behind() {
    in_netns(|| {
        // An MTU below the minimum (68): the bridge is created, the MTU refused, the bridge
        // deleted again.
        let err = bridge::create_bridge(&BridgeSpec {
            mtu: Some(10),
            ..spec("virbr0")
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Cannot set interface MTU on 'virbr0': Invalid argument"),
            "{err}"
        );
        assert!(!bridge::link_exists("virbr0").unwrap());

        let err = bridge::create_bridge(&BridgeSpec {
            delay_secs: u64::MAX,
            ..spec("virbr0")
        })
        .unwrap_err();
        assert!(matches!(err, BridgeError::InvalidArgument(_)), "{err:?}");
        assert!(!bridge::link_exists("virbr0").unwrap());
    });
}

#[test]
fn invalid_names_are_refused_before_the_kernel() {
    // No namespace needed: nothing reaches the kernel.
    for name in ["", ".", "..", "a/b", "a:b", "a b", "sixteen-chars-xx"] {
        let err = bridge::create_bridge(&spec(name)).unwrap_err();
        assert!(
            matches!(err, BridgeError::InvalidName(_)),
            "{name}: {err:?}"
        );
        assert!(matches!(
            bridge::delete_link(name),
            Err(BridgeError::InvalidName(_))
        ));
        assert!(matches!(
            bridge::set_ipv6_disabled(name, true),
            Err(BridgeError::InvalidName(_))
        ));
    }
}

#[test]
fn addresses_v4_and_v6() {
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 168, 122, 1));
        let v6: IpAddr = "2001:db8:ca2:2::1".parse().unwrap();
        bridge::add_address("virbr0", v4, 24, None).unwrap();
        bridge::add_address("virbr0", v6, 64, None).unwrap();
        bridge::add_address(
            "virbr0",
            IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
            8,
            Some(Ipv4Addr::new(10, 1, 2, 255)),
        )
        .unwrap();
        bridge::add_address("virbr0", IpAddr::V4(Ipv4Addr::new(172, 16, 0, 1)), 32, None).unwrap();

        let addrs = ip_json(&["addr", "show", "dev", "virbr0"])[0]["addr_info"].clone();
        let find = |local: &str| {
            addrs
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["local"] == local)
                .unwrap_or_else(|| panic!("{local} not in {addrs}"))
                .clone()
        };
        let a = find("192.168.122.1");
        assert_eq!(a["prefixlen"], 24);
        assert_eq!(
            a["broadcast"], "192.168.122.255",
            "computed as libvirt does"
        );
        let a = find("10.1.2.3");
        assert_eq!(a["prefixlen"], 8);
        assert_eq!(a["broadcast"], "10.1.2.255", "the one given");
        assert!(find("172.16.0.1")["broadcast"].is_null());
        let a = find("2001:db8:ca2:2::1");
        assert_eq!(a["family"], "inet6");
        assert_eq!(a["prefixlen"], 64);

        let err = bridge::add_address("virbr0", v4, 24, None).unwrap_err();
        assert!(err.is_exists(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "Failed to add IP address 192.168.122.1/24 bcast 192.168.122.255 to virbr0: \
             File exists (ipv4: Address already assigned)",
            "with the kernel's own explanation"
        );

        let err = bridge::add_address("virbr0", v6, 64, Some(Ipv4Addr::BROADCAST)).unwrap_err();
        assert!(matches!(err, BridgeError::InvalidArgument(_)), "{err:?}");
        let err = bridge::add_address("virbr0", v4, 33, None).unwrap_err();
        assert!(matches!(err, BridgeError::InvalidArgument(_)), "{err:?}");

        let err = bridge::add_address("nosuch0", v4, 24, None).unwrap_err();
        assert!(
            matches!(&err, BridgeError::NoDevice { name, .. } if name == "nosuch0"),
            "{err:?}"
        );
    });
}

#[test]
fn up_and_down() {
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();
        bridge::set_link_up("virbr0", true).unwrap();
        assert!(is_up("virbr0"));
        bridge::set_link_up("virbr0", false).unwrap();
        assert!(!is_up("virbr0"));
        bridge::set_link_up("lo", true).unwrap();
        assert!(is_up("lo"));

        let err = bridge::set_link_up("nosuch0", true).unwrap_err();
        assert!(err.is_no_device(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "Cannot set interface flags on 'nosuch0': No such device"
        );
    });
}

#[test]
fn enslave_a_veth() {
    in_netns(|| {
        bridge::create_bridge(&BridgeSpec {
            mac: Some(MAC),
            mtu: Some(9000),
            ..spec("virbr0")
        })
        .unwrap();
        ip(&[
            "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet1",
        ]);
        bridge::set_master("vnet0", "virbr0").unwrap();

        assert_eq!(link("vnet0")["master"], "virbr0");
        assert_eq!(
            link("vnet0")["linkinfo"]["info_slave_kind"],
            "bridge",
            "a bridge port"
        );
        // The bridge keeps its own MTU and MAC when a port (MTU 1500, another MAC) joins.
        assert_eq!(link("virbr0")["mtu"], 9000);
        assert_eq!(bridge::link_mac("virbr0").unwrap(), MAC);

        let err = bridge::set_master("vnet1", "nobr0").unwrap_err();
        assert!(
            matches!(&err, BridgeError::NoDevice { name, .. } if name == "nobr0"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "unable to add bridge nobr0 port vnet1: No such device"
        );
        let err = bridge::set_master("nosuch0", "virbr0").unwrap_err();
        assert!(
            matches!(&err, BridgeError::NoDevice { name, .. } if name == "nosuch0"),
            "{err:?}"
        );

        // Deleting the bridge releases the port, which stays.
        bridge::delete_link("virbr0").unwrap();
        assert!(link("vnet0")["master"].is_null());
    });
}

#[test]
fn delete_and_link_exists() {
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();
        bridge::add_address("virbr0", "192.168.122.1".parse().unwrap(), 24, None).unwrap();
        bridge::set_link_up("virbr0", true).unwrap();
        assert!(bridge::link_exists("virbr0").unwrap());

        // Up, with an address: deleted all the same.
        bridge::delete_link("virbr0").unwrap();
        assert!(!bridge::link_exists("virbr0").unwrap());

        let err = bridge::delete_link("virbr0").unwrap_err();
        assert!(err.is_no_device(), "{err:?}");
        assert_eq!(err.errno(), Some(libc::ENODEV));
        assert_eq!(
            err.to_string(),
            "error destroying network device virbr0: No such device"
        );
        assert!(matches!(err, BridgeError::NoDevice { name, .. } if name == "virbr0"));

        // Any kind of link: a veth, and its peer with it.
        ip(&[
            "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet1",
        ]);
        bridge::delete_link("vnet0").unwrap();
        assert!(!bridge::link_exists("vnet0").unwrap());
        assert!(!bridge::link_exists("vnet1").unwrap());
        // `lo` exists in every namespace.
        assert!(bridge::link_exists("lo").unwrap());
    });
}

#[test]
fn names_in_use() {
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();
        bridge::create_bridge(&spec("virbr2")).unwrap();
        ip(&[
            "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet1",
        ]);
        ip(&[
            "link",
            "property",
            "add",
            "dev",
            "vnet1",
            "altname",
            "longer-alt",
        ]);

        let mut names = bridge::bridge_names_in_use().unwrap();
        names.sort();
        assert_eq!(
            names,
            ["lo", "longer-alt", "virbr0", "virbr2", "vnet0", "vnet1"]
        );
        // What the caller does with it: the first free virbrN.
        let free = (0..)
            .map(|n| format!("virbr{n}"))
            .find(|name| !names.contains(name))
            .unwrap();
        assert_eq!(free, "virbr1");
    });
}

#[test]
fn routes_v4_and_v6() {
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();
        bridge::add_address("virbr0", "192.168.100.1".parse().unwrap(), 24, None).unwrap();
        bridge::add_address("virbr0", "2001:db8:1::1".parse().unwrap(), 64, None).unwrap();
        bridge::set_link_up("virbr0", true).unwrap();

        let gw4: IpAddr = "192.168.100.2".parse().unwrap();
        bridge::add_route("virbr0", "10.20.0.0".parse().unwrap(), 16, gw4, 1).unwrap();
        let routes = ip_json(&["route", "show", "10.20.0.0/16"]);
        let r = &routes[0];
        assert_eq!(r["dst"], "10.20.0.0/16");
        assert_eq!(r["gateway"], "192.168.100.2");
        assert_eq!(r["dev"], "virbr0");
        assert_eq!(r["metric"], 1);
        assert_eq!(r["protocol"], "boot");

        let gw6: IpAddr = "2001:db8:1::2".parse().unwrap();
        bridge::add_route("virbr0", "2001:db8:2::".parse().unwrap(), 48, gw6, 1).unwrap();
        let routes = ip_json(&["-6", "route", "show", "2001:db8:2::/48"]);
        let r = &routes[0];
        assert_eq!(r["gateway"], "2001:db8:1::2");
        assert_eq!(r["dev"], "virbr0");
        assert_eq!(r["metric"], 1);

        let err =
            bridge::add_route("virbr0", "10.20.0.0".parse().unwrap(), 16, gw4, 1).unwrap_err();
        assert!(err.is_exists(), "{err:?}");

        // Host bits set in the destination: the kernel refuses, and says why.
        let err =
            bridge::add_route("virbr0", "10.30.0.1".parse().unwrap(), 16, gw4, 1).unwrap_err();
        let BridgeError::Failed { source, detail, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(source.raw_os_error(), Some(libc::EINVAL));
        assert!(detail.is_some(), "the kernel's extended ACK: {err}");
        assert!(err.to_string().starts_with(
            "Error adding route to 10.30.0.1/16 via 192.168.100.2 on virbr0: Invalid argument ("
        ));

        let err =
            bridge::add_route("virbr0", "10.40.0.0".parse().unwrap(), 16, gw6, 1).unwrap_err();
        assert!(matches!(err, BridgeError::InvalidArgument(_)), "{err:?}");
    });
}

#[test]
fn sysctls_in_the_namespace() {
    let host_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    in_netns(|| {
        bridge::create_bridge(&spec("virbr0")).unwrap();

        bridge::enable_ipv4_forwarding().unwrap();
        assert_eq!(bridge::read_net_sysctl("ipv4/ip_forward").unwrap(), "1");
        bridge::enable_ipv6_forwarding().unwrap();
        assert_eq!(
            bridge::read_net_sysctl("ipv6/conf/all/forwarding").unwrap(),
            "1"
        );

        bridge::set_ipv6_disabled("virbr0", true).unwrap();
        assert_eq!(
            bridge::read_net_sysctl("ipv6/conf/virbr0/disable_ipv6").unwrap(),
            "1"
        );
        bridge::set_ipv6_disabled("virbr0", false).unwrap();
        assert_eq!(
            bridge::read_net_sysctl("ipv6/conf/virbr0/disable_ipv6").unwrap(),
            "0"
        );
        bridge::set_accept_ra("virbr0", 0).unwrap();
        assert_eq!(
            bridge::read_net_sysctl("ipv6/conf/virbr0/accept_ra").unwrap(),
            "0"
        );
        bridge::set_autoconf("virbr0", 0).unwrap();
        assert_eq!(
            bridge::read_net_sysctl("ipv6/conf/virbr0/autoconf").unwrap(),
            "0"
        );

        let err = bridge::set_accept_ra("nosuch0", 0).unwrap_err();
        assert!(
            matches!(&err, BridgeError::Sysctl { path, .. }
                if path.to_str() == Some("/proc/sys/net/ipv6/conf/nosuch0/accept_ra")),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "cannot write '0' to /proc/sys/net/ipv6/conf/nosuch0/accept_ra: \
             No such file or directory"
        );
        assert!(matches!(
            bridge::read_net_sysctl("../../self/environ"),
            Err(BridgeError::InvalidArgument(_))
        ));
    });
    // The host's own setting did not move.
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_forward
    );
}

#[test]
fn namespaces_are_separate() {
    // Two namespaces at once, the same bridge name in each: no clash.
    let a = std::thread::spawn(|| in_netns(|| bridge::create_bridge(&spec("virbr9")).unwrap()));
    let b = std::thread::spawn(|| in_netns(|| bridge::create_bridge(&spec("virbr9")).unwrap()));
    for t in [a, b] {
        if let Err(panic) = t.join() {
            std::panic::resume_unwind(panic);
        }
    }
}
