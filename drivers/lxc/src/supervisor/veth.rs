//! A container's network interfaces: one veth pair per `<interface>` of type `network` or
//! `bridge`, its host end on the bridge, its other end moved into the container.
//!
//! Made with `ip link`, as libvirt's virNetDevVethCreate does: iproute2 knows every kernel's
//! veth quirks, and a pair is made once per container start, so the exec costs nothing.

use std::process::Command;

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::NetInterface;

use crate::container;

/// One pair: `host` stays on the host (on `bridge`), `peer` goes into the container and is
/// renamed `guest` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veth {
    pub host: String,
    pub peer: String,
    pub guest: String,
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output().map_err(|e| {
        Error::new(
            ErrorKind::SystemError,
            format!(
                "cannot run 'ip {}': {}",
                args.join(" "),
                virtsh_api::strerror(&e)
            ),
        )
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InternalError,
        format!(
            "Child process (ip {}) unexpected exit status {}: {}",
            args.join(" "),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    ))
}

/// Whether `name` is a link of this process's network namespace. Asked of the kernel, not of
/// `/sys/class/net`: the sysfs mounted there shows the namespace of whoever mounted it (the
/// host's, under `nsenter --net`).
fn link_exists(name: &str) -> bool {
    std::ffi::CString::new(name)
        // SAFETY: a valid NUL-terminated name.
        .is_ok_and(|c| unsafe { libc::if_nametoindex(c.as_ptr()) } != 0)
}

/// The first free `vethN` name at or after `*next` (libvirt's host-side names).
fn free_name(next: &mut u32) -> String {
    loop {
        let name = format!("veth{next}");
        *next += 1;
        if !link_exists(&name) {
            return name;
        }
    }
}

/// Make the pairs of `nics` (whose network ones already hold a port: the live `<source
/// bridge=...>`), and record each host end as the NIC's `<target dev>`. On failure the pairs
/// made so far are deleted.
pub fn create_all(nics: &mut [NetInterface]) -> Result<Vec<Veth>> {
    let mut made = Vec::new();
    let mut next = 0;
    for (i, nic) in nics.iter_mut().enumerate() {
        match create_one(nic, i, &mut next) {
            Ok(v) => made.push(v),
            Err(e) => {
                delete_all(&made);
                return Err(e);
            }
        }
    }
    Ok(made)
}

fn create_one(nic: &mut NetInterface, index: usize, next: &mut u32) -> Result<Veth> {
    let bridge = match nic.if_type.as_str() {
        "network" => nic.source_extra.attr("bridge").map(str::to_string),
        "bridge" => nic.source.clone(),
        "ethernet" => None,
        other => {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!("Unsupported network type {other}"),
            ))
        }
    };
    let host = match nic.target_dev.clone().filter(|d| !d.is_empty()) {
        Some(d) => d,
        None => free_name(next),
    };
    let peer = free_name(next);
    let guest = nic
        .extra
        .iter()
        .find(|n| n.name == "guest")
        .and_then(|g| g.attr("dev"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("eth{index}"));
    ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer])?;
    let v = Veth {
        host: host.clone(),
        peer: peer.clone(),
        guest,
    };
    let rest = (|| {
        if let Some(mac) = &nic.mac {
            ip(&["link", "set", "dev", &peer, "address", mac])?;
        }
        if let Some(br) = &bridge {
            ip(&["link", "set", "dev", &host, "master", br])?;
        }
        ip(&["link", "set", "dev", &host, "up"])
    })();
    if let Err(e) = rest {
        delete_all(std::slice::from_ref(&v));
        return Err(e);
    }
    nic.target_dev = Some(host);
    Ok(v)
}

/// Move the container ends into the network namespace of `pid`.
pub fn move_into(pairs: &[Veth], pid: i32) -> Result<()> {
    let pid = pid.to_string();
    for v in pairs {
        ip(&["link", "set", "dev", &v.peer, "netns", &pid])?;
    }
    Ok(())
}

/// Delete the pairs whose host end still exists (a pair goes away with its container's
/// network namespace, so usually there is nothing left to do).
pub fn delete_all(pairs: &[Veth]) {
    for v in pairs {
        if link_exists(&v.host) {
            let _ = ip(&["link", "del", "dev", &v.host]);
        }
    }
}

/// What the container does with each pair.
pub fn container_interfaces(pairs: &[Veth]) -> Vec<container::NetInterface> {
    pairs
        .iter()
        .map(|v| container::NetInterface {
            host_name: v.peer.clone(),
            guest_name: v.guest.clone(),
        })
        .collect()
}
