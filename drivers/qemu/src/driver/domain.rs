//! The domain calls of the QEMU driver: definitions in the config store, state from the status
//! files, actions on running guests through their supervisors.

use std::time::Duration;

use uuid::Uuid;
use virtsh_api::flags::{create, destroy, domain_xml, list_domains as lf, shutdown, undefine};
use virtsh_api::{
    impact, BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainDriver, DomainInfo,
    DomainInterface, DomainState, DomainStatsRecord, Error, ErrorKind, FsInfo, InterfaceStats,
    Result, Screenshot, TypedParam, VcpuInfo,
};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::copies::{self, check_flags};
use super::{display, guest, hotplug, monitor, parse_options, state_error, stats};
use super::{DomainView, QemuDriver, START_WAIT};
use crate::runtime::{self, ProcessIdentity};
use crate::supervisor::protocol::{Request, ShutdownMode};
use crate::supervisor::{self, client, launch};

/// How long the CLI waits for a supervisor's answer beyond the QMP bound.
const CALL_SLACK: Duration = Duration::from_secs(5);
/// `destroy` waits for QEMU's end: SIGTERM, SIGKILL after 3 s, or 10 s when graceful.
const DESTROY_WAIT: Duration = Duration::from_secs(20);

impl QemuDriver {
    fn autostart_link(&self, name: &str) -> std::path::PathBuf {
        self.store
            .dir()
            .join("autostart")
            .join(format!("{name}.xml"))
    }

