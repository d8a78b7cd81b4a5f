//! The embedded QEMU driver end to end, with real QEMU (TCG) and the `virtsh` binary: define,
//! start, guest-initiated and ACPI shutdown, reboot, suspend/resume, destroy, transient and
//! autodestroy domains, concurrency, crashes of QEMU and of the supervisor, a QMP call that
//! never answers, and hostile names and paths.

mod support;

use std::time::{Duration, Instant};

use support::{bare_xml, tiny_guest, tiny_xml, unique_name, Embed, READY};

/// Wait (bounded, 10 s) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const BOOT: Duration = Duration::from_secs(60);
const STOP: Duration = Duration::from_secs(30);

#[test]
fn define_start_shutdown_and_state_reasons() {
    let Some(guest) = tiny_guest("define_start_shutdown_and_state_reasons") else {
        return;
    };
    let env = Embed::new("life");
    let name = unique_name("life");
    env.define(&name, &tiny_xml(&env, &guest, &name, ""));
    let list = env.ok(&["list", "--all"]);
    assert!(list.contains(&format!(" -    {name}   shut off")), "{list}");
    assert_eq!(env.state(&name), "shut off (unknown)");

    let out = env.ok(&["start", &name]);
    assert_eq!(out, format!("Domain '{name}' started\n\n"));
    assert_eq!(env.state(&name), "running (booted)");
    assert_eq!(env.qemu_pids(&name).len(), 1);
    let info = env.ok(&["dominfo", &name]);
    assert!(info.contains("State:          running"), "{info}");
    assert!(info.contains("Persistent:     yes"), "{info}");
    let id = env.ok(&["domid", &name]);
    assert!(id.trim().parse::<i32>().is_ok_and(|i| i > 0), "{id}");
    let xml = env.ok(&["dumpxml", &name]);
    assert!(
        xml.starts_with(&format!("<domain type='qemu' id='{}'>", id.trim())),
        "{xml}"
    );
    assert_eq!(
        env.err(&["start", &name]),
        "error: Domain is already active\n"
    );

    env.wait_serial(&name, READY, 1, BOOT);
    env.ok(&["suspend", &name]);
    assert_eq!(env.state(&name), "paused (user)");
    env.ok(&["resume", &name]);
    assert_eq!(env.state(&name), "running (unpaused)");

    let out = env.ok(&["shutdown", &name]);
    assert_eq!(out, format!("Domain '{name}' is being shutdown\n\n"));
    env.wait_state(&name, "shut off (shutdown)", STOP);
    assert!(env.qemu_pids(&name).is_empty());
    wait_until("the supervisor exits", || {
        env.supervisor_pids(&name).is_empty()
    });
    assert!(!env.root.join(format!("run/{name}.xml")).exists());
    assert!(!env.root.join(format!("run/{name}")).exists());
    let info = env.ok(&["dominfo", &name]);
    assert!(info.contains("Id:             -\n"), "{info}");
    assert!(env
        .err(&["shutdown", &name])
        .contains("domain is not running"));
}

#[test]
fn guest_reboot_restarts_and_destroy_records_destroyed() {
    let Some(guest) = tiny_guest("guest_reboot_restarts_and_destroy_records_destroyed") else {
        return;
    };
    let env = Embed::new("reboot");
    let name = unique_name("reboot");
    env.define(&name, &tiny_xml(&env, &guest, &name, ""));
    env.ok(&["start", &name]);
    env.wait_serial(&name, READY, 1, BOOT);
    let pid = env.qemu_pids(&name);
    let out = env.ok(&["reboot", &name]);
    assert_eq!(out, format!("Domain '{name}' is being rebooted\n\n"));
    // The power button ends the guest's run; the supervisor turns that into a reset.
    env.wait_serial(&name, READY, 2, BOOT);
    assert_eq!(env.state(&name), "running (booted)");
    assert_eq!(env.qemu_pids(&name), pid, "a reboot keeps the same QEMU");
    env.ok(&["reset", &name]);
    env.wait_serial(&name, READY, 3, BOOT);

    let t0 = Instant::now();
    let out = env.ok(&["destroy", &name]);
    eprintln!("destroy took {:?}", t0.elapsed());
    assert_eq!(out, format!("Domain '{name}' destroyed\n\n"));
    assert_eq!(env.state(&name), "shut off (destroyed)");
    assert!(env.qemu_pids(&name).is_empty());
}

