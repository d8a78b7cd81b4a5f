//! The steps for the container's `/dev`: a small tmpfs with libvirt's device nodes, a private
//! devpts instance, the usual symlinks, `/dev/shm`, the console, and the nodes of the host
//! devices given to the container (`<hostdev mode='capabilities'>`, [`DeviceNode`]).
//!
//! libvirt's controller makes the nodes with mknod(2) from the host side
//! (`virLXCControllerPopulateDevices`). The child here does it itself; in a user namespace
//! mknod is refused (and nodes on a file system mounted there would not open anyway), so
//! the host's nodes are bind-mounted onto empty files instead, as LXC does.

use std::path::{Component, Path};

use super::error::ContainerError;
use super::mounts::{mkdir, mount_fs};
use super::plan::{cpath, cstr, Builder, Op};
use super::{ContainerSpec, DeviceNode};

/// libvirt's nodes: name, major, minor (all mode 0666).
const NODES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The mode of a host device's node: libvirt's controller makes them 0700, for the
/// container's root only (virLXCControllerSetupHostdevCaps*).
const HOSTDEV_MODE: libc::mode_t = 0o700;

/// The tty group libvirt gives devpts (`gid=5`); see [`devpts_options`].
const TTY_GID: u32 = 5;

/// The slots of the host's nodes that a container in a user namespace gets bind-mounted.
pub(super) struct HostNodes {
    /// libvirt's nodes, in `NODES` order.
    defaults: Vec<usize>,
    /// The spec's [`DeviceNode`]s, in their order.
    devices: Vec<usize>,
}

/// In a user namespace, the steps that open the host's nodes (before any mount changes):
/// libvirt's, then the spec's host devices; `None` otherwise.
pub(super) fn open_host_nodes(
    b: &mut Builder,
    spec: &ContainerSpec,
    userns: bool,
) -> Result<Option<HostNodes>, ContainerError> {
    if !userns {
        return Ok(None);
    }
    let mut open = |path: &str| -> Result<usize, ContainerError> {
        let slot = b.slot()?;
        b.push(
            Op::CloneTree {
                path: cstr("path", path)?,
                slot,
                recursive: false,
            },
            "open",
            path,
        );
        Ok(slot)
    };
    let defaults = NODES
        .iter()
        .map(|(name, _, _)| open(&format!("/dev/{name}")))
        .collect::<Result<_, _>>()?;
    let devices = spec
        .devices
        .iter()
        .map(|d| open(&d.source.display().to_string()))
        .collect::<Result<_, _>>()?;
    Ok(Some(HostNodes { defaults, devices }))
}

/// devpts's options: a new instance (the container sees only its own ptys), `/dev/ptmx`
/// usable by all, new ptys 0620 and owned by the tty group. In a user namespace the group is
/// a container gid, which must be mapped or the mount fails; without a mapped gid 5 the
/// option is left out (ptys then get the opener's group).
pub(super) fn devpts_options(spec: &ContainerSpec) -> String {
    let gid_mapped = match &spec.idmap {
        None => true,
        Some(map) => map.gid.iter().any(|r| r.contains(TTY_GID)),
    };
    let mut opts = String::from("newinstance,ptmxmode=0666,mode=0620");
    if gid_mapped {
        opts.push_str(&format!(",gid={TTY_GID}"));
    }
    opts
}

