//! The device allow-list of a group: which device nodes its tasks may open (read, write) or
//! create (mknod). Everything else is denied.
//!
//! v1: the devices hierarchy (the group must have been made with [`Extra::Devices`]). A new
//! group starts with its parent's list, and the kernel refuses to let a group allow what its
//! parent denies; virtsh's parents keep the host's allow-all list, and each group narrows its
//! own. The list is changed in an order that never grants more than the old and new lists
//! together, nor takes away what both grant (a running container does not lose `/dev/null`
//! while its list is rewritten): `devices.deny` `a` first only when the group still allows
//! everything, then each new rule to `devices.allow`, then the leftovers of the old list to
//! `devices.deny`.
//!
//! v2 has no devices controller: a `BPF_PROG_TYPE_CGROUP_DEVICE` program, built from the rules
//! (see `devprog.rs`), is attached to the group's directory (see `bpf.rs`), replacing the one
//! virtsh attached before in one step.
//!
//! [`Extra::Devices`]: crate::Extra::Devices

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::file::{control, read, write};
use crate::{Cgroup, CgroupError, Result, Version};

/// The largest major and minor a Linux device number has (12 and 20 bits).
const MAJOR_MAX: u32 = 0xfff;
const MINOR_MAX: u32 = 0xf_ffff;

/// Which device nodes a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKind {
    /// `c`
    Char,
    /// `b`
    Block,
    /// `a`: both.
    All,
}

impl DeviceKind {
    fn letter(self) -> char {
        match self {
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
            DeviceKind::All => 'a',
        }
    }
}

/// What a rule allows: any of read, write, mknod (`rwm`). The bits are the kernel's
/// `BPF_DEVCG_ACC_*`, so that the v2 program uses them as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceAccess(u8);

impl DeviceAccess {
    pub const MKNOD: DeviceAccess = DeviceAccess(1);
    pub const READ: DeviceAccess = DeviceAccess(2);
    pub const WRITE: DeviceAccess = DeviceAccess(4);
    pub const RW: DeviceAccess = DeviceAccess(6);
    pub const RWM: DeviceAccess = DeviceAccess(7);

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: DeviceAccess) -> bool {
        self.0 & other.0 == other.0
    }

    /// The accesses in `self` and not in `other`.
    pub fn without(self, other: DeviceAccess) -> DeviceAccess {
        DeviceAccess(self.0 & !other.0)
    }
}

impl std::ops::BitOr for DeviceAccess {
    type Output = DeviceAccess;
    fn bitor(self, o: DeviceAccess) -> DeviceAccess {
        DeviceAccess(self.0 | o.0)
    }
}

impl fmt::Display for DeviceAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, c) in [(Self::READ, 'r'), (Self::WRITE, 'w'), (Self::MKNOD, 'm')] {
            if self.contains(bit) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for DeviceAccess {
    type Err = CgroupError;
    fn from_str(s: &str) -> Result<DeviceAccess> {
        let mut a = DeviceAccess::default();
        for c in s.chars() {
            a = a | match c {
                'r' => Self::READ,
                'w' => Self::WRITE,
                'm' => Self::MKNOD,
                _ => return Err(CgroupError::InvalidDeviceRule(s.to_string())),
            };
        }
        if a.is_empty() {
            return Err(CgroupError::InvalidDeviceRule(s.to_string()));
        }
        Ok(a)
    }
}

/// One allowed set of devices: `c 1:3 rwm`, `c 136:* rwm`, `a *:* m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    /// `None`: any major (`*`).
    pub major: Option<u32>,
    /// `None`: any minor (`*`).
    pub minor: Option<u32>,
    pub access: DeviceAccess,
}

impl DeviceRule {
    pub fn char(major: u32, minor: Option<u32>, access: DeviceAccess) -> DeviceRule {
        DeviceRule {
            kind: DeviceKind::Char,
            major: Some(major),
            minor,
            access,
        }
    }

    pub fn block(major: u32, minor: Option<u32>, access: DeviceAccess) -> DeviceRule {
        DeviceRule {
            kind: DeviceKind::Block,
            major: Some(major),
            minor,
            access,
        }
    }

    /// Every device, for `access` (libvirt's "allow mknod of anything" when a container keeps
    /// CAP_MKNOD is `DeviceRule::all(DeviceAccess::MKNOD)`).
    pub fn all(access: DeviceAccess) -> DeviceRule {
        DeviceRule {
            kind: DeviceKind::All,
            major: None,
            minor: None,
            access,
        }
    }

