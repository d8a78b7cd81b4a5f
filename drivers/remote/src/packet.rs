//! libvirt RPC packets: a 4-byte length word that counts itself, a 24-byte header
//! (`virNetMessageHeader`: prog, vers, proc, type, serial, status), for the `*_WITH_FDS` types
//! a 4-byte count of passed file descriptors, then the payload (XDR, or raw bytes for stream
//! data). See `src/rpc/virnetprotocol.x` and `virnetmessage.c` in libvirt 9.0.

use crate::error::{RemoteError, ServerError};
use crate::generated::virnet::{
    VirNetMessageError, VirNetStreamHole, VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_LEN_MAX,
    VIR_NET_MESSAGE_MAX, VIR_NET_MESSAGE_NUM_FDS_MAX,
};
use crate::xdr::{self, Xdr, XdrError, XdrReader, XdrWriter};
use std::io::{self, Read};
use thiserror::Error;

pub use crate::generated::virnet::{
    VirNetMessageHeader as Header, VirNetMessageStatus as MessageStatus,
    VirNetMessageType as MessageType,
};

/// The smallest packet: the length word and a header, with an empty payload.
pub const MIN_PACKET: usize = (VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX) as usize;
/// The largest packet libvirt 9.0 accepts: `VIR_NET_MESSAGE_MAX` (32 MiB) after the length
/// word (`virNetMessageDecodeLength` checks `len - 4 > VIR_NET_MESSAGE_MAX`).
pub const MAX_PACKET: usize = (VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_MAX) as usize;

/// A packet that cannot be framed or read. Worded as libvirt's `virnetmessage.c` words them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    #[error("packet {len} bytes received from server too small, want {min}")]
    TooSmall { len: u32, min: usize },
    #[error("packet {len} bytes received from server too large, want {max}")]
    TooLarge { len: u64, max: u32 },
    #[error("Unable to decode message header: {0}")]
    Header(XdrError),
    #[error("Received too many FDs {count}, expected {max} maximum")]
    TooManyFds { count: u32, max: u32 },
    #[error("Unable to decode number of FDs: {0}")]
    FdCount(XdrError),
    #[error("packet length word says {said} bytes but {got} were given")]
    LengthMismatch { said: usize, got: usize },
    #[error("message too large to send: {len} bytes, the maximum is {max}")]
    Oversized { len: usize, max: usize },
}

/// One decoded packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub header: Header,
    /// For `*_WITH_FDS` types, how many descriptors the sender passed alongside (as
    /// SCM_RIGHTS); 0 otherwise.
    pub fds: u32,
    pub payload: Vec<u8>,
}

/// Checks a length word: the total packet size, length word included.
pub fn check_length(word: [u8; 4]) -> Result<usize, PacketError> {
    let len = u32::from_be_bytes(word);
    if (len as usize) < MIN_PACKET {
        return Err(PacketError::TooSmall {
            len,
            min: MIN_PACKET,
        });
    }
    if len as usize > MAX_PACKET {
        return Err(PacketError::TooLarge {
            len: u64::from(len) - u64::from(VIR_NET_MESSAGE_LEN_MAX),
            max: VIR_NET_MESSAGE_MAX,
        });
    }
    Ok(len as usize)
}

fn has_fds(t: MessageType) -> bool {
    matches!(t, MessageType::CallWithFds | MessageType::ReplyWithFds)
}

impl Packet {
    /// Decodes the bytes after the length word.
    pub fn decode_body(body: &[u8]) -> Result<Packet, PacketError> {
        let mut r = XdrReader::new(body);
        let header = Header::decode(&mut r).map_err(PacketError::Header)?;
        let fds = if has_fds(header.r#type) {
            let count = r.get_u32().map_err(PacketError::FdCount)?;
            if count > VIR_NET_MESSAGE_NUM_FDS_MAX {
                return Err(PacketError::TooManyFds {
                    count,
                    max: VIR_NET_MESSAGE_NUM_FDS_MAX,
                });
            }
            count
        } else {
            0
        };
        Ok(Packet {
            header,
            fds,
            payload: r.take_rest().to_vec(),
        })
    }

