//! One container's init process: new namespaces, its root filesystem and mounts, a minimal
//! `/dev`, the console, the hostname, its network interfaces, dropped capabilities, and the
//! exec of its init. This is what libvirt's `lxc_container.c` does inside `libvirt_lxc`.
//!
//! Two phases, so that the caller (the per-container supervisor) can do its host-side work
//! while the container process exists but before its init runs:
//!
//! 1. [`spawn`] clones a child into new pid, mount, uts and ipc namespaces, a new network
//!    namespace unless [`ContainerSpec::share_net`], and a user namespace when the spec has an
//!    [`IdMap`] (whose `uid_map`/`gid_map` `spawn` writes itself, after `setgroups` `deny` with
//!    [`ContainerSpec::deny_setgroups`]: how an unprivileged caller maps its own ids). The
//!    child waits on a pipe.
//!    The caller gets a [`Pending`] with the pid: it moves veth peers into the network
//!    namespace (`ip link set dev X netns PID`) and puts the pid into cgroups.
//! 2. [`Pending::release`] lets the child finish: mounts, `pivot_root`, `/proc`, `/sys`,
//!    `/dev`, the console, interfaces, hostname, capabilities, then `execve` of the init. A
//!    failing step is written back through a close-on-exec pipe (its index and errno), so
//!    `release` returns a [`ContainerError`] naming the step and the path, and reaps the child.
//!    A successful exec closes the pipe with nothing written, and `release` returns
//!    [`Running`] (pid and pidfd).
//!
//! The whole setup is computed in the parent as a list of steps (`plan`); the child only
//! executes it. Between clone and exec the child runs in a copy of a possibly multi-threaded
//! process, so it must not allocate or take locks: every string is a `CString` prepared by the
//! parent, and the child's own code (`child`) only makes system calls.
//!
//! Modules: `plan` (the steps and their order), `mounts` (root, `/proc`, `/sys`, the
//! `<filesystem>` mounts), `dev` (`/dev`, devpts, the console, host device nodes), `env` (hostname, argv and the
//! environment of the init), [`caps`] (the capability policy), `net` (interface ioctls),
//! `child` (the code that runs in the child), `spawn` ([`spawn`], [`Pending`], [`Running`]).

pub mod caps;
mod child;
mod dev;
mod env;
mod error;
mod mounts;
mod net;
mod plan;
mod spawn;

use std::path::PathBuf;

pub use caps::{Capability, CapsConfig, CapsPolicy};
pub use env::filter_hostname;
pub use error::ContainerError;
pub use spawn::{spawn, Pending, Running, DEFAULT_RELEASE_TIMEOUT};

/// Everything needed to make one container's init process; built by the driver from the
/// domain XML.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// The domain's name: `LIBVIRT_LXC_NAME`, and the hostname after libvirt's filter
    /// ([`filter_hostname`]).
    pub name: String,
    /// The domain's UUID, as text: `LIBVIRT_LXC_UUID` and `container_uuid`.
    pub uuid: String,
    /// `<filesystem type='mount'><source dir=R/><target dir='/'/>`. `None` (or a source of
    /// `/`) shares the host's root, still in a new mount namespace with its own `/proc`,
    /// `/sys` and `/dev`, as libvirt does for a domain without a root filesystem.
    pub root: Option<RootFs>,
    /// The other `<filesystem>` entries, mounted in this order after `/dev`.
    pub mounts: Vec<Mount>,
    /// `<init>` then its `<initarg>`s. The path is looked up inside the container.
    pub init: Vec<String>,
    /// `<initenv name=...>value</initenv>`: added after libvirt's own variables, replacing one
    /// of the same name.
    pub env: Vec<(String, String)>,
    /// `<os><cmdline>`: `LIBVIRT_LXC_CMDLINE` in the init's environment.
    pub cmdline: Option<String>,
    /// `<initdir>`: the init's working directory (`/` without one).
    pub workdir: Option<PathBuf>,
    /// `<idmap>`: run the container in a user namespace with these maps. The root filesystem
    /// must be owned by the uid that container root maps to (as with libvirt), and its path
    /// must be searchable by that uid.
    pub idmap: Option<IdMap>,
    /// Write `deny` to the process's `setgroups` before its `gid_map`, and leave the
    /// supplementary groups alone inside: an unprivileged caller (`lxc:///session`) may only
    /// map its own gid, and the kernel allows that only once setgroups(2) is off for the
    /// namespace. Needs an [`IdMap`].
    pub deny_setgroups: bool,
    /// A pty slave on the host's devpts (the supervisor holds the master): bound onto
    /// `/dev/console` and `/dev/tty1`, and made the init's stdin, stdout, stderr and
    /// controlling terminal. Without one the init inherits the caller's stdio.
    pub console: Option<PathBuf>,
    /// Interfaces the caller moves into the container's network namespace between
    /// [`spawn`] and [`Pending::release`]; the child renames each and brings it up.
    pub interfaces: Vec<NetInterface>,
    /// Stay in the host's network namespace. libvirt shares it when the domain has no
    /// `<interface>` (and no `<features><privnet/>` nor network hostdev); the driver decides,
    /// see [`needs_private_network`]. Incompatible with `interfaces`.
    pub share_net: bool,
    /// `<features><capabilities policy=...>`: which capabilities the init loses.
    pub caps: CapsConfig,
    /// `<hostdev mode='capabilities'>` block and character devices: nodes made in the
    /// container's `/dev` after its own ones. The caller allows them in the container's
    /// cgroup before [`Pending::release`] (making a node needs the `m` access there).
    pub devices: Vec<DeviceNode>,
}

