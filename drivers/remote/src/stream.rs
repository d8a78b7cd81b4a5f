//! Streams: the data channel that a `@readstream`/`@writestream` procedure opens (volume
//! download and upload, consoles, screenshots). Every packet of a stream reuses the opening
//! call's prog, proc and serial with type `VIR_NET_STREAM` (or `VIR_NET_STREAM_HOLE`).
//!
//! The protocol, from libvirt's `virnetserverprogram.c` and `remote_daemon_stream.c`:
//! data goes as status CONTINUE with raw bytes; CONTINUE with no bytes is end of file; the
//! writer then finishes with OK and the other side confirms with OK (or ERROR carrying a
//! `remote_error`); an abort is ERROR with an empty payload, confirmed the same way.

use crate::client::Shared;
use crate::error::RemoteError;
use crate::generated::procedure_name;
use crate::generated::virnet::VirNetStreamHole;
use crate::packet::{self, Header, MessageStatus, MessageType, Packet};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// Data packets are kept well under any daemon's message limit: libvirt's legacy payload
/// maximum is 256 KiB, which every daemon accepts.
pub const STREAM_CHUNK: usize = 256 * 1024;

/// What arrives on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamData {
    Data(Vec<u8>),
    /// A hole in a sparse stream: `length` bytes of zeroes not sent.
    Hole {
        length: i64,
        flags: u32,
    },
    /// The sender has no more data.
    Eof,
}

/// One open stream of a [`crate::Client`]. Dropping it stops routing its packets (late ones
/// are discarded); [`Stream::finish`] or [`Stream::abort`] end it properly on the daemon's side.
pub struct Stream {
    shared: Arc<Shared>,
    header: Header,
    rx: Receiver<Packet>,
    timeout: Duration,
}

impl Stream {
    pub(crate) fn new(
        shared: Arc<Shared>,
        call: Header,
        rx: Receiver<Packet>,
        timeout: Duration,
    ) -> Stream {
        let header = Header {
            r#type: MessageType::Stream,
            status: MessageStatus::Continue,
            ..call
        };
        Stream {
            shared,
            header,
            rx,
            timeout,
        }
    }

    /// The serial of the call that opened the stream.
    pub fn serial(&self) -> u32 {
        self.header.serial
    }

    fn timeout_error(&self) -> RemoteError {
        RemoteError::Timeout {
            procedure: procedure_name(self.header.prog, self.header.proc)
                .map_or_else(|| "a stream".to_string(), |n| format!("the stream of {n}")),
            after: self.timeout,
        }
    }

    fn next_packet(&self, timeout: Duration) -> Result<Packet, RemoteError> {
        match self.rx.recv_timeout(timeout) {
            Ok(p) => Ok(p),
            Err(RecvTimeoutError::Timeout) => Err(self.timeout_error()),
            Err(RecvTimeoutError::Disconnected) => Err(self.shared.closed_error()),
        }
    }

    /// The next piece of data from the daemon.
    pub fn recv(&mut self) -> Result<StreamData, RemoteError> {
        let p = self.next_packet(self.timeout)?;
        interpret(&p)
    }

    fn send_packet(
        &self,
        status: MessageStatus,
        kind: MessageType,
        data: &[u8],
    ) -> Result<(), RemoteError> {
        let header = Header {
            r#type: kind,
            status,
            ..self.header
        };
        self.shared.write(&packet::encode_raw(&header, data)?)
    }

    /// A server-side failure that arrived while we were sending.
    fn pending_error(&self) -> Result<(), RemoteError> {
        match self.rx.try_recv() {
            Ok(p) if p.header.status == MessageStatus::Error => interpret(&p).map(|_| ()),
            Ok(_) | Err(TryRecvError::Empty) => Ok(()),
            Err(TryRecvError::Disconnected) => Err(self.shared.closed_error()),
        }
    }

    /// Waits for the next piece of data as long as it takes: for a console, where silence is
    /// normal. A connection that breaks still ends the wait.
    pub fn recv_idle(&mut self) -> Result<StreamData, RemoteError> {
        match self.rx.recv() {
            Ok(p) => interpret(&p),
            Err(_) => Err(self.shared.closed_error()),
        }
    }

