//! The per-object state change lock: `flock(LOCK_EX)` on `<dir>/<name>.lock`.
//!
//! flock locks belong to the open file description, so two threads of one process contend just
//! like two processes do, and the kernel releases the lock when the holder exits, however it
//! exits: a crashed command never leaves an object locked. The lock file itself is left in place
//! (removing it would let a third process lock a fresh inode while the second holds the old one).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{validate_name, StateError};

/// How long to sleep between attempts while another holder has the lock.
const RETRY: Duration = Duration::from_millis(20);

/// A held state change lock; released on drop.
#[derive(Debug)]
pub struct ObjectLock {
    file: File,
    path: PathBuf,
    name: String,
}

impl ObjectLock {
    /// Take the lock of object `name` in `dir`, waiting up to `timeout` for another holder
    /// (`Duration::ZERO`: try once). Fails with [`StateError::Busy`] naming the object.
    pub fn acquire(dir: &Path, name: &str, timeout: Duration) -> Result<ObjectLock, StateError> {
        validate_name(name)?;
        let path = dir.join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StateError::io(&path, e))?;
        let start = Instant::now();
        loop {
            // SAFETY: flock on an fd we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(ObjectLock {
                    file,
                    path,
                    name: name.to_string(),
                });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => {}
                _ => return Err(StateError::io(&path, err)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(StateError::Busy {
                    name: name.to_string(),
                    path,
                    waited,
                });
            }
            std::thread::sleep(RETRY.min(timeout - waited));
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ObjectLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the release immediate
        // even if the fd was duplicated into a child process.
        // SAFETY: flock on an fd we own.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
