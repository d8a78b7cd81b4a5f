//! Host block and character devices given to containers (`<hostdev mode='capabilities'
//! type='storage'|'misc'>`, libvirt's LXC device assignment), end to end through the `virtsh`
//! binary with real namespaces, cgroups and loop devices:
//!
//! - a loop device given as storage appears in the container's `/dev` with the host's numbers
//!   and can be read from inside; a loop device not given is refused by the cgroup's device
//!   list even where a node for it exists; `/dev/net/tun` given as misc appears and opens;
//! - the same through the cgroup2 device program (`VIRTSH_CGROUP=v2`);
//! - a regular file, a missing path, a block device given as misc or a relative path fail
//!   the start with libvirt's errors, and so does a node the container's setup cannot make;
//!   nothing is left behind (supervisor, container process, cgroup).
//!
//! Commands run inside through `lxc-enter-namespace`, which joins the container's cgroup
//! too. Needs root, a static busybox, `losetup` with free loop devices and `/dev/net/tun`:
//! SKIP otherwise (a failure under CI=true).

mod support;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use support::lxc_lab::{groups_of, v2_mount, Lab};
use support::rootfs::can_run_containers;
use support::{in_ci, unique_name};

/// The init of every container: idle until told to stop.
const IDLE: &str = "trap 'exit 0' TERM; while :; do sleep 1; done";

/// `losetup -f` picks the first free device and then binds it: two tests of this binary
/// doing it at once could pick the same one.
static LOSETUP: Mutex<()> = Mutex::new(());

/// Whether this host can run these tests (see the module's documentation).
fn can_run(test: &str) -> bool {
    if !can_run_containers(test) {
        return false;
    }
    let tun_ok = std::fs::metadata("/dev/net/tun").is_ok_and(|m| m.file_type().is_char_device());
    let why = if Command::new("losetup").arg("--version").output().is_err() {
        Some("losetup is not installed (apt-get install mount)")
    } else if !Path::new("/dev/loop-control").exists() {
        Some("no /dev/loop-control (modprobe loop)")
    } else if !tun_ok {
        Some("/dev/net/tun is not a character device (modprobe tun)")
    } else {
        None
    };
    match why {
        None => true,
        Some(w) => {
            assert!(!in_ci(), "{test}: {w} (CI=true)");
            eprintln!("SKIP {test}: {w}");
            false
        }
    }
}

/// Major and minor of the device node at `path` on the host.
fn numbers(path: &Path) -> (u32, u32) {
    let rdev = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .rdev();
    (libc::major(rdev), libc::minor(rdev))
}

/// A loop device over a small file that starts with `magic`; detached on drop.
struct LoopDev {
    dev: PathBuf,
}

impl LoopDev {
    fn attach(dir: &Path, magic: &str) -> LoopDev {
        let file = dir.join(format!("{magic}.img"));
        let mut data = magic.as_bytes().to_vec();
        data.resize(1 << 20, 0);
        std::fs::write(&file, data).expect("write the loop device's file");
        let _one = LOSETUP.lock().unwrap_or_else(|p| p.into_inner());
        let o = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(&file)
            .output()
            .expect("run losetup");
        assert!(
            o.status.success(),
            "losetup -f --show {}: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let dev = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        assert!(
            std::fs::metadata(&dev).is_ok_and(|m| m.file_type().is_block_device()),
            "losetup gave {}",
            dev.display()
        );
        LoopDev { dev }
    }

    fn path(&self) -> &str {
        self.dev.to_str().expect("a UTF-8 device path")
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).output();
    }
}

/// `<hostdev>` of `kind` (`storage`, `misc`) as libvirt prints it inside `<devices>`.
fn hostdev(kind: &str, path: &str) -> String {
    let child = if kind == "storage" { "block" } else { "char" };
    format!(
        "    <hostdev mode='capabilities' type='{kind}'>
      <source>
        <{child}>{path}</{child}>
      </source>
    </hostdev>
"
    )
}

/// Whether a cgroup v1 hierarchy with the devices controller is mounted (then virtsh drives
/// cgroups in v1 and the container's group has a `devices.list`).
fn v1_devices_mounted() -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines().any(|l| {
        l.split_once(" - ").is_some_and(|(_, fs)| {
            let f: Vec<&str> = fs.split(' ').collect();
            f.first() == Some(&"cgroup")
                && f.get(2)
                    .is_some_and(|o| o.split(',').any(|x| x == "devices"))
        })
    })
}

/// Define a container of the lab's busybox root (idle init) named after `tag`, with
/// `devices` inside `<devices>`; its name.
fn define(lab: &Lab, tag: &str, devices: &str) -> String {
    let name = lab.name(tag);
    lab.define(&name, &lab.sh_xml(&name, IDLE, "", devices));
    name
}

/// `lxc-enter-namespace NAME -- ARGV...`, whatever its status.
fn inside(lab: &Lab, name: &str, argv: &[&str]) -> Output {
    let mut args = vec!["lxc-enter-namespace", name, "--noseclabel", "--"];
    args.extend_from_slice(argv);
    lab.env.run(&args)
}

