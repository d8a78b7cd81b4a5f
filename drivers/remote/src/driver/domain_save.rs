//! Save, restore, core dumps, save images and job aborts over the protocol
//! (virDomainSaveFlags, virDomainRestoreFlags, virDomainCoreDumpWithFormat,
//! virDomainSaveImageGetXMLDesc / DefineXML, virDomainAbortJob[Flags]).
//!
//! Paths are sent as the caller gives them: libvirt's client library makes them absolute
//! before the call (the shell does that here), and the daemon works with the client's path.

use std::time::Duration;

use virtsh_api::{Domain, Error, Result};

use super::{opt, rdom, RemoteDriver};
use crate::generated::remote::{procs, *};
use crate::procedure::Procedure;

/// How long a save, restore or dump may take. These calls move the guest's whole memory to
/// or from a file, which for a large guest on a slow disk takes far longer than the usual
/// call timeout; libvirt's client waits without limit. A dead daemon is still noticed
/// meanwhile: the client pings a silent one (keepalive) and closes on no answer.
const LONG_CALL: Duration = Duration::from_secs(7 * 24 * 3600);

impl RemoteDriver {
    /// A procedure of the `remote` program with [`LONG_CALL`] as its timeout.
    fn call_long<P: Procedure>(&self, args: &P::Args) -> Result<P::Ret> {
        self.session()?
            .client
            .call_with_timeout::<_, P::Ret>(P::PROGRAM, P::PROC, args, LONG_CALL)
            .map_err(Error::from)
    }

    pub(super) fn save_flags(
        &self,
        dom: &Domain,
        path: &str,
        dxml: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        self.call_long::<procs::DomainSaveFlags>(&RemoteDomainSaveFlagsArgs {
            dom: rdom(dom),
            to: path.to_string(),
            dxml: opt(dxml),
            flags,
        })
    }

    pub(super) fn restore_flags(&self, path: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.call_long::<procs::DomainRestoreFlags>(&RemoteDomainRestoreFlagsArgs {
            from: path.to_string(),
            dxml: opt(dxml),
            flags,
        })
    }

    pub(super) fn core_dump_with_format(
        &self,
        dom: &Domain,
        path: &str,
        format: u32,
        flags: u32,
    ) -> Result<()> {
        self.call_long::<procs::DomainCoreDumpWithFormat>(&RemoteDomainCoreDumpWithFormatArgs {
            dom: rdom(dom),
            to: path.to_string(),
            dumpformat: format,
            flags,
        })
    }

    pub(super) fn save_image_get_xml(&self, path: &str, flags: u32) -> Result<String> {
        let r =
            self.call::<procs::DomainSaveImageGetXmlDesc>(&RemoteDomainSaveImageGetXmlDescArgs {
                file: path.to_string(),
                flags,
            })?;
        Ok(r.xml)
    }

    pub(super) fn save_image_define_xml(&self, path: &str, dxml: &str, flags: u32) -> Result<()> {
        self.call::<procs::DomainSaveImageDefineXml>(&RemoteDomainSaveImageDefineXmlArgs {
            file: path.to_string(),
            dxml: dxml.to_string(),
            flags,
        })
    }

    /// virsh calls virDomainAbortJob without flags and virDomainAbortJobFlags with them:
    /// daemons older than 8.5 know only the first.
    pub(super) fn abort_job_flags(&self, dom: &Domain, flags: u32) -> Result<()> {
        if flags == 0 {
            return self
                .call::<procs::DomainAbortJob>(&RemoteDomainAbortJobArgs { dom: rdom(dom) });
        }
        self.call::<procs::DomainAbortJobFlags>(&RemoteDomainAbortJobFlagsArgs {
            dom: rdom(dom),
            flags,
        })
    }
}
