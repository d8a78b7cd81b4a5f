//! Domain snapshots (testDomainSnapshot* in test_driver.c): creation (the domain's definition
//! is copied, the name defaults to the creation time), the parent/current bookkeeping of
//! libvirt's moment lists, listing filters, deletion with re-parenting, and the snapshot XML.
//!
//! The snapshot document is `virtsh_xml`'s; `snapxml.rs` holds the driver's side of it.

use virtsh_api::flags::{snapshot_create as cf, snapshot_list as lf};
use virtsh_api::{Domain, DomainSnapshot, Error, ErrorKind, Result};

use crate::domstate::{reason, st};
use virtsh_xml::snapshot::SnapshotMemory;

use crate::snapxml::{self, SnapDef};
use crate::{check_flags, Driver};

/// VIR_DOMAIN_SNAPSHOT_DELETE_*
const DELETE_CHILDREN: u32 = 1 << 0;
const DELETE_CHILDREN_ONLY: u32 = 1 << 2;
/// VIR_DOMAIN_SNAPSHOT_REVERT_*
const REVERT_RUNNING: u32 = 1 << 0;
const REVERT_PAUSED: u32 = 1 << 1;
const REVERT_FORCE: u32 = 1 << 2;
/// VIR_DOMAIN_SNAPSHOT_LIST_ROOTS | TOPOLOGICAL | every filter.
const LIST_ALL_FLAGS: u32 = 0x7FF;

/// The snapshots of one domain, and which one is current.
///
/// libvirt keeps each snapshot's children in a list to which a newly linked child is
/// prepended, and its topological walk follows those lists; `link` records when each
/// snapshot was last linked to its parent, so that children come newest-linked first.
#[derive(Default)]
pub(crate) struct SnapshotList {
    snaps: Vec<SnapDef>,
    current: Option<String>,
    link: std::collections::HashMap<String, u64>,
    next_link: u64,
}

impl SnapshotList {
    pub(crate) fn len(&self) -> usize {
        self.snaps.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    fn find(&self, name: &str) -> Option<&SnapDef> {
        self.snaps.iter().find(|s| s.name == name)
    }

    fn get(&self, name: &str) -> Result<&SnapDef> {
        self.find(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NoDomainSnapshot,
                format!("no domain snapshot with matching name '{name}'"),
            )
        })
    }

    /// virDomainMomentLinkParent: (re)link `name` as its parent's newest child.
    fn relink(&mut self, name: &str) {
        self.next_link += 1;
        self.link.insert(name.to_string(), self.next_link);
    }

    /// The children of `name` (the roots for None), newest-linked first.
    fn children_of<'a>(&'a self, name: Option<&'a str>) -> impl Iterator<Item = &'a SnapDef> {
        let mut kids: Vec<&SnapDef> = self
            .snaps
            .iter()
            .filter(move |s| s.parent.as_deref() == name)
            .collect();
        kids.sort_by_key(|s| std::cmp::Reverse(self.link.get(&s.name).copied().unwrap_or(0)));
        kids.into_iter()
    }

    /// virDomainMomentMoveChildren: the children of `from` become children of `to`, ahead
    /// of the children `to` already has and in their own order.
    fn move_children(&mut self, from: &str, to: Option<&str>) {
        let kids: Vec<String> = self
            .children_of(Some(from))
            .map(|s| s.name.clone())
            .collect();
        for k in kids.iter().rev() {
            self.relink(k);
        }
        for s in self.snaps.iter_mut() {
            if s.parent.as_deref() == Some(from) {
                s.parent = to.map(str::to_string);
            }
        }
    }

    fn has_children(&self, name: &str) -> bool {
        self.children_of(Some(name)).next().is_some()
    }

    /// All descendants of `name` (or every snapshot for None), parents before children.
    fn descendants<'a>(&'a self, name: Option<&'a str>) -> Vec<&'a SnapDef> {
        let mut out = Vec::new();
        let mut stack: Vec<&SnapDef> = self.children_of(name).collect();
        stack.reverse();
        while let Some(s) = stack.pop() {
            out.push(s);
            let mut kids: Vec<&SnapDef> = self.children_of(Some(&s.name)).collect();
            kids.reverse();
            stack.extend(kids);
        }
        out
    }

    /// The snapshots `flags` select below `from` (virDomainListSnapshots).
    fn select<'a>(&'a self, from: Option<&'a str>, flags: u32) -> Vec<&'a SnapDef> {
        // ROOTS and DESCENDANTS share a bit; its meaning depends on `from`.
        let all_below = match from {
            None => flags & lf::ROOTS == 0,
            Some(_) => flags & lf::DESCENDANTS != 0,
        };
        let candidates: Vec<&SnapDef> = if all_below {
            self.descendants(from)
        } else {
            self.children_of(from).collect()
        };
        let meta = lf::METADATA | lf::NO_METADATA;
        let status = lf::INACTIVE | lf::ACTIVE | lf::DISK_ONLY;
        let location = lf::INTERNAL | lf::EXTERNAL;
        if flags & meta == lf::NO_METADATA {
            // Every snapshot of the test driver has metadata.
            return Vec::new();
        }
        candidates
            .into_iter()
            .filter(|s| {
                let leaf = !self.has_children(&s.name);
                if (flags & lf::LEAVES != 0 && !leaf) || (flags & lf::NO_LEAVES != 0 && leaf) {
                    return false;
                }
                if flags & status != status && flags & status != 0 {
                    let ok = match s.state.as_str() {
                        "shutoff" => flags & lf::INACTIVE != 0,
                        "disk-snapshot" => flags & lf::DISK_ONLY != 0,
                        _ => flags & lf::ACTIVE != 0,
                    };
                    if !ok {
                        return false;
                    }
                }
                if flags & location != location {
                    if flags & lf::INTERNAL != 0 && snapxml::is_external(s) {
                        return false;
                    }
                    if flags & lf::EXTERNAL != 0 && !snapxml::is_external(s) {
                        return false;
                    }
                }
                true
            })
            .collect()
    }
}

