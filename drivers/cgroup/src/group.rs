//! One group, `virtsh/PARTS...`: creating, opening, filling and removing it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::file::{read, read_procs, write};
use crate::{CgroupError, Extra, Layout, Result, Version, ROOT_GROUP, V2_CONTROLLERS};

/// How long [`Cgroup::remove`] waits for the last tasks to leave.
const REMOVE_WAIT: Duration = Duration::from_secs(2);

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
    pub(crate) version: Version,
    /// Relative to each mount point, with `/` separators: `virtsh/qemu/vm1-1`.
    pub(crate) rel: String,
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
        Cgroup::create_for(layout, parts, &[], None)
    }

    /// [`Cgroup::create_in`], also in the v1 hierarchies of the `extra` controllers that are
    /// mounted (a container's `blkio`, `freezer` and `devices`). On v2, the same as
    /// [`Cgroup::create_in`].
    ///
    /// A new v1 devices group starts with its parent's list, and a group can never allow a
    /// device its parent denies: the `virtsh` parents are left with the host's (allow-all)
    /// list, and each group narrows its own with [`Cgroup::set_devices`].
    pub fn create_with(layout: &Layout, parts: &[&str], extra: &[Extra]) -> Result<Cgroup> {
        Cgroup::create_for(layout, parts, extra, None)
    }

    /// [`Cgroup::create_in`]; a group that holds only `own` is not busy.
    fn create_for(
        layout: &Layout,
        parts: &[&str],
        extra: &[Extra],
        own: Option<i32>,
    ) -> Result<Cgroup> {
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
                    .filter(|h| h.is_default() || extra.iter().any(|e| h.has(e.name())))
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
        Cgroup::create_configured(layout, parts, &[], pid, |_| Ok(()))
    }

    /// [`Cgroup::create_with`], then `configure` (limits, the device list), then
    /// [`Cgroup::add_pid`]: `pid` never runs in the group before it is configured. Tried again
    /// as [`Cgroup::create_with_pid`] is. When `configure` or `add_pid` fails for another
    /// reason, the new group is removed.
    pub fn create_configured(
        layout: &Layout,
        parts: &[&str],
        extra: &[Extra],
        pid: i32,
        mut configure: impl FnMut(&Cgroup) -> Result<()>,
    ) -> Result<Cgroup> {
        let mut tries = 0;
        loop {
            // After a sweep in the middle of add_pid, `pid` is already in some hierarchies.
            let r = Cgroup::create_for(layout, parts, extra, Some(pid)).and_then(|cg| {
                let filled = configure(&cg).and_then(|()| cg.add_pid(pid));
                match filled {
                    Ok(()) => Ok(cg),
                    Err(e) => {
                        if !e.vanished() {
                            let _ = cg.remove();
                        }
                        Err(e)
                    }
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
    pub(crate) fn dir_with(&self, controller: &'static str) -> Result<PathBuf> {
        Ok(self.mount_with(controller)?.join(&self.rel))
    }

    /// The mount point (top group) of the hierarchy with `controller` (v2: the cgroup2 mount).
    pub(crate) fn mount_with(&self, controller: &'static str) -> Result<PathBuf> {
        self.dirs
            .iter()
            .find(|d| self.version == Version::V2 || d.controllers.iter().any(|c| c == controller))
            .map(|d| d.mount.clone())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::HYBRID;

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
