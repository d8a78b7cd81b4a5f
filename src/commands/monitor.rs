//! Domain monitoring: list, dominfo, domstate, domid/domname/domuuid, domblklist, domiflist,
//! domblkinfo, dommemstat, domstats (tools/virsh-domain-monitor.c).

use crate::commands::options::exclusive;
use crate::lookup::{self, BY_ANY, BY_UUID_NAME};
use crate::output::{pretty_capacity, Table};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use serde::Serialize;
use virtsh_api::{flags::list_domains as L, Domain, DomainState, TypedValue};
use virtsh_xml::dom::Element;

/// virshDomainStateReasonToString
pub fn reason_str(state: i32, reason: i32) -> &'static str {
    const RUNNING: &[&str] = &[
        "unknown",
        "booted",
        "migrated",
        "restored",
        "from snapshot",
        "unpaused",
        "migration canceled",
        "save canceled",
        "event wakeup",
        "crashed",
        "post-copy",
        "post-copy failed",
    ];
    const PAUSED: &[&str] = &[
        "unknown",
        "user",
        "migrating",
        "saving",
        "dumping",
        "I/O error",
        "watchdog",
        "from snapshot",
        "shutting down",
        "creating snapshot",
        "crashed",
        "starting up",
        "post-copy",
        "post-copy failed",
        "api error",
    ];
    const SHUTDOWN: &[&str] = &["unknown", "user"];
    const SHUTOFF: &[&str] = &[
        "unknown",
        "shutdown",
        "destroyed",
        "crashed",
        "migrated",
        "saved",
        "failed",
        "from snapshot",
        "daemon",
    ];
    const CRASHED: &[&str] = &["unknown", "panicked"];
    let table: &[&str] = match state {
        1 => RUNNING,
        3 => PAUSED,
        4 => SHUTDOWN,
        5 => SHUTOFF,
        6 => CRASHED,
        _ => &["unknown"],
    };
    usize::try_from(reason)
        .ok()
        .and_then(|r| table.get(r))
        .copied()
        .unwrap_or("unknown")
}

