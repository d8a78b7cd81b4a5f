//! The embedded LXC driver (`lxc:///embed?root=DIR`) end to end through the `virtsh` binary,
//! with real namespaces, cgroups, ptys and veths: containers of a static busybox root.
//!
//! - what the init sees inside (pid 1, the hostname, its own namespaces, its cgroup, the
//!   device allow-list) and what the host sees (memory limits, cgroup members, dominfo, list);
//! - suspend freezes and resume thaws (the freezer), shutdown and destroy leave nothing
//!   behind (processes, mounts, cgroups), a transient container goes away entirely;
//! - a killed supervisor or a killed init is reconciled;
//! - the console, one session at a time;
//! - a container on a virtsh NAT network gets a DHCP lease (inside a test-made netns);
//! - `VIRTSH_CGROUP=v2`: the cgroup2 mount of a hybrid host.
//!
//! Needs root and a static busybox: SKIP otherwise (a failure under CI=true).

mod support;

use std::path::Path;
use std::time::Duration;

use support::lxc_lab::*;
use support::netns::{have_tools, NetNs};
use support::pty::{Nudge, Session};
use support::rootfs::{can_run_containers, script};

/// Facts checked from inside: pid 1, hostname, the namespaces, the cgroup, the devices.
const FACTS: &str = "echo $$ > /out/pid
hostname > /out/hostname
for n in pid mnt uts ipc net; do echo $n $(readlink /proc/self/ns/$n); done > /out/ns
cat /proc/self/cgroup > /out/cgroup
cat /devtest/null > /out/null.txt 2>&1 && echo null-ok > /out/null.txt
head -c 1 /devtest/loop0 > /out/loop.txt 2>&1 || echo denied >> /out/loop.txt
echo ok > /out/done
trap 'exit 0' TERM
while :; do sleep 0.2; done";

/// Device nodes in the root for the allow-list check: the null device (allowed to
/// containers), and a loop block device (not).
fn make_device_nodes(rootfs: &Path) {
    let dir = rootfs.join("devtest");
    std::fs::create_dir_all(&dir).expect("devtest");
    for (file, mode, major, minor) in [
        ("null", libc::S_IFCHR | 0o666, 1, 3),
        ("loop0", libc::S_IFBLK | 0o600, 7, 0),
    ] {
        let path = std::ffi::CString::new(dir.join(file).to_str().expect("utf-8")).expect("path");
        // SAFETY: a valid NUL-terminated path.
        let rc = unsafe { libc::mknod(path.as_ptr(), mode, libc::makedev(major, minor)) };
        assert_eq!(rc, 0, "mknod: {}", std::io::Error::last_os_error());
    }
}

