//! A pool's `<source>`: hosts, devices, directory, SCSI and FC adapters, auth and the rest, as
//! storage_conf.c parses them for every pool type and formats only those the type uses.

use super::{
    format_secret_lookup, parse_secret_lookup, pool_type_info, sanitize_path, SecretLookup,
    NETFS_FORMATS, SRC_ADAPTER, SRC_DEVICE, SRC_DIR, SRC_HOST, SRC_INITIATOR_IQN, SRC_NAME,
};
use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{
    attrs, prop_enum, prop_int, prop_tristate, xpath_attr, xpath_path_attr, xpath_text, yes_no,
    PciAddress, Src,
};
use crate::writer::XmlWriter;

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

pub(super) fn parse_source(
    src: Src,
    pool_type: &str,
    el: &Element,
) -> Result<PoolSource, XmlError> {
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
pub(super) fn validate_adapter(
    src: Src,
    el: &Element,
    a: Option<&PoolAdapter>,
) -> Result<(), XmlError> {
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
                (Some(n), None) => {
                    return Err(src.xml(
                        at,
                        format!(
                        "when providing parent_wwnn='{n}', the parent_wwpn must also be provided"
                    ),
                    ))
                }
                (None, Some(p)) => {
                    return Err(src.xml(
                        at,
                        format!(
                        "when providing parent_wwpn='{p}', the parent_wwnn must also be provided"
                    ),
                    ))
                }
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
pub(super) fn format_source(w: &mut XmlWriter, pool_type: &str, s: &PoolSource) {
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
