//! The block I/O weight, libvirt's `<blkiotune><weight>`.
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
}
