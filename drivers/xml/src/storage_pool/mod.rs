//! libvirt's storage pool XML (`<pool type='...'>`): parse, validate, defaults and canonical
//! formatting as libvirt 9.0's `storage_conf.c` does, plus the XML that `virsh pool-define-as` /
//! `pool-create-as` build from their options.
//!
//! What a pool shows depends on its type: libvirt parses every `<source>` child for every type
//! but formats only those the type uses (a `dir` pool shows an empty `<source>`), fills in the
//! type's default source format, and derives the target path of `logical` and `zfs` pools from
//! the source name. The per-type table here is libvirt's `poolTypeInfo`.
//!
//! Layout: this module holds the pool model, its per-type rules and the pieces volumes share
//! (permissions, secret lookups, path sanitising); `source` the `<source>` element (hosts,
//! devices, adapters, auth); `define_as` the XML that virsh builds from command-line options.

mod define_as;
mod source;

pub use define_as::{pool_def_from_args, PoolArgs};
pub use source::{PoolAdapter, PoolDevice, PoolHost, PoolSource, StorageAuth};

use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{
    attrs, parse_root, parse_uuid, prop_enum, prop_tristate, xpath_ll, xpath_path_attr, xpath_text,
    yes_no, Src,
};
use crate::units::str_to_i;
use crate::writer::XmlWriter;
use source::{format_source, parse_source, validate_adapter};
use uuid::Uuid;

/// libvirt's pool types, in enum order.
pub const POOL_TYPES: [&str; 14] = [
    "dir",
    "fs",
    "netfs",
    "logical",
    "disk",
    "iscsi",
    "iscsi-direct",
    "scsi",
    "mpath",
    "rbd",
    "sheepdog",
    "gluster",
    "zfs",
    "vstorage",
];

const SRC_HOST: u32 = 1 << 0;
const SRC_DEVICE: u32 = 1 << 1;
const SRC_DIR: u32 = 1 << 2;
const SRC_ADAPTER: u32 = 1 << 3;
const SRC_NAME: u32 = 1 << 4;
const SRC_INITIATOR_IQN: u32 = 1 << 5;
const SRC_NETWORK: u32 = 1 << 6;

const FS_FORMATS: &[&str] = &[
    "auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat", "hfs+", "xfs",
    "ocfs2", "vmfs",
];
const NETFS_FORMATS: &[&str] = &["auto", "nfs", "glusterfs", "cifs"];
const DISK_FORMATS: &[&str] = &[
    "unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2",
];
const LOGICAL_FORMATS: &[&str] = &["unknown", "lvm2"];

/// Which `<source>` parts a pool type uses, and its source formats with the default.
pub(crate) struct PoolTypeInfo {
    flags: u32,
    formats: Option<(&'static [&'static str], &'static str)>,
}

