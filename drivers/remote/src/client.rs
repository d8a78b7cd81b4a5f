//! A blocking RPC client: one call at a time, each with a timeout, over any [`Transport`].
//!
//! A reader thread owns the reading half of the transport from the start. It answers the
//! daemon's keepalive PINGs even while the caller is idle (a REPL waiting for input must not be
//! dropped after half a minute), hands replies to the waiting call, queues events (async
//! `VIR_NET_MESSAGE` packets) for the caller, and routes stream packets to their [`Stream`].
//! Its only lock on the writing half is a `try_lock`: when the caller is writing, the daemon
//! is receiving traffic, which resets its keepalive counter just as a PONG would, so a skipped
//! PONG costs nothing and the reader can never block behind a long write.
//!
//! A call is never left hanging: if the daemon closes the connection or dies, the reader sees
//! it at once and the call fails ("End of file while reading data: Input/output error"); if
//! the daemon stops answering altogether, the caller's own keepalive PINGs go unanswered and
//! the connection is closed after `interval × (count + 1)` of silence, libvirt's rule ("connection
//! closed due to keepalive timeout"); and a daemon that answers pings but never the call hits
//! the call's timeout.
//!
//! Sending file descriptors (`*_WITH_FDS`) needs SCM_RIGHTS and is not done yet; a reply
//! that carries descriptors is refused with a clear error.

use crate::error::RemoteError;
use crate::generated::keepalive::{
    KEEPALIVE_PROC_PING, KEEPALIVE_PROC_PONG, KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION,
};
use crate::generated::procedure_name;
use crate::generated::virnet::VIR_NET_MESSAGE_NUM_FDS_MAX;
use crate::packet::{self, Header, MessageStatus, MessageType, Packet, PacketError};
use crate::procedure::Procedure;
use crate::stream::Stream;
use crate::transport::{Transport, TransportError};
use crate::xdr::{Xdr, XdrError};
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// Every libvirt program (remote, qemu, lxc, admin, keepalive) is at version 1.
pub const PROTOCOL_VERSION: u32 = 1;

/// Keepalive timing: a PING after `interval` of silence from the daemon, the connection
/// declared dead after `count` unanswered ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub interval: Duration,
    pub count: u32,
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long a call may wait for its reply while the daemon is otherwise alive.
    pub call_timeout: Duration,
    /// Client-side liveness checks during calls; `None` relies on `call_timeout` alone.
    pub keepalive: Option<Keepalive>,
    /// Events kept for the caller; beyond this the oldest are dropped (and counted), so a
    /// caller that never reads events cannot make the client grow without bound.
    pub max_queued_events: usize,
}

impl Default for ClientConfig {
    /// virsh's keepalive (interval 5 s, count 6) and a call timeout long enough for slow
    /// operations such as saving a large guest.
    fn default() -> Self {
        ClientConfig {
            call_timeout: Duration::from_secs(300),
            keepalive: Some(Keepalive {
                interval: Duration::from_secs(5),
                count: 6,
            }),
            max_queued_events: 4096,
        }
    }
}

/// An asynchronous message from the daemon (a domain event, a close notification).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub header: Header,
    pub payload: Vec<u8>,
}

impl Event {
    /// The body as `T` (the procedure's `_msg` struct).
    pub fn decode<T: Xdr>(&self) -> Result<T, XdrError> {
        crate::xdr::from_bytes(&self.payload)
    }

    /// libvirt's name of the event procedure (`REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE`).
    pub fn name(&self) -> Option<&'static str> {
        procedure_name(self.header.prog, self.header.proc)
    }
}

/// Why the connection is closed, kept to tell the first caller who asks.
#[derive(Debug, Clone)]
enum CloseReason {
    Eof,
    Io {
        action: &'static str,
        reason: String,
    },
    Packet(PacketError),
    Keepalive,
    Protocol(String),
    /// An ssh or ext child ended the connection and said why on stderr.
    ChildEof(String),
    Local,
}

