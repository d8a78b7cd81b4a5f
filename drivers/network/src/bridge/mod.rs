//! Host bridges of virtual networks, through rtnetlink: create and delete a bridge (with its
//! MAC, MTU, STP and forward delay), bring links up and down, give the bridge its addresses and
//! `<route>`s, enslave ports, list link names; and, in [`sysctl`], the forwarding and IPv6
//! sysctls libvirt's network driver sets.
//!
//! Why netlink and not the `ip` command: a request is one message and its answer is an errno
//! (plus the kernel's own explanation), not text to parse from a tool that may be missing, of
//! another version, or localised; and nothing runs `fork`/`exec` per step. It is also what
//! libvirt does.
//!
//! Every call opens its own socket, so it acts on the network namespace of the calling *thread*
//! (namespaces are per thread in Linux). The tests rely on this: each runs in a thread that
//! unshared its network namespace, and never touches the host's network.
//!
//! Names are Linux interface names: at most 15 bytes, no `/`, `:` or whitespace, not `.` or `..`;
//! an invalid one is refused before any request ([`BridgeError::InvalidName`]).

mod netlink;
pub mod sysctl;

pub use sysctl::{
    enable_ipv4_forwarding, enable_ipv6_forwarding, read_net_sysctl, set_accept_ra, set_autoconf,
    set_ipv6_disabled,
};

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage, Prop,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use netlink::{Nack, Rtnl};

/// Linux's IFNAMSIZ, with the terminating NUL.
const IFNAMSIZ: usize = 16;
/// The kernel takes bridge timers over netlink in clock_t units, USER_HZ (100) per second:
/// `ip -d link` shows the default 15 s forward delay as `forward_delay 1500`.
const USER_HZ: u64 = 100;
/// How often to re-run a link dump that a concurrent change interrupted.
const DUMP_ATTEMPTS: usize = 3;

/// A bridge to create (`<bridge name= stp= delay=/>`, `<mac address=/>`, `<mtu size=/>` of a
/// network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeSpec<'a> {
    pub name: &'a str,
    /// `None`: the kernel picks a random one.
    pub mac: Option<[u8; 6]>,
    /// `None`: the kernel's default (1500).
    pub mtu: Option<u32>,
    /// Spanning tree on (libvirt's default for a network) or off.
    pub stp: bool,
    /// STP forward delay in seconds (libvirt's `delay`, default 0). With STP on, the kernel
    /// clamps it to 2..=30 s when STP starts (so libvirt's "stp on, delay 0" gives 2 s).
    pub delay_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("invalid interface name '{0}': at most 15 bytes, no '/', ':' or whitespace")]
    InvalidName(String),
    /// An argument refused before asking the kernel (a prefix too long, a forward delay out of
    /// range, mixed address families).
    #[error("{0}")]
    InvalidArgument(String),
    /// The device `name` does not exist (ENODEV). `what` says what failed, libvirt-like.
    #[error("{what}: No such device")]
    NoDevice { what: String, name: String },
    /// The kernel refused (e.g. `EEXIST`: "Unable to create bridge virbr0: File exists"), or the
    /// netlink socket failed. `detail` is the kernel's own explanation, when it gives one.
    #[error("{what}: {}{}", os_text(source), detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Failed {
        what: String,
        source: io::Error,
        detail: Option<String>,
    },
    #[error("cannot write '{value}' to {}: {}", path.display(), os_text(source))]
    Sysctl {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("cannot read {}: {}", path.display(), os_text(source))]
    SysctlRead { path: PathBuf, source: io::Error },
}

impl BridgeError {
    /// The errno behind the error, if there is one (`libc::EEXIST`, `libc::ENODEV`, ...).
    pub fn errno(&self) -> Option<i32> {
        match self {
            BridgeError::NoDevice { .. } => Some(libc::ENODEV),
            BridgeError::Failed { source, .. }
            | BridgeError::Sysctl { source, .. }
            | BridgeError::SysctlRead { source, .. } => source.raw_os_error(),
            BridgeError::InvalidName(_) | BridgeError::InvalidArgument(_) => None,
        }
    }

    /// The device does not exist (e.g. [`delete_link`] of a link that is already gone).
    pub fn is_no_device(&self) -> bool {
        matches!(self, BridgeError::NoDevice { .. })
    }

    /// The object already exists: a link of that name ([`create_bridge`]), the same address
    /// ([`add_address`]) or route ([`add_route`]).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }
}

