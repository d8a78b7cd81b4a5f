//! Calls on domains (virDomain*, virConnectListAllDomains, snapshots).

use crate::error::{Error, Result};
use crate::types::{
    BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainEvent, DomainInfo,
    DomainInterface, DomainSnapshot, DomainStatsRecord, FsInfo, InterfaceStats, Screenshot,
    SecurityLabel, TypedParam, VcpuInfo,
};
use uuid::Uuid;

pub trait DomainDriver {
    fn list_all_domains(&self, _flags: u32) -> Result<Vec<Domain>> {
        Err(Error::unsupported("virConnectListAllDomains"))
    }
    fn lookup_domain_by_name(&self, _name: &str) -> Result<Domain> {
        Err(Error::unsupported("virDomainLookupByName"))
    }
    fn lookup_domain_by_id(&self, _id: i32) -> Result<Domain> {
        Err(Error::unsupported("virDomainLookupByID"))
    }
    fn lookup_domain_by_uuid(&self, _uuid: &Uuid) -> Result<Domain> {
        Err(Error::unsupported("virDomainLookupByUUID"))
    }
    fn domain_info(&self, _dom: &Domain) -> Result<DomainInfo> {
        Err(Error::unsupported("virDomainGetInfo"))
    }
    /// (state, reason) as virDomainGetState returns them.
    fn domain_state(&self, _dom: &Domain) -> Result<(i32, i32)> {
        Err(Error::unsupported("virDomainGetState"))
    }
    fn domain_os_type(&self, _dom: &Domain) -> Result<String> {
        Err(Error::unsupported("virDomainGetOSType"))
    }
    fn domain_xml(&self, _dom: &Domain, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virDomainGetXMLDesc"))
    }
    fn define_domain(&self, _xml: &str, _flags: u32) -> Result<Domain> {
        Err(Error::unsupported("virDomainDefineXMLFlags"))
    }
    fn create_domain(&self, _xml: &str, _flags: u32) -> Result<Domain> {
        Err(Error::unsupported("virDomainCreateXML"))
    }
    fn undefine_domain(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainUndefineFlags"))
    }
    fn start_domain(&self, _dom: &Domain, _flags: u32) -> Result<Domain> {
        Err(Error::unsupported("virDomainCreateWithFlags"))
    }
    fn shutdown_domain(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainShutdownFlags"))
    }
    fn reboot_domain(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainReboot"))
    }
    fn reset_domain(&self, _dom: &Domain) -> Result<()> {
        Err(Error::unsupported("virDomainReset"))
    }
    fn destroy_domain(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainDestroyFlags"))
    }
    fn suspend_domain(&self, _dom: &Domain) -> Result<()> {
        Err(Error::unsupported("virDomainSuspend"))
    }
    fn resume_domain(&self, _dom: &Domain) -> Result<()> {
        Err(Error::unsupported("virDomainResume"))
    }
    fn domain_autostart(&self, _dom: &Domain) -> Result<bool> {
        Err(Error::unsupported("virDomainGetAutostart"))
    }
    fn set_domain_autostart(&self, _dom: &Domain, _on: bool) -> Result<()> {
        Err(Error::unsupported("virDomainSetAutostart"))
    }
    fn domain_is_persistent(&self, _dom: &Domain) -> Result<bool> {
        Err(Error::unsupported("virDomainIsPersistent"))
    }
    fn domain_is_active(&self, dom: &Domain) -> Result<bool> {
        Ok(self.domain_state(dom)?.0 != 5)
    }
    fn domain_has_managed_save(&self, _dom: &Domain) -> Result<bool> {
        Err(Error::unsupported("virDomainHasManagedSaveImage"))
    }
    fn rename_domain(&self, _dom: &Domain, _new_name: &str) -> Result<Domain> {
        Err(Error::unsupported("virDomainRename"))
    }
    /// virDomainGetMetadata: `kind` is flags::metadata::{DESCRIPTION, TITLE, ELEMENT}.
    fn domain_metadata(
        &self,
        _dom: &Domain,
        _kind: i32,
        _uri: Option<&str>,
        _flags: u32,
    ) -> Result<String> {
        Err(Error::unsupported("virDomainGetMetadata"))
    }
    fn set_domain_metadata(
        &self,
        _dom: &Domain,
        _kind: i32,
        _value: Option<&str>,
        _key: Option<&str>,
        _uri: Option<&str>,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSetMetadata"))
    }
    /// virDomainSetMemoryFlags, KiB; flags::memory::MAXIMUM sets the maximum.
    fn set_domain_memory(&self, _dom: &Domain, _kib: u64, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainSetMemoryFlags"))
    }
    fn set_domain_vcpus(&self, _dom: &Domain, _count: u32, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainSetVcpusFlags"))
    }
    fn domain_vcpus_count(&self, _dom: &Domain, _flags: u32) -> Result<u32> {
        Err(Error::unsupported("virDomainGetVcpusFlags"))
    }
    fn domain_vcpu_info(&self, _dom: &Domain) -> Result<Vec<VcpuInfo>> {
        Err(Error::unsupported("virDomainGetVcpus"))
    }
    fn domain_max_vcpus(&self, _dom: &Domain) -> Result<u32> {
        Err(Error::unsupported("virDomainGetMaxVcpus"))
    }
    fn domain_block_info(&self, _dom: &Domain, _disk: &str) -> Result<BlockInfo> {
        Err(Error::unsupported("virDomainGetBlockInfo"))
    }
    /// virDomainMemoryStats: (tag, value) pairs.
    fn domain_memory_stats(&self, _dom: &Domain) -> Result<Vec<(i32, u64)>> {
        Err(Error::unsupported("virDomainMemoryStats"))
    }
    fn domain_stats(
        &self,
        _doms: &[Domain],
        _stats: u32,
        _flags: u32,
    ) -> Result<Vec<DomainStatsRecord>> {
        Err(Error::unsupported("virConnectGetAllDomainStats"))
    }
    /// (scheduler type, number of parameters).
    fn domain_scheduler_type(&self, _dom: &Domain) -> Result<(String, i32)> {
        Err(Error::unsupported("virDomainGetSchedulerType"))
    }
    fn domain_scheduler_params(&self, _dom: &Domain, _flags: u32) -> Result<Vec<TypedParam>> {
        Err(Error::unsupported("virDomainGetSchedulerParametersFlags"))
    }
    fn set_domain_scheduler_params(
        &self,
        _dom: &Domain,
        _params: &[TypedParam],
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSetSchedulerParametersFlags"))
    }
    /// virDomainGetMemoryParameters: `hard_limit`, `soft_limit`, `swap_hard_limit` (and
    /// `min_guarantee` where the driver has it), in KiB; libvirt's "unlimited" is
    /// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`.
    fn domain_memory_params(&self, _dom: &Domain, _flags: u32) -> Result<Vec<TypedParam>> {
        Err(Error::unsupported("virDomainGetMemoryParameters"))
    }
    fn set_domain_memory_params(
        &self,
        _dom: &Domain,
        _params: &[TypedParam],
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSetMemoryParameters"))
    }
    /// virDomainGetBlkioParameters: `weight` and the per-device lists, each a string
    /// "path,value,path,value".
    fn domain_blkio_params(&self, _dom: &Domain, _flags: u32) -> Result<Vec<TypedParam>> {
        Err(Error::unsupported("virDomainGetBlkioParameters"))
    }
    fn set_domain_blkio_params(
        &self,
        _dom: &Domain,
        _params: &[TypedParam],
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSetBlkioParameters"))
    }
    fn domain_security_label(&self, _dom: &Domain) -> Result<SecurityLabel> {
        Err(Error::unsupported("virDomainGetSecurityLabel"))
    }
    /// virDomainGetMessages: the driver's notes on a domain (taints, deprecations), which
    /// `dominfo` lists.
    fn domain_messages(&self, _dom: &Domain, _flags: u32) -> Result<Vec<String>> {
        Err(Error::unsupported("virDomainGetMessages"))
    }

