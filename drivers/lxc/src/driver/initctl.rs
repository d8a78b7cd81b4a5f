//! `shutdown` and `reboot` of a container: a runlevel request on the init's control FIFO
//! (sysvinit's `/dev/initctl`, libvirt's virInitctlSetRunLevel) when the container has one,
//! else a signal to its init: SIGTERM to stop, SIGHUP to reboot. An init that reboots
//! (`reboot(2)` in its pid namespace) ends killed by SIGHUP, and the supervisor starts the
//! container again.
//!
//! The FIFO is reached through `/proc/PID/root`, which resolves paths (and the links among
//! them) inside the container's root, so no thread has to enter its mount namespace.
//!
//! As in libvirt, a FIFO that cannot be written (no init reads it) falls back to the signal
//! unless only INITCTL was asked for. Two differences from libvirt 9.0, whose check looks at a
//! failure, not at "no FIFO": without a FIFO, its `shutdown` and `reboot` send nothing and
//! report success, so the container never stops; here they send the signal. And with
//! `--mode initctl` they say "Container does not provide an initctl pipe" instead of doing
//! nothing.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use virtsh_api::flags::{check, shutdown};
use virtsh_api::{Domain, Error, ErrorKind, Result};

use super::LxcDriver;

/// sysvinit's initreq: INIT_MAGIC, INIT_CMD_RUNLVL, and the request's size.
const INITCTL_MAGIC: i32 = 0x0309_1969;
const INITCTL_CMD_RUNLVL: i32 = 1;
const INITCTL_REQUEST_SIZE: usize = 384;
/// Where inits listen, in libvirt's order (virInitctlFifos).
const INITCTL_FIFOS: [&str; 3] = ["/run/initctl", "/dev/initctl", "/etc/.initctl"];

/// What to ask of the init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    PowerOff,
    Reboot,
}

impl Stop {
    fn runlevel(self) -> u8 {
        match self {
            Stop::PowerOff => 0,
            Stop::Reboot => 6,
        }
    }

    fn signal(self) -> (libc::c_int, &'static str) {
        match self {
            Stop::PowerOff => (libc::SIGTERM, "SIGTERM"),
            Stop::Reboot => (libc::SIGHUP, "SIGHUP"),
        }
    }

    fn function(self) -> &'static str {
        match self {
            Stop::PowerOff => "lxcDomainShutdownFlags",
            Stop::Reboot => "lxcDomainReboot",
        }
    }
}

/// sysvinit's struct init_request asking for `runlevel`: magic, command, the runlevel as a
/// digit character (an int that holds '0'..'6'), no sleep time, zeros to 384 bytes.
fn runlevel_request(runlevel: u8) -> [u8; INITCTL_REQUEST_SIZE] {
    let mut req = [0u8; INITCTL_REQUEST_SIZE];
    let fields = [
        INITCTL_MAGIC,
        INITCTL_CMD_RUNLVL,
        i32::from(b'0' + runlevel),
        0,
    ];
    for (i, f) in fields.iter().enumerate() {
        req[i * 4..i * 4 + 4].copy_from_slice(&f.to_ne_bytes());
    }
    req
}

/// virInitctlSetRunLevel in the container of `init_pid`: true when a FIFO took the request,
/// false when the container has none.
fn set_runlevel(init_pid: i32, runlevel: u8) -> Result<bool> {
    for fifo in INITCTL_FIFOS {
        let path = format!("/proc/{init_pid}/root{fifo}");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::SystemError,
                    format!(
                        "Cannot open init control {fifo}: {}",
                        virtsh_api::strerror(&e)
                    ),
                ))
            }
        };
        file.write_all(&runlevel_request(runlevel)).map_err(|e| {
            Error::new(
                ErrorKind::SystemError,
                format!(
                    "Failed to send request to init control {fifo}: {}",
                    virtsh_api::strerror(&e)
                ),
            )
        })?;
        return Ok(true);
    }
    Ok(false)
}

impl LxcDriver {
    /// lxcDomainShutdownFlags and lxcDomainReboot: the control FIFO unless only SIGNAL is
    /// asked for, then the signal unless only INITCTL is (see the module doc).
    pub(super) fn stop_init(&self, dom: &Domain, what: Stop, flags: u32) -> Result<()> {
        check(flags, shutdown::INITCTL | shutdown::SIGNAL, what.function())?;
        let _lock = self.lock(&dom.name)?;
        let v = self.view_of(dom)?;
        let pid = Self::init_pid(&v)?;
        let initctl_only = flags == shutdown::INITCTL;
        let sent = if flags == 0 || flags & shutdown::INITCTL != 0 {
            set_runlevel(pid, what.runlevel())
        } else {
            Ok(false)
        };
        match sent {
            Ok(true) => return Ok(()),
            Ok(false) | Err(_) if initctl_only => {
                return Err(Error::new(
                    ErrorKind::OperationUnsupported,
                    "Container does not provide an initctl pipe",
                ))
            }
            // No FIFO, or one nobody reads: the signal.
            Ok(false) | Err(_) => {}
        }
        let (sig, sig_name) = what.signal();
        // SAFETY: a signal to the container's init, checked to be the recorded process.
        if unsafe { libc::kill(pid, sig) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(Error::new(
                    ErrorKind::SystemError,
                    format!(
                        "Unable to send {sig_name} to init pid {pid}: {}",
                        virtsh_api::strerror(&e)
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_sysvinits_layout() {
        let r = runlevel_request(6);
        assert_eq!(r.len(), 384);
        assert_eq!(&r[0..4], &0x0309_1969i32.to_ne_bytes());
        assert_eq!(&r[4..8], &1i32.to_ne_bytes());
        assert_eq!(&r[8..12], &i32::from(b'6').to_ne_bytes());
        assert!(r[12..].iter().all(|&b| b == 0));
    }
}
