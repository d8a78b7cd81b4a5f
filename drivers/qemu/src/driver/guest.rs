//! Calls answered by the QEMU guest agent inside the guest (through the supervisor, which
//! holds the agent's channel): `qemu-agent-command`, time, hostname, addresses, filesystems,
//! guest information, user passwords, and `shutdown --mode agent`.
//!
//! What each call sends, and how it reads the answer, is libvirt 9.0's (src/qemu/qemu_agent.c
//! and qemuDomainGetGuestInfo in qemu_driver.c), typed parameter names included. One
//! difference: libvirt matches the disks the agent reports to the definition's disks by their
//! PCI address; virtsh assigns no PCI addresses yet, so `fs.N.disk.M.alias`, `disk.N.alias`
//! and domfsinfo's targets are left out.

use std::time::Duration;

use serde_json::{json, Value};
use virtsh_api::flags::{guest_info as gi, ifaddr_source};
use virtsh_api::{
    Domain, DomainInterface, Error, ErrorKind, FsInfo, IpAddress, Result, TypedParam, TypedValue,
};

use super::QemuDriver;
use crate::supervisor::agent::PASSTHROUGH;

/// How long a call waits for the agent. libvirt waits forever by default
/// (VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK); the supervisor serves one request at a time, so
/// virtsh bounds it.
const AGENT_WAIT: Duration = Duration::from_secs(30);
/// virDomainQemuAgentCommand's VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT (QEMU_AGENT_WAIT_TIME).
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK, bounded as well.
const BLOCK_WAIT: Duration = Duration::from_secs(120);

/// libvirt's virCheckFlags.
use virtsh_api::flags::check as check_flags;

fn malformed() -> Error {
    Error::internal("malformed return value")
}

/// The error an agent gives for a command it does not have or has disabled
/// (qemuAgentCheckError's CommandNotFound / CommandDisabled).
fn is_unsupported_command(e: &Error) -> bool {
    e.kind == ErrorKind::InternalError
        && e.message
            .starts_with("internal error: unable to execute QEMU agent command")
        && (e.message.ends_with("has not been found")
            || e.message.ends_with("has been disabled for this instance"))
}

/// Errors of qemuDomainAgentAvailable and of the domain itself (as opposed to errors of the
/// agent command).
fn is_availability_error(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::OperationInvalid | ErrorKind::ArgumentUnsupported | ErrorKind::NoDomain
    ) || (e.kind == ErrorKind::AgentUnresponsive && e.message.ends_with("is not connected"))
}

pub(super) fn agent_command(
    drv: &QemuDriver,
    dom: &Domain,
    cmd: &str,
    timeout: i32,
    flags: u32,
) -> Result<String> {
    check_flags(flags, 0, "qemuDomainQemuAgentCommand")?;
    let wait = match timeout {
        -2 => BLOCK_WAIT,
        -1 => DEFAULT_WAIT,
        0 => Duration::ZERO,
        t if t > 0 => Duration::from_secs(t as u64).min(BLOCK_WAIT),
        t => {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                format!("guest agent timeout '{t}' is less than the minimum '-2'"),
            ))
        }
    };
    if let Err(e) = serde_json::from_str::<Value>(cmd) {
        return Err(Error::internal(format!("cannot parse json {cmd}: {e}")));
    }
    let reply = drv.agent(dom, PASSTHROUGH, Value::String(cmd.to_string()), wait)?;
    let text = reply.as_str().ok_or_else(malformed)?;
    compact_json(text).ok_or_else(|| Error::internal(format!("cannot parse json {text}")))
}

/// Run a typed agent command with virtsh's bound.
fn call(drv: &QemuDriver, dom: &Domain, execute: &str, args: Value) -> Result<Value> {
    drv.agent(dom, execute, args, AGENT_WAIT)
}