    /// virDomainManagedSave: flags::save.
    fn managed_save(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainManagedSave"))
    }
    fn managed_save_remove(&self, _dom: &Domain, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainManagedSaveRemove"))
    }
    /// virDomainSaveFlags: the domain's state into `path` (already absolute, as libvirt's
    /// public API layer makes it); `dxml` is a replacement definition. flags::save.
    fn save_domain(
        &self,
        _dom: &Domain,
        _path: &str,
        _dxml: Option<&str>,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSaveFlags"))
    }
    /// virDomainRestoreFlags: start a domain from the image at `path`. flags::save.
    fn restore_domain(&self, _path: &str, _dxml: Option<&str>, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainRestoreFlags"))
    }
    /// virDomainCoreDumpWithFormat: `format` is a flags::dump_format value, flags::dump.
    fn core_dump(&self, _dom: &Domain, _path: &str, _format: u32, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainCoreDumpWithFormat"))
    }
    /// virDomainSaveImageGetXMLDesc: the definition stored in a save image.
    fn save_image_xml(&self, _path: &str, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virDomainSaveImageGetXMLDesc"))
    }
    /// virDomainSaveImageDefineXML: replace the definition stored in a save image.
    fn save_image_define(&self, _path: &str, _dxml: &str, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainSaveImageDefineXML"))
    }
    /// virDomainAbortJob (flags 0) or virDomainAbortJobFlags (flags::abort_job).
    fn abort_job(&self, _dom: &Domain, flags: u32) -> Result<()> {
        Err(Error::unsupported(if flags == 0 {
            "virDomainAbortJob"
        } else {
            "virDomainAbortJobFlags"
        }))
    }
    /// virDomainGetHostname
    fn domain_hostname(&self, _dom: &Domain, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virDomainGetHostname"))
    }
    /// virDomainGetTime: (seconds, nanoseconds) since the epoch, as the guest sees it.
    fn domain_time(&self, _dom: &Domain, _flags: u32) -> Result<(i64, u32)> {
        Err(Error::unsupported("virDomainGetTime"))
    }
    /// virDomainSetTime (flags: VIR_DOMAIN_TIME_SYNC = 1).
    fn set_domain_time(&self, _dom: &Domain, _secs: i64, _nsecs: u32, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainSetTime"))
    }
    /// virDomainInterfaceAddresses: `source` is flags::ifaddr_source.
    fn domain_interface_addresses(
        &self,
        _dom: &Domain,
        _source: u32,
        _flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        Err(Error::unsupported("virDomainInterfaceAddresses"))
    }
    /// virDomainGetCPUStats(dom, NULL, 0, 0, 0, flags): how many host CPUs the per-CPU
    /// statistics cover.
    fn domain_cpu_stats_count(&self, _dom: &Domain, _flags: u32) -> Result<u32> {
        Err(Error::unsupported("virDomainGetCPUStats"))
    }
    /// virDomainGetCPUStats for `ncpus` host CPUs from `start_cpu`: one list of parameters
    /// per CPU, empty for a CPU the domain does not use. `start_cpu` -1 asks for the domain's
    /// totals (one list).
    fn domain_cpu_stats(
        &self,
        _dom: &Domain,
        _start_cpu: i32,
        _ncpus: u32,
        _flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        Err(Error::unsupported("virDomainGetCPUStats"))
    }
    /// virDomainBlockStats ("" asks for the sum over all disks).
    fn domain_block_stats(&self, _dom: &Domain, _disk: &str) -> Result<BlockStats> {
        Err(Error::unsupported("virDomainBlockStats"))
    }
    /// virDomainBlockStatsFlags: every counter the driver has, as typed parameters.
    fn domain_block_stats_flags(
        &self,
        _dom: &Domain,
        _disk: &str,
        _flags: u32,
    ) -> Result<Vec<TypedParam>> {
        Err(Error::unsupported("virDomainBlockStatsFlags"))
    }
    /// virDomainInterfaceStats: `device` is a target name or a MAC address.
    fn domain_interface_stats(&self, _dom: &Domain, _device: &str) -> Result<InterfaceStats> {
        Err(Error::unsupported("virDomainInterfaceStats"))
    }
    /// virDomainGetControlInfo
    fn domain_control_info(&self, _dom: &Domain, _flags: u32) -> Result<ControlInfo> {
        Err(Error::unsupported("virDomainGetControlInfo"))
    }
    /// virDomainGetDiskErrors
    fn domain_disk_errors(&self, _dom: &Domain, _flags: u32) -> Result<Vec<DiskError>> {
        Err(Error::unsupported("virDomainGetDiskErrors"))
    }

