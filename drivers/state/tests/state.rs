//! The per-URI state layer: paths, atomic writes, per-object locks, the config store.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use virtsh_api::Uri;
use virtsh_state::{atomic, validate_name, ConfigStore, ObjectLock, StateError, StatePaths};
use virtsh_xml::domain::{DomainDef, ParseOptions};

/// A fresh, empty directory per test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "virtsh-state-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn embed_uri(root: &Path) -> Uri {
    Uri::parse(&format!("qemu:///embed?root={}", root.display())).unwrap()
}

fn domain_xml(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>\
         <os><type>hvm</type></os></domain>\n"
    )
}

fn store(root: &TempDir) -> ConfigStore {
    let paths = StatePaths::for_uri(&embed_uri(root.path())).unwrap();
    ConfigStore::open(
        &paths.config,
        "domain",
        std::sync::Arc::new(|xml: &str| {
            DomainDef::parse_with(xml, &ParseOptions::default())
                .map(|d| d.name)
                .map_err(|e| e.to_string())
        }),
    )
    .unwrap()
}

/// A pid that certainly belonged to a process that has exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

// ---- 1. paths ----

#[test]
fn embed_paths_are_under_the_root() {
    let root = TempDir::new("paths");
    let p = StatePaths::for_uri(&embed_uri(root.path())).unwrap();
    assert_eq!(p.config, root.path().join("etc"));
    assert_eq!(p.run, root.path().join("run"));
    assert_eq!(p.lib, root.path().join("lib"));
    assert_eq!(p.log, root.path().join("log"));
    assert_eq!(p.cache, root.path().join("cache"));
    p.create_all().unwrap();
    for d in [&p.config, &p.run, &p.lib, &p.log, &p.cache] {
        assert!(d.is_dir(), "{}", d.display());
    }
}

#[test]
fn embed_needs_an_absolute_root() {
    for text in [
        "qemu:///embed?root=relative/dir",
        "qemu:///embed?root=",
        "qemu:///embed",
    ] {
        let err = StatePaths::for_uri(&Uri::parse(text).unwrap()).unwrap_err();
        assert!(
            matches!(err, StateError::InvalidUri { .. }),
            "{text}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(text), "{msg}");
    }
    let err = StatePaths::for_uri(&Uri::parse("qemu:///embed?root=rel").unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("root path must be absolute"),
        "{err}"
    );
}

#[test]
fn system_and_session_paths() {
    let p = StatePaths::for_uri(&Uri::parse("qemu:///system").unwrap()).unwrap();
    assert_eq!(p.config, Path::new("/etc/virtsh/qemu"));
    assert_eq!(p.run, Path::new("/run/virtsh/qemu"));
    assert_eq!(p.lib, Path::new("/var/lib/virtsh/qemu"));
    assert_eq!(p.log, Path::new("/var/log/virtsh/qemu"));
    let lxc = StatePaths::for_uri(&Uri::parse("lxc:///system").unwrap()).unwrap();
    assert_eq!(lxc.config, Path::new("/etc/virtsh/lxc"));

    // Session: whatever the XDG directories are, every path is per-user and ends in the driver.
    if let Ok(p) = StatePaths::for_uri(&Uri::parse("qemu:///session").unwrap()) {
        for d in [&p.config, &p.run, &p.lib, &p.log, &p.cache] {
            assert!(d.is_absolute(), "{}", d.display());
            assert!(d.to_string_lossy().contains("virtsh"), "{}", d.display());
            assert!(!d.starts_with("/etc/virtsh"), "{}", d.display());
        }
        assert!(p.config.ends_with("qemu"));
    }
}

#[test]
fn other_paths_and_remote_uris_are_refused() {
    for text in [
        "qemu:///nope",
        "qemu+ssh://host/system",
        "qemu://host/system",
    ] {
        let err = StatePaths::for_uri(&Uri::parse(text).unwrap()).unwrap_err();
        assert!(err.to_string().contains(text), "{err}");
    }
}

// ---- 2. atomic writes ----

#[test]
fn atomic_write_replaces_and_leaves_no_temp() {
    let dir = TempDir::new("atomic");
    let target = dir.path().join("a.xml");
    atomic::write(&target, b"one").unwrap();
    atomic::write(&target, b"two").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"two");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a.xml")]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn atomic_write_failure_keeps_old_content_and_removes_temp() {
    let dir = TempDir::new("atomic-fail");
    let target = dir.path().join("a.xml");
    atomic::write(&target, b"old").unwrap();
    // The rename fails when the target is a non-empty directory.
    let as_dir = dir.path().join("b.xml");
    fs::create_dir(&as_dir).unwrap();
    fs::write(as_dir.join("x"), b"x").unwrap();
    assert!(atomic::write(&as_dir, b"new").is_err());
    assert_eq!(fs::read(&target).unwrap(), b"old");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A missing directory is an error naming the file, not a panic.
    let err = atomic::write(&dir.path().join("no/such/x.xml"), b"x").unwrap_err();
    assert!(err.to_string().contains("x.xml"), "{err}");
}

