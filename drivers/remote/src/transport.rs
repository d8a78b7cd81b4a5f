//! Byte streams to a daemon. The client needs a reading half (for its reader thread, which
//! must be able to answer keepalive pings while the caller is idle), a writing half, and a way
//! to unblock that reader when the connection is closed. A unix socket gives all three by
//! cloning its descriptor; an ssh or ext transport will give the child's stdout, its stdin, and
//! a kill; TLS will wrap them.

use crate::error::{os_reason, RemoteError};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The parts of an open transport, as the client uses them.
pub struct TransportParts {
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
    /// Ends the connection so that a read blocked on `reader` returns (shutdown(2) on a
    /// socket, killing a child for ssh). Called at most once.
    pub closer: Box<dyn FnOnce() + Send>,
}

/// A connection to a daemon, before the client takes it apart.
pub trait Transport: Send {
    /// Bounds how long one write may block: a daemon that stops reading must not hang a call
    /// forever. Transports that cannot bound writes ignore it.
    fn set_write_timeout(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    /// What the transport is connected to, for messages.
    fn describe(&self) -> String;

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts>;
}

/// A unix domain socket (`+unix` URIs, and the local end of everything else).
pub struct UnixTransport {
    stream: UnixStream,
    path: Option<PathBuf>,
}

impl UnixTransport {
    /// Connects to `path`. The error reads as libvirt's: "Failed to connect socket to
    /// '/var/run/libvirt/libvirt-sock': No such file or directory".
    pub fn connect(path: &Path) -> Result<UnixTransport, RemoteError> {
        let stream = UnixStream::connect(path).map_err(|e| RemoteError::Connect {
            path: path.display().to_string(),
            reason: os_reason(&e),
        })?;
        Ok(UnixTransport {
            stream,
            path: Some(path.to_path_buf()),
        })
    }

    /// An already connected socket (one end of a socketpair in tests, a descriptor inherited
    /// from a parent).
    pub fn from_stream(stream: UnixStream) -> UnixTransport {
        UnixTransport { stream, path: None }
    }
}

impl Transport for UnixTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("unix socket {}", p.display()),
            None => "unix socket".to_string(),
        }
    }

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts> {
        let reader = self.stream.try_clone()?;
        let closer = self.stream.try_clone()?;
        Ok(TransportParts {
            reader: Box::new(reader),
            writer: Box::new(self.stream),
            closer: Box::new(move || {
                // Already shut down or reset by the peer: nothing left to unblock.
                let _ = closer.shutdown(Shutdown::Both);
            }),
        })
    }
}