    /// virDomainQemuMonitorCommand: a QMP command (JSON text), or an HMP one with
    /// flags::monitor_command::HMP; the reply as text.
    fn qemu_monitor_command(&self, _dom: &Domain, _cmd: &str, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virDomainQemuMonitorCommand"))
    }
    /// virDomainQemuAgentCommand: `timeout` in seconds, or -2 (default), -1 (block), 0 (no
    /// wait) as libvirt defines them.
    fn qemu_agent_command(
        &self,
        _dom: &Domain,
        _cmd: &str,
        _timeout: i32,
        _flags: u32,
    ) -> Result<String> {
        Err(Error::unsupported("virDomainQemuAgentCommand"))
    }
    /// virDomainGetGuestInfo: `types` is flags::guest_info (0: all).
    fn domain_guest_info(
        &self,
        _dom: &Domain,
        _types: u32,
        _flags: u32,
    ) -> Result<Vec<TypedParam>> {
        Err(Error::unsupported("virDomainGetGuestInfo"))
    }
    /// virDomainGetFSInfo
    fn domain_fs_info(&self, _dom: &Domain, _flags: u32) -> Result<Vec<FsInfo>> {
        Err(Error::unsupported("virDomainGetFSInfo"))
    }
    /// virDomainSetUserPassword (flags: VIR_DOMAIN_PASSWORD_ENCRYPTED = 1).
    fn set_user_password(
        &self,
        _dom: &Domain,
        _user: &str,
        _password: &str,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSetUserPassword"))
    }
    /// virDomainScreenshot of screen `screen`.
    fn domain_screenshot(&self, _dom: &Domain, _screen: u32, _flags: u32) -> Result<Screenshot> {
        Err(Error::unsupported("virDomainScreenshot"))
    }
    /// virDomainOpenConsole: the character device `devname` (by alias; the first console or
    /// serial port without one). flags: console::CONSOLE_FORCE, CONSOLE_SAFE.
    fn open_console(
        &self,
        _dom: &Domain,
        _devname: Option<&str>,
        _flags: u32,
    ) -> Result<crate::console::ConsoleStream> {
        Err(Error::unsupported("virDomainOpenConsole"))
    }
    /// virDomainSendProcessSignal: `signum` is virDomainProcessSignal (Linux's numbers).
    fn send_process_signal(
        &self,
        _dom: &Domain,
        _pid: i64,
        _signum: u32,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSendProcessSignal"))
    }
    /// virDomainLxcOpenNamespace: the namespaces of a container's init, as open files.
    fn lxc_open_namespace(&self, _dom: &Domain, _flags: u32) -> Result<Vec<std::os::fd::OwnedFd>> {
        Err(Error::unsupported("virDomainLxcOpenNamespace"))
    }
    /// virDomainLxcEnterCGroup, for process `pid` (virsh's child).
    fn lxc_enter_cgroup(&self, _dom: &Domain, _pid: i32, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainLxcEnterCGroup"))
    }
    /// virDomainSendKey: `codeset` is virKeycodeSet, `holdtime` in ms.
    fn send_key(
        &self,
        _dom: &Domain,
        _codeset: u32,
        _holdtime: u32,
        _keycodes: &[u32],
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virDomainSendKey"))
    }
    /// virDomainGetJobStats: the current job's statistics (just `type` = 0 when none).
    fn domain_job_stats(&self, _dom: &Domain, _flags: u32) -> Result<(i32, Vec<TypedParam>)> {
        Err(Error::unsupported("virDomainGetJobStats"))
    }
    /// virDomainAttachDeviceFlags: flags::device_modify / impact.
    fn attach_device(&self, _dom: &Domain, _xml: &str, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainAttachDeviceFlags"))
    }
    /// virDomainDetachDeviceFlags
    fn detach_device(&self, _dom: &Domain, _xml: &str, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainDetachDeviceFlags"))
    }
    /// virDomainDetachDeviceAlias
    fn detach_device_alias(&self, _dom: &Domain, _alias: &str, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainDetachDeviceAlias"))
    }
    /// virDomainUpdateDeviceFlags
    fn update_device(&self, _dom: &Domain, _xml: &str, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainUpdateDeviceFlags"))
    }
    /// Events of one domain (or all with `None`), for `event` and `qemu-monitor-event`:
    /// `sink` is called for each until it returns false or `timeout` passes (None: forever).
    /// `qemu` selects raw monitor events (with `event_filter` as a name, if any) instead of
    /// libvirt's domain events.
    fn domain_events(
        &self,
        _dom: Option<&Domain>,
        _qemu: bool,
        _event_filter: Option<&str>,
        _timeout: Option<std::time::Duration>,
        _sink: &mut dyn FnMut(DomainEvent) -> bool,
    ) -> Result<()> {
        Err(Error::unsupported("virConnectDomainEventRegisterAny"))
    }

