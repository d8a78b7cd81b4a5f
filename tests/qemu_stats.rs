//! Statistics of running QEMU guests through the `virtsh` binary: vcpucount, vcpuinfo,
//! dommemstat, domblkinfo, domblkstat, domifstat, domjobinfo, domcontrol, domblkerror,
//! cpu-stats and domstats over several domains at once. Output shapes (labels, order, units)
//! are compared with virsh 9.0 on test:///default where its test driver has the command.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{bare_xml, tiny_guest, tiny_xml, unique_name, Embed, READY};

const BOOT: Duration = Duration::from_secs(60);

/// A raw image of `mib` MiB, sparse.
fn raw_image(path: &Path, mib: u64) {
    let f = std::fs::File::create(path).expect("create image");
    f.set_len(mib << 20).expect("size image");
}

fn file_disk(path: &Path, target: &str) -> String {
    format!(
        "<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{}'/>
      <target dev='{target}' bus='virtio'/>
    </disk>",
        path.display()
    )
}

/// Digits replaced by `N` and runs of `y`/`-` (CPU maps) by `M`: what is left is the shape.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut prev = '\0';
    for c in text.chars() {
        let mapped = if c.is_ascii_digit() {
            'N'
        } else if c == 'y' && matches!(prev, 'M' | ' ') && out.ends_with(['M', ' ']) {
            'M'
        } else {
            c
        };
        if !(mapped == prev && matches!(mapped, 'N' | 'M')) {
            out.push(mapped);
        }
        prev = mapped;
    }
    // Columns padded for wider numbers on one side: compare single spaces.
    out.split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `virsh -c test:///default ARGS`' stdout, when real virsh is installed.
