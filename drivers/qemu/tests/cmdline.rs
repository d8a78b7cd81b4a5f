//! XML to QEMU command line: golden files, escaping, capability checks, and a real QEMU that
//! must accept every generated command line (`-S`, TCG, no guest code runs).
//!
//! Golden files are `tests/data/cmdline/NAME.args`, one argument per line, written against fixed
//! capabilities (those of Debian's QEMU 7.2) and a fixed environment (monitor fd 1729, as in
//! libvirt's tests). `VIRTSH_REGENERATE=1 cargo test -p virtsh-qemu --test cmdline` rewrites
//! them; review the diff by hand against libvirt's `*.x86_64-latest.args`.

mod common;

use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{qemu_binary, QemuGuard, TestDir, TIMEOUT};
use serde_json::Value;
use virtsh_qemu::caps::{self, BinaryKey, CpuModel, MachineType, ProbeOptions};
use virtsh_qemu::cmdline::firmware::{prepare_nvram_with, FIRMWARE_DIRS};
use virtsh_qemu::cmdline::{build, Accel, CmdlineEnv, CmdlineError};
use virtsh_qemu::{QemuCaps, QemuVersion, QmpClient};
use virtsh_xml::domain::{DomainDef, ParseOptions};

const FIXTURES: &[&str] = &[
    "minimal",
    "disks",
    "nic-user",
    "nic-tap",
    "serial-console",
    "kernel-boot",
    "vnc",
    "rng",
    "watchdog",
    "watchdog-itco",
    "panic",
    "input-usb",
    "input-virtio",
    "usb-controllers",
    "video",
    "video-qxl",
    "spice",
    "spice-tcp",
    "uefi",
    "uefi-secure",
    "bios-rom",
    "serial-sockets",
    "cpu-features",
    "balloon",
    "boot-order",
];
const GOLDEN_DIR: &str = "/var/lib/virtsh/images";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cmdline")
}

fn machine(name: &str, alias: Option<&str>, default: bool) -> MachineType {
    MachineType {
        name: name.into(),
        alias: alias.map(str::to_string),
        is_default: default,
        cpu_max: if name.contains("q35") { 288 } else { 255 },
        deprecated: false,
        default_cpu_type: Some("qemu64-x86_64-cpu".into()),
    }
}