fn snap_handle(dom: &Domain, name: &str) -> DomainSnapshot {
    DomainSnapshot {
        domain: dom.clone(),
        name: name.to_string(),
    }
}

/// The snapshot state names (virDomainSnapshotState) for domain states.
fn state_name(state: i32) -> &'static str {
    match state {
        1 => "running",
        2 => "blocked",
        3 => "paused",
        4 => "shutdown",
        5 => "shutoff",
        6 => "crashed",
        7 => "pmsuspended",
        _ => "nostate",
    }
}

impl Driver {
    /// testDomainSnapshotCreateXML
    pub(crate) fn snapshot_create(
        &mut self,
        dom: &Domain,
        xml: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        check_flags(
            flags,
            cf::REDEFINE
                | cf::CURRENT
                | cf::HALT
                | cf::QUIESCE
                | cf::ATOMIC
                | cf::LIVE
                | cf::VALIDATE,
            "testDomainSnapshotCreateXML",
        )?;
        let redefine = flags & cf::REDEFINE != 0;
        let update_current = !redefine || flags & cf::CURRENT != 0;
        let idx = self.dom_index(dom)?;
        let obj = &mut self.domains[idx];
        if !obj.persistent && flags & cf::HALT != 0 {
            return Err(Error::invalid_op(
                "cannot halt after transient domain snapshot",
            ));
        }
        let mut def = snapxml::parse(xml, redefine)?;
        if redefine {
            let name = def.name.clone();
            check_parent(&obj.snapshots, &def)?;
            let Some(domain) = def.domain.clone() else {
                return Err(Error::internal("missing domain in snapshot"));
            };
            if domain.uuid != obj.def.uuid {
                return Err(Error::invalid_arg(format!(
                    "definition for snapshot {name} must use uuid {}",
                    obj.def.uuid.hyphenated()
                )));
            }
            snapxml::align_disks(&mut def, &domain)?;
            redefine_into(&mut obj.snapshots, def);
            obj.snapshots.relink(&name);
            if update_current {
                obj.snapshots.current = Some(name.clone());
            }
            return Ok(snap_handle(dom, &name));
        }
        def.domain = Some(obj.def.clone());
        def.state = state_name(obj.state).to_string();
        if def.memory.as_ref().is_none_or(|m| m.snapshot != "external") {
            let mode = if obj.state == st::SHUTOFF {
                "no"
            } else {
                "internal"
            };
            def.memory = Some(SnapshotMemory {
                snapshot: mode.to_string(),
                file: None,
            });
        }
        snapxml::align_disks(&mut def, &obj.def)?;
        if obj.snapshots.find(&def.name).is_some() {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!("domain moment {} already exists", def.name),
            ));
        }
        def.parent = obj.snapshots.current.clone();
        let name = def.name.clone();
        obj.snapshots.snaps.push(def);
        obj.snapshots.relink(&name);
        if flags & cf::HALT != 0 && obj.is_active() {
            obj.shutdown_state(reason::SHUTOFF_FROM_SNAPSHOT);
        }
        if update_current {
            obj.snapshots.current = Some(name.clone());
        }
        Ok(snap_handle(&obj.handle(), &name))
    }

    /// A `<test:domainsnapshot>` of a node file (parsed for redefinition).
    pub(crate) fn load_snapshot(&mut self, idx: usize, xml: &str) -> Result<()> {
        let (def, current) = snapxml::parse_with_active(xml)?;
        let name = def.name.clone();
        let list = &mut self.domains[idx].snapshots;
        redefine_into(list, def);
        list.relink(&name);
        if current {
            if list.current.is_some() {
                return Err(Error::internal(
                    "more than one snapshot claims to be active",
                ));
            }
            list.current = Some(name);
        }
        Ok(())
    }

    pub(crate) fn snapshot_list(
        &mut self,
        dom: &Domain,
        from: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DomainSnapshot>> {
        let func = if from.is_some() {
            "testDomainSnapshotListAllChildren"
        } else {
            "testDomainListAllSnapshots"
        };
        check_flags(flags, LIST_ALL_FLAGS, func)?;
        let obj = self.dom_mut(dom)?;
        if let Some(name) = from {
            obj.snapshots.get(name)?;
        }
        Ok(obj
            .snapshots
            .select(from, flags)
            .into_iter()
            .map(|s| snap_handle(dom, &s.name))
            .collect())
    }

    pub(crate) fn snapshot_lookup(&mut self, dom: &Domain, name: &str) -> Result<DomainSnapshot> {
        let obj = self.dom_mut(dom)?;
        let s = obj.snapshots.get(name)?;
        Ok(snap_handle(dom, &s.name))
    }

    pub(crate) fn snapshot_xml(&mut self, snap: &DomainSnapshot, flags: u32) -> Result<String> {
        // VIR_DOMAIN_SNAPSHOT_XML_SECURE
        check_flags(flags, 1, "testDomainSnapshotGetXMLDesc")?;
        let obj = self.dom_mut(&snap.domain)?;
        let def = obj.snapshots.get(&snap.name)?;
        Ok(snapxml::format(def, &snap.domain.uuid, flags & 1 != 0))
    }

    pub(crate) fn snapshot_current(&mut self, dom: &Domain) -> Result<Option<DomainSnapshot>> {
        let obj = self.dom_mut(dom)?;
        Ok(obj
            .snapshots
            .current
            .as_deref()
            .map(|n| snap_handle(dom, n)))
    }

    pub(crate) fn snapshot_parent(
        &mut self,
        snap: &DomainSnapshot,
    ) -> Result<Option<DomainSnapshot>> {
        let obj = self.dom_mut(&snap.domain)?;
        let def = obj.snapshots.get(&snap.name)?;
        Ok(def.parent.as_deref().map(|p| snap_handle(&snap.domain, p)))
    }

    /// testDomainSnapshotDelete
    pub(crate) fn snapshot_delete(&mut self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        check_flags(
            flags,
            DELETE_CHILDREN | DELETE_CHILDREN_ONLY,
            "testDomainSnapshotDelete",
        )?;
        let obj = self.dom_mut(&snap.domain)?;
        let list = &mut obj.snapshots;
        let parent = list.get(&snap.name)?.parent.clone();
        let name = snap.name.as_str();
        if flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY) != 0 {
            let doomed: Vec<String> = list
                .descendants(Some(name))
                .iter()
                .map(|s| s.name.clone())
                .collect();
            if list.current.as_ref().is_some_and(|c| doomed.contains(c)) {
                list.current = Some(name.to_string());
            }
            list.snaps.retain(|s| !doomed.contains(&s.name));
        } else {
            list.move_children(name, parent.as_deref());
        }
        if flags & DELETE_CHILDREN_ONLY == 0 {
            if list.current.as_deref() == Some(name) {
                list.current = parent.filter(|p| list.find(p).is_some());
            }
            list.snaps.retain(|s| s.name != name);
            list.link.remove(name);
        }
        Ok(())
    }
}

