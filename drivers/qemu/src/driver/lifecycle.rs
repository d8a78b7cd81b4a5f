//! Defining and starting domains: parsing a definition as the QEMU driver keeps it, identity
//! checks, launching the supervisor, and the calls that reach a running guest's supervisor.

use std::time::Duration;

use virtsh_api::flags::create;
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::{parse_options, state_error};
use super::{DomainView, QemuDriver, START_WAIT};
use crate::runtime::{self, ProcessIdentity};
use crate::supervisor::protocol::Request;
use crate::supervisor::{self, client};

/// How long the CLI waits for a supervisor's answer beyond the QMP bound.
const CALL_SLACK: Duration = Duration::from_secs(5);

impl QemuDriver {
    pub(super) fn autostart_link(&self, name: &str) -> std::path::PathBuf {
        self.reg.autostart_link(name)
    }

    pub(super) fn call(
        &self,
        v: &DomainView,
        req: &Request,
        wait: Duration,
    ) -> Result<serde_json::Value> {
        v.check_active()?;
        let rt = self.runtime(&v.def.name);
        client::call(&rt.supervisor_socket(), req, wait)
    }

    /// Run a QMP command on the running guest `dom` (through its supervisor); the `return`.
    pub(crate) fn qmp(
        &self,
        dom: &Domain,
        execute: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let v = self.view_of(dom)?;
        self.call(
            &v,
            &Request::Qmp {
                execute: execute.to_string(),
                arguments,
            },
            supervisor::qmp_timeout() + CALL_SLACK,
        )
    }

    /// Run a guest agent command in `dom` (through its supervisor), waiting up to `timeout`
    /// for the agent; the `return`.
    pub(crate) fn agent(
        &self,
        dom: &Domain,
        execute: &str,
        arguments: serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        let v = self.view_of(dom)?;
        self.call(
            &v,
            &Request::Agent {
                execute: execute.to_string(),
                arguments,
                timeout_ms: timeout.as_millis() as u64,
            },
            timeout + CALL_SLACK,
        )
    }

    /// Send `req` to the supervisor of the running guest `dom`; its answer.
    pub(crate) fn supervisor_call(&self, dom: &Domain, req: &Request) -> Result<serde_json::Value> {
        let v = self.view_of(dom)?;
        self.call(&v, req, supervisor::qmp_timeout() + CALL_SLACK)
    }

    pub(super) fn call_default(&self, dom: &Domain, req: Request) -> Result<()> {
        let v = self.view_of(dom)?;
        self.call(&v, &req, supervisor::qmp_timeout() + CALL_SLACK)?;
        Ok(())
    }

    /// Parse a definition as the QEMU driver keeps it: x86_64 by default, the host's QEMU as
    /// `<emulator>` when none is named, a name usable as a file name.
    pub(super) fn parse_def(&self, xml: &str) -> Result<DomainDef> {
        let mut def = DomainDef::parse_with(xml, &parse_options())
            .map_err(|e| e.api_error("domain_definition", xml))?;
        crate::state::validate_name(&def.name).map_err(state_error)?;
        if !matches!(def.virt_type.as_str(), "qemu" | "kvm") {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "Emulator '{}' does not support virt type '{}'",
                    supervisor::boot::default_emulator().display(),
                    def.virt_type
                ),
            ));
        }
        if def.devices.emulator.is_none() {
            def.devices.emulator = Some(
                supervisor::boot::default_emulator()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        self.canonical_machine(&mut def)?;
        Ok(def)
    }

    /// libvirt's post-parse step for the machine: an alias (`pc`, `q35`) or no machine at all
    /// becomes the versioned machine this QEMU runs (`pc-i440fx-7.2`), so a definition keeps
    /// the same virtual hardware when QEMU is upgraded. Without a usable QEMU the definition
    /// is kept as written (the start will say what is missing).
    fn canonical_machine(&self, def: &mut DomainDef) -> Result<()> {
        let Some(emulator) = def.devices.emulator.clone() else {
            return Ok(());
        };
        let Ok(caps) = self.caps_of(std::path::Path::new(&emulator)) else {
            return Ok(());
        };
        let canonical = match def.os.machine.as_deref() {
            Some(m) => match caps.machine(m) {
                Some(found) => found.name.clone(),
                None => {
                    return Err(Error::new(
                        ErrorKind::ConfigUnsupported,
                        format!("Emulator '{emulator}' does not support machine type '{m}'"),
                    ))
                }
            },
            None => match caps.default_machine() {
                Some(d) => d.name.clone(),
                None => return Ok(()),
            },
        };
        def.os.machine = Some(canonical);
        Ok(())
    }

    /// Refuse a definition whose name or UUID belongs to another domain.
    pub(super) fn check_identity(&self, def: &DomainDef) -> Result<()> {
        self.reg.check_identity(def)
    }

    /// Start `def` (already written as the live XML) under a held lock.
    pub(super) fn launch_guest(&self, def: &DomainDef, flags: u32) -> Result<Domain> {
        let mut def = def.clone();
        self.networks.plug_interfaces(&self.uri, &mut def)?;
        let result = self.launch_plugged(&def, flags);
        // A supervisor that ran releases the ports when it ends; one that never ran cannot.
        if result.is_err() && !self.runtime(&def.name).supervisor_alive().unwrap_or(false) {
            virtsh_network::guests::release_ports_of(&self.uri, &def.name, &def.devices.interfaces);
        }
        result
    }

    /// [`Self::launch_guest`] once the guest's network NICs have their ports.
    fn launch_plugged(&self, def: &DomainDef, flags: u32) -> Result<Domain> {
        let rt = self.runtime(&def.name);
        let xml = def.to_xml(&FormatOptions {
            secure: true,
            ..FormatOptions::default()
        });
        crate::monitor_fd::create_private_dir(&rt.socket_dir())
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
        crate::state::atomic::write(&rt.live_xml_path(), xml.as_bytes()).map_err(state_error)?;
        let id = runtime::next_id(&self.reg.paths.run).map_err(state_error)?;
        let autodestroy = if flags & create::AUTODESTROY != 0 {
            ProcessIdentity::of(std::process::id() as i32)
        } else {
            None
        };
        let args = supervisor::Args {
            uri: self.uri.clone(),
            name: def.name.clone(),
            id,
            paused: flags & create::PAUSED != 0,
            attach: false,
            autodestroy,
        };
        if let Err(e) = supervisor::launch(
            &self.supervisor_exe,
            &args,
            &self.log_path(&def.name),
            START_WAIT,
        ) {
            // The supervisor cleans up after itself; a supervisor that never ran cannot.
            if !rt.supervisor_alive().unwrap_or(false) {
                let _ = std::fs::remove_file(rt.live_xml_path());
            }
            return Err(e);
        }
        Ok(Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id,
        })
    }
}
