//! Saving and restoring domain state, core dumps, save images and job aborts: save, restore,
//! dump, save-image-dumpxml, save-image-define, save-image-edit, domjobabort
//! (tools/virsh-domain.c: cmdSave, cmdRestore, cmdDump, cmdSaveImage*, cmdDomjobabort).
//!
//! save and dump run as virsh's virshWatchJob runs them: the operation goes on while a
//! watcher asks for the job's progress every 500 ms (`--verbose`, printed as
//! `\rSave: [ 45 %]` off a terminal and as a bar on one), and Ctrl-C aborts the job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use virtsh_api::flags::{abort_job, dump, dump_format, save};
use virtsh_api::{Connection, Domain, Error, ErrorKind, TypedParam, TypedValue};

use crate::commands::guest::domain_opt;
use crate::commands::lifecycle::read_file;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::output::progress::Progress;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};

/// VIR_DOMAIN_SAVE_IMAGE_XML_SECURE (the same bit as VIR_DOMAIN_XML_SECURE).
const IMAGE_XML_SECURE: u32 = 1 << 0;

/// `save DOMAIN FILE [--bypass-cache] [--xml FILE] [--running | --paused] [--verbose]`.
pub fn cmd_save(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    // cmdSave looks the domain up before anything else, then doSave reads the rest.
    let (dom, name) = domain_opt(sh, cmd)?;
    let to = req_str(cmd, "file")?;
    let flags = cmd.flags(&[
        ("bypass-cache", save::BYPASS_CACHE),
        ("running", save::RUNNING),
        ("paused", save::PAUSED),
    ]);
    let xml = match opt_str(cmd, "xml")? {
        Some(f) => Some(read_file(f)?),
        None => None,
    };
    // virsh calls the flag-less API when it can: its name is in the errors.
    let api = if flags != 0 || xml.is_some() {
        "virDomainSaveFlags"
    } else {
        "virDomainSave"
    };
    let path = absolute_path(to);
    watch_job(sh, &dom, cmd.has("verbose"), "Save", api, |c| {
        c.save_domain(&dom, &path, xml.as_deref(), flags)
    })
    .map_err(|e| CmdError::with(format!("Failed to save domain '{name}' to {to}"), e))?;
    sh.print_extra(&format!("\nDomain '{name}' saved to {to}\n"));
    Ok(())
}

/// `restore FILE [--bypass-cache] [--xml FILE] [--running | --paused] [--reset-nvram]`.
pub fn cmd_restore(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let from = req_str(cmd, "file")?;
    let flags = cmd.flags(&[
        ("bypass-cache", save::BYPASS_CACHE),
        ("running", save::RUNNING),
        ("paused", save::PAUSED),
        ("reset-nvram", save::RESET_NVRAM),
    ]);
    let xml = match opt_str(cmd, "xml")? {
        Some(f) => Some(read_file(f)?),
        None => None,
    };
    let api = if flags != 0 || xml.is_some() {
        "virDomainRestoreFlags"
    } else {
        "virDomainRestore"
    };
    let path = absolute_path(from);
    sh.writable(api)
        .and_then(|c| c.restore_domain(&path, xml.as_deref(), flags))
        .map_err(|e| named_unsupported(e, api))
        .map_err(|e| CmdError::with(format!("Failed to restore domain from {from}"), e))?;
    sh.print_extra(&format!("Domain restored from {from}\n"));
    Ok(())
}

/// `dump DOMAIN FILE [--live] [--crash] [--bypass-cache] [--reset] [--verbose]
/// [--memory-only] [--format FORMAT]`.
pub fn cmd_dump(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, name) = domain_opt(sh, cmd)?;
    let to = req_str(cmd, "file")?;
    let flags = cmd.flags(&[
        ("live", dump::LIVE),
        ("crash", dump::CRASH),
        ("bypass-cache", dump::BYPASS_CACHE),
        ("reset", dump::RESET),
        ("memory-only", dump::MEMORY_ONLY),
    ]);
    let mut format = dump_format::RAW;
    if cmd.has("format") {
        if flags & dump::MEMORY_ONLY == 0 {
            return Err(CmdError::msg("--format only works with --memory-only"));
        }
        // vshCommandOptStringQuiet: an empty value reads as no value, so RAW stays.
        if let Some(f) = cmd.get("format").filter(|f| !f.is_empty()) {
            format = dump_format::NAMES
                .iter()
                .position(|n| *n == f)
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| {
                    CmdError::msg(format!(
                        "format '{f}' is not supported, expecting 'kdump-zlib', \
                         'kdump-lzo', 'kdump-snappy', 'win-dmp' or 'elf'"
                    ))
                })?;
        }
    }
    let api = if format == dump_format::RAW {
        "virDomainCoreDump"
    } else {
        "virDomainCoreDumpWithFormat"
    };
    let path = absolute_path(to);
    watch_job(sh, &dom, cmd.has("verbose"), "Dump", api, |c| {
        c.core_dump(&dom, &path, format, flags)
    })
    .map_err(|e| CmdError::with(format!("Failed to core dump domain '{name}' to {to}"), e))?;
    sh.print_extra(&format!("\nDomain '{name}' dumped to {to}\n"));
    Ok(())
}

