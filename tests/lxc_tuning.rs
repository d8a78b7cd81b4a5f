//! Tuning and counting containers of the embedded LXC driver through the `virtsh` binary,
//! with real cgroups: what `schedinfo`, `setmem`, `memtune` and `blkiotune` change is read
//! back from the container's cgroup files and definitions; what `cpu-stats`, `dommemstat`,
//! `dominfo` and `domstats` report is checked against a container that keeps a CPU busy;
//! `shutdown` and `reboot` reach an init's control FIFO, or signal it, and a rebooted
//! container runs again.
//!
//! Needs root and a static busybox: SKIP otherwise (a failure under CI=true).

mod support;

use std::time::Duration;

use support::lxc_lab::*;
use support::rootfs::can_run_containers;

/// An init that keeps one CPU busy until SIGTERM.
const BUSY: &str = "trap 'exit 0' TERM
echo ok > /out/done
while :; do :; done";

/// The value of `field` in `name : value` lines (schedinfo, memtune, blkiotune).
fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

/// The number in a cgroup file of the running container `name`.
fn cgroup_value(lab: &Lab, name: &str, file: &str) -> i64 {
    let st = lab.status(name);
    let path = group_file(&st.cgroup, file);
    read(&path)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no number in {}", path.display()))
}

/// `schedinfo` reads and sets the posix scheduler's parameters in the cgroup and the live
/// definition; `--config` changes only the persistent one. `setmem` sets the memory limit.
#[test]
fn schedinfo_and_setmem_reach_the_cgroup() {
    if !can_run_containers("schedinfo_and_setmem_reach_the_cgroup") {
        return;
    }
    let lab = Lab::new("lxs");
    let name = lab.name("lxs");
    lab.define(&name, &lab.sh_xml(&name, BUSY, "", ""));
    let off = lab.env.ok(&["schedinfo", &name]);
    assert_eq!(
        off,
        "Scheduler      : posix\ncpu_shares     : 0\nvcpu_period    : 0\nvcpu_quota     : 0\n\n"
    );
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);

    let live = lab.env.ok(&["schedinfo", &name]);
    assert_eq!(field(&live, "Scheduler"), "posix");
    assert_eq!(
        field(&live, "cpu_shares"),
        cgroup_value(&lab, &name, "cpu.shares").to_string()
    );
    assert_eq!(
        field(&live, "vcpu_period"),
        cgroup_value(&lab, &name, "cpu.cfs_period_us").to_string()
    );

    let set = lab.env.ok(&[
        "schedinfo",
        &name,
        "--set",
        "cpu_shares=512",
        "--set",
        "vcpu_quota=50000",
    ]);
    assert_eq!(field(&set, "cpu_shares"), "512");
    assert_eq!(field(&set, "vcpu_quota"), "50000");
    assert_eq!(cgroup_value(&lab, &name, "cpu.shares"), 512);
    assert_eq!(cgroup_value(&lab, &name, "cpu.cfs_quota_us"), 50000);
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(
        xml.contains("<cputune>\n    <shares>512</shares>\n    <quota>50000</quota>\n  </cputune>"),
        "{xml}"
    );
    // Live only: the persistent definition is as it was.
    assert!(!lab
        .env
        .ok(&["dumpxml", "--inactive", &name])
        .contains("<cputune>"));

    lab.env
        .ok(&["schedinfo", &name, "--config", "--set", "cpu_shares=300"]);
    assert_eq!(
        field(&lab.env.ok(&["schedinfo", &name, "--config"]), "cpu_shares"),
        "300"
    );
    assert_eq!(cgroup_value(&lab, &name, "cpu.shares"), 512);
    let err = lab.env.err(&["schedinfo", &name, "--set", "cpu_shares=1"]);
    assert!(
        err.contains("shares '1' must be in range [2, 262144]"),
        "{err}"
    );
    let err = lab.env.err(&["schedinfo", &name, "--set", "bogus=1"]);
    assert_eq!(err, "error: invalid scheduler option: bogus\n");

    lab.env.ok(&["setmem", &name, "100M"]);
    assert_eq!(
        cgroup_value(&lab, &name, "memory.limit_in_bytes"),
        100 * 1024 * 1024
    );
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(
        xml.contains("<currentMemory unit='KiB'>102400</currentMemory>"),
        "{xml}"
    );
    assert_eq!(
        lab.env.err(&["setmem", &name, "200M"]),
        "error: invalid argument: Cannot set memory higher than max memory\n"
    );
    let err = lab.env.err(&["setmaxmem", &name, "64M"]);
    assert!(
        err.contains("Cannot resize the max memory on an active domain"),
        "{err}"
    );
    lab.env.ok(&["setmem", &name, "64M", "--config"]);
    assert!(lab
        .env
        .ok(&["dumpxml", "--inactive", &name])
        .contains("<currentMemory unit='KiB'>65536</currentMemory>"));

    lab.env.ok(&["destroy", &name]);
    // After the end, the persistent values are the ones a start applies.
    assert_eq!(
        field(&lab.env.ok(&["schedinfo", &name]), "cpu_shares"),
        "300"
    );
    lab.assert_nothing_left(&name);
}

