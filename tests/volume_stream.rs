//! vol-upload and vol-download against a real private libvirtd (its storage driver, a `dir`
//! pool in a temp dir), compared with libvirt 9.0's own virsh on the same daemon: the bytes
//! that arrive, whether holes stay holes with `--sparse` (and become data without it), and
//! what each tool prints, byte for byte.
//!
//! libvirtd (libvirt-daemon) and virsh (libvirt-clients) are installed by tests/run. Without
//! them these tests say why and pass on a developer's machine; under CI=true a missing one
//! fails.

#[path = "../drivers/remote/tests/common/mod.rs"]
mod libvirtd;
mod support;

use libvirtd::{unavailable, which, PrivateLibvirtd};
use std::fs;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::pty::{openpty, Recorder};

const VIRTSH: &str = env!("CARGO_BIN_EXE_virtsh");
const MIB: u64 = 1024 * 1024;
/// The test file and the volumes: 12 MiB.
const SIZE: u64 = 12 * MIB;

#[derive(Debug, PartialEq, Eq)]
struct Out {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(prog: &Path, uri: &str, args: &[&str]) -> Out {
    let o = Command::new(prog)
        .arg("-c")
        .arg(uri)
        .args(args)
        .env("LC_ALL", "C")
        .env_remove("VIRSH_DEFAULT_CONNECT_URI")
        .env_remove("LIBVIRT_DEFAULT_URI")
        .env_remove("VIRSH_DEBUG")
        .env_remove("VIRSH_LOG_FILE")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", prog.display()));
    Out {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code(),
    }
}

/// Both tools on the same arguments (with `{}` in an argument replaced by each tool's own
/// name, so that they write different files): their outputs must be the same, once each
/// tool's own file names are put back to the template.
fn both(virsh: &Path, uri: &str, args: &[&str]) -> Out {
    let one = |prog: &Path, tool: &str| -> Out {
        let expanded: Vec<String> = args.iter().map(|a| a.replace("{}", tool)).collect();
        let o = run(
            prog,
            uri,
            &expanded.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let back = |text: &str| {
            args.iter()
                .zip(&expanded)
                .filter(|(a, _)| a.contains("{}"))
                .fold(text.to_string(), |t, (a, e)| t.replace(e.as_str(), a))
        };
        Out {
            stdout: back(&o.stdout),
            stderr: back(&o.stderr),
            code: o.code,
        }
    };
    let theirs = one(virsh, "virsh");
    let ours = one(Path::new(VIRTSH), "virtsh");
    assert_eq!(ours, theirs, "virtsh vs virsh on {args:?}");
    ours
}

/// virtsh with its stderr on a pseudo-terminal, as a person runs it: its stdout and
/// everything the terminal showed.
fn on_a_terminal(uri: &str, args: &[&str]) -> (Out, String) {
    let (master, slave) = openpty();
    let mut cmd = Command::new(VIRTSH);
    cmd.arg("-c")
        .arg(uri)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave));
    let child = cmd.spawn().expect("run virtsh");
    drop(cmd); // our copy of the slave goes, so the reader sees the end when virtsh exits
    let shown = Recorder::start(fs::File::from(master));
    let o = child.wait_with_output().expect("wait for virtsh");
    let shown = shown.finish();
    (
        Out {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::new(),
            code: o.status.code(),
        },
        String::from_utf8_lossy(&shown).into_owned(),
    )
}

fn ok(o: Out, what: &str) {
    assert_eq!(o.code, Some(0), "{what}: {o:?}");
}

/// Bytes the file takes on disk.
fn allocated(p: &Path) -> u64 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .blocks()
        * 512
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A recognisable MiB of data (no zeroes, so no part of it can be taken for a hole).
fn pattern(seed: u8) -> Vec<u8> {
    (0..MIB)
        .map(|i| (i % 251) as u8 ^ seed | 1)
        .collect::<Vec<u8>>()
}

/// The test file: data at 0 and at 7 MiB, a 6 MiB hole between, and a trailing hole of 4 MiB
/// (virStreamSparseSendAll sends that one too, before the end).
fn sparse_file(p: &Path) -> Vec<u8> {
    let f = fs::File::create(p).expect("create the test file");
    f.write_all_at(&pattern(0x20), 0).expect("write");
    f.write_all_at(&pattern(0x40), 7 * MIB).expect("write");
    f.set_len(SIZE).expect("truncate");
    drop(f);
    read(p)
}

