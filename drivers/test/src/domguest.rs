//! What the test driver answers about a running guest (test_driver.c): hostname, clock,
//! interface addresses, CPU, block and interface counters, the control state and disk errors.
//! Counters that libvirt derives from the wall clock are derived the same way here, so they
//! change from call to call as libvirt's do.

use std::net::IpAddr;

use virtsh_api::{
    BlockStats, ControlInfo, DiskError, Domain, DomainInterface, Error, ErrorKind, InterfaceStats,
    IpAddress, Result, TypedParam, TypedValue,
};
use virtsh_xml::domain::DomainDef;
use virtsh_xml::network::{parse_mac, IpDef};

use crate::domstate::st;
use crate::domtune::find_disk;
use crate::{check_flags, real_time_us, Driver};

/// TEST_TOTAL_CPUTIME, nanoseconds.
const TOTAL_CPUTIME: u64 = 48772617035;
/// VIR_TYPED_PARAM_STRING_OKAY
const STRING_OKAY: u32 = 1 << 2;
/// VIR_DOMAIN_TIME_SYNC
const TIME_SYNC: u32 = 1 << 0;
/// VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LAST
const IFADDR_SRC_LAST: u32 = 3;

/// virDomainNetFind: by MAC address when `device` is one, by target name otherwise.
fn net_index(def: &DomainDef, device: &str) -> Result<usize> {
    let nets = &def.devices.interfaces;
    let found = match parse_mac(device) {
        Some(mac) => nets
            .iter()
            .position(|n| n.mac.as_deref().and_then(parse_mac) == Some(mac)),
        None => nets
            .iter()
            .position(|n| n.target_dev.as_deref() == Some(device)),
    };
    found.ok_or_else(|| Error::invalid_arg(format!("'{device}' is not a known interface")))
}

/// One address of `ip` moved `offset` up (testDomainInterfaceAddressFromNet).
fn offset_address(ip: &IpDef, offset: u32) -> Option<IpAddress> {
    let base = ip.ranges.first().map(|r| r.start).or(ip.address)?;
    let ipv6 = ip.family.as_deref() == Some("ipv6");
    let prefix = ip.effective_prefix().max(0) as u32;
    let addr = match (base, ipv6) {
        (IpAddr::V6(a), _) => {
            let mut b = a.octets();
            b[15] = b[15].wrapping_add(offset as u8);
            IpAddr::from(b)
        }
        (IpAddr::V4(a), false) => {
            IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a).wrapping_add(offset)))
        }
        (IpAddr::V4(a), true) => IpAddr::V4(a),
    };
    Some(IpAddress {
        kind: i32::from(ipv6),
        addr: virtsh_xml::network::format_ip(&addr),
        prefix,
    })
}

impl Driver {
    /// testDomainGetHostname: the domain's name followed by "host".
    pub(crate) fn hostname(&mut self, dom: &Domain, flags: u32) -> Result<String> {
        check_flags(flags, 0, "testDomainGetHostname")?;
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        Ok(format!("{}host", dom.name))
    }

    /// testDomainGetTime
    pub(crate) fn get_time(&mut self, dom: &Domain, flags: u32) -> Result<(i64, u32)> {
        check_flags(flags, 0, "testDomainGetTime")?;
        let obj = self.dom_mut(dom)?;
        if obj.state != st::RUNNING {
            return Err(Error::invalid_op("domain is not running"));
        }
        Ok(obj.time)
    }

    /// testDomainSetTime
    pub(crate) fn set_time(
        &mut self,
        dom: &Domain,
        secs: i64,
        nsecs: u32,
        flags: u32,
    ) -> Result<()> {
        check_flags(flags, TIME_SYNC, "testDomainSetTime")?;
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        obj.time = (secs, nsecs);
        Ok(())
    }

    /// testDomainInterfaceAddresses: one address per interface, taken from the network it
    /// is plugged into (or 192.168.0.N for other interface types).
    pub(crate) fn interface_addresses(
        &mut self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        check_flags(flags, 0, "testDomainInterfaceAddresses")?;
        if source >= IFADDR_SRC_LAST {
            return Err(Error::new(
                ErrorKind::ArgumentUnsupported,
                format!("Unknown IP address data source {source}"),
            ));
        }
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        let id = obj.id;
        let nets = obj.def.devices.interfaces.clone();
        let mut out = Vec::new();
        for (i, net) in nets.iter().enumerate() {
            let address = if net.if_type == "network" {
                let name = net.source.clone().unwrap_or_default();
                let n = self.net_by_name(&name)?;
                let offset = 20u32
                    .wrapping_mul((id as u32).wrapping_sub(1))
                    .wrapping_add(i as u32 + 1);
                self.networks[n]
                    .def
                    .ips
                    .first()
                    .and_then(|ip| offset_address(ip, offset))
            } else {
                Some(IpAddress {
                    kind: 0,
                    addr: format!("192.168.0.{}", i + 1),
                    prefix: 24,
                })
            };
            out.push(DomainInterface {
                name: net.target_dev.clone().unwrap_or_default(),
                hwaddr: net.mac.clone(),
                addrs: address.into_iter().collect(),
            });
        }
        Ok(out)
    }

