//! `xdrgen PROTO_DIR OUT_DIR`: writes virtsh-remote's generated protocol modules. See the
//! library's doc for what it generates and why it is a Rust program.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (proto, out) = match args.as_slice() {
        [p, o] => (PathBuf::from(p), PathBuf::from(o)),
        [] => (
            PathBuf::from("drivers/remote/proto"),
            PathBuf::from("drivers/remote/src/generated"),
        ),
        _ => {
            eprintln!("usage: xdrgen [PROTO_DIR OUT_DIR]");
            return ExitCode::from(2);
        }
    };
    let files = match virtsh_xdrgen::generate(&proto) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("xdrgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("xdrgen: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for (name, text) in files {
        let path = out.join(&name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("xdrgen: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
