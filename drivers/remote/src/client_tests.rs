//! The client against a scripted fake daemon on the other end of a socketpair.

use super::*;
use crate::generated::remote::{
    procs, RemoteConnectGetHostnameRet, RemoteDomainEventLifecycleMsg, RemoteNonnullDomain,
    RemoteStorageVolDownloadArgs, REMOTE_PROC_CONNECT_GET_HOSTNAME,
    REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, REMOTE_PROGRAM,
};
use crate::generated::virnet::VirNetMessageError;
use crate::stream::StreamData;
use crate::transport::UnixTransport;
use std::os::unix::net::UnixStream;
use std::thread;

struct Fake {
    s: UnixStream,
}

impl Fake {
    fn recv(&mut self) -> Packet {
        packet::read_packet(&mut self.s).unwrap()
    }

    fn send<T: Xdr>(&mut self, h: &Header, payload: &T) {
        self.s
            .write_all(&packet::encode(h, payload).unwrap())
            .unwrap();
    }

    fn reply<T: Xdr>(&mut self, call: &Header, payload: &T) {
        let h = Header {
            r#type: MessageType::Reply,
            status: MessageStatus::Ok,
            ..call.clone()
        };
        self.send(&h, payload);
    }

    fn reply_error(&mut self, call: &Header, code: i32, message: &str) {
        let h = Header {
            r#type: MessageType::Reply,
            status: MessageStatus::Error,
            ..call.clone()
        };
        let err = VirNetMessageError {
            code,
            domain: 12,
            message: Some(message.into()),
            level: 2,
            dom: None,
            str1: Some("x".into()),
            str2: None,
            str3: None,
            int1: -1,
            int2: -1,
            net: None,
        };
        self.send(&h, &err);
    }

    fn keepalive(&mut self, proc_: i32) {
        self.s.write_all(&keepalive_packet(proc_).unwrap()).unwrap();
    }

    fn event(&mut self, serial: u32) {
        let h = Header {
            prog: REMOTE_PROGRAM,
            vers: 1,
            proc: REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE,
            r#type: MessageType::Message,
            serial,
            status: MessageStatus::Ok,
        };
        let msg = RemoteDomainEventLifecycleMsg {
            dom: RemoteNonnullDomain {
                name: "test".into(),
                uuid: [1; 16],
                id: 1,
            },
            event: 2,
            detail: 0,
        };
        self.send(&h, &msg);
    }
}

fn pair(config: ClientConfig) -> (Client, Fake) {
    let (a, b) = UnixStream::pair().unwrap();
    let client = Client::new(Box::new(UnixTransport::from_stream(a)), config).unwrap();
    (client, Fake { s: b })
}

fn hostname(client: &mut Client) -> Result<RemoteConnectGetHostnameRet, RemoteError> {
    client.call(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_HOSTNAME, &())
}

fn quick() -> ClientConfig {
    ClientConfig {
        call_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

#[test]
fn a_call_gets_its_reply() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        for expected_serial in 0..2 {
            let call = fake.recv();
            assert_eq!(call.header.r#type, MessageType::Call);
            assert_eq!(call.header.serial, expected_serial);
            assert_eq!(call.header.proc, REMOTE_PROC_CONNECT_GET_HOSTNAME);
            let ret = RemoteConnectGetHostnameRet {
                hostname: "h".into(),
            };
            fake.reply(&call.header, &ret);
        }
        fake
    });
    assert_eq!(hostname(&mut client).unwrap().hostname, "h");
    let typed = client.call_proc::<procs::ConnectGetHostname>(&()).unwrap();
    assert_eq!(typed.hostname, "h");
    daemon.join().unwrap();
}

#[test]
fn an_error_reply_keeps_the_daemons_message() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        fake.reply_error(
            &call.header,
            42,
            "Domain not found: no domain with matching name 'x'",
        );
        fake
    });
    let e = hostname(&mut client).unwrap_err();
    let api: virtsh_api::Error = e.into();
    assert_eq!(api.kind, virtsh_api::ErrorKind::NoDomain);
    assert_eq!(
        api.message,
        "Domain not found: no domain with matching name 'x'"
    );
    // The connection is still usable after an error reply (while the daemon keeps its end).
    let _fake = daemon.join().unwrap();
    assert!(!client.is_closed());
}

