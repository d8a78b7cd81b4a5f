//! Domain configuration commands: dumpxml, desc, setmem, setmaxmem, setvcpus, vcpucount,
//! vcpuinfo, schedinfo, edit (tools/virsh-domain.c).

use crate::commands::options::exclusive;
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::{flags, types::impact, TypedParam, TypedValue};

/// The --live/--config/--current triple (with --persistent as an old spelling of --config).
fn impact_flags(cmd: &ParsedCmd) -> Result<u32, CmdError> {
    exclusive(cmd, "current", "live")?;
    exclusive(cmd, "current", "config")?;
    let mut f = impact::CURRENT;
    if cmd.has("config") || cmd.has("persistent") {
        f |= impact::CONFIG;
    }
    if cmd.has("live") {
        f |= impact::LIVE;
    }
    Ok(f)
}

pub fn cmd_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let mut f = 0;
    if cmd.has("inactive") {
        f |= flags::domain_xml::INACTIVE;
    }
    if cmd.has("security-info") {
        f |= flags::domain_xml::SECURE;
    }
    if cmd.has("update-cpu") {
        f |= flags::domain_xml::UPDATE_CPU;
    }
    if cmd.has("migratable") {
        f |= flags::domain_xml::MIGRATABLE;
    }
    let xml = sh.conn()?.domain_xml(&dom, f)?;
    print_xml_or_xpath(sh, cmd, &xml)
}

/// Print a document, or what `--xpath` selects of it (optionally `--wrap`ped), as every
/// `*dumpxml` command does.
pub fn print_xml_or_xpath(sh: &mut Shell, cmd: &ParsedCmd, xml: &str) -> CmdResult {
    match cmd.get("xpath") {
        None => {
            sh.print(xml);
            if !xml.ends_with('\n') {
                sh.print("\n");
            }
            Ok(())
        }
        Some(expr) => {
            let text = crate::commands::xpath::select(xml, expr, cmd.has("wrap"))?;
            sh.print(&text);
            Ok(())
        }
    }
}

pub fn cmd_desc(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let f = impact_flags(cmd)?;
    let title = cmd.has("title");
    let kind = if title {
        flags::metadata::TITLE
    } else {
        flags::metadata::DESCRIPTION
    };
    let words = cmd.all("new-desc");
    if !words.is_empty() || cmd.has("edit") {
        let mut desc = words.join(" ");
        if cmd.has("edit") {
            let current =
                crate::commands::monitor::domain_description(sh, &dom, title, cmd.has("config"))?;
            desc = crate::commands::edit::edit_text(&current, "desc")?;
        }
        sh.writable("virDomainSetMetadata")
            .and_then(|c| c.set_domain_metadata(&dom, kind, Some(&desc), None, None, f))
            .map_err(|e| {
                let what = if title { "title" } else { "description" };
                CmdError::with(format!("Failed to set new domain {what}"), e)
            })?;
        // virsh ends these (and the description itself) without a newline: the blank line
        // that follows every command finishes the line.
        sh.print_extra(if title {
            "Domain title updated successfully"
        } else {
            "Domain description updated successfully"
        });
        return Ok(());
    }
    let text = crate::commands::monitor::domain_description(sh, &dom, title, cmd.has("config"))?;
    if sh.json() {
        return sh.print_json(&text);
    }
    if text.is_empty() {
        sh.print_extra(&format!(
            "No {} for domain: {}",
            if title { "title" } else { "description" },
            dom.name
        ));
    } else {
        sh.print(&text);
    }
    Ok(())
}

/// A size option in KiB: virsh scales it from bytes with KiB as the default unit. Numbers are
/// not refused for being empty: an empty one is just malformed, in virsh's words.
fn kib_option(cmd: &ParsedCmd, name: &str) -> Result<u64, CmdError> {
    let text = cmd.get(name).unwrap_or_default();
    let bytes = virtsh_xml::units::parse_virsh_size(text, 1024, u64::MAX).ok_or_else(|| {
        CmdError::msg(format!(
            "Scaled numeric value '{text}' for <{name}> option is malformed or out of range"
        ))
    })?;
    Ok(virtsh_xml::units::to_kib(bytes))
}

/// virsh calls the flag-less API (virDomainSetMemory, virDomainSetVcpus) when no flag is given,
/// and drivers treat that as a change of the running domain.
fn live_when_current(f: u32) -> u32 {
    if f == impact::CURRENT {
        impact::LIVE
    } else {
        f
    }
}

pub fn cmd_setmem(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = live_when_current(impact_flags(cmd)?);
    let dom = lookup::domain(sh, cmd)?;
    let kib = kib_option(cmd, "size")?;
    // virsh adds no line of its own here, unlike setmaxmem.
    sh.writable("virDomainSetMemoryFlags")
        .and_then(|c| c.set_domain_memory(&dom, kib, f))
        .map_err(CmdError::from)
}

