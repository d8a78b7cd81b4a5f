//! `lxc:///session`: containers of an ordinary user (uid 1000, switched to by the test), end
//! to end through a copy of the `virtsh` binary that user runs, with real user, pid, mount,
//! uts, ipc and network namespaces and no daemon:
//!
//! - inside, the init is root of its user namespace (`id -u` is 0, `uid_map` maps 0 to the
//!   user, one id), pid 1, with the domain's name as hostname; root-owned files of the root
//!   file system show as the overflow uid; on the host the init runs as the user;
//! - `list`, `dominfo` and the console work; `suspend` (and the other calls that need a
//!   cgroup) are refused with libvirt's words where the user has no delegated cgroup;
//! - `shutdown` and `destroy` leave no process and no runtime file of the run;
//! - an `<interface type='network'>` and an `<idmap>` of other ids are refused at start,
//!   leaving nothing.
//!
//! Needs root (to become the user), a static busybox and unprivileged user namespaces: SKIP
//! otherwise (a failure under CI=true).

#[path = "support/session.rs"]
mod session;
mod support;

use std::time::Duration;

use session::{can_run_session, SessionLab, USER_ID};
use support::lxc_lab::{gone, read, LIMIT};
use support::unique_name;

/// The init: facts into `/out`, then a console loop that answers each line, until SIGTERM.
const INIT: &str = "id -u > /out/uid
cat /proc/self/uid_map > /out/uid_map
echo $$ > /out/pid
hostname > /out/hostname
stat -c %u /bin/busybox > /out/busybox_owner
echo ok > /out/done
trap 'exit 0' TERM
while :; do if read -t 1 line; then echo \"got:$line\"; fi; done";

fn xml(lab: &SessionLab, name: &str, extra: &str, devices: &str) -> String {
    format!(
        "<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  {extra}
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>{init}</initarg>
  </os>
  <devices>
    <filesystem type='mount'><source dir='{root}'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='{out}'/><target dir='/out'/></filesystem>
    <console type='pty'/>
    {devices}
  </devices>
</domain>
",
        init = support::lxc_lab::xml_escape(INIT),
        root = lab.rootfs.display(),
        out = lab.out(name).display(),
    )
}

/// The effective uid of a host process (`Uid:` of its status: real, effective, ...).
fn host_uid(pid: i32) -> u32 {
    let status = read(std::path::Path::new(&format!("/proc/{pid}/status"))).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .expect("Uid: line")
}

/// The runtime files of one run: the live XML and an active status.
fn assert_run_files_gone(lab: &SessionLab, name: &str) {
    let run = lab.run_dir();
    assert!(!run.join(format!("{name}.xml")).exists(), "live XML left");
    if let Some(s) = read(&run.join(format!("{name}.status"))) {
        let v: serde_json::Value = serde_json::from_str(&s).expect("status JSON");
        assert!(v["process"].is_null(), "an active status left: {s}");
    }
}

#[test]
fn session_container_runs_as_the_user() {
    if !can_run_session("session_container_runs_as_the_user") {
        return;
    }
    let lab = SessionLab::new("lxs");
    let name = unique_name("lxs");
    lab.define(&name, &xml(&lab, &name, "", ""));
    assert_eq!(
        lab.ok(&["start", &name]),
        format!("Domain '{name}' started\n\n")
    );
    lab.wait_out(&name, "done", LIMIT);
    let out = |f: &str| lab.wait_out(&name, f, LIMIT);
    assert_eq!(out("uid"), "0");
    let map: Vec<String> = out("uid_map")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(map, ["0", &USER_ID.to_string(), "1"]);
    assert_eq!(out("pid"), "1");
    assert_eq!(out("hostname"), name);
    assert_eq!(
        out("busybox_owner"),
        "65534",
        "root-owned files show as nobody"
    );

    // On the host: the init is the user's process.
    let init = lab.init_pid(&name);
    assert_eq!(host_uid(init), USER_ID);
    let list = lab.ok(&["list", "--name"]);
    assert!(list.lines().any(|l| l == name), "{list}");
    let info = lab.ok(&["dominfo", &name]);
    assert!(info.contains("State:          running\n"), "{info}");
    assert!(info.contains("Max memory:     65536 KiB\n"), "{info}");

    // No cgroup for a user on this host (unless a delegated cgroup2 subtree gave one).
    let status = read(&lab.run_dir().join(format!("{name}.status"))).expect("status");
    let has_cgroup =
        serde_json::from_str::<serde_json::Value>(&status).expect("JSON")["cgroup"].is_string();
    if !has_cgroup {
        let e = lab.err(&["suspend", &name]);
        assert!(
            e.contains(
                "error: Requested operation is not valid: cgroup freezer controller is not mounted"
            ),
            "{e}"
        );
        assert_eq!(lab.state(&name), "running (booted)");
        let e = lab.err(&["dommemstat", &name]);
        assert!(e.contains("cgroup controllers are not mounted"), "{e}");
        let log = read(&lab.log(&name)).unwrap_or_default();
        assert!(log.contains("warning: domain '"), "{log}");
    }

    // The console reaches the init.
    let mut con = lab.console(&name);
    con.wait_for(&format!("Connected to domain '{name}'"));
    // The container side of the console is raw: no CR to NL translation for `read`.
    con.send(b"hello-session\n");
    con.wait_for("got:hello-session");
    con.leave();

    // shutdown: SIGTERM to the init, which traps it.
    assert_eq!(
        lab.ok(&["shutdown", &name]),
        format!("Domain '{name}' is being shutdown\n\n")
    );
    lab.wait_state(&name, "shut off (shutdown)", Duration::from_secs(10));
    assert!(gone(init));
    lab.assert_no_process();
    assert_run_files_gone(&lab, &name);

    // Again, then destroy.
    std::fs::remove_file(lab.out(&name).join("done")).expect("rm done");
    lab.ok(&["start", &name]);
    lab.wait_out(&name, "done", LIMIT);
    let init = lab.init_pid(&name);
    assert_eq!(
        lab.ok(&["destroy", &name]),
        format!("Domain '{name}' destroyed\n\n")
    );
    assert_eq!(lab.state(&name), "shut off (destroyed)");
    assert!(gone(init));
    lab.assert_no_process();
    assert_run_files_gone(&lab, &name);
}