/// Inside: `$$` is 1, the hostname is the name, pid/mnt/uts/ipc namespaces of its own (and
/// net with `<privnet/>`, the host's without), its cgroup, the device allow-list. Outside:
/// the memory limits, the init in its group, `dominfo`, `list`, `domid`.
#[test]
fn facts_inside_and_outside() {
    if !can_run_containers("facts_inside_and_outside") {
        return;
    }
    let lab = Lab::new("lxf");
    make_device_nodes(&lab.rootfs);
    let private = lab.name("lxf");
    let shared = lab.name("lxf");
    let memtune = "<memtune><hard_limit unit='MiB'>96</hard_limit></memtune>
  <features><privnet/></features>";
    lab.define(&private, &lab.sh_xml(&private, FACTS, memtune, ""));
    lab.define(&shared, &lab.sh_xml(&shared, FACTS, "", ""));
    lab.start(&private);
    lab.start(&shared);

    for (name, private_net, limit) in [(&private, true, 96 * MIB), (&shared, false, 128 * MIB)] {
        lab.wait_out(name, "done", LIMIT);
        assert_eq!(lab.out_file(name, "pid").unwrap().trim(), "1", "{name}: $$");
        assert_eq!(lab.out_file(name, "hostname").unwrap().trim(), name);
        let ns = lab.out_file(name, "ns").unwrap();
        for kind in ["pid", "mnt", "uts", "ipc", "net"] {
            let inside = ns
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{kind} ")))
                .unwrap_or_else(|| panic!("{name}: no {kind} in {ns}"));
            assert!(inside.starts_with(&format!("{kind}:[")), "{name}: {ns}");
            let own = kind != "net" || private_net;
            assert_eq!(
                inside != host_ns(kind),
                own,
                "{name}: {kind} namespace {inside} (the host's: {})",
                host_ns(kind)
            );
        }

        let st = lab.status(name);
        assert_eq!(
            lab.env.ok(&["domid", name]).trim(),
            st.id.to_string(),
            "{name}: domid"
        );
        assert!(
            st.cgroup
                .starts_with(&format!("virtsh/lxc/{name}-{}-", st.id)),
            "{name}: cgroup {}",
            st.cgroup
        );
        // The init seen from the host: pid 1 of its namespace, in its group.
        let status = read(Path::new(&format!("/proc/{}/status", st.init))).expect("init alive");
        let nspid = status
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .expect("NSpid");
        assert_eq!(
            nspid.split_whitespace().collect::<Vec<_>>(),
            ["NSpid:", &st.init.to_string(), "1"],
            "{name}"
        );
        let procs = read(&group_file(&st.cgroup, "cgroup.procs")).unwrap();
        assert!(
            procs.lines().any(|l| l == st.init.to_string()),
            "{name}: init {} not in {}: {procs}",
            st.init,
            st.cgroup
        );
        let cg = lab.out_file(name, "cgroup").unwrap();
        for ctl in ["memory", "freezer", "devices", "pids", "cpuacct"] {
            let line = cg.lines().find(|l| {
                l.split(':')
                    .nth(1)
                    .is_some_and(|c| c.split(',').any(|x| x == ctl))
            });
            if let Some(line) = line {
                assert!(
                    line.ends_with(&format!(":/{}", st.cgroup)),
                    "{name}: {ctl}: {cg}"
                );
            } else {
                // A v2 host: one line, `0::/virtsh/lxc/...`.
                assert!(cg.contains(&format!("0::/{}", st.cgroup)), "{name}: {cg}");
            }
        }
        let mem = match group_dirs(&st.cgroup)
            .iter()
            .map(|d| d.join("memory.limit_in_bytes"))
            .find(|p| p.exists())
        {
            Some(p) => read(&p).unwrap(),
            None => read(&group_file(&st.cgroup, "memory.max")).unwrap(),
        };
        assert_eq!(mem.trim(), limit.to_string(), "{name}: memory limit");
        // The allow-list: /dev/null's numbers may be opened, a loop device's not.
        assert_eq!(
            lab.out_file(name, "null.txt").unwrap(),
            "null-ok\n",
            "{name}"
        );
        let denied = lab.out_file(name, "loop.txt").unwrap();
        assert!(
            denied.contains("Operation not permitted") && denied.ends_with("denied\n"),
            "{name}: {denied}"
        );

        let info = lab.env.ok(&["dominfo", name]);
        assert!(
            info.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["State:", "running"]),
            "{info}"
        );
        assert!(
            info.contains("Max memory:     131072 KiB")
                && info.contains("OS Type:        exe")
                && info.contains(&format!("Id:             {}", st.id)),
            "{info}"
        );
        let list = lab.env.ok(&["list"]);
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()
                    == [st.id.to_string().as_str(), name.as_str(), "running"]),
            "{list}"
        );
        // The container's mounts stay in its own mount namespace.
        assert_eq!(lab.root_mounts(), Vec::<String>::new());
    }
    // Both share the root file system: nothing of either may stay once both are gone.
    for name in [&private, &shared] {
        lab.env.ok(&["destroy", name]);
        assert_eq!(lab.env.state(name), "shut off (destroyed)");
    }
    for name in [&private, &shared] {
        lab.assert_nothing_left(name);
    }
}

/// The ticking init: one line a tenth of a second into /out/ticks.
const TICKS: &str = "trap 'exit 0' TERM
while :; do echo x >> /out/ticks; sleep 0.1; done";

