//! The container's setup as data: the ordered steps the child executes after its release.
//!
//! Computing the steps in the parent keeps the child trivial (a loop of system calls, no
//! allocation), makes the order readable in one place, and lets each failure be described
//! by the parent with the paths it knows (the child only reports a step index and errno).
//!
//! The order follows libvirt's `lxcContainerChild` and `lxcContainerSetupPivotRoot`:
//! open what is needed from the host, become root of the user namespace, make every mount
//! private, pivot into the root filesystem (keeping the old root on `/.oldroot` until the
//! end), mount `/proc`, `/sys`, `/dev` and devpts, the console, the host device nodes (as
//! libvirt's controller makes them in `/dev` before the init), the `<filesystem>` mounts,
//! configure interfaces, drop the old root, set the hostname, attach the console, drop
//! capabilities, exec.

use std::ffi::CString;
use std::path::Path;

use super::error::ContainerError;
use super::{dev, env, mounts, net, ContainerSpec};

/// How many host objects (bind sources, the console, host device nodes) the child may hold
/// open at once: the child keeps their descriptors in a fixed array on its stack.
pub(super) const MAX_SLOTS: usize = 128;

/// One system-level action in the child.
#[derive(Debug)]
pub(super) enum Op {
    /// `open_tree(OPEN_TREE_CLONE)` into a slot: a detached copy of the host mount at
    /// `path` (with its submounts if `recursive`), taken before the mounts change. Attached
    /// later, it does not depend on the host's tree still being reachable (after the
    /// pivot, or after a shared root's `/dev` is detached).
    CloneTree {
        path: CString,
        slot: usize,
        recursive: bool,
    },
    /// `move_mount` of a slot's detached tree onto `target` (once: it is then attached).
    Attach {
        slot: usize,
        target: CString,
    },
    /// `open(path, O_RDWR | O_NOCTTY)` of the console into a slot.
    OpenTty {
        path: CString,
        slot: usize,
    },
    /// In a user namespace: drop supplementary groups (unless setgroups(2) is denied there:
    /// `groups` false), then gid and uid 0 of the namespace.
    SetIds {
        groups: bool,
    },
    Mount {
        src: CString,
        target: CString,
        fstype: Option<CString>,
        flags: libc::c_ulong,
        data: Option<CString>,
        /// ENOENT (missing source or target) skips the mount: libvirt skips sources that a
        /// kernel without some feature lacks.
        optional: bool,
    },
    /// A bind remount read-only that keeps the mount's nosuid/nodev/noexec/atime flags (in a
    /// user namespace they are locked, and dropping one fails with EPERM).
    RemountRo {
        target: CString,
        flags: libc::c_ulong,
    },
    /// `umount2(MNT_DETACH)`: the mount and everything under it.
    Detach {
        target: CString,
        tolerate: bool,
    },
    /// `mkdir -p`.
    MkdirAll {
        path: CString,
    },
    /// A bind target like the slot's object: a directory, or an empty file for a file.
    BindTarget {
        path: CString,
        like: usize,
    },
    /// An empty file, unless the path exists.
    CreateFile {
        path: CString,
        mode: libc::mode_t,
    },
    /// A device node of `kind` (`S_IFCHR` or `S_IFBLK`) with exactly `mode` (not the
    /// umask's).
    Mknod {
        path: CString,
        kind: libc::mode_t,
        mode: libc::mode_t,
        dev: libc::dev_t,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    Chdir {
        path: CString,
    },
    /// `pivot_root(new_root, put_old)`, relative to the current directory.
    PivotRoot {
        new_root: CString,
        put_old: CString,
    },
    /// Best effort: `/.oldroot` is left empty in the container if this fails.
    RmdirQuiet {
        path: CString,
    },
    IfRename {
        from: CString,
        to: CString,
    },
    IfUp {
        name: CString,
    },
    SetHostname {
        name: CString,
    },
    Setsid,
    /// The slot's terminal becomes stdin, stdout, stderr and the controlling terminal.
    Console {
        slot: usize,
    },
    /// `access(F_OK)` of the init, so that a missing init is told apart from a failed exec.
    CheckInit {
        path: CString,
    },
    DropCaps {
        mask: u64,
    },
    /// `execve` of the plan's init with its argv and environment.
    Exec,
}

/// One step and how to describe its failure.
#[derive(Debug)]
pub(super) struct Step {
    pub op: Op,
    /// The verb of the error message ("mount", "bind-mount", "pivot into", ...).
    pub what: &'static str,
    /// What it acted on, with host paths spelled out ("tmpfs on /dev").
    pub subject: String,
}

/// The whole setup, plus the init's argv and environment.
#[derive(Debug)]
pub(super) struct Plan {
    pub steps: Vec<Step>,
    pub init: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// clone(2) namespace flags.
    pub clone_flags: libc::c_int,
}

/// Builds the steps, allocating slot numbers as it goes.
pub(super) struct Builder {
    pub steps: Vec<Step>,
    next_slot: usize,
}

impl Builder {
    pub fn push(&mut self, op: Op, what: &'static str, subject: impl Into<String>) {
        self.steps.push(Step {
            op,
            what,
            subject: subject.into(),
        });
    }

