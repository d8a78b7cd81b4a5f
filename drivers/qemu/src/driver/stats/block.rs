//! Disks: `domblkinfo`, `domblkstat` and `domblkerror`, from QEMU's block backends or the files.

use std::io;

use serde_json::{json, Value};
use virtsh_api::{
    BlockInfo, BlockStats, DiskError, Domain, Error, ErrorKind, Result, TypedParam, TypedValue,
};
use virtsh_xml::domain::disk_name_to_index;
use virtsh_xml::domain::{Disk, DomainDef};

use super::{check_flags, not_running, TYPED_PARAM_STRING_OKAY};
use crate::driver::{DomainView, QemuDriver};

/// virDomainDiskByName: a disk by target name or by source path.
fn disk_index(def: &DomainDef, name: &str) -> Option<usize> {
    let disks = &def.devices.disks;
    disks
        .iter()
        .position(|d| d.target_dev == name)
        .or_else(|| disks.iter().position(|d| d.source.as_deref() == Some(name)))
}

fn is_q35(def: &DomainDef) -> bool {
    def.os
        .machine
        .as_deref()
        .is_some_and(|m| m.starts_with("pc-q35") || m == "q35")
}

/// The `-device` id the command line generator gives a disk (cmdline/devices.rs).
fn disk_device_id(def: &DomainDef, disk: &Disk) -> Option<String> {
    let index = disk_name_to_index(&disk.target_dev)?;
    Some(match disk.bus() {
        "virtio" => format!("virtio-disk{index}"),
        "scsi" => format!("scsi0-0-0-{index}"),
        bus @ ("ide" | "sata") => {
            let (b, u) = if is_q35(def) {
                (index, 0)
            } else {
                (index / 2, index % 2)
            };
            let prefix = if bus == "sata" { "sata0" } else { "ide0" };
            format!("{prefix}-{b}-{u}")
        }
        _ => return None,
    })
}

fn qdev_matches(qdev: &str, id: &str) -> bool {
    qdev == id
        || qdev
            .strip_prefix("/machine/peripheral/")
            .is_some_and(|rest| rest == id || rest.starts_with(&format!("{id}/")))
}

/// What QEMU says about one block backend: query-block joined with query-blockstats.
#[derive(Debug, Default, Clone)]
pub(super) struct BlockEntry {
    qdev: String,
    node: Option<String>,
    file: Option<String>,
    /// image virtual-size
    pub(super) capacity: Option<u64>,
    /// image actual-size (host allocation)
    pub(super) actual: Option<u64>,
    io_status: Option<String>,
    /// BlockDeviceStats of the frontend.
    pub(super) stats: Option<Value>,
    /// wr_highest_offset of the protocol node below the format node.
    pub(super) wr_highest_offset: Option<u64>,
}

impl BlockEntry {
    pub(super) fn stat(&self, field: &str) -> Option<u64> {
        self.stats.as_ref()?.get(field)?.as_u64()
    }
}