pub(super) fn hostname(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<String> {
    const LEASE: u32 = 1 << 0;
    const AGENT: u32 = 1 << 1;
    check_flags(flags, LEASE | AGENT, "qemuDomainGetHostname")?;
    if flags & LEASE != 0 && flags & AGENT != 0 {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            "Flags 'VIR_DOMAIN_GET_HOSTNAME_LEASE' and 'VIR_DOMAIN_GET_HOSTNAME_AGENT' are mutually exclusive",
        ));
    }
    let v = drv.view_of(dom)?;
    v.check_active()?;
    let no_hostname = || {
        // VIR_ERR_NO_HOSTNAME (108), whose prefix is "no hostname found: ".
        Error::raw(
            ErrorKind::InternalError,
            format!(
                "no hostname found: no hostname found for domain {}",
                v.def.name
            ),
        )
    };
    if flags & LEASE != 0 {
        return drv.networks.lease_hostname(&v.def)?.ok_or_else(no_hostname);
    }
    // libvirt ignores the agent command's own failure and reports no hostname instead.
    match call(drv, dom, "guest-get-host-name", Value::Null) {
        Ok(r) => match r.get("host-name").and_then(Value::as_str) {
            Some(h) => Ok(h.to_string()),
            None => Err(no_hostname()),
        },
        Err(e) if is_availability_error(&e) => Err(e),
        Err(_) => Err(no_hostname()),
    }
}

pub(super) fn time(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<(i64, u32)> {
    check_flags(flags, 0, "qemuDomainGetTime")?;
    let r = call(drv, dom, "guest-get-time", Value::Null)?;
    let ns = r.as_u64().ok_or_else(malformed)?;
    Ok(((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as u32))
}

pub(super) fn set_time(
    drv: &QemuDriver,
    dom: &Domain,
    secs: i64,
    nsecs: u32,
    flags: u32,
) -> Result<()> {
    const SYNC: u32 = 1;
    check_flags(flags, SYNC, "qemuDomainSetTime")?;
    let args = if flags & SYNC != 0 {
        Value::Null
    } else {
        if secs > i64::MAX / 1_000_000_000 {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                format!("Time '{secs}' is too big for guest agent"),
            ));
        }
        json!({ "time": secs * 1_000_000_000 + i64::from(nsecs) })
    };
    call(drv, dom, "guest-set-time", args)?;
    // On x86 the RTC's missed ticks must not be replayed after the jump (libvirt does this
    // too).
    drv.qmp(dom, "rtc-reset-reinjection", Value::Null)?;
    Ok(())
}

pub(super) fn interface_addresses(
    drv: &QemuDriver,
    dom: &Domain,
    source: u32,
    flags: u32,
) -> Result<Vec<DomainInterface>> {
    check_flags(flags, 0, "qemuDomainInterfaceAddresses")?;
    let v = drv.view_of(dom)?;
    v.check_active()?;
    match source {
        ifaddr_source::LEASE => drv.networks.lease_interfaces(&v.def),
        ifaddr_source::AGENT => {
            let r = call(drv, dom, "guest-network-get-interfaces", Value::Null)?;
            parse_interfaces(&r)
        }
        ifaddr_source::ARP => {
            let table = std::fs::read_to_string("/proc/net/arp").map_err(|e| {
                Error::new(
                    ErrorKind::SystemError,
                    format!("unable to read the ARP table: {e}"),
                )
            })?;
            Ok(arp_interfaces(&v.def, &table))
        }
        s => Err(Error::new(
            ErrorKind::ArgumentUnsupported,
            format!("Unknown IP address data source {s}"),
        )),
    }
}

/// virDomainNetARPInterfaces over `/proc/net/arp`: one entry per neighbour whose MAC is one of
/// the guest's NICs, in the order of the NICs.
fn arp_interfaces(def: &virtsh_xml::domain::DomainDef, table: &str) -> Vec<DomainInterface> {
    let entries: Vec<(String, String)> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| (f[0].to_string(), f[3].to_ascii_lowercase()))
        })
        .collect();
    let mut out = Vec::new();
    for nic in &def.devices.interfaces {
        let Some(mac) = nic.mac.as_deref().map(str::to_ascii_lowercase) else {
            continue;
        };
        for (ip, _) in entries.iter().filter(|(_, m)| *m == mac) {
            out.push(DomainInterface {
                name: nic.target_dev.clone().unwrap_or_default(),
                hwaddr: Some(mac.clone()),
                addrs: vec![IpAddress {
                    kind: 0,
                    addr: ip.clone(),
                    prefix: 0,
                }],
            });
        }
    }
    out
}

