//! The `<domain>` element itself: identity, memory, vCPUs, tuning blocks, lifecycle actions and
//! security labels, in libvirt's parse order (which decides which error a broken definition
//! reports first) and its format order (virDomainDefFormatInternal).

use super::node::{canonical, dump_libxml2, Node};
use super::units::{canonical_bitmap, parse_memory_kib, parse_u64_strict};
use super::{devices, enum_attr, err, os, uint_attr, DomainDef, FormatOptions, ParseOptions};
use crate::dom::Element;
use crate::error::XmlError;
use crate::writer::XmlWriter;

const VIRT_TYPES: &[&str] = &[
    "none",
    "qemu",
    "kqemu",
    "kvm",
    "xen",
    "lxc",
    "uml",
    "openvz",
    "test",
    "vmware",
    "hyperv",
    "vbox",
    "phyp",
    "parallels",
    "bhyve",
    "vz",
];

const LIFECYCLE: &[&str] = &[
    "destroy",
    "restart",
    "rename-restart",
    "preserve",
    "coredump-destroy",
    "coredump-restart",
];

pub fn parse(text: &str, root: &Element, opts: &ParseOptions) -> Result<DomainDef, XmlError> {
    let at = |e: XmlError, el: &Element| e.at(text, el.offset);
    if root.name != "domain" {
        return Err(at(
            err::xml(format!(
                "expecting root element of 'domain', not '{}'",
                root.name
            )),
            root,
        ));
    }
    let virt_type = match root.attr("type") {
        None => return Err(at(err::internal("missing domain type attribute"), root)),
        Some(t) if VIRT_TYPES.contains(&t) => t.to_string(),
        Some(t) => {
            return Err(at(
                err::unsupported(format!("invalid domain type {t}")),
                root,
            ))
        }
    };

    // Identity.
    let name_el = root.child("name");
    let name = name_el.map(|e| e.text.clone()).unwrap_or_default();
    if name.is_empty() {
        return Err(at(
            err::plain("missing name information"),
            name_el.unwrap_or(root),
        ));
    }
    if name.contains('\n') {
        return Err(at(
            err::plain("invalid char in name: \n"),
            name_el.unwrap_or(root),
        ));
    }
    let uuid = match root.child("uuid").filter(|u| !u.text.is_empty()) {
        Some(u) => {
            parse_uuid(&u.text).ok_or_else(|| at(err::internal("malformed uuid element"), u))?
        }
        None => uuid::Uuid::new_v4(),
    };
    let genid = root
        .child("genid")
        .map(|g| g.text.trim().to_string())
        .filter(|g| !g.is_empty());
    let title = root.child("title").map(|t| t.text.clone());
    if let (Some(t), Some(el)) = (&title, root.child("title")) {
        if t.contains('\n') {
            return Err(at(err::xml("Domain title can't contain newlines"), el));
        }
    }
    let description = root.child("description").map(|d| d.text.clone());
    let metadata = root.child("metadata").map(sanitize_metadata);

    let os = os::parse_os(text, root, &virt_type, &opts.default_arch)?;

    // Memory.
    let max_memory = root.child("maxMemory");
    let max_memory_kib = super::units::parse_memory_kib(max_memory, "./maxMemory[1]")?;
    let max_memory_slots = match max_memory {
        Some(m) => uint_attr(text, m, "slots")?,
        None => None,
    };
    if let Some(m) = max_memory {
        if max_memory_kib.is_none() || max_memory_slots.is_none() {
            return Err(at(
                err::xml("both maximum memory size and memory slot count must be specified"),
                m,
            ));
        }
    }
    let memory_el = root.child("memory");
    let memory_kib = parse_memory_kib(memory_el, "./memory[1]")?.unwrap_or(0);
    let memory_dump_core = match memory_el {
        Some(m) => enum_attr(text, m, "dumpCore", &["on", "off"])?.map(str::to_string),
        None => None,
    };
    let current_memory_kib =
        parse_memory_kib(root.child("currentMemory"), "./currentMemory[1]")?.unwrap_or(0);

    let blkiotune = match root.child("blkiotune") {
        Some(e) => super::tune::BlkioTune::parse(e, text)?,
        None => Default::default(),
    };
    let memtune = root.child("memtune").map(parse_memtune).transpose()?;
    let memory_backing = root
        .child("memoryBacking")
        .map(|e| canonical("memoryBacking", e));

    // vCPUs.
    let vcpu_el = root.child("vcpu");
    let (mut vcpus, mut current_vcpus) = (1u32, 1u32);
    let mut vcpu_placement = "static".to_string();
    let mut vcpu_cpuset = None;
    if let Some(v) = vcpu_el {
        vcpus = parse_u64_strict(&v.text)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= 16384)
            .ok_or_else(|| at(err::xml("maximum vcpus count must be an integer"), v))?;
        current_vcpus = vcpus;
        if let Some(c) = uint_attr(text, v, "current")? {
            current_vcpus = c;
        }
        if let Some(p) = enum_attr(text, v, "placement", &["static", "auto"])? {
            vcpu_placement = p.to_string();
        }
        if let Some(c) = v.attr("cpuset") {
            vcpu_cpuset = Some(canonical_bitmap(c).map_err(|e| at(e, v))?);
        }
    }
    let vcpu_list = root.child("vcpus").map(Node::raw);
    let iothreads = match root.child("iothreads") {
        Some(t) => Some(
            parse_u64_strict(&t.text)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| at(err::xml(format!("invalid iothreads count '{}'", t.text)), t))?,
        ),
        None => None,
    };
    let iothreadids = root
        .child("iothreadids")
        .map(|e| canonical("iothreadids", e));
    let mut cputune = root
        .child("cputune")
        .map(|e| canonical_with_bitmaps(text, "cputune", e))
        .transpose()?;
    // libvirt keeps pinnings in per-vCPU (per-thread) arrays, so it prints them in that order.
    if let Some(ct) = cputune.as_mut() {
        let id = |n: &Node| -> u64 {
            n.attr("vcpu")
                .or_else(|| n.attr("iothread"))
                .and_then(|i| i.parse().ok())
                .unwrap_or(0)
        };
        let mut pins: Vec<Node> = Vec::new();
        for name in ["vcpupin", "iothreadpin"] {
            let mut group: Vec<Node> = ct
                .children
                .iter()
                .filter(|c| c.name == name)
                .cloned()
                .collect();
            group.sort_by_key(|n| id(n));
            pins.extend(group);
        }
        let mut it = pins.into_iter();
        for c in ct.children.iter_mut() {
            if c.name == "vcpupin" || c.name == "iothreadpin" {
                if let Some(p) = it.next() {
                    *c = p;
                }
            }
        }
    }
    let mut numatune = root
        .child("numatune")
        .map(|e| canonical_with_bitmaps(text, "numatune", e))
        .transpose()?;
    if let Some(n) = numatune.as_mut() {
        fix_numatune(n, &vcpu_placement);
    }
    if numatune.is_none() && vcpu_placement == "auto" {
        let mut n = Node::new("numatune");
        n.children.push(Node::with_attrs(
            "memory",
            &[("mode", "strict"), ("placement", "auto")],
        ));
        numatune = Some(n);
    }
    let resource = root.child("resource").map(|e| canonical("resource", e));
    let sysinfo = root.children_named("sysinfo").map(Node::raw).collect();
    let bootloader = root
        .child("bootloader")
        .map(|e| e.text.clone())
        .filter(|t| !t.is_empty());
    let bootloader_args = root
        .child("bootloader_args")
        .map(|e| e.text.clone())
        .filter(|t| !t.is_empty());
    let idmap = root.child("idmap").map(Node::raw);
    let features = root
        .child("features")
        .map(|f| os::parse_features(text, f))
        .transpose()?;
    let cpu = root
        .child("cpu")
        .map(|c| os::parse_cpu(text, c))
        .transpose()?;
    let clock = os::parse_clock(text, root.child("clock"))?;

    let lifecycle = |tag: &str, default: &str| -> Result<String, XmlError> {
        let Some(el) = root.child(tag) else {
            return Ok(default.to_string());
        };
        let v = el.text.as_str();
        if !LIFECYCLE.contains(&v) {
            return Err(at(
                err::unsupported(format!("unknown {tag} action: {v}")),
                el,
            ));
        }
        if tag != "on_crash" && v.starts_with("coredump") {
            let event = tag.trim_start_matches("on_");
            return Err(at(
                err::unsupported(format!(
                    "Lifecycle event '{event}' doesn't support '{v}' action"
                )),
                el,
            ));
        }
        Ok(v.to_string())
    };
    let on_poweroff = lifecycle("on_poweroff", "destroy")?;
    let on_reboot = lifecycle("on_reboot", "restart")?;
    let on_crash = lifecycle("on_crash", "destroy")?;
    let on_lockfailure = match root.child("on_lockfailure") {
        Some(el) => {
            let v = el.text.as_str();
            if !["poweroff", "restart", "pause", "ignore"].contains(&v) {
                return Err(at(
                    err::unsupported(format!("unknown on_lockfailure action: {v}")),
                    el,
                ));
            }
            Some(v.to_string())
        }
        None => None,
    };
    let pm = root
        .child("pm")
        .map(|e| canonical("pm", e))
        .filter(|n| !n.children.is_empty());
    let perf = root.child("perf").map(|e| canonical("perf", e));

    let devices = devices::parse(text, root.child("devices"), &os, &virt_type, opts.live)?;

    let seclabels = root
        .children_named("seclabel")
        .map(|e| {
            let mut n = canonical("seclabel", e);
            if n.attr("type") == Some("dynamic") && n.attr("relabel").is_none() {
                n.set_attr("relabel", "yes");
                n.order_attrs(&["type", "model", "relabel"]);
            }
            n
        })
        .collect();
    let keywrap = root.child("keywrap").map(|e| canonical("keywrap", e));
    let launch_security = root.child("launchSecurity").map(Node::raw);

    let mut def = DomainDef {
        virt_type,
        name,
        uuid,
        genid,
        title,
        description,
        metadata,
        memory_kib,
        current_memory_kib,
        max_memory_kib,
        max_memory_slots,
        memory_dump_core,
        vcpus,
        current_vcpus,
        vcpu_placement,
        vcpu_cpuset,
        iothreads,
        blkiotune,
        memtune,
        memory_backing,
        vcpu_list,
        iothreadids,
        cputune,
        numatune,
        resource,
        sysinfo,
        bootloader,
        bootloader_args,
        os,
        idmap,
        features,
        cpu,
        clock,
        on_poweroff,
        on_reboot,
        on_crash,
        on_lockfailure,
        pm,
        perf,
        devices,
        seclabels,
        keywrap,
        launch_security,
    };
    post_parse(text, root, &mut def)?;
    Ok(def)
}

