//! The guest's text console: `console` and `ttyconsole` (tools/virsh-domain.c cmdConsole,
//! cmdTTYConsole; tools/virsh-console.c virshRunConsole).
//!
//! The driver opens the console (virDomainOpenConsole) as one descriptor: a local guest's pty,
//! or a socket pumped to a daemon's stream. This side puts the user's terminal in raw mode and
//! relays bytes between the two until the escape character, the guest's end, or a signal.

use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use virtsh_api::console::{CONSOLE_FORCE, CONSOLE_SAFE};
use virtsh_api::Domain;

/// libvirt's VIR_DOMAIN_SHUTOFF.
const STATE_SHUTOFF: i32 = 5;

pub fn cmd_ttyconsole(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let xml = sh.conn()?.domain_xml(&dom, 0)?;
    let root = virtsh_xml::dom::parse(&xml).map_err(|e| CmdError::msg(e.to_string()))?;
    // virsh: virXPathString("string(/domain/devices/console/@tty)") and, when that is empty,
    // a failure that reports nothing.
    let tty = root
        .child("devices")
        .and_then(|d| d.child("console"))
        .and_then(|c| c.attr("tty"))
        .filter(|t| !t.is_empty());
    match tty {
        Some(t) => sh.print_value(&t.to_string()),
        None => Err(CmdError::lines(Vec::new())),
    }
}

pub fn cmd_console(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let devname = crate::commands::options::opt_str(cmd, "devname")?;
    run_console(sh, &dom, devname, cmd.has("force"), cmd.has("safe"))
}

/// virsh's cmdRunConsole: check the domain runs and stdin is a terminal, print the banner,
/// then relay the console until the escape character, the guest's end, or a signal. Also what
/// `start --console` and `create --console` call.
pub fn run_console(
    sh: &mut Shell,
    dom: &Domain,
    devname: Option<&str>,
    force: bool,
    safe: bool,
) -> CmdResult {
    let (state, _) = sh
        .conn()?
        .domain_state(dom)
        .map_err(|_| CmdError::msg("Unable to get domain status"))?;
    if state == STATE_SHUTOFF {
        return Err(CmdError::msg("The domain is not running"));
    }
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
        return Err(CmdError::msg(
            "Cannot run interactive console without a controlling TTY",
        ));
    }
    sh.print_extra(&format!("Connected to domain '{}'\n", dom.name));
    sh.print_extra(&format!("Escape character is {}", sh.escape_char));
    if let Some(c) = sh.escape_char.strip_prefix('^') {
        sh.print_extra(&format!(" (Ctrl + {c})"));
    }
    sh.print_extra("\n");
    sh.flush();

    let escape = escape_byte(&sh.escape_char);
    let mut flags = 0;
    if force {
        flags |= CONSOLE_FORCE;
    }
    if safe {
        flags |= CONSOLE_SAFE;
    }
    let console = sh
        .writable("virDomainOpenConsole")?
        .open_console(dom, devname, flags)?;
    let raw = RawTerminal::enter().map_err(|e| {
        CmdError::msg(format!(
            "unable to set tty attributes: {}",
            crate::commands::virsh::os_err(&e)
        ))
    })?;
    let signals = SignalTrap::install();
    let result = relay(console.as_fd().as_raw_fd(), escape);
    drop(signals);
    drop(raw);
    result
        .map(|_end| ())
        .map_err(|e| CmdError::msg(format!("console: {}", crate::commands::virsh::os_err(&e))))
}

/// vshGetEscapeChar: `^X` is control-X, anything else its first byte.
pub fn escape_byte(s: &str) -> u8 {
    let b = s.as_bytes();
    match b {
        [b'^', c, ..] => c.to_ascii_uppercase() ^ 0x40,
        [c, ..] => *c,
        [] => 0x1d,
    }
}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// The user's terminal in raw mode (virsh's vshTTYMakeRaw); restored when dropped.
struct RawTerminal {
    saved: libc::termios,
}

impl RawTerminal {
    fn enter() -> std::io::Result<RawTerminal> {
        let saved = virtsh_state::chrdev::make_raw(std::io::stdin().as_fd())?;
        Ok(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read from the same descriptor.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &self.saved) };
    }
}

static GOT_SIGNAL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    GOT_SIGNAL.store(true, Ordering::SeqCst);
}

const TRAPPED: [libc::c_int; 5] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGPIPE,
];

/// The common signals end the session (so that the terminal is restored) instead of killing
/// the process; the old handlers come back when dropped.
struct SignalTrap {
    old: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalTrap {
    fn install() -> SignalTrap {
        GOT_SIGNAL.store(false, Ordering::SeqCst);
        let mut old = Vec::new();
        for sig in TRAPPED {
            // SAFETY: sigaction with a handler that only stores to an atomic; no SA_RESTART,
            // so poll() returns EINTR and the loop sees the flag.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                let mut prev: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &sa, &mut prev) == 0 {
                    old.push((sig, prev));
                }
            }
        }
        SignalTrap { old }
    }
}

impl Drop for SignalTrap {
    fn drop(&mut self) {
        for (sig, prev) in &self.old {
            // SAFETY: puts back what sigaction returned.
            unsafe { libc::sigaction(*sig, prev, std::ptr::null_mut()) };
        }
    }
}

/// Why the relay stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Escape,
    GuestGone,
    InputClosed,
    Signal,
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR))
}

/// Copy bytes both ways until something ends the session.
fn relay(pty: RawFd, escape: u8) -> std::io::Result<End> {
    let mut buf = [0u8; 4096];
    let mut stdout = std::io::stdout().lock();
    loop {
        if GOT_SIGNAL.load(Ordering::SeqCst) {
            return Ok(End::Signal);
        }
        let mut fds = [
            libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pty,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfd entries.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        if n < 0 {
            let e = last_os_error();
            if would_block(&e) {
                continue;
            }
            return Err(e);
        }
        // The guest's output first, so nothing it said before it went away is lost.
        if fds[1].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_fd(pty, &mut buf) {
                Ok(0) => return Ok(End::GuestGone),
                Ok(got) => {
                    stdout.write_all(&buf[..got])?;
                    stdout.flush()?;
                }
                Err(e) if would_block(&e) => {}
                // EIO: QEMU closed its side of the pty.
                Err(_) => return Ok(End::GuestGone),
            }
        }
        if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_fd(libc::STDIN_FILENO, &mut buf) {
                Ok(0) => return Ok(End::InputClosed),
                Ok(got) => {
                    let data = &buf[..got];
                    match data.iter().position(|&b| b == escape) {
                        Some(at) => {
                            write_all_fd(pty, &data[..at])?;
                            return Ok(End::Escape);
                        }
                        None => write_all_fd(pty, data)?,
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(_) => return Ok(End::InputClosed),
            }
        }
    }
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> std::io::Result<usize> {
    // SAFETY: reads into a buffer of the given length.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Write everything to the (non-blocking) pty, waiting for room with a bound.
fn write_all_fd(fd: RawFd, mut data: &[u8]) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !data.is_empty() {
        // SAFETY: writes from a slice of the given length.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n >= 0 {
            data = &data[n as usize..];
            continue;
        }
        let e = last_os_error();
        if !would_block(&e) || Instant::now() >= deadline {
            return Err(e);
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 100) };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_bytes_follow_vsh_get_escape_char() {
        assert_eq!(escape_byte("^]"), 0x1d);
        assert_eq!(escape_byte("^O"), 0x0f);
        assert_eq!(escape_byte("^o"), 0x0f);
        assert_eq!(escape_byte("x"), b'x');
    }
}