/// qemuAgentGetInterfaces: aliases (`eth0:1`) are merged into their interface.
fn parse_interfaces(r: &Value) -> Result<Vec<DomainInterface>> {
    let arr = r
        .as_array()
        .ok_or_else(|| Error::internal("qemu agent didn't return an array of interfaces"))?;
    let mut out: Vec<DomainInterface> = Vec::new();
    for obj in arr {
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::internal("qemu agent didn't provide 'name' field"))?;
        let ifname = name.split(':').next().unwrap_or(name).to_string();
        let idx = match out.iter().position(|i| i.name == ifname) {
            Some(i) => i,
            None => {
                out.push(DomainInterface {
                    name: ifname,
                    hwaddr: obj
                        .get("hardware-address")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    addrs: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(addrs) = obj.get("ip-addresses") else {
            continue;
        };
        let addrs = addrs
            .as_array()
            .ok_or_else(|| Error::internal("Malformed ip-addresses array"))?;
        for a in addrs {
            let ty = a
                .get("ip-address-type")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::internal(format!(
                        "qemu agent didn't provide 'ip-address-type' field for interface '{name}'"
                    ))
                })?;
            let kind = match ty {
                "ipv4" => 0,
                "ipv6" => 1,
                t => return Err(Error::internal(format!("unknown ip address type '{t}'"))),
            };
            let addr = a.get("ip-address").and_then(Value::as_str).ok_or_else(|| {
                Error::internal(format!(
                    "qemu agent didn't provide 'ip-address' field for interface '{name}'"
                ))
            })?;
            let prefix = a
                .get("prefix")
                .and_then(Value::as_u64)
                .and_then(|p| u32::try_from(p).ok())
                .ok_or_else(|| Error::internal("malformed 'prefix' field"))?;
            out[idx].addrs.push(IpAddress {
                kind,
                addr: addr.to_string(),
                prefix,
            });
        }
    }
    Ok(out)
}

/// One filesystem as qemuAgentGetFSInfo reads it.
struct AgentFs {
    mountpoint: String,
    name: String,
    fstype: String,
    used: Option<u64>,
    total: Option<u64>,
    /// (serial, dev) of each disk.
    disks: Vec<(Option<String>, Option<String>)>,
}

/// qemuAgentGetFSInfo: the agent's list, reversed into mount order.
fn parse_fsinfo(r: &Value) -> Result<Vec<AgentFs>> {
    let arr = r
        .as_array()
        .ok_or_else(|| Error::internal("Malformed guest-get-fsinfo data array"))?;
    let mut out = Vec::new();
    for e in arr.iter().rev() {
        let s = |k: &str, msg: &str| -> Result<String> {
            e.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Error::internal(msg))
        };
        let mountpoint = s(
            "mountpoint",
            "'mountpoint' missing in reply of guest-get-fsinfo",
        )?;
        let name = s("name", "'name' missing in reply of guest-get-fsinfo")?;
        let fstype = s("type", "'type' missing in reply of guest-get-fsinfo")?;
        let bytes = |k: &str| -> Result<Option<u64>> {
            match e.get(k) {
                None => Ok(None),
                Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                    Error::internal(format!("Error getting '{k}' in reply of guest-get-fsinfo"))
                }),
            }
        };
        let used = bytes("used-bytes")?;
        let total = bytes("total-bytes")?;
        let disk = e
            .get("disk")
            .ok_or_else(|| Error::internal("'disk' missing in reply of guest-get-fsinfo"))?;
        let disk = disk
            .as_array()
            .ok_or_else(|| Error::internal("Malformed guest-get-fsinfo 'disk' data array"))?;
        let disks = disk
            .iter()
            .map(|d| {
                let st = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
                (st("serial"), st("dev"))
            })
            .collect();
        out.push(AgentFs {
            mountpoint,
            name,
            fstype,
            used,
            total,
            disks,
        });
    }
    Ok(out)
}

