//! DomainDriver over the protocol: each virDomain* call is the procedure libvirt's
//! `remote_driver.c` makes for it, with its argument conventions. The calls that need more
//! than one procedure or unpack typed parameters live in `domain_stats.rs`; events and the
//! screenshot stream in `domain_events.rs`; the console in `domain_console.rs`; memory and
//! block I/O tuning parameters in `domain_tune.rs`.

#[path = "domain_console.rs"]
mod console;
#[path = "domain_events.rs"]
mod events;
#[path = "domain_save.rs"]
mod save;
#[path = "domain_snapshot.rs"]
mod snapshot;
#[path = "domain_stats.rs"]
mod stats;
#[path = "domain_tune.rs"]
mod tune;

use std::time::Duration;

use uuid::Uuid;
use virtsh_api::{
    BlockInfo, BlockStats, ControlInfo, DiskError, Domain, DomainEvent, DomainInfo,
    DomainInterface, DomainSnapshot, DomainState, DomainStatsRecord, FsInfo, InterfaceStats,
    IpAddress, Result, Screenshot, SecurityLabel, TypedParam, VcpuInfo,
};

use super::handles::{
    domain_from_remote, domain_to_remote, typed_params_from_remote, typed_params_to_remote,
    uuid_to_remote,
};
use super::host::c_chars;
use super::RemoteDriver;
use crate::generated::qemu::{self, QemuDomainAgentCommandArgs, QemuDomainMonitorCommandArgs};
use crate::generated::remote::{procs, *};

/// VIR_TYPED_PARAM_STRING_OKAY: libvirt's client library adds it to the calls that return
/// typed parameters when the driver can carry strings, which every daemon's can.
pub(super) const TYPED_PARAM_STRING_OKAY: u32 = 1 << 2;

fn rdom(dom: &Domain) -> RemoteNonnullDomain {
    domain_to_remote(dom)
}

fn opt(s: Option<&str>) -> RemoteString {
    s.map(str::to_string)
}

