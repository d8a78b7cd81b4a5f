//! The group's CPU and memory counters, and the parsing of their files.

use std::path::Path;

use crate::file::{control, read};
use crate::{Cgroup, CgroupError, Result, Version};

/// The CPU time a group used, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub usage_ns: u64,
    pub user_ns: u64,
    pub system_ns: u64,
}

impl Cgroup {
    /// Total CPU time of the group's tasks, in ns: `cpuacct.usage` (v1), `cpu.stat` usage_usec
    /// (v2).
    pub fn cpu_usage_ns(&self) -> Result<u64> {
        match self.version {
            Version::V1 => {
                let path = self.dir_with("cpuacct")?.join("cpuacct.usage");
                parse_u64(&path, &read(&path)?)
            }
            Version::V2 => Ok(self.cpu_times()?.usage_ns),
        }
    }

    /// Total, user and system CPU time in ns: `cpuacct.usage` and `cpuacct.stat` (v1, whose
    /// user and system are in clock ticks), `cpu.stat` (v2).
    pub fn cpu_times(&self) -> Result<CpuTimes> {
        match self.version {
            Version::V1 => {
                let dir = self.dir_with("cpuacct")?;
                let usage_path = dir.join("cpuacct.usage");
                let usage_ns = parse_u64(&usage_path, &read(&usage_path)?)?;
                let stat_path = dir.join("cpuacct.stat");
                let (user, system) =
                    parse_cpuacct_stat(&read(&stat_path)?).ok_or_else(|| CgroupError::Parse {
                        path: stat_path.clone(),
                        reason: "no user and system lines".into(),
                    })?;
                let tick_ns = 1_000_000_000 / clock_ticks_per_sec();
                Ok(CpuTimes {
                    usage_ns,
                    user_ns: user.saturating_mul(tick_ns),
                    system_ns: system.saturating_mul(tick_ns),
                })
            }
            Version::V2 => {
                let path = self.dir_with("cpu")?.join("cpu.stat");
                parse_cpu_stat(&read(&path)?).ok_or_else(|| CgroupError::Parse {
                    path,
                    reason: "no usage_usec line".into(),
                })
            }
        }
    }

    /// CPU time per host CPU in ns, from `cpuacct.usage_percpu`. v1 only: on v2,
    /// [`CgroupError::PerCpuUnsupported`].
    pub fn cpu_usage_percpu_ns(&self) -> Result<Vec<u64>> {
        match self.version {
            Version::V1 => {
                let path = self.dir_with("cpuacct")?.join("cpuacct.usage_percpu");
                let text = read(&path)?;
                parse_percpu(&text).ok_or_else(|| CgroupError::Parse {
                    path,
                    reason: format!("not a list of numbers: '{}'", text.trim()),
                })
            }
            Version::V2 => Err(CgroupError::PerCpuUnsupported {
                path: self.rel.clone(),
            }),
        }
    }

    /// Memory charged to the group, in bytes: `memory.usage_in_bytes` (v1), `memory.current`
    /// (v2, when the memory controller is enabled for the group; else
    /// [`CgroupError::Unsupported`]).
    pub fn memory_current(&self) -> Result<u64> {
        let dir = self.dir_with("memory")?;
        let name = match self.version {
            Version::V1 => "memory.usage_in_bytes",
            Version::V2 => "memory.current",
        };
        let path = control(&dir, name, "the memory usage")?;
        parse_u64(&path, &read(&path)?)
    }
}

impl Cgroup {
    /// What libvirt reports as the group's swap usage (virCgroupGetMemSwapUsage), in bytes:
    /// memory plus swap, `memory.memsw.usage_in_bytes` (v1, with swap accounting), or swap
    /// alone, `memory.swap.current` (v2).
    pub fn memory_swap_current(&self) -> Result<u64> {
        let dir = self.dir_with("memory")?;
        let name = match self.version {
            Version::V1 => "memory.memsw.usage_in_bytes",
            Version::V2 => "memory.swap.current",
        };
        let path = control(&dir, name, "the swap usage")?;
        parse_u64(&path, &read(&path)?)
    }
}

fn parse_u64(path: &Path, text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        reason: format!("not a number: '{}'", text.trim()),
    })
}

/// `cpuacct.usage_percpu`: ns per CPU, space separated.
pub fn parse_percpu(text: &str) -> Option<Vec<u64>> {
    text.split_whitespace().map(|s| s.parse().ok()).collect()
}

/// `cpuacct.stat`: user and system time, in clock ticks.
pub fn parse_cpuacct_stat(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.trim().parse().ok()).flatten()
        })
    };
    Some((field("user")?, field("system")?))
}

/// v2 `cpu.stat`: usage_usec, user_usec and system_usec, as ns.
pub fn parse_cpu_stat(text: &str) -> Option<CpuTimes> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.trim().parse::<u64>().ok()).flatten()
        })
    };
    Some(CpuTimes {
        usage_ns: field("usage_usec")?.saturating_mul(1000),
        user_ns: field("user_usec").unwrap_or(0).saturating_mul(1000),
        system_ns: field("system_usec").unwrap_or(0).saturating_mul(1000),
    })
}

/// The kernel's clock tick rate (`USER_HZ`), the unit of cpuacct.stat and /proc/PID/stat times.
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuacct_files() {
        assert_eq!(parse_percpu("123 0 456789 \n"), Some(vec![123, 0, 456789]));
        assert_eq!(parse_percpu("12 x\n"), None);
        assert_eq!(parse_cpuacct_stat("user 17\nsystem 4\n"), Some((17, 4)));
        assert_eq!(parse_cpuacct_stat("user 17\n"), None);
    }

    #[test]
    fn cpu_stat_v2() {
        let text = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n";
        assert_eq!(
            parse_cpu_stat(text),
            Some(CpuTimes {
                usage_ns: 1_500_000,
                user_ns: 1_000_000,
                system_ns: 500_000
            })
        );
        assert_eq!(parse_cpu_stat("nr_periods 0\n"), None);
    }
}
