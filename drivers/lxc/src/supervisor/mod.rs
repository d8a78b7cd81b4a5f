//! The per-container supervisor: the `virtsh` binary re-executed as `virtsh __lxc-supervise
//! ...`, one per running container, the parent of its init, as libvirt's `libvirt_lxc`
//! controller is (ARCHITECTURE.md, "The daemonless model").
//!
//! It makes the container (console ptys, veth pairs, cgroup, then [`crate::container`]),
//! records it as running, reports to the CLI that started it, and then relays the console
//! until the init ends. Then it cleans up (cgroup, network ports, veths) and records the end.
//! For `lxc:///session` (an unprivileged user) see `session`: a user namespace always, no
//! veths, and a cgroup only in the user's delegated subtree.
//!
//! The CLI acts on a running container without it: signals go to the init (recorded with its
//! start time, so a reused pid is never hit), suspend and resume are the cgroup's freezer. So
//! the supervisor needs no request socket, and its only job after the start is to notice the
//! end, which the init's pidfd tells it.

mod console;
mod session;
mod veth;

pub(crate) use session::{is_session, open_cgroup};

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{SystemTime, UNIX_EPOCH};

use virtsh_api::flags::{domain_state, state_reason};
use virtsh_api::{Error, ErrorKind, Result};
use virtsh_cgroup::{Cgroup, Extra, Layout};
use virtsh_state::runtime::{AliveLock, DomainRuntime, DomainStatus, ProcessIdentity};
use virtsh_xml::domain::{DomainDef, FormatOptions, Node};

use crate::container::{self, Running};

/// The first argument that selects this hidden mode of the `virtsh` binary.
pub const SUPERVISE_ARG: &str = "__lxc-supervise";

/// What the supervisor was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub uri: String,
    pub name: String,
    /// The domain id `start` reserved for this run.
    pub id: i32,
}

impl Args {
    pub fn to_argv(&self) -> Vec<String> {
        vec![
            "--uri".into(),
            self.uri.clone(),
            "--name".into(),
            self.name.clone(),
            "--id".into(),
            self.id.to_string(),
        ]
    }

    pub fn parse(argv: &[String]) -> std::result::Result<Args, String> {
        let (mut uri, mut name, mut id) = (None, None, None);
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--uri" => uri = it.next().cloned(),
                "--name" => name = it.next().cloned(),
                "--id" => id = it.next().and_then(|v| v.parse().ok()),
                other => return Err(format!("unknown supervisor argument '{other}'")),
            }
        }
        Ok(Args {
            uri: uri.ok_or("--uri is required")?,
            name: name.ok_or("--name is required")?,
            id: id.ok_or("--id needs a number")?,
        })
    }
}

/// The cgroup of a container: `virtsh/lxc/NAME-ID-ROOT`. The id keeps a restarted container
/// out of the group an old run may still be leaving; ROOT (a hash of the connection's run
/// directory) keeps two state roots (`lxc:///system` and an embed root, or two embed roots)
/// with a container of the same name and id apart.
pub fn cgroup_parts(name: &str, id: i32, run: &std::path::Path) -> Vec<String> {
    // FNV-1a: a stable, dependency-free hash; it only needs to tell a few roots apart.
    let hash = run
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    vec![
        "lxc".to_string(),
        virtsh_cgroup::escape_name(&format!("{name}-{id}-{:08x}", hash as u32)),
    ]
}

/// The supervisor's `main`: `argv` are the arguments after [`SUPERVISE_ARG`]; the exit status.
pub fn main(argv: &[String]) -> i32 {
    let (mut ready, args, paths) =
        match virtsh_state::launch::start_supervisor(argv, Args::parse, |a| &a.uri) {
            Ok(x) => x,
            Err(code) => return code,
        };
    let rt = DomainRuntime::new(&paths.run, &args.name);
    let _alive = match AliveLock::try_acquire(&rt.alive_path()) {
        Ok(Some(l)) => l,
        Ok(None) => {
            ready.fail(&Error::invalid_op("domain is already running"));
            return 1;
        }
        Err(e) => {
            ready.fail(&Error::internal(format!("supervisor: {e}")));
            return 1;
        }
    };
    let mut args = args;
    let mut c = match Container::start(&args, &rt) {
        Ok(c) => {
            ready.ok();
            c
        }
        Err(e) => {
            eprintln!("supervisor of '{}': {e}", args.name);
            ready.fail(&e);
            virtsh_network::guests::release_network_ports(&args.uri, &rt.live_xml_path());
            let _ = std::fs::remove_file(rt.live_xml_path());
            return 1;
        }
    };
    loop {
        let reason = match c.relay_until_end() {
            End::Reboot => {
                // libvirt's virLXCProcessReboot: the container stops and starts again from
                // its live definition, with a new id; its network ports stay allocated.
                c.clear();
                match restart(&mut args, &rt) {
                    Ok(next) => {
                        c = next;
                        continue;
                    }
                    Err(e) => {
                        eprintln!("supervisor of '{}': reboot failed: {e}", args.name);
                        virtsh_network::guests::release_network_ports(
                            &args.uri,
                            &rt.live_xml_path(),
                        );
                        record_end(&args, &rt, state_reason::SHUTOFF_FAILED);
                        return 1;
                    }
                }
            }
            End::Shutoff(reason) => reason,
        };
        c.finish(reason);
        return 0;
    }
}

