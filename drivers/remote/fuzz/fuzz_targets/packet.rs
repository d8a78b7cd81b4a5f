//! Any bytes from a daemon: framing, header, and the payload decoders a client points at a
//! reply. Nothing may panic, and no length word may make the decoder allocate beyond its input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use virtsh_remote::generated::remote::{
    RemoteAuthListRet, RemoteConnectGetAllDomainStatsRet, RemoteConnectListAllDomainsRet,
    RemoteDomainGetInfoRet, RemoteDomainInterfaceAddressesRet, RemoteNodeGetInfoRet,
};
use virtsh_remote::packet::{self, Packet};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packet::decode(data) {
        let _ = p.server_error();
        let _ = p.stream_hole();
        let _ = p.decode_payload::<RemoteAuthListRet>();
        let _ = p.decode_payload::<RemoteConnectListAllDomainsRet>();
        let _ = p.decode_payload::<RemoteConnectGetAllDomainStatsRet>();
        let _ = p.decode_payload::<RemoteDomainInterfaceAddressesRet>();
        let _ = p.decode_payload::<RemoteDomainGetInfoRet>();
        let _ = p.decode_payload::<RemoteNodeGetInfoRet>();
    }
    let mut stream = data;
    while packet::read_packet(&mut stream).is_ok() {}
});
