use super::*;
use crate::client::ClientConfig;
use crate::generated::remote::{
    RemoteAuthListRet, RemoteAuthType, RemoteConnectSupportsFeatureRet, REMOTE_PROC_CONNECT_OPEN,
    REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
};
use crate::generated::virnet::VirNetMessageError;
use crate::packet::{self, Header, MessageStatus, MessageType};
use crate::transport::UnixTransport;
use std::io::Write as _;
use std::os::unix::net::UnixStream;
use std::thread;

fn env(root: bool) -> SocketEnv {
    SocketEnv {
        root,
        system_dir: PathBuf::from("/var/run/libvirt"),
        user_dir: PathBuf::from("/run/user/1000/libvirt"),
        default_mode: SocketMode::Legacy,
    }
}

fn plan_of(
    uri: &str,
    readonly: bool,
    root: bool,
    existing: &[&str],
) -> Result<Target, RemoteError> {
    let uri = Uri::parse(uri).unwrap();
    plan(&uri, readonly, &env(root), &|p: &Path| {
        existing.iter().any(|e| Path::new(e) == p)
    })
}

fn socket_of(uri: &str, readonly: bool, root: bool, existing: &[&str]) -> String {
    let t = plan_of(uri, readonly, root, existing).unwrap();
    t.socket.unwrap().display().to_string()
}

#[test]
fn the_transport_is_stripped_for_the_daemon() {
    let t = plan_of(
        "test+unix:///default?socket=/tmp/s/libvirt-sock",
        false,
        true,
        &[],
    )
    .unwrap();
    assert_eq!(t.transport, TransportKind::Unix);
    assert_eq!(t.socket, Some(PathBuf::from("/tmp/s/libvirt-sock")));
    assert_eq!(t.daemon_uri, "test:///default");
    assert_eq!(t.flags, 0);
    let t = plan_of(
        "qemu+ssh://root@h:22/system?keyfile=/k&foo=a b/c",
        false,
        true,
        &[],
    )
    .unwrap();
    assert_eq!(t.daemon_uri, "qemu:///system?foo=a%20b%2Fc");
    assert_eq!(t.transport, TransportKind::Ssh);
    let t = plan_of("remote+unix:///", false, true, &[]).unwrap();
    assert_eq!(t.daemon_uri, "");
    let t = plan_of("qemu+unix:///system?name=qemu:///embed", false, true, &[]).unwrap();
    assert_eq!(t.daemon_uri, "qemu:///embed");
    let t = plan_of("qemu://host/system", false, true, &[]).unwrap();
    assert_eq!((t.transport, t.socket), (TransportKind::Tls, None));
}

#[test]
fn system_sockets_follow_auto_mode() {
    let direct = "/var/run/libvirt/virtqemud-sock";
    let legacy = "/var/run/libvirt/libvirt-sock";
    assert_eq!(
        socket_of("qemu+unix:///system", false, true, &[direct, legacy]),
        direct
    );
    assert_eq!(
        socket_of("qemu+unix:///system", false, true, &[legacy]),
        legacy
    );
    // Neither exists: Debian's build default, legacy, as virsh's error message shows.
    assert_eq!(socket_of("qemu+unix:///system", false, true, &[]), legacy);
    assert_eq!(
        socket_of("qemu+unix:///system?mode=direct", false, true, &[]),
        direct
    );
    assert_eq!(
        socket_of("qemu+unix:///system?mode=legacy", false, true, &[direct]),
        legacy
    );
    assert_eq!(
        socket_of(
            "qemu+unix:///system",
            true,
            true,
            &["/var/run/libvirt/virtqemud-sock-ro"]
        ),
        "/var/run/libvirt/virtqemud-sock-ro"
    );
    assert_eq!(
        socket_of(
            "network+unix:///system",
            false,
            true,
            &["/var/run/libvirt/virtnetworkd-sock"]
        ),
        "/var/run/libvirt/virtnetworkd-sock"
    );
    // Over ssh, auto means legacy: nothing on this host says what the far one runs.
    assert_eq!(
        socket_of("qemu+ssh://h/system", false, true, &[direct]),
        legacy
    );
    assert_eq!(
        plan_of("qemu+unix:///system", true, true, &[])
            .unwrap()
            .flags,
        OPEN_RO
    );
}

