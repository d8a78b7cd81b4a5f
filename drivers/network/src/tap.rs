//! Tap devices for guest NICs, created through `/dev/net/tun` and configured with ioctls on
//! the caller's network namespace (no `ip` command, nothing left behind).
//!
//! The device is not persistent: it exists while a file descriptor for it is open. virtsh
//! opens it, QEMU inherits the descriptor, and when QEMU ends (and the supervisor has closed its
//! copy) the kernel removes the device and its bridge port. So a crash cannot leak a tap.

use std::ffi::CStr;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Linux's IFNAMSIZ, with the terminating NUL.
const IFNAMSIZ: usize = 16;
// From linux/if_tun.h: not in the libc crate for every target.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;
// From linux/sockios.h.
const SIOCBRADDIF: libc::c_ulong = 0x89a2;

#[derive(Debug, thiserror::Error)]
pub enum TapError {
    #[error("invalid interface name '{0}': at most 15 bytes, no '/', ':' or spaces")]
    BadName(String),
    #[error("cannot open /dev/net/tun: {0}")]
    Tun(io::Error),
    #[error("cannot create tap device '{name}': {source}")]
    Create { name: String, source: io::Error },
    #[error("cannot {what} '{name}': {source}")]
    Configure {
        what: &'static str,
        name: String,
        source: io::Error,
    },
    #[error("Cannot get interface MTU on '{0}': the bridge does not exist")]
    NoBridge(String),
}

/// An open tap device. Dropping it closes virtsh's descriptor (the device lives on while
/// QEMU holds its inherited copy).
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
}

/// `struct ifreq` with the union members we use.
#[repr(C)]
struct IfReq {
    name: [u8; IFNAMSIZ],
    data: IfReqData,
}

#[repr(C)]
union IfReqData {
    flags: libc::c_short,
    ifindex: libc::c_int,
    mtu: libc::c_int,
    hwaddr: libc::sockaddr,
    _pad: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; IFNAMSIZ],
            data: IfReqData { _pad: [0; 24] },
        };
        r.name[..name.len()].copy_from_slice(name.as_bytes());
        r
    }
}

fn check_name(name: &str) -> Result<(), TapError> {
    if name.is_empty()
        || name.len() >= IFNAMSIZ
        || name == "."
        || name == ".."
        || name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0)
    {
        return Err(TapError::BadName(name.to_string()));
    }
    Ok(())
}

/// A socket to hand interface ioctls to.
fn ctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl(fd: &OwnedFd, req: libc::c_ulong, r: &mut IfReq) -> io::Result<()> {
    // SAFETY: `r` is a valid, properly sized ifreq for every request used here.
    if unsafe { libc::ioctl(fd.as_raw_fd(), req as _, r as *mut IfReq) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Tap {
    /// Create a tap device called `template` (a `%d` in it lets the kernel pick the number,
    /// as libvirt's `vnet%d`), with the virtio-net header QEMU's virtio NICs use.
    pub fn create(template: &str) -> Result<Tap, TapError> {
        check_name(&template.replace("%d", "0"))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(TapError::Tun)?;
        let fd = OwnedFd::from(file);
        let mut r = IfReq::new(template);
        r.data.flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        // SAFETY: TUNSETIFF takes a struct ifreq.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut r as *mut IfReq) } < 0 {
            return Err(TapError::Create {
                name: template.to_string(),
                source: io::Error::last_os_error(),
            });
        }
        let name = CStr::from_bytes_until_nul(&r.name)
            .ok()
            .and_then(|c| c.to_str().ok())
            .unwrap_or(template)
            .to_string();
        Ok(Tap { fd, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    fn configure(&self, what: &'static str, e: io::Error) -> TapError {
        TapError::Configure {
            what,
            name: self.name.clone(),
            source: e,
        }
    }

    /// Give the host side a MAC address. libvirt uses the guest's with the first byte 0xFE,
    /// so a bridge never takes the tap's (high) address as its own.
    pub fn set_host_mac(&self, guest_mac: [u8; 6]) -> Result<(), TapError> {
        let s = ctl_socket().map_err(|e| self.configure("set the MAC address of", e))?;
        let mut r = IfReq::new(&self.name);
        let mut addr: libc::sockaddr = unsafe { std::mem::zeroed() };
        addr.sa_family = libc::ARPHRD_ETHER;
        let mut mac = guest_mac;
        mac[0] = 0xfe;
        for (d, b) in addr.sa_data.iter_mut().zip(mac) {
            *d = b as libc::c_char;
        }
        r.data.hwaddr = addr;
        ioctl(&s, libc::SIOCSIFHWADDR, &mut r)
            .map_err(|e| self.configure("set the MAC address of", e))
    }

    /// Attach the tap to `bridge` (as a port), with the bridge's MTU, and bring it up.
    pub fn attach_to_bridge(&self, bridge: &str) -> Result<(), TapError> {
        check_name(bridge)?;
        let s = ctl_socket().map_err(|e| self.configure("attach", e))?;
        let mut b = IfReq::new(bridge);
        if ioctl(&s, libc::SIOCGIFMTU, &mut b).is_err() {
            return Err(TapError::NoBridge(bridge.to_string()));
        }
        // SAFETY: SIOCGIFMTU filled in the mtu member.
        let mtu = unsafe { b.data.mtu };
        let mut t = IfReq::new(&self.name);
        t.data.mtu = mtu;
        ioctl(&s, libc::SIOCSIFMTU, &mut t).map_err(|e| self.configure("set the MTU of", e))?;
        let mut t = IfReq::new(&self.name);
        ioctl(&s, libc::SIOCGIFINDEX, &mut t).map_err(|e| self.configure("find", e))?;
        // SAFETY: SIOCGIFINDEX filled in the ifindex member.
        let ifindex = unsafe { t.data.ifindex };
        let mut b = IfReq::new(bridge);
        b.data.ifindex = ifindex;
        ioctl(&s, SIOCBRADDIF, &mut b).map_err(|e| self.configure("add to the bridge", e))?;
        self.up()
    }

    /// Bring the tap up.
    pub fn up(&self) -> Result<(), TapError> {
        let s = ctl_socket().map_err(|e| self.configure("bring up", e))?;
        let mut r = IfReq::new(&self.name);
        ioctl(&s, libc::SIOCGIFFLAGS, &mut r).map_err(|e| self.configure("bring up", e))?;
        // SAFETY: SIOCGIFFLAGS filled in the flags member.
        unsafe { r.data.flags |= libc::IFF_UP as libc::c_short };
        ioctl(&s, libc::SIOCSIFFLAGS, &mut r).map_err(|e| self.configure("bring up", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_macs_are_checked() {
        assert!(check_name("vnet%d".replace("%d", "0").as_str()).is_ok());
        assert!(check_name("a/b").is_err());
        assert!(check_name("0123456789abcdef").is_err());
    }
}
