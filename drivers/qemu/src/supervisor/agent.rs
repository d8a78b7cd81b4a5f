//! The supervisor's link to the QEMU guest agent in the guest (the virtio-serial channel
//! `org.qemu.guest_agent.0`): connected on first use, bounded by a timeout on every call.

use serde_json::Value;
use virtsh_api::{Error, ErrorKind};
use virtsh_xml::domain::DomainDef;

use crate::runtime::DomainRuntime;

/// The agent connection of one guest, if it has an agent channel.
#[derive(Debug, Default)]
pub struct AgentLink {}

impl AgentLink {
    pub fn new(_def: &DomainDef, _rt: &DomainRuntime) -> AgentLink {
        AgentLink {}
    }

    /// Run `execute` in the guest agent; the `return` value.
    pub fn call(
        &mut self,
        _execute: &str,
        _arguments: Value,
        _timeout: std::time::Duration,
    ) -> Result<Value, Error> {
        Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            "QEMU guest agent is not configured",
        ))
    }
}
