//! `lxc:///session`: containers of an ordinary user, where unprivileged user namespaces
//! are allowed. libvirt refuses this URI for LXC; virtsh runs them as rootless tools do.
//!
//! What differs from `lxc:///system` is decided here and in [`crate::spec`]:
//! - always a user namespace (container root is the user; [`crate::spec::session_idmap`]) and
//!   a network namespace of its own, without interfaces (no veth can be made unprivileged);
//! - the cgroup: a user cannot make groups under the host's hierarchies. On a pure cgroup v2
//!   host where the user's own group is delegated to them (systemd's `user@UID.service`),
//!   the container gets `OWN/virtsh/lxc/NAME-ID-ROOT` there ([`session_cgroup`]); otherwise
//!   it runs without one, and what needs one (suspend, live tuning, memory and CPU counters)
//!   is refused by the driver. A device allow-list is never set: the user namespace already
//!   keeps the container to the host nodes bound into its `/dev`, with the user's rights.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_cgroup::{Cgroup, CgroupError, Layout, Version, ROOT_GROUP};
use virtsh_xml::domain::tune::limit_is_set;
use virtsh_xml::domain::{DomainDef, MemTune};

use crate::driver::tune::cputune_num;

use super::Args;

/// Whether `uri` is `lxc:///session` (the supervisor gets the canonical URI).
pub(crate) fn is_session(uri: &str) -> bool {
    virtsh_api::Uri::parse(uri).is_ok_and(|u| !u.is_remote() && u.path == "/session")
}

/// The container's cgroup in the user's delegated cgroup v2 subtree, with what limits can be
/// set there, and its path to record (relative to the cgroup2 mount, so that
/// [`open_cgroup`] finds it from any process); or `None` (said in the log) where there is no
/// such subtree. A definition with
/// `<memtune>` or `<cputune>` limits is refused without a cgroup: those were asked for.
pub(super) fn session_cgroup(
    def: &DomainDef,
    args: &Args,
    run: &Path,
    pid: i32,
) -> Result<Option<(Cgroup, String)>> {
    let Some((mount, own)) = delegated_subtree() else {
        if let Some(what) = asked_limits(def) {
            return Err(Error::new(
                ErrorKind::ConfigUnsupported,
                format!(
                    "{what} needs a cgroup, and lxc:///session has none here (no delegated \
                     cgroup v2 subtree for this user)"
                ),
            ));
        }
        eprintln!(
            "warning: domain '{}': no cgroup (no delegated cgroup v2 subtree for this user): \
             no memory limit; suspend, resume, live tuning and cgroup statistics are not \
             available",
            def.name
        );
        return Ok(None);
    };
    let base = Layout {
        v1: Vec::new(),
        v2: Some(mount.join(&own)),
    };
    let parts = super::cgroup_parts(&args.name, args.id, run);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let cg = Cgroup::create_configured(&base, &parts, &[], pid, |cg| {
        // As the system driver's, without the device allow-list: an unprivileged user
        // cannot attach its BPF program.
        crate::driver::tune::apply_resources(cg, def)
    })
    .map_err(super::cgroup_error)?;
    let recorded = if own.is_empty() {
        cg.path().to_string()
    } else {
        format!("{own}/{}", cg.path())
    };
    Ok(Some((cg, recorded)))
}

/// The group `rel` as recorded in a container's status: `virtsh/lxc/...` at the top of the
/// hierarchies (system), or `OWN/virtsh/lxc/...` in a user's delegated subtree (session),
/// opened below OWN so that removing it never climbs into the user's own groups.
pub(crate) fn open_cgroup(rel: &str) -> virtsh_cgroup::Result<Cgroup> {
    let marker = format!("/{ROOT_GROUP}/lxc/");
    let Some(at) = rel.rfind(&marker) else {
        return Cgroup::open(rel);
    };
    let layout = Layout::detect()?;
    let mount = layout.v2.ok_or(CgroupError::NotMounted)?;
    let base = Layout {
        v1: Vec::new(),
        v2: Some(mount.join(&rel[..at])),
    };
    Cgroup::open_in(&base, &rel[at + 1..])
}

/// The cgroup2 mount and the caller's own group in it (relative, without slashes around),
/// when this is a pure v2 host and that group is writable by the caller: delegated to them.
fn delegated_subtree() -> Option<(PathBuf, String)> {
    let layout = Layout::detect().ok()?;
    if layout.version() != Some(Version::V2) {
        return None;
    }
    let mount = layout.v2?;
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))?
        .trim()
        .trim_matches('/')
        .to_string();
    let dir = mount.join(&own);
    (writable(&dir) && writable(&dir.join("cgroup.procs"))).then_some((mount, own))
}

/// access(2) W_OK: the kernel's own answer for this caller (ownership, mode, ACLs).
fn writable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

const CPUTUNE: [&str; 3] = ["shares", "period", "quota"];

/// The first cgroup limit `def` asks for beyond `<memory>`, named as in the XML.
fn asked_limits(def: &DomainDef) -> Option<String> {
    let m = MemTune::from_node(def.memtune.as_ref());
    let memtune = [
        ("hard_limit", limit_is_set(m.hard_limit)),
        ("soft_limit", limit_is_set(m.soft_limit)),
        ("swap_hard_limit", limit_is_set(m.swap_hard_limit)),
    ];
    if let Some((name, _)) = memtune.iter().find(|(_, set)| *set) {
        return Some(format!("<memtune><{name}>"));
    }
    if !def.blkiotune.is_empty() {
        return Some("<blkiotune>".to_string());
    }
    CPUTUNE
        .iter()
        .find(|c| cputune_num::<i64>(def, c).is_some())
        .map(|c| format!("<cputune><{c}>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(extra: &str) -> DomainDef {
        DomainDef::parse_with(
            &format!(
                "<domain type='lxc'><name>c1</name><memory>65536</memory>{extra}\
                 <os><type>exe</type><init>/bin/sh</init></os></domain>"
            ),
            &virtsh_xml::domain::ParseOptions::default(),
        )
        .expect("parse")
    }

    #[test]
    fn session_uris() {
        assert!(is_session("lxc:///session"));
        assert!(!is_session("lxc:///system"));
        assert!(!is_session("lxc:///embed?root=/tmp/x"));
    }

    #[test]
    fn limits_that_need_a_cgroup() {
        assert_eq!(asked_limits(&def("")), None);
        assert_eq!(
            asked_limits(&def(
                "<memtune><soft_limit unit='KiB'>1024</soft_limit></memtune>"
            )),
            Some("<memtune><soft_limit>".to_string())
        );
        assert_eq!(
            asked_limits(&def("<cputune><quota>-1</quota></cputune>")),
            Some("<cputune><quota>".to_string())
        );
    }

    #[test]
    fn system_paths_open_as_before() {
        // A system group's path has no prefix: Cgroup::open's own errors.
        assert!(matches!(
            open_cgroup("virtsh/lxc/../x"),
            Err(CgroupError::InvalidName(_)) | Err(CgroupError::NotMounted)
        ));
    }
}
