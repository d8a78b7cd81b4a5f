//! Atomic replacement of a file: the reader sees the old content or the new, never a mix.
//!
//! [`write()`] creates a temporary file in the same directory (so the rename stays on one file
//! system), writes and fsyncs it, renames it over the target and fsyncs the directory so the
//! rename itself is durable. On any error the target is untouched and the temporary file removed.
//!
//! Temporary files are named `.<file>.tmp.<pid>.<n>`: a leading dot (object names cannot start
//! with one, see [`super::validate_name`]) and the writer's pid, so a file left by a writer that
//! crashed before the rename can be recognised and removed ([`clean_stale_temps`]) without
//! disturbing a writer that is still running.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::StateError;

const TEMP_MARKER: &str = ".tmp.";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replace `path` with `bytes` atomically; new files get mode 0600.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let (dir, _) = split(path)?;
    let tmp = temp_path_for(path)?;
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(StateError::io(path, e));
    }
    fsync_dir(dir).map_err(|e| StateError::io(dir, e))
}

/// A fresh, unused temporary path beside `path` (`.<file>.tmp.<pid>.<n>`).
pub fn temp_path_for(path: &Path) -> Result<PathBuf, StateError> {
    let (dir, file_name) = split(path)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(
        ".{file_name}{TEMP_MARKER}{}.{n}",
        std::process::id()
    )))
}

/// The pid of the writer of a temporary file name made by [`temp_path_for`], if it is one.
pub fn temp_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    let (_, after) = rest.rsplit_once(TEMP_MARKER)?;
    let (pid, n) = after.split_once('.')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Remove the temporary files in `dir` whose writer process no longer exists (a crash between
/// create and rename). Returns the files removed. Temporaries of live writers are left alone.
pub fn clean_stale_temps(dir: &Path) -> Result<Vec<PathBuf>, StateError> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(StateError::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StateError::io(dir, e))?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let p = entry.path();
            if fs::remove_file(&p).is_ok() {
                removed.push(p);
            }
        }
    }
    Ok(removed)
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn split(path: &Path) -> Result<(&Path, &str), StateError> {
    let bad = || {
        StateError::io(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        )
    };
    let file_name = path.file_name().and_then(|n| n.to_str()).ok_or_else(bad)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok((dir, file_name))
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
