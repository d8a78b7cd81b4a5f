//! What `list` needs of each domain without parsing a thousand definitions on every call: the
//! UUID of each persistent definition file, remembered across commands in the cache directory
//! and keyed by the file's identity (mtime, size, inode).
//!
//! A file is still parsed in full, and so checked, once per version: a changed or corrupt file
//! misses the index and is read (and reported) as before. The index is only a cache: losing or
//! corrupting it costs one full parse of every definition, nothing else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use virtsh_api::{Domain, Result};

use super::{no_domain, state_error, DomainRegistry, DomainStatus, FileStamp};

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct UuidIndex {
    /// Bumped when the entry format changes; an index of another version is ignored.
    version: u32,
    entries: HashMap<PathBuf, Entry>,
    #[serde(skip)]
    dirty: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    mtime_s: i64,
    mtime_ns: u32,
    size: u64,
    inode: u64,
    uuid: Uuid,
}

const VERSION: u32 = 1;

impl Entry {
    fn matches(&self, s: &FileStamp) -> bool {
        i128::from(self.mtime_s) * 1_000_000_000 + i128::from(self.mtime_ns) == s.mtime_ns
            && self.size == s.size
            && self.inode == s.inode
    }
}

impl UuidIndex {
    fn load(path: &Path) -> UuidIndex {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<UuidIndex>(&b).ok())
            .filter(|i| i.version == VERSION)
            .unwrap_or(UuidIndex {
                version: VERSION,
                ..UuidIndex::default()
            })
    }
}

/// What a listing knows of one domain.
pub struct Glance {
    pub domain: Domain,
    pub status: DomainStatus,
    pub persistent: bool,
}

impl DomainRegistry {
    fn index_path(&self) -> PathBuf {
        self.paths.cache.join("domain-index.json")
    }

    /// The UUID in the persistent definition of `name`, from the index when the file has not
    /// changed since it was last parsed.
    fn config_uuid(&self, name: &str, config: &Path) -> Result<Uuid> {
        let stamp = FileStamp::of(config);
        if let Some(stamp) = stamp {
            let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
            let index = guard.get_or_insert_with(|| UuidIndex::load(&self.index_path()));
            if let Some(e) = index.entries.get(config) {
                if e.matches(&stamp) {
                    return Ok(e.uuid);
                }
            }
        }
        let def = self.parse_file(config, name, false)?;
        if let Some(s) = stamp {
            let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
            let index = guard.get_or_insert_with(|| UuidIndex::load(&self.index_path()));
            index.entries.insert(
                config.to_path_buf(),
                Entry {
                    mtime_s: (s.mtime_ns.div_euclid(1_000_000_000)) as i64,
                    mtime_ns: (s.mtime_ns.rem_euclid(1_000_000_000)) as u32,
                    size: s.size,
                    inode: s.inode,
                    uuid: def.uuid,
                },
            );
            index.dirty = true;
        }
        Ok(def.uuid)
    }

    /// Name, UUID, id, state and persistence of `name` in state `status` (as the driver
    /// reconciled it), reading a definition only when the domain runs (its live one) or its
    /// file changed. The name must have passed [`DomainRegistry::check_name`].
    pub fn glance_with(&self, name: &str, status: DomainStatus) -> Result<Glance> {
        let config = self.store.path_of(name).map_err(state_error)?;
        let persistent = config.exists();
        let uuid = if status.is_active() {
            self.parse_file(&self.runtime(name).live_xml_path(), name, true)?
                .uuid
        } else if persistent {
            self.config_uuid(name, &config)?
        } else {
            return Err(no_domain(name));
        };
        let id = if status.is_active() { status.id } else { -1 };
        Ok(Glance {
            domain: Domain {
                name: name.to_string(),
                uuid,
                id,
            },
            status,
            persistent,
        })
    }

    /// Write the index back if this command added to it, keeping only the files that still
    /// exist. Failing to write it is not an error: it is a cache.
    pub fn save_index(&self) {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let Some(index) = guard.as_mut() else {
            return;
        };
        if !index.dirty {
            return;
        }
        index.entries.retain(|p, _| p.exists());
        if let Ok(bytes) = serde_json::to_vec(&*index) {
            let _ = std::fs::create_dir_all(&self.paths.cache);
            if crate::atomic::write(&self.index_path(), &bytes).is_ok() {
                index.dirty = false;
            }
        }
    }
}
