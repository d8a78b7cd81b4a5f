//! The world of an `lxc:///session` test ([`SessionLab`]): `virtsh` run as an ordinary user
//! (uid/gid [`USER_ID`], switched to by the test, which runs as root: no passwd entry is
//! needed), with a home and a runtime directory of that user, a copy of the binary the user
//! can execute (the build tree may not be reachable by them), and a busybox root file system
//! the user owns at its top (as libvirt wants: the root belongs to container root's uid).
//!
//! Included with `#[path]` by the test that uses it; `support` stays as it is.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::support::in_ci;
use crate::support::lxc_lab::{all_pids, cmdline, gone, read};
use crate::support::pty::{openpty, Recorder};
use crate::support::rootfs::{busybox_root, can_run_containers};

/// The unprivileged user the containers run as.
pub const USER_ID: u32 = 1000;

fn chown(path: &Path) {
    std::os::unix::fs::chown(path, Some(USER_ID), Some(USER_ID))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Whether session containers can run here: what [`can_run_containers`] checks (root, to
/// become the user; a static busybox), and that the user may create a user namespace (no
/// `kernel.unprivileged_userns_clone=0`, no AppArmor restriction). SKIP otherwise, a failure
/// under CI=true.
pub fn can_run_session(test: &str) -> bool {
    if !can_run_containers(test) {
        return false;
    }
    let mut probe = Command::new("/bin/true");
    probe.uid(USER_ID).gid(USER_ID);
    // SAFETY: unshare(2) only, in the child after its switch to the user (std runs pre_exec
    // after setuid).
    unsafe {
        probe.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWUSER) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    match probe.status() {
        Ok(s) if s.success() => true,
        other => {
            let why = format!(
                "uid {USER_ID} cannot create a user namespace ({other:?}; see \
                 /proc/sys/kernel/unprivileged_userns_clone, /proc/sys/user/max_user_namespaces)"
            );
            assert!(!in_ci(), "{test}: {why} (CI=true)");
            eprintln!("SKIP {test}: {why}");
            false
        }
    }
}

/// One test's `lxc:///session` world, under a fresh `/tmp/vts-PID-N` (0755, so the user can
/// traverse it). On drop: every container destroyed and undefined, any process of the
/// user's copy of virtsh killed, the directory removed.
pub struct SessionLab {
    pub base: PathBuf,
    pub virtsh: PathBuf,
    pub home: PathBuf,
    /// `$XDG_RUNTIME_DIR`; the driver's runtime files are in `run/virtsh/lxc`.
    pub xdg_run: PathBuf,
    pub rootfs: PathBuf,
    /// A cgroup2 group delegated to the user ([`SessionLab::delegate_cgroup`]), which every
    /// command starts in.
    pub cgroup: Option<PathBuf>,
}

impl SessionLab {
    pub fn new(tag: &str) -> SessionLab {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = PathBuf::from(format!(
            "/tmp/vts-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&base);
        mkdir(&base, 0o755);
        let bin = base.join("bin");
        mkdir(&bin, 0o755);
        let virtsh = bin.join("virtsh");
        std::fs::copy(env!("CARGO_BIN_EXE_virtsh"), &virtsh).expect("copy virtsh");
        std::fs::set_permissions(&virtsh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let (home, xdg_run) = (base.join("home"), base.join("xdg-run"));
        for d in [&home, &xdg_run] {
            mkdir(d, 0o700);
            chown(d);
        }
        // Root-owned files (busybox) under a top the user owns: the container's setup makes
        // its mount points there, and the files show as the overflow uid inside.
        let rootfs = base.join("rootfs");
        busybox_root(&rootfs);
        for d in [&rootfs, &rootfs.join("tmp")] {
            chown(d);
        }
        SessionLab {
            base,
            virtsh,
            home,
            xdg_run,
            rootfs,
            cgroup: None,
        }
    }

    /// Delegate a new cgroup2 group to the user, as systemd does for `user@UID.service` (the
    /// directory and its `cgroup.procs`, `cgroup.threads` and `cgroup.subtree_control` are
    /// the user's), and start every later command in it, with `VIRTSH_CGROUP=v2` (on a hybrid
    /// host, the cgroup2 mount is not used otherwise). `None` without a writable cgroup2
    /// mount.
    pub fn delegate_cgroup(&mut self) -> Option<PathBuf> {
        let mount = crate::support::lxc_lab::v2_mount()?;
        let dir = mount.join(self.base.file_name()?);
        std::fs::create_dir(&dir).ok()?;
        for f in [
            "",
            "cgroup.procs",
            "cgroup.threads",
            "cgroup.subtree_control",
        ] {
            let p = if f.is_empty() {
                dir.clone()
            } else {
                dir.join(f)
            };
            chown(&p);
        }
        self.cgroup = Some(dir.clone());
        Some(dir)
    }

    /// The host directory a container sees as `/out` (owned by the user).
    pub fn out(&self, name: &str) -> PathBuf {
        let dir = self.base.join(format!("out-{name}"));
        if !dir.exists() {
            mkdir(&dir, 0o755);
            chown(&dir);
        }
        dir
    }

    /// Wait until the container wrote `/out/FILE`; its contents, trimmed.
    pub fn wait_out(&self, name: &str, file: &str, limit: Duration) -> String {
        let t0 = Instant::now();
        loop {
            if let Some(s) = read(&self.out(name).join(file)) {
                return s.trim().to_string();
            }
            assert!(
                t0.elapsed() < limit,
                "{name}: no /out/{file} within {limit:?}; supervisor log:\n{}",
                read(&self.log(name)).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The supervisor's log of `name` (`$XDG_STATE_HOME/virtsh/lxc/log`).
    pub fn log(&self, name: &str) -> PathBuf {
        self.home
            .join(format!(".local/state/virtsh/lxc/log/{name}.log"))
    }

    /// The driver's runtime directory.
    pub fn run_dir(&self) -> PathBuf {
        self.xdg_run.join("virtsh/lxc")
    }

    /// `virtsh -c lxc:///session ARGS` as the user, with only this lab's directories.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.virtsh);
        c.arg("-c")
            .arg("lxc:///session")
            .args(args)
            .stdin(Stdio::null())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.xdg_run)
            .current_dir(&self.base);
        let procs = self.cgroup.as_ref().map(|d| {
            c.env("VIRTSH_CGROUP", "v2");
            std::ffi::CString::new(d.join("cgroup.procs").as_os_str().as_encoded_bytes())
                .expect("no NUL in a cgroup path")
        });
        // SAFETY: only system calls on memory prepared before the fork. The switch is done
        // here rather than with Command::uid, which std does before this closure runs: the
        // move into the delegated group needs root's rights over the group it leaves.
        unsafe {
            c.pre_exec(move || {
                let check = |rc: libc::c_int| {
                    if rc < 0 {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                };
                if let Some(procs) = &procs {
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    check(fd)?;
                    // "0" moves the writing process itself.
                    let n = libc::write(fd, b"0".as_ptr().cast(), 1);
                    libc::close(fd);
                    check(n as libc::c_int)?;
                }
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setresgid(USER_ID, USER_ID, USER_ID))?;
                check(libc::setresuid(USER_ID, USER_ID, USER_ID))
            });
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        retry_busy(|| self.cmd(args).output()).expect("run virtsh as the user")
    }

    /// Run and insist on success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        crate::support::succeeded(args, self.run(args))
    }

    /// Run and insist on failure; stderr.
    pub fn err(&self, args: &[&str]) -> String {
        crate::support::failed(args, self.run(args))
    }

    /// Write `xml` where the user can read it and define it.
    pub fn define(&self, name: &str, xml: &str) {
        let path = self.base.join(format!("{name}.xml"));
        std::fs::write(&path, xml).expect("write XML");
        self.ok(&["define", path.to_str().expect("utf-8 path")]);
    }

    /// `domstate --reason NAME`, trimmed.
    pub fn state(&self, name: &str) -> String {
        self.ok(&["domstate", "--reason", name]).trim().to_string()
    }

    pub fn wait_state(&self, name: &str, want: &str, limit: Duration) {
        let t0 = Instant::now();
        loop {
            let s = self.state(name);
            if s == want {
                return;
            }
            assert!(t0.elapsed() < limit, "{name}: state '{s}', not '{want}'");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The init's pid recorded in the runtime status of `name`.
    pub fn init_pid(&self, name: &str) -> i32 {
        let path = self.run_dir().join(format!("{name}.status"));
        let text = read(&path).unwrap_or_else(|| panic!("no {}", path.display()));
        let v: serde_json::Value = serde_json::from_str(&text).expect("status JSON");
        v["process"]["pid"]
            .as_i64()
            .unwrap_or_else(|| panic!("no process.pid in {text}")) as i32
    }

    /// Live processes started from this lab's copy of virtsh (supervisors), or whose root is
    /// this lab's root file system (the containers').
    pub fn processes(&self) -> Vec<i32> {
        use std::os::unix::fs::MetadataExt;
        let me = std::process::id() as i32;
        let exe = self.virtsh.display().to_string();
        let root = std::fs::metadata(&self.rootfs).ok();
        all_pids()
            .into_iter()
            .filter(|&p| p != me && !gone(p))
            .filter(|&p| {
                let in_root = root.as_ref().is_some_and(|m| {
                    std::fs::metadata(format!("/proc/{p}/root"))
                        .is_ok_and(|r| r.dev() == m.dev() && r.ino() == m.ino())
                });
                in_root || cmdline(p).split('\0').next() == Some(exe.as_str())
            })
            .collect()
    }

    /// Wait until no process of this lab is left (bounded).
    pub fn assert_no_process(&self) {
        let t0 = Instant::now();
        loop {
            let left = self.processes();
            if left.is_empty() {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "left behind: {:?}",
                left.iter()
                    .map(|&p| (p, cmdline(p).replace('\0', " ")))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `virtsh console NAME` as the user, on a terminal of its own.
    pub fn console(&self, name: &str) -> Console {
        let (master, slave) = openpty();
        let mut cmd = self.cmd(&["console", name]);
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let child = retry_busy(|| cmd.spawn()).expect("run virtsh console");
        drop(cmd); // our copies of the slave: the recorder sees the end when the child ends
        let master = std::fs::File::from(master);
        let shown = Recorder::start(master.try_clone().expect("dup master"));
        Console {
            child,
            master,
            shown,
        }
    }
}

impl Drop for SessionLab {
    fn drop(&mut self) {
        if let Ok(o) = self.cmd(&["list", "--all", "--name"]).output() {
            for name in String::from_utf8_lossy(&o.stdout).lines() {
                if !name.is_empty() {
                    let _ = self.cmd(&["destroy", name]).output();
                    let _ = self.cmd(&["undefine", name]).output();
                }
            }
        }
        for p in self.processes() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        if let Some(dir) = &self.cgroup {
            remove_groups(dir);
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// `f` (a spawn), again while it fails with ETXTBSY: a lab's fresh copy of virtsh is held
/// open for writing by any child another test's thread forked during the copy, until that
/// child's own exec.
fn retry_busy<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let t0 = Instant::now();
    loop {
        match f() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && t0.elapsed().as_secs() < 5 => {
                std::thread::sleep(Duration::from_millis(20));
            }
            r => return r,
        }
    }
}

/// Remove cgroup `dir` and the groups under it, deepest first (bounded: the last processes
/// may still be leaving).
fn remove_groups(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_groups(&e.path());
            }
        }
    }
    let t0 = Instant::now();
    while std::fs::remove_dir(dir).is_err() && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `virtsh console` of a [`SessionLab`]: what it showed, typing into it.
pub struct Console {
    child: std::process::Child,
    master: std::fs::File,
    shown: Recorder,
}

impl Console {
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.master.write_all(bytes).expect("type into the console");
    }

    /// Wait (30 s at most) until the terminal showed `text`.
    pub fn wait_for(&mut self, text: &str) {
        let t0 = Instant::now();
        while !self.shown.text().contains(text) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "console: no {text:?}; it showed:\n{}",
                self.shown.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Type ^] and insist that the console ends, successfully, within 5 s.
    pub fn leave(&mut self) {
        self.send(&[0x1d]);
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                assert!(
                    st.success(),
                    "console: {st}; it showed:\n{}",
                    self.shown.text()
                );
                return;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "console did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
