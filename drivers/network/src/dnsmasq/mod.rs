//! dnsmasq, the DHCP and DNS server of a virtual network, as libvirt 9.0 runs it.
//!
//! - [`config`]: the configuration file and the DHCP hosts file that libvirt's
//!   `networkDnsmasqConfContents` writes (golden-tested against libvirt's own test data), and the
//!   `addn-hosts` file of `<dns><host>` entries. [`write`] puts them on disk atomically.
//! - [`start`], [`running`], [`reload`], [`stop`]: the daemon, identified by its pid file and
//!   checked against `/proc` so that a recycled pid is never signalled.
//! - [`read_leases`]: dnsmasq's own lease file.
//!
//! One deliberate difference from libvirt: libvirt runs dnsmasq with `--leasefile-ro
//! --dhcp-script=libvirt_leaseshelper` and keeps the leases itself. virtsh has no daemon to run
//! such a helper, so its configuration adds `dhcp-leasefile=` and dnsmasq keeps the leases.

mod config;
mod files;
mod leases;
mod process;

use std::io;
use std::path::{Path, PathBuf};

use virtsh_xml::NetworkDef;

pub use config::{config, DnsmasqConfig};
pub use files::{remove, write};
pub use leases::{parse_leases, read_leases, Lease};
pub use process::{find_dnsmasq, reload, running, start, stop};

/// The files of one network's dnsmasq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsmasqFiles {
    /// `LIB/NAME.conf`, given to dnsmasq as `--conf-file=`.
    pub conf: PathBuf,
    /// `LIB/NAME.hostsfile`: `<dhcp><host>` entries (`dhcp-hostsfile=`), re-read on SIGHUP.
    pub hostsfile: PathBuf,
    /// `LIB/NAME.addnhosts`: `<dns><host>` entries (`addn-hosts=`), re-read on SIGHUP.
    pub addnhosts: PathBuf,
    /// `LIB/NAME.leases`: dnsmasq's lease database (`dhcp-leasefile=`).
    pub leases: PathBuf,
    /// `RUN/NAME.pid`, written by dnsmasq once it runs.
    pub pid: PathBuf,
}

impl DnsmasqFiles {
    /// The files of network `network`: state under `lib_dir`, the pid file under `run_dir`.
    /// Both directories must be absolute paths (dnsmasq changes to `/` when it daemonizes);
    /// [`config`] and [`start`] refuse relative ones.
    ///
    /// The hosts files' names escape the network name as libvirt does (it builds them with
    /// `virBufferEscapeString`, so `a"b` becomes `a&quot;b.hostsfile`), while the other names
    /// use it verbatim, again as libvirt does.
    pub fn new(lib_dir: &Path, run_dir: &Path, network: &str) -> Self {
        let escaped = libvirt_escape(network);
        DnsmasqFiles {
            conf: lib_dir.join(format!("{network}.conf")),
            hostsfile: lib_dir.join(format!("{escaped}.hostsfile")),
            addnhosts: lib_dir.join(format!("{escaped}.addnhosts")),
            leases: lib_dir.join(format!("{network}.leases")),
            pid: run_dir.join(format!("{network}.pid")),
        }
    }

    fn all(&self) -> [&Path; 5] {
        [
            &self.conf,
            &self.hostsfile,
            &self.addnhosts,
            &self.leases,
            &self.pid,
        ]
    }

    fn check_absolute(&self) -> Result<(), DnsmasqError> {
        match self.all().into_iter().find(|p| !p.is_absolute()) {
            Some(p) => Err(DnsmasqError::RelativePath(p.to_path_buf())),
            None => Ok(()),
        }
    }
}

/// Whether the network needs a dnsmasq at all, by libvirt's rule (`networkStartDhcpDaemon` and
/// the forward modes that reach it): only the layer-3 modes libvirt configures itself (isolated,
/// nat, route, open) with at least one `<ip>`, and then only if some `<ip>` serves DHCP or TFTP
/// or DNS is not disabled.
pub fn needed(def: &NetworkDef) -> bool {
    if !matches!(def.forward_mode(), "none" | "nat" | "route" | "open") || def.ips.is_empty() {
        return false;
    }
    let serves_dhcp = def
        .ips
        .iter()
        .any(|ip| !ip.ranges.is_empty() || !ip.hosts.is_empty() || ip.tftp_root.is_some());
    serves_dhcp || def.dns.as_ref().and_then(|d| d.enable) != Some(false)
}