#[test]
fn crash_before_rename_keeps_old_content_and_the_store_cleans_up() {
    let root = TempDir::new("crash");
    let store = store(&root);
    store.write("vm1", &domain_xml("vm1")).unwrap();
    let target = store.path_of("vm1").unwrap();

    // A writer that died after writing half of its temporary file, before the rename.
    let pid = dead_pid();
    let tmp = store.dir().join(format!(".vm1.xml.tmp.{pid}.0"));
    assert_eq!(atomic::temp_owner(".vm1.xml.tmp.42.7"), Some(42));
    fs::write(&tmp, "<domain type='qemu'><name>vm1</na").unwrap();
    // A temporary file of a live writer (this process) must not be touched.
    let live = atomic::temp_path_for(&target).unwrap();
    fs::write(&live, "in progress").unwrap();

    assert_eq!(store.read("vm1").unwrap(), domain_xml("vm1"));
    let listing = store.list().unwrap();
    assert_eq!(listing.names, vec!["vm1"]);
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.cleaned, vec![tmp.clone()]);
    assert!(!tmp.exists());
    assert!(live.exists());
    fs::remove_file(&live).unwrap();
}

// ---- 3. locks ----

#[test]
fn second_locker_times_out_with_a_typed_error() {
    let dir = TempDir::new("lock-timeout");
    let held = ObjectLock::acquire(dir.path(), "vm1", Duration::ZERO).unwrap();
    assert_eq!(held.name(), "vm1");
    assert_eq!(held.path(), dir.path().join("vm1.lock"));
    let path = dir.path().to_path_buf();
    let start = Instant::now();
    let err = thread::spawn(move || {
        ObjectLock::acquire(&path, "vm1", Duration::from_millis(150)).unwrap_err()
    })
    .join()
    .unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    match &err {
        StateError::Busy { name, .. } => assert_eq!(name, "vm1"),
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("'vm1'"), "{msg}");
    assert!(msg.contains("cannot acquire state change lock"), "{msg}");
    // Another object is not blocked.
    ObjectLock::acquire(dir.path(), "vm2", Duration::ZERO).unwrap();
    drop(held);
    ObjectLock::acquire(dir.path(), "vm1", Duration::ZERO).unwrap();
}

