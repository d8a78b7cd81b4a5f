//! `+tcp`: a plain TCP connection (`virNetSocketNewConnectTCP`), to the URI's host (libvirt's
//! default is "localhost") on the URI's port or 16509. Every address the name resolves to is
//! tried in turn, IPv6 and IPv4 alike, and the last refusal is reported.

use super::{Transport, TransportError, TransportParts};
use crate::error::os_reason;
use std::io;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// `LIBVIRTD_TCP_PORT`.
pub const DEFAULT_PORT: u16 = 16509;

/// Connects to `host:port` as libvirt does, with libvirt's messages on failure.
pub fn connect(host: &str, port: u16) -> Result<TcpStream, TransportError> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| TransportError::Resolve {
            host: host.to_string(),
            port,
            reason: resolve_reason(&e),
        })?;
    // libvirt starts from ENOENT, which is what a name with no usable address reports.
    let mut last = io::Error::from_raw_os_error(libc::ENOENT);
    for addr in addrs {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(TransportError::TcpConnect {
        host: host.to_string(),
        port,
        reason: os_reason(&last),
    })
}

/// The `gai_strerror` part of std's resolver error ("Name or service not known").
fn resolve_reason(e: &io::Error) -> String {
    let text = os_reason(e);
    text.strip_prefix("failed to lookup address information: ")
        .map(str::to_string)
        .unwrap_or(text)
}

/// A connected TCP socket.
pub struct TcpTransport {
    stream: TcpStream,
    describe: String,
}

impl TcpTransport {
    pub fn connect(host: &str, port: u16) -> Result<TcpTransport, TransportError> {
        let stream = connect(host, port)?;
        Ok(TcpTransport {
            stream,
            describe: format!("tcp {host}:{port}"),
        })
    }
}

impl Transport for TcpTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        self.describe.clone()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn connects_and_carries_bytes_over_ipv4_and_ipv6() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            // A machine without IPv6 on loopback cannot test that half.
            let Ok(listener) = TcpListener::bind(bind) else {
                continue;
            };
            let addr = listener.local_addr().unwrap();
            let host = addr.ip().to_string();
            let server = std::thread::spawn(move || {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4];
                s.read_exact(&mut buf).unwrap();
                s.write_all(&buf).unwrap();
            });
            let t = Box::new(TcpTransport::connect(&host, addr.port()).unwrap());
            assert_eq!(t.describe(), format!("tcp {host}:{}", addr.port()));
            let mut parts = t.into_parts().unwrap();
            parts.writer.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            parts.reader.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ping");
            server.join().unwrap();
            (parts.closer)();
        }
    }

    #[test]
    fn refusal_and_bad_names_read_like_libvirt() {
        // A port that was free a moment ago is (almost surely) refused now.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = connect("127.0.0.1", port).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("unable to connect to server at '127.0.0.1:{port}': Connection refused")
        );
        let e = connect("no-such-host.invalid", 16509).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Unable to resolve address 'no-such-host.invalid' service '16509': "),
            "{e}"
        );
        assert!(!e.to_string().contains("failed to lookup"), "{e}");
    }
}