/// The second and later runs of a rebooted container.
fn restart(args: &mut Args, rt: &DomainRuntime) -> Result<Container> {
    args.id = virtsh_state::runtime::next_id(&rt.run)
        .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
    Container::start(args, rt)
}

/// How the init ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// It stopped: the shutoff reason that means.
    Shutoff(i32),
    /// It rebooted: an init that calls reboot(2) in its pid namespace is killed with SIGHUP
    /// (as libvirt_lxc tells), unless the definition says `<on_reboot>destroy`.
    Reboot,
}

fn record_end(args: &Args, rt: &DomainRuntime, reason: i32) {
    match crate::driver::registry_of(&args.uri) {
        Ok(reg) => reg.record_end(rt, &DomainStatus::shutoff(reason)),
        Err(e) => eprintln!("supervisor of '{}': {e}", args.name),
    }
}

/// A running container and what the supervisor holds for it.
struct Container {
    args: Args,
    rt: DomainRuntime,
    init: Running,
    /// The container's side of the console, and the user's.
    inner: OwnedFd,
    outer: console::PtyPair,
    /// `None` for an `lxc:///session` container where the user has no cgroup to give it.
    cgroup: Option<Cgroup>,
    veths: Vec<veth::Veth>,
    /// `<on_reboot>`: whether a reboot starts the container again.
    restart_on_reboot: bool,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Container {
    fn start(args: &Args, rt: &DomainRuntime) -> Result<Container> {
        let xml = std::fs::read_to_string(rt.live_xml_path()).map_err(|e| {
            Error::new(
                ErrorKind::OperationFailed,
                format!("{}: {e}", rt.live_xml_path().display()),
            )
        })?;
        let mut def = DomainDef::parse_with(&xml, &crate::driver::live_parse_options())
            .map_err(|e| e.api_error("domain_definition", &xml))?;
        let inner = console::open_pair(false)?;
        let outer = console::open_pair(true)?;
        let session = is_session(&args.uri).then(crate::spec::SessionUser::current);
        if let (Some(_), Some(nic)) = (session, def.devices.interfaces.first()) {
            // Before any veth: an unprivileged user cannot make one.
            return Err(crate::spec::session_interface_error(&nic.if_type));
        }
        let veths = veth::create_all(&mut def.devices.interfaces)?;
        let made = (|| {
            let spec = crate::spec::container_spec(
                &def,
                veth::container_interfaces(&veths),
                Some(inner.slave_path.clone()),
                session,
            )?;
            let pending = container::spawn(&spec).map_err(container_error)?;
            veth::move_into(&veths, pending.pid())?;
            let cgroup = if session.is_some() {
                session::session_cgroup(&def, args, &rt.run, pending.pid())?
            } else {
                let cg = join_cgroup(&def, &spec.devices, args, &rt.run, pending.pid())?;
                let path = cg.path().to_string();
                Some((cg, path))
            };
            match pending.release() {
                Ok(init) => Ok((init, cgroup)),
                Err(e) => {
                    // `release` has reaped the container process: its group is empty, and
                    // nobody else would remove it.
                    if let Some(Err(rm)) = cgroup.as_ref().map(|(cg, _)| cg.remove()) {
                        eprintln!("supervisor of '{}': {rm}", args.name);
                    }
                    Err(container_error(e))
                }
            }
        })();
        let (init, cgroup) = match made {
            Ok(x) => x,
            Err(e) => {
                veth::delete_all(&veths);
                return Err(e);
            }
        };
        // The live definition now says where things are: the user's console pty and the host
        // ends of the veths (`<target dev>`).
        if let Some(c) = def.devices.consoles.first_mut() {
            c.sources = vec![Node::with_attrs(
                "source",
                &[("path", &outer.slave_path.to_string_lossy())],
            )];
        }
        let live = def.to_xml(&FormatOptions {
            id: Some(args.id),
            secure: true,
            ..FormatOptions::default()
        });
        virtsh_state::atomic::write(&rt.live_xml_path(), live.as_bytes())
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
        let status = DomainStatus {
            state: domain_state::RUNNING,
            reason: state_reason::RUNNING_BOOTED,
            id: args.id,
            process: ProcessIdentity::of(init.pid()),
            started: now(),
            autodestroy: None,
            cgroup: cgroup.as_ref().map(|(_, path)| path.clone()),
        };
        rt.write_status(&status)
            .map_err(|e| Error::new(ErrorKind::OperationFailed, e.to_string()))?;
        Ok(Container {
            args: args.clone(),
            rt: rt.clone(),
            init,
            inner: inner.master,
            outer,
            cgroup: cgroup.map(|(cg, _)| cg),
            veths,
            restart_on_reboot: def.on_reboot != "destroy",
        })
    }

    /// Relay the console until the init ends; how it ended.
    fn relay_until_end(&mut self) -> End {
        let mut inner_open = true;
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: self.init.pidfd().as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: if inner_open {
                        self.inner.as_raw_fd()
                    } else {
                        -1
                    },
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.outer.master.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: three valid pollfd entries (a negative fd is ignored by poll).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) };
            if n < 0 {
                continue;
            }
            if fds[1].revents != 0 {
                inner_open = console::pump(self.inner.as_raw_fd(), self.outer.master.as_raw_fd());
            }
            if fds[2].revents != 0 && inner_open {
                console::pump(self.outer.master.as_raw_fd(), self.inner.as_raw_fd());
            }
            if fds[0].revents != 0 {
                if let Ok(Some(status)) = self.init.try_wait() {
                    use std::os::unix::process::ExitStatusExt;
                    return match status.signal() {
                        Some(libc::SIGKILL) => End::Shutoff(state_reason::SHUTOFF_DESTROYED),
                        Some(libc::SIGHUP) if self.restart_on_reboot => End::Reboot,
                        _ => End::Shutoff(state_reason::SHUTOFF_SHUTDOWN),
                    };
                }
            }
        }
    }

    /// The init has ended: nothing of the container may stay behind.
    fn finish(self, reason: i32) {
        self.clear();
        virtsh_network::guests::release_network_ports(&self.args.uri, &self.rt.live_xml_path());
        record_end(&self.args, &self.rt, reason);
    }

    /// Remove what this run made: the cgroup and the veths. Whatever the init left in the
    /// group dies with its pid namespace; a frozen group must be thawed for that.
    fn clear(&self) {
        if let Some(cg) = &self.cgroup {
            let _ = cg.thaw();
            if let Err(e) = cg.remove() {
                eprintln!("supervisor of '{}': {e}", self.args.name);
            }
        }
        veth::delete_all(&self.veths);
    }
}