struct Work {
    dir: PathBuf,
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn real_virsh(test: &str) -> Option<PathBuf> {
    let found = which("virsh");
    if found.is_none() {
        unavailable(test, "virsh not found (Debian package libvirt-clients)");
    }
    found
}

/// A `dir` pool named `streams` in `dir`, made through virtsh.
fn make_pool(uri: &str, dir: &Path) {
    let target = dir.display().to_string();
    ok(
        run(
            Path::new(VIRTSH),
            uri,
            &["pool-create-as", "streams", "dir", "--target", &target],
        ),
        "pool-create-as",
    );
}

fn make_vol(uri: &str, name: &str) {
    ok(
        run(
            Path::new(VIRTSH),
            uri,
            &[
                "vol-create-as",
                "streams",
                name,
                &SIZE.to_string(),
                "--format",
                "raw",
                // Nothing allocated up front: what the upload writes is what takes space.
                "--allocation",
                "0",
            ],
        ),
        "vol-create-as",
    );
}

#[test]
fn volume_streams_match_virsh() {
    let test = "volume_streams_match_virsh";
    let Some(virsh) = real_virsh(test) else {
        return;
    };
    let Some(d): Option<PrivateLibvirtd> = libvirtd::start(test, "") else {
        return;
    };
    // The QEMU driver's connection: the daemon's storage driver comes with it.
    let uri = format!("qemu+unix:///system?socket={}", d.sock.display());
    let work = Work {
        dir: std::env::temp_dir().join(format!("virtsh-volstream-{}", std::process::id())),
    };
    let _ = fs::remove_dir_all(&work.dir);
    let pool = work.dir.join("pool");
    fs::create_dir_all(&pool).expect("pool dir");
    let w = |name: &str| work.dir.join(name).display().to_string();

    let src = work.dir.join("src.img");
    let content = sparse_file(&src);
    assert!(
        allocated(&src) <= 3 * MIB,
        "the file system here keeps no holes ({} bytes allocated)",
        allocated(&src)
    );

    make_pool(&uri, &pool);
    // Each tool uploads into its own pair of volumes: with and without --sparse.
    for tool in ["virsh", "virtsh"] {
        make_vol(&uri, &format!("sparse-{tool}"));
        make_vol(&uri, &format!("full-{tool}"));
    }
    let srcs = src.display().to_string();

    // Uploads: nothing printed, the volume holds the file's bytes. With --sparse the holes
    // stay holes in the volume; without, the zeroes are written out.
    let o = both(
        &virsh,
        &uri,
        &[
            "vol-upload",
            "--pool",
            "streams",
            "sparse-{}",
            &srcs,
            "--sparse",
        ],
    );
    ok(o, "vol-upload --sparse");
    let o = both(
        &virsh,
        &uri,
        &["vol-upload", "--pool", "streams", "full-{}", &srcs],
    );
    ok(o, "vol-upload");
    for tool in ["virsh", "virtsh"] {
        let sparse = pool.join(format!("sparse-{tool}"));
        let full = pool.join(format!("full-{tool}"));
        assert!(read(&sparse) == content, "{tool}: --sparse upload content");
        assert!(read(&full) == content, "{tool}: upload content");
        assert!(
            allocated(&sparse) <= 3 * MIB,
            "{tool}: a --sparse upload keeps the holes ({} allocated)",
            allocated(&sparse)
        );
        assert!(
            allocated(&full) >= SIZE,
            "{tool}: an upload without --sparse writes the zeroes ({} allocated)",
            allocated(&full)
        );
    }
    assert_eq!(
        allocated(&pool.join("sparse-virtsh")),
        allocated(&pool.join("sparse-virsh"))
    );

    // Downloads, from the sparse volume our upload made.
    let o = both(
        &virsh,
        &uri,
        &[
            "vol-download",
            "--pool",
            "streams",
            "sparse-virtsh",
            &w("down-sparse-{}"),
            "--sparse",
        ],
    );
    ok(o, "vol-download --sparse");
    let o = both(
        &virsh,
        &uri,
        &[
            "vol-download",
            "--pool",
            "streams",
            "sparse-virtsh",
            &w("down-full-{}"),
        ],
    );
    ok(o, "vol-download");
    for tool in ["virsh", "virtsh"] {
        let sparse = work.dir.join(format!("down-sparse-{tool}"));
        let full = work.dir.join(format!("down-full-{tool}"));
        assert!(
            read(&sparse) == content,
            "{tool}: --sparse download content"
        );
        assert!(read(&full) == content, "{tool}: download content");
        assert!(
            allocated(&sparse) <= 3 * MIB,
            "{tool}: a --sparse download is sparse ({} allocated)",
            allocated(&sparse)
        );
        assert!(
            allocated(&full) >= SIZE,
            "{tool}: a download without --sparse is not ({} allocated)",
            allocated(&full)
        );
    }
    assert_eq!(
        allocated(&work.dir.join("down-sparse-virtsh")),
        allocated(&work.dir.join("down-sparse-virsh"))
    );

    // A window that starts in data and ends in the hole, and one that starts in the hole;
    // downloaded over files that exist (they are truncated first).
    for (offset, length) in [(MIB / 2, 2 * MIB), (3 * MIB, 5 * MIB)] {
        let (off, len) = (offset.to_string(), length.to_string());
        let target = w("window-{}");
        for sparse in [true, false] {
            let mut args = vec![
                "vol-download",
                "--pool",
                "streams",
                "sparse-virtsh",
                &target,
                "--offset",
                &off,
                "--length",
                &len,
            ];
            if sparse {
                args.push("--sparse");
            }
            ok(both(&virsh, &uri, &args), "vol-download --offset --length");
            let want = &content[offset as usize..(offset + length) as usize];
            for tool in ["virsh", "virtsh"] {
                let got = read(&work.dir.join(format!("window-{tool}")));
                assert!(got == want, "{tool}: window {off}+{len} sparse={sparse}");
            }
        }
    }

    // People at a terminal see a bar of bytes; the command prints nothing else.
    let (o, shown) = on_a_terminal(
        &uri,
        &[
            "vol-upload",
            "--pool",
            "streams",
            "full-virtsh",
            &srcs,
            "--sparse",
        ],
    );
    ok(o, "vol-upload on a terminal");
    assert!(
        shown.contains("Uploading full-virtsh") && shown.contains("12.00 MiB/12.00 MiB"),
        "the upload's bar: {shown:?}"
    );
    let target = w("terminal");
    let (o, shown) = on_a_terminal(
        &uri,
        &["vol-download", "--pool", "streams", "full-virtsh", &target],
    );
    ok(o, "vol-download on a terminal");
    assert!(
        shown.contains("Downloading full-virtsh") && shown.contains("12.00 MiB/12.00 MiB"),
        "the download's bar: {shown:?}"
    );
    assert!(read(&work.dir.join("terminal")) == content);

    // Failures: the same lines as virsh (each tool's own file name aside), and a file the
    // download created is removed.
    let missing = w("missing/{}");
    both(
        &virsh,
        &uri,
        &["vol-upload", "--pool", "streams", "full-virtsh", &missing],
    );
    both(
        &virsh,
        &uri,
        &["vol-download", "--pool", "streams", "full-virtsh", &missing],
    );
    // Our own file fails mid-stream: the stream is aborted and the daemon stays usable.
    let o = both(
        &virsh,
        &uri,
        &[
            "vol-download",
            "--pool",
            "streams",
            "full-virtsh",
            "/dev/full",
        ],
    );
    assert_eq!(
        o.stderr,
        "error: cannot receive data from volume full-virtsh\n\
         error: recv handler failed: No space left on device\n"
    );
    let dir = work.dir.display().to_string();
    let o = both(
        &virsh,
        &uri,
        &["vol-upload", "--pool", "streams", "full-virtsh", &dir],
    );
    assert_eq!(
        o.stderr,
        "error: cannot send data to volume full-virtsh\n\
         error: send handler failed: Is a directory\n"
    );

    // Refused before any byte moves (the public API's read-only check): the download's
    // file, created first, is removed again.
    let o = both(
        &virsh,
        &uri,
        &[
            "-r",
            "vol-upload",
            "--pool",
            "streams",
            "full-virtsh",
            &srcs,
        ],
    );
    assert_eq!(o.code, Some(1), "{o:?}");
    let o = both(
        &virsh,
        &uri,
        &[
            "-r",
            "vol-download",
            "--pool",
            "streams",
            "full-virtsh",
            &w("readonly-{}"),
        ],
    );
    assert_eq!(o.code, Some(1), "{o:?}");
    for tool in ["virsh", "virtsh"] {
        assert!(
            !work.dir.join(format!("readonly-{tool}")).exists(),
            "{tool}: the file a failed download created is removed"
        );
    }
    // More bytes than --length allows: the daemon fails the stream after the first MiB, and
    // with 11 MiB still to send each tool notices while sending ("cannot send data").
    let one = MIB.to_string();
    let o = both(
        &virsh,
        &uri,
        &[
            "vol-upload",
            "--pool",
            "streams",
            "full-virtsh",
            &srcs,
            "--length",
            &one,
        ],
    );
    assert_eq!(
        o.stderr,
        "error: cannot send data to volume full-virtsh\n\
         error: cannot write to stream: No space left on device\n"
    );
    // Past the end of the volume: libvirt lets both through (an upload grows the file, a
    // download gets nothing); the tools agree.
    let past = (SIZE + MIB).to_string();
    for cmd in ["vol-download", "vol-upload"] {
        let target = if cmd == "vol-upload" {
            srcs.clone()
        } else {
            w("past-{}")
        };
        both(
            &virsh,
            &uri,
            &[
                cmd,
                "--pool",
                "streams",
                "full-virtsh",
                &target,
                "--offset",
                &past,
            ],
        );
    }
}
