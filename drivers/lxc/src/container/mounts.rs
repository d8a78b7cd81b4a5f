//! The steps for the container's mounts: its root (`pivot_root`), the kernel file systems
//! (`/proc`, `/sys`) and the `<filesystem>` mounts.
//!
//! With a root filesystem, the child bind-mounts it onto itself (a mount point of its own, as
//! `pivot_root` requires) and pivots with the old root on `R/.oldroot`, which stays attached
//! while the kernel file systems are mounted (a new `/proc` or `/sys` in a user namespace
//! needs a fully visible one in the same mount namespace) and is detached at the end. Mount
//! targets are resolved after the pivot, inside the container, so a symlink in the
//! container's tree cannot send a mount onto the host's files; host sources are cloned
//! (`open_tree`) before the pivot and attached there (`move_mount`).
//!
//! Without one (libvirt's shared root), the host's `/proc`, `/sys` and `/dev` are detached in
//! the new mount namespace and fresh ones are mounted in their place; in a user namespace
//! they cannot be detached (mounts inherited from a more privileged namespace are locked),
//! so the new ones cover them.

use std::path::{Component, Path};

use super::error::ContainerError;
use super::plan::{cpath, cstr, Builder, Op};
use super::{ContainerSpec, Mount};

/// The root filesystem to pivot into.
pub(super) struct Root {
    path: std::ffi::CString,
    text: String,
    pub readonly: bool,
}