#[test]
fn session_sockets_are_per_user() {
    let t = plan_of("qemu+unix:///session", false, false, &[]).unwrap();
    assert_eq!(t.flags, OPEN_USER);
    assert_eq!(
        t.socket.unwrap(),
        Path::new("/run/user/1000/libvirt/libvirt-sock")
    );
    assert_eq!(
        socket_of(
            "qemu+unix:///session",
            false,
            false,
            &["/run/user/1000/libvirt/virtqemud-sock"]
        ),
        "/run/user/1000/libvirt/virtqemud-sock"
    );
    // test+transport is a session URI for users, and never for root.
    assert_eq!(
        plan_of("test+unix:///default", false, false, &[])
            .unwrap()
            .flags,
        OPEN_USER
    );
    assert_eq!(
        plan_of("test+unix:///default", false, true, &[])
            .unwrap()
            .flags,
        0
    );
    assert_eq!(
        plan_of("qemu+unix:///session", false, true, &[])
            .unwrap()
            .flags,
        0
    );
}

#[test]
fn bad_uris_are_refused_as_libvirt_does() {
    let msg = |uri: &str| plan_of(uri, false, true, &[]).unwrap_err().to_string();
    assert_eq!(
        msg("qemu+carrier-pigeon:///system"),
        "invalid argument: remote_open: transport in URL not recognised \
         (should be tls|unix|ssh|ext|tcp|libssh2|libssh)"
    );
    assert_eq!(
        msg("qemu+unix://host/system"),
        "invalid argument: using unix socket and remote server 'host' is not supported."
    );
    assert_eq!(
        msg("qemu+unix:///system?mode=sideways"),
        "invalid argument: Unknown remote mode 'sideways'"
    );
    assert_eq!(
        msg("qemu+ssh://h/system?mode=direct"),
        "Operation not supported: Cannot use direct socket mode for ssh transport"
    );
    assert_eq!(
        msg("qemu+ext:///system"),
        "invalid argument: remote_open: for 'ext' transport, command is required"
    );
}

/// A fake daemon answering the handshake: `auth` is AUTH_LIST's answer (None: the
/// NO_SUPPORT error of a very old daemon). Returns the procedures it saw and the opened URI.
fn fake_handshake(auth: Option<Vec<RemoteAuthType>>) -> (Client, thread::JoinHandle<Vec<i32>>) {
    let (a, mut b) = UnixStream::pair().unwrap();
    let client = Client::new(
        Box::new(UnixTransport::from_stream(a)),
        ClientConfig::default(),
    )
    .unwrap();
    let daemon = thread::spawn(move || {
        let mut seen = Vec::new();
        while let Ok(p) = packet::read_packet(&mut b) {
            let call = p.header.clone();
            seen.push(call.proc);
            let reply = |status| Header {
                r#type: MessageType::Reply,
                status,
                ..call.clone()
            };
            let bytes = match (call.proc, &auth) {
                (REMOTE_PROC_AUTH_LIST, Some(types)) => packet::encode(
                    &reply(MessageStatus::Ok),
                    &RemoteAuthListRet {
                        types: types.clone(),
                    },
                ),
                (REMOTE_PROC_AUTH_LIST, None) => packet::encode(
                    &reply(MessageStatus::Error),
                    &VirNetMessageError {
                        code: 39,
                        domain: 7,
                        message: Some("unknown procedure: 66".into()),
                        level: 2,
                        ..Default::default()
                    },
                ),
                (REMOTE_PROC_AUTH_POLKIT, _) => packet::encode(
                    &reply(MessageStatus::Ok),
                    &RemoteAuthPolkitRet { complete: 1 },
                ),
                (REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, _) => {
                    let args: RemoteConnectSupportsFeatureArgs = p.decode_payload().unwrap();
                    assert_eq!(args.feature, FEATURE_PROGRAM_KEEPALIVE);
                    packet::encode(
                        &reply(MessageStatus::Ok),
                        &RemoteConnectSupportsFeatureRet { supported: 1 },
                    )
                }
                (REMOTE_PROC_CONNECT_OPEN, _) => {
                    let args: RemoteConnectOpenArgs = p.decode_payload().unwrap();
                    assert_eq!(args.name.as_deref(), Some("test:///default"));
                    packet::encode(&reply(MessageStatus::Ok), &())
                }
                _ => packet::encode(&reply(MessageStatus::Ok), &()),
            };
            if b.write_all(&bytes.unwrap()).is_err() {
                break;
            }
        }
        seen
    });
    (client, daemon)
}

