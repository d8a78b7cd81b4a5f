//! Opening a connection as libvirt's remote driver does (`remote_driver.c` `doRemoteOpen`,
//! `remote_sockets.c`): split the URI's transport from its driver, pick the socket, connect,
//! authenticate (`REMOTE_PROC_AUTH_LIST`, then polkit if asked), ask for keepalive
//! (`CONNECT_SUPPORTS_FEATURE`), and `CONNECT_OPEN` the URI the daemon should open:
//! `test+unix:///default?socket=/s` → `test:///default`.
//!
//! Every transport but libssh and libssh2 connects ([`connect_transport`]): unix, tcp, tls
//! (rustls), ssh (the `ssh` binary) and ext (`command=`); see [`crate::transport`].
//! libvirt.conf's `remote_mode`, `remote_proxy` and `tls_priority` are not read (the URI's
//! `mode=` and `proxy=` are), SASL is not spoken, and session daemons are not autostarted.

use crate::client::{Client, ClientConfig};
use crate::error::RemoteError;
use crate::generated::remote::{
    procs, RemoteAuthPolkitRet, RemoteConnectOpenArgs, RemoteConnectSupportsFeatureArgs,
    REMOTE_AUTH_NONE, REMOTE_AUTH_POLKIT, REMOTE_AUTH_SASL, REMOTE_AUTH_TYPE_LIST_MAX,
    REMOTE_PROC_AUTH_LIST, REMOTE_PROC_AUTH_POLKIT, REMOTE_PROGRAM,
};
use crate::transport::{
    tcp, tls, ExtTransport, SshOptions, SshProxy, SshTransport, TcpTransport, TlsOptions,
    TlsTransport, Transport, TransportError, UnixTransport,
};
use crate::xdr::{Xdr, XdrError, XdrReader, XdrWriter};
use std::path::{Path, PathBuf};
use virtsh_api::{ErrorKind, Uri};

/// `REMOTE_DRIVER_OPEN_RO` (`remote_sockets.h`), which lines up with `VIR_CONNECT_RO`.
pub const OPEN_RO: u32 = 1;
/// `REMOTE_DRIVER_OPEN_USER`: the per-user (session) daemon.
pub const OPEN_USER: u32 = 2;

/// `VIR_DRV_FEATURE_PROGRAM_KEEPALIVE` (`libvirt_internal.h`).
pub const FEATURE_PROGRAM_KEEPALIVE: i32 = 10;

/// The transports of `driver+transport://` (`remoteDriverTransport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Tls,
    Unix,
    Ssh,
    Libssh2,
    Ext,
    Tcp,
    Libssh,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Tls => "tls",
            TransportKind::Unix => "unix",
            TransportKind::Ssh => "ssh",
            TransportKind::Libssh2 => "libssh2",
            TransportKind::Ext => "ext",
            TransportKind::Tcp => "tcp",
            TransportKind::Libssh => "libssh",
        }
    }

    fn parse(s: &str) -> Option<TransportKind> {
        [
            TransportKind::Tls,
            TransportKind::Unix,
            TransportKind::Ssh,
            TransportKind::Libssh2,
            TransportKind::Ext,
            TransportKind::Tcp,
            TransportKind::Libssh,
        ]
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(s))
    }
}

/// Which daemon's socket a unix connection uses (`remoteDriverMode`): the per-driver modular
/// daemon (`virtqemud-sock`), the monolithic libvirtd (`libvirt-sock`), or whichever exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketMode {
    Auto,
    Legacy,
    Direct,
}

/// What socket selection depends on besides the URI.
#[derive(Debug, Clone)]
pub struct SocketEnv {
    /// Whether we run as root (root never uses session daemons).
    pub root: bool,
    /// `LOCALSTATEDIR/run/libvirt`: `/var/run/libvirt` (libvirt deliberately uses /var/run,
    /// which a remote host is sure to have).
    pub system_dir: PathBuf,
    /// `$XDG_RUNTIME_DIR/libvirt`, or `$XDG_CACHE_HOME/libvirt` (`~/.cache/libvirt`) without it.
    pub user_dir: PathBuf,
    /// What auto mode falls back to when neither socket exists. Debian 12 builds libvirt 9.0
    /// with `remote_default_mode=legacy` (virsh then reports `libvirt-sock` missing).
    pub default_mode: SocketMode,
}

