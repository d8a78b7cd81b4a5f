//! Making the container process: [`spawn`] (clone into new namespaces, write the id maps),
//! [`Pending`] (the pid is known, the child waits), [`Running`] (the init was executed).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::child::{self, ChildArgs, REPORT_LEN};
use super::error::ContainerError;
use super::plan::{self, Op, Plan};
use super::{ContainerSpec, IdRange};

/// How long [`Pending::release`] waits for the setup and the exec: mounts on a slow or hung
/// file system should fail a start, not hang it.
pub const DEFAULT_RELEASE_TIMEOUT: Duration = Duration::from_secs(30);

/// The child's stack. Its deepest frames hold two PATH_MAX buffers; the rest is margin.
const STACK_SIZE: usize = 256 * 1024;

/// Clones the container's process into its new namespaces and writes its id maps; the
/// process then waits for [`Pending::release`]. Needs root, or, for a container with an
/// idmap, the privilege to write those maps: an unprivileged caller can map only its own uid
/// and gid, one id each, with [`ContainerSpec::deny_setgroups`].
pub fn spawn(spec: &ContainerSpec) -> Result<Pending, ContainerError> {
    let plan = plan::build(spec)?;
    let (go_read, go_write) = pipe()?;
    let (report_read, report_write) = pipe()?;

    // Everything the child touches is prepared now: it must not allocate.
    let argv: Vec<*const libc::c_char> = plan
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = plan
        .envp
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let args = ChildArgs {
        plan: &plan,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        go_fd: go_read.as_raw_fd(),
        report_fd: report_write.as_raw_fd(),
    };
    let mut stack = vec![0u8; STACK_SIZE];
    // The stack grows down from its end, which the ABI wants 16-byte aligned.
    let top = (stack.as_mut_ptr() as usize + STACK_SIZE) & !15;
    let flags = plan.clone_flags | libc::SIGCHLD;
    // SAFETY: child_main only reads `args` (its own copy: no CLONE_VM) and makes system
    // calls; see `child`. `args`, `argv`, `envp` and `plan` outlive the call in the parent.
    let pid = unsafe {
        libc::clone(
            child::child_main,
            top as *mut libc::c_void,
            flags,
            &args as *const ChildArgs<'_> as *mut libc::c_void,
        )
    };
    if pid < 0 {
        return Err(ContainerError::Clone {
            namespaces: plan::namespace_names(plan.clone_flags),
            source: io::Error::last_os_error(),
        });
    }
    drop((go_read, report_write, stack, argv, envp));

    let pidfd = match pidfd_open(pid) {
        Ok(fd) => fd,
        Err(source) => {
            // SAFETY: our own unreaped child: its pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = waitpid(pid);
            return Err(ContainerError::Host {
                step: "open a pidfd for",
                path: format!("process {pid}"),
                source,
            });
        }
    };
    // From here on, dropping `pending` (on an error too) kills and reaps the child.
    let pending = Pending {
        pid,
        pidfd: Some(pidfd),
        go: Some(go_write),
        report: report_read,
        plan,
    };
    if let Some(map) = &spec.idmap {
        write_map(pid, "uid_map", &map.uid)?;
        if spec.deny_setgroups {
            // An unprivileged writer's gid_map is refused until setgroups is denied
            // (user_namespaces(7)): otherwise the container could drop a group that denies
            // it access on the host.
            write_proc(pid, "setgroups", "deny")?;
        }
        write_map(pid, "gid_map", &map.gid)?;
    }
    Ok(pending)
}

/// `/proc/PID/uid_map` or `gid_map`, in one write as the kernel requires.
fn write_map(pid: i32, file: &str, ranges: &[IdRange]) -> Result<(), ContainerError> {
    write_proc(pid, file, &map_text(ranges))
}

