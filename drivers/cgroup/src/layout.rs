//! Detection of the host's cgroup layout from `/proc/self/mountinfo`.

use std::path::{Path, PathBuf};

use crate::file::read;
use crate::{Result, FORCE_ENV, V1_CONTROLLERS, V1_EXTRA_CONTROLLERS};

/// Which cgroup API a group is driven through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// One mounted cgroup v1 hierarchy with at least one of [`V1_CONTROLLERS`] or
/// [`V1_EXTRA_CONTROLLERS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Where it is mounted (`/sys/fs/cgroup/cpu,cpuacct`).
    pub mount: PathBuf,
    /// Its controllers among those two lists (`["cpu", "cpuacct"]`).
    pub controllers: Vec<String>,
}

impl V1Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// Whether every group gets a directory here: it has one of [`V1_CONTROLLERS`]. The other
    /// hierarchies (blkio, freezer, devices alone) only for the groups that ask for them.
    pub fn is_default(&self) -> bool {
        self.controllers
            .iter()
            .any(|c| V1_CONTROLLERS.contains(&c.as_str()))
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
                        .filter(|o| V1_CONTROLLERS.contains(o) || V1_EXTRA_CONTROLLERS.contains(o))
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

    /// The API virtsh drives on this host: v1 when any of [`V1_CONTROLLERS`] is mounted in
    /// v1, else v2 when a cgroup2 file system is mounted. (A host that mounts only, say, the
    /// v1 devices hierarchy is driven in v2, as before the extra controllers were known.)
    pub fn version(&self) -> Option<Version> {
        if self.v1.iter().any(V1Hierarchy::is_default) {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Cgroup, CgroupError};

    pub(crate) const HYBRID: &str = "\
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
        assert_eq!(
            names,
            ["cpu", "cpuacct", "cpuset", "memory", "devices", "pids"]
        );
        let defaults: Vec<bool> = l.v1.iter().map(V1Hierarchy::is_default).collect();
        assert_eq!(defaults, [true, true, true, true, false, true]);
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
        // Only extra hierarchies in v1: driven in v2.
        let extra_only = "36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n\
                          41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            Layout::parse_mountinfo(extra_only).version(),
            Some(Version::V2)
        );
        assert!(matches!(
            Cgroup::create_in(&none, &["x"]),
            Err(CgroupError::NotMounted)
        ));
    }
}
