//! The QEMU-specific commands and the event watchers: qemu-monitor-command,
//! qemu-monitor-event and event. Texts are virsh 9.0's (tools/virsh-domain.c,
//! virsh-domain-event.c).

use std::time::Duration;

use virtsh_api::flags::monitor_command;
use virtsh_api::{json_text, DomainEvent};

use crate::commands::host::opt_int;
use crate::commands::options::exclusive;
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};

/// virsh's event names (virshDomainEventCallbacks in 9.0), for `event --list` and `--event`:
/// the values the command definition completes `--event` with.
fn event_names() -> &'static [&'static str] {
    crate::shell::find_command("event")
        .and_then(|d| d.opts.iter().find(|o| o.name == "event"))
        .and_then(|o| match o.complete {
            crate::def::Complete::Values(v) => Some(v),
            _ => None,
        })
        .unwrap_or(&[])
}

/// cmdQemuMonitorCommandQMPWrap: a command that is not a JSON object is `NAME KEY=VALUE...`,
/// each VALUE JSON if it parses as such, else a string.
fn qmp_wrap(args: &[&str]) -> Result<String, CmdError> {
    let full = args.join(" ");
    if matches!(
        serde_json::from_str::<serde_json::Value>(&full),
        Ok(serde_json::Value::Object(_))
    ) {
        return Ok(full);
    }
    let Some((first, rest)) = args.split_first() else {
        return Ok(full);
    };
    let mut arguments = serde_json::Map::new();
    for a in rest {
        let Some((k, v)) = a.split_once('=') else {
            return Err(CmdError::msg(format!(
                "Invalid QMP argument '{a}': expected KEY=VALUE"
            )));
        };
        let value = serde_json::from_str(v).unwrap_or(serde_json::Value::String(v.to_string()));
        arguments.insert(k.to_string(), value);
    }
    let mut wrap = serde_json::Map::new();
    wrap.insert(
        "execute".into(),
        serde_json::Value::String(first.to_string()),
    );
    if !arguments.is_empty() {
        wrap.insert("arguments".into(), serde_json::Value::Object(arguments));
    }
    Ok(serde_json::Value::Object(wrap).to_string())
}

pub fn cmd_qemu_monitor_command(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "hmp", "pretty")?;
    exclusive(cmd, "hmp", "return-value")?;
    let dom = lookup::domain(sh, cmd)?;
    let hmp = cmd.has("hmp");
    let args = cmd.all("cmd");
    let text = if hmp {
        args.join(" ")
    } else {
        qmp_wrap(&args)?
    };
    let flags = if hmp { monitor_command::HMP } else { 0 };
    let result = sh
        .writable("virDomainQemuMonitorCommand")
        .and_then(|c| c.qemu_monitor_command(&dom, &text, flags))
        .map_err(CmdError::from)?;
    let pretty = cmd.has("pretty");
    let out = if cmd.has("return-value") {
        json_text::member(&result, "return", pretty)
            .ok_or_else(|| CmdError::msg("'return' member missing"))?
    } else if pretty {
        json_text::reformat(&result, true).unwrap_or(result)
    } else {
        result
    };
    sh.print(&format!("{out}\n"));
    Ok(())
}

/// vshCommandOptTimeoutToMs: a positive number of seconds.
pub(crate) fn timeout_option(cmd: &ParsedCmd) -> Result<Option<Duration>, CmdError> {
    match opt_int(cmd, "timeout")? {
        None => Ok(None),
        Some(t) if t > 0 && t <= i32::MAX / 1000 => Ok(Some(Duration::from_secs(t as u64))),
        Some(_) => Err(CmdError::msg(format!(
            "Numeric value '{}' for <timeout> option is malformed or out of range",
            cmd.get("timeout").unwrap_or_default()
        ))),
    }
}

/// virTimeStringNowRaw: `2026-11-28 10:00:00.123+0000`.
pub(crate) fn timestamp_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.3f+0000")
        .to_string()
}

/// One event line of a watch, as it happens (a watch may last long), with virsh's
/// `--timestamp` prefix when asked.
pub(crate) fn print_event(stamp: bool, line: &str) {
    let line = if stamp {
        format!("{}: {line}", timestamp_now())
    } else {
        line.to_string()
    };
    let _ = crate::shell::write_stdout(&line);
}

/// How a watch ended, and virsh's closing lines.
pub(crate) fn finish_watch(sh: &mut Shell, timed_out: bool, count: usize) -> CmdResult {
    if timed_out {
        sh.print("event loop timed out\n");
    }
    sh.print(&format!("events received: {count}\n"));
    if count == 0 {
        return Err(CmdError::lines(Vec::new()));
    }
    Ok(())
}