impl Driver {
    /// testDomainRevertToSnapshot, as libvirt 9.0 behaves: reverting to a running or paused
    /// snapshot (re)starts the domain from the snapshot's definition with a new id; reverting
    /// to an inactive one stops a running domain and otherwise only replaces the definition.
    pub(crate) fn snapshot_revert(&mut self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        if flags & REVERT_RUNNING != 0 && flags & REVERT_PAUSED != 0 {
            return Err(crate::domstate::exclusive_flags(
                "VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING",
                "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED",
            ));
        }
        check_flags(
            flags,
            REVERT_RUNNING | REVERT_PAUSED | REVERT_FORCE,
            "testDomainRevertToSnapshot",
        )?;
        let idx = self.dom_index(&snap.domain)?;
        let obj = &mut self.domains[idx];
        let def = obj.snapshots.get(&snap.name)?.clone();
        let live_snapshot = def.state == "running" || def.state == "paused";
        if !obj.persistent && !live_snapshot && flags & (REVERT_RUNNING | REVERT_PAUSED) == 0 {
            return Err(Error::invalid_op(
                "transient domain needs to request run or pause to revert to inactive snapshot",
            ));
        }
        if flags & REVERT_FORCE == 0 && def.domain.is_none() {
            return Err(Error::new(
                ErrorKind::SnapshotRevertRisky,
                format!(
                    "snapshot '{}' lacks domain '{}' rollback info",
                    def.name, snap.domain.name
                ),
            ));
        }
        let Some(config) = def.domain.clone() else {
            return Ok(());
        };
        obj.snapshots.current = None;
        if live_snapshot {
            if obj.is_active() {
                obj.shutdown_state(reason::SHUTOFF_FROM_SNAPSHOT);
            }
            obj.def = config;
            self.start_state(idx, reason::RUNNING_FROM_SNAPSHOT);
            let obj = &mut self.domains[idx];
            if flags & REVERT_RUNNING == 0 && (def.state == "paused" || flags & REVERT_PAUSED != 0)
            {
                obj.set_state(st::PAUSED, reason::PAUSED_FROM_SNAPSHOT);
            }
        } else if obj.is_active() {
            obj.new_def = Some(config);
            obj.shutdown_state(reason::SHUTOFF_FROM_SNAPSHOT);
        } else {
            obj.def = config;
        }
        self.domains[idx].snapshots.current = Some(def.name);
        Ok(())
    }
}

