//! The container process, for real: namespaces, mounts, `/dev`, the console, user
//! namespaces, a veth pair and capabilities, with a busybox root filesystem and busybox
//! shell scripts as init. The scripts write what they see into a host directory
//! bind-mounted at `/out` (or onto the console), and the test reads it.
//!
//! These need root and `/usr/bin/busybox` (and `ip` for the veth test). Without them a test
//! prints a warning and passes, except under `CI=true`, where it fails.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use virtsh_lxc::container::{
    spawn, Capability, ContainerError, ContainerSpec, IdMap, IdRange, Mount, NetInterface, RootFs,
    Running,
};

const BUSYBOX: &str = "/usr/bin/busybox";
const WAIT: Duration = Duration::from_secs(30);

/// Applets the scripts use, as symlinks to busybox.
const APPLETS: [&str; 16] = [
    "sh", "cat", "echo", "hostname", "ls", "mount", "sleep", "id", "grep", "ip", "touch", "stat",
    "df", "readlink", "ps", "true",
];

fn skip(why: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why} (CI=true: a container test must run, not skip)");
    }
    eprintln!("warning: skipping container test: {why}");
    false
}

/// Whether the real-namespace tests can run here.
fn runnable() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip("not root");
    }
    if !Path::new(BUSYBOX).exists() {
        return skip("no /usr/bin/busybox");
    }
    true
}

/// A unique suffix per test within this run.
fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let template = CString::new(format!("/tmp/virtsh-lxc-{tag}-XXXXXX")).expect("no NUL");
        let mut bytes = template.into_bytes_with_nul();
        // SAFETY: a NUL-terminated template that mkdtemp fills in.
        let p = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
        assert!(!p.is_null(), "mkdtemp: {}", std::io::Error::last_os_error());
        bytes.pop();
        let path = PathBuf::from(String::from_utf8(bytes).expect("utf-8"));
        // Searchable by a container's mapped root (user namespace test).
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A busybox root filesystem under `dir/root`.
fn rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in [
        "bin", "sbin", "proc", "sys", "dev", "tmp", "etc", "out", "ro", "scratch",
    ] {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    fs::copy(BUSYBOX, root.join("bin/busybox")).expect("copy busybox");
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("symlink");
    }
    root
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success(), "chown -R {}", path.display());
}

/// A spec running `script` with busybox's shell, `out` bound on `/out`.
fn spec(root: &Path, out: &Path, script: &str) -> ContainerSpec {
    ContainerSpec {
        name: format!("vt_{}", unique()),
        uuid: "c7a5fdbd-edaf-9455-926a-d65c16db1809".into(),
        root: Some(RootFs {
            source: root.to_path_buf(),
            readonly: false,
        }),
        mounts: vec![Mount::Bind {
            source: out.to_path_buf(),
            target: "/out".into(),
            readonly: false,
        }],
        init: vec!["/bin/sh".into(), "-c".into(), script.into()],
        ..Default::default()
    }
}

/// Kills and reaps the container at the end of a test, whatever happens.
struct Guard(Running);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.signal(libc::SIGKILL);
        let _ = self.0.wait_timeout(WAIT);
    }
}

/// Waits (bounded) for the script's `/out/done`.
fn wait_done(out: &Path, c: &mut Guard) {
    let deadline = Instant::now() + WAIT;
    while !out.join("done").exists() {
        if let Ok(Some(status)) = c.0.try_wait() {
            panic!(
                "the container's init ended ({status}) before it was done; stderr: {:?}",
                fs::read_to_string(out.join("stderr")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the container did not finish its script"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read(out: &Path, name: &str) -> String {
    fs::read_to_string(out.join(name))
        .unwrap_or_else(|e| panic!("/out/{name}: {e}"))
        .trim()
        .to_string()
}

fn ns_link(pid: &str, ns: &str) -> PathBuf {
    fs::read_link(format!("/proc/{pid}/ns/{ns}")).expect("ns link")
}

/// A pty pair: the master, the slave (kept open so that the pty stays up) and its path.
struct Pty {
    master: OwnedFd,
    _slave: OwnedFd,
    path: PathBuf,
}

fn pty() -> Pty {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty fills two ints; no name, termios or window size.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: two fresh descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let path = fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).expect("pty path");
    Pty {
        master,
        _slave: slave,
        path,
    }
}

/// Reads the console until `needle` shows up (bounded); returns all that was read.
fn read_console(pty: &Pty, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut text = Vec::new();
    while !String::from_utf8_lossy(&text).contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {needle:?} on the console; got {:?}",
            String::from_utf8_lossy(&text)
        );
        let mut pfd = libc::pollfd {
            fd: pty.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd on the stack.
        let rc = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as libc::c_int) };
        if rc <= 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: reading into a stack buffer.
        let n = unsafe { libc::read(pty.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            // EIO: no slave open for now; wait for the container to open its side.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        text.extend_from_slice(&buf[..n as usize]);
    }
    String::from_utf8_lossy(&text).replace('\r', "")
}

/// The options of the mount at `target` in a copy of `/proc/mounts` (the last one wins).
fn mount_options<'a>(mounts: &'a str, target: &str) -> Option<(&'a str, &'a str)> {
    mounts.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 4 && f[1] == target).then(|| (f[2], f[3]))
    })
}

