//! The admin client: what libvirt's `libvirt-admin.so` does for virt-admin (`src/admin/
//! libvirt-admin.c` and `admin_remote.c`), over our RPC [`Client`].
//!
//! A daemon (libvirtd, or a modular `virt*d`) serves its admin program on a unix socket of its
//! own: `/run/libvirt/libvirt-admin-sock` for `libvirtd:///system`,
//! `/run/libvirt/virtqemud-admin-sock` for `virtqemud:///system`, the same names under
//! `$XDG_RUNTIME_DIR/libvirt` for `///session`, or the URI's `socket=`. Opening it is a bare
//! `ADMIN_PROC_CONNECT_OPEN`: the socket's permissions are the authentication, there is no
//! `AUTH_LIST`, and (as libvirt-admin) no keepalive is negotiated.
//!
//! The calls are typed ([`AdminConnection::list_servers`], ...); typed parameters come back as
//! [`virtsh_api::TypedParam`]. Errors read as libvirt's: the daemon's own messages ("Server not
//! found: No server named 'x'") and the client library's ("unsupported configuration: Invalid
//! URI path '/x', try '/system'").

use crate::client::{Client, ClientConfig};
use crate::error::RemoteError;
use crate::generated::admin::{
    procs, AdminClientCloseArgs, AdminClientGetInfoArgs, AdminConnectGetLoggingFiltersArgs,
    AdminConnectGetLoggingOutputsArgs, AdminConnectListServersArgs, AdminConnectLookupServerArgs,
    AdminConnectOpenArgs, AdminConnectSetDaemonTimeoutArgs, AdminConnectSetLoggingFiltersArgs,
    AdminConnectSetLoggingOutputsArgs, AdminNonnullClient, AdminNonnullServer,
    AdminServerGetClientLimitsArgs, AdminServerGetThreadpoolParametersArgs,
    AdminServerListClientsArgs, AdminServerLookupClientArgs, AdminServerSetClientLimitsArgs,
    AdminServerSetThreadpoolParametersArgs, AdminServerUpdateTlsFilesArgs, AdminTypedParam,
    AdminTypedParamValue, ADMIN_CLIENT_INFO_PARAMETERS_MAX, ADMIN_SERVER_CLIENT_LIMITS_MAX,
    ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX,
};
use crate::transport::UnixTransport;
use std::path::{Path, PathBuf};
use thiserror::Error;
use virtsh_api::uri::percent_decode;
use virtsh_api::{ErrorKind, TypedParam, TypedValue};

/// `RUNSTATEDIR/libvirt`: where system daemons put their admin sockets (Debian: /run).
pub const SYSTEM_SOCKET_DIR: &str = "/run/libvirt";

/// The threadpool parameters (`libvirt-admin.h`, `VIR_THREADPOOL_WORKERS_*`).
pub mod threadpool {
    pub const WORKERS_MIN: &str = "minWorkers";
    pub const WORKERS_MAX: &str = "maxWorkers";
    pub const WORKERS_PRIORITY: &str = "prioWorkers";
    pub const WORKERS_FREE: &str = "freeWorkers";
    pub const WORKERS_CURRENT: &str = "nWorkers";
    pub const JOB_QUEUE_DEPTH: &str = "jobQueueDepth";
}

/// The client limits of a server (`VIR_SERVER_CLIENTS_*`).
pub mod client_limits {
    pub const MAX: &str = "nclients_max";
    pub const CURRENT: &str = "nclients";
    pub const UNAUTH_MAX: &str = "nclients_unauth_max";
    pub const UNAUTH_CURRENT: &str = "nclients_unauth";
}

/// Failures of the admin client, each worded as libvirt-admin words it.
#[derive(Debug, Error)]
pub enum AdminError {
    /// `VIR_ERR_CONFIG_UNSUPPORTED`: a URI the admin library cannot map to a socket.
    #[error("unsupported configuration: {0}")]
    ConfigUnsupported(String),
    /// A URI that does not parse at all (libvirt's virURIParse).
    #[error("internal error: Unable to parse URI {0}")]
    BadUri(String),
    /// A reply that breaks the protocol's limits (virTypedParamsDeserialize and friends).
    #[error("{0}")]
    Rpc(String),
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

impl AdminError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AdminError::ConfigUnsupported(_) => ErrorKind::ConfigUnsupported,
            AdminError::BadUri(_) => ErrorKind::InternalError,
            AdminError::Rpc(_) => ErrorKind::Rpc,
            AdminError::Remote(e) => e.kind(),
        }
    }
}

