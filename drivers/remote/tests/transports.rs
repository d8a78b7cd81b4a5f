//! The tcp, tls, ssh and ext transports against a real private libvirtd (libvirt 9.0 from
//! Debian) serving its test driver: each connects, authenticates, opens `test:///default`, and
//! asks the daemon for its hostname and its domains.
//!
//! - tcp: libvirtd listening on a loopback port with `auth_tcp = "none"`;
//! - tls: a throwaway CA, server and client certificates (rcgen), libvirtd listening with
//!   them; a client trusting another CA is refused, unless `no_verify=1`; a client without a
//!   certificate is refused by the daemon;
//! - ssh: a private sshd (its own config, host key and authorized key, on a loopback port,
//!   inside the daemon's mount namespace so that it sees the daemon's /run/libvirt), reached
//!   with `command=` a wrapper of ssh that reads a test ssh_config; through `nc -U` (socket=)
//!   and through virt-ssh-helper (proxy=native, and the default proxy=auto);
//! - ext: `command=` a script running `nc -U SOCKET`.
//!
//! Programs: libvirtd, virt-ssh-helper (Debian libvirt-daemon), sshd (openssh-server), ssh
//! and ssh-keygen (openssh-client), nc (netcat-openbsd), nsenter (util-linux). A missing one
//! skips its test with a message, or fails it under CI=true (tests/run installs them).

mod common;
#[path = "common/pki.rs"]
mod pki;

use common::{Listen, PrivateLibvirtd, TlsListen};
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use virtsh_api::{ErrorKind, Uri};
use virtsh_remote::generated::remote::{procs, RemoteConnectListAllDomainsArgs};
use virtsh_remote::{OpenOptions, RemoteError, TransportError};

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Finds the programs a test needs; None (after saying why) when one is missing, a panic
/// under CI=true.
fn programs(test: &str, names: &[&str]) -> Option<Vec<PathBuf>> {
    let mut found = Vec::new();
    for name in names {
        match common::which(name) {
            Some(p) => found.push(p),
            None => {
                let why = format!(
                    "{name} not found (Debian packages openssh-server, openssh-client, \
                     netcat-openbsd, libvirt-daemon, util-linux)"
                );
                if in_ci() {
                    panic!("{test}: {why} (CI=true; tests/run installs them)");
                }
                eprintln!("{test}: skipped: {why}");
                return None;
            }
        }
    }
    Some(found)
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn our_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0);
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Opens `uri`, checks the hostname and the test driver's one domain, and closes.
fn open_and_use(uri: &str) -> Result<(), RemoteError> {
    let uri = Uri::parse(uri).expect("a valid URI");
    let mut s = virtsh_remote::open(&uri, &OpenOptions::default())?;
    assert_eq!(s.target.daemon_uri, "test:///default");
    let host = s.client.call_proc::<procs::ConnectGetHostname>(&())?;
    assert_eq!(host.hostname, our_hostname());
    let all =
        s.client
            .call_proc::<procs::ConnectListAllDomains>(&RemoteConnectListAllDomainsArgs {
                need_results: 1,
                flags: 0,
            })?;
    let names: Vec<&str> = all.domains.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["test"]);
    s.close()
}

fn must_work(uri: &str, d: &PrivateLibvirtd) {
    if let Err(e) = open_and_use(uri) {
        panic!("{uri}: {e}\nlibvirtd: {}", d.log_tail());
    }
}

fn must_fail(uri: &str) -> RemoteError {
    match open_and_use(uri) {
        Ok(()) => panic!("{uri}: connected, but should not have"),
        Err(e) => e,
    }
}

