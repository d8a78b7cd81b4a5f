//! Changes to a domain's devices and resources, live (QMP on the running guest) and in its
//! persistent definition, with virsh's `--live`/`--config`/`--current` semantics.
//!
//! - The impact flags are resolved as libvirt's virDomainObjUpdateModificationImpact: no flag
//!   means the running guest when it runs, else the persistent definition.
//! - A config change edits the persistent definition (reparsed, so defaults and addresses are
//!   filled in as at define) and is written through the store, after the live part succeeded.
//! - A live change goes through QMP, then edits `run/NAME.xml` under the domain's lock.
//! - The JSON of `blockdev-add`, `netdev_add` and `device_add` is the command-line generator's
//!   (`cmdline::devices::device_args` on a definition holding just the new device), renumbered,
//!   so ids are the ones a boot-time device gets (`virtio-disk1`, `net0`, `libvirt-N-format`).
//! - Unplugging waits (bounded) for the device to leave `/machine/peripheral`, as libvirt waits
//!   for DEVICE_DELETED, then removes the block nodes or the netdev.

mod device_xml;
mod devices;
mod disk;
mod generate;
mod media;
mod net;
mod qemu_ids;
mod resources;

use std::time::Duration;

use virtsh_api::flags::device_modify;
use virtsh_api::{Error, ErrorKind};

pub(super) use devices::{attach_device, detach_device, detach_device_alias};
pub(super) use media::update_device;
pub(super) use resources::{set_memory, set_vcpus};

const POLL: Duration = Duration::from_millis(100);

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;

fn device_missing(detail: impl AsRef<str>) -> Error {
    Error::raw(
        ErrorKind::OperationFailed,
        format!("device not found: {}", detail.as_ref()),
    )
}
