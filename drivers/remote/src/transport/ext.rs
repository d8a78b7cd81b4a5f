//! `+ext`: the URI's `command=` run as it is (`virNetSocketNewConnectExternal`), talking RPC
//! over its stdin and stdout. As in libvirt the value is one program, found in PATH, started
//! without arguments and without a shell (`command=/usr/local/bin/tunnel`, not
//! `command=socat - UNIX-CONNECT:/s`: wrap such a line in a script), with libvirt's small
//! environment.

use super::command::{libvirt_env, CommandTransport};
use super::{Transport, TransportError, TransportParts};
use std::io;
use std::process::Command;
use std::time::Duration;

/// The child of an ext URI.
pub struct ExtTransport(CommandTransport);

impl ExtTransport {
    pub fn connect(command: &str) -> Result<ExtTransport, TransportError> {
        let mut cmd = Command::new(command);
        libvirt_env(&mut cmd, &[]);
        CommandTransport::spawn(cmd, format!("command {command}")).map(ExtTransport)
    }
}

impl Transport for ExtTransport {
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_write_timeout(timeout)
    }

    fn describe(&self) -> String {
        self.0.describe()
    }

    fn into_parts(self: Box<Self>) -> io::Result<TransportParts> {
        Box::new(self.0).into_parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_one_program_not_a_shell_line() {
        let e = ExtTransport::connect("cat -u").err().unwrap();
        assert_eq!(
            e.to_string(),
            "Cannot find 'cat -u' in path: No such file or directory"
        );
        let t = ExtTransport::connect("cat").unwrap();
        assert_eq!(t.describe(), "command cat");
    }
}
