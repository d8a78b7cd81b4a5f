//! The QEMU driver's host documents and conversions, and the guest's screen and keyboard, with
//! real QEMU: `capabilities` and `domcapabilities` validate against libvirt's RelaxNG schemas,
//! `cpu-models` lists the probed models, `domxml-to-native qemu-argv` prints libvirt's one-line
//! form, and a running guest with VNC and a VGA card gives a screenshot, takes keys, and shows
//! its display address by virsh's rules.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{bare_xml, in_ci, tiny_guest, unique_name, Embed};

const SCHEMAS: &str = "/usr/share/libvirt/schemas";

/// QEMU is needed by every test here (its capabilities are probed).
fn have_qemu(test: &str) -> bool {
    let ok = Path::new("/usr/bin/qemu-system-x86_64").exists()
        || Command::new("qemu-system-x86_64")
            .arg("--version")
            .output()
            .is_ok();
    if !ok {
        assert!(!in_ci(), "{test}: QEMU is missing");
        eprintln!("SKIP {test}: no qemu-system-x86_64");
    }
    ok
}

/// `Ok(false)` (after a SKIP line) without xmllint or the schema.
fn validate(schema: &str, what: &str, xml: &str) -> bool {
    let rng = Path::new(SCHEMAS).join(schema);
    let have_xmllint = Command::new("xmllint")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !have_xmllint || !rng.exists() {
        assert!(!in_ci(), "{what}: xmllint or {} is missing", rng.display());
        eprintln!("SKIP validating {what}: no xmllint or {}", rng.display());
        return false;
    }
    let mut child = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(&rng)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xmllint");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("write to xmllint");
    let out = child.wait_with_output().expect("xmllint");
    assert!(
        out.status.success(),
        "{what} does not validate against {schema}: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn capabilities_validate_and_describe_this_host() {
    if !have_qemu("capabilities_validate") {
        return;
    }
    let env = Embed::new("caps");
    let out = env.ok(&["capabilities"]);
    // virsh prints the document and its blank line.
    let xml = out.strip_suffix('\n').expect("blank line");
    assert!(xml.starts_with("<capabilities>\n\n  <host>\n"), "{xml}");
    validate("capability.rng", "capabilities", xml);
    assert!(xml.contains("<arch>x86_64</arch>"), "{xml}");
    assert!(xml.contains("<topology>\n      <cells num="), "{xml}");
    assert!(xml.contains("<secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"));
    assert!(
        xml.contains("<arch name='x86_64'>\n      <wordsize>64</wordsize>\n"),
        "{xml}"
    );
    assert!(
        xml.contains("<arch name='i686'>\n      <wordsize>32</wordsize>\n"),
        "{xml}"
    );
    assert!(xml.contains("<domain type='qemu'/>"), "{xml}");
    // The default machine first, its alias naming it as canonical.
    assert!(
        xml.contains("<machine canonical='pc-i440fx-"),
        "no canonical pc machine: {xml}"
    );
    assert!(xml.contains(">q35</machine>"), "{xml}");
    assert!(!xml.contains(">none</machine>"), "{xml}");
    assert!(xml.contains("<acpi default='on' toggle='yes'/>"), "{xml}");
    // A second call comes from the capabilities cache and says the same.
    assert_eq!(env.ok(&["capabilities"]), out);
}

#[test]
fn domcapabilities_validate_for_each_machine_and_type() {
    if !have_qemu("domcapabilities_validate") {
        return;
    }
    let env = Embed::new("dcaps");
    for args in [
        &["domcapabilities"][..],
        &["domcapabilities", "--virttype", "qemu"],
        &["domcapabilities", "--virttype", "qemu", "--machine", "q35"],
        &["domcapabilities", "--arch", "i686", "--virttype", "qemu"],
        &[
            "domcapabilities",
            "--emulatorbin",
            "/usr/bin/qemu-system-x86_64",
            "--virttype",
            "qemu",
        ],
    ] {
        let out = env.ok(args);
        let xml = out.strip_suffix('\n').expect("blank line");
        validate("domaincaps.rng", &format!("{args:?}"), xml);
        assert!(xml.starts_with("<domainCapabilities>\n  <path>/usr/bin/qemu-system-"));
    }
    let xml = env.ok(&["domcapabilities", "--virttype", "qemu", "--machine", "q35"]);
    assert!(
        xml.contains("  <domain>qemu</domain>\n  <machine>pc-q35-"),
        "{xml}"
    );
    assert!(
        xml.contains("<mode name='custom' supported='yes'>"),
        "{xml}"
    );
    assert!(
        xml.contains("<model usable='yes' vendor='unknown'>qemu64</model>"),
        "{xml}"
    );
    assert!(
        xml.contains("<mode name='host-passthrough' supported='no'/>"),
        "{xml}"
    );
    assert!(xml.contains("<value>vnc</value>"), "{xml}");
    assert_eq!(
        env.err(&["domcapabilities", "--virttype", "foo"]),
        "error: failed to get emulator capabilities\nerror: invalid argument: unknown virttype: foo\n"
    );
    assert_eq!(
        env.err(&["domcapabilities", "--arch", "bogus"]),
        "error: failed to get emulator capabilities\nerror: invalid argument: unknown architecture: bogus\n"
    );
    let e = env.err(&["domcapabilities", "--machine", "no-such-machine"]);
    assert!(
        e.contains("the machine 'no-such-machine' is not supported by emulator"),
        "{e}"
    );
    assert_eq!(
        env.err(&["domcapabilities", "--emulatorbin", "/nonexistent/qemu"]),
        "error: failed to get emulator capabilities\nerror: Cannot check QEMU binary /nonexistent/qemu: No such file or directory\n"
    );
}

#[test]
fn cpu_models_and_sysinfo() {
    if !have_qemu("cpu_models_and_sysinfo") {
        return;
    }
    let env = Embed::new("cpum");
    let out = env.ok(&["cpu-models", "x86_64"]);
    let models: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert!(models.contains(&"qemu64"), "{out}");
    assert!(models.contains(&"Skylake-Client"), "{out}");
    assert!(
        !models.contains(&"max") && !models.contains(&"base"),
        "{out}"
    );
    let json = env.ok(&["-o", "json", "cpu-models", "i686"]);
    assert!(json.contains("\"qemu32\""), "{json}");
    assert_eq!(
        env.err(&["cpu-models", "foo"]),
        "error: failed to get CPU model names\nerror: invalid argument: cannot find architecture foo\n"
    );
    let info = env.ok(&["sysinfo"]);
    assert!(info.starts_with("<sysinfo type='smbios'"), "{info}");
}

#[test]
fn domxml_to_native_prints_the_command_line() {
    if !have_qemu("domxml_to_native") {
        return;
    }
    let env = Embed::new("native");
    let name = unique_name("nat");
    let file = env.root.join("bare.xml");
    std::fs::write(
        &file,
        bare_xml(
            &name,
            "<graphics type='vnc'/><video><model type='vga'/></video>",
        ),
    )
    .unwrap();
    let out = env.ok(&[
        "domxml-to-native",
        "qemu-argv",
        "--xml",
        file.to_str().unwrap(),
    ]);
    let line = out
        .strip_suffix("\n\n")
        .expect("one line and virsh's blank line");
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("LC_ALL=C "), "{line}");
    assert!(
        line.contains(" /usr/bin/qemu-system-x86_64 -name "),
        "{line}"
    );
    assert!(
        line.contains(&format!("-name guest={name},debug-threads=on")),
        "{line}"
    );
    // The monitor as libvirt's pretend command line shows it, and JSON arguments quoted.
    let dir = env.root.join(format!("lib/domain--1-{name}"));
    assert!(
        line.contains(&format!(
            "-chardev socket,id=charmonitor,path={}/monitor.sock,server=on,wait=off",
            dir.display()
        )),
        "{line}"
    );
    assert!(line.contains(" -object '{\""), "{line}");
    assert!(line.contains(&format!("HOME={} ", dir.display())), "{line}");

    // From a defined domain, and the errors.
    env.define(&name, &bare_xml(&name, ""));
    let out = env.ok(&["domxml-to-native", "qemu-argv", "--domain", &name]);
    assert!(out.contains(&format!("-name guest={name},")), "{out}");
    assert_eq!(
        env.err(&["domxml-to-native", "xen-xm", "--domain", &name]),
        "error: invalid argument: unsupported config type xen-xm\n"
    );
    assert_eq!(
        env.err(&["domxml-to-native", "qemu-argv"]),
        "error: need either domain or domain XML\n"
    );
}