/// The counters come from the container's cgroup: a busy container's CPU time grows, its
/// memory is charged, and the commands refuse a container that does not run.
#[test]
fn counters_come_from_the_cgroup() {
    if !can_run_containers("counters_come_from_the_cgroup") {
        return;
    }
    let lab = Lab::new("lxk");
    let name = lab.name("lxk");
    lab.define(&name, &lab.sh_xml(&name, BUSY, "", ""));
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    // At least 0.3 s of CPU time, which a busy loop has within a few seconds.
    let usage = wait_for("CPU time", LIMIT, || {
        let n = cgroup_value(&lab, &name, "cpuacct.usage");
        (n > 300_000_000).then_some(n)
    });

    let stats = lab.env.ok(&["cpu-stats", &name, "--total"]);
    let total: f64 = stats
        .lines()
        .find_map(|l| l.trim().strip_prefix("cpu_time"))
        .and_then(|v| v.trim().strip_suffix(" seconds"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no cpu_time in:\n{stats}"));
    assert!(total * 1e9 >= usage as f64, "{total} s < {usage} ns");
    let per_cpu = lab.env.ok(&["cpu-stats", &name]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        per_cpu.matches("CPU").count() >= cpus && per_cpu.contains("Total:"),
        "{per_cpu}"
    );

    let mem = lab.env.ok(&["dommemstat", &name]);
    let tags: Vec<&str> = mem
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(tags, ["actual", "swap_in", "rss"], "{mem}");
    assert!(mem.starts_with("actual 131072\n"), "{mem}");
    let rss: u64 = mem
        .lines()
        .find_map(|l| l.strip_prefix("rss "))
        .and_then(|v| v.trim().parse().ok())
        .expect("rss");
    assert!(rss > 0, "{mem}");

    let info = lab.env.ok(&["dominfo", &name]);
    let cpu_time: f64 = field(&info, "CPU time")
        .trim_end_matches('s')
        .parse()
        .expect("CPU time");
    assert!(cpu_time >= 0.3, "{info}");

    let all = lab.env.ok(&["domstats", &name]);
    for f in [
        "state.state=1",
        "cpu.time=",
        "cpu.user=",
        "balloon.current=131072",
        "balloon.maximum=131072",
        "balloon.rss=",
        "vcpu.current=1",
        "net.count=0",
    ] {
        assert!(all.contains(&format!("  {f}")), "no {f} in:\n{all}");
    }
    let just_state = lab.env.ok(&["domstats", "--state", &name]);
    assert_eq!(
        just_state,
        format!("Domain: '{name}'\n  state.state=1\n  state.reason=1\n\n")
    );

    lab.env.ok(&["destroy", &name]);
    let err = lab.env.err(&["dommemstat", &name]);
    assert!(err.contains("domain is not running"), "{err}");
    let err = lab.env.err(&["cpu-stats", &name]);
    assert!(err.contains("domain is not running"), "{err}");
    let off = lab.env.ok(&["domstats", &name]);
    assert!(
        off.contains("  state.state=5\n") && !off.contains("cpu.time"),
        "{off}"
    );
    lab.assert_nothing_left(&name);
}

/// An init that listens on `/dev/initctl` gets sysvinit's runlevel requests: 0 for
/// `shutdown`, 6 for `reboot`; `--mode signal` sends SIGTERM instead, and `--mode initctl`
/// is refused where there is no FIFO.
#[test]
fn shutdown_and_reboot_reach_initctl() {
    if !can_run_containers("shutdown_and_reboot_reach_initctl") {
        return;
    }
    let lab = Lab::new("lxi");
    let name = lab.name("lxi");
    let init = "trap 'echo term > /out/term; exit 0' TERM
mkfifo /dev/initctl
n=0
while :; do
  head -c 384 /dev/initctl > /out/req.tmp && mv /out/req.tmp /out/req$n
  n=$((n+1))
done &
echo ok > /out/done
while :; do sleep 0.2; done";
    lab.define(&name, &lab.sh_xml(&name, init, "", ""));
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);

    let request = |file: &str| -> Vec<u8> {
        wait_for(file, LIMIT, || {
            std::fs::read(lab.out(&name).join(file)).ok()
        })
    };
    let expect = |runlevel: u8| {
        let mut r = vec![0u8; 384];
        r[0..4].copy_from_slice(&0x0309_1969i32.to_ne_bytes());
        r[4..8].copy_from_slice(&1i32.to_ne_bytes());
        r[8..12].copy_from_slice(&i32::from(runlevel).to_ne_bytes());
        r
    };
    assert_eq!(
        lab.env.ok(&["shutdown", &name]),
        format!("Domain '{name}' is being shutdown\n\n")
    );
    assert_eq!(request("req0"), expect(b'0'));
    assert_eq!(
        lab.env.ok(&["reboot", &name]),
        format!("Domain '{name}' is being rebooted\n\n")
    );
    assert_eq!(request("req1"), expect(b'6'));
    // Neither request stopped this init, which only reads them.
    assert_eq!(lab.env.state(&name), "running (booted)");

    lab.env.ok(&["shutdown", "--mode", "signal", &name]);
    lab.wait_out(&name, "term", LIMIT);
    lab.env
        .wait_state(&name, "shut off (shutdown)", Duration::from_secs(10));

    // A container whose FIFO nobody reads: `--mode initctl` is refused, the default falls
    // back to SIGTERM.
    let plain = lab.name("lxi");
    let unread = format!("mkfifo /dev/initctl\n{BUSY}");
    lab.define(&plain, &lab.sh_xml(&plain, &unread, "", ""));
    lab.start(&plain);
    lab.wait_out(&plain, "done", LIMIT);
    assert_eq!(
        lab.env.err(&["shutdown", "--mode", "initctl", &plain]),
        "error: Failed to shutdown domain '{plain}'\nerror: Operation not supported: \
         Container does not provide an initctl pipe\n"
            .replace("{plain}", &plain)
    );
    lab.env.ok(&["shutdown", &plain]);
    lab.env
        .wait_state(&plain, "shut off (shutdown)", Duration::from_secs(10));
    lab.assert_nothing_left(&name);
    lab.assert_nothing_left(&plain);
}

/// `reboot` without a control FIFO sends SIGHUP; an init that then reboots (busybox's
/// `reboot -f`, reboot(2) in its pid namespace) is started again by the supervisor: a new
/// init, a new id and cgroup, the old cgroup gone. A reboot from inside does the same; with `<on_reboot>destroy` it ends the container.
#[test]
fn a_rebooted_container_runs_again() {
    if !can_run_containers("a_rebooted_container_runs_again") {
        return;
    }
    let lab = Lab::new("lxr");
    let name = lab.name("lxr");
    // Each run appends a line: the runs are counted from the host.
    let init = "trap 'echo hup >> /out/hups; reboot -f' HUP
echo run >> /out/runs
while :; do sleep 0.2; done";
    let runs = |lab: &Lab| lab.out_file(&name, "runs").map_or(0, |s| s.lines().count());
    lab.define(&name, &lab.sh_xml(&name, init, "", ""));
    lab.start(&name);
    wait_for("the first run", LIMIT, || (runs(&lab) == 1).then_some(()));
    let first = lab.status(&name);

    assert_eq!(
        lab.env.ok(&["reboot", &name]),
        format!("Domain '{name}' is being rebooted\n\n")
    );
    wait_for("the second run", LIMIT, || (runs(&lab) == 2).then_some(()));
    assert_eq!(lab.out_file(&name, "hups").as_deref(), Some("hup\n"));
    let second = wait_for("the new status", LIMIT, || {
        let s = lab.status(&name);
        (s.init != first.init).then_some(s)
    });
    assert_ne!(second.id, first.id);
    assert_ne!(second.cgroup, first.cgroup);
    assert!(
        group_dirs(&first.cgroup).is_empty(),
        "the old cgroup is left"
    );
    assert!(!group_dirs(&second.cgroup).is_empty());
    assert_eq!(lab.env.state(&name), "running (booted)");
    assert_eq!(lab.supervisors(&name).len(), 1);
    let domid = lab.env.ok(&["domid", &name]);
    assert_eq!(domid.trim(), second.id.to_string());

    // From inside: reboot(2) by a process that joined the container (the process dies with
    // the pid namespace, so its status does not matter).
    let _ = lab.env.run(&[
        "lxc-enter-namespace",
        &name,
        "--noseclabel",
        "/bin/reboot",
        "-f",
    ]);
    wait_for("the third run", LIMIT, || (runs(&lab) == 3).then_some(()));
    lab.env.ok(&["destroy", &name]);
    assert_eq!(lab.env.state(&name), "shut off (destroyed)");
    lab.assert_nothing_left(&name);

    // <on_reboot>destroy</on_reboot>: a reboot is the end.
    let once = lab.name("lxr");
    lab.define(
        &once,
        &lab.sh_xml(
            &once,
            "trap 'reboot -f' HUP\necho ok > /out/done\nwhile :; do sleep 0.2; done",
            "<on_reboot>destroy</on_reboot>",
            "",
        ),
    );
    lab.start(&once);
    lab.wait_out(&once, "done", LIMIT);
    lab.env.ok(&["reboot", &once]);
    lab.env
        .wait_state(&once, "shut off (shutdown)", Duration::from_secs(10));
    lab.assert_nothing_left(&once);
}

/// A block device node of this host, for per-device I/O limits (the limit is set on the
/// container's cgroup only, so any disk will do).
fn some_block_device() -> String {
    use std::os::unix::fs::FileTypeExt;
    let found = std::fs::read_dir("/sys/class/block").ok().and_then(|d| {
        d.flatten()
            .map(|e| format!("/dev/{}", e.file_name().to_string_lossy()))
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device()))
    });
    found.expect("a block device node under /dev")
}

