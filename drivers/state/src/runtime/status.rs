//! `NAME.status`: what a domain is doing, as its supervisor last recorded it.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use virtsh_api::flags::domain_state as st;

use crate::atomic;

/// The recorded state of one domain. Small and flat: it is read by every `list` and `dominfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainStatus {
    /// virDomainState code.
    pub state: i32,
    /// The reason code that goes with `state`.
    pub reason: i32,
    /// The running id; -1 when inactive.
    pub id: i32,
    /// The guest's process (QEMU, or a container's init) by pid and start time (clock ticks
    /// since boot, from `/proc/PID/stat`), so a reused pid is never mistaken for it. Written
    /// as `qemu` by earlier versions.
    #[serde(default, alias = "qemu", skip_serializing_if = "Option::is_none")]
    pub process: Option<super::ProcessIdentity>,
    /// Seconds since the epoch when the guest was started.
    #[serde(default)]
    pub started: u64,
    /// Set by `create --autodestroy`: the guest ends with this process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autodestroy: Option<super::ProcessIdentity>,
    /// The guest's cgroup, relative to the top of each hierarchy (`virtsh/qemu/vm1-1`), when its
    /// supervisor could make one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
}

impl DomainStatus {
    /// An inactive domain that stopped for `reason`.
    pub fn shutoff(reason: i32) -> DomainStatus {
        DomainStatus {
            state: st::SHUTOFF,
            reason,
            id: -1,
            process: None,
            started: 0,
            autodestroy: None,
            cgroup: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.state != st::SHUTOFF && self.id >= 0
    }

    pub(crate) fn read(path: &Path) -> Result<Option<DomainStatus>, StatusError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StatusError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StatusError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
    }

    pub(crate) fn write(&self, path: &Path) -> Result<(), StatusError> {
        let mut text = serde_json::to_vec(self).map_err(|e| StatusError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push(b'\n');
        Ok(atomic::write(path, &text)?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot read domain status {path}: {source}", path = path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("corrupt domain status file {path}: {reason}", path = path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(transparent)]
    State(#[from] crate::StateError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_written_with_the_old_field_name_still_reads() {
        let old = r#"{"state":1,"reason":1,"id":3,"qemu":{"pid":42,"start_ticks":7},"started":0}"#;
        let s: DomainStatus = serde_json::from_str(old).unwrap();
        assert_eq!(s.process.map(|p| p.pid), Some(42));
        let new = serde_json::to_string(&s).unwrap();
        assert!(new.contains(r#""process":{"pid":42"#), "{new}");
    }
}
