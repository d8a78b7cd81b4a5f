//! Commands for containers: `send-process-signal` and `lxc-enter-namespace`
//! (tools/virsh-domain.c cmdSendProcessSignal, cmdLxcEnterNamespace).

use std::ffi::CString;
use std::os::fd::AsRawFd;

use crate::commands::guest::{domain_opt, opt_ll};
use crate::commands::options::req_str;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};

/// virsh's getSignalNumber: a number, or a name (any case, `sig`/`sig_` prefix optional) of
/// virDomainProcessSignal; negative when it is neither.
fn signal_number(name: &str) -> i64 {
    let lower = name.to_ascii_lowercase();
    if let Some((neg, digits)) = crate::commands::options::c_sign_digits(&lower) {
        if let Ok(v) = digits.parse::<i32>() {
            return if neg { -i64::from(v) } else { i64::from(v) };
        }
    }
    let bare = lower
        .strip_prefix("sig_")
        .or_else(|| lower.strip_prefix("sig"))
        .unwrap_or(&lower);
    crate::defs::domain::SIGNALS
        .iter()
        .position(|s| *s == bare)
        .map_or(-1, |i| i as i64)
}

/// `send-process-signal DOMAIN PID SIGNAME`.
pub fn cmd_send_process_signal(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let pid = opt_ll(cmd, "pid")?.unwrap_or(0);
    let signame = req_str(cmd, "signame")?;
    let signum = signal_number(signame);
    if signum < 0 {
        return Err(CmdError::msg(format!("malformed signal name: {signame}")));
    }
    sh.writable("virDomainSendProcessSignal")?
        .send_process_signal(&dom, pid, signum as u32, 0)?;
    Ok(())
}

/// `lxc-enter-namespace DOMAIN [--noseclabel] -- CMD...`: run a command in the container's
/// namespaces and cgroup, from a child of this process (twice forked, as virsh does: once so
/// that this shell stays where it is, once more because a pid namespace only applies to
/// children).
pub fn cmd_lxc_enter_namespace(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let argv: Vec<CString> = cmd
        .all("cmd")
        .into_iter()
        .map(|a| CString::new(a).map_err(|_| CmdError::msg(format!("invalid argument '{a}'"))))
        .collect::<Result<_, _>>()?;
    sh.flush();
    let conn = sh.conn()?;
    let fds = conn.lxc_open_namespace(&dom, 0)?;
    if !cmd.has("noseclabel") {
        // No security driver confines containers here (the model is "none"); asking keeps
        // virsh's errors for a connection that cannot say.
        conn.security_model()?;
        conn.domain_security_label(&dom)?;
    }
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: fork; the child only joins the cgroup and namespaces, forks and execs.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(CmdError::msg(format!(
            "cannot fork child process: {}",
            virtsh_api::strerror(&std::io::Error::last_os_error())
        )));
    }
    if pid == 0 {
        // The child: virsh's EXIT_CANCELED (125) when it cannot get in.
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        if conn.lxc_enter_cgroup(&dom, me, 0).is_err() {
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(125) };
        }
        for fd in &fds {
            // EINVAL: the namespace is already ours (libvirt's virProcessSetNamespaces).
            // SAFETY: setns on a descriptor the driver opened for us.
            if unsafe { libc::setns(fd.as_raw_fd(), 0) } < 0
                && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL)
            {
                // SAFETY: as above.
                unsafe { libc::_exit(125) };
            }
        }
        // SAFETY: fork in the child, which is single-threaded now.
        let grandchild = unsafe { libc::fork() };
        if grandchild == 0 {
            // SAFETY: argv is a NULL-terminated array of C strings that outlive the call.
            unsafe { libc::execv(ptrs[0], ptrs.as_ptr()) };
            let code = if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
                127
            } else {
                126
            };
            // SAFETY: as above.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        if grandchild < 0 || unsafe { libc::waitpid(grandchild, &mut status, 0) } < 0 {
            // SAFETY: as above.
            unsafe { libc::_exit(126) };
        }
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    drop(fds);
    let mut status = 0;
    // SAFETY: waits for our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(CmdError::msg("cannot wait for child process"));
        }
    }
    // virProcessWait: anything but a clean exit is an error.
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let what = if libc::WIFEXITED(status) {
        format!("unexpected exit status {}", libc::WEXITSTATUS(status))
    } else {
        format!("fatal signal {}", libc::WTERMSIG(status))
    };
    Err(virtsh_api::Error::internal(format!("Child process ({pid}) {what}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_as_virsh_reads_them() {
        assert_eq!(signal_number("15"), 15);
        assert_eq!(signal_number("SIGTERM"), 15);
        assert_eq!(signal_number("sig_kill"), 9);
        assert_eq!(signal_number("Hup"), 1);
        assert_eq!(signal_number("rt32"), 64);
        assert_eq!(signal_number("bogus"), -1);
        assert_eq!(signal_number("-3"), -3);
    }
}