pub fn cmd_qemu_monitor_event(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let timeout = timeout_option(cmd)?;
    let pretty = cmd.has("pretty");
    let looping = cmd.has("loop");
    let stamp = cmd.has("timestamp");
    let event = crate::commands::options::opt_str(cmd, "event")?.map(str::to_string);
    if cmd.has("regex") || cmd.has("no-case") {
        return Err(CmdError::msg(
            "--regex and --no-case are not supported by virtsh yet",
        ));
    }
    let dom = match cmd.get("domain") {
        Some(_) => Some(lookup::domain(sh, cmd)?),
        None => None,
    };
    let mut count = 0usize;
    let conn = sh.conn()?;
    conn.domain_events(
        dom.as_ref(),
        true,
        event.as_deref(),
        timeout,
        &mut |e: DomainEvent| {
            let DomainEvent::QemuMonitor {
                domain,
                event,
                seconds,
                micros,
                details,
            } = e
            else {
                return true;
            };
            let details = match (&details, pretty) {
                (Some(d), true) => json_text::reformat(d, true).or(Some(d.clone())),
                (d, _) => d.clone(),
            };
            let details = details.unwrap_or_else(|| "<null>".to_string());
            let line = if stamp {
                format!(
                    "{}: event {event} for domain '{}': {details}\n",
                    timestamp_now(),
                    domain.name
                )
            } else {
                format!(
                    "event {event} at {seconds}.{micros:06} for domain '{}': {details}\n",
                    domain.name
                )
            };
            // Printed at once: a watch can run for a long time.
            let _ = crate::shell::write_stdout(&line);
            count += 1;
            looping
        },
    )
    .map_err(CmdError::from)?;
    let timed_out = looping || count == 0;
    finish_watch(sh, timed_out && timeout.is_some(), count)
}

/// virshDomainEventToString and virshDomainEventDetailToString.
fn lifecycle_words(event: i32, detail: i32) -> (&'static str, &'static str) {
    const EVENTS: [&str; 9] = [
        "Defined",
        "Undefined",
        "Started",
        "Suspended",
        "Resumed",
        "Stopped",
        "Shutdown",
        "PMSuspended",
        "Crashed",
    ];
    let details: &[&str] = match event {
        0 => &["Added", "Updated", "Renamed", "Snapshot"],
        1 => &["Removed", "Renamed"],
        2 => &["Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"],
        3 => &[
            "Paused",
            "Migrated",
            "I/O Error",
            "Watchdog",
            "Restored",
            "Snapshot",
            "API error",
            "Post-copy",
            "Post-copy Error",
        ],
        4 => &[
            "Unpaused",
            "Migrated",
            "Snapshot",
            "Post-copy",
            "Post-copy Error",
        ],
        5 => &[
            "Shutdown",
            "Destroyed",
            "Crashed",
            "Migrated",
            "Saved",
            "Failed",
            "Snapshot",
        ],
        6 => &[
            "Finished",
            "Finished after guest request",
            "Finished after host request",
        ],
        7 => &["Memory", "Disk"],
        8 => &["Panicked", "Crashloaded"],
        _ => &[],
    };
    (
        usize::try_from(event)
            .ok()
            .and_then(|i| EVENTS.get(i))
            .copied()
            .unwrap_or("unknown"),
        usize::try_from(detail)
            .ok()
            .and_then(|i| details.get(i))
            .copied()
            .unwrap_or("unknown"),
    )
}

pub fn cmd_event(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    exclusive(cmd, "all", "event")?;
    exclusive(cmd, "list", "all")?;
    exclusive(cmd, "list", "event")?;
    if cmd.has("list") {
        for n in event_names() {
            sh.print(&format!("{n}\n"));
        }
        return Ok(());
    }
    let event = crate::commands::options::opt_str(cmd, "event")?.map(str::to_string);
    if event.is_none() && !cmd.has("all") {
        return Err(CmdError::msg(
            "one of --list, --all, or --event <type> is required",
        ));
    }
    if let Some(e) = &event {
        if !event_names().contains(&e.as_str()) {
            return Err(CmdError::msg(format!("unknown event type {e}")));
        }
    }
    let timeout = timeout_option(cmd)?;
    let dom = match cmd.get("domain") {
        Some(_) => Some(lookup::domain(sh, cmd)?),
        None => None,
    };
    let looping = cmd.has("loop");
    let stamp = cmd.has("timestamp");
    let want_lifecycle = event.as_deref().is_none_or(|e| e == "lifecycle");
    let mut count = 0usize;
    let conn = sh.conn()?;
    conn.domain_events(dom.as_ref(), false, None, timeout, &mut |e: DomainEvent| {
        let line = match e {
            DomainEvent::Lifecycle {
                domain,
                event,
                detail,
            } if want_lifecycle => {
                let (what, why) = lifecycle_words(event, detail);
                format!(
                    "event 'lifecycle' for domain '{}': {what} {why}\n",
                    domain.name
                )
            }
            DomainEvent::Reboot { domain } if event.as_deref().is_none_or(|e| e == "reboot") => {
                format!("event 'reboot' for domain '{}'\n", domain.name)
            }
            _ => return true,
        };
        print_event(stamp, &line);
        count += 1;
        looping
    })
    .map_err(CmdError::from)?;
    let timed_out = looping || count == 0;
    finish_watch(sh, timed_out && timeout.is_some(), count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_wrapped_as_virsh_does() {
        assert_eq!(
            qmp_wrap(&[r#"{"execute":"query-status"}"#]).unwrap(),
            r#"{"execute":"query-status"}"#
        );
        assert_eq!(
            qmp_wrap(&["query-status"]).unwrap(),
            r#"{"execute":"query-status"}"#
        );
        assert_eq!(
            qmp_wrap(&["human-monitor-command", "command-line=info cpus"]).unwrap(),
            r#"{"arguments":{"command-line":"info cpus"},"execute":"human-monitor-command"}"#
        );
    }

    #[test]
    fn lifecycle_words_are_virshs() {
        assert_eq!(lifecycle_words(5, 1), ("Stopped", "Destroyed"));
        assert_eq!(lifecycle_words(2, 0), ("Started", "Booted"));
        assert_eq!(lifecycle_words(42, 0), ("unknown", "unknown"));
    }
}