    /// The device node at `path` (a disk, a hostdev's `/dev/...`), as libvirt's
    /// virCgroupAllowDevicePath finds it. Not a device node: [`CgroupError::InvalidDeviceRule`].
    pub fn for_path(path: &Path, access: DeviceAccess) -> Result<DeviceRule> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let meta = std::fs::metadata(path).map_err(|source| CgroupError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let kind = if meta.file_type().is_char_device() {
            DeviceKind::Char
        } else if meta.file_type().is_block_device() {
            DeviceKind::Block
        } else {
            return Err(CgroupError::InvalidDeviceRule(format!(
                "{} is not a device node",
                path.display()
            )));
        };
        let dev = meta.rdev();
        // glibc's gnu_dev_major / gnu_dev_minor.
        let major = (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32;
        let minor = (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32;
        Ok(DeviceRule {
            kind,
            major: Some(major),
            minor: Some(minor),
            access,
        })
    }

    fn check(&self) -> Result<()> {
        if self.access.is_empty()
            || self.major.is_some_and(|m| m > MAJOR_MAX)
            || self.minor.is_some_and(|m| m > MINOR_MAX)
        {
            return Err(CgroupError::InvalidDeviceRule(self.to_string()));
        }
        Ok(())
    }

    /// v1 has no `a` rule narrower than "everything": `a` written to `devices.allow` means
    /// allow-all whatever follows. So a rule for both kinds is a `b` and a `c` rule, as
    /// libvirt's virCgroupV1AllowAllDevices writes it.
    fn v1_entries(&self) -> Vec<DeviceRule> {
        match self.kind {
            DeviceKind::All => [DeviceKind::Block, DeviceKind::Char]
                .into_iter()
                .map(|kind| DeviceRule { kind, ..*self })
                .collect(),
            _ => vec![*self],
        }
    }
}

impl fmt::Display for DeviceRule {
    /// v1's `devices.allow` syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = |n: Option<u32>| n.map_or("*".to_string(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            num(self.major),
            num(self.minor),
            self.access
        )
    }
}

impl FromStr for DeviceRule {
    type Err = CgroupError;
    /// `c 1:3 rwm`, `b 8:* r`, `c *:* m`, and `a` (everything), as in `devices.list`.
    fn from_str(s: &str) -> Result<DeviceRule> {
        let bad = || CgroupError::InvalidDeviceRule(s.to_string());
        let mut f = s.split_whitespace();
        let kind = match f.next() {
            Some("c") => DeviceKind::Char,
            Some("b") => DeviceKind::Block,
            Some("a") => DeviceKind::All,
            _ => return Err(bad()),
        };
        let (major, minor) = match f.next() {
            None if kind == DeviceKind::All => return Ok(DeviceRule::all(DeviceAccess::RWM)),
            None => return Err(bad()),
            Some(nums) => {
                let (ma, mi) = nums.split_once(':').ok_or_else(bad)?;
                let num = |n: &str| match n {
                    "*" => Ok(None),
                    n => n.parse().map(Some).map_err(|_| bad()),
                };
                (num(ma)?, num(mi)?)
            }
        };
        let access = match f.next() {
            Some(a) => a.parse().map_err(|_| bad())?,
            None => return Err(bad()),
        };
        if f.next().is_some() {
            return Err(bad());
        }
        let rule = DeviceRule {
            kind,
            major,
            minor,
            access,
        };
        rule.check().map_err(|_| bad())?;
        Ok(rule)
    }
}

/// libvirt 9.0's device list for an LXC container (lxc_cgroup.c): `/dev/null`, `zero`,
/// `full`, `random`, `urandom`, `tty`, `ptmx`, `/dev/fuse` and every `/dev/pts/N` (major
/// 136), all `rwm`. The container's disks, block filesystems, hostdevs and timers come on top.
pub fn lxc_default_devices() -> Vec<DeviceRule> {
    let rwm = DeviceAccess::RWM;
    let mut v: Vec<DeviceRule> = [3, 5, 7, 8, 9]
        .into_iter()
        .map(|minor| DeviceRule::char(1, Some(minor), rwm))
        .collect();
    v.push(DeviceRule::char(5, Some(0), rwm)); // tty
    v.push(DeviceRule::char(5, Some(2), rwm)); // ptmx
    v.push(DeviceRule::char(10, Some(229), rwm)); // fuse
    v.push(DeviceRule::char(136, None, rwm)); // pts
    v
}

impl Cgroup {
    /// Deny every device but those of `rules` (an empty list denies all).
    pub fn set_devices(&self, rules: &[DeviceRule]) -> Result<()> {
        for r in rules {
            r.check()?;
        }
        match self.version {
            Version::V1 => self.set_devices_v1(rules),
            Version::V2 => crate::bpf::set_device_program(&self.dir_with("devices")?, rules),
        }
    }

