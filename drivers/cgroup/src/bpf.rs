//! Loading the v2 device filter (`devprog.rs`) and attaching it to a group, through bpf(2).
//!
//! Hand-written for the same reason as the program: four bpf(2) commands with small,
//! fixed attribute structs, where a BPF crate would bring a loader and object-file handling.
//!
//! Attach mode: `BPF_F_ALLOW_MULTI`. The kernel runs a device access through the programs of
//! the group and of all its ancestors and allows it only when every one allows it, so a
//! program that a container's own manager (systemd inside it, a nested container runtime)
//! attaches below virtsh's can narrow the list and never widen it, as v1's hierarchy behaves.
//! The default mode (no flag) would forbid any program below, which breaks systemd in a
//! container; `BPF_F_ALLOW_OVERRIDE` would let a program below replace virtsh's.
//!
//! Replacing the list (a hot-plugged disk): the new program takes the place of virtsh's old
//! one in one `BPF_PROG_ATTACH` with `BPF_F_REPLACE` (Linux 5.6), so that there is no moment
//! with both or neither. virtsh's programs are found by their name, [`PROG_NAME`], among those
//! attached to the group itself; on a kernel without `BPF_F_REPLACE`, the new one is attached
//! and the old one then detached (both in force in between: never more than the old list
//! allowed). A program is detached by the kernel when its group is removed.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::devprog::device_program;
use crate::{CgroupError, DeviceRule, Result};

/// The name virtsh's device programs are loaded with (at most 15 characters).
pub(crate) const PROG_NAME: &str = "virtsh_devices";

// bpf(2) commands, program and attach types, flags (linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
const BPF_F_REPLACE: u32 = 1 << 2;

