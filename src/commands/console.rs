//! The guest's text console: `console` and `ttyconsole` (tools/virsh-domain.c cmdConsole,
//! cmdTTYConsole; tools/virsh-console.c virshRunConsole).
//!
//! There is no daemon to hand out a console stream, so `console` opens the pty that the guest's
//! live XML names and relays bytes between it and the user's terminal itself. Exclusive access
//! (libvirt's virChrdevOpen) is an `flock` on the pty device: a second session fails with
//! libvirt's "Active console session exists", and `--force` sends the holder SIGTERM (its pid
//! is kept in a file named after the pty) and waits for the lock.

use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use virtsh_api::{Domain, Error, ErrorKind};

/// libvirt's VIR_DOMAIN_SHUTOFF.
const STATE_SHUTOFF: i32 = 5;
/// How long `--force` waits for the old session to let go of the pty.
const FORCE_WAIT: Duration = Duration::from_secs(2);

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
    // --safe: a pty relayed by the console itself is safe console handling (libvirt's QEMU
    // driver accepts VIR_DOMAIN_CONSOLE_SAFE for ptys too), so the flag changes nothing.
    run_console(sh, &dom, devname, cmd.has("force"))
}

/// virsh's cmdRunConsole: check the domain runs and stdin is a terminal, print the banner,
/// then relay the console until the escape character, the guest's end, or a signal. Also what
/// `start --console` and `create --console` call.
pub fn run_console(sh: &mut Shell, dom: &Domain, devname: Option<&str>, force: bool) -> CmdResult {
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
    let pty = open_console(sh, dom, devname, force)?;
    let raw = RawTerminal::enter().map_err(|e| {
        CmdError::msg(format!(
            "unable to set tty attributes: {}",
            crate::commands::virsh::os_err(&e)
        ))
    })?;
    let _pid_file = PidFile::write(&pty.path);
    let signals = SignalTrap::install();
    let result = relay(pty.fd.as_raw_fd(), escape);
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

/// The guest's pty, opened and locked.
struct Pty {
    path: PathBuf,
    fd: OwnedFd,
}

/// Find the character device as libvirt's qemuDomainOpenConsole does, then take the pty
/// (virChrdevOpen), with libvirt's errors.
fn open_console(
    sh: &Shell,
    dom: &Domain,
    devname: Option<&str>,
    force: bool,
) -> Result<Pty, CmdError> {
    let conn = sh.writable("virDomainOpenConsole")?;
    // The pty is a path on the host that runs the guest: only an embedded driver's guest runs
    // here. libvirt's test driver has no virDomainOpenConsole either.
    let local = sh
        .uri
        .as_deref()
        .and_then(|u| virtsh_api::Uri::parse(u).ok())
        .is_some_and(|u| !u.is_remote() && u.driver != "test");
    if !local {
        return Err(Error::unsupported("virDomainOpenConsole").into());
    }
    let xml = conn.domain_xml(dom, 0)?;
    let root = virtsh_xml::dom::parse(&xml).map_err(|e| CmdError::msg(e.to_string()))?;
    let hvm = root.text_at("os/type") == Some("hvm");
    let devices = chr_devices(&root, hvm);
    let chr = find_chr(&devices, devname).ok_or_else(|| {
        Error::internal(format!(
            "cannot find character device {}",
            devname.unwrap_or("<null>")
        ))
    })?;
    if chr.chr_type != "pty" {
        return Err(Error::internal(format!(
            "character device {} is not using a PTY",
            devname.unwrap_or(&chr.alias)
        ))
        .into());
    }
    let Some(path) = chr.path.clone() else {
        return Err(Error::internal("PTY device is not yet assigned").into());
    };
    let path = PathBuf::from(path);
    let fd = open_pty(&path)?;
    if !try_lock(&fd)? {
        if !force {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                "Active console session exists for this domain",
            )
            .into());
        }
        take_over(&path, &fd)?;
    }
    Ok(Pty { path, fd })
}

