//! The QEMU-specific API: monitor commands passed through (`qemu-monitor-command`) and the
//! event streams of `event` and `qemu-monitor-event`.
//!
//! Events without a daemon: lifecycle events come from watching the recorded states of all
//! domains (a change of state is an event, as libvirt derives them), so they cover domains that
//! start after the watch began; raw QEMU events come from subscriptions to the supervisors of
//! running guests, picked up as guests start.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use virtsh_api::flags::{domain_state as st, monitor_command, state_reason as reason};
use virtsh_api::{json_text, Domain, DomainEvent, Error, Result};

use super::QemuDriver;
use crate::supervisor::client::{self, Subscription};
use crate::supervisor::protocol::{Notice, Request};

/// How often the watch looks at the recorded states.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// virDomainEventType and the details this driver derives.
mod ev {
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const SUSPENDED: i32 = 3;
    pub const RESUMED: i32 = 4;
    pub const STOPPED: i32 = 5;
    pub const SHUTDOWN: i32 = 6;
    pub const CRASHED: i32 = 8;
}

pub(super) fn monitor_command(
    drv: &QemuDriver,
    dom: &Domain,
    cmd: &str,
    flags: u32,
) -> Result<String> {
    virtsh_api::flags::check(
        flags,
        monitor_command::HMP,
        "qemuDomainQemuMonitorCommandWithFiles",
    )?;
    let v = drv.view_of(dom)?;
    v.check_active()?;
    let rt = drv.runtime(&v.def.name);
    let wait = crate::supervisor::qmp_timeout() + Duration::from_secs(5);
    if flags & monitor_command::HMP != 0 {
        let out = client::call(
            &rt.supervisor_socket(),
            &Request::Hmp {
                command: cmd.to_string(),
            },
            wait,
        )?;
        return Ok(out.as_str().unwrap_or_default().to_string());
    }
    let command: Value = serde_json::from_str(cmd)
        .map_err(|e| Error::internal(format!("cannot parse json {cmd}: {e}")))?;
    let raw = client::call(
        &rt.supervisor_socket(),
        &Request::QmpPassthrough { command },
        wait,
    )?;
    let raw = raw.as_str().unwrap_or_default();
    // libvirt hands back the reply re-printed compact, in QEMU's member order.
    Ok(json_text::reformat(raw, false).unwrap_or_else(|| raw.to_string()))
}

/// What the watch remembers of one domain.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    domain: Domain,
    state: i32,
    reason: i32,
}

impl QemuDriver {
    fn snapshot(&self, only: Option<&Domain>) -> BTreeMap<String, Seen> {
        let mut out = BTreeMap::new();
        let names = match only {
            Some(d) => vec![d.name.clone()],
            None => self.all_names().unwrap_or_default(),
        };
        for name in names {
            if let Ok(v) = self.view_waiting(&name, Duration::ZERO) {
                if only.is_some_and(|d| d.uuid != v.def.uuid) {
                    continue;
                }
                out.insert(
                    name,
                    Seen {
                        domain: v.handle(),
                        state: v.status.state,
                        reason: v.status.reason,
                    },
                );
            }
        }
        out
    }
}

/// The lifecycle events that lead from `old` to `new` for one domain.
fn transitions(old: Option<&Seen>, new: Option<&Seen>) -> Vec<(Domain, i32, i32)> {
    let mut out = Vec::new();
    match (old, new) {
        (None, Some(n)) => {
            out.push((n.domain.clone(), ev::DEFINED, 0));
            if n.state != st::SHUTOFF {
                out.push((n.domain.clone(), ev::STARTED, 0));
            }
        }
        (Some(o), None) => {
            if o.state != st::SHUTOFF {
                out.push((o.domain.clone(), ev::STOPPED, 1));
            }
            out.push((o.domain.clone(), ev::UNDEFINED, 0));
        }
        (Some(o), Some(n)) => {
            // Same state and same run (a shut off domain has no run to compare).
            if o.state == n.state && (o.domain.id == n.domain.id || n.state == st::SHUTOFF) {
                return out;
            }
            let d = n.domain.clone();
            match n.state {
                st::RUNNING if o.state == st::SHUTOFF || o.domain.id != n.domain.id => {
                    out.push((d, ev::STARTED, 0))
                }
                st::RUNNING => out.push((d, ev::RESUMED, 0)),
                st::PAUSED if o.state == st::SHUTOFF => {
                    out.push((d.clone(), ev::STARTED, 0));
                    out.push((d, ev::SUSPENDED, 0));
                }
                st::PAUSED => out.push((d, ev::SUSPENDED, 0)),
                st::SHUTDOWN => out.push((d, ev::SHUTDOWN, 1)),
                st::CRASHED => out.push((d, ev::CRASHED, 0)),
                st::SHUTOFF => {
                    let detail = match n.reason {
                        reason::SHUTOFF_SHUTDOWN => 0,
                        reason::SHUTOFF_DESTROYED => 1,
                        reason::SHUTOFF_CRASHED => 5,
                        reason::SHUTOFF_SAVED => 4,
                        _ => 1,
                    };
                    if n.reason == reason::SHUTOFF_SHUTDOWN && o.state != st::SHUTDOWN {
                        out.push((d.clone(), ev::SHUTDOWN, 1));
                    }
                    out.push((d, ev::STOPPED, detail));
                }
                _ => {}
            }
        }
        (None, None) => {}
    }
    out
}

