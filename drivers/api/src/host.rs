//! Calls about the connection and the host (virConnect*, virNode*).

use crate::error::{Error, Result};
use crate::types::{CpuMap, NodeInfo, SecurityModel};

pub trait HostDriver {
    /// The canonical URI of this connection (virConnectGetURI).
    fn uri(&self) -> Result<String>;

    /// The hypervisor name as virsh `version` prints it ("Test", "QEMU", "LXC").
    fn hypervisor_type(&self) -> Result<String> {
        Err(Error::unsupported("virConnectGetType"))
    }

    /// major * 1_000_000 + minor * 1000 + release.
    fn hypervisor_version(&self) -> Result<u64> {
        Err(Error::unsupported("virConnectGetVersion"))
    }

    /// The version of the library (or daemon) behind the connection, same encoding.
    fn lib_version(&self) -> Result<u64> {
        Err(Error::unsupported("virConnectGetLibVersion"))
    }

    fn hostname(&self) -> Result<String> {
        Err(Error::unsupported("virConnectGetHostname"))
    }

    fn node_info(&self) -> Result<NodeInfo> {
        Err(Error::unsupported("virNodeGetInfo"))
    }

    fn capabilities(&self) -> Result<String> {
        Err(Error::unsupported("virConnectGetCapabilities"))
    }

    fn sysinfo(&self) -> Result<String> {
        Err(Error::unsupported("virConnectGetSysinfo"))
    }

    /// Free memory in bytes of cells `start..start+max`.
    fn cells_free_memory(&self, _start: i32, _max: i32) -> Result<Vec<u64>> {
        Err(Error::unsupported("virNodeGetCellsFreeMemory"))
    }

    /// Free memory in bytes of the whole host.
    fn free_memory(&self) -> Result<u64> {
        Err(Error::unsupported("virNodeGetFreeMemory"))
    }

    fn max_vcpus(&self, _virt_type: Option<&str>) -> Result<u32> {
        Err(Error::unsupported("virConnectGetMaxVcpus"))
    }

    fn security_model(&self) -> Result<SecurityModel> {
        Err(Error::unsupported("virNodeGetSecurityModel"))
    }

    /// virNodeGetCPUStats: (field, value) pairs for host CPU `cpu`, or all of them for -1.
    fn node_cpu_stats(&self, _cpu: i32, _flags: u32) -> Result<Vec<(String, u64)>> {
        Err(Error::unsupported("virNodeGetCPUStats"))
    }

    /// virNodeGetMemoryStats: (field, value in KiB) pairs for NUMA cell `cell`, or the whole
    /// host for -1.
    fn node_memory_stats(&self, _cell: i32, _flags: u32) -> Result<Vec<(String, u64)>> {
        Err(Error::unsupported("virNodeGetMemoryStats"))
    }

    /// virNodeGetCPUMap
    fn node_cpu_map(&self, _flags: u32) -> Result<CpuMap> {
        Err(Error::unsupported("virNodeGetCPUMap"))
    }

    /// virConnectGetDomainCapabilities
    fn domain_capabilities(
        &self,
        _emulator: Option<&str>,
        _arch: Option<&str>,
        _machine: Option<&str>,
        _virttype: Option<&str>,
        _flags: u32,
    ) -> Result<String> {
        Err(Error::unsupported("virConnectGetDomainCapabilities"))
    }

    /// virConnectGetCPUModelNames: the CPU model names a guest of `arch` can use.
    fn cpu_model_names(&self, _arch: &str, _flags: u32) -> Result<Vec<String>> {
        Err(Error::unsupported("virConnectGetCPUModelNames"))
    }

    /// virConnectDomainXMLToNative: the domain XML `xml` in the native `format` (for QEMU,
    /// `qemu-argv`: the command line).
    fn domain_xml_to_native(&self, _format: &str, _xml: &str, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virConnectDomainXMLToNative"))
    }

    /// virConnectSetKeepAlive: only remote connections have keepalive.
    fn set_keepalive(&self, _interval: i32, _count: u32) -> Result<()> {
        Err(Error::unsupported("virConnectSetKeepAlive"))
    }

    fn is_alive(&self) -> bool {
        true
    }
}
