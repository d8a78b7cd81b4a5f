//! Calls about the connection and the fake host (testConnect*, testNode*).

use virtsh_api::{CpuMap, Error, HostDriver, NodeInfo, Result, SecurityModel};

use crate::check_flags;

use crate::{Cell, Driver, TestConnection};

/// testConnectGetSysinfo's fixed answer.
pub(crate) const SYSINFO: &str = "<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
";

pub(crate) const SECURITY_MODEL: &str = "testSecurity";

/// libvirt 9.0.0, encoded as major * 1_000_000 + minor * 1000 + release.
const LIB_VERSION: u64 = 9_000_000;

/// The host node described by `test:///default` (libvirt's `defaultNodeInfo`).
pub(crate) fn default_node_info() -> NodeInfo {
    NodeInfo {
        model: "i686".to_string(),
        memory_kib: 1024 * 1024 * 3,
        cpus: 16,
        mhz: 1400,
        nodes: 2,
        sockets: 2,
        cores: 2,
        threads: 2,
    }
}

/// The host's name as libvirt's virGetHostname finds it (the kernel's hostname).
fn host_name() -> String {
    let from_file = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// The capabilities document of testBuildCapabilities, with the driver's NUMA cells.
pub(crate) fn capabilities_xml(cells: &[Cell]) -> String {
    let mut s = String::new();
    s.push_str("<capabilities>\n\n  <host>\n    <cpu>\n      <arch>i686</arch>\n");
    s.push_str("      <features>\n        <pae/>\n        <nonpae/>\n      </features>\n");
    for size in [4, 8, 2048, 1048576] {
        s.push_str(&format!("      <pages unit='KiB' size='{size}'/>\n"));
    }
    s.push_str("    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n");
    s.push_str("    <topology>\n");
    s.push_str(&format!("      <cells num='{}'>\n", cells.len()));
    let mut cpu_id = 0u32;
    for (i, cell) in cells.iter().enumerate() {
        s.push_str(&format!("        <cell id='{i}'>\n"));
        s.push_str(&format!(
            "          <memory unit='KiB'>{}</memory>\n",
            cell.mem
        ));
        // The first page size is 4 KiB, except for cell 1 which gets 8 KiB pages; the huge
        // page sizes follow with no pages available.
        let first = if i == 1 { 8 } else { 4 };
        s.push_str(&format!(
            "          <pages unit='KiB' size='{first}'>{}</pages>\n",
            cell.mem / first
        ));
        s.push_str("          <pages unit='KiB' size='2048'>0</pages>\n");
        s.push_str("          <pages unit='KiB' size='1048576'>0</pages>\n");
        s.push_str(&format!("          <cpus num='{}'>\n", cell.ncpus));
        for core in 0..cell.ncpus {
            s.push_str(&format!(
                "            <cpu id='{cpu_id}' socket_id='{i}' die_id='0' core_id='{core}' siblings='{cpu_id}'/>\n"
            ));
            cpu_id += 1;
        }
        s.push_str("          </cpus>\n        </cell>\n");
    }
    s.push_str("      </cells>\n    </topology>\n");
    s.push_str(&format!(
        "    <secmodel>\n      <model>{SECURITY_MODEL}</model>\n      <doi></doi>\n    </secmodel>\n"
    ));
    s.push_str("  </host>\n\n");
    for os_type in ["hvm", "xen"] {
        s.push_str("  <guest>\n");
        s.push_str(&format!("    <os_type>{os_type}</os_type>\n"));
        s.push_str("    <arch name='i686'>\n      <wordsize>32</wordsize>\n");
        s.push_str("      <emulator>/usr/bin/test-hv</emulator>\n      <domain type='test'/>\n");
        s.push_str("    </arch>\n    <features>\n      <pae/>\n      <nonpae/>\n    </features>\n");
        s.push_str("  </guest>\n\n");
    }
    s.push_str("</capabilities>\n");
    s
}

impl Driver {
    fn cells_free(&self, start: i32, max: i32) -> Result<Vec<u64>> {
        if start < 0 || start as usize >= self.cells.len() {
            return Err(Error::invalid_arg("Range exceeds available cells"));
        }
        Ok(self
            .cells
            .iter()
            .skip(start as usize)
            .take(max.max(0) as usize)
            .map(|c| c.mem)
            .collect())
    }
}

impl HostDriver for TestConnection {
    fn uri(&self) -> Result<String> {
        Ok(self.lock().uri.clone())
    }

    fn hypervisor_type(&self) -> Result<String> {
        Ok("TEST".to_string())
    }

    fn hypervisor_version(&self) -> Result<u64> {
        Ok(2)
    }

    fn lib_version(&self) -> Result<u64> {
        Ok(LIB_VERSION)
    }

    fn hostname(&self) -> Result<String> {
        Ok(host_name())
    }

    fn node_info(&self) -> Result<NodeInfo> {
        Ok(self.lock().node.clone())
    }

    fn capabilities(&self) -> Result<String> {
        Ok(capabilities_xml(&self.lock().cells))
    }

    fn sysinfo(&self) -> Result<String> {
        Ok(SYSINFO.to_string())
    }

    /// The cells' total memory, as testNodeGetCellsFreeMemory reports it (KiB numbers that
    /// callers read as bytes).
    fn cells_free_memory(&self, start: i32, max: i32) -> Result<Vec<u64>> {
        self.lock().cells_free(start, max)
    }

    /// The sum of the cells' free memory (again KiB numbers reported as bytes); 0 for node
    /// files, which describe no cells.
    fn free_memory(&self) -> Result<u64> {
        Ok(self.lock().cells.iter().map(|c| c.free_mem).sum())
    }

    fn max_vcpus(&self, _virt_type: Option<&str>) -> Result<u32> {
        Ok(32)
    }

    /// testNodeGetCPUStats: the same four counters for any CPU.
    fn node_cpu_stats(&self, _cpu: i32, flags: u32) -> Result<Vec<(String, u64)>> {
        check_flags(flags, 0, "testNodeGetCPUStats")?;
        Ok(vec![
            ("user".to_string(), 9797400000),
            ("kernel".to_string(), 34678723400000),
            ("idle".to_string(), 87264900000),
            ("iowait".to_string(), 763600000),
        ])
    }

    /// testNodeGetCPUMap: 8 CPUs, 0, 2 and 4 online, whatever the node.
    fn node_cpu_map(&self, flags: u32) -> Result<CpuMap> {
        check_flags(flags, 0, "testNodeGetCPUMap")?;
        Ok(CpuMap {
            cpus: (0..8).map(|i| 0x15 & (1 << i) != 0).collect(),
            online: 3,
        })
    }

    fn security_model(&self) -> Result<SecurityModel> {
        Ok(SecurityModel {
            model: SECURITY_MODEL.to_string(),
            doi: String::new(),
        })
    }
}
