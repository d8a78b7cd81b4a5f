//! From a container's domain XML to the [`ContainerSpec`] that makes its init: the root
//! filesystem and the other `<filesystem>` mounts, `<init>`/`<initarg>`/`<initenv>`/`<initdir>`,
//! `<idmap>`, whether it gets a network namespace of its own, and its host devices
//! (`<hostdev mode='capabilities'>`, looked up on the host here: see [`host_devices`]).

use std::path::{Component, Path, PathBuf};

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, HostdevCaps, Node};

use crate::container::{
    needs_private_network, ContainerSpec, DeviceNode, IdMap, IdRange, Mount, NetInterface, RootFs,
};

/// The user who runs an `lxc:///session` container: the only host ids an unprivileged
/// process may map into a user namespace it creates (one uid, one gid: its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionUser {
    pub uid: u32,
    pub gid: u32,
}

impl SessionUser {
    /// The calling process's effective ids (those the kernel checks the maps against).
    pub fn current() -> SessionUser {
        // SAFETY: geteuid and getegid have no preconditions.
        unsafe {
            SessionUser {
                uid: libc::geteuid(),
                gid: libc::getegid(),
            }
        }
    }
}

/// The spec of `def`'s init. `interfaces`: the veth peers the supervisor will move in;
/// `console`: the pty slave that becomes `/dev/console`; `session`: the unprivileged user of
/// an `lxc:///session` container, which then always gets a user namespace (its `<idmap>`,
/// checked by [`session_idmap`], or container root as that user) and a network namespace of
/// its own (sysfs can only be mounted in a user namespace that owns the network namespace).
pub fn container_spec(
    def: &DomainDef,
    interfaces: Vec<NetInterface>,
    console: Option<PathBuf>,
    session: Option<SessionUser>,
) -> Result<ContainerSpec> {
    let mut root = None;
    let mut mounts = Vec::new();
    for fs in &def.devices.filesystems {
        let target = fs
            .child("target")
            .and_then(|t| t.attr("dir"))
            .ok_or_else(|| unsupported("a filesystem needs a target directory"))?;
        let readonly = fs.child("readonly").is_some();
        let source = fs.child("source");
        match fs.attr("type").unwrap_or("mount") {
            "mount" => {
                let dir = source
                    .and_then(|s| s.attr("dir"))
                    .ok_or_else(|| unsupported("a mount filesystem needs a source directory"))?;
                if target == "/" {
                    root = Some(RootFs {
                        source: PathBuf::from(dir),
                        readonly,
                    });
                } else {
                    mounts.push(Mount::Bind {
                        source: PathBuf::from(dir),
                        target: PathBuf::from(target),
                        readonly,
                    });
                }
            }
            // libvirt mounts a `ram` filesystem as tmpfs of `usage` (KiB unless `units`).
            "ram" => mounts.push(Mount::Tmpfs {
                target: PathBuf::from(target),
                size_bytes: source.map(ram_size).transpose()?,
                readonly,
            }),
            other => return Err(unsupported(&format!("Unexpected filesystem type {other}"))),
        }
    }
    let mut init = vec![def
        .os
        .init
        .clone()
        .ok_or_else(|| Error::new(ErrorKind::XmlError, "init binary must be specified"))?];
    init.extend(def.os.init_args.iter().cloned());
    let privnet = def
        .features
        .as_ref()
        .is_some_and(|f| f.child("privnet").is_some());
    let share_net = session.is_none()
        && !needs_private_network(!def.devices.interfaces.is_empty(), privnet, false);
    let given = def.idmap.as_ref().map(idmap).transpose()?;
    let idmap = match session {
        Some(user) => {
            if let Some(nic) = def.devices.interfaces.first() {
                return Err(session_interface_error(&nic.if_type));
            }
            Some(session_idmap(user, given)?)
        }
        None => given,
    };
    Ok(ContainerSpec {
        name: def.name.clone(),
        uuid: def.uuid.to_string(),
        root,
        mounts,
        init,
        env: def.os.init_env.clone(),
        cmdline: def.os.cmdline.clone(),
        workdir: def.os.init_dir.as_ref().map(PathBuf::from),
        idmap,
        deny_setgroups: session.is_some(),
        console,
        interfaces,
        share_net,
        caps: Default::default(),
        devices: host_devices(def)?,
    })
}

