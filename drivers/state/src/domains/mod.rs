//! The domains of one local connection: definitions in the config store, runtime files in the
//! run directory, and what one call knows of one domain ([`DomainView`]). Shared by the local
//! drivers (QEMU guests, LXC containers); what differs between them (how a definition is
//! checked, how a dead supervisor is repaired) stays in each driver.
//!
//! A definition is parsed once per version of its file during one connection, and `list`
//! reads UUIDs from an index kept across commands (`index.rs`), so a listing of a thousand
//! domains parses nothing that did not change.

mod copies;
mod index;
mod limits;

pub use copies::impact;
pub use limits::{apply_tuning, Tunable};

pub use index::Glance;

/// A driver's repair of a domain whose supervisor died, given its runtime files and recorded
/// (active) status; the status it leaves.
pub type Repair<'a> = dyn Fn(&DomainRuntime, DomainStatus) -> DomainStatus + 'a;

fn needs_repair(rt: &DomainRuntime, status: &DomainStatus) -> bool {
    status.is_active() && !rt.supervisor_alive().unwrap_or(true)
}

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, ParseOptions};

use crate::runtime::{DomainRuntime, DomainStatus};
use crate::{ConfigStore, NameOf, ObjectLock, StateError, StatePaths};

/// What tells one version of a file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub mtime_ns: i128,
    pub size: u64,
    pub inode: u64,
}

impl FileStamp {
    pub fn of(path: &std::path::Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            size: m.size(),
            inode: m.ino(),
        })
    }
}

/// What one call knows about one domain.
pub struct DomainView {
    pub def: DomainDef,
    pub status: DomainStatus,
    pub persistent: bool,
}

impl DomainView {
    pub fn handle(&self) -> Domain {
        Domain {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
            id: if self.status.is_active() {
                self.status.id
            } else {
                -1
            },
        }
    }

    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }

    pub fn check_active(&self) -> Result<()> {
        if self.is_active() {
            Ok(())
        } else {
            Err(Error::invalid_op("domain is not running"))
        }
    }
}

/// The definitions and runtime files of one local connection's domains.
pub struct DomainRegistry {
    pub paths: StatePaths,
    pub store: ConfigStore,
    /// How this driver parses a definition it keeps, and a running domain's live one.
    options: ParseOptions,
    live_options: ParseOptions,
    /// Definitions parsed during this connection, by file, with the file's identity when read:
    /// one command often looks at a domain several times (`list` asks for the state of each
    /// domain it listed), and a changed file has a new mtime or size, so it is read again.
    parsed: Mutex<std::collections::HashMap<PathBuf, (FileStamp, DomainDef)>>,
    /// The UUIDs of persistent definitions, kept across commands (see `index.rs`); loaded
    /// on first use.
    index: Mutex<Option<index::UuidIndex>>,
}

impl DomainRegistry {
    /// The registry of `paths`, whose definitions parse with `options` (and `live: true` for
    /// live definitions).
    pub fn open(paths: StatePaths, options: ParseOptions) -> Result<DomainRegistry> {
        let for_names = options.clone();
        let name_of: NameOf = std::sync::Arc::new(move |xml: &str| {
            DomainDef::parse_with(xml, &for_names)
                .map(|d| d.name)
                .map_err(|e| e.to_string())
        });
        let store = ConfigStore::open(&paths.config, "domain", name_of).map_err(state_error)?;
        let live_options = ParseOptions {
            live: true,
            ..options.clone()
        };
        Ok(DomainRegistry {
            paths,
            store,
            options,
            live_options,
            parsed: Mutex::new(std::collections::HashMap::new()),
            index: Mutex::new(None),
        })
    }

    pub fn runtime(&self, name: &str) -> DomainRuntime {
        DomainRuntime::new(&self.paths.run, name)
    }

    /// The state change lock of `name`, waiting at most `wait` for another command.
    pub fn lock(&self, name: &str, wait: Duration) -> Result<ObjectLock> {
        ObjectLock::acquire(&self.paths.run, name, wait).map_err(state_error)
    }

    pub fn autostart_link(&self, name: &str) -> PathBuf {
        self.store
            .dir()
            .join("autostart")
            .join(format!("{name}.xml"))
    }