pub(super) fn guest_info(
    drv: &QemuDriver,
    dom: &Domain,
    types: u32,
    flags: u32,
) -> Result<Vec<TypedParam>> {
    check_flags(flags, 0, "qemuDomainGetGuestInfo")?;
    let supported = gi::USERS
        | gi::OS
        | gi::TIMEZONE
        | gi::HOSTNAME
        | gi::FILESYSTEM
        | gi::DISKS
        | gi::INTERFACES;
    if types & !supported != 0 {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!(
                "unsupported guest information types '0x{:x}'",
                types & !supported
            ),
        ));
    }
    let report_unsupported = types != 0;
    let want = if types == 0 { supported } else { types };
    // Some(value), or None for a command the agent lacks when no type was asked for.
    let get = |execute: &str| -> Result<Option<Value>> {
        match call(drv, dom, execute, Value::Null) {
            Ok(v) => Ok(Some(v)),
            Err(e) if !report_unsupported && is_unsupported_command(&e) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let mut p: Vec<TypedParam> = Vec::new();
    let s = |k: String, v: &str| TypedParam::new(k, TypedValue::String(v.to_string()));
    let u = |k: String, v: usize| TypedParam::new(k, TypedValue::UInt(v as u32));

    if want & gi::USERS != 0 {
        if let Some(r) = get("guest-get-users")? {
            let users = r
                .as_array()
                .ok_or_else(|| Error::internal("guest-get-users reply was missing return data"))?;
            p.push(u("user.count".into(), users.len()));
            for (i, e) in users.iter().enumerate() {
                let name = e
                    .get("user")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::internal("'user' missing in reply of guest-get-users"))?;
                p.push(s(format!("user.{i}.name"), name));
                if let Some(d) = e.get("domain").and_then(Value::as_str) {
                    p.push(s(format!("user.{i}.domain"), d));
                }
                let t = e.get("login-time").and_then(Value::as_f64).ok_or_else(|| {
                    Error::internal("'login-time' missing in reply of guest-get-users")
                })?;
                p.push(TypedParam::new(
                    format!("user.{i}.login-time"),
                    TypedValue::ULLong((t * 1000.0) as u64),
                ));
            }
        }
    }
    if want & gi::OS != 0 {
        if let Some(r) = get("guest-get-osinfo")? {
            if !r.is_object() {
                return Err(Error::internal(
                    "guest-get-osinfo reply was missing return data",
                ));
            }
            for k in [
                "id",
                "name",
                "pretty-name",
                "version",
                "version-id",
                "machine",
                "variant",
                "variant-id",
                "kernel-release",
                "kernel-version",
            ] {
                if let Some(v) = r.get(k).and_then(Value::as_str) {
                    p.push(s(format!("os.{k}"), v));
                }
            }
        }
    }
    if want & gi::TIMEZONE != 0 {
        if let Some(r) = get("guest-get-timezone")? {
            if !r.is_object() {
                return Err(Error::internal(
                    "guest-get-timezone reply was missing return data",
                ));
            }
            if let Some(z) = r.get("zone").and_then(Value::as_str) {
                p.push(s("timezone.name".into(), z));
            }
            let off = r
                .get("offset")
                .and_then(Value::as_i64)
                .and_then(|o| i32::try_from(o).ok())
                .ok_or_else(|| {
                    Error::internal("'offset' missing in reply of guest-get-timezone")
                })?;
            p.push(TypedParam::new("timezone.offset", TypedValue::Int(off)));
        }
    }
    if want & gi::HOSTNAME != 0 {
        if let Some(r) = get("guest-get-host-name")? {
            let h = r.get("host-name").and_then(Value::as_str).ok_or_else(|| {
                Error::internal("'host-name' missing in guest-get-host-name reply")
            })?;
            p.push(s("hostname".into(), h));
        }
    }
    let mut fs = Vec::new();
    if want & gi::FILESYSTEM != 0 {
        if let Some(r) = get("guest-get-fsinfo")? {
            if r.is_null() {
                return Err(Error::internal(
                    "guest-get-fsinfo reply was missing return data",
                ));
            }
            fs = parse_fsinfo(&r)?;
        }
    }
    let mut disks = Vec::new();
    if want & gi::DISKS != 0 {
        if let Some(r) = get("guest-get-disks")? {
            disks = r
                .as_array()
                .ok_or_else(|| Error::internal("qemu agent didn't return an array of disks"))?
                .clone();
        }
    }
    let mut ifaces = Vec::new();
    if want & gi::INTERFACES != 0 {
        if let Some(r) = get("guest-network-get-interfaces")? {
            ifaces = parse_interfaces(&r)?;
        }
    }
    if !fs.is_empty() {
        p.push(u("fs.count".into(), fs.len()));
        for (i, f) in fs.iter().enumerate() {
            p.push(s(format!("fs.{i}.name"), &f.name));
            p.push(s(format!("fs.{i}.mountpoint"), &f.mountpoint));
            p.push(s(format!("fs.{i}.fstype"), &f.fstype));
            if let Some(t) = f.total {
                p.push(TypedParam::new(
                    format!("fs.{i}.total-bytes"),
                    TypedValue::ULLong(t),
                ));
            }
            if let Some(b) = f.used {
                p.push(TypedParam::new(
                    format!("fs.{i}.used-bytes"),
                    TypedValue::ULLong(b),
                ));
            }
            p.push(u(format!("fs.{i}.disk.count"), f.disks.len()));
            for (j, (serial, dev)) in f.disks.iter().enumerate() {
                if let Some(sr) = serial {
                    p.push(s(format!("fs.{i}.disk.{j}.serial"), sr));
                }
                if let Some(d) = dev {
                    p.push(s(format!("fs.{i}.disk.{j}.device"), d));
                }
            }
        }
    }
    if !disks.is_empty() {
        p.push(u("disk.count".into(), disks.len()));
        for (i, d) in disks.iter().enumerate() {
            let name = d
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::internal("'name' missing in reply of guest-get-disks"))?;
            let part = d.get("partition").and_then(Value::as_bool).ok_or_else(|| {
                Error::internal("'partition' missing in reply of guest-get-disks")
            })?;
            p.push(s(format!("disk.{i}.name"), name));
            p.push(TypedParam::new(
                format!("disk.{i}.partition"),
                TypedValue::Boolean(part),
            ));
            if let Some(deps) = d.get("dependencies").and_then(Value::as_array) {
                if !deps.is_empty() {
                    p.push(u(format!("disk.{i}.dependency.count"), deps.len()));
                }
                for (j, dep) in deps.iter().enumerate() {
                    p.push(s(
                        format!("disk.{i}.dependency.{j}.name"),
                        dep.as_str().unwrap_or_default(),
                    ));
                }
            }
            if let Some(serial) = d
                .get("address")
                .and_then(|a| a.get("serial"))
                .and_then(Value::as_str)
            {
                p.push(s(format!("disk.{i}.serial"), serial));
            }
            if let Some(alias) = d.get("alias").and_then(Value::as_str) {
                p.push(s(format!("disk.{i}.guest_alias"), alias));
            }
        }
    }
    if !ifaces.is_empty() {
        p.push(u("if.count".into(), ifaces.len()));
        for (i, f) in ifaces.iter().enumerate() {
            p.push(s(format!("if.{i}.name"), &f.name));
            if let Some(h) = &f.hwaddr {
                p.push(s(format!("if.{i}.hwaddr"), h));
            }
            p.push(u(format!("if.{i}.addr.count"), f.addrs.len()));
            for (j, a) in f.addrs.iter().enumerate() {
                let ty = if a.kind == 1 { "ipv6" } else { "ipv4" };
                p.push(s(format!("if.{i}.addr.{j}.type"), ty));
                p.push(s(format!("if.{i}.addr.{j}.addr"), &a.addr));
                p.push(TypedParam::new(
                    format!("if.{i}.addr.{j}.prefix"),
                    TypedValue::UInt(a.prefix),
                ));
            }
        }
    }
    Ok(p)
}

