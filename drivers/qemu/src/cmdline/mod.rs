//! Domain XML to QEMU command line, generated against the probed [`QemuCaps`].
//!
//! [`build`] is a pure function: it reads the definition, the capabilities of the QEMU binary
//! that will run it and the host resources virtsh has already opened ([`CmdlineEnv`]: the
//! listening monitor fd, tap fds, paths), and returns the arguments (without the program name).
//! It does no I/O.
//!
//! The form is the one libvirt 9.0 generates for QEMU 7.2 (`tests/qemuxml2argvdata/
//! *.x86_64-latest.args`): `-blockdev` and `-device` as JSON, `-netdev` as JSON, memory through
//! a `memory-backend-ram` object, the monitor on an inherited fd, UEFI on `-blockdev` pflash
//! nodes named by `-machine pflash0=,pflash1=`. Differences from libvirt:
//! no PCI/drive/USB-port address assignment of our own (QEMU picks free slots), the implicit
//! USB controller only when a USB device needs it (libvirt always adds one; `usb=off` stays
//! either way), no master-key secret object (no secrets yet), JSON keys in sorted order
//! (serde_json's map; QEMU does not care), `-action watchdog=X` where libvirt 9.0 still writes
//! `-watchdog-action X`, and `autoport` VNC/SPICE on a unix socket in the runtime directory (a
//! pure function cannot pick a free TCP port). `<os firmware='efi'>` and the per-domain NVRAM
//! copy are resolved beforehand by [`prepare_nvram`] (I/O), never here.
//!
//! Every machine and device type is checked against the capabilities: a type this QEMU lacks,
//! or a deprecated machine, is a [`CmdlineError`] here, never an argument QEMU rejects later.
//! Values inside `key=value` option strings are escaped (a comma is doubled), JSON arguments are
//! written by serde_json, and names or paths with control characters are refused.

pub(crate) mod channel;
pub(crate) mod devices;
pub mod escape;

pub use channel::{assign_channel_paths, is_guest_agent, GUEST_AGENT_PORT};
pub use devices::uses_tap;
pub mod firmware;
mod misc_devices;

pub use firmware::{prepare_nvram, FirmwareError};

use std::os::unix::io::RawFd;
use std::path::PathBuf;

use serde_json::{json, Value};
use virtsh_xml::domain::DomainDef;

use crate::caps::QemuCaps;
use escape::opt_value;

/// The accelerator QEMU runs the guest with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
}

impl Accel {
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        }
    }
}