    /// Refuse a name that cannot be a domain's before anything else reads its files; a file
    /// of that name in the store is reported by name.
    pub fn check_name(&self, name: &str) -> Result<()> {
        if let Err(e) = crate::validate_name(name) {
            let file = self.store.dir().join(format!("{name}.xml"));
            if file.exists() {
                return Err(Error::internal(format!("skipping {}: {e}", file.display())));
            }
            return Err(no_domain(name));
        }
        Ok(())
    }

    /// The view of `name` in state `status` (as the driver reconciled it): its live
    /// definition while active, else its persistent one.
    pub fn view_with(&self, name: &str, status: DomainStatus) -> Result<DomainView> {
        let config = self.store.path_of(name).map_err(state_error)?;
        let persistent = config.exists();
        let xml_path = if status.is_active() {
            self.runtime(name).live_xml_path()
        } else if persistent {
            config
        } else {
            return Err(no_domain(name));
        };
        let def = self.parse_file(&xml_path, name, status.is_active())?;
        Ok(DomainView {
            def,
            status,
            persistent,
        })
    }

    /// The state of `name`, repaired when it says active but its supervisor is gone:
    /// `repair` (the driver's) runs under the domain's lock, waiting at most `wait` for it (a
    /// listing passes zero and reports the recorded state meanwhile).
    pub fn status_of(&self, name: &str, wait: Duration, repair: &Repair<'_>) -> DomainStatus {
        let rt = self.runtime(name);
        let status = match rt.read_status() {
            Ok(Some(s)) => s,
            Ok(None) => return DomainStatus::shutoff(0),
            Err(e) => {
                eprintln!("warning: {e}");
                return DomainStatus::shutoff(0);
            }
        };
        if !needs_repair(&rt, &status) {
            return status;
        }
        let Ok(_lock) = ObjectLock::acquire(&self.paths.run, name, wait) else {
            return status;
        };
        self.repair_locked(&rt, repair)
    }

    /// Under the domain's lock: read the state again and repair it if that is still needed.
    pub fn repair_locked(&self, rt: &DomainRuntime, repair: &Repair<'_>) -> DomainStatus {
        let status = match rt.read_status() {
            Ok(Some(s)) => s,
            _ => return DomainStatus::shutoff(0),
        };
        if !needs_repair(rt, &status) {
            return status;
        }
        repair(rt, status)
    }

    /// Record that the guest of `rt` ended with `status`: a persistent domain keeps the status
    /// (written before the live XML goes: while the status says running, a reader needs the
    /// live XML), a transient one disappears.
    pub fn record_end(&self, rt: &DomainRuntime, status: &DomainStatus) {
        if self.store.path_of(&rt.name).is_ok_and(|p| p.exists()) {
            if let Err(e) = rt.write_status(status) {
                eprintln!("warning: {e}");
            }
            rt.remove_live_files();
        } else {
            rt.remove_all();
        }
    }

    /// The view of `name`, repaired as [`DomainRegistry::status_of`] does.
    pub fn view(&self, name: &str, wait: Duration, repair: &Repair<'_>) -> Result<DomainView> {
        self.check_name(name)?;
        let status = self.status_of(name, wait, repair);
        self.view_with(name, status)
    }

    /// The view of a handle, checked to be the same domain (a handle outlives a rename or an
    /// undefine plus define).
    pub fn view_of(&self, dom: &Domain, wait: Duration, repair: &Repair<'_>) -> Result<DomainView> {
        let v = self.view(&dom.name, wait, repair)?;
        if v.def.uuid != dom.uuid {
            return Err(no_domain(&dom.name));
        }
        Ok(v)
    }

    /// The facts a listing needs of `name`, repaired as [`DomainRegistry::status_of`] does.
    pub fn glance(&self, name: &str, wait: Duration, repair: &Repair<'_>) -> Result<Glance> {
        self.check_name(name)?;
        let status = self.status_of(name, wait, repair);
        self.glance_with(name, status)
    }

    /// virDomainLookupByID among the running domains.
    pub fn lookup_by_id(&self, id: i32, wait: Duration, repair: &Repair<'_>) -> Result<Domain> {
        for name in self.all_names()? {
            if let Ok(v) = self.view(&name, wait, repair) {
                if v.is_active() && v.status.id == id {
                    return Ok(v.handle());
                }
            }
        }
        Err(Error::new(
            ErrorKind::NoDomain,
            format!("no domain with matching id {id}"),
        ))
    }