fn reference(args: &[&str]) -> Option<String> {
    let o = Command::new("virsh")
        .args(["-c", "test:///default"])
        .args(args)
        .env_remove("LIBVIRT_DEFAULT_URI")
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Lines of `text` without their values: "label" of "label  value".
fn labels(text: &str, sep: char) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().split(sep).next().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn counters_of_a_running_guest() {
    let Some(guest) = tiny_guest("counters_of_a_running_guest") else {
        return;
    };
    let env = Embed::new("stat");
    let name = unique_name("stat");
    let img = env.root.join("vda.img");
    raw_image(&img, 64);
    let xml = tiny_xml(&env, &guest, &name, &file_disk(&img, "vda"))
        .replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
        .replace(
            "<memballoon model='none'/>",
            "<memballoon model='virtio'><stats period='2'/></memballoon>",
        )
        .replace(
            "</devices>",
            "<interface type='user'><mac address='52:54:00:00:00:42'/><model type='virtio'/></interface>\n  </devices>",
        );
    env.define(&name, &xml);

    // Inactive: sizes from the file, the rest refused as libvirt refuses it.
    let info = env.ok(&["domblkinfo", &name, "vda"]);
    assert_eq!(
        info,
        "Capacity:       67108864\nAllocation:     0\nPhysical:       67108864\n\n"
    );
    assert_eq!(
        env.err(&["dommemstat", &name]),
        format!(
            "error: Failed to get memory statistics for domain {name}\n\
             error: Requested operation is not valid: domain is not running\n"
        )
    );
    assert_eq!(
        env.err(&["domjobinfo", &name]),
        "error: Requested operation is not valid: domain is not running\n"
    );
    let counts = env.ok(&["vcpucount", &name]);
    assert_eq!(
        counts,
        "maximum      config         2\ncurrent      config         2\n\n"
    );

    env.ok(&["start", &name]);
    env.wait_serial(&name, READY, 1, BOOT);

    // vcpucount: maximum/current × config/live, as virsh prints them.
    let counts = env.ok(&["vcpucount", &name]);
    assert_eq!(
        counts,
        "maximum      config         2\nmaximum      live           2\n\
         current      config         2\ncurrent      live           2\n\n"
    );
    if let Some(r) = reference(&["vcpucount", "test"]) {
        assert_eq!(shape(&counts), shape(&r));
    }
    assert_eq!(
        env.ok(&["vcpucount", &name, "--live", "--maximum"]),
        "2\n\n"
    );
    assert_eq!(
        env.err(&["vcpucount", &name, "--guest"]),
        "error: argument unsupported: QEMU guest agent is not configured\n"
    );

    // vcpuinfo: one block per vCPU, running, with a CPU time and an affinity map.
    let vi = env.ok(&["vcpuinfo", &name]);
    let blocks: Vec<&str> = vi.trim_end().split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{vi}");
    for (i, b) in blocks.iter().enumerate() {
        assert!(
            b.starts_with(&format!("VCPU:           {i}\nCPU:            ")),
            "{vi}"
        );
        assert!(b.contains("\nState:          running\n"), "{vi}");
        let time = b.lines().nth(3).unwrap_or("");
        assert!(
            time.starts_with("CPU time:       ") && time.ends_with('s'),
            "{vi}"
        );
        let map = b.lines().nth(4).unwrap_or("");
        let map = map.strip_prefix("CPU Affinity:   ").unwrap_or("?");
        assert!(
            !map.is_empty() && map.chars().all(|c| c == 'y' || c == '-'),
            "{vi}"
        );
    }
    if let Some(r) = reference(&["vcpuinfo", "test"]) {
        assert_eq!(shape(&vi), shape(&r));
    }

    // dommemstat: the balloon's size first, QEMU's resident set last.
    let mem = env.ok(&["dommemstat", &name]);
    let lines: Vec<&str> = mem.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.first(), Some(&"actual 196608"), "{mem}");
    let rss = lines
        .last()
        .and_then(|l| l.strip_prefix("rss "))
        .unwrap_or("");
    assert!(rss.parse::<u64>().is_ok_and(|n| n > 1024), "{mem}");
    if let Some(r) = reference(&["dommemstat", "test"]) {
        let ours = labels(&mem, ' ');
        let theirs = labels(&r, ' ');
        // Ours are a subset of libvirt's tags, in libvirt's order.
        let mut it = theirs.iter();
        for l in &ours {
            assert!(it.any(|t| t == l), "{l} out of order: {mem} vs {r}");
        }
    }

    // domblkinfo from QEMU.
    let info = env.ok(&["domblkinfo", &name, "vda"]);
    assert!(
        info.starts_with("Capacity:       67108864\nAllocation:     "),
        "{info}"
    );
    assert!(info.contains("\nPhysical:       67108864\n"), "{info}");
    if let Some(r) = reference(&["domblkinfo", "test", "vda"]) {
        assert_eq!(shape(&info), shape(&r));
    }
    let all = env.ok(&["domblkinfo", &name, "--all"]);
    assert!(all.contains(" vda      67108864 "), "{all}");
    assert_eq!(
        env.err(&["domblkinfo", &name, "vdz"]),
        "error: invalid argument: invalid path vdz not assigned to domain\n"
    );

    // domblkstat: libvirt's legacy names first, then the rest in libvirt's order.
    let bs = env.ok(&["domblkstat", &name, "vda"]);
    let keys: Vec<String> = bs
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        keys,
        [
            "vda rd_req",
            "vda rd_bytes",
            "vda wr_req",
            "vda wr_bytes",
            "vda flush_operations",
            "vda rd_total_times",
            "vda wr_total_times",
            "vda flush_total_times"
        ]
    );
    if let Some(r) = reference(&["domblkstat", "test", "vda"]) {
        let theirs: Vec<String> = r
            .lines()
            .take(4)
            .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(keys[..4], theirs[..]);
    }
    let human = env.ok(&["domblkstat", &name, "vda", "--human"]);
    assert!(
        human.starts_with("Device: vda\n number of read operations:      "),
        "{human}"
    );
    assert_eq!(
        env.err(&["domblkstat", &name, "vdz"]),
        "error: invalid argument: invalid path: vdz\n"
    );

    // domifstat: user networking has no host interface.
    let e = env.err(&["domifstat", &name, "vnet0"]);
    assert_eq!(
        e,
        format!(
            "error: Failed to get interface stats {name} vnet0\n\
             error: invalid argument: 'vnet0' is not a known interface\n"
        )
    );
    if let Some(r) = Command::new("virsh")
        .args(["-c", "test:///default", "domifstat", "test", "vnet0"])
        .output()
        .ok()
        .filter(|o| !o.status.success())
    {
        let theirs = String::from_utf8_lossy(&r.stderr).replace("test vnet0", "X vnet0");
        assert_eq!(e.replace(&format!("{name} vnet0"), "X vnet0"), theirs);
    }
    let e = env.err(&["domifstat", &name, "52:54:00:00:00:42"]);
    assert!(
        e.ends_with("error: internal error: Interface name not provided\n"),
        "{e}"
    );

    // domjobinfo, domcontrol, domblkerror.
    assert_eq!(
        env.ok(&["domjobinfo", &name]),
        "Job type:         None        \n\n"
    );
    assert_eq!(
        env.ok(&["domjobinfo", &name, "--completed"]),
        "Job type:         None        \n\n"
    );
    assert_eq!(
        env.err(&["domjobinfo", &name, "--keep-completed"]),
        "error: Option --completed is required by option --keep-completed\n"
    );
    assert_eq!(
        env.ok(&["domjobinfo", &name, "--rawstats"]),
        "Job type: 0\n\n\n"
    );
    let ctl = env.ok(&["domcontrol", &name]);
    assert_eq!(ctl, "ok\n\n");
    if let Some(r) = reference(&["domcontrol", "test"]) {
        assert_eq!(ctl, r);
    }
    assert_eq!(env.ok(&["domblkerror", &name]), "No errors found\n\n");

    // cpu-stats: totals from /proc; per host CPU needs a cgroup of QEMU's own.
    let cs = env.ok(&["cpu-stats", &name, "--total"]);
    let lines: Vec<&str> = cs.lines().collect();
    assert_eq!(lines.first(), Some(&"Total:"), "{cs}");
    for (l, field) in lines[1..4]
        .iter()
        .zip(["cpu_time", "user_time", "system_time"])
    {
        assert!(l.starts_with(&format!("\t{field:<12} ")), "{cs}");
        assert!(l.ends_with(" seconds"), "{cs}");
    }
    if let Some(r) = reference(&["cpu-stats", "test", "--total"]) {
        assert_eq!(shape(&cs), shape(&r));
    }
    // Per host CPU, from the guest's own cgroup.
    let per_cpu = env.ok(&["cpu-stats", &name]);
    assert!(per_cpu.starts_with("CPU0:\n\tcpu_time "), "{per_cpu}");

    // domstats of this guest: every group, libvirt's names.
    let ds = env.ok(&["domstats", &name]);
    for want in [
        "  state.state=1\n  state.reason=1\n  cpu.time=",
        "\n  balloon.current=196608\n  balloon.maximum=196608\n",
        "\n  balloon.rss=",
        "\n  vcpu.current=2\n  vcpu.maximum=2\n  vcpu.0.state=1\n  vcpu.0.time=",
        "\n  vcpu.1.state=1\n",
        "\n  net.count=1\n  block.count=1\n  block.0.name=vda\n",
        &format!("\n  block.0.path={}\n", img.display()),
        "\n  block.0.rd.reqs=",
        "\n  block.0.capacity=67108864\n",
    ] {
        assert!(ds.contains(want), "{want:?} not in {ds}");
    }
    assert!(ds.starts_with(&format!("Domain: '{name}'\n")), "{ds}");
}

