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