#[test]
fn pings_are_answered_while_idle() {
    let (client, mut fake) = pair(quick());
    fake.keepalive(KEEPALIVE_PROC_PING);
    fake.s
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let pong = fake.recv();
    assert_eq!(pong.header.prog, KEEPALIVE_PROGRAM);
    assert_eq!(pong.header.proc, KEEPALIVE_PROC_PONG);
    assert_eq!(pong.header.r#type, MessageType::Message);
    assert!(pong.payload.is_empty());
    drop(client);
}

#[test]
fn events_between_replies_are_queued() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        fake.event(1);
        fake.keepalive(KEEPALIVE_PROC_PING);
        fake.reply(
            &call.header,
            &RemoteConnectGetHostnameRet {
                hostname: "h".into(),
            },
        );
        fake.event(1);
        fake
    });
    hostname(&mut client).unwrap();
    let mut fake = daemon.join().unwrap();
    let first = client.wait_event(Duration::from_secs(2)).unwrap().unwrap();
    let second = client.wait_event(Duration::from_secs(2)).unwrap().unwrap();
    assert_eq!(first.name(), Some("REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE"));
    let msg: RemoteDomainEventLifecycleMsg = second.decode().unwrap();
    assert_eq!((msg.dom.name.as_str(), msg.event), ("test", 2));
    assert!(client.take_events().is_empty());
    assert_eq!(fake.recv().header.proc, KEEPALIVE_PROC_PONG);
}

#[test]
fn the_event_queue_is_bounded() {
    let config = ClientConfig {
        max_queued_events: 2,
        ..quick()
    };
    let (client, mut fake) = pair(config);
    for _ in 0..3 {
        fake.event(1);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while client.dropped_events() == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(client.dropped_events(), 1);
    assert_eq!(client.take_events().len(), 2);
}

#[test]
fn a_late_reply_is_not_taken_for_the_next_one() {
    let config = ClientConfig {
        call_timeout: Duration::from_millis(300),
        ..quick()
    };
    let (mut client, mut fake) = pair(config);
    let e = hostname(&mut client).unwrap_err();
    assert!(matches!(e, RemoteError::Timeout { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "Timed out during operation: no reply to REMOTE_PROC_CONNECT_GET_HOSTNAME \
         from the daemon in 0.3 s"
    );
    let daemon = thread::spawn(move || {
        let first = fake.recv();
        let second = fake.recv();
        let late = RemoteConnectGetHostnameRet {
            hostname: "late".into(),
        };
        fake.reply(&first.header, &late);
        let fresh = RemoteConnectGetHostnameRet {
            hostname: "fresh".into(),
        };
        fake.reply(&second.header, &fresh);
        fake
    });
    client.set_call_timeout(Duration::from_secs(5));
    assert_eq!(hostname(&mut client).unwrap().hostname, "fresh");
    daemon.join().unwrap();
}

#[test]
fn a_daemon_that_closes_mid_call_fails_the_call() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        fake.recv();
        drop(fake);
    });
    let start = Instant::now();
    let e = hostname(&mut client).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(
        e.to_string(),
        "End of file while reading data: Input/output error"
    );
    daemon.join().unwrap();
    assert!(client.is_closed());
    let again = hostname(&mut client).unwrap_err();
    assert_eq!(again.to_string(), "internal error: client socket is closed");
}

#[test]
fn an_oversized_length_word_closes_the_connection() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        fake.recv();
        fake.s.write_all(&0x7fff_ffffu32.to_be_bytes()).unwrap();
        // The client may already have hung up on the length word: a failed write is fine.
        let _ = fake.s.write_all(&[0; 64]);
        fake
    });
    let e = hostname(&mut client).unwrap_err();
    assert_eq!(
        e.to_string(),
        "packet 2147483643 bytes received from server too large, want 33554432"
    );
    assert_eq!(e.kind(), virtsh_api::ErrorKind::Rpc);
    assert!(client.is_closed());
    daemon.join().unwrap();
}

