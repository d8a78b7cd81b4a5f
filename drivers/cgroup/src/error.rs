//! The crate's error type: every error names the file or directory it is about.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cannot read {path}: {source}", path = path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write '{value}' to {path}: {source}", path = path.display())]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("cannot create cgroup {path}: {source}", path = path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot remove cgroup {path}: {source}", path = path.display())]
    Remove { path: PathBuf, source: io::Error },
    #[error("cannot parse {path}: {reason}", path = path.display())]
    Parse { path: PathBuf, reason: String },
    #[error(
        "no cgroup hierarchy with the cpu, cpuacct, memory, pids or cpuset controller is mounted"
    )]
    NotMounted,
    #[error("cgroup {path} does not exist in any mounted hierarchy")]
    NotFound { path: String },
    #[error("cgroup {path} already holds other processes", path = path.display())]
    Busy { path: PathBuf },
    #[error("invalid cgroup name '{0}'")]
    InvalidName(String),
    #[error("the {controller} controller is not available for cgroup {path}")]
    NoController {
        controller: &'static str,
        path: String,
    },
    #[error("cgroup v2 has no per-CPU usage (cgroup {path})")]
    PerCpuUnsupported { path: String },
}

pub type Result<T> = std::result::Result<T, CgroupError>;

impl CgroupError {
    /// The group (or a parent) went away meanwhile: removed by a concurrent
    /// [`Cgroup::remove`] or [`sweep_empty`] (ENOENT, or ENODEV for a file of a removed group).
    ///
    /// [`Cgroup::remove`]: crate::Cgroup::remove
    /// [`sweep_empty`]: crate::sweep_empty
    pub(crate) fn vanished(&self) -> bool {
        match self {
            CgroupError::Read { source, .. }
            | CgroupError::Write { source, .. }
            | CgroupError::Create { source, .. } => {
                source.kind() == io::ErrorKind::NotFound
                    || source.raw_os_error() == Some(libc::ENODEV)
            }
            _ => false,
        }
    }
}
