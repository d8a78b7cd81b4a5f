//! The TLS transport against an in-process rustls server that behaves as libvirtd does: it
//! asks for a client certificate, checks it against the CA, and sends `\x01` (or refuses).

use super::*;
use crate::transport::Transport;
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

#[path = "../../tests/common/pki.rs"]
mod pki;

static N: AtomicUsize = AtomicUsize::new(0);

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "virtsh-tls-unit-{}-{what}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// What the fake daemon does after the handshake.
#[derive(Clone, Copy)]
enum Daemon {
    /// Sends `\x01`, then echoes.
    Confirm,
    /// Sends `\x00` (libvirtd never does, but only `\x01` means yes).
    SendZero,
    /// Closes the connection, as libvirtd does when our certificate fails its checks.
    Close,
}

fn server_config(pki: &pki::Pki) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.path("cacert.pem")).unwrap())
        .unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let certs = CertificateDer::pem_file_iter(pki.path("servercert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.path("serverkey.pem")).unwrap();
    Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .unwrap(),
    )
}

/// Starts a one-connection daemon; returns its port.
fn fake_daemon(pki: &pki::Pki, behaviour: Daemon) -> (u16, thread::JoinHandle<()>) {
    let config = server_config(pki);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut conn = ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            // A client that rejected us aborts the handshake: nothing more to do.
            if conn.complete_io(&mut tcp).is_err() {
                return;
            }
        }
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        match behaviour {
            Daemon::Close => return,
            Daemon::SendZero => {
                let _ = tls.write_all(&[0]);
                return;
            }
            Daemon::Confirm => tls.write_all(&[1]).unwrap(),
        }
        let mut buf = [0u8; 4096];
        loop {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tls.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (port, handle)
}

fn options(host: &str, port: u16, pkipath: &Path, verify: bool) -> TlsOptions {
    TlsOptions {
        host: host.into(),
        port,
        credentials: Credentials::locate(Some(pkipath), None, &|_| false),
        verify,
        handshake_timeout: Some(Duration::from_secs(10)),
    }
}