/// The device nodes of `def`'s `<hostdev mode='capabilities' type='storage'|'misc'>`, as
/// libvirt's controller checks them before the container starts
/// (virLXCControllerSetupHostdevCaps*): the host path must be a block device (storage) or a
/// character device (misc), with libvirt's errors. The container gets the node at the same
/// path with its first directory replaced by `/dev` (so `/dev/net/tun` stays `/dev/net/tun`);
/// a path that is relative, has `..`, or names nothing below its first directory is refused
/// (libvirt would make the node in an undefined place). Other host devices are refused too:
/// this driver does not pass USB devices or network interfaces.
pub fn host_devices(def: &DomainDef) -> Result<Vec<DeviceNode>> {
    let mut out = Vec::new();
    for hostdev in &def.devices.hostdevs {
        let (path, block) = match HostdevCaps::of(hostdev) {
            Some(HostdevCaps::Storage(p)) => (p, true),
            Some(HostdevCaps::Misc(p)) => (p, false),
            Some(HostdevCaps::Net(_)) => {
                return Err(unsupported(
                    "host network interfaces (hostdev type 'net') are not supported",
                ))
            }
            None => {
                let kind = hostdev.attr("type").unwrap_or_default();
                return Err(unsupported(&format!("Unsupported host device mode {kind}")));
            }
        };
        let target = container_path(path).ok_or_else(|| {
            unsupported(&format!(
                "Host device path {path} must be absolute and name a file below a directory, \
                 such as /dev/..."
            ))
        })?;
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::new(
                ErrorKind::SystemError,
                format!("Unable to access {path}: {}", virtsh_api::strerror(&e)),
            )
        })?;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        // libvirt's words, "Storage source" for a character device included.
        if block && !meta.file_type().is_block_device() {
            return Err(unsupported(&format!(
                "Storage source {path} must be a block device"
            )));
        }
        if !block && !meta.file_type().is_char_device() {
            return Err(unsupported(&format!(
                "Storage source {path} must be a character device"
            )));
        }
        let rdev = meta.rdev();
        out.push(DeviceNode {
            source: PathBuf::from(path),
            target,
            block,
            major: libc::major(rdev),
            minor: libc::minor(rdev),
        });
    }
    Ok(out)
}

/// libvirt's place for a host device in the container: `/dev` followed by the path without
/// its first directory. `None` for a path that is relative, has `..`, or is only one name.
fn container_path(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return None;
    }
    let mut names = p.components().skip_while(|c| *c == Component::RootDir);
    names.next()?;
    let rest: PathBuf = names.collect();
    let plain = rest.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && rest.components().next().is_some()).then(|| Path::new("/dev").join(rest))
}

fn unsupported(what: &str) -> Error {
    Error::new(ErrorKind::ConfigUnsupported, what)
}

/// `<source usage='N' units='U'/>` of a ram filesystem, in bytes (KiB without units).
fn ram_size(source: &Node) -> Result<u64> {
    virtsh_xml::units::parse_scaled(
        source.attr("usage").unwrap_or("0"),
        source.attr("units"),
        1024,
    )
    .map_err(|e| Error::new(ErrorKind::XmlError, e.to_string()))
}

/// The refusal of an `<interface>` in `lxc:///session`: its host side (a veth on a bridge)
/// needs privileges on the host that an ordinary user does not have.
pub fn session_interface_error(kind: &str) -> Error {
    Error::new(
        ErrorKind::OperationUnsupported,
        format!(
            "lxc:///session cannot connect <interface type='{kind}'>: making its host side \
             (a veth on a bridge) needs privileges; use lxc:///system"
        ),
    )
}