fn process_gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn namespaces_mounts_dev_console_and_caps() {
    if !runnable() {
        return;
    }
    let dir = TempDir::new("basic");
    let root = rootfs(&dir.0);
    let out = dir.0.join("out");
    let ro_src = dir.0.join("ro-src");
    fs::create_dir_all(&out).expect("mkdir");
    fs::create_dir_all(&ro_src).expect("mkdir");
    let console = pty();
    let script = r#"
exec 2>/out/stderr
echo hello-console
echo $$ > /out/pid
hostname > /out/hostname
echo /proc/[0-9]* > /out/procs
cat /proc/mounts > /out/mounts
ls -l /dev > /out/dev
ls -l /dev/console /dev/ptmx > /out/links
echo x > /dev/null && cat /dev/zero | true && echo ok > /out/devnull
exec 3<>/dev/ptmx
ls /dev/pts > /out/pts
exec 3>&-
if touch /ro/f; then echo rw > /out/robind; else echo ro > /out/robind; fi
if touch /scratch/f; then echo rw > /out/tmpfs; else echo ro > /out/tmpfs; fi
grep CapBnd /proc/1/status > /out/capbnd
echo "$container $LIBVIRT_LXC_NAME $LIBVIRT_LXC_UUID $PATH $HOME $FOO" > /out/env
pwd > /out/pwd
touch /out/done
exec sleep 60
"#;
    let mut s = spec(&root, &out, script);
    s.name = format!("web_{}", unique());
    s.mounts.push(Mount::Bind {
        source: ro_src.clone(),
        target: "/ro".into(),
        readonly: true,
    });
    s.mounts.push(Mount::Tmpfs {
        target: "/scratch".into(),
        size_bytes: Some(4 * 1024 * 1024),
        readonly: false,
    });
    s.env = vec![("FOO".into(), "bar".into())];
    s.workdir = Some("/tmp".into());
    s.console = Some(console.path.clone());

    let pending = spawn(&s).expect("spawn");
    let pid = pending.pid();
    let mut c = Guard(pending.release().expect("release"));
    assert_eq!(c.0.pid(), pid);
    wait_done(&out, &mut c);

    // Namespaces: new pid, mount, uts, ipc and (a private, empty) net; the host's user ns.
    let pid_text = pid.to_string();
    for ns in ["pid", "mnt", "uts", "ipc", "net"] {
        assert_ne!(
            ns_link(&pid_text, ns),
            ns_link("self", ns),
            "{ns} namespace"
        );
    }
    assert_eq!(ns_link(&pid_text, "user"), ns_link("self", "user"));

    // The init is pid 1 and sees only its own processes.
    assert_eq!(read(&out, "pid"), "1");
    assert_eq!(read(&out, "procs"), "/proc/1");
    // Hostname: the name through libvirt's filter (the '_' goes).
    assert_eq!(read(&out, "hostname"), s.name.replace('_', ""));

    // /proc/sys and /sys are read-only; /dev is a small tmpfs; devpts is a new instance.
    let mounts = read(&out, "mounts");
    let (fstype, opts) = mount_options(&mounts, "/sys").expect("/sys mounted");
    assert_eq!(fstype, "sysfs");
    assert!(opts.starts_with("ro,"), "/sys: {opts}");
    let (_, opts) = mount_options(&mounts, "/proc/sys").expect("/proc/sys mounted");
    assert!(opts.starts_with("ro,"), "/proc/sys: {opts}");
    let (fstype, opts) = mount_options(&mounts, "/proc").expect("/proc mounted");
    assert_eq!(fstype, "proc");
    assert!(opts.starts_with("rw,"), "/proc: {opts}");
    let (fstype, opts) = mount_options(&mounts, "/dev").expect("/dev mounted");
    assert_eq!(fstype, "tmpfs");
    assert!(
        opts.contains("size=64k") && opts.contains("mode=755"),
        "/dev: {opts}"
    );
    let (fstype, opts) = mount_options(&mounts, "/dev/pts").expect("/dev/pts mounted");
    assert_eq!(fstype, "devpts");
    assert!(
        opts.contains("ptmxmode=666") && opts.contains("mode=620"),
        "{opts}"
    );
    assert!(mount_options(&mounts, "/dev/shm").is_some(), "/dev/shm");
    assert!(
        mount_options(&mounts, "/.oldroot").is_none(),
        "old root left: {mounts}"
    );
    assert!(!root.join(".oldroot").exists(), "/.oldroot not removed");

    let dev = read(&out, "dev");
    for node in [
        "null", "zero", "full", "random", "urandom", "tty", "console", "tty1",
    ] {
        let line = dev
            .lines()
            .find(|l| l.ends_with(&format!(" {node}")))
            .unwrap_or_else(|| panic!("no /dev/{node}: {dev}"));
        assert!(
            line.starts_with('c'),
            "/dev/{node} is not a character device: {line}"
        );
    }
    for link in [
        "ptmx -> pts/ptmx",
        "fd -> /proc/self/fd",
        "stdin -> /proc/self/fd/0",
    ] {
        assert!(dev.contains(link), "no {link}: {dev}");
    }
    assert_eq!(read(&out, "devnull"), "ok");
    let pts: Vec<String> = read(&out, "pts")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(pts, ["0", "ptmx"], "a pty from the container's own devpts");

    // The read-only bind is read-only; the tmpfs has its size.
    assert_eq!(read(&out, "robind"), "ro");
    assert!(!ro_src.join("f").exists());
    let (_, opts) = mount_options(&mounts, "/ro").expect("/ro mounted");
    assert!(opts.starts_with("ro,"), "/ro: {opts}");
    assert_eq!(read(&out, "tmpfs"), "rw");
    let (fstype, opts) = mount_options(&mounts, "/scratch").expect("/scratch mounted");
    assert_eq!(fstype, "tmpfs");
    assert!(opts.contains("size=4096k"), "/scratch: {opts}");

    // Capabilities: libvirt's default drops, and nothing else of note.
    let capbnd = read(&out, "capbnd");
    let hex = capbnd.split_whitespace().nth(1).expect("CapBnd value");
    let bnd = u64::from_str_radix(hex, 16).expect("hex");
    for cap in [
        Capability::SYS_MODULE,
        Capability::SYS_TIME,
        Capability::MKNOD,
        Capability::AUDIT_CONTROL,
        Capability::MAC_ADMIN,
    ] {
        assert_eq!(bnd & (1 << cap.number()), 0, "{cap} still in CapBnd {hex}");
    }
    for cap in [Capability::SYS_ADMIN, Capability::SYS_BOOT] {
        assert_ne!(
            bnd & (1 << cap.number()),
            0,
            "{cap} missing from CapBnd {hex}"
        );
    }

    // libvirt's environment plus <initenv>; <initdir>.
    let env = read(&out, "env");
    assert_eq!(
        env,
        format!(
            "lxc-libvirt {} c7a5fdbd-edaf-9455-926a-d65c16db1809 /bin:/sbin / bar",
            s.name
        )
    );
    assert_eq!(read(&out, "pwd"), "/tmp");

    // The console carries the init's output.
    let text = read_console(&console, "hello-console");
    assert!(text.contains("hello-console\n"), "{text:?}");
    let links = read(&out, "links");
    assert!(links.contains("/dev/console"), "{links}");
}