pub fn cmd_setmaxmem(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = impact_flags(cmd)? | flags::memory::MAXIMUM;
    let dom = lookup::domain(sh, cmd)?;
    let kib = kib_option(cmd, "size")?;
    sh.writable("virDomainSetMemoryFlags")
        .and_then(|c| c.set_domain_memory(&dom, kib, f))
        .map_err(|e| CmdError::with("Unable to change MaxMemorySize", e))
}

fn int_option(cmd: &ParsedCmd, name: &str) -> Result<Option<i64>, CmdError> {
    match cmd.get(name) {
        None => Ok(None),
        Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
            CmdError::msg(format!(
                "Numeric value '{t}' for <{name}> option is malformed or out of range"
            ))
        }),
    }
}

pub fn cmd_setvcpus(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut f = impact_flags(cmd)?;
    exclusive(cmd, "guest", "config")?;
    exclusive(cmd, "hotpluggable", "guest")?;
    let dom = lookup::domain(sh, cmd)?;
    let count = int_option(cmd, "count")?
        .filter(|c| *c >= 0 && *c <= i64::from(u32::MAX))
        .ok_or_else(|| {
            CmdError::msg(format!(
                "Numeric value '{}' for <count> option is malformed or out of range",
                cmd.get("count").unwrap_or("")
            ))
        })?;
    if count == 0 {
        return Err(CmdError::msg("Can't set 0 processors for a VM"));
    }
    if cmd.has("maximum") {
        f |= flags::vcpu::MAXIMUM;
    }
    if cmd.has("guest") {
        f |= flags::vcpu::GUEST;
    }
    if cmd.has("hotpluggable") {
        f |= flags::vcpu::HOTPLUGGABLE;
    }
    let api = if f == impact::CURRENT {
        "virDomainSetVcpus"
    } else {
        "virDomainSetVcpusFlags"
    };
    let f = live_when_current(f);
    sh.writable(api)
        .and_then(|c| c.set_domain_vcpus(&dom, count as u32, f))
        .map_err(CmdError::from)
}

pub fn cmd_vcpucount(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    // Before libvirt 0.9.4 --current meant "not --maximum"; virsh still reads a lone
    // --current that way, so only --live/--config pick the copy.
    exclusive(cmd, "live", "config")?;
    exclusive(cmd, "active", "maximum")?;
    exclusive(cmd, "guest", "config")?;
    let dom = lookup::domain(sh, cmd)?;
    let conn = sh.conn()?;
    let mut f = 0;
    if cmd.has("live") {
        f |= impact::LIVE;
    }
    if cmd.has("config") {
        f |= impact::CONFIG;
    }
    if cmd.has("maximum") {
        f |= flags::vcpu::MAXIMUM;
    }
    if cmd.has("guest") {
        f |= flags::vcpu::GUEST;
    }
    let all = !["live", "config", "maximum", "active", "current", "guest"]
        .iter()
        .any(|o| cmd.has(o));
    if !all {
        let n = conn.domain_vcpus_count(&dom, f)?;
        sh.print(&format!("{n}\n"));
        return Ok(());
    }
    let active = dom.is_running();
    let mut out = String::new();
    for (label_max, max) in [("maximum", true), ("current", false)] {
        for (label_where, bits) in [("config", impact::CONFIG), ("live", impact::LIVE)] {
            if bits == impact::LIVE && !active {
                continue;
            }
            let f = bits | if max { flags::vcpu::MAXIMUM } else { 0 };
            let n = conn.domain_vcpus_count(&dom, f)?;
            out.push_str(&format!("{label_max:<12} {label_where:<12} {n:>3}\n"));
        }
    }
    sh.print(&out);
    Ok(())
}

pub fn cmd_vcpuinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let vcpus = sh.conn()?.domain_vcpu_info(&dom)?;
    if sh.json() {
        return sh.print_json(&vcpus);
    }
    let pretty = cmd.has("pretty");
    let blocks: Vec<String> = vcpus
        .iter()
        .map(|v| {
            let state = match v.state {
                0 => "offline",
                1 => "running",
                2 => "blocked",
                _ => "no state",
            };
            let affinity = if pretty {
                format!(
                    "{} (out of {})",
                    crate::output::cpu_ranges(&v.affinity),
                    v.affinity.len()
                )
            } else {
                v.affinity
                    .iter()
                    .map(|b| if *b { 'y' } else { '-' })
                    .collect()
            };
            format!(
                "{:<15} {}\n{:<15} {}\n{:<15} {}\n{:<15} {:.1}s\n{:<15} {}\n",
                "VCPU:",
                v.number,
                "CPU:",
                v.cpu,
                "State:",
                state,
                "CPU time:",
                v.cpu_time as f64 / 1e9,
                "CPU Affinity:",
                affinity
            )
        })
        .collect();
    let text = blocks.join("\n");
    sh.print(&text);
    Ok(())
}

