//! The documents about this host and its QEMU: `capabilities` (virConnectGetCapabilities),
//! `domcapabilities` (virConnectGetDomainCapabilities) and `sysinfo` (virConnectGetSysinfo),
//! in libvirt 9.0's layout (src/conf/capabilities.c, src/conf/domain_capabilities.c,
//! src/util/virsysinfo.c), from /proc, /sys and the probed [`QemuCaps`].
//!
//! Differences from libvirt: the host `<cpu>` has no `<model>` and no `<feature>` list (libvirt
//! decodes CPUID against its cpu_map, which virtsh does not carry); `host-model` is the model
//! [`QemuCaps::host_model`] picks, without libvirt's list of extra host features; the device enums list what virtsh's command line generator can produce with
//! this QEMU, not everything libvirt could.

use std::fs;
use std::path::Path;

use uuid::Uuid;
use virtsh_xml::capabilities::{
    Capabilities, CpuTopology, GuestArch, GuestCaps, GuestDomain, GuestFeature, HostCaps, HostCpu,
    Machine, MigrationCaps, NumaCell, NumaCpu, NumaCpuTopology, SecModel,
};
use virtsh_xml::writer::XmlWriter;

use crate::caps::{MachineType, QemuCaps};
use crate::cmdline::firmware::{load_descriptors, FIRMWARE_DIRS};

fn read_trim(p: impl AsRef<Path>) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

/// The host UUID as libvirt finds it: the SMBIOS system UUID, else /etc/machine-id (libvirt's
/// `host_uuid_source = "machine-id"`).
fn host_uuid() -> Option<Uuid> {
    for p in [
        "/sys/devices/virtual/dmi/id/product_uuid",
        "/sys/class/dmi/id/product_uuid",
    ] {
        if let Some(u) = read_trim(p).and_then(|s| Uuid::parse_str(&s).ok()) {
            if !u.is_nil() && u.as_bytes().iter().any(|b| *b != 0xff) {
                return Some(u);
            }
        }
    }
    read_trim("/etc/machine-id").and_then(|s| Uuid::parse_str(&s).ok())
}

fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn host_cpu() -> HostCpu {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let vendor = cpuinfo_field(&info, "vendor_id").map(|v| match v.as_str() {
        "GenuineIntel" => "Intel".to_string(),
        "AuthenticAMD" => "AMD".to_string(),
        "HygonGenuine" => "Hygon".to_string(),
        _ => v,
    });
    let num = |k: &str| cpuinfo_field(&info, k).and_then(|v| v.parse::<u32>().ok());
    let signature = match (num("cpu family"), num("model"), num("stepping")) {
        (Some(f), Some(m), Some(s)) if f > 0 => Some((f, m, s)),
        _ => None,
    };
    let microcode = cpuinfo_field(&info, "microcode")
        .and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .filter(|v| *v > 0);
    let topology = super::node_info().ok().map(|n| CpuTopology {
        sockets: n.sockets,
        dies: 1,
        cores: n.cores,
        threads: n.threads,
    });
    HostCpu {
        vendor,
        microcode,
        signature,
        topology,
        ..HostCpu::default()
    }
}

/// Huge page sizes (KiB) the kernel offers.
fn huge_page_sizes(dir: &Path) -> Vec<u32> {
    let mut sizes: Vec<u32> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.strip_prefix("hugepages-")?
                        .strip_suffix("kB")?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    sizes.sort_unstable();
    sizes
}

