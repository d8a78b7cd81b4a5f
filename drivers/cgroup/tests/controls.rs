//! The controls a container needs, on real groups of this host: memory limits, CPU shares and
//! bandwidth, the block I/O weight, the freezer and the device allow-list.
//!
//! Each test runs on the layout virtsh detects (v1 on a hybrid host, v2 on a pure v2 host) and,
//! where it makes sense, on the cgroup2 mount alone (`Layout::v2_only`, what
//! `VIRTSH_CGROUP=v2` selects; the layout is passed in rather than set in the environment
//! because the tests run in parallel).
//!
//! A control is checked for real where the group has its file: set, then read back in
//! libvirt's convention. Where it has not, it must be `CgroupError::Unsupported`. On a hybrid
//! host the v2 memory, cpu and io controllers are bound to v1, so the cgroup2 groups have no
//! `memory.max`, `cpu.max`, `io.weight`: there these tests check the Unsupported answer, and
//! the value encodings are covered by the unit tests in src/; a pure v2 host runs the real
//! path. The v2 freezer (`cgroup.freeze`) and device filter (BPF) need no controller and run
//! for real everywhere.
//!
//! Needs root and mounted cgroups: prints SKIP otherwise, and fails under CI=true. Every group
//! is removed and every process killed, also when a test fails (`Guard`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use virtsh_cgroup::{
    lxc_default_devices, Cgroup, CgroupError, DeviceAccess, DeviceRule, Extra, FreezerState,
    Layout, MemTune, Version, CPU_QUOTA_MAX, MEMORY_UNLIMITED_KIB,
};

fn skip(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("SKIP: {why}");
}

/// The detected layout, or why these tests cannot run.
fn detected() -> Result<Layout, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let layout = Layout::detect().map_err(|e| e.to_string())?;
    if layout.version().is_none() {
        return Err("no cgroup file system is mounted".into());
    }
    Ok(layout)
}

/// The cgroup2 mount alone, or why it cannot be used.
fn v2() -> Result<Layout, String> {
    let layout = detected()?.v2_only();
    match &layout.v2 {
        Some(m) if m.join("cgroup.procs").exists() => Ok(layout),
        Some(m) => Err(format!("{} is not usable", m.display())),
        None => Err("no cgroup2 mount".into()),
    }
}

/// A test's group and processes, and a scratch file: all gone when it drops, pass or fail.
struct Guard {
    cg: Cgroup,
    children: Vec<Child>,
    scratch: Option<PathBuf>,
}