/// What the caller has prepared on the host for this one QEMU.
#[derive(Debug, Clone)]
pub struct CmdlineEnv {
    /// The already-listening QMP monitor socket, as inherited by QEMU.
    pub monitor_fd: RawFd,
    /// Per `<interface>` (same index as `def.devices.interfaces`): the tap fd virtsh opened for
    /// it, or `None` (type `user` needs none; `network`, `bridge` and `ethernet` need one).
    pub tap_fds: Vec<Option<RawFd>>,
    /// The guest's private runtime directory (VNC unix sockets of `autoport` graphics).
    pub runtime_dir: PathBuf,
    /// The guest's log file (QEMU's stderr goes there; not an argument today).
    pub log_path: PathBuf,
    pub accel: Accel,
    /// Add `-sandbox on,...`. The capabilities do not yet record whether this QEMU was built
    /// with seccomp (that needs `query-command-line-options`), so the caller decides.
    pub sandbox: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmdlineError {
    #[error("unsupported configuration: emulator does not support machine type '{0}'")]
    NoMachine(String),
    #[error("unsupported configuration: machine type '{0}' is deprecated in this QEMU")]
    DeprecatedMachine(String),
    #[error("unsupported configuration: this QEMU binary lacks the device type '{ty}' (needed by {what})")]
    NoDevice { ty: String, what: String },
    #[error("unsupported configuration: {0}")]
    Unsupported(String),
    #[error("invalid {what} '{value}': {reason}")]
    BadValue {
        what: String,
        value: String,
        reason: String,
    },
}

fn need_type(caps: &QemuCaps, ty: &str, what: &str) -> Result<(), CmdlineError> {
    if caps.has_type(ty) {
        Ok(())
    } else {
        Err(CmdlineError::NoDevice {
            ty: ty.to_string(),
            what: what.to_string(),
        })
    }
}

fn json_arg(v: &Value) -> String {
    serde_json::to_string(v).expect("JSON values always serialise")
}

/// Record in the definition where QEMU will listen for `autoport` VNC and SPICE: the generator
/// puts them on a unix socket in the runtime directory (`vnc.sock`, `spice.sock`), and the live
/// XML must say so, or `domdisplay` and `vncdisplay` would report a port that does not exist.
/// The generated arguments are the same before and after.
pub fn assign_graphics_sockets(def: &mut DomainDef, runtime_dir: &std::path::Path) {
    use virtsh_xml::domain::Node;
    for g in &mut def.devices.graphics {
        let file = match g.attr("type") {
            Some("vnc") => "vnc.sock",
            Some("spice") => "spice.sock",
            _ => continue,
        };
        let has_socket = g
            .child("listen")
            .is_some_and(|l| l.attr("type") == Some("socket"));
        let port: Option<i64> = g.attr("port").and_then(|p| p.parse().ok());
        let auto = g.attr("autoport") == Some("yes") || port.is_none_or(|p| p < 0);
        if has_socket || !auto {
            continue;
        }
        let path = runtime_dir.join(file).to_string_lossy().into_owned();
        for a in ["port", "autoport", "listen", "tlsPort"] {
            g.remove_attr(a);
        }
        g.set_attr("socket", &path);
        g.children.retain(|c| c.name != "listen");
        g.children.insert(
            0,
            Node::with_attrs("listen", &[("type", "socket"), ("socket", &path)]),
        );
    }
}

/// Build QEMU's arguments (without argv\[0\]) for `def`.
pub fn build(
    def: &DomainDef,
    caps: &QemuCaps,
    env: &CmdlineEnv,
) -> Result<Vec<String>, CmdlineError> {
    let mut a: Vec<String> = Vec::new();
    let push = |a: &mut Vec<String>, opt: &str, val: String| {
        a.push(opt.to_string());
        a.push(val);
    };

    // Name: libvirt's rules plus no control characters.
    if def.name.is_empty() || def.name.contains('/') || def.name == ".." || def.name == "." {
        return Err(CmdlineError::BadValue {
            what: "domain name".into(),
            value: def.name.clone(),
            reason: "must be non-empty and contain no '/'".into(),
        });
    }
    if !matches!(def.os.os_type.as_str(), "hvm") {
        return Err(CmdlineError::Unsupported(format!(
            "OS type '{}' (QEMU runs hvm guests)",
            def.os.os_type
        )));
    }
    if let Some(arch) = &def.os.arch {
        if arch != "x86_64" && arch != "i686" {
            return Err(CmdlineError::Unsupported(format!(
                "architecture '{arch}' (this generator handles x86 only)"
            )));
        }
    }
    match (def.virt_type.as_str(), env.accel) {
        ("qemu", Accel::Tcg) | ("kvm", Accel::Kvm) => {}
        (t, acc) => {
            return Err(CmdlineError::Unsupported(format!(
                "domain type '{t}' with accelerator '{}'",
                acc.as_str()
            )))
        }
    }
    if env.accel == Accel::Kvm && !caps.kvm_present {
        return Err(CmdlineError::Unsupported(
            "KVM is not available to this QEMU".into(),
        ));
    }

    push(
        &mut a,
        "-name",
        format!(
            "guest={},debug-threads=on",
            opt_value("domain name", &def.name)?
        ),
    );
    a.push("-S".into());

    // Machine.
    let machine = match &def.os.machine {
        Some(m) => caps
            .machine(m)
            .ok_or_else(|| CmdlineError::NoMachine(m.clone()))?,
        None => caps
            .default_machine()
            .ok_or_else(|| CmdlineError::NoMachine("(default)".into()))?,
    };
    if machine.deprecated {
        return Err(CmdlineError::DeprecatedMachine(machine.name.clone()));
    }
    let q35 = machine.name.starts_with("pc-q35") || machine.name == "q35";
    let i440 = machine.name.starts_with("pc-i440fx") || machine.name == "pc";
    if !q35 && !i440 {
        return Err(CmdlineError::Unsupported(format!(
            "machine type '{}' (pc and q35 families only)",
            machine.name
        )));
    }
    need_type(caps, "memory-backend-ram", "guest memory")?;
    if def.os.dtb.is_some() {
        return Err(CmdlineError::Unsupported("<dtb> on x86".into()));
    }
    // Firmware: pflash nodes come before -machine, which names them.
    let fw = firmware::firmware_args(def, caps, q35)?;
    a.extend(fw.before_machine);
    let mut mopts = vec![opt_value("machine type", &machine.name)?, "usb=off".into()];
    mopts.extend(fw.machine_smm.map(str::to_string));
    mopts.push("dump-guest-core=off".into());
    mopts.extend(fw.machine_pflash);
    mopts.push("memory-backend=pc.ram".into());
    push(&mut a, "-machine", mopts.join(","));
    push(&mut a, "-accel", env.accel.as_str().into());

    // CPU.
    a.extend(cpu_args(def, caps, env)?);
    // Loader: -bios for a ROM, the secure-pflash global (libvirt's qemuBuildDomainLoaderCommandLine).
    a.extend(fw.after_cpu);

    // Memory: libvirt's `-m size=Nk` plus the backend object that holds it.
    if def.memory_kib == 0 {
        return Err(CmdlineError::BadValue {
            what: "memory".into(),
            value: "0".into(),
            reason: "must be positive".into(),
        });
    }
    let bytes = def
        .memory_kib
        .checked_mul(1024)
        .ok_or_else(|| CmdlineError::BadValue {
            what: "memory".into(),
            value: format!("{} KiB", def.memory_kib),
            reason: "too large".into(),
        })?;
    push(&mut a, "-m", format!("size={}k", def.memory_kib));
    push(
        &mut a,
        "-object",
        json_arg(&json!({"qom-type": "memory-backend-ram", "id": "pc.ram", "size": bytes})),
    );
    push(&mut a, "-overcommit", "mem-lock=off".into());

    // vCPUs.
    a.extend(smp_args(def, machine.cpu_max)?);

    push(&mut a, "-uuid", def.uuid.hyphenated().to_string());

    // Graphics: none, or VNC.
    let gfx = devices::graphics_args(def, caps, env)?;
    if gfx.is_empty() {
        push(&mut a, "-display", "none".into());
    }
    a.push("-no-user-config".into());
    a.push("-nodefaults".into());
    push(
        &mut a,
        "-chardev",
        format!(
            "socket,id=charmonitor,fd={},server=on,wait=off",
            env.monitor_fd
        ),
    );
    push(
        &mut a,
        "-mon",
        "chardev=charmonitor,id=monitor,mode=control".into(),
    );
    let offset = def.clock.attr("offset").unwrap_or("utc");
    match offset {
        "utc" | "localtime" => push(&mut a, "-rtc", format!("base={offset}")),
        o => return Err(CmdlineError::Unsupported(format!("clock offset '{o}'"))),
    }
    a.push("-no-shutdown".into());
    if def.on_reboot == "destroy" {
        a.push("-no-reboot".into());
    }
    push(&mut a, "-boot", "strict=on".into());

    // Direct kernel boot.
    for (opt, v, what) in [
        ("-kernel", &def.os.kernel, "kernel path"),
        ("-initrd", &def.os.initrd, "initrd path"),
        ("-append", &def.os.cmdline, "kernel command line"),
    ] {
        if let Some(v) = v {
            escape::check(what, v)?;
            // Whole-argument values: QEMU does not split these at commas.
            push(&mut a, opt, v.clone());
        }
    }

    a.extend(devices::device_args(def, caps, env, q35, gfx)?);
    if env.sandbox {
        push(
            &mut a,
            "-sandbox",
            "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny".into(),
        );
    }
    push(&mut a, "-msg", "timestamp=on".into());
    Ok(a)
}

fn cpu_args(
    def: &DomainDef,
    caps: &QemuCaps,
    env: &CmdlineEnv,
) -> Result<Vec<String>, CmdlineError> {
    let mode = def
        .cpu
        .as_ref()
        .and_then(|c| c.attr("mode"))
        .unwrap_or("custom");
    let model = def
        .cpu
        .as_ref()
        .and_then(|c| c.child("model"))
        .and_then(|m| m.text.clone());
    let name = match (mode, model) {
        ("host-passthrough", _) => {
            if env.accel != Accel::Kvm {
                return Err(CmdlineError::Unsupported(
                    "CPU mode host-passthrough needs KVM".into(),
                ));
            }
            "host".to_string()
        }
        ("maximum", _) => "max".to_string(),
        ("host-model", _) => {
            let accel = if env.accel == Accel::Kvm {
                "kvm"
            } else {
                "tcg"
            };
            match caps.host_model(accel) {
                Some(m) => m.name.clone(),
                None => {
                    return Err(CmdlineError::Unsupported(format!(
                        "CPU mode host-model: no CPU model of this QEMU runs on this host under {accel}"
                    )))
                }
            }
        }
        (_, Some(m)) => m,
        (_, None) => "qemu64".to_string(),
    };
    if name != "host" && name != "max" && !caps.cpu_models.is_empty() {
        match caps.cpu_models.iter().find(|c| c.name == name) {
            None => {
                return Err(CmdlineError::Unsupported(format!(
                    "CPU model '{name}' is not known to this QEMU"
                )))
            }
            Some(c) if c.deprecated => {
                return Err(CmdlineError::Unsupported(format!(
                    "CPU model '{name}' is deprecated in this QEMU"
                )))
            }
            Some(_) => {}
        }
    }
    let mut value = opt_value("CPU model", &name)?;
    // Features, in the XML's order: `name=on|off` (libvirt's qemuBuildCpuModelArgStr).
    for f in def.cpu.iter().flat_map(|c| c.children_named("feature")) {
        let fname = f.attr("name").unwrap_or_default();
        if fname.is_empty()
            || !fname
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(CmdlineError::BadValue {
                what: "CPU feature".into(),
                value: fname.escape_debug().to_string(),
                reason: "not a CPU feature name".into(),
            });
        }
        let on = match f.attr("policy").unwrap_or("require") {
            "force" | "require" | "optional" => "on",
            "disable" | "forbid" => "off",
            p => {
                return Err(CmdlineError::BadValue {
                    what: format!("policy of CPU feature '{fname}'"),
                    value: p.into(),
                    reason: "unknown".into(),
                })
            }
        };
        value.push_str(&format!(",{fname}={on}"));
    }
    Ok(vec!["-cpu".into(), value])
}

