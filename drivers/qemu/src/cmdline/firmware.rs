//! Firmware: SeaBIOS (QEMU's default), a ROM loader (`-bios`), and UEFI on pflash with a
//! per-domain NVRAM file.
//!
//! Two halves, as libvirt splits them:
//! - [`prepare_nvram`] runs on the host before the guest starts (I/O): it resolves
//!   `<os firmware='efi'>` to a firmware build through QEMU's firmware descriptors
//!   (`/usr/share/qemu/firmware/*.json`, overridden per file name by `/etc/qemu/firmware`),
//!   fills in the NVRAM path (`<nvram_dir>/<name>_VARS.fd`) and copies the template there.
//! - [`firmware_args`] (pure, called by `build`) turns the resolved `<loader>`/`<nvram>` into
//!   `-blockdev` pflash nodes and `-machine pflash0=...,pflash1=...` (libvirt 9.0's form).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use virtsh_xml::domain::{DomainDef, Node};

use super::escape::check;
use super::{json_arg, need_type, CmdlineError};
use crate::caps::QemuCaps;

/// Where QEMU's firmware descriptors live, lowest priority last (a file in an earlier
/// directory hides the file of the same name in a later one, as libvirt reads them).
pub const FIRMWARE_DIRS: &[&str] = &["/etc/qemu/firmware", "/usr/share/qemu/firmware"];

/// Debian's `ovmf` files, used when no descriptor matches (or none are installed).
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

#[derive(Debug, thiserror::Error)]
pub enum FirmwareError {
    #[error("unsupported configuration: {0}")]
    Unsupported(String),
    #[error("operation failed: cannot create NVRAM file '{path}': {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// One QEMU firmware descriptor (docs/interop/firmware.json), the parts libvirt matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The descriptor file, for messages.
    pub file: PathBuf,
    pub interfaces: Vec<String>,
    /// `mapping.device`: flash, memory, kernel.
    pub device: String,
    pub executable: String,
    pub executable_format: String,
    pub nvram_template: Option<String>,
    /// (architecture, machine globs).
    pub targets: Vec<(String, Vec<String>)>,
    pub features: Vec<String>,
}

