//! `+tls`: TCP (default port 16514) with rustls on top, as libvirt's gnutls client does it
//! (`virNetTLSContextNewClientPath`, `virNetClientSetTLSSession`):
//!
//! - credentials: `pkipath=DIR` (`DIR/cacert.pem`, `cacrl.pem`, `clientcert.pem`,
//!   `clientkey.pem`, used whether or not they exist), else for non-root users
//!   `~/.pki/libvirt/` file by file (the CA and the CRL each, the certificate and key as a
//!   pair), else the system's `/etc/pki/CA/cacert.pem`, `/etc/pki/CA/cacrl.pem`,
//!   `/etc/pki/libvirt/clientcert.pem` and `/etc/pki/libvirt/private/clientkey.pem`. The CA is
//!   required; the CRL is used when present; without a client certificate the daemon decides
//!   (libvirtd refuses by default);
//! - the server's certificate must chain to the CA and name the host of the URI (a DNS name or
//!   an IP address in its subjectAltName); `no_verify=1` accepts any certificate (the
//!   handshake's signatures are still checked), as libvirt then only logs the failure;
//! - after the handshake the daemon checks our certificate and address, and sends one byte,
//!   `\x01`, when they pass (`virNetClientIOEventTLSConfirm`); anything else, or the
//!   connection closing instead, is "server verification ... failed".
//!
//! After that the connection is split for the client: the rustls state sits behind a lock
//! that is only held to feed it bytes or take bytes out, never during blocking I/O, so the
//! reader thread can wait on the socket while a caller writes.
//!
//! Not done: `tls_priority=` (a gnutls priority string) is accepted and ignored; libvirt's
//! sanity checks of our own certificates (`no_sanity=`) are not made (rustls and the daemon
//! report what is wrong instead); and a server certificate that names its host only in the
//! subject's CN, without a subjectAltName, is refused (gnutls accepts it).

use super::{Transport, TransportError, TransportParts};
use crate::error::os_reason;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::{CertificateError, ClientConnection, DigitallySignedStruct, RootCertStore};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// `LIBVIRTD_TLS_PORT`.
pub const DEFAULT_PORT: u16 = 16514;

/// libvirt's system-wide PKI files (`LIBVIRT_CACERT` and friends, with SYSCONFDIR=/etc).
pub const SYSTEM_CACERT: &str = "/etc/pki/CA/cacert.pem";
pub const SYSTEM_CACRL: &str = "/etc/pki/CA/cacrl.pem";
pub const SYSTEM_CLIENTCERT: &str = "/etc/pki/libvirt/clientcert.pem";
pub const SYSTEM_CLIENTKEY: &str = "/etc/pki/libvirt/private/clientkey.pem";

/// The four PKI files of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub cacert: PathBuf,
    pub cacrl: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Credentials {
    /// `virNetTLSContextLocateCredentials` for a client. `user_dir` is `~/.pki/libvirt` for a
    /// non-root user (root uses the system files only).
    pub fn locate(
        pkipath: Option<&Path>,
        user_dir: Option<&Path>,
        exists: &dyn Fn(&Path) -> bool,
    ) -> Credentials {
        if let Some(dir) = pkipath {
            // An explicit directory is used whether or not the files exist there.
            return Credentials {
                cacert: dir.join("cacert.pem"),
                cacrl: dir.join("cacrl.pem"),
                cert: dir.join("clientcert.pem"),
                key: dir.join("clientkey.pem"),
            };
        }
        let mut creds = Credentials {
            cacert: PathBuf::from(SYSTEM_CACERT),
            cacrl: PathBuf::from(SYSTEM_CACRL),
            cert: PathBuf::from(SYSTEM_CLIENTCERT),
            key: PathBuf::from(SYSTEM_CLIENTKEY),
        };
        if let Some(dir) = user_dir {
            let (ca, crl) = (dir.join("cacert.pem"), dir.join("cacrl.pem"));
            let (cert, key) = (dir.join("clientcert.pem"), dir.join("clientkey.pem"));
            if exists(&ca) {
                creds.cacert = ca;
            }
            if exists(&crl) {
                creds.cacrl = crl;
            }
            // The certificate and its key only make sense together.
            if exists(&cert) && exists(&key) {
                creds.cert = cert;
                creds.key = key;
            }
        }
        creds
    }
}

/// What a TLS connection needs.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// The host to connect to, and the name its certificate must carry.
    pub host: String,
    pub port: u16,
    pub credentials: Credentials,
    /// False with `no_verify=1`.
    pub verify: bool,
    /// How long the handshake and the daemon's confirmation may take (libvirt waits forever;
    /// a port that accepts and then says nothing must not hang virtsh).
    pub handshake_timeout: Option<Duration>,
}

fn missing(what: &'static str, path: &Path, e: &io::Error) -> TransportError {
    TransportError::CredentialMissing {
        what,
        path: path.display().to_string(),
        reason: os_reason(e),
    }
}

