//! `+ssh`: the `ssh` binary as libvirt runs it (`virNetSocketNewConnectSSH`,
//! `virNetClientSSHHelperCommand`):
//!
//! ```text
//! ssh [-p PORT] [-l USER] [-i KEYFILE] -T -e none [-o BatchMode=yes] [-o StrictHostKeyChecking=no] \
//!     -- HOST "sh -c '...'"
//! ```
//!
//! `BatchMode=yes` comes with `no_tty=1` (no password or passphrase prompts);
//! `StrictHostKeyChecking=no` with `no_verify=1`. The remote command proxies the connection to
//! the daemon: `virt-ssh-helper URI` (`proxy=native`), `nc -U SOCKET` (`proxy=netcat`, forced by
//! `socket=` or `netcat=`), or the helper when the remote host has it and nc otherwise
//! (`proxy=auto`). The strings are built byte for byte as libvirt builds them, quoting included
//! (sshd hands the command to the remote user's shell, which runs `sh -c` again: two levels of
//! shell escaping), so a remote host sees exactly what virsh would send.

use super::command::{libvirt_env, CommandTransport};
use super::{Transport, TransportError, TransportParts};
use std::io;
use std::process::Command;
use std::time::Duration;

/// Which remote proxy carries the connection (`virNetClientProxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshProxy {
    #[default]
    Auto,
    Netcat,
    Native,
}

impl SshProxy {
    /// The `proxy=` values.
    pub fn parse(s: &str) -> Option<SshProxy> {
        match s {
            "auto" => Some(SshProxy::Auto),
            "netcat" => Some(SshProxy::Netcat),
            "native" => Some(SshProxy::Native),
            _ => None,
        }
    }
}

/// Everything the ssh command line is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshOptions {
    pub host: String,
    /// `-p`; ssh's own default (or its config) without it.
    pub port: Option<u16>,
    /// `-l`, from the URI's `user@`.
    pub user: Option<String>,
    /// `command=`: the ssh binary (default `ssh`, found in PATH).
    pub binary: Option<String>,
    /// `keyfile=`: `-i`.
    pub keyfile: Option<String>,
    /// `no_tty=1`: `-o BatchMode=yes`.
    pub no_tty: bool,
    /// `no_verify=1`: `-o StrictHostKeyChecking=no`.
    pub no_verify: bool,
    pub proxy: SshProxy,
    /// `netcat=`: the remote nc binary.
    pub netcat: Option<String>,
    /// The daemon's socket on the remote host, for nc.
    pub socket: String,
    /// The URI virt-ssh-helper opens on the remote host (the daemon URI, as `CONNECT_OPEN`
    /// gets it).
    pub daemon_uri: String,
    /// virt-ssh-helper `-r`.
    pub readonly: bool,
}

/// Environment variables ssh needs beyond the common ones: agents, Kerberos, askpass, X.
const SSH_ENV: &[&str] = &[
    "XDG_RUNTIME_DIR",
    "KRB5CCNAME",
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "OPENSSL_CONF",
    "DISPLAY",
    "XAUTHORITY",
];