/// libvirt's post-parse callbacks and validation, in their order.
fn post_parse(text: &str, root: &Element, def: &mut DomainDef) -> Result<(), XmlError> {
    let at_root = |e: XmlError| e.at(text, root.offset);
    // NUMA cells, when present, define the boot memory.
    let numa_kib: u64 = def
        .cpu
        .as_ref()
        .and_then(|c| c.child("numa"))
        .map(|n| {
            n.children_named("cell")
                .filter_map(|c| c.attr("memory").and_then(|m| m.parse::<u64>().ok()))
                .sum()
        })
        .unwrap_or(0);
    if numa_kib > 0 {
        def.memory_kib = numa_kib;
    }
    if def.memory_kib == 0 {
        return Err(at_root(err::xml(
            "Memory size must be specified via <memory> or in the <numa> configuration",
        )));
    }
    if def.current_memory_kib == 0 || def.current_memory_kib > def.memory_kib {
        def.current_memory_kib = def.memory_kib;
    }
    if def.vcpus == 0 {
        return Err(at_root(err::internal(
            "CPU IDs in <numa> exceed the <vcpu> count",
        )));
    }
    if def.current_vcpus > def.vcpus {
        return Err(at_root(err::unsupported(
            "maximum vCPU count must not be less than current vCPU count",
        )));
    }
    devices::post_parse(text, root, def)?;
    if def.name.contains('/') {
        return Err(at_root(err::xml(format!(
            "name {} cannot contain '/'",
            def.name
        ))));
    }
    Ok(())
}

