//! `<os>`, `<features>`, `<cpu>` and `<clock>`.

use super::node::{canonical, Node};
use super::{enum_attr, err, DomainDef};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

/// The architecture libvirt's test driver picks when the XML names none (its capabilities
/// offer only i686 guests).
pub const TEST_DEFAULT_ARCH: &str = "i686";

const OS_TYPES: &[&str] = &["hvm", "xen", "linux", "exe", "uml", "xenpvh"];

/// libvirt 9.0's architecture names (virArch in src/util/virarch.c): what `<type arch>`
/// accepts, and what tells an unknown architecture from one without an emulator.
pub const ARCHES: &[&str] = &[
    "alpha",
    "armv6l",
    "armv7l",
    "armv7b",
    "aarch64",
    "cris",
    "i686",
    "ia64",
    "lm32",
    "m68k",
    "microblaze",
    "microblazeel",
    "mips",
    "mipsel",
    "mips64",
    "mips64el",
    "openrisc",
    "parisc",
    "parisc64",
    "ppc",
    "ppcle",
    "ppc64",
    "ppc64le",
    "ppcemb",
    "riscv32",
    "riscv64",
    "s390",
    "s390x",
    "sh4",
    "sh4eb",
    "sparc",
    "sparc64",
    "unicore32",
    "x86_64",
    "xtensa",
    "xtensaeb",
];

