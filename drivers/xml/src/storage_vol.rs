//! libvirt's storage volume XML (`<volume>`): parse, validate and format as libvirt 9.0's
//! `storage_conf.c` does, and the XML `virsh vol-create-as` builds from its options.
//!
//! A volume is always read in the context of its pool: the pool type decides which formats are
//! valid (file formats for dir/fs/netfs/gluster/vstorage/rbd, partition types for disk, none for
//! logical, iscsi, scsi, mpath, zfs...) and the default one that libvirt shows when none is given.

use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{
    attrs, parse_root, prop_enum, prop_uint, xpath_attr, xpath_path_attr, xpath_text, Src,
};
use crate::storage_pool::{format_secret_lookup, parse_secret_lookup, Permissions, SecretLookup};
use crate::units::{parse_virsh_size, scale_integer, str_to_ui, str_to_ull_p};
use crate::writer::XmlWriter;

/// libvirt's volume types, in enum order.
pub const VOL_TYPES: [&str; 6] = ["file", "block", "dir", "network", "netdir", "ploop"];

/// Image formats (virStorageFileFormat); index 0 ("none") is not accepted in volume XML.
pub const FILE_FORMATS: [&str; 17] = [
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop",
    "cow", "qcow", "qcow2", "qed", "vmdk",
];

/// Partition types of volumes in a disk pool.
pub const DISK_VOL_FORMATS: [&str; 8] = [
    "none",
    "linux",
    "fat16",
    "fat32",
    "linux-swap",
    "linux-lvm",
    "linux-raid",
    "extended",
];

/// qcow2 features libvirt knows.
pub const FILE_FEATURES: [&str; 2] = ["lazy_refcounts", "extended_l2"];