#[test]
fn second_locker_waits_and_then_gets_the_lock() {
    let dir = TempDir::new("lock-wait");
    let held = ObjectLock::acquire(dir.path(), "vm1", Duration::ZERO).unwrap();
    let (tx, rx) = mpsc::channel();
    let path = dir.path().to_path_buf();
    let waiter = thread::spawn(move || {
        tx.send(()).unwrap();
        let start = Instant::now();
        let lock = ObjectLock::acquire(&path, "vm1", Duration::from_secs(10)).unwrap();
        (start.elapsed(), lock.name().to_string())
    });
    rx.recv().unwrap();
    thread::sleep(Duration::from_millis(200));
    drop(held);
    let (waited, name) = waiter.join().unwrap();
    assert_eq!(name, "vm1");
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn lock_held_by_another_process_is_seen_and_released_when_it_exits() {
    let dir = TempDir::new("lock-proc");
    let lock_file = dir.path().join("vm1.lock");
    // flock(1) from util-linux, when present, holds the lock in a separate process.
    let Ok(mut child) = std::process::Command::new("flock")
        .arg(&lock_file)
        .args(["sleep", "0.5"])
        .spawn()
    else {
        eprintln!("flock(1) not available; skipping");
        return;
    };
    // Wait until the child holds it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ObjectLock::acquire(dir.path(), "vm1", Duration::ZERO) {
            Err(StateError::Busy { .. }) => break,
            Ok(l) => {
                drop(l);
                assert!(Instant::now() < deadline, "child never took the lock");
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
    let lock = ObjectLock::acquire(dir.path(), "vm1", Duration::from_secs(10)).unwrap();
    assert!(child.try_wait().unwrap().is_some());
    drop(lock);
    child.wait().unwrap();
}

#[test]
fn lock_refuses_bad_names() {
    let dir = TempDir::new("lock-names");
    for bad in ["../x", "..", ".hidden", "a/b", ""] {
        let err = ObjectLock::acquire(dir.path(), bad, Duration::ZERO).unwrap_err();
        assert!(
            matches!(err, StateError::InvalidName { .. }),
            "{bad}: {err:?}"
        );
    }
}

// ---- 4. the config store ----

#[test]
fn store_write_read_list_remove() {
    let root = TempDir::new("store");
    let store = store(&root);
    assert!(store.list().unwrap().names.is_empty());
    store.write("b", &domain_xml("b")).unwrap();
    store.write("a", &domain_xml("a")).unwrap();
    store.write("a", &domain_xml("a")).unwrap();
    assert_eq!(store.read("a").unwrap(), domain_xml("a"));
    assert_eq!(
        DomainDef::parse(&store.read("b").unwrap()).unwrap().name,
        "b"
    );
    // A lock file beside the definitions is not an object.
    let _l = ObjectLock::acquire(store.dir(), "a", Duration::ZERO).unwrap();
    let listing = store.list().unwrap();
    assert_eq!(listing.names, vec!["a", "b"]);
    assert!(listing.problems.is_empty());
    store.remove("a").unwrap();
    assert_eq!(store.list().unwrap().names, vec!["b"]);
    assert!(matches!(
        store.remove("a").unwrap_err(),
        StateError::NotFound { .. }
    ));
    let err = store.read("a").unwrap_err();
    assert!(matches!(err, StateError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("'a'"), "{err}");
}

#[test]
fn corrupt_files_are_reported_by_name_and_the_rest_still_list() {
    let root = TempDir::new("corrupt");
    let store = store(&root);
    store.write("good1", &domain_xml("good1")).unwrap();
    store.write("good2", &domain_xml("good2")).unwrap();
    let dir = store.dir().to_path_buf();
    // Half-written (a crash of a non-atomic writer).
    fs::write(
        dir.join("half.xml"),
        "<domain type='qemu'><name>half</name><mem",
    )
    .unwrap();
    // Well-formed, not a domain.
    fs::write(
        dir.join("notdomain.xml"),
        "<network><name>x</name></network>",
    )
    .unwrap();
    // A domain whose name does not match its file.
    fs::write(dir.join("other.xml"), domain_xml("someone")).unwrap();
    // Not valid UTF-8.
    fs::write(dir.join("binary.xml"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    // Unreadable: a directory with an object's name.
    fs::create_dir(dir.join("adir.xml")).unwrap();
    // Not objects at all.
    fs::write(dir.join("README"), "hi").unwrap();

    let listing = store.list().unwrap();
    assert_eq!(listing.names, vec!["good1", "good2"]);
    let bad: Vec<String> = listing
        .problems
        .iter()
        .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        bad,
        vec![
            "adir.xml",
            "binary.xml",
            "half.xml",
            "notdomain.xml",
            "other.xml"
        ]
    );
    for p in &listing.problems {
        let shown = p.to_string();
        assert!(shown.contains(&*p.path.to_string_lossy()), "{shown}");
        assert!(!p.message.is_empty());
    }
    let other = listing
        .problems
        .iter()
        .find(|p| p.path.ends_with("other.xml"))
        .unwrap();
    assert!(other.message.contains("someone"), "{}", other.message);
}

#[test]
fn names_are_validated_everywhere() {
    let root = TempDir::new("names");
    let store = store(&root);
    for bad in [
        "",
        "a/b",
        "..",
        ".",
        ".hidden",
        "../etc/passwd",
        "a\nb",
        "a\u{7}b",
    ] {
        assert!(validate_name(bad).is_err(), "{bad:?}");
        for err in [
            store.write(bad, &domain_xml("x")).unwrap_err(),
            store.read(bad).unwrap_err(),
            store.remove(bad).unwrap_err(),
        ] {
            assert!(
                matches!(err, StateError::InvalidName { .. }),
                "{bad:?}: {err:?}"
            );
        }
    }
    // libvirt's message for '/' is kept.
    let err = validate_name("a/b").unwrap_err().to_string();
    assert!(err.contains("cannot contain '/'"), "{err}");
    for good in ["vm", "a.b", "a..b", "with space", "ünï", "x-1_2"] {
        validate_name(good).unwrap();
    }
    // Nothing escaped the store directory.
    assert!(!root.path().join("etc/passwd").exists());
    assert!(!root.path().join("x.xml").exists());
}