/// A kernel CPU list ("0-3,8") as numbers.
fn parse_cpulist(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

fn cpu_topology(cpu: u32) -> Option<NumaCpuTopology> {
    let dir = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
    let n = |f: &str| read_trim(format!("{dir}/{f}")).and_then(|v| v.parse::<i32>().ok());
    Some(NumaCpuTopology {
        socket_id: n("physical_package_id")?,
        die_id: n("die_id").unwrap_or(0),
        core_id: n("core_id")?,
        siblings: read_trim(format!("{dir}/thread_siblings_list"))?,
    })
}

fn numa_cells() -> Vec<NumaCell> {
    let page_kib = 4u32;
    let mut ids: Vec<u32> = fs::read_dir("/sys/devices/system/node")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_prefix("node")?
                        .parse::<u32>()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    if ids.is_empty() {
        // No NUMA in this kernel: libvirt shows one cell with the whole host.
        let info = super::node_info().ok();
        let cpus: Vec<u32> = (0..info.as_ref().map_or(1, |i| i.cpus)).collect();
        let memory = info.map_or(0, |i| i.memory_kib);
        return vec![NumaCell {
            id: 0,
            memory,
            pages: vec![(page_kib, memory / u64::from(page_kib))],
            distances: Vec::new(),
            cpus: cpus
                .into_iter()
                .map(|id| NumaCpu {
                    id,
                    topology: cpu_topology(id),
                })
                .collect(),
        }];
    }
    ids.iter()
        .map(|&id| {
            let dir = format!("/sys/devices/system/node/node{id}");
            let memory = fs::read_to_string(format!("{dir}/meminfo"))
                .ok()
                .and_then(|m| {
                    m.lines().find_map(|l| {
                        let rest = l.split_once("MemTotal:")?.1;
                        rest.split_whitespace().next()?.parse::<u64>().ok()
                    })
                })
                .unwrap_or(0);
            let mut huge = Vec::new();
            let mut huge_kib = 0u64;
            for size in huge_page_sizes(Path::new(&format!("{dir}/hugepages"))) {
                let nr = read_trim(format!("{dir}/hugepages/hugepages-{size}kB/nr_hugepages"))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                huge_kib += nr * u64::from(size);
                huge.push((size, nr));
            }
            let mut pages = vec![(
                page_kib,
                memory.saturating_sub(huge_kib) / u64::from(page_kib),
            )];
            pages.extend(huge);
            let distances = read_trim(format!("{dir}/distance"))
                .map(|d| {
                    d.split_whitespace()
                        .filter_map(|v| v.parse::<u32>().ok())
                        .zip(ids.iter().copied())
                        .map(|(v, sib)| (sib, v))
                        .collect()
                })
                .unwrap_or_default();
            let cpus = read_trim(format!("{dir}/cpulist"))
                .map(|l| parse_cpulist(&l))
                .unwrap_or_default()
                .into_iter()
                .map(|cpu| NumaCpu {
                    id: cpu,
                    topology: cpu_topology(cpu),
                })
                .collect();
            NumaCell {
                id,
                memory,
                pages,
                distances,
                cpus,
            }
        })
        .collect()
}

/// `/sys/power/state` as libvirt's virNodeSuspendGetTargetMask reads it.
fn power_management() -> Vec<String> {
    let state = read_trim("/sys/power/state").unwrap_or_default();
    let mem = state.split_whitespace().any(|s| s == "mem");
    let disk = state.split_whitespace().any(|s| s == "disk");
    let mut pm = Vec::new();
    if mem {
        pm.push("suspend_mem".to_string());
    }
    if disk {
        pm.push("suspend_disk".to_string());
    }
    if mem && disk {
        pm.push("suspend_hybrid".to_string());
    }
    pm
}

/// QEMU's machine types as libvirt lists them: the default first, `none` left out, and an
/// alias (`pc`) as its own entry naming its `canonical` type, right after that type.
fn machines_of(caps: &QemuCaps) -> Vec<Machine> {
    let mut ordered: Vec<&MachineType> =
        caps.machines.iter().filter(|m| m.name != "none").collect();
    if let Some(i) = ordered.iter().position(|m| m.is_default) {
        let d = ordered.remove(i);
        ordered.insert(0, d);
    }
    let mut out = Vec::new();
    for m in ordered {
        let max_cpus = Some(m.cpu_max).filter(|c| *c > 0);
        out.push(Machine {
            name: m.name.clone(),
            canonical: None,
            max_cpus,
            deprecated: m.deprecated,
        });
        if let Some(alias) = &m.alias {
            out.push(Machine {
                name: alias.clone(),
                canonical: Some(m.name.clone()),
                max_cpus,
                deprecated: m.deprecated,
            });
        }
    }
    out
}

fn feature(name: &str, default: Option<&str>, toggle: Option<&str>) -> GuestFeature {
    GuestFeature {
        name: name.to_string(),
        default: default.map(str::to_string),
        toggle: toggle.map(str::to_string),
    }
}

/// virConnectGetCapabilities for the guests `(arch, emulator, caps)`.
pub(super) fn capabilities(guests: &[(&str, &Path, &QemuCaps)]) -> String {
    let mut pages = vec![4u32];
    pages.extend(huge_page_sizes(Path::new("/sys/kernel/mm/hugepages")));
    let host = HostCaps {
        uuid: host_uuid(),
        arch: Some(std::env::consts::ARCH.to_string()),
        cpu: Some(host_cpu()),
        pages,
        power_management: power_management(),
        iommu: Path::new("/sys/kernel/iommu_groups")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        migration: Some(MigrationCaps {
            live: true,
            uri_transports: vec!["tcp".into(), "rdma".into()],
        }),
        numa_cells: Some(numa_cells()),
        secmodels: vec![SecModel {
            model: "none".into(),
            doi: "0".into(),
            baselabels: Vec::new(),
        }],
        ..HostCaps::default()
    };
    let kvm = super::kvm_usable();
    let mut out = Capabilities {
        host,
        ..Capabilities::default()
    };
    for (arch, emulator, caps) in guests {
        let mut domains = vec![GuestDomain {
            domain_type: "qemu".into(),
            ..GuestDomain::default()
        }];
        if kvm && caps.kvm_present {
            domains.push(GuestDomain {
                domain_type: "kvm".into(),
                ..GuestDomain::default()
            });
        }
        let mut features = Vec::new();
        if *arch == "i686" {
            features.push(feature("pae", None, None));
            features.push(feature("nonpae", None, None));
        }
        features.push(feature("acpi", Some("on"), Some("yes")));
        features.push(feature("apic", Some("on"), Some("no")));
        features.push(feature("cpuselection", None, None));
        features.push(feature("deviceboot", None, None));
        features.push(feature("disksnapshot", Some("on"), Some("no")));
        out.guests.push(GuestCaps {
            os_type: "hvm".into(),
            arch: GuestArch {
                name: arch.to_string(),
                wordsize: if *arch == "i686" { 32 } else { 64 },
                emulator: Some(emulator.to_string_lossy().into_owned()),
                loader: None,
                machines: machines_of(caps),
                domains,
            },
            features,
        });
    }
    out.to_xml()
}

/// QEMU's pseudo models (`base`, `host`, `max`) are CPU modes for libvirt, not models.
pub(crate) fn is_named_model(name: &str) -> bool {
    !matches!(name, "base" | "host" | "max")
}

/// The vendor libvirt's cpu_map gives a QEMU x86 model (by name family).
fn model_vendor(name: &str) -> &'static str {
    const INTEL: &[&str] = &[
        "Broadwell",
        "Cascadelake",
        "Conroe",
        "Cooperlake",
        "Denverton",
        "Haswell",
        "Icelake",
        "IvyBridge",
        "KnightsMill",
        "Nehalem",
        "Penryn",
        "SandyBridge",
        "SapphireRapids",
        "Skylake",
        "Snowridge",
        "Westmere",
        "core2duo",
        "coreduo",
        "n270",
        "GraniteRapids",
        "SierraForest",
    ];
    const AMD: &[&str] = &["EPYC", "Opteron", "athlon", "phenom"];
    if INTEL.iter().any(|p| name.starts_with(p)) {
        "Intel"
    } else if AMD.iter().any(|p| name.starts_with(p)) {
        "AMD"
    } else if name.starts_with("Dhyana") {
        "Hygon"
    } else {
        "unknown"
    }
}

