//! Object handles and the plain data the API returns.
//!
//! A handle is what libvirt's RPC protocol carries for an object (`remote_nonnull_domain` is
//! name + uuid + id), so the same value works for embedded and remote drivers alike.

use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    pub name: String,
    pub uuid: Uuid,
    /// The running id, or -1 when the domain is not running (libvirt's convention).
    pub id: i32,
}

impl Domain {
    pub fn is_running(&self) -> bool {
        self.id >= 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub name: String,
    pub uuid: Uuid,
}

/// A port of a virtual network (virNetworkPort): where one guest NIC is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkPort {
    pub network: Network,
    pub uuid: Uuid,
}

/// A network event (virConnectNetworkEventRegisterAny). libvirt 9.0 has one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkEvent {
    /// VIR_NETWORK_EVENT_ID_LIFECYCLE: virNetworkEventLifecycleType (0 defined, 1 undefined,
    /// 2 started, 3 stopped) and its (always 0) detail.
    Lifecycle {
        network: Network,
        event: i32,
        detail: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoragePool {
    pub name: String,
    pub uuid: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageVol {
    pub pool: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub name: String,
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainSnapshot {
    pub domain: Domain,
    pub name: String,
}

/// virDomainState
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainState {
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PmSuspended = 7,
}

impl DomainState {
    pub fn from_code(code: i32) -> DomainState {
        use DomainState::*;
        match code {
            1 => Running,
            2 => Blocked,
            3 => Paused,
            4 => Shutdown,
            5 => Shutoff,
            6 => Crashed,
            7 => PmSuspended,
            _ => NoState,
        }
    }

    /// The words virsh prints (virshDomainStateToString).
    pub fn as_virsh_str(self) -> &'static str {
        use DomainState::*;
        match self {
            NoState => "no state",
            Running => "running",
            Blocked => "idle",
            Paused => "paused",
            Shutdown => "in shutdown",
            Shutoff => "shut off",
            Crashed => "crashed",
            PmSuspended => "pmsuspended",
        }
    }
}

/// virDomainInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainInfo {
    pub state: DomainState,
    pub max_mem_kib: u64,
    pub memory_kib: u64,
    pub nr_virt_cpu: u32,
    /// Nanoseconds.
    pub cpu_time: u64,
}

/// virNodeInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub model: String,
    pub memory_kib: u64,
    pub cpus: u32,
    pub mhz: u32,
    pub nodes: u32,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
}

/// virVcpuInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VcpuInfo {
    pub number: u32,
    pub state: i32,
    pub cpu_time: u64,
    pub cpu: i32,
    /// CPU affinity, one bool per host CPU.
    pub affinity: Vec<bool>,
}

/// virDomainBlockInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockInfo {
    pub capacity: u64,
    pub allocation: u64,
    pub physical: u64,
}

/// virDomainJobInfo-free scheduler parameter, and other typed parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TypedValue {
    Int(i32),
    UInt(u32),
    LLong(i64),
    ULLong(u64),
    Double(f64),
    Boolean(bool),
    String(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypedParam {
    pub field: String,
    pub value: TypedValue,
}

impl TypedParam {
    pub fn new(field: impl Into<String>, value: TypedValue) -> Self {
        TypedParam {
            field: field.into(),
            value,
        }
    }
}

/// One record of virConnectGetAllDomainStats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainStatsRecord {
    pub domain: Domain,
    pub params: Vec<TypedParam>,
}

/// virStoragePoolInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoragePoolInfo {
    /// virStoragePoolState: 0 inactive, 1 building, 2 running, 3 degraded, 4 inaccessible.
    pub state: i32,
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
}

/// virStorageVolInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageVolInfo {
    /// virStorageVolType: 0 file, 1 block, 2 dir, 3 network, 4 netdir, 5 ploop.
    pub vol_type: i32,
    pub capacity: u64,
    pub allocation: u64,
}

