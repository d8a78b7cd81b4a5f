//! The code that runs in the cloned child, from clone(2) to execve(2).
//!
//! The child is a copy of a process that may have other threads (the test harness; a
//! supervisor later may too): any lock another thread held at the clone stays locked in the
//! child forever. So nothing here allocates, formats, panics on purpose, or calls into std
//! beyond `io::Error::last_os_error` (which reads errno): only system calls on data the
//! parent prepared (`Plan`), with small buffers on the stack. A failure is reported as 8
//! bytes (step index, errno) on the report pipe, then `_exit(127)`.

use std::ffi::CStr;

use super::caps;
use super::net;
use super::plan::{Op, Plan, MAX_SLOTS};

/// What the child receives from `spawn`, by pointer through clone(2): the parent's memory,
/// copied into the child's address space by the clone.
pub(super) struct ChildArgs<'a> {
    pub plan: &'a Plan,
    /// NULL-terminated pointer arrays into `plan.argv` and `plan.envp`.
    pub argv: *const *const libc::c_char,
    pub envp: *const *const libc::c_char,
    /// Read end of the release pipe: one byte means go, EOF means the parent gave up.
    pub go_fd: libc::c_int,
    /// Write end of the report pipe (close-on-exec).
    pub report_fd: libc::c_int,
}

/// The report of a failed step: its index in `Plan::steps` and the errno.
pub(super) const REPORT_LEN: usize = 8;

/// open_tree(2): make a detached copy of the mount (`linux/mount.h`).
const OPEN_TREE_CLONE: libc::c_uint = 1;
/// move_mount(2): the source is the descriptor itself.
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

/// Errno-style result of one step.
type Res = Result<(), libc::c_int>;

/// The child's entry point, called by glibc's clone on the child's own stack.
pub(super) extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `spawn` passes a pointer to a ChildArgs that lives until clone returns in the
    // parent; the child has its own copy of that memory.
    let args = unsafe { &*(arg as *const ChildArgs<'_>) };
    reset_signals();
    close_other_fds(args.go_fd, args.report_fd);
    if !wait_for_release(args.go_fd) {
        // The parent dropped or aborted the Pending container, or died.
        exit(1);
    }
    // SAFETY: our own descriptor, not used again.
    unsafe { libc::close(args.go_fd) };

    let mut slots = [-1 as libc::c_int; MAX_SLOTS];
    for (index, step) in args.plan.steps.iter().enumerate() {
        if let Err(errno) = run(&step.op, &mut slots, args) {
            report(args.report_fd, index, errno);
            exit(127);
        }
    }
    // The plan always ends with Exec, which only returns on failure (reported above).
    exit(127)
}

fn exit(code: libc::c_int) -> ! {
    // SAFETY: _exit(2) ends the child without running the parent's atexit handlers or
    // flushing its stdio buffers, which belong to the parent.
    unsafe { libc::_exit(code) }
}

fn errno() -> libc::c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(rc: libc::c_int) -> Res {
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// The parent's signal handlers and mask are no business of the container's init (Rust's
/// runtime ignores SIGPIPE, for one). exec resets handled signals but keeps ignored ones and
/// the mask, so everything goes back to the default here.
fn reset_signals() {
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: signal(2) with SIG_DFL; EINVAL for the C library's reserved signals.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: an empty set on the stack.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Closes every descriptor above stderr except the two pipes: the container must not inherit
/// the parent's files, and another container being set up concurrently (in another thread)
/// must not hold this one's pipes, or their EOFs would wait on it.
fn close_other_fds(a: libc::c_int, b: libc::c_int) {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    let ranges = [(3, lo - 1), (lo + 1, hi - 1), (hi + 1, libc::c_int::MAX)];
    for (first, last) in ranges {
        if first > last {
            continue;
        }
        // SAFETY: close_range(2) on numbers only.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                last as libc::c_uint,
                0 as libc::c_uint,
            )
        };
        if rc < 0 {
            // Before Linux 5.9: one by one, up to a bound past any plausible descriptor.
            for fd in first..=last.min(65_535) {
                // SAFETY: closing a number that is not ours to keep; EBADF is fine.
                unsafe { libc::close(fd) };
            }
        }
    }
}

fn wait_for_release(fd: libc::c_int) -> bool {
    let mut byte = 0u8;
    loop {
        // SAFETY: one byte into a stack variable.
        let n = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            return true;
        }
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        return false;
    }
}

