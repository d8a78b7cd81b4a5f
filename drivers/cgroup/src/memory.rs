//! Memory limits, as libvirt's `<memtune>` sets them: hard limit, soft limit and swap hard
//! limit, in KiB, with [`MEMORY_UNLIMITED_KIB`] for "no limit".
//!
//! | libvirt          | v1                             | v2                |
//! |------------------|--------------------------------|-------------------|
//! | hard_limit       | `memory.limit_in_bytes`        | `memory.max`      |
//! | soft_limit       | `memory.soft_limit_in_bytes`   | `memory.high`     |
//! | swap_hard_limit  | `memory.memsw.limit_in_bytes`  | `memory.swap.max` |
//!
//! Unlimited is written as `-1` (v1) and `max` (v2). Read back, v1 reports "unlimited" as the
//! top group's own limit (`9223372036854771712`, the largest page count in bytes), so, as
//! libvirt does, any value at or above the top group's limit reads as unlimited.
//!
//! v1's `memsw` limit counts memory plus swap, v2's `memory.swap.max` swap alone. libvirt 9.0
//! writes the KiB value to `memory.swap.max` as it is, without subtracting the hard limit, and
//! reads it back the same way; virtsh does the same, so that a domain's `<memtune>` gives the
//! same files under both tools.
//!
//! `memory.memsw.*` exists only with swap accounting (`swapaccount=1`, or
//! `CONFIG_MEMCG_SWAP_ENABLED`); `memory.max` and friends only when the v2 memory controller is
//! enabled for the group. Without them these are [`CgroupError::Unsupported`].

use std::path::Path;

use crate::file::{control, parse_num, read, write};
use crate::{Cgroup, CgroupError, Result, Version};

/// libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: `INT64_MAX >> 10` KiB, "no limit".
pub const MEMORY_UNLIMITED_KIB: u64 = 9_007_199_254_740_991;

/// libvirt's `<memtune>` limits, in KiB; `None` leaves a limit as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemTune {
    pub hard_limit: Option<u64>,
    pub soft_limit: Option<u64>,
    pub swap_hard_limit: Option<u64>,
}

/// One of the three limits: its files and its name in messages.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Hard,
    Soft,
    Swap,
}

impl Limit {
    fn file(self, version: Version) -> &'static str {
        match (self, version) {
            (Limit::Hard, Version::V1) => "memory.limit_in_bytes",
            (Limit::Soft, Version::V1) => "memory.soft_limit_in_bytes",
            (Limit::Swap, Version::V1) => "memory.memsw.limit_in_bytes",
            (Limit::Hard, Version::V2) => "memory.max",
            (Limit::Soft, Version::V2) => "memory.high",
            (Limit::Swap, Version::V2) => "memory.swap.max",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Limit::Hard => "the memory hard limit",
            Limit::Soft => "the memory soft limit",
            Limit::Swap => "the memory swap hard limit",
        }
    }
}

impl Cgroup {
    /// Set the limits that are `Some`, in an order the kernel accepts: v1 refuses a memsw
    /// limit below the memory limit, so, as libvirt does, the hard limit goes first when it
    /// decreases and after the swap limit otherwise. The soft limit clashes with neither.
    /// A hard limit above the swap hard limit is refused, with libvirt's message.
    pub fn set_memtune(&self, tune: &MemTune) -> Result<()> {
        if let (Some(hard), Some(swap)) = (tune.hard_limit, tune.swap_hard_limit) {
            if hard > swap {
                return Err(CgroupError::InvalidValue(
                    "memory hard_limit tunable value must be lower than or equal to \
                     swap_hard_limit"
                        .into(),
                ));
            }
        }
        if let Some(soft) = tune.soft_limit {
            self.set_memory_soft_limit(soft)?;
        }
        let mut hard = tune.hard_limit;
        if let Some(h) = hard {
            if tune.swap_hard_limit.is_some() && self.memory_hard_limit()? > h {
                self.set_memory_hard_limit(h)?;
                hard = None;
            }
        }
        if let Some(swap) = tune.swap_hard_limit {
            self.set_memory_swap_hard_limit(swap)?;
        }
        if let Some(h) = hard {
            self.set_memory_hard_limit(h)?;
        }
        Ok(())
    }