impl virtsh_api::DomainDriver for RemoteDriver {
    fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        let r = self.call::<procs::ConnectListAllDomains>(&RemoteConnectListAllDomainsArgs {
            need_results: 1,
            flags,
        })?;
        Ok(r.domains.into_iter().map(domain_from_remote).collect())
    }

    fn lookup_domain_by_name(&self, name: &str) -> Result<Domain> {
        let r = self.call::<procs::DomainLookupByName>(&RemoteDomainLookupByNameArgs {
            name: name.to_string(),
        })?;
        Ok(domain_from_remote(r.dom))
    }

    fn lookup_domain_by_id(&self, id: i32) -> Result<Domain> {
        let r = self.call::<procs::DomainLookupById>(&RemoteDomainLookupByIdArgs { id })?;
        Ok(domain_from_remote(r.dom))
    }

    fn lookup_domain_by_uuid(&self, uuid: &Uuid) -> Result<Domain> {
        let r = self.call::<procs::DomainLookupByUuid>(&RemoteDomainLookupByUuidArgs {
            uuid: uuid_to_remote(uuid),
        })?;
        Ok(domain_from_remote(r.dom))
    }

    fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let r = self.call::<procs::DomainGetInfo>(&RemoteDomainGetInfoArgs { dom: rdom(dom) })?;
        Ok(DomainInfo {
            state: DomainState::from_code(i32::from(r.state)),
            max_mem_kib: r.max_mem,
            memory_kib: r.memory,
            nr_virt_cpu: u32::from(r.nr_virt_cpu),
            cpu_time: r.cpu_time,
        })
    }

    fn domain_state(&self, dom: &Domain) -> Result<(i32, i32)> {
        let r = self.call::<procs::DomainGetState>(&RemoteDomainGetStateArgs {
            dom: rdom(dom),
            flags: 0,
        })?;
        Ok((r.state, r.reason))
    }

    fn domain_os_type(&self, dom: &Domain) -> Result<String> {
        let r =
            self.call::<procs::DomainGetOsType>(&RemoteDomainGetOsTypeArgs { dom: rdom(dom) })?;
        Ok(r.r#type)
    }

    fn domain_xml(&self, dom: &Domain, flags: u32) -> Result<String> {
        let r = self.call::<procs::DomainGetXmlDesc>(&RemoteDomainGetXmlDescArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(r.xml)
    }

    /// virsh calls virDomainDefineXML without flags, virDomainDefineXMLFlags with some.
    fn define_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        let dom = if flags == 0 {
            self.call::<procs::DomainDefineXml>(&RemoteDomainDefineXmlArgs {
                xml: xml.to_string(),
            })?
            .dom
        } else {
            self.call::<procs::DomainDefineXmlFlags>(&RemoteDomainDefineXmlFlagsArgs {
                xml: xml.to_string(),
                flags,
            })?
            .dom
        };
        Ok(domain_from_remote(dom))
    }

    fn create_domain(&self, xml: &str, flags: u32) -> Result<Domain> {
        let r = self.call::<procs::DomainCreateXml>(&RemoteDomainCreateXmlArgs {
            xml_desc: xml.to_string(),
            flags,
        })?;
        Ok(domain_from_remote(r.dom))
    }

    /// virsh calls virDomainUndefine without flags, virDomainUndefineFlags with some.
    fn undefine_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        if flags == 0 {
            self.call::<procs::DomainUndefine>(&RemoteDomainUndefineArgs { dom: rdom(dom) })
        } else {
            self.call::<procs::DomainUndefineFlags>(&RemoteDomainUndefineFlagsArgs {
                dom: rdom(dom),
                flags,
            })
        }
    }

    /// virDomainCreateWithFlags; the reply carries the domain with its new id.
    fn start_domain(&self, dom: &Domain, flags: u32) -> Result<Domain> {
        let r = self.call::<procs::DomainCreateWithFlags>(&RemoteDomainCreateWithFlagsArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(domain_from_remote(r.dom))
    }

    /// virsh calls virDomainShutdown without flags, virDomainShutdownFlags with some.
    fn shutdown_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        if flags == 0 {
            self.call::<procs::DomainShutdown>(&RemoteDomainShutdownArgs { dom: rdom(dom) })
        } else {
            self.call::<procs::DomainShutdownFlags>(&RemoteDomainShutdownFlagsArgs {
                dom: rdom(dom),
                flags,
            })
        }
    }

    fn reboot_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.call::<procs::DomainReboot>(&RemoteDomainRebootArgs {
            dom: rdom(dom),
            flags,
        })
    }

    fn reset_domain(&self, dom: &Domain) -> Result<()> {
        self.call::<procs::DomainReset>(&RemoteDomainResetArgs {
            dom: rdom(dom),
            flags: 0,
        })
    }

    /// virsh calls virDomainDestroy without flags, virDomainDestroyFlags with some.
    fn destroy_domain(&self, dom: &Domain, flags: u32) -> Result<()> {
        if flags == 0 {
            self.call::<procs::DomainDestroy>(&RemoteDomainDestroyArgs { dom: rdom(dom) })
        } else {
            self.call::<procs::DomainDestroyFlags>(&RemoteDomainDestroyFlagsArgs {
                dom: rdom(dom),
                flags,
            })
        }
    }

    fn suspend_domain(&self, dom: &Domain) -> Result<()> {
        self.call::<procs::DomainSuspend>(&RemoteDomainSuspendArgs { dom: rdom(dom) })
    }

    fn resume_domain(&self, dom: &Domain) -> Result<()> {
        self.call::<procs::DomainResume>(&RemoteDomainResumeArgs { dom: rdom(dom) })
    }

    fn domain_autostart(&self, dom: &Domain) -> Result<bool> {
        let r = self
            .call::<procs::DomainGetAutostart>(&RemoteDomainGetAutostartArgs { dom: rdom(dom) })?;
        Ok(r.autostart != 0)
    }

    fn set_domain_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.call::<procs::DomainSetAutostart>(&RemoteDomainSetAutostartArgs {
            dom: rdom(dom),
            autostart: i32::from(on),
        })
    }

    fn domain_is_persistent(&self, dom: &Domain) -> Result<bool> {
        let r = self
            .call::<procs::DomainIsPersistent>(&RemoteDomainIsPersistentArgs { dom: rdom(dom) })?;
        Ok(r.persistent != 0)
    }

    fn domain_is_active(&self, dom: &Domain) -> Result<bool> {
        let r = self.call::<procs::DomainIsActive>(&RemoteDomainIsActiveArgs { dom: rdom(dom) })?;
        Ok(r.active != 0)
    }

    fn domain_has_managed_save(&self, dom: &Domain) -> Result<bool> {
        let r =
            self.call::<procs::DomainHasManagedSaveImage>(&RemoteDomainHasManagedSaveImageArgs {
                dom: rdom(dom),
                flags: 0,
            })?;
        Ok(r.result != 0)
    }

    /// virDomainRename: on success libvirt's client renames its handle in place.
    fn rename_domain(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        self.call::<procs::DomainRename>(&RemoteDomainRenameArgs {
            dom: rdom(dom),
            new_name: Some(new_name.to_string()),
            flags: 0,
        })?;
        Ok(Domain {
            name: new_name.to_string(),
            ..dom.clone()
        })
    }

    fn domain_metadata(
        &self,
        dom: &Domain,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        let r = self.call::<procs::DomainGetMetadata>(&RemoteDomainGetMetadataArgs {
            dom: rdom(dom),
            r#type: kind,
            uri: opt(uri),
            flags,
        })?;
        Ok(r.metadata)
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
        self.call::<procs::DomainSetMetadata>(&RemoteDomainSetMetadataArgs {
            dom: rdom(dom),
            r#type: kind,
            metadata: opt(value),
            key: opt(key),
            uri: opt(uri),
            flags,
        })
    }

    fn set_domain_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        self.set_memory(dom, kib, flags)
    }

    fn set_domain_vcpus(&self, dom: &Domain, count: u32, flags: u32) -> Result<()> {
        self.set_vcpus(dom, count, flags)
    }

    fn domain_vcpus_count(&self, dom: &Domain, flags: u32) -> Result<u32> {
        let r = self.call::<procs::DomainGetVcpusFlags>(&RemoteDomainGetVcpusFlagsArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(u32::try_from(r.num).unwrap_or(0))
    }

    fn domain_vcpu_info(&self, dom: &Domain) -> Result<Vec<VcpuInfo>> {
        self.vcpu_info(dom)
    }

    fn domain_max_vcpus(&self, dom: &Domain) -> Result<u32> {
        let r =
            self.call::<procs::DomainGetMaxVcpus>(&RemoteDomainGetMaxVcpusArgs { dom: rdom(dom) })?;
        Ok(u32::try_from(r.num).unwrap_or(0))
    }

    fn domain_block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        let r = self.call::<procs::DomainGetBlockInfo>(&RemoteDomainGetBlockInfoArgs {
            dom: rdom(dom),
            path: disk.to_string(),
            flags: 0,
        })?;
        Ok(BlockInfo {
            capacity: r.capacity,
            allocation: r.allocation,
            physical: r.physical,
        })
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
        self.all_domain_stats(doms, stats, flags)
    }

    fn domain_scheduler_type(&self, dom: &Domain) -> Result<(String, i32)> {
        let r = self.call::<procs::DomainGetSchedulerType>(&RemoteDomainGetSchedulerTypeArgs {
            dom: rdom(dom),
        })?;
        Ok((r.r#type, r.nparams))
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
        self.call::<procs::DomainSetSchedulerParametersFlags>(
            &RemoteDomainSetSchedulerParametersFlagsArgs {
                dom: rdom(dom),
                params: typed_params_to_remote(params),
                flags,
            },
        )
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

    fn domain_messages(&self, dom: &Domain, flags: u32) -> Result<Vec<String>> {
        Ok(self
            .call::<procs::DomainGetMessages>(&RemoteDomainGetMessagesArgs {
                dom: rdom(dom),
                flags,
            })?
            .msgs)
    }

    fn domain_security_label(&self, dom: &Domain) -> Result<SecurityLabel> {
        let r = self.call::<procs::DomainGetSecurityLabel>(&RemoteDomainGetSecurityLabelArgs {
            dom: rdom(dom),
        })?;
        // An empty label leaves libvirt's `enforcing` at 0.
        let label = c_chars(&r.label);
        let enforcing = !r.label.is_empty() && r.enforcing != 0;
        Ok(SecurityLabel { label, enforcing })
    }

    fn managed_save(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.call::<procs::DomainManagedSave>(&RemoteDomainManagedSaveArgs {
            dom: rdom(dom),
            flags,
        })
    }

    fn managed_save_remove(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.call::<procs::DomainManagedSaveRemove>(&RemoteDomainManagedSaveRemoveArgs {
            dom: rdom(dom),
            flags,
        })
    }

    fn save_domain(&self, dom: &Domain, path: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.save_flags(dom, path, dxml, flags)
    }

    fn restore_domain(&self, path: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.restore_flags(path, dxml, flags)
    }

    fn core_dump(&self, dom: &Domain, path: &str, format: u32, flags: u32) -> Result<()> {
        self.core_dump_with_format(dom, path, format, flags)
    }

    fn save_image_xml(&self, path: &str, flags: u32) -> Result<String> {
        self.save_image_get_xml(path, flags)
    }

    fn save_image_define(&self, path: &str, dxml: &str, flags: u32) -> Result<()> {
        self.save_image_define_xml(path, dxml, flags)
    }

    fn abort_job(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.abort_job_flags(dom, flags)
    }

    fn domain_hostname(&self, dom: &Domain, flags: u32) -> Result<String> {
        let r = self.call::<procs::DomainGetHostname>(&RemoteDomainGetHostnameArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(r.hostname)
    }

    fn domain_time(&self, dom: &Domain, flags: u32) -> Result<(i64, u32)> {
        let r = self.call::<procs::DomainGetTime>(&RemoteDomainGetTimeArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok((r.seconds, r.nseconds))
    }

    fn set_domain_time(&self, dom: &Domain, secs: i64, nsecs: u32, flags: u32) -> Result<()> {
        self.call::<procs::DomainSetTime>(&RemoteDomainSetTimeArgs {
            dom: rdom(dom),
            seconds: secs,
            nseconds: nsecs,
            flags,
        })
    }

    fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        let r =
            self.call::<procs::DomainInterfaceAddresses>(&RemoteDomainInterfaceAddressesArgs {
                dom: rdom(dom),
                source,
                flags,
            })?;
        Ok(r.ifaces
            .into_iter()
            .map(|i| DomainInterface {
                name: i.name,
                hwaddr: i.hwaddr,
                addrs: i
                    .addrs
                    .into_iter()
                    .map(|a| IpAddress {
                        kind: a.r#type,
                        addr: a.addr,
                        prefix: a.prefix,
                    })
                    .collect(),
            })
            .collect())
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

    fn domain_block_stats(&self, dom: &Domain, disk: &str) -> Result<BlockStats> {
        let r = self.call::<procs::DomainBlockStats>(&RemoteDomainBlockStatsArgs {
            dom: rdom(dom),
            path: disk.to_string(),
        })?;
        Ok(BlockStats {
            rd_req: r.rd_req,
            rd_bytes: r.rd_bytes,
            wr_req: r.wr_req,
            wr_bytes: r.wr_bytes,
            errs: r.errs,
        })
    }

    fn domain_block_stats_flags(
        &self,
        dom: &Domain,
        disk: &str,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        self.block_stats_flags(dom, disk, flags)
    }

    fn domain_interface_stats(&self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        let r = self.call::<procs::DomainInterfaceStats>(&RemoteDomainInterfaceStatsArgs {
            dom: rdom(dom),
            device: device.to_string(),
        })?;
        Ok(InterfaceStats {
            rx_bytes: r.rx_bytes,
            rx_packets: r.rx_packets,
            rx_errs: r.rx_errs,
            rx_drop: r.rx_drop,
            tx_bytes: r.tx_bytes,
            tx_packets: r.tx_packets,
            tx_errs: r.tx_errs,
            tx_drop: r.tx_drop,
        })
    }

    fn domain_control_info(&self, dom: &Domain, flags: u32) -> Result<ControlInfo> {
        let r = self.call::<procs::DomainGetControlInfo>(&RemoteDomainGetControlInfoArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(ControlInfo {
            state: r.state as i32,
            details: r.details as i32,
            state_time: r.state_time,
        })
    }

    fn domain_disk_errors(&self, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
        self.disk_errors(dom, flags)
    }

    fn qemu_monitor_command(&self, dom: &Domain, cmd: &str, flags: u32) -> Result<String> {
        let r = self.call::<qemu::procs::DomainMonitorCommand>(&QemuDomainMonitorCommandArgs {
            dom: rdom(dom),
            cmd: cmd.to_string(),
            flags,
        })?;
        Ok(r.result)
    }

    fn qemu_agent_command(
        &self,
        dom: &Domain,
        cmd: &str,
        timeout: i32,
        flags: u32,
    ) -> Result<String> {
        let r = self.call::<qemu::procs::DomainAgentCommand>(&QemuDomainAgentCommandArgs {
            dom: rdom(dom),
            cmd: cmd.to_string(),
            timeout,
            flags,
        })?;
        Ok(r.result.unwrap_or_default())
    }

    fn domain_guest_info(&self, dom: &Domain, types: u32, flags: u32) -> Result<Vec<TypedParam>> {
        let r = self.call::<procs::DomainGetGuestInfo>(&RemoteDomainGetGuestInfoArgs {
            dom: rdom(dom),
            types,
            flags,
        })?;
        Ok(typed_params_from_remote(r.params))
    }

    fn domain_fs_info(&self, dom: &Domain, flags: u32) -> Result<Vec<FsInfo>> {
        let r = self.call::<procs::DomainGetFsinfo>(&RemoteDomainGetFsinfoArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok(r.info
            .into_iter()
            .map(|f| FsInfo {
                mountpoint: f.mountpoint,
                name: f.name,
                fstype: f.fstype,
                dev_aliases: f.dev_aliases,
            })
            .collect())
    }

    fn set_user_password(
        &self,
        dom: &Domain,
        user: &str,
        password: &str,
        flags: u32,
    ) -> Result<()> {
        self.call::<procs::DomainSetUserPassword>(&RemoteDomainSetUserPasswordArgs {
            dom: rdom(dom),
            user: Some(user.to_string()),
            password: Some(password.to_string()),
            flags,
        })
    }

    fn domain_screenshot(&self, dom: &Domain, screen: u32, flags: u32) -> Result<Screenshot> {
        self.screenshot(dom, screen, flags)
    }

    fn open_console(
        &self,
        dom: &Domain,
        devname: Option<&str>,
        flags: u32,
    ) -> Result<virtsh_api::ConsoleStream> {
        self.console(dom, devname, flags)
    }

    fn send_process_signal(&self, dom: &Domain, pid: i64, signum: u32, flags: u32) -> Result<()> {
        self.call::<procs::DomainSendProcessSignal>(&RemoteDomainSendProcessSignalArgs {
            dom: rdom(dom),
            pid_value: pid,
            signum,
            flags,
        })
    }

    fn send_key(
        &self,
        dom: &Domain,
        codeset: u32,
        holdtime: u32,
        keycodes: &[u32],
        flags: u32,
    ) -> Result<()> {
        self.call::<procs::DomainSendKey>(&RemoteDomainSendKeyArgs {
            dom: rdom(dom),
            codeset,
            holdtime,
            keycodes: keycodes.to_vec(),
            flags,
        })
    }

    fn domain_job_stats(&self, dom: &Domain, flags: u32) -> Result<(i32, Vec<TypedParam>)> {
        let r = self.call::<procs::DomainGetJobStats>(&RemoteDomainGetJobStatsArgs {
            dom: rdom(dom),
            flags,
        })?;
        Ok((r.r#type, typed_params_from_remote(r.params)))
    }

    /// virDomainAttachDeviceFlags: the shell turns virsh's flag-less call into a live change and
    /// words its unsupported error itself.
    fn attach_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        self.call::<procs::DomainAttachDeviceFlags>(&RemoteDomainAttachDeviceFlagsArgs {
            dom: rdom(dom),
            xml: xml.to_string(),
            flags,
        })
    }

    /// virDomainDetachDeviceFlags: the shell turns virsh's flag-less call into a live change and
    /// words its unsupported error itself.
    fn detach_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        self.call::<procs::DomainDetachDeviceFlags>(&RemoteDomainDetachDeviceFlagsArgs {
            dom: rdom(dom),
            xml: xml.to_string(),
            flags,
        })
    }

    fn detach_device_alias(&self, dom: &Domain, alias: &str, flags: u32) -> Result<()> {
        self.call::<procs::DomainDetachDeviceAlias>(&RemoteDomainDetachDeviceAliasArgs {
            dom: rdom(dom),
            alias: alias.to_string(),
            flags,
        })
    }

    fn update_device(&self, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
        self.call::<procs::DomainUpdateDeviceFlags>(&RemoteDomainUpdateDeviceFlagsArgs {
            dom: rdom(dom),
            xml: xml.to_string(),
            flags,
        })
    }

    fn domain_events(
        &self,
        dom: Option<&Domain>,
        qemu: bool,
        event_filter: Option<&str>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(DomainEvent) -> bool,
    ) -> Result<()> {
        if qemu {
            self.watch_qemu_events(dom, event_filter, timeout, sink)
        } else {
            self.watch_domain_events(dom, timeout, sink)
        }
    }

    // Snapshots (domain_snapshot.rs).

    fn create_snapshot(&self, dom: &Domain, xml: &str, flags: u32) -> Result<DomainSnapshot> {
        self.snap_create(dom, xml, flags)
    }

    fn list_snapshots(&self, dom: &Domain, flags: u32) -> Result<Vec<DomainSnapshot>> {
        self.snap_list(dom, flags)
    }

    fn lookup_snapshot(&self, dom: &Domain, name: &str) -> Result<DomainSnapshot> {
        self.snap_lookup(dom, name)
    }

    fn snapshot_xml(&self, snap: &DomainSnapshot, flags: u32) -> Result<String> {
        self.snap_xml(snap, flags)
    }

    fn current_snapshot(&self, dom: &Domain) -> Result<Option<DomainSnapshot>> {
        self.snap_current(dom)
    }

    fn snapshot_parent(&self, snap: &DomainSnapshot) -> Result<Option<DomainSnapshot>> {
        self.snap_parent(snap)
    }

    fn snapshot_children(&self, snap: &DomainSnapshot, flags: u32) -> Result<Vec<DomainSnapshot>> {
        self.snap_children(snap, flags)
    }

    fn delete_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.snap_delete(snap, flags)
    }

    fn revert_to_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.snap_revert(snap, flags)
    }

    fn snapshot_is_current(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        self.snap_is_current(snap, flags)
    }

    fn snapshot_has_metadata(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        self.snap_has_metadata(snap, flags)
    }
}
