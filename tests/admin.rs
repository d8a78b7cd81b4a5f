//! virt-admin mode (`virtsh admin ...`, and a symlink named `virt-admin`) against a real
//! private libvirtd, compared with libvirt 9.0's own virt-admin (Debian's libvirt-clients):
//! stdout, stderr and exit status, byte for byte, with only what must differ normalised (the
//! ids and connection times of each tool's own admin connection).
//!
//! libvirtd (libvirt-daemon) and virt-admin (libvirt-clients) are installed by tests/run.
//! Without them these tests say why and pass on a developer's machine; under CI=true a missing
//! one fails.

#[path = "../drivers/remote/tests/common/mod.rs"]
mod libvirtd;

use libvirtd::{unavailable, which, PrivateLibvirtd};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VIRTSH: &str = env!("CARGO_BIN_EXE_virtsh");

#[derive(Debug, PartialEq, Eq)]
struct Out {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs `prog` with a clean admin environment (no default URI, debug or log settings).
fn run_with(prog: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .env("LC_ALL", "C")
        .env_remove("LIBVIRT_ADMIN_DEFAULT_URI")
        .env_remove("VIRT_ADMIN_DEBUG")
        .env_remove("VIRT_ADMIN_LOG_FILE")
        .env_remove("VIRT_ADMIN_HISTSIZE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", prog.display()));
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let o = child.wait_with_output().expect("wait");
    Out {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code(),
    }
}

/// `virtsh admin ARGS`.
fn ours(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut a = vec!["admin"];
    a.extend_from_slice(args);
    run_with(Path::new(VIRTSH), &a, "", env)
}

/// libvirt's virt-admin, or None (after saying why) when it is not installed.
fn real_virt_admin(test: &str) -> Option<PathBuf> {
    let found = which("virt-admin");
    if found.is_none() {
        unavailable(
            test,
            "virt-admin not found (Debian package libvirt-clients)",
        );
    }
    found
}

/// Both tools on the same arguments: the differences, one report per case.
fn compare(
    real: &Path,
    cases: &[Vec<&str>],
    env: &[(&str, &str)],
    normalise: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for args in cases {
        let theirs = run_with(real, args, "", env);
        let mine = ours(args, env);
        let n = |o: &Out| Out {
            stdout: normalise(&o.stdout),
            stderr: normalise(&o.stderr),
            code: o.code,
        };
        if n(&theirs) != n(&mine) {
            diffs.push(format!(
                "virt-admin {args:?}\n  virt-admin: {theirs:?}\n  virtsh:     {mine:?}"
            ));
        }
    }
    diffs
}

fn assert_none(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

fn same(s: &str) -> String {
    s.to_string()
}

/// A connection to the daemon's hypervisor side, held open so that it is a client of the
/// `libvirtd` server; and its id there.
fn hold_client(d: &PrivateLibvirtd) -> (virtsh_remote::Session, u64) {
    let before = admin_conn(d).list_clients("libvirtd").unwrap();
    let uri = virtsh_api::Uri::parse(&d.uri()).unwrap();
    let session = virtsh_remote::open(&uri, &Default::default()).expect("open a libvirt client");
    let after = admin_conn(d).list_clients("libvirtd").unwrap();
    let new = after
        .iter()
        .find(|c| !before.iter().any(|b| b.id == c.id))
        .expect("the new client is listed");
    (session, new.id)
}

fn admin_conn(d: &PrivateLibvirtd) -> virtsh_remote::admin::AdminConnection {
    virtsh_remote::admin::AdminConnection::open(&d.admin_uri()).expect("admin connection")
}

/// The rows of a `client-list` table as (transport) only: each tool's own admin connection
/// has its own id and time.
fn client_rows(table: &str) -> String {
    let mut lines = table.lines();
    // The widths follow the ids: compare the header's words.
    let mut out: Vec<String> = lines
        .by_ref()
        .take(2)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for l in lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        out.push(f.get(1).map_or(String::new(), |t| format!("ID {t} TIME")));
    }
    // The header's dashes follow the widths: keep only their presence.
    if let Some(d) = out.get_mut(1) {
        if d.starts_with("---") {
            *d = "---".into();
        }
    }
    out.join("\n")
}

