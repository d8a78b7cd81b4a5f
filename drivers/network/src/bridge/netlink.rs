//! One blocking rtnetlink request at a time: send a message, read the kernel's replies until its
//! acknowledgement (or the end of a dump), turn a refusal into an `io::Error` with the kernel's
//! own explanation when it gives one (extended ACK).
//!
//! A socket is opened per public call and dropped after it. That costs a syscall or two, and it
//! keeps the socket in the network namespace of the calling thread at the time of the call.

use std::io;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, NLM_F_ACK, NLM_F_ACK_TLVS,
    NLM_F_CAPPED, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

/// Length of a `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;
/// `NLMSGERR_ATTR_MSG` from linux/netlink.h: the kernel's text in an extended ACK.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Why a request failed: the errno (from the kernel's NACK or from the socket) and, when the
/// kernel explained itself, its message.
#[derive(Debug)]
pub(super) struct Nack {
    pub error: io::Error,
    pub detail: Option<String>,
}

impl From<io::Error> for Nack {
    fn from(error: io::Error) -> Nack {
        Nack {
            error,
            detail: None,
        }
    }
}

fn malformed(what: impl std::fmt::Display) -> Nack {
    Nack::from(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed netlink reply: {what}"),
    ))
}

/// The replies to a request, and whether a dump was interrupted by a concurrent change (the
/// kernel sets `NLM_F_DUMP_INTR`; the caller may want to ask again).
pub(super) struct Replies {
    pub messages: Vec<RouteNetlinkMessage>,
    pub interrupted: bool,
}

pub(super) struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    pub fn open() -> Result<Rtnl, Nack> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        // Best effort, both since Linux 4.12: the kernel then says *why* it refused (e.g. "Invalid
        // prefix for given prefix length"), and does not echo our whole request back in errors.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Sends `payload` with `NLM_F_REQUEST | flags` and collects the replies.
    ///
    /// A plain request also gets `NLM_F_ACK`, so the kernel always answers, success or not, and
    /// the read ends at that answer. A dump (`flags` holds `NLM_F_DUMP`) ends at `NLMSG_DONE`.
    pub fn request(&mut self, payload: RouteNetlinkMessage, flags: u16) -> Result<Replies, Nack> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut message = NetlinkMessage::new(header, NetlinkPayload::from(payload));
        message.finalize();
        let mut buf = vec![0u8; message.buffer_len()];
        message.serialize(&mut buf);
        let sent = self.socket.send(&buf, 0)?;
        if sent != buf.len() {
            return Err(Nack::from(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write on the netlink socket",
            )));
        }

        let mut replies = Replies {
            messages: Vec::new(),
            interrupted: false,
        };
        loop {
            let datagram = self.recv_datagram()?;
            // One datagram can carry several messages (a dump does), each 4-byte aligned.
            let mut offset = 0;
            while offset + NLMSG_HDRLEN <= datagram.len() {
                let len = u32::from_ne_bytes(
                    datagram[offset..offset + 4]
                        .try_into()
                        .map_err(|_| malformed("short header"))?,
                ) as usize;
                if len < NLMSG_HDRLEN || offset + len > datagram.len() {
                    return Err(malformed(format!("message length {len}")));
                }
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(
                    &datagram[offset..offset + len],
                )
                .map_err(malformed)?;
                offset += (len + 3) & !3;
                if parsed.header.sequence_number != self.seq {
                    continue; // a late answer to something else: not ours
                }
                if parsed.header.flags & NLM_F_DUMP_INTR != 0 {
                    replies.interrupted = true;
                }
                match parsed.payload {
                    NetlinkPayload::InnerMessage(inner) => replies.messages.push(inner),
                    NetlinkPayload::Error(err) => {
                        return match err.code {
                            None => Ok(replies), // the ACK
                            Some(_) => Err(Nack {
                                error: err.to_io(),
                                detail: ext_ack_message(parsed.header.flags, &err.header),
                            }),
                        };
                    }
                    NetlinkPayload::Done(done) => {
                        return if done.code < 0 {
                            Err(Nack::from(io::Error::from_raw_os_error(-done.code)))
                        } else {
                            Ok(replies)
                        };
                    }
                    NetlinkPayload::Overrun(_) => {
                        return Err(malformed("the kernel reported an overrun"));
                    }
                    _ => {} // NLMSG_NOOP, and whatever a later crate version adds
                }
            }
        }
    }

    /// Reads one datagram whole, however large: peek its size first.
    fn recv_datagram(&self) -> Result<Vec<u8>, Nack> {
        let mut probe: Vec<u8> = Vec::new();
        let (size, _) = self
            .socket
            .recv_from(&mut probe, libc::MSG_PEEK | libc::MSG_TRUNC)?;
        let mut buf = Vec::with_capacity(size.max(NLMSG_HDRLEN));
        let (got, _) = self.socket.recv_from(&mut buf, libc::MSG_TRUNC)?;
        if got > buf.len() {
            return Err(malformed(format!("datagram truncated ({got} bytes)")));
        }
        Ok(buf)
    }
}

/// The kernel's explanation in an error message, if any. The payload after the error code is
/// the echoed request (only its header when the error message's `flags` hold `NLM_F_CAPPED`),
/// then, when they hold `NLM_F_ACK_TLVS`, attributes, one of which is the text.
fn ext_ack_message(flags: u16, echo: &[u8]) -> Option<String> {
    let header = echo.get(..NLMSG_HDRLEN)?;
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) as usize
    };
    let tlvs = echo.get((echoed + 3) & !3..)?;
    NlasIterator::new(tlvs)
        .filter_map(Result::ok)
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .map(|nla| {
            let text = nla.value();
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            String::from_utf8_lossy(text).into_owned()
        })
        .filter(|text| !text.is_empty())
}
