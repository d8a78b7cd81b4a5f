//! The QMP client and the pre-opened monitor fd against a real qemu-system-x86_64 (TCG, no guest).

mod common;

use std::time::{Duration, Instant};

use common::{qemu_binary, start_qemu, TestDir, TIMEOUT};
use serde_json::{json, Value};
use virtsh_qemu::monitor_fd::{self, MonitorSocket};
use virtsh_qemu::{ErrorClass, QmpError};

#[test]
fn greeting_version_and_status() {
    let Some(qemu) = qemu_binary("greeting_version_and_status") else {
        return;
    };
    let dir = TestDir::new("greet");
    let (_guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    let g = qmp.greeting().clone();
    assert!(g.version.major >= 4, "greeting version {:?}", g.version);
    let v = qmp
        .execute("query-version", Value::Null)
        .expect("query-version");
    assert_eq!(
        v["qemu"]["major"].as_u64(),
        Some(u64::from(g.version.major))
    );
    assert_eq!(
        v["qemu"]["minor"].as_u64(),
        Some(u64::from(g.version.minor))
    );
    let st = qmp
        .execute("query-status", json!({}))
        .expect("query-status");
    assert_eq!(st["status"], "prelaunch", "{st}");
    assert_eq!(st["running"], false);
}

#[test]
fn monitor_socket_is_private_and_fd_not_leaked() {
    use std::os::unix::fs::PermissionsExt;
    let Some(qemu) = qemu_binary("monitor_socket_is_private_and_fd_not_leaked") else {
        return;
    };
    let dir = TestDir::new("priv");
    let (guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    let mode = std::fs::metadata(dir.path().join("run"))
        .expect("runtime dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // QEMU holds the listening socket; this process does not (tests run in parallel threads,
    // so look for that socket's inode, not at a count of fds).
    let sock = dir.path().join("run").join("monitor.sock");
    let net = std::fs::read_to_string("/proc/net/unix").expect("/proc/net/unix");
    let inode = net
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
            (f.len() >= 8 && f[3] == "00010000" && std::path::Path::new(f[7]) == sock)
                .then(|| f[6].to_string())
        })
        .expect("listening monitor socket in /proc/net/unix");
    let target = format!("socket:[{inode}]");
    let holds = |pid: &str| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("fd dir")
            .flatten()
            .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy() == target))
    };
    assert!(
        holds(&guard.pid().to_string()),
        "QEMU holds the listening fd"
    );
    assert!(!holds("self"), "virtsh closed its copy of the listening fd");
    qmp.execute("query-status", Value::Null)
        .expect("still talking");
}

#[test]
fn failing_command_maps_error_class() {
    let Some(qemu) = qemu_binary("failing_command_maps_error_class") else {
        return;
    };
    let dir = TestDir::new("err");
    let (_guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    let e = qmp
        .execute("no-such-command", Value::Null)
        .expect_err("unknown command");
    assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound), "{e}");
    let e = qmp
        .execute("device_del", json!({"id": "nope"}))
        .expect_err("no such device");
    assert_eq!(e.class(), Some(&ErrorClass::DeviceNotFound), "{e}");
    assert!(e.to_string().contains("device_del"), "{e}");
    let e = qmp
        .execute("query-status", json!({"bogus": 1}))
        .expect_err("bad argument");
    assert_eq!(e.class(), Some(&ErrorClass::GenericError), "{e}");
    // The connection is still fine after errors.
    qmp.execute("query-status", Value::Null)
        .expect("query-status");
}