#[test]
fn transient_domains_vanish_and_autodestroy_follows_its_creator() {
    if tiny_guest("transient_domains_vanish_and_autodestroy_follows_its_creator").is_none() {
        return;
    }
    let env = Embed::new("trans");
    let name = unique_name("trans");
    let path = env.root.join("t.xml");
    std::fs::write(&path, bare_xml(&name, "")).expect("write");
    let out = env.ok(&["create", path.to_str().expect("utf-8")]);
    assert!(
        out.starts_with(&format!("Domain '{name}' created from ")),
        "{out}"
    );
    assert_eq!(
        env.ok(&["list", "--transient", "--name"]),
        format!("{name}\n\n")
    );
    assert!(env.ok(&["dominfo", &name]).contains("Persistent:     no"));
    assert!(env
        .err(&["create", path.to_str().expect("utf-8")])
        .contains("already"));
    env.ok(&["destroy", &name]);
    let e = env.err(&["domstate", &name]);
    assert!(e.contains("failed to get domain"), "{e}");
    assert!(!env.root.join(format!("run/{name}.status")).exists());

    // --autodestroy: the guest ends with the virtsh process that created it.
    let out = env.ok(&["create", "--autodestroy", path.to_str().expect("utf-8")]);
    assert!(out.contains("created"), "{out}");
    let t0 = Instant::now();
    while env.run(&["domstate", &name]).status.success() {
        assert!(t0.elapsed() < STOP, "autodestroy did not end the guest");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(env.qemu_pids(&name).is_empty());

    // A persistent domain undefined while running becomes transient, then vanishes.
    env.define(&name, &bare_xml(&name, ""));
    env.ok(&["start", &name]);
    let out = env.ok(&["undefine", &name]);
    assert_eq!(out, format!("Domain '{name}' has been undefined\n\n"));
    assert!(env.ok(&["dominfo", &name]).contains("Persistent:     no"));
    env.ok(&["destroy", &name]);
    assert!(!env.run(&["domstate", &name]).status.success());
}

#[test]
fn ten_concurrent_starts_give_one_qemu() {
    if tiny_guest("ten_concurrent_starts_give_one_qemu").is_none() {
        return;
    }
    let env = Embed::new("conc");
    let name = unique_name("conc");
    env.define(&name, &bare_xml(&name, ""));
    let children: Vec<_> = (0..10)
        .map(|_| {
            env.cmd(&["start", &name])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let ok = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "exactly one start succeeds");
    for o in outputs.iter().filter(|o| !o.status.success()) {
        let e = String::from_utf8_lossy(&o.stderr);
        // virsh's own check when the id is already there, the driver's when it raced.
        assert!(
            e == "error: Domain is already active\n"
                || e.contains("error: Requested operation is not valid: domain is already running"),
            "{e}"
        );
    }
    assert_eq!(env.qemu_pids(&name).len(), 1, "exactly one QEMU");
    assert_eq!(
        env.supervisor_pids(&name).len(),
        1,
        "exactly one supervisor"
    );
    env.ok(&["destroy", &name]);
}

#[test]
fn killed_qemu_is_crashed_and_killed_supervisor_is_replaced() {
    if tiny_guest("killed_qemu_is_crashed_and_killed_supervisor_is_replaced").is_none() {
        return;
    }
    let env = Embed::new("kill");
    let name = unique_name("kill");
    env.define(&name, &bare_xml(&name, ""));

    // QEMU killed: the supervisor records the crash and cleans up.
    env.ok(&["start", &name]);
    let qemu = env.qemu_pids(&name);
    assert_eq!(qemu.len(), 1);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(qemu[0], libc::SIGKILL) };
    env.wait_state(&name, "shut off (crashed)", STOP);
    // The supervisor records the state, then cleans up and exits.
    wait_until("the supervisor exits", || {
        env.supervisor_pids(&name).is_empty()
    });
    assert!(!env.root.join(format!("run/{name}")).exists());

    // The supervisor killed: the next command re-attaches a new one to the running QEMU.
    env.ok(&["start", &name]);
    let qemu = env.qemu_pids(&name);
    let sup = env.supervisor_pids(&name);
    assert_eq!(sup.len(), 1);
    // SAFETY: as above.
    unsafe { libc::kill(sup[0], libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(env.state(&name), "running (booted)");
    let again = env.supervisor_pids(&name);
    assert_eq!(again.len(), 1, "a new supervisor");
    assert_ne!(again, sup);
    assert_eq!(env.qemu_pids(&name), qemu, "the same QEMU");
    env.ok(&["suspend", &name]);
    assert_eq!(env.state(&name), "paused (user)");
    env.ok(&["destroy", &name]);
    assert_eq!(env.state(&name), "shut off (destroyed)");

    // Both killed: the next command records a crash and nothing is left behind.
    env.ok(&["start", &name]);
    let qemu = env.qemu_pids(&name);
    let sup = env.supervisor_pids(&name);
    // SAFETY: as above.
    unsafe {
        libc::kill(sup[0], libc::SIGKILL);
        libc::kill(qemu[0], libc::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(env.state(&name), "shut off (crashed)");
    assert!(env.supervisor_pids(&name).is_empty());
    assert!(!env.root.join(format!("run/{name}.xml")).exists());
    env.ok(&["start", &name]);
    env.ok(&["destroy", &name]);
}

#[test]
fn a_monitor_that_never_answers_times_out_and_listing_stays_usable() {
    if tiny_guest("a_monitor_that_never_answers_times_out").is_none() {
        return;
    }
    let mut env = Embed::new("hang");
    env.env
        .push(("VIRTSH_QMP_TIMEOUT_MS".into(), "1000".into()));
    let name = unique_name("hang");
    env.define(&name, &bare_xml(&name, ""));
    env.ok(&["start", &name]);
    let qemu = env.qemu_pids(&name);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(qemu[0], libc::SIGSTOP) };
    let t0 = Instant::now();
    let e = env.err(&["suspend", &name]);
    eprintln!("suspend failed after {:?}", t0.elapsed());
    assert_eq!(
        e,
        "error: Failed to suspend domain '".to_string()
            + &name
            + "'\nerror: Timed out during operation: QEMU's monitor did not answer 'stop' within 1s\n"
    );
    let t0 = Instant::now();
    let list = env.ok(&["list", "--all"]);
    eprintln!("list with a stuck monitor took {:?}", t0.elapsed());
    assert!(list.contains(&format!("{name}   running")), "{list}");
    assert!(env.ok(&["dominfo", &name]).contains("running"));
    // SAFETY: as above.
    unsafe { libc::kill(qemu[0], libc::SIGCONT) };
    env.ok(&["suspend", &name]);
    env.ok(&["destroy", &name]);
}

#[test]
fn hostile_names_and_paths() {
    if tiny_guest("hostile_names_and_paths").is_none() {
        return;
    }
    let env = Embed::new("names");
    for bad in ["../evil", "a/b", ".hidden"] {
        let path = env.root.join("bad.xml");
        std::fs::write(&path, bare_xml(bad, "")).expect("write");
        let e = env.err(&["define", path.to_str().expect("utf-8")]);
        assert!(
            e.starts_with("error: Failed to define domain from"),
            "{bad}: {e}"
        );
    }
    assert!(!env.root.join("evil.xml").exists());
    // A disk whose path has a comma and a space: it must reach QEMU as one path.
    let dir = env.root.join("a,b c");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let img = dir.join("disk,file=x.img");
    std::fs::File::create(&img)
        .and_then(|f| f.set_len(1 << 20))
        .expect("image");
    let name = unique_name("paths");
    let disk = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        img.display()
    );
    env.define(&name, &bare_xml(&name, &disk));
    env.ok(&["start", &name]);
    let pid = env.qemu_pids(&name);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid[0])).expect("cmdline");
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains(&format!("\"filename\":\"{}\"", img.display())),
        "{cmdline}"
    );
    env.ok(&["destroy", &name]);
}

