//! Reaching into a running container: signals to its init (send-process-signal), its
//! namespaces and cgroup (lxc-enter-namespace), and its addresses (domifaddr).

use std::os::fd::OwnedFd;

use virtsh_api::flags::{check, ifaddr_source};
use virtsh_api::{Domain, DomainInterface, Error, ErrorKind, Result};

use super::LxcDriver;

/// virDomainProcessSignal's last value + 1 (rt32 is 64).
const PROCESS_SIGNAL_LAST: u32 = 65;

/// The namespaces libvirt's virProcessGetNamespaces hands out, in its order.
const NAMESPACES: [&str; 6] = ["user", "ipc", "mnt", "net", "pid", "uts"];

impl LxcDriver {
    /// lxcDomainSendProcessSignal: only the init (pid 1 inside) can be named.
    pub(super) fn signal_init(
        &self,
        dom: &Domain,
        pid: i64,
        signum: u32,
        flags: u32,
    ) -> Result<()> {
        check(flags, 0, "lxcDomainSendProcessSignal")?;
        if signum >= PROCESS_SIGNAL_LAST {
            return Err(Error::invalid_arg(format!(
                "signum value {signum} is out of range"
            )));
        }
        let v = self.view_of(dom)?;
        v.check_active()?;
        if pid != 1 {
            return Err(Error::new(
                ErrorKind::ArgumentUnsupported,
                "Only the init process may be killed",
            ));
        }
        let init = Self::init_pid(&v)?;
        // SAFETY: a signal to the container's init, checked to be the recorded process. Linux
        // numbers are libvirt's, so no mapping is needed.
        if unsafe { libc::kill(init, signum as libc::c_int) } < 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::new(
                ErrorKind::SystemError,
                format!(
                    "Unable to send {signum} signal to process {init}: {}",
                    virtsh_api::strerror(&e)
                ),
            ));
        }
        Ok(())
    }

    /// lxcDomainLxcOpenNamespace: `/proc/INIT/ns/*` of the init, opened.
    pub(super) fn open_namespaces(&self, dom: &Domain, flags: u32) -> Result<Vec<OwnedFd>> {
        check(flags, 0, "lxcDomainLxcOpenNamespace")?;
        let v = self.view_of(dom)?;
        let init = Self::init_pid(&v)?;
        Ok(NAMESPACES
            .iter()
            .filter_map(|ns| std::fs::File::open(format!("/proc/{init}/ns/{ns}")).ok())
            .map(OwnedFd::from)
            .collect())
    }

    /// virDomainLxcEnterCGroup: `pid` joins the container's cgroup in every hierarchy.
    pub(super) fn enter_cgroup(&self, dom: &Domain, pid: i32, flags: u32) -> Result<()> {
        check(flags, 0, "virDomainLxcEnterCGroup")?;
        let v = self.view_of(dom)?;
        v.check_active()?;
        Self::cgroup_of(&v)?
            .add_pid(pid)
            .map_err(crate::supervisor::cgroup_error)
    }

    /// lxcDomainInterfaceAddresses: only the networks' DHCP leases (a container has no agent).
    pub(super) fn addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        check(flags, 0, "lxcDomainInterfaceAddresses")?;
        let v = self.view_of(dom)?;
        v.check_active()?;
        match source {
            ifaddr_source::LEASE => self.networks.lease_interfaces(&v.def),
            s => Err(Error::new(
                ErrorKind::ArgumentUnsupported,
                format!("Unknown IP address data source {s}"),
            )),
        }
    }
}
