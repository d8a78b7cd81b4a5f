//! A root file system for container tests: a static busybox and symlinks for its applets,
//! and the empty directories a container's init expects (`proc`, `sys`, `dev`, `tmp`, `etc`).
//! Also a private `lxc:///embed` root ([`lxc_embed`]).

use std::path::Path;

use super::{in_ci, Embed};

/// The busybox the root is made of. It must be static: the root holds no libc.
pub const BUSYBOX: &str = "/usr/bin/busybox";

/// The applets linked into the root's `/bin`.
pub const APPLETS: &[&str] = &[
    "sh", "sleep", "usleep", "cat", "hostname", "echo", "ls", "ps", "udhcpc", "ip", "ifconfig",
    "readlink", "head", "true", "false", "wc", "stat", "mkdir", "rm", "mv", "kill", "id", "mkfifo",
    "reboot",
];

/// Whether `path` is an ELF executable without a program interpreter (statically linked).
pub fn is_static_elf(path: &Path) -> bool {
    let Ok(b) = std::fs::read(path) else {
        return false;
    };
    // 64-bit little-endian ELF only (the hosts these tests run on).
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().expect("8 bytes")) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        // PT_INTERP = 3: a dynamically linked program names its loader.
        b.get(o..o + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().expect("4 bytes")) != 3)
    })
}

/// Whether container tests can run here: root and a static busybox. Under CI=true a missing
/// one fails the test; elsewhere the test is skipped with a line saying why.
pub fn can_run_containers(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("containers need root".to_string())
    } else if !Path::new(BUSYBOX).exists() {
        Some(format!(
            "{BUSYBOX} is not installed (apt-get install busybox-static)"
        ))
    } else if !is_static_elf(Path::new(BUSYBOX)) {
        Some(format!(
            "{BUSYBOX} is not statically linked (apt-get install busybox-static)"
        ))
    } else if !Path::new("/proc/self/ns/pid").exists() {
        Some("no namespaces in /proc/self/ns".to_string())
    } else {
        None
    };
    match why {
        None => true,
        Some(w) => {
            assert!(!in_ci(), "{test}: {w} (CI=true)");
            eprintln!("SKIP {test}: {w}");
            false
        }
    }
}

/// Make a busybox root at `dir` (created): `bin/busybox`, a symlink per [`APPLETS`], and
/// empty `proc sys dev tmp etc`.
pub fn busybox_root(dir: &Path) {
    for d in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(dir.join(d)).expect("create a root directory");
    }
    std::fs::copy(BUSYBOX, dir.join("bin/busybox")).expect("copy busybox into the root");
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(a)).expect("applet symlink");
    }
}

/// Write an executable shell script at `path` (a file of a root made by [`busybox_root`]).
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}")).expect("write a script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A private `lxc:///embed?root=DIR`, removed (after destroying its containers) on drop.
pub fn lxc_embed(tag: &str) -> Embed {
    let mut env = Embed::new(tag);
    env.uri = format!("lxc:///embed?root={}", env.root.display());
    env
}