fn report(fd: libc::c_int, index: usize, errno: libc::c_int) {
    let mut buf = [0u8; REPORT_LEN];
    buf[..4].copy_from_slice(&(index as u32).to_ne_bytes());
    buf[4..].copy_from_slice(&errno.to_ne_bytes());
    // A pipe write of 8 bytes is atomic; if it fails the parent sees a death without a
    // report, which it reports too.
    // SAFETY: a stack buffer of REPORT_LEN bytes.
    unsafe { libc::write(fd, buf.as_ptr().cast(), REPORT_LEN) };
}

fn set_slot(slots: &mut [libc::c_int; MAX_SLOTS], slot: usize, fd: libc::c_int) -> Res {
    let entry = slots.get_mut(slot).ok_or(libc::EBADF)?;
    *entry = fd;
    Ok(())
}

fn slot_fd(slots: &[libc::c_int; MAX_SLOTS], slot: usize) -> Result<libc::c_int, libc::c_int> {
    match slots.get(slot) {
        Some(fd) if *fd >= 0 => Ok(*fd),
        _ => Err(libc::EBADF),
    }
}

/// `mkdir -p` without allocating: each prefix is terminated in place in a stack copy.
fn mkdir_all(path: &CStr, mode: libc::mode_t) -> Res {
    let bytes = path.to_bytes();
    let mut buf = [0u8; libc::PATH_MAX as usize];
    if bytes.len() >= buf.len() {
        return Err(libc::ENAMETOOLONG);
    }
    buf[..bytes.len()].copy_from_slice(bytes);
    for end in 1..=bytes.len() {
        if end < bytes.len() && bytes[end] != b'/' {
            continue;
        }
        if bytes[end - 1] == b'/' {
            continue;
        }
        let saved = buf[end];
        buf[end] = 0;
        // SAFETY: buf is NUL-terminated at `end`.
        let rc = unsafe { libc::mkdir(buf.as_ptr().cast(), mode) };
        buf[end] = saved;
        if rc < 0 && errno() != libc::EEXIST {
            return Err(errno());
        }
    }
    Ok(())
}

/// The directory part of `path` (up to its last `/`), checked for existence by mkdir_all.
fn mkdir_parent(path: &CStr) -> Res {
    let bytes = path.to_bytes();
    let Some(last) = bytes.iter().rposition(|c| *c == b'/') else {
        return Ok(());
    };
    if last == 0 {
        return Ok(());
    }
    let mut buf = [0u8; libc::PATH_MAX as usize];
    if last >= buf.len() {
        return Err(libc::ENAMETOOLONG);
    }
    buf[..last].copy_from_slice(&bytes[..last]);
    let parent = CStr::from_bytes_until_nul(&buf[..]).map_err(|_| libc::EINVAL)?;
    mkdir_all(parent, 0o755)
}

fn exists(path: &CStr) -> bool {
    // SAFETY: a NUL-terminated path.
    unsafe { libc::access(path.as_ptr(), libc::F_OK) == 0 }
}

/// An empty file at `path` unless something is there.
fn create_file(path: &CStr, mode: libc::mode_t) -> Res {
    if exists(path) {
        return Ok(());
    }
    mkdir_parent(path)?;
    // SAFETY: a NUL-terminated path; O_NONBLOCK so that nothing can block the open.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    Ok(())
}

/// The flags of the mount at `path` that a bind remount must repeat.
fn locked_flags(path: &CStr) -> Result<libc::c_ulong, libc::c_int> {
    // SAFETY: statvfs into a zeroed stack struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    check(unsafe { libc::statvfs(path.as_ptr(), &mut st) })?;
    let map = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    Ok(map
        .iter()
        .filter(|(st_flag, _)| st.f_flag & st_flag != 0)
        .fold(0, |acc, (_, ms)| acc | ms))
}

