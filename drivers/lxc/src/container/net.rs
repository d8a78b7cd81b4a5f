//! The container's network interfaces: the steps that bring `lo` up and rename and bring up
//! each interface the caller moved in (libvirt's `lxcContainerRenameAndEnableInterfaces`),
//! and the child-side ioctls that do it. Addresses and routes are the driver's business
//! (through netlink, from the host side, or by the container's own init).

use std::ffi::CStr;

use super::error::ContainerError;
use super::plan::{cstr, Builder, Op};
use super::NetInterface;

/// `IFNAMSIZ - 1`: the longest interface name.
const MAX_NAME: usize = libc::IFNAMSIZ - 1;

fn check_name(name: &str) -> Result<(), ContainerError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|c| c == b'/' || c == b':' || c.is_ascii_whitespace() || c == 0);
    if ok {
        Ok(())
    } else {
        Err(ContainerError::Invalid(format!(
            "invalid interface name '{name}' (1 to {MAX_NAME} bytes, no '/', ':' or spaces)"
        )))
    }
}

/// The steps for a private network namespace: `lo` up (libvirt does it whenever the
/// container has its own namespace), then each interface renamed and up.
pub(super) fn configure(
    b: &mut Builder,
    interfaces: &[NetInterface],
) -> Result<(), ContainerError> {
    for (i, nic) in interfaces.iter().enumerate() {
        check_name(&nic.host_name)?;
        check_name(&nic.guest_name)?;
        if interfaces[..i]
            .iter()
            .any(|o| o.guest_name == nic.guest_name)
        {
            return Err(ContainerError::Invalid(format!(
                "two interfaces are named '{}' in the container",
                nic.guest_name
            )));
        }
    }
    b.push(
        Op::IfUp {
            name: cstr("interface", "lo")?,
        },
        "bring up",
        "lo",
    );
    for nic in interfaces {
        let to = cstr("interface", &nic.guest_name)?;
        if nic.host_name != nic.guest_name {
            b.push(
                Op::IfRename {
                    from: cstr("interface", &nic.host_name)?,
                    to: to.clone(),
                },
                "rename interface",
                format!("{} to {}", nic.host_name, nic.guest_name),
            );
        }
        b.push(Op::IfUp { name: to }, "bring up", nic.guest_name.clone());
    }
    Ok(())
}

// --- child side: only system calls, no allocation (see `child`) ---

/// A request naming `name`: the name is at most `IFNAMSIZ - 1` bytes (checked when planning;
/// a longer one is ENAMETOOLONG here rather than a truncated name).
fn request(name: &CStr) -> Result<libc::ifreq, libc::c_int> {
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    copy_name(&mut req.ifr_name, name)?;
    Ok(req)
}

fn copy_name(dst: &mut [libc::c_char; libc::IFNAMSIZ], name: &CStr) -> Result<(), libc::c_int> {
    let bytes = name.to_bytes();
    if bytes.len() > MAX_NAME {
        return Err(libc::ENAMETOOLONG);
    }
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(())
}

/// A socket for interface ioctls, closed on drop. AF_UNIX: any socket will do for them, and
/// this one does not depend on IPv4 being enabled.
struct Socket(libc::c_int);

impl Socket {
    fn new() -> Result<Socket, libc::c_int> {
        // SAFETY: socket(2) with constant arguments.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            Err(errno())
        } else {
            Ok(Socket(fd))
        }
    }

    fn ioctl(&self, request: libc::c_ulong, req: &mut libc::ifreq) -> Result<(), libc::c_int> {
        // SAFETY: the interface ioctls read and write one ifreq.
        if unsafe { libc::ioctl(self.0, request as _, req as *mut libc::ifreq) } < 0 {
            Err(errno())
        } else {
            Ok(())
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: our own descriptor.
        unsafe { libc::close(self.0) };
    }
}

/// SIOCSIFNAME: the interface must be down, which a veth peer just moved in is.
pub(super) fn rename(from: &CStr, to: &CStr) -> Result<(), libc::c_int> {
    let sock = Socket::new()?;
    let mut req = request(from)?;
    // SAFETY: writing the newname member of the union, which SIOCSIFNAME reads.
    copy_name(unsafe { &mut req.ifr_ifru.ifru_newname }, to)?;
    sock.ioctl(libc::SIOCSIFNAME, &mut req)
}

/// SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP added.
pub(super) fn set_up(name: &CStr) -> Result<(), libc::c_int> {
    let sock = Socket::new()?;
    let mut req = request(name)?;
    sock.ioctl(libc::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    sock.ioctl(libc::SIOCSIFFLAGS, &mut req)
}

fn errno() -> libc::c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("eth0").is_ok());
        assert!(check_name("vethABCDEFGHIJK").is_ok());
        assert!(check_name("vethABCDEFGHIJKL").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("a b").is_err());
    }

    #[test]
    fn long_name_is_refused_not_truncated() {
        let long = c"abcdefghijklmnop";
        assert_eq!(request(long).err(), Some(libc::ENAMETOOLONG));
        assert!(request(c"eth0").is_ok());
    }
}