/// Capabilities as Debian's QEMU 7.2 reports them, reduced to what the generator looks at.
fn fake_caps() -> QemuCaps {
    let mut qom_types: Vec<String> = [
        "memory-backend-ram",
        "virtio-blk-pci",
        "virtio-scsi-pci",
        "scsi-hd",
        "scsi-cd",
        "ide-hd",
        "ide-cd",
        "virtio-net-pci",
        "e1000",
        "e1000e",
        "rtl8139",
        "isa-serial",
        "VGA",
        "cirrus-vga",
        "virtio-vga",
        "virtio-balloon-pci",
        "virtio-gpu-pci",
        "qxl",
        "qxl-vga",
        "bochs-display",
        "vmware-svga",
        "chardev-spicevmc",
        "rng-random",
        "rng-builtin",
        "virtio-rng-pci",
        "i6300esb",
        "ib700",
        "pvpanic",
        "piix3-usb-uhci",
        "qemu-xhci",
        "nec-usb-xhci",
        "usb-ehci",
        "ich9-usb-ehci1",
        "ich9-usb-uhci1",
        "usb-tablet",
        "usb-mouse",
        "usb-kbd",
        "virtio-tablet-pci",
        "virtio-mouse-pci",
        "virtio-keyboard-pci",
        "cfi.pflash01",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    qom_types.sort();
    QemuCaps {
        format: caps::CACHE_FORMAT,
        key: BinaryKey {
            path: "/usr/bin/qemu-system-x86_64".into(),
            size: 1,
            mtime_ns: 1,
        },
        probe_accel: "tcg".into(),
        version: QemuVersion {
            major: 7,
            minor: 2,
            micro: 0,
            package: String::new(),
        },
        machines: vec![
            machine("pc-i440fx-7.2", Some("pc"), true),
            machine("pc-q35-7.2", Some("q35"), false),
            MachineType {
                deprecated: true,
                ..machine("pc-i440fx-1.4", None, false)
            },
        ],
        cpu_models: ["qemu64", "Haswell-noTSX"]
            .iter()
            .map(|n| CpuModel {
                name: n.to_string(),
                typename: None,
                unavailable_features: vec![],
                deprecated: false,
            })
            .collect(),
        qom_types,
        commands: vec!["qmp_capabilities".into(), "query-status".into()],
        kvm_present: false,
        kvm_enabled: false,
        command_args: Default::default(),
        kvm_cpu_models: Vec::new(),
    }
}

fn golden_env(name: &str) -> CmdlineEnv {
    CmdlineEnv {
        monitor_fd: 1729,
        tap_fds: vec![Some(73), Some(74)],
        runtime_dir: format!("/run/virtsh/qemu/{name}").into(),
        log_path: format!("/var/log/virtsh/qemu/{name}.log").into(),
        accel: Accel::Tcg,
        sandbox: true,
    }
}

fn parse(xml: &str) -> DomainDef {
    DomainDef::parse_with(
        xml,
        &ParseOptions {
            default_arch: "x86_64".into(),
            ..Default::default()
        },
    )
    .expect("fixture parses")
}

fn fixture(name: &str, dir: &str) -> DomainDef {
    let xml = std::fs::read_to_string(data_dir().join(format!("{name}.xml"))).expect("fixture");
    parse(&xml.replace("@DIR@", dir))
}

#[test]
fn golden_args() {
    let regen = std::env::var_os("VIRTSH_REGENERATE").is_some_and(|v| v == "1");
    let caps = fake_caps();
    let mut failures = Vec::new();
    for name in FIXTURES {
        let def = fixture(name, GOLDEN_DIR);
        let args = build(&def, &caps, &golden_env(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = args.join("\n") + "\n";
        let path = data_dir().join(format!("{name}.args"));
        if regen {
            std::fs::write(&path, &text).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (VIRTSH_REGENERATE=1 writes it)", path.display()));
        if want != text {
            failures.push(format!("--- {name}.args (expected)\n{want}+++ got\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The option value of `opt` in `args` (the argument after it), all occurrences.
fn values<'a>(args: &'a [String], opt: &str) -> Vec<&'a str> {
    args.windows(2)
        .filter(|w| w[0] == opt)
        .map(|w| w[1].as_str())
        .collect()
}

#[test]
fn commas_are_doubled_and_cannot_inject() {
    let xml = r#"<domain type='qemu'>
  <name>evil,debug-threads=off,guest=x</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/tmp/a,file=/etc/shadow'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='/tmp/s,path=/etc/passwd'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>"#;
    let def = parse(xml);
    let args = build(&def, &fake_caps(), &golden_env("evil")).expect("build");
    assert_eq!(
        values(&args, "-name"),
        ["guest=evil,,debug-threads=off,,guest=x,debug-threads=on"]
    );
    let chardevs = values(&args, "-chardev");
    assert!(
        chardevs.contains(&"file,id=charserial0,path=/tmp/s,,path=/etc/passwd"),
        "{chardevs:?}"
    );
    // The disk path is a JSON string value: one key, the exact path.
    let bd: Vec<Value> = values(&args, "-blockdev")
        .iter()
        .map(|s| serde_json::from_str(s).expect("JSON"))
        .collect();
    assert_eq!(bd[0]["filename"], "/tmp/a,file=/etc/shadow");
    assert_eq!(bd[0].as_object().unwrap().len(), 5, "{:?}", bd[0]);
    // Splitting QEMU's way (",," is a literal comma) gives exactly the intended keys.
    let name = values(&args, "-name")[0].replace(",,", "\u{1}");
    let keys: Vec<&str> = name
        .split(',')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(keys, ["guest", "debug-threads"]);
}

#[test]
fn control_characters_are_refused() {
    let xml = r#"<domain type='qemu'>
  <name>ctl</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/tmp/a&#10;b'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>"#;
    let def = parse(xml);
    let e = build(&def, &fake_caps(), &golden_env("ctl")).unwrap_err();
    assert!(matches!(e, CmdlineError::BadValue { .. }), "{e}");
}

#[test]
fn vnc_explicit_port_and_ipv6() {
    let xml = std::fs::read_to_string(data_dir().join("vnc.xml")).unwrap();
    let def = parse(&xml.replace(
        "<graphics type='vnc' autoport='yes'/>",
        "<graphics type='vnc' port='5905' autoport='no' listen='127.0.0.1'/>",
    ));
    let args = build(&def, &fake_caps(), &golden_env("vnc")).unwrap();
    assert_eq!(values(&args, "-vnc"), ["127.0.0.1:5,audiodev=audio1"]);
    assert!(values(&args, "-display").is_empty());
    let def = parse(&xml.replace(
        "<graphics type='vnc' autoport='yes'/>",
        "<graphics type='vnc' port='5901' autoport='no'><listen type='address' address='::1'/></graphics>",
    ));
    let args = build(&def, &fake_caps(), &golden_env("vnc")).unwrap();
    assert_eq!(values(&args, "-vnc"), ["[::1]:1,audiodev=audio1"]);
}

#[test]
fn real_qemu_name_and_path_with_commas() {
    let Some(qemu) = qemu_binary("real_qemu_name_and_path_with_commas") else {
        return;
    };
    let dir = TestDir::new("cmdc");
    let caps = caps::probe(&qemu, &ProbeOptions::new(dir.path().join("probe"))).expect("probe");
    let img = dir.path().join("a,file=x");
    std::fs::create_dir_all(&img).unwrap();
    let disk = img.join("d,format=qcow2.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let name = "evil,debug-threads=off,guest=x";
    let xml = format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
         <serial type='file'><source path='{}'/><target port='0'/></serial>\
         <memballoon model='none'/></devices></domain>",
        disk.display(),
        img.join("s,path=y.log").display()
    );
    let def = parse(&xml);
    let (_guard, mut qmp) = run_qemu(&qemu, &def, &caps, dir.path(), false);
    let n = qmp.execute("query-name", Value::Null).expect("query-name");
    assert_eq!(n["name"], name);
    let blocks = qmp
        .execute("query-block", Value::Null)
        .expect("query-block");
    assert_eq!(
        blocks[0]["inserted"]["file"].as_str(),
        disk.to_str(),
        "{blocks}"
    );
    assert!(
        img.join("s,path=y.log").exists(),
        "serial log file created at the exact path"
    );
    assert!(!dir.path().join("y.log").exists());
}

fn minimal_with(f: impl FnOnce(&mut DomainDef)) -> DomainDef {
    let mut def = fixture("minimal", GOLDEN_DIR);
    f(&mut def);
    def
}

#[test]
fn capability_checks() {
    let caps = fake_caps();
    let env = golden_env("c");

    let def = minimal_with(|d| d.os.machine = Some("pc-i440fx-99.0".into()));
    assert_eq!(
        build(&def, &caps, &env).unwrap_err(),
        CmdlineError::NoMachine("pc-i440fx-99.0".into())
    );

    let def = minimal_with(|d| d.os.machine = Some("pc-i440fx-1.4".into()));
    assert_eq!(
        build(&def, &caps, &env).unwrap_err(),
        CmdlineError::DeprecatedMachine("pc-i440fx-1.4".into())
    );

    // A device type this QEMU lacks.
    let mut no_virtio = caps.clone();
    no_virtio.qom_types.retain(|t| t != "virtio-blk-pci");
    let def = fixture("kernel-boot", GOLDEN_DIR);
    let e = build(&def, &no_virtio, &env).unwrap_err();
    assert!(
        matches!(&e, CmdlineError::NoDevice { ty, .. } if ty == "virtio-blk-pci"),
        "{e}"
    );
    assert!(e.to_string().contains("virtio-blk-pci"), "{e}");

    // No memory backend object: no `-machine memory-backend=`.
    let mut no_backend = caps.clone();
    no_backend.qom_types.retain(|t| t != "memory-backend-ram");
    assert!(matches!(
        build(&fixture("minimal", GOLDEN_DIR), &no_backend, &env).unwrap_err(),
        CmdlineError::NoDevice { .. }
    ));

    // Unknown CPU model.
    let xml = std::fs::read_to_string(data_dir().join("minimal.xml"))
        .unwrap()
        .replace(
            "<os>",
            "<cpu mode='custom' match='exact'><model fallback='forbid'>NoSuchCPU</model></cpu><os>",
        );
    let e = build(&parse(&xml), &caps, &env).unwrap_err();
    assert!(e.to_string().contains("NoSuchCPU"), "{e}");

    // Too many vCPUs for the machine.
    let def = minimal_with(|d| {
        d.vcpus = 300;
        d.current_vcpus = 300;
    });
    assert!(matches!(
        build(&def, &caps, &env).unwrap_err(),
        CmdlineError::Unsupported(_)
    ));

    // KVM asked, not available.
    let def = minimal_with(|d| d.virt_type = "kvm".into());
    let kvm_env = CmdlineEnv {
        accel: Accel::Kvm,
        ..env.clone()
    };
    assert!(matches!(
        build(&def, &caps, &kvm_env).unwrap_err(),
        CmdlineError::Unsupported(_)
    ));

    // A tap interface without a tap fd.
    let no_fds = CmdlineEnv {
        tap_fds: vec![],
        ..env.clone()
    };
    let e = build(&fixture("nic-tap", GOLDEN_DIR), &caps, &no_fds).unwrap_err();
    assert!(e.to_string().contains("tap fd"), "{e}");

    // Sandbox only when asked.
    let nosb = CmdlineEnv {
        sandbox: false,
        ..env
    };
    let args = build(&fixture("minimal", GOLDEN_DIR), &caps, &nosb).unwrap();
    assert!(!args.iter().any(|a| a == "-sandbox"));
}

// ---- real QEMU ----

/// A listening unix socket whose fd QEMU inherits (not close-on-exec in the child only).
fn monitor_listener(dir: &Path) -> (UnixListener, PathBuf) {
    let path = dir.join("mon.sock");
    let l = UnixListener::bind(&path).expect("bind monitor");
    (l, path)
}

fn qemu_img(dir: &Path, name: &str, fmt: &str) {
    let st = Command::new("qemu-img")
        .args(["create", "-q", "-f", fmt])
        .arg(dir.join(name))
        .arg("16M")
        .status()
        .expect("qemu-img");
    assert!(st.success(), "qemu-img create {name}");
}

/// Build `def`'s command line (TCG, monitor on a fresh listening socket in `dir`), start QEMU
/// with it, and connect QMP; QEMU's log is in the panic message if it does not answer.
fn run_qemu(
    qemu: &Path,
    def: &DomainDef,
    caps: &QemuCaps,
    dir: &Path,
    sandbox: bool,
) -> (QemuGuard, QmpClient) {
    let (listener, sock) = monitor_listener(dir);
    let env = CmdlineEnv {
        monitor_fd: listener.as_raw_fd(),
        tap_fds: vec![],
        runtime_dir: dir.into(),
        log_path: dir.join("qemu.log"),
        accel: Accel::Tcg,
        sandbox,
    };
    let args = build(def, caps, &env).expect("build");
    let guard = start(qemu, &args, listener.as_raw_fd(), &env.log_path);
    let stream = UnixStream::connect(&sock).expect("connect");
    drop(listener);
    let qmp = QmpClient::connect(stream, TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "QMP: {e}: {}",
            std::fs::read_to_string(&env.log_path).unwrap_or_default()
        )
    });
    (guard, qmp)
}

fn start(qemu: &Path, args: &[String], fd: RawFd, log: &Path) -> QemuGuard {
    let mut cmd = Command::new(qemu);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"));
    // SAFETY: only fcntl between fork and exec (async-signal-safe).
    unsafe {
        cmd.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    QemuGuard(cmd.spawn().expect("spawn QEMU"))
}

/// An x86 boot-protocol 2.15 header (`HdrS`) followed by padding: what QEMU's Linux loader
/// checks before it would copy the kernel into guest memory.
fn fake_bzimage() -> Vec<u8> {
    let mut k = vec![0u8; 8192];
    k[0x1f1] = 4; // setup_sects
    k[0x1fe..0x200].copy_from_slice(&[0x55, 0xaa]);
    k[0x202..0x206].copy_from_slice(b"HdrS");
    k[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes()); // protocol version
    k[0x211] = 0x01; // loadflags: LOADED_HIGH
    k[0x22c..0x230].copy_from_slice(&0x37ff_ffffu32.to_le_bytes()); // initrd_addr_max
    k[0x238..0x23c].copy_from_slice(&2048u32.to_le_bytes()); // cmdline_size
    k
}

#[test]
fn real_qemu_accepts_every_fixture() {
    let Some(qemu) = qemu_binary("real_qemu_accepts_every_fixture") else {
        return;
    };
    if Command::new("qemu-img").arg("--version").output().is_err() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("qemu-img not found (CI=true; Debian package qemu-utils)");
        }
        eprintln!(
            "SKIP real_qemu_accepts_every_fixture: qemu-img not found (apt-get install qemu-utils)"
        );
        return;
    }
    let dir = TestDir::new("cmdl");
    let caps = caps::probe(&qemu, &ProbeOptions::new(dir.path().join("probe"))).expect("probe");
    // A directory with a comma: paths with commas must work, not just be escaped.
    let img = dir.path().join("img,dir");
    std::fs::create_dir_all(&img).unwrap();
    qemu_img(&img, "root.qcow2", "qcow2");
    for (f, fmt) in [
        ("data.img", "raw"),
        ("install.iso", "raw"),
        ("root.img", "raw"),
    ] {
        qemu_img(&img, f, fmt);
    }
    // QEMU reads the kernel's boot header at start (even with -S): a minimal bzImage header
    // is enough, no guest code runs.
    std::fs::write(img.join("vmlinuz"), fake_bzimage()).unwrap();
    std::fs::write(img.join("initrd.img"), b"").unwrap();
    let imgs = img.to_str().unwrap();

    // nic-tap needs a real tap fd (root and /dev/net/tun): covered by the golden file only.
    for name in FIXTURES.iter().filter(|n| **n != "nic-tap") {
        let mut def = fixture(name, imgs);
        // UEFI fixtures name their NVRAM file; the supervisor's step makes it from the template.
        prepare_nvram_with(&mut def, &img, FIRMWARE_DIRS).expect("prepare_nvram");
        let run = dir.path().join(format!("run-{name}"));
        std::fs::create_dir_all(&run).unwrap();
        let (listener, sock) = monitor_listener(&run);
        let env = CmdlineEnv {
            monitor_fd: listener.as_raw_fd(),
            tap_fds: vec![],
            runtime_dir: run.clone(),
            log_path: run.join("qemu.log"),
            accel: Accel::Tcg,
            sandbox: true,
        };
        let args = build(&def, &caps, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
        let _guard = start(&qemu, &args, listener.as_raw_fd(), &env.log_path);
        let stream = UnixStream::connect(&sock).expect("connect monitor");
        drop(listener);
        let mut qmp = match QmpClient::connect(stream, TIMEOUT) {
            Ok(q) => q,
            Err(e) => panic!(
                "{name}: QMP: {e}\nargs: {args:?}\nlog: {}",
                std::fs::read_to_string(&env.log_path).unwrap_or_default()
            ),
        };
        let st = qmp
            .execute("query-status", Value::Null)
            .expect("query-status");
        assert_eq!(st["status"], "prelaunch", "{name}: {st}");
        // Nothing QEMU warns about (a deprecated option, an unused netdev, ...).
        let log = std::fs::read_to_string(&env.log_path).unwrap_or_default();
        assert!(log.trim().is_empty(), "{name}: QEMU said: {log}");
        let blocks = qmp
            .execute("query-block", Value::Null)
            .expect("query-block");
        // pflash drives are firmware, not disks.
        let blocks: Vec<&Value> = blocks
            .as_array()
            .expect("array")
            .iter()
            .filter(|b| !b["qdev"].as_str().unwrap_or("").contains("system.flash"))
            .collect();
        let with_media: Vec<String> = blocks
            .iter()
            .filter_map(|b| b["inserted"]["file"].as_str().map(str::to_string))
            .collect();
        let want: Vec<String> = def
            .devices
            .disks
            .iter()
            .filter_map(|d| d.source.clone())
            .collect();
        assert_eq!(with_media.len(), want.len(), "{name}: {blocks:?}");
        if let Some(nv) = def.os.nvram.as_ref().and_then(|n| n.text.clone()) {
            assert!(Path::new(&nv).is_file(), "{name}: NVRAM copy {nv}");
        }
        for w in &want {
            assert!(
                blocks.iter().any(|b| {
                    b["inserted"]["image"]["filename"].as_str() == Some(w.as_str())
                        || b["inserted"]["file"]
                            .as_str()
                            .is_some_and(|f| f.contains(w.as_str()))
                }),
                "{name}: {w} not in {blocks:?}"
            );
        }
        assert_eq!(
            blocks.len(),
            def.devices.disks.len(),
            "{name}: every disk, empty cdroms too: {blocks:?}"
        );
        let _ = qmp.execute("quit", Value::Null);
    }
}

// ---- firmware, new device kinds ----

/// A descriptor directory of our own, so the selection test does not depend on the host.
fn write_descriptors(dir: &Path, code: &Path, vars: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let d = |feat: &str, machines: &str, code: &Path| {
        format!(
            r#"{{"interface-types":["uefi"],"mapping":{{"device":"flash",
            "executable":{{"filename":"{}","format":"raw"}},
            "nvram-template":{{"filename":"{}","format":"raw"}}}},
            "targets":[{{"architecture":"x86_64","machines":[{machines}]}}],
            "features":[{feat}]}}"#,
            code.display(),
            vars.display()
        )
    };
    let secure = code.with_extension("secboot.fd");
    std::fs::write(&secure, b"secure code").unwrap();
    std::fs::write(
        dir.join("40-secure.json"),
        d(r#""requires-smm","secure-boot""#, r#""pc-q35-*""#, &secure),
    )
    .unwrap();
    std::fs::write(
        dir.join("60-plain.json"),
        d(r#""acpi-s3""#, r#""pc-i440fx-*","pc-q35-*""#, code),
    )
    .unwrap();
    std::fs::write(dir.join("10-broken.json"), b"{not json").unwrap();
}

#[test]
fn efi_autoselection_and_nvram_copy() {
    let dir = TestDir::new("cmdfw");
    let code = dir.path().join("CODE.fd");
    let vars = dir.path().join("VARS.fd");
    std::fs::write(&code, b"code").unwrap();
    std::fs::write(&vars, b"template vars").unwrap();
    let fw = dir.path().join("firmware");
    write_descriptors(&fw, &code, &vars);
    let nvdir = dir.path().join("nvram,dir");
    let xml = |machine: &str, extra: &str| {
        format!(
            "<domain type='qemu'><name>efi</name><memory unit='MiB'>64</memory>\
             <os firmware='efi'><type arch='x86_64' machine='{machine}'>hvm</type>{extra}</os>\
             <devices><memballoon model='none'/></devices></domain>"
        )
    };

    // pc: only the plain build fits; libvirt's NVRAM name; the template copied, mode 0600.
    let mut def = parse(&xml("pc", ""));
    let nv = prepare_nvram_with(&mut def, &nvdir, &[&fw])
        .unwrap()
        .expect("an NVRAM path");
    assert_eq!(nv, nvdir.join("efi_VARS.fd"));
    let loader = def.os.loader.as_ref().unwrap();
    assert_eq!(loader.text.as_deref(), code.to_str());
    assert_eq!(loader.attr("type"), Some("pflash"));
    assert_eq!(loader.attr("readonly"), Some("yes"));
    assert_eq!(loader.attr("secure"), None);
    let nvram = def.os.nvram.as_ref().unwrap();
    assert_eq!(nvram.text.as_deref(), nv.to_str());
    assert_eq!(nvram.attr("template"), vars.to_str());
    assert_eq!(std::fs::read(&nv).unwrap(), b"template vars");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&nv).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The generated command line names both files, the NVRAM path escaped by JSON only.
    let args = build(&def, &fake_caps(), &golden_env("efi")).unwrap();
    let bd = values(&args, "-blockdev");
    assert!(bd[0].contains(code.to_str().unwrap()), "{bd:?}");
    assert!(bd[2].contains(nv.to_str().unwrap()), "{bd:?}");
    assert!(values(&args, "-machine")[0]
        .contains("pflash0=libvirt-pflash0-format,pflash1=libvirt-pflash1-format"));

    // An existing NVRAM file is the guest's: never overwritten.
    std::fs::write(&nv, b"guest state").unwrap();
    let mut def = parse(&xml("pc", ""));
    prepare_nvram_with(&mut def, &nvdir, &[&fw]).unwrap();
    assert_eq!(std::fs::read(&nv).unwrap(), b"guest state");

    // q35: the first descriptor (secure boot, SMM) wins, as in libvirt ...
    let mut def = parse(&xml("q35", ""));
    prepare_nvram_with(&mut def, &nvdir, &[&fw]).unwrap();
    let loader = def.os.loader.as_ref().unwrap();
    assert_eq!(loader.attr("secure"), Some("yes"));
    let args = build(&def, &fake_caps(), &golden_env("efi")).unwrap();
    assert!(
        values(&args, "-machine")[0].contains(",smm=on,"),
        "{args:?}"
    );
    assert_eq!(
        values(&args, "-global"),
        ["driver=cfi.pflash01,property=secure,value=on"]
    );
    // ... unless the XML asks for no secure boot.
    let mut def = parse(&xml(
        "q35",
        "<firmware><feature enabled='no' name='secure-boot'/></firmware>",
    ));
    prepare_nvram_with(&mut def, &nvdir, &[&fw]).unwrap();
    assert_eq!(
        def.os.loader.as_ref().unwrap().text.as_deref(),
        code.to_str()
    );

    // A loader given by hand finds its template through the descriptors.
    let mut def = parse(&format!(
        "<domain type='qemu'><name>manual</name><memory unit='MiB'>64</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type>\
         <loader readonly='yes' type='pflash'>{}</loader></os></domain>",
        code.display()
    ));
    let nv = prepare_nvram_with(&mut def, &nvdir, &[&fw])
        .unwrap()
        .unwrap();
    assert_eq!(std::fs::read(nv).unwrap(), b"template vars");

    // No firmware at all: a clear error; BIOS guests need nothing.
    let mut def = parse(&xml("pc", ""));
    let e = prepare_nvram_with(&mut def, &nvdir, &[dir.path().join("none")]);
    if !Path::new(virtsh_qemu::cmdline::firmware::OVMF_CODE).exists() {
        assert!(e.is_err());
    }
    let mut def = fixture("minimal", GOLDEN_DIR);
    assert_eq!(prepare_nvram_with(&mut def, &nvdir, &[&fw]).unwrap(), None);

    // build stays pure: firmware='efi' not yet resolved is an error, not a guess.
    let def = parse(&xml("pc", ""));
    let e = build(&def, &fake_caps(), &golden_env("efi")).unwrap_err();
    assert!(e.to_string().contains("prepare_nvram"), "{e}");
}

#[test]
fn new_device_capability_checks() {
    let caps = fake_caps();
    let env = golden_env("c");
    let without = |ty: &str| {
        let mut c = caps.clone();
        c.qom_types.retain(|t| t != ty);
        c
    };
    let no_device = |name: &str, ty: &str| {
        let e = build(&fixture(name, GOLDEN_DIR), &without(ty), &env).unwrap_err();
        assert!(
            matches!(&e, CmdlineError::NoDevice { ty: t, .. } if t == ty),
            "{name}: {e}"
        );
    };
    no_device("rng", "virtio-rng-pci");
    no_device("rng", "rng-random");
    no_device("watchdog", "i6300esb");
    no_device("panic", "pvpanic");
    no_device("input-usb", "piix3-usb-uhci");
    no_device("input-usb", "usb-tablet");
    no_device("input-virtio", "virtio-tablet-pci");
    no_device("video-qxl", "qxl-vga");
    no_device("uefi", "cfi.pflash01");

    // SPICE on a QEMU built without it.
    let mut nospice = without("chardev-spicevmc");
    nospice.qom_types.retain(|t| t != "qxl");
    let e = build(&fixture("spice", GOLDEN_DIR), &nospice, &env).unwrap_err();
    assert!(e.to_string().contains("spice"), "{e}");

    let xml = |devices: &str, machine: &str| {
        parse(&format!(
            "<domain type='qemu'><name>x</name><memory unit='MiB'>64</memory>\
             <os><type arch='x86_64' machine='{machine}'>hvm</type></os>\
             <devices>{devices}<memballoon model='none'/></devices></domain>"
        ))
    };
    let err = |devices: &str, machine: &str| {
        build(&xml(devices, machine), &caps, &env)
            .unwrap_err()
            .to_string()
    };
    assert!(err("<watchdog model='i6300esb' action='dump'/>", "pc").contains("dump"));
    assert!(err("<watchdog model='itco'/>", "pc").contains("q35"));
    assert!(err(
        "<controller type='usb' model='none'/><input type='tablet' bus='usb'/>",
        "pc"
    )
    .contains("USB"));
    assert!(err(
        "<rng model='virtio'><backend model='egd' type='tcp'/></rng>",
        "pc"
    )
    .contains("egd"));
    assert!(err("<panic model='hyperv'/>", "pc").contains("hyperv"));
    assert!(err(
        "<video><model type='vga'/></video><video><model type='vga'/></video>",
        "pc"
    )
    .contains("primary"));
    assert!(err(
        "<graphics type='spice' autoport='yes'><gl enable='yes'/></graphics>",
        "pc"
    )
    .contains("OpenGL"));
    // Secure boot needs q35.
    let mut def = fixture("uefi-secure", GOLDEN_DIR);
    def.os.machine = Some("pc".into());
    assert!(build(&def, &caps, &env)
        .unwrap_err()
        .to_string()
        .contains("q35"));
    // Watchdog actions map to -action.
    let args = build(
        &xml("<watchdog model='ib700' action='inject-nmi'/>", "pc"),
        &caps,
        &env,
    )
    .unwrap();
    assert_eq!(values(&args, "-action"), ["watchdog=inject-nmi"]);
    // An explicit video card without graphics is still a device (as libvirt).
    let args = build(
        &xml("<video><model type='virtio'/></video>", "pc"),
        &caps,
        &env,
    )
    .unwrap();
    assert!(values(&args, "-device")
        .iter()
        .any(|d| d.contains("virtio-vga")));
    assert_eq!(values(&args, "-display"), ["none"]);
    // No USB device: no USB controller is added (machine usb=off).
    let args = build(&fixture("minimal", GOLDEN_DIR), &caps, &env).unwrap();
    assert!(!args
        .iter()
        .any(|a| a.contains("usb-uhci") || a.contains("xhci")));
}

#[test]
fn spice_paths_with_commas_are_escaped() {
    let mut env = golden_env("s");
    env.runtime_dir = "/run/a,b".into();
    let args = build(&fixture("spice", GOLDEN_DIR), &fake_caps(), &env).unwrap();
    assert_eq!(
        values(&args, "-spice"),
        ["unix=on,addr=/run/a,,b/spice.sock,disable-ticketing=on,seamless-migration=on"]
    );
}

/// UEFI really boots: firmware='efi' resolved through the host's descriptors (Debian's ovmf),
/// the NVRAM copied by prepare_nvram, QEMU started under TCG without a disk, and the firmware
/// runs (it writes its variables into the guest's own NVRAM copy).
#[test]
fn real_qemu_uefi_boots() {
    let Some(qemu) = qemu_binary("real_qemu_uefi_boots") else {
        return;
    };
    if !Path::new(virtsh_qemu::cmdline::firmware::OVMF_CODE).exists()
        && !Path::new("/usr/share/qemu/firmware").is_dir()
    {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("OVMF not found (CI=true; Debian package ovmf)");
        }
        eprintln!("SKIP real_qemu_uefi_boots: OVMF not found (apt-get install ovmf)");
        return;
    }
    let dir = TestDir::new("cmduefi");
    let caps = caps::probe(&qemu, &ProbeOptions::new(dir.path().join("probe"))).expect("probe");
    let xml = "<domain type='qemu'><name>uefi-boot</name><memory unit='MiB'>256</memory>\
         <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>\
         <firmware><feature enabled='no' name='secure-boot'/></firmware></os>\
         <features><acpi/></features>\
         <devices><serial type='file'><source path='@LOG@'/></serial>\
         <memballoon model='none'/></devices></domain>";
    let serial = dir.path().join("serial.log");
    let mut def = parse(&xml.replace("@LOG@", serial.to_str().unwrap()));
    let nvdir = dir.path().join("nvram");
    let nv = prepare_nvram_with(&mut def, &nvdir, FIRMWARE_DIRS)
        .expect("prepare_nvram")
        .expect("an NVRAM file");
    assert_eq!(nv, nvdir.join("uefi-boot_VARS.fd"));
    let template = def
        .os
        .nvram
        .as_ref()
        .unwrap()
        .attr("template")
        .unwrap()
        .to_string();
    let before = std::fs::read(&nv).unwrap();
    assert_eq!(
        before,
        std::fs::read(&template).unwrap(),
        "a copy of the template"
    );

    let (_guard, mut qmp) = run_qemu(&qemu, &def, &caps, dir.path(), true);
    qmp.execute("cont", Value::Null).expect("cont");
    // The firmware runs: the guest stays running, and OVMF writes its variables (boot options,
    // ...) into this guest's NVRAM copy; the template is untouched.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let st = qmp
            .execute("query-status", Value::Null)
            .expect("query-status");
        assert_eq!(
            st["status"],
            "running",
            "{st}: {}",
            std::fs::read_to_string(dir.path().join("qemu.log")).unwrap_or_default()
        );
        if std::fs::read(&nv).unwrap() != before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "OVMF did not write its NVRAM within 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(std::fs::read(&template).unwrap(), before);
    let _ = qmp.execute("quit", Value::Null);
}

/// `<channel>`s on virtio-serial ports (the guest agent's, with the path the driver assigns,
/// and one with its own path, comma included): `tests/data/cmdline/channel-agent.args`, in
/// libvirt's form (`virtio-serial-pci` with the controllers, the ports after the serial ports).
#[test]
fn golden_channel_agent() {
    let name = "channel-agent";
    let mut caps = fake_caps();
    caps.qom_types.extend([
        "virtio-serial-pci".to_string(),
        "virtserialport".to_string(),
    ]);
    caps.qom_types.sort();
    let env = golden_env(name);
    let mut def = fixture(name, GOLDEN_DIR);
    virtsh_qemu::cmdline::assign_channel_paths(&mut def, &env.runtime_dir);
    assert_eq!(
        def.devices.channels[0].source_path(),
        Some("/run/virtsh/qemu/channel-agent/org.qemu.guest_agent.0")
    );
    let args = build(&def, &caps, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = args.join("\n") + "\n";
    let path = data_dir().join(format!("{name}.args"));
    if std::env::var_os("VIRTSH_REGENERATE").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (VIRTSH_REGENERATE=1 writes it)", path.display()));
    assert_eq!(want, text, "--- {name}.args");
    // Without the port types this QEMU cannot run it.
    let e = build(&def, &fake_caps(), &env).unwrap_err();
    assert!(e.to_string().contains("virtio-serial-pci"), "{e}");
}

/// `host-model` becomes the newest model family this host runs in full, in its variant with
/// the most mitigations; usability holds only for the accelerator that reported it.
#[test]
fn host_model_is_the_newest_usable_model() {
    let model = |name: &str, unavailable: &[&str]| CpuModel {
        name: name.into(),
        typename: None,
        unavailable_features: unavailable.iter().map(|s| s.to_string()).collect(),
        deprecated: false,
    };
    let mut caps = fake_caps();
    caps.cpu_models = vec![
        model("qemu64", &[]),
        model("Skylake-Client", &["avx512f"]),
        model("Haswell", &[]),
        model("Haswell-IBRS", &[]),
        model("Haswell-v4", &[]),
        model("Westmere", &[]),
    ];
    assert_eq!(
        caps.host_model("tcg").map(|m| m.name.as_str()),
        Some("Haswell-IBRS")
    );
    assert!(caps.host_model("kvm").is_none(), "the probe ran under TCG");
    caps.kvm_cpu_models = vec![model("Westmere", &[]), model("Haswell", &["pcid"])];
    assert_eq!(
        caps.host_model("kvm").map(|m| m.name.as_str()),
        Some("Westmere")
    );

    let xml = std::fs::read_to_string(data_dir().join("minimal.xml"))
        .expect("fixture")
        .replace("@DIR@", GOLDEN_DIR)
        .replace("</domain>", "<cpu mode='host-model'/>\n</domain>");
    let def = parse(&xml);
    let args = build(&def, &caps, &golden_env("host-model")).expect("host-model");
    assert_eq!(values(&args, "-cpu"), ["Haswell-IBRS"]);
    caps.cpu_models.retain(|m| m.name == "Skylake-Client");
    let e = build(&def, &caps, &golden_env("host-model")).unwrap_err();
    assert!(
        e.to_string()
            .contains("no CPU model of this QEMU runs on this host"),
        "{e}"
    );
}