fn opt_ptr(c: &Option<std::ffi::CString>) -> *const libc::c_char {
    c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// One step.
fn run(op: &Op, slots: &mut [libc::c_int; MAX_SLOTS], args: &ChildArgs<'_>) -> Res {
    // SAFETY (for the unsafe blocks below): system calls on NUL-terminated strings the parent
    // prepared, on stack buffers, or on descriptors this child opened.
    match op {
        Op::OpenTty { path, slot } => {
            let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
            let fd = unsafe { libc::open(path.as_ptr(), flags) };
            check(fd)?;
            set_slot(slots, *slot, fd)
        }
        Op::CloneTree {
            path,
            slot,
            recursive,
        } => {
            let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
            if *recursive {
                flags |= libc::AT_RECURSIVE as libc::c_uint;
            }
            let fd =
                unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
            if fd < 0 {
                return Err(errno());
            }
            set_slot(slots, *slot, fd as libc::c_int)
        }
        Op::Attach { slot, target } => {
            let fd = slot_fd(slots, *slot)?;
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_move_mount,
                    fd,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    target.as_ptr(),
                    MOVE_MOUNT_F_EMPTY_PATH,
                )
            };
            if rc < 0 {
                return Err(errno());
            }
            // The tree is attached; the descriptor has no further use.
            unsafe { libc::close(fd) };
            set_slot(slots, *slot, -1)
        }
        Op::SetIds { groups } => {
            // With setgroups denied the call fails (EPERM); the init then keeps the
            // caller's groups, which show as the overflow gid inside.
            if *groups {
                check(unsafe { libc::setgroups(0, std::ptr::null()) })?;
            }
            check(unsafe { libc::setresgid(0, 0, 0) })?;
            check(unsafe { libc::setresuid(0, 0, 0) })
        }
        Op::Mount {
            src,
            target,
            fstype,
            flags,
            data,
            optional,
        } => {
            let rc = unsafe {
                libc::mount(
                    src.as_ptr(),
                    target.as_ptr(),
                    opt_ptr(fstype),
                    *flags,
                    opt_ptr(data).cast(),
                )
            };
            match check(rc) {
                Err(libc::ENOENT) if *optional => Ok(()),
                other => other,
            }
        }
        Op::RemountRo { target, flags } => {
            let keep = locked_flags(target)?;
            let all = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | keep | *flags;
            check(unsafe {
                libc::mount(
                    std::ptr::null(),
                    target.as_ptr(),
                    std::ptr::null(),
                    all,
                    std::ptr::null(),
                )
            })
        }
        Op::Detach { target, tolerate } => {
            match check(unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) }) {
                Err(_) if *tolerate => Ok(()),
                other => other,
            }
        }
        Op::MkdirAll { path } => mkdir_all(path, 0o755),
        Op::BindTarget { path, like } => {
            let fd = slot_fd(slots, *like)?;
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            check(unsafe { libc::fstat(fd, &mut st) })?;
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                mkdir_all(path, 0o755)
            } else {
                create_file(path, 0o644)
            }
        }
        Op::CreateFile { path, mode } => create_file(path, *mode),
        Op::Mknod {
            path,
            kind,
            mode,
            dev,
        } => {
            check(unsafe { libc::mknod(path.as_ptr(), *kind | *mode, *dev) })?;
            check(unsafe { libc::chmod(path.as_ptr(), *mode) })
        }
        Op::Symlink { target, link } => {
            check(unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) })
        }
        Op::Chdir { path } => check(unsafe { libc::chdir(path.as_ptr()) }),
        Op::PivotRoot { new_root, put_old } => {
            let rc =
                unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
            if rc < 0 {
                Err(errno())
            } else {
                Ok(())
            }
        }
        Op::RmdirQuiet { path } => {
            unsafe { libc::rmdir(path.as_ptr()) };
            Ok(())
        }
        Op::IfRename { from, to } => net::rename(from, to),
        Op::IfUp { name } => net::set_up(name),
        Op::SetHostname { name } => {
            let bytes = name.to_bytes();
            check(unsafe { libc::sethostname(bytes.as_ptr().cast(), bytes.len()) })
        }
        Op::Setsid => check(unsafe { libc::setsid() }),
        Op::Console { slot } => {
            let fd = slot_fd(slots, *slot)?;
            for std_fd in 0..3 {
                check(unsafe { libc::dup2(fd, std_fd) })?;
            }
            // The pty is fresh from the supervisor, nobody's controlling terminal: no need to
            // steal it (arg 0).
            check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) })?;
            if fd > 2 {
                unsafe { libc::close(fd) };
            }
            set_slot(slots, *slot, -1)
        }
        Op::CheckInit { path } => check(unsafe { libc::access(path.as_ptr(), libc::F_OK) }),
        Op::DropCaps { mask } => caps::drop_mask(*mask),
        Op::Exec => {
            unsafe { libc::execve(args.plan.init.as_ptr(), args.argv, args.envp) };
            Err(errno())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mkdir_all_makes_parents() {
        let base = std::env::temp_dir().join(format!("virtsh-mkdir-{}", std::process::id()));
        let deep = base.join("a/b//c/");
        let c = std::ffi::CString::new(deep.to_str().expect("utf-8")).expect("no NUL");
        assert_eq!(mkdir_all(&c, 0o755), Ok(()));
        assert!(base.join("a/b/c").is_dir());
        // Again: everything exists.
        assert_eq!(mkdir_all(&c, 0o755), Ok(()));
        let file = std::ffi::CString::new(format!("{}/x/y/file", base.display())).expect("nul");
        assert_eq!(create_file(&file, 0o644), Ok(()));
        assert!(base.join("x/y/file").is_file());
        std::fs::remove_dir_all(&base).expect("cleanup");
    }
}
