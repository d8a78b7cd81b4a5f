//! CPU shares and CFS bandwidth (period and quota), as libvirt's `<cputune>` and `schedinfo`
//! set them.
//!
//! | libvirt     | v1                  | v2                               |
//! |-------------|---------------------|----------------------------------|
//! | shares      | `cpu.shares`        | `cpu.weight`, the value as it is |
//! | period (us) | `cpu.cfs_period_us` | `cpu.max`, second field          |
//! | quota (us)  | `cpu.cfs_quota_us`  | `cpu.max`, first field           |
//!
//! libvirt 9.0 writes the shares value to `cpu.weight` unconverted (the kernel takes 1 to
//! 10000 there, so 1024 stays 1024, and a value above 10000 is the kernel's ERANGE); virtsh
//! does the same, so that a domain's `<shares>` reads back the same under both tools.
//!
//! An unlimited quota is `-1` in v1 and `max` in v2. Read back, libvirt reports v1's as `-1`
//! and v2's as [`CPU_QUOTA_MAX`]; virsh `schedinfo` shows exactly that, so virtsh keeps the
//! difference.

use std::path::Path;

use crate::file::{control, parse_num, read, write};
use crate::{Cgroup, CgroupError, Result, Version};

/// libvirt's VIR_CGROUP_CPU_SHARES_MIN and _MAX.
pub const CPU_SHARES_MIN: u64 = 2;
pub const CPU_SHARES_MAX: u64 = 262_144;
/// libvirt's VIR_CGROUP_CPU_PERIOD_MIN and _MAX, in us.
pub const CPU_PERIOD_MIN: u64 = 1000;
pub const CPU_PERIOD_MAX: u64 = 1_000_000;
/// libvirt's VIR_CGROUP_CPU_QUOTA_MIN and _MAX, in us (the kernel's largest quota, 2^44 - 1).
pub const CPU_QUOTA_MIN: i64 = 1000;
pub const CPU_QUOTA_MAX: i64 = 17_592_186_044_415;

const SHARES: &str = "CPU shares";
const BANDWIDTH: &str = "CPU bandwidth (CFS period and quota)";

impl Cgroup {
    /// `cpu.shares` (v1), `cpu.weight` (v2); libvirt's range, [`CPU_SHARES_MIN`] to
    /// [`CPU_SHARES_MAX`].
    pub fn set_cpu_shares(&self, shares: u64) -> Result<()> {
        if !(CPU_SHARES_MIN..=CPU_SHARES_MAX).contains(&shares) {
            return Err(CgroupError::InvalidValue(format!(
                "shares '{shares}' must be in range [{CPU_SHARES_MIN}, {CPU_SHARES_MAX}]"
            )));
        }
        write(&self.shares_file()?, &shares.to_string())
    }

    pub fn cpu_shares(&self) -> Result<u64> {
        let path = self.shares_file()?;
        parse_num(&path, &read(&path)?)
    }

    /// `cpu.cfs_period_us` (v1); v2 rewrites `cpu.max` with its quota kept.
    pub fn set_cpu_cfs_period(&self, period_us: u64) -> Result<()> {
        if !(CPU_PERIOD_MIN..=CPU_PERIOD_MAX).contains(&period_us) {
            return Err(CgroupError::InvalidValue(format!(
                "cfs_period '{period_us}' must be in range ({CPU_PERIOD_MIN}, {CPU_PERIOD_MAX})"
            )));
        }
        let path = self.bandwidth_file("cpu.cfs_period_us")?;
        match self.version {
            Version::V1 => write(&path, &period_us.to_string()),
            Version::V2 => {
                let (quota, _) = parse_cpu_max(&path, &read(&path)?)?;
                write(&path, &format_cpu_max(quota, period_us))
            }
        }
    }

    /// In us.
    pub fn cpu_cfs_period(&self) -> Result<u64> {
        let path = self.bandwidth_file("cpu.cfs_period_us")?;
        match self.version {
            Version::V1 => parse_num(&path, &read(&path)?),
            Version::V2 => Ok(parse_cpu_max(&path, &read(&path)?)?.1),
        }
    }

