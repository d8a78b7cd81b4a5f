//! The supervisor's link to the QEMU guest agent in the guest (the virtio-serial channel
//! `org.qemu.guest_agent.0`): connected on first use, bounded by a timeout on every call.
//!
//! As libvirt's qemu_agent.c: before the first command, and again after any timeout or error,
//! the stream is brought in sync. virtsh uses `guest-sync-delimited` (preceded by a 0xFF byte
//! that flushes the agent's parser; the agent puts a 0xFF sentinel before its answer), so a
//! half-read reply of an earlier client or an answer that came too late is skipped: everything
//! before the sentinel, and every reply that does not echo the random id, is discarded.
//!
//! Errors are libvirt's: no channel is "argument unsupported: QEMU guest agent is not
//! configured"; a guest that has not opened its end of the port (QEMU's VSERPORT_CHANGE) or a
//! socket that cannot be reached is "Guest agent is not responding: QEMU guest agent is not
//! connected"; no answer in time is "Guest agent is not responding: Guest agent not available
//! for now"; an agent error is "internal error: unable to execute QEMU agent command 'X': DESC".

use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use virtsh_api::{Error, ErrorKind};
use virtsh_xml::domain::DomainDef;

use crate::cmdline::is_guest_agent;
use crate::runtime::DomainRuntime;

/// `execute` for a caller's own command (qemu-agent-command): `arguments` is the command
/// object's JSON text (a string), and the answer is the agent's whole reply line (a string),
/// so the caller sees the reply's keys and numbers exactly as the agent wrote them.
pub const PASSTHROUGH: &str = "virtsh-passthrough";

/// The longest a sync may take (libvirt's QEMU_AGENT_WAIT_TIME).
const SYNC_WAIT: Duration = Duration::from_secs(5);
/// `guest-shutdown` answers only when it fails; this long without an answer is success.
const SHUTDOWN_ERROR_WAIT: Duration = Duration::from_secs(3);
/// The most a reply line may hold before the stream is declared garbage.
const MAX_REPLY: usize = 16 << 20;

/// The agent connection of one guest, if it has an agent channel.
#[derive(Debug, Default)]
pub struct AgentLink {
    /// The host end of the channel; `None` when the domain has no agent channel.
    path: Option<PathBuf>,
    /// The channel's device id (`channelN`), as VSERPORT_CHANGE names it.
    device_id: Option<String>,
    /// Whether the guest has its end of the port open, when QEMU has told us.
    guest_open: Option<bool>,
    conn: Option<UnixStream>,
    /// Bytes read and not used yet.
    buf: Vec<u8>,
    synced: bool,
}

/// How one attempt to read a reply ended without a reply.
enum Miss {
    Timeout,
    Closed,
    Io(std::io::Error),
}

impl AgentLink {
    pub fn new(def: &DomainDef, _rt: &DomainRuntime) -> AgentLink {
        let found = def
            .devices
            .channels
            .iter()
            .enumerate()
            .find(|(_, c)| is_guest_agent(c));
        match found {
            Some((i, c)) => AgentLink {
                path: c
                    .source_path()
                    .filter(|_| c.chr_type == "unix")
                    .map(PathBuf::from),
                device_id: Some(format!("channel{i}")),
                ..AgentLink::default()
            },
            None => AgentLink::default(),
        }
    }

    /// QEMU's `VSERPORT_CHANGE` event: the guest opened or closed a virtio-serial port.
    pub fn on_vserport_change(&mut self, data: &Value) {
        let id = data.get("id").and_then(Value::as_str);
        if id.is_some() && id == self.device_id.as_deref() {
            let open = data.get("open").and_then(Value::as_bool).unwrap_or(false);
            self.guest_open = Some(open);
            if !open {
                // What was said before the agent went away is no longer in sync.
                self.synced = false;
            }
        }
    }