const BOOT_DEVS: &[&str] = &["fd", "cdrom", "hd", "network"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OsDef {
    /// hvm, linux, exe, xen, uml, xenpvh.
    pub os_type: String,
    pub arch: Option<String>,
    pub machine: Option<String>,
    /// `<os firmware='efi|bios'>`.
    pub firmware: Option<String>,
    pub firmware_features: Option<Node>,
    pub init: Option<String>,
    pub init_args: Vec<String>,
    /// `<initenv name='N'>V</initenv>`.
    pub init_env: Vec<(String, String)>,
    pub init_dir: Option<String>,
    pub init_user: Option<String>,
    pub init_group: Option<String>,
    pub loader: Option<Node>,
    pub nvram: Option<Node>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    pub dtb: Option<String>,
    pub root: Option<String>,
    pub acpi: Option<Node>,
    /// `<boot dev=...>` in order: fd, cdrom, hd, network.
    pub boot_devs: Vec<String>,
    /// `<bootmenu enable='yes|no'>`.
    pub bootmenu: Option<String>,
    pub bootmenu_timeout: Option<u32>,
    pub bios: Option<Node>,
    pub smbios_mode: Option<String>,
}

pub fn parse_os(
    text: &str,
    root: &Element,
    virt_type: &str,
    default_arch: &str,
) -> Result<OsDef, XmlError> {
    let os_el = root.child("os");
    let type_el = os_el.and_then(|o| o.child("type"));
    // libvirt takes the text as written: blanks around it make an unknown type.
    let Some(type_el) = type_el.filter(|t| !t.text.is_empty()) else {
        return Err(
            err::xml("an os <type> must be specified").at(text, os_el.unwrap_or(root).offset)
        );
    };
    let os_el = os_el.unwrap_or(root);
    let at = |e: XmlError, el: &Element| e.at(text, el.offset);
    let mut os_type = type_el.text.clone();
    // libvirt's Xen driver once called paravirtual guests "linux"; it reads that as "xen".
    if os_type == "linux" && virt_type == "xen" {
        os_type = "xen".into();
    }
    if !OS_TYPES.contains(&os_type.as_str()) {
        return Err(at(
            err::unsupported(format!("unknown OS type '{os_type}'")),
            type_el,
        ));
    }
    let arch = match type_el.attr("arch") {
        Some(a) if ARCHES.contains(&a) => a.to_string(),
        Some(a) => {
            return Err(at(
                err::unsupported(format!("Unknown architecture {a}")),
                type_el,
            ))
        }
        None => default_arch.to_string(),
    };
    // Text as written, absent when empty (virXPathString).
    let txt = |name: &str| {
        os_el
            .child(name)
            .map(|e| e.text.clone())
            .filter(|t| !t.is_empty())
    };
    let mut os = OsDef {
        os_type,
        arch: Some(arch),
        machine: type_el.attr("machine").map(str::to_string),
        firmware: enum_attr(text, os_el, "firmware", &["bios", "efi"])?.map(str::to_string),
        firmware_features: os_el.child("firmware").map(Node::raw),
        init: txt("init"),
        init_args: os_el
            .children_named("initarg")
            .map(|e| e.text.clone())
            .collect(),
        init_env: os_el
            .children_named("initenv")
            .map(|e| {
                (
                    e.attr("name").unwrap_or_default().to_string(),
                    e.text.clone(),
                )
            })
            .collect(),
        init_dir: txt("initdir"),
        init_user: txt("inituser"),
        init_group: txt("initgroup"),
        loader: os_el.child("loader").map(|l| {
            let mut n = Node::raw(l);
            // A loader given by path is a ROM unless the XML says pflash.
            if n.attr("type").is_none() && !l.text.trim().is_empty() {
                n.set_attr("type", "rom");
            }
            n.order_attrs(&["readonly", "secure", "type", "stateless", "format"]);
            n
        }),
        nvram: os_el.child("nvram").map(|l| {
            let mut n = Node::raw(l);
            n.order_attrs(&["template", "format"]);
            n
        }),
        kernel: txt("kernel"),
        initrd: txt("initrd"),
        cmdline: txt("cmdline"),
        dtb: txt("dtb"),
        root: txt("root"),
        acpi: os_el.child("acpi").map(Node::raw),
        boot_devs: Vec::new(),
        bootmenu: None,
        bootmenu_timeout: None,
        bios: os_el.child("bios").map(|b| {
            let mut n = Node::raw(b);
            n.order_attrs(&["useserial", "rebootTimeout"]);
            n
        }),
        smbios_mode: None,
    };
    if os.os_type == "exe" && os.init.is_none() {
        return Err(at(err::xml("init binary must be specified"), os_el));
    }
    for b in os_el.children_named("boot").take(BOOT_DEVS.len()) {
        match b.attr("dev") {
            None => return Err(at(err::missing_attr("dev", "boot"), b)),
            Some(d) if BOOT_DEVS.contains(&d) => os.boot_devs.push(d.to_string()),
            Some(d) => return Err(at(err::bad_attr("dev", "boot", d), b)),
        }
    }
    if let Some(m) = os_el.child("bootmenu") {
        os.bootmenu = enum_attr(text, m, "enable", &["yes", "no"])?.map(str::to_string);
        if os.bootmenu.as_deref() == Some("yes") {
            if let Some(t) = m.attr("timeout") {
                let v = super::units::parse_u64_strict(t)
                    .filter(|v| *v <= 65535)
                    .ok_or_else(|| {
                        at(
                            err::xml(
                                "invalid value for boot menu timeout, must be in range [0,65535]",
                            ),
                            m,
                        )
                    })?;
                os.bootmenu_timeout = Some(v as u32);
            }
        }
    }
    if let Some(s) = os_el.child("smbios") {
        os.smbios_mode =
            enum_attr(text, s, "mode", &["emulate", "host", "sysinfo"])?.map(str::to_string);
    }
    Ok(os)
}

pub fn format_os(def: &DomainDef, w: &mut XmlWriter) {
    let os = &def.os;
    match &os.firmware {
        Some(f) => w.start("os", &[("firmware", f)]),
        None => w.start("os", &[]),
    }
    let mut tattrs = Vec::new();
    if let Some(a) = &os.arch {
        tattrs.push(("arch", a.as_str()));
    }
    if let Some(m) = &os.machine {
        tattrs.push(("machine", m.as_str()));
    }
    // libvirt prints Xen paravirtual guests with the legacy name.
    let shown_type = if os.os_type == "xen" && def.virt_type == "xen" {
        "linux"
    } else {
        os.os_type.as_str()
    };
    w.text("type", &tattrs, shown_type);
    if let Some(f) = &os.firmware_features {
        f.write(w);
    }
    w.opt_text("init", os.init.as_deref());
    for a in &os.init_args {
        w.text("initarg", &[], a);
    }
    for (n, v) in &os.init_env {
        w.text("initenv", &[("name", n)], v);
    }
    w.opt_text("initdir", os.init_dir.as_deref());
    w.opt_text("inituser", os.init_user.as_deref());
    w.opt_text("initgroup", os.init_group.as_deref());
    for n in [&os.loader, &os.nvram].into_iter().flatten() {
        n.write(w);
    }
    w.opt_text("kernel", os.kernel.as_deref());
    w.opt_text("initrd", os.initrd.as_deref());
    w.opt_text("cmdline", os.cmdline.as_deref());
    w.opt_text("dtb", os.dtb.as_deref());
    w.opt_text("root", os.root.as_deref());
    if let Some(a) = &os.acpi {
        a.write(w);
    }
    if def.bootloader.is_none() {
        for d in &os.boot_devs {
            w.empty("boot", &[("dev", d)]);
        }
        if let Some(m) = &os.bootmenu {
            let t = os.bootmenu_timeout.map(|t| t.to_string());
            let mut a = vec![("enable", m.as_str())];
            if let Some(t) = &t {
                a.push(("timeout", t.as_str()));
            }
            w.empty("bootmenu", &a);
        }
        if let Some(b) = &os.bios {
            b.write(w);
        }
    }
    if let Some(s) = &os.smbios_mode {
        w.empty("smbios", &[("mode", s)]);
    }
    w.end("os");
}

/// The features libvirt knows, in its enum order (which is its print order).
const FEATURES: &[&str] = &[
    "acpi",
    "apic",
    "pae",
    "hap",
    "viridian",
    "privnet",
    "hyperv",
    "kvm",
    "pvspinlock",
    "capabilities",
    "pmu",
    "vmport",
    "gic",
    "smm",
    "ioapic",
    "hpt",
    "vmcoreinfo",
    "htm",
    "nested-hv",
    "msrs",
    "ccf-assist",
    "xen",
    "cfpc",
    "sbbc",
    "ibs",
    "tcg",
    "async-teardown",
];

/// Features that are simply present (`<acpi/>`), whatever `state` says.
const PLAIN_FEATURES: &[&str] = &["acpi", "pae", "viridian", "privnet"];

/// Features printed with an explicit `state='on|off'`, `on` when the XML gives none.
const STATE_FEATURES: &[&str] = &[
    "hap",
    "pmu",
    "vmport",
    "smm",
    "pvspinlock",
    "vmcoreinfo",
    "htm",
    "nested-hv",
    "ccf-assist",
];

pub fn parse_features(text: &str, el: &Element) -> Result<Node, XmlError> {
    let mut out = Node::new("features");
    for c in &el.children {
        if !FEATURES.contains(&c.name.as_str()) {
            return Err(
                err::unsupported(format!("unexpected feature '{}'", c.name)).at(text, c.offset)
            );
        }
    }
    for name in FEATURES {
        let Some(c) = el.child(name) else { continue };
        let key = format!("features/{name}");
        let mut n = canonical(&key, c);
        if PLAIN_FEATURES.contains(name) {
            n = Node::new(name);
        } else if STATE_FEATURES.contains(name) {
            if let Some(s) = enum_attr(text, c, "state", &["on", "off"])? {
                n.set_attr("state", s);
            } else {
                n.attrs.insert(0, ("state".into(), "on".into()));
            }
        } else if *name == "hyperv" {
            let mode = enum_attr(text, c, "mode", &["custom", "passthrough"])?.unwrap_or("custom");
            n.set_attr("mode", mode);
            if mode == "passthrough" {
                n.children.clear();
            }
        }
        out.children.push(n);
    }
    Ok(out)
}

pub fn parse_cpu(text: &str, el: &Element) -> Result<Node, XmlError> {
    let mode = enum_attr(
        text,
        el,
        "mode",
        &["custom", "host-model", "host-passthrough", "maximum"],
    )
    .map_err(|_| {
        err::unsupported(format!(
            "Invalid mode attribute '{}'",
            el.attr("mode").unwrap_or_default()
        ))
        .at(text, el.offset)
    })?;
    let mut n = canonical("cpu", el);
    if let Some(t) = el.child("topology") {
        for a in ["sockets", "cores", "threads"] {
            match t.attr(a) {
                None => return Err(err::missing_attr(a, "topology").at(text, t.offset)),
                Some(_) => {
                    super::uint_attr(text, t, a)?;
                }
            }
        }
        if let Some(tn) = n.child_mut("topology") {
            if tn.attr("dies").is_none() {
                tn.set_attr("dies", "1");
                tn.order_attrs(&["sockets", "dies", "cores", "threads"]);
            }
        }
    }
    let custom = mode.is_none_or(|m| m == "custom");
    if custom && n.child("model").is_some() {
        if n.attr("mode").is_none() {
            n.attrs.insert(0, ("mode".into(), "custom".into()));
        }
        if n.attr("match").is_none() {
            n.set_attr("match", "exact");
        }
        n.order_attrs(&["mode", "match", "check", "migratable"]);
        if let Some(m) = n.child_mut("model") {
            if m.attr("fallback").is_none() {
                m.attrs.insert(0, ("fallback".into(), "allow".into()));
            }
        }
    }
    // A model without a name says nothing (host-model's fallback needs a named model).
    n.children
        .retain(|c| c.name != "model" || c.text.as_deref().is_some_and(|t| !t.is_empty()));
    if let Some(numa) = n.child_mut("numa") {
        let src = el.child("numa");
        for cell in numa.children.iter_mut().filter(|c| c.name == "cell") {
            if let Some(mem) = cell.attr("memory").map(str::to_string) {
                let kib = super::units::parse_memory_kib_value(
                    &mem,
                    cell.attr("unit"),
                    "./numa/cell/@memory",
                )
                .map_err(|e| e.at(text, src.map_or(el.offset, |s| s.offset)))?
                .unwrap_or(0);
                cell.set_attr("memory", &kib.to_string());
                cell.set_attr("unit", "KiB");
                cell.order_attrs(&["id", "cpus", "memory", "unit", "discard", "memAccess"]);
            }
            if let Some(c) = cell.attr("cpus").map(str::to_string) {
                let c = super::units::canonical_bitmap(&c).map_err(|e| e.at(text, el.offset))?;
                cell.set_attr("cpus", &c);
            }
        }
    }
    Ok(n)
}

const TIMERS: &[&str] = &[
    "platform",
    "pit",
    "rtc",
    "hpet",
    "tsc",
    "kvmclock",
    "hypervclock",
    "armvtimer",
];

pub fn parse_clock(text: &str, el: Option<&Element>) -> Result<Node, XmlError> {
    let Some(el) = el else {
        return Ok(Node::with_attrs("clock", &[("offset", "utc")]));
    };
    let offset = el.attr("offset").unwrap_or("utc");
    if !["utc", "localtime", "variable", "timezone", "absolute"].contains(&offset) {
        return Err(
            err::unsupported(format!("unknown clock offset '{offset}'")).at(text, el.offset)
        );
    }
    for t in el.children_named("timer") {
        match t.attr("name") {
            None => return Err(err::missing_attr("name", "timer").at(text, t.offset)),
            Some(n) if !TIMERS.contains(&n) => {
                return Err(err::bad_attr("name", "timer", n).at(text, t.offset))
            }
            _ => {}
        }
    }
    let mut n = canonical("clock", el);
    n.set_attr("offset", offset);
    if offset == "variable" {
        if n.attr("adjustment").is_none() {
            n.set_attr("adjustment", "0");
        }
        if n.attr("basis").is_none() {
            n.set_attr("basis", "utc");
        }
    }
    n.order_attrs(&["offset", "adjustment", "basis", "timezone"]);
    Ok(n)
}
