//! libvirt's storage pool XML (`<pool type='...'>`): parse, validate, defaults and canonical
//! formatting as libvirt 9.0's `storage_conf.c` does, plus the XML that `virsh pool-define-as` /
//! `pool-create-as` build from their options.
//!
//! What a pool shows depends on its type: libvirt parses every `<source>` child for every type
//! but formats only those the type uses (a `dir` pool shows an empty `<source>`), fills in the
//! type's default source format, and derives the target path of `logical` and `zfs` pools from
//! the source name. The per-type table below is libvirt's `poolTypeInfo`.

use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{
    attrs, parse_root, parse_uuid, prop_enum, prop_int, prop_tristate, xpath_attr, xpath_ll,
    xpath_path_attr, xpath_text, yes_no, PciAddress, Src,
};
use crate::units::str_to_i;
use crate::writer::XmlWriter;
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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolSource {
    pub hosts: Vec<PoolHost>,
    pub devices: Vec<PoolDevice>,
    pub dir: Option<String>,
    pub adapter: Option<PoolAdapter>,
    pub name: Option<String>,
    pub initiator_iqn: Option<String>,
    /// The source format; the pool type's default when the XML has none.
    pub format: Option<String>,
    pub auth: Option<StorageAuth>,
    pub protocol_ver: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolHost {
    pub name: String,
    pub port: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolDevice {
    pub path: String,
    pub part_separator: Option<bool>,
    /// `<freeExtent start= end=/>` a disk pool reports at runtime.
    pub free_extents: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolAdapter {
    ScsiHost {
        name: Option<String>,
        /// `<parentaddr unique_id=...><address .../></parentaddr>`.
        parent_addr: Option<(i32, PciAddress)>,
    },
    FcHost {
        parent: Option<String>,
        parent_wwnn: Option<String>,
        parent_wwpn: Option<String>,
        parent_fabric_wwn: Option<String>,
        managed: Option<bool>,
        wwnn: String,
        wwpn: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageAuth {
    /// "chap" or "ceph"; None when the XML gives no type.
    pub auth_type: Option<String>,
    pub username: String,
    /// `<secret type=...>` (domain disks only; pools leave it out).
    pub secret_type: Option<String>,
    pub secret: SecretLookup,
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

impl StorageAuth {
    /// virStorageAuthDefParse.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<StorageAuth, XmlError> {
        let Some(username) = xpath_attr(el, "username") else {
            return Err(src.xml(el, "missing username for auth"));
        };
        let auth_type = match xpath_attr(el, "type") {
            None => None,
            Some(t @ ("chap" | "ceph")) => Some(t.to_string()),
            Some(t) => return Err(src.unsupported(el, format!("unknown auth type '{t}'"))),
        };
        let Some(secret) = el.child("secret") else {
            return Err(src.xml(el, "Missing <secret> element in auth"));
        };
        Ok(StorageAuth {
            auth_type,
            username: username.to_string(),
            secret_type: secret.attr("type").map(str::to_string),
            secret: parse_secret_lookup(src, secret)?,
        })
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        match &self.auth_type {
            Some(t) => w.start("auth", &[("type", t), ("username", &self.username)]),
            None => w.start("auth", &[("username", &self.username)]),
        }
        format_secret_lookup(w, self.secret_type.as_deref(), &self.secret);
        w.end("auth");
    }
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

fn parse_source(src: Src, pool_type: &str, el: &Element) -> Result<PoolSource, XmlError> {
    let info = pool_type_info(pool_type);
    let mut s = PoolSource {
        name: xpath_text(el, "name"),
        ..Default::default()
    };
    if pool_type == "rbd" && s.name.is_none() {
        return Err(src.xml(el, "element 'name' is mandatory for RBD pool"));
    }
    if let Some((formats, default)) = info.formats {
        match xpath_path_attr(el, "format", "type") {
            None => s.format = Some(default.to_string()),
            Some(f) if formats.contains(&f) => s.format = Some(f.to_string()),
            Some(f) => {
                return Err(src.unsupported(
                    el.child("format").unwrap_or(el),
                    format!("unknown pool format type {f}"),
                ))
            }
        }
    }
    for h in el.children_named("host") {
        let Some(name) = h.attr("name") else {
            return Err(src.xml(h, "missing storage pool host name"));
        };
        s.hosts.push(PoolHost {
            name: name.to_string(),
            port: prop_int(src, h, "port", 10)?,
        });
    }
    s.initiator_iqn = xpath_path_attr(el, "initiator/iqn", "name").map(str::to_string);
    for d in el.children_named("device") {
        let Some(path) = d.attr("path") else {
            return Err(src.xml(d, "missing storage pool source device path"));
        };
        s.devices.push(PoolDevice {
            path: path.to_string(),
            part_separator: prop_tristate(src, d, "part_separator")?,
            free_extents: Vec::new(),
        });
    }
    s.dir = xpath_path_attr(el, "dir", "path").map(sanitize_path);
    if s.dir.is_none() && pool_type == "gluster" {
        s.dir = Some("/".to_string());
    }
    if let Some(a) = el.child("adapter") {
        s.adapter = parse_adapter(src, a)?;
    }
    if let Some(a) = el.child("auth") {
        let auth = StorageAuth::parse(src, a)?;
        if auth.auth_type.is_none() {
            return Err(src.unsupported(a, "storage pool missing auth type"));
        }
        s.auth = Some(auth);
    }
    if let Some(v) = xpath_path_attr(el, "protocol", "ver") {
        let p = el.child("protocol").unwrap_or(el);
        // libvirt checks the format's position in the netfs list, whatever the pool type.
        let idx = s
            .format
            .as_deref()
            .and_then(|f| {
                info.formats
                    .and_then(|(l, _)| l.iter().position(|x| *x == f))
            })
            .unwrap_or(0);
        if idx > 1 {
            return Err(src.unsupported(
                p,
                format!(
                    "storage pool protocol ver unsupported for pool type '{}'",
                    NETFS_FORMATS.get(idx).copied().unwrap_or("(null)")
                ),
            ));
        }
        if v.contains(',') {
            return Err(src.detail(
                p,
                format!("storage pool protocol ver '{v}' must not contain ','"),
            ));
        }
        s.protocol_ver = Some(v.to_string());
    }
    s.vendor = xpath_path_attr(el, "vendor", "name").map(str::to_string);
    s.product = xpath_path_attr(el, "product", "name").map(str::to_string);
    Ok(s)
}

/// virStorageAdapterParseXML.
fn parse_adapter(src: Src, el: &Element) -> Result<Option<PoolAdapter>, XmlError> {
    let t = prop_enum(
        src,
        el,
        "type",
        &["default", "scsi_host", "fc_host"],
        true,
        false,
    )?;
    let own = |n: &str| el.attr(n).map(str::to_string);
    match t.as_deref() {
        None => {
            if el.attr("wwnn").is_some() || el.attr("wwpn").is_some() || el.attr("parent").is_some()
            {
                return Err(src.xml(
                    el,
                    "Use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the adapter 'type'",
                ));
            }
            if el.child("parentaddr").is_some() {
                return Err(src.xml(
                    el,
                    "Use of 'parentaddr' element requires use of the adapter 'type'",
                ));
            }
            Ok(own("name").map(|n| PoolAdapter::ScsiHost {
                name: Some(n),
                parent_addr: None,
            }))
        }
        Some("fc_host") => Ok(Some(PoolAdapter::FcHost {
            managed: prop_tristate(src, el, "managed")?,
            parent: own("parent"),
            parent_wwnn: own("parent_wwnn"),
            parent_wwpn: own("parent_wwpn"),
            parent_fabric_wwn: own("parent_fabric_wwn"),
            wwpn: own("wwpn").unwrap_or_default(),
            wwnn: own("wwnn").unwrap_or_default(),
        })),
        _ => {
            let mut parent_addr = None;
            if let Some(pa) = el.child("parentaddr") {
                let Some(addr) = pa.child("address") else {
                    return Err(src.xml(pa, "Missing scsi_host PCI address element"));
                };
                let pci = PciAddress::parse(src, addr)?;
                let uid = match crate::network::xpath_int(pa.attr("unique_id")) {
                    Ok(Some(u)) if u >= 0 => u,
                    _ => {
                        return Err(src.xml(pa, "Missing or invalid scsi adapter 'unique_id' value"))
                    }
                };
                parent_addr = Some((uid, pci));
            }
            Ok(Some(PoolAdapter::ScsiHost {
                name: own("name"),
                parent_addr,
            }))
        }
    }
}

/// virValidateWWN: 16 hex digits, an optional "0x" in front.
fn valid_wwn(src: Src, el: &Element, wwn: &str) -> Result<(), XmlError> {
    let w = wwn
        .strip_prefix("0x")
        .or_else(|| wwn.strip_prefix("0X"))
        .unwrap_or(wwn);
    if w.len() != 16 || !w.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(src.internal(el, format!("Malformed wwn: {wwn}")));
    }
    Ok(())
}

/// virStorageAdapterValidate.
fn validate_adapter(src: Src, el: &Element, a: Option<&PoolAdapter>) -> Result<(), XmlError> {
    let at = el.child("adapter").unwrap_or(el);
    match a {
        None => Err(src.xml(at, "missing storage pool source adapter")),
        Some(PoolAdapter::FcHost {
            wwnn,
            wwpn,
            parent_wwnn,
            parent_wwpn,
            parent_fabric_wwn,
            ..
        }) => {
            if wwnn.is_empty() || wwpn.is_empty() {
                return Err(src.xml(
                    at,
                    "'wwnn' and 'wwpn' must be specified for adapter type 'fchost'",
                ));
            }
            valid_wwn(src, at, wwnn)?;
            valid_wwn(src, at, wwpn)?;
            match (parent_wwnn, parent_wwpn) {
                (Some(n), None) => return Err(src.xml(
                    at,
                    format!(
                        "when providing parent_wwnn='{n}', the parent_wwpn must also be provided"
                    ),
                )),
                (None, Some(p)) => return Err(src.xml(
                    at,
                    format!(
                        "when providing parent_wwpn='{p}', the parent_wwnn must also be provided"
                    ),
                )),
                _ => {}
            }
            for v in [parent_wwnn, parent_wwpn, parent_fabric_wwn]
                .into_iter()
                .flatten()
            {
                valid_wwn(src, at, v)?;
            }
            Ok(())
        }
        Some(PoolAdapter::ScsiHost { name, parent_addr }) => {
            if name.is_none() && parent_addr.is_none() {
                return Err(src.xml(
                    at,
                    "Either 'name' or 'parent' must be specified for the 'scsi_host' adapter",
                ));
            }
            if name.is_some() && parent_addr.is_some() {
                return Err(src.xml(
                    at,
                    "Both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter",
                ));
            }
            Ok(())
        }
    }
}

/// virStoragePoolSourceFormat: only the parts the pool type uses.
pub(crate) fn format_source(w: &mut XmlWriter, pool_type: &str, s: &PoolSource) {
    let info = pool_type_info(pool_type);
    w.start("source", &[]);
    if info.flags & SRC_HOST != 0 {
        for h in &s.hosts {
            match h.port.filter(|p| *p != 0) {
                Some(p) => w.empty("host", &[("name", &h.name), ("port", &p.to_string())]),
                None => w.empty("host", &[("name", &h.name)]),
            }
        }
    }
    if info.flags & SRC_DEVICE != 0 {
        for d in &s.devices {
            let mut a: Vec<(&str, String)> = vec![("path", d.path.clone())];
            if let Some(p) = d.part_separator {
                a.push(("part_separator", yes_no(p).into()));
            }
            if d.free_extents.is_empty() {
                w.empty("device", &attrs(&a));
            } else {
                w.start("device", &attrs(&a));
                for (start, end) in &d.free_extents {
                    w.empty(
                        "freeExtent",
                        &[("start", &start.to_string()), ("end", &end.to_string())],
                    );
                }
                w.end("device");
            }
        }
    }
    if info.flags & SRC_DIR != 0 {
        if let Some(d) = &s.dir {
            w.empty("dir", &[("path", d)]);
        }
    }
    if info.flags & SRC_ADAPTER != 0 {
        if let Some(a) = &s.adapter {
            format_adapter(w, a);
        }
    }
    if info.flags & SRC_NAME != 0 {
        if let Some(n) = &s.name {
            w.text("name", &[], n);
        }
    }
    if info.flags & SRC_INITIATOR_IQN != 0 {
        if let Some(iqn) = &s.initiator_iqn {
            w.start("initiator", &[]);
            w.empty("iqn", &[("name", iqn)]);
            w.end("initiator");
        }
    }
    if info.formats.is_some() {
        if let Some(f) = &s.format {
            w.empty("format", &[("type", f)]);
        }
    }
    if let Some(a) = &s.auth {
        a.format(w);
    }
    if let Some(v) = &s.protocol_ver {
        w.empty("protocol", &[("ver", v)]);
    }
    if let Some(v) = &s.vendor {
        w.empty("vendor", &[("name", v)]);
    }
    if let Some(v) = &s.product {
        w.empty("product", &[("name", v)]);
    }
    w.end("source");
}

fn format_adapter(w: &mut XmlWriter, a: &PoolAdapter) {
    match a {
        PoolAdapter::FcHost {
            parent,
            parent_wwnn,
            parent_wwpn,
            parent_fabric_wwn,
            managed,
            wwnn,
            wwpn,
        } => {
            let mut v: Vec<(&str, String)> = vec![("type", "fc_host".into())];
            for (k, val) in [
                ("parent", parent),
                ("parent_wwnn", parent_wwnn),
                ("parent_wwpn", parent_wwpn),
                ("parent_fabric_wwn", parent_fabric_wwn),
            ] {
                if let Some(x) = val {
                    v.push((k, x.clone()));
                }
            }
            if let Some(m) = managed {
                v.push(("managed", yes_no(*m).into()));
            }
            v.push(("wwnn", wwnn.clone()));
            v.push(("wwpn", wwpn.clone()));
            w.empty("adapter", &attrs(&v));
        }
        PoolAdapter::ScsiHost { name, parent_addr } => match (name, parent_addr) {
            (Some(n), _) => w.empty("adapter", &[("type", "scsi_host"), ("name", n)]),
            (None, Some((uid, pci))) => {
                w.start("adapter", &[("type", "scsi_host")]);
                w.start("parentaddr", &[("unique_id", &uid.to_string())]);
                pci.format(w, false);
                w.end("parentaddr");
                w.end("adapter");
            }
            (None, None) => w.empty("adapter", &[("type", "scsi_host")]),
        },
    }
}

/// The options of `virsh pool-define-as` / `pool-create-as` (and `find-storage-pool-sources-as`
/// shares some), named as virsh names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolArgs {
    pub name: String,
    pub pool_type: String,
    pub source_host: Option<String>,
    pub source_path: Option<String>,
    pub source_dev: Option<String>,
    pub source_name: Option<String>,
    pub target: Option<String>,
    pub source_format: Option<String>,
    pub auth_type: Option<String>,
    pub auth_username: Option<String>,
    pub secret_usage: Option<String>,
    pub secret_uuid: Option<String>,
    pub adapter_name: Option<String>,
    pub adapter_wwnn: Option<String>,
    pub adapter_wwpn: Option<String>,
    pub adapter_parent: Option<String>,
    pub adapter_parent_wwnn: Option<String>,
    pub adapter_parent_wwpn: Option<String>,
    pub adapter_parent_fabric_wwn: Option<String>,
    pub source_protocol_ver: Option<String>,
    pub source_initiator: Option<String>,
}

/// virshBuildPoolXML: the XML `pool-define-as` / `pool-create-as` hand to libvirt (and print
/// with --print-xml). virsh inserts the values unescaped; so do we, to stay byte-identical.
/// Err carries virsh's message for mutually exclusive options.
pub fn pool_def_from_args(a: &PoolArgs) -> Result<String, String> {
    if a.secret_usage.is_some() && a.secret_uuid.is_some() {
        return Err("Options --secret-usage and --secret-uuid are mutually exclusive".to_string());
    }
    let mut o = String::new();
    let line = |o: &mut String, indent: usize, s: &str| {
        o.push_str(&"  ".repeat(indent));
        o.push_str(s);
        o.push('\n');
    };
    line(&mut o, 0, &format!("<pool type='{}'>", a.pool_type));
    line(&mut o, 1, &format!("<name>{}</name>", a.name));
    let fc = a.adapter_wwnn.is_some() && a.adapter_wwpn.is_some();
    if a.source_host.is_some()
        || a.source_path.is_some()
        || a.source_dev.is_some()
        || a.source_initiator.is_some()
        || a.source_format.is_some()
        || a.source_name.is_some()
        || fc
        || a.adapter_name.is_some()
    {
        line(&mut o, 1, "<source>");
        if let Some(h) = &a.source_host {
            line(&mut o, 2, &format!("<host name='{h}'/>"));
        }
        if let Some(p) = &a.source_path {
            line(&mut o, 2, &format!("<dir path='{p}'/>"));
        }
        if let Some(d) = &a.source_dev {
            line(&mut o, 2, &format!("<device path='{d}'/>"));
        }
        if let Some(i) = &a.source_initiator {
            line(&mut o, 2, "<initiator>");
            line(&mut o, 3, &format!("<iqn name='{i}'/>"));
            line(&mut o, 2, "</initiator>");
        }
        if let (Some(wwnn), Some(wwpn)) = (&a.adapter_wwnn, &a.adapter_wwpn) {
            let mut s = String::from("<adapter type='fc_host'");
            if let Some(p) = &a.adapter_parent {
                s.push_str(&format!(" parent='{p}'"));
            } else if let (Some(n), Some(p)) = (&a.adapter_parent_wwnn, &a.adapter_parent_wwpn) {
                s.push_str(&format!(" parent_wwnn='{n}' parent_wwpn='{p}'"));
            } else if let Some(f) = &a.adapter_parent_fabric_wwn {
                s.push_str(&format!(" parent_fabric_wwn='{f}'"));
            }
            s.push_str(&format!(" wwnn='{wwnn}' wwpn='{wwpn}'/>"));
            line(&mut o, 2, &s);
        } else if let Some(n) = &a.adapter_name {
            line(
                &mut o,
                2,
                &format!("<adapter type='scsi_host' name='{n}'/>"),
            );
        }
        if let (Some(t), Some(u)) = (&a.auth_type, &a.auth_username) {
            if a.secret_usage.is_some() || a.secret_uuid.is_some() {
                line(&mut o, 2, &format!("<auth type='{t}' username='{u}'>"));
                match (&a.secret_usage, &a.secret_uuid) {
                    (Some(s), _) => line(&mut o, 3, &format!("<secret usage='{s}'/>")),
                    (None, Some(s)) => line(&mut o, 3, &format!("<secret uuid='{s}'/>")),
                    _ => {}
                }
                line(&mut o, 2, "</auth>");
            }
        }
        if let Some(f) = &a.source_format {
            line(&mut o, 2, &format!("<format type='{f}'/>"));
        }
        if let Some(n) = &a.source_name {
            line(&mut o, 2, &format!("<name>{n}</name>"));
        }
        if let Some(v) = &a.source_protocol_ver {
            line(&mut o, 2, &format!("<protocol ver='{v}'/>"));
        }
        line(&mut o, 1, "</source>");
    }
    if let Some(t) = &a.target {
        line(&mut o, 1, "<target>");
        line(&mut o, 2, &format!("<path>{t}</path>"));
        line(&mut o, 1, "</target>");
    }
    line(&mut o, 0, "</pool>");
    Ok(o)
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
