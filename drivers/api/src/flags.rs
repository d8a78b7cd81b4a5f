//! Flag values exactly as libvirt defines them, so they cross the RPC protocol unchanged.

use crate::error::{Error, ErrorKind, Result};

/// virCheckFlags: refuse bits outside `supported` with libvirt's exact message, naming the
/// driver function (`testNetworkUpdate`, `networkUpdate` ...) as libvirt does.
pub fn check(flags: u32, supported: u32, func: &str) -> Result<()> {
    let extra = flags & !supported;
    if extra != 0 {
        return Err(Error::raw(
            ErrorKind::InvalidArg,
            format!("unsupported flags (0x{extra:x}) in function {func}"),
        ));
    }
    Ok(())
}

pub mod list_domains {
    pub const ACTIVE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const RUNNING: u32 = 1 << 4;
    pub const PAUSED: u32 = 1 << 5;
    pub const SHUTOFF: u32 = 1 << 6;
    pub const OTHER: u32 = 1 << 7;
    pub const MANAGEDSAVE: u32 = 1 << 8;
    pub const NO_MANAGEDSAVE: u32 = 1 << 9;
    pub const AUTOSTART: u32 = 1 << 10;
    pub const NO_AUTOSTART: u32 = 1 << 11;
    pub const HAS_SNAPSHOT: u32 = 1 << 12;
    pub const NO_SNAPSHOT: u32 = 1 << 13;
    pub const HAS_CHECKPOINT: u32 = 1 << 14;
    pub const NO_CHECKPOINT: u32 = 1 << 15;

    /// Every filter bit above (what virConnectListAllDomains accepts).
    pub const ALL: u32 = (1 << 16) - 1;

    /// What virDomainObjListFilter looks at for one domain.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Facts {
        /// virDomainState code.
        pub state: i32,
        pub active: bool,
        pub persistent: bool,
        pub managed_save: bool,
        pub autostart: bool,
        pub has_snapshot: bool,
        pub has_checkpoint: bool,
    }

    /// virDomainObjListFilter for one domain: does it pass the filter bits in `flags`?
    /// One driver-independent rule, so every driver filters `list` the same way.
    pub fn matches(flags: u32, f: &Facts) -> bool {
        use super::domain_state as st;
        // A pair of opposite filters: neither or both set lets everything through.
        let pick = |yes: u32, no: u32, v: bool| {
            flags & (yes | no) == 0
                || flags & (yes | no) == yes | no
                || (flags & yes != 0 && v)
                || (flags & no != 0 && !v)
        };
        let states = RUNNING | PAUSED | SHUTOFF | OTHER;
        let state_ok = flags & states == 0
            || match f.state {
                st::RUNNING => flags & RUNNING != 0,
                st::PAUSED => flags & PAUSED != 0,
                st::SHUTOFF => flags & SHUTOFF != 0,
                _ => flags & OTHER != 0,
            };
        pick(ACTIVE, INACTIVE, f.active)
            && pick(PERSISTENT, TRANSIENT, f.persistent)
            && state_ok
            && pick(MANAGEDSAVE, NO_MANAGEDSAVE, f.managed_save)
            && pick(AUTOSTART, NO_AUTOSTART, f.autostart)
            && pick(HAS_SNAPSHOT, NO_SNAPSHOT, f.has_snapshot)
            && pick(HAS_CHECKPOINT, NO_CHECKPOINT, f.has_checkpoint)
    }
}

/// virDomainState codes.
pub mod domain_state {
    pub const NOSTATE: i32 = 0;
    pub const RUNNING: i32 = 1;
    pub const BLOCKED: i32 = 2;
    pub const PAUSED: i32 = 3;
    pub const SHUTDOWN: i32 = 4;
    pub const SHUTOFF: i32 = 5;
    pub const CRASHED: i32 = 6;
    pub const PMSUSPENDED: i32 = 7;
    /// One past the last state (VIR_DOMAIN_LAST in 9.0).
    pub const LAST: i32 = 8;
}