/// Mounts and fills `/dev`; `nodes` are the host nodes' slots in a user namespace.
pub(super) fn populate(
    b: &mut Builder,
    spec: &ContainerSpec,
    nodes: Option<&HostNodes>,
    console: Option<usize>,
) -> Result<(), ContainerError> {
    for d in &spec.devices {
        check_device_target(d)?;
    }
    mkdir(b, "/dev")?;
    // 64 KiB as libvirt: it only holds nodes and symlinks, and must not let the container
    // fill the host's memory.
    mount_fs(
        b,
        "devfs",
        "/dev",
        "tmpfs",
        libc::MS_NOSUID,
        Some("mode=755,size=65536"),
    )?;
    for (i, (name, major, minor)) in NODES.iter().enumerate() {
        let path = format!("/dev/{name}");
        match nodes.and_then(|n| n.defaults.get(i)) {
            Some(slot) => bind_onto_file(b, *slot, &path, &path, 0o666)?,
            None => b.push(
                Op::Mknod {
                    path: cstr("path", &path)?,
                    kind: libc::S_IFCHR,
                    mode: 0o666,
                    dev: libc::makedev(*major, *minor),
                },
                "create device node",
                path,
            ),
        }
    }
    mkdir(b, "/dev/pts")?;
    mount_fs(
        b,
        "devpts",
        "/dev/pts",
        "devpts",
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(&devpts_options(spec)),
    )?;
    let links = [
        ("pts/ptmx", "/dev/ptmx"),
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
    ];
    for (target, link) in links {
        b.push(
            Op::Symlink {
                target: cstr("path", target)?,
                link: cstr("path", link)?,
            },
            "create symlink",
            format!("{link} -> {target}"),
        );
    }
    mkdir(b, "/dev/shm")?;
    mount_fs(
        b,
        "shm",
        "/dev/shm",
        "tmpfs",
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("mode=1777"),
    )?;
    if let (Some(slot), Some(path)) = (console, &spec.console) {
        let text = path.display().to_string();
        bind_onto_file(b, slot, &text, "/dev/console", 0o600)?;
        // libvirt binds the first console on both. The slot's tree is attached now, so the
        // second is an ordinary bind of the first.
        let tty1 = cstr("path", "/dev/tty1")?;
        b.push(
            Op::CreateFile {
                path: tty1.clone(),
                mode: 0o600,
            },
            "create file",
            "/dev/tty1",
        );
        b.push(
            Op::Mount {
                src: cstr("path", "/dev/console")?,
                target: tty1,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
                optional: false,
            },
            "bind-mount",
            format!("{text} on /dev/tty1"),
        );
    }
    // Last, so that a device path under `/dev/pts` or `/dev/shm` meets the mounted file
    // system (and fails, or is harmless) instead of being hidden by it.
    for (i, d) in spec.devices.iter().enumerate() {
        let target = d.target.display().to_string();
        match nodes.and_then(|n| n.devices.get(i)) {
            Some(slot) => {
                bind_onto_file(b, *slot, &d.source.display().to_string(), &target, 0o600)?
            }
            None => {
                if let Some(parent) = d.target.parent().filter(|p| *p != Path::new("/dev")) {
                    mkdir(b, &parent.display().to_string())?;
                }
                b.push(
                    Op::Mknod {
                        path: cpath("device target", &d.target)?,
                        kind: if d.block {
                            libc::S_IFBLK
                        } else {
                            libc::S_IFCHR
                        },
                        mode: HOSTDEV_MODE,
                        dev: libc::makedev(d.major, d.minor),
                    },
                    "create device node",
                    format!(
                        "{target} ({}:{} of {})",
                        d.major,
                        d.minor,
                        d.source.display()
                    ),
                );
            }
        }
    }
    Ok(())
}

/// A host device's path in the container: under `/dev` (the tmpfs made here, so that a node
/// never lands in the root file system, a host directory), not `/dev` itself, no `..`.
fn check_device_target(d: &DeviceNode) -> Result<(), ContainerError> {
    let t = &d.target;
    let under_dev = t.strip_prefix("/dev").is_ok_and(|rest| {
        rest.components().next().is_some()
            && rest.components().all(|c| matches!(c, Component::Normal(_)))
    });
    if !under_dev {
        return Err(ContainerError::Invalid(format!(
            "host device {}: its container path '{}' is not a file under /dev",
            d.source.display(),
            t.display()
        )));
    }
    Ok(())
}

/// An empty file at `target` with the slot's detached tree (a host file) attached on it.
fn bind_onto_file(
    b: &mut Builder,
    slot: usize,
    source_text: &str,
    target: &str,
    mode: libc::mode_t,
) -> Result<(), ContainerError> {
    let c = cstr("path", target)?;
    b.push(
        Op::CreateFile {
            path: c.clone(),
            mode,
        },
        "create file",
        target,
    );
    b.push(
        Op::Attach { slot, target: c },
        "bind-mount",
        format!("{source_text} on {target}"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{IdMap, IdRange};
    use super::*;

    #[test]
    fn devpts_gid_only_when_mapped() {
        let plain = ContainerSpec::default();
        assert_eq!(
            devpts_options(&plain),
            "newinstance,ptmxmode=0666,mode=0620,gid=5"
        );
        let range = |start, count| IdRange {
            start,
            target: 100000,
            count,
        };
        let mut mapped = ContainerSpec {
            idmap: Some(IdMap {
                uid: vec![range(0, 65536)],
                gid: vec![range(0, 65536)],
            }),
            ..Default::default()
        };
        assert!(devpts_options(&mapped).ends_with(",gid=5"));
        if let Some(map) = mapped.idmap.as_mut() {
            map.gid = vec![range(0, 1)];
        }
        assert_eq!(
            devpts_options(&mapped),
            "newinstance,ptmxmode=0666,mode=0620"
        );
    }
}
