//! Domains: lookups, listing, definition and the lifecycle (testDomain* in test_driver.c), and
//! the `DomainDriver` implementation, which hands tuning and monitoring calls to `domtune.rs`,
//! guest queries and counters to `domguest.rs` and snapshot calls to `snapshot.rs`.

use virtsh_api::flags::{create, destroy, domain_xml, shutdown, undefine};
use virtsh_api::{
    BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainDriver, DomainInfo,
    DomainInterface, DomainSnapshot, DomainState, DomainStatsRecord, Error, ErrorKind,
    InterfaceStats, Result, SecurityLabel, TypedParam, VcpuInfo,
};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use crate::domstate::{no_domain, reason, st};
use crate::{check_flags, real_time_us, xmlconv, Driver, TestConnection};

/// VIR_DOMAIN_DEFINE_VALIDATE
const DEFINE_VALIDATE: u32 = 1 << 0;
/// Every VIR_CONNECT_LIST_DOMAINS_* filter.
const LIST_FILTERS_ALL: u32 = 0xFFFF;

/// Parse a domain definition as the test driver does (testDomainDefineXMLFlags and friends).
pub(crate) fn parse_domain(xml: &str) -> Result<DomainDef> {
    let mut def =
        DomainDef::parse(xml).map_err(|e| xmlconv::xml_error(&e, "domain_definition", xml))?;
    def.assign_test_ifnames();
    Ok(def)
}

/// The domain XML the test driver returns for `obj` (testDomainGetXMLDesc).
pub(crate) fn format_domain(obj: &crate::DomainObj, flags: u32) -> String {
    let inactive = flags & domain_xml::INACTIVE != 0;
    let def = match (&obj.new_def, inactive) {
        (Some(d), true) => d,
        _ => &obj.def,
    };
    def.to_xml(&FormatOptions {
        inactive,
        id: (obj.is_active() && !inactive).then_some(obj.id),
        secure: flags & domain_xml::SECURE != 0,
    })
}