/// libvirt's rules for a domain name (virDomainDefParseXML and its validation).
pub fn validate_name_libvirt(name: &str) -> Result<(), XmlError> {
    if name.is_empty() {
        return Err(err::plain("missing name information"));
    }
    if name.contains('\n') {
        return Err(err::plain("invalid char in name: \n"));
    }
    if name.contains('/') {
        return Err(err::xml(format!("name {name} cannot contain '/'")));
    }
    Ok(())
}

/// virUUIDParse: 32 hex digits, dashes anywhere between them, blanks around.
pub fn parse_uuid(s: &str) -> Option<uuid::Uuid> {
    let s = s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    let mut bytes = [0u8; 16];
    let mut digits = 0usize;
    for c in s.chars() {
        if c == '-' {
            if digits == 0 || digits == 32 {
                return None;
            }
            continue;
        }
        let v = c.to_digit(16)? as u8;
        if digits >= 32 {
            return None;
        }
        bytes[digits / 2] |= if digits.is_multiple_of(2) { v << 4 } else { v };
        digits += 1;
    }
    (digits == 32).then(|| uuid::Uuid::from_bytes(bytes))
}

/// The namespace URI of a metadata child: its prefix's declaration, or its default namespace.
pub fn metadata_namespace(el: &Element) -> Option<String> {
    let decl = match el.name.split_once(':') {
        Some((prefix, _)) => format!("xmlns:{prefix}"),
        None => "xmlns".to_string(),
    };
    el.attr(&decl).map(str::to_string).filter(|u| !u.is_empty())
}