/// The reasons that go with each virDomainState (virDomainRunningReason and friends).
pub mod state_reason {
    pub const UNKNOWN: i32 = 0;
    pub const RUNNING_BOOTED: i32 = 1;
    pub const RUNNING_MIGRATED: i32 = 2;
    pub const RUNNING_RESTORED: i32 = 3;
    pub const RUNNING_FROM_SNAPSHOT: i32 = 4;
    pub const RUNNING_UNPAUSED: i32 = 5;
    pub const RUNNING_MIGRATION_CANCELED: i32 = 6;
    pub const RUNNING_SAVE_CANCELED: i32 = 7;
    pub const RUNNING_WAKEUP: i32 = 8;
    pub const RUNNING_CRASHED: i32 = 9;
    pub const PAUSED_USER: i32 = 1;
    pub const PAUSED_MIGRATION: i32 = 2;
    pub const PAUSED_SAVE: i32 = 3;
    pub const PAUSED_DUMP: i32 = 4;
    pub const PAUSED_IOERROR: i32 = 5;
    pub const PAUSED_WATCHDOG: i32 = 6;
    pub const PAUSED_FROM_SNAPSHOT: i32 = 7;
    pub const PAUSED_SHUTTING_DOWN: i32 = 8;
    pub const PAUSED_SNAPSHOT: i32 = 9;
    pub const PAUSED_CRASHED: i32 = 10;
    pub const PAUSED_STARTING_UP: i32 = 11;
    pub const SHUTDOWN_USER: i32 = 1;
    pub const SHUTOFF_SHUTDOWN: i32 = 1;
    pub const SHUTOFF_DESTROYED: i32 = 2;
    pub const SHUTOFF_CRASHED: i32 = 3;
    pub const SHUTOFF_MIGRATED: i32 = 4;
    pub const SHUTOFF_SAVED: i32 = 5;
    pub const SHUTOFF_FAILED: i32 = 6;
    pub const SHUTOFF_FROM_SNAPSHOT: i32 = 7;
    pub const SHUTOFF_DAEMON: i32 = 8;
    pub const CRASHED_PANICKED: i32 = 1;
}

pub mod list_networks {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const AUTOSTART: u32 = 1 << 4;
    pub const NO_AUTOSTART: u32 = 1 << 5;
}

pub mod list_pools {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const AUTOSTART: u32 = 1 << 4;
    pub const NO_AUTOSTART: u32 = 1 << 5;
    /// Pool types, in libvirt's bit order (bit 6 = dir ...).
    pub const TYPES: [(&str, u32); 14] = [
        ("dir", 1 << 6),
        ("fs", 1 << 7),
        ("netfs", 1 << 8),
        ("logical", 1 << 9),
        ("disk", 1 << 10),
        ("iscsi", 1 << 11),
        ("scsi", 1 << 12),
        ("mpath", 1 << 13),
        ("rbd", 1 << 14),
        ("sheepdog", 1 << 15),
        ("gluster", 1 << 16),
        ("zfs", 1 << 17),
        ("vstorage", 1 << 18),
        ("iscsi-direct", 1 << 19),
    ];
}

pub mod list_interfaces {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
}

pub mod domain_xml {
    pub const SECURE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const UPDATE_CPU: u32 = 1 << 2;
    pub const MIGRATABLE: u32 = 1 << 3;
}

pub mod undefine {
    pub const MANAGED_SAVE: u32 = 1 << 0;
    pub const SNAPSHOTS_METADATA: u32 = 1 << 1;
    pub const NVRAM: u32 = 1 << 2;
    pub const KEEP_NVRAM: u32 = 1 << 3;
    pub const CHECKPOINTS_METADATA: u32 = 1 << 4;
    pub const TPM: u32 = 1 << 5;
    pub const KEEP_TPM: u32 = 1 << 6;
}

/// virDomainVcpuFlags (on top of the live/config impact bits).
pub mod vcpu {
    pub const MAXIMUM: u32 = 1 << 2;
    pub const GUEST: u32 = 1 << 3;
    pub const HOTPLUGGABLE: u32 = 1 << 4;
}

/// virDomainMemoryModFlags (on top of the live/config impact bits).
pub mod memory {
    pub const MAXIMUM: u32 = 1 << 2;
}

/// virDomainMemoryParameters: the value that means "no limit", `INT64_MAX >> 10` KiB.
pub const MEMORY_PARAM_UNLIMITED: u64 = (i64::MAX >> 10) as u64;

