//! Reading and writing cgroup files, with errors that name the file.

use std::fs;
use std::path::Path;

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