fn ticks(lab: &Lab, name: &str) -> usize {
    lab.out_file(name, "ticks").map_or(0, |s| s.len())
}

/// `suspend` freezes the whole container (the file stops growing, the freezer says so),
/// `resume` thaws it.
#[test]
fn suspend_freezes_and_resume_thaws() {
    if !can_run_containers("suspend_freezes_and_resume_thaws") {
        return;
    }
    let lab = Lab::new("lxs");
    let name = lab.name("lxs");
    lab.define(&name, &lab.sh_xml(&name, TICKS, "", ""));
    lab.start(&name);
    wait_for("ticks", LIMIT, || (ticks(&lab, &name) >= 6).then_some(()));
    let st = lab.status(&name);
    let (freezer, frozen, thawed) = match group_dirs(&st.cgroup)
        .iter()
        .map(|d| d.join("freezer.state"))
        .find(|p| p.exists())
    {
        Some(p) => (p, "FROZEN", "THAWED"),
        None => (group_file(&st.cgroup, "cgroup.freeze"), "1", "0"),
    };

    assert_eq!(
        lab.env.ok(&["suspend", &name]),
        format!("Domain '{name}' suspended\n\n")
    );
    assert_eq!(read(&freezer).unwrap().trim(), frozen);
    assert_eq!(lab.env.state(&name), "paused (user)");
    let info = lab.env.ok(&["dominfo", &name]);
    assert!(info.contains("State:          paused"), "{info}");
    let before = ticks(&lab, &name);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(ticks(&lab, &name), before, "the container ran while paused");
    // Still paused: a second suspend changes nothing.
    lab.env.ok(&["suspend", &name]);
    assert_eq!(lab.env.state(&name), "paused (user)");

    assert_eq!(
        lab.env.ok(&["resume", &name]),
        format!("Domain '{name}' resumed\n\n")
    );
    assert_eq!(read(&freezer).unwrap().trim(), thawed);
    assert_eq!(lab.env.state(&name), "running (unpaused)");
    wait_for("ticks after resume", Duration::from_secs(10), || {
        (ticks(&lab, &name) > before + 2).then_some(())
    });
    let e = lab.env.err(&["resume", &name]);
    assert!(e.contains("domain is not paused"), "{e}");

    lab.env.ok(&["shutdown", &name]);
    lab.env
        .wait_state(&name, "shut off (shutdown)", Duration::from_secs(10));
    lab.assert_nothing_left(&name);
}

/// The init of [`shutdown_and_destroy_leave_nothing`]: children of its own, and a trap so that
/// SIGTERM ends it.
const FAMILY: &str = "trap 'exit 0' TERM
sleep 1000 &
sleep 1001 &
echo ok > /out/done
while :; do sleep 0.2; done";

