//! The supervisor's life after boot: one poll loop over QEMU's pidfd, the QMP socket, the
//! request socket, the autodestroy owner and two timers (power-button retries, SIGKILL
//! escalation). It ends when QEMU ends, after recording the final state.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use virtsh_api::flags::{domain_state as st, state_reason as reason};
use virtsh_api::{Error, ErrorKind};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::agent::AgentLink;
use super::boot::{pidfd_open, timestamp};
use super::protocol::{Notice, Reply, Request, ShutdownMode};
use crate::qmp::{QmpClient, QmpEvent};
use crate::runtime::{AliveLock, DomainRuntime, DomainStatus, ProcessIdentity};

/// How long after boot a power-button press may be lost (the guest's ACPI handling is not up
/// yet), so the supervisor repeats it.
const POWERDOWN_RETRY_WINDOW: Duration = Duration::from_secs(15);
const POWERDOWN_RETRY_EVERY: Duration = Duration::from_secs(1);
/// SIGTERM, then SIGKILL after this long (virsh destroy without --graceful).
const KILL_AFTER: Duration = Duration::from_secs(3);
/// `destroy --graceful` gives up after this long (libvirt waits 10 s as well).
const GRACEFUL_LIMIT: Duration = Duration::from_secs(10);
/// How long a client may take to send its request line.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// virDomainEventType and details, for lifecycle notices.
mod ev {
    pub const SUSPENDED: i32 = 3;
    pub const RESUMED: i32 = 4;
    pub const STOPPED: i32 = 5;
    pub const SHUTDOWN: i32 = 6;
    pub const CRASHED: i32 = 8;
    pub const STOPPED_SHUTDOWN: i32 = 0;
    pub const STOPPED_DESTROYED: i32 = 1;
    pub const STOPPED_FAILED: i32 = 5;
    /// "Finished after guest request": QEMU's SHUTDOWN with guest=true.
    pub const SHUTDOWN_GUEST: i32 = 1;
}

struct Destroying {
    graceful: bool,
    since: Instant,
    killed: bool,
}

pub struct Supervisor {
    /// The connection the guest belongs to: its networks are that root's.
    uri: String,
    rt: DomainRuntime,
    /// The persistent definition's file: whether it exists when QEMU ends decides whether the
    /// domain stays (shut off) or vanishes (transient).
    config_path: PathBuf,
    def: DomainDef,
    qmp: Option<QmpClient>,
    /// QEMU, when we are its parent (not after a re-attach).
    child: Option<Child>,
    qemu: ProcessIdentity,
    pidfd: OwnedFd,
    listener: UnixListener,
    status: DomainStatus,
    _alive: AliveLock,
    autodestroy: Option<OwnedFd>,
    agent: AgentLink,
    subscribers: Vec<UnixStream>,
    /// The guest powered itself off (SHUTDOWN with guest=true).
    guest_shutdown: bool,
    destroying: Option<Destroying>,
    destroy_waiters: Vec<UnixStream>,
    /// `reboot`: the next guest power-off becomes a reset.
    fake_reboot: bool,
    /// When to press the power button again.
    powerdown_retry: Option<Instant>,
    booted: Instant,
    /// Numbers the ids of pass-through monitor commands (`libvirt-N`, as libvirt's).
    passthrough_ids: u64,
    /// A balloon size (KiB) still to record in the live definition (its lock was busy).
    pending_balloon_kib: Option<u64>,
}