/// A character device of the live XML, with the alias libvirt's QEMU driver gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ChrDev {
    /// console, serial, parallel, channel.
    device: String,
    chr_type: String,
    path: Option<String>,
    alias: String,
    /// Other names `--devname` accepts: `consoleN` for a console that is an alias of a serial
    /// port, a channel's target name.
    other_names: Vec<String>,
}

fn chr_devices(root: &virtsh_xml::dom::Element, hvm: bool) -> Vec<ChrDev> {
    let Some(devices) = root.child("devices") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for kind in ["console", "serial", "parallel", "channel"] {
        for (i, el) in devices.children_named(kind).enumerate() {
            let target = el.child("target");
            let target_type = target.and_then(|t| t.attr("type"));
            // qemuAssignDeviceAliases: the first console of an HVM guest that targets a serial
            // port is that port, and shares its alias.
            let serial_compat =
                kind == "console" && i == 0 && hvm && matches!(target_type, None | Some("serial"));
            let computed = if serial_compat {
                "serial0".to_string()
            } else {
                format!("{kind}{i}")
            };
            let alias = el
                .child("alias")
                .and_then(|a| a.attr("name"))
                .map(str::to_string)
                .unwrap_or_else(|| computed.clone());
            let mut other_names = Vec::new();
            if computed != alias {
                other_names.push(computed);
            }
            if kind == "console" && serial_compat {
                other_names.push("console0".into());
            }
            if kind == "channel" {
                if let Some(n) = target.and_then(|t| t.attr("name")) {
                    other_names.push(n.to_string());
                }
            }
            out.push(ChrDev {
                device: kind.to_string(),
                chr_type: el.attr("type").unwrap_or("pty").to_string(),
                path: el
                    .child("source")
                    .and_then(|s| s.attr("path"))
                    .map(str::to_string),
                alias,
                other_names,
            });
        }
    }
    out
}

/// qemuDomainOpenConsole's choice: by alias among consoles, then serial ports, then parallel
/// ports (then, beyond libvirt, channels by alias or target name); without a name, the first
/// console, else the first serial port.
fn find_chr<'a>(devices: &'a [ChrDev], devname: Option<&str>) -> Option<&'a ChrDev> {
    let of = |kind: &'a str| devices.iter().filter(move |d| d.device == kind);
    match devname {
        Some(name) => ["console", "serial", "parallel", "channel"]
            .iter()
            .find_map(|k| of(k).find(|d| d.alias == name))
            .or_else(|| {
                devices
                    .iter()
                    .find(|d| d.other_names.iter().any(|n| n == name))
            }),
        None => of("console").next().or_else(|| of("serial").next()),
    }
}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn open_pty(path: &Path) -> Result<OwnedFd, CmdError> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| CmdError::msg(format!("invalid path '{}'", path.display())))?;
    // SAFETY: a valid C string; the result is checked.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        let e = last_os_error();
        return Err(Error::new(
            ErrorKind::SystemError,
            format!(
                "Unable to open device {}: {}",
                path.display(),
                crate::commands::virsh::os_err(&e)
            ),
        )
        .into());
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // As virFDStreamOpenPTY: the pty carries bytes untouched (no echo, no line editing).
    set_raw(fd.as_raw_fd()).map_err(|e| {
        CmdError::msg(format!(
            "unable to set tty attributes: {}",
            crate::commands::virsh::os_err(&e)
        ))
    })?;
    Ok(fd)
}

fn set_raw(fd: RawFd) -> std::io::Result<libc::termios> {
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut t) } < 0 {
        return Err(last_os_error());
    }
    let saved = t;
    // SAFETY: cfmakeraw and tcsetattr only touch `t` and the descriptor.
    unsafe { libc::cfmakeraw(&mut t) };
    if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &t) } < 0 {
        return Err(last_os_error());
    }
    Ok(saved)
}

/// Ok(true) when the exclusive lock on the pty is ours.
fn try_lock(fd: &OwnedFd) -> Result<bool, CmdError> {
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Ok(false);
    }
    Err(Error::new(
        ErrorKind::SystemError,
        format!(
            "Unable to lock console: {}",
            crate::commands::virsh::os_err(&e)
        ),
    )
    .into())
}

