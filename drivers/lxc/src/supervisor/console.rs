//! A container's console: two pty pairs and the supervisor between them, as libvirt's
//! `libvirt_lxc` controller relays them.
//!
//! The container's init gets the slave of one pair as `/dev/console`; `virsh console` opens the
//! slave of the other, whose path the live XML records. The supervisor copies bytes between
//! the two masters. It also keeps the user-side slave open itself, so that the user-side
//! master never reads as hung up while nobody is attached (a hung-up master polls readable
//! forever); what the container writes meanwhile waits in the pty (or is dropped when full).

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use virtsh_api::{strerror, Error, ErrorKind, Result};

/// One pty pair: the master, the slave's path, and (when kept) the slave itself.
pub struct PtyPair {
    pub master: OwnedFd,
    pub slave_path: PathBuf,
    /// Held only to stay open (see the module doc).
    _slave: Option<OwnedFd>,
}

/// A new pty pair whose master does not block and whose slave is raw (the console client
/// and the container's programs set their own modes).
pub fn open_pair(keep_slave: bool) -> Result<PtyPair> {
    let fail = |what: &str| {
        let e = std::io::Error::last_os_error();
        Error::new(
            ErrorKind::SystemError,
            format!("Failed to {what} for the console: {}", strerror(&e)),
        )
    };
    let (mut master, mut slave) = (-1, -1);
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: openpty writes two descriptors and at most a short path into `name`, which is
    // far larger than any pts path; the termios and winsize arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            name.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(fail("allocate a pty"));
    }
    // SAFETY: both descriptors were just returned by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: openpty wrote a NUL-terminated path into `name`.
    let slave_path = PathBuf::from(
        unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    );
    for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
        // SAFETY: fcntl on descriptors we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(master.as_raw_fd(), libc::F_GETFL) };
    if flags < 0
        || unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0
    {
        return Err(fail("set up a pty"));
    }
    virtsh_state::chrdev::make_raw(std::os::fd::AsFd::as_fd(&slave))
        .map_err(|e| Error::new(ErrorKind::SystemError, strerror(&e)))?;
    Ok(PtyPair {
        master,
        slave_path,
        _slave: keep_slave.then_some(slave),
    })
}

/// Copy what is readable on `from` to `to`; false once `from` has hung up for good. Bytes the
/// other side has no room for are dropped: a console nobody reads must not stop the relay.
pub fn pump(from: RawFd, to: RawFd) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reads into a buffer of the given length.
        let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            let mut data = &buf[..n as usize];
            while !data.is_empty() {
                // SAFETY: writes from a slice of the given length.
                let w = unsafe { libc::write(to, data.as_ptr().cast(), data.len()) };
                if w <= 0 {
                    break;
                }
                data = &data[w as usize..];
            }
            continue;
        }
        if n == 0 {
            return false;
        }
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => true,
            // EIO: the slave side is closed (the container's console went away).
            _ => false,
        };
    }
}
