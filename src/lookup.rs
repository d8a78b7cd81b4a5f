//! Finding the object a command names, with virsh's rules and error lines
//! (virshLookupDomainBy and friends in tools/virsh-*.c).

use crate::parse::ParsedCmd;
use crate::shell::{CmdError, Shell};
use uuid::Uuid;
use virtsh_api::{Domain, Interface, Network, StoragePool, StorageVol};

/// Which spellings of a domain a command accepts.
#[derive(Clone, Copy)]
pub struct By {
    pub id: bool,
    pub uuid: bool,
    pub name: bool,
}

pub const BY_ANY: By = By {
    id: true,
    uuid: true,
    name: true,
};
pub const BY_UUID_NAME: By = By {
    id: false,
    uuid: true,
    name: true,
};

fn parse_uuid(s: &str) -> Option<Uuid> {
    (s.len() == 36).then(|| Uuid::parse_str(s).ok()).flatten()
}

/// The value of a required option (the parser has already checked it is present).
pub fn required<'a>(cmd: &'a ParsedCmd, opt: &str) -> Result<&'a str, CmdError> {
    cmd.get(opt).ok_or_else(|| {
        CmdError::msg(format!(
            "command '{}' requires <{opt}> option",
            cmd.def.name
        ))
    })
}

/// Look a domain up by id, then UUID, then name. Like virsh, the driver's own "not found"
/// message is dropped and only "failed to get domain" is reported.
pub fn domain_by(sh: &Shell, text: &str, by: By) -> Result<Domain, CmdError> {
    let conn = sh.conn()?;
    let mut found = None;
    if by.id {
        if let Ok(id) = text.parse::<i32>() {
            if id >= 0 {
                found = conn.lookup_domain_by_id(id).ok();
            }
        }
    }
    if found.is_none() && by.uuid {
        if let Some(u) = parse_uuid(text) {
            found = conn.lookup_domain_by_uuid(&u).ok();
        }
    }
    if found.is_none() && by.name {
        found = conn.lookup_domain_by_name(text).ok();
    }
    found.ok_or_else(|| CmdError::msg(format!("failed to get domain '{text}'")))
}

pub fn domain(sh: &Shell, cmd: &ParsedCmd) -> Result<Domain, CmdError> {
    domain_by(sh, required(cmd, "domain")?, BY_ANY)
}

/// Networks: UUID then name; the name lookup's error is reported after virsh's own line.
pub fn network_by(sh: &Shell, text: &str) -> Result<Network, CmdError> {
    let conn = sh.conn()?;
    if let Some(u) = parse_uuid(text) {
        if let Ok(n) = conn.lookup_network_by_uuid(&u) {
            return Ok(n);
        }
    }
    conn.lookup_network_by_name(text)
        .map_err(|e| not_found("network", text, e))
}

fn not_found(what: &str, text: &str, e: virtsh_api::Error) -> CmdError {
    CmdError::with(format!("failed to get {what} '{text}'"), e)
}

pub fn network(sh: &Shell, cmd: &ParsedCmd) -> Result<Network, CmdError> {
    network_by(sh, required(cmd, "network")?)
}

pub fn pool_by(sh: &Shell, text: &str) -> Result<StoragePool, CmdError> {
    let conn = sh.conn()?;
    if let Some(u) = parse_uuid(text) {
        if let Ok(p) = conn.lookup_pool_by_uuid(&u) {
            return Ok(p);
        }
    }
    conn.lookup_pool_by_name(text)
        .map_err(|e| not_found("pool", text, e))
}

pub fn pool(sh: &Shell, cmd: &ParsedCmd) -> Result<StoragePool, CmdError> {
    pool_by(sh, required(cmd, "pool")?)
}

/// Volumes: by name inside `--pool` when given, otherwise by key, then by path.
pub fn vol(sh: &Shell, cmd: &ParsedCmd, opt: &str) -> Result<StorageVol, CmdError> {
    let text = required(cmd, opt)?;
    let conn = sh.conn()?;
    if let Some(pool_name) = cmd.get("pool") {
        let pool = pool_by(sh, pool_name)?;
        if let Ok(v) = conn.lookup_vol_by_name(&pool, text) {
            return Ok(v);
        }
    }
    if let Ok(v) = conn.lookup_vol_by_key(text) {
        return Ok(v);
    }
    conn.lookup_vol_by_path(text)
        .map_err(|e| not_found("vol", text, e))
}

pub fn interface_by(sh: &Shell, text: &str) -> Result<Interface, CmdError> {
    let conn = sh.conn()?;
    if let Ok(i) = conn.lookup_interface_by_name(text) {
        return Ok(i);
    }
    conn.lookup_interface_by_mac(text)
        .map_err(|e| not_found("interface", text, e))
}