/// The root to pivot into, or `None` to share the host's (`root` absent, or `/`).
pub(super) fn root_source(spec: &ContainerSpec) -> Result<Option<Root>, ContainerError> {
    let Some(root) = &spec.root else {
        return Ok(None);
    };
    let text = root.source.display().to_string();
    let host = |source| ContainerError::Host {
        step: "use root filesystem",
        path: text.clone(),
        source,
    };
    // Canonical, so that `R/.oldroot` and the pivot name the same directory as the bind.
    let canonical = std::fs::canonicalize(&root.source).map_err(host)?;
    if !canonical.is_dir() {
        return Err(host(std::io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    if canonical == Path::new("/") {
        return Ok(None);
    }
    Ok(Some(Root {
        path: cpath("root filesystem", &canonical)?,
        text: canonical.display().to_string(),
        readonly: root.readonly,
    }))
}

/// Slots of the host objects the mounts need.
pub(super) struct Sources {
    /// The slot of each `<filesystem>`'s source, by index (`None` for a tmpfs).
    pub binds: Vec<Option<usize>>,
    /// The host's `/sys`, bound read-only in a user namespace that shares the host's network
    /// namespace: sysfs cannot be mounted fresh there (its network view belongs to a
    /// namespace the container does not own).
    pub host_sys: Option<usize>,
}

/// Checks the mount targets and adds the steps that open the bind sources.
pub(super) fn open_sources(
    b: &mut Builder,
    spec: &ContainerSpec,
    private_net: bool,
) -> Result<Sources, ContainerError> {
    let mut binds = Vec::with_capacity(spec.mounts.len());
    for m in &spec.mounts {
        check_target(m.target())?;
        match m {
            Mount::Bind { source, .. } => {
                let slot = b.slot()?;
                b.push(
                    Op::CloneTree {
                        path: cpath("filesystem source", source)?,
                        slot,
                        recursive: true,
                    },
                    "open",
                    source.display().to_string(),
                );
                binds.push(Some(slot));
            }
            Mount::Tmpfs { .. } => binds.push(None),
        }
    }
    let host_sys = if spec.idmap.is_some() && !private_net {
        let slot = b.slot()?;
        b.push(
            Op::CloneTree {
                path: cstr("path", "/sys")?,
                slot,
                recursive: true,
            },
            "open",
            "/sys",
        );
        Some(slot)
    } else {
        None
    };
    Ok(Sources { binds, host_sys })
}

/// A mount target: absolute, not `/` (the root is `ContainerSpec::root`), no `..`.
fn check_target(target: &Path) -> Result<(), ContainerError> {
    let bad = |why: &str| {
        ContainerError::Invalid(format!("filesystem target '{}' {why}", target.display()))
    };
    if !target.is_absolute() {
        return Err(bad("is not an absolute path"));
    }
    if target.components().any(|c| c == Component::ParentDir) {
        return Err(bad("contains '..'"));
    }
    if target.components().all(|c| c == Component::RootDir) {
        return Err(bad("is the root: give it as the root filesystem"));
    }
    Ok(())
}

/// Makes every mount private, then pivots into the root or clears the shared root's kernel
/// file systems.
pub(super) fn enter_root(b: &mut Builder, root: Option<&Root>) -> Result<(), ContainerError> {
    // Before anything else, so that no mount below leaks into the host's namespace (and
    // `pivot_root` refuses a shared parent mount).
    b.push(
        Op::Mount {
            src: cstr("source", "")?,
            target: cstr("target", "/")?,
            fstype: None,
            flags: libc::MS_REC | libc::MS_PRIVATE,
            data: None,
            optional: false,
        },
        "make mounts private",
        "under /",
    );
    match root {
        Some(root) => {
            b.push(
                Op::Mount {
                    src: root.path.clone(),
                    target: root.path.clone(),
                    fstype: None,
                    flags: libc::MS_BIND | libc::MS_REC,
                    data: None,
                    optional: false,
                },
                "bind-mount",
                format!("{} on itself", root.text),
            );
            let old = format!("{}/.oldroot", root.text);
            b.push(
                Op::MkdirAll {
                    path: cstr("path", &old)?,
                },
                "create directory",
                old,
            );
            b.push(
                Op::Chdir {
                    path: root.path.clone(),
                },
                "change directory to",
                root.text.clone(),
            );
            b.push(
                Op::PivotRoot {
                    new_root: cstr("path", ".")?,
                    put_old: cstr("path", ".oldroot")?,
                },
                "pivot into",
                root.text.clone(),
            );
            // The current directory is undefined after pivot_root.
            b.push(
                Op::Chdir {
                    path: cstr("path", "/")?,
                },
                "change directory to",
                "/",
            );
        }
        None => {
            for dir in ["/proc", "/sys", "/dev"] {
                b.push(
                    Op::Detach {
                        target: cstr("path", dir)?,
                        tolerate: true,
                    },
                    "detach",
                    dir,
                );
            }
        }
    }
    Ok(())
}

const KERNEL_FS_FLAGS: libc::c_ulong = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;

/// `/proc` (of the new pid namespace) with `/proc/sys` read-only except the network
/// sysctls of a private network namespace, and `/sys` read-only: libvirt's `lxcBasicMounts`.
/// Read-only is a second, bind remount: mounting with `MS_RDONLY` at once could turn the
/// host's superblock read-only on some kernels.
pub(super) fn basic(
    b: &mut Builder,
    private_net: bool,
    host_sys: Option<usize>,
) -> Result<(), ContainerError> {
    mkdir(b, "/proc")?;
    mount_fs(b, "proc", "/proc", "proc", KERNEL_FS_FLAGS, None)?;
    bind_self(b, "/proc/sys", false)?;
    remount_ro(b, "/proc/sys", KERNEL_FS_FLAGS)?;
    if private_net {
        // The container's own network sysctls stay writable (they are per namespace).
        bind_self(b, "/proc/sys/net/ipv4", true)?;
        bind_self(b, "/proc/sys/net/ipv6", true)?;
    }
    mkdir(b, "/sys")?;
    match host_sys {
        Some(slot) => b.push(
            Op::Attach {
                slot,
                target: cstr("path", "/sys")?,
            },
            "bind-mount",
            "the host's /sys on /sys",
        ),
        None => mount_fs(b, "sysfs", "/sys", "sysfs", KERNEL_FS_FLAGS, None)?,
    }
    remount_ro(b, "/sys", KERNEL_FS_FLAGS)?;
    Ok(())
}

/// The `<filesystem>` mounts, in order.
pub(super) fn user_mounts(
    b: &mut Builder,
    spec: &ContainerSpec,
    binds: &[Option<usize>],
) -> Result<(), ContainerError> {
    for (m, slot) in spec.mounts.iter().zip(binds) {
        let target_text = m.target().display().to_string();
        let target = cpath("filesystem target", m.target())?;
        match (m, slot) {
            (
                Mount::Bind {
                    source, readonly, ..
                },
                Some(slot),
            ) => {
                b.push(
                    Op::BindTarget {
                        path: target.clone(),
                        like: *slot,
                    },
                    "create mount point",
                    target_text.clone(),
                );
                b.push(
                    Op::Attach {
                        slot: *slot,
                        target,
                    },
                    "bind-mount",
                    format!("{} on {target_text}", source.display()),
                );
                if *readonly {
                    remount_ro(b, &target_text, 0)?;
                }
            }
            (
                Mount::Tmpfs {
                    size_bytes,
                    readonly,
                    ..
                },
                _,
            ) => {
                mkdir(b, &target_text)?;
                let data = size_bytes.map(|n| format!("size={n}"));
                mount_fs(
                    b,
                    "tmpfs",
                    &target_text,
                    "tmpfs",
                    libc::MS_NOSUID | libc::MS_NODEV,
                    data.as_deref(),
                )?;
                if *readonly {
                    remount_ro(b, &target_text, libc::MS_NOSUID | libc::MS_NODEV)?;
                }
            }
            (Mount::Bind { .. }, None) => {
                return Err(ContainerError::Invalid(format!(
                    "filesystem {target_text} has no source"
                )))
            }
        }
    }
    Ok(())
}

/// Detaches the host's old root (with a root filesystem), removes its mount point, and makes
/// the root read-only if asked: last, so that the mount points above could be created.
pub(super) fn leave_old_root(b: &mut Builder, readonly: Option<bool>) {
    let Some(readonly) = readonly else {
        return;
    };
    // Literal paths: no NUL, so these cannot fail.
    let old = c"/.oldroot".to_owned();
    b.push(
        Op::Detach {
            target: old.clone(),
            tolerate: false,
        },
        "detach",
        "/.oldroot",
    );
    b.push(Op::RmdirQuiet { path: old }, "remove", "/.oldroot");
    if readonly {
        b.push(
            Op::RemountRo {
                target: c"/".to_owned(),
                flags: 0,
            },
            "make read-only",
            "/",
        );
    }
}

pub(super) fn mkdir(b: &mut Builder, path: &str) -> Result<(), ContainerError> {
    b.push(
        Op::MkdirAll {
            path: cstr("path", path)?,
        },
        "create directory",
        path,
    );
    Ok(())
}

pub(super) fn mount_fs(
    b: &mut Builder,
    source: &str,
    target: &str,
    fstype: &str,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<(), ContainerError> {
    b.push(
        Op::Mount {
            src: cstr("source", source)?,
            target: cstr("target", target)?,
            fstype: Some(cstr("type", fstype)?),
            flags,
            data: data.map(|d| cstr("options", d)).transpose()?,
            optional: false,
        },
        "mount",
        format!("{fstype} on {target}"),
    );
    Ok(())
}

fn bind_self(b: &mut Builder, path: &str, optional: bool) -> Result<(), ContainerError> {
    let c = cstr("path", path)?;
    b.push(
        Op::Mount {
            src: c.clone(),
            target: c,
            fstype: None,
            flags: libc::MS_BIND,
            data: None,
            optional,
        },
        "bind-mount",
        format!("{path} on itself"),
    );
    Ok(())
}

pub(super) fn remount_ro(
    b: &mut Builder,
    path: &str,
    flags: libc::c_ulong,
) -> Result<(), ContainerError> {
    b.push(
        Op::RemountRo {
            target: cstr("path", path)?,
            flags,
        },
        "make read-only",
        path,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert!(check_target(Path::new("/data")).is_ok());
        assert!(check_target(Path::new("data")).is_err());
        assert!(check_target(Path::new("/")).is_err());
        assert!(check_target(Path::new("/a/../b")).is_err());
    }

    #[test]
    fn slash_root_is_shared() {
        let spec = ContainerSpec {
            root: Some(super::super::RootFs {
                source: "/".into(),
                readonly: false,
            }),
            ..Default::default()
        };
        assert!(matches!(root_source(&spec), Ok(None)));
    }
}