    /// testDomainGetCPUStats with ncpus 0: the host's CPUs, which the test driver takes to
    /// be its cores.
    pub(crate) fn cpu_stats_count(&mut self, dom: &Domain, flags: u32) -> Result<u32> {
        check_flags(flags, STRING_OKAY, "testDomainGetCPUStats")?;
        self.dom_mut(dom)?.check_active()?;
        Ok(self.node.cores)
    }

    /// testDomainGetCPUStats: the totals for `start_cpu` -1, fixed per-CPU times otherwise.
    pub(crate) fn cpu_stats(
        &mut self,
        dom: &Domain,
        start_cpu: i32,
        ncpus: u32,
        flags: u32,
    ) -> Result<Vec<Vec<TypedParam>>> {
        check_flags(flags, STRING_OKAY, "testDomainGetCPUStats")?;
        self.dom_mut(dom)?.check_active()?;
        let ull = |name: &str, v: u64| TypedParam::new(name, TypedValue::ULLong(v));
        if start_cpu == -1 {
            return Ok(vec![vec![
                ull("cpu_time", TOTAL_CPUTIME),
                ull("user_time", 5540000000),
                ull("system_time", 6460000000),
            ]]);
        }
        let total = self.node.cores as i64;
        if start_cpu as i64 >= total {
            return Err(Error::invalid_arg(format!(
                "start_cpu {start_cpu} larger than maximum of {}",
                total - 1
            )));
        }
        let per_cpu = TOTAL_CPUTIME / total.max(1) as u64;
        let end = total.min(start_cpu as i64 + ncpus as i64);
        let mut out: Vec<Vec<TypedParam>> = (start_cpu as i64..end)
            .map(|i| {
                let t = per_cpu.wrapping_add(i as u64);
                vec![
                    ull("cpu_time", t),
                    ull("vcpu_time", t.wrapping_sub(1234567890)),
                ]
            })
            .collect();
        out.resize(ncpus as usize, Vec::new());
        Ok(out)
    }

    /// testDomainBlockStats: counters made from the wall clock.
    pub(crate) fn block_stats(&mut self, dom: &Domain, disk: &str) -> Result<BlockStats> {
        if disk.is_empty() {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                "summary statistics are not supported yet",
            ));
        }
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        if find_disk(&obj.def, disk).is_none() {
            return Err(Error::invalid_arg(format!("invalid path: {disk}")));
        }
        let t = real_time_us() as i64;
        Ok(BlockStats {
            rd_req: t / 10,
            rd_bytes: t / 20,
            wr_req: t / 30,
            wr_bytes: t / 40,
            errs: t / 2_000_000,
        })
    }

    /// testDomainInterfaceStats: counters made from the wall clock.
    pub(crate) fn interface_stats(&mut self, dom: &Domain, device: &str) -> Result<InterfaceStats> {
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        net_index(&obj.def, device)?;
        let t = real_time_us() as i64;
        Ok(InterfaceStats {
            rx_bytes: t / 10,
            rx_packets: t / 100,
            rx_errs: t / 1_000_000,
            rx_drop: t / 2_000_000,
            tx_bytes: t / 20,
            tx_packets: t / 110,
            tx_errs: t / 3_000_000,
            tx_drop: t / 4_000_000,
        })
    }

    /// testDomainGetControlInfo: the state is read from the guest clock's seconds, so a test
    /// can pick one with `domtime --time`.
    pub(crate) fn control_info(&mut self, dom: &Domain, flags: u32) -> Result<ControlInfo> {
        check_flags(flags, 0, "testDomainGetControlInfo")?;
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        let s = obj.time.0;
        let info = |state, details, time: i64| ControlInfo {
            state,
            details,
            state_time: time as u64,
        };
        Ok(match s {
            1..=9999 => info(1, 0, s),
            10000..=29999 => info(2, 0, s - 10000),
            30000..=59999 => info(3, (s % 4) as i32, s - 30000),
            _ => info(0, 0, 0),
        })
    }

    /// testDomainGetDiskErrors: every disk reports an error, alternating "unspecified" and
    /// "no space".
    pub(crate) fn disk_errors(&mut self, dom: &Domain, flags: u32) -> Result<Vec<DiskError>> {
        check_flags(flags, 0, "testDomainGetDiskErrors")?;
        let obj = self.dom_mut(dom)?;
        obj.check_active()?;
        Ok(obj
            .def
            .devices
            .disks
            .iter()
            .enumerate()
            .map(|(i, d)| DiskError {
                disk: d.target_dev.clone(),
                error: (i % 2) as i32 + 1,
            })
            .collect())
    }
}
