//! Shared pieces of the tests that run real QEMU guests through the `virtsh` binary: a private
//! `qemu:///embed` root per test, the tiny guest of `fixtures/guest/build`, and a guard that
//! destroys every guest a test started, even when it panics.

#![allow(dead_code)]

pub mod lxc_lab;
pub mod netns;
pub mod pty;
pub mod rootfs;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const READY: &str = "TINYGUEST READY";

/// True under CI=true: a missing component is a failure there, a skip elsewhere.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The tiny guest's directory (vmlinuz, initrd.img), built once per test binary. `None` (after
/// a SKIP line) when QEMU or the build is unavailable outside CI.
pub fn tiny_guest(test: &str) -> Option<PathBuf> {
    static GUEST: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let r = GUEST.get_or_init(|| {
        if !Path::new("/usr/bin/qemu-system-x86_64").exists()
            && Command::new("qemu-system-x86_64")
                .arg("--version")
                .output()
                .is_err()
        {
            return Err("qemu-system-x86_64 not found (apt-get install qemu-system-x86)".into());
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/guest/build");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tinyguest");
        let o = Command::new("bash")
            .arg(&script)
            .arg(&out)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !o.status.success() {
            return Err(format!("{} exited with {}", script.display(), o.status));
        }
        let dir = PathBuf::from(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .last()
                .unwrap_or(""),
        );
        if dir.join("vmlinuz").is_file() && dir.join("initrd.img").is_file() {
            Ok(dir)
        } else {
            Err("the build gave no vmlinuz/initrd.img".into())
        }
    });
    match r {
        Ok(d) => Some(d.clone()),
        Err(e) if in_ci() => panic!("{test}: {e} (CI=true)"),
        Err(e) => {
            eprintln!("SKIP {test}: {e}");
            None
        }
    }
}

/// One private `qemu:///embed?root=DIR`, removed (after destroying its guests) on drop.
pub struct Embed {
    pub root: PathBuf,
    pub uri: String,
    /// Extra environment for every command (e.g. VIRTSH_QMP_TIMEOUT_MS).
    pub env: Vec<(String, String)>,
    /// The network namespace every command runs in (network tests), or the test's own.
    pub netns: Option<String>,
}

impl Embed {
    pub fn new(tag: &str) -> Embed {
        static N: AtomicU32 = AtomicU32::new(0);
        // Short: unix socket paths under it must stay below 108 bytes.
        let root = PathBuf::from(format!(
            "/tmp/vt-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create the embed root");
        let uri = format!("qemu:///embed?root={}", root.display());
        Embed {
            root,
            uri,
            env: Vec::new(),
            netns: None,
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let virtsh = env!("CARGO_BIN_EXE_virtsh");
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, virtsh]);
                c
            }
            None => Command::new(virtsh),
        };
        c.arg("-c").arg(&self.uri).args(args).stdin(Stdio::null());
        c.env_remove("VIRSH_DEFAULT_CONNECT_URI")
            .env_remove("LIBVIRT_DEFAULT_URI");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run virtsh; the output, whatever the status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run virtsh")
    }

    /// Run virtsh and insist on success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Run virtsh and insist on failure; stderr.
    pub fn err(&self, args: &[&str]) -> String {
        failed(args, self.run(args))
    }

    /// `domstate --reason NAME`, trimmed.
    pub fn state(&self, name: &str) -> String {
        self.ok(&["domstate", "--reason", name]).trim().to_string()
    }

    /// Wait (bounded) until `domstate --reason` is `want`.
    pub fn wait_state(&self, name: &str, want: &str, limit: Duration) {
        let t0 = Instant::now();
        loop {
            let s = self.state(name);
            if s == want {
                return;
            }
            assert!(
                t0.elapsed() < limit,
                "{name}: state '{s}', expected '{want}' within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Write `xml` into the root and define it.
    pub fn define(&self, name: &str, xml: &str) {
        let path = self.root.join(format!("{name}.def.xml"));
        std::fs::write(&path, xml).expect("write XML");
        self.ok(&["define", path.to_str().expect("utf-8 path")]);
    }

    /// The serial log file the tiny-guest XML points at.
    pub fn serial_log(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.serial"))
    }

    /// Wait (bounded) until the serial log of `name` contains `text` `count` times.
    pub fn wait_serial(&self, name: &str, text: &str, count: usize, limit: Duration) {
        let t0 = Instant::now();
        loop {
            let log = std::fs::read_to_string(self.serial_log(name)).unwrap_or_default();
            if log.matches(text).count() >= count {
                return;
            }
            assert!(
                t0.elapsed() < limit,
                "{name}: '{text}' x{count} not on the serial console within {limit:?}; got:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pids of QEMU processes of domain `name` (test domain names are unique per run:
    /// see [`unique_name`]).
    pub fn qemu_pids(&self, name: &str) -> Vec<i32> {
        pids_matching(&format!("guest={name},"), "qemu-system")
    }

    /// The pids of supervisors of `name` in this root.
    pub fn supervisor_pids(&self, name: &str) -> Vec<i32> {
        pids_matching("__supervise", &format!("--name\0{name}\0"))
            .into_iter()
            .filter(|&p| cmdline(p).contains(&self.uri))
            .collect()
    }
}

impl Drop for Embed {
    fn drop(&mut self) {
        // Destroy whatever still runs, then remove the root.
        if let Ok(o) = self.cmd(&["list", "--name"]).output() {
            for name in String::from_utf8_lossy(&o.stdout).lines() {
                if !name.is_empty() {
                    let _ = self.cmd(&["destroy", name]).output();
                }
            }
        }
        for p in pids_matching("", &self.root.display().to_string()) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The stdout of a virtsh run `o` of `args` that must have succeeded.
pub fn succeeded(args: &[&str], o: Output) -> String {
    assert!(
        o.status.success(),
        "virtsh {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The stderr of a virtsh run `o` of `args` that must have failed.
pub fn failed(args: &[&str], o: Output) -> String {
    assert!(
        !o.status.success(),
        "virtsh {args:?} should have failed: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A domain name no other test process uses at the same time.
pub fn unique_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Pids whose NUL-separated command line contains both `a` and `b` (zombies excluded).
fn pids_matching(a: &str, b: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        let c = cmdline(pid);
        if !c.is_empty() && c.contains(a) && c.contains(b) {
            out.push(pid);
        }
    }
    out
}

/// The tiny guest as a domain: TCG, its serial console into a file in the root.
pub fn tiny_xml(env: &Embed, guest: &Path, name: &str, extra_devices: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <devices>
    <serial type='file'>
      <source path='{serial}'/>
    </serial>
    <memballoon model='none'/>
    {extra_devices}
  </devices>
</domain>
",
        kernel = guest.join("vmlinuz").display(),
        initrd = guest.join("initrd.img").display(),
        serial = env.serial_log(name).display(),
    )
}

/// A guest that runs no code: no kernel, no disk (it idles in the BIOS). Cheap to start.
pub fn bare_xml(name: &str, extra_devices: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <memballoon model='none'/>
    {extra_devices}
  </devices>
</domain>
"
    )
}