fn enum_values(w: &mut XmlWriter, name: &str, values: &[&str]) {
    if values.is_empty() {
        w.empty("enum", &[("name", name)]);
        return;
    }
    w.start("enum", &[("name", name)]);
    for v in values {
        w.text("value", &[], v);
    }
    w.end("enum");
}

/// `<NAME supported='yes'>` with its enums, or `<NAME supported='no'/>`.
fn device(w: &mut XmlWriter, name: &str, enums: &[(&str, Vec<&str>)]) {
    if enums.is_empty() {
        w.empty(name, &[("supported", "no")]);
        return;
    }
    w.start(name, &[("supported", "yes")]);
    for (e, v) in enums {
        enum_values(w, e, v);
    }
    w.end(name);
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn glob_match(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((pre, rest)) => {
            s.starts_with(pre) && {
                let tail = &s[pre.len()..];
                (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_match(rest, &tail[i..]))
            }
        }
    }
}

/// virConnectGetDomainCapabilities for `arch`, machine `m`, `virttype` of `binary`.
pub(super) fn domain_capabilities(
    binary: &Path,
    caps: &QemuCaps,
    arch: &str,
    m: &MachineType,
    virttype: &str,
) -> String {
    let q35 = m.name.starts_with("pc-q35") || m.name == "q35";
    let has = |t: &str| caps.has_type(t);
    let mut w = XmlWriter::new();
    w.start("domainCapabilities", &[]);
    w.text("path", &[], &binary.to_string_lossy());
    w.text("domain", &[], virttype);
    w.text("machine", &[], &m.name);
    w.text("arch", &[], arch);
    w.empty("vcpu", &[("max", &m.cpu_max.max(1).to_string())]);
    w.empty("iothreads", &[("supported", yes_no(has("iothread")))]);

    // Firmware: the descriptors for this arch and machine (libvirt lists their executables).
    let descriptors = load_descriptors(FIRMWARE_DIRS);
    let fw_arch = if arch == "i686" { "i386" } else { arch };
    let mut loaders: Vec<String> = Vec::new();
    let mut secure = false;
    for d in &descriptors {
        let fits = d
            .targets
            .iter()
            .any(|(a, machines)| a == fw_arch && machines.iter().any(|p| glob_match(p, &m.name)));
        if !fits || !d.interfaces.iter().any(|i| i == "uefi") {
            continue;
        }
        if d.features.iter().any(|f| f == "secure-boot") {
            secure = true;
        }
        if !loaders.contains(&d.executable) {
            loaders.push(d.executable.clone());
        }
    }
    w.start("os", &[("supported", "yes")]);
    let mut fw = vec!["bios"];
    if !loaders.is_empty() {
        fw.push("efi");
    }
    enum_values(&mut w, "firmware", &fw);
    w.start("loader", &[("supported", "yes")]);
    for l in &loaders {
        w.text("value", &[], l);
    }
    enum_values(&mut w, "type", &["rom", "pflash"]);
    enum_values(&mut w, "readonly", &["yes", "no"]);
    enum_values(
        &mut w,
        "secure",
        if secure && q35 {
            &["yes", "no"]
        } else {
            &["no"]
        },
    );
    w.end("loader");
    w.end("os");

    // CPU modes.
    let kvm = virttype == "kvm";
    w.start("cpu", &[]);
    if kvm {
        w.start(
            "mode",
            &[("name", "host-passthrough"), ("supported", "yes")],
        );
        enum_values(&mut w, "hostPassthroughMigratable", &["on", "off"]);
        w.end("mode");
    } else {
        w.empty("mode", &[("name", "host-passthrough"), ("supported", "no")]);
    }
    w.start("mode", &[("name", "maximum"), ("supported", "yes")]);
    enum_values(&mut w, "maximumMigratable", &["on", "off"]);
    w.end("mode");
    match caps.host_model(if kvm { "kvm" } else { "tcg" }) {
        Some(m) => {
            w.start("mode", &[("name", "host-model"), ("supported", "yes")]);
            w.text("model", &[("fallback", "forbid")], &m.name);
            w.text("vendor", &[], model_vendor(&m.name));
            w.end("mode");
        }
        None => w.empty("mode", &[("name", "host-model"), ("supported", "no")]),
    }
    if caps.cpu_models.is_empty() {
        w.empty("mode", &[("name", "custom"), ("supported", "no")]);
    } else {
        w.start("mode", &[("name", "custom"), ("supported", "yes")]);
        // "unavailable-features" hold only for the accelerator that answered.
        let known = caps.cpu_models_for(if kvm { "kvm" } else { "tcg" });
        for c in caps.cpu_models.iter().filter(|c| is_named_model(&c.name)) {
            let usable = match known.and_then(|k| k.iter().find(|m| m.name == c.name)) {
                None => "unknown",
                Some(m) => yes_no(m.unavailable_features.is_empty()),
            };
            let vendor = model_vendor(&c.name);
            if c.deprecated {
                w.text(
                    "model",
                    &[
                        ("usable", usable),
                        ("deprecated", "yes"),
                        ("vendor", vendor),
                    ],
                    &c.name,
                );
            } else {
                w.text("model", &[("usable", usable), ("vendor", vendor)], &c.name);
            }
        }
        w.end("mode");
    }
    w.end("cpu");

    let mut backing = vec!["file", "anonymous"];
    if has("memory-backend-memfd") {
        backing.push("memfd");
    }
    w.start("memoryBacking", &[("supported", "yes")]);
    enum_values(&mut w, "sourceType", &backing);
    w.end("memoryBacking");

    w.start("devices", &[]);
    let mut buses = Vec::new();
    if !q35 {
        buses.push("ide");
    }
    buses.extend(["fdc", "scsi", "virtio", "usb", "sata"]);
    device(
        &mut w,
        "disk",
        &[
            ("diskDevice", vec!["disk", "cdrom", "floppy", "lun"]),
            ("bus", buses),
            (
                "model",
                vec!["virtio", "virtio-transitional", "virtio-non-transitional"],
            ),
        ],
    );
    let mut graphics = vec!["vnc"];
    if caps.has_command("query-spice") {
        graphics.push("spice");
    }
    device(&mut w, "graphics", &[("type", graphics)]);
    let video: Vec<&str> = [
        ("vga", "VGA"),
        ("cirrus", "cirrus-vga"),
        ("vmvga", "vmware-svga"),
        ("qxl", "qxl-vga"),
        ("virtio", "virtio-vga"),
        ("none", ""),
        ("bochs", "bochs-display"),
        ("ramfb", "ramfb"),
    ]
    .into_iter()
    .filter(|(_, t)| t.is_empty() || has(t))
    .map(|(m, _)| m)
    .collect();
    device(&mut w, "video", &[("modelType", video)]);
    // Not generated by virtsh's command line yet.
    device(&mut w, "hostdev", &[]);
    let mut rng_backends = vec!["random", "egd"];
    if has("rng-builtin") {
        rng_backends.push("builtin");
    }
    device(
        &mut w,
        "rng",
        &[
            (
                "model",
                vec!["virtio", "virtio-transitional", "virtio-non-transitional"],
            ),
            ("backendModel", rng_backends),
        ],
    );
    device(&mut w, "filesystem", &[]);
    device(&mut w, "tpm", &[]);
    device(&mut w, "redirdev", &[]);
    let mut channels = vec!["pty", "unix"];
    if caps.has_command("query-spice") {
        channels.push("spicevmc");
    }
    device(&mut w, "channel", &[("type", channels)]);
    w.end("devices");

    w.start("features", &[]);
    w.empty("gic", &[("supported", "no")]);
    w.empty("vmcoreinfo", &[("supported", yes_no(has("vmcoreinfo")))]);
    w.empty("genid", &[("supported", yes_no(has("vmgenid")))]);
    w.empty("backingStoreInput", &[("supported", "yes")]);
    w.empty("backup", &[("supported", "no")]);
    w.empty("s390-pv", &[("supported", "no")]);
    w.empty("sev", &[("supported", "no")]);
    w.empty("sgx", &[("supported", "no")]);
    w.end("features");
    w.end("domainCapabilities");
    w.finish()
}