/// `shutdown` ends a container whose init takes SIGTERM; `destroy` kills one (also a paused
/// one); neither leaves a process, mount or cgroup; a transient container goes away with its
/// end.
#[test]
fn shutdown_and_destroy_leave_nothing() {
    if !can_run_containers("shutdown_and_destroy_leave_nothing") {
        return;
    }
    let lab = Lab::new("lxd");
    let name = lab.name("lxd");
    lab.define(&name, &lab.sh_xml(&name, FAMILY, "", ""));

    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    let procs = lab.contained();
    assert!(
        procs.len() >= 3,
        "sh and two sleeps (and the loop's): {procs:?}"
    );
    assert_eq!(
        lab.env.ok(&["shutdown", &name]),
        format!("Domain '{name}' is being shutdown\n\n")
    );
    lab.env
        .wait_state(&name, "shut off (shutdown)", Duration::from_secs(10));
    lab.assert_nothing_left(&name);
    assert!(!lab.env.root.join(format!("run/{name}.xml")).exists());

    // Again, then destroy.
    std::fs::remove_file(lab.out(&name).join("done")).expect("rm done");
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    let st = lab.status(&name);
    assert!(!groups_of(&name).is_empty());
    assert_eq!(
        lab.env.ok(&["destroy", &name]),
        format!("Domain '{name}' destroyed\n\n")
    );
    assert_eq!(lab.env.state(&name), "shut off (destroyed)");
    assert!(gone(st.init));
    lab.assert_nothing_left(&name);
    let e = lab.env.err(&["destroy", &name]);
    assert!(e.contains("domain is not running"), "{e}");

    // A transient container, paused when destroyed: nothing of it stays, not even its name.
    let transient = lab.name("lxd");
    let path = lab.env.root.join("transient.xml");
    std::fs::write(&path, lab.sh_xml(&transient, FAMILY, "", "")).expect("write");
    let out = lab.env.ok(&["create", path.to_str().expect("utf-8")]);
    assert!(
        out.starts_with(&format!("Domain '{transient}' created from")),
        "{out}"
    );
    lab.wait_out(&transient, "done", LIMIT);
    assert!(lab.env.ok(&["list", "--name"]).contains(&transient));
    assert_eq!(
        lab.env
            .ok(&["dominfo", &transient])
            .lines()
            .find(|l| l.starts_with("Persistent:"))
            .unwrap_or_default(),
        "Persistent:     no"
    );
    lab.env.ok(&["suspend", &transient]);
    lab.env.ok(&["destroy", &transient]);
    let all = lab.env.ok(&["list", "--all", "--name"]);
    assert!(!all.contains(&transient), "{all}");
    assert!(all.contains(&name), "{all}");
    let e = lab.env.err(&["domstate", &transient]);
    assert!(e.contains("failed to get domain"), "{e}");
    assert!(!lab
        .env
        .root
        .join(format!("run/{transient}.status"))
        .exists());
    lab.assert_nothing_left(&transient);
}

/// A killed supervisor is noticed by the next command: the container is ended and recorded
/// as crashed, its cgroup removed. A killed init is noticed by the supervisor, which records
/// the end (destroyed: SIGKILL) and removes the cgroup.
#[test]
fn a_killed_supervisor_or_init_is_reconciled() {
    if !can_run_containers("a_killed_supervisor_or_init_is_reconciled") {
        return;
    }
    let lab = Lab::new("lxr");
    let name = lab.name("lxr");
    lab.define(&name, &lab.sh_xml(&name, FAMILY, "", ""));
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    let st = lab.status(&name);
    let sups = lab.supervisors(&name);
    assert_eq!(sups.len(), 1, "{sups:?}");
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(sups[0], libc::SIGKILL) }, 0);
    wait_for("the supervisor's end", LIMIT, || {
        gone(sups[0]).then_some(())
    });
    lab.env
        .wait_state(&name, "shut off (crashed)", Duration::from_secs(10));
    wait_for("the init's end", Duration::from_secs(10), || {
        gone(st.init).then_some(())
    });
    lab.assert_nothing_left(&name);
    let info = lab.env.ok(&["dominfo", &name]);
    assert!(info.contains("State:          shut off"), "{info}");

    // It starts again; now kill its init.
    std::fs::remove_file(lab.out(&name).join("done")).expect("rm done");
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    let st = lab.status(&name);
    let sups = lab.supervisors(&name);
    assert_eq!(sups.len(), 1, "{sups:?}");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(st.init, libc::SIGKILL) }, 0);
    lab.env
        .wait_state(&name, "shut off (destroyed)", Duration::from_secs(10));
    wait_for("the supervisor's exit", LIMIT, || {
        gone(sups[0]).then_some(())
    });
    lab.assert_nothing_left(&name);
}

/// What gets the init shell's prompt once connected: a carriage return every second.
const PROMPT_NUDGE: Nudge = Nudge {
    bytes: b"\r",
    every: Duration::from_secs(1),
    at_once: false,
};