    /// Run `execute` in the guest agent; the `return` value.
    pub fn call(
        &mut self,
        execute: &str,
        arguments: Value,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let Some(path) = self.path.clone() else {
            return Err(Error::new(
                ErrorKind::ArgumentUnsupported,
                "QEMU guest agent is not configured",
            ));
        };
        if self.guest_open == Some(false) {
            return Err(not_connected());
        }
        let deadline = Instant::now() + timeout;
        let (line, name) = if execute == PASSTHROUGH {
            let text = arguments.as_str().unwrap_or_default().to_string();
            let name = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("execute").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| "<unknown>".to_string());
            (text.replace('\n', " "), name)
        } else {
            let mut cmd = json!({ "execute": execute });
            if !arguments.is_null() {
                cmd["arguments"] = arguments;
            }
            (cmd.to_string(), execute.to_string())
        };
        if self.conn.is_none() {
            let stream = UnixStream::connect(&path).map_err(|_| not_connected())?;
            self.conn = Some(stream);
            self.buf.clear();
            self.synced = false;
        }
        if !self.synced {
            self.sync(deadline.min(Instant::now() + SYNC_WAIT))?;
        }
        if let Err(e) = self.write(format!("{line}\n").as_bytes()) {
            self.drop_conn();
            return Err(disappeared(e));
        }
        let shutdown = name == "guest-shutdown";
        let wait_until = if shutdown {
            deadline.min(Instant::now() + SHUTDOWN_ERROR_WAIT)
        } else {
            deadline
        };
        let reply = loop {
            match self.read_line(wait_until) {
                Ok(text) => {
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    if v.get("return").is_some() || v.get("error").is_some() {
                        break (v, text);
                    }
                    // Events and greetings are not answers.
                }
                Err(miss) if shutdown => {
                    // The agent powers the guest off and never answers, or goes away doing so.
                    self.synced = false;
                    if !matches!(miss, Miss::Timeout) {
                        self.drop_conn();
                    }
                    return Ok(Value::Null);
                }
                Err(Miss::Timeout) => {
                    self.synced = false;
                    return Err(not_available());
                }
                Err(Miss::Closed) => {
                    self.drop_conn();
                    return Err(disappeared("end of file from the agent socket"));
                }
                Err(Miss::Io(e)) => {
                    self.drop_conn();
                    return Err(disappeared(e));
                }
            }
        };
        let (v, text) = reply;
        if let Some(err) = v.get("error") {
            return Err(Error::internal(format!(
                "unable to execute QEMU agent command '{name}': {}",
                describe(err)
            )));
        }
        if execute == PASSTHROUGH {
            return Ok(Value::String(text));
        }
        Ok(v.get("return").cloned().unwrap_or(Value::Null))
    }

    fn drop_conn(&mut self) {
        self.conn = None;
        self.buf.clear();
        self.synced = false;
    }

    /// `guest-sync-delimited` with a random id, skipping whatever came before the sentinel and
    /// every reply that is not the echo of this id.
    fn sync(&mut self, until: Instant) -> Result<(), Error> {
        let id = random_id();
        let mut msg = vec![0xFFu8];
        msg.extend_from_slice(
            format!("{{\"execute\":\"guest-sync-delimited\",\"arguments\":{{\"id\":{id}}}}}\n")
                .as_bytes(),
        );
        // Stale bytes from before are of no use.
        self.buf.clear();
        if let Err(e) = self.write(&msg) {
            self.drop_conn();
            return Err(disappeared(e));
        }
        let mut seen_sentinel = false;
        loop {
            if !seen_sentinel {
                if let Some(pos) = self.buf.iter().position(|&b| b == 0xFF) {
                    self.buf.drain(..=pos);
                    seen_sentinel = true;
                    continue;
                }
                self.buf.clear();
                match self.fill(until) {
                    Ok(()) => continue,
                    Err(m) => return Err(self.sync_failed(m)),
                }
            }
            match self.read_line(until) {
                Ok(text) => {
                    let text = text.trim_start_matches('\u{FFFD}');
                    let echoed = serde_json::from_str::<Value>(text)
                        .ok()
                        .and_then(|v| v.get("return").and_then(Value::as_u64));
                    if echoed == Some(id) {
                        self.synced = true;
                        return Ok(());
                    }
                }
                Err(m) => return Err(self.sync_failed(m)),
            }
        }
    }

    fn sync_failed(&mut self, m: Miss) -> Error {
        match m {
            Miss::Timeout => {
                self.synced = false;
                if self.guest_open == Some(true) {
                    not_available()
                } else {
                    // Nobody is reading the guest's end of the port.
                    not_connected()
                }
            }
            Miss::Closed => {
                self.drop_conn();
                not_connected()
            }
            Miss::Io(e) => {
                self.drop_conn();
                disappeared(e)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| std::io::Error::from(IoKind::NotConnected))?;
        conn.set_write_timeout(Some(SYNC_WAIT))?;
        conn.write_all(bytes)
    }

    /// The next line (without its newline), reading until `until`.
    fn read_line(&mut self, until: Instant) -> Result<String, Miss> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line[..pos]);
                return Ok(text.trim_end_matches('\r').to_string());
            }
            if self.buf.len() > MAX_REPLY {
                self.buf.clear();
                return Err(Miss::Io(std::io::Error::new(
                    IoKind::InvalidData,
                    "no complete agent response found",
                )));
            }
            self.fill(until)?;
        }
    }

    /// Read what is there (at least one byte), waiting until `until`.
    fn fill(&mut self, until: Instant) -> Result<(), Miss> {
        let conn = self.conn.as_mut().ok_or(Miss::Closed)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Miss::Timeout);
        }
        conn.set_read_timeout(Some(left)).map_err(Miss::Io)?;
        let mut chunk = [0u8; 8192];
        loop {
            match conn.read(&mut chunk) {
                Ok(0) => return Err(Miss::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                    return Err(Miss::Timeout)
                }
                Err(e) => return Err(Miss::Io(e)),
            }
        }
    }
}