use virtsh_api::strerror as os_text;

pub(crate) fn check_name(name: &str) -> Result<(), BridgeError> {
    if name.is_empty()
        || name.len() >= IFNAMSIZ
        || name == "."
        || name == ".."
        || name.contains(|c: char| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(BridgeError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// Sends one request on a fresh socket. `name` is the device a missing-device error is about.
fn request(
    what: &dyn Fn() -> String,
    name: &str,
    message: RouteNetlinkMessage,
    flags: u16,
) -> Result<netlink::Replies, BridgeError> {
    Rtnl::open()
        .and_then(|mut rtnl| rtnl.request(message, flags))
        .map_err(|nack| failed(what(), name, nack))
}

fn failed(what: String, name: &str, nack: Nack) -> BridgeError {
    if nack.error.raw_os_error() == Some(libc::ENODEV) {
        return BridgeError::NoDevice {
            what,
            name: name.to_string(),
        };
    }
    BridgeError::Failed {
        what,
        source: nack.error,
        detail: nack.detail,
    }
}

/// A link message that names its device by `IFLA_IFNAME` (index 0): the kernel looks the name
/// up itself, so there is no lookup-then-act race.
fn link_by_name(name: &str) -> LinkMessage {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    message
}

/// `RTM_GETLINK` of one device.
fn get_link(what: &dyn Fn() -> String, name: &str) -> Result<LinkMessage, BridgeError> {
    let replies = request(
        what,
        name,
        RouteNetlinkMessage::GetLink(link_by_name(name)),
        0,
    )?;
    replies
        .messages
        .into_iter()
        .find_map(|message| match message {
            RouteNetlinkMessage::NewLink(link) => Some(link),
            _ => None,
        })
        .ok_or_else(|| BridgeError::Failed {
            what: what(),
            source: io::Error::new(io::ErrorKind::InvalidData, "no link in the kernel's reply"),
            detail: None,
        })
}

/// Creates bridge `spec.name`, down. Fails (with [`BridgeError::is_exists`]) if any link of that
/// name exists. On failure nothing is left behind.
pub fn create_bridge(spec: &BridgeSpec) -> Result<(), BridgeError> {
    check_name(spec.name)?;
    let what = || format!("Unable to create bridge {}", spec.name);
    let forward_delay = spec
        .delay_secs
        .checked_mul(USER_HZ)
        .and_then(|delay| u32::try_from(delay).ok())
        .ok_or_else(|| {
            BridgeError::InvalidArgument(format!(
                "{}: forward delay {} s is out of range",
                what(),
                spec.delay_secs
            ))
        })?;

    let mut message = link_by_name(spec.name);
    if let Some(mac) = spec.mac {
        // Set at creation, the kernel marks the address as chosen (NET_ADDR_SET), so the bridge
        // keeps it instead of taking the lowest MAC of its ports.
        message
            .attributes
            .push(LinkAttribute::Address(mac.to_vec()));
    }
    // The kernel applies IFLA_BR_FORWARD_DELAY before IFLA_BR_STP_STATE, while the new bridge
    // still has STP off, so any delay is accepted (with STP on, it refuses one outside 2..=30 s
    // with ERANGE); starting STP then clamps it into that range.
    let stp = if spec.stp {
        BridgeStpState::KernelStp // 1: "on"; the kernel chooses kernel or user-space STP
    } else {
        BridgeStpState::Disabled
    };
    message.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Bridge),
        LinkInfo::Data(InfoData::Bridge(vec![
            InfoBridge::ForwardDelay(forward_delay),
            InfoBridge::StpState(stp),
        ])),
    ]));
    // NLM_F_EXCL: without it, RTM_NEWLINK on an existing name would modify that link.
    request(
        &what,
        spec.name,
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
    )?;

    if let Some(mtu) = spec.mtu {
        // Not IFLA_MTU at creation: that MTU is not "set by the user" for the bridge, which then
        // lowers it to its smallest port's MTU when a port joins. A change after creation sticks,
        // as libvirt's (ioctl) does.
        if let Err(err) = set_mtu(spec.name, mtu) {
            let _ = delete_link(spec.name);
            return Err(err);
        }
    }
    Ok(())
}

