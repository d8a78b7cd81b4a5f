//! A private libvirtd for tests, as `benches/libvirtd.py` (`PrivateLibvirtd`) runs one: in its
//! own mount namespace (`unshare -m`) with private /etc/libvirt, /run/libvirt, /var/lib/libvirt,
//! /var/cache/libvirt and /var/log/libvirt (bind mounts of folders in a temp dir), and its
//! sockets in that temp dir (`unix_sock_dir`: libvirt-sock, libvirt-sock-ro and the admin
//! server's libvirt-admin-sock), so the host's libvirt is never used or changed.
//!
//! The one launcher of every test that needs a daemon: drivers/remote's tests use it as
//! `mod common;`, the `virtsh` binary's tests/admin.rs with
//! `#[path = "../drivers/remote/tests/common/mod.rs"] mod libvirtd;`. It uses only std, libc,
//! virtsh-api and virtsh-remote, which both packages have; `pki.rs` beside it is not a
//! submodule, so the crates that want it include it with `#[path]`.
//!
//! [`start_listening`] adds TCP and TLS listeners on 127.0.0.1 (libvirtd's `--listen`), and
//! can make the daemon's socket appear at `/run/libvirt/libvirt-sock` inside its namespace,
//! where `virt-ssh-helper` looks for it (tests/transports.rs).

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LIBVIRT_DIRS: [(&str, &str); 5] = [
    ("etc", "/etc/libvirt"),
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("log", "/var/log/libvirt"),
];

/// libvirt 9.0 looks up its default QEMU user before it reads qemu.conf; without
/// libvirt-daemon-system nothing creates it (see benches/libvirtd.py).
const QEMU_USER: [&str; 2] = [
    "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin",
    "libvirt-qemu:x:64055:",
];

pub struct PrivateLibvirtd {
    pub dir: PathBuf,
    /// The hypervisor socket, `libvirt-sock` in `unix_sock_dir`.
    pub sock: PathBuf,
    child: Child,
    created: Vec<PathBuf>,
}

/// True under CI=true: a missing component is a failure there, a skip elsewhere.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Says why `test` cannot run and returns false; under CI=true that is a failure instead.
pub fn unavailable(test: &str, why: &str) -> bool {
    if in_ci() {
        panic!("{test}: {why} (CI=true; tests/run installs libvirt-daemon and libvirt-clients)");
    }
    eprintln!("{test}: skipped: {why}");
    false
}

