//! dnsmasq's lease file (`dhcp-leasefile=`), as dnsmasq's `lease_update_file` writes it:
//!
//! ```text
//! EXPIRY MAC IP HOSTNAME CLIENTID          one line per DHCPv4 lease
//! duid SERVER-DUID                         then, if DHCPv6 runs, the server's DUID
//! EXPIRY IAID IP HOSTNAME CLIENT-DUID      and one line per DHCPv6 lease
//! ```
//!
//! `*` stands for a missing hostname or client id; an expiry of 0 is an infinite lease; a
//! temporary IPv6 address has its IAID prefixed with `T`.

use std::fs;
use std::io;
use std::net::IpAddr;

use super::{DnsmasqError, DnsmasqFiles};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Seconds since the epoch; 0 for an infinite lease.
    pub expiry: i64,
    /// DHCPv4: the client's hardware address.
    pub mac: Option<String>,
    /// DHCPv6: the identity association id (as written, so `T` marks a temporary address).
    pub iaid: Option<String>,
    pub ip: IpAddr,
    pub hostname: Option<String>,
    /// DHCPv4: the client identifier; DHCPv6: the client's DUID.
    pub clientid: Option<String>,
}

/// The leases in the network's lease file; a missing file (dnsmasq never ran, or no DHCP) has
/// none.
pub fn read_leases(files: &DnsmasqFiles) -> Result<Vec<Lease>, DnsmasqError> {
    match fs::read_to_string(&files.leases) {
        Ok(text) => Ok(parse_leases(&text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(DnsmasqError::io("read", &files.leases, e)),
    }
}

/// Parse the lease file's text. dnsmasq rewrites the file in place, so a reader can catch it
/// half-written: a line that does not parse is skipped rather than failing the whole listing.
pub fn parse_leases(text: &str) -> Vec<Lease> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Lease> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.first() == Some(&"duid") || fields.len() < 4 {
        return None;
    }
    let expiry = fields[0].parse::<i64>().ok()?;
    let ip = fields[2].parse::<IpAddr>().ok()?;
    let id = optional(fields[1]);
    // The address family tells the two kinds of line apart, whether or not the duid line that
    // separates them made it into a half-written file.
    let (mac, iaid) = if ip.is_ipv6() { (None, id) } else { (id, None) };
    Some(Lease {
        expiry,
        mac,
        iaid,
        ip,
        hostname: optional(fields[3]),
        clientid: fields.get(4).and_then(|c| optional(c)),
    })
}

fn optional(field: &str) -> Option<String> {
    (field != "*").then(|| field.to_string())
}