impl Descriptor {
    pub fn parse(file: &Path, text: &str) -> Option<Descriptor> {
        let v: Value = serde_json::from_str(text).ok()?;
        let strs = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let m = &v["mapping"];
        Some(Descriptor {
            file: file.to_path_buf(),
            interfaces: strs(&v["interface-types"]),
            device: m["device"].as_str()?.to_string(),
            executable: m["executable"]["filename"]
                .as_str()
                .or_else(|| m["filename"].as_str())?
                .to_string(),
            executable_format: m["executable"]["format"]
                .as_str()
                .unwrap_or("raw")
                .to_string(),
            nvram_template: m["nvram-template"]["filename"].as_str().map(str::to_string),
            targets: v["targets"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| {
                            Some((
                                t["architecture"].as_str()?.to_string(),
                                strs(&t["machines"]),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            features: strs(&v["features"]),
        })
    }

    fn has(&self, f: &str) -> bool {
        self.features.iter().any(|x| x == f)
    }
}

/// The descriptors in `dirs`, in libvirt's order: by file name, the first directory winning
/// for a name. Unreadable or malformed files are skipped (QEMU and libvirt do the same).
pub fn load_descriptors<P: AsRef<Path>>(dirs: &[P]) -> Vec<Descriptor> {
    let mut by_name: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for d in dirs {
        let Ok(rd) = fs::read_dir(d.as_ref()) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") {
                continue;
            }
            by_name.entry(name).or_insert_with(|| e.path());
        }
    }
    by_name
        .values()
        .filter_map(|p| {
            let text = fs::read_to_string(p).ok()?;
            Descriptor::parse(p, &text)
        })
        .collect()
}

/// Shell-style `*`/`?` matching, as libvirt's fnmatch on machine names.
fn glob(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The machine name the descriptors' globs see: the aliases `pc`/`q35` stand for their
/// versioned types.
fn machine_for_match(def: &DomainDef) -> String {
    match def.os.machine.as_deref() {
        None | Some("pc") => "pc-i440fx-latest".into(),
        Some("q35") => "pc-q35-latest".into(),
        Some(m) => m.to_string(),
    }
}

fn smm_state(def: &DomainDef) -> Option<String> {
    def.features
        .as_ref()
        .and_then(|f| f.child("smm"))
        .map(|s| s.attr("state").unwrap_or("on").to_string())
}

/// libvirt's qemuFirmwareMatchDomain for x86 UEFI on flash: the first descriptor (in load
/// order) whose interface, target, machine and features fit the definition.
pub fn select<'a>(def: &DomainDef, descriptors: &'a [Descriptor]) -> Option<&'a Descriptor> {
    let arch = def.os.arch.as_deref().unwrap_or("x86_64");
    let arch = if arch == "i686" { "i386" } else { arch };
    let machine = machine_for_match(def);
    let wanted: Vec<(String, bool)> = def
        .os
        .firmware_features
        .as_ref()
        .map(|f| {
            f.children_named("feature")
                .filter_map(|x| Some((x.attr("name")?.to_string(), x.attr("enabled")? == "yes")))
                .collect()
        })
        .unwrap_or_default();
    let secure = def.os.loader.as_ref().and_then(|l| l.attr("secure"));
    let smm = smm_state(def);
    descriptors.iter().find(|d| {
        if !d.interfaces.iter().any(|i| i == "uefi") || d.device != "flash" {
            return false;
        }
        if !d
            .targets
            .iter()
            .any(|(a, ms)| a == arch && ms.iter().any(|m| glob(m, &machine)))
        {
            return false;
        }
        for (name, on) in &wanted {
            if d.has(name) != *on {
                return false;
            }
        }
        let sb = d.has("secure-boot") && d.has("requires-smm");
        match secure {
            Some("yes") if !sb => return false,
            Some("no") if d.has("requires-smm") => return false,
            _ => {}
        }
        if d.has("requires-smm") && smm.as_deref() == Some("off") {
            return false;
        }
        true
    })
}

fn text_of(n: &Option<Node>) -> Option<String> {
    n.as_ref()
        .and_then(|n| n.text.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Resolve the firmware of `def` and make its NVRAM file exist.
///
/// - `<os firmware='efi'>` without a loader path: picks a firmware through the descriptors in
///   `firmware_dirs` (Debian's OVMF_CODE_4M.fd/OVMF_VARS_4M.fd when none matches) and writes
///   `<loader readonly='yes' type='pflash'>` (with `secure='yes'` for an SMM build) and
///   `<nvram template=...>` into `def`.
/// - A read-only pflash loader without an NVRAM path gets `<nvram_dir>/<name>_VARS.fd`.
/// - The NVRAM file is copied from the template (`<nvram template>`, else the template of the
///   descriptor whose executable is the loader) when it does not exist yet, mode 0600.
///
/// Returns the NVRAM path when the guest has one (`None` for BIOS, ROM or stateless loaders).
pub fn prepare_nvram_with<P: AsRef<Path>>(
    def: &mut DomainDef,
    nvram_dir: &Path,
    firmware_dirs: &[P],
) -> Result<Option<PathBuf>, FirmwareError> {
    if def.name.is_empty() || def.name.contains('/') || def.name == "." || def.name == ".." {
        return Err(FirmwareError::Unsupported(format!(
            "domain name '{}' cannot name an NVRAM file",
            def.name
        )));
    }
    let efi = def.os.firmware.as_deref() == Some("efi");
    let mut descriptors: Option<Vec<Descriptor>> = None;
    if efi && text_of(&def.os.loader).is_none() {
        let ds = descriptors.get_or_insert_with(|| load_descriptors(firmware_dirs));
        let (code, vars, secure) = match select(def, ds) {
            Some(d) => (
                d.executable.clone(),
                d.nvram_template.clone(),
                d.has("requires-smm"),
            ),
            None if def.os.loader.as_ref().and_then(|l| l.attr("secure")) != Some("yes")
                && Path::new(OVMF_CODE).exists() =>
            {
                (OVMF_CODE.to_string(), Some(OVMF_VARS.to_string()), false)
            }
            None => {
                return Err(FirmwareError::Unsupported(
                    "Unable to find any firmware to satisfy 'efi'".into(),
                ))
            }
        };
        let mut l = def.os.loader.take().unwrap_or_else(|| Node::new("loader"));
        l.set_attr("readonly", "yes");
        if secure {
            l.set_attr("secure", "yes");
        }
        l.set_attr("type", "pflash");
        l.order_attrs(&["readonly", "secure", "type", "stateless", "format"]);
        l.text = Some(code);
        def.os.loader = Some(l);
        if let Some(v) = vars {
            let n = def.os.nvram.get_or_insert_with(|| Node::new("nvram"));
            if n.attr("template").is_none() {
                n.set_attr("template", &v);
                n.order_attrs(&["template", "format"]);
            }
        }
    }
    let Some(loader) = &def.os.loader else {
        return Ok(None);
    };
    let Some(code) = text_of(&def.os.loader) else {
        return Ok(None);
    };
    if loader.attr("type") != Some("pflash")
        || loader.attr("readonly") != Some("yes")
        || loader.attr("stateless") == Some("yes")
    {
        return Ok(None);
    }
    let path = match text_of(&def.os.nvram) {
        Some(p) => PathBuf::from(p),
        None => {
            let p = nvram_dir.join(format!("{}_VARS.fd", def.name));
            let s = p.to_str().ok_or_else(|| {
                FirmwareError::Unsupported(format!("NVRAM path {} is not UTF-8", p.display()))
            })?;
            let n = def.os.nvram.get_or_insert_with(|| Node::new("nvram"));
            n.text = Some(s.to_string());
            p
        }
    };
    if path.exists() {
        return Ok(Some(path));
    }
    let template = match def.os.nvram.as_ref().and_then(|n| n.attr("template")) {
        Some(t) => t.to_string(),
        None => {
            let ds = descriptors.get_or_insert_with(|| load_descriptors(firmware_dirs));
            match ds.iter().find(|d| d.executable == code) {
                Some(Descriptor {
                    nvram_template: Some(t),
                    ..
                }) => t.clone(),
                _ if code == OVMF_CODE => OVMF_VARS.to_string(),
                _ => {
                    return Err(FirmwareError::Unsupported(format!(
                        "unable to find any master var store for loader: {code}"
                    )))
                }
            }
        }
    };
    copy_template(Path::new(&template), &path)?;
    Ok(Some(path))
}

/// [`prepare_nvram_with`] with QEMU's standard descriptor directories ([`FIRMWARE_DIRS`]).
/// The supervisor calls it before `build`, with `nvram_dir` = the connection's
/// `<lib>/nvram` (`/var/lib/virtsh/qemu/nvram` for qemu:///system).
pub fn prepare_nvram(
    def: &mut DomainDef,
    nvram_dir: &Path,
) -> Result<Option<PathBuf>, FirmwareError> {
    prepare_nvram_with(def, nvram_dir, FIRMWARE_DIRS)
}

/// Copy `template` to `dest` through a temporary file in the same directory, fsync, rename.
fn copy_template(template: &Path, dest: &Path) -> Result<(), FirmwareError> {
    let io_err = |source: io::Error| FirmwareError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let data = fs::read(template).map_err(|e| {
        io_err(io::Error::new(
            e.kind(),
            format!("reading template {}: {e}", template.display()),
        ))
    })?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("nvram"),
        std::process::id()
    ));
    let res = (|| -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()?;
        fs::rename(&tmp, dest)
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}

/// What the firmware adds to the command line.
#[derive(Debug, Default)]
pub struct FirmwareArgs {
    /// `-blockdev` pflash nodes, before `-machine`.
    pub before_machine: Vec<String>,
    /// `smm=on`, inserted after `usb=off`.
    pub machine_smm: Option<&'static str>,
    /// `pflash0=...,pflash1=...`, before `memory-backend=`.
    pub machine_pflash: Vec<String>,
    /// `-bios PATH` for a ROM loader, or `-global driver=cfi.pflash01,property=secure,value=on`
    /// for a secure pflash one (after `-cpu`).
    pub after_cpu: Vec<String>,
}

/// The command line for the firmware in `def`, as resolved by [`prepare_nvram`] (pure).
pub fn firmware_args(
    def: &DomainDef,
    caps: &QemuCaps,
    q35: bool,
) -> Result<FirmwareArgs, CmdlineError> {
    let mut out = FirmwareArgs::default();
    match smm_state(def).as_deref() {
        Some("on") => out.machine_smm = Some("smm=on"),
        Some("off") => out.machine_smm = Some("smm=off"),
        _ => {}
    }
    let loader_path = text_of(&def.os.loader);
    if def.os.firmware.as_deref() == Some("efi") && loader_path.is_none() {
        return Err(CmdlineError::Unsupported(
            "firmware='efi' has no firmware selected yet (prepare_nvram resolves it)".into(),
        ));
    }
    let (Some(loader), Some(code)) = (&def.os.loader, loader_path) else {
        return Ok(out);
    };
    check("loader path", &code)?;
    let ty = loader.attr("type").unwrap_or("rom");
    if ty == "rom" {
        out.after_cpu = vec!["-bios".into(), code];
        return Ok(out);
    }
    if ty != "pflash" {
        return Err(CmdlineError::Unsupported(format!("loader type '{ty}'")));
    }
    need_type(caps, "cfi.pflash01", "the pflash loader")?;
    let readonly = loader.attr("readonly") == Some("yes");
    let fmt = loader.attr("format").unwrap_or("raw");
    if !matches!(fmt, "raw" | "qcow2") {
        return Err(CmdlineError::Unsupported(format!("loader format '{fmt}'")));
    }
    if loader.attr("secure") == Some("yes") {
        if !q35 {
            return Err(CmdlineError::Unsupported(
                "Secure boot is supported with q35 machine types only".into(),
            ));
        }
        if out.machine_smm == Some("smm=off") {
            return Err(CmdlineError::Unsupported(
                "Secure boot requires SMM feature enabled".into(),
            ));
        }
        out.machine_smm = Some("smm=on");
        out.after_cpu = vec![
            "-global".into(),
            "driver=cfi.pflash01,property=secure,value=on".into(),
        ];
    }
    let mut flash = |n: u32, path: &str, ro: bool, fmt: &str| {
        let storage = format!("libvirt-pflash{n}-storage");
        let format = format!("libvirt-pflash{n}-format");
        out.before_machine.push("-blockdev".into());
        out.before_machine.push(json_arg(&json!({
            "driver": "file",
            "filename": path,
            "node-name": storage,
            "auto-read-only": true,
            "discard": "unmap",
        })));
        out.before_machine.push("-blockdev".into());
        out.before_machine.push(json_arg(&json!({
            "node-name": format,
            "read-only": ro,
            "driver": fmt,
            "file": storage,
        })));
        out.machine_pflash.push(format!("pflash{n}={format}"));
    };
    flash(0, &code, readonly, fmt);
    let stateless = loader.attr("stateless") == Some("yes");
    if readonly && !stateless {
        let nv = text_of(&def.os.nvram).ok_or_else(|| {
            CmdlineError::Unsupported(
                "a read-only pflash loader needs an NVRAM file (prepare_nvram assigns one)".into(),
            )
        })?;
        check("NVRAM path", &nv)?;
        let nfmt = def
            .os
            .nvram
            .as_ref()
            .and_then(|n| n.attr("format"))
            .unwrap_or("raw");
        if !matches!(nfmt, "raw" | "qcow2") {
            return Err(CmdlineError::Unsupported(format!("NVRAM format '{nfmt}'")));
        }
        flash(1, &nv, false, nfmt);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("pc-q35-*", "pc-q35-7.2"));
        assert!(glob("pc-i440fx-*", "pc-i440fx-latest"));
        assert!(!glob("pc-q35-*", "pc-i440fx-7.2"));
        assert!(glob("*", ""));
        assert!(glob("a?c*", "abcdef"));
    }

    #[test]
    fn descriptor_parse() {
        let d = Descriptor::parse(
            Path::new("x.json"),
            r#"{"interface-types":["uefi"],"mapping":{"device":"flash",
            "executable":{"filename":"/c.fd","format":"raw"},
            "nvram-template":{"filename":"/v.fd","format":"raw"}},
            "targets":[{"architecture":"x86_64","machines":["pc-q35-*"]}],
            "features":["requires-smm","secure-boot"]}"#,
        )
        .unwrap();
        assert_eq!(d.executable, "/c.fd");
        assert_eq!(d.nvram_template.as_deref(), Some("/v.fd"));
        assert!(d.has("secure-boot"));
        assert_eq!(d.targets[0].1, ["pc-q35-*"]);
    }
}