impl CloseReason {
    fn from_error(e: RemoteError) -> CloseReason {
        match e {
            RemoteError::Eof => CloseReason::Eof,
            RemoteError::Io { action, reason } => CloseReason::Io { action, reason },
            RemoteError::Packet(p) => CloseReason::Packet(p),
            RemoteError::KeepaliveTimeout => CloseReason::Keepalive,
            RemoteError::Transport(TransportError::ChildEof(text)) => CloseReason::ChildEof(text),
            other => CloseReason::Protocol(other.to_string()),
        }
    }

    fn to_error(&self) -> RemoteError {
        match self {
            CloseReason::Eof => RemoteError::Eof,
            CloseReason::Io { action, reason } => RemoteError::Io {
                action,
                reason: reason.clone(),
            },
            CloseReason::Packet(p) => RemoteError::Packet(p.clone()),
            CloseReason::Keepalive => RemoteError::KeepaliveTimeout,
            CloseReason::Protocol(m) => RemoteError::Protocol(m.clone()),
            CloseReason::ChildEof(t) => TransportError::ChildEof(t.clone()).into(),
            CloseReason::Local => RemoteError::Closed,
        }
    }
}

struct State {
    closed: Option<CloseReason>,
    /// Whether a caller has been told why the connection closed; later ones get `Closed`.
    reported: bool,
    last_rx: Instant,
    events: VecDeque<Event>,
    dropped_events: u64,
    streams: HashMap<u32, Sender<Packet>>,
}

/// What the caller, the reader thread and open streams share.
pub(crate) struct Shared {
    writer: Mutex<Box<dyn Write + Send>>,
    closer: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    state: Mutex<State>,
    events_cv: Condvar,
    max_events: usize,
}

/// A poisoned lock only means another thread panicked while holding it; the data (a writer,
/// a queue) is still usable, and a client must not turn that into a second panic.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn last_rx(&self) -> Instant {
        self.state().last_rx
    }

    /// Writes one whole packet, or closes the connection (a partial write breaks the
    /// framing for good).
    pub(crate) fn write(&self, bytes: &[u8]) -> Result<(), RemoteError> {
        self.check_open()?;
        let result = {
            let mut w = lock(&self.writer);
            w.write_all(bytes).and_then(|()| w.flush())
        };
        result.map_err(|e| {
            let err = RemoteError::io("write", &e);
            self.close(CloseReason::from_error(RemoteError::io("write", &e)));
            // This caller is told the cause now; later ones get "client socket is closed".
            self.mark_reported();
            err
        })
    }

    /// The reader thread's write: skipped when the caller holds the writer (see the module doc).
    fn try_write(&self, bytes: &[u8]) {
        let result = match self.writer.try_lock() {
            Ok(mut w) => w.write_all(bytes).and_then(|()| w.flush()),
            Err(TryLockError::Poisoned(p)) => {
                let mut w = p.into_inner();
                w.write_all(bytes).and_then(|()| w.flush())
            }
            Err(TryLockError::WouldBlock) => Ok(()),
        };
        if let Err(e) = result {
            self.close(CloseReason::from_error(RemoteError::io("write", &e)));
        }
    }

    pub(crate) fn check_open(&self) -> Result<(), RemoteError> {
        if self.state().closed.is_some() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    /// Closes the connection (the first reason wins) and wakes everyone waiting on it.
    fn close(&self, reason: CloseReason) {
        {
            let mut st = self.state();
            st.closed.get_or_insert(reason);
            st.streams.clear();
        }
        self.events_cv.notify_all();
        let closer = lock(&self.closer).take();
        if let Some(close) = closer {
            close();
        }
    }

    fn mark_reported(&self) {
        self.state().reported = true;
    }

    /// The error for a caller who finds the connection closed: the cause the first time,
    /// libvirt's "client socket is closed" after that.
    pub(crate) fn closed_error(&self) -> RemoteError {
        let mut st = self.state();
        let error = match &st.closed {
            Some(reason) if !st.reported => reason.to_error(),
            _ => return RemoteError::Closed,
        };
        st.reported = true;
        error
    }

    pub(crate) fn register_stream(&self, serial: u32) -> Receiver<Packet> {
        let (tx, rx) = mpsc::channel();
        self.state().streams.insert(serial, tx);
        rx
    }

    pub(crate) fn unregister_stream(&self, serial: u32) {
        self.state().streams.remove(&serial);
    }

    fn push_event(&self, packet: Packet) {
        {
            let mut st = self.state();
            if st.events.len() >= self.max_events {
                st.events.pop_front();
                st.dropped_events += 1;
            }
            st.events.push_back(Event {
                header: packet.header,
                payload: packet.payload,
            });
        }
        self.events_cv.notify_all();
    }

    fn route_stream(&self, packet: Packet) {
        let st = self.state();
        // A packet for a stream nobody holds any more (aborted, dropped) is discarded, as
        // libvirt's client does.
        if let Some(tx) = st.streams.get(&packet.header.serial) {
            let _ = tx.send(packet);
        }
    }
}