#[test]
fn domstats_of_several_domains_at_once() {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP domstats_of_several_domains_at_once: no qemu-system-x86_64");
        return;
    }
    let env = Embed::new("dstat");
    let names: Vec<String> = (0..3).map(|_| unique_name("ds")).collect();
    let img = env.root.join("off.img");
    raw_image(&img, 8);
    env.define(&names[0], &bare_xml(&names[0], ""));
    env.define(
        &names[1],
        &bare_xml(&names[1], "")
            .replace("<memballoon model='none'/>", "<memballoon model='virtio'/>"),
    );
    env.define(&names[2], &bare_xml(&names[2], &file_disk(&img, "vda")));
    env.ok(&["start", &names[0]]);
    env.ok(&["start", &names[1]]);

    let args: Vec<&str> = std::iter::once("domstats")
        .chain(names.iter().map(String::as_str))
        .collect();
    let out = env.ok(&args);
    let records: Vec<&str> = out.trim_end().split("\n\n").collect();
    assert_eq!(records.len(), 3, "{out}");
    for (r, n) in records.iter().zip(&names) {
        assert!(
            r.starts_with(&format!("Domain: '{n}'\n  state.state=")),
            "{out}"
        );
    }
    // Running guests: every group; no balloon device means the whole memory.
    for r in &records[..2] {
        assert!(
            r.contains("  state.state=1\n  state.reason=1\n  cpu.time="),
            "{r}"
        );
        assert!(
            r.contains("\n  balloon.current=65536\n  balloon.maximum=65536\n"),
            "{r}"
        );
        assert!(r.contains("\n  balloon.rss="), "{r}");
        assert!(r.contains("\n  vcpu.0.state=1\n  vcpu.0.time="), "{r}");
        assert!(r.contains("\n  net.count=0\n  block.count=0"), "{r}");
    }
    // The shut off one: state, balloon, vCPU counts, the disk's file sizes; no counters.
    let off = records[2];
    assert_eq!(
        off,
        format!(
            "Domain: '{}'\n  state.state=5\n  state.reason=0\n  balloon.current=65536\n  \
             balloon.maximum=65536\n  vcpu.current=1\n  vcpu.maximum=1\n  block.count=1\n  \
             block.0.name=vda\n  block.0.path={}\n  block.0.capacity=8388608\n  \
             block.0.physical=8388608",
            names[2],
            img.display()
        )
    );
    if let Some(r) = reference(&["domstats", "test"]) {
        assert_eq!(
            labels(&r, '=')[..3],
            ["Domain: 'test'", "state.state", "state.reason"]
        );
        assert_eq!(
            labels(records[0], '=')[1..3],
            ["state.state", "state.reason"]
        );
    }

    // Groups and list filters.
    let only = env.ok(&["domstats", "--state", "--list-running"]);
    assert_eq!(only.matches("Domain: '").count(), 2, "{only}");
    assert!(
        !only.contains(&names[2]) && !only.contains("cpu.time"),
        "{only}"
    );
    let inactive = env.ok(&["domstats", "--vcpu", "--list-shutoff"]);
    assert_eq!(
        inactive,
        format!(
            "Domain: '{}'\n  vcpu.current=1\n  vcpu.maximum=1\n\n",
            names[2]
        )
    );
    assert_eq!(
        env.err(&["domstats", "--vm", "--enforce", &names[0]]),
        "error: argument unsupported: Stats types bits 0x400 are not supported by this daemon\n"
    );
    // Unsupported groups are left out without --enforce.
    let vm = env.ok(&["domstats", "--vm", &names[0]]);
    assert_eq!(vm, format!("Domain: '{}'\n\n", names[0]));
}
