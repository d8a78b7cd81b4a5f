//! QMP arguments (`blockdev-add`, `netdev_add`, `device_add`) from the command-line generator.

use serde_json::Value;
use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{Devices, DomainDef};

use crate::cmdline::CmdlineEnv;
use crate::driver::QemuDriver;

#[derive(Default)]
pub(super) struct Generated {
    pub(super) blockdevs: Vec<Value>,
    pub(super) netdevs: Vec<Value>,
    pub(super) devices: Vec<Value>,
}

fn cmdline_error(e: crate::cmdline::CmdlineError) -> Error {
    let msg = e.to_string();
    match msg.strip_prefix("unsupported configuration: ") {
        Some(rest) => Error::new(ErrorKind::ConfigUnsupported, rest),
        None => Error::new(ErrorKind::InternalError, msg),
    }
}

/// The generator's `-blockdev`/`-netdev`/`-device` values for `devices` in the running `live`.
pub(super) fn generate(drv: &QemuDriver, live: &DomainDef, devices: Devices) -> Result<Generated> {
    let mut def = live.clone();
    def.devices = Devices {
        emulator: live.devices.emulator.clone(),
        ..devices
    };
    def.os.boot_devs.clear();
    let (emulator, accel) = crate::supervisor::boot::emulator_and_accel(&def)?;
    let caps = drv
        .caps_for(&emulator)
        .map_err(|e| Error::internal(format!("cannot read QEMU's capabilities: {e}")))?;
    let rt = drv.runtime(&def.name);
    let env = CmdlineEnv {
        monitor_fd: -1,
        // Tap NICs get their descriptor at plug time (see attach_net_live); a placeholder
        // number lets the generator write the netdev.
        tap_fds: def
            .devices
            .interfaces
            .iter()
            .map(|n| crate::cmdline::uses_tap(n).then_some(-1))
            .collect(),
        runtime_dir: rt.socket_dir(),
        log_path: drv.log_path(&def.name),
        accel,
        sandbox: false,
    };
    let q35 = def
        .os
        .machine
        .as_deref()
        .is_some_and(|m| m.starts_with("pc-q35") || m == "q35");
    let args = crate::cmdline::devices::device_args(&def, &caps, &env, q35, Vec::new())
        .map_err(cmdline_error)?;
    let mut g = Generated::default();
    for pair in args.chunks(2) {
        let [opt, val] = pair else { continue };
        let list = match opt.as_str() {
            "-blockdev" => &mut g.blockdevs,
            "-netdev" => &mut g.netdevs,
            "-device" => &mut g.devices,
            _ => continue,
        };
        let v: Value = serde_json::from_str(val)
            .map_err(|e| Error::internal(format!("generated {opt} is not JSON: {e}")))?;
        list.push(v);
    }
    Ok(g)
}

/// Rename the string value of `key` in `v` through `f`.
pub(super) fn rename(v: &mut Value, key: &str, f: impl Fn(&str) -> String) {
    if let Some(s) = v.get(key).and_then(Value::as_str) {
        let new = f(s);
        v[key] = Value::String(new);
    }
}

/// Move the block nodes of a one-disk generation from `libvirt-1-*` to `libvirt-N-*`.
pub(super) fn renumber_nodes(g: &mut Generated, n: u64) {
    let f = |s: &str| match s.strip_prefix("libvirt-1-") {
        Some(rest) => format!("libvirt-{n}-{rest}"),
        None => s.to_string(),
    };
    for b in &mut g.blockdevs {
        rename(b, "node-name", f);
        rename(b, "file", f);
    }
    for d in &mut g.devices {
        rename(d, "drive", f);
    }
}
