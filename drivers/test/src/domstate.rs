//! The domain object model of the test driver: one `DomainObj` per domain (libvirt's
//! `virDomainObj`), the running/persistent state machine helpers (testDomainStartState,
//! testDomainShutdownState), the object list rules (virDomainObjListAdd) and the live/config
//! selection rules (virDomainObjGetDefs and friends).

use virtsh_api::flags::list_domains as lf;
use virtsh_api::{impact, Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::DomainDef;

use crate::snapshot::SnapshotList;
use crate::Driver;

pub(crate) use virtsh_api::flags::domain_state as st;
pub(crate) use virtsh_api::flags::state_reason as reason;

pub(crate) struct DomainObj {
    /// The live definition while running, the persistent one otherwise.
    pub def: DomainDef,
    /// While a persistent domain runs: its persistent definition (libvirt's `newDef`).
    pub new_def: Option<DomainDef>,
    /// The running id, -1 when inactive.
    pub id: i32,
    pub state: i32,
    pub reason: i32,
    pub persistent: bool,
    pub autostart: bool,
    pub has_managed_save: bool,
    pub snapshots: SnapshotList,
    /// The guest's clock as virDomainGetTime reports it (seconds, nanoseconds); the test
    /// driver's private data starts it at 627319920.
    pub time: (i64, u32),
}

impl DomainObj {
    pub(crate) fn new(def: DomainDef) -> DomainObj {
        DomainObj {
            def,
            new_def: None,
            id: -1,
            state: st::SHUTOFF,
            reason: reason::UNKNOWN,
            persistent: false,
            autostart: false,
            has_managed_save: false,
            snapshots: SnapshotList::default(),
            time: (627319920, 0),
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.id != -1
    }

    pub(crate) fn name(&self) -> &str {
        &self.def.name
    }

    pub(crate) fn handle(&self) -> Domain {
        Domain {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
            id: self.id,
        }
    }

    pub(crate) fn set_state(&mut self, state: i32, reason: i32) {
        self.state = state;
        self.reason = reason;
    }

    /// The persistent definition (virDomainObjGetPersistentDef).
    pub(crate) fn persistent_def_mut(&mut self) -> &mut DomainDef {
        let active = self.is_active();
        match self.new_def {
            Some(ref mut d) if active => d,
            _ => &mut self.def,
        }
    }

    /// virDomainObjCheckActive
    pub(crate) fn check_active(&self) -> Result<()> {
        if self.is_active() {
            Ok(())
        } else {
            Err(Error::invalid_op("domain is not running"))
        }
    }

    /// virDomainObjSetDefTransient: a running persistent domain keeps its config aside.
    fn set_def_transient(&mut self) {
        if self.persistent && self.new_def.is_none() {
            self.new_def = Some(self.def.clone());
        }
    }

    /// virDomainObjRemoveTransientDef: back to the persistent definition.
    fn remove_transient_def(&mut self) {
        if let Some(d) = self.new_def.take() {
            self.def = d;
        }
    }

    /// testDomainShutdownState
    pub(crate) fn shutdown_state(&mut self, reason: i32) {
        self.remove_transient_def();
        self.set_state(st::SHUTOFF, reason);
        self.id = -1;
    }

    /// Resolve the live/config impact of `flags` (virDomainObjUpdateModificationImpact).
    pub(crate) fn update_impact(&self, flags: u32) -> Result<u32> {
        let mut flags = flags;
        let active = self.is_active();
        if flags & (impact::LIVE | impact::CONFIG) == impact::CURRENT {
            flags |= if active { impact::LIVE } else { impact::CONFIG };
        }
        if !active && flags & impact::LIVE != 0 {
            return Err(Error::invalid_op("domain is not running"));
        }
        if !self.persistent && flags & impact::CONFIG != 0 {
            return Err(Error::invalid_op(
                "transient domains do not have any persistent config",
            ));
        }
        Ok(flags)
    }

    /// virDomainObjGetOneDefState: the one definition `flags` designate, and whether it is
    /// the live one.
    pub(crate) fn one_def_state(&mut self, flags: u32) -> Result<(&mut DomainDef, bool)> {
        if flags & impact::LIVE != 0 && flags & impact::CONFIG != 0 {
            return Err(exclusive_flags(
                "VIR_DOMAIN_AFFECT_LIVE",
                "VIR_DOMAIN_AFFECT_CONFIG",
            ));
        }
        let flags = self.update_impact(flags)?;
        if flags & impact::LIVE != 0 {
            Ok((&mut self.def, true))
        } else {
            Ok((self.persistent_def_mut(), false))
        }
    }

    /// virDomainObjGetDefs: which of (live, persistent) `flags` designate.
    pub(crate) fn defs_flags(&self, flags: u32) -> Result<(bool, bool)> {
        let flags = self.update_impact(flags)?;
        Ok((flags & impact::LIVE != 0, flags & impact::CONFIG != 0))
    }

    /// Apply `f` to the definitions `flags` designate (live first, then persistent).
    pub(crate) fn with_defs(
        &mut self,
        flags: u32,
        mut f: impl FnMut(&mut DomainDef) -> Result<()>,
    ) -> Result<()> {
        let (live, config) = self.defs_flags(flags)?;
        if live {
            f(&mut self.def)?;
        }
        if config {
            f(self.persistent_def_mut())?;
        }
        Ok(())
    }

    /// virDomainObjListFilter for one object.
    pub(crate) fn matches(&self, flags: u32) -> bool {
        let facts = lf::Facts {
            state: self.state,
            active: self.is_active(),
            persistent: self.persistent,
            managed_save: self.has_managed_save,
            autostart: self.autostart,
            has_snapshot: !self.snapshots.is_empty(),
            // The test driver keeps no checkpoints through this API.
            has_checkpoint: false,
        };
        lf::matches(flags, &facts)
    }
}

/// libvirt's VIR_EXCLUSIVE_FLAGS_* message.
pub(crate) fn exclusive_flags(a: &str, b: &str) -> Error {
    Error::raw(
        ErrorKind::InvalidArg,
        format!("Flags '{a}' and '{b}' are mutually exclusive"),
    )
}

/// "Domain not found", as the test driver's lookups report it (no detail).
pub(crate) fn no_domain() -> Error {
    Error::raw(ErrorKind::NoDomain, "Domain not found")
}

impl Driver {
    /// testDomObjFromDomain: the object behind a handle, by UUID.
    pub(crate) fn dom_index(&self, dom: &Domain) -> Result<usize> {
        self.domains
            .iter()
            .position(|d| d.def.uuid == dom.uuid)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoDomain,
                    format!(
                        "no domain with matching uuid '{}' ({})",
                        dom.uuid.hyphenated(),
                        dom.name
                    ),
                )
            })
    }

    pub(crate) fn dom_mut(&mut self, dom: &Domain) -> Result<&mut DomainObj> {
        let i = self.dom_index(dom)?;
        Ok(&mut self.domains[i])
    }

    pub(crate) fn dom_ref(&self, dom: &Domain) -> Result<&DomainObj> {
        let i = self.dom_index(dom)?;
        Ok(&self.domains[i])
    }

    /// testDomainStartState: running with a fresh id; the persistent config is kept aside.
    pub(crate) fn start_state(&mut self, idx: usize, reason: i32) {
        let id = self.next_dom_id;
        self.next_dom_id = self.next_dom_id.wrapping_add(1);
        let obj = &mut self.domains[idx];
        obj.set_state(st::RUNNING, reason);
        obj.id = id;
        obj.set_def_transient();
        obj.has_managed_save = false;
    }

    /// Remove a domain that stopped and is not persistent.
    pub(crate) fn remove_if_transient(&mut self, idx: usize) {
        if !self.domains[idx].persistent {
            self.domains.remove(idx);
        }
    }

    /// virDomainObjListAdd: add a definition, or replace the one with the same UUID and name.
    /// `live` is VIR_DOMAIN_OBJ_LIST_ADD_LIVE|CHECK_LIVE (create); returns the object's index
    /// and whether it existed before.
    pub(crate) fn add_domain(&mut self, def: DomainDef, live: bool) -> Result<(usize, bool)> {
        if let Some(i) = self.domains.iter().position(|d| d.def.uuid == def.uuid) {
            let obj = &mut self.domains[i];
            if obj.def.name != def.name {
                return Err(Error::new(
                    ErrorKind::OperationFailed,
                    format!(
                        "domain '{}' is already defined with uuid {}",
                        obj.def.name,
                        obj.def.uuid.hyphenated()
                    ),
                ));
            }
            if live && obj.is_active() {
                return Err(Error::invalid_op(format!(
                    "domain '{}' is already active",
                    obj.def.name
                )));
            }
            // virDomainObjAssignDef
            if obj.is_active() {
                obj.new_def = Some(def);
            } else if live {
                if obj.new_def.is_none() {
                    obj.new_def = Some(std::mem::replace(&mut obj.def, def));
                } else {
                    obj.def = def;
                }
            } else {
                obj.def = def;
            }
            return Ok((i, true));
        }
        if let Some(obj) = self.domains.iter().find(|d| d.def.name == def.name) {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!(
                    "domain '{}' already exists with uuid {}",
                    def.name,
                    obj.def.uuid.hyphenated()
                ),
            ));
        }
        self.domains.push(DomainObj::new(def));
        Ok((self.domains.len() - 1, false))
    }
}