impl SocketEnv {
    /// This process's view.
    pub fn from_process() -> SocketEnv {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let env_dir = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let runtime = env_dir("XDG_RUNTIME_DIR")
            .or_else(|| env_dir("XDG_CACHE_HOME"))
            .or_else(|| env_dir("HOME").map(|h| h.join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        SocketEnv {
            root,
            system_dir: PathBuf::from("/var/run/libvirt"),
            user_dir: runtime.join("libvirt"),
            default_mode: SocketMode::Legacy,
        }
    }
}

/// Everything decided from the URI before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub transport: TransportKind,
    /// The unix socket (local, or on the far side of ssh).
    pub socket: Option<PathBuf>,
    /// What `CONNECT_OPEN` asks the daemon to open.
    pub daemon_uri: String,
    /// `CONNECT_OPEN`'s flags: [`OPEN_RO`], [`OPEN_USER`].
    pub flags: u32,
    /// The `auth=` parameter.
    pub auth: Option<String>,
}

/// Parameters the remote driver consumes (`doRemoteOpen`'s EXTRACT_URI_ARG list and
/// `authfile`); the rest go to the daemon in the URI.
const DRIVER_PARAMS: &[&str] = &[
    "name",
    "command",
    "socket",
    "auth",
    "sshauth",
    "netcat",
    "keyfile",
    "pkipath",
    "known_hosts",
    "known_hosts_verify",
    "tls_priority",
    "mode",
    "proxy",
    "no_sanity",
    "no_verify",
    "no_tty",
    "authfile",
];

fn param<'a>(uri: &'a Uri, key: &str) -> Option<&'a str> {
    uri.params
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// `g_string_append_uri_escaped` with no reserved characters allowed: everything but
/// `A-Za-z0-9-._~` is percent-encoded.
fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI the daemon should open: the driver, path and remaining parameters, without the
/// transport, user, host and port; `""` for `remote://` (the daemon probes); the `name=`
/// parameter when given.
pub fn daemon_uri(uri: &Uri) -> String {
    if let Some(name) = param(uri, "name") {
        return name.to_string();
    }
    if uri.driver == "remote" {
        return String::new();
    }
    let query: Vec<String> = uri
        .params
        .iter()
        .filter(|(k, _)| !DRIVER_PARAMS.iter().any(|d| k.eq_ignore_ascii_case(d)))
        .map(|(k, v)| format!("{k}={}", uri_escape(v)))
        .collect();
    let mut s = format!("{}://{}", uri.driver, uri.path);
    if !query.is_empty() {
        s.push('?');
        s.push_str(&query.join("&"));
    }
    s
}