#[test]
fn a_silent_daemon_is_declared_dead() {
    let config = ClientConfig {
        call_timeout: Duration::from_secs(30),
        keepalive: Some(Keepalive {
            interval: Duration::from_millis(150),
            count: 2,
        }),
        ..ClientConfig::default()
    };
    let (mut client, mut fake) = pair(config);
    let daemon = thread::spawn(move || {
        // Reads everything and answers nothing, like a stopped process.
        let mut pings = 0;
        while let Ok(p) = packet::read_packet(&mut fake.s) {
            if p.header.prog == KEEPALIVE_PROGRAM {
                pings += 1;
            }
        }
        pings
    });
    let start = Instant::now();
    let e = hostname(&mut client).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        e.to_string(),
        "internal error: connection closed due to keepalive timeout"
    );
    assert_eq!(daemon.join().unwrap(), 2);
}

#[test]
fn a_slow_daemon_that_answers_pings_is_waited_for() {
    let config = ClientConfig {
        call_timeout: Duration::from_secs(30),
        keepalive: Some(Keepalive {
            interval: Duration::from_millis(100),
            count: 2,
        }),
        ..ClientConfig::default()
    };
    let (mut client, mut fake) = pair(config);
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        fake.s
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let until = Instant::now() + Duration::from_millis(800);
        while Instant::now() < until {
            if let Ok(p) = packet::read_packet(&mut fake.s) {
                if p.header.proc == KEEPALIVE_PROC_PING {
                    fake.keepalive(KEEPALIVE_PROC_PONG);
                }
            }
        }
        fake.reply(
            &call.header,
            &RemoteConnectGetHostnameRet {
                hostname: "slow".into(),
            },
        );
        fake
    });
    assert_eq!(hostname(&mut client).unwrap().hostname, "slow");
    daemon.join().unwrap();
}

#[test]
fn an_rpc_call_from_the_daemon_is_a_protocol_error() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        fake.send(&call.header, &());
        fake
    });
    let e = hostname(&mut client).unwrap_err();
    assert!(e.to_string().starts_with("got unexpected RPC call"), "{e}");
    daemon.join().unwrap();
}

#[test]
fn replies_with_descriptors_are_refused_and_skipped() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        let mut bytes = packet::encode(
            &Header {
                r#type: MessageType::ReplyWithFds,
                ..call.header.clone()
            },
            &(),
        )
        .unwrap();
        bytes[28..32].copy_from_slice(&2u32.to_be_bytes());
        // The two bytes that would carry the descriptors.
        bytes.extend_from_slice(&[0, 0]);
        fake.s.write_all(&bytes).unwrap();
        let next = fake.recv();
        let ret = RemoteConnectGetHostnameRet {
            hostname: "h".into(),
        };
        fake.reply(&next.header, &ret);
        fake
    });
    let e = hostname(&mut client).unwrap_err();
    assert!(matches!(e, RemoteError::Unsupported(_)), "{e}");
    // The stream is still in step.
    assert_eq!(hostname(&mut client).unwrap().hostname, "h");
    daemon.join().unwrap();
}

#[test]
fn a_read_stream_delivers_data_then_eof() {
    let (mut client, mut fake) = pair(quick());
    let daemon = thread::spawn(move || {
        let call = fake.recv();
        assert_eq!(call.header.proc, REMOTE_PROC_STORAGE_VOL_DOWNLOAD);
        fake.reply(&call.header, &());
        let data = |status| Header {
            r#type: MessageType::Stream,
            status,
            ..call.header.clone()
        };
        let chunk = packet::encode_raw(&data(MessageStatus::Continue), b"hello").unwrap();
        fake.s.write_all(&chunk).unwrap();
        let eof = packet::encode_raw(&data(MessageStatus::Continue), b"").unwrap();
        fake.s.write_all(&eof).unwrap();
        let finish = fake.recv();
        assert_eq!(finish.header.r#type, MessageType::Stream);
        assert_eq!(finish.header.status, MessageStatus::Ok);
        assert_eq!(finish.header.serial, call.header.serial);
        let ok = packet::encode_raw(&data(MessageStatus::Ok), b"").unwrap();
        fake.s.write_all(&ok).unwrap();
        fake
    });
    let args = RemoteStorageVolDownloadArgs::default();
    let ((), mut stream) = client
        .call_with_stream(REMOTE_PROGRAM, REMOTE_PROC_STORAGE_VOL_DOWNLOAD, &args)
        .unwrap();
    assert_eq!(stream.recv().unwrap(), StreamData::Data(b"hello".to_vec()));
    assert_eq!(stream.recv().unwrap(), StreamData::Eof);
    stream.finish().unwrap();
    daemon.join().unwrap();
}
