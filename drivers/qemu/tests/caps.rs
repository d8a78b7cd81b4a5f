//! Capabilities probe and cache against a real qemu-system-x86_64.

mod common;

use std::fs;

use common::{qemu_binary, TestDir};
use virtsh_qemu::caps::{self, CacheOutcome, CapsCache, ProbeOptions};

fn cache(dir: &TestDir) -> CapsCache {
    CapsCache::new(
        dir.path().join("cache"),
        ProbeOptions::new(dir.path().join("run")),
    )
}

#[test]
fn probe_then_hit_then_corrupt_then_stale() {
    let Some(qemu) = qemu_binary("probe_then_hit_then_corrupt_then_stale") else {
        return;
    };
    let dir = TestDir::new("caps");
    let c = cache(&dir);

    // First lookup: a real probe, stored.
    let first = c.get(&qemu).expect("probe");
    assert_eq!(first.outcome, CacheOutcome::Miss);
    assert!(first.store_error.is_none(), "{:?}", first.store_error);
    assert_eq!(c.probe_count(), 1);
    let caps = &first.caps;
    assert!(caps.version.major >= 4);
    assert!(
        caps.machine("q35").is_some(),
        "q35 among {:?}",
        caps.machines.len()
    );
    assert!(caps.machine("pc").is_some());
    assert!(caps.default_machine().is_some());
    assert!(caps.has_command("query-status"));
    assert!(caps.has_command("qmp_capabilities"));
    // The QMP schema: each command's arguments.
    assert!(caps.has_command_arg("screendump", "filename"));
    assert!(caps.has_command_arg("blockdev-add", "node-name"));
    assert!(!caps.has_command_arg("screendump", "no-such-argument"));
    assert!(caps.has_type("virtio-blk-pci"), "device types probed");
    assert!(caps.has_type("e1000"));
    assert!(
        caps.cpu_models.iter().any(|m| m.name == "qemu64"),
        "CPU models probed under TCG"
    );
    assert_eq!(caps.probe_accel, "tcg");
    assert!(!caps.kvm_enabled, "probed with TCG");
    let file = c.file_for(&qemu).expect("cache file");
    let mtime = fs::metadata(&file)
        .expect("cache written")
        .modified()
        .expect("mtime");
    // No temporary files left behind, and the probe's runtime dir is gone.
    let names: Vec<String> = fs::read_dir(c.dir())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(
        fs::read_dir(dir.path().join("run")).expect("run").count(),
        0,
        "probe runtime dir cleaned"
    );

    // Second lookup: from the cache, no QEMU started, file untouched.
    let second = c.get(&qemu).expect("cached");
    assert_eq!(second.outcome, CacheOutcome::Hit);
    assert_eq!(c.probe_count(), 1, "a cache hit starts no QEMU");
    assert_eq!(&second.caps, caps);
    assert_eq!(
        fs::metadata(&file)
            .expect("meta")
            .modified()
            .expect("mtime"),
        mtime
    );

    // A corrupt file is reported and re-probed, never fatal.
    fs::write(&file, b"{\"format\": 1, \"key\": trunc").expect("corrupt");
    let third = c.get(&qemu).expect("re-probe after corruption");
    match &third.outcome {
        CacheOutcome::Corrupt(why) => assert!(why.contains(&file.display().to_string()), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(c.probe_count(), 2);
    assert_eq!(&third.caps, caps);
    assert_eq!(c.get(&qemu).expect("hit").outcome, CacheOutcome::Hit);

    // A cache entry for another size/mtime of the binary is stale.
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(&file).expect("read")).expect("json");
    json["key"]["size"] = serde_json::json!(1);
    fs::write(&file, serde_json::to_vec(&json).expect("enc")).expect("write");
    assert_eq!(c.get(&qemu).expect("stale").outcome, CacheOutcome::Stale);
    assert_eq!(c.probe_count(), 3);
    assert_eq!(c.get(&qemu).expect("hit").outcome, CacheOutcome::Hit);
}

#[test]
fn cache_key_follows_symlinks_and_unwritable_cache_is_not_fatal() {
    let Some(qemu) = qemu_binary("cache_key_follows_symlinks") else {
        return;
    };
    let dir = TestDir::new("capslink");
    let link = dir.path().join("qemu-link");
    std::os::unix::fs::symlink(fs::canonicalize(&qemu).expect("canon"), &link).expect("symlink");
    let c = cache(&dir);
    assert_eq!(c.file_for(&link).expect("f"), c.file_for(&qemu).expect("f"));
    c.get(&qemu).expect("probe");
    assert_eq!(c.get(&link).expect("via link").outcome, CacheOutcome::Hit);

    // The cache dir is a file: capabilities still come back, with the store error reported.
    let blocked = CapsCache::new(
        dir.path().join("not-a-dir"),
        ProbeOptions::new(dir.path().join("run2")),
    );
    fs::write(dir.path().join("not-a-dir"), b"x").expect("block");
    let got = blocked.get(&qemu).expect("caps despite unwritable cache");
    assert!(got.store_error.is_some());
    assert!(got.caps.has_command("query-status"));
}

#[test]
fn missing_binary_is_an_error_not_a_panic() {
    let dir = TestDir::new("capsmiss");
    let c = cache(&dir);
    let e = c
        .get(&dir.path().join("no-such-qemu"))
        .expect_err("missing binary");
    assert!(matches!(e, caps::CapsError::Binary { .. }), "{e}");
}