/// `virtsh console` to an interactive shell as the init: typing reaches it, ^] leaves, and a
/// second session is refused while one is connected.
#[test]
fn console_reaches_the_init_shell() {
    if !can_run_containers("console_reaches_the_init_shell") {
        return;
    }
    let lab = Lab::new("lxc");
    let name = lab.name("lxcon");
    lab.define(&name, &lab.xml(&name, &["/bin/sh"], "", ""));
    lab.start(&name);

    let mut a = Session::start(&lab.env, &["console", &name]);
    a.wait_for(
        &format!("Connected to domain '{name}'\r\nEscape character is ^] (Ctrl + ])\r\n"),
        0,
    );
    a.wait_prompt(PROMPT_NUDGE);
    let from = a.text().len();
    a.send(b"echo hi-$((6*7)) $(hostname)\r");
    a.wait_for(&format!("hi-42 {name}"), from);

    // One session at a time.
    let mut b = Session::start(&lab.env, &["console", &name]);
    b.assert_busy();
    a.assert_running("the first session went away");
    a.leave(0x1d);

    // Free again once the first has left; the shell is the same one.
    let mut c = Session::start(&lab.env, &["console", &name]);
    c.wait_prompt(PROMPT_NUDGE);
    let from = c.text().len();
    c.send(b"echo again-$$\r");
    c.wait_for("again-1", from);
    c.leave(0x1d);

    lab.env.ok(&["destroy", &name]);
    let o = lab.env.run(&["console", &name]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: The domain is not running\n"
    );
    lab.assert_nothing_left(&name);
}

/// A container with `<interface type='network'>` on a virtsh NAT network (in a namespace of
/// the test's own): its veth joins the network's bridge, its DHCP client gets a lease that
/// `net-dhcp-leases` shows, and `destroy` leaves no veth.
#[test]
fn container_on_a_network_gets_a_lease() {
    let test = "container_on_a_network_gets_a_lease";
    if !have_tools(test, &["nft"]) || !can_run_containers(test) {
        return;
    }
    let lab = Lab::in_netns("lxn", NetNs::new("lxn"));
    let ns = lab.netns.as_ref().expect("netns");
    let net = "lxnet";
    let path = lab.env.root.join("net.xml");
    std::fs::write(
        &path,
        format!(
            "<network>
  <name>{net}</name>
  <forward mode='nat'/>
  <ip address='192.168.173.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.173.100' end='192.168.173.200'/></dhcp>
  </ip>
</network>
"
        ),
    )
    .expect("write the network XML");
    lab.env.ok(&["net-define", path.to_str().expect("utf-8")]);
    lab.env.ok(&["net-start", net]);
    let bridge = lab
        .env
        .ok(&["net-info", net])
        .lines()
        .find_map(|l| l.strip_prefix("Bridge:"))
        .expect("a Bridge: line")
        .trim()
        .to_string();

    // The DHCP client's script writes the address it got: nothing needs applying.
    script(
        &lab.rootfs.join("bin/lease"),
        "case \"$1\" in bound|renew) echo \"$ip\" > /out/ip;; esac\n",
    );
    let name = lab.name("lxn");
    let mac = "52:54:00:0c:0d:0e";
    let init = format!(
        "trap 'exit 0' TERM
udhcpc -i eth0 -n -q -t 10 -T 1 -s /bin/lease -x hostname:{name} > /out/udhcpc.log 2>&1
echo $? > /out/udhcpc.rc
while :; do sleep 0.2; done"
    );
    let nic = format!(
        "<interface type='network'><mac address='{mac}'/><source network='{net}'/></interface>"
    );
    lab.define(&name, &lab.sh_xml(&name, &init, "", &nic));
    lab.start(&name);

    let ports = ns.ok(&["ip", "-o", "link", "show", "master", &bridge]);
    assert!(ports.contains("veth"), "{ports}");
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(xml.contains("<target dev='veth"), "{xml}");
    let rc = lab.wait_out(&name, "udhcpc.rc", Duration::from_secs(60));
    let log = lab.out_file(&name, "udhcpc.log").unwrap_or_default();
    assert_eq!(rc, "0", "udhcpc failed:\n{log}");
    let ip = lab.wait_out(&name, "ip", Duration::from_secs(5));
    assert!(ip.starts_with("192.168.173."), "{ip}\n{log}");
    let leases = lab.env.ok(&["net-dhcp-leases", net]);
    assert!(
        leases.contains(mac) && leases.contains(&format!("{ip}/24")),
        "{leases}"
    );
    assert!(leases.contains(&name), "{leases}");

    // The counters of the host end, as the container sees them: it received the DHCP offer.
    let veth = xml
        .split("<target dev='")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("the veth's name");
    let ifstat = lab.env.ok(&["domifstat", &name, veth]);
    let rx: u64 = ifstat
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{veth} rx_bytes ")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rx_bytes in:\n{ifstat}"));
    assert!(rx > 0, "{ifstat}");
    let by_mac = lab.env.ok(&["domifstat", &name, mac]);
    assert!(by_mac.contains(" rx_packets "), "{by_mac}");
    let stats = lab.env.ok(&["domstats", "--interface", &name]);
    assert!(
        stats.contains("  net.count=1\n") && stats.contains(&format!("  net.0.name={veth}\n")),
        "{stats}"
    );

    lab.env.ok(&["destroy", &name]);
    let links = ns.ok(&["ip", "-o", "link"]);
    assert!(!links.contains("veth"), "{links}");
    assert_eq!(lab.env.ok(&["net-port-list", net, "--uuid"]), "\n");
    lab.assert_nothing_left(&name);
    lab.env.ok(&["net-destroy", net]);
}