#[test]
fn a_confirmed_session_carries_data_both_ways() {
    let dir = temp_dir("ok");
    let pki = pki::Pki::create(&dir, &["localhost", "127.0.0.1"]);
    let (port, daemon) = fake_daemon(&pki, Daemon::Confirm);
    let t = TlsTransport::connect(&options("127.0.0.1", port, &dir, true)).unwrap();
    assert_eq!(t.describe(), format!("tls 127.0.0.1:{port}"));
    let mut parts = Box::new(t).into_parts().unwrap();
    // More than one TLS record, to exercise the reader's buffering.
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let data = data.clone();
        let mut w = parts.writer;
        thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.flush().unwrap();
            w
        })
    };
    let mut back = vec![0u8; data.len()];
    parts.reader.read_exact(&mut back).unwrap();
    assert!(back == data);
    drop(writer.join().unwrap());
    (parts.closer)();
    daemon.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_from_another_ca_is_refused_unless_no_verify() {
    let dir = temp_dir("ca");
    let pki = pki::Pki::create(&dir.join("good"), &["localhost", "127.0.0.1"]);
    let other = pki.with_other_ca(&dir.join("other"));
    let (port, daemon) = fake_daemon(&pki, Daemon::Confirm);
    let e = TlsTransport::connect(&options("127.0.0.1", port, &other, true))
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "authentication failed: Failed to verify peer's certificate: Certificate failed \
         validation: The certificate hasn't got a known issuer."
    );
    assert_eq!(e.kind(), virtsh_api::ErrorKind::AuthFailed);
    daemon.join().unwrap();

    let (port, daemon) = fake_daemon(&pki, Daemon::Confirm);
    let t = TlsTransport::connect(&options("127.0.0.1", port, &other, false)).unwrap();
    let mut parts = Box::new(t).into_parts().unwrap();
    parts.writer.write_all(b"hi").unwrap();
    let mut two = [0u8; 2];
    parts.reader.read_exact(&mut two).unwrap();
    assert_eq!(&two, b"hi");
    (parts.closer)();
    daemon.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_certificate_must_name_the_host() {
    let dir = temp_dir("name");
    let pki = pki::Pki::create(&dir, &["localhost"]);
    let (port, daemon) = fake_daemon(&pki, Daemon::Confirm);
    let e = TlsTransport::connect(&options("127.0.0.1", port, &dir, true))
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "authentication failed: Failed to verify peer's certificate: Certificate [session] \
         owner does not match the hostname 127.0.0.1"
    );
    daemon.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_confirmation_byte_means_the_server_refused_us() {
    let dir = temp_dir("refused");
    let pki = pki::Pki::create(&dir, &["localhost", "127.0.0.1"]);
    for behaviour in [Daemon::Close, Daemon::SendZero] {
        let (port, daemon) = fake_daemon(&pki, behaviour);
        let e = TlsTransport::connect(&options("localhost", port, &dir, true))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "server verification (of our certificate or IP address) failed"
        );
        daemon.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_silent_server_times_out() {
    let dir = temp_dir("silent");
    pki::Pki::create(&dir, &["127.0.0.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut opts = options("127.0.0.1", port, &dir, true);
    opts.handshake_timeout = Some(Duration::from_millis(300));
    let e = TlsTransport::connect(&opts).err().unwrap();
    assert_eq!(
        e.to_string(),
        "authentication failed: TLS handshake failed Connection timed out"
    );
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_or_bad_credentials_read_like_libvirt() {
    let dir = temp_dir("missing");
    std::fs::create_dir_all(&dir).unwrap();
    let creds = Credentials::locate(Some(&dir), None, &|_| false);
    let e = client_config(&creds, true).err().unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "Cannot read CA certificate '{}/cacert.pem': No such file or directory",
            dir.display()
        )
    );
    std::fs::write(dir.join("cacert.pem"), "not a certificate\n").unwrap();
    let e = client_config(&creds, true).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("Unable to import CA certificate "),
        "{e}"
    );
    // A CA alone is enough to try: the daemon decides about a client without a certificate.
    let pki = pki::Pki::create(&dir.join("p"), &["localhost"]);
    std::fs::copy(pki.path("cacert.pem"), dir.join("cacert.pem")).unwrap();
    assert!(client_config(&creds, true).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn credentials_are_found_where_libvirt_looks() {
    let sys = Credentials {
        cacert: SYSTEM_CACERT.into(),
        cacrl: SYSTEM_CACRL.into(),
        cert: SYSTEM_CLIENTCERT.into(),
        key: SYSTEM_CLIENTKEY.into(),
    };
    // Root, or a user without ~/.pki/libvirt: the system files.
    assert_eq!(Credentials::locate(None, None, &|_| true), sys);
    let user = Path::new("/home/u/.pki/libvirt");
    assert_eq!(Credentials::locate(None, Some(user), &|_| false), sys);
    // The user's files one by one, the certificate and key only as a pair.
    let only =
        |names: &'static [&'static str]| move |p: &Path| names.iter().any(|n| p == user.join(n));
    let c = Credentials::locate(None, Some(user), &only(&["cacert.pem", "clientcert.pem"]));
    assert_eq!(c.cacert, user.join("cacert.pem"));
    assert_eq!(c.cacrl, sys.cacrl);
    assert_eq!((c.cert, c.key), (sys.cert.clone(), sys.key.clone()));
    let c = Credentials::locate(
        None,
        Some(user),
        &only(&["clientcert.pem", "clientkey.pem"]),
    );
    assert_eq!(c.cacert, sys.cacert);
    assert_eq!(c.cert, user.join("clientcert.pem"));
    assert_eq!(c.key, user.join("clientkey.pem"));
    // pkipath= wins, existing or not.
    let c = Credentials::locate(Some(Path::new("/p")), Some(user), &|_| true);
    assert_eq!(c.cacert, Path::new("/p/cacert.pem"));
    assert_eq!(c.key, Path::new("/p/clientkey.pem"));
}