#[test]
fn missing_init_is_reported_and_leaves_no_process() {
    if !runnable() {
        return;
    }
    let dir = TempDir::new("noinit");
    let root = rootfs(&dir.0);
    let out = dir.0.join("out");
    fs::create_dir_all(&out).expect("mkdir");
    let mut s = spec(&root, &out, "");
    s.init = vec!["/sbin/no-such-init".into()];
    let pending = spawn(&s).expect("spawn");
    let pid = pending.pid();
    let err = pending.release().expect_err("release must fail");
    assert!(
        matches!(&err, ContainerError::InitNotFound(p) if p == "/sbin/no-such-init"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cannot find init path '/sbin/no-such-init' relative to container root"
    );
    assert!(process_gone(pid), "process {pid} is still there");
    assert!(!root.join(".oldroot").exists());
}

#[test]
fn failed_step_names_step_and_path() {
    if !runnable() {
        return;
    }
    let dir = TempDir::new("badsrc");
    let root = rootfs(&dir.0);
    let out = dir.0.join("out");
    fs::create_dir_all(&out).expect("mkdir");
    let mut s = spec(&root, &out, "touch /out/done");
    let missing = dir.0.join("no-such-source");
    s.mounts.push(Mount::Bind {
        source: missing.clone(),
        target: "/data".into(),
        readonly: false,
    });
    let pending = spawn(&s).expect("spawn");
    let pid = pending.pid();
    let err = pending.release().expect_err("release must fail");
    match &err {
        ContainerError::Setup { step, path, source } => {
            assert_eq!(*step, "open");
            assert_eq!(Path::new(path), missing);
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(process_gone(pid));
    assert!(!out.join("done").exists());

    // Dropping a pending container kills and reaps it.
    let pending = spawn(&spec(&root, &out, "touch /out/done")).expect("spawn");
    let pid = pending.pid();
    drop(pending);
    assert!(process_gone(pid));
    assert!(!out.join("done").exists());
}

#[test]
fn user_namespace_with_idmap() {
    user_namespace(false);
}

/// A user namespace in the host's network namespace: sysfs cannot be mounted fresh there,
/// so the host's `/sys` is bound read-only.
#[test]
fn user_namespace_sharing_host_network() {
    user_namespace(true);
}

fn user_namespace(share_net: bool) {
    if !runnable() {
        return;
    }
    const HOST_ID: u32 = 200_000;
    let dir = TempDir::new("userns");
    let root = rootfs(&dir.0);
    let out = dir.0.join("out");
    fs::create_dir_all(&out).expect("mkdir");
    // As with libvirt, the tree belongs to the uid that container root maps to.
    chown_tree(&root, HOST_ID, HOST_ID);
    chown_tree(&out, HOST_ID, HOST_ID);
    let console = pty();
    let script = r#"
exec 2>/out/stderr
echo userns-console
id -u > /out/uid
id -g > /out/gid
cat /proc/self/uid_map > /out/uid_map
touch /out/made
echo x > /dev/null && echo ok > /out/devnull
echo /proc/[0-9]* > /out/procs
cat /proc/mounts > /out/mounts
touch /out/done
exec sleep 60
"#;
    let mut s = spec(&root, &out, script);
    let range = IdRange {
        start: 0,
        target: HOST_ID,
        count: 65536,
    };
    s.idmap = Some(IdMap {
        uid: vec![range],
        gid: vec![range],
    });
    s.console = Some(console.path.clone());
    s.share_net = share_net;
    let pending = spawn(&s).expect("spawn");
    let pid = pending.pid();
    // spawn wrote the maps: they are visible before the release.
    let uid_map = fs::read_to_string(format!("/proc/{pid}/uid_map")).expect("uid_map");
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    assert_eq!(fields, ["0", "200000", "65536"]);
    let mut c = Guard(pending.release().expect("release"));
    wait_done(&out, &mut c);

    assert_ne!(ns_link(&pid.to_string(), "user"), ns_link("self", "user"));
    assert_eq!(
        ns_link(&pid.to_string(), "net") == ns_link("self", "net"),
        share_net
    );
    assert_eq!(read(&out, "uid"), "0");
    assert_eq!(read(&out, "gid"), "0");
    let inner: Vec<String> = read(&out, "uid_map")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(inner, ["0", "200000", "65536"]);
    let made = fs::metadata(out.join("made")).expect("made");
    assert_eq!((made.uid(), made.gid()), (HOST_ID, HOST_ID));
    // Host nodes bound in (mknod is refused in a user namespace).
    assert_eq!(read(&out, "devnull"), "ok");
    assert_eq!(read(&out, "procs"), "/proc/1");
    let mounts = read(&out, "mounts");
    let (_, opts) = mount_options(&mounts, "/sys").expect("/sys mounted");
    assert!(opts.starts_with("ro,"), "/sys: {opts}");
    let text = read_console(&console, "userns-console");
    assert!(text.contains("userns-console"));
}

/// Deletes the test's veth pair at the end, if the container's end did not already.
struct Veth(String);

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.0])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn veth_is_renamed_and_up_with_a_readonly_root() {
    if !runnable() {
        return;
    }
    let id = unique();
    let (host_end, peer) = (format!("vsA{id}"), format!("vsB{id}"));
    let made = Command::new("ip")
        .args([
            "link", "add", &host_end, "type", "veth", "peer", "name", &peer,
        ])
        .status();
    match made {
        Ok(s) if s.success() => {}
        other => {
            skip(&format!("cannot create a veth pair: {other:?}"));
            return;
        }
    }
    let _veth = Veth(host_end.clone());

    let dir = TempDir::new("veth");
    let root = rootfs(&dir.0);
    let out = dir.0.join("out");
    fs::create_dir_all(&out).expect("mkdir");
    let script = r#"
exec 2>/out/stderr
ls /sys/class/net > /out/ifaces
cat /sys/class/net/eth0/flags > /out/eth0
cat /sys/class/net/lo/flags > /out/lo
if touch /rootfile; then echo rw > /out/root; else echo ro > /out/root; fi
touch /out/done
exec sleep 60
"#;
    let mut s = spec(&root, &out, script);
    // A read-only root too: mount points are made before it turns read-only.
    s.root = Some(RootFs {
        source: root.clone(),
        readonly: true,
    });
    s.interfaces = vec![NetInterface {
        host_name: peer.clone(),
        guest_name: "eth0".into(),
    }];
    let pending = spawn(&s).expect("spawn");
    let moved = Command::new("ip")
        .args([
            "link",
            "set",
            "dev",
            &peer,
            "netns",
            &pending.pid().to_string(),
        ])
        .status()
        .expect("ip link set netns");
    assert!(moved.success(), "moving {peer} into the container");
    let mut c = Guard(pending.release().expect("release"));
    wait_done(&out, &mut c);

    let ifaces: Vec<String> = read(&out, "ifaces")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(ifaces, ["eth0", "lo"]);
    let flags = |name| {
        let text = read(&out, name);
        u32::from_str_radix(text.trim_start_matches("0x"), 16).expect("flags")
    };
    assert_ne!(flags("eth0") & libc::IFF_UP as u32, 0, "eth0 is down");
    assert_ne!(flags("lo") & libc::IFF_UP as u32, 0, "lo is down");
    assert_eq!(read(&out, "root"), "ro");
    assert!(!root.join("rootfile").exists());
    // The peer left the host.
    assert!(!Path::new(&format!("/sys/class/net/{peer}")).exists());
}

#[test]
fn shared_root_and_network() {
    if !runnable() {
        return;
    }
    let console = pty();
    // The host's own /bin/sh and /bin/sleep: the root is shared.
    // No subshell before the glob: it would be a process of its own.
    let script = "echo pid=$$; set -- /proc/[0-9]*; echo procs=$*; \
                  echo host=$(cat /proc/sys/kernel/hostname); echo end-of-facts; exec sleep 60";
    let s = ContainerSpec {
        name: format!("shared{}", unique()),
        uuid: "0b5d3e36-8c4d-4a53-9d7c-3a3b2d1c0f00".into(),
        init: vec!["/bin/sh".into(), "-c".into(), script.into()],
        console: Some(console.path.clone()),
        share_net: true,
        ..Default::default()
    };
    let pending = spawn(&s).expect("spawn");
    let pid = pending.pid().to_string();
    let c = Guard(pending.release().expect("release"));
    let text = read_console(&console, "end-of-facts");
    assert!(text.contains("pid=1\n"), "{text:?}");
    assert!(text.contains(&format!("host={}\n", s.name)), "{text:?}");
    assert!(text.contains("procs=/proc/1\n"), "{text:?}");
    for ns in ["pid", "mnt", "uts", "ipc"] {
        assert_ne!(ns_link(&pid, ns), ns_link("self", ns), "{ns} namespace");
    }
    assert_eq!(
        ns_link(&pid, "net"),
        ns_link("self", "net"),
        "net is shared"
    );
    drop(c);
    // The host's own /proc and /dev were left alone.
    assert!(Path::new("/proc/self/status").exists());
    assert!(Path::new("/dev/null").exists());
}