pub(crate) fn pool_type_info(t: &str) -> PoolTypeInfo {
    let (flags, formats) = match t {
        "logical" => (SRC_NAME | SRC_DEVICE, Some((LOGICAL_FORMATS, "lvm2"))),
        "fs" => (SRC_DEVICE, Some((FS_FORMATS, "auto"))),
        "netfs" => (SRC_HOST | SRC_DIR, Some((NETFS_FORMATS, "auto"))),
        "iscsi" => (SRC_HOST | SRC_DEVICE | SRC_INITIATOR_IQN, None),
        "iscsi-direct" => (
            SRC_HOST | SRC_DEVICE | SRC_NETWORK | SRC_INITIATOR_IQN,
            None,
        ),
        "scsi" => (SRC_ADAPTER, None),
        "rbd" | "sheepdog" => (SRC_HOST | SRC_NETWORK | SRC_NAME, None),
        "gluster" => (SRC_HOST | SRC_NETWORK | SRC_NAME | SRC_DIR, None),
        "disk" => (SRC_DEVICE, Some((DISK_FORMATS, "unknown"))),
        "zfs" => (SRC_NAME | SRC_DEVICE, None),
        "vstorage" => (SRC_NAME, None),
        _ => (0, None), // dir, mpath
    };
    PoolTypeInfo { flags, formats }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePoolDef {
    pub pool_type: String,
    pub name: String,
    pub uuid: Uuid,
    /// Sizes in bytes; runtime values a driver fills in (the XML's are ignored, as in libvirt).
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
    /// `<features><cow state=.../></features>` (dir and fs pools).
    pub cow: Option<bool>,
    pub source: PoolSource,
    pub target_path: Option<String>,
    pub target_permissions: Option<Permissions>,
    /// `<refresh><volume allocation='default|capacity'/></refresh>`.
    pub refresh_volume_allocation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretLookup {
    Uuid(Uuid),
    Usage(String),
}

impl Default for SecretLookup {
    fn default() -> Self {
        SecretLookup::Usage(String::new())
    }
}

/// `<permissions>` of a pool target or a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub mode: Option<u32>,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub label: Option<String>,
}

impl Permissions {
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none() && self.label.is_none()
    }

    /// virStorageDefParsePerms on the `<permissions>` element.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<Permissions, XmlError> {
        let mut p = Permissions::default();
        if let Some(mode) = xpath_text(el, "mode") {
            let m = str_to_i(&mode, 8).filter(|m| m & !0o777 == 0);
            let Some(m) = m else {
                return Err(src.xml(el.child("mode").unwrap_or(el), "malformed octal mode"));
            };
            p.mode = Some(m as u32);
        }
        let id = |what: &str| -> Result<Option<u32>, XmlError> {
            let Some(node) = el.child(what) else {
                return Ok(None);
            };
            let text = crate::network::string_value(node);
            match xpath_ll(Some(&text)) {
                // libvirt once wrote -1 for "unset" and still reads it.
                Ok(Some(-1)) => Ok(None),
                Ok(Some(v)) if (0..=u32::MAX as i64).contains(&v) && v != u32::MAX as i64 => {
                    Ok(Some(v as u32))
                }
                _ => Err(src.xml(node, format!("malformed {what} element"))),
            }
        };
        p.owner = id("owner")?;
        p.group = id("group")?;
        p.label = xpath_text(el, "label");
        Ok(p)
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        if self.is_empty() {
            return;
        }
        w.start("permissions", &[]);
        if let Some(m) = self.mode {
            w.text("mode", &[], &format!("0{m:o}"));
        }
        if let Some(o) = self.owner {
            w.text("owner", &[], &o.to_string());
        }
        if let Some(g) = self.group {
            w.text("group", &[], &g.to_string());
        }
        if let Some(l) = &self.label {
            w.text("label", &[], l);
        }
        w.end("permissions");
    }
}