#[test]
fn stop_and_cont_deliver_events() {
    let Some(qemu) = qemu_binary("stop_and_cont_deliver_events") else {
        return;
    };
    let dir = TestDir::new("ev");
    let (_guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    qmp.execute("cont", Value::Null).expect("cont");
    let ev = qmp.wait_event("RESUME", TIMEOUT).expect("RESUME event");
    assert!(ev.timestamp.is_some());
    qmp.execute("stop", Value::Null).expect("stop");
    let ev = qmp.wait_event("STOP", TIMEOUT).expect("STOP event");
    assert_eq!(ev.name, "STOP");
    let st = qmp.execute("query-status", Value::Null).expect("status");
    assert_eq!(st["status"], "paused", "{st}");
    // Events that arrive during execute are queued, not lost.
    qmp.execute("cont", Value::Null).expect("cont");
    qmp.execute("query-status", Value::Null).expect("status");
    let mut names: Vec<String> = qmp.events().into_iter().map(|e| e.name).collect();
    if names.is_empty() {
        names = qmp
            .wait_event("RESUME", TIMEOUT)
            .map(|e| vec![e.name])
            .expect("RESUME");
    }
    assert!(names.iter().any(|n| n == "RESUME"), "{names:?}");
    // Waiting for an event that never comes is bounded.
    let t0 = Instant::now();
    let e = qmp
        .wait_event("SHUTDOWN", Duration::from_millis(300))
        .expect_err("no shutdown");
    assert!(e.is_timeout(), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn stuck_qemu_times_out_and_recovers() {
    let Some(qemu) = qemu_binary("stuck_qemu_times_out_and_recovers") else {
        return;
    };
    let dir = TestDir::new("stuck");
    let (guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    guard.signal(libc::SIGSTOP);
    let bound = Duration::from_millis(500);
    let t0 = Instant::now();
    let e = qmp
        .execute_timeout("query-status", Value::Null, bound)
        .expect_err("a stopped QEMU cannot answer");
    let took = t0.elapsed();
    assert!(matches!(e, QmpError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("query-status"), "{e}");
    assert!(
        took >= bound && took < bound + Duration::from_secs(1),
        "{took:?}"
    );
    guard.signal(libc::SIGCONT);
    // The late reply to the timed-out call is discarded; the next call gets its own reply.
    let st = qmp
        .execute("query-status", Value::Null)
        .expect("after SIGCONT");
    assert_eq!(st["status"], "prelaunch");
}

#[test]
fn killed_qemu_is_closed_not_hang() {
    let Some(qemu) = qemu_binary("killed_qemu_is_closed_not_hang") else {
        return;
    };
    let dir = TestDir::new("kill");
    let (mut guard, mut qmp) = start_qemu(&qemu, dir.path(), &[]);
    guard.0.kill().expect("kill");
    guard.0.wait().expect("reap");
    let t0 = Instant::now();
    let e = qmp.execute("query-status", Value::Null).expect_err("dead");
    assert!(
        matches!(e, QmpError::Closed { .. } | QmpError::Io(_)),
        "{e:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn qemu_that_exits_at_start_fails_fast() {
    let Some(qemu) = qemu_binary("qemu_that_exits_at_start_fails_fast") else {
        return;
    };
    let dir = TestDir::new("bad");
    let mon = MonitorSocket::bind(&dir.path().join("run")).expect("bind");
    let mut cmd = std::process::Command::new(&qemu);
    cmd.args([
        "-machine",
        "no-such-machine",
        "-accel",
        "tcg",
        "-display",
        "none",
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    mon.prepare(&mut cmd).expect("prepare");
    let t0 = Instant::now();
    let e = mon.spawn(&mut cmd, TIMEOUT).expect_err("QEMU exits");
    assert!(
        t0.elapsed() < TIMEOUT / 2,
        "a dead QEMU must not cost the whole timeout: {:?} ({e})",
        t0.elapsed()
    );
}

#[test]
fn reconnect_after_client_goes_away() {
    let Some(qemu) = qemu_binary("reconnect_after_client_goes_away") else {
        return;
    };
    let dir = TestDir::new("recon");
    let (_guard, qmp) = start_qemu(&qemu, dir.path(), &[]);
    drop(qmp);
    let mut again = monitor_fd::reconnect(&dir.path().join("run"), TIMEOUT).expect("reconnect");
    let st = again.execute("query-status", Value::Null).expect("status");
    assert_eq!(st["status"], "prelaunch");
}
