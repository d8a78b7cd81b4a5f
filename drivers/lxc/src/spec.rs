//! From a container's domain XML to the [`ContainerSpec`] that makes its init: the root
//! filesystem and the other `<filesystem>` mounts, `<init>`/`<initarg>`/`<initenv>`/`<initdir>`,
//! `<idmap>`, and whether it gets a network namespace of its own.

use std::path::PathBuf;

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, Node};

use crate::container::{
    needs_private_network, ContainerSpec, IdMap, IdRange, Mount, NetInterface, RootFs,
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
    })
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
    }
}
