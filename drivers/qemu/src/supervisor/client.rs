//! The CLI's side of the supervisor socket: one request, one reply, bounded in time.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use virtsh_api::{Error, ErrorKind};

use super::protocol::{Notice, Reply, Request};

/// Send `req` to the supervisor listening on `socket` and wait up to `timeout` for its reply.
pub fn call(socket: &Path, req: &Request, timeout: Duration) -> Result<Value, Error> {
    let mut stream = connect(socket, timeout)?;
    send(&mut stream, req, socket)?;
    let mut reader = BufReader::new(stream);
    read_reply(&mut reader, socket)
}

/// Subscribe to the supervisor's notices; the returned reader yields them line by line.
pub fn subscribe(socket: &Path, timeout: Duration) -> Result<Subscription, Error> {
    let mut stream = connect(socket, timeout)?;
    send(&mut stream, &Request::Subscribe, socket)?;
    let mut reader = BufReader::new(stream);
    read_reply(&mut reader, socket)?;
    // Notices come when they come.
    reader
        .get_ref()
        .set_read_timeout(None)
        .map_err(|e| io_error(socket, e))?;
    Ok(Subscription {
        reader,
        pending: Vec::new(),
    })
}

/// A stream of notices from one supervisor.
pub struct Subscription {
    reader: BufReader<UnixStream>,
    /// A line read in part before a timeout.
    pending: Vec<u8>,
}

impl Subscription {
    /// The next notice: `Ok(None)` when none arrived within the read timeout (see
    /// [`set_timeout`](Self::set_timeout)), `Err(())` when the supervisor has gone (the guest
    /// ended).
    #[allow(clippy::result_unit_err)]
    pub fn try_next_notice(&mut self) -> Result<Option<Notice>, ()> {
        loop {
            match self.reader.read_until(b'\n', &mut self.pending) {
                Ok(0) => return Err(()),
                Ok(_) if self.pending.ends_with(b"\n") => {
                    let line = std::mem::take(&mut self.pending);
                    if let Ok(n) = serde_json::from_slice(&line) {
                        return Ok(Some(n));
                    }
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
    }

    pub fn set_timeout(&self, t: Option<Duration>) {
        let _ = self.reader.get_ref().set_read_timeout(t);
    }
}

fn connect(socket: &Path, timeout: Duration) -> Result<UnixStream, Error> {
    let stream = UnixStream::connect(socket).map_err(|e| {
        Error::new(
            ErrorKind::OperationFailed,
            format!(
                "cannot reach the domain's supervisor at {}: {e}",
                socket.display()
            ),
        )
    })?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| io_error(socket, e))?;
    Ok(stream)
}

fn send(stream: &mut UnixStream, req: &Request, socket: &Path) -> Result<(), Error> {
    let mut line = serde_json::to_vec(req).map_err(|e| Error::internal(e.to_string()))?;
    line.push(b'\n');
    stream.write_all(&line).map_err(|e| io_error(socket, e))
}

fn read_reply(reader: &mut BufReader<UnixStream>, socket: &Path) -> Result<Value, Error> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => Err(Error::new(
            ErrorKind::OperationFailed,
            "the domain's supervisor closed the connection without answering (did the guest end?)",
        )),
        Ok(_) => serde_json::from_str::<Reply>(&line)
            .map_err(|e| Error::internal(format!("unreadable reply from the supervisor: {e}")))?
            .into_result(),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(Error::new(
                ErrorKind::OperationTimeout,
                format!(
                    "the domain's supervisor did not answer in time ({})",
                    socket.display()
                ),
            ))
        }
        Err(e) => Err(io_error(socket, e)),
    }
}

fn io_error(socket: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::OperationFailed,
        format!("talking to the supervisor at {}: {e}", socket.display()),
    )
}