fn target() -> Target {
    plan_of("test+unix:///default?socket=/x", false, true, &[]).unwrap()
}

#[test]
fn polkit_is_authenticated_then_the_uri_opened() {
    let (client, daemon) = fake_handshake(Some(vec![RemoteAuthType::Polkit]));
    let session = handshake(client, target()).unwrap();
    assert!(session.keepalive);
    session.close().unwrap();
    assert_eq!(
        daemon.join().unwrap(),
        [
            REMOTE_PROC_AUTH_LIST,
            REMOTE_PROC_AUTH_POLKIT,
            REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
            REMOTE_PROC_CONNECT_OPEN,
            crate::generated::remote::REMOTE_PROC_CONNECT_CLOSE,
        ]
    );
}

#[test]
fn no_auth_and_old_daemons_need_nothing() {
    for auth in [Some(vec![RemoteAuthType::None]), Some(vec![]), None] {
        let (client, daemon) = fake_handshake(auth);
        let session = handshake(client, target()).unwrap();
        drop(session);
        assert!(!daemon.join().unwrap().contains(&REMOTE_PROC_AUTH_POLKIT));
    }
}

#[test]
fn sasl_is_not_supported_yet() {
    let (client, daemon) = fake_handshake(Some(vec![RemoteAuthType::Sasl]));
    let e = handshake(client, target()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "authentication method sasl is not supported by virtsh yet"
    );
    drop(daemon);
}

#[test]
fn an_auth_parameter_must_match_what_is_offered() {
    let mut t = target();
    t.auth = Some("polkit".into());
    let (client, _daemon) = fake_handshake(Some(vec![RemoteAuthType::Sasl]));
    let e = handshake(client, t.clone()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "authentication failed: requested authentication type polkit rejected"
    );
    t.auth = Some("kerberos".into());
    let (client, _daemon) = fake_handshake(Some(vec![RemoteAuthType::Sasl]));
    let e = handshake(client, t).err().unwrap();
    assert_eq!(
        e.to_string(),
        "authentication failed: unknown authentication type kerberos"
    );
}

#[test]
fn a_missing_socket_reads_like_virsh() {
    let uri = Uri::parse("test+unix:///default?socket=/nonexistent/virtsh-test-sock").unwrap();
    let e = open(&uri, &OpenOptions::default()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "Failed to connect socket to '/nonexistent/virtsh-test-sock': No such file or directory"
    );
}

fn ssh_of(uri: &str, root: bool) -> Result<SshOptions, RemoteError> {
    let t = plan_of(uri, false, root, &[])?;
    let u = Uri::parse(uri).unwrap();
    ssh_options(&u, &t, UriFlags::parse(&u)?)
}

#[test]
fn ssh_options_follow_do_remote_open() {
    let o = ssh_of(
        "qemu+ssh://fred@host:2222/system?keyfile=/k&no_tty=1&no_verify=1&command=/bin/myssh",
        true,
    )
    .unwrap();
    assert_eq!(
        (o.host.as_str(), o.port, o.user.as_deref()),
        ("host", Some(2222), Some("fred"))
    );
    assert_eq!(o.keyfile.as_deref(), Some("/k"));
    assert_eq!(o.binary.as_deref(), Some("/bin/myssh"));
    assert!(o.no_tty && o.no_verify && !o.readonly);
    assert_eq!(o.proxy, SshProxy::Auto);
    assert_eq!(o.socket, "/var/run/libvirt/libvirt-sock");
    assert_eq!(o.daemon_uri, "qemu:///system");
    // An explicit socket means nc; a session daemon means virt-ssh-helper.
    let o = ssh_of("qemu+ssh://host/system?socket=/s", true).unwrap();
    assert_eq!((o.proxy, o.socket.as_str()), (SshProxy::Netcat, "/s"));
    assert_eq!(o.port, None);
    assert_eq!(
        ssh_of("qemu+ssh://host/session", false).unwrap().proxy,
        SshProxy::Native
    );
    assert_eq!(
        ssh_of("qemu+ssh://host/system?proxy=native", true)
            .unwrap()
            .proxy,
        SshProxy::Native
    );
    // No host: libvirt's "localhost". Port 0 is no port.
    let o = ssh_of("qemu+ssh://:0/system", true).unwrap();
    assert_eq!((o.host.as_str(), o.port), ("localhost", None));
    assert_eq!(
        ssh_of("qemu+ssh://host/system?proxy=nc", true)
            .unwrap_err()
            .to_string(),
        "invalid argument: Unnkown proxy type 'nc'"
    );
}