impl Driver {
    fn list_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        check_flags(flags, LIST_FILTERS_ALL, "testConnectListAllDomains")?;
        Ok(self
            .domains
            .iter()
            .filter(|d| d.matches(flags))
            .map(|d| d.handle())
            .collect())
    }

    fn define(&mut self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, DEFINE_VALIDATE, "testDomainDefineXMLFlags")?;
        let def = parse_domain(xml)?;
        if def.name.contains('\n') {
            return Err(Error::raw(ErrorKind::XmlDetail, "invalid char in name: \n"));
        }
        let (idx, _) = self.add_domain(def, false)?;
        let obj = &mut self.domains[idx];
        obj.persistent = true;
        Ok(obj.handle())
    }

    fn create(&mut self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, create::VALIDATE, "testDomainCreateXML")?;
        let def = parse_domain(xml)?;
        let (idx, _) = self.add_domain(def, true)?;
        self.start_state(idx, reason::RUNNING_BOOTED);
        Ok(self.domains[idx].handle())
    }

    fn undefine(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            undefine::MANAGED_SAVE | undefine::SNAPSHOTS_METADATA,
            "testDomainUndefineFlags",
        )?;
        let idx = self.dom_index(dom)?;
        let obj = &mut self.domains[idx];
        if obj.has_managed_save && flags & undefine::MANAGED_SAVE == 0 {
            return Err(Error::invalid_op(
                "Refusing to undefine while domain managed save image exists",
            ));
        }
        let nsnap = obj.snapshots.len();
        if !obj.is_active() && nsnap > 0 && flags & undefine::SNAPSHOTS_METADATA == 0 {
            return Err(Error::invalid_op(format!(
                "cannot delete inactive domain with {nsnap} snapshots"
            )));
        }
        obj.has_managed_save = false;
        if obj.is_active() {
            obj.persistent = false;
        } else {
            self.domains.remove(idx);
        }
        Ok(())
    }

    fn start(&mut self, dom: &Domain, flags: u32) -> Result<Domain> {
        check_flags(flags, 0, "testDomainCreateWithFlags")?;
        let idx = self.dom_index(dom)?;
        if self.domains[idx].state != st::SHUTOFF {
            return Err(Error::internal(format!(
                "Domain '{}' is already running",
                dom.name
            )));
        }
        self.start_state(idx, reason::RUNNING_BOOTED);
        Ok(self.domains[idx].handle())
    }

    /// testDomainActionSetState: what a guest-initiated power-off or reboot leads to.
    fn lifecycle_action(&mut self, idx: usize, action: &str) {
        let obj = &mut self.domains[idx];
        match action {
            "restart" | "rename-restart" => obj.set_state(st::RUNNING, reason::RUNNING_BOOTED),
            _ => obj.set_state(st::SHUTOFF, reason::SHUTOFF_SHUTDOWN),
        }
        if obj.state == st::SHUTOFF {
            obj.shutdown_state(reason::SHUTOFF_SHUTDOWN);
            self.remove_if_transient(idx);
        }
    }

    fn shutdown(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testDomainShutdownFlags")?;
        let idx = self.dom_index(dom)?;
        if self.domains[idx].state == st::SHUTOFF {
            return Err(Error::internal(format!(
                "domain '{}' not running",
                dom.name
            )));
        }
        let action = self.domains[idx].def.on_poweroff.clone();
        self.lifecycle_action(idx, &action);
        Ok(())
    }

    fn reboot(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        let all = shutdown::ACPI_POWER_BTN
            | shutdown::GUEST_AGENT
            | shutdown::INITCTL
            | shutdown::SIGNAL
            | shutdown::PARAVIRT;
        check_flags(flags, all, "testDomainReboot")?;
        let idx = self.dom_index(dom)?;
        self.domains[idx].check_active()?;
        let action = self.domains[idx].def.on_reboot.clone();
        self.lifecycle_action(idx, &action);
        Ok(())
    }

    fn destroy(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, destroy::GRACEFUL, "testDomainDestroyFlags")?;
        let idx = self.dom_index(dom)?;
        let obj = &mut self.domains[idx];
        obj.check_active()?;
        obj.shutdown_state(reason::SHUTOFF_DESTROYED);
        self.remove_if_transient(idx);
        Ok(())
    }

    fn suspend(&mut self, dom: &Domain) -> Result<()> {
        let obj = self.dom_mut(dom)?;
        if obj.state == st::SHUTOFF || obj.state == st::PAUSED {
            return Err(Error::internal(format!(
                "domain '{}' not running",
                dom.name
            )));
        }
        obj.set_state(st::PAUSED, reason::PAUSED_USER);
        Ok(())
    }

    fn resume(&mut self, dom: &Domain) -> Result<()> {
        let obj = self.dom_mut(dom)?;
        if obj.state != st::PAUSED {
            return Err(Error::internal(format!("domain '{}' not paused", dom.name)));
        }
        obj.set_state(st::RUNNING, reason::RUNNING_UNPAUSED);
        Ok(())
    }

    fn rename(&mut self, dom: &Domain, new_name: &str) -> Result<Domain> {
        let idx = self.dom_index(dom)?;
        let obj = &self.domains[idx];
        if obj.is_active() {
            return Err(Error::invalid_op("cannot rename active domain"));
        }
        if !obj.persistent {
            return Err(Error::invalid_op("cannot rename a transient domain"));
        }
        if obj.state != st::SHUTOFF {
            return Err(Error::invalid_op(
                "domain has to be shutoff before renaming",
            ));
        }
        if obj.name() == new_name {
            return Err(Error::invalid_op("Can't rename domain to itself"));
        }
        if self.domains.iter().any(|d| d.name() == new_name) {
            return Err(Error::invalid_op(format!(
                "domain with name '{new_name}' already exists"
            )));
        }
        if new_name.contains('/') {
            return Err(Error::new(
                ErrorKind::XmlError,
                format!("name {new_name} cannot contain '/'"),
            ));
        }
        let obj = &mut self.domains[idx];
        obj.def.name = new_name.to_string();
        Ok(obj.handle())
    }

    /// testDomainManagedSave (with the public API's check of RUNNING and PAUSED first).
    pub(crate) fn managed_save(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        use virtsh_api::flags::save;
        if flags & save::RUNNING != 0 && flags & save::PAUSED != 0 {
            return Err(crate::domstate::exclusive_flags(
                "VIR_DOMAIN_SAVE_RUNNING",
                "VIR_DOMAIN_SAVE_PAUSED",
            ));
        }
        check_flags(
            flags,
            save::BYPASS_CACHE | save::RUNNING | save::PAUSED,
            "testDomainManagedSave",
        )?;
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        if !obj.persistent {
            return Err(Error::invalid_op(
                "cannot do managed save for transient domain",
            ));
        }
        obj.shutdown_state(reason::SHUTOFF_SAVED);
        obj.has_managed_save = true;
        Ok(())
    }

    /// testDomainManagedSaveRemove
    pub(crate) fn managed_save_remove(&mut self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testDomainManagedSaveRemove")?;
        self.dom_mut(dom)?.has_managed_save = false;
        Ok(())
    }
}

