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

/// The spec of `def`'s init. `interfaces`: the veth peers the supervisor will move in;
/// `console`: the pty slave that becomes `/dev/console`.
pub fn container_spec(
    def: &DomainDef,
    interfaces: Vec<NetInterface>,
    console: Option<PathBuf>,
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
    let share_net = !needs_private_network(!def.devices.interfaces.is_empty(), privnet, false);
    Ok(ContainerSpec {
        name: def.name.clone(),
        uuid: def.uuid.to_string(),
        root,
        mounts,
        init,
        env: def.os.init_env.clone(),
        cmdline: def.os.cmdline.clone(),
        workdir: def.os.init_dir.as_ref().map(PathBuf::from),
        idmap: def.idmap.as_ref().map(idmap).transpose()?,
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
        let s = container_spec(&d, Vec::new(), None).unwrap();
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