/// virConnectGetSysinfo: the host's SMBIOS tables as libvirt shows them, from
/// /sys/class/dmi/id (libvirt runs dmidecode; the kernel exports the same strings).
pub(super) fn sysinfo() -> String {
    let dmi = |f: &str| read_trim(format!("/sys/class/dmi/id/{f}")).filter(|v| !v.is_empty());
    let sections: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "bios",
            vec![
                ("vendor", "bios_vendor"),
                ("version", "bios_version"),
                ("date", "bios_date"),
                ("release", "bios_release"),
            ],
        ),
        (
            "system",
            vec![
                ("manufacturer", "sys_vendor"),
                ("product", "product_name"),
                ("version", "product_version"),
                ("serial", "product_serial"),
                ("uuid", "product_uuid"),
                ("sku", "product_sku"),
                ("family", "product_family"),
            ],
        ),
        (
            "baseBoard",
            vec![
                ("manufacturer", "board_vendor"),
                ("product", "board_name"),
                ("version", "board_version"),
                ("serial", "board_serial"),
                ("asset", "board_asset_tag"),
            ],
        ),
        (
            "chassis",
            vec![
                ("manufacturer", "chassis_vendor"),
                ("version", "chassis_version"),
                ("serial", "chassis_serial"),
                ("asset", "chassis_asset_tag"),
            ],
        ),
    ];
    let mut w = XmlWriter::with_depth(1);
    for (section, fields) in sections {
        let entries: Vec<(&str, String)> = fields
            .iter()
            .filter_map(|(name, file)| dmi(file).map(|v| (*name, v)))
            .collect();
        if entries.is_empty() {
            continue;
        }
        w.start(section, &[]);
        for (name, v) in &entries {
            w.text("entry", &[("name", name)], v);
        }
        w.end(section);
    }
    let body = w.finish();
    if body.is_empty() {
        "<sysinfo type='smbios'/>\n".to_string()
    } else {
        format!("<sysinfo type='smbios'>\n{body}</sysinfo>\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpulists() {
        assert_eq!(parse_cpulist("0-2,5\n"), vec![0, 1, 2, 5]);
        assert_eq!(parse_cpulist(""), Vec::<u32>::new());
    }

    #[test]
    fn globs() {
        assert!(glob_match("pc-q35-*", "pc-q35-7.2"));
        assert!(!glob_match("pc-q35-*", "pc-i440fx-7.2"));
        assert!(glob_match("*", "q35"));
    }

    #[test]
    fn vendors() {
        assert_eq!(model_vendor("Skylake-Client-IBRS"), "Intel");
        assert_eq!(model_vendor("EPYC-v2"), "AMD");
        assert_eq!(model_vendor("qemu64"), "unknown");
    }
}