/// `save-image-dumpxml FILE [--security-info] [--xpath EXPR] [--wrap]`.
pub fn cmd_save_image_dumpxml(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[("security-info", IMAGE_XML_SECURE)]);
    let file = req_str(cmd, "file")?;
    let api = "virDomainSaveImageGetXMLDesc";
    let xml = sh
        .writable(api)
        .and_then(|c| c.save_image_xml(&absolute_path(file), flags))
        .map_err(|e| named_unsupported(e, api))?;
    crate::commands::domain::print_xml_or_xpath(sh, cmd, &xml)
}

/// `save-image-define FILE XML [--running | --paused]`.
pub fn cmd_save_image_define(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[("running", save::RUNNING), ("paused", save::PAUSED)]);
    let file = req_str(cmd, "file")?;
    let xml = read_file(req_str(cmd, "xml")?)?;
    let api = "virDomainSaveImageDefineXML";
    sh.writable(api)
        .and_then(|c| c.save_image_define(&absolute_path(file), &xml, flags))
        .map_err(|e| named_unsupported(e, api))
        .map_err(|e| CmdError::with(format!("Failed to update {file}"), e))?;
    sh.print_extra(&format!("State file {file} updated.\n"));
    Ok(())
}

/// `save-image-edit FILE [--running | --paused]`, through virsh-edit.c's cycle.
pub fn cmd_save_image_edit(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let flags = cmd.flags(&[("running", save::RUNNING), ("paused", save::PAUSED)]);
    // virsh refuses these up front: the define step would fail on them after every edit.
    exclusive(cmd, "running", "paused")?;
    let file = req_str(cmd, "file")?;
    let path = absolute_path(file);
    let get_xml = |sh: &Shell| {
        sh.writable("virDomainSaveImageGetXMLDesc")
            .and_then(|c| c.save_image_xml(&path, IMAGE_XML_SECURE))
            .map_err(|e| named_unsupported(e, "virDomainSaveImageGetXMLDesc"))
    };
    let before = get_xml(sh)?;
    let after = crate::commands::edit::edit_text(&before, "save-image")?;
    if after == before {
        sh.print_extra(&format!(
            "Saved image {file} XML configuration not changed.\n"
        ));
        return Ok(());
    }
    // Someone may have changed the image while the editor ran: virsh re-reads it first.
    let msg = if get_xml(sh)? != before {
        Some("The XML configuration was changed by another user.".to_string())
    } else {
        match sh
            .writable("virDomainSaveImageDefineXML")
            .and_then(|c| c.save_image_define(&path, &after, flags))
        {
            Ok(()) => None,
            Err(e) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                // virsh would offer to edit again here; the error is what a person needs
                // to decide, and the edit is lost either way.
                return Err(e.into());
            }
            Err(_) => Some("Failed.".to_string()),
        }
    };
    if let Some(msg) = msg {
        // Off a terminal vshAskReedit cannot ask: virsh prints the bare message, not the
        // driver's error, and goes on to report the edit as done (and exits 0).
        sh.error(&msg);
    }
    sh.print_extra(&format!("State file {file} edited.\n"));
    Ok(())
}

/// `domjobabort DOMAIN [--postcopy]`: prints nothing on success, as virsh.
pub fn cmd_domjobabort(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let (dom, _) = domain_opt(sh, cmd)?;
    let flags = cmd.flags(&[("postcopy", abort_job::POSTCOPY)]);
    let api = if flags == 0 {
        "virDomainAbortJob"
    } else {
        "virDomainAbortJobFlags"
    };
    sh.writable(api)
        .and_then(|c| c.abort_job(&dom, flags))
        .map_err(|e| named_unsupported(e, api))?;
    Ok(())
}

/// A driver that lacks the call names the API virsh would have called (virDomainSave rather
/// than virDomainSaveFlags when no flag is given), as libvirt's public layer does.
fn named_unsupported(e: Error, api: &str) -> Error {
    if e.kind == ErrorKind::NoSupport {
        Error::unsupported(api)
    } else {
        e
    }
}

