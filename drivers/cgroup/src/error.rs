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
    /// A control whose file this host does not have: `memory.memsw.limit_in_bytes` without
    /// swap accounting, `blkio.weight` without the bfq or cfq I/O scheduler, `memory.max` or
    /// `io.weight` when the v2 controller is not enabled for the group, `cgroup.freeze` before
    /// Linux 5.2, `devices.list` on v2. Distinct from a failed read or write, so that a driver
    /// can answer as libvirt does ("operation not supported").
    #[error("{what} is not supported on this host ({path} does not exist)", path = path.display())]
    Unsupported { what: &'static str, path: PathBuf },
    /// A value out of the range libvirt accepts, with libvirt's wording
    /// ("shares '1' must be in range [2, 262144]").
    #[error("{0}")]
    InvalidValue(String),
    /// The group's tasks did not all stop within the bound; the group was thawed again.
    #[error("cgroup {path} did not freeze within {waited_ms} ms", path = path.display())]
    FreezeTimeout { path: PathBuf, waited_ms: u128 },
    /// A bpf(2) call for the v2 device filter failed. `log` is the verifier's output when the
    /// kernel refused the program.
    #[error(
        "cannot {op} the device filter of cgroup {path}: {source}{log}",
        path = path.display(),
        log = if log.is_empty() { String::new() } else { format!("\n{log}") }
    )]
    Bpf {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
        log: String,
    },
    #[error("invalid device rule '{0}'")]
    InvalidDeviceRule(String),
    /// A per-device I/O limit named a path that is not a block device (libvirt's wording).
    #[error("Path '{path}' must be a block device", path = path.display())]
    NotBlockDevice { path: PathBuf },
    /// A per-device I/O limit named a path that cannot be looked at (libvirt's wording).
    #[error("Path '{path}' is not accessible: {source}", path = path.display())]
    Inaccessible { path: PathBuf, source: io::Error },
}

pub type Result<T> = std::result::Result<T, CgroupError>;

impl CgroupError {
    /// The group (or a parent) went away meanwhile: removed by a concurrent
    /// [`Cgroup::remove`] or [`sweep_empty`] (ENOENT, or ENODEV for a file of a removed group).
    ///
    /// [`Cgroup::remove`]: crate::Cgroup::remove
    /// [`sweep_empty`]: crate::sweep_empty
    /// A control this host does not have ([`CgroupError::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, CgroupError::Unsupported { .. })
    }

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
