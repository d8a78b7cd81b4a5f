//! The freezer: stop every task of a group (a container's `suspend`) and let them go on.
//!
//! v1: `freezer.state` in the freezer hierarchy (the group must have been made with
//! [`Extra::Freezer`]), `FROZEN` / `THAWED` written, `FREEZING` while some task has not
//! stopped yet. v2: `cgroup.freeze` (`1` / `0`, Linux 5.2 and later) in every non-root group,
//! and `frozen 1` in `cgroup.events` once all tasks have stopped.
//!
//! Freezing is asynchronous in both. As libvirt's LXC driver does, [`Cgroup::freeze`] waits
//! for the frozen state with a growing interval and a bound, and thaws the group again when it
//! does not get there, so that a group is never left half-frozen.
//!
//! A v1-frozen task does not even die of SIGKILL until it is thawed (v2 lets fatal signals
//! through): a caller that destroys a frozen container thaws it after the kill, or
//! [`Cgroup::remove`] waits in vain for the group to empty.
//!
//! [`Extra::Freezer`]: crate::Extra::Freezer

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::file::{control, read, write};
use crate::{Cgroup, CgroupError, Result, Version};

/// How long [`Cgroup::freeze`] waits for all tasks to stop. libvirt waits about one second;
/// a little more here, for loaded hosts.
const FREEZE_WAIT: Duration = Duration::from_secs(2);
/// How long [`Cgroup::thaw`] waits for v2 to report the group running.
const THAW_WAIT: Duration = Duration::from_secs(1);

const WHAT: &str = "the cgroup freezer";

/// A group's freezer state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezerState {
    Thawed,
    /// Asked to freeze; some task has not stopped yet.
    Freezing,
    Frozen,
}

impl FreezerState {
    /// v1's spelling: `THAWED`, `FREEZING`, `FROZEN`.
    pub fn as_str(self) -> &'static str {
        match self {
            FreezerState::Thawed => "THAWED",
            FreezerState::Freezing => "FREEZING",
            FreezerState::Frozen => "FROZEN",
        }
    }
}

impl Cgroup {
    /// Freeze the group and wait (bounded) until every task has stopped. On timeout the
    /// group is thawed again and [`CgroupError::FreezeTimeout`] returned.
    pub fn freeze(&self) -> Result<()> {
        let path = self.freezer_file()?;
        let t0 = Instant::now();
        let mut interval = Duration::from_millis(1);
        loop {
            let value = match self.version {
                Version::V1 => "FROZEN",
                Version::V2 => "1",
            };
            match write(&path, value) {
                // v1 answers EBUSY while it is still freezing: the state below decides.
                Err(CgroupError::Write { source, .. })
                    if source.raw_os_error() == Some(libc::EBUSY) => {}
                Err(e) => {
                    let _ = self.thaw();
                    return Err(e);
                }
                Ok(()) => {}
            }
            std::thread::sleep(interval);
            match self.freezer_state() {
                Ok(FreezerState::Frozen) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    let _ = self.thaw();
                    return Err(e);
                }
            }
            if t0.elapsed() >= FREEZE_WAIT {
                let _ = self.thaw();
                return Err(CgroupError::FreezeTimeout {
                    path,
                    waited_ms: t0.elapsed().as_millis(),
                });
            }
            // Quick for an idle group, and no busy polling of a loaded one.
            interval = (interval * 4).min(Duration::from_millis(100));
        }
    }

    /// Let the group's tasks run again.
    pub fn thaw(&self) -> Result<()> {
        let path = self.freezer_file()?;
        match self.version {
            Version::V1 => write(&path, "THAWED"),
            Version::V2 => {
                write(&path, "0")?;
                // `frozen 0` follows at once unless an ancestor is frozen: wait briefly, so
                // that the state reads thawed when this returns, without failing on a frozen
                // ancestor (not this group's business).
                let t0 = Instant::now();
                while self.freezer_state()? == FreezerState::Frozen && t0.elapsed() < THAW_WAIT {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            }
        }
    }

    pub fn freezer_state(&self) -> Result<FreezerState> {
        let path = self.freezer_file()?;
        match self.version {
            Version::V1 => parse_v1_state(&path, &read(&path)?),
            Version::V2 => {
                let events = path.with_file_name("cgroup.events");
                Ok(v2_state(&read(&path)?, &read(&events)?))
            }
        }
    }

    /// `freezer.state` (v1), `cgroup.freeze` (v2).
    fn freezer_file(&self) -> Result<PathBuf> {
        let dir = self.dir_with("freezer")?;
        match self.version {
            Version::V1 => control(&dir, "freezer.state", WHAT),
            Version::V2 => control(&dir, "cgroup.freeze", WHAT),
        }
    }
}

pub(crate) fn parse_v1_state(path: &Path, text: &str) -> Result<FreezerState> {
    match text.trim() {
        "THAWED" => Ok(FreezerState::Thawed),
        "FREEZING" => Ok(FreezerState::Freezing),
        "FROZEN" => Ok(FreezerState::Frozen),
        other => Err(CgroupError::Parse {
            path: path.to_path_buf(),
            reason: format!("unknown freezer state '{other}'"),
        }),
    }
}

/// v2: from `cgroup.freeze` (asked) and `cgroup.events`' `frozen` line (done). Frozen also
/// when an ancestor froze the group, as v1 reports it.
pub(crate) fn v2_state(freeze: &str, events: &str) -> FreezerState {
    let frozen = events.lines().any(|l| {
        l.split_once(' ')
            .is_some_and(|(k, v)| k == "frozen" && v.trim() == "1")
    });
    if frozen {
        FreezerState::Frozen
    } else if freeze.trim() == "1" {
        FreezerState::Freezing
    } else {
        FreezerState::Thawed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let p = Path::new("freezer.state");
        assert_eq!(parse_v1_state(p, "FROZEN\n").unwrap(), FreezerState::Frozen);
        assert_eq!(
            parse_v1_state(p, "FREEZING\n").unwrap(),
            FreezerState::Freezing
        );
        assert_eq!(parse_v1_state(p, "THAWED\n").unwrap(), FreezerState::Thawed);
        assert!(parse_v1_state(p, "SLUSHY\n").is_err());
        assert_eq!(
            v2_state("1\n", "populated 1\nfrozen 1\n"),
            FreezerState::Frozen
        );
        assert_eq!(
            v2_state("1\n", "populated 1\nfrozen 0\n"),
            FreezerState::Freezing
        );
        assert_eq!(
            v2_state("0\n", "populated 1\nfrozen 0\n"),
            FreezerState::Thawed
        );
        // Frozen by an ancestor.
        assert_eq!(v2_state("0\n", "frozen 1\n"), FreezerState::Frozen);
        assert_eq!(FreezerState::Freezing.as_str(), "FREEZING");
    }
}