/// The user namespace maps of an `lxc:///session` container run by `user`: the definition's
/// `<idmap>` when it maps only the user's own ids (one uid and one gid range, each of one id
/// whose target is the user's), else container root as the user.
pub fn session_idmap(user: SessionUser, given: Option<IdMap>) -> Result<IdMap> {
    let own = |id: u32| {
        vec![IdRange {
            start: 0,
            target: id,
            count: 1,
        }]
    };
    let Some(map) = given else {
        return Ok(IdMap {
            uid: own(user.uid),
            gid: own(user.gid),
        });
    };
    let check = |kind: &str, ranges: &[IdRange], id: u32| -> Result<()> {
        match ranges {
            [r] if r.target == id && r.count == 1 => Ok(()),
            _ => {
                let text: Vec<String> = ranges
                    .iter()
                    .map(|r| format!("{} to {} (count {})", r.start, r.target, r.count))
                    .collect();
                Err(Error::new(
                    ErrorKind::ConfigUnsupported,
                    format!(
                        "lxc:///session can only map the caller's own {kind} {id} (one range \
                         with target='{id}' count='1'); the <idmap> maps {kind} {}",
                        if text.is_empty() {
                            "nothing".to_string()
                        } else {
                            text.join(", ")
                        }
                    ),
                ))
            }
        }
    };
    check("uid", &map.uid, user.uid)?;
    check("gid", &map.gid, user.gid)?;
    Ok(map)
}

