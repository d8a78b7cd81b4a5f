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
use virtsh_xml::domain::FormatOptions;

use super::copies::{self, check_flags};
use super::QemuDriver;
use super::{console, display, guest, hotplug, monitor, state_error, stats, tune};
use crate::runtime;
use crate::supervisor::protocol::{Request, ShutdownMode};

/// `destroy` waits for QEMU's end: SIGTERM, SIGKILL after 3 s, or 10 s when graceful.
const DESTROY_WAIT: Duration = Duration::from_secs(20);

impl DomainDriver for QemuDriver {
    fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        check_flags(flags, lf::ALL, "qemuConnectListAllDomains")?;
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

    fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let v = self.view_of(dom)?;
        let cpu_time = match (v.is_active(), v.status.process) {
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
        self.reg.describe(
            v,
            flags & domain_xml::INACTIVE != 0,
            flags & domain_xml::SECURE != 0,
        )
    }

    fn define_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, 1, "qemuDomainDefineXMLFlags")?;
        let def = self.parse_def(xml)?;
        let _lock = self.lock(&def.name)?;
        self.check_identity(&def)?;
        self.reg.store_definition(&def)?;
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
                    .reg
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
        self.reg.undefine(&v)
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
    fn domain_memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        tune::memory_params(self, dom, flags)
    }
    fn set_domain_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        tune::set_memory_params(self, dom, params, flags)
    }
    fn domain_blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        tune::blkio_params(self, dom, flags)
    }
    fn set_domain_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        tune::set_blkio_params(self, dom, params, flags)
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
    fn open_console(
        &self,
        dom: &Domain,
        devname: Option<&str>,
        flags: u32,
    ) -> Result<virtsh_api::ConsoleStream> {
        console::open_console(self, dom, devname, flags)
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
        self.reg.store.write(new_name, &text).map_err(state_error)?;
        let had_autostart = self.autostart_link(&dom.name).exists();
        let _ = std::fs::remove_file(self.autostart_link(&dom.name));
        self.reg.store.remove(&dom.name).map_err(state_error)?;
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
