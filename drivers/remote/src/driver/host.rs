//! HostDriver over the protocol: the connection and the host (virConnect*, virNode*), as
//! libvirt's `remote_driver.c` makes these calls.

use virtsh_api::{CpuMap, Error, ErrorKind, NodeInfo, Result, SecurityModel};

use super::RemoteDriver;
use crate::generated::remote::{procs, *};

/// A C string that travels as XDR chars (`char x[N]` or `char x<N>`): up to its NUL.
pub(crate) fn c_chars(chars: &[i8]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .map(|&c| c as u8)
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn u32_of(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl RemoteDriver {
    /// virNodeGetCPUStats / virNodeGetMemoryStats as virsh calls them: once with no room to
    /// learn how many fields there are, then for that many.
    fn node_stats<F>(&self, fetch: F) -> Result<Vec<(String, u64)>>
    where
        F: Fn(&Self, i32) -> Result<(Vec<(String, u64)>, i32)>,
    {
        let (_, count) = fetch(self, 0)?;
        if count <= 0 {
            return Ok(Vec::new());
        }
        let (params, _) = fetch(self, count)?;
        if params.len() > count as usize {
            return Err(Error::new(
                ErrorKind::Rpc,
                "returned number of stats exceeds limit",
            ));
        }
        Ok(params)
    }
}

impl virtsh_api::HostDriver for RemoteDriver {
    /// virConnectGetURI: libvirt answers from the client, with the URI as it was opened.
    fn uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }

    fn hypervisor_type(&self) -> Result<String> {
        Ok(self.call::<procs::ConnectGetType>(&())?.r#type)
    }

    fn hypervisor_version(&self) -> Result<u64> {
        Ok(self.call::<procs::ConnectGetVersion>(&())?.hv_ver)
    }

    fn lib_version(&self) -> Result<u64> {
        Ok(self.call::<procs::ConnectGetLibVersion>(&())?.lib_ver)
    }

    fn hostname(&self) -> Result<String> {
        Ok(self.call::<procs::ConnectGetHostname>(&())?.hostname)
    }

    fn node_info(&self) -> Result<NodeInfo> {
        let r = self.call::<procs::NodeGetInfo>(&())?;
        Ok(NodeInfo {
            model: c_chars(&r.model),
            memory_kib: r.memory,
            cpus: u32_of(r.cpus),
            mhz: u32_of(r.mhz),
            nodes: u32_of(r.nodes),
            sockets: u32_of(r.sockets),
            cores: u32_of(r.cores),
            threads: u32_of(r.threads),
        })
    }

    fn capabilities(&self) -> Result<String> {
        Ok(self
            .call::<procs::ConnectGetCapabilities>(&())?
            .capabilities)
    }

    fn sysinfo(&self) -> Result<String> {
        Ok(self
            .call::<procs::ConnectGetSysinfo>(&RemoteConnectGetSysinfoArgs { flags: 0 })?
            .sysinfo)
    }

    fn cells_free_memory(&self, start: i32, max: i32) -> Result<Vec<u64>> {
        if max > REMOTE_NODE_MAX_CELLS as i32 {
            return Err(Error::new(
                ErrorKind::Rpc,
                format!("too many NUMA cells: {max} > {REMOTE_NODE_MAX_CELLS}"),
            ));
        }
        Ok(self
            .call::<procs::NodeGetCellsFreeMemory>(&RemoteNodeGetCellsFreeMemoryArgs {
                start_cell: start,
                maxcells: max,
            })?
            .cells)
    }

    fn free_memory(&self) -> Result<u64> {
        Ok(self.call::<procs::NodeGetFreeMemory>(&())?.free_mem)
    }

    fn max_vcpus(&self, virt_type: Option<&str>) -> Result<u32> {
        let r = self.call::<procs::ConnectGetMaxVcpus>(&RemoteConnectGetMaxVcpusArgs {
            r#type: virt_type.map(str::to_string),
        })?;
        Ok(u32_of(r.max_vcpus))
    }

    fn security_model(&self) -> Result<SecurityModel> {
        let r = self.call::<procs::NodeGetSecurityModel>(&())?;
        Ok(SecurityModel {
            model: c_chars(&r.model),
            doi: c_chars(&r.doi),
        })
    }

    fn node_cpu_stats(&self, cpu: i32, flags: u32) -> Result<Vec<(String, u64)>> {
        self.node_stats(|d, nparams| {
            let r = d.call::<procs::NodeGetCpuStats>(&RemoteNodeGetCpuStatsArgs {
                cpu_num: cpu,
                nparams,
                flags,
            })?;
            Ok((
                r.params.into_iter().map(|p| (p.field, p.value)).collect(),
                r.nparams,
            ))
        })
    }

    fn node_memory_stats(&self, cell: i32, flags: u32) -> Result<Vec<(String, u64)>> {
        self.node_stats(|d, nparams| {
            let r = d.call::<procs::NodeGetMemoryStats>(&RemoteNodeGetMemoryStatsArgs {
                nparams,
                cell_num: cell,
                flags,
            })?;
            Ok((
                r.params.into_iter().map(|p| (p.field, p.value)).collect(),
                r.nparams,
            ))
        })
    }

    fn node_cpu_map(&self, flags: u32) -> Result<CpuMap> {
        let r = self.call::<procs::NodeGetCpuMap>(&RemoteNodeGetCpuMapArgs {
            need_map: 1,
            need_online: 1,
            flags,
        })?;
        let n = usize::try_from(r.ret).unwrap_or(0);
        let cpus = (0..n)
            .map(|i| r.cpumap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
            .collect();
        Ok(CpuMap {
            cpus,
            online: r.online,
        })
    }

    fn domain_capabilities(
        &self,
        emulator: Option<&str>,
        arch: Option<&str>,
        machine: Option<&str>,
        virttype: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        let r = self.call::<procs::ConnectGetDomainCapabilities>(
            &RemoteConnectGetDomainCapabilitiesArgs {
                emulatorbin: emulator.map(str::to_string),
                arch: arch.map(str::to_string),
                machine: machine.map(str::to_string),
                virttype: virttype.map(str::to_string),
                flags,
            },
        )?;
        Ok(r.capabilities)
    }

    fn cpu_model_names(&self, arch: &str, flags: u32) -> Result<Vec<String>> {
        let r =
            self.call::<procs::ConnectGetCpuModelNames>(&RemoteConnectGetCpuModelNamesArgs {
                arch: arch.to_string(),
                need_results: 1,
                flags,
            })?;
        Ok(r.models)
    }

    fn domain_xml_to_native(&self, format: &str, xml: &str, flags: u32) -> Result<String> {
        let r =
            self.call::<procs::ConnectDomainXmlToNative>(&RemoteConnectDomainXmlToNativeArgs {
                native_format: format.to_string(),
                domain_xml: xml.to_string(),
                flags,
            })?;
        Ok(r.native_config)
    }

    /// virConnectSetKeepAlive: the client already pings a silent daemon during calls (virsh's
    /// interval and count), and answers the daemon's pings.
    fn set_keepalive(&self, _interval: i32, _count: u32) -> Result<()> {
        Ok(())
    }

    fn is_alive(&self) -> bool {
        self.session().is_ok_and(|s| !s.client.is_closed())
    }
}

#[cfg(test)]
mod tests {
    use super::c_chars;

    #[test]
    fn c_chars_stop_at_the_nul() {
        let mut model = [0i8; 32];
        for (i, b) in b"x86_64".iter().enumerate() {
            model[i] = *b as i8;
        }
        assert_eq!(c_chars(&model), "x86_64");
        // libvirt sends the terminating NUL of `char x<>` strings too.
        assert_eq!(c_chars(&[b'a' as i8, b'b' as i8, 0]), "ab");
        assert_eq!(c_chars(&[]), "");
    }
}