/// `--force`: stop the session that holds the pty and take the lock, waiting a bounded time.
fn take_over(path: &Path, fd: &OwnedFd) -> Result<(), CmdError> {
    for pid in holders(path) {
        // SAFETY: a plain signal to a process that has this pty open.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + FORCE_WAIT;
    loop {
        if try_lock(fd)? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                "Active console session exists for this domain",
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The console sessions holding `path`: the pid its pid file names, else every process with
/// the pty open that runs this same program. A pid is only trusted when that process has the
/// pty open, so a stale or forged pid file never makes us signal a stranger.
fn holders(path: &Path) -> Vec<i32> {
    let me = std::process::id() as i32;
    let exe = std::fs::read_link("/proc/self/exe").ok();
    let same_program = |pid: i32| {
        let their = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        their.is_some() && their == exe
    };
    if let Some(pid) = std::fs::read_to_string(pid_file_path(path))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    {
        if pid > 0 && pid != me && has_open(pid, path) {
            return vec![pid];
        }
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && same_program(pid) && has_open(pid, path))
        .collect()
}

fn has_open(pid: i32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|f| std::fs::read_link(f.path()).is_ok_and(|t| t == path))
}

/// `$XDG_RUNTIME_DIR/virtsh-console-ptsN.pid` (or in /tmp).
fn pid_file_path(pty: &Path) -> PathBuf {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let name: String = pty
        .strip_prefix("/dev")
        .unwrap_or(pty)
        .to_string_lossy()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    dir.join(format!("virtsh-console-{name}.pid"))
}

/// Our pid, next to the lock, for a later `--force`; removed when the session ends.
struct PidFile(Option<PathBuf>);

impl PidFile {
    fn write(pty: &Path) -> PidFile {
        let path = pid_file_path(pty);
        let tmp = path.with_extension(format!("pid.{}", std::process::id()));
        let ok = std::fs::write(&tmp, format!("{}\n", std::process::id())).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
        }
        PidFile(ok.then_some(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let Some(path) = &self.0 else { return };
        // Remove it only if it is still ours (a --force session may have replaced it).
        let mine = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            == Some(std::process::id());
        if mine {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The user's terminal in raw mode (virsh's vshTTYMakeRaw); restored when dropped.
struct RawTerminal {
    saved: libc::termios,
}

impl RawTerminal {
    fn enter() -> std::io::Result<RawTerminal> {
        let saved = set_raw(libc::STDIN_FILENO)?;
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

    fn devices(xml: &str) -> Vec<ChrDev> {
        let root = virtsh_xml::dom::parse(xml).unwrap();
        chr_devices(&root, true)
    }

    const LIVE: &str = "<domain><devices>\
        <serial type='pty'><source path='/dev/pts/3'/><target port='0'/></serial>\
        <serial type='file'><source path='/tmp/log'/><target port='1'/></serial>\
        <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/>\
        <target type='serial' port='0'/></console>\
        <channel type='pty'><source path='/dev/pts/4'/>\
        <target type='virtio' name='org.example.0'/></channel>\
        </devices></domain>";

    #[test]
    fn devname_matches_libvirt_aliases() {
        let d = devices(LIVE);
        let by = |n: Option<&str>| find_chr(&d, n).map(|c| (c.device.as_str(), c.path.clone()));
        assert_eq!(by(None), Some(("console", Some("/dev/pts/3".into()))));
        assert_eq!(by(Some("serial0")).unwrap().0, "console");
        assert_eq!(by(Some("console0")).unwrap().0, "console");
        assert_eq!(by(Some("serial1")).unwrap().0, "serial");
        assert_eq!(
            by(Some("channel0")).unwrap().1.as_deref(),
            Some("/dev/pts/4")
        );
        assert_eq!(by(Some("org.example.0")).unwrap().0, "channel");
        assert_eq!(by(Some("nope")), None);
    }

    #[test]
    fn pid_file_is_named_after_the_pty() {
        let p = pid_file_path(Path::new("/dev/pts/7"));
        assert!(p.ends_with("virtsh-console-pts7.pid"), "{}", p.display());
    }
}
