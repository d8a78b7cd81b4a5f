//! Finding the object a command names, with virsh's rules and error lines
//! (virshLookupDomainBy and friends in tools/virsh-*.c).

use crate::parse::ParsedCmd;
use crate::shell::{CmdError, Shell};
use uuid::Uuid;
use virtsh_api::Domain;

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
    domain_by(
        sh,
        crate::commands::options::req_str(cmd, "domain")?,
        BY_ANY,
    )
}
