//! The world of one LXC test through the `virtsh` binary ([`Lab`]): a private
//! `lxc:///embed` root with a static busybox root file system, the containers' cgroups and
//! processes as the host sees them, and a cleanup that leaves nothing behind even when a test
//! fails half-way.

use std::cell::RefCell;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::netns::NetNs;
use super::rootfs::{busybox_root, lxc_embed};
use super::{unique_name, Embed};

/// Every wait of these tests is bounded by this (unless said otherwise).
pub const LIMIT: Duration = Duration::from_secs(30);

pub const MIB: u64 = 1024 * 1024;

/// Poll `f` until it gives a value; bounded by `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

pub fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Whether `pid` is gone (or a zombie: it has ended, its new parent just has not reaped it).
pub fn gone(pid: i32) -> bool {
    match read(Path::new(&format!("/proc/{pid}/stat"))) {
        None => true,
        Some(s) => s
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

pub fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The host's own namespace link `kind` (`pid:[4026531836]`).
pub fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("read a namespace link")
        .display()
        .to_string()
}

/// The directories of cgroup `rel` in every mounted hierarchy (v1 ones, the cgroup2 one).
pub fn group_dirs(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let top = Path::new("/sys/fs/cgroup");
    if top.join(rel).is_dir() {
        out.push(top.join(rel));
    }
    if let Ok(d) = std::fs::read_dir(top) {
        for e in d.flatten() {
            let p = e.path().join(rel);
            if p.is_dir() {
                out.push(p);
            }
        }
    }
    out
}

/// The directory of group `rel` that has control file `file`.
pub fn group_file(rel: &str, file: &str) -> PathBuf {
    group_dirs(rel)
        .into_iter()
        .map(|d| d.join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no hierarchy has {rel}/{file}"))
}

/// The directories `virtsh/lxc/NAME-*` in any hierarchy.
pub fn groups_of(name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}-");
    let mut out = Vec::new();
    for parent in group_dirs("virtsh/lxc") {
        if let Ok(d) = std::fs::read_dir(&parent) {
            for e in d.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) && e.path().is_dir() {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

/// The writable cgroup2 mount, if any.
pub fn v2_mount() -> Option<PathBuf> {
    let text = read(Path::new("/proc/self/mountinfo"))?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let opts = left.split(' ').nth(5)?;
        let mount = PathBuf::from(left.split(' ').nth(4)?);
        (right.starts_with("cgroup2 ") && opts.split(',').any(|o| o == "rw")).then_some(mount)
    })
}

/// What `run/NAME.status` records of a running container.
pub struct Status {
    pub init: i32,
    pub cgroup: String,
    pub id: i64,
}

/// One test's world: a private `lxc:///embed` root with a busybox root file system in it, and
/// (network test) the namespace virtsh runs in. On drop, whatever still runs is destroyed
/// (and, failing that, killed), leftover cgroups are removed, then the root and the namespace.
pub struct Lab {
    pub env: Embed,
    pub rootfs: PathBuf,
    names: RefCell<Vec<String>>,
    /// The test's thread is in `netns` until this is dropped (after `env`).
    _entered: Option<EnteredNetns>,
    /// Dropped last: the network namespace the commands run in.
    pub netns: Option<NetNs>,
}

/// The calling thread moved into a network namespace (as `nsenter --net` does), back to its
/// own on drop. Every process it spawns (virtsh, and so the supervisors) starts there.
///
/// Not `ip netns exec`: that also mounts a sysfs of the namespace over `/sys`, which hides
/// the cgroup hierarchies under `/sys/fs/cgroup`, and a container cannot start without them.
pub struct EnteredNetns {
    home: std::fs::File,
}

impl EnteredNetns {
    pub fn enter(ns: &NetNs) -> EnteredNetns {
        use std::os::fd::AsRawFd;
        let home = std::fs::File::open("/proc/thread-self/ns/net").expect("own netns");
        let target =
            std::fs::File::open(format!("/run/netns/{}", ns.name)).expect("open the netns");
        // SAFETY: setns on a valid namespace descriptor; it affects this thread only.
        let rc = unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        EnteredNetns { home }
    }
}

impl Drop for EnteredNetns {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `enter`.
        unsafe { libc::setns(self.home.as_raw_fd(), libc::CLONE_NEWNET) };
    }
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        Lab::make(tag, None)
    }

    /// A lab whose commands run inside `ns` (its networks and veths are made there): this
    /// thread enters it ([`EnteredNetns`]).
    pub fn in_netns(tag: &str, ns: NetNs) -> Lab {
        Lab::make(tag, Some(ns))
    }

    pub fn make(tag: &str, ns: Option<NetNs>) -> Lab {
        let env = lxc_embed(tag);
        let rootfs = env.root.join("rootfs");
        busybox_root(&rootfs);
        Lab {
            env,
            rootfs,
            names: RefCell::new(Vec::new()),
            _entered: ns.as_ref().map(EnteredNetns::enter),
            netns: ns,
        }
    }

    /// A domain name of this test run, remembered for the cleanup.
    pub fn name(&self, tag: &str) -> String {
        let n = unique_name(tag);
        self.names.borrow_mut().push(n.clone());
        n
    }

    /// The host directory a container `name` sees as `/out` (made by [`Lab::xml`]).
    pub fn out(&self, name: &str) -> PathBuf {
        self.env.root.join(format!("out-{name}"))
    }

    pub fn out_file(&self, name: &str, file: &str) -> Option<String> {
        read(&self.out(name).join(file))
    }

    /// Wait until the container wrote `/out/FILE`; its contents, trimmed.
    pub fn wait_out(&self, name: &str, file: &str, limit: Duration) -> String {
        let log = self.env.root.join(format!("log/{name}.log"));
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.out_file(name, file) {
                return s.trim().to_string();
            }
            assert!(
                t0.elapsed() < limit,
                "{name}: no /out/{file} within {limit:?}; supervisor log:\n{}",
                read(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A container of the busybox root: `init` (with `args`), `/out` bound to
    /// [`Lab::out`], a pty console, `extra` elements of `<domain>` and `devices`.
    pub fn xml(&self, name: &str, init: &[&str], extra: &str, devices: &str) -> String {
        std::fs::create_dir_all(self.out(name)).expect("create the out directory");
        let (first, args) = init.split_first().expect("an init");
        let args: String = args
            .iter()
            .map(|a| format!("<initarg>{}</initarg>", xml_escape(a)))
            .collect();
        format!(
            "<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  {extra}
  <os>
    <type>exe</type>
    <init>{first}</init>
    {args}
  </os>
  <devices>
    <filesystem type='mount'><source dir='{root}'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='{out}'/><target dir='/out'/></filesystem>
    <console type='pty'/>
    {devices}
  </devices>
</domain>
",
            root = self.rootfs.display(),
            out = self.out(name).display(),
        )
    }

    /// [`Lab::xml`] of `/bin/sh -c SCRIPT`.
    pub fn sh_xml(&self, name: &str, script: &str, extra: &str, devices: &str) -> String {
        self.xml(name, &["/bin/sh", "-c", script], extra, devices)
    }

    pub fn define(&self, name: &str, xml: &str) {
        self.env.define(name, xml);
    }

    pub fn start(&self, name: &str) {
        assert_eq!(
            self.env.ok(&["start", name]),
            format!("Domain '{name}' started\n\n")
        );
    }

    pub fn status(&self, name: &str) -> Status {
        let path = self.env.root.join(format!("run/{name}.status"));
        let text = read(&path).unwrap_or_else(|| panic!("no {}", path.display()));
        let v: serde_json::Value = serde_json::from_str(&text).expect("status JSON");
        Status {
            init: v["process"]["pid"]
                .as_i64()
                .unwrap_or_else(|| panic!("no process.pid in {text}")) as i32,
            cgroup: v["cgroup"]
                .as_str()
                .unwrap_or_else(|| panic!("no cgroup in {text}"))
                .to_string(),
            id: v["id"].as_i64().unwrap_or(-1),
        }
    }

    /// The supervisors of `name` in this root.
    pub fn supervisors(&self, name: &str) -> Vec<i32> {
        let me = std::process::id() as i32;
        all_pids()
            .into_iter()
            .filter(|&p| p != me && !gone(p))
            .filter(|&p| {
                let c = cmdline(p);
                c.contains("__lxc-supervise")
                    && c.contains(&format!("--name\0{name}\0"))
                    && c.contains(&self.env.uri)
            })
            .collect()
    }

    /// The live processes whose root is this lab's root file system (the containers' own).
    pub fn contained(&self) -> Vec<i32> {
        let Ok(m) = std::fs::metadata(&self.rootfs) else {
            return Vec::new();
        };
        all_pids()
            .into_iter()
            .filter(|&p| !gone(p))
            .filter(|p| {
                std::fs::metadata(format!("/proc/{p}/root"))
                    .is_ok_and(|r| r.dev() == m.dev() && r.ino() == m.ino())
            })
            .collect()
    }

    /// The lines of the host's mount table that name this lab's root file system.
    pub fn root_mounts(&self) -> Vec<String> {
        let root = self.rootfs.display().to_string();
        read(Path::new("/proc/self/mountinfo"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&root))
            .map(str::to_string)
            .collect()
    }

    /// Wait until nothing of `name` is left: no process in the root file system (other than
    /// `keep`'s containers), no supervisor, no cgroup, no mount of the root on the host.
    pub fn assert_nothing_left(&self, name: &str) {
        let t0 = Instant::now();
        loop {
            let procs = self.contained();
            let sups = self.supervisors(name);
            let groups = groups_of(name);
            let mounts = self.root_mounts();
            if procs.is_empty() && sups.is_empty() && groups.is_empty() && mounts.is_empty() {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{name}: left behind: processes {:?}, supervisors {sups:?}, cgroups {groups:?}, \
                 mounts {mounts:?}",
                procs
                    .iter()
                    .map(|&p| (p, cmdline(p).replace('\0', " ")))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in self.names.borrow().iter() {
            let _ = self.env.cmd(&["destroy", name]).output();
        }
        // Whatever survived that (a test that failed half-way through a reconciliation).
        for name in self.names.borrow().iter() {
            for p in self.supervisors(name) {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
        for p in self.contained() {
            // SAFETY: as above.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        for name in self.names.borrow().iter() {
            for dir in groups_of(name) {
                let _ = std::fs::write(dir.join("freezer.state"), "THAWED");
                let _ = std::fs::write(dir.join("cgroup.freeze"), "0");
                let t0 = Instant::now();
                while std::fs::remove_dir(&dir).is_err() && t0.elapsed() < Duration::from_secs(2) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        // Then `env` (destroys what its `list` still shows, removes the root) and the netns.
    }
}