    /// In us; negative for unlimited. v2 also takes [`CPU_QUOTA_MAX`] as unlimited (its
    /// reading of `max`).
    pub fn set_cpu_cfs_quota(&self, quota_us: i64) -> Result<()> {
        if quota_us >= 0 && !(CPU_QUOTA_MIN..=CPU_QUOTA_MAX).contains(&quota_us) {
            return Err(CgroupError::InvalidValue(format!(
                "cfs_quota '{quota_us}' must be in range ({CPU_QUOTA_MIN}, {CPU_QUOTA_MAX})"
            )));
        }
        let path = self.bandwidth_file("cpu.cfs_quota_us")?;
        match self.version {
            Version::V1 => write(&path, &quota_us.to_string()),
            // One field: the kernel keeps the period.
            Version::V2 if quota_us < 0 || quota_us == CPU_QUOTA_MAX => write(&path, "max"),
            Version::V2 => write(&path, &quota_us.to_string()),
        }
    }

    /// In us, in libvirt's convention: unlimited is `-1` on v1 and [`CPU_QUOTA_MAX`] on v2.
    pub fn cpu_cfs_quota(&self) -> Result<i64> {
        let path = self.bandwidth_file("cpu.cfs_quota_us")?;
        match self.version {
            Version::V1 => parse_num(&path, &read(&path)?),
            Version::V2 => Ok(parse_cpu_max(&path, &read(&path)?)?
                .0
                .unwrap_or(CPU_QUOTA_MAX)),
        }
    }

    fn shares_file(&self) -> Result<std::path::PathBuf> {
        let dir = self.dir_with("cpu")?;
        match self.version {
            Version::V1 => control(&dir, "cpu.shares", SHARES),
            Version::V2 => control(&dir, "cpu.weight", SHARES),
        }
    }

    /// The v1 file `v1_name`, or v2's `cpu.max`.
    fn bandwidth_file(&self, v1_name: &str) -> Result<std::path::PathBuf> {
        let dir = self.dir_with("cpu")?;
        match self.version {
            Version::V1 => control(&dir, v1_name, BANDWIDTH),
            Version::V2 => control(&dir, "cpu.max", BANDWIDTH),
        }
    }
}

/// v2 `cpu.max`: `QUOTA PERIOD` or `max PERIOD`, as (quota, `None` for max; period).
pub(crate) fn parse_cpu_max(path: &Path, text: &str) -> Result<(Option<i64>, u64)> {
    let bad = || CgroupError::Parse {
        path: path.to_path_buf(),
        reason: format!("not 'QUOTA PERIOD': '{}'", text.trim()),
    };
    let mut f = text.split_whitespace();
    let (Some(q), Some(p), None) = (f.next(), f.next(), f.next()) else {
        return Err(bad());
    };
    let quota = match q {
        "max" => None,
        q => Some(q.parse().map_err(|_| bad())?),
    };
    Ok((quota, p.parse().map_err(|_| bad())?))
}

/// v2 `cpu.max`'s text for a quota (`None`: unlimited) and a period.
pub(crate) fn format_cpu_max(quota: Option<i64>, period_us: u64) -> String {
    match quota {
        Some(q) => format!("{q} {period_us}"),
        None => format!("max {period_us}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max() {
        let p = Path::new("cpu.max");
        assert_eq!(parse_cpu_max(p, "max 100000\n").unwrap(), (None, 100000));
        assert_eq!(
            parse_cpu_max(p, "50000 100000\n").unwrap(),
            (Some(50000), 100000)
        );
        assert!(parse_cpu_max(p, "50000\n").is_err());
        assert!(parse_cpu_max(p, "x 100000\n").is_err());
        assert!(parse_cpu_max(p, "1 2 3\n").is_err());
        assert_eq!(format_cpu_max(None, 20000), "max 20000");
        assert_eq!(format_cpu_max(Some(5000), 20000), "5000 20000");
    }
}
