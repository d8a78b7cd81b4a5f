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

mod uri;

pub use uri::{socket_path, user_runtime_dir, AdminUri, SYSTEM_SOCKET_DIR};

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
use virtsh_api::{ErrorKind, TypedParam, TypedValue};

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