/// The volume formats of a pool type, with the default; None when the type has no formats.
pub fn vol_formats(pool_type: &str) -> Option<(&'static [&'static str], &'static str)> {
    match pool_type {
        "dir" | "fs" | "netfs" | "gluster" | "vstorage" | "rbd" => {
            Some((&FILE_FORMATS[1..], "raw"))
        }
        "disk" => Some((&DISK_VOL_FORMATS, "none")),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageVolDef {
    pub name: String,
    pub key: Option<String>,
    /// "file", "block", "dir", "network", "netdir" or "ploop".
    pub vol_type: String,
    /// Bytes.
    pub capacity: u64,
    /// Bytes; libvirt takes the capacity when the XML gives none.
    pub allocation: u64,
    /// Whether the XML gave an allocation (matters to drivers: sparse vs. preallocated).
    pub has_allocation: bool,
    /// Display only: drivers fill it in, the XML's is ignored.
    pub physical: Option<u64>,
    /// Logical/disk pools: the extents a volume occupies, (device path, start, end).
    pub source_extents: Vec<(String, u64, u64)>,
    pub target_path: Option<String>,
    pub format: Option<String>,
    pub permissions: Option<Permissions>,
    pub timestamps: Option<VolTimestamps>,
    pub encryption: Option<Encryption>,
    pub compat: Option<String>,
    /// `<nocow/>`: parsed (it changes how files are created), never formatted, as in libvirt.
    pub nocow: bool,
    /// Bytes.
    pub cluster_size: Option<u64>,
    /// qcow2 features; `Some(empty)` formats as `<features/>`.
    pub features: Option<Vec<String>>,
    pub backing_store: Option<BackingStore>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackingStore {
    pub path: String,
    pub format: Option<String>,
    pub permissions: Option<Permissions>,
}

/// Seconds and nanoseconds since the epoch, as `stat` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolTimestamps {
    pub atime: Option<(u64, u32)>,
    pub mtime: Option<(u64, u32)>,
    pub ctime: Option<(u64, u32)>,
    pub btime: Option<(u64, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encryption {
    /// "default", "qcow", "luks" or "luks2".
    pub format: String,
    /// "qemu" or "librbd".
    pub engine: Option<String>,
    pub secrets: Vec<SecretLookup>,
    pub cipher: Option<Cipher>,
    pub ivgen: Option<Ivgen>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cipher {
    pub name: String,
    pub size: u32,
    pub mode: Option<String>,
    pub hash: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ivgen {
    pub name: String,
    pub hash: Option<String>,
}

/// virStorageSize: a whole-string number with an optional unit, at most LLONG_MAX bytes
/// (off_t is signed). libvirt says "capacity" in the message for allocation too.
fn storage_size(src: Src, el: &Element, value: &str, unit: Option<&str>) -> Result<u64, XmlError> {
    let Some(n) = str_to_ull_p(value, 10) else {
        return Err(src.xml(el, "malformed capacity element"));
    };
    scale_integer(n, unit, 1, i64::MAX as u64).map_err(|e| e.at(src.text, el.offset))
}

fn parse_format(
    src: Src,
    el: &Element,
    value: Option<&str>,
    pool_type: &str,
) -> Result<Option<String>, XmlError> {
    let Some((formats, default)) = vol_formats(pool_type) else {
        return Ok(None);
    };
    match value {
        None => Ok(Some(default.to_string())),
        Some(f) if formats.contains(&f) => Ok(Some(f.to_string())),
        Some(f) => Err(src.unsupported(el, format!("unknown volume format type {f}"))),
    }
}

impl Encryption {
    /// virStorageEncryptionParseNode.
    pub(crate) fn parse(src: Src, el: &Element) -> Result<Encryption, XmlError> {
        let Some(format) = xpath_attr(el, "format") else {
            return Err(src.xml(el, "unknown volume encryption format"));
        };
        if !["default", "qcow", "luks", "luks2"].contains(&format) {
            return Err(src.unsupported(
                el,
                format!("unknown volume encryption format type {format}"),
            ));
        }
        let mut def = Encryption {
            format: format.to_string(),
            engine: prop_enum(
                src,
                el,
                "engine",
                &["default", "qemu", "librbd"],
                true,
                false,
            )?,
            ..Default::default()
        };
        for s in el.children_named("secret") {
            match s.attr("type") {
                None => return Err(src.xml(s, "unknown volume encryption secret type")),
                Some("passphrase") => {}
                Some(t) => {
                    return Err(
                        src.unsupported(s, format!("unknown volume encryption secret type {t}"))
                    )
                }
            }
            def.secrets.push(parse_secret_lookup(src, s)?);
        }
        if let Some(c) = el.child("cipher") {
            let Some(name) = c.attr("name") else {
                return Err(crate::network::missing_attr(src, c, "name"));
            };
            let size = prop_uint(src, c, "size", 10, true, false)?.unwrap_or(0);
            def.cipher = Some(Cipher {
                name: name.to_string(),
                size,
                mode: c.attr("mode").map(str::to_string),
                hash: c.attr("hash").map(str::to_string),
            });
        }
        if let Some(i) = el.child("ivgen") {
            if def.cipher.is_none() {
                return Err(src.xml(i, "ivgen element found, but cipher is missing"));
            }
            let Some(name) = i.attr("name") else {
                return Err(crate::network::missing_attr(src, i, "name"));
            };
            def.ivgen = Some(Ivgen {
                name: name.to_string(),
                hash: i.attr("hash").map(str::to_string),
            });
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut XmlWriter) {
        match &self.engine {
            Some(e) => w.start("encryption", &[("format", &self.format), ("engine", e)]),
            None => w.start("encryption", &[("format", &self.format)]),
        }
        for s in &self.secrets {
            format_secret_lookup(w, Some("passphrase"), s);
        }
        // libvirt shows the cipher details of LUKS encryption only.
        if self.format == "luks" {
            if let Some(c) = &self.cipher {
                let mut a: Vec<(&str, String)> =
                    vec![("name", c.name.clone()), ("size", c.size.to_string())];
                if let Some(m) = &c.mode {
                    a.push(("mode", m.clone()));
                }
                if let Some(h) = &c.hash {
                    a.push(("hash", h.clone()));
                }
                w.empty("cipher", &attrs(&a));
                if let Some(i) = &self.ivgen {
                    match &i.hash {
                        Some(h) => w.empty("ivgen", &[("name", &i.name), ("hash", h)]),
                        None => w.empty("ivgen", &[("name", &i.name)]),
                    }
                }
            }
        }
        w.end("encryption");
    }
}

impl StorageVolDef {
    /// virStorageVolDefParseString for a volume of a pool of type `pool_type`.
    pub fn parse(xml: &str, pool_type: &str) -> Result<StorageVolDef, XmlError> {
        let root = parse_root(xml, "volume")?;
        Self::from_element(xml, &root, pool_type)
    }

    pub fn from_element(
        text: &str,
        root: &Element,
        pool_type: &str,
    ) -> Result<StorageVolDef, XmlError> {
        let src = Src { text };
        let Some(name) = xpath_text(root, "name") else {
            return Err(src.xml(root, "missing volume name element"));
        };
        let key = xpath_text(root, "key");
        let vol_type = match xpath_attr(root, "type") {
            None => "file".to_string(),
            Some(t) if VOL_TYPES.contains(&t) => t.to_string(),
            Some(t) => return Err(src.unsupported(root, format!("unknown volume type '{t}'"))),
        };
        let mut backing_store = None;
        if let Some(path) = xpath_text(root, "backingStore/path") {
            let bs = root.child("backingStore").unwrap_or(root);
            let format = parse_format(
                src,
                bs.child("format").unwrap_or(bs),
                xpath_path_attr(bs, "format", "type"),
                pool_type,
            )?;
            let permissions = match bs.child("permissions") {
                Some(p) => Some(Permissions::parse(src, p)?),
                None => None,
            };
            backing_store = Some(BackingStore {
                path,
                format,
                permissions,
            });
        }
        let cap_el = root.child("capacity");
        let capacity = match (xpath_text(root, "capacity"), cap_el) {
            (Some(c), Some(el)) => storage_size(src, el, &c, xpath_attr(el, "unit"))?,
            _ => return Err(src.xml(root, "missing capacity element")),
        };
        let (allocation, has_allocation) =
            match (xpath_text(root, "allocation"), root.child("allocation")) {
                (Some(a), Some(el)) => (storage_size(src, el, &a, xpath_attr(el, "unit"))?, true),
                _ => (capacity, false),
            };
        let target = root.child("target");
        let target_path = xpath_text(root, "target/path");
        let fmt_el = target.and_then(|t| t.child("format")).unwrap_or(root);
        let format = parse_format(
            src,
            fmt_el,
            xpath_path_attr(root, "target/format", "type"),
            pool_type,
        )?;
        let permissions = match root.at_path("target/permissions") {
            Some(p) => Some(Permissions::parse(src, p)?),
            None => None,
        };
        let encryption = match root.at_path("target/encryption") {
            Some(e) => Some(Encryption::parse(src, e)?),
            None => None,
        };
        let mut compat = xpath_text(root, "target/compat");
        if let Some(c) = &compat {
            let ok = c
                .split_once('.')
                .is_some_and(|(a, b)| str_to_ui(a, 10).is_some() && str_to_ui(b, 10).is_some());
            if !ok {
                return Err(src.xml(
                    root.at_path("target/compat").unwrap_or(root),
                    "forbidden characters in 'compat' attribute",
                ));
            }
        }
        let nocow = root.at_path("target/nocow").is_some();
        let mut cluster_size = None;
        if let Some(cs) = root.at_path("target/clusterSize") {
            let text = crate::network::string_value(cs);
            if !text.is_empty() {
                let n = str_to_ull_p(&text, 10).ok_or_else(|| {
                    src.xml(
                        cs,
                        format!(
                            "Invalid value '{text}' for element or attribute './target/clusterSize'"
                        ),
                    )
                })?;
                let bytes = scale_integer(n, xpath_attr(cs, "unit"), 1, u64::MAX)
                    .map_err(|e| e.at(src.text, cs.offset))?;
                cluster_size = Some(bytes).filter(|b| *b > 0);
            }
        }
        let mut features = None;
        if let Some(f) = root.at_path("target/features") {
            let mut list = Vec::new();
            for c in &f.children {
                if !FILE_FEATURES.contains(&c.name.as_str()) {
                    return Err(src.unsupported(c, format!("unsupported feature {}", c.name)));
                }
                if !list.contains(&c.name) {
                    list.push(c.name.clone());
                }
            }
            // Kept in libvirt's (bitmap) order.
            list.sort_by_key(|n| FILE_FEATURES.iter().position(|x| x == n));
            if compat.is_none() {
                compat = Some("1.1".to_string());
            }
            features = Some(list);
        }
        Ok(StorageVolDef {
            name,
            key,
            vol_type,
            capacity,
            allocation,
            has_allocation,
            physical: None,
            source_extents: Vec::new(),
            target_path,
            format,
            permissions,
            timestamps: None,
            encryption,
            compat,
            nocow,
            cluster_size,
            features,
            backing_store,
        })
    }

    /// virStorageVolDefFormat.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("volume", &[("type", &self.vol_type)]);
        w.text("name", &[], &self.name);
        if let Some(k) = &self.key {
            w.text("key", &[], k);
        }
        if !self.source_extents.is_empty() {
            w.start("source", &[]);
            let mut current: Option<&str> = None;
            for (path, start, end) in &self.source_extents {
                if current != Some(path.as_str()) {
                    if current.is_some() {
                        w.end("device");
                    }
                    w.start("device", &[("path", path)]);
                    current = Some(path);
                }
                w.empty(
                    "extent",
                    &[("start", &start.to_string()), ("end", &end.to_string())],
                );
            }
            w.end("device");
            w.end("source");
        }
        w.text("capacity", &[("unit", "bytes")], &self.capacity.to_string());
        w.text(
            "allocation",
            &[("unit", "bytes")],
            &self.allocation.to_string(),
        );
        if let Some(p) = self.physical.filter(|p| *p > 0) {
            w.text("physical", &[("unit", "bytes")], &p.to_string());
        }
        w.start("target", &[]);
        if let Some(p) = &self.target_path {
            w.text("path", &[], p);
        }
        if let Some(f) = &self.format {
            w.empty("format", &[("type", f)]);
        }
        if let Some(p) = &self.permissions {
            p.format(&mut w);
        }
        if let Some(t) = &self.timestamps {
            w.start("timestamps", &[]);
            for (name, v) in [
                ("atime", t.atime),
                ("mtime", t.mtime),
                ("ctime", t.ctime),
                ("btime", t.btime),
            ] {
                if let Some((sec, nsec)) = v {
                    let s = if nsec > 0 {
                        format!("{sec}.{nsec:09}")
                    } else {
                        sec.to_string()
                    };
                    w.text(name, &[], &s);
                }
            }
            w.end("timestamps");
        }
        if let Some(e) = &self.encryption {
            e.format(&mut w);
        }
        if let Some(c) = &self.compat {
            w.text("compat", &[], c);
        }
        if let Some(c) = self.cluster_size {
            w.text("clusterSize", &[("unit", "B")], &c.to_string());
        }
        if let Some(f) = &self.features {
            if f.is_empty() {
                w.empty("features", &[]);
            } else {
                w.start("features", &[]);
                for x in f {
                    w.empty(x, &[]);
                }
                w.end("features");
            }
        }
        w.end("target");
        if let Some(b) = &self.backing_store {
            w.start("backingStore", &[]);
            w.text("path", &[], &b.path);
            if let Some(f) = &b.format {
                w.empty("format", &[("type", f)]);
            }
            if let Some(p) = &b.permissions {
                p.format(&mut w);
            }
            w.end("backingStore");
        }
        w.end("volume");
        w.finish()
    }
}

/// The XML `virsh vol-create-as` builds (cmdVolCreateAs), as printed with --print-xml.
/// `capacity` and `allocation` are virsh size strings ("10G", "512M", "100" = bytes);
/// `backing_vol_path` is the path of the backing volume, which virsh looks up by name, key or
/// path before building the XML. Values go in unescaped, as virsh does.
/// Err is virsh's message for a size it cannot read ("Malformed size 10Q").
pub fn vol_def_from_args(
    name: &str,
    capacity: &str,
    allocation: Option<&str>,
    format: Option<&str>,
    backing_vol_path: Option<&str>,
    backing_format: Option<&str>,
) -> Result<String, String> {
    let cap = parse_virsh_size(capacity, 1, u64::MAX)
        .ok_or_else(|| format!("Malformed size {capacity}"))?;
    let alloc = match allocation {
        Some(a) => {
            Some(parse_virsh_size(a, 1, u64::MAX).ok_or_else(|| format!("Malformed size {a}"))?)
        }
        None => None,
    };
    let mut o = String::new();
    o.push_str("<volume>\n");
    o.push_str(&format!("  <name>{name}</name>\n"));
    o.push_str(&format!("  <capacity>{cap}</capacity>\n"));
    if let Some(a) = alloc {
        o.push_str(&format!("  <allocation>{a}</allocation>\n"));
    }
    if let Some(f) = format {
        o.push_str("  <target>\n");
        o.push_str(&format!("    <format type='{f}'/>\n"));
        o.push_str("  </target>\n");
    }
    if let Some(p) = backing_vol_path {
        o.push_str("  <backingStore>\n");
        o.push_str(&format!("    <path>{p}</path>\n"));
        if let Some(f) = backing_format {
            o.push_str(&format!("    <format type='{f}'/>\n"));
        }
        o.push_str("  </backingStore>\n");
    }
    o.push_str("</volume>\n");
    Ok(o)
}