impl Driver {
    /// testDomainSnapshotIsCurrent
    pub(crate) fn snapshot_is_current(
        &mut self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<bool> {
        check_flags(flags, 0, "testDomainSnapshotIsCurrent")?;
        let list = &self.dom_mut(&snap.domain)?.snapshots;
        list.get(&snap.name)?;
        Ok(list.current.as_deref() == Some(snap.name.as_str()))
    }

    /// testDomainSnapshotHasMetadata: every snapshot of the test driver has metadata.
    pub(crate) fn snapshot_has_metadata(
        &mut self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<bool> {
        check_flags(flags, 0, "testDomainSnapshotHasMetadata")?;
        self.dom_mut(&snap.domain)?.snapshots.get(&snap.name)?;
        Ok(true)
    }
}

/// virDomainSnapshotCheckCycles: a redefined snapshot's parent must exist and not be itself.
fn check_parent(list: &SnapshotList, def: &SnapDef) -> Result<()> {
    let Some(parent) = &def.parent else {
        return Ok(());
    };
    if parent == &def.name {
        return Err(Error::invalid_arg(format!(
            "cannot set snapshot {parent} as its own parent"
        )));
    }
    if list.find(parent).is_none() {
        return Err(Error::invalid_arg(format!(
            "parent {parent} for moment {} not found",
            def.name
        )));
    }
    Ok(())
}

/// Assign a redefined snapshot: it replaces the one of the same name (keeping its place), or
/// is added.
fn redefine_into(list: &mut SnapshotList, def: SnapDef) {
    match list.snaps.iter_mut().find(|s| s.name == def.name) {
        Some(slot) => *slot = def,
        None => list.snaps.push(def),
    }
}

impl SnapshotList {
    /// virDomainSnapshotUpdateRelations: every parent named must exist.
    pub(crate) fn relations_ok(&self) -> bool {
        self.snaps
            .iter()
            .all(|s| s.parent.as_ref().is_none_or(|p| self.find(p).is_some()))
    }
}
