//! A synchronous QMP client over a unix stream.
//!
//! One `QmpClient` owns one QMP connection. Every read is bounded by a deadline (a read timeout on
//! the socket, recomputed before each `read`), so a stuck QEMU yields [`QmpError::Timeout`] and
//! never hangs the caller. Replies are matched by the `id` we send; replies to earlier calls that
//! timed out are discarded when they arrive late. Asynchronous events that arrive while waiting
//! for a reply are queued; [`QmpClient::events`] drains them and [`QmpClient::wait_event`] waits
//! for one by name.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The longest single QMP message we accept (qom-list-types, query-qmp-schema are a few MiB).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// QMP error classes (QEMU's `QapiErrorClass`), kept open for classes a newer QEMU adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorClass {
    GenericError,
    CommandNotFound,
    DeviceNotActive,
    DeviceNotFound,
    KVMMissingCap,
    Other(String),
}

impl ErrorClass {
    pub fn parse(s: &str) -> Self {
        match s {
            "GenericError" => Self::GenericError,
            "CommandNotFound" => Self::CommandNotFound,
            "DeviceNotActive" => Self::DeviceNotActive,
            "DeviceNotFound" => Self::DeviceNotFound,
            "KVMMissingCap" => Self::KVMMissingCap,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::GenericError => "GenericError",
            Self::CommandNotFound => "CommandNotFound",
            Self::DeviceNotActive => "DeviceNotActive",
            Self::DeviceNotFound => "DeviceNotFound",
            Self::KVMMissingCap => "KVMMissingCap",
            Self::Other(s) => s,
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    /// QEMU answered the command with an error.
    #[error("QMP command '{command}' failed ({class}): {desc}")]
    Command {
        command: String,
        class: ErrorClass,
        desc: String,
    },
    /// No answer within the bound. The connection stays usable; a late reply is discarded.
    #[error("QMP {what} timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    /// QEMU closed the monitor (it exited, or was killed).
    #[error("QMP connection closed by QEMU{}", while_.as_ref().map(|w| format!(" while {w}")).unwrap_or_default())]
    Closed { while_: Option<String> },
    /// QEMU sent something that is not QMP as we know it.
    #[error("QMP protocol error: {0}")]
    Protocol(String),
    #[error("QMP I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl QmpError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// The error class when QEMU rejected a command.
    pub fn class(&self) -> Option<&ErrorClass> {
        match self {
            Self::Command { class, .. } => Some(class),
            _ => None,
        }
    }
}

/// QEMU's version as announced in the QMP greeting (and by `query-version`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QemuVersion {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
    /// Distribution package string, e.g. "Debian 1:7.2+dfsg-7".
    pub package: String,
}

impl QemuVersion {
    /// Parse the `{"qemu": {"major", "minor", "micro"}, "package"}` object.
    pub fn from_value(v: &Value) -> Result<Self, QmpError> {
        let q = v
            .get("qemu")
            .ok_or_else(|| QmpError::Protocol(format!("version without 'qemu': {v}")))?;
        let num = |k: &str| -> Result<u32, QmpError> {
            q.get(k)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| QmpError::Protocol(format!("version without numeric '{k}': {v}")))
        };
        Ok(Self {
            major: num("major")?,
            minor: num("minor")?,
            micro: num("micro")?,
            package: v
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string(),
        })
    }

    /// libvirt's integer form: major * 1_000_000 + minor * 1_000 + micro.
    pub fn as_libvirt_number(&self) -> u64 {
        u64::from(self.major) * 1_000_000 + u64::from(self.minor) * 1_000 + u64::from(self.micro)
    }
}

impl std::fmt::Display for QemuVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The greeting QEMU sends on connect.
#[derive(Debug, Clone)]
pub struct Greeting {
    pub version: QemuVersion,
    pub capabilities: Vec<String>,
}