/// Where `name` is in PATH (or /usr/sbin, /sbin).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A TLS listener: its port and libvirtd's `ca_file`, `cert_file` and `key_file`.
#[allow(dead_code)] // only tests/transports.rs listens on the network
pub struct TlsListen {
    pub port: u16,
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// What a daemon serves besides its unix sockets.
#[derive(Default)]
#[allow(dead_code)] // only tests/transports.rs listens on the network
pub struct Listen {
    /// `listen_tcp` on 127.0.0.1 at this port, with `auth_tcp = "none"`.
    pub tcp_port: Option<u16>,
    /// `listen_tls` on 127.0.0.1 (client certificates required, as by default).
    pub tls: Option<TlsListen>,
    /// A link `/run/libvirt/libvirt-sock` (in the daemon's namespace) to its socket: the
    /// system socket that `virt-ssh-helper` and `nc -U` fallbacks look for.
    pub system_socket_link: bool,
}

impl Listen {
    fn conf(&self) -> String {
        if self.tcp_port.is_none() && self.tls.is_none() {
            return String::new();
        }
        // --listen turns TLS on unless told otherwise; both listeners stay on loopback.
        let mut conf = String::from("listen_addr = \"127.0.0.1\"\n");
        match self.tcp_port {
            Some(port) => conf.push_str(&format!(
                "listen_tcp = 1\ntcp_port = \"{port}\"\nauth_tcp = \"none\"\n"
            )),
            None => conf.push_str("listen_tcp = 0\n"),
        }
        match &self.tls {
            Some(t) => conf.push_str(&format!(
                "listen_tls = 1\ntls_port = \"{}\"\nauth_tls = \"none\"\n\
                 ca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
                t.port,
                t.ca_file.display(),
                t.cert_file.display(),
                t.key_file.display()
            )),
            None => conf.push_str("listen_tls = 0\n"),
        }
        conf
    }
}

/// Skips (returns None after saying why) when libvirtd cannot run here; under CI=true a
/// missing libvirtd is a failure instead, since tests/run installs it.
pub fn start(test: &str, extra_conf: &str) -> Option<PrivateLibvirtd> {
    start_listening(test, extra_conf, &Listen::default())
}

/// [`start`] with network listeners.
pub fn start_listening(test: &str, extra_conf: &str, listen: &Listen) -> Option<PrivateLibvirtd> {
    let why = match (which("libvirtd"), which("unshare")) {
        // SAFETY: geteuid has no preconditions.
        (Some(_), Some(_)) if unsafe { libc::geteuid() } == 0 => None,
        (Some(_), Some(_)) => Some("not root (a private libvirtd needs a mount namespace)"),
        _ => Some("libvirtd or unshare not found (Debian packages libvirt-daemon, util-linux)"),
    };
    if let Some(why) = why {
        unavailable(test, why);
        return None;
    }
    match PrivateLibvirtd::start(extra_conf, listen) {
        Ok(d) => Some(d),
        Err(e) => panic!("{test}: cannot start a private libvirtd: {e}"),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl PrivateLibvirtd {
    fn start(extra_conf: &str, listen: &Listen) -> Result<PrivateLibvirtd, String> {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("virtsh-libvirtd-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for sub in ["etc", "run", "lib", "cache", "log", "sock"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let sock_dir = dir.join("sock");
        let log = dir.join("libvirtd.log");
        let conf = format!(
            "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n\
             unix_sock_rw_perms = \"0700\"\nlog_outputs = \"3:file:{}\"\n{}{extra_conf}",
            sock_dir.display(),
            log.display(),
            listen.conf()
        );
        fs::write(dir.join("etc/libvirtd.conf"), conf).map_err(|e| e.to_string())?;
        fs::write(
            dir.join("etc/qemu.conf"),
            "user = \"root\"\ngroup = \"root\"\nsecurity_driver = \"none\"\n\
             stdio_handler = \"file\"\ncgroup_controllers = [ ]\nremember_owner = 0\n\
             namespaces = [ ]\n",
        )
        .map_err(|e| e.to_string())?;
        let mut binds = Vec::new();
        for (i, name) in ["passwd", "group"].iter().enumerate() {
            let src = Path::new("/etc").join(name);
            let dst = dir.join(name);
            let mut text = fs::read_to_string(&src).map_err(|e| e.to_string())?;
            if !text.lines().any(|l| l.starts_with("libvirt-qemu:")) {
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(QEMU_USER[i]);
                text.push('\n');
            }
            fs::write(&dst, text).map_err(|e| e.to_string())?;
            binds.push((dst, src));
        }
        let mut created = Vec::new();
        for (sub, target) in LIBVIRT_DIRS {
            binds.push((dir.join(sub), PathBuf::from(target)));
            // A mount point must exist; the ones made here are removed at the end.
            let real = fs::canonicalize(target).unwrap_or_else(|_| PathBuf::from(target));
            if !real.exists() {
                fs::create_dir_all(&real).map_err(|e| e.to_string())?;
                created.push(real);
            }
        }
        let mut script = String::from("set -e");
        for (from, to) in &binds {
            script.push_str(&format!(
                "; mount --bind '{}' '{}'",
                from.display(),
                to.display()
            ));
        }
        if listen.system_socket_link {
            // Made in the folder that becomes /run/libvirt; the daemon leaves it alone.
            std::os::unix::fs::symlink(sock_dir.join("libvirt-sock"), dir.join("run/libvirt-sock"))
                .map_err(|e| e.to_string())?;
        }
        let pidfile = dir.join("libvirtd.pid");
        let listen_flag = if listen.tcp_port.is_some() || listen.tls.is_some() {
            " --listen"
        } else {
            ""
        };
        script.push_str(&format!(
            "; exec libvirtd{listen_flag} -f /etc/libvirt/libvirtd.conf -p '{}'",
            pidfile.display()
        ));
        let out = fs::File::create(dir.join("libvirtd.out")).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env_remove("LIBVIRT_DEFAULT_URI")
            .env_remove("VIRSH_DEFAULT_CONNECT_URI")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let mut d = PrivateLibvirtd {
            sock: sock_dir.join("libvirt-sock"),
            dir,
            child,
            created,
        };
        d.wait_ready(Duration::from_secs(60))?;
        Ok(d)
    }

    /// The sockets exist before the drivers are initialised: wait until both the hypervisor
    /// side and the admin server answer.
    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let uri = virtsh_api::Uri::parse(&self.uri()).map_err(|e| e.message)?;
        let mut last = String::from("the sockets never appeared");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("libvirtd exited ({status}): {}", self.log_tail()));
            }
            if self.sock.exists() && self.admin_sock().exists() {
                let admin = virtsh_remote::admin::AdminConnection::open(&self.admin_uri())
                    .and_then(|mut c| c.list_servers());
                match (admin, virtsh_remote::open(&uri, &Default::default())) {
                    (Ok(_), Ok(session)) => {
                        let _ = session.close();
                        return Ok(());
                    }
                    (Err(e), _) => last = e.to_string(),
                    (_, Err(e)) => last = e.to_string(),
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "not ready in {timeout:?}: {last}; {}",
            self.log_tail()
        ))
    }

    /// `test+unix:///default` through this daemon's socket.
    pub fn uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.sock.display())
    }

    /// The admin server's socket, beside [`PrivateLibvirtd::sock`].
    pub fn admin_sock(&self) -> PathBuf {
        self.sock.with_file_name("libvirt-admin-sock")
    }

    /// The daemon's admin server, as virt-admin names it.
    pub fn admin_uri(&self) -> String {
        format!("libvirtd:///system?socket={}", self.admin_sock().display())
    }

    /// libvirtd's pid (unshare and sh exec it).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        for f in ["libvirtd.out", "libvirtd.log"] {
            text.push_str(&fs::read_to_string(self.dir.join(f)).unwrap_or_default());
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }
}

impl Drop for PrivateLibvirtd {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        for p in self.created.iter().rev() {
            let _ = fs::remove_dir(p); // only if still empty
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