    /// v1: the group's list, as `devices.list` shows it (`a *:* rwm` while it allows
    /// everything). v2 keeps the list in a program, not in a file: [`CgroupError::Unsupported`].
    pub fn devices(&self) -> Result<Vec<DeviceRule>> {
        let dir = self.dir_with("devices")?;
        let path = control(&dir, "devices.list", "reading the device list")?;
        parse_list(&path, &read(&path)?)
    }

    fn set_devices_v1(&self, rules: &[DeviceRule]) -> Result<()> {
        let dir = self.dir_with("devices")?;
        let list_path = control(&dir, "devices.list", "the devices controller")?;
        let mut old = parse_list(&list_path, &read(&list_path)?)?;
        if old.iter().any(|r| r.kind == DeviceKind::All) {
            write(&dir.join("devices.deny"), "a")?;
            old.clear();
        }
        let new = merge(rules.iter().flat_map(DeviceRule::v1_entries));
        for r in new.values() {
            write(&dir.join("devices.allow"), &r.to_string())?;
        }
        for (key, r) in merge(old) {
            let keep = new.get(&key).map_or(DeviceAccess::default(), |n| n.access);
            let gone = r.access.without(keep);
            if !gone.is_empty() {
                let entry = DeviceRule { access: gone, ..r };
                write(&dir.join("devices.deny"), &entry.to_string())?;
            }
        }
        Ok(())
    }
}

type Key = (DeviceKind, Option<u32>, Option<u32>);

/// The rules by (kind, major, minor), their accesses joined: how the kernel keeps v1
/// exceptions.
fn merge(rules: impl IntoIterator<Item = DeviceRule>) -> BTreeMap<Key, DeviceRule> {
    let mut m: BTreeMap<Key, DeviceRule> = BTreeMap::new();
    for r in rules {
        m.entry((r.kind, r.major, r.minor))
            .and_modify(|e| e.access = e.access | r.access)
            .or_insert(r);
    }
    m
}

pub(crate) fn parse_list(path: &Path, text: &str) -> Result<Vec<DeviceRule>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.parse().map_err(|_| CgroupError::Parse {
                path: path.to_path_buf(),
                reason: format!("not a device rule: '{l}'"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip() {
        for s in ["c 1:3 rwm", "b 8:* r", "c *:* m", "a *:* rwm", "c 136:* rw"] {
            let r: DeviceRule = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
        assert_eq!(
            "a".parse::<DeviceRule>().unwrap(),
            DeviceRule::all(DeviceAccess::RWM)
        );
        for bad in [
            "",
            "x 1:3 rwm",
            "c 1:3",
            "c 1-3 rwm",
            "c 1:3 rwx",
            "c 4096:0 r",
            "c 1:3 r x",
        ] {
            assert!(bad.parse::<DeviceRule>().is_err(), "{bad}");
        }
        assert_eq!(DeviceAccess::RWM.to_string(), "rwm");
        assert_eq!(
            "mr".parse::<DeviceAccess>().unwrap(),
            DeviceAccess::READ | DeviceAccess::MKNOD
        );
    }

    #[test]
    fn lxc_defaults() {
        let l: Vec<String> = lxc_default_devices()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            l,
            [
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:2 rwm",
                "c 10:229 rwm",
                "c 136:* rwm"
            ]
        );
    }

    #[test]
    fn v1_entries_and_merge() {
        let all = DeviceRule::all(DeviceAccess::MKNOD).v1_entries();
        let s: Vec<String> = all.iter().map(|r| r.to_string()).collect();
        assert_eq!(s, ["b *:* m", "c *:* m"]);
        let m = merge([
            DeviceRule::char(1, Some(3), DeviceAccess::READ),
            DeviceRule::char(1, Some(3), DeviceAccess::WRITE),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(m.values().next().unwrap().to_string(), "c 1:3 rw");
    }

    #[test]
    fn device_of_a_path() {
        let r = DeviceRule::for_path(Path::new("/dev/null"), DeviceAccess::RW).unwrap();
        assert_eq!(r.to_string(), "c 1:3 rw");
        assert!(DeviceRule::for_path(Path::new("/"), DeviceAccess::RW).is_err());
    }

    #[test]
    fn list_file() {
        let p = Path::new("devices.list");
        let l = parse_list(p, "c 1:3 rwm\nc 136:* rwm\n").unwrap();
        assert_eq!(l.len(), 2);
        assert!(parse_list(p, "").unwrap().is_empty());
        assert!(parse_list(p, "junk\n").is_err());
    }
}