/// Deletes link `name` (a bridge, a veth, ...). Its addresses and routes go with it, and its
/// ports are released. A missing link gives [`BridgeError::NoDevice`].
pub fn delete_link(name: &str) -> Result<(), BridgeError> {
    check_name(name)?;
    let what = || format!("error destroying network device {name}");
    request(
        &what,
        name,
        RouteNetlinkMessage::DelLink(link_by_name(name)),
        0,
    )?;
    Ok(())
}

/// Whether a link named `name` exists.
pub fn link_exists(name: &str) -> Result<bool, BridgeError> {
    check_name(name)?;
    let what = || format!("Unable to get index for interface {name}");
    match get_link(&what, name) {
        Ok(_) => Ok(true),
        Err(BridgeError::NoDevice { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Brings link `name` up or down (IFF_UP).
pub fn set_link_up(name: &str, up: bool) -> Result<(), BridgeError> {
    check_name(name)?;
    let what = || format!("Cannot set interface flags on '{name}'");
    let mut message = link_by_name(name);
    message.header.flags = if up {
        LinkFlags::Up
    } else {
        LinkFlags::empty()
    };
    // Only the bits in change_mask are changed.
    message.header.change_mask = LinkFlags::Up;
    request(&what, name, RouteNetlinkMessage::SetLink(message), 0)?;
    Ok(())
}

/// Sets the MTU of link `name`.
pub fn set_mtu(name: &str, mtu: u32) -> Result<(), BridgeError> {
    check_name(name)?;
    let what = || format!("Cannot set interface MTU on '{name}'");
    let mut message = link_by_name(name);
    message.attributes.push(LinkAttribute::Mtu(mtu));
    request(&what, name, RouteNetlinkMessage::SetLink(message), 0)?;
    Ok(())
}

/// Adds `addr/prefix` to link `name`.
///
/// For IPv4, `broadcast: None` means the usual one (host bits all ones) for prefixes up to /30,
/// none for /31 and /32, as libvirt does. A broadcast with an IPv6 address is refused.
/// Adding an address the link already has fails with [`BridgeError::is_exists`].
pub fn add_address(
    name: &str,
    addr: IpAddr,
    prefix: u8,
    broadcast: Option<Ipv4Addr>,
) -> Result<(), BridgeError> {
    check_name(name)?;
    let broadcast = match (addr, broadcast) {
        (IpAddr::V4(v4), None) if prefix <= 30 => {
            Some(Ipv4Addr::from(u32::from(v4) | (u32::MAX >> prefix)))
        }
        (IpAddr::V6(_), Some(_)) => {
            return Err(BridgeError::InvalidArgument(format!(
                "Failed to add IP address {addr}/{prefix} to {name}: a broadcast address is \
                 for IPv4 only"
            )))
        }
        (_, broadcast) => broadcast,
    };
    let what = || match broadcast {
        Some(bcast) => format!("Failed to add IP address {addr}/{prefix} bcast {bcast} to {name}"),
        None => format!("Failed to add IP address {addr}/{prefix} to {name}"),
    };
    let (family, max_prefix) = family_of(addr);
    if prefix > max_prefix {
        return Err(BridgeError::InvalidArgument(format!(
            "{}: invalid prefix",
            what()
        )));
    }

    let index = get_link(&what, name)?.header.index;
    let mut message = AddressMessage::default();
    message.header.family = family;
    message.header.prefix_len = prefix;
    message.header.scope = AddressScope::Universe;
    message.header.index = index;
    // As iproute2 does: IFA_LOCAL is the address itself, IFA_ADDRESS the same when there is
    // no peer (it would be the peer on a point-to-point link).
    message.attributes.push(AddressAttribute::Local(addr));
    message.attributes.push(AddressAttribute::Address(addr));
    if let Some(bcast) = broadcast {
        message.attributes.push(AddressAttribute::Broadcast(bcast));
    }
    request(
        &what,
        name,
        RouteNetlinkMessage::NewAddress(message),
        NLM_F_CREATE | NLM_F_EXCL,
    )?;
    Ok(())
}

/// Adds the route `dest/prefix via gateway` out of bridge `bridge` (a network's `<route
/// address= prefix= gateway= metric=/>`), in the main table. `metric` is the route priority
/// (libvirt's default for `<route>` is 1). `dest` must be the network address (host bits zero),
/// the gateway reachable on the bridge (so add the bridge's addresses first, and bring it up).
pub fn add_route(
    bridge: &str,
    dest: IpAddr,
    prefix: u8,
    gateway: IpAddr,
    metric: u32,
) -> Result<(), BridgeError> {
    check_name(bridge)?;
    let what = || format!("Error adding route to {dest}/{prefix} via {gateway} on {bridge}");
    let (family, max_prefix) = family_of(dest);
    if family_of(gateway).0 != family {
        return Err(BridgeError::InvalidArgument(format!(
            "{}: the destination and the gateway are of different address families",
            what()
        )));
    }
    if prefix > max_prefix {
        return Err(BridgeError::InvalidArgument(format!(
            "{}: invalid prefix",
            what()
        )));
    }

    let index = get_link(&what, bridge)?.header.index;
    let mut message = RouteMessage::default();
    message.header.address_family = family;
    message.header.destination_prefix_length = prefix;
    message.header.table = RouteHeader::RT_TABLE_MAIN;
    message.header.protocol = RouteProtocol::Boot; // what `ip route add` and libvirt use
    message.header.scope = RouteScope::Universe; // via a gateway: not a link-scope route
    message.header.kind = RouteType::Unicast;
    message
        .attributes
        .push(RouteAttribute::Destination(route_address(dest)));
    message
        .attributes
        .push(RouteAttribute::Gateway(route_address(gateway)));
    message.attributes.push(RouteAttribute::Oif(index));
    message.attributes.push(RouteAttribute::Priority(metric));
    request(
        &what,
        bridge,
        RouteNetlinkMessage::NewRoute(message),
        NLM_F_CREATE | NLM_F_EXCL,
    )?;
    Ok(())
}

/// Makes `ifname` a port of `bridge` (IFLA_MASTER). A missing device gives
/// [`BridgeError::NoDevice`] whose `name` says which one.
pub fn set_master(ifname: &str, bridge: &str) -> Result<(), BridgeError> {
    check_name(ifname)?;
    check_name(bridge)?;
    let what = || format!("unable to add bridge {bridge} port {ifname}");
    let bridge_index = get_link(&what, bridge)?.header.index;
    let mut message = link_by_name(ifname);
    message
        .attributes
        .push(LinkAttribute::Controller(bridge_index));
    request(&what, ifname, RouteNetlinkMessage::SetLink(message), 0)?;
    Ok(())
}

/// The MAC address of link `name`.
pub fn link_mac(name: &str) -> Result<[u8; 6], BridgeError> {
    check_name(name)?;
    let what = || format!("Cannot get interface MAC on '{name}'");
    let link = get_link(&what, name)?;
    link.attributes
        .iter()
        .find_map(|attribute| match attribute {
            LinkAttribute::Address(mac) => <[u8; 6]>::try_from(mac.as_slice()).ok(),
            _ => None,
        })
        .ok_or_else(|| BridgeError::Failed {
            what: what(),
            source: io::Error::new(io::ErrorKind::InvalidData, "no Ethernet address"),
            detail: None,
        })
}

/// Every name in use by a link of this network namespace, alternative names included, so the
/// caller can pick the first free `virbrN` (a new link cannot take any of them).
pub fn bridge_names_in_use() -> Result<Vec<String>, BridgeError> {
    let what = || "Unable to list network devices".to_string();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let replies = request(
            &what,
            "",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        // A link added or removed during the dump can make it inconsistent: ask again.
        if replies.interrupted && attempt < DUMP_ATTEMPTS {
            continue;
        }
        let mut names = Vec::new();
        for message in replies.messages {
            let RouteNetlinkMessage::NewLink(link) = message else {
                continue;
            };
            for attribute in link.attributes {
                match attribute {
                    LinkAttribute::IfName(name) => names.push(name),
                    LinkAttribute::PropList(props) => {
                        names.extend(props.into_iter().filter_map(|prop| match prop {
                            Prop::AltIfName(alt) => Some(alt),
                            _ => None,
                        }))
                    }
                    _ => {}
                }
            }
        }
        return Ok(names);
    }
}

/// The netlink family of an address, and the longest prefix it takes.
fn family_of(addr: IpAddr) -> (AddressFamily, u8) {
    match addr {
        IpAddr::V4(_) => (AddressFamily::Inet, 32),
        IpAddr::V6(_) => (AddressFamily::Inet6, 128),
    }
}

fn route_address(addr: IpAddr) -> RouteAddress {
    match addr {
        IpAddr::V4(v4) => RouteAddress::Inet(v4),
        IpAddr::V6(v6) => RouteAddress::Inet6(v6),
    }
}