/// [`inside`], insisting on success; its stdout.
fn inside_ok(lab: &Lab, name: &str, argv: &[&str]) -> String {
    let o = inside(lab, name, argv);
    assert!(
        o.status.success(),
        "{name}: {argv:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `start` fails with `want` in its message, and leaves nothing behind.
fn start_fails(lab: &Lab, name: &str, want: &str) {
    let err = lab.env.err(&["start", name]);
    assert!(
        err.contains(&format!("error: Failed to start domain '{name}'")) && err.contains(want),
        "{name}: expected '{want}', got: {err}"
    );
    assert!(
        !lab.env.state(name).starts_with("running"),
        "{name} runs after a failed start"
    );
    lab.assert_nothing_left(name);
}

/// `stat` inside: file type, major and minor (hex, as busybox prints them).
fn stat_inside(lab: &Lab, name: &str, path: &str) -> String {
    inside_ok(lab, name, &["/bin/stat", "-c", "%F %t:%T", path])
        .trim()
        .to_string()
}

/// A host node for `dev` in the container's root file system (outside its `/dev`), so that
/// only the cgroup's device list can refuse it.
fn node_in_root(rootfs: &Path, file: &str, dev: &Path) -> String {
    let (major, minor) = numbers(dev);
    std::fs::create_dir_all(rootfs.join("nodes")).expect("create /nodes");
    let path = rootfs.join("nodes").join(file);
    let c = std::ffi::CString::new(path.to_str().expect("UTF-8 path")).expect("no NUL");
    // SAFETY: a NUL-terminated path.
    let rc = unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFBLK | 0o600,
            libc::makedev(major, minor),
        )
    };
    assert_eq!(
        rc,
        0,
        "mknod {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    format!("/nodes/{file}")
}

/// What both cgroup versions must show: the given loop device and tun inside, with the host's
/// numbers, readable and openable; another loop device refused.
fn check_devices_inside(lab: &Lab, name: &str, given: &LoopDev, other: &LoopDev) {
    let (major, minor) = numbers(&given.dev);
    assert_eq!(
        stat_inside(lab, name, given.path()),
        format!("block special file {major:x}:{minor:x}"),
        "{name}: {}",
        given.path()
    );
    let read = inside_ok(lab, name, &["/bin/head", "-c", "15", given.path()]);
    // The shell ends a command's output with a newline of its own.
    assert_eq!(
        read.trim_end_matches('\n'),
        "virtsh-hostdevA",
        "{name}: read through {}",
        given.path()
    );

    let (tmaj, tmin) = numbers(Path::new("/dev/net/tun"));
    assert_eq!(
        stat_inside(lab, name, "/dev/net/tun"),
        format!("character special file {tmaj:x}:{tmin:x}")
    );
    // Opened for reading and writing: the allow-list has it (a tun device needs an ioctl
    // before any data moves, so nothing is read).
    inside_ok(lab, name, &["/bin/sh", "-c", "exec 3<>/dev/net/tun"]);

    // The other loop device: no node in /dev, and one made in the root is refused.
    let o = inside(lab, name, &["/bin/stat", &other.dev.display().to_string()]);
    assert!(
        !o.status.success(),
        "{name}: {} exists inside",
        other.path()
    );
    let node = node_in_root(&lab.rootfs, &format!("other-{name}"), &other.dev);
    let o = inside(lab, name, &["/bin/head", "-c", "1", &node]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("Operation not permitted"),
        "{name}: {node} ({}) was not refused: {}{err}",
        other.path(),
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A loop device and `/dev/net/tun` given to a container (cgroup v1 on a v1 or hybrid host,
/// v2 on a pure v2 host): they appear with the host's numbers and work, another loop device
/// does not, the group's device list names them (v1), dumpxml prints them as libvirt does,
/// and nothing is left after destroy.
#[test]
fn block_and_char_devices_reach_the_container() {
    let test = "block_and_char_devices_reach_the_container";
    if !can_run(test) {
        return;
    }
    let lab = Lab::new("lxh");
    let given = LoopDev::attach(&lab.env.root, "virtsh-hostdevA");
    let other = LoopDev::attach(&lab.env.root, "virtsh-hostdevB");
    let devices = hostdev("storage", given.path()) + &hostdev("misc", "/dev/net/tun");
    let name = define(&lab, "lxh", &devices);
    assert!(
        lab.env
            .ok(&["dumpxml", "--inactive", &name])
            .contains(&devices),
        "dumpxml --inactive"
    );
    lab.start(&name);
    assert!(
        lab.env.ok(&["dumpxml", &name]).contains(&devices),
        "live dumpxml"
    );
    check_devices_inside(&lab, &name, &given, &other);

    // v1: the rules are in the group's list.
    let (major, minor) = numbers(&given.dev);
    let (tmaj, tmin) = numbers(Path::new("/dev/net/tun"));
    let list = groups_of(&name)
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join("devices.list")).ok());
    assert_eq!(
        list.is_some(),
        v1_devices_mounted(),
        "{name}: a devices.list exactly where a v1 devices hierarchy is mounted"
    );
    if let Some(list) = list {
        for rule in [
            format!("b {major}:{minor} rwm"),
            format!("c {tmaj}:{tmin} rwm"),
        ] {
            assert!(list.lines().any(|l| l == rule), "no '{rule}' in:\n{list}");
        }
        assert!(!list.contains("a *:*"), "{list}");
    }

    lab.env.ok(&["destroy", &name]);
    lab.assert_nothing_left(&name);
    drop(lab);
    drop((given, other));
}

/// The same with `VIRTSH_CGROUP=v2`: the container's group in the cgroup2 mount, where a BPF
/// device program, not a devices.list, has to allow the host devices.
#[test]
fn cgroup_v2_program_allows_host_devices() {
    let test = "cgroup_v2_program_allows_host_devices";
    if !can_run(test) {
        return;
    }
    let Some(mount) = v2_mount() else {
        assert!(!in_ci(), "{test}: no writable cgroup2 mount (CI=true)");
        eprintln!("SKIP {test}: no writable cgroup2 mount");
        return;
    };
    let mut lab = Lab::new("lxh2");
    lab.env.env.push(("VIRTSH_CGROUP".into(), "v2".into()));
    let given = LoopDev::attach(&lab.env.root, "virtsh-hostdevA");
    let other = LoopDev::attach(&lab.env.root, "virtsh-hostdevB");
    let devices = hostdev("storage", given.path()) + &hostdev("misc", "/dev/net/tun");
    let name = define(&lab, "lxh2", &devices);
    lab.start(&name);
    let groups = groups_of(&name);
    assert!(
        groups.len() == 1 && groups[0].starts_with(&mount),
        "{name}: groups {groups:?}, expected one in {}",
        mount.display()
    );
    check_devices_inside(&lab, &name, &given, &other);
    lab.env.ok(&["destroy", &name]);
    lab.assert_nothing_left(&name);
    drop(lab);
    drop((given, other));
}

/// Definitions that do not parse (libvirt's XML errors), then host devices that are not what
/// they claim, or not there: each start fails with libvirt's message and leaves nothing. A
/// node the container's setup cannot make (`/dev/null` is already there) fails after the
/// cgroup was made, which must go too.
#[test]
fn bad_host_devices_fail_cleanly() {
    let test = "bad_host_devices_fail_cleanly";
    if !can_run(test) {
        return;
    }
    let lab = Lab::new("lxhb");
    let file = lab.env.root.join("plain-file");
    std::fs::write(&file, "not a device").expect("write a plain file");
    let file = file.display().to_string();

    let xml_path = lab.env.root.join("bad.xml");
    for (devices, want) in [
        (
            "<hostdev mode='capabilities' type='storage'><source/></hostdev>",
            "error: XML error: Missing <block> element in hostdev storage device",
        ),
        (
            "<hostdev mode='capabilities' type='misc'><source><block>/dev/x</block></source></hostdev>",
            "error: XML error: Missing <char> element in hostdev character device",
        ),
        (
            "<hostdev mode='capabilities' type='tape'><source/></hostdev>",
            "error: unsupported configuration: unknown host device source address type 'tape'",
        ),
    ] {
        let xml = format!(
            "<domain type='lxc'><name>{}</name><memory>65536</memory>\
             <os><type>exe</type><init>/bin/sh</init></os><devices>{devices}</devices></domain>",
            unique_name("lxhx")
        );
        std::fs::write(&xml_path, xml).expect("write XML");
        let err = lab.env.err(&["define", xml_path.to_str().expect("UTF-8")]);
        assert!(err.contains(want), "{devices}: {err}");
    }

    let loopdev = LoopDev::attach(&lab.env.root, "virtsh-hostdevA");
    for (devices, want) in [
        (
            hostdev("storage", &file),
            format!(
                "error: unsupported configuration: Storage source {file} must be a block device"
            ),
        ),
        (
            hostdev("misc", &file),
            format!(
                "error: unsupported configuration: Storage source {file} must be a character device"
            ),
        ),
        (
            hostdev("misc", loopdev.path()),
            format!(
                "error: unsupported configuration: Storage source {} must be a character device",
                loopdev.path()
            ),
        ),
        (
            hostdev("storage", "/dev/virtsh-no-such-device"),
            "error: Unable to access /dev/virtsh-no-such-device: No such file or directory".into(),
        ),
        (
            hostdev("storage", "dev/loop0"),
            "error: unsupported configuration: Host device path dev/loop0 must be absolute".into(),
        ),
        (
            hostdev("misc", "/dev/null"),
            "cannot create device node /dev/null (1:3 of /dev/null): File exists".into(),
        ),
    ] {
        let name = define(&lab, "lxhb", &devices);
        start_fails(&lab, &name, &want);
    }
    drop(lab);
    drop(loopdev);
}