/// An asynchronous QMP event.
#[derive(Debug, Clone, PartialEq)]
pub struct QmpEvent {
    pub name: String,
    pub data: Value,
    /// QEMU's timestamp (seconds, microseconds), when present.
    pub timestamp: Option<(i64, i64)>,
}

pub struct QmpClient {
    stream: UnixStream,
    buf: Vec<u8>,
    events: VecDeque<QmpEvent>,
    next_id: u64,
    timeout: Duration,
    greeting: Greeting,
    /// The text of the last message read (for pass-through callers).
    last_raw: String,
}

impl std::fmt::Debug for QmpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QmpClient")
            .field("version", &self.greeting.version)
            .field("queued_events", &self.events.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The socket, for a caller that waits on several fds at once (the supervisor's poll loop):
/// readable means [`QmpClient::poll_events`] has something to read.
impl std::os::fd::AsRawFd for QmpClient {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.stream.as_raw_fd()
    }
}

impl QmpClient {
    /// Read the greeting and negotiate capabilities, each within `timeout`. `timeout` also
    /// becomes the default bound of [`QmpClient::execute`].
    pub fn connect(stream: UnixStream, timeout: Duration) -> Result<Self, QmpError> {
        stream.set_nonblocking(false)?;
        let mut client = Self {
            stream,
            buf: Vec::new(),
            events: VecDeque::new(),
            next_id: 1,
            timeout,
            greeting: Greeting {
                version: QemuVersion::default(),
                capabilities: Vec::new(),
            },
            last_raw: String::new(),
        };
        let deadline = Instant::now() + timeout;
        let msg = client.read_message(deadline, "waiting for the greeting", timeout)?;
        let qmp = msg
            .get("QMP")
            .ok_or_else(|| QmpError::Protocol(format!("expected a QMP greeting, got {msg}")))?;
        let version = QemuVersion::from_value(qmp.get("version").unwrap_or(&Value::Null))?;
        let capabilities = qmp
            .get("capabilities")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        client.greeting = Greeting {
            version,
            capabilities,
        };
        client.execute("qmp_capabilities", Value::Null)?;
        Ok(client)
    }

    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    /// The default bound of [`QmpClient::execute`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Run a command with the default timeout. `arguments` is an object, or `Null` for none.
    pub fn execute(&mut self, command: &str, arguments: Value) -> Result<Value, QmpError> {
        self.execute_timeout(command, arguments, self.timeout)
    }

    /// Run a command; fail with [`QmpError::Timeout`] if no reply arrives within `timeout`.
    pub fn execute_timeout(
        &mut self,
        command: &str,
        arguments: Value,
        timeout: Duration,
    ) -> Result<Value, QmpError> {
        self.exchange(command, arguments, timeout, None)
    }

    /// Run a command with a file descriptor passed along (SCM_RIGHTS), as `getfd` and
    /// `add-fd` want: QEMU keeps its own copy of `fd`.
    pub fn execute_with_fd(
        &mut self,
        command: &str,
        arguments: Value,
        fd: std::os::fd::RawFd,
    ) -> Result<Value, QmpError> {
        let timeout = self.timeout;
        self.exchange(command, arguments, timeout, Some(fd))
    }

    fn exchange(
        &mut self,
        command: &str,
        arguments: Value,
        timeout: Duration,
        fd: Option<std::os::fd::RawFd>,
    ) -> Result<Value, QmpError> {
        let deadline = Instant::now() + timeout;
        let id = self.next_id;
        self.next_id += 1;
        let mut req = Map::new();
        req.insert("execute".into(), Value::String(command.to_string()));
        match arguments {
            Value::Null => {}
            Value::Object(ref m) if m.is_empty() => {}
            Value::Object(_) => {
                req.insert("arguments".into(), arguments);
            }
            other => {
                return Err(QmpError::Protocol(format!(
                    "arguments of '{command}' must be an object, got {other}"
                )))
            }
        }
        req.insert("id".into(), json!(id));
        let mut line = serde_json::to_vec(&Value::Object(req))
            .map_err(|e| QmpError::Protocol(format!("cannot encode '{command}': {e}")))?;
        line.push(b'\n');
        let what = format!("command '{command}'");
        let rest = match fd {
            Some(fd) => self.send_fd(&line, fd, &what)?,
            None => 0,
        };
        self.write_all(&line[rest..], deadline, &what, timeout)?;

        loop {
            let msg = self.read_message(deadline, &what, timeout)?;
            if self.queue_if_event(&msg) {
                continue;
            }
            // A reply: match by id; a reply to an earlier call that timed out is dropped.
            if msg.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(ret) = msg.get("return") {
                return Ok(ret.clone());
            }
            if let Some(err) = msg.get("error") {
                return Err(QmpError::Command {
                    command: command.to_string(),
                    class: ErrorClass::parse(
                        err.get("class")
                            .and_then(Value::as_str)
                            .unwrap_or("GenericError"),
                    ),
                    desc: err
                        .get("desc")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                });
            }
            return Err(QmpError::Protocol(format!(
                "reply to '{command}' has neither 'return' nor 'error': {msg}"
            )));
        }
    }

    /// Send a caller's own command object (`execute` and `arguments`, any `id` replaced by
    /// `id`) and return QEMU's reply line as QEMU wrote it, error replies included: what
    /// `qemu-monitor-command` passes through.
    pub fn execute_passthrough(
        &mut self,
        mut command: Map<String, Value>,
        id: &str,
    ) -> Result<String, QmpError> {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let name = command
            .get("execute")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        command.insert("id".into(), Value::String(id.to_string()));
        let mut line = serde_json::to_vec(&Value::Object(command))
            .map_err(|e| QmpError::Protocol(format!("cannot encode '{name}': {e}")))?;
        line.push(b'\n');
        let what = format!("command '{name}'");
        self.write_all(&line, deadline, &what, timeout)?;
        loop {
            let msg = self.read_message(deadline, &what, timeout)?;
            if self.queue_if_event(&msg) {
                continue;
            }
            if msg.get("id").and_then(Value::as_str) == Some(id) {
                return Ok(std::mem::take(&mut self.last_raw));
            }
        }
    }

    /// Send the start of `data` with `fd` attached; returns how many bytes went out (the rest
    /// goes by `write_all`).
    fn send_fd(
        &mut self,
        data: &[u8],
        fd: std::os::fd::RawFd,
        what: &str,
    ) -> Result<usize, QmpError> {
        use std::os::fd::AsRawFd;
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        // SAFETY: CMSG_SPACE is a pure computation on a constant.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) } as usize;
        let mut control = vec![0u8; space];
        // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the sendmsg call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points at `space` bytes, enough for one cmsg with one int, so
        // CMSG_FIRSTHDR is non-null and CMSG_DATA has room for the fd.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::c_int, fd);
        }
        self.stream.set_write_timeout(Some(self.timeout))?;
        loop {
            // SAFETY: a valid socket and a fully initialised msghdr.
            let n = unsafe { libc::sendmsg(self.stream.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            if is_closed(&e) {
                return Err(QmpError::Closed {
                    while_: Some(what.to_string()),
                });
            }
            return Err(e.into());
        }
    }

    /// Drain the events queued so far (without reading the socket).
    pub fn events(&mut self) -> Vec<QmpEvent> {
        self.events.drain(..).collect()
    }

    /// Read whatever is already on the socket (no waiting) into the event queue, then drain it.
    pub fn poll_events(&mut self) -> Result<Vec<QmpEvent>, QmpError> {
        loop {
            match self.read_message(Instant::now(), "polling events", Duration::ZERO) {
                Ok(msg) => {
                    self.queue_if_event(&msg);
                }
                Err(QmpError::Timeout { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(self.events())
    }

    /// Wait up to `timeout` for an event called `name`; the first queued one is taken first.
    /// Other events stay queued, in order.
    pub fn wait_event(&mut self, name: &str, timeout: Duration) -> Result<QmpEvent, QmpError> {
        if let Some(pos) = self.events.iter().position(|e| e.name == name) {
            if let Some(ev) = self.events.remove(pos) {
                return Ok(ev);
            }
        }
        let deadline = Instant::now() + timeout;
        let what = format!("waiting for event {name}");
        loop {
            let msg = self.read_message(deadline, &what, timeout)?;
            if let Some(ev) = parse_event(&msg) {
                if ev.name == name {
                    return Ok(ev);
                }
                self.events.push_back(ev);
            }
        }
    }

    fn queue_if_event(&mut self, msg: &Value) -> bool {
        match parse_event(msg) {
            Some(ev) => {
                self.events.push_back(ev);
                true
            }
            None => false,
        }
    }

    fn write_all(
        &mut self,
        mut data: &[u8],
        deadline: Instant,
        what: &str,
        bound: Duration,
    ) -> Result<(), QmpError> {
        while !data.is_empty() {
            let left = remaining(deadline, what, bound)?;
            self.stream.set_write_timeout(Some(left))?;
            match self.stream.write(data) {
                Ok(0) => {
                    return Err(QmpError::Closed {
                        while_: Some(what.to_string()),
                    })
                }
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    return Err(QmpError::Timeout {
                        what: what.to_string(),
                        after: bound,
                    })
                }
                Err(e) if is_closed(&e) => {
                    return Err(QmpError::Closed {
                        while_: Some(what.to_string()),
                    })
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// One JSON message (a line), read before `deadline`.
    fn read_message(
        &mut self,
        deadline: Instant,
        what: &str,
        bound: Duration,
    ) -> Result<Value, QmpError> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                let text = trim_ascii(&line);
                if text.is_empty() {
                    continue;
                }
                self.last_raw = String::from_utf8_lossy(text).into_owned();
                return serde_json::from_slice(text).map_err(|e| {
                    QmpError::Protocol(format!(
                        "invalid JSON from QEMU ({e}): {}",
                        String::from_utf8_lossy(&text[..text.len().min(200)])
                    ))
                });
            }
            if self.buf.len() > MAX_MESSAGE {
                return Err(QmpError::Protocol(format!(
                    "message from QEMU longer than {MAX_MESSAGE} bytes"
                )));
            }
            let left = match deadline.checked_duration_since(Instant::now()) {
                Some(d) if !d.is_zero() => d,
                // Deadline reached: one non-blocking look, so data already there is not missed.
                _ => Duration::ZERO,
            };
            let mut chunk = [0u8; 64 * 1024];
            let res = if left.is_zero() {
                self.stream.set_nonblocking(true)?;
                let r = self.stream.read(&mut chunk);
                self.stream.set_nonblocking(false)?;
                r
            } else {
                self.stream.set_read_timeout(Some(left))?;
                self.stream.read(&mut chunk)
            };
            match res {
                Ok(0) => {
                    return Err(QmpError::Closed {
                        while_: Some(what.to_string()),
                    })
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    if left.is_zero() || Instant::now() >= deadline {
                        return Err(QmpError::Timeout {
                            what: what.to_string(),
                            after: bound,
                        });
                    }
                }
                Err(e) if is_closed(&e) => {
                    return Err(QmpError::Closed {
                        while_: Some(what.to_string()),
                    })
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn parse_event(msg: &Value) -> Option<QmpEvent> {
    let name = msg.get("event")?.as_str()?.to_string();
    let timestamp = msg.get("timestamp").and_then(|t| {
        Some((
            t.get("seconds")?.as_i64()?,
            t.get("microseconds")?.as_i64()?,
        ))
    });
    Some(QmpEvent {
        name,
        data: msg.get("data").cloned().unwrap_or(Value::Null),
        timestamp,
    })
}

fn remaining(deadline: Instant, what: &str, bound: Duration) -> Result<Duration, QmpError> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(QmpError::Timeout {
            what: what.to_string(),
            after: bound,
        }),
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn is_closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::thread;

    /// A fake QEMU on the other end of a socketpair, driven by a script.
    fn fake(script: impl FnOnce(UnixStream) + Send + 'static) -> UnixStream {
        let (a, b) = UnixStream::pair().expect("socketpair");
        thread::spawn(move || script(b));
        a
    }

    const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 1, "minor": 2, "major": 7}, "package": "Debian "}, "capabilities": ["oob"]}}"#;

    fn read_req(r: &mut std::io::BufReader<UnixStream>) -> Value {
        let mut l = String::new();
        r.read_line(&mut l).expect("read");
        serde_json::from_str(&l).expect("json")
    }

    #[test]
    fn greeting_error_and_late_reply() {
        let s = fake(|mut w| {
            let mut r = std::io::BufReader::new(w.try_clone().expect("clone"));
            writeln!(w, "{GREETING}").expect("w");
            let q = read_req(&mut r);
            assert_eq!(q["execute"], "qmp_capabilities");
            writeln!(w, r#"{{"return": {{}}, "id": {}}}"#, q["id"]).expect("w");
            let q = read_req(&mut r);
            // a stale reply, an event, then the error
            writeln!(w, r#"{{"return": 1, "id": 999}}"#).expect("w");
            writeln!(
                w,
                r#"{{"event": "STOP", "timestamp": {{"seconds": 1, "microseconds": 2}}}}"#
            )
            .expect("w");
            write!(w, r#"{{"error": {{"class": "CommandNotFound", "desc": "The command nope has not been found"}}, "id": {}}}"#, q["id"]).expect("w");
            writeln!(w).expect("w");
            // never answer the next one
            let _ = read_req(&mut r);
            thread::sleep(Duration::from_millis(500));
        });
        let mut c = QmpClient::connect(s, Duration::from_secs(2)).expect("connect");
        assert_eq!(c.greeting().version.to_string(), "7.2.1");
        assert_eq!(c.greeting().version.package, "Debian");
        let e = c.execute("nope", Value::Null).expect_err("must fail");
        assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound));
        let evs = c.events();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].name, "STOP");
        assert_eq!(evs[0].timestamp, Some((1, 2)));
        let t0 = Instant::now();
        let e = c
            .execute_timeout("query-status", Value::Null, Duration::from_millis(200))
            .expect_err("timeout");
        assert!(e.is_timeout(), "{e}");
        assert!(t0.elapsed() < Duration::from_millis(450));
        // After the fake closes, we get Closed, not a hang.
        let e = c.execute("query-status", Value::Null).expect_err("closed");
        assert!(matches!(e, QmpError::Closed { .. }), "{e}");
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let s = fake(|mut w| {
            let _ = writeln!(w, "this is not json");
            thread::sleep(Duration::from_millis(200));
        });
        let e = QmpClient::connect(s, Duration::from_secs(2)).expect_err("garbage");
        assert!(matches!(e, QmpError::Protocol(_)), "{e}");
    }

    #[test]
    fn non_object_arguments_rejected() {
        let s = fake(|mut w| {
            let mut r = std::io::BufReader::new(w.try_clone().expect("clone"));
            writeln!(w, "{GREETING}").expect("w");
            let q = read_req(&mut r);
            writeln!(w, r#"{{"return": {{}}, "id": {}}}"#, q["id"]).expect("w");
            thread::sleep(Duration::from_millis(200));
        });
        let mut c = QmpClient::connect(s, Duration::from_secs(2)).expect("connect");
        let e = c.execute("x", json!([1])).expect_err("array");
        assert!(matches!(e, QmpError::Protocol(_)));
    }
}