impl From<AdminError> for virtsh_api::Error {
    fn from(e: AdminError) -> virtsh_api::Error {
        virtsh_api::Error::raw(e.kind(), e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, AdminError>;

/// An admin URI as libvirt keeps it (`virURI`): every part as written, so that
/// [`AdminUri::format`] gives back what virt-admin's `uri` prints. Unlike a hypervisor URI the
/// scheme is not split at `+`: it names a daemon (`libvirtd`, `virtqemud`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminUri {
    pub scheme: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    pub port: Option<u32>,
    /// Percent-decoded.
    pub path: Option<String>,
    /// As written (`query_raw`).
    pub query: Option<String>,
    pub fragment: Option<String>,
    /// The query's `name=value` pairs, percent-decoded, in order (virURIParseParams).
    pub params: Vec<(String, String)>,
}

/// Characters RFC 3986 allows in a URI besides `%`-escapes; libxml2's parser refuses others.
fn uri_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=".contains(c)
}

impl AdminUri {
    /// Parses `text` as libvirt's virURIParse does (through libxml2): a URI without a scheme
    /// is accepted here and refused later, by [`socket_path`], with libvirt's message.
    pub fn parse(text: &str) -> Result<AdminUri> {
        let bad = || AdminError::BadUri(text.to_string());
        let escapes_ok = text.match_indices('%').all(|(i, _)| {
            text.get(i + 1..i + 3)
                .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if !escapes_ok || !text.chars().all(|c| c == '%' || uri_char_ok(c)) {
            return Err(bad());
        }
        let mut uri = AdminUri::default();
        let mut rest = text;
        // A scheme: a letter, then letters, digits, '+', '-', '.', then ':'.
        if let Some(i) = rest.find(':') {
            let scheme = &rest[..i];
            let mut chars = scheme.chars();
            if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                uri.scheme = Some(scheme.to_string());
                rest = &rest[i + 1..];
            }
        }
        if let Some(i) = rest.find('#') {
            uri.fragment = Some(percent_decode(&rest[i + 1..]));
            rest = &rest[..i];
        }
        if let Some(i) = rest.find('?') {
            uri.query = Some(rest[i + 1..].to_string());
            rest = &rest[..i];
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            rest = &after[end..];
            let hostport = match authority.rsplit_once('@') {
                Some((user, h)) => {
                    uri.user = Some(percent_decode(user));
                    h
                }
                None => authority,
            };
            let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
                let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
                (addr, after.strip_prefix(':'))
            } else {
                match hostport.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hostport, None),
                }
            };
            if !host.is_empty() {
                uri.server = Some(percent_decode(host));
            }
            if let Some(p) = port.filter(|p| !p.is_empty()) {
                let n: u32 = p.parse().map_err(|_| bad())?;
                if n > i32::MAX as u32 {
                    return Err(bad());
                }
                // virURIParse ignores a port without a server.
                if uri.server.is_some() {
                    uri.port = Some(n);
                }
            }
        }
        if !rest.is_empty() {
            uri.path = Some(percent_decode(rest));
        }
        uri.params = parse_params(uri.query.as_deref().unwrap_or(""));
        Ok(uri)
    }

    /// The URI as virURIFormat writes it back (`virAdmConnectGetURI`): with `//` even when
    /// there is no server, so `libvirtd:///system` stays itself.
    pub fn format(&self) -> String {
        let mut s = String::new();
        if let Some(scheme) = &self.scheme {
            s.push_str(scheme);
            s.push(':');
        }
        // virURIFormat sets port -1 when there is neither server nor port, which makes
        // xmlSaveUri write the authority's "//" in every case (`bad` comes back as `//bad`).
        s.push_str("//");
        if let Some(user) = &self.user {
            s.push_str(&escape(user, "-._~!$&'()*+,;=:"));
            s.push('@');
        }
        if let Some(server) = &self.server {
            if server.contains(':') {
                s.push_str(&format!("[{server}]"));
            } else {
                s.push_str(&escape(server, "-._~!$&'()*+,;="));
            }
            if let Some(port) = self.port {
                s.push_str(&format!(":{port}"));
            }
        }
        if let Some(path) = &self.path {
            s.push_str(&escape(path, "-._~!$&'()*+,;=:@/"));
        }
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        if let Some(f) = &self.fragment {
            s.push('#');
            s.push_str(&escape(f, "-._~!$&'()*+,;=:@/?"));
        }
        s
    }
}