fn keepalive_packet(proc_: i32) -> Result<Vec<u8>, RemoteError> {
    let header = Header {
        prog: KEEPALIVE_PROGRAM,
        vers: KEEPALIVE_PROTOCOL_VERSION,
        proc: proc_,
        r#type: MessageType::Message,
        serial: 0,
        status: MessageStatus::Ok,
    };
    packet::encode(&header, &())
}

fn reader_loop(mut reader: Box<dyn Read + Send>, shared: Arc<Shared>, replies: Sender<Packet>) {
    loop {
        let packet = match packet::read_packet(&mut *reader) {
            Ok(p) => p,
            Err(e) => {
                shared.close(CloseReason::from_error(e));
                return;
            }
        };
        if packet.fds > 0 {
            // Each passed descriptor follows the packet as one byte carrying SCM_RIGHTS. A
            // plain read takes the byte and the kernel closes the descriptor; the byte must
            // still be consumed, or the framing of every later packet is off.
            let mut dummy = [0u8; VIR_NET_MESSAGE_NUM_FDS_MAX as usize];
            if let Err(e) = reader.read_exact(&mut dummy[..packet.fds as usize]) {
                shared.close(CloseReason::from_error(RemoteError::io("recv", &e)));
                return;
            }
        }
        shared.state().last_rx = Instant::now();
        let h = &packet.header;
        match h.r#type {
            MessageType::Message
                if h.prog == KEEPALIVE_PROGRAM && h.vers == KEEPALIVE_PROTOCOL_VERSION =>
            {
                if h.proc == KEEPALIVE_PROC_PING {
                    if let Ok(pong) = keepalive_packet(KEEPALIVE_PROC_PONG) {
                        shared.try_write(&pong);
                    }
                }
            }
            MessageType::Reply | MessageType::ReplyWithFds => {
                // The caller may have given up on this call (timeout); then nobody listens.
                let _ = replies.send(packet);
            }
            MessageType::Message => shared.push_event(packet),
            MessageType::Stream | MessageType::StreamHole => shared.route_stream(packet),
            MessageType::Call | MessageType::CallWithFds => {
                let msg = format!(
                    "got unexpected RPC call prog {} vers {} proc {} type {}",
                    h.prog, h.vers, h.proc, h.r#type as i32
                );
                shared.close(CloseReason::Protocol(msg));
                return;
            }
        }
    }
}

/// A connection to one daemon, speaking any of its programs.
pub struct Client {
    shared: Arc<Shared>,
    replies: Receiver<Packet>,
    serial: u32,
    config: ClientConfig,
    describe: String,
}