/// Decides transport, socket, daemon URI and flags for `uri`, as `remoteConnectOpen` and
/// `doRemoteOpen` do. `exists` tells whether a socket path exists (auto mode looks).
pub fn plan(
    uri: &Uri,
    readonly: bool,
    env: &SocketEnv,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Target, RemoteError> {
    let host = uri.host.as_deref().filter(|h| !h.is_empty());
    let transport = match uri.transport.as_deref() {
        Some(t) => TransportKind::parse(t).ok_or_else(|| {
            RemoteError::InvalidArg(
                "remote_open: transport in URL not recognised \
                 (should be tls|unix|ssh|ext|tcp|libssh2|libssh)"
                    .into(),
            )
        })?,
        None if host.is_some() => TransportKind::Tls,
        None => TransportKind::Unix,
    };
    if let (TransportKind::Unix, Some(h)) = (transport, host) {
        return Err(RemoteError::InvalidArg(format!(
            "using unix socket and remote server '{h}' is not supported."
        )));
    }
    let mut flags = 0;
    if !env.root && (uri.path == "/session" || (uri.driver == "test" && uri.transport.is_some())) {
        flags |= OPEN_USER;
    }
    if readonly {
        flags |= OPEN_RO;
    }
    let mode = match param(uri, "mode") {
        None | Some("auto") => SocketMode::Auto,
        Some("legacy") => SocketMode::Legacy,
        Some("direct") => SocketMode::Direct,
        Some(other) => {
            return Err(RemoteError::InvalidArg(format!(
                "Unknown remote mode '{other}'"
            )))
        }
    };
    if transport == TransportKind::Ext && param(uri, "command").is_none() {
        return Err(RemoteError::InvalidArg(
            "remote_open: for 'ext' transport, command is required".into(),
        ));
    }
    let socket = match transport {
        TransportKind::Unix
        | TransportKind::Ssh
        | TransportKind::Libssh
        | TransportKind::Libssh2 => Some(match param(uri, "socket") {
            Some(s) => PathBuf::from(s),
            None => unix_socket(transport, mode, &uri.driver, flags, env, exists)?,
        }),
        TransportKind::Tcp | TransportKind::Tls | TransportKind::Ext => None,
    };
    Ok(Target {
        transport,
        socket,
        daemon_uri: daemon_uri(uri),
        flags,
        auth: param(uri, "auth").map(str::to_string),
    })
}

/// `remoteGetUNIXSocket`: `virt<driver>d-sock` (direct) or `libvirt-sock` (legacy), `-sock-ro`
/// for read-only system sockets, in the session directory for [`OPEN_USER`].
fn unix_socket(
    transport: TransportKind,
    mode: SocketMode,
    driver: &str,
    flags: u32,
    env: &SocketEnv,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<PathBuf, RemoteError> {
    let path = |prefix: &str| {
        if flags & OPEN_USER != 0 {
            env.user_dir.join(format!("{prefix}-sock"))
        } else if flags & OPEN_RO != 0 {
            env.system_dir.join(format!("{prefix}-sock-ro"))
        } else {
            env.system_dir.join(format!("{prefix}-sock"))
        }
    };
    let direct = path(&format!("virt{driver}d"));
    let legacy = path("libvirt");
    let mode = match mode {
        SocketMode::Auto if transport != TransportKind::Unix => SocketMode::Legacy,
        SocketMode::Auto if exists(&direct) => SocketMode::Direct,
        SocketMode::Auto if exists(&legacy) => SocketMode::Legacy,
        SocketMode::Auto => env.default_mode,
        m => m,
    };
    match mode {
        SocketMode::Direct if transport != TransportKind::Unix => {
            Err(RemoteError::Unsupported(format!(
                "Cannot use direct socket mode for {} transport",
                transport.name()
            )))
        }
        SocketMode::Direct => Ok(direct),
        _ => Ok(legacy),
    }
}

/// How to open.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub readonly: bool,
    pub client: ClientConfig,
}

/// An open, authenticated connection to a daemon, with the hypervisor connection opened.
pub struct Session {
    pub client: Client,
    pub target: Target,
    /// Whether the daemon agreed to keepalive (it then pings us when we are idle).
    pub keepalive: bool,
}

/// Opens `uri` (a URI with a transport or a host, which the caller has decided is remote).
pub fn open(uri: &Uri, opts: &OpenOptions) -> Result<Session, RemoteError> {
    let env = SocketEnv::from_process();
    let target = plan(uri, opts.readonly, &env, &|p: &Path| p.exists())?;
    let transport = connect_transport(uri, &target, &env, opts)?;
    let client = Client::new(transport, opts.client.clone())?;
    handshake(client, target)
}

/// The remote driver's own boolean parameters (`EXTRACT_URI_ARG_BOOL`): an integer, true
/// when non-zero. Each is parsed for every transport, as libvirt does, so a bad value is an
/// error even where the parameter has no use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UriFlags {
    pub no_verify: bool,
    pub no_tty: bool,
    pub no_sanity: bool,
}

impl UriFlags {
    pub fn parse(uri: &Uri) -> Result<UriFlags, RemoteError> {
        let flag = |key: &str| -> Result<bool, RemoteError> {
            let Some(v) = param(uri, key) else {
                return Ok(false);
            };
            // virStrToLong_i: leading blanks and a sign, then digits to the end.
            v.trim_start_matches(|c: char| c.is_ascii_whitespace())
                .parse::<i32>()
                .map(|n| n != 0)
                .map_err(|_| {
                    RemoteError::InvalidArg(format!("Failed to parse value of URI component {key}"))
                })
        };
        Ok(UriFlags {
            no_verify: flag("no_verify")?,
            no_tty: flag("no_tty")?,
            no_sanity: flag("no_sanity")?,
        })
    }
}

/// The host of `uri` as libvirt's remote driver uses it: "localhost" when none is given.
fn host_of(uri: &Uri) -> String {
    uri.host
        .as_deref()
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
        .to_string()
}

