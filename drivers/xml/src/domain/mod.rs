//! libvirt's domain XML: [`DomainDef::parse`] reads a definition the way `virsh define` does
//! (parse, validation, libvirt's post-parse defaults) and [`DomainDef::to_xml`] prints it the way
//! `virsh dumpxml` does, byte for byte as libvirt 9.0's test driver.
//!
//! The parts that tools look at (names, memory, vCPUs, OS, disks, interfaces, consoles) are typed
//! fields. The many tuning and device details that only need to survive a round trip are kept as
//! canonical [`Node`]s, laid out by the table in `spec.rs`.

// XmlError carries its source text for diagnostics; its size is the error type's decision.
#![allow(clippy::result_large_err)]

mod chr;
mod controller;
mod devices;
mod disk;
mod graphics;
mod hostdev;
pub mod metadata;
mod net;
mod node;
mod os;
mod spec;
mod top;
pub mod tune;
pub mod units;

pub use chr::Chr;
pub use controller::Controller;
pub use devices::{DeviceInfo, Devices};
pub use disk::{disk_name_to_index, Disk};
pub use hostdev::HostdevCaps;
pub use net::{parse_mac, NetInterface};
pub use node::Node;
pub use os::{OsDef, ARCHES};
pub use tune::{BlkioDevice, BlkioTune, MemTune};

use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

/// What `virsh dumpxml` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatOptions {
    /// `--inactive`: the persistent definition, without runtime details.
    pub inactive: bool,
    /// The running domain's id, printed as `id='N'` on `<domain>` unless `inactive`.
    pub id: Option<i32>,
    /// `--security-info`: include passwords (graphics `passwd`).
    pub secure: bool,
}

/// The defaults that depend on the driver (its capabilities) rather than on libvirt's XML
/// rules. The default is libvirt's test driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The architecture of a guest whose `<type>` names none (`i686` in the test driver, the
    /// host's in QEMU).
    pub default_arch: String,
    /// Keep what only a running domain has (the pty paths a started QEMU chose): set when a
    /// driver reads back the live definition it wrote itself, as libvirt parses its status XML.
    pub live: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            default_arch: os::TEST_DEFAULT_ARCH.to_string(),
            live: false,
        }
    }
}

/// A domain definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDef {
    /// `<domain type='...'>`: kvm, qemu, test, xen, lxc, ...
    pub virt_type: String,
    pub name: String,
    /// Generated (v4) when the XML has none.
    pub uuid: uuid::Uuid,
    pub genid: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `<metadata>`'s children, one per XML namespace (libvirt drops the others). `Some(empty)`
    /// prints `<metadata/>`.
    pub metadata: Option<Vec<Element>>,
    /// `<memory>`: the maximum boot memory, KiB.
    pub memory_kib: u64,
    /// `<currentMemory>`, KiB; never above `memory_kib`.
    pub current_memory_kib: u64,
    /// `<maxMemory>` (memory hotplug limit), KiB.
    pub max_memory_kib: Option<u64>,
    pub max_memory_slots: Option<u32>,
    /// `<memory dumpCore='on|off'>`.
    pub memory_dump_core: Option<String>,
    /// `<vcpu>`: the maximum number of vCPUs.
    pub vcpus: u32,
    /// `<vcpu current='N'>`, equal to `vcpus` when absent (printed only when it differs).
    pub current_vcpus: u32,
    /// `static` or `auto`.
    pub vcpu_placement: String,
    pub vcpu_cpuset: Option<String>,
    pub iothreads: Option<u32>,
    pub blkiotune: BlkioTune,
    pub memtune: Option<Node>,
    pub memory_backing: Option<Node>,
    /// `<vcpus>`: per-vCPU hotplug state.
    pub vcpu_list: Option<Node>,
    pub iothreadids: Option<Node>,
    pub cputune: Option<Node>,
    pub numatune: Option<Node>,
    pub resource: Option<Node>,
    pub sysinfo: Vec<Node>,
    pub bootloader: Option<String>,
    pub bootloader_args: Option<String>,
    pub os: OsDef,
    pub idmap: Option<Node>,
    pub features: Option<Node>,
    pub cpu: Option<Node>,
    pub clock: Node,
    pub on_poweroff: String,
    pub on_reboot: String,
    pub on_crash: String,
    pub on_lockfailure: Option<String>,
    pub pm: Option<Node>,
    pub perf: Option<Node>,
    pub devices: Devices,
    pub seclabels: Vec<Node>,
    pub keywrap: Option<Node>,
    pub launch_security: Option<Node>,
}

impl DomainDef {
    /// Parse a definition as `virsh define` does: validation errors in libvirt's words (with the
    /// position of the offending element), and the defaults libvirt fills in at define time.
    pub fn parse(xml: &str) -> Result<DomainDef, XmlError> {
        Self::parse_with(xml, &ParseOptions::default())
    }

