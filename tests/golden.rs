//! Cases recorded once from real virsh (tests/golden/*.json, written by tests/golden/record)
//! and compared with virtsh on every run: for behaviour the live differential suite cannot
//! re-check each time because virsh itself is unreliable there.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_virtsh");

/// The differential harness's masks: values that change from run to run.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.find("CPU time:") {
            Some(i) => {
                let (head, rest) = line.split_at(i + "CPU time:".len());
                let digits = rest.trim_start();
                let pad = &rest[..rest.len() - digits.len()];
                let tail = digits.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                out.push_str(head);
                out.push_str(pad);
                out.push_str("<t>");
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[test]
fn recorded_virsh_answers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/golden")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read recording");
        let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("valid JSON");
        for case in cases {
            let command = case["command"].as_str().expect("command");
            let o = Command::new(BIN)
                .args(["-c", "test:///default", command])
                .current_dir(&dir)
                .env("LC_ALL", "C")
                .env_remove("LIBVIRT_DEFAULT_URI")
                .env_remove("VIRSH_DEFAULT_CONNECT_URI")
                .stdin(Stdio::null())
                .output()
                .expect("run virtsh");
            let got = (
                o.status.code().map(i64::from),
                mask(&String::from_utf8_lossy(&o.stdout)),
                mask(&String::from_utf8_lossy(&o.stderr)),
            );
            let want = (
                case["status"].as_i64(),
                mask(case["stdout"].as_str().unwrap_or_default()),
                mask(case["stderr"].as_str().unwrap_or_default()),
            );
            if got != want {
                failures.push(format!("{command}\n  want {want:?}\n  got  {got:?}"));
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no recorded cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
