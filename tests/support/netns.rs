//! Network namespaces for the network tests: each test makes its own (a "host" where virtsh
//! runs its networks, guests and an upstream linked by veth pairs), so nothing touches the
//! machine's own interfaces, routes or firewall. Everything is removed on drop.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::in_ci;

pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new(tag: &str) -> NetNs {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "vt-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = NetNs { name };
        ns.ok(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// A command run inside the namespace.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run ip netns exec")
    }

    /// Run and insist on success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        run_ok(&mut self.cmd(args))
    }

    /// A veth pair: `here` in this namespace, `there` in `other`, both up.
    pub fn veth(&self, here: &str, other: &NetNs, there: &str) {
        run_ok(Command::new("ip").args([
            "-n",
            &self.name,
            "link",
            "add",
            here,
            "type",
            "veth",
            "peer",
            "name",
            there,
            "netns",
            &other.name,
        ]));
        self.ok(&["ip", "link", "set", here, "up"]);
        other.ok(&["ip", "link", "set", there, "up"]);
    }

    /// Ask for a DHCP lease on `iface` with busybox's udhcpc (applying it with `ip`), as
    /// `hostname`; the address obtained, or None.
    pub fn dhcp(&self, iface: &str, hostname: &str) -> Option<String> {
        let script = std::env::temp_dir().join(format!("vt-udhcpc-{}.sh", std::process::id()));
        std::fs::write(
            &script,
            "#!/bin/sh\ncase \"$1\" in bound|renew)\n  ip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n  \
             for r in $router; do ip route replace default via \"$r\" dev \"$interface\"; break; done\n  \
             echo \"LEASE $ip\";;\nesac\n",
        )
        .expect("write the udhcpc script");
        run_ok(Command::new("chmod").arg("+x").arg(&script));
        let script = script.to_str().expect("utf-8 path").to_string();
        let o = self.run(&[
            "busybox",
            "udhcpc",
            "-i",
            iface,
            "-n",
            "-q",
            "-t",
            "8",
            "-T",
            "1",
            "-s",
            &script,
            "-x",
            &format!("hostname:{hostname}"),
        ]);
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("LEASE ").map(str::to_string))
    }

    /// Whether one ping to `addr` is answered within a second or two.
    pub fn ping(&self, addr: &str) -> bool {
        self.run(&["busybox", "ping", "-c", "1", "-W", "2", addr])
            .status
            .success()
    }

    /// Wait (bounded) for `f` to hold.
    pub fn wait(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Whatever still runs inside (dnsmasq, a QEMU) would keep the namespace alive.
        if let Ok(o) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                if let Ok(p) = pid.parse::<i32>() {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(p, libc::SIGKILL) };
                }
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

fn run_ok(c: &mut Command) -> String {
    let o = c.output().expect("run a command");
    assert!(
        o.status.success(),
        "{c:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Whether the programs a network test needs are here: root, `ip`, `dnsmasq`, busybox (its
/// udhcpc and ping), and `extra` (nft, iptables ...). Under CI=true a missing one fails the test;
/// elsewhere the test is skipped with a line saying why.
pub fn have_tools(test: &str, extra: &[&str]) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(!in_ci(), "{test}: network tests need root (CI=true)");
        eprintln!("SKIP {test}: not root");
        return false;
    }
    for tool in ["ip", "dnsmasq", "busybox"].iter().chain(extra) {
        let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).exists());
        if !found {
            assert!(!in_ci(), "{test}: {tool} is not installed (CI=true)");
            eprintln!("SKIP {test}: {tool} is not installed");
            return false;
        }
    }
    true
}
