//! The checked-in `src/generated/` is what `tools/xdrgen` makes of `proto/*.x` today, and it
//! is rustfmt-clean.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const REGENERATE: &str =
    "cargo run -p virtsh-xdrgen -- drivers/remote/proto drivers/remote/src/generated";

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the generator into a fresh temp dir, as its binary would.
fn generate_into_temp(tag: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("virtsh-xdrgen-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).unwrap();
    let files = virtsh_xdrgen::generate(&crate_dir().join("proto")).unwrap();
    for (name, text) in files {
        fs::write(out.join(name), text).unwrap();
    }
    out
}

fn rs_files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect()
}

#[test]
fn generated_files_are_fresh() {
    let fresh = generate_into_temp("fresh");
    let checked_in = crate_dir().join("src/generated");
    let names = rs_files(&fresh);
    let extra = rs_files(&checked_in) != names;
    let stale: Vec<String> = names
        .iter()
        .filter(|name| {
            let want = fs::read_to_string(fresh.join(name)).unwrap();
            fs::read_to_string(checked_in.join(name)).ok() != Some(want)
        })
        .cloned()
        .collect();
    let _ = fs::remove_dir_all(&fresh);
    assert!(
        !extra,
        "src/generated has other files than xdrgen makes; run `{REGENERATE}`"
    );
    assert!(
        stale.is_empty(),
        "stale in src/generated: {stale:?}; run `{REGENERATE}`"
    );
}

#[test]
fn generated_files_are_rustfmt_clean() {
    let fresh = generate_into_temp("fmt");
    let status = Command::new("rustfmt")
        .args(["--edition", "2021", "--check"])
        .arg(fresh.join("mod.rs"))
        .status();
    let _ = fs::remove_dir_all(&fresh);
    match status {
        Ok(s) => assert!(
            s.success(),
            "xdrgen's output is not what rustfmt makes of it (see the diff above)"
        ),
        // The generator's layout is fixed; rustfmt only confirms it where it is installed.
        Err(e) => eprintln!("generated_files_are_rustfmt_clean: skipped: rustfmt: {e}"),
    }
}