/// `union bpf_attr` for BPF_PROG_LOAD, up to `expected_attach_type`. The kernel takes a
/// shorter attribute than its own and zeroes the rest.
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// For BPF_PROG_ATTACH and BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct Attach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// For BPF_PROG_QUERY.
#[repr(C)]
#[derive(Default)]
struct Query {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// For BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct GetFd {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// For BPF_OBJ_GET_INFO_BY_FD.
#[repr(C)]
#[derive(Default)]
struct GetInfo {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_prog_info` up to its `name` (offset 64, 16 bytes).
const INFO_LEN: usize = 80;
const INFO_NAME: usize = 64;

fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised #[repr(C)] prefix of `union bpf_attr` for `cmd`,
    // and its size is passed along; the pointers inside it point to buffers that outlive the
    // call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this new descriptor to us alone.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// Attach a program allowing exactly `rules` to the group at `dir`, in place of virtsh's
/// previous one.
pub(crate) fn set_device_program(dir: &Path, rules: &[DeviceRule]) -> Result<()> {
    let err = |op, source| CgroupError::Bpf {
        op,
        path: dir.to_path_buf(),
        source,
        log: String::new(),
    };
    let group = File::open(dir).map_err(|source| CgroupError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let prog = load(dir, rules)?;
    let old = ours(group.as_raw_fd()).map_err(|e| err("list", e))?;
    let mut attach = Attach {
        target_fd: group.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    let mut rest = &old[..];
    if let Some(first) = old.first() {
        attach.attach_flags |= BPF_F_REPLACE;
        attach.replace_bpf_fd = first.as_raw_fd() as u32;
        match sys_bpf(BPF_PROG_ATTACH, &mut attach) {
            Ok(_) => rest = &old[1..],
            // Before Linux 5.6: attach, then detach every old one below.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                attach.attach_flags = BPF_F_ALLOW_MULTI;
                attach.replace_bpf_fd = 0;
                sys_bpf(BPF_PROG_ATTACH, &mut attach).map_err(|e| err("attach", e))?;
            }
            Err(e) => return Err(err("attach", e)),
        }
    } else {
        sys_bpf(BPF_PROG_ATTACH, &mut attach).map_err(|e| err("attach", e))?;
    }
    for o in rest {
        let mut detach = Attach {
            target_fd: group.as_raw_fd() as u32,
            attach_bpf_fd: o.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..Attach::default()
        };
        match sys_bpf(BPF_PROG_DETACH, &mut detach) {
            // Detached meanwhile by someone else: what was wanted.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            r => {
                r.map_err(|e| err("detach", e))?;
            }
        }
    }
    Ok(())
}

/// Load the program for `rules`. When the kernel refuses it, again with the verifier's log,
/// for the error.
fn load(dir: &Path, rules: &[DeviceRule]) -> Result<OwnedFd> {
    let insns: Vec<[u8; 8]> = device_program(rules).iter().map(|i| i.encode()).collect();
    let license = c"GPL";
    let mut name = [0u8; 16];
    name[..PROG_NAME.len()].copy_from_slice(PROG_NAME.as_bytes());
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        // Not required for this program type (it calls no GPL-only helper); harmless.
        license: license.as_ptr() as u64,
        prog_name: name,
        ..ProgLoad::default()
    };
    if let Ok(fd) = sys_bpf(BPF_PROG_LOAD, &mut attr) {
        return Ok(owned(fd));
    }
    let mut log = vec![0u8; 64 * 1024];
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    let source = match sys_bpf(BPF_PROG_LOAD, &mut attr) {
        // Loaded on the second try after all (a transient failure).
        Ok(fd) => return Ok(owned(fd)),
        Err(e) => e,
    };
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
    Err(CgroupError::Bpf {
        op: "load",
        path: dir.to_path_buf(),
        source,
        log: text,
    })
}

/// The ids of the device programs attached to the group itself.
fn attached(group: RawFd) -> io::Result<Vec<u32>> {
    let mut cap = 16usize;
    loop {
        let mut ids = vec![0u32; cap];
        let mut q = Query {
            target_fd: group as u32,
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: cap as u32,
            ..Query::default()
        };
        match sys_bpf(BPF_PROG_QUERY, &mut q) {
            Ok(_) => {
                ids.truncate(q.prog_cnt as usize);
                return Ok(ids);
            }
            // More than `cap`: the kernel said how many.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && cap < 4096 => {
                cap = (q.prog_cnt as usize).max(cap * 2);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Descriptors of virtsh's programs attached to the group itself, oldest first.
fn ours(group: RawFd) -> io::Result<Vec<OwnedFd>> {
    let mut out = Vec::new();
    for id in attached(group)? {
        let mut g = GetFd {
            prog_id: id,
            ..GetFd::default()
        };
        let fd = match sys_bpf(BPF_PROG_GET_FD_BY_ID, &mut g) {
            Ok(fd) => owned(fd),
            // Detached and freed since the query.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        let mut info = [0u8; INFO_LEN];
        let mut gi = GetInfo {
            bpf_fd: fd.as_raw_fd() as u32,
            info_len: INFO_LEN as u32,
            info: info.as_mut_ptr() as u64,
        };
        sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut gi)?;
        let name = &info[INFO_NAME..INFO_NAME + 16];
        let end = name.iter().position(|&b| b == 0).unwrap_or(16);
        if &name[..end] == PROG_NAME.as_bytes() {
            out.push(fd);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_layouts_match_the_kernel() {
        // Offsets of linux/bpf.h's union bpf_attr members.
        assert_eq!(std::mem::size_of::<ProgLoad>(), 72);
        assert_eq!(std::mem::offset_of!(ProgLoad, log_buf), 32);
        assert_eq!(std::mem::offset_of!(ProgLoad, prog_name), 48);
        assert_eq!(std::mem::offset_of!(ProgLoad, expected_attach_type), 68);
        assert_eq!(std::mem::size_of::<Attach>(), 20);
        assert_eq!(std::mem::offset_of!(Query, prog_ids), 16);
        assert_eq!(std::mem::offset_of!(Query, prog_cnt), 24);
        assert_eq!(std::mem::size_of::<GetInfo>(), 16);
        assert!(PROG_NAME.len() < 16);
    }
}