pub(super) fn fs_info(drv: &QemuDriver, dom: &Domain, flags: u32) -> Result<Vec<FsInfo>> {
    check_flags(flags, 0, "qemuDomainGetFSInfo")?;
    let r = call(drv, dom, "guest-get-fsinfo", Value::Null)?;
    if r.is_null() {
        return Err(Error::internal(
            "guest-get-fsinfo reply was missing return data",
        ));
    }
    Ok(parse_fsinfo(&r)?
        .into_iter()
        .map(|f| FsInfo {
            mountpoint: f.mountpoint,
            name: f.name,
            fstype: f.fstype,
            dev_aliases: Vec::new(),
        })
        .collect())
}

pub(super) fn set_user_password(
    drv: &QemuDriver,
    dom: &Domain,
    user: &str,
    password: &str,
    flags: u32,
) -> Result<()> {
    const ENCRYPTED: u32 = 1;
    check_flags(flags, ENCRYPTED, "qemuDomainSetUserPassword")?;
    call(
        drv,
        dom,
        "guest-set-user-password",
        json!({
            "crypted": flags & ENCRYPTED != 0,
            "username": user,
            "password": base64(password.as_bytes()),
        }),
    )?;
    Ok(())
}

/// Standard base64 with padding (g_base64_encode).
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The agent's reply as libvirt hands it out: parsed and written again by yajl without
/// whitespace, keys and numbers as the agent wrote them, strings escaped yajl's way.
fn compact_json(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let token = text.get(start..=i)?;
                let s: String = serde_json::from_str(token).ok()?;
                yajl_escape(&s, &mut out);
                i += 1;
            }
            b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                out.push(b[i] as char);
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\n\r{}[],:\"".contains(&b[i]) {
                    i += 1;
                }
                out.push_str(text.get(start..i)?);
            }
        }
    }
    Some(out)
}