/// libvirt's public API makes every path absolute before the driver sees it
/// (g_canonicalize_filename against g_get_current_dir): the daemon of a remote connection has
/// a working directory of its own, and the messages name the absolute path.
pub fn absolute_path(path: &str) -> String {
    canonicalize(path, &current_dir())
}

/// g_get_current_dir: $PWD when it names the working directory (so a path through a symlink
/// keeps its spelling), getcwd otherwise.
fn current_dir() -> String {
    use std::os::unix::fs::MetadataExt;
    let same =
        |a: &std::fs::Metadata, b: &std::fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
    if let Ok(pwd) = std::env::var("PWD") {
        if let (Ok(dot), Ok(p)) = (std::fs::metadata("."), std::fs::metadata(&pwd)) {
            if same(&dot, &p) {
                return pwd;
            }
        }
    }
    std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string())
}

/// g_canonicalize_filename: `path` made absolute against `cwd`, without `.`, `..` or repeated
/// and trailing slashes; symbolic links are not resolved. Two leading slashes stay two
/// (POSIX leaves their meaning open), more become one.
fn canonicalize(path: &str, cwd: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let lead = full.bytes().take_while(|&b| b == b'/').count();
    let mut out = String::from(if lead == 2 { "//" } else { "/" });
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    out.push_str(&parts.join("/"));
    out
}

/// Set by SIGINT while a job runs; the watcher aborts the job when it sees it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// SIGINT turned into [`INTERRUPTED`] for as long as a job runs; the old disposition comes
/// back when dropped.
struct SigintTrap {
    old: Option<libc::sigaction>,
}

impl SigintTrap {
    fn install() -> SigintTrap {
        INTERRUPTED.store(false, Ordering::SeqCst);
        // SAFETY: the handler only stores to an atomic. SA_RESTART, so that the calls the
        // job is blocked in (a socket read, a file write) go on rather than fail with EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            let mut prev: libc::sigaction = std::mem::zeroed();
            let old = (libc::sigaction(libc::SIGINT, &sa, &mut prev) == 0).then_some(prev);
            SigintTrap { old }
        }
    }
}

impl Drop for SigintTrap {
    fn drop(&mut self) {
        if let Some(prev) = &self.old {
            // SAFETY: puts back what sigaction returned.
            unsafe { libc::sigaction(libc::SIGINT, prev, std::ptr::null_mut()) };
        }
    }
}

/// How often virshWatchJob asks for the job's progress.
const POLL: Duration = Duration::from_millis(500);
/// How soon a Ctrl-C is acted on.
const TICK: Duration = Duration::from_millis(100);

/// virshWatchJob: run `op` on the shell's connection while a watcher thread reports the
/// job's progress (with `verbose`) and aborts the job on Ctrl-C. With `verbose`, a finished
/// job ends with `[100 %]`, as virsh's does.
///
/// The connection is `dyn Connection`, which is not `Sync`, and the remote driver holds its
/// session for the whole of a call anyway, so the job cannot be watched over the connection
/// that runs it (virsh can: libvirt's client multiplexes calls). The watcher opens a second
/// connection to the same URI instead, and only when it needs one: at the first progress
/// poll (500 ms in, which the test driver's instant jobs never reach) or at a Ctrl-C. A
/// daemon sees the job from any connection; `test:///default` connections of one process
/// share their state.
fn watch_job(
    sh: &mut Shell,
    dom: &Domain,
    verbose: bool,
    label: &str,
    api: &str,
    op: impl FnOnce(&dyn Connection) -> virtsh_api::Result<()>,
) -> virtsh_api::Result<()> {
    // What the command printed so far goes out before the progress, as virsh flushes stdout.
    sh.flush();
    let conn = sh.writable(api)?;
    let target = sh.uri.clone().map(|uri| (uri, sh.readonly));
    let progress = verbose.then(|| Progress::new(label));
    let trap = SigintTrap::install();
    let (done, wait) = mpsc::channel::<()>();
    let result = std::thread::scope(|s| {
        let watched = dom.clone();
        let shown = progress.as_ref();
        s.spawn(move || watcher(&wait, target, &watched, shown));
        let r = op(conn);
        // The watcher stops when the sender is gone.
        drop(done);
        r
    });
    drop(trap);
    match (&result, progress) {
        (Ok(()), Some(p)) => p.finish(),
        (Err(_), Some(p)) => p.abandon(),
        _ => {}
    }
    result.map_err(|e| named_unsupported(e, api))
}

/// The watcher's own connection, opened at its first use; a failure to open leaves the job
/// unwatched, as virsh ignores its failed polls.
struct Second {
    target: Option<(String, bool)>,
    conn: Option<Box<dyn Connection>>,
    tried: bool,
}