#[test]
fn reading_the_daemon_matches_virt_admin() {
    let test = "reading_the_daemon_matches_virt_admin";
    let Some(real) = real_virt_admin(test) else {
        return;
    };
    let Some(d) = libvirtd::start(test, "") else {
        return;
    };
    let (_session, id) = hold_client(&d);
    let uri = d.admin_uri();
    let id = id.to_string();
    let c = |args: &[&'static str]| -> Vec<&'static str> { args.to_vec() };
    let mut cases: Vec<Vec<&str>> = vec![
        c(&["uri"]),
        c(&["version"]),
        c(&["srv-list"]),
        c(&["server-list"]),
        c(&["server-threadpool-info", "libvirtd"]),
        c(&["srv-threadpool-info", "--server", "libvirtd"]),
        c(&["server-clients-info", "libvirtd"]),
        c(&["srv-clients-info", "admin"]),
        c(&["client-list", "libvirtd"]),
        c(&["srv-clients-list", "--server=libvirtd"]),
        c(&["daemon-log-filters"]),
        c(&["daemon-log-outputs"]),
        c(&["uri; srv-list; client-list libvirtd; daemon-log-outputs"]),
        // Errors: the daemon's, then virt-admin's own.
        c(&["server-threadpool-info", "nosuch"]),
        c(&["client-list", "nosuch"]),
        c(&["server-clients-info", "nosuch"]),
        c(&["client-info", "libvirtd", "999999"]),
        c(&["client-info", "nosuch", "1"]),
        c(&["client-info", "libvirtd", "abc"]),
        c(&["client-info", "libvirtd", "-1"]),
        c(&["client-disconnect", "libvirtd", "999999"]),
        c(&["client-disconnect", "libvirtd", "-1"]),
        c(&["client-disconnect", "libvirtd", "x1"]),
        c(&["server-update-tls", "libvirtd"]),
        c(&["srv-update-tls", "nosuch"]),
        c(&["server-threadpool-info", ""]),
        c(&["server-threadpool-set", "libvirtd"]),
        c(&[
            "server-threadpool-set",
            "libvirtd",
            "--min-workers",
            "10",
            "--max-workers",
            "5",
        ]),
        c(&["server-threadpool-set", "libvirtd", "--min-workers", "abc"]),
        c(&["server-threadpool-set", "libvirtd", "--max-workers", "-3"]),
        c(&["server-threadpool-set", "nosuch", "--max-workers", "30"]),
        c(&["server-clients-set", "libvirtd"]),
        c(&[
            "server-clients-set",
            "libvirtd",
            "--max-clients",
            "5",
            "--max-unauth-clients",
            "10",
        ]),
        c(&["daemon-timeout", "5"]),
        c(&["daemon-timeout", "--timeout", "x"]),
        c(&["daemon-timeout"]),
        c(&["nosuch"]),
        c(&["client-info", "libvirtd"]),
        c(&["help", "nosuch"]),
        c(&["uri", "extra"]),
    ];
    let client_info = ["client-info", "libvirtd", id.as_str()];
    cases.push(client_info.to_vec());
    let with_uri: Vec<Vec<&str>> = cases
        .iter()
        .flat_map(|args| {
            let mut a = vec!["-c", uri.as_str()];
            a.extend(args);
            let mut q = vec!["-q", "-c", uri.as_str()];
            q.extend(args);
            [a, q]
        })
        .collect();
    assert_none(compare(&real, &with_uri, &[], &same));

    // The admin server's workers are busy answering the very question: free ones vary.
    let busy = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.starts_with("freeWorkers"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let admin_pool = vec![vec!["-c", uri.as_str(), "server-threadpool-info", "admin"]];
    assert_none(compare(&real, &admin_pool, &[], &busy));

    // What virt-admin printed for the held client, to be sure the comparison saw it.
    let info = ours(&["-c", &uri, "client-info", "libvirtd", &id], &[]);
    assert!(
        info.stdout
            .starts_with(&format!("id             : {id}\nconnection_time: ")),
        "{info:?}"
    );
    assert!(info
        .stdout
        .contains("\ntransport      : unix\nreadonly       : no\n"));
    assert!(info
        .stdout
        .contains(&format!("unix_process_id: {}\n", std::process::id())));

    // Each tool's own connection is a client of the admin server: same table, own ids.
    let list = ["-c", uri.as_str(), "client-list", "admin"];
    let theirs = run_with(&real, &list, "", &[]);
    let mine = ours(&list, &[]);
    assert_eq!(client_rows(&theirs.stdout), client_rows(&mine.stdout));
    assert_eq!(
        client_rows(&mine.stdout),
        "Id Transport Connected since\n---\nID unix TIME\n"
    );
    assert_eq!((theirs.code, mine.code), (Some(0), Some(0)));

    // The default URI from the environment, and from libvirt-admin.conf (ours only: virt-admin
    // reads the host's file), with aliases.
    let env = [("LIBVIRT_ADMIN_DEFAULT_URI", uri.as_str())];
    assert_none(compare(
        &real,
        &[vec!["uri"], vec!["srv-list"]],
        &env,
        &same,
    ));
    let conf = d.dir.join("libvirt-admin.conf");
    std::fs::write(
        &conf,
        format!("uri_default = \"{uri}\"\nuri_aliases = [\n  \"mine={uri}\",\n]\n"),
    )
    .unwrap();
    let conf_env = [("VIRTSH_LIBVIRT_ADMIN_CONF", conf.to_str().unwrap())];
    for args in [&["uri"][..], &["-c", "mine", "uri"][..]] {
        let o = ours(args, &conf_env);
        assert_eq!(
            (o.stdout.as_str(), o.code),
            (format!("{uri}\n\n").as_str(), Some(0))
        );
    }
}

#[test]
fn settings_read_back_the_same_in_both_tools() {
    let test = "settings_read_back_the_same_in_both_tools";
    let Some(real) = real_virt_admin(test) else {
        return;
    };
    let Some(d) = libvirtd::start(test, "") else {
        return;
    };
    let uri = d.admin_uri();
    let c = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["-c".to_string(), uri.clone()];
        a.extend(args.iter().map(|s| s.to_string()));
        a
    };
    let reads = [
        c(&["server-threadpool-info", "libvirtd"]),
        c(&["server-clients-info", "libvirtd"]),
        c(&["daemon-log-filters"]),
        c(&["daemon-log-outputs"]),
    ];
    let check_reads = |expect: &[&str]| {
        let cases: Vec<Vec<&str>> = reads
            .iter()
            .map(|a| a.iter().map(String::as_str).collect())
            .collect();
        assert_none(compare(&real, &cases, &[], &same));
        let all = ours(
            &[
                "-c",
                &uri,
                "server-threadpool-info libvirtd; server-clients-info libvirtd; \
                 daemon-log-filters",
            ],
            &[],
        );
        for e in expect {
            assert!(all.stdout.contains(e), "{e:?} not in:\n{}", all.stdout);
        }
    };
    // Each setting is made by one tool and read back by both.
    let set = |prog: &Path, args: &[&str]| {
        let mut a = vec!["-c", uri.as_str()];
        a.extend(args);
        let o = if prog == Path::new(VIRTSH) {
            ours(&a, &[])
        } else {
            run_with(prog, &a, "", &[])
        };
        assert_eq!(
            (o.stdout.as_str(), o.stderr.as_str(), o.code),
            ("\n", "", Some(0))
        );
    };
    let virtsh = Path::new(VIRTSH);
    set(
        virtsh,
        &[
            "server-threadpool-set",
            "libvirtd",
            "--max-workers",
            "30",
            "--min-workers",
            "3",
            "--priority-workers",
            "2",
        ],
    );
    set(
        virtsh,
        &[
            "srv-clients-set",
            "libvirtd",
            "--max-clients",
            "100",
            "--max-unauth-clients",
            "10",
        ],
    );
    set(virtsh, &["daemon-log-filters", "--filters", "1:util 2:rpc"]);
    check_reads(&[
        "minWorkers     : 3\nmaxWorkers     : 30\n",
        "prioWorkers    : 2\n",
        "nclients_max        : 100\n",
        "nclients_unauth_max : 10\n",
        " Logging filters: 1:*util* 2:*rpc* \n",
    ]);
    set(
        &real,
        &[
            "srv-threadpool-set",
            "libvirtd",
            "--max-workers",
            "25",
            "--min-workers",
            "4",
        ],
    );
    set(
        &real,
        &[
            "server-clients-set",
            "libvirtd",
            "--max-unauth-clients",
            "7",
        ],
    );
    set(&real, &["daemon-log-filters", "--filters", "3:remote"]);
    check_reads(&[
        "minWorkers     : 4\nmaxWorkers     : 25\n",
        "nclients_unauth_max : 7\n",
        " Logging filters: 3:*remote* \n",
    ]);
    // An empty value is allowed: no filters at all.
    set(virtsh, &["daemon-log-filters", "--filters", ""]);
    check_reads(&[" Logging filters: \n"]);
    // Outputs: set to the same file, written as libvirt writes it back.
    let outputs = ours(&["-q", "-c", &uri, "daemon-log-outputs"], &[]);
    let current = outputs.stdout.trim_end().to_string();
    assert!(current.starts_with("3:file:"), "{current:?}");
    set(virtsh, &["daemon-log-outputs", "--outputs", &current]);
    check_reads(&[]);
    // 0: the daemon never shuts down by itself (what it does without --timeout).
    set(virtsh, &["daemon-timeout", "--timeout", "0"]);
    set(&real, &["daemon-timeout", "--timeout", "0"]);
    // Both refuse what the daemon refuses in the same words.
    let bad: Vec<Vec<&str>> = vec![
        vec!["-c", &uri, "daemon-log-filters", "--filters", "9:x"],
        vec!["-c", &uri, "daemon-log-outputs", "--outputs", "1:nowhere"],
        vec![
            "-c",
            &uri,
            "server-threadpool-set",
            "libvirtd",
            "--min-workers",
            "50",
        ],
        vec![
            "-c",
            &uri,
            "server-clients-set",
            "libvirtd",
            "--max-clients",
            "1",
        ],
    ];
    assert_none(compare(&real, &bad, &[], &same));
}

#[test]
fn client_disconnect_and_reconnection() {
    let test = "client_disconnect_and_reconnection";
    let Some(real) = real_virt_admin(test) else {
        return;
    };
    let Some(d) = libvirtd::start(test, "") else {
        return;
    };
    let uri = d.admin_uri();
    for prog in [Path::new(VIRTSH), real.as_path()] {
        let (mut session, id) = hold_client(&d);
        let id = id.to_string();
        let args = ["-c", uri.as_str(), "client-disconnect", "libvirtd", &id];
        let o = if prog == Path::new(VIRTSH) {
            ours(&args, &[])
        } else {
            run_with(prog, &args, "", &[])
        };
        // virt-admin's message has no newline of its own: the blank line ends it.
        assert_eq!(
            (o.stdout, o.stderr, o.code),
            (
                format!("Client '{id}' disconnected\n"),
                String::new(),
                Some(0)
            ),
            "{}",
            prog.display()
        );
        let after = admin_conn(&d).list_clients("libvirtd").unwrap();
        assert!(after.iter().all(|c| c.id.to_string() != id));
        let hostname = session
            .client
            .call_proc::<virtsh_remote::generated::remote::procs::ConnectGetHostname>(&());
        assert!(hostname.is_err(), "the client is still connected");
    }
    // Under -q, nothing ends the line.
    let (_session, id) = hold_client(&d);
    let id = id.to_string();
    let o = ours(
        &["-q", "-c", &uri, "client-disconnect", "libvirtd", &id],
        &[],
    );
    assert_eq!(o.stdout, format!("Client '{id}' disconnected"));

    // A prompt whose own admin connection is closed by the daemon reconnects for the next
    // command, saying so. The prompt's client is the newest one of the admin server.
    let mut conn = admin_conn(&d);
    let before = conn.list_clients("admin").unwrap().len();
    let mut child = Command::new(VIRTSH)
        .args(["admin", "-c", &uri])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"uri\n").unwrap();
    stdin.flush().unwrap();
    // The first `uri` is answered on the first connection: read up to the next prompt.
    let mut seen = Vec::new();
    let first = format!("virt-admin # uri\n{uri}\n\nvirt-admin # ");
    while !String::from_utf8_lossy(&seen).ends_with(&first) {
        let mut buf = [0u8; 4096];
        let k = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(
            k > 0,
            "the prompt ended: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..k]);
    }
    // Then the daemon drops it: the prompt's client is the newest one of the admin server.
    let theirs = conn
        .list_clients("admin")
        .unwrap()
        .into_iter()
        .max_by_key(|c| c.id)
        .expect("the prompt's connection");
    assert!(conn.list_clients("admin").unwrap().len() > before);
    conn.close_client(&theirs).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(b"uri\nquit\n").unwrap();
    drop(stdin);
    std::io::Read::read_to_end(&mut stdout, &mut seen).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let stdout = String::from_utf8_lossy(&seen);
    assert!(
        stdout.ends_with(&format!(
            "{first}uri\nReconnected to the admin server\n{uri}\n\nvirt-admin # quit\n\n"
        )),
        "{stdout}"
    );
}

#[test]
fn the_prompt_through_a_virt_admin_symlink_is_virt_admin_s() {
    let test = "the_prompt_through_a_virt_admin_symlink_is_virt_admin_s";
    let Some(real) = real_virt_admin(test) else {
        return;
    };
    let Some(d) = libvirtd::start(test, "") else {
        return;
    };
    let link = symlink("virt-admin");
    let uri = d.admin_uri();
    let script = "uri\nsrv-list\n\n  \nhelp uri\nbogus\nserver-threadpool-info nosuch\n\
                  client-list libvirtd\nexit\nuri\n";
    for quiet in [false, true] {
        let mut args = vec!["-c", uri.as_str()];
        if quiet {
            args.insert(0, "-q");
        }
        let theirs = run_with(&real, &args, script, &[]);
        let mine = run_with(&link, &args, script, &[]);
        assert_eq!(theirs, mine);
        assert!(mine.stdout.contains("virt-admin # srv-list\n"));
    }
    // At the end of input, the same line break; `connect` says what it did.
    let script = format!("uri\nconnect {uri}\nuri\nconnect\nsrv-list\n");
    let theirs = run_with(&real, &[], &script, &[]);
    let mine = run_with(&link, &[], &script, &[]);
    // readline redraws a line longer than its assumed width; only that line may differ.
    let long = format!("virt-admin # connect {uri}");
    let strip = |s: &str| -> String {
        s.lines()
            .map(|l| {
                if l.starts_with("virt-admin # connect libvirtd") {
                    long.as_str()
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&theirs.stdout), strip(&mine.stdout));
    assert_eq!((theirs.stderr, theirs.code), (mine.stderr, mine.code));
    assert!(mine.stdout.contains("Connected to the admin server\n"));
    assert!(mine.stdout.contains("Reconnected to the admin server\n"));
    let _ = std::fs::remove_dir_all(link.parent().unwrap());
}

/// A symlink called `name` to the built binary, in a fresh directory.
fn symlink(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "virtsh-admin-argv0-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(VIRTSH, &link).unwrap();
    link
}

#[test]
fn help_options_and_errors_without_a_daemon() {
    let test = "help_options_and_errors_without_a_daemon";
    let Some(real) = real_virt_admin(test) else {
        return;
    };
    // Every command's help, from the listing virt-admin prints itself.
    let listing = run_with(&real, &["help"], "", &[]);
    let mut cases: Vec<Vec<String>> = vec![vec!["help".into()]];
    for line in listing.stdout.lines() {
        if let Some(body) = line.strip_prefix("    ") {
            let name = body.split_whitespace().next().unwrap().to_string();
            cases.push(vec!["help".into(), name.clone()]);
            cases.push(vec![name, "--help".into()]);
        }
    }
    assert!(cases.len() > 40, "{}", listing.stdout);
    let nowhere = "libvirtd:///system?socket=/nonexistent/virtsh-test-admin-sock";
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    for extra in [
        s(&["help", "monitor"]),
        s(&["help", "Management commands"]),
        s(&["help", "virt-admin"]),
        s(&["help", "srv-list"]),
        s(&["help", "complete"]),
        s(&["help", "self-test"]),
        s(&["self-test"]),
        s(&["self-test", "--completers-missing"]),
        s(&["echo", "a", "b"]),
        s(&["echo --shell \"a b\" c"]),
        s(&["-v"]),
        s(&["--version"]),
        s(&["--vers=short"]),
        s(&["-Z"]),
        s(&["-r", "uri"]),
        s(&["--readonly"]),
        s(&["--log"]),
        s(&["-c"]),
        s(&["-d", "x", "uri"]),
        s(&["--debug=x", "uri"]),
        s(&["-d", "7", "echo", "x"]),
        s(&["-d", "0", "echo", "x"]),
        s(&["nosuch"]),
        s(&["server-threadpool-info"]),
        s(&["client-info", "a"]),
        s(&["daemon-timeout", "--timeout"]),
        s(&["srv-list", "--all"]),
        s(&["echo \"x"]),
        // Connection failures: named (at start) and default (at the first command).
        s(&["-c", nowhere, "uri"]),
        s(&["-c", nowhere, "help"]),
        s(&["-c", "libvirtd:///foo", "uri"]),
        s(&["-c", "qemu:///system", "uri"]),
        s(&["-c", "bad", "uri"]),
        s(&["-c", "", "uri"]),
        s(&["-c", "libvirtd:///system?socket=/x&foo=bar", "uri"]),
        s(&["-c", "libvirtd:///sys tem", "uri"]),
        s(&["-c", "libvirtd://h:abc/system", "uri"]),
        s(&["connect", "bad"]),
        s(&["connect", nowhere]),
        s(&["connect", "--name", ""]),
        s(&["cd", "/"]),
    ] {
        cases.push(extra);
    }
    let cases: Vec<Vec<&str>> = cases
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    let env = [("LIBVIRT_ADMIN_DEFAULT_URI", nowhere)];
    assert_none(compare(&real, &cases, &env, &same));
    // The session daemon's socket, under a runtime directory of our choosing.
    let xdg = [("XDG_RUNTIME_DIR", "/nonexistent/xdg")];
    let sessions: Vec<Vec<&str>> = vec![
        vec!["-c", "libvirtd:///session", "uri"],
        vec!["-c", "virtqemud:///session", "uri"],
    ];
    assert_none(compare(&real, &sessions, &xdg, &same));

    // Usage names the program: identical through a virt-admin symlink.
    let link = symlink("virt-admin");
    for args in [&["-h"][..], &["--help", "-Z"][..], &["-q", "--he"][..]] {
        assert_eq!(
            run_with(&real, args, "", &[]),
            run_with(&link, args, "", &[])
        );
    }
    let _ = std::fs::remove_dir_all(link.parent().unwrap());
    let usage = ours(&["-h"], &[]);
    assert!(usage
        .stdout
        .starts_with("\nvirtsh admin [options]... [<command_string>]\n"));
    // -V: virt-admin's lines, then ours.
    let v = ours(&["-V"], &[]);
    let theirs = run_with(&real, &["-V"], "", &[]);
    assert!(v.stdout.starts_with(&theirs.stdout), "{v:?}");
    assert!(v
        .stdout
        .ends_with(&format!("\n(virtsh {})\n", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn virsh_mode_keeps_its_command_set() {
    let run = |args: &[&str]| run_with(Path::new(VIRTSH), args, "", &[]);
    let help = run(&["-c", "test:///default", "help"]);
    assert!(!help.stdout.contains("server-list"));
    assert!(help
        .stdout
        .contains(" Virsh itself (help keyword 'virsh'):\n"));
    let o = run(&["-c", "test:///default", "srv-list"]);
    assert_eq!(o.stderr, "error: unknown command: 'srv-list'\n");
    // `admin` is only a word of virtsh's, as its first argument.
    let o = run(&["-c", "test:///default", "admin"]);
    assert_eq!(o.stderr, "error: unknown command: 'admin'\n");
    // Through a `virsh` symlink there is no `admin` at all.
    let link = symlink("virsh");
    let o = run_with(
        &link,
        &["admin", "uri"],
        "",
        &[("LIBVIRT_DEFAULT_URI", "test:///default")],
    );
    assert_eq!(o.stderr, "error: unknown command: 'admin'\n");
    // virt-admin's `uri` and `version` are not virsh's.
    let o = run(&["-c", "test:///default", "uri"]);
    assert_eq!(o.stdout, "test:///default\n\n");
    let _ = std::fs::remove_dir_all(link.parent().unwrap());
}

#[test]
fn completion_of_admin_command_lines() {
    let complete = |line: &str| -> Vec<String> {
        let o = run_with(
            Path::new(VIRTSH),
            &["admin", "-q", "complete", "--", line],
            "",
            &[(
                "LIBVIRT_ADMIN_DEFAULT_URI",
                "libvirtd:///system?socket=/nonexistent/virtsh-test-admin-sock",
            )],
        );
        assert_eq!(o.code, Some(0), "{o:?}");
        o.stdout.lines().map(str::to_string).collect()
    };
    assert_eq!(complete("server-l"), ["server-list"]);
    assert_eq!(
        complete("daemon-log-"),
        ["daemon-log-filters", "daemon-log-outputs"]
    );
    assert_eq!(complete("client-info --"), ["--server", "--client"]);
    assert_eq!(complete("help client-d"), ["client-disconnect"]);
    // No daemon to ask: no server names, and no error either.
    assert_eq!(complete("client-list "), Vec::<String>::new());
}

#[test]
fn server_names_complete_from_the_daemon() {
    let test = "server_names_complete_from_the_daemon";
    let Some(d) = libvirtd::start(test, "") else {
        return;
    };
    let uri = d.admin_uri();
    // The daemon lists its servers in no particular order.
    let o = ours(
        &[
            "-q",
            "-c",
            &uri,
            "complete",
            "--",
            "server-threadpool-info ",
        ],
        &[],
    );
    let mut names: Vec<&str> = o.stdout.lines().collect();
    names.sort();
    assert_eq!(names, ["admin", "libvirtd"]);
    let o = ours(
        &["-q", "-c", &uri, "complete", "--", "client-list --server a"],
        &[],
    );
    assert_eq!(o.stdout, "admin\n");
}

#[test]
fn the_manual_documents_virt_admin() {
    let o = run_with(Path::new(VIRTSH), &["--generate=man"], "", &[]);
    let page = o.stdout.replace("\\-", "-");
    assert!(page.contains(".SH VIRT-ADMIN"), "no VIRT-ADMIN section");
    let listing = ours(&["help"], &[]);
    for line in listing.stdout.lines() {
        let Some(body) = line.strip_prefix("    ") else {
            continue;
        };
        let (name, help) = body.split_once(' ').unwrap();
        let section = format!(".SS {name}\n{}\n", help.trim_start());
        assert!(page.contains(&section), "the manual lacks {name}");
    }
}

/// What the committed bash script offers for `line` (the cursor at its end), with `path`
/// first on PATH. COMP_WORDS is split as bash splits it, at blanks and at ':' and '='.
fn bash_complete(line: &str, path: &Path) -> Vec<String> {
    let script = r#"
        source completions/virtsh.bash
        COMP_LINE=$1
        COMP_POINT=${#1}
        COMP_WORDS=()
        w=
        for (( k = 0; k < ${#1}; k++ )); do
            ch=${1:k:1}
            case $ch in
                ' ') [[ -n $w ]] && COMP_WORDS+=("$w"); w= ;;
                [:=]) [[ -n $w ]] && COMP_WORDS+=("$w"); COMP_WORDS+=("$ch"); w= ;;
                *) w+=$ch ;;
            esac
        done
        COMP_WORDS+=("$w")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        complete -p virt-admin >/dev/null || exit 3
        _virtsh "${COMP_WORDS[0]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let o = Command::new("bash")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-c", script, "bash", line])
        .env(
            "PATH",
            format!(
                "{}:{}",
                path.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env(
            "LIBVIRT_ADMIN_DEFAULT_URI",
            "libvirtd:///system?socket=/nonexistent/virtsh-test-admin-sock",
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{line}: {o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn shell_completion_of_virtsh_admin_and_virt_admin() {
    let bin = Path::new(VIRTSH).parent().unwrap();
    assert_eq!(bash_complete("virtsh adm", bin), ["admin"]);
    assert_eq!(bash_complete("virtsh admin server-l", bin), ["server-list"]);
    assert_eq!(
        bash_complete("virtsh admin -q server-thr", bin),
        ["server-threadpool-info", "server-threadpool-set"]
    );
    assert_eq!(bash_complete("virtsh admin --con", bin), ["--connect"]);
    assert_eq!(bash_complete("virtsh admin -", bin).len(), 13);
    assert_eq!(
        bash_complete("virtsh admin client-info --", bin),
        ["--server", "--client"]
    );
    // A virt-admin symlink on PATH completes as virt-admin.
    let link = symlink("virt-admin");
    let dir = link.parent().unwrap();
    assert_eq!(
        bash_complete("virt-admin daemon-t", dir),
        ["daemon-timeout"]
    );
    assert_eq!(bash_complete("virt-admin -c x --qu", dir), ["--quiet"]);
    // virsh's own line is untouched.
    assert_eq!(
        bash_complete("virtsh -c test:///default dominf", bin),
        ["dominfo"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn shell_lines(o: std::process::Output, what: &str) -> Vec<String> {
    assert!(o.status.success(), "{what}: {o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Whether `shell` runs here; otherwise a skip, or a failure under CI=true.
fn have_shell(test: &str, shell: &str) -> bool {
    let ok = Command::new(shell)
        .args(["-c", "exit 0"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok || unavailable(
        test,
        &format!("{shell} is not installed (tests/run installs it)"),
    )
}

#[test]
fn zsh_and_fish_complete_virt_admin_lines() {
    let test = "zsh_and_fish_complete_virt_admin_lines";
    let bin = Path::new(VIRTSH).parent().unwrap().to_path_buf();
    let link = symlink("virt-admin");
    let dir = link.parent().unwrap().to_path_buf();
    let nowhere = "libvirtd:///system?socket=/nonexistent/virtsh-test-admin-sock";
    if have_shell(test, "zsh") {
        let script = r#"
            source completions/_virtsh
            compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }
            words=(${(z)1})
            [[ $1 == *' ' ]] && words+=('')
            CURRENT=$#words
            PREFIX=$words[-1]
            _virtsh
        "#;
        let run = |line: &str, path: &Path| {
            let o = Command::new("zsh")
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["-f", "-c", script, "zsh", line])
                .env("PATH", path_with(path))
                .env("LIBVIRT_ADMIN_DEFAULT_URI", nowhere)
                .output()
                .unwrap();
            shell_lines(o, line)
        };
        assert_eq!(run("virtsh admin server-l", &bin), ["server-list"]);
        assert_eq!(run("virtsh adm", &bin), ["admin"]);
        assert_eq!(run("virt-admin daemon-t", &dir), ["daemon-timeout"]);
        // zsh filters by the prefix itself: virt-admin's options, not virsh's.
        let opts = run("virt-admin --con", &dir);
        assert!(opts.contains(&"--connect".to_string()), "{opts:?}");
        assert!(!opts.contains(&"--readonly".to_string()), "{opts:?}");
        assert_eq!(opts.len(), 13);
    }
    if have_shell(test, "fish") {
        let run = |line: &str, path: &Path| {
            let o = Command::new("fish")
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args([
                    "--no-config",
                    "-c",
                    "source completions/virtsh.fish; complete -C $argv[1]",
                    line,
                ])
                .env("PATH", path_with(path))
                .env("LIBVIRT_ADMIN_DEFAULT_URI", nowhere)
                .output()
                .unwrap();
            shell_lines(o, line)
        };
        assert_eq!(run("virtsh admin server-l", &bin), ["server-list"]);
        assert_eq!(run("virtsh adm", &bin), ["admin"]);
        assert_eq!(run("virt-admin daemon-t", &dir), ["daemon-timeout"]);
        let opts = run("virt-admin --con", &dir);
        assert_eq!(opts, ["--connect\tdaemon admin connection URI"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
