//! End-to-end tests of the shell: the built binary, run as a user would run it.
//! (Byte-for-byte comparisons with real virsh live in the differential suite, tests/compat.)

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_virtsh");

fn virtsh(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LIBVIRT_DEFAULT_URI")
        .env_remove("VIRSH_DEFAULT_CONNECT_URI")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run virtsh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn with_stdin(bin: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .env("LC_ALL", "C")
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn virtsh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn one_shot_and_chained_commands_share_one_connection() {
    let o = virtsh(&["-c", "test:///default", "destroy test; list --all"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("Domain 'test' destroyed"), "{out}");
    assert!(out.contains(" -    test   shut off"), "{out}");
}

#[test]
fn argv_form_takes_options_positionally_or_by_name() {
    let a = virtsh(&["-c", "test:///default", "domstate", "test"]);
    let b = virtsh(&["-c", "test:///default", "domstate", "--domain", "test"]);
    assert_eq!(text(&a.stdout), "running\n\n");
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn readonly_refuses_every_state_change() {
    let o = virtsh(&["-r", "-c", "test:///default", "destroy test; domstate test"]);
    assert_eq!(
        text(&o.stderr),
        "error: Failed to destroy domain 'test'\n\
         error: operation forbidden: read only access prevents virDomainDestroy\n"
    );
    assert!(text(&o.stdout).contains("running"));
}

#[test]
fn errors_go_to_stderr_and_exit_one() {
    let o = virtsh(&["-c", "test:///default", "dominfo nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stderr), "error: failed to get domain 'nosuch'\n");
    let o = virtsh(&["-c", "test:///default", "nosuchcmd"]);
    assert_eq!(text(&o.stderr), "error: unknown command: 'nosuchcmd'\n");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn unknown_driver_names_the_uri() {
    let o = virtsh(&["-c", "bogus:///x", "list"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("error: failed to connect to the hypervisor\n"),
        "{err}"
    );
    assert!(err.contains("bogus:///x"), "{err}");
}

#[test]
fn environment_chooses_the_uri() {
    let o = Command::new(BIN)
        .args(["uri"])
        .env("LIBVIRT_DEFAULT_URI", "bogus:///a")
        .env("VIRSH_DEFAULT_CONNECT_URI", "test:///default")
        .output()
        .expect("run");
    assert_eq!(text(&o.stdout), "test:///default\n\n");
    let o = Command::new(BIN)
        .args(["uri"])
        .env_remove("VIRSH_DEFAULT_CONNECT_URI")
        .env("LIBVIRT_DEFAULT_URI", "test:///default")
        .output()
        .expect("run");
    assert_eq!(text(&o.stdout), "test:///default\n\n");
}

#[test]
fn quiet_drops_headers_and_blank_lines() {
    let o = virtsh(&["-q", "-c", "test:///default", "list"]);
    assert_eq!(text(&o.stdout), " 1   test   running\n");
}

#[test]
fn timing_reports_each_command() {
    let o = virtsh(&["-t", "-c", "test:///default", "domid test"]);
    let out = text(&o.stdout);
    assert!(out.starts_with("1\n\n(Time: "), "{out}");
    assert!(out.ends_with(" ms)\n\n"), "{out}");
}

#[test]
fn json_output_is_parseable() {
    let o = virtsh(&["-o", "json", "-c", "test:///default", "list --all"]);
    let out = text(&o.stdout);
    let doc = out.trim_end();
    let v: serde_json::Value = serde_json::from_str(doc).expect("valid JSON");
    assert_eq!(v[0]["name"], "test");
    assert_eq!(v[0]["id"], 1);
    assert_eq!(v[0]["state"], "running");
    assert_eq!(v[0]["uuid"], "6695eb01-f6a4-8304-79aa-97f2502e193f");
}

#[test]
fn version_flags() {
    assert_eq!(text(&virtsh(&["--version"]).stdout), "9.0.0\n");
    assert_eq!(text(&virtsh(&["-v"]).stdout), "9.0.0\n");
    assert!(text(&virtsh(&["-V"]).stdout).contains("libvirt 9.0.0"));
}

#[test]
fn global_option_errors_as_virsh() {
    let o = virtsh(&["-Z"]);
    assert_eq!(
        text(&o.stderr),
        "error: unsupported option '-Z'. See --help.\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn interactive_prompt_from_a_pipe() {
    let o = with_stdin(
        BIN,
        &["-c", "test:///default"],
        "domid test\ncd /\npwd\nquit\n",
    );
    let out = text(&o.stdout);
    assert!(
        out.starts_with("Welcome to virtsh, the virtualization interactive terminal.\n"),
        "{out}"
    );
    assert!(out.contains("virtsh # domid test\n1\n\n"), "{out}");
    // cd works at the prompt (and only there).
    assert!(out.contains("virtsh # pwd\n/\n\n"), "{out}");
    assert!(out.ends_with("virtsh # quit\n"), "{out}");
}

#[test]
fn readonly_prompt_and_eof() {
    let o = with_stdin(BIN, &["-r", "-c", "test:///default"], "");
    let out = text(&o.stdout);
    assert!(out.ends_with("virtsh > \n"), "{out}");
    assert!(o.status.success());
}

#[test]
fn invoked_as_virsh_it_is_virsh() {
    let dir = std::env::temp_dir().join(format!("virtsh-argv0-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let link = dir.join("virsh");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    let link = link.to_str().expect("utf8 path");
    let o = with_stdin(link, &["-c", "test:///default"], "");
    assert!(text(&o.stdout).starts_with("Welcome to virsh,"));
    let help = Command::new(link).arg("-h").output().expect("run");
    assert!(text(&help.stdout).starts_with("\nvirsh [options]... [<command_string>]\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_xml_points_at_the_line_and_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("virtsh-badxml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let f = dir.join("bad.xml");
    std::fs::write(
        &f,
        "<domain type='test'>\n  <name>bad</name>\n  <memory>1024\n</domain>\n",
    )
    .expect("write");
    let cmd = format!("define {}; list --all --name", f.display());
    let o = virtsh(&["-c", "test:///default", &cmd]);
    let err = text(&o.stderr);
    assert!(
        err.contains(":4: Opening and ending tag mismatch: memory line 3 and domain"),
        "{err}"
    );
    assert!(err.contains("\n</domain>\n"), "{err}");
    // The failed define still ends with its blank line; the domain list is unchanged.
    assert_eq!(text(&o.stdout), "\ntest\n\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_with_slashes_are_refused() {
    let dir = std::env::temp_dir().join(format!("virtsh-slash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let f = dir.join("slash.xml");
    std::fs::write(
        &f,
        "<domain type='test'><name>a/b</name><memory>1024</memory><os><type>hvm</type></os></domain>",
    )
    .expect("write");
    let o = virtsh(&["-c", "test:///default", &format!("define {}", f.display())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("name a/b cannot contain '/'"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn log_file_records_errors_in_virsh_layout() {
    let log = std::env::temp_dir().join(format!("virtsh-log-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let path = log.to_str().expect("utf8 path");
    virtsh(&[
        "-l",
        path,
        "-c",
        "test:///default",
        "domid test; dominfo nosuch",
    ]);
    let text = std::fs::read_to_string(&log).expect("log written");
    let line = text.lines().next().expect("one line");
    // [YYYY.MM.DD HH:MM:SS virtsh PID] ERROR message
    assert!(line.starts_with('['), "{line}");
    assert!(line.contains(" virtsh "), "{line}");
    assert!(
        line.ends_with("] ERROR failed to get domain 'nosuch'"),
        "{line}"
    );
    let _ = std::fs::remove_file(&log);
}

#[test]
fn debug_level_traces_commands() {
    let o = virtsh(&["-d", "1", "-c", "test:///default", "domid test"]);
    assert_eq!(
        text(&o.stdout),
        "commands: \"domid test\"\ndomid: domain(optdata): test\n1\n\n"
    );
}

#[test]
fn uri_aliases_and_default_from_libvirt_conf() {
    let conf = std::env::temp_dir().join(format!("virtsh-conf-{}.conf", std::process::id()));
    std::fs::write(
        &conf,
        "uri_aliases = [ \"lab=test:///default\" ]\nuri_default = \"lab\"\n",
    )
    .expect("write conf");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env_remove("LIBVIRT_DEFAULT_URI")
            .env_remove("VIRSH_DEFAULT_CONNECT_URI")
            .env("VIRTSH_LIBVIRT_CONF", &conf)
            .output()
            .expect("run")
    };
    assert_eq!(
        text(&run(&["-c", "lab", "uri"]).stdout),
        "test:///default\n\n"
    );
    // uri_default may itself be an alias.
    assert_eq!(text(&run(&["uri"]).stdout), "test:///default\n\n");
    let _ = std::fs::remove_file(&conf);
}

#[test]
fn diagnostics_point_into_the_file_when_asked() {
    let dir = std::env::temp_dir().join(format!("virtsh-diag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let f = dir.join("bad.xml");
    std::fs::write(
        &f,
        "<domain type='test'>\n  <name>bad</name>\n  <memory>1024\n</domain>\n",
    )
    .expect("write");
    let cmd = format!("define {}", f.display());
    let run = |mode: &str| {
        Command::new(BIN)
            .args(["-c", "test:///default", &cmd])
            .env("VIRTSH_DIAGNOSTICS", mode)
            .output()
            .expect("run")
    };
    let err = text(&run("always").stderr);
    // virsh's own lines come first, unchanged; then file:line:column and the snippet.
    assert!(
        err.starts_with("error: Failed to define domain from "),
        "{err}"
    );
    assert!(err.contains(&format!("{}:4:10]", f.display())), "{err}");
    assert!(err.contains(" 4 │ </domain>"), "{err}");
    // Scripts (no terminal, nothing asked) get virsh's bytes only.
    let plain = text(&run("never").stderr);
    assert!(!plain.contains('│'), "{plain}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn escape_and_keepalive_options_as_virsh() {
    for good in ["a", "^a", "^[", "~"] {
        let o = virtsh(&["-e", good, "-c", "test:///default", "uri"]);
        assert!(o.status.success(), "-e {good}: {}", text(&o.stderr));
    }
    for bad in ["ab", "^1", "^", ""] {
        let o = virtsh(&["-e", bad, "-c", "test:///default", "uri"]);
        assert_eq!(
            text(&o.stderr),
            format!("error: Invalid string '{bad}' for escape sequence\n")
        );
        assert_eq!(o.status.code(), Some(1));
    }
    // -k 0 disables keepalive: nothing to ask the driver.
    assert!(virtsh(&["-k", "0", "-c", "test:///default", "uri"])
        .status
        .success());
    // The test driver has no keepalive, so asking for it loses the connection, as in virsh.
    let o = virtsh(&["-k", "5", "-c", "test:///default", "uri"]);
    assert_eq!(
        text(&o.stderr),
        "error: Cannot setup keepalive on connection as requested, disconnecting\n\
         error: failed to connect to the hypervisor\n\
         error: this function is not supported by the connection driver: virConnectSetKeepAlive\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn mistyped_names_get_a_hint_for_people_only() {
    let run = |mode: &str, cmd: &str| {
        Command::new(BIN)
            .args(["-c", "test:///default", cmd])
            .env("VIRTSH_DIAGNOSTICS", mode)
            .output()
            .expect("run")
    };
    assert_eq!(
        text(&run("always", "dominf test").stderr),
        "error: unknown command: 'dominf'\nhint: did you mean 'dominfo'?\n"
    );
    assert_eq!(
        text(&run("always", "list --al").stderr),
        "error: command 'list' doesn't support option --al\nhint: did you mean '--all'?\n"
    );
    // Scripts keep virsh's exact bytes.
    assert_eq!(
        text(&run("never", "dominf test").stderr),
        "error: unknown command: 'dominf'\n"
    );
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    // `virtsh -h | head -1`: stdout closes early; virtsh must end quietly, not panic.
    let mut child = Command::new(BIN)
        .arg("-h")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
}