impl Supervisor {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        rt: DomainRuntime,
        config_path: PathBuf,
        def: DomainDef,
        qmp: QmpClient,
        child: Option<Child>,
        qemu: ProcessIdentity,
        pidfd: OwnedFd,
        listener: UnixListener,
        status: DomainStatus,
        alive: AliveLock,
    ) -> Result<Supervisor, Error> {
        // An owner that is already gone ends the guest at the first turn of the loop.
        let autodestroy = status.autodestroy.and_then(|p| pidfd_open(p.pid).ok());
        let agent = AgentLink::new(&def, &rt);
        let mut sup = Supervisor {
            uri: String::new(),
            agent,
            rt,
            config_path,
            def,
            qmp: Some(qmp),
            child,
            qemu,
            pidfd,
            listener,
            status,
            _alive: alive,
            autodestroy,
            subscribers: Vec::new(),
            guest_shutdown: false,
            destroying: None,
            destroy_waiters: Vec::new(),
            fake_reboot: false,
            powerdown_retry: None,
            booted: Instant::now(),
            passthrough_ids: 0,
            pending_balloon_kib: None,
        };
        sup.save_live_xml()?;
        sup.save_status()?;
        if let Some(owner) = sup.status.autodestroy {
            if !owner.is_alive() {
                sup.begin_destroy(false);
            }
        }
        Ok(sup)
    }

    fn save_status(&self) -> Result<(), Error> {
        self.rt
            .write_status(&self.status)
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))
    }

    fn save_live_xml(&self) -> Result<(), Error> {
        let xml = self.def.to_xml(&FormatOptions {
            secure: true,
            ..FormatOptions::default()
        });
        crate::state::atomic::write(&self.rt.live_xml_path(), xml.as_bytes())
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))
    }

    fn set_state(&mut self, state: i32, why: i32) {
        if self.status.state == state && self.status.reason == why {
            return;
        }
        self.status.state = state;
        self.status.reason = why;
        if let Err(e) = self.save_status() {
            eprintln!("{}: {e}", timestamp());
        }
    }

    /// Run until QEMU ends; returns the supervisor's exit status.
    pub fn run(mut self) -> i32 {
        loop {
            self.handle_queued_events();
            let timeout = self.next_timer();
            let mut fds = vec![
                pollfd(self.pidfd.as_raw_fd()),
                pollfd(self.listener.as_raw_fd()),
                pollfd(self.qmp.as_ref().map_or(-1, |q| q.as_raw_fd())),
                pollfd(self.autodestroy.as_ref().map_or(-1, |f| f.as_raw_fd())),
            ];
            let ms = timeout.map_or(-1, |d| d.as_millis().min(60_000) as i32 + 1);
            // SAFETY: `fds` is a valid array of pollfd for its length; negative fds are ignored.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                eprintln!("{}: supervisor: poll: {e}", timestamp());
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            if fds[0].revents != 0 {
                break;
            }
            if fds[2].revents != 0 {
                self.read_qmp();
            }
            if fds[3].revents != 0 {
                eprintln!(
                    "{}: the process that created this guest with --autodestroy ended",
                    timestamp()
                );
                self.autodestroy = None;
                self.begin_destroy(false);
            }
            if fds[1].revents != 0 {
                self.accept_clients();
            }
            self.run_timers();
        }
        self.finish()
    }

    fn next_timer(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut next: Option<Instant> = self.powerdown_retry;
        if self.pending_balloon_kib.is_some() {
            let at = now + Duration::from_millis(200);
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        if let Some(d) = &self.destroying {
            let at = d.since
                + if d.graceful {
                    GRACEFUL_LIMIT
                } else {
                    KILL_AFTER
                };
            if !d.killed {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next.map(|t| t.saturating_duration_since(now))
    }

    fn run_timers(&mut self) {
        self.record_balloon();
        let now = Instant::now();
        if let Some(at) = self.powerdown_retry {
            if now >= at {
                self.powerdown_retry = None;
                if !self.guest_shutdown && self.destroying.is_none() {
                    self.press_power_button();
                }
            }
        }
        let mut graceful_failed = false;
        if let Some(d) = &mut self.destroying {
            if !d.killed && !d.graceful && now >= d.since + KILL_AFTER {
                d.killed = true;
                send_signal(self.qemu.pid, libc::SIGKILL);
            } else if !d.killed && d.graceful && now >= d.since + GRACEFUL_LIMIT {
                graceful_failed = true;
            }
        }
        if graceful_failed {
            self.destroying = None;
            let err = Error::new(
                ErrorKind::OperationFailed,
                format!(
                    "failed to terminate process {} with SIGTERM: Device or resource busy",
                    self.qemu.pid
                ),
            );
            for w in std::mem::take(&mut self.destroy_waiters) {
                reply(w, Reply::from_result(Err(err.clone())));
            }
        }
    }

    fn read_qmp(&mut self) {
        let Some(qmp) = self.qmp.as_mut() else {
            return;
        };
        match qmp.poll_events() {
            Ok(events) => {
                for e in events {
                    self.on_event(e);
                }
            }
            Err(_) => {
                // QEMU closed the monitor: it is exiting; the pidfd tells us when it is gone.
                self.qmp = None;
            }
        }
    }

    fn handle_queued_events(&mut self) {
        let events = match self.qmp.as_mut() {
            Some(q) => q.events(),
            None => return,
        };
        for e in events {
            self.on_event(e);
        }
    }

    fn notify_qmp(&mut self, e: &QmpEvent) {
        let (seconds, microseconds) = e.timestamp.unwrap_or((0, 0));
        self.notify(&Notice::Qmp {
            event: e.name.clone(),
            data: e.data.clone(),
            seconds,
            microseconds,
        });
    }

    fn on_event(&mut self, e: QmpEvent) {
        self.notify_qmp(&e);
        match e.name.as_str() {
            "SHUTDOWN" => {
                let by_guest = e.data.get("guest").and_then(Value::as_bool) == Some(true);
                let qemu_reason = e.data.get("reason").and_then(Value::as_str).unwrap_or("");
                // With -no-reboot (on_reboot=destroy) QEMU turns a reset, the guest's or
                // `virsh reset`'s, into a shutdown; anything else the host asked for (our own
                // SIGTERM) is not the guest going away.
                let reset = matches!(qemu_reason, "guest-reset" | "host-qmp-system-reset");
                if !by_guest && !reset {
                    return;
                }
                self.powerdown_retry = None;
                if std::mem::take(&mut self.fake_reboot) {
                    self.restart_guest();
                    return;
                }
                let action = if reset {
                    self.def.on_reboot.clone()
                } else {
                    self.def.on_poweroff.clone()
                };
                self.guest_shutdown = true;
                self.set_state(st::SHUTDOWN, reason::SHUTDOWN_USER);
                self.notify_lifecycle(ev::SHUTDOWN, ev::SHUTDOWN_GUEST);
                match action.as_str() {
                    "restart" | "rename-restart" => {
                        self.guest_shutdown = false;
                        self.restart_guest();
                    }
                    "preserve" => self.set_state(st::SHUTOFF, reason::SHUTOFF_SHUTDOWN),
                    _ => {
                        // destroy: end QEMU; the pidfd then finishes the job.
                        send_signal(self.qemu.pid, libc::SIGTERM);
                    }
                }
            }
            // Events can arrive in one batch with ones that already changed the state (a
            // reboot's STOP after the SHUTDOWN that restarted the guest), so ask QEMU what is
            // true now rather than trusting the order.
            "STOP" | "RESUME" => self.sync_run_state(),
            "GUEST_PANICKED" => {
                self.set_state(st::CRASHED, reason::CRASHED_PANICKED);
                self.notify_lifecycle(ev::CRASHED, 0);
                match self.def.on_crash.as_str() {
                    "restart" | "rename-restart" => self.restart_guest(),
                    "preserve" => {}
                    _ => send_signal(self.qemu.pid, libc::SIGTERM),
                }
            }
            "VSERPORT_CHANGE" => self.agent.on_vserport_change(&e.data),
            "BALLOON_CHANGE" => {
                if let Some(actual) = e.data.get("actual").and_then(Value::as_u64) {
                    self.pending_balloon_kib = Some(actual / 1024);
                    self.record_balloon();
                }
            }
            _ => {}
        }
    }

    /// Write the balloon's size into the live definition. The CLI changes that file too (device
    /// hotplug, metadata), under the domain's lock: so take the lock without waiting, re-read
    /// the file, change it, write it; if a command holds the lock, try again shortly.
    fn record_balloon(&mut self) {
        let Some(kib) = self.pending_balloon_kib else {
            return;
        };
        let Ok(_lock) =
            crate::state::ObjectLock::acquire(&self.rt.run, &self.rt.name, Duration::ZERO)
        else {
            return;
        };
        let path = self.rt.live_xml_path();
        if let Ok(xml) = std::fs::read_to_string(&path) {
            if let Ok(def) = DomainDef::parse_with(&xml, &crate::driver::live_parse_options()) {
                self.def = def;
            }
        }
        self.def.current_memory_kib = kib;
        if let Err(e) = self.save_live_xml() {
            eprintln!("{}: {e}", timestamp());
        }
        self.pending_balloon_kib = None;
    }

    /// Make the recorded state match QEMU's `query-status` after an event we did not cause.
    fn sync_run_state(&mut self) {
        if self.guest_shutdown || self.destroying.is_some() {
            return;
        }
        let Some(qmp) = self.qmp.as_mut() else {
            return;
        };
        let Ok(v) = qmp.execute("query-status", Value::Null) else {
            return;
        };
        let running = v.get("running").and_then(Value::as_bool).unwrap_or(false);
        let status = v.get("status").and_then(Value::as_str).unwrap_or("");
        if running && self.status.state == st::PAUSED {
            self.set_state(st::RUNNING, reason::RUNNING_UNPAUSED);
            self.notify_lifecycle(ev::RESUMED, 0);
        } else if !running && self.status.state == st::RUNNING && status != "shutdown" {
            let why = match status {
                "io-error" => reason::PAUSED_IOERROR,
                "watchdog" => reason::PAUSED_WATCHDOG,
                "guest-panicked" => reason::PAUSED_CRASHED,
                _ => reason::UNKNOWN,
            };
            self.set_state(st::PAUSED, why);
            self.notify_lifecycle(ev::SUSPENDED, 0);
        }
    }

    /// A guest reboot (or an on_* action of `restart`): reset and run the vCPUs again.
    fn restart_guest(&mut self) {
        let Some(qmp) = self.qmp.as_mut() else {
            return;
        };
        let _ = qmp.execute("system_reset", Value::Null);
        let _ = qmp.execute("cont", Value::Null);
        // The STOP (QEMU paused the guest at its power-off), RESET and RESUME events this
        // caused are queued by now; they are news for subscribers, not state changes.
        let caused = qmp.events();
        self.booted = Instant::now();
        self.set_state(st::RUNNING, reason::RUNNING_BOOTED);
        for e in &caused {
            self.notify_qmp(e);
        }
    }

    fn press_power_button(&mut self) {
        if let Some(qmp) = self.qmp.as_mut() {
            if let Err(e) = qmp.execute("system_powerdown", Value::Null) {
                eprintln!("{}: system_powerdown: {e}", timestamp());
            }
        }
        // The first seconds after boot can swallow a press: repeat it until then.
        if self.booted.elapsed() < POWERDOWN_RETRY_WINDOW {
            self.powerdown_retry = Some(Instant::now() + POWERDOWN_RETRY_EVERY);
        }
    }

    fn begin_destroy(&mut self, graceful: bool) {
        if self.destroying.is_some() {
            return;
        }
        self.powerdown_retry = None;
        self.destroying = Some(Destroying {
            graceful,
            since: Instant::now(),
            killed: false,
        });
        send_signal(self.qemu.pid, libc::SIGTERM);
    }

    fn accept_clients(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.serve(stream),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("{}: accept: {e}", timestamp());
                    return;
                }
            }
        }
    }

    fn serve(&mut self, stream: UnixStream) {
        if stream.set_nonblocking(false).is_err()
            || stream.set_read_timeout(Some(REQUEST_READ_TIMEOUT)).is_err()
            || stream
                .set_write_timeout(Some(REQUEST_READ_TIMEOUT))
                .is_err()
        {
            return;
        }
        let mut line = String::new();
        if BufReader::new(&stream).read_line(&mut line).is_err() {
            return;
        }
        let req: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                reply(
                    stream,
                    Reply::from_result(Err(Error::internal(format!("bad request: {e}")))),
                );
                return;
            }
        };
        match req {
            Request::Destroy { graceful } => {
                self.destroy_waiters.push(stream);
                self.begin_destroy(graceful);
            }
            Request::Subscribe => {
                let mut s = stream;
                if s.write_all(b"{\"ok\":null}\n").is_ok() {
                    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                    self.subscribers.push(s);
                }
            }
            other => {
                let r = self.handle(other);
                reply(stream, Reply::from_result(r));
            }
        }
    }

    fn handle(&mut self, req: Request) -> Result<Value, Error> {
        if self.destroying.is_some() || self.guest_shutdown {
            return Err(Error::invalid_op("domain is not running"));
        }
        match req {
            Request::Qmp { execute, arguments } => self.qmp_call(&execute, arguments),
            Request::Shutdown { mode } => match mode {
                ShutdownMode::Acpi => {
                    self.qmp_call("system_powerdown", Value::Null)?;
                    if self.booted.elapsed() < POWERDOWN_RETRY_WINDOW {
                        self.powerdown_retry = Some(Instant::now() + POWERDOWN_RETRY_EVERY);
                    }
                    Ok(Value::Null)
                }
                ShutdownMode::Agent => self.agent.call(
                    "guest-shutdown",
                    json!({"mode": "powerdown"}),
                    Duration::from_secs(60),
                ),
            },
            Request::Reboot => {
                self.qmp_call("system_powerdown", Value::Null)?;
                self.fake_reboot = true;
                if self.booted.elapsed() < POWERDOWN_RETRY_WINDOW {
                    self.powerdown_retry = Some(Instant::now() + POWERDOWN_RETRY_EVERY);
                }
                Ok(Value::Null)
            }
            Request::Reset => self.qmp_call("system_reset", Value::Null),
            Request::QmpPassthrough { command } => {
                let Value::Object(command) = command else {
                    return Err(Error::invalid_arg("a QMP command must be a JSON object"));
                };
                self.passthrough_ids += 1;
                let id = format!("libvirt-{}", self.passthrough_ids);
                let qmp = self
                    .qmp
                    .as_mut()
                    .ok_or_else(|| Error::invalid_op("domain is not running"))?;
                let timeout = qmp.timeout();
                qmp.execute_passthrough(command, &id)
                    .map(Value::String)
                    .map_err(|e| qmp_error("the command", timeout, e))
            }
            Request::AttachTap {
                template,
                bridge,
                mac,
                fdname,
            } => {
                let net_err = |e: virtsh_network::TapError| {
                    Error::new(ErrorKind::OperationFailed, e.to_string())
                };
                let tap = virtsh_network::Tap::create(template.as_deref().unwrap_or("vnet%d"))
                    .map_err(net_err)?;
                if let Some(m) = mac.as_deref().and_then(virtsh_xml::domain::parse_mac) {
                    tap.set_host_mac(m).map_err(net_err)?;
                }
                match &bridge {
                    Some(b) => tap.attach_to_bridge(b).map_err(net_err)?,
                    None => tap.up().map_err(net_err)?,
                }
                let qmp = self
                    .qmp
                    .as_mut()
                    .ok_or_else(|| Error::invalid_op("domain is not running"))?;
                let timeout = qmp.timeout();
                qmp.execute_with_fd("getfd", json!({ "fdname": fdname }), tap.fd().as_raw_fd())
                    .map_err(|e| qmp_error("'getfd'", timeout, e))?;
                // QEMU has its copy now; ours closes as `tap` goes out of scope.
                Ok(json!({ "name": tap.name() }))
            }
            Request::Hmp { command } => {
                self.qmp_call("human-monitor-command", json!({ "command-line": command }))
            }
            Request::Agent {
                execute,
                arguments,
                timeout_ms,
            } => self
                .agent
                .call(&execute, arguments, Duration::from_millis(timeout_ms)),
            Request::Suspend => {
                if self.status.state == st::PAUSED {
                    return Ok(Value::Null);
                }
                self.qmp_call("stop", Value::Null)?;
                self.set_state(st::PAUSED, reason::PAUSED_USER);
                self.notify_lifecycle(ev::SUSPENDED, 0);
                Ok(Value::Null)
            }
            Request::Resume => {
                if self.status.state != st::PAUSED {
                    return Err(Error::invalid_op("domain is not paused"));
                }
                self.qmp_call("cont", Value::Null)?;
                self.set_state(st::RUNNING, reason::RUNNING_UNPAUSED);
                self.notify_lifecycle(ev::RESUMED, 0);
                Ok(Value::Null)
            }
            Request::Destroy { .. } | Request::Subscribe => Ok(Value::Null),
        }
    }

    fn qmp_call(&mut self, command: &str, arguments: Value) -> Result<Value, Error> {
        let qmp = self
            .qmp
            .as_mut()
            .ok_or_else(|| Error::invalid_op("domain is not running"))?;
        let timeout = qmp.timeout();
        qmp.execute(command, arguments)
            .map_err(|e| qmp_error(&format!("'{command}'"), timeout, e))
    }

    fn notify_lifecycle(&mut self, event: i32, detail: i32) {
        self.notify(&Notice::Lifecycle { event, detail });
    }

    fn notify(&mut self, n: &Notice) {
        if self.subscribers.is_empty() {
            return;
        }
        let Ok(mut line) = serde_json::to_vec(n) else {
            return;
        };
        line.push(b'\n');
        self.subscribers.retain_mut(|s| s.write_all(&line).is_ok());
    }

    /// The connection URI, for the host resources the guest holds (its network ports).
    pub(super) fn with_uri(mut self, uri: &str) -> Supervisor {
        self.uri = uri.to_string();
        self
    }

    /// QEMU is gone: reap it, record why it ended, clean up, answer the waiters.
    fn finish(mut self) -> i32 {
        if let Some(mut child) = self.child.take() {
            match child.wait() {
                Ok(status) => eprintln!("{}: QEMU ended: {status}", timestamp()),
                Err(e) => eprintln!("{}: waiting for QEMU: {e}", timestamp()),
            }
        } else {
            eprintln!("{}: QEMU ended", timestamp());
        }
        // QEMU is gone (reaped, or not our child after a re-attach): its cgroup goes too.
        if let Some(rel) = self.status.cgroup.take() {
            if let Err(e) = crate::runtime::remove_guest_cgroup(&rel) {
                eprintln!("{}: {e}", timestamp());
            }
        }
        // Events QEMU sent just before exiting (SHUTDOWN) decide the reason.
        if let Some(mut q) = self.qmp.take() {
            if let Ok(evs) = q.poll_events() {
                for e in evs {
                    if e.name == "SHUTDOWN"
                        && e.data.get("guest").and_then(Value::as_bool) == Some(true)
                    {
                        self.guest_shutdown = true;
                    }
                }
            }
        }
        let (why, detail) = if self.destroying.is_some() {
            (reason::SHUTOFF_DESTROYED, ev::STOPPED_DESTROYED)
        } else if self.guest_shutdown {
            (reason::SHUTOFF_SHUTDOWN, ev::STOPPED_SHUTDOWN)
        } else {
            (reason::SHUTOFF_CRASHED, ev::STOPPED_FAILED)
        };
        // The live XML (hotplugged NICs included) names the ports to give back.
        virtsh_network::guests::release_network_ports(&self.uri, &self.rt.live_xml_path());
        let persistent = self.config_path.exists();
        if persistent {
            if let Err(e) = self.rt.write_status(&DomainStatus::shutoff(why)) {
                eprintln!("{}: {e}", timestamp());
            }
            self.rt.remove_live_files();
        } else {
            self.rt.remove_all();
        }
        self.notify_lifecycle(ev::STOPPED, detail);
        for w in std::mem::take(&mut self.destroy_waiters) {
            reply(w, Reply::Ok(json!(null)));
        }
        0
    }
}

/// A QMP failure in libvirt's words; `what` names the command (`'stop'`).
fn qmp_error(what: &str, timeout: Duration, e: crate::qmp::QmpError) -> Error {
    if e.is_timeout() {
        Error::new(
            ErrorKind::OperationTimeout,
            format!(
                "QEMU's monitor did not answer {what} within {}",
                human_duration(timeout)
            ),
        )
    } else if let crate::qmp::QmpError::Command { command, desc, .. } = &e {
        Error::internal(format!(
            "unable to execute QEMU command '{command}': {desc}"
        ))
    } else {
        Error::new(ErrorKind::OperationFailed, e.to_string())
    }
}

fn reply(mut stream: UnixStream, r: Reply) {
    if let Ok(mut line) = serde_json::to_vec(&r) {
        line.push(b'\n');
        let _ = stream.write_all(&line);
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn send_signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions. The pid is QEMU's, checked against its
    // start time when it was recorded; while we hold its pidfd (or are its parent) the pid
    // cannot be reused.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn human_duration(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
