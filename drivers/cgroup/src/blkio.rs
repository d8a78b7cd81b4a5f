//! The block I/O weight, libvirt's `<blkiotune><weight>`, and the per-device weights and
//! throttles of `<blkiotune><device>`.
//!
//! As libvirt does, the BFQ scheduler's file is preferred where it exists: v1
//! `blkio.bfq.weight`, else `blkio.weight` (CFQ, gone since Linux 5.0); v2 `io.bfq.weight`
//! (a bare number), else `io.weight` (`default N`). A host whose disks use neither BFQ nor a
//! weight-aware scheduler has neither file: [`CgroupError::Unsupported`], libvirt's "blkio
//! weight is valid only for bfq or cfq scheduler".

use std::path::{Path, PathBuf};

use crate::file::{first_control, read, write};
use crate::{Cgroup, CgroupError, Result, Version};

const WHAT: &str = "the blkio weight (valid only for the bfq or cfq scheduler)";

impl Cgroup {
    /// Set the weight (the kernel takes 1 to 1000 for BFQ, 10 to 1000 for CFQ, 1 to 10000 for
    /// `io.weight`; libvirt's driver checks its own range before).
    pub fn set_blkio_weight(&self, weight: u32) -> Result<()> {
        let path = self.weight_file()?;
        write(&path, &format_weight(&path, weight))
    }

    pub fn blkio_weight(&self) -> Result<u32> {
        let path = self.weight_file()?;
        parse_weight(&path, &read(&path)?)
    }

    fn weight_file(&self) -> Result<PathBuf> {
        match self.version {
            Version::V1 => first_control(
                &self.dir_with("blkio")?,
                &["blkio.bfq.weight", "blkio.weight"],
                WHAT,
            ),
            Version::V2 => {
                first_control(&self.dir_with("io")?, &["io.bfq.weight", "io.weight"], WHAT)
            }
        }
    }
}

/// One per-device value of `<blkiotune><device>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlkioDeviceLimit {
    Weight,
    ReadIops,
    WriteIops,
    ReadBps,
    WriteBps,
}

impl BlkioDeviceLimit {
    /// A throttle's v1 file and v2 `io.max` key; None for the weight.
    fn throttle(self) -> Option<(&'static str, &'static str)> {
        match self {
            BlkioDeviceLimit::Weight => None,
            BlkioDeviceLimit::ReadIops => Some(("blkio.throttle.read_iops_device", "riops")),
            BlkioDeviceLimit::WriteIops => Some(("blkio.throttle.write_iops_device", "wiops")),
            BlkioDeviceLimit::ReadBps => Some(("blkio.throttle.read_bps_device", "rbps")),
            BlkioDeviceLimit::WriteBps => Some(("blkio.throttle.write_bps_device", "wbps")),
        }
    }
}

impl Cgroup {
    /// Set one per-device value for block device `path`, as libvirt's cgroup backends do:
    /// v1 `blkio.(bfq.)weight_device` and `blkio.throttle.*_device` (`MAJ:MIN N`, where 0
    /// removes the rule); v2 `io.(bfq.)weight` (`MAJ:MIN N`, 0 is `default`) and `io.max`
    /// (`MAJ:MIN riops=N`, 0 is `max`).
    pub fn set_blkio_device(&self, limit: BlkioDeviceLimit, path: &Path, value: u64) -> Result<()> {
        let dev = block_device(path)?;
        let (file, text) = match (self.version, limit.throttle()) {
            (Version::V1, None) => {
                let names = ["blkio.bfq.weight_device", "blkio.weight_device"];
                let file = first_control(&self.dir_with("blkio")?, &names, WHAT)?;
                (file, format!("{dev} {value}"))
            }
            (Version::V1, Some((file, _))) => {
                (self.dir_with("blkio")?.join(file), format!("{dev} {value}"))
            }
            (Version::V2, None) => {
                let file =
                    first_control(&self.dir_with("io")?, &["io.bfq.weight", "io.weight"], WHAT)?;
                let v = if value == 0 {
                    "default".to_string()
                } else {
                    value.to_string()
                };
                (file, format!("{dev} {v}"))
            }
            (Version::V2, Some((_, key))) => {
                let v = if value == 0 {
                    "max".to_string()
                } else {
                    value.to_string()
                };
                (
                    self.dir_with("io")?.join("io.max"),
                    format!("{dev} {key}={v}"),
                )
            }
        };
        write(&file, &text)
    }
}

/// `MAJ:MIN` of block device `path` (virCgroupGetBlockDevString).
fn block_device(path: &Path) -> Result<String> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| CgroupError::Inaccessible {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.file_type().is_block_device() {
        return Err(CgroupError::NotBlockDevice {
            path: path.to_path_buf(),
        });
    }
    let rdev = meta.rdev();
    Ok(format!("{}:{}", libc::major(rdev), libc::minor(rdev)))
}

/// The text to write: `default N` to `io.weight` (its per-device lines stay), `N` elsewhere.
pub(crate) fn format_weight(path: &Path, weight: u32) -> String {
    if path.file_name().is_some_and(|n| n == "io.weight") {
        format!("default {weight}")
    } else {
        weight.to_string()
    }
}

/// `N`, or the `default N` line of `io.weight` and of newer kernels' `io.bfq.weight`.
pub(crate) fn parse_weight(path: &Path, text: &str) -> Result<u32> {
    let line = text
        .lines()
        .find(|l| l.starts_with("default "))
        .map(|l| &l["default ".len()..])
        .or_else(|| text.lines().next())
        .unwrap_or("");
    line.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        reason: format!("no weight in '{}'", text.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        let io = Path::new("/g/io.weight");
        let bfq = Path::new("/g/io.bfq.weight");
        let v1 = Path::new("/g/blkio.weight");
        assert_eq!(format_weight(io, 500), "default 500");
        assert_eq!(format_weight(bfq, 500), "500");
        assert_eq!(format_weight(v1, 500), "500");
        assert_eq!(parse_weight(io, "default 100\n8:0 200\n").unwrap(), 100);
        assert_eq!(parse_weight(bfq, "default 300\n").unwrap(), 300);
        assert_eq!(parse_weight(v1, "500\n").unwrap(), 500);
        assert!(parse_weight(v1, "\n").is_err());
        assert!(parse_weight(io, "8:0 200\n").is_err());
    }

    #[test]
    fn device_paths() {
        assert!(matches!(
            block_device(Path::new("/dev/null")),
            Err(CgroupError::NotBlockDevice { .. })
        ));
        assert!(matches!(
            block_device(Path::new("/nonexistent")),
            Err(CgroupError::Inaccessible { .. })
        ));
    }
}