    /// virDomainLookupByUUID.
    pub fn lookup_by_uuid(
        &self,
        uuid: &uuid::Uuid,
        wait: Duration,
        repair: &Repair<'_>,
    ) -> Result<Domain> {
        for name in self.all_names()? {
            if let Ok(v) = self.view(&name, wait, repair) {
                if v.def.uuid == *uuid {
                    return Ok(v.handle());
                }
            }
        }
        Err(Error::new(
            ErrorKind::NoDomain,
            format!("no domain with matching uuid '{uuid}'"),
        ))
    }

    /// virDomainGetXMLDesc of `v`: the live definition of a running domain, else (or with
    /// `inactive`) the persistent one. `secure` keeps secrets in.
    pub fn describe(&self, v: DomainView, inactive: bool, secure: bool) -> Result<String> {
        let inactive = inactive || !v.is_active();
        let id = (!inactive).then_some(v.status.id);
        let def = if inactive && v.is_active() && v.persistent {
            self.persistent_def(&v.def.name)?.unwrap_or(v.def)
        } else {
            v.def
        };
        Ok(def.to_xml(&virtsh_xml::domain::FormatOptions {
            inactive,
            id,
            secure,
        }))
    }

    /// What undefine removes: the autostart link and the definition, and the runtime files
    /// of a domain that is not running (a running one becomes transient).
    pub fn undefine(&self, v: &DomainView) -> Result<()> {
        let name = &v.def.name;
        let _ = std::fs::remove_file(self.autostart_link(name));
        self.store.remove(name).map_err(state_error)?;
        if !v.is_active() {
            self.runtime(name).remove_all();
        }
        Ok(())
    }

    /// The view of `name` as its files say, without repairing anything.
    pub fn view_recorded(&self, name: &str) -> Result<DomainView> {
        self.check_name(name)?;
        let status = match self.runtime(name).read_status() {
            Ok(Some(s)) => s,
            _ => DomainStatus::shutoff(0),
        };
        self.view_with(name, status)
    }

