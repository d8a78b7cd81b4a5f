//! Capabilities the container's init loses: libvirt's `<features><capabilities>` policy as
//! data ([`CapsConfig`]), the set it drops ([`CapsConfig::dropped`]), and the child-side code
//! that drops them from the bounding, effective, permitted, inheritable and ambient sets.
//!
//! libvirt's default policy (`lxcContainerDropCapabilities`) drops `sys_module` (no kernel
//! modules), `sys_time` (no changing the clock), `mknod` (no device nodes), `audit_control`
//! and `mac_admin`, and `sys_boot` only on kernels where reboot(2) in a pid namespace is not
//! contained (before Linux 3.4; virtsh assumes a newer kernel, so `sys_boot` stays and
//! `reboot` inside the container ends its init).

use std::fmt;

/// A Linux capability, by its number (`CAP_CHOWN` = 0 ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability(u8);

/// Capability names in kernel order (`include/uapi/linux/capability.h`), lower case without
/// `CAP_`: libvirt's element names in `<features><capabilities>` are the same.
const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

impl Capability {
    pub const SYS_MODULE: Capability = Capability(16);
    pub const SYS_ADMIN: Capability = Capability(21);
    pub const SYS_BOOT: Capability = Capability(22);
    pub const SYS_TIME: Capability = Capability(25);
    pub const MKNOD: Capability = Capability(27);
    pub const AUDIT_CONTROL: Capability = Capability(30);
    pub const MAC_ADMIN: Capability = Capability(33);

    /// The capability of this number, if the kernel's capability space has it (0..=63).
    pub fn from_number(n: u8) -> Option<Capability> {
        (n < 64).then_some(Capability(n))
    }