    pub fn slot(&mut self) -> Result<usize, ContainerError> {
        let slot = self.next_slot;
        if slot >= MAX_SLOTS {
            return Err(ContainerError::Invalid(format!(
                "too many bind mounts (the container process holds at most {MAX_SLOTS} host \
                 objects, the console and device nodes included)"
            )));
        }
        self.next_slot += 1;
        Ok(slot)
    }
}

/// A C string from text of the spec, or an error naming the field.
pub(super) fn cstr(field: &str, text: &str) -> Result<CString, ContainerError> {
    CString::new(text)
        .map_err(|_| ContainerError::Invalid(format!("{field} '{text}' contains a NUL byte")))
}

/// A C string from a path of the spec.
pub(super) fn cpath(field: &str, path: &Path) -> Result<CString, ContainerError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        ContainerError::Invalid(format!("{field} {} contains a NUL byte", path.display()))
    })
}

/// Checks the spec and computes the setup.
pub(super) fn build(spec: &ContainerSpec) -> Result<Plan, ContainerError> {
    let private_net = !spec.share_net;
    if !private_net && !spec.interfaces.is_empty() {
        // libvirt: "Config asks for inherit net namespace as well as private network
        // interfaces".
        return Err(ContainerError::Invalid(
            "network interfaces need a private network namespace".into(),
        ));
    }
    let userns = spec.idmap.is_some();
    if spec.deny_setgroups && !userns {
        return Err(ContainerError::Invalid(
            "denying setgroups needs a user namespace (an idmap)".into(),
        ));
    }
    if let Some(map) = &spec.idmap {
        if map.uid.is_empty() || map.gid.is_empty() {
            return Err(ContainerError::Invalid(
                "an idmap needs both uid and gid ranges".into(),
            ));
        }
        // The init runs as root of the namespace (libvirt's lxcContainerSetID).
        if !map.uid.iter().any(|r| r.contains(0)) || !map.gid.iter().any(|r| r.contains(0)) {
            return Err(ContainerError::Invalid(
                "the idmap must map uid 0 and gid 0 of the container".into(),
            ));
        }
    }
    let root = mounts::root_source(spec)?;
    let (init, argv, envp) = env::command(spec)?;
    let hostname = env::filter_hostname(&spec.name);

    let mut b = Builder {
        steps: Vec::new(),
        next_slot: 0,
    };

    // Host objects first, while the child still sees the host's mounts (and, in a user
    // namespace, while it still has host root's uid, which owns the console).
    let console = match &spec.console {
        Some(path) => {
            let text = path.display().to_string();
            let c = cpath("console", path)?;
            let tty = b.slot()?;
            b.push(
                Op::OpenTty {
                    path: c.clone(),
                    slot: tty,
                },
                "open console",
                text.clone(),
            );
            let tree = b.slot()?;
            b.push(
                Op::CloneTree {
                    path: c,
                    slot: tree,
                    recursive: false,
                },
                "open",
                text,
            );
            Some((tty, tree))
        }
        None => None,
    };
    let sources = mounts::open_sources(&mut b, spec, private_net)?;
    let nodes = dev::open_host_nodes(&mut b, spec, userns)?;
    if userns {
        b.push(
            Op::SetIds {
                groups: !spec.deny_setgroups,
            },
            "become root of",
            "the user namespace",
        );
    }

    mounts::enter_root(&mut b, root.as_ref())?;
    mounts::basic(&mut b, private_net, sources.host_sys)?;
    dev::populate(&mut b, spec, nodes.as_ref(), console.map(|(_, tree)| tree))?;
    mounts::user_mounts(&mut b, spec, &sources.binds)?;
    if private_net {
        net::configure(&mut b, &spec.interfaces)?;
    }
    mounts::leave_old_root(&mut b, root.as_ref().map(|r| r.readonly));

    b.push(
        Op::SetHostname {
            name: cstr("hostname", &hostname)?,
        },
        "set hostname",
        hostname.clone(),
    );
    // libvirt makes the init a session leader in any case.
    b.push(Op::Setsid, "become", "a session leader");
    if let Some((slot, _)) = console {
        b.push(
            Op::Console { slot },
            "attach console",
            spec.console
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
    }
    let workdir = spec.workdir.as_deref().unwrap_or(Path::new("/"));
    b.push(
        Op::Chdir {
            path: cpath("initdir", workdir)?,
        },
        "change to init directory",
        workdir.display().to_string(),
    );
    let init_text = spec.init.first().cloned().unwrap_or_default();
    b.push(
        Op::CheckInit { path: init.clone() },
        "find init",
        init_text.clone(),
    );
    let mask = spec.caps.dropped_mask();
    b.push(
        Op::DropCaps { mask },
        "drop capabilities",
        format!("{mask:#x}"),
    );
    b.push(Op::Exec, "execute init", init_text);

    let mut clone_flags =
        libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if private_net {
        clone_flags |= libc::CLONE_NEWNET;
    }
    if userns {
        clone_flags |= libc::CLONE_NEWUSER;
    }
    Ok(Plan {
        steps: b.steps,
        init,
        argv,
        envp,
        clone_flags,
    })
}

/// The namespaces in `flags`, for an error message.
pub(super) fn namespace_names(flags: libc::c_int) -> String {
    let all = [
        (libc::CLONE_NEWPID, "pid"),
        (libc::CLONE_NEWNS, "mount"),
        (libc::CLONE_NEWUTS, "uts"),
        (libc::CLONE_NEWIPC, "ipc"),
        (libc::CLONE_NEWNET, "net"),
        (libc::CLONE_NEWUSER, "user"),
    ];
    all.iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::super::{DeviceNode, IdMap, IdRange, Mount, NetInterface, RootFs};
    use super::*;

    fn spec() -> ContainerSpec {
        ContainerSpec {
            name: "web1".into(),
            uuid: "c7a5fdbd-edaf-9455-926a-d65c16db1809".into(),
            root: Some(RootFs {
                source: std::env::temp_dir(),
                readonly: false,
            }),
            init: vec!["/sbin/init".into()],
            ..Default::default()
        }
    }

    fn whats(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| format!("{} {}", s.what, s.subject))
            .collect()
    }

    #[test]
    fn order_follows_libvirt() {
        let mut s = spec();
        s.console = Some("/dev/pts/7".into());
        let plan = build(&s).expect("plan");
        let w = whats(&plan);
        let pos = |needle: &str| {
            w.iter()
                .position(|x| x.starts_with(needle))
                .unwrap_or_else(|| panic!("no step {needle}: {w:#?}"))
        };
        assert_eq!(pos("open console"), 0);
        assert!(pos("make mounts private") < pos("pivot into"));
        assert!(pos("pivot into") < pos("mount proc on /proc"));
        assert!(pos("mount proc on /proc") < pos("mount sysfs on /sys"));
        assert!(pos("mount sysfs on /sys") < pos("mount tmpfs on /dev"));
        assert!(pos("mount tmpfs on /dev") < pos("mount devpts on /dev/pts"));
        assert!(pos("bind-mount /dev/pts/7 on /dev/console") < pos("detach /.oldroot"));
        assert!(pos("detach /.oldroot") < pos("set hostname"));
        assert!(pos("attach console") < pos("find init"));
        assert!(pos("drop capabilities") < pos("execute init"));
        assert_eq!(
            w.last().map(String::as_str),
            Some("execute init /sbin/init")
        );
        let flags = plan.clone_flags;
        assert_ne!(flags & libc::CLONE_NEWNET, 0);
        assert_eq!(flags & libc::CLONE_NEWUSER, 0);
    }

    #[test]
    fn without_userns_nodes_are_made() {
        let plan = build(&spec()).expect("plan");
        let w = whats(&plan);
        assert!(w.iter().any(|x| x == "create device node /dev/null"));
        assert!(!w.iter().any(|x| x.starts_with("open /dev/null")));
        assert!(!w.iter().any(|x| x.starts_with("become root")));
    }

    #[test]
    fn userns_binds_host_nodes_and_sets_ids() {
        let mut s = spec();
        s.idmap = Some(IdMap {
            uid: vec![IdRange {
                start: 0,
                target: 100000,
                count: 65536,
            }],
            gid: vec![IdRange {
                start: 0,
                target: 100000,
                count: 65536,
            }],
        });
        let plan = build(&s).expect("plan");
        let w = whats(&plan);
        assert!(w.iter().any(|x| x == "open /dev/null"));
        assert!(w.iter().any(|x| x == "bind-mount /dev/null on /dev/null"));
        assert!(!w.iter().any(|x| x.starts_with("create device node")));
        assert_ne!(plan.clone_flags & libc::CLONE_NEWUSER, 0);
    }

    #[test]
    fn denied_setgroups_keeps_the_groups() {
        let mut s = spec();
        s.deny_setgroups = true;
        assert!(
            matches!(build(&s), Err(ContainerError::Invalid(_))),
            "needs an idmap"
        );
        let one = |target| IdRange {
            start: 0,
            target,
            count: 1,
        };
        s.idmap = Some(IdMap {
            uid: vec![one(1000)],
            gid: vec![one(1000)],
        });
        let plan = build(&s).expect("plan");
        assert!(plan
            .steps
            .iter()
            .any(|st| matches!(st.op, Op::SetIds { groups: false })));
    }

    fn tun() -> DeviceNode {
        DeviceNode {
            source: "/dev/net/tun".into(),
            target: "/dev/net/tun".into(),
            block: false,
            major: 10,
            minor: 200,
        }
    }

    #[test]
    fn host_devices_are_made_last_in_dev() {
        let mut s = spec();
        s.console = Some("/dev/pts/7".into());
        s.devices = vec![tun()];
        let plan = build(&s).expect("plan");
        let w = whats(&plan);
        let pos = |needle: &str| {
            w.iter()
                .position(|x| x == needle)
                .unwrap_or_else(|| panic!("no step {needle}: {w:#?}"))
        };
        let node = pos("create device node /dev/net/tun (10:200 of /dev/net/tun)");
        assert_eq!(pos("create directory /dev/net") + 1, node);
        assert!(pos("mount devpts on /dev/pts") < node);
        assert!(pos("bind-mount /dev/pts/7 on /dev/tty1") < node);
        assert!(node < pos("detach /.oldroot"));
        let made = plan.steps.iter().find_map(|st| match &st.op {
            Op::Mknod {
                path,
                kind,
                mode,
                dev,
            } if path.as_bytes() == b"/dev/net/tun" => Some((*kind, *mode, *dev)),
            _ => None,
        });
        assert_eq!(
            made,
            Some((libc::S_IFCHR, 0o700, libc::makedev(10, 200))),
            "a char node, libvirt's mode"
        );
    }

    #[test]
    fn host_devices_in_a_userns_are_bound() {
        let mut s = spec();
        let range = IdRange {
            start: 0,
            target: 100000,
            count: 65536,
        };
        s.idmap = Some(IdMap {
            uid: vec![range],
            gid: vec![range],
        });
        s.devices = vec![tun()];
        let w = whats(&build(&s).expect("plan"));
        let pos = |needle: &str| {
            w.iter()
                .position(|x| x == needle)
                .unwrap_or_else(|| panic!("no step {needle}: {w:#?}"))
        };
        assert!(pos("open /dev/net/tun") < pos("become root of the user namespace"));
        assert!(pos("create file /dev/net/tun") < pos("bind-mount /dev/net/tun on /dev/net/tun"));
        assert!(!w.iter().any(|x| x.starts_with("create device node")));
    }

    #[test]
    fn host_device_targets_stay_in_dev() {
        for target in ["/etc/passwd", "/dev", "/dev/../etc/x", "dev/x"] {
            let mut s = spec();
            s.devices = vec![DeviceNode {
                target: target.into(),
                ..tun()
            }];
            assert!(
                matches!(build(&s), Err(ContainerError::Invalid(_))),
                "{target}"
            );
        }
    }

    #[test]
    fn shared_net_rejects_interfaces() {
        let mut s = spec();
        s.share_net = true;
        s.interfaces = vec![NetInterface {
            host_name: "vb0".into(),
            guest_name: "eth0".into(),
        }];
        assert!(matches!(build(&s), Err(ContainerError::Invalid(_))));
        s.interfaces.clear();
        let plan = build(&s).expect("plan");
        assert_eq!(plan.clone_flags & libc::CLONE_NEWNET, 0);
        assert!(!whats(&plan).iter().any(|x| x.starts_with("bring up")));
    }

    #[test]
    fn bad_specs() {
        let mut s = spec();
        s.init.clear();
        assert!(matches!(build(&s), Err(ContainerError::Invalid(_))));
        let mut s = spec();
        s.mounts.push(Mount::Tmpfs {
            target: "relative".into(),
            size_bytes: None,
            readonly: false,
        });
        assert!(matches!(build(&s), Err(ContainerError::Invalid(_))));
        let mut s = spec();
        s.interfaces.push(NetInterface {
            host_name: "vb0".into(),
            guest_name: "a-name-longer-than-15".into(),
        });
        assert!(matches!(build(&s), Err(ContainerError::Invalid(_))));
        let mut s = spec();
        s.root = Some(RootFs {
            source: "/nonexistent/root".into(),
            readonly: false,
        });
        assert!(matches!(build(&s), Err(ContainerError::Host { .. })));
        let mut s = spec();
        let range = IdRange {
            start: 1,
            target: 100000,
            count: 10,
        };
        s.idmap = Some(IdMap {
            uid: vec![range],
            gid: vec![range],
        });
        assert!(matches!(build(&s), Err(ContainerError::Invalid(_))));
    }
}