impl Second {
    fn get(&mut self) -> Option<&dyn Connection> {
        if !self.tried {
            self.tried = true;
            if let Some((uri, readonly)) = &self.target {
                self.conn = crate::connect::open(uri, *readonly).ok();
            }
        }
        self.conn.as_deref()
    }
}

/// The watcher's side of [`watch_job`]: until `done` closes, poll the job every [`POLL`]
/// when `progress` is wanted, and abort it once on Ctrl-C (virsh removes its Ctrl-C watch
/// after the first abort too).
fn watcher(
    done: &mpsc::Receiver<()>,
    target: Option<(String, bool)>,
    dom: &Domain,
    progress: Option<&Progress>,
) {
    let mut second = Second {
        target,
        conn: None,
        tried: false,
    };
    let mut next_poll = Instant::now() + POLL;
    let mut aborted = false;
    loop {
        match done.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if !aborted && INTERRUPTED.swap(false, Ordering::SeqCst) {
            aborted = true;
            if let Some(c) = second.get() {
                // virsh ignores the result: the job's own error tells what happened.
                let _ = c.abort_job(dom, 0);
            }
        }
        let Some(p) = progress else { continue };
        if Instant::now() < next_poll {
            continue;
        }
        // A daemon may hold the query until the job's end (QEMU's save, once the memory is
        // out, keeps the domain locked while the file is flushed); a Ctrl-C meanwhile waits
        // for it, as in virsh, whose progress poll and Ctrl-C watch share one loop.
        if let Some(Ok((_, params))) = second.get().map(|c| c.domain_job_stats(dom, 0)) {
            let (total, remaining) = data_amounts(&params);
            if total > 0 {
                p.set(percent(remaining, total));
            }
        }
        // The next poll is an interval after this one ended, as a GLib timeout source runs.
        next_poll = Instant::now() + POLL;
    }
}

/// virDomainGetJobInfo's dataTotal and dataRemaining, from virDomainGetJobStats's fields
/// (what the watcher asks for; drivers answer both alike). A migration or save reports
/// `data_*`; a memory-only dump only `memory_*`, whose sums with the disk's are the data
/// figures (qemuDomainJobDataToInfo: data = memory + file).
fn data_amounts(params: &[TypedParam]) -> (u64, u64) {
    if params.iter().any(|p| p.field == "data_total") {
        return (ull(params, "data_total"), ull(params, "data_remaining"));
    }
    (
        ull(params, "memory_total").saturating_add(ull(params, "disk_total")),
        ull(params, "memory_remaining").saturating_add(ull(params, "disk_remaining")),
    )
}

/// An unsigned long long job statistic, 0 when absent.
fn ull(params: &[TypedParam], field: &str) -> u64 {
    params
        .iter()
        .find(|p| p.field == field)
        .and_then(|p| match p.value {
            TypedValue::ULLong(v) => Some(v),
            _ => None,
        })
        .unwrap_or(0)
}

/// virshPrintJobProgress's number: 100 only when nothing remains, otherwise at most 99.
/// A remainder above the total (which virsh would print as a negative number) shows 0.
fn percent(remaining: u64, total: u64) -> u32 {
    if remaining == 0 {
        return 100;
    }
    // In floating point, as virsh computes it, so that no product overflows.
    let p = 100.0 - remaining as f64 * 100.0 / total as f64;
    (p as i64).clamp(0, 99) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_canonical_like_glib() {
        assert_eq!(canonicalize("x.sav", "/tmp"), "/tmp/x.sav");
        assert_eq!(canonicalize("./a/../b//c/", "/tmp"), "/tmp/b/c");
        assert_eq!(canonicalize("/a/./b/../../..", "/x"), "/");
        assert_eq!(canonicalize("//net/x", "/x"), "//net/x");
        assert_eq!(canonicalize("///a", "/x"), "/a");
        assert_eq!(canonicalize("../../..", "/tmp"), "/");
    }

    #[test]
    fn dumps_report_memory_figures() {
        let p = |f: &str, v: u64| TypedParam::new(f, TypedValue::ULLong(v));
        let dump = [p("memory_total", 400), p("memory_remaining", 100)];
        assert_eq!(data_amounts(&dump), (400, 100));
        let save = [
            p("data_total", 50),
            p("data_remaining", 0),
            p("memory_total", 40),
        ];
        assert_eq!(data_amounts(&save), (50, 0));
        assert_eq!(data_amounts(&[]), (0, 0));
    }

    #[test]
    fn progress_numbers_are_virshs() {
        assert_eq!(percent(0, 10), 100);
        assert_eq!(percent(1, 1_000_000), 99);
        assert_eq!(percent(55, 100), 45);
        assert_eq!(percent(100, 100), 0);
        assert_eq!(percent(200, 100), 0);
    }
}
