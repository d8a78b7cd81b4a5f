//! The supervisor's first half: start QEMU for the live definition (or re-attach to a running
//! one) and record the state, before the CLI is told `ok`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use virtsh_api::flags::{domain_state as st, state_reason as reason};
use virtsh_api::{Error, ErrorKind};
use virtsh_xml::domain::{DomainDef, Node};

use super::event_loop::Supervisor;
use super::{qmp_timeout, Args};
use crate::caps::{CapsCache, ProbeOptions};
use crate::cmdline::{self, Accel, CmdlineEnv};
use crate::monitor_fd::{self, create_private_dir, MonitorSocket};
use crate::runtime::{AliveLock, DomainRuntime, DomainStatus, ProcessIdentity};
use crate::state::StatePaths;

/// `2026-11-28 10:00:00.000+0000`, the stamp libvirt puts on QEMU log lines.
pub fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.3f+0000")
        .to_string()
}

/// The host's QEMU for x86 guests: `<emulator>` when the definition names one.
pub fn default_emulator() -> PathBuf {
    let name = "qemu-system-x86_64";
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|c| c.is_file())
        })
        .unwrap_or_else(|| Path::new("/usr/bin").join(name))
}

/// The QEMU binary that runs `def` (its `<emulator>`, else the host's) and the accelerator its
/// `<domain type>` asks for.
pub fn emulator_and_accel(def: &DomainDef) -> Result<(PathBuf, Accel), Error> {
    let emulator = def
        .devices
        .emulator
        .clone()
        .map(PathBuf::from)
        .unwrap_or_else(default_emulator);
    let accel = match def.virt_type.as_str() {
        "kvm" => Accel::Kvm,
        "qemu" => Accel::Tcg,
        other => {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "Emulator '{}' does not support virt type '{other}'",
                    emulator.display()
                ),
            ))
        }
    };
    Ok((emulator, accel))
}

/// The capabilities cache of a connection.
pub fn caps_cache(paths: &StatePaths) -> CapsCache {
    CapsCache::new(
        paths.cache.join("capabilities"),
        ProbeOptions::new(paths.run.join(".probe")),
    )
}

pub(super) fn boot(args: &Args, paths: &StatePaths) -> Result<Supervisor, Error> {
    let rt = DomainRuntime::new(&paths.run, &args.name);
    let alive = AliveLock::try_acquire(&rt.alive_path())
        .map_err(|e| failed(format!("{}: {e}", rt.alive_path().display())))?
        .ok_or_else(|| {
            Error::invalid_op(format!("domain '{}' already has a supervisor", args.name))
        })?;
    create_private_dir(&rt.socket_dir()).map_err(|e| failed(e.to_string()))?;
    let listener = bind_request_socket(&rt)?;
    let config_path = paths.config.join(format!("{}.xml", args.name));
    if args.attach {
        return attach(args, rt, config_path, listener, alive);
    }

    let xml = std::fs::read_to_string(rt.live_xml_path())
        .map_err(|e| failed(format!("{}: {e}", rt.live_xml_path().display())))?;
    let mut def = DomainDef::parse_with(&xml, &crate::driver::live_parse_options())
        .map_err(|e| e.api_error("domain_definition", &xml))?;
    let id = args.id;
    let result = start_qemu(args, paths, &rt, &mut def);
    let (child, qmp, cgroup) = match result {
        Ok(x) => x,
        Err(e) => {
            rt.remove_live_files();
            return Err(e);
        }
    };
    let Some(qemu) = ProcessIdentity::of(child.id() as i32) else {
        if let Some(cg) = &cgroup {
            let _ = cg.remove();
        }
        return Err(failed("QEMU exited during startup".into()));
    };
    let status = DomainStatus {
        state: if args.paused { st::PAUSED } else { st::RUNNING },
        reason: if args.paused {
            reason::PAUSED_USER
        } else {
            reason::RUNNING_BOOTED
        },
        id,
        process: Some(qemu),
        started: now_secs(),
        autodestroy: args.autodestroy,
        cgroup: cgroup.as_ref().map(|c| c.path().to_string()),
    };
    let pidfd = pidfd_open(qemu.pid).map_err(|e| failed(format!("pidfd_open: {e}")))?;
    let sup = Supervisor::new(
        rt,
        config_path,
        def,
        qmp,
        Some(child),
        qemu,
        pidfd,
        listener,
        status,
        alive,
    )?;
    Ok(sup.with_uri(&args.uri))
}