    /// The definition in `path` (domain `name`), parsed once per version of the file.
    pub fn parse_file(&self, path: &std::path::Path, name: &str, live: bool) -> Result<DomainDef> {
        let stamp = FileStamp::of(path);
        if let (Some(stamp), Ok(cache)) = (stamp, self.parsed.lock()) {
            if let Some((s, def)) = cache.get(path) {
                if *s == stamp {
                    return Ok(def.clone());
                }
            }
        }
        let xml = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                no_domain(name)
            } else {
                Error::new(
                    ErrorKind::OperationFailed,
                    format!("{}: {e}", path.display()),
                )
            }
        })?;
        let opts = if live {
            &self.live_options
        } else {
            &self.options
        };
        let def = DomainDef::parse_with(&xml, opts).map_err(|e| {
            Error::internal(format!(
                "corrupt definition {}: {}",
                path.display(),
                e.libvirt_message("domain_definition", &xml)
            ))
        })?;
        if def.name != name {
            return Err(Error::internal(format!(
                "corrupt definition {}: it defines domain '{}', which does not match the file name",
                path.display(),
                def.name
            )));
        }
        if let (Some(stamp), Ok(mut cache)) = (stamp, self.parsed.lock()) {
            cache.insert(path.to_path_buf(), (stamp, def.clone()));
        }
        Ok(def)
    }

    /// The persistent definition of `name`, if it has one.
    pub fn persistent_def(&self, name: &str) -> Result<Option<DomainDef>> {
        match self.store.read(name) {
            Ok(xml) => DomainDef::parse_with(&xml, &self.options)
                .map(Some)
                .map_err(|e| Error::internal(format!("corrupt definition of '{name}': {e}"))),
            Err(StateError::NotFound { .. }) => Ok(None),
            Err(e) => Err(state_error(e)),
        }
    }

    /// Every domain name: the persistent ones and the running transient ones, by file name
    /// (a corrupt definition is reported by whoever reads it: see `list_all_domains`).
    pub fn all_names(&self) -> Result<Vec<String>> {
        let mut names = self.store.names().map_err(state_error)?;
        if let Ok(entries) = std::fs::read_dir(&self.paths.run) {
            for e in entries.flatten() {
                let file = e.file_name();
                let Some(n) = file.to_str().and_then(|f| f.strip_suffix(".status")) else {
                    continue;
                };
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// virConnectListAllDomains over every domain of the connection: `glance` gives each one's
    /// facts (as its driver reconciles them); `flags` are virConnectListAllDomainsFlags. A
    /// domain whose files are broken is skipped with a warning naming it.
    pub fn list_all(
        &self,
        flags: u32,
        glance: impl Fn(&str) -> Result<Glance>,
    ) -> Result<Vec<Domain>> {
        use virtsh_api::flags::list_domains as lf;
        let mut out = Vec::new();
        for name in self.all_names()? {
            let g = match glance(&name) {
                Ok(g) => g,
                Err(e) => {
                    if e.kind != ErrorKind::NoDomain {
                        eprintln!("warning: skipping domain '{name}': {e}");
                    }
                    continue;
                }
            };
            let facts = lf::Facts {
                state: g.status.state,
                active: g.status.is_active(),
                persistent: g.persistent,
                managed_save: false,
                autostart: self.autostart_link(&name).exists(),
                has_snapshot: false,
                has_checkpoint: false,
            };
            if lf::matches(flags, &facts) {
                out.push(g.domain);
            }
        }
        self.save_index();
        Ok(out)
    }

    /// Keep `def` as the persistent definition of its domain (secure, inactive form).
    pub fn store_definition(&self, def: &DomainDef) -> Result<()> {
        let text = def.to_xml(&virtsh_xml::domain::FormatOptions {
            inactive: true,
            secure: true,
            ..Default::default()
        });
        self.store.write(&def.name, &text).map_err(state_error)
    }

    /// virDomainSetAutostart: a link in `autostart/` to the persistent definition.
    pub fn set_autostart(&self, v: &DomainView, on: bool) -> Result<()> {
        if !v.persistent {
            return Err(Error::invalid_op(
                "cannot set autostart for transient domain",
            ));
        }
        let link = self.autostart_link(&v.def.name);
        let io = |e: std::io::Error| {
            Error::new(
                ErrorKind::OperationFailed,
                format!("{}: {e}", link.display()),
            )
        };
        if on {
            if let Some(dir) = link.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            if !link.exists() {
                let target = self.store.path_of(&v.def.name).map_err(state_error)?;
                std::os::unix::fs::symlink(&target, &link).map_err(io)?;
            }
        } else {
            match std::fs::remove_file(&link) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    /// Refuse a definition whose name or UUID belongs to another domain (libvirt's
    /// virDomainObjListAddLocked rules).
    pub fn check_identity(&self, def: &DomainDef) -> Result<()> {
        if let Ok(v) = self.view_recorded(&def.name) {
            if v.def.uuid != def.uuid {
                return Err(Error::new(
                    ErrorKind::DomExist,
                    format!(
                        "domain '{}' is already defined with uuid {}",
                        v.def.name, v.def.uuid
                    ),
                ));
            }
        }
        // Another name with this UUID: only a file that mentions the UUID can be one, and a
        // substring search is far cheaper than parsing every definition (define stays fast
        // with a thousand domains).
        let needle = def.uuid.to_string();
        for name in self.all_names()? {
            if name == def.name {
                continue;
            }
            let rt = self.runtime(&name);
            let mentions = [self.store.path_of(&name).ok(), Some(rt.live_xml_path())]
                .into_iter()
                .flatten()
                .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&needle)));
            if !mentions {
                continue;
            }
            if let Ok(v) = self.view_recorded(&name) {
                if v.def.uuid == def.uuid {
                    return Err(Error::new(
                        ErrorKind::DomExist,
                        format!(
                            "domain '{}' already exists with uuid {}",
                            v.def.name, v.def.uuid
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

pub fn no_domain(name: &str) -> Error {
    Error::no_domain_name(name)
}

pub fn state_error(e: StateError) -> Error {
    match e {
        StateError::Busy { .. } => Error::raw(ErrorKind::OperationTimeout, e.to_string()),
        StateError::InvalidName { reason, .. } => Error::new(ErrorKind::XmlError, reason),
        StateError::NotFound { name, .. } => no_domain(&name),
        other => Error::new(ErrorKind::OperationFailed, other.to_string()),
    }
}