pub mod snapshot_list {
    pub const ROOTS: u32 = 1 << 0;
    pub const DESCENDANTS: u32 = 1 << 0;
    pub const METADATA: u32 = 1 << 1;
    pub const LEAVES: u32 = 1 << 2;
    pub const NO_LEAVES: u32 = 1 << 3;
    pub const NO_METADATA: u32 = 1 << 4;
    pub const INACTIVE: u32 = 1 << 5;
    pub const ACTIVE: u32 = 1 << 6;
    pub const DISK_ONLY: u32 = 1 << 7;
    pub const INTERNAL: u32 = 1 << 8;
    pub const EXTERNAL: u32 = 1 << 9;
    pub const TOPOLOGICAL: u32 = 1 << 10;
}

pub mod snapshot_create {
    pub const REDEFINE: u32 = 1 << 0;
    pub const CURRENT: u32 = 1 << 1;
    pub const NO_METADATA: u32 = 1 << 2;
    pub const HALT: u32 = 1 << 3;
    pub const DISK_ONLY: u32 = 1 << 4;
    pub const REUSE_EXT: u32 = 1 << 5;
    pub const QUIESCE: u32 = 1 << 6;
    pub const ATOMIC: u32 = 1 << 7;
    pub const LIVE: u32 = 1 << 8;
    pub const VALIDATE: u32 = 1 << 9;
}

/// virDomainShutdownFlagValues / virDomainRebootFlagValues (same bits).
pub mod shutdown {
    pub const DEFAULT: u32 = 0;
    pub const ACPI_POWER_BTN: u32 = 1 << 0;
    pub const GUEST_AGENT: u32 = 1 << 1;
    pub const INITCTL: u32 = 1 << 2;
    pub const SIGNAL: u32 = 1 << 3;
    pub const PARAVIRT: u32 = 1 << 4;
}

pub mod destroy {
    pub const GRACEFUL: u32 = 1 << 0;
    pub const REMOVE_LOGS: u32 = 1 << 1;
}

/// virDomainCreateFlags (start and create).
pub mod create {
    pub const PAUSED: u32 = 1 << 0;
    pub const AUTODESTROY: u32 = 1 << 1;
    pub const BYPASS_CACHE: u32 = 1 << 2;
    pub const FORCE_BOOT: u32 = 1 << 3;
    pub const VALIDATE: u32 = 1 << 4;
    pub const RESET_NVRAM: u32 = 1 << 5;
}

/// virDomainMetadataType
pub mod metadata {
    pub const DESCRIPTION: i32 = 0;
    pub const TITLE: i32 = 1;
    pub const ELEMENT: i32 = 2;
}

/// virConnectGetAllDomainStats stat groups.
pub mod stats {
    pub const STATE: u32 = 1 << 0;
    pub const CPU_TOTAL: u32 = 1 << 1;
    pub const BALLOON: u32 = 1 << 2;
    pub const VCPU: u32 = 1 << 3;
    pub const INTERFACE: u32 = 1 << 4;
    pub const BLOCK: u32 = 1 << 5;
    pub const PERF: u32 = 1 << 6;
    pub const IOTHREAD: u32 = 1 << 7;
    pub const MEMORY: u32 = 1 << 8;
    pub const DIRTYRATE: u32 = 1 << 9;
    pub const VM: u32 = 1 << 10;
}

/// virDomainSnapshotRevertFlags
pub mod snapshot_revert {
    pub const RUNNING: u32 = 1 << 0;
    pub const PAUSED: u32 = 1 << 1;
    pub const FORCE: u32 = 1 << 2;
    pub const RESET_NVRAM: u32 = 1 << 3;
}

/// virDomainSaveRestoreFlags (managedsave and friends).
pub mod save {
    pub const BYPASS_CACHE: u32 = 1 << 0;
    pub const RUNNING: u32 = 1 << 1;
    pub const PAUSED: u32 = 1 << 2;
    pub const RESET_NVRAM: u32 = 1 << 3;
}

/// virDomainCoreDumpFlags (dump).
pub mod dump {
    pub const CRASH: u32 = 1 << 0;
    pub const LIVE: u32 = 1 << 1;
    pub const BYPASS_CACHE: u32 = 1 << 2;
    pub const RESET: u32 = 1 << 3;
    pub const MEMORY_ONLY: u32 = 1 << 4;
}

/// virDomainAbortJobFlagsValues (domjobabort).
pub mod abort_job {
    pub const POSTCOPY: u32 = 1 << 0;
}

