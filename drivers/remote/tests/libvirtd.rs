//! The protocol core against a real libvirtd (libvirt 9.0 from Debian) serving its test driver.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use virtsh_api::{ErrorKind, Uri};
use virtsh_remote::generated::keepalive::{KEEPALIVE_PROC_PING, KEEPALIVE_PROGRAM};
use virtsh_remote::generated::remote::{
    procs, RemoteConnectListAllDomainsArgs, RemoteConnectSupportsFeatureArgs,
    RemoteDomainLookupByNameArgs, REMOTE_PROC_AUTH_LIST, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
    REMOTE_PROGRAM,
};
use virtsh_remote::packet::{self, Header, MessageStatus, MessageType};
use virtsh_remote::{ClientConfig, Keepalive, OpenOptions, RemoteError, Session};

/// The daemon pings an idle client after 1 s and drops it after 2 unanswered pings (about
/// 3 s), so "survives idling" is tested in seconds, not minutes.
const FAST_KEEPALIVE: &str = "keepalive_interval = 1\nkeepalive_count = 2\n";

fn open(d: &common::PrivateLibvirtd, client: ClientConfig) -> Session {
    let uri = Uri::parse(&d.uri()).unwrap();
    let opts = OpenOptions {
        readonly: false,
        client,
    };
    virtsh_remote::open(&uri, &opts).unwrap()
}

fn hostname(s: &mut Session) -> Result<String, RemoteError> {
    s.client
        .call_proc::<procs::ConnectGetHostname>(&())
        .map(|r| r.hostname)
}

fn our_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0);
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn lookup(s: &mut Session, name: &str) -> Result<(), virtsh_api::Error> {
    let args = RemoteDomainLookupByNameArgs { name: name.into() };
    s.client
        .call_proc::<procs::DomainLookupByName>(&args)
        .map(|_| ())
        .map_err(Into::into)
}

/// A raw connection that does the first steps by hand.
fn raw_call(s: &mut UnixStream, serial: u32, proc_: i32, args: &impl virtsh_remote::Xdr) {
    let h = Header {
        prog: REMOTE_PROGRAM,
        vers: 1,
        proc: proc_,
        r#type: MessageType::Call,
        serial,
        status: MessageStatus::Ok,
    };
    s.write_all(&packet::encode(&h, args).unwrap()).unwrap();
}

#[test]
fn the_protocol_against_libvirtd() {
    let Some(d) = common::start("the_protocol_against_libvirtd", FAST_KEEPALIVE) else {
        return;
    };
    let mut s = open(&d, ClientConfig::default());
    assert!(s.keepalive, "the daemon should accept keepalive");
    assert_eq!(s.target.daemon_uri, "test:///default");

    assert_eq!(hostname(&mut s).unwrap(), our_hostname());
    // The test driver reports hypervisor version 2 ("0.0.2" in `virsh version`).
    let ver = s.client.call_proc::<procs::ConnectGetVersion>(&()).unwrap();
    assert_eq!(ver.hv_ver, 2);
    let lib = s
        .client
        .call_proc::<procs::ConnectGetLibVersion>(&())
        .unwrap();
    assert!(lib.lib_ver >= 9_000_000, "{}", lib.lib_ver);
    let ty = s.client.call_proc::<procs::ConnectGetType>(&()).unwrap();
    assert_eq!(ty.r#type, "TEST");

    let all = s
        .client
        .call_proc::<procs::ConnectListAllDomains>(&RemoteConnectListAllDomainsArgs {
            need_results: 1,
            flags: 0,
        })
        .unwrap();
    assert_eq!(all.ret, 1);
    let names: Vec<&str> = all.domains.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["test"]);
    assert_eq!(all.domains[0].id, 1);

    let found = s
        .client
        .call_proc::<procs::DomainLookupByName>(&RemoteDomainLookupByNameArgs {
            name: "test".into(),
        })
        .unwrap();
    assert_eq!(found.dom, all.domains[0]);

    // libvirt 9.0's test driver raises VIR_ERR_NO_DOMAIN without a detail
    // (testDomainLookupByName), so the daemon's whole message is libvirt's bare prefix.
    let e = lookup(&mut s, "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoDomain);
    assert_eq!(e.message, "Domain not found");

    // The QEMU driver of the same daemon words it in full; libvirt's own client decodes the
    // same text (its RPC debug log shows "virNetClientProgramDispatchError : Domain not
    // found: no domain with matching name 'x'").
    let qemu = Uri::parse(&format!("qemu+unix:///system?socket={}", d.sock.display())).unwrap();
    let mut q = virtsh_remote::open(&qemu, &OpenOptions::default()).unwrap();
    assert_eq!(q.target.daemon_uri, "qemu:///system");
    let e = lookup(&mut q, "x").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoDomain);
    assert_eq!(
        e.message,
        "Domain not found: no domain with matching name 'x'"
    );
    q.close().unwrap();

    // Idle for longer than the daemon lets a silent client live: our reader answers its
    // pings, so the connection is still there.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(hostname(&mut s).unwrap(), our_hostname());

    s.close().unwrap();
}

