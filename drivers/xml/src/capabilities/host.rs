//! The `<host>` section of the capabilities: the host CPU, power management, IOMMU, migration,
//! NUMA cells, cache and memory-bandwidth allocation, security models.

use super::{num, opt_num, own, text_num};
use crate::dom::Element;
use crate::error::XmlError;
use crate::network::{attrs, parse_uuid, string_value, Src};
use crate::writer::XmlWriter;
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostCaps {
    pub uuid: Option<Uuid>,
    pub arch: Option<String>,
    /// Host CPU flags libvirt lists as empty elements (`<pae/>`, `<vmx/>`, ...).
    pub features: Vec<String>,
    pub cpu: Option<HostCpu>,
    /// Supported page sizes in KiB.
    pub pages: Vec<u32>,
    /// "suspend_mem", "suspend_disk", "suspend_hybrid".
    pub power_management: Vec<String>,
    pub iommu: bool,
    pub migration: Option<MigrationCaps>,
    pub netprefix: Option<String>,
    pub numa_cells: Option<Vec<NumaCell>>,
    pub cache: Option<CacheCaps>,
    pub memory_bandwidth: Option<MemoryBandwidthCaps>,
    pub secmodels: Vec<SecModel>,
}

/// The host CPU as virCPUDefFormatBuf shows it in capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostCpu {
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub microcode: Option<u32>,
    /// (family, model, stepping)
    pub signature: Option<(u32, u32, u32)>,
    /// TSC: (name, frequency in Hz, scaling "yes"/"no" when known)
    pub counter: Option<(String, u64, Option<String>)>,
    pub topology: Option<CpuTopology>,
    /// (mode, bits)
    pub maxphysaddr: Option<(String, Option<u32>)>,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTopology {
    pub sockets: u32,
    pub dies: u32,
    pub cores: u32,
    pub threads: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationCaps {
    pub live: bool,
    pub uri_transports: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumaCell {
    pub id: u32,
    /// KiB; 0 is not shown.
    pub memory: u64,
    /// (page size KiB, pages available)
    pub pages: Vec<(u32, u64)>,
    /// (cell id, distance)
    pub distances: Vec<(u32, u32)>,
    pub cpus: Vec<NumaCpu>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumaCpu {
    pub id: u32,
    /// socket, die and core ids and the siblings list; libvirt shows all or none of them.
    pub topology: Option<NumaCpuTopology>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumaCpuTopology {
    pub socket_id: i32,
    pub die_id: i32,
    pub core_id: i32,
    /// A CPU list as libvirt formats bitmaps ("0,4" or "0-3").
    pub siblings: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheCaps {
    pub banks: Vec<CacheBank>,
    pub monitor: Option<ResctrlMonitor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheBank {
    pub id: u32,
    pub level: u32,
    /// "both", "code" or "data".
    pub cache_type: String,
    /// Size in `unit` as libvirt prints it (a "pretty" unit: KiB, MiB...).
    pub size: u64,
    pub unit: String,
    pub cpus: String,
    pub controls: Vec<CacheControl>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub granularity: u64,
    pub min: Option<u64>,
    pub unit: String,
    pub control_type: String,
    pub max_allocs: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResctrlMonitor {
    /// (level, reuseThreshold) for cache monitors.
    pub cache: Option<(u32, u32)>,
    pub max_monitors: u32,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryBandwidthCaps {
    pub nodes: Vec<MemoryBandwidthNode>,
    pub monitor: Option<ResctrlMonitor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryBandwidthNode {
    pub id: u32,
    pub cpus: String,
    pub granularity: u32,
    pub min: u32,
    pub max_allocs: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecModel {
    pub model: String,
    pub doi: String,
    /// (virt type, label)
    pub baselabels: Vec<(String, String)>,
}

const PM_TARGETS: [&str; 3] = ["suspend_mem", "suspend_disk", "suspend_hybrid"];

pub(super) fn parse_host(src: Src, h: &Element) -> Result<HostCaps, XmlError> {
    let mut host = HostCaps::default();
    if let Some(u) = h.child("uuid") {
        let s = string_value(u);
        host.uuid = Some(parse_uuid(&s).ok_or_else(|| src.xml(u, "malformed uuid element"))?);
    }
    if let Some(c) = h.child("cpu") {
        host.arch = c.child("arch").map(string_value);
        if let Some(f) = c.child("features") {
            host.features = f.children.iter().map(|e| e.name.clone()).collect();
        }
        let mut cpu = HostCpu {
            model: c.child("model").map(string_value),
            vendor: c.child("vendor").map(string_value),
            ..Default::default()
        };
        if let Some(m) = c.child("microcode") {
            cpu.microcode = Some(num(src, m, "version")?);
        }
        if let Some(s) = c.child("signature") {
            cpu.signature = Some((
                num(src, s, "family")?,
                num(src, s, "model")?,
                num(src, s, "stepping")?,
            ));
        }
        if let Some(k) = c.child("counter") {
            cpu.counter = Some((
                own(k, "name").unwrap_or_default(),
                num(src, k, "frequency")?,
                own(k, "scaling"),
            ));
        }
        if let Some(t) = c.child("topology") {
            cpu.topology = Some(CpuTopology {
                sockets: num(src, t, "sockets")?,
                dies: opt_num(src, t, "dies")?.unwrap_or(1),
                cores: num(src, t, "cores")?,
                threads: num(src, t, "threads")?,
            });
        }
        if let Some(m) = c.child("maxphysaddr") {
            cpu.maxphysaddr = Some((own(m, "mode").unwrap_or_default(), opt_num(src, m, "bits")?));
        }
        cpu.features = c
            .children_named("feature")
            .filter_map(|f| own(f, "name"))
            .collect();
        if cpu != HostCpu::default() {
            host.cpu = Some(cpu);
        }
        for p in c.children_named("pages") {
            host.pages.push(num(src, p, "size")?);
        }
    }
    if let Some(pm) = h.child("power_management") {
        for c in &pm.children {
            if !PM_TARGETS.contains(&c.name.as_str()) {
                return Err(src.xml(c, format!("unknown power management target {}", c.name)));
            }
            host.power_management.push(c.name.clone());
        }
    }
    host.iommu = h
        .child("iommu")
        .and_then(|i| i.attr("support"))
        .is_some_and(|s| s == "yes");
    if let Some(m) = h.child("migration_features") {
        host.migration = Some(MigrationCaps {
            live: m.child("live").is_some(),
            uri_transports: m
                .at_path("uri_transports")
                .map(|u| {
                    u.children_named("uri_transport")
                        .map(string_value)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    host.netprefix = h.child("netprefix").map(string_value);
    if let Some(cells) = h.at_path("topology/cells") {
        let mut list = Vec::new();
        for cell in cells.children_named("cell") {
            let mut nc = NumaCell {
                id: num(src, cell, "id")?,
                ..Default::default()
            };
            if let Some(m) = cell.child("memory") {
                nc.memory = text_num(src, m)?;
            }
            for p in cell.children_named("pages") {
                nc.pages.push((num(src, p, "size")?, text_num(src, p)?));
            }
            if let Some(d) = cell.child("distances") {
                for s in d.children_named("sibling") {
                    nc.distances
                        .push((num(src, s, "id")?, num(src, s, "value")?));
                }
            }
            if let Some(cpus) = cell.child("cpus") {
                for c in cpus.children_named("cpu") {
                    let topology = match c.attr("siblings") {
                        Some(sib) => Some(NumaCpuTopology {
                            socket_id: num(src, c, "socket_id")?,
                            die_id: opt_num(src, c, "die_id")?.unwrap_or(0),
                            core_id: num(src, c, "core_id")?,
                            siblings: sib.to_string(),
                        }),
                        None => None,
                    };
                    nc.cpus.push(NumaCpu {
                        id: num(src, c, "id")?,
                        topology,
                    });
                }
            }
            list.push(nc);
        }
        host.numa_cells = Some(list);
    }
    if let Some(c) = h.child("cache") {
        let mut cache = CacheCaps::default();
        for b in c.children_named("bank") {
            let mut bank = CacheBank {
                id: num(src, b, "id")?,
                level: num(src, b, "level")?,
                cache_type: own(b, "type").unwrap_or_default(),
                size: num(src, b, "size")?,
                unit: own(b, "unit").unwrap_or_default(),
                cpus: own(b, "cpus").unwrap_or_default(),
                controls: Vec::new(),
            };
            for ctl in b.children_named("control") {
                bank.controls.push(CacheControl {
                    granularity: num(src, ctl, "granularity")?,
                    min: opt_num(src, ctl, "min")?,
                    unit: own(ctl, "unit").unwrap_or_default(),
                    control_type: own(ctl, "type").unwrap_or_default(),
                    max_allocs: num(src, ctl, "maxAllocs")?,
                });
            }
            cache.banks.push(bank);
        }
        if let Some(m) = c.child("monitor") {
            cache.monitor = Some(parse_monitor(src, m)?);
        }
        host.cache = Some(cache);
    }
    if let Some(mb) = h.child("memory_bandwidth") {
        let mut caps = MemoryBandwidthCaps::default();
        for n in mb.children_named("node") {
            let ctl = n.child("control").unwrap_or(n);
            caps.nodes.push(MemoryBandwidthNode {
                id: num(src, n, "id")?,
                cpus: own(n, "cpus").unwrap_or_default(),
                granularity: num(src, ctl, "granularity")?,
                min: num(src, ctl, "min")?,
                max_allocs: num(src, ctl, "maxAllocs")?,
            });
        }
        if let Some(m) = mb.child("monitor") {
            caps.monitor = Some(parse_monitor(src, m)?);
        }
        host.memory_bandwidth = Some(caps);
    }
    for s in h.children_named("secmodel") {
        host.secmodels.push(SecModel {
            model: s.child("model").map(string_value).unwrap_or_default(),
            doi: s.child("doi").map(string_value).unwrap_or_default(),
            baselabels: s
                .children_named("baselabel")
                .map(|b| (own(b, "type").unwrap_or_default(), string_value(b)))
                .collect(),
        });
    }
    Ok(host)
}

fn parse_monitor(src: Src, m: &Element) -> Result<ResctrlMonitor, XmlError> {
    let cache = match (
        opt_num(src, m, "level")?,
        opt_num(src, m, "reuseThreshold")?,
    ) {
        (Some(l), Some(r)) => Some((l, r)),
        _ => None,
    };
    Ok(ResctrlMonitor {
        cache,
        max_monitors: num(src, m, "maxMonitors")?,
        features: m
            .children_named("feature")
            .filter_map(|f| own(f, "name"))
            .collect(),
    })
}

fn format_monitor(w: &mut XmlWriter, m: &ResctrlMonitor) {
    if m.features.is_empty() {
        return;
    }
    let mut a: Vec<(&str, String)> = Vec::new();
    if let Some((level, reuse)) = m.cache {
        a.push(("level", level.to_string()));
        a.push(("reuseThreshold", reuse.to_string()));
    }
    a.push(("maxMonitors", m.max_monitors.to_string()));
    w.start("monitor", &attrs(&a));
    for f in &m.features {
        w.empty("feature", &[("name", f)]);
    }
    w.end("monitor");
}

pub(super) fn format_host(w: &mut XmlWriter, h: &HostCaps) {
    w.start("host", &[]);
    if let Some(u) = h.uuid {
        w.text("uuid", &[], &u.to_string());
    }
    w.start("cpu", &[]);
    if let Some(a) = &h.arch {
        w.text("arch", &[], a);
    }
    if !h.features.is_empty() {
        w.start("features", &[]);
        for f in &h.features {
            w.empty(f, &[]);
        }
        w.end("features");
    }
    if let Some(c) = &h.cpu {
        if let Some(m) = &c.model {
            w.text("model", &[], m);
        }
        if let Some(v) = &c.vendor {
            w.text("vendor", &[], v);
        }
        if let Some(m) = c.microcode {
            w.empty("microcode", &[("version", &m.to_string())]);
        }
        if let Some((f, m, s)) = c.signature {
            w.empty(
                "signature",
                &[
                    ("family", &f.to_string()),
                    ("model", &m.to_string()),
                    ("stepping", &s.to_string()),
                ],
            );
        }
        if let Some((name, freq, scaling)) = &c.counter {
            let mut a: Vec<(&str, String)> =
                vec![("name", name.clone()), ("frequency", freq.to_string())];
            if let Some(s) = scaling {
                a.push(("scaling", s.clone()));
            }
            w.empty("counter", &attrs(&a));
        }
        if let Some(t) = c.topology {
            w.empty(
                "topology",
                &[
                    ("sockets", &t.sockets.to_string()),
                    ("dies", &t.dies.to_string()),
                    ("cores", &t.cores.to_string()),
                    ("threads", &t.threads.to_string()),
                ],
            );
        }
        if let Some((mode, bits)) = &c.maxphysaddr {
            match bits {
                Some(b) => w.empty("maxphysaddr", &[("mode", mode), ("bits", &b.to_string())]),
                None => w.empty("maxphysaddr", &[("mode", mode)]),
            }
        }
        for f in &c.features {
            w.empty("feature", &[("name", f)]);
        }
    }
    for p in &h.pages {
        w.empty("pages", &[("unit", "KiB"), ("size", &p.to_string())]);
    }
    w.end("cpu");
    if h.power_management.is_empty() {
        w.empty("power_management", &[]);
    } else {
        w.start("power_management", &[]);
        // libvirt walks its bitmask, so the order is its enum order.
        for t in PM_TARGETS {
            if h.power_management.iter().any(|p| p == t) {
                w.empty(t, &[]);
            }
        }
        w.end("power_management");
    }
    w.empty("iommu", &[("support", if h.iommu { "yes" } else { "no" })]);
    if let Some(m) = &h.migration {
        w.start("migration_features", &[]);
        if m.live {
            w.empty("live", &[]);
        }
        if !m.uri_transports.is_empty() {
            w.start("uri_transports", &[]);
            for t in &m.uri_transports {
                w.text("uri_transport", &[], t);
            }
            w.end("uri_transports");
        }
        w.end("migration_features");
    }
    if let Some(n) = &h.netprefix {
        w.text("netprefix", &[], n);
    }
    if let Some(cells) = &h.numa_cells {
        w.start("topology", &[]);
        w.start("cells", &[("num", &cells.len().to_string())]);
        for c in cells {
            w.start("cell", &[("id", &c.id.to_string())]);
            if c.memory != 0 {
                w.text("memory", &[("unit", "KiB")], &c.memory.to_string());
            }
            for (size, avail) in &c.pages {
                w.text(
                    "pages",
                    &[("unit", "KiB"), ("size", &size.to_string())],
                    &avail.to_string(),
                );
            }
            if !c.distances.is_empty() {
                w.start("distances", &[]);
                for (id, v) in &c.distances {
                    w.empty(
                        "sibling",
                        &[("id", &id.to_string()), ("value", &v.to_string())],
                    );
                }
                w.end("distances");
            }
            let n = c.cpus.len().to_string();
            if c.cpus.is_empty() {
                w.empty("cpus", &[("num", &n)]);
            } else {
                w.start("cpus", &[("num", &n)]);
                for cpu in &c.cpus {
                    let mut a: Vec<(&str, String)> = vec![("id", cpu.id.to_string())];
                    if let Some(t) = &cpu.topology {
                        a.push(("socket_id", t.socket_id.to_string()));
                        a.push(("die_id", t.die_id.to_string()));
                        a.push(("core_id", t.core_id.to_string()));
                        a.push(("siblings", t.siblings.clone()));
                    }
                    w.empty("cpu", &attrs(&a));
                }
                w.end("cpus");
            }
            w.end("cell");
        }
        w.end("cells");
        w.end("topology");
    }
    if let Some(c) = &h.cache {
        let has_monitor = c.monitor.as_ref().is_some_and(|m| !m.features.is_empty());
        if !c.banks.is_empty() || c.monitor.is_some() {
            w.start("cache", &[]);
            for b in &c.banks {
                let a: Vec<(&str, String)> = vec![
                    ("id", b.id.to_string()),
                    ("level", b.level.to_string()),
                    ("type", b.cache_type.clone()),
                    ("size", b.size.to_string()),
                    ("unit", b.unit.clone()),
                    ("cpus", b.cpus.clone()),
                ];
                if b.controls.is_empty() {
                    w.empty("bank", &attrs(&a));
                } else {
                    w.start("bank", &attrs(&a));
                    for ctl in &b.controls {
                        let mut ca: Vec<(&str, String)> =
                            vec![("granularity", ctl.granularity.to_string())];
                        if let Some(m) = ctl.min {
                            ca.push(("min", m.to_string()));
                        }
                        ca.push(("unit", ctl.unit.clone()));
                        ca.push(("type", ctl.control_type.clone()));
                        ca.push(("maxAllocs", ctl.max_allocs.to_string()));
                        w.empty("control", &attrs(&ca));
                    }
                    w.end("bank");
                }
            }
            if has_monitor {
                if let Some(m) = &c.monitor {
                    format_monitor(w, m);
                }
            }
            w.end("cache");
        }
    }
    if let Some(mb) = &h.memory_bandwidth {
        if !mb.nodes.is_empty() || mb.monitor.is_some() {
            w.start("memory_bandwidth", &[]);
            for n in &mb.nodes {
                w.start("node", &[("id", &n.id.to_string()), ("cpus", &n.cpus)]);
                w.empty(
                    "control",
                    &[
                        ("granularity", &n.granularity.to_string()),
                        ("min", &n.min.to_string()),
                        ("maxAllocs", &n.max_allocs.to_string()),
                    ],
                );
                w.end("node");
            }
            if let Some(m) = &mb.monitor {
                format_monitor(w, m);
            }
            w.end("memory_bandwidth");
        }
    }
    for s in &h.secmodels {
        w.start("secmodel", &[]);
        w.text("model", &[], &s.model);
        w.text("doi", &[], &s.doi);
        for (t, l) in &s.baselabels {
            w.text("baselabel", &[("type", t)], l);
        }
        w.end("secmodel");
    }
    w.end("host");
}