/// Reads every certificate of a PEM file (`what` names it in messages, as libvirt does).
fn read_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let invalid = |e: &dyn std::fmt::Display| {
        TransportError::CredentialInvalid(format!(
            "Unable to import {what} {}: {e}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| match e {
            rustls::pki_types::pem::Error::Io(io) => missing(what, path, &io),
            other => invalid(&other),
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    if certs.is_empty() {
        return Err(invalid(&"no certificate found"));
    }
    Ok(certs)
}

/// Builds the rustls configuration from the PKI files.
pub fn client_config(
    creds: &Credentials,
    verify: bool,
) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in read_certs("CA certificate", &creds.cacert)? {
        roots.add(ca).map_err(|e| {
            TransportError::CredentialInvalid(format!(
                "Unable to set x509 CA certificate: {}: {e}",
                creds.cacert.display()
            ))
        })?;
    }
    let crls = if creds.cacrl.exists() {
        CertificateRevocationListDer::pem_file_iter(&creds.cacrl)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                TransportError::CredentialInvalid(format!(
                    "Unable to set x509 certificate revocation list: {}: {e}",
                    creds.cacrl.display()
                ))
            })?
    } else {
        Vec::new()
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        // gnutls consults a CRL only for the certificates it covers.
        .allow_unknown_revocation_status()
        .build()
        .map_err(|e| TransportError::CredentialInvalid(format!("Unable to use the CA: {e}")))?;
    let verifier = Arc::new(LibvirtVerifier {
        inner: webpki,
        require_valid: verify,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::TlsHandshake(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    // A client without a certificate still connects; the daemon decides whether that will do.
    let config = if creds.cert.exists() && creds.key.exists() {
        let certs = read_certs("client certificate", &creds.cert)?;
        let key = PrivateKeyDer::from_pem_file(&creds.key).map_err(|e| {
            TransportError::CredentialInvalid(format!(
                "Unable to set x509 key and certificate: {}, {}: {e}",
                creds.key.display(),
                creds.cert.display()
            ))
        })?;
        builder.with_client_auth_cert(certs, key).map_err(|e| {
            TransportError::CredentialInvalid(format!(
                "Unable to set x509 key and certificate: {}, {}: {e}",
                creds.key.display(),
                creds.cert.display()
            ))
        })?
    } else {
        builder.with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// webpki's checks, or (`no_verify=1`) none on the certificate itself: libvirt then goes on
/// after a failed check. The handshake signatures are checked either way, so the peer still
/// proves it holds the key of the certificate it sent.
#[derive(Debug)]
struct LibvirtVerifier {
    inner: Arc<WebPkiServerVerifier>,
    require_valid: bool,
}

impl ServerCertVerifier for LibvirtVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(_) if !self.require_valid => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// libvirt's words for a rejected server certificate (`virNetTLSContextValidCertificate`).
fn certificate_reason(e: &CertificateError, host: &str) -> String {
    let validation = |r: &str| format!("Certificate failed validation: {r}");
    match e {
        CertificateError::UnknownIssuer => validation("The certificate hasn't got a known issuer."),
        CertificateError::Revoked => validation("The certificate has been revoked."),
        CertificateError::BadSignature => validation("The certificate is not trusted."),
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            validation("The certificate uses an insecure algorithm")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "The server certificate [session] has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "The server certificate [session] is not yet active".to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("Certificate [session] owner does not match the hostname {host}")
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "Certificate [session] purpose does not allow use for with a TLS server".to_string()
        }
        other => validation(&other.to_string()),
    }
}

/// A failed handshake, as libvirt reports it.
fn handshake_error(e: &io::Error, host: &str) -> TransportError {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            TransportError::CertificateRejected(certificate_reason(c, host))
        }
        Some(other) => TransportError::TlsHandshake(other.to_string()),
        None => TransportError::TlsHandshake(io_reason(e)),
    }
}

/// An I/O error in words, with a timeout called one.
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "Connection timed out".into(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        _ => os_reason(e),
    }
}

/// A TLS session to a daemon that has confirmed our certificate.
pub struct TlsTransport {
    tcp: TcpStream,
    conn: ClientConnection,
    describe: String,
}

impl TlsTransport {
    pub fn connect(opts: &TlsOptions) -> Result<TlsTransport, TransportError> {
        let config = client_config(&opts.credentials, opts.verify)?;
        let tcp = super::tcp::connect(&opts.host, opts.port)?;
        Self::handshake(tcp, config, opts)
    }

    /// The handshake and the daemon's confirmation on a connected socket.
    pub fn handshake(
        mut tcp: TcpStream,
        config: Arc<rustls::ClientConfig>,
        opts: &TlsOptions,
    ) -> Result<TlsTransport, TransportError> {
        let host = opts.host.as_str();
        let name = ServerName::try_from(host.to_string()).map_err(|e| {
            TransportError::TlsHandshake(format!("invalid server name '{host}': {e}"))
        })?;
        let mut conn = ClientConnection::new(config, name)
            .map_err(|e| TransportError::TlsHandshake(e.to_string()))?;
        let timeouts = |tcp: &TcpStream, t: Option<Duration>| {
            tcp.set_read_timeout(t)
                .and_then(|()| tcp.set_write_timeout(t))
                .map_err(|e| TransportError::TlsHandshake(os_reason(&e)))
        };
        timeouts(&tcp, opts.handshake_timeout)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)
                .map_err(|e| handshake_error(&e, host))?;
        }
        let mut byte = [0u8; 1];
        loop {
            match conn.reader().read(&mut byte) {
                Ok(1) => break,
                // A clean close instead of the byte: the daemon refused us.
                Ok(_) => return Err(TransportError::ServerVerification),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match conn.read_tls(&mut tcp) {
                        // End of file is seen by the next read of the plaintext.
                        Ok(_) => {}
                        Err(e) => return Err(confirm_error(&e)),
                    }
                    if let Err(e) = conn.process_new_packets() {
                        // A fatal alert from the daemon (it rejected our certificate).
                        return Err(match e {
                            rustls::Error::AlertReceived(_) => TransportError::ServerVerification,
                            other => TransportError::TlsHandshake(other.to_string()),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(TransportError::ServerVerification)
                }
                Err(e) => return Err(confirm_error(&e)),
            }
        }
        if byte[0] != 1 {
            return Err(TransportError::ServerVerification);
        }
        // From here the client's keepalive watches the connection; its reader must be able to
        // wait for events indefinitely.
        timeouts(&tcp, None)?;
        Ok(TlsTransport {
            tcp,
            conn,
            describe: format!("tls {host}:{}", opts.port),
        })
    }
}

fn confirm_error(e: &io::Error) -> TransportError {
    TransportError::TlsHandshake(format!("Unable to read TLS confirmation: {}", io_reason(e)))
}

/// What the reading and writing halves share.
struct Shared {
    conn: Mutex<ClientConnection>,
    /// The socket for writing. Held from the moment TLS records are taken out of `conn` until
    /// they are on the wire, so records go out in the order they were made.
    wire: Mutex<TcpStream>,
}

/// A poisoned lock only means another thread panicked holding it; the TLS state is still
/// consistent between calls, and a transport must not turn that into a second panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Sends whatever TLS records `conn` has pending. The caller holds the wire.
    fn flush_pending(&self, wire: &mut TcpStream) -> io::Result<()> {
        let mut out = Vec::new();
        {
            let mut conn = lock(&self.conn);
            while conn.wants_write() {
                conn.write_tls(&mut out)?;
            }
        }
        if !out.is_empty() {
            wire.write_all(&out)?;
        }
        Ok(())
    }
}