    /// Decodes one whole packet, length word included; the length must match `frame`.
    pub fn decode(frame: &[u8]) -> Result<Packet, PacketError> {
        let word: [u8; 4] = match frame.get(..4).map(<[u8; 4]>::try_from) {
            Some(Ok(w)) => w,
            _ => {
                return Err(PacketError::TooSmall {
                    len: frame.len() as u32,
                    min: MIN_PACKET,
                })
            }
        };
        let len = check_length(word)?;
        if len != frame.len() {
            return Err(PacketError::LengthMismatch {
                said: len,
                got: frame.len(),
            });
        }
        Packet::decode_body(&frame[4..])
    }

    /// The payload decoded as `T`, which must use all of it.
    pub fn decode_payload<T: Xdr>(&self) -> Result<T, XdrError> {
        xdr::from_bytes(&self.payload)
    }

    /// The `remote_error` of an error reply or stream packet.
    pub fn server_error(&self) -> Result<ServerError, XdrError> {
        let e: VirNetMessageError = self.decode_payload()?;
        Ok(ServerError {
            code: e.code,
            domain: e.domain,
            level: e.level,
            message: e.message,
            str1: e.str1,
            str2: e.str2,
            str3: e.str3,
            int1: e.int1,
            int2: e.int2,
        })
    }

    /// The hole of a `VIR_NET_STREAM_HOLE` packet.
    pub fn stream_hole(&self) -> Result<VirNetStreamHole, XdrError> {
        self.decode_payload()
    }
}

/// Encodes a packet whose payload is `payload`'s XDR.
pub fn encode<T: Xdr>(header: &Header, payload: &T) -> Result<Vec<u8>, RemoteError> {
    let mut w = XdrWriter::with_buffer(vec![0; 4]);
    header.encode(&mut w);
    if has_fds(header.r#type) {
        // virtsh passes no descriptors (yet); the count is still part of the format.
        w.put_u32(0);
    }
    payload.encode(&mut w);
    frame(w.finish().map_err(RemoteError::Encode)?)
}

/// Encodes a packet whose payload is raw bytes (stream data).
pub fn encode_raw(header: &Header, data: &[u8]) -> Result<Vec<u8>, RemoteError> {
    let mut w = XdrWriter::with_buffer(vec![0; 4]);
    header.encode(&mut w);
    w.put_raw(data);
    frame(w.finish().map_err(RemoteError::Encode)?)
}

/// Fills in the length word of `buf` (whose first 4 bytes are reserved for it).
fn frame(mut buf: Vec<u8>) -> Result<Vec<u8>, RemoteError> {
    if buf.len() > MAX_PACKET {
        return Err(PacketError::Oversized {
            len: buf.len(),
            max: MAX_PACKET,
        }
        .into());
    }
    let len = (buf.len() as u32).to_be_bytes();
    buf[..4].copy_from_slice(&len);
    Ok(buf)
}