/// `/proc/PID/FILE`, in one write.
fn write_proc(pid: i32, file: &str, text: &str) -> Result<(), ContainerError> {
    let path = format!("/proc/{pid}/{file}");
    let err = |source| ContainerError::Host {
        step: "write",
        path: path.clone(),
        source,
    };
    let mut f = OpenOptions::new().write(true).open(&path).map_err(err)?;
    let n = f.write(text.as_bytes()).map_err(err)?;
    if n != text.len() {
        return Err(err(io::Error::from_raw_os_error(libc::EIO)));
    }
    Ok(())
}

fn map_text(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.start, r.target, r.count))
        .collect()
}

/// A container process that exists but has not started its setup: the caller moves
/// interfaces into its network namespace and puts it into cgroups, then calls
/// [`Pending::release`]. Dropped without release (or [`Pending::abort`]ed), the process is
/// killed and reaped.
pub struct Pending {
    pid: i32,
    /// `None` once handed to [`Running`] or reaped.
    pidfd: Option<OwnedFd>,
    go: Option<OwnedFd>,
    report: OwnedFd,
    plan: Plan,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("pid", &self.pid).finish()
    }
}

impl Pending {
    /// The process's pid in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the child finish its setup and exec the init, waiting at most
    /// [`DEFAULT_RELEASE_TIMEOUT`].
    pub fn release(self) -> Result<Running, ContainerError> {
        self.release_within(DEFAULT_RELEASE_TIMEOUT)
    }

    /// [`Pending::release`] with another bound. On any error the process is gone (reaped).
    pub fn release_within(mut self, timeout: Duration) -> Result<Running, ContainerError> {
        let deadline = Instant::now() + timeout;
        if let Some(go) = self.go.take() {
            // EPIPE here means the child is already gone; what it reported (or its death)
            // is read below.
            let _ = write_byte(go.as_raw_fd());
        }
        let mut buf = [0u8; REPORT_LEN];
        let mut got = 0;
        while got < REPORT_LEN {
            if !wait_readable(self.report.as_fd(), deadline).map_err(sync("wait for"))? {
                self.kill_and_reap();
                return Err(ContainerError::Timeout(timeout));
            }
            match read_some(self.report.as_raw_fd(), &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.kill_and_reap();
                    return Err(sync("read the report of")(e));
                }
            }
        }
        if got == REPORT_LEN {
            let index = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
            self.reap_within(deadline);
            return Err(self.step_error(index, errno));
        }
        if got != 0 {
            self.kill_and_reap();
            return Err(sync("read the report of")(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "short report",
            )));
        }
        // EOF with nothing written: the exec closed the pipe, or the child died without a
        // word. A dead child is usually already visible on its pidfd.
        let exited = match &self.pidfd {
            Some(fd) => wait_readable(fd.as_fd(), Instant::now()).unwrap_or(false),
            None => true,
        };
        if exited {
            let status = self.reap_within(deadline);
            return Err(ContainerError::Died {
                status: status.map_or_else(|| "unknown status".into(), |s| s.to_string()),
            });
        }
        let Some(pidfd) = self.pidfd.take() else {
            return Err(sync("track")(io::Error::from_raw_os_error(libc::ESRCH)));
        };
        Ok(Running {
            pid: self.pid,
            pidfd,
            status: None,
        })
    }

    /// Kills and reaps the process (as dropping does).
    pub fn abort(mut self) {
        self.kill_and_reap();
    }

    fn step_error(&self, index: usize, errno: i32) -> ContainerError {
        let source = io::Error::from_raw_os_error(errno);
        match self.plan.steps.get(index) {
            Some(step) => match (&step.op, errno) {
                (Op::CheckInit { .. }, libc::ENOENT) => {
                    ContainerError::InitNotFound(step.subject.clone())
                }
                _ => ContainerError::Setup {
                    step: step.what,
                    path: step.subject.clone(),
                    source,
                },
            },
            None => ContainerError::Setup {
                step: "run step",
                path: format!("#{index}"),
                source,
            },
        }
    }

    /// Waits for the exit of a child that reported a failure (it exits right after);
    /// kills it at the deadline.
    fn reap_within(&mut self, deadline: Instant) -> Option<ExitStatus> {
        let fd = self.pidfd.take()?;
        if !wait_readable(fd.as_fd(), deadline).unwrap_or(false) {
            let _ = pidfd_signal(fd.as_fd(), libc::SIGKILL);
        }
        waitpid(self.pid).ok()
    }

    fn kill_and_reap(&mut self) {
        if let Some(fd) = self.pidfd.take() {
            let _ = pidfd_signal(fd.as_fd(), libc::SIGKILL);
            let _ = waitpid(self.pid);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

fn sync(step: &'static str) -> impl Fn(io::Error) -> ContainerError {
    move |source| ContainerError::Sync { step, source }
}

/// The container's init, running. The caller owns it: dropping this leaves the process
/// running and unreaped (a supervisor hands it on; tests kill and wait).
#[derive(Debug)]
pub struct Running {
    pid: i32,
    pidfd: OwnedFd,
    status: Option<ExitStatus>,
}

impl Running {
    /// The init's pid in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A pidfd of the init: readable once it has exited, usable in an event loop.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Sends `signal` through the pidfd (never to a recycled pid). Killing the init (pid 1
    /// of the container's pid namespace) ends every process of the container.
    pub fn signal(&self, signal: libc::c_int) -> io::Result<()> {
        pidfd_signal(self.pidfd.as_fd(), signal)
    }

    /// The exit status if the init has ended (reaping it), without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_some() {
            return Ok(self.status);
        }
        let mut raw = 0;
        // SAFETY: waitpid on our own child with a stack int.
        let rc = unsafe { libc::waitpid(self.pid, &mut raw, libc::WNOHANG) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        if rc == self.pid {
            self.status = Some(ExitStatus::from_raw(raw));
        }
        Ok(self.status)
    }

    /// Waits at most `timeout` for the init to end; `None` if it still runs.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        if self.status.is_some() {
            return Ok(self.status);
        }
        if !wait_readable(self.pidfd.as_fd(), Instant::now() + timeout)? {
            return Ok(None);
        }
        let status = waitpid(self.pid)?;
        self.status = Some(status);
        Ok(self.status)
    }

    /// The pid and pidfd, for a caller that tracks the process itself.
    pub fn into_parts(self) -> (i32, OwnedFd) {
        (self.pid, self.pidfd)
    }
}

