//! What the CLI and a supervisor say to each other on `NAME/supervisor.sock`: one JSON request
//! line, then one JSON reply line (or, for [`Request::Subscribe`], a stream of [`Notice`] lines
//! until either side closes).
//!
//! Errors cross as libvirt error codes plus the finished message, so the CLI prints exactly what
//! the supervisor worded.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use virtsh_api::{Error, ErrorKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// A raw QMP command (qemu-monitor-command).
    Qmp {
        execute: String,
        #[serde(default)]
        arguments: Value,
    },
    /// A caller's own QMP command object, answered with QEMU's reply line as text (errors
    /// included): qemu-monitor-command.
    QmpPassthrough { command: Value },
    /// Open a tap for a NIC being plugged in (on `bridge` when given), hand it to QEMU as
    /// `fdname` (`getfd`), and answer its name: `{"name": "vnet1"}`.
    AttachTap {
        template: Option<String>,
        bridge: Option<String>,
        mac: Option<String>,
        fdname: String,
    },
    /// A human monitor command line; the text it printed.
    Hmp { command: String },
    /// A guest agent command, waiting up to `timeout_ms` for the agent.
    Agent {
        execute: String,
        #[serde(default)]
        arguments: Value,
        timeout_ms: u64,
    },
    /// Ask the guest to power off: `acpi` (the power button) or `agent`.
    Shutdown { mode: ShutdownMode },
    /// Ask the guest to reboot (power button, then a reset instead of the power-off).
    Reboot,
    /// Hard reset, as the reset button.
    Reset,
    /// Stop the vCPUs.
    Suspend,
    /// Restart the vCPUs.
    Resume,
    /// Kill QEMU (SIGTERM; SIGKILL after a bound unless `graceful`). Answered once the guest
    /// is gone and its state is recorded.
    Destroy { graceful: bool },
    /// Stream QMP events and lifecycle changes until the client disconnects.
    Subscribe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShutdownMode {
    Acpi,
    Agent,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reply {
    Ok(Value),
    Error { code: i32, message: String },
}

impl Reply {
    pub fn from_result(r: Result<Value, Error>) -> Reply {
        match r {
            Ok(v) => Reply::Ok(v),
            Err(e) => Reply::Error {
                code: e.kind.code(),
                message: e.message,
            },
        }
    }

    pub fn into_result(self) -> Result<Value, Error> {
        match self {
            Reply::Ok(v) => Ok(v),
            Reply::Error { code, message } => Err(Error::raw(ErrorKind::from_code(code), message)),
        }
    }
}

/// One line of a subscription stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notice {
    /// A QMP event exactly as QEMU sent it.
    Qmp {
        event: String,
        data: Value,
        seconds: i64,
        microseconds: i64,
    },
    /// The domain's state changed: virDomainEventType and its detail, as libvirt's lifecycle
    /// event carries them.
    Lifecycle { event: i32, detail: i32 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_round_trip_as_tagged_json() {
        let r = Request::Destroy { graceful: true };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(text, r#"{"op":"destroy","graceful":true}"#);
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), r);
        let q: Request = serde_json::from_str(r#"{"op":"qmp","execute":"stop"}"#).unwrap();
        assert_eq!(
            q,
            Request::Qmp {
                execute: "stop".into(),
                arguments: Value::Null
            }
        );
    }

    #[test]
    fn errors_keep_kind_and_message() {
        let e = Error::invalid_op("domain is not running");
        let back = Reply::from_result(Err(e.clone()))
            .into_result()
            .unwrap_err();
        assert_eq!(back, e);
        assert_eq!(
            Reply::from_result(Ok(json!(1))).into_result().unwrap(),
            json!(1)
        );
    }
}