pub fn cmd_schedinfo(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = impact_flags(cmd)?;
    let dom = lookup::domain(sh, cmd)?;
    let conn = sh.conn()?;
    let (sched, nparams) = conn.domain_scheduler_type(&dom)?;
    // The type line is printed before the parameters are fetched, so it stays even when
    // fetching them fails.
    sh.print(&format!("{:<15}: {sched}\n", "Scheduler"));
    let mut out = String::new();
    // Without --live/--config/--current virsh calls the flag-less API; otherwise the flagged
    // one, and its getter always adds VIR_TYPED_PARAM_STRING_OKAY (drivers reject it alike).
    const STRING_OKAY: u32 = 1 << 2;
    let flagged = f != impact::CURRENT || cmd.has("current");
    let get_flags = if flagged { f | STRING_OKAY } else { 0 };
    let conn = sh.conn()?;
    if nparams > 0 {
        let mut updates = Vec::new();
        for s in cmd.all("set") {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| CmdError::msg("Invalid syntax for --set, expecting name=value"))?;
            updates.push((k.to_string(), v.to_string()));
        }
        for name in ["weight", "cap"] {
            if let Some(v) = cmd.get(name) {
                updates.push((name.to_string(), v.to_string()));
            }
        }
        let current = conn.domain_scheduler_params(&dom, get_flags)?;
        if !updates.is_empty() {
            let mut params = Vec::new();
            for (k, v) in &updates {
                let Some(p) = current.iter().find(|p| &p.field == k) else {
                    return Err(CmdError::msg(format!("invalid scheduler option: {k}")));
                };
                let value = retype(&p.value, v)
                    .ok_or_else(|| CmdError::msg(format!("invalid value of {k}")))?;
                params.push(TypedParam::new(k.clone(), value));
            }
            let api = if flagged {
                "virDomainSetSchedulerParametersFlags"
            } else {
                "virDomainSetSchedulerParameters"
            };
            sh.writable(api)
                .and_then(|c| c.set_domain_scheduler_params(&dom, &params, f))?;
        }
        let shown = sh.conn()?.domain_scheduler_params(&dom, get_flags)?;
        for p in &shown {
            out.push_str(&format!(
                "{:<15}: {}\n",
                p.field,
                crate::commands::monitor::typed_value(&p.value)
            ));
        }
    }
    sh.print(&out);
    Ok(())
}

/// Parse `text` as a value of the same type as `like`.
fn retype(like: &TypedValue, text: &str) -> Option<TypedValue> {
    Some(match like {
        TypedValue::Int(_) => TypedValue::Int(text.parse().ok()?),
        TypedValue::UInt(_) => TypedValue::UInt(text.parse().ok()?),
        TypedValue::LLong(_) => TypedValue::LLong(text.parse().ok()?),
        TypedValue::ULLong(_) => TypedValue::ULLong(text.parse().ok()?),
        TypedValue::Double(_) => TypedValue::Double(text.parse().ok()?),
        TypedValue::Boolean(_) => TypedValue::Boolean(matches!(text, "1" | "yes" | "true")),
        TypedValue::String(_) => TypedValue::String(text.to_string()),
    })
}

/// metadata: show, set, remove or edit one namespaced element of `<metadata>`
/// (virsh-domain.c cmdMetadata).
pub fn cmd_metadata(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let f = impact_flags(cmd)?;
    exclusive(cmd, "edit", "set")?;
    exclusive(cmd, "remove", "set")?;
    exclusive(cmd, "remove", "edit")?;
    let dom = lookup::domain(sh, cmd)?;
    let uri = crate::commands::options::req_str(cmd, "uri")?;
    let key = crate::commands::options::opt_str(cmd, "key")?;
    let set = crate::commands::options::opt_str(cmd, "set")?;
    let edit = cmd.has("edit");
    let remove = cmd.has("remove");
    if (set.is_some() || edit) && key.is_none() {
        return Err(CmdError::msg(
            "namespace key is required when modifying metadata",
        ));
    }
    let kind = flags::metadata::ELEMENT;
    if set.is_some() || remove {
        sh.writable("virDomainSetMetadata")
            .and_then(|c| c.set_domain_metadata(&dom, kind, set, key, Some(uri), f))?;
        sh.print_extra(if remove {
            "Metadata removed\n"
        } else {
            "Metadata modified\n"
        });
        return Ok(());
    }
    if edit {
        // virshDomainGetEditMetadata: a missing element edits as an empty line.
        let current = sh
            .conn()?
            .domain_metadata(&dom, kind, Some(uri), f)
            .unwrap_or_else(|_| "\n".to_string());
        let new = crate::commands::edit::edit_text(&current, "metadata")?;
        if new == current {
            sh.print_extra("Metadata not changed");
            return Ok(());
        }
        let value = Some(new.as_str()).filter(|v| !v.trim().is_empty());
        sh.writable("virDomainSetMetadata")
            .and_then(|c| c.set_domain_metadata(&dom, kind, value, key, Some(uri), f))?;
        sh.print_extra("Metadata modified\n");
        return Ok(());
    }
    let data = sh.conn()?.domain_metadata(&dom, kind, Some(uri), f)?;
    if sh.json() {
        return sh.print_json(&data);
    }
    sh.print(&format!("{data}\n"));
    Ok(())
}