    fn call(&self, v: &DomainView, req: &Request, wait: Duration) -> Result<serde_json::Value> {
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

    fn call_default(&self, dom: &Domain, req: Request) -> Result<()> {
        let v = self.view_of(dom)?;
        self.call(&v, &req, supervisor::qmp_timeout() + CALL_SLACK)?;
        Ok(())
    }

    /// Parse a definition as the QEMU driver keeps it: x86_64 by default, the host's QEMU as
    /// `<emulator>` when none is named, a name usable as a file name.
    fn parse_def(&self, xml: &str) -> Result<DomainDef> {
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

    /// Refuse a definition whose name or UUID belongs to another domain (libvirt's
    /// virDomainObjListAddLocked rules).
    fn check_identity(&self, def: &DomainDef) -> Result<()> {
        if let Ok(v) = self.view(&def.name) {
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
            if let Ok(v) = self.view(&name) {
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

    /// Start `def` (already written as the live XML) under a held lock.
    fn launch_guest(&self, def: &DomainDef, flags: u32) -> Result<Domain> {
        let rt = self.runtime(&def.name);
        let xml = def.to_xml(&FormatOptions {
            secure: true,
            ..FormatOptions::default()
        });
        crate::monitor_fd::create_private_dir(&rt.socket_dir())
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
        crate::state::atomic::write(&rt.live_xml_path(), xml.as_bytes()).map_err(state_error)?;
        let id = runtime::next_id(&self.paths.run).map_err(state_error)?;
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
        if let Err(e) = launch::launch(
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

impl DomainDriver for QemuDriver {
    fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        check_flags(flags, lf::ALL, "qemuConnectListAllDomains")?;
        let mut out = Vec::new();
        for name in self.all_names()? {
            let g = match self.glance(&name, Duration::ZERO) {
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

    fn lookup_domain_by_name(&self, name: &str) -> Result<Domain> {
        Ok(self.view(name)?.handle())
    }

    fn lookup_domain_by_id(&self, id: i32) -> Result<Domain> {
        for name in self.all_names()? {
            if let Ok(v) = self.view(&name) {
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

    fn lookup_domain_by_uuid(&self, uuid: &Uuid) -> Result<Domain> {
        for name in self.all_names()? {
            if let Ok(v) = self.view(&name) {
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

    fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let v = self.view_of(dom)?;
        let cpu_time = match (v.is_active(), v.status.qemu) {
            (true, Some(q)) => runtime::process_cpu_time_ns(q.pid).unwrap_or(0),
            _ => 0,
        };
        Ok(DomainInfo {
            state: DomainState::from_code(v.status.state),
            max_mem_kib: v.def.memory_kib,
            memory_kib: v.def.current_memory_kib,
            nr_virt_cpu: v.def.current_vcpus,
            cpu_time,
        })
    }

    /// No confinement, so no label (see `security_model`).
    fn domain_security_label(&self, dom: &Domain) -> Result<virtsh_api::SecurityLabel> {
        self.view_of(dom)?;
        Ok(virtsh_api::SecurityLabel {
            label: String::new(),
            enforcing: false,
        })
    }

    fn domain_state(&self, dom: &Domain) -> Result<(i32, i32)> {
        // `list` asks this of every domain it lists: no definition is parsed for it.
        let g = self.glance(&dom.name, super::LOCK_WAIT)?;
        if g.domain.uuid != dom.uuid {
            return Err(Error::no_domain_name(&dom.name));
        }
        Ok((g.status.state, g.status.reason))
    }

    fn domain_os_type(&self, dom: &Domain) -> Result<String> {
        Ok(self.view_of(dom)?.def.os.os_type)
    }

    fn domain_xml(&self, dom: &Domain, flags: u32) -> Result<String> {
        check_flags(
            flags,
            domain_xml::SECURE
                | domain_xml::INACTIVE
                | domain_xml::UPDATE_CPU
                | domain_xml::MIGRATABLE,
            "qemuDomainGetXMLDesc",
        )?;
        let v = self.view_of(dom)?;
        let inactive = flags & domain_xml::INACTIVE != 0 || !v.is_active();
        let def = if inactive && v.is_active() && v.persistent {
            self.persistent_def(&v.def.name)?.unwrap_or(v.def)
        } else {
            v.def
        };
        Ok(def.to_xml(&FormatOptions {
            inactive,
            id: if inactive { None } else { Some(v.status.id) },
            secure: flags & domain_xml::SECURE != 0,
        }))
    }

    fn define_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, 1, "qemuDomainDefineXMLFlags")?;
        let def = self.parse_def(xml)?;
        let _lock = self.lock(&def.name)?;
        self.check_identity(&def)?;
        let text = def.to_xml(&FormatOptions {
            inactive: true,
            secure: true,
            ..FormatOptions::default()
        });
        self.store.write(&def.name, &text).map_err(state_error)?;
        let status = self.status_of(&def.name, Duration::ZERO);
        Ok(Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id: if status.is_active() { status.id } else { -1 },
        })
    }

    fn create_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(
            flags,
            create::PAUSED | create::AUTODESTROY | create::VALIDATE,
            "qemuDomainCreateXML",
        )?;
        let def = self.parse_def(xml)?;
        let _lock = self.lock(&def.name)?;
        self.check_identity(&def)?;
        if self.status_of(&def.name, Duration::ZERO).is_active() {
            return Err(Error::new(
                ErrorKind::OperationInvalid,
                format!("domain '{}' is already active", def.name),
            ));
        }
        self.launch_guest(&def, flags)
    }

    fn undefine_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            undefine::MANAGED_SAVE
                | undefine::SNAPSHOTS_METADATA
                | undefine::NVRAM
                | undefine::KEEP_NVRAM
                | undefine::CHECKPOINTS_METADATA
                | undefine::TPM
                | undefine::KEEP_TPM,
            "qemuDomainUndefineFlags",
        )?;
        if flags & undefine::NVRAM != 0 && flags & undefine::KEEP_NVRAM != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                "Flags 'VIR_DOMAIN_UNDEFINE_NVRAM' and 'VIR_DOMAIN_UNDEFINE_KEEP_NVRAM' are mutually exclusive",
            ));
        }
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        if !v.persistent {
            return Err(Error::invalid_op("cannot undefine transient domain"));
        }
        let persistent = self.persistent_def(&dom.name)?;
        // The definition's <nvram>, or the copy the first start made in the default place.
        let nvram = persistent
            .as_ref()
            .and_then(|d| d.os.nvram.as_ref())
            .and_then(|n| n.text.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| {
                let p = self
                    .paths
                    .lib
                    .join("nvram")
                    .join(format!("{}_VARS.fd", dom.name));
                p.exists().then(|| p.to_string_lossy().into_owned())
            });
        if let Some(path) = &nvram {
            if std::path::Path::new(path).exists() {
                if flags & undefine::NVRAM != 0 {
                    std::fs::remove_file(path).map_err(|e| {
                        Error::new(
                            ErrorKind::SystemError,
                            format!("failed to remove nvram: {path}: {e}"),
                        )
                    })?;
                } else if flags & undefine::KEEP_NVRAM == 0 {
                    return Err(Error::invalid_op("cannot undefine domain with nvram"));
                }
            }
        }
        let _ = std::fs::remove_file(self.autostart_link(&dom.name));
        self.store.remove(&dom.name).map_err(state_error)?;
        if !v.is_active() {
            self.runtime(&dom.name).remove_all();
        }
        Ok(())
    }

    fn start_domain(&self, dom: &Domain, flags: u32) -> Result<Domain> {
        check_flags(
            flags,
            create::PAUSED
                | create::AUTODESTROY
                | create::BYPASS_CACHE
                | create::FORCE_BOOT
                | create::RESET_NVRAM,
            "qemuDomainCreateWithFlags",
        )?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        if v.is_active() {
            return Err(Error::invalid_op("domain is already running"));
        }
        self.launch_guest(&v.def, flags)
    }

    fn shutdown_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            shutdown::ACPI_POWER_BTN | shutdown::GUEST_AGENT,
            "qemuDomainShutdownFlags",
        )?;
        let mode = if flags & shutdown::GUEST_AGENT != 0 && flags & shutdown::ACPI_POWER_BTN == 0 {
            ShutdownMode::Agent
        } else {
            ShutdownMode::Acpi
        };
        self.call_default(dom, Request::Shutdown { mode })
    }

    fn reboot_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            shutdown::ACPI_POWER_BTN | shutdown::GUEST_AGENT,
            "qemuDomainReboot",
        )?;
        self.call_default(dom, Request::Reboot)
    }

    fn reset_domain(&self, dom: &Domain) -> Result<()> {
        self.call_default(dom, Request::Reset)
    }

    fn destroy_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            destroy::GRACEFUL | destroy::REMOVE_LOGS,
            "qemuDomainDestroyFlags",
        )?;
        let v = self.view_of(dom)?;
        self.call(
            &v,
            &Request::Destroy {
                graceful: flags & destroy::GRACEFUL != 0,
            },
            DESTROY_WAIT,
        )?;
        if flags & destroy::REMOVE_LOGS != 0 {
            let _ = std::fs::remove_file(self.log_path(&dom.name));
        }
        Ok(())
    }