/// yajl_string_encode without solidus escaping.
fn yajl_escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_order_and_numbers() {
        assert_eq!(
            compact_json("{\"return\": {}}\n").unwrap(),
            "{\"return\":{}}"
        );
        assert_eq!(
            compact_json("{\"return\": {\"z\": 1.50, \"a\": [true, null, \"x\\u00e9\\n/\"]}}")
                .unwrap(),
            "{\"return\":{\"z\":1.50,\"a\":[true,null,\"x\u{e9}\\n/\"]}}"
        );
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"p@ss word"), "cEBzcyB3b3Jk");
    }

    #[test]
    fn interfaces_merge_aliases() {
        let r = json!([
            {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [
                {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
            {"name": "lo:1", "ip-addresses": [
                {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}]},
            {"name": "eth0"}
        ]);
        let v = parse_interfaces(&r).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].addrs.len(), 2);
        assert_eq!(v[0].addrs[1].kind, 1);
        assert!(v[1].addrs.is_empty() && v[1].hwaddr.is_none());
        let e = parse_interfaces(&json!([{"ip-addresses": []}])).unwrap_err();
        assert_eq!(
            e.message,
            "internal error: qemu agent didn't provide 'name' field"
        );
    }

    #[test]
    fn fsinfo_is_reversed_into_mount_order() {
        let r = json!([
            {"name": "sda2", "mountpoint": "/boot", "type": "ext4", "disk": []},
            {"name": "sda1", "mountpoint": "/", "type": "ext4", "used-bytes": 1, "total-bytes": 2,
             "disk": [{"serial": "s", "dev": "/dev/sda1", "bus": 0}]}
        ]);
        let v = parse_fsinfo(&r).unwrap();
        assert_eq!(v[0].mountpoint, "/");
        assert_eq!(v[0].total, Some(2));
        assert_eq!(v[0].disks[0].1.as_deref(), Some("/dev/sda1"));
        assert_eq!(v[1].mountpoint, "/boot");
        assert!(v[1].used.is_none());
    }

    #[test]
    fn unsupported_commands_are_recognised() {
        let e = Error::internal(
            "unable to execute QEMU agent command 'guest-get-osinfo': The command guest-get-osinfo has not been found",
        );
        assert!(is_unsupported_command(&e));
        assert!(!is_unsupported_command(&Error::internal(
            "unable to execute QEMU agent command 'x': Guest agent command failed"
        )));
    }
}
