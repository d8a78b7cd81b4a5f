//! Network lifecycle events (`net-event`) with no daemon to send them: the watcher compares
//! what the state directories say, a few times a second, and reports each change as
//! libvirt's daemon would have (defined, undefined, started, stopped). Any process's change
//! is seen, since every change is a file that appears, changes or goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use virtsh_api::{Network, NetworkEvent, Result};

use super::NetworkHost;

/// How often the state is compared: fast enough for a person watching, cheap for the host.
const POLL: Duration = Duration::from_millis(100);

/// virNetworkEventLifecycleType
const DEFINED: i32 = 0;
const UNDEFINED: i32 = 1;
const STARTED: i32 = 2;
const STOPPED: i32 = 3;

/// What one look at a network tells.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    network: Network,
    /// The definition file's modification time: a new one is a (re)definition.
    config: Option<SystemTime>,
    active: bool,
}

impl NetworkHost {
    fn look(&self, only: Option<&Network>) -> Result<BTreeMap<String, Seen>> {
        let mut out = BTreeMap::new();
        for v in self.views()? {
            if only.is_some_and(|n| n.name != v.name) {
                continue;
            }
            let config = std::fs::metadata(self.paths.config.join(format!("{}.xml", v.name)))
                .and_then(|m| m.modified())
                .ok();
            out.insert(
                v.name.clone(),
                Seen {
                    network: v.handle(),
                    config,
                    active: v.active(),
                },
            );
        }
        Ok(out)
    }

    pub(crate) fn watch_events(
        &self,
        net: Option<&Network>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(NetworkEvent) -> bool,
    ) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut before = self.look(net)?;
        loop {
            let left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(l) if !l.is_zero() => l,
                    _ => return Ok(()),
                },
                None => POLL,
            };
            std::thread::sleep(left.min(POLL));
            let now = self.look(net)?;
            for event in changes(&before, &now) {
                if !sink(event) {
                    return Ok(());
                }
            }
            before = now;
        }
    }
}

/// The events that lead from `before` to `now`, in the order libvirt sends them: a network
/// that was defined and started in between is "Defined" then "Started".
fn changes(before: &BTreeMap<String, Seen>, now: &BTreeMap<String, Seen>) -> Vec<NetworkEvent> {
    let mut out = Vec::new();
    let mut push = |network: &Network, event: i32| {
        out.push(NetworkEvent::Lifecycle {
            network: network.clone(),
            event,
            detail: 0,
        })
    };
    for (name, new) in now {
        let old = before
            .get(name)
            .filter(|o| o.network.uuid == new.network.uuid);
        let (was_active, old_config) = old.map_or((false, None), |o| (o.active, o.config));
        if was_active && !new.active {
            push(&new.network, STOPPED);
        }
        if new.config.is_some() && new.config != old_config {
            push(&new.network, DEFINED);
        }
        if old_config.is_some() && new.config.is_none() {
            push(&new.network, UNDEFINED);
        }
        if !was_active && new.active {
            push(&new.network, STARTED);
        }
    }
    for (name, old) in before {
        let gone = now
            .get(name)
            .is_none_or(|n| n.network.uuid != old.network.uuid);
        if gone {
            if old.active {
                push(&old.network, STOPPED);
            }
            if old.config.is_some() {
                push(&old.network, UNDEFINED);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(config: Option<u64>, active: bool) -> Seen {
        Seen {
            network: Network {
                name: "n".into(),
                uuid: uuid::Uuid::nil(),
            },
            config: config.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
            active,
        }
    }

    fn events(before: Option<Seen>, now: Option<Seen>) -> Vec<i32> {
        let map = |s: Option<Seen>| s.into_iter().map(|s| ("n".to_string(), s)).collect();
        changes(&map(before), &map(now))
            .into_iter()
            .map(|NetworkEvent::Lifecycle { event, .. }| event)
            .collect()
    }

    #[test]
    fn each_change_is_the_event_libvirt_sends() {
        assert_eq!(events(None, Some(seen(Some(1), false))), [DEFINED]);
        assert_eq!(events(None, Some(seen(Some(1), true))), [DEFINED, STARTED]);
        assert_eq!(events(None, Some(seen(None, true))), [STARTED]);
        assert_eq!(
            events(Some(seen(Some(1), false)), Some(seen(Some(1), true))),
            [STARTED]
        );
        assert_eq!(
            events(Some(seen(Some(1), true)), Some(seen(Some(1), false))),
            [STOPPED]
        );
        assert_eq!(
            events(Some(seen(Some(1), false)), Some(seen(Some(2), false))),
            [DEFINED]
        );
        assert_eq!(
            events(Some(seen(Some(1), true)), Some(seen(None, true))),
            [UNDEFINED]
        );
        assert_eq!(
            events(Some(seen(Some(1), true)), None),
            [STOPPED, UNDEFINED]
        );
        assert_eq!(events(Some(seen(None, true)), None), [STOPPED]);
        assert!(events(Some(seen(Some(1), true)), Some(seen(Some(1), true))).is_empty());
    }
}
