//! Fixture helpers shared by the network, pool, vol, iface and caps tests (included with
//! `#[path]`; it lives under data/ so that cargo does not build it as a test of its own).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(kind)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".xml") && !n.ends_with(".out.xml")
        })
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .trim_end_matches(".xml")
        .to_string()
}

/// (name, input, expected output) for every `ok/NAME.xml` with its `ok/NAME.out.xml`.
pub fn ok_fixtures(kind: &str) -> Vec<(String, String, String)> {
    inputs(&data_dir(kind).join("ok"))
        .into_iter()
        .map(|p| {
            let out = p.with_file_name(format!("{}.out.xml", stem(&p)));
            (stem(&p), read(&p), read(&out))
        })
        .collect()
}

/// (name, input, expected first line of virsh's error) for every `err/NAME.xml`.
pub fn err_fixtures(kind: &str) -> Vec<(String, String, String)> {
    inputs(&data_dir(kind).join("err"))
        .into_iter()
        .map(|p| {
            let err = p.with_file_name(format!("{}.err", stem(&p)));
            (
                stem(&p),
                read(&p),
                read(&err).trim_end_matches('\n').to_string(),
            )
        })
        .collect()
}

/// Validate documents with xmllint against libvirt's RNG schema `schema`.rng. Without xmllint or
/// the schemas the check is skipped, except under CI=true where that is a failure.
pub fn validate_with_schema(schema: &str, docs: &[String]) {
    let rng = Path::new("/usr/share/libvirt/schemas").join(format!("{schema}.rng"));
    let have_xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    if !have_xmllint || !rng.exists() {
        let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
        assert!(!ci, "xmllint or {} missing under CI", rng.display());
        eprintln!(
            "skipping schema validation: xmllint or {} missing",
            rng.display()
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("virtsh-xml-{schema}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (i, doc) in docs.iter().enumerate() {
        let f = dir.join(format!("{i}.xml"));
        std::fs::write(&f, doc).expect("write");
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--relaxng")
            .arg(&rng)
            .arg(&f)
            .output()
            .expect("run xmllint");
        assert!(
            out.status.success(),
            "{schema} document {i} does not validate:\n{}\n{doc}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
