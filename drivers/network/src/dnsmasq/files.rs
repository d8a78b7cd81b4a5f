//! Putting a network's dnsmasq files on disk, atomically, and removing them.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{DnsmasqConfig, DnsmasqError, DnsmasqFiles};

/// Write the hosts files and then the configuration (so a configuration never names a file
/// that is not there yet), each atomically: a temporary file in the same directory, fsync,
/// rename, fsync of the directory. Missing directories are created with mode 0755.
///
/// The hosts files are 0644 whatever the umask: dnsmasq started as root reads them after it has
/// dropped its privileges (at start and on SIGHUP). The configuration is 0600, as libvirt
/// writes it; dnsmasq reads it while still root.
pub fn write(config: &DnsmasqConfig, files: &DnsmasqFiles) -> Result<(), DnsmasqError> {
    files.check_absolute()?;
    for path in files.all() {
        if let Some(dir) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|e| DnsmasqError::io("create directory", dir, e))?;
        }
    }
    atomic_write(&files.hostsfile, config.hosts.as_bytes(), 0o644)?;
    atomic_write(&files.addnhosts, config.addnhosts.as_bytes(), 0o644)?;
    atomic_write(&files.conf, config.conf.as_bytes(), 0o600)
}

/// Remove every file of the network (configuration, hosts files, leases, pid file), as libvirt
/// does when a network is undefined. Files that are already gone are fine. Stop dnsmasq first.
pub fn remove(files: &DnsmasqFiles) -> Result<(), DnsmasqError> {
    for path in files.all() {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(DnsmasqError::io("remove", path, e)),
        }
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replace `path` with `bytes`: the reader (dnsmasq on SIGHUP) sees the old content or the new,
/// never a mix. Temporary files are named `.<file>.tmp.<pid>.<n>`, as virtsh-state names its own,
/// so a leftover of a crashed writer is recognisable.
fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), DnsmasqError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(DnsmasqError::io(
            "write",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        ));
    };
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(
        ".{}.tmp.{}.{n}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .map_err(|e| DnsmasqError::io("create", &temp, e))?;
        // The mode given to open() is masked by the umask; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| DnsmasqError::io("set permissions of", &temp, e))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| DnsmasqError::io("write", &temp, e))?;
        fs::rename(&temp, path).map_err(|e| DnsmasqError::io("rename into", path, e))?;
        // Make the rename itself durable.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DnsmasqError::io("sync directory", dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