fn not_connected() -> Error {
    Error::new(
        ErrorKind::AgentUnresponsive,
        "QEMU guest agent is not connected",
    )
}

fn not_available() -> Error {
    Error::new(
        ErrorKind::AgentUnresponsive,
        "Guest agent not available for now",
    )
}

fn disappeared(e: impl std::fmt::Display) -> Error {
    eprintln!("{}: guest agent: {e}", super::boot::timestamp());
    Error::new(
        ErrorKind::AgentUnresponsive,
        "Guest agent disappeared while executing command",
    )
}

/// qemuAgentStringifyError: the `desc`, else the class in words.
fn describe(err: &Value) -> String {
    if let Some(d) = err.get("desc").and_then(Value::as_str) {
        return d.to_string();
    }
    match err.get("class").and_then(Value::as_str) {
        Some("BufferOverrun") => "Buffer overrun",
        Some("CommandDisabled") => "The command has been disabled for this instance",
        Some("CommandNotFound") => "The command has not been found",
        Some("FdNotFound") => "File descriptor not found",
        Some("InvalidParameter") => "Invalid parameter",
        Some("InvalidParameterType") => "Invalid parameter type",
        Some("InvalidParameterValue") => "Invalid parameter value",
        Some("OpenFileFailed") => "Cannot open file",
        Some("QgaCommandFailed") => "Guest agent command failed",
        Some("QMPBadInputObjectMember") => "Bad QMP input object member",
        Some("QMPExtraInputObjectMember") => "Unexpected extra object member",
        Some("UndefinedError") => "An undefined error has occurred",
        Some("Unsupported") => "this feature or command is not currently supported",
        Some(other) => other,
        None => "unknown QEMU command error",
    }
    .to_string()
}

