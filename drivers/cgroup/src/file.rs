//! Reading and writing cgroup files, with errors that name the file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{CgroupError, Result};

pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

pub(crate) fn read_procs(dir: &Path) -> Result<Vec<i32>> {
    Ok(read(&dir.join("cgroup.procs"))?
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect())
}

/// `dir/name`, or [`CgroupError::Unsupported`] when the group's directory is there and the
/// file is not: the kernel has no such control (or the v2 controller is not enabled for the
/// group). A missing directory is left to the read or write to report.
pub(crate) fn control(dir: &Path, name: &str, what: &'static str) -> Result<PathBuf> {
    let path = dir.join(name);
    if !path.exists() && dir.is_dir() {
        return Err(CgroupError::Unsupported { what, path });
    }
    Ok(path)
}

/// The first of `names` that exists in `dir`; [`CgroupError::Unsupported`] naming the last
/// when none does.
pub(crate) fn first_control(dir: &Path, names: &[&str], what: &'static str) -> Result<PathBuf> {
    for n in names {
        let p = dir.join(n);
        if p.exists() {
            return Ok(p);
        }
    }
    control(dir, names.last().copied().unwrap_or_default(), what)
}

/// A whole-number file (`memory.limit_in_bytes`, `cpu.shares`, ...).
pub(crate) fn parse_num<T: std::str::FromStr>(path: &Path, text: &str) -> Result<T> {
    text.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        reason: format!("not a number: '{}'", text.trim()),
    })
}