/// libvirt keeps only namespaced metadata, one element per namespace (the first).
fn sanitize_metadata(md: &Element) -> Vec<Element> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for c in &md.children {
        if let Some(ns) = metadata_namespace(c) {
            if !seen.contains(&ns) {
                seen.push(ns);
                out.push(c.clone());
            }
        }
    }
    out
}

fn parse_memtune(el: &Element) -> Result<Node, XmlError> {
    let mut n = Node::new("memtune");
    for tag in [
        "hard_limit",
        "soft_limit",
        "min_guarantee",
        "swap_hard_limit",
    ] {
        if let Some(c) = el.child(tag) {
            let xpath = format!("./memtune/{tag}[1]");
            if let Some(kib) = parse_memory_kib(Some(c), &xpath)? {
                // virMemoryLimitTruncate: a limit of "unlimited" or more is no limit; a
                // guarantee of zero is none (virDomainMemtuneFormat prints neither).
                let set = match tag {
                    "min_guarantee" => kib != 0,
                    _ => super::tune::limit_is_set(kib),
                };
                if !set {
                    continue;
                }
                let mut child = Node::with_attrs(tag, &[("unit", "KiB")]);
                child.text = Some(kib.to_string());
                n.children.push(child);
            }
        }
    }
    Ok(n)
}

/// Canonicalise a block whose `cpuset`/`nodeset` attributes libvirt re-prints as bitmaps.
fn canonical_with_bitmaps(text: &str, key: &str, el: &Element) -> Result<Node, XmlError> {
    let mut n = canonical(key, el);
    fix_bitmaps(text, el, &mut n)?;
    Ok(n)
}

fn fix_bitmaps(text: &str, el: &Element, n: &mut Node) -> Result<(), XmlError> {
    for (k, v) in n.attrs.iter_mut() {
        if k == "cpuset" || k == "nodeset" {
            *v = canonical_bitmap(v).map_err(|e| e.at(text, el.offset))?;
        }
    }
    for c in n.children.iter_mut() {
        fix_bitmaps(text, el, c)?;
    }
    Ok(())
}

/// virDomainNumatuneFormatXML prints the mode always and then either the nodeset or the
/// placement.
fn fix_numatune(n: &mut Node, vcpu_placement: &str) {
    if let Some(m) = n.child_mut("memory") {
        if m.attr("mode").is_none() {
            m.attrs.insert(0, ("mode".into(), "strict".into()));
        }
        if m.attr("nodeset").is_some() {
            m.remove_attr("placement");
        } else if m.attr("placement").is_none() {
            let p = if vcpu_placement == "auto" {
                "auto"
            } else {
                "static"
            };
            m.set_attr("placement", p);
        }
    }
}

