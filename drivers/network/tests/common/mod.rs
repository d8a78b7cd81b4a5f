//! What the namespace tests of this crate share: running a test body in a fresh network
//! namespace of its own. Network namespaces are per thread, so the body runs in a new thread
//! that first calls `unshare(CLONE_NEWNET)`; the library's netlink sockets, the
//! `/proc/sys/net` files it writes and every program the test spawns (a child starts in its
//! parent thread's namespaces) all see that namespace, never the host's network.

#![allow(dead_code)]

use std::process::Command;

/// True under CI=true, where a test that cannot run fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Say why a test does not run: a skip line, or a failure under CI=true.
pub fn skip(why: &str) {
    assert!(!in_ci(), "{why} (CI=true)");
    eprintln!("skipped: {why}");
}

/// Runs `body` in a new thread, in a fresh network namespace (checked to hold only `lo`).
/// Without the privilege to make one, the test is skipped (see [`skip`]).
pub fn in_fresh_netns(body: impl FnOnce() + Send + 'static) {
    let thread = std::thread::spawn(move || {
        // SAFETY: unshare(2) with CLONE_NEWNET only moves this thread to a new namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Guard: we are in a fresh namespace, not on the host.
        let links = ip(&["-o", "link", "show"]);
        assert_eq!(
            links.lines().count(),
            1,
            "not in a fresh network namespace: {links}"
        );
        assert!(links.contains(": lo:"), "{links}");
        body();
        Ok(())
    });
    match thread.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => skip(&format!("cannot create a network namespace (root?): {e}")),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// `ip ARGS`, which must succeed; its stdout.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
