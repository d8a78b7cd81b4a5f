//! A real group on this host: create it, move a child in, read its counters, remove it.
//! Needs root and a mounted cgroup file system; prints SKIP otherwise (and fails under CI=true).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use virtsh_cgroup::{Cgroup, CgroupError, Layout, Version};

fn skip(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("SKIP: {why}");
}

fn usable(layout: &Layout) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root".into());
    }
    if layout.version().is_none() {
        return Some("no cgroup file system is mounted".into());
    }
    None
}

/// A child that burns some CPU once it has read a line (so, once it is in its group), then
/// sleeps.
fn busy_child() -> Child {
    Command::new("sh")
        .args([
            "-c",
            "read x; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 5",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn sh")
}

fn go(child: &mut Child) {
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(b"go\n").expect("write to the child");
}

fn exercise(layout: &Layout, tag: &str) -> Version {
    let name = format!("test-{tag}-{}", std::process::id());
    let cg = Cgroup::create_in(layout, &["test", &name]).expect("create");
    let version = cg.version();
    assert_eq!(cg.path(), format!("virtsh/test/{name}"));
    for d in cg.directories() {
        assert!(d.is_dir(), "{}", d.display());
    }
    let mut child = busy_child();
    let pid = child.id() as i32;
    cg.add_pid(pid).expect("add_pid");
    go(&mut child);
    assert_eq!(cg.pids().unwrap(), vec![pid]);
    for d in cg.directories() {
        let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), pid.to_string(), "{}", d.display());
    }
    // Let the loop run inside the group.
    let deadline = Instant::now() + Duration::from_secs(3);
    while cg.cpu_usage_ns().unwrap() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let usage = cg.cpu_usage_ns().expect("cpu usage");
    assert!(usage > 0, "no CPU time in {}", cg.path());
    let times = cg.cpu_times().expect("cpu times");
    assert!(times.usage_ns >= usage);
    match version {
        Version::V1 => {
            let percpu = cg.cpu_usage_percpu_ns().expect("percpu");
            assert!(!percpu.is_empty());
            assert!(percpu.iter().sum::<u64>() > 0);
            assert!(cg.memory_current().expect("memory") > 0);
        }
        Version::V2 => {
            assert!(matches!(
                cg.cpu_usage_percpu_ns(),
                Err(CgroupError::PerCpuUnsupported { .. })
            ));
            // memory.current exists only when the memory controller is enabled.
            if let Err(e) = cg.memory_current() {
                assert!(e.is_unsupported(), "{e}");
            }
        }
    }
    // Opening it again by its path finds the same directories.
    let again = Cgroup::open_in(layout, cg.path()).expect("open");
    assert_eq!(again.directories(), cg.directories());
    // Busy while the child is in it.
    assert!(matches!(
        Cgroup::create_in(layout, &["test", &name]),
        Err(CgroupError::Busy { .. })
    ));
    // A sweep leaves a group with a process in it.
    virtsh_cgroup::sweep_empty(layout, &["test"]);
    assert!(cg.directories().iter().all(|d| d.is_dir()));
    child.kill().unwrap();
    child.wait().unwrap();
    cg.remove().expect("remove");
    for d in cg.directories() {
        assert!(!d.exists(), "{} left", d.display());
    }
    assert!(matches!(
        Cgroup::open_in(layout, cg.path()),
        Err(CgroupError::NotFound { .. })
    ));
    version
}

/// An empty group (its owner killed with its process) goes with the next sweep; one with a
/// process stays.
#[test]
fn sweep_removes_only_empty_groups() {
    let layout = Layout::detect().unwrap();
    if let Some(why) = usable(&layout) {
        return skip(&why);
    }
    let parts = ["sweep", &format!("s-{}", std::process::id())];
    let empty = Cgroup::create_in(&layout, &[parts[0], parts[1], "empty"]).unwrap();
    let mut child = busy_child();
    let full =
        Cgroup::create_with_pid(&layout, &[parts[0], parts[1], "full"], child.id() as i32).unwrap();
    go(&mut child);
    let n = virtsh_cgroup::sweep_empty(&layout, &parts);
    assert_eq!(n, empty.directories().len());
    assert!(empty.directories().iter().all(|d| !d.exists()));
    assert!(full.directories().iter().all(|d| d.is_dir()));
    child.kill().unwrap();
    child.wait().unwrap();
    full.remove().unwrap();
    for d in full.directories() {
        // `virtsh/sweep/s-PID` and `virtsh/sweep` went with it when empty.
        assert!(!d.parent().unwrap().exists(), "{}", d.display());
    }
}

#[test]
fn real_group_detected_layout() {
    let layout = Layout::detect().unwrap();
    if let Some(why) = usable(&layout) {
        return skip(&why);
    }
    exercise(&layout, "auto");
    clean_parents(&layout, "auto");
}

/// The cgroup2 mount, also on a hybrid host (systemd's `unified` mount without controllers).
#[test]
fn real_group_v2() {
    let layout = Layout::detect().unwrap();
    if let Some(why) = usable(&layout) {
        return skip(&why);
    }
    let v2 = layout.v2_only();
    let Some(mount) = v2.v2.clone() else {
        eprintln!("SKIP: no cgroup2 mount");
        return;
    };
    if !mount.join("cgroup.procs").exists() || is_read_only(&mount) {
        eprintln!("SKIP: {} is not usable", mount.display());
        return;
    }
    assert_eq!(exercise(&v2, "v2"), Version::V2);
    clean_parents(&v2, "v2");
}

fn is_read_only(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: a valid C string and a zeroed statvfs to fill.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    r != 0 || st.f_flag & libc::ST_RDONLY != 0
}

/// The tests run in parallel and each removes the parents it leaves empty; check at the end
/// that nothing of this test is left.
fn clean_parents(layout: &Layout, tag: &str) {
    let mounts: Vec<_> = match layout.version() {
        Some(Version::V1) => layout.v1.iter().map(|h| h.mount.clone()).collect(),
        _ => layout.v2.iter().cloned().collect(),
    };
    for m in mounts {
        let test_dir = m.join("virtsh/test");
        if let Ok(rd) = std::fs::read_dir(&test_dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                assert!(
                    n != format!("test-{tag}-{}", std::process::id()),
                    "{} left",
                    e.path().display()
                );
            }
        }
    }
}