    fn suspend_domain(&self, dom: &Domain) -> Result<()> {
        self.call_default(dom, Request::Suspend)
    }

    fn resume_domain(&self, dom: &Domain) -> Result<()> {
        self.call_default(dom, Request::Resume)
    }

    fn domain_autostart(&self, dom: &Domain) -> Result<bool> {
        self.view_of(dom)?;
        Ok(self.autostart_link(&dom.name).exists())
    }

    fn set_domain_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        let v = self.view_of(dom)?;
        if !v.persistent {
            return Err(Error::invalid_op(
                "cannot set autostart for transient domain",
            ));
        }
        let link = self.autostart_link(&dom.name);
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
                let target = self.store.path_of(&dom.name).map_err(state_error)?;
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

    fn domain_is_persistent(&self, dom: &Domain) -> Result<bool> {
        Ok(self.view_of(dom)?.persistent)
    }

    fn domain_is_active(&self, dom: &Domain) -> Result<bool> {
        Ok(self.view_of(dom)?.is_active())
    }

    fn domain_has_managed_save(&self, dom: &Domain) -> Result<bool> {
        self.view_of(dom)?;
        Ok(false)
    }

    fn domain_vcpus_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        stats::vcpus_count(self, dom, flags)
    }
    fn domain_vcpu_info(&self, dom: &Domain) -> Result<Vec<VcpuInfo>> {
        stats::vcpu_info(self, dom)
    }
    fn domain_max_vcpus(&self, dom: &Domain) -> Result<u32> {
        stats::max_vcpus(self, dom)
    }
    fn domain_block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        stats::block_info(self, dom, disk)
    }
    fn domain_memory_stats(&self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        stats::memory_stats(self, dom)
    }
    fn domain_stats(
        &self,
        doms: &[Domain],
        which: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        stats::domain_stats(self, doms, which, flags)
    }
    fn domain_cpu_stats_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        stats::cpu_stats_count(self, dom, flags)
    }
    fn domain_cpu_stats(
        &self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        stats::cpu_stats(self, dom, start_cpu, ncpus, flags)
    }
    fn domain_block_stats(&self, dom: &Domain, disk: &str) -> Result<BlockStats> {
        stats::block_stats(self, dom, disk)
    }
    fn domain_block_stats_flags(
        &self,
        dom: &Domain,
        disk: &str,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        stats::block_stats_flags(self, dom, disk, flags)
    }
    fn domain_interface_stats(&self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        stats::interface_stats(self, dom, device)
    }
    fn domain_control_info(&self, dom: &Domain, flags: u32) -> Result<ControlInfo> {
        stats::control_info(self, dom, flags)
    }
    fn domain_disk_errors(&self, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
        stats::disk_errors(self, dom, flags)
    }
    fn domain_job_stats(&self, dom: &Domain, flags: u32) -> Result<(i32, Vec<TypedParam>)> {
        stats::job_stats(self, dom, flags)
    }

    fn qemu_agent_command(
        &self,
        dom: &Domain,
        cmd: &str,
        timeout: i32,
        flags: u32,
    ) -> Result<String> {
        guest::agent_command(self, dom, cmd, timeout, flags)
    }
    fn domain_hostname(&self, dom: &Domain, flags: u32) -> Result<String> {
        guest::hostname(self, dom, flags)
    }
    fn domain_time(&self, dom: &Domain, flags: u32) -> Result<(i64, u32)> {
        guest::time(self, dom, flags)
    }
    fn set_domain_time(&self, dom: &Domain, secs: i64, nsecs: u32, flags: u32) -> Result<()> {
        guest::set_time(self, dom, secs, nsecs, flags)
    }
    fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        guest::interface_addresses(self, dom, source, flags)
    }
    fn domain_guest_info(&self, dom: &Domain, types: u32, flags: u32) -> Result<Vec<TypedParam>> {
        guest::guest_info(self, dom, types, flags)
    }
    fn domain_fs_info(&self, dom: &Domain, flags: u32) -> Result<Vec<FsInfo>> {
        guest::fs_info(self, dom, flags)
    }
    fn set_user_password(
        &self,
        dom: &Domain,
        user: &str,
        password: &str,
        flags: u32,
    ) -> Result<()> {
        guest::set_user_password(self, dom, user, password, flags)
    }

    fn attach_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        hotplug::attach_device(self, dom, xml, flags)
    }
    fn detach_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        hotplug::detach_device(self, dom, xml, flags)
    }
    fn detach_device_alias(&self, dom: &Domain, alias: &str, flags: u32) -> Result<()> {
        hotplug::detach_device_alias(self, dom, alias, flags)
    }
    fn update_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        hotplug::update_device(self, dom, xml, flags)
    }
    fn set_domain_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        hotplug::set_memory(self, dom, kib, flags)
    }
    fn set_domain_vcpus(&self, dom: &Domain, count: u32, flags: u32) -> Result<()> {
        hotplug::set_vcpus(self, dom, count, flags)
    }

    fn qemu_monitor_command(&self, dom: &Domain, cmd: &str, flags: u32) -> Result<String> {
        monitor::monitor_command(self, dom, cmd, flags)
    }
    fn domain_events(
        &self,
        dom: Option<&Domain>,
        qemu: bool,
        event_filter: Option<&str>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(virtsh_api::DomainEvent) -> bool,
    ) -> Result<()> {
        monitor::domain_events(self, dom, qemu, event_filter, timeout, sink)
    }

    fn domain_screenshot(&self, dom: &Domain, screen: u32, flags: u32) -> Result<Screenshot> {
        display::screenshot(self, dom, screen, flags)
    }
    fn send_key(
        &self,
        dom: &Domain,
        codeset: u32,
        holdtime: u32,
        keycodes: &[u32],
        flags: u32,
    ) -> Result<()> {
        display::send_key(self, dom, codeset, holdtime, keycodes, flags)
    }

    fn domain_metadata(
        &self,
        dom: &Domain,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "qemuDomainGetMetadata",
        )?;
        if flags & impact::LIVE != 0 && flags & impact::CONFIG != 0 {
            return Err(Error::invalid_arg(
                "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
            ));
        }
        let v = self.view_of(dom)?;
        let (live, _) = copies::impact(&v, flags)?;
        let def = if live {
            v.def
        } else {
            copies::persistent(self, &dom.name)?
        };
        virtsh_xml::domain::metadata::get(&def, kind, uri)
    }

    fn set_domain_metadata(
        &self,
        dom: &Domain,
        kind: i32,
        value: Option<&str>,
        key: Option<&str>,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        let change = virtsh_xml::domain::metadata::prepare(kind, value, key, uri)?;
        check_flags(
            flags,
            impact::LIVE | impact::CONFIG,
            "qemuDomainSetMetadata",
        )?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let (live, config) = copies::impact(&v, flags)?;
        if live {
            copies::edit_live(self, &dom.name, |def| {
                virtsh_xml::domain::metadata::apply(def, &change);
                Ok(())
            })?;
        }
        if config {
            let mut def = copies::persistent(self, &dom.name)?;
            virtsh_xml::domain::metadata::apply(&mut def, &change);
            copies::save_config(self, &def)?;
        }
        Ok(())
    }

    fn rename_domain(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        if v.is_active() {
            return Err(Error::invalid_op("cannot rename active domain"));
        }
        if !v.persistent {
            return Err(Error::invalid_op("cannot rename a transient domain"));
        }
        if v.def.name == new_name {
            return Err(Error::invalid_op("Can't rename domain to itself"));
        }
        crate::state::validate_name(new_name).map_err(state_error)?;
        let _new_lock = self.lock(new_name)?;
        if self.view(new_name).is_ok() {
            return Err(Error::invalid_op(format!(
                "domain with name '{new_name}' already exists"
            )));
        }
        let mut def = v.def;
        def.name = new_name.to_string();
        let text = def.to_xml(&FormatOptions {
            inactive: true,
            secure: true,
            ..FormatOptions::default()
        });
        self.store.write(new_name, &text).map_err(state_error)?;
        let had_autostart = self.autostart_link(&dom.name).exists();
        let _ = std::fs::remove_file(self.autostart_link(&dom.name));
        self.store.remove(&dom.name).map_err(state_error)?;
        self.runtime(&dom.name).remove_all();
        let new = Domain {
            name: new_name.to_string(),
            uuid: def.uuid,
            id: -1,
        };
        if had_autostart {
            self.set_domain_autostart(&new, true)?;
        }
        Ok(new)
    }
}
