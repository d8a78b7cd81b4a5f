//! What `/proc` says about a process: its start time (to tell a pid from a reused one) and
//! the CPU time it used (virDomainGetInfo's cpuTime, as libvirt reads it without cgroups).

use std::io;

use serde::{Deserialize, Serialize};

/// A process, named so that pid reuse cannot fool us: the pid plus its start time in clock
/// ticks since boot (field 22 of `/proc/PID/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    pub pid: i32,
    pub start_ticks: u64,
}

impl ProcessIdentity {
    /// The identity of a running process; `None` when it does not exist.
    pub fn of(pid: i32) -> Option<ProcessIdentity> {
        Some(ProcessIdentity {
            pid,
            start_ticks: process_start_ticks(pid).ok()?,
        })
    }

    /// Is this very process still there (not a zombie, not a new process with the same pid)?
    pub fn is_alive(&self) -> bool {
        match stat_fields(self.pid) {
            Ok(f) => {
                // Field 3 (index 0 after the comm) is the state; a zombie has exited.
                f.first().map(String::as_str) != Some("Z")
                    && f.get(19).and_then(|s| s.parse::<u64>().ok()) == Some(self.start_ticks)
            }
            Err(_) => false,
        }
    }
}

/// The fields of `/proc/PID/stat` after the `(comm)`, which may itself contain spaces and
/// parentheses: index 0 is field 3 (state).
fn stat_fields(pid: i32) -> io::Result<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    Ok(rest.split_whitespace().map(str::to_string).collect())
}

/// Field 22 of `/proc/PID/stat`: start time in clock ticks after boot.
pub fn process_start_ticks(pid: i32) -> io::Result<u64> {
    let f = stat_fields(pid)?;
    f.get(19)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("malformed /proc stat"))
}

/// User plus system CPU time of the whole process (all threads), in nanoseconds.
pub fn process_cpu_time_ns(pid: i32) -> io::Result<u64> {
    let f = stat_fields(pid)?;
    let field = |i: usize| -> io::Result<u64> {
        f.get(i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other("malformed /proc stat"))
    };
    // Fields 14 and 15: utime and stime.
    let ticks = field(11)? + field(12)?;
    Ok(ticks.saturating_mul(1_000_000_000) / clock_ticks_per_sec())
}

/// The clock tick rate, shared with the cgroup counters.
pub use virtsh_cgroup::clock_ticks_per_sec;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_changed_start_is_not() {
        let me = ProcessIdentity::of(std::process::id() as i32).expect("self");
        assert!(me.is_alive());
        let other = ProcessIdentity {
            start_ticks: me.start_ticks + 1,
            ..me
        };
        assert!(!other.is_alive());
        assert!(ProcessIdentity::of(i32::MAX).is_none());
        assert!(process_cpu_time_ns(me.pid).is_ok());
    }
}