/// Security model of the host (virNodeGetSecurityModel) and label of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityModel {
    pub model: String,
    pub doi: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityLabel {
    pub label: String,
    pub enforcing: bool,
}

/// Which copy of a definition an operation affects (virDomainModificationImpact).
pub mod impact {
    pub const CURRENT: u32 = 0;
    pub const LIVE: u32 = 1;
    pub const CONFIG: u32 = 2;
}

/// A secret handle (virSecret): its UUID and what it is used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secret {
    pub uuid: Uuid,
    /// virSecretUsageType: 0 none, 1 volume, 2 ceph, 3 iscsi, 4 tls, 5 vtpm.
    pub usage_type: i32,
    pub usage_id: String,
}

/// One address of a guest interface (virDomainIPAddress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpAddress {
    /// virIPAddrType: 0 IPv4, 1 IPv6.
    pub kind: i32,
    pub addr: String,
    pub prefix: u32,
}

/// A guest interface and its addresses (virDomainInterface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainInterface {
    pub name: String,
    pub hwaddr: Option<String>,
    pub addrs: Vec<IpAddress>,
}

/// virDomainBlockStatsStruct; -1 marks a counter the driver does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockStats {
    pub rd_req: i64,
    pub rd_bytes: i64,
    pub wr_req: i64,
    pub wr_bytes: i64,
    pub errs: i64,
}

/// virDomainInterfaceStatsStruct; -1 marks a counter the driver does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceStats {
    pub rx_bytes: i64,
    pub rx_packets: i64,
    pub rx_errs: i64,
    pub rx_drop: i64,
    pub tx_bytes: i64,
    pub tx_packets: i64,
    pub tx_errs: i64,
    pub tx_drop: i64,
}

/// virDomainControlInfo
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlInfo {
    /// virDomainControlState: 0 ok, 1 job, 2 occupied, 3 error.
    pub state: i32,
    /// virDomainControlErrorReason when `state` is error.
    pub details: i32,
    /// Milliseconds in the state.
    pub state_time: u64,
}

/// virDomainDiskError
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskError {
    pub disk: String,
    /// virDomainDiskErrorCode: 0 none, 1 unspecified, 2 no space.
    pub error: i32,
}

/// virNetworkDHCPLease
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DhcpLease {
    pub iface: String,
    /// Seconds since the epoch.
    pub expirytime: i64,
    /// virIPAddrType: 0 IPv4, 1 IPv6.
    pub kind: i32,
    pub mac: Option<String>,
    pub iaid: Option<String>,
    pub ipaddr: String,
    pub prefix: u32,
    pub hostname: Option<String>,
    pub clientid: Option<String>,
}

/// virNodeGetCPUMap: one bool per present CPU (online or not), and how many are online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpuMap {
    pub cpus: Vec<bool>,
    pub online: u32,
}

/// One mounted guest filesystem (virDomainFSInfo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsInfo {
    pub mountpoint: String,
    pub name: String,
    pub fstype: String,
    /// Target names (`vda`, ...) of the disks the filesystem lives on.
    pub dev_aliases: Vec<String>,
}

/// A guest screenshot (virDomainScreenshot): the MIME type and the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screenshot {
    pub mime: String,
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// One event a domain reports (virConnectDomainEventRegisterAny callbacks), as virsh's
/// `event` and `qemu-monitor-event` print them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DomainEvent {
    /// VIR_DOMAIN_EVENT_ID_LIFECYCLE: virDomainEventType and its detail.
    Lifecycle {
        domain: Domain,
        event: i32,
        detail: i32,
    },
    /// VIR_DOMAIN_EVENT_ID_REBOOT
    Reboot { domain: Domain },
    /// A raw QEMU monitor event (virConnectDomainQemuMonitorEventRegister).
    QemuMonitor {
        domain: Domain,
        event: String,
        seconds: i64,
        micros: u32,
        details: Option<String>,
    },
}