impl DomainDriver for TestConnection {
    fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        self.lock().list_domains(flags)
    }

    /// The test driver accepts event registrations, but each connection's state is its own
    /// and nothing else changes it while a watch runs: the watch sees no events.
    fn domain_events(
        &self,
        _dom: Option<&Domain>,
        qemu: bool,
        _event_filter: Option<&str>,
        timeout: Option<std::time::Duration>,
        _sink: &mut dyn FnMut(virtsh_api::DomainEvent) -> bool,
    ) -> Result<()> {
        if qemu {
            return Err(Error::unsupported(
                "virConnectDomainQemuMonitorEventRegister",
            ));
        }
        wait_for_nothing(timeout);
        Ok(())
    }

    fn lookup_domain_by_name(&self, name: &str) -> Result<Domain> {
        let drv = self.lock();
        let obj = drv.domains.iter().find(|d| d.name() == name);
        obj.map(|d| d.handle()).ok_or_else(no_domain)
    }

    fn lookup_domain_by_id(&self, id: i32) -> Result<Domain> {
        let drv = self.lock();
        let obj = drv.domains.iter().find(|d| d.is_active() && d.id == id);
        obj.map(|d| d.handle()).ok_or_else(no_domain)
    }

    fn lookup_domain_by_uuid(&self, uuid: &uuid::Uuid) -> Result<Domain> {
        let drv = self.lock();
        let obj = drv.domains.iter().find(|d| d.def.uuid == *uuid);
        obj.map(|d| d.handle()).ok_or_else(no_domain)
    }

    fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let drv = self.lock();
        let obj = drv.dom_ref(dom)?;
        Ok(DomainInfo {
            state: DomainState::from_code(obj.state),
            max_mem_kib: obj.def.memory_kib,
            memory_kib: obj.def.current_memory_kib,
            nr_virt_cpu: obj.def.current_vcpus,
            cpu_time: real_time_us() * 1000,
        })
    }

    fn domain_state(&self, dom: &Domain) -> Result<(i32, i32)> {
        let drv = self.lock();
        let obj = drv.dom_ref(dom)?;
        Ok((obj.state, obj.reason))
    }

    fn domain_os_type(&self, dom: &Domain) -> Result<String> {
        // testDomainGetOSType answers "linux" whatever the domain.
        self.lock().dom_ref(dom)?;
        Ok("linux".to_string())
    }

    fn domain_xml(&self, dom: &Domain, flags: u32) -> Result<String> {
        let common = domain_xml::SECURE | domain_xml::INACTIVE | domain_xml::MIGRATABLE;
        check_flags(flags, common, "testDomainGetXMLDesc")?;
        let drv = self.lock();
        Ok(format_domain(drv.dom_ref(dom)?, flags))
    }

    fn define_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.lock().define(xml, flags)
    }

    fn create_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.lock().create(xml, flags)
    }

    fn undefine_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().undefine(dom, flags)
    }

    fn start_domain(&self, dom: &Domain, flags: u32) -> Result<Domain> {
        self.lock().start(dom, flags)
    }

    fn shutdown_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().shutdown(dom, flags)
    }

    fn reboot_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().reboot(dom, flags)
    }

    fn reset_domain(&self, dom: &Domain) -> Result<()> {
        self.lock().dom_ref(dom)?.check_active()
    }

    fn destroy_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().destroy(dom, flags)
    }

    fn suspend_domain(&self, dom: &Domain) -> Result<()> {
        self.lock().suspend(dom)
    }

    fn resume_domain(&self, dom: &Domain) -> Result<()> {
        self.lock().resume(dom)
    }

    fn domain_autostart(&self, dom: &Domain) -> Result<bool> {
        Ok(self.lock().dom_ref(dom)?.autostart)
    }

    fn set_domain_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.lock().dom_mut(dom)?.autostart = on;
        Ok(())
    }

    fn domain_is_persistent(&self, dom: &Domain) -> Result<bool> {
        Ok(self.lock().dom_ref(dom)?.persistent)
    }

    fn domain_is_active(&self, dom: &Domain) -> Result<bool> {
        Ok(self.lock().dom_ref(dom)?.is_active())
    }

    /// testDomainSendProcessSignal: checked, then nothing happens.
    fn send_process_signal(&self, dom: &Domain, pid: i64, signum: u32, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testDomainSendProcessSignal")?;
        if pid != 1 {
            return Err(Error::invalid_arg(
                "only sending a signal to pid 1 is supported",
            ));
        }
        // virDomainProcessSignal's last value + 1.
        if signum >= 65 {
            return Err(Error::invalid_arg(format!(
                "signum value {signum} is out of range"
            )));
        }
        self.lock().dom_ref(dom)?;
        Ok(())
    }

    fn domain_has_managed_save(&self, dom: &Domain) -> Result<bool> {
        Ok(self.lock().dom_ref(dom)?.has_managed_save)
    }

    fn rename_domain(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        self.lock().rename(dom, new_name)
    }

    fn domain_metadata(
        &self,
        dom: &Domain,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        self.lock().get_metadata(dom, kind, uri, flags)
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
        self.lock().set_metadata(dom, kind, value, key, uri, flags)
    }

    fn set_domain_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        self.lock().set_memory(dom, kib, flags)
    }

    fn set_domain_vcpus(&self, dom: &Domain, count: u32, flags: u32) -> Result<()> {
        self.lock().set_vcpus(dom, count, flags)
    }

    fn domain_vcpus_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        self.lock().vcpus_count(dom, flags)
    }

    fn domain_vcpu_info(&self, dom: &Domain) -> Result<Vec<VcpuInfo>> {
        self.lock().vcpu_info(dom)
    }

    fn domain_max_vcpus(&self, dom: &Domain) -> Result<u32> {
        use virtsh_api::{flags::vcpu, impact};
        self.lock().vcpus_count(dom, impact::LIVE | vcpu::MAXIMUM)
    }

    fn domain_block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        self.lock().block_info(dom, disk)
    }

    fn domain_memory_stats(&self, dom: &Domain) -> Result<Vec<(i32, u64)>> {
        self.lock().memory_stats(dom)
    }

    fn domain_stats(
        &self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        self.lock().stats(doms, stats, flags)
    }

    fn domain_scheduler_type(&self, dom: &Domain) -> Result<(String, i32)> {
        self.lock().dom_ref(dom)?;
        Ok(("fair".to_string(), 1))
    }

    fn domain_scheduler_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.lock().sched_params(dom, flags)
    }

    fn set_domain_scheduler_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.lock().set_sched_params(dom, params, flags)
    }

    fn domain_memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.lock().memory_params(dom, flags)
    }

    fn set_domain_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.lock().set_memory_params(dom, params, flags)
    }

    fn domain_blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        self.lock().blkio_params(dom, flags)
    }

    fn set_domain_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.lock().set_blkio_params(dom, params, flags)
    }

    fn domain_security_label(&self, dom: &Domain) -> Result<SecurityLabel> {
        let drv = self.lock();
        let active = drv.dom_ref(dom)?.is_active();
        Ok(SecurityLabel {
            label: if active {
                "libvirt-test".to_string()
            } else {
                String::new()
            },
            enforcing: active,
        })
    }

    fn managed_save(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().managed_save(dom, flags)
    }

    fn managed_save_remove(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.lock().managed_save_remove(dom, flags)
    }

    fn save_domain(&self, dom: &Domain, path: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.lock().save_domain(dom, path, dxml, flags)
    }

    fn restore_domain(&self, path: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.lock().restore_domain(path, dxml, flags)
    }

    fn core_dump(&self, dom: &Domain, path: &str, format: u32, flags: u32) -> Result<()> {
        self.lock().core_dump(dom, path, format, flags)
    }

    fn save_image_xml(&self, path: &str, flags: u32) -> Result<String> {
        self.lock().save_image_xml(path, flags)
    }

    fn save_image_define(&self, path: &str, dxml: &str, flags: u32) -> Result<()> {
        self.lock().save_image_define(path, dxml, flags)
    }

    fn domain_hostname(&self, dom: &Domain, flags: u32) -> Result<String> {
        self.lock().hostname(dom, flags)
    }

    fn domain_time(&self, dom: &Domain, flags: u32) -> Result<(i64, u32)> {
        self.lock().get_time(dom, flags)
    }

    fn set_domain_time(&self, dom: &Domain, secs: i64, nsecs: u32, flags: u32) -> Result<()> {
        self.lock().set_time(dom, secs, nsecs, flags)
    }

    fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        self.lock().interface_addresses(dom, source, flags)
    }

    fn domain_cpu_stats_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        self.lock().cpu_stats_count(dom, flags)
    }

    fn domain_cpu_stats(
        &self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        self.lock().cpu_stats(dom, start_cpu, ncpus, flags)
    }

    fn domain_block_stats(&self, dom: &Domain, disk: &str) -> Result<BlockStats> {
        self.lock().block_stats(dom, disk)
    }

    fn domain_interface_stats(&self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        self.lock().interface_stats(dom, device)
    }

    fn domain_control_info(&self, dom: &Domain, flags: u32) -> Result<ControlInfo> {
        self.lock().control_info(dom, flags)
    }

    fn domain_disk_errors(&self, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
        self.lock().disk_errors(dom, flags)
    }

    fn create_snapshot(&self, dom: &Domain, xml: &str, flags: u32) -> Result<DomainSnapshot> {
        self.lock().snapshot_create(dom, xml, flags)
    }

    fn list_snapshots(&self, dom: &Domain, flags: u32) -> Result<Vec<DomainSnapshot>> {
        self.lock().snapshot_list(dom, None, flags)
    }

    fn lookup_snapshot(&self, dom: &Domain, name: &str) -> Result<DomainSnapshot> {
        self.lock().snapshot_lookup(dom, name)
    }

    fn snapshot_xml(&self, snap: &DomainSnapshot, flags: u32) -> Result<String> {
        self.lock().snapshot_xml(snap, flags)
    }

    fn current_snapshot(&self, dom: &Domain) -> Result<Option<DomainSnapshot>> {
        self.lock().snapshot_current(dom)
    }

    fn snapshot_parent(&self, snap: &DomainSnapshot) -> Result<Option<DomainSnapshot>> {
        self.lock().snapshot_parent(snap)
    }

    fn snapshot_children(&self, snap: &DomainSnapshot, flags: u32) -> Result<Vec<DomainSnapshot>> {
        self.lock()
            .snapshot_list(&snap.domain, Some(&snap.name), flags)
    }

    fn delete_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.lock().snapshot_delete(snap, flags)
    }

    fn revert_to_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.lock().snapshot_revert(snap, flags)
    }

    fn snapshot_is_current(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        self.lock().snapshot_is_current(snap, flags)
    }

    fn snapshot_has_metadata(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        self.lock().snapshot_has_metadata(snap, flags)
    }
}

/// An event wait on the test driver: nothing can happen, so it lasts the timeout (or until
/// the user interrupts it).
pub(crate) fn wait_for_nothing(timeout: Option<std::time::Duration>) {
    match timeout {
        Some(t) => std::thread::sleep(t),
        None => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
    }
}