fn container_error(e: container::ContainerError) -> Error {
    Error::new(ErrorKind::InternalError, e.to_string())
}

/// Put the container's init (still waiting to run) into a new cgroup with its limits: the
/// memory of the definition, `<memtune>`, `<cputune>` shares and quota, and libvirt's device
/// allow-list with the container's host `devices` on it (before the init's setup, which
/// makes their nodes). libvirt's LXC driver refuses to run without cgroups; so does this one,
/// except in `lxc:///session` (see `session`).
fn join_cgroup(
    def: &DomainDef,
    devices: &[container::DeviceNode],
    args: &Args,
    run: &std::path::Path,
    pid: i32,
) -> Result<Cgroup> {
    let layout = Layout::detect().map_err(cgroup_error)?;
    let parts = cgroup_parts(&args.name, args.id, run);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    Cgroup::create_configured(&layout, &parts, &Extra::ALL, pid, |cg| {
        crate::driver::tune::apply_limits(cg, def, devices)
    })
    .map_err(cgroup_error)
}

pub(crate) fn cgroup_error(e: virtsh_cgroup::CgroupError) -> Error {
    Error::new(ErrorKind::OperationFailed, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip() {
        let a = Args {
            uri: "lxc:///embed?root=/x".into(),
            name: "c,1".into(),
            id: 3,
        };
        assert_eq!(Args::parse(&a.to_argv()).unwrap(), a);
        assert!(Args::parse(&["--name".into(), "x".into()]).is_err());
    }
}