impl Client {
    /// Takes over `transport` and starts its reader thread.
    pub fn new(
        mut transport: Box<dyn Transport>,
        config: ClientConfig,
    ) -> Result<Client, RemoteError> {
        let setup = |e: std::io::Error| RemoteError::io("set up", &e);
        // A write blocked for a whole call timeout (a daemon that stopped reading) fails and
        // closes the connection instead of hanging the caller.
        transport
            .set_write_timeout(Some(config.call_timeout))
            .map_err(setup)?;
        let describe = transport.describe();
        let parts = transport.into_parts().map_err(setup)?;
        let shared = Arc::new(Shared {
            writer: Mutex::new(parts.writer),
            closer: Mutex::new(Some(parts.closer)),
            state: Mutex::new(State {
                closed: None,
                reported: false,
                last_rx: Instant::now(),
                events: VecDeque::new(),
                dropped_events: 0,
                streams: HashMap::new(),
            }),
            events_cv: Condvar::new(),
            max_events: config.max_queued_events.max(1),
        });
        let (tx, rx) = mpsc::channel();
        let reader_shared = Arc::clone(&shared);
        let reader = parts.reader;
        // The thread is not joined: it ends by itself when the transport is closed (its read
        // fails), and joining could only add a way to hang.
        std::thread::Builder::new()
            .name("virtsh-rpc-reader".into())
            .spawn(move || reader_loop(reader, reader_shared, tx))
            .map_err(setup)?;
        Ok(Client {
            shared,
            replies: rx,
            serial: 0,
            config,
            describe,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn set_call_timeout(&mut self, timeout: Duration) {
        self.config.call_timeout = timeout;
    }

    /// What the client is connected to (for messages).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn is_closed(&self) -> bool {
        self.shared.state().closed.is_some()
    }

    /// Calls procedure `proc_` of program `prog` (version 1) and decodes its reply.
    pub fn call<A: Xdr, R: Xdr>(
        &mut self,
        prog: u32,
        proc_: i32,
        args: &A,
    ) -> Result<R, RemoteError> {
        let timeout = self.config.call_timeout;
        self.call_full(prog, PROTOCOL_VERSION, proc_, args, timeout)
    }

    /// [`Client::call`] with its own timeout.
    pub fn call_with_timeout<A: Xdr, R: Xdr>(
        &mut self,
        prog: u32,
        proc_: i32,
        args: &A,
        timeout: Duration,
    ) -> Result<R, RemoteError> {
        self.call_full(prog, PROTOCOL_VERSION, proc_, args, timeout)
    }

    /// Calls a generated procedure marker: `client.call_proc::<remote::procs::ConnectGetHostname>(&())`.
    pub fn call_proc<P: Procedure>(&mut self, args: &P::Args) -> Result<P::Ret, RemoteError> {
        let timeout = self.config.call_timeout;
        self.call_full(P::PROGRAM, P::VERSION, P::PROC, args, timeout)
    }

    /// Calls a procedure that opens a stream (`@readstream`/`@writestream`): the stream is
    /// registered before the call goes out, so no data packet can arrive unclaimed.
    pub fn call_with_stream<A: Xdr, R: Xdr>(
        &mut self,
        prog: u32,
        proc_: i32,
        args: &A,
    ) -> Result<(R, Stream), RemoteError> {
        let serial = self.next_serial();
        let rx = self.shared.register_stream(serial);
        let timeout = self.config.call_timeout;
        let header = Header {
            prog,
            vers: PROTOCOL_VERSION,
            proc: proc_,
            r#type: MessageType::Call,
            serial,
            status: MessageStatus::Ok,
        };
        match self.send_and_wait(&header, args, timeout) {
            Ok(ret) => Ok((
                ret,
                Stream::new(Arc::clone(&self.shared), header, rx, timeout),
            )),
            Err(e) => {
                self.shared.unregister_stream(serial);
                Err(e)
            }
        }
    }

    fn next_serial(&mut self) -> u32 {
        let s = self.serial;
        self.serial = self.serial.wrapping_add(1);
        s
    }

    fn call_full<A: Xdr, R: Xdr>(
        &mut self,
        prog: u32,
        vers: u32,
        proc_: i32,
        args: &A,
        timeout: Duration,
    ) -> Result<R, RemoteError> {
        let header = Header {
            prog,
            vers,
            proc: proc_,
            r#type: MessageType::Call,
            serial: self.next_serial(),
            status: MessageStatus::Ok,
        };
        self.send_and_wait(&header, args, timeout)
    }

    fn send_and_wait<A: Xdr, R: Xdr>(
        &mut self,
        call: &Header,
        args: &A,
        timeout: Duration,
    ) -> Result<R, RemoteError> {
        self.shared.check_open()?;
        let bytes = packet::encode(call, args)?;
        self.shared.write(&bytes)?;
        let reply = self.wait_reply(call, timeout)?;
        finish_reply(call, reply)
    }

    /// Waits for the reply to `call`, pinging a silent daemon meanwhile.
    fn wait_reply(&mut self, call: &Header, timeout: Duration) -> Result<Packet, RemoteError> {
        let deadline = Instant::now() + timeout;
        let mut ping_base = self.shared.last_rx();
        let mut pinged = 0u32;
        loop {
            let now = Instant::now();
            if now >= deadline {
                let procedure = procedure_name(call.prog, call.proc)
                    .map_or_else(|| format!("procedure {}", call.proc), str::to_string);
                return Err(RemoteError::Timeout {
                    procedure,
                    after: timeout,
                });
            }
            let mut wait = deadline - now;
            if let Some(ka) = self.config.keepalive {
                let last_rx = self.shared.last_rx();
                if last_rx != ping_base {
                    // The daemon spoke: it is alive, start counting again.
                    ping_base = last_rx;
                    pinged = 0;
                }
                let due = last_rx + ka.interval * (pinged + 1);
                if now >= due {
                    if pinged >= ka.count {
                        self.shared.close(CloseReason::Keepalive);
                        return Err(self.shared.closed_error());
                    }
                    self.shared.write(&keepalive_packet(KEEPALIVE_PROC_PING)?)?;
                    pinged += 1;
                    continue;
                }
                wait = wait.min(due - now);
            }
            match self.replies.recv_timeout(wait) {
                Ok(p) if p.header.serial == call.serial => return Ok(p),
                // The late reply of a call that timed out earlier.
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(self.shared.closed_error()),
            }
        }
    }

    /// Events received so far, oldest first.
    pub fn take_events(&self) -> Vec<Event> {
        self.shared.state().events.drain(..).collect()
    }

    /// The next event, waiting up to `timeout` for one; an error once the connection is
    /// closed and no event is left.
    pub fn wait_event(&self, timeout: Duration) -> Result<Option<Event>, RemoteError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state();
        loop {
            if let Some(e) = st.events.pop_front() {
                return Ok(Some(e));
            }
            if st.closed.is_some() {
                drop(st);
                return Err(self.shared.closed_error());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            st = self
                .shared
                .events_cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.shared.state().dropped_events
    }

    /// Closes the connection here, without telling the daemon (the remote `CONNECT_CLOSE`
    /// call is the session's business). Later calls fail with "client socket is closed".
    pub fn shutdown(&mut self) {
        self.shared.close(CloseReason::Local);
        self.shared.mark_reported();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Checks a reply against its call and decodes it.
fn finish_reply<R: Xdr>(call: &Header, reply: Packet) -> Result<R, RemoteError> {
    let h = &reply.header;
    if h.prog != call.prog || h.vers != call.vers || h.proc != call.proc {
        return Err(RemoteError::Protocol(format!(
            "Unexpected reply prog {} vers {} proc {} to a call of prog {} vers {} proc {}",
            h.prog, h.vers, h.proc, call.prog, call.vers, call.proc
        )));
    }
    if reply.fds > 0 {
        return Err(RemoteError::Unsupported(
            "receiving file descriptors from the daemon is not supported by virtsh yet".into(),
        ));
    }
    match h.status {
        MessageStatus::Ok => reply.decode_payload().map_err(RemoteError::Decode),
        MessageStatus::Error => Err(RemoteError::Server(
            reply.server_error().map_err(RemoteError::Decode)?,
        )),
        MessageStatus::Continue => Err(RemoteError::Protocol(format!(
            "Unexpected message status {}",
            h.status as i32
        ))),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