/// virFileSanitizePath: collapse repeated slashes and drop a trailing one ("//x" is kept as is,
/// being a valid POSIX path of its own).
pub(crate) fn sanitize_path(p: &str) -> String {
    let (prefix, rest) = if p.starts_with("//") && !p.starts_with("///") {
        ("/", &p[1..])
    } else {
        ("", p)
    };
    let mut out = String::from(prefix);
    let mut prev_slash = false;
    for c in rest.chars() {
        if c == '/' {
            if prev_slash {
                continue;
            }
            prev_slash = true;
        } else {
            prev_slash = false;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// virSecretLookupParseSecret: exactly one of `uuid` and `usage`.
pub(crate) fn parse_secret_lookup(src: Src, el: &Element) -> Result<SecretLookup, XmlError> {
    match (el.attr("uuid"), el.attr("usage")) {
        (None, None) => Err(src.xml(el, "missing secret uuid or usage attribute")),
        (Some(_), Some(_)) => Err(src.xml(el, "either secret uuid or usage expected")),
        (Some(u), None) => parse_uuid(u)
            .map(SecretLookup::Uuid)
            .ok_or_else(|| src.xml(el, format!("invalid secret uuid '{u}'"))),
        (None, Some(u)) => Ok(SecretLookup::Usage(u.to_string())),
    }
}

pub(crate) fn format_secret_lookup(w: &mut XmlWriter, secret_type: Option<&str>, s: &SecretLookup) {
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some(t) = secret_type {
        a.push(("type", t.to_string()));
    }
    match s {
        SecretLookup::Uuid(u) => a.push(("uuid", u.to_string())),
        SecretLookup::Usage(u) => a.push(("usage", u.clone())),
    }
    w.empty("secret", &attrs(&a));
}

impl StoragePoolDef {
    /// virStoragePoolDefParseString.
    pub fn parse(xml: &str) -> Result<StoragePoolDef, XmlError> {
        let root = parse_root(xml, "pool")?;
        Self::from_element(xml, &root)
    }

    pub fn from_element(text: &str, root: &Element) -> Result<StoragePoolDef, XmlError> {
        let src = Src { text };
        let pool_type = prop_enum(src, root, "type", &POOL_TYPES, false, true)?
            .unwrap_or_else(|| "dir".to_string());
        let info = pool_type_info(&pool_type);
        let mut source = match root.child("source") {
            Some(s) => parse_source(src, &pool_type, s)?,
            None => PoolSource {
                format: info.formats.map(|(_, d)| d.to_string()),
                ..Default::default()
            },
        };
        let mut name = xpath_text(root, "name");
        if name.is_none() && info.flags & SRC_NAME != 0 {
            name = source.name.clone();
        }
        let Some(name) = name else {
            return Err(src.xml(root, "missing pool source name element"));
        };
        let name_el = root.child("name").unwrap_or(root);
        if name.contains('/') {
            return Err(src.xml(name_el, format!("name {name} cannot contain '/'")));
        }
        let uuid = match xpath_text(root, "uuid") {
            None => Uuid::new_v4(),
            Some(u) => parse_uuid(&u).ok_or_else(|| {
                src.xml(root.child("uuid").unwrap_or(root), "malformed uuid element")
            })?,
        };
        let mut cow = None;
        if let Some(c) = root.at_path("features/cow") {
            cow = prop_tristate(src, c, "state")?;
            if cow.is_some() && pool_type != "fs" && pool_type != "dir" {
                return Err(
                    src.no_support(c, "cow feature may only be used for 'fs' and 'dir' pools")
                );
            }
        }
        let src_el = root.child("source").unwrap_or(root);
        if info.flags & SRC_HOST != 0 && source.hosts.is_empty() {
            return Err(src.xml(src_el, "missing storage pool source host name"));
        }
        if info.flags & SRC_DIR != 0 && source.dir.is_none() {
            return Err(src.xml(src_el, "missing storage pool source path"));
        }
        if info.flags & SRC_NAME != 0 && source.name.is_none() {
            source.name = Some(name.clone());
        }
        if info.flags & SRC_ADAPTER != 0 {
            validate_adapter(src, src_el, source.adapter.as_ref())?;
        }
        if info.flags == SRC_DEVICE && source.devices.is_empty() {
            return Err(src.xml(src_el, "missing storage pool source device name"));
        }
        let mut target_path = None;
        let mut target_permissions = None;
        if info.flags & SRC_NETWORK == 0 {
            let path = match pool_type.as_str() {
                "logical" => format!("/dev/{}", source.name.clone().unwrap_or_default()),
                "zfs" => format!("/dev/zvol/{}", source.name.clone().unwrap_or_default()),
                _ => match xpath_text(root, "target/path") {
                    Some(p) => p,
                    None => {
                        return Err(src.xml(
                            root.child("target").unwrap_or(root),
                            "missing storage pool target path",
                        ))
                    }
                },
            };
            target_path = Some(sanitize_path(&path));
            if let Some(p) = root.at_path("target/permissions") {
                target_permissions = Some(Permissions::parse(src, p)?);
            }
        }
        if pool_type == "iscsi-direct" && source.initiator_iqn.is_none() {
            return Err(src.unsupported(src_el, "missing initiator IQN"));
        }
        let mut refresh_volume_allocation = None;
        if let Some(a) = xpath_path_attr(root, "refresh/volume", "allocation") {
            if a != "default" && a != "capacity" {
                return Err(src.unsupported(
                    root.child("refresh").unwrap_or(root),
                    format!("unknown storage pool volume refresh allocation type {a}"),
                ));
            }
            refresh_volume_allocation = Some(a.to_string());
        }
        Ok(StoragePoolDef {
            pool_type,
            name,
            uuid,
            capacity: 0,
            allocation: 0,
            available: 0,
            cow,
            source,
            target_path,
            target_permissions,
            refresh_volume_allocation,
        })
    }

    /// virStoragePoolDefFormat.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("pool", &[("type", &self.pool_type)]);
        w.text("name", &[], &self.name);
        w.text("uuid", &[], &self.uuid.to_string());
        w.text("capacity", &[("unit", "bytes")], &self.capacity.to_string());
        w.text(
            "allocation",
            &[("unit", "bytes")],
            &self.allocation.to_string(),
        );
        w.text(
            "available",
            &[("unit", "bytes")],
            &self.available.to_string(),
        );
        if let Some(c) = self.cow {
            w.start("features", &[]);
            w.empty("cow", &[("state", yes_no(c))]);
            w.end("features");
        }
        format_source(&mut w, &self.pool_type, &self.source);
        if !matches!(
            self.pool_type.as_str(),
            "rbd" | "sheepdog" | "gluster" | "iscsi-direct"
        ) {
            w.start("target", &[]);
            if let Some(p) = &self.target_path {
                w.text("path", &[], p);
            }
            if let Some(p) = &self.target_permissions {
                p.format(&mut w);
            }
            w.end("target");
        }
        if let Some(a) = &self.refresh_volume_allocation {
            w.start("refresh", &[]);
            w.empty("volume", &[("allocation", a)]);
            w.end("refresh");
        }
        w.end("pool");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_paths_like_libvirt() {
        assert_eq!(sanitize_path("/mnt//x/"), "/mnt/x");
        assert_eq!(sanitize_path("/"), "/");
        assert_eq!(sanitize_path("//x"), "//x");
        assert_eq!(sanitize_path("///x"), "/x");
    }
}