/// The URI's port; libvirt treats port 0 as none.
fn port_of(uri: &Uri) -> Option<u16> {
    uri.port.filter(|&p| p != 0)
}

/// The ssh command line's ingredients (`doRemoteOpen` and `virNetClientNewSSH`).
pub fn ssh_options(uri: &Uri, target: &Target, flags: UriFlags) -> Result<SshOptions, RemoteError> {
    let proxy = match param(uri, "proxy") {
        Some(p) => SshProxy::parse(p).ok_or_else(|| {
            // libvirt 9.0's message, typo included.
            RemoteError::InvalidArg(format!("Unnkown proxy type '{p}'"))
        })?,
        // virt-ssh-helper cannot take an explicit socket; a session daemon's socket path
        // cannot be known from here; a system one falls back to nc when the helper is missing.
        None if param(uri, "socket").is_some() => SshProxy::Netcat,
        None if target.flags & OPEN_USER != 0 => SshProxy::Native,
        None => SshProxy::Auto,
    };
    Ok(SshOptions {
        host: host_of(uri),
        port: port_of(uri),
        user: uri.user.clone().filter(|u| !u.is_empty()),
        binary: param(uri, "command").map(str::to_string),
        keyfile: param(uri, "keyfile").map(str::to_string),
        no_tty: flags.no_tty,
        no_verify: flags.no_verify,
        proxy,
        netcat: param(uri, "netcat").map(str::to_string),
        socket: target
            .socket
            .as_ref()
            .map(|s| s.display().to_string())
            .unwrap_or_default(),
        daemon_uri: target.daemon_uri.clone(),
        readonly: target.flags & OPEN_RO != 0,
    })
}

/// The TLS connection's parameters: the PKI files (`pkipath=`, else `~/.pki/libvirt` for
/// non-root users, else the system's), `no_verify=`, and the port (default 16514).
pub fn tls_options(uri: &Uri, env: &SocketEnv, flags: UriFlags, opts: &OpenOptions) -> TlsOptions {
    let user_dir = if env.root {
        None
    } else {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".pki/libvirt"))
    };
    let pkipath = param(uri, "pkipath").map(PathBuf::from);
    TlsOptions {
        host: host_of(uri),
        port: port_of(uri).unwrap_or(tls::DEFAULT_PORT),
        credentials: tls::Credentials::locate(pkipath.as_deref(), user_dir.as_deref(), &|p| {
            p.exists()
        }),
        verify: !flags.no_verify,
        handshake_timeout: Some(opts.client.call_timeout),
    }
}

/// Connects the transport that [`plan`] chose.
pub fn connect_transport(
    uri: &Uri,
    target: &Target,
    env: &SocketEnv,
    opts: &OpenOptions,
) -> Result<Box<dyn Transport>, RemoteError> {
    let flags = UriFlags::parse(uri)?;
    let transport: Box<dyn Transport> = match target.transport {
        TransportKind::Unix => {
            let socket = target.socket.as_deref().ok_or_else(|| {
                RemoteError::InvalidArg("no socket for the unix transport".into())
            })?;
            Box::new(UnixTransport::connect(socket)?)
        }
        TransportKind::Tcp => Box::new(TcpTransport::connect(
            &host_of(uri),
            port_of(uri).unwrap_or(tcp::DEFAULT_PORT),
        )?),
        TransportKind::Tls => Box::new(TlsTransport::connect(&tls_options(uri, env, flags, opts))?),
        TransportKind::Ssh => Box::new(SshTransport::connect(&ssh_options(uri, target, flags)?)?),
        TransportKind::Ext => {
            // plan() has already refused an ext URI without a command.
            let command = param(uri, "command").ok_or_else(|| {
                TransportError::InvalidArg(
                    "remote_open: for 'ext' transport, command is required".into(),
                )
            })?;
            Box::new(ExtTransport::connect(command)?)
        }
        t @ (TransportKind::Libssh | TransportKind::Libssh2) => {
            return Err(RemoteError::Unsupported(format!(
                "the {} transport is not supported by virtsh yet (the ssh transport runs the \
                 ssh binary instead)",
                t.name()
            )))
        }
    };
    Ok(transport)
}