/// Reads one packet from a byte stream. The body is read as it arrives, so a length word
/// promising 32 MiB costs memory only for the bytes that really come.
pub fn read_packet(r: &mut dyn Read) -> Result<Packet, RemoteError> {
    let mut word = [0u8; 4];
    r.read_exact(&mut word)
        .map_err(|e| RemoteError::io("recv", &e))?;
    let len = check_length(word)?;
    let body_len = len - 4;
    let mut body = Vec::with_capacity(body_len.min(64 * 1024));
    r.take(body_len as u64)
        .read_to_end(&mut body)
        .map_err(|e| RemoteError::io("recv", &e))?;
    if body.len() < body_len {
        return Err(RemoteError::io(
            "recv",
            &io::Error::from(io::ErrorKind::UnexpectedEof),
        ));
    }
    Ok(Packet::decode_body(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::remote::{
        RemoteConnectOpenArgs, REMOTE_PROC_AUTH_LIST, REMOTE_PROC_CONNECT_OPEN, REMOTE_PROGRAM,
    };

    fn call(proc_: i32, serial: u32) -> Header {
        Header {
            prog: REMOTE_PROGRAM,
            vers: 1,
            proc: proc_,
            r#type: MessageType::Call,
            serial,
            status: MessageStatus::Ok,
        }
    }

    #[test]
    fn auth_list_call_bytes() {
        // The worked example of libvirt-rpc.md §1.8.
        let bytes = encode(&call(REMOTE_PROC_AUTH_LIST, 0), &()).unwrap();
        assert_eq!(
            bytes,
            [
                0, 0, 0, 0x1c, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0
            ]
        );
        let p = Packet::decode(&bytes).unwrap();
        assert_eq!(p.header, call(REMOTE_PROC_AUTH_LIST, 0));
        assert!(p.payload.is_empty());
    }

    #[test]
    fn connect_open_is_56_bytes() {
        let args = RemoteConnectOpenArgs {
            name: Some("qemu:///system".into()),
            flags: 0,
        };
        let bytes = encode(&call(REMOTE_PROC_CONNECT_OPEN, 1), &args).unwrap();
        assert_eq!(bytes.len(), 56);
        assert_eq!(
            &bytes[28..],
            b"\0\0\0\x01\0\0\0\x0eqemu:///system\0\0\0\0\0\0".as_slice()
        );
    }

    #[test]
    fn length_limits() {
        assert!(matches!(
            check_length(27u32.to_be_bytes()),
            Err(PacketError::TooSmall { len: 27, .. })
        ));
        assert_eq!(check_length(28u32.to_be_bytes()), Ok(28));
        assert_eq!(check_length(33554436u32.to_be_bytes()), Ok(MAX_PACKET));
        let e = check_length(33554437u32.to_be_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "packet 33554433 bytes received from server too large, want 33554432"
        );
        assert!(check_length(u32::MAX.to_be_bytes()).is_err());
    }

    #[test]
    fn bad_headers_are_errors() {
        let bytes = encode(&call(1, 0), &()).unwrap();
        // Header words: prog 4..8, vers 8..12, proc 12..16, type 16..20, serial 20..24,
        // status 24..28. Type 9 and status 7 do not exist.
        let mut bad_type = bytes.clone();
        bad_type[16..20].copy_from_slice(&9i32.to_be_bytes());
        assert!(matches!(
            Packet::decode(&bad_type),
            Err(PacketError::Header(XdrError::BadEnum { .. }))
        ));
        let mut bad_status = bytes.clone();
        bad_status[24..28].copy_from_slice(&7i32.to_be_bytes());
        assert!(Packet::decode(&bad_status).is_err());
        assert!(matches!(
            Packet::decode(&bytes[..20]),
            Err(PacketError::LengthMismatch { said: 28, got: 20 })
        ));
        assert!(matches!(
            Packet::decode(&bytes[..3]),
            Err(PacketError::TooSmall { .. })
        ));
    }

    #[test]
    fn fd_counts_are_read_and_bounded() {
        let mut h = call(1, 3);
        h.r#type = MessageType::ReplyWithFds;
        let bytes = encode(&h, &7u32).unwrap();
        let p = Packet::decode(&bytes).unwrap();
        assert_eq!((p.fds, p.decode_payload::<u32>()), (0, Ok(7)));
        let mut many = bytes.clone();
        many[28..32].copy_from_slice(&33u32.to_be_bytes());
        assert!(matches!(
            Packet::decode(&many),
            Err(PacketError::TooManyFds { count: 33, .. })
        ));
    }

    #[test]
    fn reading_stops_at_the_promised_length() {
        let bytes = encode(&call(1, 0), &5u32).unwrap();
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        let mut cursor = io::Cursor::new(two);
        assert_eq!(read_packet(&mut cursor).unwrap().payload, [0, 0, 0, 5]);
        assert_eq!(read_packet(&mut cursor).unwrap().payload, [0, 0, 0, 5]);
        assert!(matches!(read_packet(&mut cursor), Err(RemoteError::Eof)));
        // A huge length word with little data after it: an error, not a 2 GiB buffer.
        let mut huge = 0x7fff_ffffu32.to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 96]);
        assert!(matches!(
            read_packet(&mut io::Cursor::new(huge)),
            Err(RemoteError::Packet(PacketError::TooLarge { .. }))
        ));
        // A length within limits but more than arrives: end of file.
        let mut short = 1000u32.to_be_bytes().to_vec();
        short.extend_from_slice(&[0; 96]);
        assert!(matches!(
            read_packet(&mut io::Cursor::new(short)),
            Err(RemoteError::Eof)
        ));
    }
}