/// `virBufferEscapeShell`: single-quoted when `s` has a shell metacharacter, as is otherwise.
fn escape_shell(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    const META: &str = "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~";
    if !s.chars().any(|c| META.contains(c)) {
        return s.to_string();
    }
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' {
            // Close the quote, an escaped quote, and open again (libvirt then copies the quote
            // itself too, which reopens: 'a'\''b').
            out.push_str("'\\'");
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `virNetClientDoubleEscapeShell`.
fn double_escape(s: &str) -> String {
    escape_shell(&escape_shell(s))
}

/// The remote command (`virNetClientSSHHelperCommand`).
pub fn helper_command(
    proxy: SshProxy,
    netcat: Option<&str>,
    socket: &str,
    daemon_uri: &str,
    readonly: bool,
) -> Result<String, TransportError> {
    let nc = double_escape(netcat.unwrap_or("nc"));
    let uri = double_escape(daemon_uri);
    // A netcat path given with proxy=auto means the user wants nc, not the helper.
    let proxy = match (proxy, netcat) {
        (SshProxy::Auto, Some(_)) => SshProxy::Netcat,
        (p, _) => p,
    };
    // OpenBSD nc (Debian's netcat-openbsd) needs -q0 to exit at end of input; others lack -q.
    let nccmd = format!(
        "if '{nc}' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then \
         ARG=-q0;else ARG=;fi;'{nc}' $ARG -U {socket}"
    );
    let helper = format!(
        "virt-ssh-helper{}'{uri}'",
        if readonly { " -r " } else { " " }
    );
    Ok(match proxy {
        SshProxy::Auto => format!(
            "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     {helper}; \
             else    {nccmd}; fi'"
        ),
        SshProxy::Netcat => format!("sh -c '{nccmd}'"),
        SshProxy::Native if netcat.is_some() => {
            return Err(TransportError::InvalidArg(
                "netcat path not valid with native proxy mode".into(),
            ))
        }
        SshProxy::Native => format!("sh -c '{helper}'"),
    })
}

/// The ssh arguments after the binary.
pub fn ssh_args(opts: &SshOptions) -> Result<Vec<String>, TransportError> {
    let mut args = Vec::new();
    if let Some(port) = opts.port {
        args.extend(["-p".to_string(), port.to_string()]);
    }
    if let Some(user) = &opts.user {
        args.extend(["-l".to_string(), user.clone()]);
    }
    if let Some(key) = &opts.keyfile {
        args.extend(["-i".to_string(), key.clone()]);
    }
    args.extend(["-T", "-e", "none"].map(String::from));
    if opts.no_tty {
        args.extend(["-o", "BatchMode=yes"].map(String::from));
    }
    if opts.no_verify {
        args.extend(["-o", "StrictHostKeyChecking=no"].map(String::from));
    }
    args.extend(["--".to_string(), opts.host.clone()]);
    args.push(helper_command(
        opts.proxy,
        opts.netcat.as_deref(),
        &opts.socket,
        &opts.daemon_uri,
        opts.readonly,
    )?);
    Ok(args)
}

/// An ssh child carrying the connection.
pub struct SshTransport(CommandTransport);

impl SshTransport {
    pub fn connect(opts: &SshOptions) -> Result<SshTransport, TransportError> {
        let mut cmd = Command::new(opts.binary.as_deref().unwrap_or("ssh"));
        cmd.args(ssh_args(opts)?);
        libvirt_env(&mut cmd, SSH_ENV);
        let describe = match &opts.user {
            Some(u) => format!("ssh {u}@{}", opts.host),
            None => format!("ssh {}", opts.host),
        };
        CommandTransport::spawn(cmd, describe).map(SshTransport)
    }
}

impl Transport for SshTransport {
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

    /// libvirt's own expectations (`tests/virnetsockettest.c`, "SSH test 1" to "11"), which
    /// drive `virNetClientSSHHelperCommand` with the URI `qemu:///session`, read-only.
    fn opts(host: &str) -> SshOptions {
        SshOptions {
            host: host.into(),
            socket: "/tmp/socket".into(),
            daemon_uri: "qemu:///session".into(),
            readonly: true,
            ..Default::default()
        }
    }

    fn line(o: &SshOptions) -> String {
        ssh_args(o).unwrap().join(" ")
    }

    fn nc_part(nc: &str) -> String {
        format!(
            "if {nc} -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;\
             else ARG=;fi;{nc} $ARG -U /tmp/socket"
        )
    }

    #[test]
    fn netcat_command_lines_match_libvirts_tests() {
        let mut o = opts("somehost");
        o.netcat = Some("nc".into());
        assert_eq!(
            line(&o),
            format!("-T -e none -- somehost sh -c '{}'", nc_part("'nc'"))
        );

        let mut o = opts("somehost");
        o.port = Some(9000);
        o.user = Some("fred".into());
        o.netcat = Some("netcat".into());
        o.no_tty = true;
        assert_eq!(
            line(&o),
            format!(
                "-p 9000 -l fred -T -e none -o BatchMode=yes -- somehost sh -c '{}'",
                nc_part("'netcat'")
            )
        );
        o.no_tty = false;
        o.no_verify = true;
        assert_eq!(
            line(&o),
            format!(
                "-p 9000 -l fred -T -e none -o StrictHostKeyChecking=no -- somehost sh -c '{}'",
                nc_part("'netcat'")
            )
        );

        let mut o = opts("example.com");
        o.netcat = Some("nc".into());
        o.keyfile = Some("/root/.ssh/example_key".into());
        o.no_verify = true;
        assert_eq!(
            line(&o),
            format!(
                "-i /root/.ssh/example_key -T -e none -o StrictHostKeyChecking=no -- example.com \
                 sh -c '{}'",
                nc_part("'nc'")
            )
        );
    }

    #[test]
    fn odd_netcat_paths_are_escaped_twice() {
        for (nc, quoted) in [
            ("n c", r"'''\''n c'\''''"),
            ("n'c", r"'''\''n'\''\'\'''\''c'\''''"),
            ("n\"c", r#"'''\''n"c'\''''"#),
        ] {
            let mut o = opts("somehost");
            o.netcat = Some(nc.into());
            assert_eq!(
                line(&o),
                format!("-T -e none -- somehost sh -c '{}'", nc_part(quoted)),
                "{nc}"
            );
        }
    }

    #[test]
    fn helper_command_lines_match_libvirts_tests() {
        assert_eq!(
            line(&opts("somehost")),
            format!(
                "-T -e none -- somehost sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; \
                 if test $? = 0; then     virt-ssh-helper -r 'qemu:///session'; \
                 else    {}; fi'",
                nc_part("'nc'")
            )
        );
        let mut o = opts("somehost");
        o.proxy = SshProxy::Native;
        assert_eq!(
            line(&o),
            "-T -e none -- somehost sh -c 'virt-ssh-helper -r 'qemu:///session''"
        );
        o.readonly = false;
        o.daemon_uri = "qemu:///system?x=a b".into();
        assert_eq!(
            line(&o),
            r"-T -e none -- somehost sh -c 'virt-ssh-helper '''\''qemu:///system?x=a b'\'''''"
        );
        o.netcat = Some("nc".into());
        assert_eq!(
            ssh_args(&o).unwrap_err().to_string(),
            "invalid argument: netcat path not valid with native proxy mode"
        );
        assert_eq!(SshProxy::parse("native"), Some(SshProxy::Native));
        assert_eq!(SshProxy::parse("Native"), None);
    }

    #[test]
    fn the_remote_command_runs_in_a_real_shell() {
        // What sshd would do with it: the login shell runs the string.
        // echo stands in for nc: it has no -q, so it gets no -q0, and shows its arguments.
        let cmd = helper_command(
            SshProxy::Netcat,
            Some("echo"),
            "/tmp/s",
            "test:///default",
            false,
        )
        .unwrap();
        let out = Command::new("sh").args(["-c", &cmd]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "-U /tmp/s\n");
    }
}
