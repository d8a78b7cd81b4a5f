//! An open text console of a guest (virDomainOpenConsole's stream), as one descriptor.
//!
//! Whatever carries the bytes (the pty of a guest that runs on this host, or a stream of a
//! daemon's connection) is handed to the shell as a descriptor it can poll next to the user's
//! terminal, so one relay loop serves every driver: a local driver gives the pty itself, the
//! remote driver one end of a socket pair whose other end it pumps to the daemon.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// virDomainConsoleFlags: take the console over from a session that holds it.
pub const CONSOLE_FORCE: u32 = 1 << 0;
/// virDomainConsoleFlags: only open it if the driver handles the console safely.
pub const CONSOLE_SAFE: u32 = 1 << 1;

/// The console: read what the guest writes, write what it should read. Reading end of file
/// (or EIO) means the guest's side is gone. Dropping it ends the session.
pub struct ConsoleStream {
    fd: OwnedFd,
    /// What must live exactly as long as the session (a lock's record, a pump's handle).
    _session: Box<dyn Send>,
}

impl ConsoleStream {
    pub fn new(fd: OwnedFd, session: Box<dyn Send>) -> ConsoleStream {
        ConsoleStream {
            fd,
            _session: session,
        }
    }
}

impl AsFd for ConsoleStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
