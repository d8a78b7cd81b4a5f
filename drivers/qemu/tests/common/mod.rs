//! Shared helpers of the real-QEMU tests: find the binary (or skip), private temp dirs, and a
//! guard that always kills QEMU.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use virtsh_qemu::{MonitorSocket, QmpClient};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// `qemu-system-x86_64` from `VIRTSH_QEMU` or PATH. Missing: a failure under CI=true (a green CI
/// must mean the tests ran), otherwise `None` and a message (the caller returns early).
pub fn qemu_binary(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("VIRTSH_QEMU")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("qemu-system-x86_64"))
                    .find(|c| c.is_file())
            })
        });
    match found {
        Some(p) => Some(p),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: qemu-system-x86_64 not found (CI=true; tests/run installs qemu-system-x86)")
        }
        None => {
            eprintln!(
                "SKIP {test}: qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
            );
            None
        }
    }
}

/// A private directory under the temp dir, removed on drop. Short, so socket paths fit.
pub struct TestDir(pub PathBuf);

impl TestDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "vq-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create test dir");
        TestDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Owns a QEMU process: on drop it is continued (if stopped), killed and reaped.
pub struct QemuGuard(pub Child);

impl QemuGuard {
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid; the result is checked.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.pid());
    }
}

impl Drop for QemuGuard {
    fn drop(&mut self) {
        // SAFETY: as above; errors (already dead) are irrelevant here.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGCONT);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start QEMU with no guest (TCG, paused) and the monitor on a pre-opened fd.
pub fn start_qemu(binary: &Path, dir: &Path, extra: &[&str]) -> (QemuGuard, QmpClient) {
    let mon = MonitorSocket::bind(&dir.join("run")).expect("bind monitor socket");
    let mut cmd = Command::new(binary);
    cmd.args(["-M", "q35", "-accel", "tcg", "-nodefaults", "-S"])
        .args(["-display", "none", "-nographic", "-serial", "none"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    mon.prepare(&mut cmd).expect("prepare");
    let (child, qmp) = mon
        .spawn(&mut cmd, TIMEOUT)
        .expect("start QEMU and negotiate QMP");
    (QemuGuard(child), qmp)
}