fn magic(data: &[u8]) -> &'static str {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if data.starts_with(b"P6\n") || data.starts_with(b"P6 ") {
        "ppm"
    } else {
        "unknown"
    }
}

#[test]
fn guest_screen_keyboard_and_display() {
    if tiny_guest("guest_screen_keyboard_and_display").is_none() {
        return;
    }
    let env = Embed::new("disp");
    let name = unique_name("disp");
    env.define(
        &name,
        &bare_xml(
            &name,
            "<graphics type='vnc'/>\n    <video><model type='vga'/></video>",
        ),
    );
    // Not running yet: virsh's own check, and the driver's.
    assert_eq!(
        env.err(&["domdisplay", &name]),
        "error: Domain is not running\n"
    );
    assert_eq!(
        env.err(&["vncdisplay", &name]),
        "error: Domain is not running\n"
    );
    let e = env.err(&["screenshot", &name, "--file", "/dev/null"]);
    assert_eq!(
        e,
        format!("error: could not take a screenshot of {name}\nerror: Requested operation is not valid: domain is not running\n")
    );
    env.ok(&["start", &name]);

    // screenshot: a named file, then virsh's generated name in the working directory.
    let file = env.root.join("shot.img");
    let out = env.ok(&["screenshot", &name, "--file", file.to_str().unwrap()]);
    let data = std::fs::read(&file).expect("screenshot file");
    let kind = magic(&data);
    let mime = match kind {
        "png" => "image/png",
        "ppm" => "image/x-portable-pixmap",
        _ => panic!("not an image: {:?}", &data[..data.len().min(16)]),
    };
    assert_eq!(
        out,
        format!(
            "Screenshot saved to {}, with type of {mime}\n",
            file.display()
        )
    );
    let shots = env.root.join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = env
        .cmd(&["screenshot", &name])
        .current_dir(&shots)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let generated: Vec<_> = std::fs::read_dir(&shots)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(generated.len(), 1, "{generated:?}");
    let g = &generated[0];
    assert!(
        g.starts_with(&format!("{name}-")) && g.ends_with(&format!(".{kind}")),
        "{g}"
    );
    assert_eq!(
        g.len(),
        name.len() + "-YYYY-MM-DD-HH:MM:SS.".len() + kind.len(),
        "{g}"
    );
    assert_eq!(
        stdout,
        format!("Screenshot saved to {g}, with type of {mime}\n")
    );
    assert_eq!(magic(&std::fs::read(shots.join(g)).unwrap()), kind);
    // The temporary dump is gone from the runtime directory.
    let leftovers: Vec<_> = walk(&env.root.join("run"))
        .into_iter()
        .filter(|p| p.contains("screendump"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        env.err(&["screenshot", &name, "--file", "/dev/null", "--screen", "1"]),
        format!("error: could not take a screenshot of {name}\nerror: invalid argument: no such screen ID\n")
    );

    // send-key: names, numbers, other codesets, hold time.
    assert_eq!(env.ok(&["send-key", &name, "KEY_A"]), "\n");
    assert_eq!(
        env.ok(&["send-key", &name, "KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_F1"]),
        "\n"
    );
    env.ok(&[
        "send-key",
        &name,
        "--codeset",
        "qnum",
        "--holdtime",
        "20",
        "0x1e",
    ]);
    env.ok(&["send-key", &name, "--codeset", "xt", "30"]);
    env.ok(&["send-key", &name, "--codeset", "rfb", "0xc8"]);
    assert_eq!(
        env.err(&["send-key", &name, "--codeset", "usb", "4"]),
        "error: internal error: cannot translate keycode 4 of usb codeset to qnum keycode\n"
    );
    assert_eq!(
        env.err(&["send-key", &name, "KEY_NOPE"]),
        "error: invalid keycode: 'KEY_NOPE'\n"
    );

    // The display follows the live XML by virsh's rules: an autoport VNC server.
    let live = env.ok(&["dumpxml", &name]);
    let dd = env.ok(&["domdisplay", &name]);
    assert!(dd.starts_with("vnc"), "{dd}\n{live}");
    if live.contains("<listen type='socket'") {
        assert!(dd.starts_with("vnc+unix:///"), "{dd}");
        let e = env.err(&["vncdisplay", &name]);
        assert_eq!(
            e,
            "error: Failed to get VNC port. Is this domain using VNC?\n"
        );
    } else {
        // No socket recorded: the port as the XML has it (-1 for autoport, as libvirt
        // reports a guest whose port is not known).
        let port: i32 = live
            .split("<graphics type='vnc' port='")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port: {live}"));
        assert_eq!(dd, format!("vnc://localhost:{}\n", port - 5900));
        assert_eq!(
            env.ok(&["vncdisplay", &name]),
            format!(":{}\n\n", port - 5900)
        );
    }
    assert_eq!(
        env.err(&["domdisplay", &name, "--type", "spice"]),
        "error: No graphical display with type 'spice' found\n"
    );
    env.ok(&["destroy", &name]);

    // A VNC server on a named unix socket: a vnc+unix URI, and no VNC port.
    let name2 = unique_name("dsock");
    let sock = env.root.join("run").join(format!("{name2}.vnc"));
    env.define(
        &name2,
        &bare_xml(
            &name2,
            &format!(
                "<graphics type='vnc'><listen type='socket' socket='{}'/></graphics>\n    <video><model type='vga'/></video>",
                sock.display()
            ),
        ),
    );
    env.ok(&["start", &name2]);
    assert_eq!(
        env.ok(&["domdisplay", &name2]),
        format!("vnc+unix://{}\n", sock.display())
    );
    assert_eq!(
        env.err(&["vncdisplay", &name2]),
        "error: Failed to get VNC port. Is this domain using VNC?\n"
    );
    assert!(sock.exists(), "QEMU's VNC socket {}", sock.display());
    env.ok(&["destroy", &name2]);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.display().to_string());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}
