//! Control groups for virtsh's embedded drivers.
//!
//! This crate owns two things, for every driver that runs host processes (the QEMU driver for
//! its guests, and the LXC driver for its containers):
//!
//! - **detection** of the host's cgroup layout from `/proc/self/mountinfo`: the cgroup v1
//!   hierarchies (`cpu`, `cpuacct`, `memory`, `pids`, `cpuset`, mounted together or apart) and
//!   the cgroup v2 (unified) mount. A host that mounts any of those v1 controllers is driven in
//!   v1; a pure v2 host (the modern default) in v2. A hybrid host's extra v2 mount (systemd's
//!   `/sys/fs/cgroup/unified`, without controllers) is not used by default.
//! - **per-object groups**: [`Cgroup::create`] makes `virtsh/PART/PART...` under the top of each
//!   hierarchy (v1: in each of the controllers above that is mounted; v2: once, enabling the
//!   controllers in the `cgroup.subtree_control` of the parents virtsh owns), moves processes in
//!   ([`Cgroup::add_pid`]), reads counters ([`Cgroup::cpu_times`], [`Cgroup::cpu_usage_ns`],
//!   [`Cgroup::cpu_usage_percpu_ns`] (v1 only: v2 has no per-CPU usage),
//!   [`Cgroup::memory_current`]), and removes the group when its processes are gone
//!   ([`Cgroup::remove`]), along with the `virtsh` parents that are then empty.
//!
//! Every error names the file or directory it is about.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The name of the parent group virtsh creates at the top of each hierarchy.
pub const ROOT_GROUP: &str = "virtsh";

/// The v1 controllers virtsh makes groups in.
pub const V1_CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "cpuset"];

/// The v2 controllers virtsh enables for its groups, when the parent offers them.
pub const V2_CONTROLLERS: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

/// `VIRTSH_CGROUP=v2`: use the cgroup2 mount only (see [`Layout::detect`]).
pub const FORCE_ENV: &str = "VIRTSH_CGROUP";

/// How long [`Cgroup::remove`] waits for the last tasks to leave.
const REMOVE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cannot read {path}: {source}", path = path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write '{value}' to {path}: {source}", path = path.display())]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("cannot create cgroup {path}: {source}", path = path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot remove cgroup {path}: {source}", path = path.display())]
    Remove { path: PathBuf, source: io::Error },
    #[error("cannot parse {path}: {reason}", path = path.display())]
    Parse { path: PathBuf, reason: String },
    #[error(
        "no cgroup hierarchy with the cpu, cpuacct, memory, pids or cpuset controller is mounted"
    )]
    NotMounted,
    #[error("cgroup {path} does not exist in any mounted hierarchy")]
    NotFound { path: String },
    #[error("cgroup {path} already holds other processes", path = path.display())]
    Busy { path: PathBuf },
    #[error("invalid cgroup name '{0}'")]
    InvalidName(String),
    #[error("the {controller} controller is not available for cgroup {path}")]
    NoController {
        controller: &'static str,
        path: String,
    },
    #[error("cgroup v2 has no per-CPU usage (cgroup {path})")]
    PerCpuUnsupported { path: String },
}

pub type Result<T> = std::result::Result<T, CgroupError>;

impl CgroupError {
    /// The group (or a parent) went away meanwhile: removed by a concurrent
    /// [`Cgroup::remove`] or [`sweep_empty`] (ENOENT, or ENODEV for a file of a removed group).
    fn vanished(&self) -> bool {
        match self {
            CgroupError::Read { source, .. }
            | CgroupError::Write { source, .. }
            | CgroupError::Create { source, .. } => {
                source.kind() == io::ErrorKind::NotFound
                    || source.raw_os_error() == Some(libc::ENODEV)
            }
            _ => false,
        }
    }
}

/// Which cgroup API a group is driven through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// One mounted cgroup v1 hierarchy with at least one of [`V1_CONTROLLERS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Where it is mounted (`/sys/fs/cgroup/cpu,cpuacct`).
    pub mount: PathBuf,
    /// Its controllers among [`V1_CONTROLLERS`] (`["cpu", "cpuacct"]`).
    pub controllers: Vec<String>,
}

impl V1Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// The host's cgroup mounts, as seen by this process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The v1 hierarchies virtsh uses, one per controller set.
    pub v1: Vec<V1Hierarchy>,
    /// The cgroup2 mount point, if any.
    pub v2: Option<PathBuf>,
}