/// A sync id no earlier client used: random, below 2^53 (every JSON reader keeps it exact).
fn random_id() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most b.len() bytes into the buffer it is given.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    let mut v = u64::from_ne_bytes(b);
    if n != 8 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        v ^= t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32);
    }
    (v & ((1 << 53) - 1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::os::unix::net::UnixListener;

    fn link(path: PathBuf) -> AgentLink {
        AgentLink {
            path: Some(path),
            device_id: Some("channel0".into()),
            ..AgentLink::default()
        }
    }

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("virtsh-agent-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    /// A fake agent: stale garbage, the sentinel, a stale reply, then the echo; then answers
    /// each command with `answer(command)`.
    fn fake_agent(
        listener: UnixListener,
        answer: impl Fn(&Value) -> Option<String> + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut line = Vec::new();
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                    return;
                }
                let text = String::from_utf8_lossy(&line)
                    .trim_start_matches('\u{FFFD}')
                    .to_string();
                let v: Value = serde_json::from_str(text.trim()).unwrap();
                if v["execute"] == "guest-sync-delimited" {
                    let id = &v["arguments"]["id"];
                    w.write_all(b"{\"return\": 7}\n\xff{\"return\": 1}\n")
                        .unwrap();
                    w.write_all(format!("{{\"return\": {id}}}\n").as_bytes())
                        .unwrap();
                } else if let Some(a) = answer(&v) {
                    w.write_all(a.as_bytes()).unwrap();
                }
            }
        })
    }

    #[test]
    fn not_configured_without_a_channel() {
        let mut l = AgentLink::default();
        let e = l
            .call("guest-ping", Value::Null, Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(
            e.message,
            "argument unsupported: QEMU guest agent is not configured"
        );
    }

    #[test]
    fn closed_port_and_missing_socket_are_not_connected() {
        let mut l = link(tmp("missing"));
        let e = l
            .call("guest-ping", Value::Null, Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::AgentUnresponsive);
        assert_eq!(
            e.message,
            "Guest agent is not responding: QEMU guest agent is not connected"
        );
        l.on_vserport_change(&json!({"id": "channel0", "open": false}));
        assert_eq!(l.guest_open, Some(false));
        l.on_vserport_change(&json!({"id": "channel9", "open": true}));
        assert_eq!(l.guest_open, Some(false));
    }

    #[test]
    fn sync_skips_stale_replies_and_errors_are_libvirts() {
        let path = tmp("sync");
        let listener = UnixListener::bind(&path).unwrap();
        let t = fake_agent(listener, |v| {
            match v["execute"].as_str() {
            Some("guest-ping") => Some("{\"return\": {}}\n".into()),
            Some("guest-get-time") => Some("{\"return\": 1700000000123456789}\n".into()),
            Some("guest-shutdown") => None,
            Some(x) => Some(format!(
                "{{\"error\": {{\"class\": \"CommandNotFound\", \"desc\": \"The command {x} has not been found\"}}}}\n"
            )),
            None => None,
        }
        });
        let mut l = link(path.clone());
        let t5 = Duration::from_secs(5);
        assert_eq!(l.call("guest-ping", Value::Null, t5).unwrap(), json!({}));
        assert_eq!(
            l.call("guest-get-time", Value::Null, t5).unwrap(),
            json!(1700000000123456789u64)
        );
        let raw = l
            .call(PASSTHROUGH, json!("{\"execute\":\"guest-ping\"}"), t5)
            .unwrap();
        assert_eq!(raw, json!("{\"return\": {}}"));
        let e = l.call("guest-nope", Value::Null, t5).unwrap_err();
        assert_eq!(
            e.message,
            "internal error: unable to execute QEMU agent command 'guest-nope': The command guest-nope has not been found"
        );
        let t0 = Instant::now();
        assert_eq!(
            l.call(
                "guest-shutdown",
                json!({"mode": "powerdown"}),
                Duration::from_secs(60)
            )
            .unwrap(),
            Value::Null
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
        // Timed out once: the next call syncs again and works.
        assert_eq!(l.call("guest-ping", Value::Null, t5).unwrap(), json!({}));
        drop(l);
        t.join().unwrap();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn silent_agent_times_out() {
        let path = tmp("silent");
        let listener = UnixListener::bind(&path).unwrap();
        let mut l = link(path.clone());
        let e = l
            .call("guest-ping", Value::Null, Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(
            e.message,
            "Guest agent is not responding: QEMU guest agent is not connected"
        );
        l.on_vserport_change(&json!({"id": "channel0", "open": true}));
        let e = l
            .call("guest-ping", Value::Null, Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(
            e.message,
            "Guest agent is not responding: Guest agent not available for now"
        );
        drop(listener);
        let _ = std::fs::remove_file(&path);
    }
}