/// `<interface type='ethernet'>`: a veth pair on no bridge, its host end named by
/// `<target dev>` (in a test-made netns), the container's end `eth0` with the definition's MAC
/// and the counters of the host end; destroy removes the pair.
#[test]
fn ethernet_interface_is_a_bare_veth() {
    let test = "ethernet_interface_is_a_bare_veth";
    if !have_tools(test, &["ip"]) || !can_run_containers(test) {
        return;
    }
    let lab = Lab::in_netns("lxe", NetNs::new("lxe"));
    let ns = lab.netns.as_ref().expect("netns");
    let name = lab.name("lxe");
    let mac = "52:54:00:0e:0e:01";
    let init = "cat /sys/class/net/eth0/address > /out/mac
ip -o link > /out/links
echo ok > /out/done
trap 'exit 0' TERM
while :; do sleep 0.2; done";
    let nic = format!(
        "<interface type='ethernet'><mac address='{mac}'/><target dev='vxe0'/></interface>"
    );
    lab.define(&name, &lab.sh_xml(&name, init, "", &nic));
    lab.start(&name);
    lab.wait_out(&name, "done", LIMIT);
    assert_eq!(lab.out_file(&name, "mac").unwrap_or_default().trim(), mac);
    let inside = lab.out_file(&name, "links").unwrap_or_default();
    assert!(!inside.contains("vxe0"), "the host end is inside: {inside}");
    let host = ns.ok(&["ip", "-o", "link", "show", "vxe0"]);
    assert!(
        host.contains("vxe0@") && !host.contains(" master "),
        "{host}"
    );
    let xml = lab.env.ok(&["dumpxml", &name]);
    assert!(xml.contains("<target dev='vxe0'/>"), "{xml}");
    let stats = lab.env.ok(&["domifstat", &name, "vxe0"]);
    assert!(stats.contains("vxe0 rx_bytes "), "{stats}");

    lab.env.ok(&["destroy", &name]);
    let links = ns.ok(&["ip", "-o", "link"]);
    assert!(!links.contains("vxe0"), "{links}");
    lab.assert_nothing_left(&name);
}