// --- small system call wrappers ---

fn pipe() -> Result<(OwnedFd, OwnedFd), ContainerError> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(sync("create a pipe for")(io::Error::last_os_error()));
    }
    // SAFETY: two fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn pidfd_signal(fd: BorrowedFd<'_>, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: pidfd_send_signal(2) without siginfo.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Blocking waitpid, retried on EINTR.
fn waitpid(pid: i32) -> io::Result<ExitStatus> {
    loop {
        let mut raw = 0;
        // SAFETY: waitpid on our own child with a stack int.
        if unsafe { libc::waitpid(pid, &mut raw, 0) } >= 0 {
            return Ok(ExitStatus::from_raw(raw));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether `fd` becomes readable (or hung up) before `deadline`.
fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd on the stack.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc > 0 {
            return Ok(true);
        }
        if rc == 0 {
            return Ok(false);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading into a slice we own.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn write_byte(fd: RawFd) -> io::Result<()> {
    // SAFETY: one byte from a static.
    let n = unsafe { libc::write(fd, b"G".as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::super::IdMap;
    use super::*;

    #[test]
    fn map_lines() {
        let map = IdMap {
            uid: vec![
                IdRange {
                    start: 0,
                    target: 100000,
                    count: 1000,
                },
                IdRange {
                    start: 1000,
                    target: 1000,
                    count: 1,
                },
            ],
            gid: vec![IdRange {
                start: 0,
                target: 100000,
                count: 65536,
            }],
        };
        let (uid, gid) = (map_text(&map.uid), map_text(&map.gid));
        assert_eq!(uid, "0 100000 1000\n1000 1000 1\n");
        assert_eq!(gid, "0 100000 65536\n");
    }
}