impl Layout {
    /// Read `/proc/self/mountinfo`. With `VIRTSH_CGROUP=v2` in the environment, only the
    /// cgroup2 mount is used, also on a hybrid host (to exercise v2 there).
    pub fn detect() -> Result<Layout> {
        let path = Path::new("/proc/self/mountinfo");
        let text = read(path)?;
        let layout = Layout::parse_mountinfo(&text);
        if std::env::var_os(FORCE_ENV).is_some_and(|v| v == "v2") {
            return Ok(layout.v2_only());
        }
        Ok(layout)
    }

    /// The cgroup mounts in the text of a mountinfo file.
    pub fn parse_mountinfo(text: &str) -> Layout {
        let mut layout = Layout::default();
        for line in text.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            if left.len() < 5 || right.len() < 3 {
                continue;
            }
            let mount = PathBuf::from(unescape_mount(left[4]));
            match right[0] {
                "cgroup2" if layout.v2.is_none() => layout.v2 = Some(mount),
                "cgroup" => {
                    let controllers: Vec<String> = right[2]
                        .split(',')
                        .filter(|o| V1_CONTROLLERS.contains(o))
                        .map(str::to_string)
                        .collect();
                    if controllers.is_empty()
                        || layout.v1.iter().any(|h| h.controllers == controllers)
                    {
                        continue;
                    }
                    layout.v1.push(V1Hierarchy { mount, controllers });
                }
                _ => {}
            }
        }
        layout
    }

    /// The API virtsh drives on this host: v1 when any v1 controller it uses is mounted, else
    /// v2 when a cgroup2 file system is mounted.
    pub fn version(&self) -> Option<Version> {
        if !self.v1.is_empty() {
            Some(Version::V1)
        } else if self.v2.is_some() {
            Some(Version::V2)
        } else {
            None
        }
    }

    /// This layout without its v1 hierarchies: drive the cgroup2 mount (of a hybrid host).
    pub fn v2_only(&self) -> Layout {
        Layout {
            v1: Vec::new(),
            v2: self.v2.clone(),
        }
    }
}

/// `\040` and friends in a mountinfo path.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An object's name as one cgroup directory name, the way libvirt makes machine names: only
/// ASCII letters, digits, `-`, `_` and `.` are kept, at most 64 of them, and a name that would
/// be empty, hidden or clash with a cgroup file (`cgroup.procs`, `cpu.stat`, ...) gets a `_`
/// in front.
pub fn escape_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    let clashes = out.contains('.')
        && out.split('.').next().is_some_and(|p| {
            p == "cgroup" || V1_CONTROLLERS.contains(&p) || V2_CONTROLLERS.contains(&p)
        });
    if out.is_empty() || out.starts_with('.') || out.starts_with('_') || clashes {
        out.insert(0, '_');
    }
    out
}

/// The CPU time a group used, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub usage_ns: u64,
    pub user_ns: u64,
    pub system_ns: u64,
}

/// A group's directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dir {
    /// The hierarchy's mount point.
    mount: PathBuf,
    /// v1: the hierarchy's controllers; v2: empty.
    controllers: Vec<String>,
}

/// One group, `virtsh/PARTS...`, in every hierarchy virtsh uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    version: Version,
    /// Relative to each mount point, with `/` separators: `virtsh/qemu/vm1-1`.
    rel: String,
    dirs: Vec<Dir>,
}

impl Cgroup {
    /// Create `virtsh/PARTS...` on this host (see [`Cgroup::create_in`]).
    pub fn create(parts: &[&str]) -> Result<Cgroup> {
        Cgroup::create_in(&Layout::detect()?, parts)
    }

    /// Create `virtsh/PARTS...` under the top of each hierarchy of `layout` (the parents as
    /// needed). A group that exists already is used as it is when it holds no process, and is
    /// [`CgroupError::Busy`] otherwise. On failure, nothing that this call created is left.
    pub fn create_in(layout: &Layout, parts: &[&str]) -> Result<Cgroup> {
        Cgroup::create_for(layout, parts, None)
    }