/// virDomainCoreDumpFormat: virsh's `--format` names, in libvirt's order (`elf` is RAW, 0).
pub mod dump_format {
    pub const RAW: u32 = 0;
    pub const NAMES: &[&str] = &["elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"];
}

/// virNetworkUpdateCommand
pub mod net_update_command {
    pub const NONE: u32 = 0;
    pub const MODIFY: u32 = 1;
    pub const DELETE: u32 = 2;
    pub const ADD_LAST: u32 = 3;
    pub const ADD_FIRST: u32 = 4;
}

/// virNetworkUpdateSection
pub mod net_update_section {
    pub const NONE: u32 = 0;
    pub const BRIDGE: u32 = 1;
    pub const DOMAIN: u32 = 2;
    pub const IP: u32 = 3;
    pub const IP_DHCP_HOST: u32 = 4;
    pub const IP_DHCP_RANGE: u32 = 5;
    pub const FORWARD: u32 = 6;
    pub const FORWARD_INTERFACE: u32 = 7;
    pub const FORWARD_PF: u32 = 8;
    pub const PORTGROUP: u32 = 9;
    pub const DNS_HOST: u32 = 10;
    pub const DNS_TXT: u32 = 11;
    pub const DNS_SRV: u32 = 12;
}

/// virNetworkUpdateFlags
pub mod net_update {
    use crate::error::{Error, Result};

    pub const AFFECT_CURRENT: u32 = 0;
    pub const AFFECT_LIVE: u32 = 1 << 0;
    pub const AFFECT_CONFIG: u32 = 1 << 1;

    /// Which copies of a network a change with `flags` affects, `(live, config)`: the current
    /// one when neither is named, and libvirt's refusals (virNetworkObjConfigChangeSetup).
    pub fn targets(flags: u32, active: bool, persistent: bool) -> Result<(bool, bool)> {
        let mut flags = flags;
        if flags & (AFFECT_LIVE | AFFECT_CONFIG) == AFFECT_CURRENT {
            flags |= if active { AFFECT_LIVE } else { AFFECT_CONFIG };
        }
        let (live, config) = (flags & AFFECT_LIVE != 0, flags & AFFECT_CONFIG != 0);
        if live && !active {
            return Err(Error::invalid_op("network is not running"));
        }
        if config && !persistent {
            return Err(Error::invalid_op(
                "cannot change persistent config of a transient network",
            ));
        }
        Ok((live, config))
    }
}

/// virConnectListAllSecretsFlags
pub mod list_secrets {
    pub const EPHEMERAL: u32 = 1 << 0;
    pub const NO_EPHEMERAL: u32 = 1 << 1;
    pub const PRIVATE: u32 = 1 << 2;
    pub const NO_PRIVATE: u32 = 1 << 3;
}

/// virStorageVolCreateFlags
pub mod vol_create {
    pub const PREALLOC_METADATA: u32 = 1 << 0;
    pub const REFLINK: u32 = 1 << 1;
    pub const VALIDATE: u32 = 1 << 2;
}

/// virStorageVolResizeFlags
pub mod vol_resize {
    pub const ALLOCATE: u32 = 1 << 0;
    pub const DELTA: u32 = 1 << 1;
    pub const SHRINK: u32 = 1 << 2;
}

/// virDomainInterfaceAddressesSource
pub mod ifaddr_source {
    pub const LEASE: u32 = 0;
    pub const AGENT: u32 = 1;
    pub const ARP: u32 = 2;
}

/// virDomainQemuMonitorCommandFlags
pub mod monitor_command {
    pub const HMP: u32 = 1 << 0;
}

/// virDomainDeviceModifyFlags (attach/detach/update-device, on top of the impact bits).
pub mod device_modify {
    pub const LIVE: u32 = 1 << 0;
    pub const CONFIG: u32 = 1 << 1;
    pub const FORCE: u32 = 1 << 2;
}

/// virDomainGuestInfoTypes
pub mod guest_info {
    pub const USERS: u32 = 1 << 0;
    pub const OS: u32 = 1 << 1;
    pub const TIMEZONE: u32 = 1 << 2;
    pub const HOSTNAME: u32 = 1 << 3;
    pub const FILESYSTEM: u32 = 1 << 4;
    pub const DISKS: u32 = 1 << 5;
    pub const INTERFACES: u32 = 1 << 6;
}
