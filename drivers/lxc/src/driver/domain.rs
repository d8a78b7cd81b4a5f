//! The `DomainDriver` calls of the LXC driver: definitions through the registry, the
//! lifecycle through the supervisor (start) and directly on the init and the cgroup (shutdown,
//! destroy, suspend, resume), and the console.

use std::time::{Duration, Instant};

use uuid::Uuid;
use virtsh_api::console::{ConsoleStream, CONSOLE_FORCE, CONSOLE_SAFE};
use virtsh_api::flags::{
    check, create, destroy, domain_state, domain_xml, list_domains as lf, state_reason, undefine,
};
use virtsh_api::{
    Domain, DomainDriver, DomainInfo, DomainState, DomainStatsRecord, Error, ErrorKind,
    InterfaceStats, Result, TypedParam,
};
use virtsh_state::domains::{no_domain, DomainView};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::initctl::Stop;
use super::{LxcDriver, START_WAIT};
use crate::supervisor;
use virtsh_state::domains::state_error;

/// What libvirt's LXC driver names as the emulator of every container.
pub const LXC_EMULATOR: &str = "/usr/lib/libvirt/libvirt_lxc";

/// How long `destroy` waits for the supervisor to record the end.
const DESTROY_WAIT: Duration = Duration::from_secs(10);

impl LxcDriver {
    /// Parse a definition as this driver keeps it (libvirt's LXC post-parse: the emulator,
    /// consoles targeting `lxc`), refusing what is not a container.
    fn parse_def(&self, xml: &str) -> Result<DomainDef> {
        let mut def = DomainDef::parse_with(xml, &super::parse_options())
            .map_err(|e| e.api_error("domain_definition", xml))?;
        virtsh_state::validate_name(&def.name).map_err(state_error)?;
        if def.virt_type != "lxc" {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "Emulator '{LXC_EMULATOR}' does not support virt type '{}'",
                    def.virt_type
                ),
            ));
        }
        if def.os.os_type != "exe" {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "Emulator '{LXC_EMULATOR}' does not support os type '{}'",
                    def.os.os_type
                ),
            ));
        }
        if def.devices.emulator.is_none() {
            def.devices.emulator = Some(LXC_EMULATOR.to_string());
        }
        for c in &mut def.devices.consoles {
            if c.target_type.is_none() {
                c.target_type = Some("lxc".to_string());
            }
        }
        Ok(def)
    }

    /// Start `def` under a held lock: its network ports, the live XML, the supervisor.
    fn launch(&self, def: &DomainDef) -> Result<Domain> {
        if def.devices.consoles.is_empty() {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                "At least one PTY console is required",
            ));
        }
        if def.devices.consoles.iter().any(|c| c.chr_type != "pty") {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                "Only PTY console types are supported",
            ));
        }
        if let (true, Some(nic)) = (self.session, def.devices.interfaces.first()) {
            // Refused before anything is allocated: an unprivileged user cannot make the
            // veth, and a half-made container would be worse than none.
            return Err(crate::spec::session_interface_error(&nic.if_type));
        }
        let mut def = def.clone();
        self.networks.plug_interfaces(&self.uri, &mut def)?;
        let rt = self.runtime(&def.name);
        let release = |def: &DomainDef| {
            if !rt.supervisor_alive().unwrap_or(false) {
                virtsh_network::guests::release_ports_of(
                    &self.uri,
                    &def.name,
                    &def.devices.interfaces,
                );
                let _ = std::fs::remove_file(rt.live_xml_path());
            }
        };
        let xml = def.to_xml(&FormatOptions {
            secure: true,
            ..FormatOptions::default()
        });
        if let Err(e) = virtsh_state::atomic::write(&rt.live_xml_path(), xml.as_bytes()) {
            release(&def);
            return Err(state_error(e));
        }
        let id = match virtsh_state::runtime::next_id(&self.reg.paths.run) {
            Ok(id) => id,
            Err(e) => {
                release(&def);
                return Err(state_error(e));
            }
        };
        let args = supervisor::Args {
            uri: self.uri.clone(),
            name: def.name.clone(),
            id,
        };
        if let Err(e) = virtsh_state::launch::launch(
            &self.supervisor_exe,
            supervisor::SUPERVISE_ARG,
            &args.to_argv(),
            &def.name,
            &self.log_path(&def.name),
            START_WAIT,
        ) {
            release(&def);
            return Err(e);
        }
        Ok(Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id,
        })
    }

    /// The running init of `v`, by pid, checked to be the recorded process.
    pub(super) fn init_pid(v: &DomainView) -> Result<i32> {
        v.check_active()?;
        v.status
            .process
            .filter(|p| p.is_alive())
            .map(|p| p.pid)
            .ok_or_else(|| Error::invalid_op("domain is not running"))
    }

    /// The cgroup of a running container. An `lxc:///session` container may have none
    /// (see `crate::supervisor`'s `session`): then libvirt's error for a missing controller.
    pub(super) fn cgroup_of(v: &DomainView) -> Result<virtsh_cgroup::Cgroup> {
        Self::cgroup_for(v, "")
    }

    /// [`LxcDriver::cgroup_of`] for a call that needs `controller` (named in the error).
    fn cgroup_for(v: &DomainView, controller: &str) -> Result<virtsh_cgroup::Cgroup> {
        let Some(rel) = v.status.cgroup.as_deref() else {
            let what = match controller {
                "" => "cgroup controllers are".to_string(),
                c => format!("cgroup {c} controller is"),
            };
            return Err(Error::invalid_op(format!(
                "{what} not mounted: domain '{}' runs without a cgroup (lxc:///session with no \
                 delegated cgroup v2 subtree)",
                v.def.name
            )));
        };
        supervisor::open_cgroup(rel).map_err(supervisor::cgroup_error)
    }

    /// Record a new state of a running container (suspend, resume) under its lock.
    fn set_state(&self, v: &DomainView, state: i32, reason: i32) -> Result<()> {
        let mut status = v.status.clone();
        status.state = state;
        status.reason = reason;
        self.runtime(&v.def.name)
            .write_status(&status)
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))
    }
}