/// `<idmap><uid start target count/>...<gid .../></idmap>`.
fn idmap(node: &Node) -> Result<IdMap> {
    let ranges = |kind: &str| -> Result<Vec<IdRange>> {
        node.children_named(kind)
            .map(|r| {
                let num = |a: &str| {
                    r.attr(a)
                        .and_then(|v| v.parse::<u32>().ok())
                        .ok_or_else(|| {
                            Error::new(
                                ErrorKind::XmlError,
                                format!("invalid idmap {kind} attribute '{a}'"),
                            )
                        })
                };
                Ok(IdRange {
                    start: num("start")?,
                    target: num("target")?,
                    count: num("count")?,
                })
            })
            .collect()
    };
    Ok(IdMap {
        uid: ranges("uid")?,
        gid: ranges("gid")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(xml: &str) -> DomainDef {
        DomainDef::parse_with(xml, &virtsh_xml::domain::ParseOptions::default()).unwrap()
    }

    #[test]
    fn filesystems_init_and_idmap() {
        let d = def("<domain type='lxc'><name>c1</name><memory>65536</memory>\
            <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>true</initarg>\
            <initenv name='A'>b</initenv><initdir>/tmp</initdir></os>\
            <idmap><uid start='0' target='1000' count='10'/><gid start='0' target='1000' count='10'/></idmap>\
            <devices>\
            <filesystem type='mount'><source dir='/srv/root'/><target dir='/'/></filesystem>\
            <filesystem type='mount'><source dir='/srv/data'/><target dir='/data'/><readonly/></filesystem>\
            <filesystem type='ram'><source usage='1024' units='KiB'/><target dir='/scratch'/></filesystem>\
            </devices></domain>");
        let s = container_spec(&d, Vec::new(), None, None).unwrap();
        assert_eq!(s.root.unwrap().source, PathBuf::from("/srv/root"));
        assert_eq!(s.init, ["/bin/sh", "-c", "true"]);
        assert_eq!(s.env, [("A".to_string(), "b".to_string())]);
        assert_eq!(s.workdir, Some(PathBuf::from("/tmp")));
        assert!(s.share_net, "no interface: the host's network, as libvirt");
        assert_eq!(
            s.mounts,
            [
                Mount::Bind {
                    source: "/srv/data".into(),
                    target: "/data".into(),
                    readonly: true
                },
                Mount::Tmpfs {
                    target: "/scratch".into(),
                    size_bytes: Some(1 << 20),
                    readonly: false
                }
            ]
        );
        assert_eq!(s.idmap.unwrap().uid[0].target, 1000);
        assert!(s.devices.is_empty());
    }

    #[test]
    fn session_maps_only_the_users_own_ids() {
        let user = SessionUser {
            uid: 1000,
            gid: 1001,
        };
        let d = def("<domain type='lxc'><name>c1</name><memory>65536</memory>\
            <os><type>exe</type><init>/bin/sh</init></os><devices>\
            <filesystem type='mount'><source dir='/srv/root'/><target dir='/'/></filesystem>\
            </devices></domain>");
        let s = container_spec(&d, Vec::new(), None, Some(user)).unwrap();
        let map = s.idmap.expect("a user namespace, always");
        let one = |target| {
            vec![IdRange {
                start: 0,
                target,
                count: 1,
            }]
        };
        assert_eq!((map.uid, map.gid), (one(1000), one(1001)));
        assert!(s.deny_setgroups);
        assert!(
            !s.share_net,
            "sysfs needs a network namespace of the user namespace"
        );
        let plain = container_spec(&d, Vec::new(), None, None).unwrap();
        assert!(plain.idmap.is_none() && !plain.deny_setgroups && plain.share_net);

        let range = |target, count| IdRange {
            start: 0,
            target,
            count,
        };
        let given = |uid: Vec<IdRange>, gid: Vec<IdRange>| Some(IdMap { uid, gid });
        assert!(session_idmap(user, given(vec![range(1000, 1)], vec![range(1001, 1)])).is_ok());
        let e = session_idmap(
            user,
            given(vec![range(100000, 65536)], vec![range(1001, 1)]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "unsupported configuration: lxc:///session can only map the caller's own uid 1000 \
             (one range with target='1000' count='1'); the <idmap> maps uid 0 to 100000 \
             (count 65536)"
        );
        let e = session_idmap(user, given(vec![range(1000, 1)], vec![range(1000, 1)])).unwrap_err();
        assert!(e.to_string().contains("own gid 1001"), "{e}");
        assert!(session_idmap(user, given(vec![range(1000, 2)], vec![range(1001, 1)])).is_err());
    }

    #[test]
    fn session_refuses_interfaces() {
        let d = def("<domain type='lxc'><name>c1</name><memory>65536</memory>\
            <os><type>exe</type><init>/bin/sh</init></os><devices>\
            <interface type='bridge'><source bridge='br0'/></interface></devices></domain>");
        let user = SessionUser { uid: 1, gid: 1 };
        let e = container_spec(&d, Vec::new(), None, Some(user)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OperationUnsupported);
        assert!(e.to_string().starts_with(
            "Operation not supported: lxc:///session cannot connect <interface type='bridge'>"
        ));
    }

    #[test]
    fn container_paths_as_libvirt() {
        let cases = [
            ("/dev/loop5", Some("/dev/loop5")),
            ("/dev/net/tun", Some("/dev/net/tun")),
            ("//dev//net/./tun", Some("/dev/net/tun")),
            ("/srv/nodes/blk", Some("/dev/nodes/blk")),
            ("dev/loop5", None),
            ("/loop5", None),
            ("/dev", None),
            ("/dev/../etc/passwd", None),
            ("/dev/net/..", None),
        ];
        for (host, want) in cases {
            assert_eq!(container_path(host), want.map(PathBuf::from), "{host}");
        }
    }

    fn with_hostdev(hostdev: &str) -> DomainDef {
        def(&format!(
            "<domain type='lxc'><name>c1</name><memory>65536</memory>\
             <os><type>exe</type><init>/bin/sh</init></os><devices>{hostdev}</devices></domain>"
        ))
    }

    #[test]
    fn host_devices_are_checked_on_the_host() {
        let d = with_hostdev(
            "<hostdev mode='capabilities' type='misc'><source><char>/dev/null</char></source></hostdev>",
        );
        let devs = host_devices(&d).expect("/dev/null is a character device");
        assert_eq!(
            devs,
            [DeviceNode {
                source: "/dev/null".into(),
                target: "/dev/null".into(),
                block: false,
                major: 1,
                minor: 3
            }]
        );
        let err = |xml: &str| host_devices(&with_hostdev(xml)).expect_err(xml).to_string();
        let storage = |p: &str| {
            format!("<hostdev mode='capabilities' type='storage'><source><block>{p}</block></source></hostdev>")
        };
        assert_eq!(
            err(&storage("/dev/null")),
            "unsupported configuration: Storage source /dev/null must be a block device"
        );
        assert_eq!(
            err(&storage("/nonexistent/dev/x")),
            "Unable to access /nonexistent/dev/x: No such file or directory"
        );
        assert!(err(&storage("dev/null")).contains("must be absolute"));
        assert_eq!(
            err("<hostdev mode='capabilities' type='misc'><source><char>/</char></source></hostdev>"),
            "unsupported configuration: Host device path / must be absolute and name a file \
             below a directory, such as /dev/..."
        );
        assert_eq!(
            err("<hostdev mode='capabilities' type='misc'><source><char>/etc/hostname</char></source></hostdev>"),
            "unsupported configuration: Storage source /etc/hostname must be a character device"
        );
        assert_eq!(
            err("<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0' slot='1' function='0'/></source></hostdev>"),
            "unsupported configuration: Unsupported host device mode pci"
        );
    }
}