impl Guard {
    fn new(layout: &Layout, tag: &str, extra: &[Extra]) -> Guard {
        let name = format!("ctl-{tag}-{}", std::process::id());
        let cg = Cgroup::create_with(layout, &["test", &name], extra).expect("create");
        Guard {
            cg,
            children: Vec::new(),
            scratch: None,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // A frozen v1 task does not die before it is thawed.
        let _ = self.cg.thaw();
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let r = self.cg.remove();
        if let Some(f) = &self.scratch {
            let _ = std::fs::remove_file(f);
        }
        if !std::thread::panicking() {
            r.expect("remove the group");
            for d in self.cg.directories() {
                assert!(!d.exists(), "{} left", d.display());
            }
        }
    }
}

/// `sh -c SCRIPT` that waits for a line on stdin first, so that it does its work only once it
/// is in its group.
fn waiting_sh(script: &str) -> Child {
    Command::new("sh")
        .args(["-c", &format!("read x; {script}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sh")
}

fn go(child: &mut Child) {
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(b"go\n").expect("write to the child");
}

/// `expected` when the group has `file` in `dir`, else CgroupError::Unsupported.
fn check<T: PartialEq + std::fmt::Debug>(
    dir: &Path,
    file: &str,
    got: virtsh_cgroup::Result<T>,
    expected: T,
) {
    if dir.join(file).exists() {
        assert_eq!(got.expect(file), expected, "{file}");
    } else {
        match got {
            Err(CgroupError::Unsupported { path, .. }) => {
                assert!(path.ends_with(file), "{}", path.display())
            }
            other => panic!("{file} is absent, expected Unsupported, got {other:?}"),
        }
    }
}

fn limits(layout: &Layout, tag: &str) {
    let g = Guard::new(layout, tag, &Extra::ALL);
    let cg = &g.cg;
    let v1 = cg.version() == Version::V1;
    // The group's directory in the hierarchy with `ctrl` (v2: its one directory).
    let dir_of = |ctrl: &str| -> Option<PathBuf> {
        let dirs = cg.directories();
        if !v1 {
            return dirs.first().cloned();
        }
        dirs.into_iter().find(|d| {
            let mount = d.ancestors().nth(3).unwrap();
            layout.v1.iter().any(|h| h.mount == mount && h.has(ctrl))
        })
    };
    let mem = dir_of("memory").expect("a memory hierarchy");
    let cpu = dir_of("cpu").expect("a cpu hierarchy");
    let (hard, soft, swap) = if v1 {
        (
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "memory.memsw.limit_in_bytes",
        )
    } else {
        ("memory.max", "memory.high", "memory.swap.max")
    };

    // Memory, in KiB. A hard limit over the swap limit is refused before anything is written.
    let e = cg.set_memtune(&MemTune {
        hard_limit: Some(2048),
        soft_limit: None,
        swap_hard_limit: Some(1024),
    });
    assert!(matches!(e, Err(CgroupError::InvalidValue(_))), "{e:?}");
    check(&mem, hard, cg.set_memory_hard_limit(512 * 1024), ());
    check(&mem, hard, cg.memory_hard_limit(), 512 * 1024);
    check(&mem, soft, cg.set_memory_soft_limit(256 * 1024), ());
    check(&mem, soft, cg.memory_soft_limit(), 256 * 1024);
    check(&mem, swap, cg.set_memory_swap_hard_limit(1024 * 1024), ());
    check(&mem, swap, cg.memory_swap_hard_limit(), 1024 * 1024);
    if mem.join(hard).exists() && mem.join(swap).exists() {
        // Down, then up: v1 wants memsw >= limit at every step; set_memtune orders the writes.
        for (h, s) in [(128 * 1024, 256 * 1024), (2048 * 1024, 4096 * 1024)] {
            cg.set_memtune(&MemTune {
                hard_limit: Some(h),
                soft_limit: Some(h / 2),
                swap_hard_limit: Some(s),
            })
            .expect("memtune");
            let t = cg.memtune().expect("read memtune");
            assert_eq!(
                (t.hard_limit, t.soft_limit, t.swap_hard_limit),
                (Some(h), Some(h / 2), Some(s))
            );
        }
        cg.set_memory_swap_hard_limit(MEMORY_UNLIMITED_KIB).unwrap();
    }
    check(
        &mem,
        hard,
        cg.set_memory_hard_limit(MEMORY_UNLIMITED_KIB),
        (),
    );
    check(&mem, hard, cg.memory_hard_limit(), MEMORY_UNLIMITED_KIB);
    check(
        &mem,
        swap,
        cg.memory_swap_hard_limit(),
        MEMORY_UNLIMITED_KIB,
    );
    if mem.join(hard).exists() {
        let raw = std::fs::read_to_string(mem.join(hard)).unwrap();
        assert!(raw.trim() == "max" || raw.trim().parse::<u64>().unwrap() > 1 << 60);
    }
    assert!(matches!(
        cg.set_memory_hard_limit(MEMORY_UNLIMITED_KIB + 1),
        Err(CgroupError::InvalidValue(_))
    ));

    // CPU.
    let (shares, bw) = if v1 {
        ("cpu.shares", "cpu.cfs_quota_us")
    } else {
        ("cpu.weight", "cpu.max")
    };
    check(&cpu, shares, cg.set_cpu_shares(512), ());
    check(&cpu, shares, cg.cpu_shares(), 512);
    let e = cg.set_cpu_shares(1).unwrap_err().to_string();
    assert_eq!(e, "shares '1' must be in range [2, 262144]");
    check(&cpu, bw, cg.set_cpu_cfs_period(50_000), ());
    check(&cpu, bw, cg.cpu_cfs_period(), 50_000);
    check(&cpu, bw, cg.set_cpu_cfs_quota(25_000), ());
    check(&cpu, bw, cg.cpu_cfs_quota(), 25_000);
    // The period is kept when the quota changes (v2: one file for both).
    check(&cpu, bw, cg.cpu_cfs_period(), 50_000);
    check(&cpu, bw, cg.set_cpu_cfs_quota(-1), ());
    let unlimited = if v1 { -1 } else { CPU_QUOTA_MAX };
    check(&cpu, bw, cg.cpu_cfs_quota(), unlimited);
    assert!(matches!(
        cg.set_cpu_cfs_quota(10),
        Err(CgroupError::InvalidValue(_))
    ));
    assert!(matches!(
        cg.set_cpu_cfs_period(10),
        Err(CgroupError::InvalidValue(_))
    ));

    // Block I/O weight: only with BFQ (or CFQ, or v2's io.weight).
    let Some(blk) = dir_of("blkio") else {
        assert!(matches!(
            cg.set_blkio_weight(300),
            Err(CgroupError::NoController {
                controller: "blkio",
                ..
            })
        ));
        return;
    };
    let files: &[&str] = if v1 {
        &["blkio.bfq.weight", "blkio.weight"]
    } else {
        &["io.bfq.weight", "io.weight"]
    };
    match files.iter().find(|f| blk.join(f).exists()) {
        Some(f) => {
            cg.set_blkio_weight(300).expect(f);
            assert_eq!(cg.blkio_weight().expect(f), 300);
        }
        None => {
            let e = cg.set_blkio_weight(300).unwrap_err();
            assert!(e.is_unsupported(), "{e}");
            assert!(e.to_string().contains("bfq or cfq"), "{e}");
            assert!(cg.blkio_weight().unwrap_err().is_unsupported());
        }
    }
}

#[test]
fn limits_on_the_detected_layout() {
    match detected() {
        Ok(l) => limits(&l, "lim"),
        Err(why) => skip(&why),
    }
}

#[test]
fn limits_on_cgroup2() {
    match v2() {
        Ok(l) => limits(&l, "lim2"),
        Err(why) => skip(&why),
    }
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < Duration::from_secs(5), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A shell appending to a file as fast as it can: frozen, the file stops growing; thawed, it
/// grows again.
fn freezer(layout: &Layout, tag: &str) {
    let mut g = Guard::new(layout, tag, &[Extra::Freezer]);
    let file = std::env::temp_dir().join(format!("virtsh-{tag}-{}", std::process::id()));
    g.scratch = Some(file.clone());
    let mut child = waiting_sh(&format!("while :; do echo x >> '{}'; done", file.display()));
    g.cg.add_pid(child.id() as i32).expect("add_pid");
    go(&mut child);
    g.children.push(child);
    assert_eq!(g.cg.freezer_state().unwrap(), FreezerState::Thawed);
    wait_for("the writer starts", || size(&file) > 0);

    g.cg.freeze().expect("freeze");
    assert_eq!(g.cg.freezer_state().unwrap(), FreezerState::Frozen);
    let frozen_at = size(&file);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(size(&file), frozen_at, "the file grew while frozen");
    // Freezing a frozen group is fine.
    g.cg.freeze().expect("freeze again");

    g.cg.thaw().expect("thaw");
    assert_eq!(g.cg.freezer_state().unwrap(), FreezerState::Thawed);
    wait_for("the writer runs again", || size(&file) > frozen_at);
}

#[test]
fn freezer_on_the_detected_layout() {
    match detected() {
        Ok(l) => freezer(&l, "frz"),
        Err(why) => skip(&why),
    }
}

#[test]
fn freezer_on_cgroup2() {
    match v2() {
        Ok(l) => freezer(&l, "frz2"),
        Err(why) => skip(&why),
    }
}

/// What a process of the group can open: "null-ok" or "null-denied", then the same for zero
/// and full. Opened by the shell itself (a redirection of the `true` builtin), so that no
/// other program is involved.
fn probe(g: &mut Guard) -> String {
    let mut child = waiting_sh(
        "for d in null zero full; do \
           if true < /dev/$d; then echo $d-ok; else echo $d-denied; fi; \
         done",
    );
    g.cg.add_pid(child.id() as i32).expect("add_pid");
    go(&mut child);
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if stdout.contains("denied") {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("Operation not permitted"),
            "denied for another reason: {stderr}"
        );
    }
    stdout.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn devices(layout: &Layout, tag: &str) {
    let null = DeviceRule::char(1, Some(3), DeviceAccess::RWM);
    let zero = DeviceRule::char(1, Some(5), DeviceAccess::RW);
    let mut g = Guard::new(layout, tag, &[Extra::Devices]);
    assert_eq!(probe(&mut g), "null-ok zero-ok full-ok", "before any list");

    g.cg.set_devices(&[null]).expect("set devices");
    assert_eq!(probe(&mut g), "null-ok zero-denied full-denied");
    if g.cg.version() == Version::V1 {
        assert_eq!(g.cg.devices().unwrap(), [null]);
    } else {
        assert!(g.cg.devices().unwrap_err().is_unsupported());
    }

    // Replaced, not added to: null goes, zero comes.
    g.cg.set_devices(&[zero]).expect("replace devices");
    assert_eq!(probe(&mut g), "null-denied zero-ok full-denied");
    if g.cg.version() == Version::V1 {
        assert_eq!(g.cg.devices().unwrap(), [zero]);
    }

    // libvirt's container list: null, zero and full, among others.
    g.cg.set_devices(&lxc_default_devices())
        .expect("default list");
    assert_eq!(probe(&mut g), "null-ok zero-ok full-ok");

    // Read-only access to full only.
    g.cg.set_devices(&[DeviceRule::char(1, Some(7), DeviceAccess::READ)])
        .expect("read-only full");
    assert_eq!(probe(&mut g), "null-denied zero-denied full-ok");

    // An empty list denies everything.
    g.cg.set_devices(&[]).expect("deny all");
    assert_eq!(probe(&mut g), "null-denied zero-denied full-denied");
}

#[test]
fn devices_on_the_detected_layout() {
    match detected() {
        Ok(l) => devices(&l, "dev"),
        Err(why) => skip(&why),
    }
}

#[test]
fn devices_on_cgroup2() {
    match v2() {
        Ok(l) => devices(&l, "dev2"),
        Err(why) => skip(&why),
    }
}

/// `create_configured`: the device list is in place before the process enters the group.
#[test]
fn configured_before_the_process_enters() {
    let layout = match detected() {
        Ok(l) => l,
        Err(why) => return skip(&why),
    };
    let mut child = waiting_sh("if true < /dev/zero; then echo zero-ok; else echo zero-denied; fi");
    let pid = child.id() as i32;
    let name = format!("ctl-cfg-{}", std::process::id());
    let made = Cgroup::create_configured(&layout, &["test", &name], &Extra::ALL, pid, |cg| {
        assert!(cg.pids()?.is_empty(), "the process is in before its setup");
        cg.set_devices(&[DeviceRule::char(1, Some(3), DeviceAccess::RWM)])
    });
    let cg = match made {
        Ok(cg) => cg,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("create_configured: {e}");
        }
    };
    let mut g = Guard {
        cg,
        children: Vec::new(),
        scratch: None,
    };
    assert_eq!(g.cg.pids().unwrap(), [pid]);
    go(&mut child);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "zero-denied");
    g.children.clear();

    // A failing setup leaves no group behind, and the process where it was.
    let mut other = waiting_sh("true");
    let bad = Cgroup::create_configured(
        &layout,
        &["test", &format!("{name}-bad")],
        &Extra::ALL,
        other.id() as i32,
        |cg| cg.set_cpu_shares(1),
    );
    assert!(matches!(bad, Err(CgroupError::InvalidValue(_))), "{bad:?}");
    let _ = other.kill();
    let _ = other.wait();
    assert!(matches!(
        Cgroup::open_in(&layout, &format!("virtsh/test/{name}-bad")),
        Err(CgroupError::NotFound { .. })
    ));
}

/// v1: QEMU's groups stay out of the blkio, freezer and devices hierarchies; a container's
/// group is in those that are mounted, and `open` and `remove` find it there.
#[test]
fn extra_hierarchies_only_when_asked() {
    let layout = match detected() {
        Ok(l) => l,
        Err(why) => return skip(&why),
    };
    if layout.version() != Some(Version::V1) {
        // v2 has one directory per group whatever is asked.
        let g = Guard::new(&layout, "xtra", &Extra::ALL);
        assert_eq!(g.cg.directories().len(), 1);
        return;
    }
    let extra_mounts: Vec<PathBuf> = layout
        .v1
        .iter()
        .filter(|h| !h.is_default())
        .map(|h| h.mount.clone())
        .collect();
    let plain = Guard::new(&layout, "plain", &[]);
    for d in plain.cg.directories() {
        assert!(
            !extra_mounts.iter().any(|m| d.starts_with(m)),
            "{} made for a plain group",
            d.display()
        );
    }
    let full = Guard::new(&layout, "full", &Extra::ALL);
    let dirs = full.cg.directories();
    assert_eq!(
        dirs.len(),
        plain.cg.directories().len() + extra_mounts.len()
    );
    for m in &extra_mounts {
        assert!(dirs.iter().any(|d| d.starts_with(m) && d.is_dir()));
    }
    let again = Cgroup::open_in(&layout, full.cg.path()).expect("open");
    assert_eq!(again.directories(), dirs);
    // A plain group has no freezer: the error names the controller.
    assert!(matches!(
        plain.cg.freeze(),
        Err(CgroupError::NoController {
            controller: "freezer",
            ..
        })
    ));
}