/// `VIRTSH_CGROUP=v2` on a hybrid host: the container's group is made in the cgroup2 mount
/// (`unified`), suspend and resume go through `cgroup.freeze`, the device program denies what
/// the allow-list lacks. Where that mount has no memory controller (it is v1's), `start`
/// refuses the memory limit, as libvirt does without one, and leaves nothing behind.
#[test]
fn cgroup_v2_freezes_and_filters_devices() {
    let test = "cgroup_v2_freezes_and_filters_devices";
    if !can_run_containers(test) {
        return;
    }
    let Some(mount) = v2_mount() else {
        eprintln!("SKIP {test}: no writable cgroup2 mount");
        return;
    };
    let mut lab = Lab::new("lx2");
    lab.env.env.push(("VIRTSH_CGROUP".into(), "v2".into()));
    make_device_nodes(&lab.rootfs);
    let name = lab.name("lx2");
    let init = format!(
        "cat /devtest/null > /out/null.txt 2>&1 && echo null-ok > /out/null.txt
head -c 1 /devtest/loop0 > /out/loop.txt 2>&1 || echo denied >> /out/loop.txt
{TICKS}"
    );
    lab.define(&name, &lab.sh_xml(&name, &init, "", ""));
    let o = lab.env.run(&["start", &name]);
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let controllers = read(&mount.join("cgroup.controllers")).unwrap_or_default();
        assert!(
            !controllers.split_whitespace().any(|c| c == "memory")
                && err.contains("the memory hard limit is not supported on this host"),
            "start failed: {err}"
        );
        eprintln!(
            "NOTE {test}: {} has no memory controller (it has: {}), so start refuses the \
             memory limit; the freezer and the device program are not exercised here",
            mount.display(),
            controllers.trim()
        );
        assert_eq!(lab.env.state(&name), "shut off (unknown)");
        assert!(!lab.env.root.join(format!("run/{name}.xml")).exists());
        lab.assert_nothing_left(&name);
        return;
    }
    let st = lab.status(&name);
    let dir = mount.join(&st.cgroup);
    assert!(
        st.cgroup.starts_with("virtsh/lxc/") && dir.is_dir(),
        "{}",
        dir.display()
    );
    // Only there: no v1 hierarchy has it.
    assert_eq!(groups_of(&name), std::slice::from_ref(&dir));
    let procs = read(&dir.join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == st.init.to_string()), "{procs}");
    wait_for("ticks", LIMIT, || (ticks(&lab, &name) >= 6).then_some(()));
    assert_eq!(lab.out_file(&name, "null.txt").unwrap(), "null-ok\n");
    let denied = lab.out_file(&name, "loop.txt").unwrap();
    assert!(
        denied.contains("Operation not permitted") && denied.ends_with("denied\n"),
        "{denied}"
    );

    // Accounting: cgroup2's cpu.stat is there without the cpu controller; the controllers
    // this mount lacks give libvirt's errors.
    let total = lab.env.ok(&["cpu-stats", "--total", &name]);
    assert!(
        total.contains("\tcpu_time ") && total.contains("\tuser_time "),
        "{total}"
    );
    let per_cpu = lab.env.err(&["cpu-stats", &name]);
    assert!(
        per_cpu.contains("operation 'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'"),
        "{per_cpu}"
    );
    let controllers = read(&mount.join("cgroup.controllers")).unwrap_or_default();
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    if !has("cpu") {
        let err = lab.env.err(&["schedinfo", &name]);
        assert!(
            err.contains("cgroup CPU controller is not mounted"),
            "{err}"
        );
    }
    if !has("memory") {
        let err = lab.env.err(&["memtune", &name]);
        assert!(
            err.contains("cgroup memory controller is not mounted"),
            "{err}"
        );
    }

    lab.env.ok(&["suspend", &name]);
    assert_eq!(read(&dir.join("cgroup.freeze")).unwrap().trim(), "1");
    assert!(read(&dir.join("cgroup.events"))
        .unwrap()
        .lines()
        .any(|l| l == "frozen 1"));
    assert_eq!(lab.env.state(&name), "paused (user)");
    let before = ticks(&lab, &name);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(ticks(&lab, &name), before, "the container ran while paused");
    lab.env.ok(&["resume", &name]);
    assert_eq!(read(&dir.join("cgroup.freeze")).unwrap().trim(), "0");
    assert_eq!(lab.env.state(&name), "running (unpaused)");
    wait_for("ticks after resume", Duration::from_secs(10), || {
        (ticks(&lab, &name) > before + 2).then_some(())
    });
    lab.env.ok(&["destroy", &name]);
    assert!(!dir.exists(), "{} left", dir.display());
    lab.assert_nothing_left(&name);
}