/// Errors of this module. Configuration errors carry libvirt's message text.
#[derive(Debug, thiserror::Error)]
pub enum DnsmasqError {
    /// A definition dnsmasq cannot serve (libvirt's VIR_ERR_CONFIG_UNSUPPORTED).
    #[error("{0}")]
    Unsupported(String),
    /// A definition that should have been refused when it was parsed (VIR_ERR_INTERNAL_ERROR).
    #[error("{0}")]
    Internal(String),
    /// A value with a line break (or NUL) would inject lines into a dnsmasq file.
    #[error("{what} {value:?} cannot be written to a dnsmasq file: it contains a line break")]
    InvalidValue { what: &'static str, value: String },
    #[error("dnsmasq needs absolute paths: '{}'", .0.display())]
    RelativePath(PathBuf),
    #[error("dnsmasq not found; install dnsmasq-base")]
    NotFound,
    #[error("cannot {op} '{}': {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("dnsmasq failed to start ({status}){}", stderr_suffix(.stderr))]
    StartFailed { status: String, stderr: String },
    #[error("timed out after {secs}s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    #[error("dnsmasq for '{}' is already running (pid {pid})", conf.display())]
    AlreadyRunning { conf: PathBuf, pid: u32 },
    #[error("dnsmasq for '{}' is not running", conf.display())]
    NotRunning { conf: PathBuf },
    #[error("cannot send signal {signal} to dnsmasq (pid {pid}): {source}")]
    Signal {
        pid: u32,
        signal: i32,
        source: io::Error,
    },
    /// dnsmasq started as root reads the hosts files after it has dropped its privileges.
    #[error(
        "dnsmasq reads '{}' after dropping root privileges (to user nobody), but {reason}",
        path.display()
    )]
    NotReadable { path: PathBuf, reason: String },
}

fn stderr_suffix(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

impl DnsmasqError {
    fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        DnsmasqError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// virBufferEscapeString: XML-escape `"&'<>` and drop the control characters libvirt drops.
fn libvirt_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // libvirt's list of silently dropped characters: 0x01-0x19 except \t \n \r.
            '\u{1}'..='\u{19}' if !matches!(c, '\t' | '\n' | '\r') => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let f = DnsmasqFiles::new(Path::new("/l"), Path::new("/r"), "net");
        assert_eq!(f.conf, Path::new("/l/net.conf"));
        assert_eq!(f.hostsfile, Path::new("/l/net.hostsfile"));
        assert_eq!(f.addnhosts, Path::new("/l/net.addnhosts"));
        assert_eq!(f.leases, Path::new("/l/net.leases"));
        assert_eq!(f.pid, Path::new("/r/net.pid"));
        assert!(f.check_absolute().is_ok());
        let rel = DnsmasqFiles::new(Path::new("l"), Path::new("/r"), "net");
        assert!(matches!(
            rel.check_absolute(),
            Err(DnsmasqError::RelativePath(_))
        ));
    }

    #[test]
    fn escape_like_libvirt() {
        assert_eq!(
            libvirt_escape(r#"a"b'c<d>e&f"#),
            "a&quot;b&apos;c&lt;d&gt;e&amp;f"
        );
        assert_eq!(libvirt_escape("a\u{1}b\tc"), "ab\tc");
    }

    fn def(xml: &str) -> NetworkDef {
        match NetworkDef::parse(xml) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn needed_follows_libvirt() {
        let ip = "<ip address='10.0.0.1' prefix='24'/>";
        let dhcp = "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>";
        let n = |body: &str| needed(&def(&format!("<network><name>n</name>{body}</network>")));
        assert!(n(ip), "isolated with an address: DNS");
        assert!(!n(""), "no address");
        assert!(n(&format!("<forward mode='nat'/>{ip}")));
        assert!(n(&format!("<forward mode='route'/>{ip}")));
        assert!(n(&format!("<forward mode='open'/>{ip}")));
        assert!(!n(&format!("<dns enable='no'/>{ip}")), "no DHCP, no DNS");
        assert!(n(&format!("<dns enable='no'/>{dhcp}")), "DHCP without DNS");
        assert!(!n("<forward mode='bridge'/><bridge name='br0'/>"));
        assert!(!n(
            "<forward mode='passthrough'><interface dev='eth0'/></forward>"
        ));
    }
}
