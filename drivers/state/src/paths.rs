//! Where a connection keeps its state.
//!
//! | URI                      | config                    | run                    | lib                    | log                    | cache                    |
//! |--------------------------|---------------------------|------------------------|------------------------|------------------------|--------------------------|
//! | `qemu:///system`         | `/etc/virtsh/qemu`        | `/run/virtsh/qemu`     | `/var/lib/virtsh/qemu` | `/var/log/virtsh/qemu` | `/var/cache/virtsh/qemu` |
//! | `qemu:///session`        | `$XDG_CONFIG_HOME/virtsh/qemu` | `$XDG_RUNTIME_DIR/virtsh/qemu` | `$XDG_DATA_HOME/virtsh/qemu` | `$XDG_STATE_HOME/virtsh/qemu/log` | `$XDG_CACHE_HOME/virtsh/qemu` |
//! | `qemu:///embed?root=DIR` | `DIR/etc`                 | `DIR/run`              | `DIR/lib`              | `DIR/log`              | `DIR/cache`              |
//!
//! The driver name (`qemu`, `lxc`, ...) is the last component for system and session, so other
//! drivers get the same shape. Without `$XDG_RUNTIME_DIR` (or `$XDG_STATE_HOME`'s platform
//! equivalent) the session run (log) directory falls back under the cache directory.

use std::path::{Path, PathBuf};

use virtsh_api::Uri;

use super::StateError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePaths {
    /// Persistent definitions (`<name>.xml`).
    pub config: PathBuf,
    /// Runtime state: live XML, pid files, sockets, locks.
    pub run: PathBuf,
    /// Save images, nvram, snapshots.
    pub lib: PathBuf,
    pub log: PathBuf,
    /// Capabilities cache and other regenerable data.
    pub cache: PathBuf,
}

impl StatePaths {
    /// The directories for a local (not remote) URI: `DRIVER:///system`, `DRIVER:///session` or
    /// `DRIVER:///embed?root=DIR` with an absolute `DIR`. Nothing is created.
    pub fn for_uri(uri: &Uri) -> Result<StatePaths, StateError> {
        let bad = |reason: &str| StateError::InvalidUri {
            uri: uri.original.clone(),
            reason: reason.to_string(),
        };
        if uri.is_remote() {
            return Err(bad("a remote URI has no local state directories"));
        }
        let driver = uri.driver.as_str();
        if driver.is_empty() || driver.contains('/') || driver.starts_with('.') {
            return Err(bad("invalid driver name"));
        }
        match uri.path.as_str() {
            "/system" => Ok(Self::system(driver)),
            "/session" => Self::session(driver).ok_or_else(|| StateError::NoHome {
                uri: uri.original.clone(),
            }),
            "/embed" => {
                let root = match uri.param("root") {
                    Some(r) if !r.is_empty() => r,
                    _ => return Err(bad("URI must have a root= parameter for embed mode")),
                };
                let root = Path::new(root);
                if !root.is_absolute() {
                    return Err(bad("root path must be absolute"));
                }
                Ok(Self::embed(root))
            }
            other => Err(bad(&format!(
                "unexpected {driver} URI path '{other}', try {driver}:///system, \
                 {driver}:///session or {driver}:///embed?root=DIR"
            ))),
        }
    }

    /// The directories of a subsystem that every driver of a connection shares (`network`):
    /// `/etc/virtsh/network` for `qemu:///system` and `lxc:///system` alike, `$XDG_.../network`
    /// for session, and `DIR/etc/network` (`DIR/run/network` ...) for `embed?root=DIR`, so a
    /// guest of either driver finds the same networks.
    pub fn shared_for_uri(uri: &Uri, subsystem: &str) -> Result<StatePaths, StateError> {
        let own = Self::for_uri(uri)?;
        match uri.path.as_str() {
            "/system" => Ok(Self::system(subsystem)),
            "/session" => Self::session(subsystem).ok_or_else(|| StateError::NoHome {
                uri: uri.original.clone(),
            }),
            _ => Ok(StatePaths {
                config: own.config.join(subsystem),
                run: own.run.join(subsystem),
                lib: own.lib.join(subsystem),
                log: own.log.join(subsystem),
                cache: own.cache.join(subsystem),
            }),
        }
    }

    /// `qemu:///system` (and the same shape for other drivers).
    pub fn system(driver: &str) -> StatePaths {
        StatePaths {
            config: Path::new("/etc/virtsh").join(driver),
            run: Path::new("/run/virtsh").join(driver),
            lib: Path::new("/var/lib/virtsh").join(driver),
            log: Path::new("/var/log/virtsh").join(driver),
            cache: Path::new("/var/cache/virtsh").join(driver),
        }
    }

    /// `qemu:///session`: the user's XDG directories; `None` without a home directory.
    pub fn session(driver: &str) -> Option<StatePaths> {
        let dirs = directories::ProjectDirs::from("", "", "virtsh")?;
        let cache = dirs.cache_dir().join(driver);
        let run = match dirs.runtime_dir() {
            Some(r) => r.join(driver),
            None => cache.join("run"),
        };
        let log = match dirs.state_dir() {
            Some(s) => s.join(driver).join("log"),
            None => cache.join("log"),
        };
        Some(StatePaths {
            config: dirs.config_dir().join(driver),
            run,
            lib: dirs.data_dir().join(driver),
            log,
            cache,
        })
    }

    /// `qemu:///embed?root=DIR`, as libvirt's embed mode lays it out.
    pub fn embed(root: &Path) -> StatePaths {
        StatePaths {
            config: root.join("etc"),
            run: root.join("run"),
            lib: root.join("lib"),
            log: root.join("log"),
            cache: root.join("cache"),
        }
    }

    /// Create every directory (mode 0700 for new ones: they hold definitions and sockets).
    pub fn create_all(&self) -> Result<(), StateError> {
        use std::os::unix::fs::DirBuilderExt;
        for dir in [&self.config, &self.run, &self.lib, &self.log, &self.cache] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StateError::io(dir.as_path(), e))?;
        }
        Ok(())
    }
}
