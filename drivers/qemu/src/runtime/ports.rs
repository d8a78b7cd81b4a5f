//! The ports a running guest holds on virtual networks (`<source network=... portid=...>` in
//! its live XML). Whoever sees the guest end releases them: its supervisor, or the next
//! command when both QEMU and the supervisor died.

use virtsh_api::Uri;
use virtsh_xml::domain::{DomainDef, NetInterface, ParseOptions};

use super::DomainRuntime;

/// Release every network port the live definition of `rt` records. Problems are warnings: the
/// guest is gone either way, and a network that was destroyed meanwhile took its ports along.
pub fn release_network_ports(uri: &str, rt: &DomainRuntime) {
    let Ok(xml) = std::fs::read_to_string(rt.live_xml_path()) else {
        return;
    };
    let opts = ParseOptions {
        live: true,
        ..ParseOptions::default()
    };
    let Ok(def) = DomainDef::parse_with(&xml, &opts) else {
        return;
    };
    release_ports_of(uri, &def.name, &def.devices.interfaces);
}

/// Release the ports the network NICs among `nics` of guest `owner` hold.
pub fn release_ports_of(uri: &str, owner: &str, nics: &[NetInterface]) {
    let held: Vec<(String, uuid::Uuid)> = nics
        .iter()
        .filter(|n| n.if_type == "network")
        .filter_map(|n| {
            let port = n.source_extra.attr("portid")?.parse().ok()?;
            Some((n.source.clone()?, port))
        })
        .collect();
    if held.is_empty() {
        return;
    }
    let host = Uri::parse(uri)
        .map_err(|e| e.to_string())
        .and_then(|u| virtsh_network::NetworkHost::open(&u).map_err(|e| e.message));
    let host = match host {
        Ok(h) => h,
        Err(e) => {
            eprintln!("warning: cannot release the network ports of '{owner}': {e}");
            return;
        }
    };
    for (network, port) in held {
        if let Err(e) = host.release_port(&network, port) {
            eprintln!(
                "warning: cannot release port {port} of network '{network}': {}",
                e.message
            );
        }
    }
}