    /// The three limits, in KiB ([`MEMORY_UNLIMITED_KIB`] when unlimited). The swap limit is
    /// `None` when this host has no swap accounting (v1) or no `memory.swap.max` (v2).
    pub fn memtune(&self) -> Result<MemTune> {
        let swap = match self.memory_swap_hard_limit() {
            Ok(v) => Some(v),
            Err(CgroupError::Unsupported { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(MemTune {
            hard_limit: Some(self.memory_hard_limit()?),
            soft_limit: Some(self.memory_soft_limit()?),
            swap_hard_limit: swap,
        })
    }

    /// `memory.limit_in_bytes` (v1), `memory.max` (v2), from KiB.
    pub fn set_memory_hard_limit(&self, kib: u64) -> Result<()> {
        self.set_limit(Limit::Hard, kib)
    }

    /// `memory.soft_limit_in_bytes` (v1), `memory.high` (v2), from KiB.
    pub fn set_memory_soft_limit(&self, kib: u64) -> Result<()> {
        self.set_limit(Limit::Soft, kib)
    }

    /// `memory.memsw.limit_in_bytes` (v1: memory plus swap), `memory.swap.max` (v2), from KiB.
    pub fn set_memory_swap_hard_limit(&self, kib: u64) -> Result<()> {
        self.set_limit(Limit::Swap, kib)
    }

    /// In KiB; [`MEMORY_UNLIMITED_KIB`] when unlimited.
    pub fn memory_hard_limit(&self) -> Result<u64> {
        self.limit(Limit::Hard)
    }

    /// In KiB; [`MEMORY_UNLIMITED_KIB`] when unlimited.
    pub fn memory_soft_limit(&self) -> Result<u64> {
        self.limit(Limit::Soft)
    }

    /// In KiB; [`MEMORY_UNLIMITED_KIB`] when unlimited.
    pub fn memory_swap_hard_limit(&self) -> Result<u64> {
        self.limit(Limit::Swap)
    }

    fn set_limit(&self, which: Limit, kib: u64) -> Result<()> {
        let value = match self.version {
            Version::V1 => encode_v1(kib)?,
            Version::V2 => encode_v2(kib)?,
        };
        let dir = self.dir_with("memory")?;
        write(
            &control(&dir, which.file(self.version), which.what())?,
            &value,
        )
    }

    fn limit(&self, which: Limit) -> Result<u64> {
        let dir = self.dir_with("memory")?;
        let path = control(&dir, which.file(self.version), which.what())?;
        let text = read(&path)?;
        match self.version {
            Version::V1 => {
                let top = self.mount_with("memory")?;
                decode_v1(&path, &text, v1_unlimited_kib(&top))
            }
            Version::V2 => decode_v2(&path, &text),
        }
    }
}

fn check_kib(kib: u64) -> Result<()> {
    if kib > MEMORY_UNLIMITED_KIB {
        return Err(CgroupError::InvalidValue(format!(
            "Memory '{kib}' must be less than {MEMORY_UNLIMITED_KIB}"
        )));
    }
    Ok(())
}

/// The v1 file's text for `kib`: `-1` for unlimited, else bytes.
pub(crate) fn encode_v1(kib: u64) -> Result<String> {
    check_kib(kib)?;
    Ok(if kib == MEMORY_UNLIMITED_KIB {
        "-1".into()
    } else {
        // Cannot overflow: kib < 2^53.
        (kib << 10).to_string()
    })
}

/// The v2 file's text for `kib`: `max` for unlimited, else bytes.
pub(crate) fn encode_v2(kib: u64) -> Result<String> {
    check_kib(kib)?;
    Ok(if kib == MEMORY_UNLIMITED_KIB {
        "max".into()
    } else {
        (kib << 10).to_string()
    })
}

/// A v1 limit in KiB: at or above `unlimited_kib` (the top group's limit) is unlimited.
pub(crate) fn decode_v1(path: &Path, text: &str, unlimited_kib: u64) -> Result<u64> {
    let kib = parse_num::<u64>(path, text)? >> 10;
    Ok(if kib >= unlimited_kib {
        MEMORY_UNLIMITED_KIB
    } else {
        kib
    })
}

/// A v2 limit in KiB: `max`, or bytes.
pub(crate) fn decode_v2(path: &Path, text: &str) -> Result<u64> {
    if text.trim() == "max" {
        return Ok(MEMORY_UNLIMITED_KIB);
    }
    let kib = parse_num::<u64>(path, text)? >> 10;
    Ok(kib.min(MEMORY_UNLIMITED_KIB))
}

/// The v1 "unlimited" value in KiB: the top group's `memory.limit_in_bytes`, which nobody can
/// change; libvirt's constant when it cannot be read.
fn v1_unlimited_kib(top: &Path) -> u64 {
    std::fs::read_to_string(top.join("memory.limit_in_bytes"))
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(|b| b >> 10)
        .filter(|&k| k > 0)
        .unwrap_or(MEMORY_UNLIMITED_KIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "memory.max";

    #[test]
    fn v1_values() {
        assert_eq!(encode_v1(1024).unwrap(), "1048576");
        assert_eq!(encode_v1(MEMORY_UNLIMITED_KIB).unwrap(), "-1");
        let e = encode_v1(MEMORY_UNLIMITED_KIB + 1).unwrap_err().to_string();
        assert_eq!(
            e,
            "Memory '9007199254740992' must be less than 9007199254740991"
        );
        // The kernel's "unlimited", PAGE_COUNTER_MAX pages of 4 KiB.
        let top = 9_223_372_036_854_771_712u64 >> 10;
        let p = Path::new(P);
        assert_eq!(
            decode_v1(p, "9223372036854771712\n", top).unwrap(),
            MEMORY_UNLIMITED_KIB
        );
        assert_eq!(decode_v1(p, "1048576\n", top).unwrap(), 1024);
        assert!(decode_v1(p, "lots\n", top).is_err());
    }

    #[test]
    fn v2_values() {
        let p = Path::new(P);
        assert_eq!(encode_v2(2048).unwrap(), "2097152");
        assert_eq!(encode_v2(MEMORY_UNLIMITED_KIB).unwrap(), "max");
        assert!(encode_v2(u64::MAX).is_err());
        assert_eq!(decode_v2(p, "max\n").unwrap(), MEMORY_UNLIMITED_KIB);
        assert_eq!(decode_v2(p, "2097152\n").unwrap(), 2048);
        assert_eq!(
            decode_v2(p, "18446744073709551615\n").unwrap(),
            MEMORY_UNLIMITED_KIB
        );
        let e = decode_v2(p, "x\n").unwrap_err().to_string();
        assert_eq!(e, "cannot parse memory.max: not a number: 'x'");
    }
}