pub fn format(def: &DomainDef, opts: &FormatOptions, w: &mut XmlWriter) {
    let id = opts.id.filter(|_| !opts.inactive).map(|i| i.to_string());
    let mut attrs = vec![("type", def.virt_type.as_str())];
    if let Some(id) = &id {
        attrs.push(("id", id.as_str()));
    }
    w.start("domain", &attrs);
    w.text("name", &[], &def.name);
    w.text("uuid", &[], &def.uuid.to_string());
    w.opt_text("genid", def.genid.as_deref());
    w.opt_text("title", def.title.as_deref());
    w.opt_text("description", def.description.as_deref());
    if let Some(md) = &def.metadata {
        if md.is_empty() {
            w.empty("metadata", &[]);
        } else {
            w.start("metadata", &[]);
            let mut dumped = String::new();
            for el in md {
                // The writer's depth is the metadata child's level.
                let mut s = String::new();
                dump_libxml2(el, 0, &mut s);
                dumped.push_str(&s);
                dumped.push('\n');
            }
            w.raw_lines(&dumped);
            w.end("metadata");
        }
    }
    if let (Some(max), Some(slots)) = (def.max_memory_kib, def.max_memory_slots) {
        w.text(
            "maxMemory",
            &[("slots", &slots.to_string()), ("unit", "KiB")],
            &max.to_string(),
        );
    }
    let mut mem_attrs = Vec::new();
    if let Some(d) = &def.memory_dump_core {
        mem_attrs.push(("dumpCore", d.as_str()));
    }
    mem_attrs.push(("unit", "KiB"));
    w.text("memory", &mem_attrs, &def.memory_kib.to_string());
    w.text(
        "currentMemory",
        &[("unit", "KiB")],
        &def.current_memory_kib.to_string(),
    );
    def.blkiotune.write(w);
    for n in [&def.memtune, &def.memory_backing].into_iter().flatten() {
        write_unless_empty(n, w);
    }
    let current = def.current_vcpus.to_string();
    let mut vattrs = vec![("placement", def.vcpu_placement.as_str())];
    if def.vcpu_placement == "static" {
        if let Some(c) = &def.vcpu_cpuset {
            vattrs.push(("cpuset", c.as_str()));
        }
    }
    if def.current_vcpus != def.vcpus {
        vattrs.push(("current", current.as_str()));
    }
    w.text("vcpu", &vattrs, &def.vcpus.to_string());
    if let Some(v) = &def.vcpu_list {
        v.write(w);
    }
    if let Some(t) = def.iothreads {
        w.text("iothreads", &[], &t.to_string());
    }
    for n in [&def.iothreadids, &def.cputune, &def.numatune, &def.resource]
        .into_iter()
        .flatten()
    {
        write_unless_empty(n, w);
    }
    for s in &def.sysinfo {
        s.write(w);
    }
    w.opt_text("bootloader", def.bootloader.as_deref());
    w.opt_text("bootloader_args", def.bootloader_args.as_deref());
    os::format_os(def, w);
    if let Some(i) = &def.idmap {
        i.write(w);
    }
    if let Some(f) = &def.features {
        write_unless_empty(f, w);
    }
    if let Some(c) = &def.cpu {
        c.write(w);
    }
    def.clock.write(w);
    w.text("on_poweroff", &[], &def.on_poweroff);
    w.text("on_reboot", &[], &def.on_reboot);
    w.text("on_crash", &[], &def.on_crash);
    w.opt_text("on_lockfailure", def.on_lockfailure.as_deref());
    for n in [&def.pm, &def.perf].into_iter().flatten() {
        write_unless_empty(n, w);
    }
    devices::format(def, opts, w);
    for s in &def.seclabels {
        s.write(w);
    }
    for n in [&def.keywrap, &def.launch_security].into_iter().flatten() {
        n.write(w);
    }
    w.end("domain");
}

/// libvirt prints a tuning block only when something in it is set.
fn write_unless_empty(n: &Node, w: &mut XmlWriter) {
    if !n.children.is_empty() || !n.attrs.is_empty() || n.open_close {
        n.write(w);
    }
}