    /// By its libvirt/kernel name (`sys_admin`, `SYS_ADMIN` or `cap_sys_admin`).
    pub fn from_name(name: &str) -> Option<Capability> {
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
        NAMES
            .iter()
            .position(|n| *n == bare)
            .and_then(|i| u8::try_from(i).ok())
            .map(Capability)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// The lower-case name, or `cap_N` for a number newer than this table.
    pub fn name(self) -> String {
        NAMES
            .get(usize::from(self.0))
            .map_or_else(|| format!("cap_{}", self.0), |n| (*n).to_string())
    }

    fn bit(self) -> u64 {
        1u64 << self.0
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `<capabilities policy=...>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CapsPolicy {
    /// libvirt's default set is dropped; `on` keeps one of them, `off` drops any other.
    #[default]
    Default,
    /// Keep everything except those turned `off`.
    Allow,
    /// Drop everything except those turned `on`.
    Deny,
}

/// The capability policy of a container: the policy and the per-capability `state='on|off'`
/// elements, in document order (a later one for the same capability wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapsConfig {
    pub policy: CapsPolicy,
    pub toggles: Vec<(Capability, bool)>,
}

/// The capabilities libvirt's default policy drops (see the module doc for `sys_boot`).
pub const DEFAULT_DROPPED: [Capability; 5] = [
    Capability::SYS_MODULE,
    Capability::SYS_TIME,
    Capability::MKNOD,
    Capability::AUDIT_CONTROL,
    Capability::MAC_ADMIN,
];

impl CapsConfig {
    fn state(&self, cap: Capability) -> Option<bool> {
        self.toggles
            .iter()
            .rev()
            .find(|(c, _)| *c == cap)
            .map(|(_, on)| *on)
    }

    /// The capabilities the init loses, as a bit mask over capability numbers.
    pub fn dropped_mask(&self) -> u64 {
        let mut mask = 0u64;
        for n in 0..64u8 {
            let cap = Capability(n);
            let state = self.state(cap);
            let drop = match self.policy {
                CapsPolicy::Default if DEFAULT_DROPPED.contains(&cap) => state != Some(true),
                CapsPolicy::Default | CapsPolicy::Allow => state == Some(false),
                CapsPolicy::Deny => state != Some(true),
            };
            if drop {
                mask |= cap.bit();
            }
        }
        mask
    }

    /// The capabilities the init loses, known to this table (numbers up to
    /// `checkpoint_restore`), in order.
    pub fn dropped(&self) -> Vec<Capability> {
        let mask = self.dropped_mask();
        (0..NAMES.len())
            .filter_map(|n| u8::try_from(n).ok())
            .map(Capability)
            .filter(|c| mask & c.bit() != 0)
            .collect()
    }
}

// --- child side: only system calls, no allocation (see `child`) ---

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets as two 32-bit words.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops `mask` from the bounding set first (that needs `CAP_SETPCAP`, which the second step
/// may remove), then from the effective, permitted and inheritable sets, and clears the
/// ambient set. After exec, root's new permitted set is its bounding set, so the bounding
/// set is what keeps these away from the init and everything it starts.
pub(super) fn drop_mask(mask: u64) -> Result<(), libc::c_int> {
    for n in 0..64u32 {
        if mask & (1u64 << n) == 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(n), 0, 0, 0) };
        // EINVAL: a capability this kernel does not know; nothing to drop.
        if rc < 0 && errno() != libc::EINVAL {
            return Err(errno());
        }
    }
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and two data words as capget(2) expects for version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    for (i, word) in data.iter_mut().enumerate() {
        let keep = !((mask >> (32 * i)) as u32);
        word.effective &= keep;
        word.permitted &= keep;
        word.inheritable &= keep;
    }
    // SAFETY: as above, for capset(2).
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(errno());
    }
    // SAFETY: prctl with integer arguments only. EINVAL: a kernel without ambient sets.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc < 0 && errno() != libc::EINVAL {
        return Err(errno());
    }
    Ok(())
}

fn errno() -> libc::c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(
            Capability::from_name("sys_admin"),
            Some(Capability::SYS_ADMIN)
        );
        assert_eq!(Capability::from_name("CAP_MKNOD"), Some(Capability::MKNOD));
        assert_eq!(Capability::from_name("nonsense"), None);
        assert_eq!(Capability::MAC_ADMIN.name(), "mac_admin");
        assert_eq!(Capability(40).name(), "checkpoint_restore");
        assert_eq!(Capability(50).name(), "cap_50");
        assert_eq!(Capability::from_number(64), None);
    }

    #[test]
    fn default_policy_is_libvirts() {
        let dropped = CapsConfig::default().dropped();
        let mut expected = DEFAULT_DROPPED.to_vec();
        expected.sort();
        assert_eq!(dropped, expected);
        assert!(!dropped.contains(&Capability::SYS_BOOT));
    }

    #[test]
    fn default_policy_toggles() {
        let c = CapsConfig {
            policy: CapsPolicy::Default,
            toggles: vec![(Capability::MKNOD, true), (Capability::SYS_ADMIN, false)],
        };
        let d = c.dropped();
        assert!(!d.contains(&Capability::MKNOD));
        assert!(d.contains(&Capability::SYS_ADMIN));
        assert!(d.contains(&Capability::SYS_MODULE));
    }

    #[test]
    fn allow_and_deny() {
        let allow = CapsConfig {
            policy: CapsPolicy::Allow,
            toggles: vec![(Capability::SYS_TIME, false)],
        };
        assert_eq!(allow.dropped(), vec![Capability::SYS_TIME]);
        let deny = CapsConfig {
            policy: CapsPolicy::Deny,
            toggles: vec![(Capability::SYS_ADMIN, true)],
        };
        assert_eq!(deny.dropped_mask(), !Capability::SYS_ADMIN.bit());
        // A later toggle wins.
        let later = CapsConfig {
            policy: CapsPolicy::Allow,
            toggles: vec![(Capability::SYS_TIME, false), (Capability::SYS_TIME, true)],
        };
        assert!(later.dropped().is_empty());
    }
}