    /// A second handle that sends on this stream, so that one thread can send while another
    /// waits in [`Stream::recv_idle`] (a console's two directions).
    pub fn writer(&self) -> StreamWriter {
        StreamWriter {
            shared: self.shared.clone(),
            header: self.header.clone(),
        }
    }

    /// Sends `data` to the daemon, in chunks.
    pub fn send(&mut self, data: &[u8]) -> Result<(), RemoteError> {
        for chunk in data.chunks(STREAM_CHUNK) {
            self.pending_error()?;
            self.send_packet(MessageStatus::Continue, MessageType::Stream, chunk)?;
        }
        Ok(())
    }

    /// Sends a hole (only on streams opened with the procedure's sparse flag).
    pub fn send_hole(&mut self, length: i64, flags: u32) -> Result<(), RemoteError> {
        self.pending_error()?;
        let hole = crate::xdr::to_bytes(&VirNetStreamHole { length, flags })
            .map_err(RemoteError::Encode)?;
        self.send_packet(MessageStatus::Continue, MessageType::StreamHole, &hole)
    }

    /// Ends the stream normally and waits for the daemon's confirmation.
    pub fn finish(self) -> Result<(), RemoteError> {
        self.end(MessageStatus::Ok)
    }

    /// Abandons the stream and waits for the daemon's confirmation.
    pub fn abort(self) -> Result<(), RemoteError> {
        self.end(MessageStatus::Error)
    }

    fn end(self, status: MessageStatus) -> Result<(), RemoteError> {
        self.send_packet(status, MessageType::Stream, &[])?;
        loop {
            let p = self.next_packet(self.timeout)?;
            match p.header.status {
                // Data still in flight from before the end: discarded.
                MessageStatus::Continue => continue,
                MessageStatus::Ok => return Ok(()),
                MessageStatus::Error => return interpret(&p).map(|_| ()),
            }
        }
    }
}

/// The sending side of a [`Stream`] (see [`Stream::writer`]). Its ends do not wait for the
/// daemon's confirmation: the receiving side sees it.
#[derive(Clone)]
pub struct StreamWriter {
    shared: Arc<Shared>,
    header: Header,
}

impl StreamWriter {
    fn packet(&self, status: MessageStatus, data: &[u8]) -> Result<(), RemoteError> {
        let header = Header {
            status,
            ..self.header.clone()
        };
        self.shared.write(&packet::encode_raw(&header, data)?)
    }

    /// Sends `data`, in chunks.
    pub fn send(&self, data: &[u8]) -> Result<(), RemoteError> {
        data.chunks(STREAM_CHUNK)
            .try_for_each(|chunk| self.packet(MessageStatus::Continue, chunk))
    }

    /// Ends the stream normally (virStreamFinish), without waiting.
    pub fn finish(&self) -> Result<(), RemoteError> {
        self.packet(MessageStatus::Ok, &[])
    }

    /// Abandons the stream (virStreamAbort), without waiting.
    pub fn abort(&self) -> Result<(), RemoteError> {
        self.packet(MessageStatus::Error, &[])
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.shared.unregister_stream(self.header.serial);
    }
}

fn interpret(p: &Packet) -> Result<StreamData, RemoteError> {
    match (p.header.r#type, p.header.status) {
        (MessageType::StreamHole, MessageStatus::Continue) => {
            let hole = p.stream_hole().map_err(RemoteError::Decode)?;
            Ok(StreamData::Hole {
                length: hole.length,
                flags: hole.flags,
            })
        }
        (_, MessageStatus::Continue) if p.payload.is_empty() => Ok(StreamData::Eof),
        (_, MessageStatus::Continue) => Ok(StreamData::Data(p.payload.clone())),
        // The daemon's confirmation of an end we did not ask for: nothing more will come.
        (_, MessageStatus::Ok) => Ok(StreamData::Eof),
        (_, MessageStatus::Error) => Err(RemoteError::Server(
            p.server_error().map_err(RemoteError::Decode)?,
        )),
    }
}
