//! QEMU capabilities: probed once per binary over QMP, cached as JSON.
//!
//! The cache file for a binary is `<cache dir>/<fnv64 of canonical path>.json`; it records the
//! canonical path, size and mtime it was probed from, and is used only when all three (and the
//! cache format version) still match. Writes are atomic (temporary file in the same directory,
//! fsync, rename, fsync of the directory). A corrupt or unreadable cache file is reported in
//! [`CacheOutcome`] and re-probed, never fatal.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::monitor_fd::{create_private_dir, MonitorError, MonitorSocket};
use crate::qmp::{QemuVersion, QmpClient, QmpError};

/// Bump when `QemuCaps` changes shape; older cache files are then re-probed.
pub const CACHE_FORMAT: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryKey {
    /// Canonical (symlink-free) path of the binary.
    pub path: PathBuf,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
}

impl BinaryKey {
    pub fn of(binary: &Path) -> io::Result<Self> {
        let path = fs::canonicalize(binary)?;
        let meta = fs::metadata(&path)?;
        let mtime = meta.modified()?;
        let mtime_ns = match mtime.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Ok(Self {
            path,
            size: meta.len(),
            mtime_ns,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineType {
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub cpu_max: u32,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub default_cpu_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuModel {
    pub name: String,
    #[serde(default)]
    pub typename: Option<String>,
    /// Features this host/accel cannot provide; empty means usable.
    #[serde(default)]
    pub unavailable_features: Vec<String>,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QemuCaps {
    pub format: u32,
    pub key: BinaryKey,
    /// The accelerator the probe ran with (`tcg` or `kvm`).
    pub probe_accel: String,
    pub version: QemuVersion,
    pub machines: Vec<MachineType>,
    /// Empty when the probe accel does not support `query-cpu-definitions`.
    pub cpu_models: Vec<CpuModel>,
    /// The same list as KVM sees it (which models this host runs), from a second probe under
    /// KVM when the first ran under TCG and KVM is usable; empty otherwise.
    #[serde(default)]
    pub kvm_cpu_models: Vec<CpuModel>,
    /// All QOM types (devices, backends, machines, ...), sorted.
    pub qom_types: Vec<String>,
    /// All QMP commands, sorted.
    pub commands: Vec<String>,
    /// `query-kvm`: KVM compiled in and usable (present) / in use by the probe (enabled).
    pub kvm_present: bool,
    pub kvm_enabled: bool,
    /// From `query-qmp-schema`: each command's argument names, so a call can check that this
    /// QEMU takes an argument before sending it.
    #[serde(default)]
    pub command_args: std::collections::BTreeMap<String, Vec<String>>,
}

/// x86 CPU model families, newest first, as libvirt's cpu_map orders them: host-model picks
/// the first family with a model this host can run.
const MODEL_GENERATIONS: &[&str] = &[
    "SapphireRapids",
    "Cooperlake",
    "Icelake-Server",
    "Cascadelake-Server",
    "Skylake-Server",
    "Skylake-Client",
    "Broadwell",
    "Haswell",
    "IvyBridge",
    "SandyBridge",
    "Westmere",
    "Nehalem",
    "Penryn",
    "Conroe",
    "EPYC-Milan",
    "EPYC-Rome",
    "EPYC",
    "Opteron_G5",
    "Opteron_G4",
    "Opteron_G3",
    "Opteron_G2",
    "Opteron_G1",
];

impl QemuCaps {
    /// The named CPU model `<cpu mode='host-model'>` becomes under `accel`: the newest model
    /// family this QEMU can run in full on this host (no unavailable feature), and in it the
    /// variant with the most mitigations (the longest name: `-IBRS`, `-noTSX-IBRS`). libvirt
    /// decodes the host's CPUID against its cpu_map instead, and adds the host's extra
    /// features; virtsh asks QEMU which of its models run here. `None` when the probe ran
    /// under another accelerator (its usability answers do not hold) or no model runs.
    pub fn host_model(&self, accel: &str) -> Option<&CpuModel> {
        let models = self.cpu_models_for(accel)?;
        let usable = |c: &&CpuModel| c.unavailable_features.is_empty() && !c.deprecated;
        MODEL_GENERATIONS.iter().find_map(|family| {
            models
                .iter()
                .filter(usable)
                .filter(|c| {
                    c.name == *family
                        || c.name.strip_prefix(family).is_some_and(|rest| {
                            rest.starts_with('-') && !rest[1..].starts_with('v')
                        })
                })
                .max_by_key(|c| c.name.len())
        })
    }

    /// The CPU models with their usability under `accel` (`kvm` or `tcg`), when a probe ran
    /// under it: "unavailable features" hold only for the accelerator that answered.
    pub fn cpu_models_for(&self, accel: &str) -> Option<&[CpuModel]> {
        if self.probe_accel == accel {
            Some(&self.cpu_models)
        } else if accel == "kvm" && !self.kvm_cpu_models.is_empty() {
            Some(&self.kvm_cpu_models)
        } else {
            None
        }
    }

    pub fn has_command(&self, name: &str) -> bool {
        self.commands
            .binary_search_by(|c| c.as_str().cmp(name))
            .is_ok()
    }

    pub fn has_type(&self, name: &str) -> bool {
        self.qom_types
            .binary_search_by(|c| c.as_str().cmp(name))
            .is_ok()
    }

    /// Does command `command` take the argument `arg` (per the QMP schema)?
    pub fn has_command_arg(&self, command: &str, arg: &str) -> bool {
        self.command_args
            .get(command)
            .is_some_and(|a| a.iter().any(|x| x == arg))
    }

    pub fn machine(&self, name: &str) -> Option<&MachineType> {
        self.machines
            .iter()
            .find(|m| m.name == name || m.alias.as_deref() == Some(name))
    }

    pub fn default_machine(&self) -> Option<&MachineType> {
        self.machines.iter().find(|m| m.is_default)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    #[error("QEMU binary {path}: {source}")]
    Binary { path: PathBuf, source: io::Error },
    #[error("probing {path}: {source}")]
    Monitor { path: PathBuf, source: MonitorError },
    #[error("probing {path}: {source}")]
    Qmp { path: PathBuf, source: QmpError },
    #[error("probing {path}: unexpected reply to {command}: {detail}")]
    Reply {
        path: PathBuf,
        command: String,
        detail: String,
    },
    #[error("capabilities cache {path}: {source}")]
    Cache { path: PathBuf, source: io::Error },
}

/// Options of a probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// `tcg` (default: works everywhere) or `kvm`.
    pub accel: String,
    /// Bound of QEMU's start and of every QMP call.
    pub timeout: Duration,
    /// Private directory for the probe's monitor socket (a fresh subdirectory is used).
    pub runtime_dir: PathBuf,
}

impl ProbeOptions {
    pub fn new(runtime_dir: impl Into<PathBuf>) -> Self {
        Self {
            accel: "tcg".into(),
            timeout: Duration::from_secs(10),
            runtime_dir: runtime_dir.into(),
        }
    }
}

/// Kills and reaps the probe QEMU whatever happens.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `binary` with no guest (`-machine none -S`) and read its capabilities over QMP; when
/// that ran under TCG and KVM is usable, a second start under KVM tells which CPU models this
/// host runs (for `host-model` and domcapabilities).
pub fn probe(binary: &Path, opts: &ProbeOptions) -> Result<QemuCaps, CapsError> {
    let mut caps = probe_under(binary, opts, &opts.accel)?;
    if opts.accel == "tcg" && caps.kvm_present {
        // A failure only leaves KVM's model usability unknown, as before.
        if let Ok(kvm) = probe_under(binary, opts, "kvm") {
            caps.kvm_cpu_models = kvm.cpu_models;
        }
    }
    Ok(caps)
}

fn probe_under(binary: &Path, opts: &ProbeOptions, accel: &str) -> Result<QemuCaps, CapsError> {
    let key = BinaryKey::of(binary).map_err(|source| CapsError::Binary {
        path: binary.to_path_buf(),
        source,
    })?;
    let path = key.path.clone();
    let mon_err = |source| CapsError::Monitor {
        path: path.clone(),
        source,
    };
    create_private_dir(&opts.runtime_dir).map_err(mon_err)?;
    let dir = opts
        .runtime_dir
        .join(format!("probe-{}-{}", std::process::id(), unique()));
    let mon = MonitorSocket::bind(&dir).map_err(mon_err)?;
    let mut cmd = Command::new(&key.path);
    cmd.args(["-machine", "none", "-accel", accel])
        .args(["-nodefaults", "-nographic", "-S", "-display", "none"])
        .args(["-serial", "none", "-parallel", "none"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    mon.prepare(&mut cmd).map_err(mon_err)?;
    let result = mon.spawn(&mut cmd, opts.timeout);
    let _ = fs::remove_dir_all(&dir);
    let (child, mut qmp) = result.map_err(mon_err)?;
    let _guard = ChildGuard(child);
    let caps = read_caps(&mut qmp, key, accel)?;
    let _ = qmp.execute("quit", Value::Null);
    Ok(caps)
}

fn read_caps(qmp: &mut QmpClient, key: BinaryKey, accel: &str) -> Result<QemuCaps, CapsError> {
    let path = key.path.clone();
    let q = |qmp: &mut QmpClient, c: &str, a: Value| {
        qmp.execute(c, a).map_err(|source| CapsError::Qmp {
            path: path.clone(),
            source,
        })
    };
    let reply_err = |command: &str, detail: String| CapsError::Reply {
        path: path.clone(),
        command: command.into(),
        detail,
    };

    let version = QemuVersion::from_value(&q(qmp, "query-version", Value::Null)?)
        .map_err(|e| reply_err("query-version", e.to_string()))?;

    let mut commands: Vec<String> = array(&q(qmp, "query-commands", Value::Null)?)
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    commands.sort();
    commands.dedup();
    if commands.is_empty() {
        return Err(reply_err("query-commands", "no commands".into()));
    }
    let has = |c: &str| commands.binary_search_by(|x| x.as_str().cmp(c)).is_ok();

    let mut machines: Vec<MachineType> = array(&q(qmp, "query-machines", Value::Null)?)
        .iter()
        .filter_map(|m| {
            Some(MachineType {
                name: m.get("name")?.as_str()?.to_string(),
                alias: m.get("alias").and_then(Value::as_str).map(str::to_string),
                is_default: m
                    .get("is-default")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                cpu_max: m
                    .get("cpu-max")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(1),
                deprecated: m
                    .get("deprecated")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                default_cpu_type: m
                    .get("default-cpu-type")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect();
    machines.sort_by(|a, b| a.name.cmp(&b.name));

    // Not every accel/target implements it; a failure only means "no CPU model list".
    let cpu_models = if has("query-cpu-definitions") {
        match qmp.execute("query-cpu-definitions", Value::Null) {
            Ok(v) => {
                let mut models: Vec<CpuModel> = array(&v)
                    .iter()
                    .filter_map(|c| {
                        Some(CpuModel {
                            name: c.get("name")?.as_str()?.to_string(),
                            typename: c
                                .get("typename")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                            unavailable_features: c
                                .get("unavailable-features")
                                .map(|f| {
                                    array(f)
                                        .iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_string)
                                        .collect()
                                })
                                .unwrap_or_default(),
                            deprecated: c
                                .get("deprecated")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                        })
                    })
                    .collect();
                models.sort_by(|a, b| a.name.cmp(&b.name));
                models
            }
            Err(QmpError::Command { .. }) => Vec::new(),
            Err(source) => {
                return Err(CapsError::Qmp {
                    path: path.clone(),
                    source,
                })
            }
        }
    } else {
        Vec::new()
    };

    let mut qom_types: Vec<String> = array(&q(qmp, "qom-list-types", json!({"abstract": true}))?)
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    qom_types.sort();
    qom_types.dedup();

    let (kvm_present, kvm_enabled) = if has("query-kvm") {
        let v = q(qmp, "query-kvm", Value::Null)?;
        (
            v.get("present").and_then(Value::as_bool).unwrap_or(false),
            v.get("enabled").and_then(Value::as_bool).unwrap_or(false),
        )
    } else {
        (false, false)
    };

    let command_args = if has("query-qmp-schema") {
        schema_command_args(&q(qmp, "query-qmp-schema", Value::Null)?)
    } else {
        Default::default()
    };

    Ok(QemuCaps {
        format: CACHE_FORMAT,
        key,
        probe_accel: accel.to_string(),
        kvm_cpu_models: Vec::new(),
        version,
        machines,
        cpu_models,
        qom_types,
        commands,
        kvm_present,
        kvm_enabled,
        command_args,
    })
}

/// From QEMU's introspection (`query-qmp-schema`): command name to the names of its
/// arguments. The schema names types by number; a command's `arg-type` is an object type whose
/// `members` are the arguments (a union's branches are not followed: its base members count).
fn schema_command_args(schema: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    let entries = array(schema);
    let by_name: std::collections::HashMap<&str, &Value> = entries
        .iter()
        .filter_map(|e| Some((e.get("name")?.as_str()?, e)))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for e in entries {
        if e.get("meta-type").and_then(Value::as_str) != Some("command") {
            continue;
        }
        let Some(name) = e.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut args: Vec<String> = e
            .get("arg-type")
            .and_then(Value::as_str)
            .and_then(|t| by_name.get(t))
            .map(|t| {
                array(t.get("members").unwrap_or(&Value::Null))
                    .iter()
                    .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        args.sort();
        out.insert(name.to_string(), args);
    }
    out
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (N.fetch_add(1, Ordering::Relaxed) << 32) | u64::from(nanos)
}

/// What the cache did for one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the cache; no QEMU started.
    Hit,
    /// No cache file: probed and stored.
    Miss,
    /// The binary (size/mtime) or the cache format changed: re-probed and stored.
    Stale,
    /// The cache file could not be read or parsed (the reason): re-probed and stored.
    Corrupt(String),
}

/// The result of [`CapsCache::get`].
#[derive(Debug)]
pub struct CapsLookup {
    pub caps: QemuCaps,
    pub outcome: CacheOutcome,
    /// Set when a fresh probe could not be written to the cache.
    pub store_error: Option<CapsError>,
}

/// Capabilities of QEMU binaries, cached in one directory.
#[derive(Debug)]
pub struct CapsCache {
    dir: PathBuf,
    opts: ProbeOptions,
    probes: AtomicU64,
}

impl CapsCache {
    pub fn new(dir: impl Into<PathBuf>, opts: ProbeOptions) -> Self {
        Self {
            dir: dir.into(),
            opts,
            probes: AtomicU64::new(0),
        }
    }

    /// How many real probes (QEMU started) this cache has run; a hit runs none.
    pub fn probe_count(&self) -> u64 {
        self.probes.load(Ordering::SeqCst)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache file of `binary` (by canonical path).
    pub fn file_for(&self, binary: &Path) -> io::Result<PathBuf> {
        let canonical = fs::canonicalize(binary)?;
        Ok(self.file_for_key(&canonical))
    }

    fn file_for_key(&self, canonical: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in canonical.as_os_str().as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.dir.join(format!("{h:016x}.json"))
    }

    /// The capabilities of `binary`, from the cache when it is still valid, else probed (and
    /// stored). A failure to store is not fatal (a read-only cache directory still yields
    /// capabilities): it is returned in [`CapsLookup::store_error`].
    pub fn get(&self, binary: &Path) -> Result<CapsLookup, CapsError> {
        let key = BinaryKey::of(binary).map_err(|source| CapsError::Binary {
            path: binary.to_path_buf(),
            source,
        })?;
        let file = self.file_for_key(&key.path);
        let outcome = match fs::read(&file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => CacheOutcome::Miss,
            Err(e) => CacheOutcome::Corrupt(format!("{}: {e}", file.display())),
            Ok(bytes) => match serde_json::from_slice::<QemuCaps>(&bytes) {
                Ok(caps) if caps.format == CACHE_FORMAT && caps.key == key => {
                    return Ok(CapsLookup {
                        caps,
                        outcome: CacheOutcome::Hit,
                        store_error: None,
                    })
                }
                Ok(_) => CacheOutcome::Stale,
                Err(e) => CacheOutcome::Corrupt(format!("{}: {e}", file.display())),
            },
        };
        self.probes.fetch_add(1, Ordering::SeqCst);
        let caps = probe(&key.path, &self.opts)?;
        // Not fatal: the next lookup probes again.
        let store_error = self.store(&file, &caps).err();
        Ok(CapsLookup {
            caps,
            outcome,
            store_error,
        })
    }

    /// Atomically write `caps` to `file`.
    fn store(&self, file: &Path, caps: &QemuCaps) -> Result<(), CapsError> {
        let err = |source| CapsError::Cache {
            path: file.to_path_buf(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(err)?;
        let data = serde_json::to_vec_pretty(caps).map_err(|e| err(io::Error::other(e)))?;
        crate::state::atomic::write(file, &data).map_err(|e| err(io::Error::other(e.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_gives_each_commands_arguments() {
        let schema = json!([
            {"name": "screendump", "meta-type": "command", "arg-type": "42", "ret-type": "0"},
            {"name": "42", "meta-type": "object", "members": [
                {"name": "filename", "type": "str"}, {"name": "format", "type": "1"}]},
            {"name": "query-status", "meta-type": "command", "arg-type": "0", "ret-type": "9"},
            {"name": "0", "meta-type": "object", "members": []}
        ]);
        let args = schema_command_args(&schema);
        assert_eq!(args["screendump"], ["filename", "format"]);
        assert!(args["query-status"].is_empty());
    }

    #[test]
    fn cache_file_name_is_stable() {
        let c = CapsCache::new("/c", ProbeOptions::new("/r"));
        let a = c.file_for_key(Path::new("/usr/bin/qemu-system-x86_64"));
        assert_eq!(a, c.file_for_key(Path::new("/usr/bin/qemu-system-x86_64")));
        assert_ne!(a, c.file_for_key(Path::new("/usr/bin/qemu-system-aarch64")));
    }
}