    /// [`Cgroup::create_in`]; a group that holds only `own` is not busy.
    fn create_for(layout: &Layout, parts: &[&str], own: Option<i32>) -> Result<Cgroup> {
        if parts.is_empty() {
            return Err(CgroupError::InvalidName(String::new()));
        }
        for p in parts {
            if p.is_empty() || *p == "." || *p == ".." || p.contains('/') || p.contains('\0') {
                return Err(CgroupError::InvalidName((*p).to_string()));
            }
        }
        let mut comps = vec![ROOT_GROUP];
        comps.extend_from_slice(parts);
        let rel = comps.join("/");
        let (version, dirs) = match layout.version() {
            Some(Version::V1) => (
                Version::V1,
                layout
                    .v1
                    .iter()
                    .map(|h| Dir {
                        mount: h.mount.clone(),
                        controllers: h.controllers.clone(),
                    })
                    .collect::<Vec<_>>(),
            ),
            Some(Version::V2) => (
                Version::V2,
                vec![Dir {
                    mount: layout.v2.clone().unwrap_or_default(),
                    controllers: Vec::new(),
                }],
            ),
            None => return Err(CgroupError::NotMounted),
        };
        let group = Cgroup { version, rel, dirs };
        let mut made: Vec<PathBuf> = Vec::new();
        let mut result = Ok(());
        for d in &group.dirs {
            // Another supervisor may remove an empty parent meanwhile: try again.
            let mut tries = 0;
            loop {
                match group.make_dir(d, &comps, own, &mut made) {
                    Err(e) if e.vanished() && tries < 5 => tries += 1,
                    r => {
                        result = r;
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result {
            for dir in made.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
        Ok(group)
    }

    /// [`Cgroup::create_in`] and [`Cgroup::add_pid`], trying again when a concurrent
    /// [`sweep_empty`] took the new group away before `pid` was in it.
    pub fn create_with_pid(layout: &Layout, parts: &[&str], pid: i32) -> Result<Cgroup> {
        let mut tries = 0;
        loop {
            // After a sweep in the middle of add_pid, `pid` is already in some hierarchies.
            let r =
                Cgroup::create_for(layout, parts, Some(pid)).and_then(|cg| match cg.add_pid(pid) {
                    Ok(()) => Ok(cg),
                    Err(e) => {
                        if !e.vanished() {
                            let _ = cg.remove();
                        }
                        Err(e)
                    }
                });
            match r {
                Err(e) if e.vanished() && tries < 5 => tries += 1,
                r => return r,
            }
        }
    }

    /// Make the directories of `comps` in one hierarchy, recording those it made.
    fn make_dir(
        &self,
        d: &Dir,
        comps: &[&str],
        own: Option<i32>,
        made: &mut Vec<PathBuf>,
    ) -> Result<()> {
        let mut path = d.mount.clone();
        for (i, c) in comps.iter().enumerate() {
            let parent = path.clone();
            path.push(c);
            let leaf = i + 1 == comps.len();
            if self.version == Version::V2 && i > 0 {
                // Only in the parents virtsh owns: the host's top is left as it is.
                enable_v2_controllers(&parent);
            }
            match fs::create_dir(&path) {
                Ok(()) => made.push(path.clone()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if leaf && read_procs(&path)?.iter().any(|p| Some(*p) != own) {
                        return Err(CgroupError::Busy { path });
                    }
                }
                Err(source) => return Err(CgroupError::Create { path, source }),
            }
            // Also in a level someone else has just made and not filled yet.
            if d.controllers.iter().any(|c| c == "cpuset") {
                copy_cpuset(&parent, &path)?;
            }
        }
        Ok(())
    }

    /// The group `rel` (`virtsh/qemu/vm1-1`, as [`Cgroup::path`] gives it) made earlier, in the
    /// hierarchies of this host where it exists.
    /// A group made in the cgroup2 mount of a hybrid host (`VIRTSH_CGROUP=v2` in its
    /// creator's environment) is found there too.
    pub fn open(rel: &str) -> Result<Cgroup> {
        let layout = Layout::detect()?;
        match Cgroup::open_in(&layout, rel) {
            Err(CgroupError::NotFound { .. }) if layout.version() == Some(Version::V1) => {
                Cgroup::open_in(&layout.v2_only(), rel)
            }
            r => r,
        }
    }

    /// [`Cgroup::open`] in `layout`.
    pub fn open_in(layout: &Layout, rel: &str) -> Result<Cgroup> {
        let rel = rel.trim_matches('/').to_string();
        if rel.is_empty()
            || rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(CgroupError::InvalidName(rel));
        }
        let version = layout.version().ok_or(CgroupError::NotMounted)?;
        let dirs: Vec<Dir> = match version {
            Version::V1 => layout
                .v1
                .iter()
                .map(|h| Dir {
                    mount: h.mount.clone(),
                    controllers: h.controllers.clone(),
                })
                .collect(),
            Version::V2 => vec![Dir {
                mount: layout.v2.clone().unwrap_or_default(),
                controllers: Vec::new(),
            }],
        };
        let dirs: Vec<Dir> = dirs
            .into_iter()
            .filter(|d| d.mount.join(&rel).is_dir())
            .collect();
        if dirs.is_empty() {
            return Err(CgroupError::NotFound { path: rel });
        }
        Ok(Cgroup { version, rel, dirs })
    }

    /// The group's path relative to the top of each hierarchy: `virtsh/qemu/vm1-1`.
    pub fn path(&self) -> &str {
        &self.rel
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The group's directory in each hierarchy.
    pub fn directories(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.mount.join(&self.rel)).collect()
    }

    /// The directory of the hierarchy with `controller` (v2: the one directory).
    fn dir_with(&self, controller: &'static str) -> Result<PathBuf> {
        self.dirs
            .iter()
            .find(|d| self.version == Version::V2 || d.controllers.iter().any(|c| c == controller))
            .map(|d| d.mount.join(&self.rel))
            .ok_or_else(|| CgroupError::NoController {
                controller,
                path: self.rel.clone(),
            })
    }

    /// Move process `pid` (all its threads) into the group, in every hierarchy.
    pub fn add_pid(&self, pid: i32) -> Result<()> {
        for dir in self.directories() {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The processes in the group (of its first hierarchy).
    pub fn pids(&self) -> Result<Vec<i32>> {
        match self.directories().first() {
            Some(d) => read_procs(d),
            None => Ok(Vec::new()),
        }
    }

    /// Total CPU time of the group's tasks, in ns: `cpuacct.usage` (v1), `cpu.stat` usage_usec
    /// (v2).
    pub fn cpu_usage_ns(&self) -> Result<u64> {
        match self.version {
            Version::V1 => {
                let path = self.dir_with("cpuacct")?.join("cpuacct.usage");
                parse_u64(&path, &read(&path)?)
            }
            Version::V2 => Ok(self.cpu_times()?.usage_ns),
        }
    }

    /// Total, user and system CPU time in ns: `cpuacct.usage` and `cpuacct.stat` (v1, whose
    /// user and system are in clock ticks), `cpu.stat` (v2).
    pub fn cpu_times(&self) -> Result<CpuTimes> {
        match self.version {
            Version::V1 => {
                let dir = self.dir_with("cpuacct")?;
                let usage_path = dir.join("cpuacct.usage");
                let usage_ns = parse_u64(&usage_path, &read(&usage_path)?)?;
                let stat_path = dir.join("cpuacct.stat");
                let (user, system) =
                    parse_cpuacct_stat(&read(&stat_path)?).ok_or_else(|| CgroupError::Parse {
                        path: stat_path.clone(),
                        reason: "no user and system lines".into(),
                    })?;
                let tick_ns = 1_000_000_000 / clock_ticks_per_sec();
                Ok(CpuTimes {
                    usage_ns,
                    user_ns: user.saturating_mul(tick_ns),
                    system_ns: system.saturating_mul(tick_ns),
                })
            }
            Version::V2 => {
                let path = self.dir_with("cpu")?.join("cpu.stat");
                parse_cpu_stat(&read(&path)?).ok_or_else(|| CgroupError::Parse {
                    path,
                    reason: "no usage_usec line".into(),
                })
            }
        }
    }

    /// CPU time per host CPU in ns, from `cpuacct.usage_percpu`. v1 only: on v2,
    /// [`CgroupError::PerCpuUnsupported`].
    pub fn cpu_usage_percpu_ns(&self) -> Result<Vec<u64>> {
        match self.version {
            Version::V1 => {
                let path = self.dir_with("cpuacct")?.join("cpuacct.usage_percpu");
                let text = read(&path)?;
                parse_percpu(&text).ok_or_else(|| CgroupError::Parse {
                    path,
                    reason: format!("not a list of numbers: '{}'", text.trim()),
                })
            }
            Version::V2 => Err(CgroupError::PerCpuUnsupported {
                path: self.rel.clone(),
            }),
        }
    }

    /// Memory charged to the group, in bytes: `memory.usage_in_bytes` (v1), `memory.current`
    /// (v2, when the memory controller is enabled for the group).
    pub fn memory_current(&self) -> Result<u64> {
        let dir = self.dir_with("memory")?;
        let path = match self.version {
            Version::V1 => dir.join("memory.usage_in_bytes"),
            Version::V2 => dir.join("memory.current"),
        };
        if !path.exists() {
            return Err(CgroupError::NoController {
                controller: "memory",
                path: self.rel.clone(),
            });
        }
        parse_u64(&path, &read(&path)?)
    }

    /// Remove the group from every hierarchy, waiting briefly while tasks are still leaving it,
    /// then the `virtsh` parents that are left empty. The first failure is returned; the other
    /// hierarchies are still cleaned.
    pub fn remove(&self) -> Result<()> {
        let mut first_err = None;
        for dir in self.directories() {
            if let Err(e) = remove_dir_waiting(&dir) {
                first_err.get_or_insert(e);
                continue;
            }
            // The parents, up to and including `virtsh`, when nothing else uses them.
            let mut p = dir.parent().map(Path::to_path_buf);
            for _ in 1..self.rel.split('/').count() {
                let Some(d) = p else { break };
                if fs::remove_dir(&d).is_err() {
                    break;
                }
                p = d.parent().map(Path::to_path_buf);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Remove the groups left empty under `virtsh/PARTS...` in every hierarchy of `layout`: those
/// of objects whose supervisor was killed with them, so that nobody removed their group. A
/// group that holds a process, or has children, stays. Returns how many directories went.
///
/// A group that another supervisor has just made and not yet filled can go too: its
/// [`Cgroup::add_pid`] then fails with ENOENT, and [`Cgroup::create_with_pid`] tries again.
pub fn sweep_empty(layout: &Layout, parts: &[&str]) -> usize {
    let mut comps = vec![ROOT_GROUP];
    comps.extend_from_slice(parts);
    let rel = comps.join("/");
    let mounts: Vec<PathBuf> = match layout.version() {
        Some(Version::V1) => layout.v1.iter().map(|h| h.mount.clone()).collect(),
        Some(Version::V2) => layout.v2.iter().cloned().collect(),
        None => Vec::new(),
    };
    let mut removed = 0;
    for m in mounts {
        let Ok(entries) = fs::read_dir(m.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let dir = e.path();
            if !dir.is_dir() || !read_procs(&dir).is_ok_and(|p| p.is_empty()) {
                continue;
            }
            if fs::remove_dir(&dir).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

fn remove_dir_waiting(dir: &Path) -> Result<()> {
    let deadline = Instant::now() + REMOVE_WAIT;
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Enable in `parent`'s `cgroup.subtree_control` each of [`V2_CONTROLLERS`] it offers. One at
/// a time, so that one refused controller does not stop the others; refusals are not errors
/// (the group then simply lacks that controller's files).
fn enable_v2_controllers(parent: &Path) {
    let Ok(offered) = fs::read_to_string(parent.join("cgroup.controllers")) else {
        return;
    };
    let enabled = fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    for c in offered.split_whitespace() {
        if V2_CONTROLLERS.contains(&c) && !enabled.split_whitespace().any(|e| e == c) {
            let _ = fs::write(parent.join("cgroup.subtree_control"), format!("+{c}"));
        }
    }
}

/// A new v1 cpuset group starts with no CPUs and no memory nodes, and takes no task until it
/// has some: give it its parent's.
fn copy_cpuset(parent: &Path, child: &Path) -> Result<()> {
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let mine = child.join(f);
        if !mine.exists() || !read(&mine)?.trim().is_empty() {
            continue;
        }
        let value = read(&parent.join(f))?;
        if !value.trim().is_empty() {
            write(&mine, value.trim())?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

fn read_procs(dir: &Path) -> Result<Vec<i32>> {
    Ok(read(&dir.join("cgroup.procs"))?
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect())
}

fn parse_u64(path: &Path, text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        reason: format!("not a number: '{}'", text.trim()),
    })
}

/// `cpuacct.usage_percpu`: ns per CPU, space separated.
pub fn parse_percpu(text: &str) -> Option<Vec<u64>> {
    text.split_whitespace().map(|s| s.parse().ok()).collect()
}

/// `cpuacct.stat`: user and system time, in clock ticks.
pub fn parse_cpuacct_stat(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.trim().parse().ok()).flatten()
        })
    };
    Some((field("user")?, field("system")?))
}

/// v2 `cpu.stat`: usage_usec, user_usec and system_usec, as ns.
pub fn parse_cpu_stat(text: &str) -> Option<CpuTimes> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == name).then(|| v.trim().parse::<u64>().ok()).flatten()
        })
    };
    Some(CpuTimes {
        usage_ns: field("usage_usec")?.saturating_mul(1000),
        user_ns: field("user_usec").unwrap_or(0).saturating_mul(1000),
        system_ns: field("system_usec").unwrap_or(0).saturating_mul(1000),
    })
}

/// The kernel's clock tick rate (`USER_HZ`), the unit of cpuacct.stat and /proc/PID/stat times.
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn mountinfo_hybrid() {
        let l = Layout::parse_mountinfo(HYBRID);
        let names: Vec<String> = l.v1.iter().map(|h| h.controllers.join(",")).collect();
        assert_eq!(names, ["cpu", "cpuacct", "cpuset", "memory", "pids"]);
        assert_eq!(l.v1[1].mount, Path::new("/sys/fs/cgroup/cpuacct"));
        assert_eq!(l.v2.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        assert_eq!(l.version(), Some(Version::V1));
        assert_eq!(l.v2_only().version(), Some(Version::V2));
    }

    #[test]
    fn mountinfo_joint_controllers_and_optional_fields() {
        let text = "\
25 18 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
26 18 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
27 18 0:24 / /sys/fs/cgroup/my\\040mem rw shared:10 master:3 - cgroup cgroup rw,memory
";
        let l = Layout::parse_mountinfo(text);
        assert_eq!(l.v1.len(), 2);
        assert!(l.v1[0].has("cpu") && l.v1[0].has("cpuacct"));
        assert_eq!(l.v1[1].mount, Path::new("/sys/fs/cgroup/my mem"));
        assert_eq!(l.v2, None);
    }

    #[test]
    fn mountinfo_pure_v2_and_none() {
        let text = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        let l = Layout::parse_mountinfo(text);
        assert!(l.v1.is_empty());
        assert_eq!(l.v2.as_deref(), Some(Path::new("/sys/fs/cgroup")));
        assert_eq!(l.version(), Some(Version::V2));
        let none = Layout::parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
        assert_eq!(none.version(), None);
        assert!(matches!(
            Cgroup::create_in(&none, &["x"]),
            Err(CgroupError::NotMounted)
        ));
    }

    #[test]
    fn cpuacct_files() {
        assert_eq!(parse_percpu("123 0 456789 \n"), Some(vec![123, 0, 456789]));
        assert_eq!(parse_percpu("12 x\n"), None);
        assert_eq!(parse_cpuacct_stat("user 17\nsystem 4\n"), Some((17, 4)));
        assert_eq!(parse_cpuacct_stat("user 17\n"), None);
    }

    #[test]
    fn cpu_stat_v2() {
        let text = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n";
        assert_eq!(
            parse_cpu_stat(text),
            Some(CpuTimes {
                usage_ns: 1_500_000,
                user_ns: 1_000_000,
                system_ns: 500_000
            })
        );
        assert_eq!(parse_cpu_stat("nr_periods 0\n"), None);
    }

    #[test]
    fn names() {
        assert_eq!(escape_name("vm1"), "vm1");
        assert_eq!(escape_name("my vm/1,x"), "myvm1x");
        assert_eq!(escape_name("..."), "_...");
        assert_eq!(escape_name("été"), "t");
        assert_eq!(escape_name("ééé"), "_");
        assert_eq!(escape_name("cpu.shares"), "_cpu.shares");
        assert_eq!(escape_name("a.b"), "a.b");
        assert_eq!(escape_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn invalid_parts() {
        let l = Layout::parse_mountinfo(HYBRID);
        for bad in ["", "..", "a/b"] {
            assert!(matches!(
                Cgroup::create_in(&l, &[bad]),
                Err(CgroupError::InvalidName(_))
            ));
        }
        assert!(matches!(
            Cgroup::open_in(&l, "virtsh/../x"),
            Err(CgroupError::InvalidName(_))
        ));
    }
}