    // Snapshots.
    fn create_snapshot(&self, _dom: &Domain, _xml: &str, _flags: u32) -> Result<DomainSnapshot> {
        Err(Error::unsupported("virDomainSnapshotCreateXML"))
    }
    fn list_snapshots(&self, _dom: &Domain, _flags: u32) -> Result<Vec<DomainSnapshot>> {
        Err(Error::unsupported("virDomainListAllSnapshots"))
    }
    fn lookup_snapshot(&self, _dom: &Domain, _name: &str) -> Result<DomainSnapshot> {
        Err(Error::unsupported("virDomainSnapshotLookupByName"))
    }
    fn snapshot_xml(&self, _snap: &DomainSnapshot, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virDomainSnapshotGetXMLDesc"))
    }
    fn current_snapshot(&self, _dom: &Domain) -> Result<Option<DomainSnapshot>> {
        Err(Error::unsupported("virDomainSnapshotCurrent"))
    }
    fn snapshot_parent(&self, _snap: &DomainSnapshot) -> Result<Option<DomainSnapshot>> {
        Err(Error::unsupported("virDomainSnapshotGetParent"))
    }
    fn snapshot_children(
        &self,
        _snap: &DomainSnapshot,
        _flags: u32,
    ) -> Result<Vec<DomainSnapshot>> {
        Err(Error::unsupported("virDomainSnapshotListAllChildren"))
    }
    fn delete_snapshot(&self, _snap: &DomainSnapshot, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainSnapshotDelete"))
    }
    /// virDomainRevertToSnapshot: flags::snapshot_revert.
    fn revert_to_snapshot(&self, _snap: &DomainSnapshot, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virDomainRevertToSnapshot"))
    }
    /// virDomainSnapshotIsCurrent
    fn snapshot_is_current(&self, _snap: &DomainSnapshot, _flags: u32) -> Result<bool> {
        Err(Error::unsupported("virDomainSnapshotIsCurrent"))
    }
    /// virDomainSnapshotHasMetadata
    fn snapshot_has_metadata(&self, _snap: &DomainSnapshot, _flags: u32) -> Result<bool> {
        Err(Error::unsupported("virDomainSnapshotHasMetadata"))
    }
}