#[derive(Serialize)]
struct ListEntry {
    id: Option<i32>,
    name: String,
    uuid: String,
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

/// virshDomainSorter: running domains by id, then the others by name, case-insensitively.
fn sort_domains(doms: &mut [Domain]) {
    doms.sort_by(|a, b| match (a.is_running(), b.is_running()) {
        (true, true) => a.id.cmp(&b.id),
        (false, false) => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
    });
}

pub fn cmd_list(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut f = L::ACTIVE;
    if cmd.has("inactive") || cmd.has("state-shutoff") {
        f = L::INACTIVE;
    }
    if cmd.has("all") {
        f = L::INACTIVE | L::ACTIVE;
    }
    f |= cmd.flags(&[
        ("persistent", L::PERSISTENT),
        ("transient", L::TRANSIENT),
        ("with-managed-save", L::MANAGEDSAVE),
        ("without-managed-save", L::NO_MANAGEDSAVE),
        ("autostart", L::AUTOSTART),
        ("no-autostart", L::NO_AUTOSTART),
        ("with-snapshot", L::HAS_SNAPSHOT),
        ("without-snapshot", L::NO_SNAPSHOT),
        ("with-checkpoint", L::HAS_CHECKPOINT),
        ("without-checkpoint", L::NO_CHECKPOINT),
        ("state-running", L::RUNNING),
        ("state-paused", L::PAUSED),
        ("state-shutoff", L::SHUTOFF),
        ("state-other", L::OTHER),
    ]);
    exclusive(cmd, "table", "name")?;
    exclusive(cmd, "table", "uuid")?;
    exclusive(cmd, "table", "id")?;
    let (opt_uuid, opt_name, opt_id) = (cmd.has("uuid"), cmd.has("name"), cmd.has("id"));
    let table_mode = !opt_uuid && !opt_name && !opt_id;
    let managed = cmd.has("managed-save");
    let with_title = cmd.has("title");

    let conn = sh.conn()?;
    let mut doms = conn
        .list_all_domains(f)
        .map_err(|e| CmdError::with("Failed to list domains", e))?;
    sort_domains(&mut doms);

    let mut entries = Vec::new();
    for d in &doms {
        let Ok((state, _)) = conn.domain_state(d) else {
            continue; // removed in the meantime
        };
        let state_text = if managed
            && state == DomainState::Shutoff as i32
            && conn.domain_has_managed_save(d).unwrap_or(false)
        {
            "saved"
        } else {
            DomainState::from_code(state).as_virsh_str()
        };
        let title = if with_title && (table_mode || sh.json()) {
            Some(domain_description(sh, d, true, false)?)
        } else {
            None
        };
        entries.push(ListEntry {
            id: d.is_running().then_some(d.id),
            name: d.name.clone(),
            uuid: d.uuid.to_string(),
            state: state_text.to_string(),
            title,
        });
    }
    if sh.json() {
        return sh.print_json(&entries);
    }
    if table_mode {
        let mut t = if with_title {
            Table::new(&["Id", "Name", "State", "Title"])
        } else {
            Table::new(&["Id", "Name", "State"])
        };
        for e in entries {
            let mut row = vec![
                e.id.map_or("-".to_string(), |i| i.to_string()),
                e.name,
                e.state,
            ];
            row.extend(e.title);
            t.add_row(row);
        }
        let text = t.render(!sh.quiet);
        sh.print(&text);
        return Ok(());
    }
    let mut out = String::new();
    for e in entries {
        let id = e.id.map_or("-".to_string(), |i| i.to_string());
        let mut parts = Vec::new();
        if opt_uuid {
            parts.push(e.uuid);
        }
        if opt_id {
            if e.id.is_none() && !opt_uuid && !opt_name {
                continue;
            }
            parts.push(id);
        }
        if opt_name {
            parts.push(e.name);
        }
        out.push_str(&parts.join(" "));
        out.push('\n');
    }
    sh.print(&out);
    Ok(())
}

/// virshGetDomainDescription: the title or description, "" when there is none.
/// virshGetDomainDescription: the title or description; `config` reads the persistent
/// definition (virsh asks for the inactive XML then).
pub fn domain_description(
    sh: &Shell,
    dom: &Domain,
    title: bool,
    config: bool,
) -> Result<String, CmdError> {
    let kind = if title {
        virtsh_api::flags::metadata::TITLE
    } else {
        virtsh_api::flags::metadata::DESCRIPTION
    };
    let f = if config {
        virtsh_api::impact::CONFIG
    } else {
        0
    };
    match sh.conn()?.domain_metadata(dom, kind, None, f) {
        Ok(s) => Ok(s),
        Err(e) if e.kind == virtsh_api::ErrorKind::NoDomainMetadata => Ok(String::new()),
        Err(e) if e.kind == virtsh_api::ErrorKind::NoSupport => {
            let xf = if config {
                virtsh_api::flags::domain_xml::INACTIVE
            } else {
                0
            };
            let xml = sh.conn()?.domain_xml(dom, xf)?;
            let root = virtsh_xml::dom::parse(&xml).map_err(|e| CmdError::msg(e.message))?;
            let tag = if title { "title" } else { "description" };
            Ok(root.child(tag).map(|e| e.text.clone()).unwrap_or_default())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct DomInfo {
    id: Option<i32>,
    name: String,
    uuid: String,
    os_type: Option<String>,
    state: String,
    cpus: u32,
    cpu_time_ns: u64,
    max_memory_kib: u64,
    used_memory_kib: u64,
    persistent: Option<bool>,
    autostart: Option<bool>,
    managed_save: Option<bool>,
    security_model: Option<String>,
    security_doi: Option<String>,
    security_label: Option<String>,
}

pub fn cmd_dominfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let conn = sh.conn()?;
    let info = conn.domain_info(&dom);
    let os_type = conn.domain_os_type(&dom).ok();
    let persistent = conn.domain_is_persistent(&dom).ok();
    let autostart = conn.domain_autostart(&dom).ok();
    let managed = conn.domain_has_managed_save(&dom).ok();
    let secmodel = match conn.security_model() {
        Ok(m) => Some(m),
        Err(e) if e.kind == virtsh_api::ErrorKind::NoSupport => None,
        Err(e) => return Err(e.into()),
    };
    let label = match &secmodel {
        Some(m) if !m.model.is_empty() => Some(conn.domain_security_label(&dom)?),
        _ => None,
    };
    // virsh lists them when the driver has any, and ignores a driver without the call.
    let messages = conn.domain_messages(&dom, 0).unwrap_or_default();
    if sh.json() {
        let info = info
            .as_ref()
            .map_err(|e| CmdError::msg(e.message.clone()))?;
        let j = DomInfo {
            id: dom.is_running().then_some(dom.id),
            name: dom.name.clone(),
            uuid: dom.uuid.to_string(),
            os_type,
            state: info.state.as_virsh_str().to_string(),
            cpus: info.nr_virt_cpu,
            cpu_time_ns: info.cpu_time,
            max_memory_kib: info.max_mem_kib,
            used_memory_kib: info.memory_kib,
            persistent,
            autostart,
            managed_save: managed,
            security_model: secmodel.as_ref().map(|m| m.model.clone()),
            security_doi: secmodel.as_ref().map(|m| m.doi.clone()),
            security_label: label.as_ref().filter(|l| !l.label.is_empty()).map(|l| {
                format!(
                    "{} ({})",
                    l.label,
                    if l.enforcing {
                        "enforcing"
                    } else {
                        "permissive"
                    }
                )
            }),
        };
        return sh.print_json(&j);
    }
    let mut o = String::new();
    let mut line = |k: &str, v: &str| o.push_str(&format!("{k:<15} {v}\n"));
    line(
        "Id:",
        &if dom.is_running() {
            dom.id.to_string()
        } else {
            "-".into()
        },
    );
    line("Name:", &dom.name);
    line("UUID:", &dom.uuid.to_string());
    if let Some(t) = &os_type {
        line("OS Type:", t);
    }
    let mut failed = None;
    match &info {
        Ok(i) => {
            line("State:", i.state.as_virsh_str());
            line("CPU(s):", &i.nr_virt_cpu.to_string());
            if i.cpu_time != 0 {
                line("CPU time:", &format!("{:.1}s", i.cpu_time as f64 / 1e9));
            }
            if i.max_mem_kib != u64::from(u32::MAX) {
                line("Max memory:", &format!("{} KiB", i.max_mem_kib));
            } else {
                line("Max memory:", "no limit");
            }
            line("Used memory:", &format!("{} KiB", i.memory_kib));
        }
        Err(e) => failed = Some(e.clone()),
    }
    line(
        "Persistent:",
        match persistent {
            None => "unknown",
            Some(true) => "yes",
            Some(false) => "no",
        },
    );
    if let Some(a) = autostart {
        line("Autostart:", if a { "enable" } else { "disable" });
    }
    line(
        "Managed save:",
        match managed {
            None => "unknown",
            Some(true) => "yes",
            Some(false) => "no",
        },
    );
    if let Some(m) = secmodel.filter(|m| !m.model.is_empty()) {
        line("Security model:", &m.model);
        line("Security DOI:", &m.doi);
        if let Some(l) = label.filter(|l| !l.label.is_empty()) {
            line(
                "Security label:",
                &format!(
                    "{} ({})",
                    l.label,
                    if l.enforcing {
                        "enforcing"
                    } else {
                        "permissive"
                    }
                ),
            );
        }
    }
    for (i, m) in messages.iter().enumerate() {
        line(if i == 0 { "Messages:" } else { "" }, m);
    }
    sh.print(&o);
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

pub fn cmd_domstate(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let (state, reason) = sh.conn()?.domain_state(&dom)?;
    let text = DomainState::from_code(state).as_virsh_str();
    if sh.json() {
        #[derive(Serialize)]
        struct S<'a> {
            state: &'a str,
            reason: &'a str,
        }
        return sh.print_json(&S {
            state: text,
            reason: reason_str(state, reason),
        });
    }
    if cmd.has("reason") {
        sh.print(&format!("{text} ({})\n", reason_str(state, reason)));
    } else {
        sh.print(&format!("{text}\n"));
    }
    Ok(())
}

pub fn cmd_domid(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain_by(
        sh,
        crate::commands::options::req_str(cmd, "domain")?,
        BY_UUID_NAME,
    )?;
    if sh.json() {
        return sh.print_json(&dom.is_running().then_some(dom.id));
    }
    if dom.is_running() {
        sh.print(&format!("{}\n", dom.id));
    } else {
        sh.print("-\n");
    }
    Ok(())
}

pub fn cmd_domname(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let text = crate::commands::options::req_str(cmd, "domain")?;
    let by = lookup::By {
        id: true,
        uuid: true,
        name: false,
    };
    let dom = lookup::domain_by(sh, text, by)?;
    sh.print_value(&dom.name)
}

pub fn cmd_domuuid(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let text = crate::commands::options::req_str(cmd, "domain")?;
    let by = lookup::By {
        id: true,
        uuid: false,
        name: true,
    };
    let dom = lookup::domain_by(sh, text, by)?;
    sh.print_value(&dom.uuid.to_string())
}

/// The domain's XML as a tree, as virshDomainGetXML fetches it.
pub fn domain_tree(sh: &Shell, cmd: &ParsedCmd, flags: u32) -> Result<(Domain, Element), CmdError> {
    let dom = lookup::domain(sh, cmd)?;
    let xml = sh.conn()?.domain_xml(&dom, flags)?;
    let root = virtsh_xml::dom::parse(&xml).map_err(|e| CmdError::msg(e.message))?;
    Ok((dom, root))
}

/// virsh's `string(./CHILD/@a|./CHILD/@b|...)`: an XPath union is in document order, so the
/// first of those attributes as the element has them (a live network NIC's `<source
/// network='default' bridge='virbr0'/>` gives the network).
fn first_attr(el: &Element, child: &str, attrs: &[&str]) -> Option<String> {
    let c = el.child(child)?;
    c.attrs
        .iter()
        .find(|(name, _)| attrs.contains(&name.as_str()))
        .map(|(_, v)| v.clone())
}

#[derive(Serialize)]
struct BlkEntry {
    #[serde(rename = "type")]
    kind: String,
    device: String,
    target: String,
    source: Option<String>,
}

pub fn cmd_domblklist(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("inactive") {
        virtsh_api::flags::domain_xml::INACTIVE
    } else {
        0
    };
    let (_, root) = domain_tree(sh, cmd, f)?;
    let details = cmd.has("details");
    let mut entries = Vec::new();
    for disk in root
        .at_path("devices")
        .into_iter()
        .flat_map(|d| d.children_named("disk"))
    {
        let target = disk
            .child("target")
            .and_then(|t| t.attr("dev"))
            .ok_or_else(|| CmdError::msg("unable to query block list"))?;
        let source = first_attr(
            disk,
            "source",
            &["file", "dev", "dir", "name", "volume", "path"],
        );
        entries.push(BlkEntry {
            kind: disk.attr("type").unwrap_or("").to_string(),
            device: disk.attr("device").unwrap_or("disk").to_string(),
            target: target.to_string(),
            source,
        });
    }
    if sh.json() {
        return sh.print_json(&entries);
    }
    let mut t = if details {
        Table::new(&["Type", "Device", "Target", "Source"])
    } else {
        Table::new(&["Target", "Source"])
    };
    for e in entries {
        let source = e.source.unwrap_or_else(|| "-".into());
        t.add_row(if details {
            vec![e.kind, e.device, e.target, source]
        } else {
            vec![e.target, source]
        });
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

#[derive(Serialize)]
struct IfEntry {
    interface: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    source: Option<String>,
    model: Option<String>,
    mac: Option<String>,
}

pub fn cmd_domiflist(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = if cmd.has("inactive") {
        virtsh_api::flags::domain_xml::INACTIVE
    } else {
        0
    };
    let (_, root) = domain_tree(sh, cmd, f)?;
    let entries: Vec<IfEntry> = root
        .at_path("devices")
        .into_iter()
        .flat_map(|d| d.children_named("interface"))
        .map(|i| IfEntry {
            interface: first_attr(i, "target", &["dev"]),
            kind: i.attr("type").unwrap_or("").to_string(),
            source: first_attr(i, "source", &["bridge", "dev", "network", "name", "path"]),
            model: first_attr(i, "model", &["type"]),
            mac: first_attr(i, "mac", &["address"]),
        })
        .collect();
    if sh.json() {
        return sh.print_json(&entries);
    }
    let mut t = Table::new(&["Interface", "Type", "Source", "Model", "MAC"]);
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for e in entries {
        t.add_row(vec![
            dash(e.interface),
            e.kind,
            dash(e.source),
            dash(e.model),
            dash(e.mac),
        ]);
    }
    let text = t.render(!sh.quiet);
    sh.print(&text);
    Ok(())
}

fn blkinfo_cells(info: &virtsh_api::BlockInfo, human: bool) -> [String; 3] {
    if info.capacity == 0 && info.allocation == 0 && info.physical == 0 {
        return ["-".into(), "-".into(), "-".into()];
    }
    let f = |v: u64| {
        if human {
            let (val, unit) = pretty_capacity(v);
            format!("{val:.3} {unit}")
        } else {
            v.to_string()
        }
    };
    [f(info.capacity), f(info.allocation), f(info.physical)]
}

pub fn cmd_domblkinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "all", "device")?;
    let human = cmd.has("human");
    if cmd.has("all") {
        let (dom, root) = domain_tree(sh, cmd, 0)?;
        let mut t = Table::new(&["Target", "Capacity", "Allocation", "Physical"]);
        for disk in root
            .at_path("devices")
            .into_iter()
            .flat_map(|d| d.children_named("disk"))
        {
            let target = disk
                .child("target")
                .and_then(|t| t.attr("dev"))
                .unwrap_or("")
                .to_string();
            let info = if disk.child("source").is_some() {
                sh.conn()?.domain_block_info(&dom, &target)?
            } else {
                virtsh_api::BlockInfo {
                    capacity: 0,
                    allocation: 0,
                    physical: 0,
                }
            };
            let [c, a, p] = blkinfo_cells(&info, human);
            t.add_row(vec![target, c, a, p]);
        }
        let text = t.render(!sh.quiet);
        sh.print(&text);
        return Ok(());
    }
    let dom = lookup::domain(sh, cmd)?;
    let Some(device) = cmd.get("device") else {
        return Err(CmdError::msg(
            "command 'domblkinfo' requires <device> option",
        ));
    };
    let info = sh.conn()?.domain_block_info(&dom, device)?;
    if sh.json() {
        return sh.print_json(&info);
    }
    let [c, a, p] = blkinfo_cells(&info, human);
    sh.print(&format!(
        "{:<15} {c}\n{:<15} {a}\n{:<15} {p}\n",
        "Capacity:", "Allocation:", "Physical:"
    ));
    Ok(())
}

/// Memory statistic tags (virDomainMemoryStatTags) in the order virsh prints them.
const MEMSTAT_NAMES: &[(i32, &str)] = &[
    (0, "swap_in"),
    (1, "swap_out"),
    (2, "major_fault"),
    (3, "minor_fault"),
    (4, "unused"),
    (5, "available"),
    (8, "usable"),
    (6, "actual"),
    (7, "rss"),
    (9, "last_update"),
    (10, "disk_caches"),
    (11, "hugetlb_pgalloc"),
    (12, "hugetlb_pgfail"),
];

pub fn cmd_dommemstat(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let stats = sh.conn()?.domain_memory_stats(&dom).map_err(|e| {
        CmdError::with(
            format!("Failed to get memory statistics for domain {}", dom.name),
            e,
        )
    })?;
    // virsh prints in the order the driver returns the stats, naming each by its tag.
    let named: Vec<(&str, u64)> = stats
        .iter()
        .filter_map(|(tag, v)| {
            MEMSTAT_NAMES
                .iter()
                .find(|(t, _)| t == tag)
                .map(|(_, n)| (*n, *v))
        })
        .collect();
    if sh.json() {
        let map: serde_json::Map<String, serde_json::Value> = named
            .iter()
            .map(|(n, v)| (n.to_string(), serde_json::Value::from(*v)))
            .collect();
        return sh.print_json(&map);
    }
    let mut out = String::new();
    for (n, v) in named {
        out.push_str(&format!("{n} {v}\n"));
    }
    sh.print(&out);
    Ok(())
}

/// vshGetTypedParamValue
pub fn typed_value(v: &TypedValue) -> String {
    match v {
        TypedValue::Int(i) => i.to_string(),
        TypedValue::UInt(u) => u.to_string(),
        TypedValue::LLong(l) => l.to_string(),
        TypedValue::ULLong(u) => u.to_string(),
        TypedValue::Double(d) => format!("{d:.6}"),
        TypedValue::Boolean(b) => (if *b { "yes" } else { "no" }).to_string(),
        TypedValue::String(s) => s.clone(),
    }
}

pub fn cmd_domstats(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    use virtsh_api::flags::stats as S;
    let stats = cmd.flags(&[
        ("state", S::STATE),
        ("cpu-total", S::CPU_TOTAL),
        ("balloon", S::BALLOON),
        ("vcpu", S::VCPU),
        ("interface", S::INTERFACE),
        ("block", S::BLOCK),
        ("perf", S::PERF),
        ("iothread", S::IOTHREAD),
        ("memory", S::MEMORY),
        ("dirtyrate", S::DIRTYRATE),
        ("vm", S::VM),
    ]);
    // VIR_CONNECT_GET_ALL_DOMAINS_STATS_*: list filters share the list-domains bits, the
    // behaviour flags sit high.
    let f = cmd.flags(&[
        ("list-active", L::ACTIVE),
        ("list-inactive", L::INACTIVE),
        ("list-persistent", L::PERSISTENT),
        ("list-transient", L::TRANSIENT),
        ("list-running", L::RUNNING),
        ("list-paused", L::PAUSED),
        ("list-shutoff", L::SHUTOFF),
        ("list-other", L::OTHER),
        ("nowait", 1 << 29),
        ("backing", 1 << 30),
        ("enforce", 1 << 31),
    ]);
    let mut doms = Vec::new();
    for name in cmd.all("domain") {
        doms.push(lookup::domain_by(sh, name, BY_ANY)?);
    }
    let records = sh.conn()?.domain_stats(&doms, stats, f)?;
    if sh.json() {
        return sh.print_json(&records);
    }
    let blocks: Vec<String> = records
        .iter()
        .map(|r| {
            let mut s = format!("Domain: '{}'\n", r.domain.name);
            for p in &r.params {
                s.push_str(&format!("  {}={}\n", p.field, typed_value(&p.value)));
            }
            s
        })
        .collect();
    let text = blocks.join("\n");
    sh.print(&text);
    Ok(())
}