#[test]
fn boolean_parameters_are_integers() {
    let flags =
        |q: &str| UriFlags::parse(&Uri::parse(&format!("qemu+ssh://h/system?{q}")).unwrap());
    assert_eq!(
        flags("no_verify=1&no_tty=0").unwrap(),
        UriFlags {
            no_verify: true,
            no_tty: false,
            no_sanity: false
        }
    );
    assert!(flags("no_sanity=-2").unwrap().no_sanity);
    assert!(flags("no_tty=%201").unwrap().no_tty);
    for bad in ["no_verify=yes", "no_tty=", "no_sanity=1x"] {
        let key = bad.split('=').next().unwrap();
        assert_eq!(
            flags(bad).unwrap_err().to_string(),
            format!("invalid argument: Failed to parse value of URI component {key}")
        );
    }
}

#[test]
fn tls_options_default_to_16514_and_the_pki_paths() {
    let u = Uri::parse("qemu+tls://host/system?pkipath=/p&no_verify=1").unwrap();
    let o = tls_options(
        &u,
        &env(true),
        UriFlags::parse(&u).unwrap(),
        &OpenOptions::default(),
    );
    assert_eq!((o.host.as_str(), o.port), ("host", 16514));
    assert_eq!(o.credentials.cacert, Path::new("/p/cacert.pem"));
    assert!(!o.verify);
    let u = Uri::parse("qemu://[::1]:1234/system").unwrap();
    let o = tls_options(&u, &env(true), UriFlags::default(), &OpenOptions::default());
    assert_eq!((o.host.as_str(), o.port), ("::1", 1234));
    assert_eq!(o.credentials.cacert, Path::new(tls::SYSTEM_CACERT));
    assert!(o.verify);
}

#[test]
fn transports_connect_or_explain() {
    let env = env(true);
    let opts = OpenOptions::default();
    let try_open = |uri: &str| {
        let u = Uri::parse(uri).unwrap();
        let t = plan(&u, false, &env, &|_: &Path| false).unwrap();
        connect_transport(&u, &t, &env, &opts)
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        try_open("qemu+libssh2://h/system"),
        "Operation not supported: the libssh2 transport is not supported by virtsh yet (the \
         ssh transport runs the ssh binary instead)"
    );
    assert_eq!(
        try_open("test+ext:///default?command=/nonexistent/tunnel"),
        "Cannot find '/nonexistent/tunnel' in path: No such file or directory"
    );
    assert_eq!(
        try_open("test+tls://127.0.0.1:1/default?pkipath=/nonexistent"),
        "Cannot read CA certificate '/nonexistent/cacert.pem': No such file or directory"
    );
    assert_eq!(
        try_open("test+tcp://127.0.0.1:1/default?no_tty=x"),
        "invalid argument: Failed to parse value of URI component no_tty"
    );
    assert_eq!(
        try_open("test+tcp://127.0.0.1:1/default"),
        "unable to connect to server at '127.0.0.1:1': Connection refused"
    );
}

#[test]
fn a_lost_reply_to_connect_close_is_a_close() {
    // The daemon answers everything but CONNECT_CLOSE, and hangs up instead, as the daemon
    // seen through libvirt 9.0's virt-ssh-helper does.
    let (a, mut b) = UnixStream::pair().unwrap();
    let client = Client::new(
        Box::new(UnixTransport::from_stream(a)),
        ClientConfig::default(),
    )
    .unwrap();
    let daemon = thread::spawn(move || {
        while let Ok(p) = packet::read_packet(&mut b) {
            if p.header.proc == crate::generated::remote::REMOTE_PROC_CONNECT_CLOSE {
                return;
            }
            let reply = Header {
                r#type: MessageType::Reply,
                ..p.header.clone()
            };
            let bytes = match p.header.proc {
                REMOTE_PROC_AUTH_LIST => {
                    packet::encode(&reply, &RemoteAuthListRet { types: vec![] })
                }
                REMOTE_PROC_CONNECT_SUPPORTS_FEATURE => {
                    packet::encode(&reply, &RemoteConnectSupportsFeatureRet { supported: 1 })
                }
                _ => packet::encode(&reply, &()),
            };
            b.write_all(&bytes.unwrap()).unwrap();
        }
    });
    let session = handshake(client, target()).unwrap();
    session.close().unwrap();
    daemon.join().unwrap();
}