/// Percent-encodes what is neither alphanumeric nor in `keep`.
fn escape(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// virURIParseParams: `&`-separated (`;` when a section has no `&`), `name` alone means an
/// empty value, `=value` without a name is dropped.
fn parse_params(query: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = query;
    while !rest.is_empty() {
        let end = rest
            .find('&')
            .or_else(|| rest.find(';'))
            .unwrap_or(rest.len());
        let section = &rest[..end];
        match section.find('=') {
            _ if section.is_empty() => {}
            Some(0) => {}
            Some(eq) => params.push((
                percent_decode(&section[..eq]),
                percent_decode(&section[eq + 1..]),
            )),
            None => params.push((percent_decode(section), String::new())),
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    params
}

/// `g_get_user_runtime_dir()/libvirt`: `$XDG_RUNTIME_DIR`, else the user's cache directory.
pub fn user_runtime_dir() -> PathBuf {
    let env_dir = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env_dir("XDG_RUNTIME_DIR")
        .or_else(|| env_dir("XDG_CACHE_HOME"))
        .or_else(|| env_dir("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("libvirt")
}

/// libvirt-admin's getSocketPath: the `socket=` parameter (any other parameter is refused);
/// else `libvirt-admin-sock` for the `libvirtd` scheme, `SCHEME-admin-sock` for a `virt*`
/// daemon, in [`SYSTEM_SOCKET_DIR`] for `/system` or `session_dir` for `/session`.
pub fn socket_path(uri: &AdminUri, session_dir: &Path) -> Result<PathBuf> {
    let mut socket = None;
    for (name, value) in &uri.params {
        if name == "socket" {
            socket = Some(PathBuf::from(value));
        } else {
            return Err(AdminError::ConfigUnsupported(format!(
                "Unknown URI parameter '{name}'"
            )));
        }
    }
    if let Some(s) = socket {
        return Ok(s);
    }
    let scheme = uri
        .scheme
        .as_deref()
        .ok_or_else(|| AdminError::ConfigUnsupported("No URI scheme specified".into()))?;
    let base = if scheme == "libvirtd" {
        "libvirt-admin-sock".to_string()
    } else if scheme.starts_with("virt") {
        format!("{scheme}-admin-sock")
    } else {
        return Err(AdminError::ConfigUnsupported(format!(
            "Unsupported URI scheme '{scheme}'"
        )));
    };
    match uri.path.as_deref() {
        Some("/system") => Ok(Path::new(SYSTEM_SOCKET_DIR).join(base)),
        Some("/session") => Ok(session_dir.join(base)),
        other => Err(AdminError::ConfigUnsupported(format!(
            "Invalid URI path '{}', try '/system'",
            other.unwrap_or("")
        ))),
    }
}

/// How a client reached the server (`virClientTransport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTransport {
    Unix,
    Tcp,
    Tls,
    Other(u32),
}

impl ClientTransport {
    pub fn from_wire(v: u32) -> ClientTransport {
        match v {
            0 => ClientTransport::Unix,
            1 => ClientTransport::Tcp,
            2 => ClientTransport::Tls,
            n => ClientTransport::Other(n),
        }
    }

    fn to_wire(self) -> u32 {
        match self {
            ClientTransport::Unix => 0,
            ClientTransport::Tcp => 1,
            ClientTransport::Tls => 2,
            ClientTransport::Other(n) => n,
        }
    }

    /// virt-admin's name for it (`vshAdmClientTransportToString`).
    pub fn name(self) -> &'static str {
        match self {
            ClientTransport::Unix => "unix",
            ClientTransport::Tcp => "tcp",
            ClientTransport::Tls => "tls",
            ClientTransport::Other(_) => "unknown",
        }
    }
}

/// A client of one of the daemon's servers (`virAdmClient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminClient {
    pub server: String,
    pub id: u64,
    /// When it connected, seconds since the epoch.
    pub timestamp: i64,
    pub transport: ClientTransport,
}

impl AdminClient {
    fn from_wire(c: AdminNonnullClient) -> AdminClient {
        AdminClient {
            server: c.srv.name,
            id: c.id,
            timestamp: c.timestamp,
            transport: ClientTransport::from_wire(c.transport),
        }
    }

    fn to_wire(&self) -> AdminNonnullClient {
        AdminNonnullClient {
            srv: server(&self.server),
            id: self.id,
            timestamp: self.timestamp,
            transport: self.transport.to_wire(),
        }
    }
}

fn server(name: &str) -> AdminNonnullServer {
    AdminNonnullServer {
        name: name.to_string(),
    }
}

/// virTypedParamsDeserialize: at most `limit` parameters.
fn params_from_wire(params: Vec<AdminTypedParam>, limit: u32) -> Result<Vec<TypedParam>> {
    if params.len() > limit as usize {
        return Err(AdminError::Rpc(format!(
            "too many parameters '{}' for limit '{limit}'",
            params.len()
        )));
    }
    Ok(params
        .into_iter()
        .map(|p| {
            let value = match p.value {
                AdminTypedParamValue::Int(v) => TypedValue::Int(v),
                AdminTypedParamValue::Uint(v) => TypedValue::UInt(v),
                AdminTypedParamValue::Llong(v) => TypedValue::LLong(v),
                AdminTypedParamValue::Ullong(v) => TypedValue::ULLong(v),
                AdminTypedParamValue::Double(v) => TypedValue::Double(v),
                AdminTypedParamValue::Boolean(v) => TypedValue::Boolean(v != 0),
                AdminTypedParamValue::String(v) => TypedValue::String(v),
            };
            TypedParam::new(p.field, value)
        })
        .collect())
}

/// virTypedParamsSerialize: at most `limit` parameters.
fn params_to_wire(params: &[TypedParam], limit: u32) -> Result<Vec<AdminTypedParam>> {
    if params.len() > limit as usize {
        return Err(AdminError::Rpc(format!(
            "too many parameters '{}' for limit '{limit}'",
            params.len()
        )));
    }
    Ok(params
        .iter()
        .map(|p| AdminTypedParam {
            field: p.field.clone(),
            value: match &p.value {
                TypedValue::Int(v) => AdminTypedParamValue::Int(*v),
                TypedValue::UInt(v) => AdminTypedParamValue::Uint(*v),
                TypedValue::LLong(v) => AdminTypedParamValue::Llong(*v),
                TypedValue::ULLong(v) => AdminTypedParamValue::Ullong(*v),
                TypedValue::Double(v) => AdminTypedParamValue::Double(*v),
                TypedValue::Boolean(v) => AdminTypedParamValue::Boolean(i32::from(*v)),
                TypedValue::String(v) => AdminTypedParamValue::String(v.clone()),
            },
        })
        .collect())
}

/// An open admin connection (`virAdmConnect`).
pub struct AdminConnection {
    client: Client,
    uri: AdminUri,
    socket: PathBuf,
}

impl AdminConnection {
    /// virAdmConnectOpen for an already resolved URI text (the caller applies
    /// libvirt-admin.conf's aliases and default): parse it, pick the socket, connect, open.
    pub fn open(uri_text: &str) -> Result<AdminConnection> {
        let uri = AdminUri::parse(uri_text)?;
        let socket = socket_path(&uri, &user_runtime_dir())?;
        let transport = UnixTransport::connect(&socket)?;
        Self::open_on(Box::new(transport), uri, socket)
    }

    /// `ADMIN_PROC_CONNECT_OPEN` over an already connected transport.
    pub fn open_on(
        transport: Box<dyn crate::transport::Transport>,
        uri: AdminUri,
        socket: PathBuf,
    ) -> Result<AdminConnection> {
        // libvirt-admin never starts keepalive; a call still has a timeout.
        let config = ClientConfig {
            keepalive: None,
            ..ClientConfig::default()
        };
        let mut client = Client::new(transport, config)?;
        client.call_proc::<procs::ConnectOpen>(&AdminConnectOpenArgs { flags: 0 })?;
        Ok(AdminConnection {
            client,
            uri,
            socket,
        })
    }

    /// virAdmConnectGetURI.
    pub fn uri(&self) -> String {
        self.uri.format()
    }

    /// The socket this connection uses.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// virAdmConnectIsAlive: the daemon has not closed the connection.
    pub fn is_alive(&self) -> bool {
        !self.client.is_closed()
    }

    /// The daemon's libvirt version, `major * 1000000 + minor * 1000 + release`.
    pub fn lib_version(&mut self) -> Result<u64> {
        Ok(self
            .client
            .call_proc::<procs::ConnectGetLibVersion>(&())?
            .lib_ver)
    }

    /// The names of the daemon's servers (`libvirtd`, `admin`), in its order.
    pub fn list_servers(&mut self) -> Result<Vec<String>> {
        let ret =
            self.client
                .call_proc::<procs::ConnectListServers>(&AdminConnectListServersArgs {
                    need_results: 1,
                    flags: 0,
                })?;
        Ok(ret.servers.into_iter().map(|s| s.name).collect())
    }

    /// virAdmConnectLookupServer: the server's name as the daemon knows it.
    pub fn lookup_server(&mut self, name: &str) -> Result<String> {
        let ret =
            self.client
                .call_proc::<procs::ConnectLookupServer>(&AdminConnectLookupServerArgs {
                    name: name.to_string(),
                    flags: 0,
                })?;
        Ok(ret.srv.name)
    }

    pub fn threadpool_parameters(&mut self, srv: &str) -> Result<Vec<TypedParam>> {
        let ret = self
            .client
            .call_proc::<procs::ServerGetThreadpoolParameters>(
                &AdminServerGetThreadpoolParametersArgs {
                    srv: server(srv),
                    flags: 0,
                },
            )?;
        params_from_wire(ret.params, ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX)
    }

    pub fn set_threadpool_parameters(&mut self, srv: &str, params: &[TypedParam]) -> Result<()> {
        let params = params_to_wire(params, ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX)?;
        self.client
            .call_proc::<procs::ServerSetThreadpoolParameters>(
                &AdminServerSetThreadpoolParametersArgs {
                    srv: server(srv),
                    params,
                    flags: 0,
                },
            )?;
        Ok(())
    }

    pub fn client_limits(&mut self, srv: &str) -> Result<Vec<TypedParam>> {
        let ret = self.client.call_proc::<procs::ServerGetClientLimits>(
            &AdminServerGetClientLimitsArgs {
                srv: server(srv),
                flags: 0,
            },
        )?;
        params_from_wire(ret.params, ADMIN_SERVER_CLIENT_LIMITS_MAX)
    }

    pub fn set_client_limits(&mut self, srv: &str, params: &[TypedParam]) -> Result<()> {
        let params = params_to_wire(params, ADMIN_SERVER_CLIENT_LIMITS_MAX)?;
        self.client
            .call_proc::<procs::ServerSetClientLimits>(&AdminServerSetClientLimitsArgs {
                srv: server(srv),
                params,
                flags: 0,
            })?;
        Ok(())
    }

    /// Asks the server to reload its TLS certificates, keys and CRL.
    pub fn update_tls_files(&mut self, srv: &str) -> Result<()> {
        self.client
            .call_proc::<procs::ServerUpdateTlsFiles>(&AdminServerUpdateTlsFilesArgs {
                srv: server(srv),
                flags: 0,
            })?;
        Ok(())
    }

    pub fn list_clients(&mut self, srv: &str) -> Result<Vec<AdminClient>> {
        let ret =
            self.client
                .call_proc::<procs::ServerListClients>(&AdminServerListClientsArgs {
                    srv: server(srv),
                    need_results: 1,
                    flags: 0,
                })?;
        Ok(ret
            .clients
            .into_iter()
            .map(AdminClient::from_wire)
            .collect())
    }

    pub fn lookup_client(&mut self, srv: &str, id: u64) -> Result<AdminClient> {
        let ret =
            self.client
                .call_proc::<procs::ServerLookupClient>(&AdminServerLookupClientArgs {
                    srv: server(srv),
                    id,
                    flags: 0,
                })?;
        Ok(AdminClient::from_wire(ret.clnt))
    }

    /// The client's identity: `readonly`, `unix_user_id`, `sock_addr`, ... as the daemon
    /// reports them.
    pub fn client_info(&mut self, client: &AdminClient) -> Result<Vec<TypedParam>> {
        let ret = self
            .client
            .call_proc::<procs::ClientGetInfo>(&AdminClientGetInfoArgs {
                clnt: client.to_wire(),
                flags: 0,
            })?;
        params_from_wire(ret.params, ADMIN_CLIENT_INFO_PARAMETERS_MAX)
    }

    /// Disconnects the client from its server.
    pub fn close_client(&mut self, client: &AdminClient) -> Result<()> {
        self.client
            .call_proc::<procs::ClientClose>(&AdminClientCloseArgs {
                clnt: client.to_wire(),
                flags: 0,
            })?;
        Ok(())
    }

    /// The daemon's log filters (`None` when it has none).
    pub fn logging_filters(&mut self) -> Result<Option<String>> {
        let ret = self.client.call_proc::<procs::ConnectGetLoggingFilters>(
            &AdminConnectGetLoggingFiltersArgs { flags: 0 },
        )?;
        Ok(ret.filters)
    }

    pub fn logging_outputs(&mut self) -> Result<String> {
        let ret = self.client.call_proc::<procs::ConnectGetLoggingOutputs>(
            &AdminConnectGetLoggingOutputsArgs { flags: 0 },
        )?;
        Ok(ret.outputs)
    }

    /// Replaces the daemon's log filters (`""` clears them).
    pub fn set_logging_filters(&mut self, filters: Option<&str>) -> Result<()> {
        self.client.call_proc::<procs::ConnectSetLoggingFilters>(
            &AdminConnectSetLoggingFiltersArgs {
                filters: filters.map(str::to_string),
                flags: 0,
            },
        )?;
        Ok(())
    }

    /// Replaces the daemon's log outputs (`""` restores its default).
    pub fn set_logging_outputs(&mut self, outputs: Option<&str>) -> Result<()> {
        self.client.call_proc::<procs::ConnectSetLoggingOutputs>(
            &AdminConnectSetLoggingOutputsArgs {
                outputs: outputs.map(str::to_string),
                flags: 0,
            },
        )?;
        Ok(())
    }

    /// How long the daemon keeps running without clients (0: for ever).
    pub fn set_daemon_timeout(&mut self, seconds: u32) -> Result<()> {
        self.client.call_proc::<procs::ConnectSetDaemonTimeout>(
            &AdminConnectSetDaemonTimeoutArgs {
                timeout: seconds,
                flags: 0,
            },
        )?;
        Ok(())
    }

    /// `ADMIN_PROC_CONNECT_CLOSE`, then the socket is closed (even when the call fails).
    pub fn close(mut self) -> Result<()> {
        let result = self.client.call_proc::<procs::ConnectClose>(&());
        self.client.shutdown();
        result.map_err(AdminError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_format_back_as_libvirt_formats_them() {
        let s = "socket=/tmp/a";
        for (given, printed) in [
            ("libvirtd:///system", "libvirtd:///system"),
            ("libvirtd:/system", "libvirtd:///system"),
            (&format!("bad?{s}") as &str, &format!("//bad?{s}") as &str),
            ("libvirtd://host:22/system", "libvirtd://host:22/system"),
            (
                "libvirtd://u@host/x%20y?a#frag",
                "libvirtd://u@host/x%20y?a#frag",
            ),
            ("libvirtd:///sys%7etem", "libvirtd:///sys~tem"),
            ("libvirtd://[::1]:5/system", "libvirtd://[::1]:5/system"),
            ("x:?q", "x://?q"),
            (
                "libvirtd:///system?socket=%2Ftmp&",
                "libvirtd:///system?socket=%2Ftmp&",
            ),
        ] {
            assert_eq!(AdminUri::parse(given).unwrap().format(), printed, "{given}");
        }
        for bad in ["libvirtd:///sys tem", "libvirtd://h:abc/system", "a:%zz"] {
            assert_eq!(
                AdminUri::parse(bad).unwrap_err().to_string(),
                format!("internal error: Unable to parse URI {bad}")
            );
        }
    }

    #[test]
    fn params_split_as_vir_uri_parse_params_does() {
        let u = AdminUri::parse("libvirtd:///system?=y&socket=%2Fs;x&flag&&").unwrap();
        assert_eq!(
            u.params,
            [
                ("socket".to_string(), "/s;x".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
        let u = AdminUri::parse("libvirtd:///system?socket=/s;x").unwrap();
        assert_eq!(
            u.params,
            [
                ("socket".to_string(), "/s".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }

    fn sock(uri: &str) -> std::result::Result<String, String> {
        let u = AdminUri::parse(uri).map_err(|e| e.to_string())?;
        socket_path(&u, Path::new("/home/u/.cache/libvirt"))
            .map(|p| p.display().to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sockets_as_libvirt_admin_picks_them() {
        assert_eq!(
            sock("libvirtd:///system").unwrap(),
            "/run/libvirt/libvirt-admin-sock"
        );
        assert_eq!(
            sock("virtqemud:///system").unwrap(),
            "/run/libvirt/virtqemud-admin-sock"
        );
        assert_eq!(
            sock("libvirtd:///session").unwrap(),
            "/home/u/.cache/libvirt/libvirt-admin-sock"
        );
        assert_eq!(
            sock("virtproxyd:///session").unwrap(),
            "/home/u/.cache/libvirt/virtproxyd-admin-sock"
        );
        // socket= wins over everything, even a missing scheme.
        assert_eq!(sock("bad?socket=/x/s").unwrap(), "/x/s");
        assert_eq!(sock("qemu:///nope?socket=/x/s").unwrap(), "/x/s");
        let unsupported = |m: &str| Err(format!("unsupported configuration: {m}"));
        assert_eq!(sock("bad"), unsupported("No URI scheme specified"));
        assert_eq!(sock(""), unsupported("No URI scheme specified"));
        assert_eq!(
            sock("qemu:///system"),
            unsupported("Unsupported URI scheme 'qemu'")
        );
        assert_eq!(
            sock("libvirtd:///foo"),
            unsupported("Invalid URI path '/foo', try '/system'")
        );
        assert_eq!(
            sock("libvirtd://"),
            unsupported("Invalid URI path '', try '/system'")
        );
        assert_eq!(
            sock("libvirtd:///system?socket=/s&foo=bar"),
            unsupported("Unknown URI parameter 'foo'")
        );
    }

    #[test]
    fn typed_params_round_trip() {
        let params = vec![
            TypedParam::new("a", TypedValue::UInt(5)),
            TypedParam::new("b", TypedValue::Boolean(true)),
            TypedParam::new("c", TypedValue::String("x".into())),
            TypedParam::new("d", TypedValue::LLong(-3)),
        ];
        let wire = params_to_wire(&params, 32).unwrap();
        assert_eq!(wire[1].value, AdminTypedParamValue::Boolean(1));
        assert_eq!(params_from_wire(wire, 32).unwrap(), params);
        assert_eq!(
            params_to_wire(&params, 2).unwrap_err().to_string(),
            "too many parameters '4' for limit '2'"
        );
    }

    #[test]
    fn transports_by_virt_admin_s_names() {
        assert_eq!(ClientTransport::from_wire(0).name(), "unix");
        assert_eq!(ClientTransport::from_wire(1).name(), "tcp");
        assert_eq!(ClientTransport::from_wire(2).name(), "tls");
        assert_eq!(ClientTransport::from_wire(9).name(), "unknown");
        assert_eq!(ClientTransport::from_wire(9).to_wire(), 9);
    }

    /// The calls against a scripted daemon on a socketpair: what goes out, what comes back.
    #[test]
    fn calls_against_a_fake_daemon() {
        use crate::generated::admin::{
            AdminConnectGetLoggingFiltersRet, AdminConnectListServersRet,
            AdminServerGetThreadpoolParametersRet, AdminServerLookupClientRet,
            ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS, ADMIN_PROC_CONNECT_LIST_SERVERS,
            ADMIN_PROC_CONNECT_OPEN, ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS,
            ADMIN_PROC_SERVER_LOOKUP_CLIENT, ADMIN_PROGRAM,
        };
        use crate::packet::{self, Header, MessageStatus, MessageType};
        use std::io::Write;
        use std::os::unix::net::UnixStream;

        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let daemon = std::thread::spawn(move || {
            let reply = |s: &mut UnixStream, payload: Vec<u8>, call: &Header| {
                let h = Header {
                    r#type: MessageType::Reply,
                    status: MessageStatus::Ok,
                    ..call.clone()
                };
                s.write_all(&packet::encode_raw(&h, &payload).unwrap())
                    .unwrap();
            };
            let mut procs = Vec::new();
            while let Ok(p) = packet::read_packet(&mut theirs) {
                assert_eq!(p.header.prog, ADMIN_PROGRAM);
                procs.push(p.header.proc);
                let body = match p.header.proc {
                    ADMIN_PROC_CONNECT_OPEN => {
                        let args: AdminConnectOpenArgs = p.decode_payload().unwrap();
                        assert_eq!(args.flags, 0);
                        Vec::new()
                    }
                    ADMIN_PROC_CONNECT_LIST_SERVERS => {
                        crate::xdr::to_bytes(&AdminConnectListServersRet {
                            servers: vec![server("libvirtd"), server("admin")],
                            ret: 2,
                        })
                        .unwrap()
                    }
                    ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS => {
                        let args: AdminServerGetThreadpoolParametersArgs =
                            p.decode_payload().unwrap();
                        assert_eq!(args.srv.name, "libvirtd");
                        crate::xdr::to_bytes(&AdminServerGetThreadpoolParametersRet {
                            params: vec![AdminTypedParam {
                                field: threadpool::WORKERS_MIN.into(),
                                value: AdminTypedParamValue::Uint(5),
                            }],
                        })
                        .unwrap()
                    }
                    ADMIN_PROC_SERVER_LOOKUP_CLIENT => {
                        let args: AdminServerLookupClientArgs = p.decode_payload().unwrap();
                        crate::xdr::to_bytes(&AdminServerLookupClientRet {
                            clnt: AdminNonnullClient {
                                srv: args.srv,
                                id: args.id,
                                timestamp: 1_700_000_000,
                                transport: 2,
                            },
                        })
                        .unwrap()
                    }
                    ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS => {
                        crate::xdr::to_bytes(&AdminConnectGetLoggingFiltersRet {
                            filters: None,
                            nfilters: 0,
                        })
                        .unwrap()
                    }
                    _ => Vec::new(),
                };
                reply(&mut theirs, body, &p.header);
            }
            procs
        });
        let uri = AdminUri::parse("libvirtd:///system?socket=/x").unwrap();
        let mut conn =
            AdminConnection::open_on(Box::new(UnixTransport::from_stream(ours)), uri, "/x".into())
                .unwrap();
        assert_eq!(conn.uri(), "libvirtd:///system?socket=/x");
        assert!(conn.is_alive());
        assert_eq!(conn.list_servers().unwrap(), ["libvirtd", "admin"]);
        assert_eq!(
            conn.threadpool_parameters("libvirtd").unwrap(),
            [TypedParam::new("minWorkers", TypedValue::UInt(5))]
        );
        let c = conn.lookup_client("libvirtd", 7).unwrap();
        assert_eq!(
            c,
            AdminClient {
                server: "libvirtd".into(),
                id: 7,
                timestamp: 1_700_000_000,
                transport: ClientTransport::Tls
            }
        );
        assert_eq!(conn.logging_filters().unwrap(), None);
        conn.close().unwrap();
        use crate::generated::admin::ADMIN_PROC_CONNECT_CLOSE;
        assert_eq!(
            daemon.join().unwrap(),
            [
                ADMIN_PROC_CONNECT_OPEN,
                ADMIN_PROC_CONNECT_LIST_SERVERS,
                ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS,
                ADMIN_PROC_SERVER_LOOKUP_CLIENT,
                ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS,
                ADMIN_PROC_CONNECT_CLOSE,
            ]
        );
    }
}