/// `memtune` and `blkiotune` act on the cgroup of a running container and on its live
/// definition; `--config` on the persistent one; libvirt's checks hold.
#[test]
fn memtune_and_blkiotune_reach_the_cgroup() {
    if !can_run_containers("memtune_and_blkiotune_reach_the_cgroup") {
        return;
    }
    let lab = Lab::new("lxm");
    let name = lab.name("lxm");
    lab.define(&name, &lab.sh_xml(&name, BUSY, "", ""));
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);

    // The <memory> of the definition is the hard limit at start, as libvirt sets it.
    let before = lab.env.ok(&["memtune", &name]);
    assert_eq!(field(&before, "hard_limit"), "131072", "{before}");
    lab.env.ok(&[
        "memtune",
        &name,
        "--hard-limit",
        "90M",
        "--soft-limit",
        "50M",
    ]);
    assert_eq!(
        cgroup_value(&lab, &name, "memory.limit_in_bytes"),
        90 * 1024 * 1024
    );
    assert_eq!(
        cgroup_value(&lab, &name, "memory.soft_limit_in_bytes"),
        50 * 1024 * 1024
    );
    let after = lab.env.ok(&["memtune", &name]);
    assert_eq!(field(&after, "hard_limit"), "92160");
    assert_eq!(field(&after, "soft_limit"), "51200");
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(
        xml.contains(
            "<memtune>\n    <hard_limit unit='KiB'>92160</hard_limit>\n    \
             <soft_limit unit='KiB'>51200</soft_limit>\n  </memtune>"
        ),
        "{xml}"
    );
    assert_eq!(
        lab.env.err(&[
            "memtune",
            &name,
            "--hard-limit",
            "300M",
            "--swap-hard-limit",
            "200M"
        ]),
        "error: Unable to change memory parameters\nerror: invalid argument: memory \
         hard_limit tunable value must be lower than or equal to swap_hard_limit\n"
    );
    assert_eq!(
        cgroup_value(&lab, &name, "memory.limit_in_bytes"),
        90 * 1024 * 1024,
        "a refused change changed the cgroup"
    );
    lab.env
        .ok(&["memtune", &name, "--config", "--hard-limit", "100M"]);
    assert_eq!(
        field(&lab.env.ok(&["memtune", &name, "--config"]), "hard_limit"),
        "102400"
    );
    assert_eq!(
        cgroup_value(&lab, &name, "memory.limit_in_bytes"),
        90 * 1024 * 1024
    );

    let disk = some_block_device();
    let (major, minor) = {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(&disk).expect("stat the disk").rdev();
        (libc::major(rdev), libc::minor(rdev))
    };
    lab.env.ok(&[
        "blkiotune",
        &name,
        "--device-read-iops-sec",
        &format!("{disk},1000"),
    ]);
    let st = lab.status(&name);
    let rules =
        read(&group_file(&st.cgroup, "blkio.throttle.read_iops_device")).unwrap_or_default();
    assert!(
        rules.lines().any(|l| l == format!("{major}:{minor} 1000")),
        "{rules}"
    );
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(
        xml.contains(&format!(
            "<device>\n      <path>{disk}</path>\n      <read_iops_sec>1000</read_iops_sec>"
        )),
        "{xml}"
    );
    let err = lab.env.err(&[
        "blkiotune",
        &name,
        "--device-read-iops-sec",
        "/dev/null,1000",
    ]);
    assert!(
        err.ends_with("Path '/dev/null' must be a block device: Invalid argument\n"),
        "{err}"
    );
    // The weight needs the bfq (or old cfq) I/O scheduler; without it, libvirt's words.
    let weight_file = group_dirs(&st.cgroup)
        .iter()
        .any(|d| d.join("blkio.bfq.weight").exists() || d.join("blkio.weight").exists());
    let shown = lab.env.run(&["blkiotune", &name]);
    if weight_file {
        let out = String::from_utf8_lossy(&shown.stdout);
        assert!(
            out.contains(&format!("device_read_iops_sec: {disk},1000")),
            "{out}"
        );
    } else {
        let err = String::from_utf8_lossy(&shown.stderr);
        assert!(
            err.contains("weight is valid only for bfq or cfq scheduler"),
            "{err}"
        );
    }
    lab.env
        .ok(&["blkiotune", &name, "--config", "--weight", "300"]);
    let config = lab.env.ok(&["blkiotune", &name, "--config"]);
    assert_eq!(field(&config, "weight"), "300");
    assert_eq!(field(&config, "device_read_iops_sec"), "");

    lab.env.ok(&["destroy", &name]);
    lab.assert_nothing_left(&name);
}