#[test]
fn keepalive_and_length_words_matter_to_libvirtd() {
    let Some(d) = common::start(
        "keepalive_and_length_words_matter_to_libvirtd",
        FAST_KEEPALIVE,
    ) else {
        return;
    };
    // Control for the idle test above: a client that asks for keepalive and never answers
    // is pinged, then dropped.
    let mut raw = UnixStream::connect(&d.sock).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    raw_call(&mut raw, 0, REMOTE_PROC_AUTH_LIST, &());
    let args = RemoteConnectSupportsFeatureArgs { feature: 10 };
    raw_call(&mut raw, 1, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &args);
    let start = Instant::now();
    let mut pings = 0;
    let end = loop {
        match packet::read_packet(&mut raw) {
            Ok(p) if p.header.prog == KEEPALIVE_PROGRAM => {
                assert_eq!(p.header.proc, KEEPALIVE_PROC_PING);
                pings += 1;
            }
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(pings >= 1, "no pings before: {end}");
    assert!(matches!(end, RemoteError::Eof), "{end}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );

    // A length word over libvirt's 32 MiB limit: the daemon drops that connection...
    let mut s = open(&d, ClientConfig::default());
    let mut bad = UnixStream::connect(&d.sock).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bad.write_all(&(33_554_437u32).to_be_bytes()).unwrap();
    let _ = bad.write_all(&[0; 64]);
    let mut buf = [0u8; 16];
    let n = bad.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "libvirtd answered an oversized packet");
    // ... and the others go on.
    assert_eq!(hostname(&mut s).unwrap(), our_hostname());
    s.close().unwrap();
}

#[test]
fn a_dead_or_stuck_daemon_gives_a_clear_error() {
    let Some(d) = common::start("a_dead_or_stuck_daemon_gives_a_clear_error", "") else {
        return;
    };
    // Stopped: it answers neither the call nor our pings.
    let mut s = open(
        &d,
        ClientConfig {
            call_timeout: Duration::from_secs(60),
            keepalive: Some(Keepalive {
                interval: Duration::from_millis(500),
                count: 2,
            }),
            ..ClientConfig::default()
        },
    );
    hostname(&mut s).unwrap();
    d.signal(libc::SIGSTOP);
    let start = Instant::now();
    let e = hostname(&mut s).unwrap_err();
    d.signal(libc::SIGCONT);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        e.to_string(),
        "internal error: connection closed due to keepalive timeout"
    );
    assert_eq!(
        hostname(&mut s).unwrap_err().to_string(),
        "internal error: client socket is closed"
    );

    // Killed mid-session: the next call fails at once, not at its timeout.
    let mut s = open(
        &d,
        ClientConfig {
            call_timeout: Duration::from_secs(60),
            ..ClientConfig::default()
        },
    );
    hostname(&mut s).unwrap();
    d.signal(libc::SIGKILL);
    let start = Instant::now();
    let e = hostname(&mut s).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let text = e.to_string();
    assert!(
        text == "End of file while reading data: Input/output error"
            || text.starts_with("Cannot recv data: ")
            || text.starts_with("Cannot write data: "),
        "{text}"
    );
    let api: virtsh_api::Error = e.into();
    assert_eq!(api.kind, ErrorKind::SystemError);
}