fn smp_args(def: &DomainDef, cpu_max: u32) -> Result<Vec<String>, CmdlineError> {
    let max = def.vcpus.max(1);
    let cur = if def.current_vcpus == 0 {
        max
    } else {
        def.current_vcpus.min(max)
    };
    if cpu_max > 0 && max > cpu_max {
        return Err(CmdlineError::Unsupported(format!(
            "{max} vCPUs exceed the machine's maximum of {cpu_max}"
        )));
    }
    let topo = def.cpu.as_ref().and_then(|c| c.child("topology"));
    let get = |k: &str| -> Result<Option<u32>, CmdlineError> {
        match topo.and_then(|t| t.attr(k)) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| CmdlineError::BadValue {
                what: format!("topology {k}"),
                value: v.into(),
                reason: "not a number".into(),
            }),
        }
    };
    let (sockets, cores, threads) = match (get("sockets")?, get("cores")?, get("threads")?) {
        (Some(s), Some(c), Some(t)) => (s, c, t),
        (None, None, None) => (max, 1, 1),
        _ => {
            return Err(CmdlineError::Unsupported(
                "CPU topology needs sockets, cores and threads".into(),
            ))
        }
    };
    if u64::from(sockets) * u64::from(cores) * u64::from(threads) != u64::from(max) {
        return Err(CmdlineError::Unsupported(format!(
            "CPU topology {sockets}x{cores}x{threads} does not match {max} vCPUs"
        )));
    }
    let mut s = cur.to_string();
    if cur != max {
        s.push_str(&format!(",maxcpus={max}"));
    }
    s.push_str(&format!(
        ",sockets={sockets},cores={cores},threads={threads}"
    ));
    Ok(vec!["-smp".into(), s])
}