fn tls_io(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

struct TlsReader {
    shared: Arc<Shared>,
    sock: TcpStream,
    /// Ciphertext read from the socket and not yet taken by rustls.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
}

impl Read for TlsReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut conn = lock(&self.shared.conn);
                match conn.reader().read(out) {
                    // Ok(0) is the daemon's close_notify; an unclean close is UnexpectedEof.
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.start < self.end {
                    let mut pending = &self.buf[self.start..self.end];
                    let taken = conn.read_tls(&mut pending)?;
                    if taken == 0 {
                        return Err(io::Error::other("TLS record buffer is full"));
                    }
                    self.start += taken;
                    conn.process_new_packets().map_err(tls_io)?;
                    let answer = conn.wants_write();
                    drop(conn);
                    if answer {
                        // A key update or an alert to answer. Only when no caller is writing:
                        // the reader never waits behind a write, and a writer sends what is
                        // pending anyway.
                        if let Ok(mut wire) = self.shared.wire.try_lock() {
                            self.shared.flush_pending(&mut wire)?;
                        }
                    }
                    continue;
                }
                if self.eof {
                    // rustls has seen the end and has no more plaintext: report the end.
                    return Ok(0);
                }
            }
            // Wait for the daemon without holding the TLS state.
            let n = loop {
                match self.sock.read(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            if n == 0 {
                self.eof = true;
                let mut conn = lock(&self.shared.conn);
                conn.read_tls(&mut io::empty())?;
                conn.process_new_packets().map_err(tls_io)?;
            }
            self.start = 0;
            self.end = n;
        }
    }
}

struct TlsWriter {
    shared: Arc<Shared>,
}

impl Write for TlsWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut wire = lock(&self.shared.wire);
        let n = lock(&self.shared.conn).writer().write(data)?;
        self.shared.flush_pending(&mut wire)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut wire = lock(&self.shared.wire);
        self.shared.flush_pending(&mut wire)?;
        wire.flush()
    }
}

impl Transport for TlsTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts> {
        let sock = self.tcp.try_clone()?;
        let closer = self.tcp.try_clone()?;
        let shared = Arc::new(Shared {
            conn: Mutex::new(self.conn),
            wire: Mutex::new(self.tcp),
        });
        Ok(TransportParts {
            reader: Box::new(TlsReader {
                shared: Arc::clone(&shared),
                sock,
                // One TLS record and its header.
                buf: vec![0u8; 18 * 1024].into_boxed_slice(),
                start: 0,
                end: 0,
                eof: false,
            }),
            writer: Box::new(TlsWriter { shared }),
            closer: Box::new(move || {
                // libvirt does not say goodbye at the TLS level either; the daemon sees the
                // socket close. Already shut down: nothing left to unblock.
                let _ = closer.shutdown(Shutdown::Both);
            }),
        })
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