fn scratch(d: &PrivateLibvirtd, name: &str) -> PathBuf {
    let dir = d.dir.join(name);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write_script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn tcp_reaches_libvirtd() {
    let port = free_port();
    let listen = Listen {
        tcp_port: Some(port),
        ..Default::default()
    };
    let Some(d) = common::start_listening("tcp_reaches_libvirtd", "", &listen) else {
        return;
    };
    must_work(&format!("test+tcp://127.0.0.1:{port}/default"), &d);
    // localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    must_work(&format!("test+tcp://localhost:{port}/default"), &d);

    let closed = free_port();
    let e = must_fail(&format!("test+tcp://127.0.0.1:{closed}/default"));
    assert_eq!(
        e.to_string(),
        format!("unable to connect to server at '127.0.0.1:{closed}': Connection refused")
    );
    assert_eq!(e.kind(), ErrorKind::SystemError);
}

#[test]
fn tls_reaches_libvirtd() {
    let port = free_port();
    let pki_dir = std::env::temp_dir().join(format!(
        "virtsh-transports-pki-{}-{port}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&pki_dir);
    let pki = pki::Pki::create(&pki_dir.join("good"), &["localhost", "127.0.0.1"]);
    let listen = Listen {
        tls: Some(TlsListen {
            port,
            ca_file: pki.path("cacert.pem"),
            cert_file: pki.path("servercert.pem"),
            key_file: pki.path("serverkey.pem"),
        }),
        ..Default::default()
    };
    let Some(d) = common::start_listening("tls_reaches_libvirtd", "", &listen) else {
        let _ = fs::remove_dir_all(&pki_dir);
        return;
    };
    let good = pki.dir.display().to_string();
    must_work(
        &format!("test+tls://127.0.0.1:{port}/default?pkipath={good}"),
        &d,
    );
    must_work(
        &format!("test+tls://localhost:{port}/default?pkipath={good}"),
        &d,
    );

    // A client that trusts another CA refuses the daemon, unless told not to verify.
    let other = pki.with_other_ca(&pki_dir.join("other"));
    let other = other.display();
    let e = must_fail(&format!(
        "test+tls://127.0.0.1:{port}/default?pkipath={other}"
    ));
    assert_eq!(
        e.to_string(),
        "authentication failed: Failed to verify peer's certificate: Certificate failed \
         validation: The certificate hasn't got a known issuer."
    );
    assert_eq!(e.kind(), ErrorKind::AuthFailed);
    must_work(
        &format!("test+tls://127.0.0.1:{port}/default?pkipath={other}&no_verify=1"),
        &d,
    );

    // Without a client certificate the daemon closes instead of confirming.
    let bare = pki_dir.join("bare");
    fs::create_dir_all(&bare).expect("pki dir");
    fs::copy(pki.path("cacert.pem"), bare.join("cacert.pem")).expect("copy");
    let e = must_fail(&format!(
        "test+tls://127.0.0.1:{port}/default?pkipath={}",
        bare.display()
    ));
    assert!(
        matches!(
            e,
            RemoteError::Transport(TransportError::ServerVerification)
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "server verification (of our certificate or IP address) failed"
    );

    // The files must exist.
    let e = must_fail(&format!(
        "test+tls://127.0.0.1:{port}/default?pkipath={}",
        pki_dir.join("none").display()
    ));
    assert_eq!(
        e.to_string(),
        format!(
            "Cannot read CA certificate '{}': No such file or directory",
            pki_dir.join("none/cacert.pem").display()
        )
    );
    drop(d);
    let _ = fs::remove_dir_all(&pki_dir);
}

#[test]
fn ext_reaches_libvirtd() {
    let Some(d) = common::start("ext_reaches_libvirtd", "") else {
        return;
    };
    let Some(found) = programs("ext_reaches_libvirtd", &["nc"]) else {
        return;
    };
    let dir = scratch(&d, "ext");
    // libvirt runs command= as one program without arguments: a script carries them.
    let script = dir.join("tunnel");
    write_script(
        &script,
        &format!("exec '{}' -U '{}'", found[0].display(), d.sock.display()),
    );
    must_work(
        &format!("test+ext:///default?command={}", script.display()),
        &d,
    );

    let failing = dir.join("failing");
    write_script(
        &failing,
        "echo 'tunnel: no route to the daemon' >&2; exit 1",
    );
    let e = must_fail(&format!(
        "test+ext:///default?command={}",
        failing.display()
    ));
    // End of file, or a reset when our first call was still unread: either way with what the
    // command said.
    assert!(
        e.to_string().contains(": tunnel: no route to the daemon: "),
        "{e}"
    );
    assert_eq!(e.kind(), ErrorKind::SystemError);
}

/// A private sshd on a loopback port, run inside the daemon's mount namespace.
struct Sshd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sshd {
    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(ssh_keygen: &Path, path: &Path) {
    let status = Command::new(ssh_keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "virtsh-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success(), "ssh-keygen failed");
}

fn start_sshd(
    d: &PrivateLibvirtd,
    dir: &Path,
    sshd: &Path,
    nsenter: &Path,
    keygen_bin: &Path,
) -> Sshd {
    let host_key = dir.join("ssh_host_ed25519_key");
    let client_key = dir.join("id_ed25519");
    keygen(keygen_bin, &host_key);
    keygen(keygen_bin, &client_key);
    fs::copy(
        client_key.with_extension("pub"),
        dir.join("authorized_keys"),
    )
    .expect("copy");
    let port = free_port();
    let config = dir.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\n\
             AuthorizedKeysFile {}\nPermitRootLogin prohibit-password\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPrintMotd no\n\
             PrintLastLog no\nLogLevel VERBOSE\n",
            host_key.display(),
            dir.join("authorized_keys").display()
        ),
    )
    .expect("sshd_config");
    // sshd refuses to start without its privilege separation directory.
    fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let log = fs::File::create(dir.join("sshd.log")).expect("sshd.log");
    let child = Command::new(nsenter)
        .arg(format!("--target={}", d.pid()))
        .arg("--mount")
        .arg(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("nsenter sshd");
    let mut s = Sshd {
        child,
        port,
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!("sshd exited ({status}): {}", s.log());
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "sshd not ready: {}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The client's known_hosts, and an ssh that reads only the test's configuration.
    let host_pub = fs::read_to_string(host_key.with_extension("pub")).expect("host key");
    fs::write(
        dir.join("known_hosts"),
        format!("[127.0.0.1]:{port} {host_pub}"),
    )
    .expect("kh");
    s
}

/// An `ssh` for `command=` that reads the test's ssh_config, whose known hosts are
/// `known_hosts` in `dir`.
fn ssh_wrapper(dir: &Path, ssh: &Path, name: &str, known_hosts: &Path) -> PathBuf {
    let config = dir.join(format!("{name}.ssh_config"));
    fs::write(
        &config,
        format!(
            "Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
             IdentitiesOnly yes\n  UpdateHostKeys no\n  LogLevel ERROR\n",
            known_hosts.display()
        ),
    )
    .expect("ssh_config");
    let script = dir.join(name);
    write_script(
        &script,
        &format!("exec '{}' -F '{}' \"$@\"", ssh.display(), config.display()),
    );
    script
}

#[test]
fn ssh_reaches_libvirtd() {
    let test = "ssh_reaches_libvirtd";
    let listen = Listen {
        system_socket_link: true,
        ..Default::default()
    };
    let Some(d) = common::start_listening(test, "", &listen) else {
        return;
    };
    let Some(p) = programs(
        test,
        &[
            "sshd",
            "ssh",
            "ssh-keygen",
            "nc",
            "virt-ssh-helper",
            "nsenter",
        ],
    ) else {
        return;
    };
    let (sshd_bin, ssh, keygen_bin, nsenter) = (&p[0], &p[1], &p[2], &p[5]);
    let dir = scratch(&d, "ssh");
    let sshd = start_sshd(&d, &dir, sshd_bin, nsenter, keygen_bin);
    let key = dir.join("id_ed25519");
    let ssh_cmd = ssh_wrapper(&dir, ssh, "ssh", &dir.join("known_hosts"));
    let base = format!(
        "test+ssh://root@127.0.0.1:{}/default?keyfile={}&command={}&no_tty=1",
        sshd.port,
        key.display(),
        ssh_cmd.display()
    );
    let check = |uri: &str| {
        if let Err(e) = open_and_use(uri) {
            panic!(
                "{uri}: {e}\nsshd: {}\nlibvirtd: {}",
                sshd.log(),
                d.log_tail()
            );
        }
    };
    // socket= means nc -U on the remote side.
    check(&format!("{base}&socket={}", d.sock.display()));
    check(&format!("{base}&socket={}&netcat=nc", d.sock.display()));
    // virt-ssh-helper finds the daemon's /run/libvirt/libvirt-sock by itself.
    check(&format!("{base}&proxy=native"));
    check(&base);

    // An unknown host key: refused in batch mode, with ssh's own words...
    let empty = dir.join("empty_known_hosts");
    fs::write(&empty, "").expect("known_hosts");
    let strict = ssh_wrapper(&dir, ssh, "strict", &empty);
    let uri = format!(
        "test+ssh://root@127.0.0.1:{}/default?keyfile={}&command={}&no_tty=1",
        sshd.port,
        key.display(),
        strict.display()
    );
    let e = must_fail(&uri);
    // ssh exits while our first call is unread in its socket, which then reads as a reset
    // (virsh's familiar "Cannot recv data: Host key verification failed.: Connection reset
    // by peer"), or, had it exited sooner, as end of file or a broken pipe.
    assert!(
        e.to_string().contains(": Host key verification failed.: "),
        "{e}"
    );
    assert_eq!(e.kind(), ErrorKind::SystemError);
    // ... and accepted with no_verify=1 (StrictHostKeyChecking=no).
    check(&format!("{uri}&no_verify=1"));

    // A key the server does not know.
    let stranger = dir.join("stranger");
    keygen(keygen_bin, &stranger);
    let e = must_fail(&format!(
        "test+ssh://root@127.0.0.1:{}/default?keyfile={}&command={}&no_tty=1",
        sshd.port,
        stranger.display(),
        ssh_cmd.display()
    ));
    assert!(e.to_string().contains(": Permission denied ("), "{e}");
}
