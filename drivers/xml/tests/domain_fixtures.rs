//! Every `tests/data/domain/NAME.xml` is parsed and formatted, and must give exactly what
//! libvirt 9.0's test driver printed for it (`NAME.expected.xml`, made by `regen.sh`).
//! Inputs named `error-*.xml` must fail with virsh's message (`NAME.expected.err`).

use std::fs;
use std::path::{Path, PathBuf};
use virtsh_xml::domain::{DomainDef, FormatOptions};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/domain")
}

fn inputs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(data_dir())
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.ends_with(".xml") && !n.ends_with(".expected.xml") && !n.ends_with(".redefined.xml")
        })
        .collect();
    v.sort();
    v
}

/// What virsh prints for a failed define, from our error.
fn virsh_error(file: &str, xml: &str, e: &virtsh_xml::XmlError) -> String {
    format!(
        "error: Failed to define domain from {file}\nerror: {}\n",
        e.libvirt_message("domain_definition", xml)
    )
}

#[test]
fn fixtures_match_libvirt() {
    let mut failures = Vec::new();
    let mut count = 0;
    for input in inputs() {
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let base = name.trim_end_matches(".xml").to_string();
        let xml = fs::read_to_string(&input).expect("read input");
        count += 1;
        if base.starts_with("error-") {
            let expected = fs::read_to_string(data_dir().join(format!("{base}.expected.err")))
                .expect("expected error");
            // virsh ends its error output with an empty line.
            let expected: String = expected
                .lines()
                .take_while(|l| !l.is_empty())
                .map(|l| format!("{l}\n"))
                .collect();
            match DomainDef::parse(&xml) {
                Ok(_) => failures.push(format!("{name}: parsed, expected {expected}")),
                Err(e) => {
                    let got = virsh_error(&name, &xml, &e);
                    if got != expected {
                        failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
                    }
                }
            }
            continue;
        }
        let expected = fs::read_to_string(data_dir().join(format!("{base}.expected.xml")))
            .expect("expected output");
        let got = match DomainDef::parse(&xml) {
            Ok(mut def) => {
                def.assign_test_ifnames();
                def.to_xml(&FormatOptions {
                    inactive: true,
                    ..Default::default()
                })
            }
            Err(e) => format!("ERROR {}\n", e.libvirt_message("domain_definition", &xml)),
        };
        if got != expected {
            failures.push(format!("{name}:\n{}", diff(&expected, &got)));
        }
    }
    assert!(count >= 25, "only {count} fixtures");
    assert!(
        failures.is_empty(),
        "{} of {count} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A small line diff, enough to see where the output departs from libvirt's.
fn diff(expected: &str, got: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let first = e
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(g.len()));
    let mut out = format!("first difference at line {}\n", first + 1);
    for l in e.iter().skip(first.saturating_sub(2)).take(8) {
        out.push_str(&format!("  expected| {l}\n"));
    }
    for l in g.iter().skip(first.saturating_sub(2)).take(8) {
        out.push_str(&format!("  got     | {l}\n"));
    }
    out
}

/// libvirt's own output, defined again, must give what libvirt then prints
/// (`NAME.redefined.xml`): our parser has to accept canonical XML and apply the same
/// renumbering and reordering libvirt does.
#[test]
fn redefining_output_matches_libvirt() {
    let mut failures = Vec::new();
    for input in inputs() {
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let base = name.trim_end_matches(".xml").to_string();
        if base.starts_with("error-") {
            continue;
        }
        let xml = fs::read_to_string(data_dir().join(format!("{base}.expected.xml")))
            .expect("expected output");
        let expected = fs::read_to_string(data_dir().join(format!("{base}.redefined.xml")))
            .expect("redefined output");
        let got = match DomainDef::parse(&xml) {
            Ok(mut def) => {
                def.assign_test_ifnames();
                def.to_xml(&FormatOptions {
                    inactive: true,
                    ..Default::default()
                })
            }
            Err(e) => format!("ERROR {}\n", e.libvirt_message("domain_definition", &xml)),
        };
        if got != expected {
            failures.push(format!("{name}:\n{}", diff(&expected, &got)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