/// `AUTH_LIST`'s reply, decoded by hand so that an auth type this build does not know is
/// reported as such rather than as an undecodable enum.
struct AuthList(Vec<i32>);

impl Xdr for AuthList {
    fn encode(&self, w: &mut XdrWriter) {
        w.put_array(&self.0, REMOTE_AUTH_TYPE_LIST_MAX);
    }
    fn decode(r: &mut XdrReader<'_>) -> Result<Self, XdrError> {
        r.get_array(REMOTE_AUTH_TYPE_LIST_MAX).map(AuthList)
    }
}

/// Authenticates, enables keepalive and opens the daemon's hypervisor connection on an
/// already connected client (every transport ends here).
pub fn handshake(mut client: Client, target: Target) -> Result<Session, RemoteError> {
    authenticate(&mut client, target.auth.as_deref())?;
    let keepalive =
        match client.call_proc::<procs::ConnectSupportsFeature>(&RemoteConnectSupportsFeatureArgs {
            feature: FEATURE_PROGRAM_KEEPALIVE,
        }) {
            Ok(ret) => ret.supported != 0,
            // An old daemon without keepalive: libvirt goes on without it.
            Err(RemoteError::Server(_)) => false,
            Err(e) => return Err(e),
        };
    client.call_proc::<procs::ConnectOpen>(&RemoteConnectOpenArgs {
        name: Some(target.daemon_uri.clone()),
        flags: target.flags,
    })?;
    Ok(Session {
        client,
        target,
        keepalive,
    })
}

/// `remoteAuthenticate`: the daemon offers the socket's method; `auth=` may insist on one.
fn authenticate(client: &mut Client, wanted: Option<&str>) -> Result<(), RemoteError> {
    let offered = match client.call::<(), AuthList>(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, &()) {
        Ok(AuthList(types)) => types,
        // A server older than AUTH_LIST needs no authentication.
        Err(e @ RemoteError::Server(_)) if e.kind() == ErrorKind::NoSupport => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(&first) = offered.first() else {
        return Ok(());
    };
    let chosen = match wanted {
        None => first,
        Some(w) => {
            let want =
                if w.eq_ignore_ascii_case("sasl") || w.to_ascii_lowercase().starts_with("sasl.") {
                    REMOTE_AUTH_SASL
                } else if w.eq_ignore_ascii_case("polkit") {
                    REMOTE_AUTH_POLKIT
                } else {
                    return Err(RemoteError::Auth(format!(
                        "unknown authentication type {w}"
                    )));
                };
            if !offered.contains(&want) {
                return Err(RemoteError::Auth(format!(
                    "requested authentication type {w} rejected"
                )));
            }
            want
        }
    };
    match chosen {
        REMOTE_AUTH_NONE => Ok(()),
        REMOTE_AUTH_POLKIT => {
            client.call::<(), RemoteAuthPolkitRet>(REMOTE_PROGRAM, REMOTE_PROC_AUTH_POLKIT, &())?;
            Ok(())
        }
        REMOTE_AUTH_SASL => Err(RemoteError::AuthUnsupported("sasl".into())),
        other => Err(RemoteError::Auth(format!(
            "unsupported authentication type {other}"
        ))),
    }
}

impl Session {
    /// Closes the daemon's hypervisor connection (`CONNECT_CLOSE`), then the transport. The
    /// transport is closed even when the call fails.
    pub fn close(mut self) -> Result<(), RemoteError> {
        self.close_now()
    }

    /// [`Session::close`] for a session that cannot be given up by value (one inside a
    /// driver being dropped). Closing twice, or a closed client, is harmless.
    pub fn close_now(&mut self) -> Result<(), RemoteError> {
        if self.client.is_closed() {
            return Ok(());
        }
        let result = match self.client.call_proc::<procs::ConnectClose>(&()) {
            // The daemon drops the connection right after its reply to CONNECT_CLOSE, and a
            // proxy may lose that last reply: libvirt 9.0's virt-ssh-helper exits on the
            // socket's hangup with the reply still in its buffer. The end of the connection
            // is then the answer: the daemon has closed.
            Err(RemoteError::Eof) | Err(RemoteError::Transport(TransportError::ChildEof(_))) => {
                Ok(())
            }
            other => other,
        };
        self.client.shutdown();
        result
    }
}

#[cfg(test)]
#[path = "connect_tests.rs"]
mod tests;