pub(super) fn domain_events(
    drv: &QemuDriver,
    dom: Option<&Domain>,
    qemu: bool,
    filter: Option<&str>,
    timeout: Option<Duration>,
    sink: &mut dyn FnMut(DomainEvent) -> bool,
) -> Result<()> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut seen = drv.snapshot(dom);
    let mut subs: BTreeMap<String, Subscription> = BTreeMap::new();
    loop {
        // Follow every running guest's supervisor: its notices carry what is too quick for
        // the watch of the recorded states (a suspend and resume in one breath, a reboot).
        for (name, s) in &seen {
            if s.state != st::SHUTOFF && !subs.contains_key(name) {
                let rt = drv.runtime(name);
                if let Ok(sub) = client::subscribe(&rt.supervisor_socket(), Duration::from_secs(2))
                {
                    sub.set_timeout(Some(Duration::from_millis(1)));
                    subs.insert(name.clone(), sub);
                }
            }
        }
        let mut gone = Vec::new();
        for (name, sub) in subs.iter_mut() {
            loop {
                let notice = match sub.try_next_notice() {
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(()) => {
                        gone.push(name.clone());
                        break;
                    }
                };
                let Some(s) = seen.get_mut(name) else {
                    continue;
                };
                let domain = s.domain.clone();
                let event = match notice {
                    Notice::Qmp {
                        event,
                        data,
                        seconds,
                        microseconds,
                    } if qemu => {
                        if filter.is_some_and(|f| f != event) {
                            continue;
                        }
                        DomainEvent::QemuMonitor {
                            domain,
                            event,
                            seconds,
                            micros: microseconds.clamp(0, 999_999) as u32,
                            details: (!data.is_null()).then(|| data.to_string()),
                        }
                    }
                    Notice::Qmp { event, .. } if event == "RESET" => DomainEvent::Reboot { domain },
                    Notice::Lifecycle { event, detail } if !qemu => {
                        // Remember the state it announces, so the watch below does not
                        // report the same change again; skip it if the watch already did.
                        let announced = match event {
                            ev::SUSPENDED => st::PAUSED,
                            ev::RESUMED | ev::STARTED => st::RUNNING,
                            ev::STOPPED => st::SHUTOFF,
                            ev::SHUTDOWN => st::SHUTDOWN,
                            ev::CRASHED => st::CRASHED,
                            _ => s.state,
                        };
                        if announced == s.state && event != ev::SHUTDOWN {
                            continue;
                        }
                        s.state = announced;
                        DomainEvent::Lifecycle {
                            domain,
                            event,
                            detail,
                        }
                    }
                    _ => continue,
                };
                if !sink(event) {
                    return Ok(());
                }
            }
        }
        for g in gone {
            subs.remove(&g);
        }
        let now = drv.snapshot(dom);
        if !qemu {
            let names: std::collections::BTreeSet<&String> =
                seen.keys().chain(now.keys()).collect();
            for name in names {
                for (domain, event, detail) in transitions(seen.get(name), now.get(name)) {
                    if !sink(DomainEvent::Lifecycle {
                        domain,
                        event,
                        detail,
                    }) {
                        return Ok(());
                    }
                }
            }
        }
        seen = now;
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            return Ok(());
        }
        std::thread::sleep(left.map_or(WATCH_EVERY, |l| l.min(WATCH_EVERY)));
    }
}
