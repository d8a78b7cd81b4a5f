//! A throwaway PKI for the TLS tests (rcgen, ECDSA P-256): a CA, and server and client
//! certificates it signs, laid out as libvirt expects them in a `pkipath=` directory
//! (`cacert.pem`, `clientcert.pem`, `clientkey.pem`) and beside them the server's files
//! (`servercert.pem`, `serverkey.pem`) for libvirtd's `cert_file`/`key_file`. The extensions
//! are those libvirt's sanity checks want: CA:TRUE with keyCertSign on the CA, CA:FALSE,
//! digitalSignature, keyEncipherment and the right extended key usage on the others.
//!
//! Included with `#[path]` by tests/transports.rs and by the unit tests of
//! src/transport/tls.rs, so it is not a module of tests/common.

#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::fs;
use std::path::{Path, PathBuf};

pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
}

fn named(cn: &str, sans: &[&str]) -> CertificateParams {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut p = CertificateParams::new(sans).expect("valid subject alt names");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "virtsh tests");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p
}

impl Ca {
    pub fn new(cn: &str) -> Ca {
        let mut params = named(cn, &[]);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key generation");
        let pem = params.self_signed(&key).expect("self-signed CA").pem();
        Ca { params, key, pem }
    }

    /// A leaf certificate and its PKCS#8 key, both PEM. `sans` are DNS names or IP addresses.
    pub fn issue(&self, cn: &str, sans: &[&str], server: bool) -> (String, String) {
        let mut params = named(cn, sans);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let key = KeyPair::generate().expect("key generation");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("signing");
        (cert.pem(), key.serialize_pem())
    }
}

/// A directory with a CA, a server certificate for `server_names` and a client certificate.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: Ca,
}

impl Pki {
    pub fn create(dir: &Path, server_names: &[&str]) -> Pki {
        fs::create_dir_all(dir).expect("pki dir");
        let ca = Ca::new("virtsh test CA");
        let (server_cert, server_key) = ca.issue("virtsh test server", server_names, true);
        let (client_cert, client_key) = ca.issue("virtsh test client", &[], false);
        for (name, text) in [
            ("cacert.pem", &ca.pem),
            ("servercert.pem", &server_cert),
            ("serverkey.pem", &server_key),
            ("clientcert.pem", &client_cert),
            ("clientkey.pem", &client_key),
        ] {
            fs::write(dir.join(name), text).expect("pki file");
        }
        Pki {
            dir: dir.to_path_buf(),
            ca,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A copy of this directory whose `cacert.pem` is another CA's: the client's certificate
    /// still is this PKI's, the server's no longer verifies.
    pub fn with_other_ca(&self, dir: &Path) -> PathBuf {
        fs::create_dir_all(dir).expect("pki dir");
        for name in ["clientcert.pem", "clientkey.pem"] {
            fs::copy(self.path(name), dir.join(name)).expect("pki copy");
        }
        fs::write(dir.join("cacert.pem"), Ca::new("another CA").pem).expect("pki file");
        dir.to_path_buf()
    }
}