    /// [`parse`](Self::parse) with the driver-dependent defaults spelled out.
    pub fn parse_with(xml: &str, opts: &ParseOptions) -> Result<DomainDef, XmlError> {
        let root = crate::dom::parse(xml)?;
        top::parse(xml, &root, opts)
    }

    /// The definition as `virsh dumpxml` prints it; ends with a newline.
    pub fn to_xml(&self, opts: &FormatOptions) -> String {
        let mut w = XmlWriter::new();
        top::format(self, opts, &mut w);
        w.finish()
    }

    /// Like [`to_xml`](Self::to_xml), indented by `depth` levels (the domain inside a snapshot).
    pub fn to_xml_at_depth(&self, opts: &FormatOptions, depth: usize) -> String {
        let mut w = XmlWriter::with_depth(depth);
        top::format(self, opts, &mut w);
        w.finish()
    }

    /// Name the interfaces that have no `<target dev>` `testnetN` (lowest free N), as libvirt's
    /// test driver does when a domain is defined or created. Other drivers name them when the
    /// guest starts, so this is not part of [`parse`](Self::parse).
    pub fn assign_test_ifnames(&mut self) {
        net::assign_test_ifnames(&mut self.devices.interfaces);
    }

    /// The child of `<metadata>` in namespace `uri`, as libvirt's `virDomainGetMetadata` prints
    /// it (libxml2 layout).
    pub fn metadata_element(&self, uri: &str) -> Option<String> {
        let el = self
            .metadata
            .as_ref()?
            .iter()
            .find(|e| top::metadata_namespace(e).as_deref() == Some(uri))?;
        let mut out = String::new();
        node::dump_libxml2(el, 0, &mut out);
        Some(out)
    }
}

/// Check a domain name. libvirt itself refuses only an empty name, `/` and a newline; this also
/// refuses the other control characters, since drivers put names into host paths and command
/// lines. Messages are libvirt's.
pub fn validate_name(name: &str) -> Result<(), XmlError> {
    top::validate_name_libvirt(name)?;
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(err::plain(format!("invalid char in name: {c}")));
    }
    Ok(())
}

/// Errors in libvirt's words. libvirt reports some XML problems with codes that have no
/// [`XmlErrorKind`](crate::XmlErrorKind) of their own ("internal error", "invalid argument",
/// "numerical overflow"); those carry their whole text, prefix included, under the kind that
/// prints a message as it is.
pub(crate) mod err {
    use crate::error::{XmlError, XmlErrorKind};

    pub fn plain(msg: impl Into<String>) -> XmlError {
        XmlError::new(XmlErrorKind::Missing, msg)
    }
    pub fn internal(msg: impl AsRef<str>) -> XmlError {
        plain(format!("internal error: {}", msg.as_ref()))
    }
    pub fn invalid_arg(msg: impl AsRef<str>) -> XmlError {
        plain(format!("invalid argument: {}", msg.as_ref()))
    }
    pub fn overflow(msg: impl AsRef<str>) -> XmlError {
        plain(format!("numerical overflow: {}", msg.as_ref()))
    }
    pub fn xml(msg: impl Into<String>) -> XmlError {
        XmlError::invalid(msg)
    }
    pub fn unsupported(msg: impl Into<String>) -> XmlError {
        XmlError::config(msg)
    }
    /// "Invalid value for attribute 'A' in element 'E': 'V'." (virXMLPropEnum).
    pub fn bad_attr(attr: &str, elem: &str, value: &str) -> XmlError {
        xml(format!(
            "Invalid value for attribute '{attr}' in element '{elem}': '{value}'."
        ))
    }
    /// The same for numeric attributes (virXMLPropUInt).
    pub fn bad_uint_attr(attr: &str, elem: &str, value: &str) -> XmlError {
        xml(format!(
            "Invalid value for attribute '{attr}' in element '{elem}': '{value}'. Expected non-negative integer value"
        ))
    }
    pub fn missing_attr(attr: &str, elem: &str) -> XmlError {
        xml(format!(
            "Missing required attribute '{attr}' in element '{elem}'"
        ))
    }
}

/// Read an enumerated attribute as libvirt's virXMLPropEnum does: absent is fine, an empty or
/// unknown value is an error.
pub(crate) fn enum_attr<'a>(
    text: &str,
    el: &'a Element,
    attr: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, XmlError> {
    match el.attr(attr) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(err::bad_attr(attr, &el.name, v).at(text, el.offset)),
    }
}

/// virXMLPropUInt: absent is fine, anything but a decimal number is an error.
pub(crate) fn uint_attr(text: &str, el: &Element, attr: &str) -> Result<Option<u32>, XmlError> {
    match el.attr(attr) {
        None => Ok(None),
        Some(v) => units::parse_u64_strict(v)
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| err::bad_uint_attr(attr, &el.name, v).at(text, el.offset)),
    }
}
