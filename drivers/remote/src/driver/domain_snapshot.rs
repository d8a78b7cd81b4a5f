//! Domain snapshots (virDomainSnapshot*, virDomainListAllSnapshots) over the protocol.

use virtsh_api::{Domain, DomainSnapshot, Result};

use super::super::handles::{snapshot_from_remote, snapshot_to_remote};
use super::{rdom, RemoteDriver};
use crate::generated::remote::{procs, *};

impl RemoteDriver {
    pub(super) fn snap_create(
        &self,
        dom: &Domain,
        xml: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        let r =
            self.call::<procs::DomainSnapshotCreateXml>(&RemoteDomainSnapshotCreateXmlArgs {
                dom: rdom(dom),
                xml_desc: xml.to_string(),
                flags,
            })?;
        Ok(snapshot_from_remote(r.snap))
    }

    pub(super) fn snap_list(&self, dom: &Domain, flags: u32) -> Result<Vec<DomainSnapshot>> {
        let r = self.call::<procs::DomainListAllSnapshots>(&RemoteDomainListAllSnapshotsArgs {
            dom: rdom(dom),
            need_results: 1,
            flags,
        })?;
        Ok(r.snapshots.into_iter().map(snapshot_from_remote).collect())
    }

    pub(super) fn snap_lookup(&self, dom: &Domain, name: &str) -> Result<DomainSnapshot> {
        let r = self.call::<procs::DomainSnapshotLookupByName>(
            &RemoteDomainSnapshotLookupByNameArgs {
                dom: rdom(dom),
                name: name.to_string(),
                flags: 0,
            },
        )?;
        Ok(snapshot_from_remote(r.snap))
    }

    pub(super) fn snap_xml(&self, snap: &DomainSnapshot, flags: u32) -> Result<String> {
        let r =
            self.call::<procs::DomainSnapshotGetXmlDesc>(&RemoteDomainSnapshotGetXmlDescArgs {
                snap: snapshot_to_remote(snap),
                flags,
            })?;
        Ok(r.xml)
    }

    /// virDomainHasCurrentSnapshot, then virDomainSnapshotCurrent when there is one (as
    /// virsh's `snapshot-current` asks).
    pub(super) fn snap_current(&self, dom: &Domain) -> Result<Option<DomainSnapshot>> {
        let has =
            self.call::<procs::DomainHasCurrentSnapshot>(&RemoteDomainHasCurrentSnapshotArgs {
                dom: rdom(dom),
                flags: 0,
            })?;
        if has.result == 0 {
            return Ok(None);
        }
        let r = self.call::<procs::DomainSnapshotCurrent>(&RemoteDomainSnapshotCurrentArgs {
            dom: rdom(dom),
            flags: 0,
        })?;
        Ok(Some(snapshot_from_remote(r.snap)))
    }

    /// virDomainSnapshotGetParent: a root snapshot is the daemon's "no parent" error
    /// (VIR_ERR_NO_DOMAIN_SNAPSHOT), which callers read as None.
    pub(super) fn snap_parent(&self, snap: &DomainSnapshot) -> Result<Option<DomainSnapshot>> {
        let r =
            self.call::<procs::DomainSnapshotGetParent>(&RemoteDomainSnapshotGetParentArgs {
                snap: snapshot_to_remote(snap),
                flags: 0,
            })?;
        Ok(Some(snapshot_from_remote(r.snap)))
    }

    pub(super) fn snap_children(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<Vec<DomainSnapshot>> {
        let r = self.call::<procs::DomainSnapshotListAllChildren>(
            &RemoteDomainSnapshotListAllChildrenArgs {
                snapshot: snapshot_to_remote(snap),
                need_results: 1,
                flags,
            },
        )?;
        Ok(r.snapshots.into_iter().map(snapshot_from_remote).collect())
    }

    pub(super) fn snap_delete(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.call::<procs::DomainSnapshotDelete>(&RemoteDomainSnapshotDeleteArgs {
            snap: snapshot_to_remote(snap),
            flags,
        })
    }

    pub(super) fn snap_revert(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.call::<procs::DomainRevertToSnapshot>(&RemoteDomainRevertToSnapshotArgs {
            snap: snapshot_to_remote(snap),
            flags,
        })
    }

    pub(super) fn snap_is_current(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        let r =
            self.call::<procs::DomainSnapshotIsCurrent>(&RemoteDomainSnapshotIsCurrentArgs {
                snap: snapshot_to_remote(snap),
                flags,
            })?;
        Ok(r.current != 0)
    }

    pub(super) fn snap_has_metadata(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        let r =
            self.call::<procs::DomainSnapshotHasMetadata>(&RemoteDomainSnapshotHasMetadataArgs {
                snap: snapshot_to_remote(snap),
                flags,
            })?;
        Ok(r.metadata != 0)
    }
}
