//! The per-guest supervisor: the `virtsh` binary re-executed as `virtsh __supervise ...`, one per
//! running guest, as podman has conmon (ARCHITECTURE.md, "The daemonless model").
//!
//! - [`virtsh_state::launch`] is the CLI's half: it spawns the supervisor detached (own
//!   session, reparented to init) and waits on a pipe until the guest runs or the start
//!   failed, with the reason.
//! - [`boot`] is the supervisor's first half: start QEMU with its monitor on a pre-opened
//!   socket (or re-attach to a QEMU whose supervisor was killed), and record the state.
//! - [`event_loop`] is the rest of its life: one thread polls QEMU's pidfd, the QMP socket, the
//!   request socket and timers; it applies on_poweroff/on_reboot/on_crash, answers requests,
//!   streams events to subscribers, and records the final state when QEMU ends.
//! - [`protocol`] and [`client`]: the request socket's JSON lines and the CLI's client.
//!
//! Single-threaded on purpose: it keeps the supervisor's resident memory small and its state
//! free of locks. A request that needs QMP is bounded by the QMP timeout.

pub mod agent;
pub mod boot;
pub mod client;
mod event_loop;
pub mod protocol;

use std::time::Duration;

use virtsh_api::Error;

use crate::runtime::ProcessIdentity;

/// The first argument that selects the hidden supervisor mode of the `virtsh` binary.
pub const SUPERVISE_ARG: &str = "__supervise";

/// Overrides the bound of every QMP call, in milliseconds (tests use a short one).
pub const QMP_TIMEOUT_ENV: &str = "VIRTSH_QMP_TIMEOUT_MS";

/// The bound of every QMP call: 10 s unless `VIRTSH_QMP_TIMEOUT_MS` says otherwise.
pub fn qmp_timeout() -> Duration {
    std::env::var(QMP_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(10))
}

/// What the supervisor was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub uri: String,
    pub name: String,
    /// The domain id `start` reserved for this run (unused with `attach`).
    pub id: i32,
    /// Start with the vCPUs stopped (`start --paused`).
    pub paused: bool,
    /// Re-attach to the QEMU recorded in the status file instead of starting one.
    pub attach: bool,
    /// `--autodestroy`: end the guest when this process ends.
    pub autodestroy: Option<ProcessIdentity>,
}

impl Args {
    /// The arguments after [`SUPERVISE_ARG`], as [`launch`] writes them.
    pub fn to_argv(&self) -> Vec<String> {
        let mut v = vec![
            "--uri".to_string(),
            self.uri.clone(),
            "--name".to_string(),
            self.name.clone(),
            "--id".to_string(),
            self.id.to_string(),
        ];
        if self.paused {
            v.push("--paused".into());
        }
        if self.attach {
            v.push("--attach".into());
        }
        if let Some(p) = self.autodestroy {
            v.push("--autodestroy".into());
            v.push(format!("{}:{}", p.pid, p.start_ticks));
        }
        v
    }

    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut uri = None;
        let mut name = None;
        let mut a = Args {
            uri: String::new(),
            name: String::new(),
            id: -1,
            paused: false,
            attach: false,
            autodestroy: None,
        };
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--uri" => uri = it.next().cloned(),
                "--name" => name = it.next().cloned(),
                "--id" => {
                    a.id = it
                        .next()
                        .and_then(|v| v.parse().ok())
                        .ok_or("--id needs a number")?
                }
                "--paused" => a.paused = true,
                "--attach" => a.attach = true,
                "--autodestroy" => {
                    let v = it.next().ok_or("--autodestroy needs PID:TICKS")?;
                    let (pid, ticks) = v.split_once(':').ok_or("--autodestroy needs PID:TICKS")?;
                    a.autodestroy = Some(ProcessIdentity {
                        pid: pid.parse().map_err(|_| "bad --autodestroy pid")?,
                        start_ticks: ticks.parse().map_err(|_| "bad --autodestroy ticks")?,
                    });
                }
                other => return Err(format!("unknown supervisor argument '{other}'")),
            }
        }
        a.uri = uri.ok_or("--uri is required")?;
        a.name = name.ok_or("--name is required")?;
        Ok(a)
    }
}

/// Start the supervisor of `args.name` from the CLI and wait up to `timeout` until the guest
/// runs (see [`virtsh_state::launch::launch`]).
pub fn launch(
    exe: &std::path::Path,
    args: &Args,
    log: &std::path::Path,
    timeout: Duration,
) -> Result<(), Error> {
    virtsh_state::launch::launch(
        exe,
        SUPERVISE_ARG,
        &args.to_argv(),
        &args.name,
        log,
        timeout,
    )
}

/// The supervisor's `main`: `argv` are the arguments after [`SUPERVISE_ARG`]. Returns the exit
/// status. Never returns to the shell's code paths.
pub fn main(argv: &[String]) -> i32 {
    let (mut ready, args, paths) =
        match virtsh_state::launch::start_supervisor(argv, Args::parse, |a| &a.uri) {
            Ok(x) => x,
            Err(code) => return code,
        };
    let sup = match boot::boot(&args, &paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: supervisor: {e}", boot::timestamp());
            ready.fail(&e);
            return 1;
        }
    };
    ready.ok();
    sup.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip() {
        let a = Args {
            uri: "qemu:///embed?root=/x".into(),
            name: "vm,1".into(),
            id: 3,
            paused: true,
            attach: false,
            autodestroy: Some(ProcessIdentity {
                pid: 42,
                start_ticks: 7,
            }),
        };
        assert_eq!(Args::parse(&a.to_argv()).unwrap(), a);
        assert!(Args::parse(&["--name".into(), "x".into()]).is_err());
    }
}