pub(super) fn block_entries(
    drv: &QemuDriver,
    dom: &Domain,
    with_stats: bool,
) -> Result<Vec<BlockEntry>> {
    let blocks = drv.qmp(dom, "query-block", json!({}))?;
    let mut out: Vec<BlockEntry> = blocks
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| {
                    let inserted = b.get("inserted");
                    let image = inserted.and_then(|i| i.get("image"));
                    BlockEntry {
                        qdev: b
                            .get("qdev")
                            .and_then(Value::as_str)
                            .or_else(|| b.get("device").and_then(Value::as_str))
                            .unwrap_or("")
                            .to_string(),
                        node: inserted
                            .and_then(|i| i.get("node-name"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        file: inserted
                            .and_then(|i| i.get("file"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        capacity: image
                            .and_then(|i| i.get("virtual-size"))
                            .and_then(Value::as_u64),
                        actual: image
                            .and_then(|i| i.get("actual-size"))
                            .and_then(Value::as_u64),
                        io_status: b
                            .get("io-status")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        stats: None,
                        wr_highest_offset: None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !with_stats {
        return Ok(out);
    }
    let stats = drv.qmp(dom, "query-blockstats", json!({}))?;
    for s in stats.as_array().into_iter().flatten() {
        let qdev = s.get("qdev").and_then(Value::as_str).unwrap_or("");
        let node = s.get("node-name").and_then(Value::as_str);
        let entry = out.iter_mut().find(|e| {
            (!qdev.is_empty() && e.qdev == qdev) || (node.is_some() && e.node.as_deref() == node)
        });
        let Some(e) = entry else { continue };
        e.stats = s.get("stats").cloned();
        e.wr_highest_offset = s
            .get("parent")
            .and_then(|p| p.get("stats"))
            .and_then(|p| p.get("wr_highest_offset"))
            .and_then(Value::as_u64)
            .or_else(|| e.stat("wr_highest_offset"));
    }
    Ok(out)
}

/// The entry of disk `i` of `def`: by the device id the command line gave it, else by its
/// source file.
pub(super) fn entry_for<'a>(
    def: &DomainDef,
    i: usize,
    entries: &'a [BlockEntry],
) -> Option<&'a BlockEntry> {
    let disk = def.devices.disks.get(i)?;
    if let Some(id) = disk_device_id(def, disk) {
        if let Some(e) = entries.iter().find(|e| qdev_matches(&e.qdev, &id)) {
            return Some(e);
        }
    }
    let src = disk.source.as_deref()?;
    entries.iter().find(|e| e.file.as_deref() == Some(src))
}

/// libvirt's numbering of a disk's nodes (`libvirt-N-format`): N, its backingIndex.
pub(super) fn node_index(e: &BlockEntry) -> Option<u32> {
    e.node
        .as_deref()?
        .strip_prefix("libvirt-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Sizes of a disk's source on the host (qemuStorageLimitsRefresh): (capacity, allocation,
/// physical).
pub(super) fn storage_limits(disk: &Disk) -> io::Result<(u64, u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let path = disk
        .source
        .as_deref()
        .ok_or_else(|| io::Error::other("no source"))?;
    let mut f = std::fs::File::open(path)?;
    let md = f.metadata()?;
    let (allocation, physical) = if md.file_type().is_file() {
        (md.blocks() * 512, md.len())
    } else {
        let end = f.seek(SeekFrom::End(0))?;
        f.seek(SeekFrom::Start(0))?;
        (end, end)
    };
    let mut capacity = physical;
    if disk.driver_type.as_deref() == Some("qcow2") {
        let mut hdr = [0u8; 32];
        if f.read_exact(&mut hdr).is_ok() && &hdr[..4] == b"QFI\xfb" {
            capacity = u64::from_be_bytes(hdr[24..32].try_into().unwrap_or([0; 8]));
        }
    }
    Ok((capacity, allocation, physical))
}

/// The host size of a disk's source (qemuDomainStorageUpdatePhysical).
pub(super) fn physical_size(disk: &Disk) -> Option<u64> {
    storage_limits(disk).ok().map(|(_, _, p)| p)
}

fn storage_error(disk: &Disk, e: io::Error) -> Error {
    Error::raw(
        ErrorKind::SystemError,
        format!(
            "cannot stat file '{}': {}",
            disk.source.as_deref().unwrap_or(""),
            errno_text(&e)
        ),
    )
}

use virtsh_api::strerror as errno_text;

/// qemuDomainGetBlockInfo (`domblkinfo`): from QEMU while the guest runs, from the file
/// otherwise.
pub(in crate::driver) fn block_info(
    drv: &QemuDriver,
    dom: &Domain,
    disk_name: &str,
) -> Result<BlockInfo> {
    let v = drv.view_of(dom)?;
    let Some(i) = disk_index(&v.def, disk_name) else {
        return Err(Error::invalid_arg(format!(
            "invalid path {disk_name} not assigned to domain"
        )));
    };
    let disk = &v.def.devices.disks[i];
    if disk.source.as_deref().unwrap_or("").is_empty() {
        return Err(Error::invalid_arg(format!(
            "disk '{disk_name}' does not currently have a source assigned"
        )));
    }
    if !v.is_active() {
        let (capacity, allocation, physical) =
            storage_limits(disk).map_err(|e| storage_error(disk, e))?;
        return Ok(BlockInfo {
            capacity,
            allocation,
            physical,
        });
    }
    let entries = block_entries(drv, dom, true)?;
    let Some(e) = entry_for(&v.def, i, &entries) else {
        return Err(Error::internal(format!(
            "failed to gather stats for disk '{}'",
            disk.target_dev
        )));
    };
    let physical_q = e.actual.or(e.capacity).unwrap_or(0);
    let mut allocation = match e.wr_highest_offset {
        Some(w) if disk.driver_type.as_deref() != Some("qcow2") || disk.disk_type != "file" => w,
        _ => physical_q,
    };
    let physical = if physical_q == 0 || allocation == 0 || allocation == physical_q {
        if allocation == 0 {
            allocation = physical_q;
        }
        physical_size(disk).unwrap_or(physical_q)
    } else {
        physical_q
    };
    Ok(BlockInfo {
        capacity: e.capacity.unwrap_or(0),
        allocation,
        physical,
    })
}

/// The disk `path` names for the block counters: its entry, or the error libvirt gives.
fn stats_entries<'a>(
    v: &DomainView,
    path: &str,
    entries: &'a [BlockEntry],
) -> Result<Vec<&'a BlockEntry>> {
    if path.is_empty() {
        return Ok((0..v.def.devices.disks.len())
            .filter_map(|i| entry_for(&v.def, i, entries))
            .collect());
    }
    let Some(i) = disk_index(&v.def, path) else {
        return Err(Error::invalid_arg(format!("invalid path: {path}")));
    };
    match entry_for(&v.def, i, entries) {
        Some(e) => Ok(vec![e]),
        None => Err(Error::internal(format!(
            "cannot find statistics for device '{}'",
            v.def.devices.disks[i].target_dev
        ))),
    }
}

/// The counters of `path` ("" sums every disk): rd_req, rd_bytes, wr_req, wr_bytes, fl_req,
/// rd_times, wr_times, fl_times.
fn block_counters(drv: &QemuDriver, dom: &Domain, path: &str) -> Result<[u64; 8]> {
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let entries = block_entries(drv, dom, true)?;
    let mut sum = [0u64; 8];
    for e in stats_entries(&v, path, &entries)? {
        let fields = [
            "rd_operations",
            "rd_bytes",
            "wr_operations",
            "wr_bytes",
            "flush_operations",
            "rd_total_time_ns",
            "wr_total_time_ns",
            "flush_total_time_ns",
        ];
        for (s, f) in sum.iter_mut().zip(fields) {
            *s += e.stat(f).unwrap_or(0);
        }
    }
    Ok(sum)
}

/// qemuDomainBlockStats (`domblkstat` against an old server): QEMU has no error count.
pub(in crate::driver) fn block_stats(
    drv: &QemuDriver,
    dom: &Domain,
    disk: &str,
) -> Result<BlockStats> {
    let c = block_counters(drv, dom, disk)?;
    Ok(BlockStats {
        rd_req: c[0] as i64,
        rd_bytes: c[1] as i64,
        wr_req: c[2] as i64,
        wr_bytes: c[3] as i64,
        errs: -1,
    })
}

/// qemuDomainBlockStatsFlags (`domblkstat`): libvirt's fields in libvirt's order.
pub(in crate::driver) fn block_stats_flags(
    drv: &QemuDriver,
    dom: &Domain,
    disk: &str,
    flags: u32,
) -> Result<Vec<TypedParam>> {
    check_flags(flags, TYPED_PARAM_STRING_OKAY, "qemuDomainBlockStatsFlags")?;
    let c = block_counters(drv, dom, disk)?;
    let p = |f: &str, n: u64| TypedParam::new(f, TypedValue::LLong(n as i64));
    Ok(vec![
        p("wr_bytes", c[3]),
        p("wr_operations", c[2]),
        p("rd_bytes", c[1]),
        p("rd_operations", c[0]),
        p("flush_operations", c[4]),
        p("wr_total_times", c[6]),
        p("rd_total_times", c[5]),
        p("flush_total_times", c[7]),
    ])
}

/// qemuDomainGetDiskErrors (`domblkerror`): disks whose I/O status is not ok.
pub(in crate::driver) fn disk_errors(
    drv: &QemuDriver,
    dom: &Domain,
    flags: u32,
) -> Result<Vec<DiskError>> {
    check_flags(flags, 0, "qemuDomainGetDiskErrors")?;
    let v = drv.view_of(dom)?;
    if !v.is_active() {
        return Err(not_running());
    }
    let entries = block_entries(drv, dom, false)?;
    let mut out = Vec::new();
    for (i, disk) in v.def.devices.disks.iter().enumerate() {
        let Some(e) = entry_for(&v.def, i, &entries) else {
            continue;
        };
        let error = match e.io_status.as_deref() {
            None | Some("ok") => continue,
            Some("nospace") => 2,
            Some(_) => 1,
        };
        out.push(DiskError {
            disk: disk.target_dev.clone(),
            error,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qdev_paths_and_ids() {
        assert!(qdev_matches(
            "/machine/peripheral/virtio-disk0/virtio-backend",
            "virtio-disk0"
        ));
        assert!(qdev_matches("ide0-0-1", "ide0-0-1"));
        assert!(!qdev_matches(
            "/machine/peripheral/virtio-disk10/virtio-backend",
            "virtio-disk1"
        ));
    }
}