fn start_qemu(
    args: &Args,
    paths: &StatePaths,
    rt: &DomainRuntime,
    def: &mut DomainDef,
) -> Result<
    (
        std::process::Child,
        crate::qmp::QmpClient,
        Option<virtsh_cgroup::Cgroup>,
    ),
    Error,
> {
    let (emulator, accel) = emulator_and_accel(def)?;
    let caps = caps_cache(paths)
        .get(&emulator)
        .map_err(|e| Error::internal(format!("cannot read QEMU's capabilities: {e}")))?
        .caps;
    let taps = open_taps(def)?;
    let monitor = MonitorSocket::bind(&rt.socket_dir()).map_err(|e| failed(e.to_string()))?;
    let mut cmd = Command::new(&emulator);
    let monitor_fd = monitor
        .inherit(&mut cmd)
        .map_err(|e| failed(e.to_string()))?;
    let log_path = paths.log.join(format!("{}.log", args.name));
    let env = CmdlineEnv {
        monitor_fd,
        tap_fds: taps
            .iter()
            .map(|t| t.as_ref().map(|t| t.fd().as_raw_fd()))
            .collect(),
        runtime_dir: rt.socket_dir(),
        log_path: log_path.clone(),
        accel,
        sandbox: true,
    };
    cmdline::assign_channel_paths(def, &rt.socket_dir());
    cmdline::assign_graphics_sockets(def, &rt.socket_dir());
    crate::cmdline::prepare_nvram(def, &paths.lib.join("nvram")).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("unsupported configuration: ") {
            Some(rest) => Error::new(ErrorKind::ConfigUnsupported, rest),
            None => Error::new(ErrorKind::OperationFailed, msg),
        }
    })?;
    let argv = cmdline::build(def, &caps, &env).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("unsupported configuration: ") {
            Some(rest) => Error::new(ErrorKind::ConfigUnsupported, rest),
            None => Error::new(ErrorKind::InternalError, msg),
        }
    })?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| failed(format!("{}: {e}", log_path.display())))?;
    let mut header = format!(
        "{}: starting up virtsh {}\nLC_ALL=C {}",
        timestamp(),
        env!("CARGO_PKG_VERSION"),
        emulator.display()
    );
    for a in &argv {
        header.push_str(" \\\n");
        header.push_str(&shell_quote(a));
    }
    header.push('\n');
    let _ = (&log).write_all(header.as_bytes());
    let log_err = log
        .try_clone()
        .map_err(|e| failed(format!("{}: {e}", log_path.display())))?;
    cmd.args(&argv)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    inherit_taps(&mut cmd, &taps);
    let (child, mut qmp) = monitor.spawn(&mut cmd, qmp_timeout()).map_err(|e| {
        Error::internal(format!(
            "QEMU did not start: {e}; see {}",
            log_path.display()
        ))
    })?;
    // QEMU holds the taps now; when it ends, the kernel removes them.
    drop(taps);
    // Its vCPUs have not run yet: from here on, all of QEMU's CPU time is in its cgroup.
    let cgroup = match join_cgroup(&args.name, args.id, child.id() as i32, def) {
        Ok(cg) => cg,
        Err(e) => {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    record_ptys(&mut qmp, def);
    if !args.paused {
        if let Err(e) = qmp.execute("cont", Value::Null) {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
            if let Some(cg) = &cgroup {
                let _ = cg.remove();
            }
            return Err(Error::internal(format!("cannot start the vCPUs: {e}")));
        }
    }
    Ok((child, qmp, cgroup))
}

/// Make QEMU's own cgroup, `virtsh/qemu/NAME-ID` (the name escaped as libvirt's machine names
/// are), with the definition's `<memtune>` and `<blkiotune>`, and move QEMU into it. The
/// groups of guests whose supervisor was killed along with QEMU (nobody removed them) are
/// swept first. Without a group (not root, a read-only or missing cgroup file system), a guest
/// that asks for no limits runs as it is, its statistics from /proc, and the reason goes to
/// the domain's log; one that asks for limits does not start.
fn join_cgroup(
    name: &str,
    id: i32,
    pid: i32,
    def: &DomainDef,
) -> Result<Option<virtsh_cgroup::Cgroup>, Error> {
    let leaf = format!("{}-{id}", virtsh_cgroup::escape_name(name));
    let made = virtsh_cgroup::Layout::detect().and_then(|layout| {
        virtsh_cgroup::sweep_empty(&layout, &["qemu"]);
        virtsh_cgroup::Cgroup::create_configured(
            &layout,
            &["qemu", &leaf],
            &[virtsh_cgroup::Extra::Blkio],
            pid,
            |cg| virtsh_state::domains::apply_tuning(cg, def),
        )
    });
    let memtune = virtsh_xml::domain::MemTune::from_node(def.memtune.as_ref())
        != virtsh_xml::domain::MemTune::default();
    let blkiotune = !def.blkiotune.is_empty();
    match made {
        Ok(cg) => Ok(Some(cg)),
        Err(e) if memtune || blkiotune => Err(Error::new(
            ErrorKind::OperationFailed,
            format!("cannot apply the memory and block I/O tuning: {e}"),
        )),
        Err(e) => {
            eprintln!(
                "{}: warning: QEMU runs without a cgroup of its own: {e}",
                timestamp()
            );
            Ok(None)
        }
    }
}

/// Open the tap device of each `<interface>` that needs one (`bridge`, `ethernet`), in the
/// definition's order, and record the device names in the live definition as libvirt does
/// (`<target dev='vnet0'/>`). `user` NICs need none.
fn open_taps(def: &mut DomainDef) -> Result<Vec<Option<virtsh_network::Tap>>, Error> {
    let net_err =
        |e: virtsh_network::TapError| Error::new(ErrorKind::OperationFailed, e.to_string());
    let mut taps = Vec::new();
    for iface in def.devices.interfaces.iter_mut() {
        let tap = match iface.if_type.as_str() {
            "bridge" | "ethernet" | "network" => {
                let template = iface.target_dev.clone().unwrap_or_else(|| "vnet%d".into());
                let tap = virtsh_network::Tap::create(&template).map_err(net_err)?;
                if let Some(mac) = iface.mac.as_deref().and_then(virtsh_xml::domain::parse_mac) {
                    tap.set_host_mac(mac).map_err(net_err)?;
                }
                match (iface.if_type.as_str(), iface.host_bridge()) {
                    ("ethernet", _) => tap.up().map_err(net_err)?,
                    (_, Some(bridge)) => tap.attach_to_bridge(bridge).map_err(net_err)?,
                    // The CLI resolves a network to its bridge before the supervisor runs.
                    (t, None) => {
                        return Err(Error::new(
                            ErrorKind::InternalError,
                            format!("interface of type '{t}' has no bridge to join"),
                        ))
                    }
                }
                // The guest's inbound is the tap's egress (libvirt's "swapped").
                if let Some(bw) = iface
                    .bandwidth()
                    .map_err(|e| Error::new(ErrorKind::XmlError, e.to_string()))?
                {
                    virtsh_network::bandwidth::set(tap.name(), &bw, true)
                        .map_err(virtsh_api::Error::from)?;
                }
                iface.target_dev = Some(tap.name().to_string());
                Some(tap)
            }
            _ => None,
        };
        taps.push(tap);
    }
    Ok(taps)
}

/// Let QEMU (only) inherit the tap descriptors.
fn inherit_taps(cmd: &mut Command, taps: &[Option<virtsh_network::Tap>]) {
    let fds: Vec<i32> = taps.iter().flatten().map(|t| t.fd().as_raw_fd()).collect();
    crate::monitor_fd::inherit_fds(cmd, fds);
}

/// Fill in the `<source path>` of pty serials and consoles from `query-chardev`, so
/// `dumpxml`, `ttyconsole` and `console` find the pty QEMU opened.
fn record_ptys(qmp: &mut crate::qmp::QmpClient, def: &mut DomainDef) {
    let Ok(list) = qmp.execute("query-chardev", Value::Null) else {
        return;
    };
    let ptys: Vec<(String, String)> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let label = c.get("label")?.as_str()?;
            let path = c.get("filename")?.as_str()?.strip_prefix("pty:")?;
            Some((label.to_string(), path.to_string()))
        })
        .collect();
    let pty_of = |alias: &str| {
        ptys.iter()
            .find(|(l, _)| l == &format!("char{alias}"))
            .map(|(_, p)| p.clone())
    };
    for (i, chr) in def.devices.serials.iter_mut().enumerate() {
        if chr.chr_type == "pty" {
            if let Some(p) = pty_of(&format!("serial{i}")) {
                chr.sources = vec![Node::with_attrs("source", &[("path", &p)])];
            }
        }
    }
    let first_serial = def
        .devices
        .serials
        .first()
        .and_then(|c| c.source_path().map(str::to_string));
    for chr in def.devices.consoles.iter_mut() {
        if chr.chr_type == "pty" && chr.target_type.as_deref() != Some("virtio") {
            if let Some(p) = &first_serial {
                chr.sources = vec![Node::with_attrs("source", &[("path", p)])];
            }
        }
    }
}