/// The CPU time of process `pid` and of its reaped children, in ns: fields 14 to 17 of
/// `/proc/PID/stat` (utime, stime, cutime, cstime), in clock ticks. 0 if unreadable.
fn init_cpu_ns(pid: i32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) may hold spaces and parentheses: fields after its last ')'.
    let Some((_, rest)) = text.rsplit_once(") ") else {
        return 0;
    };
    // `rest` starts at field 3 (the state): utime is field 14, so the 11th of `rest`.
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    let hz = virtsh_cgroup::clock_ticks_per_sec().max(1);
    ticks.saturating_mul(1_000_000_000 / hz)
}

impl DomainDriver for LxcDriver {
    fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        check(flags, lf::ALL, "lxcConnectListAllDomains")?;
        self.reg
            .list_all(flags, |name| self.glance(name, Duration::ZERO))
    }

    fn lookup_domain_by_name(&self, name: &str) -> Result<Domain> {
        Ok(self.view(name)?.handle())
    }

    fn lookup_domain_by_id(&self, id: i32) -> Result<Domain> {
        self.reg
            .lookup_by_id(id, super::LOCK_WAIT, &|rt, st| self.repair(rt, st))
    }

    fn lookup_domain_by_uuid(&self, uuid: &Uuid) -> Result<Domain> {
        self.reg
            .lookup_by_uuid(uuid, super::LOCK_WAIT, &|rt, st| self.repair(rt, st))
    }

    /// lxcDomainGetInfo: memory and CPU time from the container's cgroup while it runs. A
    /// session container without a cgroup: the CPU time of its init and the init's reaped
    /// children (`/proc/PID/stat`), and the memory of its definition.
    fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let v = self.view_of(dom)?;
        let (memory_kib, cpu_time) = match v.is_active().then(|| Self::cgroup_of(&v)) {
            Some(Ok(cg)) => (
                cg.memory_current().map(|b| b / 1024).unwrap_or(0),
                cg.cpu_usage_ns().unwrap_or(0),
            ),
            Some(Err(_)) if v.status.cgroup.is_none() => (
                v.def.current_memory_kib,
                Self::init_pid(&v).ok().map_or(0, init_cpu_ns),
            ),
            _ => (v.def.current_memory_kib, 0),
        };
        Ok(DomainInfo {
            state: DomainState::from_code(v.status.state),
            max_mem_kib: v.def.memory_kib,
            memory_kib,
            nr_virt_cpu: v.def.current_vcpus,
            cpu_time,
        })
    }

    fn domain_state(&self, dom: &Domain) -> Result<(i32, i32)> {
        let g = self.glance(&dom.name, super::LOCK_WAIT)?;
        if g.domain.uuid != dom.uuid {
            return Err(no_domain(&dom.name));
        }
        Ok((g.status.state, g.status.reason))
    }

    fn domain_os_type(&self, dom: &Domain) -> Result<String> {
        Ok(self.view_of(dom)?.def.os.os_type)
    }

    fn domain_xml(&self, dom: &Domain, flags: u32) -> Result<String> {
        check(
            flags,
            domain_xml::SECURE | domain_xml::INACTIVE,
            "lxcDomainGetXMLDesc",
        )?;
        let v = self.view_of(dom)?;
        self.reg.describe(
            v,
            flags & domain_xml::INACTIVE != 0,
            flags & domain_xml::SECURE != 0,
        )
    }

    fn define_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        check(flags, 1, "lxcDomainDefineXMLFlags")?;
        let def = self.parse_def(xml)?;
        let _lock = self.lock(&def.name)?;
        self.reg.check_identity(&def)?;
        self.reg.store_definition(&def)?;
        let status = self.status_of(&def.name, Duration::ZERO);
        Ok(Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id: if status.is_active() { status.id } else { -1 },
        })
    }

    fn create_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        check(
            flags,
            create::AUTODESTROY | create::VALIDATE,
            "lxcDomainCreateXMLWithFiles",
        )?;
        let def = self.parse_def(xml)?;
        let _lock = self.lock(&def.name)?;
        self.reg.check_identity(&def)?;
        if self.status_of(&def.name, Duration::ZERO).is_active() {
            return Err(Error::new(
                ErrorKind::OperationInvalid,
                format!("domain '{}' is already active", def.name),
            ));
        }
        self.launch(&def)
    }

    fn undefine_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check(flags, undefine::MANAGED_SAVE, "lxcDomainUndefineFlags")?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        if !v.persistent {
            return Err(Error::invalid_op("cannot undefine transient domain"));
        }
        self.reg.undefine(&v)
    }

    fn start_domain(&self, dom: &Domain, flags: u32) -> Result<Domain> {
        check(flags, create::AUTODESTROY, "lxcDomainCreateWithFiles")?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        if v.is_active() {
            return Err(Error::invalid_op("Domain is already running"));
        }
        self.launch(&v.def)
    }

    /// lxcDomainShutdownFlags: runlevel 0 through the init's control FIFO, or SIGTERM.
    fn shutdown_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.stop_init(dom, Stop::PowerOff, flags)
    }

    /// lxcDomainReboot: runlevel 6 through the init's control FIFO, or SIGHUP.
    fn reboot_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.stop_init(dom, Stop::Reboot, flags)
    }

    fn destroy_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        check(flags, destroy::GRACEFUL, "lxcDomainDestroyFlags")?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let pid = Self::init_pid(&v)?;
        let sig = if flags & destroy::GRACEFUL != 0 {
            libc::SIGTERM
        } else {
            libc::SIGKILL
        };
        // SAFETY: a signal to the container's init, checked to be the recorded process.
        unsafe { libc::kill(pid, sig) };
        // A frozen container cannot die (cgroup v1) until it is thawed.
        if let Ok(cg) = Self::cgroup_of(&v) {
            let _ = cg.thaw();
        }
        let rt = self.runtime(&dom.name);
        let deadline = Instant::now() + DESTROY_WAIT;
        while Instant::now() < deadline {
            match rt.read_status() {
                Ok(Some(s)) if s.is_active() => {}
                _ => return Ok(()),
            }
            if !rt.supervisor_alive().unwrap_or(true) {
                self.reconcile(&rt);
                return Ok(());
            }
            // The supervisor records the end within milliseconds of the kill.
            std::thread::sleep(Duration::from_millis(2));
        }
        Err(Error::new(
            ErrorKind::OperationFailed,
            format!("container '{}' did not end", dom.name),
        ))
    }

    /// lxcDomainSuspend: the cgroup's freezer.
    fn suspend_domain(&self, dom: &Domain) -> Result<()> {
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        v.check_active()?;
        if v.status.state != domain_state::PAUSED {
            Self::cgroup_for(&v, "freezer")?
                .freeze()
                .map_err(|_| Error::new(ErrorKind::OperationFailed, "Suspend operation failed"))?;
        }
        self.set_state(&v, domain_state::PAUSED, state_reason::PAUSED_USER)
    }

    fn resume_domain(&self, dom: &Domain) -> Result<()> {
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        v.check_active()?;
        if v.status.state != domain_state::PAUSED {
            return Err(Error::invalid_op("domain is not paused"));
        }
        Self::cgroup_for(&v, "freezer")?
            .thaw()
            .map_err(|_| Error::new(ErrorKind::OperationFailed, "Resume operation failed"))?;
        self.set_state(&v, domain_state::RUNNING, state_reason::RUNNING_UNPAUSED)
    }

    fn domain_autostart(&self, dom: &Domain) -> Result<bool> {
        self.view_of(dom)?;
        Ok(self.reg.autostart_link(&dom.name).exists())
    }

    fn set_domain_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        let v = self.view_of(dom)?;
        self.reg.set_autostart(&v, on)
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

    fn send_process_signal(&self, dom: &Domain, pid: i64, signum: u32, flags: u32) -> Result<()> {
        self.signal_init(dom, pid, signum, flags)
    }

    fn lxc_open_namespace(&self, dom: &Domain, flags: u32) -> Result<Vec<std::os::fd::OwnedFd>> {
        self.open_namespaces(dom, flags)
    }

    fn lxc_enter_cgroup(&self, dom: &Domain, pid: i32, flags: u32) -> Result<()> {
        self.enter_cgroup(dom, pid, flags)
    }

    fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<virtsh_api::DomainInterface>> {
        self.addresses(dom, source, flags)
    }

    fn domain_scheduler_type(&self, dom: &Domain) -> Result<(String, i32)> {
        self.scheduler_type(dom)
    }

    fn domain_scheduler_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.scheduler_params(dom, flags)
    }

    fn set_domain_scheduler_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.set_scheduler_params(dom, params, flags)
    }

    fn domain_memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.memory_params(dom, flags)
    }

    fn set_domain_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.set_memory_params(dom, params, flags)
    }

    fn domain_blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.blkio_params(dom, flags)
    }

    fn set_domain_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.set_blkio_params(dom, params, flags)
    }

    fn set_domain_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        self.set_memory(dom, kib, flags)
    }

    fn domain_memory_stats(&self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        self.memory_stats(dom)
    }

    fn domain_stats(
        &self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        self.all_stats(doms, stats, flags)
    }

    fn domain_cpu_stats_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        self.cpu_stats_count(dom, flags)
    }

    fn domain_cpu_stats(
        &self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        self.cpu_stats(dom, start_cpu, ncpus, flags)
    }

    fn domain_interface_stats(&self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        self.interface_stats(dom, device)
    }

    /// No security driver confines containers: no label.
    fn domain_security_label(&self, dom: &Domain) -> Result<virtsh_api::SecurityLabel> {
        self.view_of(dom)?;
        Ok(virtsh_api::SecurityLabel {
            label: String::new(),
            enforcing: false,
        })
    }

    /// lxcDomainOpenConsole: the user's side of the console the supervisor relays.
    fn open_console(
        &self,
        dom: &Domain,
        devname: Option<&str>,
        flags: u32,
    ) -> Result<ConsoleStream> {
        check(flags, CONSOLE_FORCE | CONSOLE_SAFE, "lxcDomainOpenConsole")?;
        let v = self.view_of(dom)?;
        v.check_active()?;
        let chr = match devname {
            Some(name) => v
                .def
                .devices
                .consoles
                .iter()
                .enumerate()
                .find(|(i, c)| {
                    c.info.alias.as_deref() == Some(name) || format!("console{i}") == name
                })
                .map(|(_, c)| c),
            None => v.def.devices.consoles.first(),
        }
        .ok_or_else(|| {
            Error::internal(format!(
                "cannot find console device '{}'",
                devname.unwrap_or("<null>")
            ))
        })?;
        let path = chr
            .source_path()
            .ok_or_else(|| Error::internal("PTY device is not yet assigned"))?;
        let session = virtsh_state::chrdev::open_pty_exclusive(
            std::path::Path::new(path),
            flags & CONSOLE_FORCE != 0,
        )?;
        Ok(ConsoleStream::new(session.fd, Box::new(session.pid_file)))
    }
}