/// A host device node given to the container (`<hostdev mode='capabilities'
/// type='storage'|'misc'>`), as the driver found it on the host when it built the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// The host's node (`<block>` or `<char>`): named in messages and, in a user namespace,
    /// bind-mounted (a node made there could not be opened).
    pub source: PathBuf,
    /// Its path in the container: absolute, under `/dev`, without `..`.
    pub target: PathBuf,
    /// A block device (`type='storage'`) rather than a character one.
    pub block: bool,
    pub major: u32,
    pub minor: u32,
}

/// The container's root filesystem: a host directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFs {
    pub source: PathBuf,
    /// `<readonly/>`: the root mount is read-only once everything is mounted on it.
    pub readonly: bool,
}

/// A `<filesystem>` other than the root. Targets are paths inside the container; missing
/// target directories (or, for a file bind, an empty file) are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// `type='mount'`: a bind mount of a host directory or file (recursive, so that mounts
    /// under the source come along: required in a user namespace, where they are locked).
    Bind {
        source: PathBuf,
        target: PathBuf,
        readonly: bool,
    },
    /// `type='ram'` (libvirt mounts it as tmpfs) or a tmpfs: `size_bytes` is `<source
    /// usage>`; `None` is the kernel's default (half of RAM).
    Tmpfs {
        target: PathBuf,
        size_bytes: Option<u64>,
        readonly: bool,
    },
}

impl Mount {
    pub fn target(&self) -> &std::path::Path {
        match self {
            Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target,
        }
    }
}

/// `<idmap>`: uid and gid ranges of the user namespace. Both must be non-empty, and both must
/// map 0 (the init runs as root of the namespace, as with libvirt).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    pub uid: Vec<IdRange>,
    pub gid: Vec<IdRange>,
}

/// `<uid start='0' target='100000' count='65536'/>`: ids `start..start+count` in the container
/// are `target..target+count` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub start: u32,
    pub target: u32,
    pub count: u32,
}

impl IdRange {
    /// Whether `id`, an id inside the container, falls in this range.
    pub fn contains(&self, id: u32) -> bool {
        id >= self.start && u64::from(id) < u64::from(self.start) + u64::from(self.count)
    }
}

/// One network interface given to the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInterface {
    /// Its name when the caller moves it in (the host-side-created veth peer).
    pub host_name: String,
    /// Its name inside the container (`<guest dev=...>`, or libvirt's `ethN`).
    pub guest_name: String,
}

/// libvirt's `lxcNeedNetworkNamespace`: a container gets its own network namespace when it
/// has interfaces, when `<features><privnet/>` is on, or when it has a network hostdev.
/// Otherwise it shares the host's (`ContainerSpec::share_net = true`).
pub fn needs_private_network(has_interfaces: bool, privnet: bool, has_net_hostdev: bool) -> bool {
    has_interfaces || privnet || has_net_hostdev
}
