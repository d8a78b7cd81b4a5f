//! Randomized tests of the decoders: valid packets mutated byte by byte, cut short, given
//! huge length words, and plain noise. Decoding must return (Ok or a typed error), never
//! panic, and never take long. Deterministic seeds, so a failure reproduces; the cargo-fuzz
//! target in `fuzz/` explores the same decoders with coverage guidance.

use std::time::{Duration, Instant};
use virtsh_remote::generated::remote::{
    RemoteConnectListAllDomainsRet, RemoteDomainGetInfoRet, RemoteNodeGetInfoRet,
    RemoteNonnullDomain, RemoteTypedParam, RemoteTypedParamValue,
};
use virtsh_remote::generated::virnet::VirNetMessageError;
use virtsh_remote::packet::{self, Header, MessageStatus, MessageType, Packet};
use virtsh_remote::xdr::{from_bytes, to_bytes, Xdr};

/// xorshift64*: enough randomness for mutation, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn string(&mut self) -> String {
        let len = self.below(12);
        (0..len)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }
}

fn domain(rng: &mut Rng) -> RemoteNonnullDomain {
    let mut uuid = [0u8; 16];
    for b in &mut uuid {
        *b = rng.next() as u8;
    }
    RemoteNonnullDomain {
        name: rng.string(),
        uuid,
        id: rng.next() as i32,
    }
}

fn param(rng: &mut Rng) -> RemoteTypedParam {
    let value = match rng.below(7) {
        0 => RemoteTypedParamValue::Int(rng.next() as i32),
        1 => RemoteTypedParamValue::Uint(rng.next() as u32),
        2 => RemoteTypedParamValue::Llong(rng.next() as i64),
        3 => RemoteTypedParamValue::Ullong(rng.next()),
        4 => RemoteTypedParamValue::Double(rng.below(1000) as f64 / 8.0),
        5 => RemoteTypedParamValue::Boolean(rng.below(2) as i32),
        _ => RemoteTypedParamValue::String(rng.string()),
    };
    RemoteTypedParam {
        field: rng.string(),
        value,
    }
}

/// A valid packet with one of several payloads.
fn valid_packet(rng: &mut Rng) -> Vec<u8> {
    let types = [
        MessageType::Call,
        MessageType::Reply,
        MessageType::Message,
        MessageType::Stream,
        MessageType::ReplyWithFds,
    ];
    let header = Header {
        prog: 0x2000_8086,
        vers: 1,
        proc: rng.below(460) as i32,
        r#type: types[rng.below(types.len())],
        serial: rng.next() as u32,
        status: MessageStatus::Ok,
    };
    match rng.below(4) {
        0 => {
            let list = RemoteConnectListAllDomainsRet {
                domains: (0..rng.below(4)).map(|_| domain(rng)).collect(),
                ret: rng.below(4) as u32,
            };
            packet::encode(&header, &list)
        }
        1 => packet::encode(&header, &param(rng)),
        2 => {
            let err = VirNetMessageError {
                code: 42,
                message: Some(rng.string()),
                str1: Some(rng.string()),
                ..Default::default()
            };
            packet::encode(&header, &err)
        }
        _ => packet::encode(&header, &RemoteDomainGetInfoRet::default()),
    }
    .unwrap()
}

/// Every decoder that might be pointed at a packet's payload.
fn decode_all(data: &[u8]) {
    if let Ok(p) = Packet::decode(data) {
        let _ = p.server_error();
        let _ = p.stream_hole();
        let _ = p.decode_payload::<RemoteConnectListAllDomainsRet>();
        let _ = p.decode_payload::<RemoteTypedParam>();
        let _ = p.decode_payload::<RemoteDomainGetInfoRet>();
        let _ = p.decode_payload::<RemoteNodeGetInfoRet>();
    }
    let _ = packet::read_packet(&mut &data[..]);
    let _ = from_bytes::<Bytes>(data);
    let _ = from_bytes::<Option<RemoteNonnullDomain>>(data);
}

fn mutate(rng: &mut Rng, mut data: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            break;
        }
        let i = rng.below(data.len());
        match rng.below(5) {
            0 => data[i] ^= 1 << rng.below(8),
            1 => data[i] = rng.next() as u8,
            2 => data.truncate(i),
            // A length word or count that claims far more than there is.
            3 if i + 4 <= data.len() => {
                let huge = [0x7fff_ffffu32, 0x8000_0000, u32::MAX, 0x0200_0000][rng.below(4)];
                data[i..i + 4].copy_from_slice(&huge.to_be_bytes());
            }
            _ => data.insert(i, rng.next() as u8),
        }
    }
    // Keep the length word honest half the time, so the payload decoders are reached.
    if rng.below(2) == 0 && data.len() >= 4 {
        let len = (data.len() as u32).to_be_bytes();
        data[..4].copy_from_slice(&len);
    }
    data
}

/// `opaque<1 MiB>` at the top level: a length word straight from the noise.
#[derive(Debug)]
struct Bytes;
impl Xdr for Bytes {
    fn encode(&self, _: &mut virtsh_remote::XdrWriter) {}
    fn decode(r: &mut virtsh_remote::XdrReader<'_>) -> Result<Self, virtsh_remote::XdrError> {
        r.get_opaque(1 << 20).map(|_| Bytes)
    }
}

#[test]
fn valid_values_round_trip() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..2000 {
        let p = param(&mut rng);
        assert_eq!(
            from_bytes::<RemoteTypedParam>(&to_bytes(&p).unwrap()).unwrap(),
            p
        );
        let d = domain(&mut rng);
        assert_eq!(
            from_bytes::<RemoteNonnullDomain>(&to_bytes(&d).unwrap()).unwrap(),
            d
        );
        let bytes = valid_packet(&mut rng);
        let decoded = Packet::decode(&bytes).unwrap();
        assert_eq!(decoded.header.vers, 1);
    }
}

#[test]
fn mutated_packets_never_panic_or_stall() {
    let mut rng = Rng(0x5eed_0002);
    let start = Instant::now();
    for _ in 0..20_000 {
        let p = valid_packet(&mut rng);
        let m = mutate(&mut rng, p);
        decode_all(&m);
    }
    // 20 000 decodes of small packets: anything that allocates or loops by a claimed
    // length instead of the real one shows up here.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn noise_never_panics() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..20_000 {
        let len = rng.below(96);
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 4 && rng.below(2) == 0 {
            data[..4].copy_from_slice(&(len as u32).to_be_bytes());
        }
        decode_all(&data);
    }
}