/// What an unprivileged user cannot have is refused at start, with nothing left behind: an
/// interface (no veth without privileges) and an `<idmap>` of ids other than the user's.
/// An `<idmap>` of the user's own ids is honoured.
#[test]
fn session_refuses_what_needs_privileges() {
    if !can_run_session("session_refuses_what_needs_privileges") {
        return;
    }
    let lab = SessionLab::new("lxr");
    let net = unique_name("lxr");
    lab.define(
        &net,
        &xml(
            &lab,
            &net,
            "",
            "<interface type='network'><source network='default'/></interface>",
        ),
    );
    let e = lab.err(&["start", &net]);
    assert!(
        e.contains(
            "error: Operation not supported: lxc:///session cannot connect <interface \
             type='network'>"
        ),
        "{e}"
    );
    assert_eq!(lab.state(&net), "shut off (unknown)");
    lab.assert_no_process();
    assert_run_files_gone(&lab, &net);

    let range = |id: u32, count: u32| {
        format!(
            "<idmap><uid start='0' target='{id}' count='{count}'/>\
             <gid start='0' target='{id}' count='{count}'/></idmap>"
        )
    };
    let other = unique_name("lxr");
    lab.define(&other, &xml(&lab, &other, &range(100_000, 65536), ""));
    let e = lab.err(&["start", &other]);
    assert!(
        e.contains(&format!(
            "error: unsupported configuration: lxc:///session can only map the caller's own \
             uid {USER_ID}"
        )),
        "{e}"
    );
    lab.assert_no_process();
    assert_run_files_gone(&lab, &other);

    let own = unique_name("lxr");
    lab.define(&own, &xml(&lab, &own, &range(USER_ID, 1), ""));
    lab.ok(&["start", &own]);
    // `done` last: a file it wrote before may still be empty when it first appears.
    lab.wait_out(&own, "done", LIMIT);
    assert_eq!(lab.wait_out(&own, "uid", LIMIT), "0");
    lab.ok(&["destroy", &own]);
    lab.assert_no_process();
}

/// Where the user has a delegated cgroup2 group (as `user@UID.service` on a systemd host,
/// made by the test here), the container gets a group under it: `suspend` and `resume` work
/// through its freezer, the CPU counters come from it, and it goes away with the container
/// (the user's own group stays).
#[test]
fn a_delegated_cgroup_serves_the_container() {
    let test = "a_delegated_cgroup_serves_the_container";
    if !can_run_session(test) {
        return;
    }
    let mut lab = SessionLab::new("lxg");
    let Some(group) = lab.delegate_cgroup() else {
        assert!(
            !support::in_ci(),
            "{test}: no writable cgroup2 mount (CI=true)"
        );
        eprintln!("SKIP {test}: no writable cgroup2 mount");
        return;
    };
    let name = unique_name("lxg");
    lab.define(&name, &xml(&lab, &name, "", ""));
    lab.ok(&["start", &name]);
    lab.wait_out(&name, "done", LIMIT);
    let status = read(&lab.run_dir().join(format!("{name}.status"))).expect("status");
    let v: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    let rel = v["cgroup"]
        .as_str()
        .expect("a cgroup in the status")
        .to_string();
    let own = group.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        rel.starts_with(&format!("{own}/virtsh/lxc/{name}-")),
        "{rel}"
    );
    let dir = group.parent().expect("the mount").join(&rel);
    let members = read(&dir.join("cgroup.procs")).unwrap_or_default();
    let init = lab.init_pid(&name);
    assert!(members.lines().any(|l| l == init.to_string()), "{members}");

    lab.ok(&["suspend", &name]);
    assert_eq!(lab.state(&name), "paused (user)");
    assert_eq!(read(&dir.join("cgroup.freeze")).as_deref(), Some("1\n"));
    lab.ok(&["resume", &name]);
    assert_eq!(lab.state(&name), "running (unpaused)");
    let stats = lab.ok(&["cpu-stats", "--total", &name]);
    assert!(stats.contains("cpu_time"), "{stats}");

    lab.ok(&["destroy", &name]);
    lab.assert_no_process();
    assert!(
        !group.join("virtsh").exists(),
        "the container's groups are left"
    );
    assert!(group.is_dir(), "the user's own group went away");
}