#[test]
fn corrupt_files_are_named_and_the_rest_lists() {
    let env = Embed::new("corrupt");
    let good = unique_name("good");
    env.define(&good, &bare_xml(&good, ""));
    std::fs::write(
        env.root.join("etc/broken.xml"),
        "<domain type='qemu'><name>broken",
    )
    .expect("w");
    std::fs::write(env.root.join(format!("run/{good}.status")), "{not json").expect("w");
    let o = env.run(&["list", "--all", "--name"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{good}\n\n"));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("etc/broken.xml"), "{e}");
    assert!(e.contains(&format!("run/{good}.status")), "{e}");
    // A crash in the middle of a write leaves a temporary file, never a half-written one.
    std::fs::write(
        env.root.join(format!("etc/.{good}.xml.tmp.999999.1")),
        "<dom",
    )
    .expect("w");
    assert_eq!(env.ok(&["list", "--all", "--name"]), format!("{good}\n\n"));
}

#[test]
fn the_boot_script_starts_autostart_domains() {
    if tiny_guest("the_boot_script_starts_autostart_domains").is_none() {
        return;
    }
    let env = Embed::new("auto");
    let on = unique_name("auto on");
    let off = unique_name("auto-off");
    env.define(&on, &bare_xml(&on, ""));
    env.define(&off, &bare_xml(&off, ""));
    assert_eq!(
        env.ok(&["autostart", &on]),
        format!("Domain '{on}' marked as autostarted\n\n")
    );
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/systemd/virtsh-autostart");
    let o = std::process::Command::new("sh")
        .arg(&script)
        .arg(&env.uri)
        .env("VIRTSH", env!("CARGO_BIN_EXE_virtsh"))
        .output()
        .expect("run the autostart script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(env.state(&on), "running (booted)");
    assert_eq!(env.state(&off), "shut off (unknown)");
    // Running it again starts nothing twice.
    let o = std::process::Command::new("sh")
        .arg(&script)
        .arg(&env.uri)
        .env("VIRTSH", env!("CARGO_BIN_EXE_virtsh"))
        .output()
        .expect("run the autostart script");
    assert!(o.status.success());
    assert_eq!(env.qemu_pids(&on).len(), 1);
    env.ok(&["destroy", &on]);
}

#[test]
fn the_list_index_follows_edits_made_behind_its_back() {
    let env = Embed::new("index");
    let name = unique_name("idx");
    env.define(&name, &bare_xml(&name, ""));
    let first = env.ok(&["domuuid", &name]);
    assert!(env.ok(&["list", "--all", "--uuid"]).contains(first.trim()));
    // Same length, same name, another UUID: the index must notice the file changed.
    let path = env.root.join(format!("etc/{name}.xml"));
    let xml = std::fs::read_to_string(&path).expect("read");
    let other = "01234567-89ab-cdef-0123-456789abcdef";
    std::fs::write(&path, xml.replace(first.trim(), other)).expect("write");
    assert_eq!(env.ok(&["list", "--all", "--uuid"]), format!("{other}\n\n"));
    assert_eq!(env.state(&name), "shut off (unknown)");
    // A file broken after it was indexed is reported, not listed from the index.
    std::fs::write(&path, "<domain type='qemu'><name>x").expect("write");
    let o = env.run(&["list", "--all", "--name"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("etc/{name}.xml")));
}

#[test]
fn rename_edit_and_graceful_destroy() {
    if tiny_guest("rename_edit_and_graceful_destroy").is_none() {
        return;
    }
    let env = Embed::new("ren");
    let name = unique_name("ren");
    let new = format!("{name}-new");
    env.define(&name, &bare_xml(&name, ""));
    let uuid = env.ok(&["domuuid", &name]);
    env.ok(&["autostart", &name]);
    assert_eq!(
        env.ok(&["domrename", &name, &new]),
        "Domain successfully renamed\n\n"
    );
    assert_eq!(env.ok(&["domuuid", &new]), uuid);
    assert!(env
        .ok(&["dominfo", &new])
        .contains("Autostart:      enable"));
    assert!(!env.run(&["domstate", &name]).status.success());

    // edit: the persistent definition, through $EDITOR, as virsh does.
    let out = env
        .cmd(&["edit", &new])
        .env("EDITOR", "sed -i s/65536/98304/")
        .env_remove("VISUAL")
        .output()
        .expect("edit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Domain '{new}' XML configuration edited.\n\n")
    );
    assert!(env
        .ok(&["dominfo", &new])
        .contains("Max memory:     98304 KiB"));

    env.ok(&["start", &new]);
    assert!(env
        .err(&["domrename", &new, "x"])
        .contains("cannot rename active domain"));
    assert_eq!(
        env.ok(&["destroy", "--graceful", &new]),
        format!("Domain '{new}' destroyed\n\n")
    );
    assert_eq!(env.state(&new), "shut off (destroyed)");
}