fn attach(
    args: &Args,
    rt: DomainRuntime,
    config_path: PathBuf,
    listener: UnixListener,
    alive: AliveLock,
) -> Result<Supervisor, Error> {
    let status = rt
        .read_status()
        .map_err(|e| failed(e.to_string()))?
        .ok_or_else(|| failed("no status to re-attach to".into()))?;
    let qemu = status
        .process
        .filter(ProcessIdentity::is_alive)
        .ok_or_else(|| failed("the recorded QEMU is not running".into()))?;
    let xml = std::fs::read_to_string(rt.live_xml_path())
        .map_err(|e| failed(format!("{}: {e}", rt.live_xml_path().display())))?;
    let def = DomainDef::parse_with(&xml, &crate::driver::live_parse_options())
        .map_err(|e| e.api_error("domain_definition", &xml))?;
    let pidfd = pidfd_open(qemu.pid).map_err(|e| failed(format!("pidfd_open: {e}")))?;
    let qmp = monitor_fd::reconnect(&rt.socket_dir(), qmp_timeout())
        .map_err(|e| failed(format!("cannot reconnect to QEMU's monitor: {e}")))?;
    eprintln!(
        "{}: supervisor re-attached to QEMU pid {} of domain '{}'",
        timestamp(),
        qemu.pid,
        args.name
    );
    Supervisor::new(
        rt,
        config_path,
        def,
        qmp,
        None,
        qemu,
        pidfd,
        listener,
        status,
        alive,
    )
    .map(|s| s.with_uri(&args.uri))
}

fn bind_request_socket(rt: &DomainRuntime) -> Result<UnixListener, Error> {
    let path = rt.supervisor_socket();
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    l.set_nonblocking(true)
        .map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok(l)
}

pub(crate) fn pidfd_open(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd owned by nobody else (pidfds are close-on-exec).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn failed(detail: String) -> Error {
    Error::new(ErrorKind::OperationFailed, detail)
}

/// Quote an argument for the log the way a shell would read it back.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=,./:@+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
