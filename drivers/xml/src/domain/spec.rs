//! The layout table: for each element that the model keeps generically, the attributes and
//! children libvirt 9.0 prints, in the order it prints them (its format functions in
//! `domain_conf.c`, `cpu_conf.c`, `numa_conf.c`, ... checked against `virsh dumpxml`).
//!
//! One line per element: `key | attributes | children | flags`. The key is the element's path
//! from the top-level element the model hands over (`memtune/hard_limit`, `disk/iotune`).
//! `*` keeps every attribute (or child) as written. Flags: `text` keeps the element's text,
//! `open` prints an empty element as an open and a close tag (a libvirt quirk).
//! Children listed without their own line are kept as written.

use std::collections::HashMap;
use std::sync::OnceLock;

pub struct Layout {
    pub attrs: Vec<&'static str>,
    pub children: Vec<&'static str>,
    pub text: bool,
    pub open_close: bool,
}

const TABLE: &str = r#"
memoryBacking | | hugepages nosharepages locked source access allocation discard |
memoryBacking/hugepages | | page |
memoryBacking/hugepages/page | size unit nodeset | |
memoryBacking/nosharepages | | |
memoryBacking/locked | | |
memoryBacking/source | type | |
memoryBacking/access | mode | |
memoryBacking/allocation | mode threads | |
memoryBacking/discard | | |
iothreadids | | iothread |
iothreadids/iothread | id thread_pool_min thread_pool_max | poll |
iothreadids/iothread/poll | max grow shrink | |
cputune | | shares period quota global_period global_quota emulator_period emulator_quota iothread_period iothread_quota vcpupin emulatorpin iothreadpin emulatorsched vcpusched iothreadsched cachetune memorytune |
cputune/shares | | | text
cputune/period | | | text
cputune/quota | | | text
cputune/global_period | | | text
cputune/global_quota | | | text
cputune/emulator_period | | | text
cputune/emulator_quota | | | text
cputune/iothread_period | | | text
cputune/iothread_quota | | | text
cputune/vcpupin | vcpu cpuset | |
cputune/emulatorpin | cpuset | |
cputune/iothreadpin | iothread cpuset | |
cputune/emulatorsched | scheduler priority | |
cputune/vcpusched | vcpus scheduler priority | |
cputune/iothreadsched | iothreads scheduler priority | |
numatune | | memory memnode |
numatune/memory | mode placement nodeset | |
numatune/memnode | cellid mode nodeset | |
resource | | partition fibrechannel |
resource/partition | | | text
resource/fibrechannel | appid | |
perf | | event |
perf/event | name enabled | |
pm | | suspend-to-mem suspend-to-disk |
pm/suspend-to-mem | enabled | |
pm/suspend-to-disk | enabled | |
keywrap | | cipher |
keywrap/cipher | name state | |
seclabel | type model relabel | label imagelabel baselabel |
seclabel/label | | | text
seclabel/imagelabel | | | text
seclabel/baselabel | | | text
cpu | mode match check migratable | model vendor topology cache maxphysaddr feature numa |
cpu/model | fallback vendor_id | | text
cpu/vendor | | | text
cpu/topology | sockets dies cores threads | |
cpu/cache | level mode | |
cpu/maxphysaddr | mode bits limit | |
cpu/feature | policy name | |
cpu/numa | | cell interconnects |
cpu/numa/cell | id cpus memory unit discard memAccess | distances cache |
clock | offset adjustment basis timezone | timer |
clock/timer | name present tickpolicy track frequency mode | catchup |
clock/timer/catchup | threshold slew limit | |
features/apic | eoi | |
features/hap | state | |
features/pmu | state | |
features/vmport | state | |
features/smm | state | tseg |
features/smm/tseg | unit | | text
features/pvspinlock | state | |
features/vmcoreinfo | state | |
features/htm | state | |
features/nested-hv | state | |
features/ccf-assist | state | |
features/async-teardown | enabled | |
features/gic | version | |
features/ioapic | driver | |
features/hpt | resizing | maxpagesize |
features/msrs | unknown | |
features/cfpc | value | |
features/sbbc | value | |
features/ibs | value | |
features/capabilities | policy | * |
features/kvm | | hidden hint-dedicated poll-control pv-ipi dirty-ring |
features/kvm/hidden | state | |
features/kvm/hint-dedicated | state | |
features/kvm/poll-control | state | |
features/kvm/pv-ipi | state | |
features/kvm/dirty-ring | state size | |
features/xen | | e820_host passthrough |
features/xen/e820_host | state | |
features/xen/passthrough | state mode | |
features/tcg | | tb-cache |
features/hyperv | mode | relaxed vapic spinlocks vpindex runtime synic stimer reset vendor_id frequencies reenlightenment tlbflush ipi evmcs avic | open
features/hyperv/relaxed | state | |
features/hyperv/vapic | state | |
features/hyperv/spinlocks | state retries | |
features/hyperv/vpindex | state | |
features/hyperv/runtime | state | |
features/hyperv/synic | state | |
features/hyperv/stimer | state | direct |
features/hyperv/stimer/direct | state | |
features/hyperv/reset | state | |
features/hyperv/vendor_id | state value | |
features/hyperv/frequencies | state | |
features/hyperv/reenlightenment | state | |
features/hyperv/tlbflush | state | |
features/hyperv/ipi | state | |
features/hyperv/evmcs | state | |
features/hyperv/avic | state | |
controller | type index model ports vectors maxGrantFrames maxEventChannels | model target driver alias master address |
controller/model | name | |
controller/target | chassisNr chassis port busNr hotplug index | node |
controller/driver | queues cmd_per_lun max_sectors ioeventfd iothread iommu ats packed page_per_vq | |
input | type bus model | source driver alias address |
input/source | evdev grab repeat grabToggle dev | |
sound | model multichannel streams | codec audio alias address |
sound/codec | type | |
sound/audio | id | |
audio | id type | * |
video | | driver model alias address |
video/model | type ram vram vram64 vgamem heads primary | acceleration resolution |
video/model/acceleration | accel3d accel2d rendernode | |
video/model/resolution | x y | |
hostdev | mode type managed model display ramfb | driver source readonly shareable boot alias rom address |
hostdev/driver | name | |
hostdev/source | startupPolicy guestReset writeFiltering | vendor product address adapter host |
hostdev/source/vendor | id | |
hostdev/source/product | id | |
hostdev/source/address | domain bus slot function device uuid target unit | |
watchdog | model action | alias address |
memballoon | model autodeflate freePageReporting | stats alias address driver |
memballoon/stats | period | |
rng | model | driver rate backend alias address |
rng/rate | bytes period | |
rng/backend | model type | source protocol | text
tpm | model | backend alias address |
tpm/backend | type version persistent_state | device encryption active_pcr_banks source profile |
tpm/backend/device | path | |
panic | model | alias address |
filesystem | type accessmode model multidevs fmode dmode | driver binary source target readonly space_hard_limit space_soft_limit alias address |
filesystem/driver | type format wrpolicy queue | |
filesystem/source | dir file dev name usage units socket | |
filesystem/target | dir | |
redirdev | bus type | source protocol boot alias address | open
redirdev/source | mode host service path | |
redirdev/protocol | type | |
smartcard | mode type | certificate database source protocol alias address |
smartcard/certificate | | | text
smartcard/database | | | text
hub | type | alias address |
disk/driver | name type cache error_policy rerror_policy io ioeventfd event_idx copy_on_read discard iothread detect_zeroes queues queue_size iommu ats packed page_per_vq | metadata_cache iothreads |
disk/auth | username | secret |
disk/auth/secret | type usage uuid | |
disk/geometry | cyls heads secs trans | |
disk/blockio | logical_block_size physical_block_size | |
disk/iotune | | total_bytes_sec read_bytes_sec write_bytes_sec total_iops_sec read_iops_sec write_iops_sec total_bytes_sec_max read_bytes_sec_max write_bytes_sec_max total_iops_sec_max read_iops_sec_max write_iops_sec_max size_iops_sec group_name total_bytes_sec_max_length read_bytes_sec_max_length write_bytes_sec_max_length total_iops_sec_max_length read_iops_sec_max_length write_iops_sec_max_length |
disk/encryption | format | secret |
interface/vlan | trunk | tag |
interface/vlan/tag | id nativeMode | |
interface/bandwidth | | inbound outbound |
interface/bandwidth/inbound | average peak burst floor | |
interface/bandwidth/outbound | average peak burst | |
interface/filterref | filter | parameter |
interface/filterref/parameter | name value | |
interface/rom | bar file enabled | |
interface/link | state | |
interface/mtu | size | |
interface/coalesce | | rx |
interface/tune | | sndbuf |
interface/tune/sndbuf | | | text
interface/guest | dev actual | |
interface/ip | address family prefix peer | |
interface/route | family address netmask prefix gateway metric | |
interface/script | path | |
interface/downscript | path | |
interface/backenddomain | name | |
interface/backend | type tap vhost logFile | |
interface/teaming | type persistent | |
interface/acpi | index | |
"#;

fn table() -> &'static HashMap<&'static str, Layout> {
    static TABLE_MAP: OnceLock<HashMap<&'static str, Layout>> = OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for line in TABLE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut parts = line.split('|').map(str::trim);
            let key = parts.next().unwrap_or_default();
            let words = |s: Option<&'static str>| -> Vec<&'static str> {
                s.map(|s| s.split_whitespace().collect())
                    .unwrap_or_default()
            };
            let attrs = words(parts.next());
            let children = words(parts.next());
            let flags = words(parts.next());
            map.insert(
                key,
                Layout {
                    attrs,
                    children,
                    text: flags.contains(&"text"),
                    open_close: flags.contains(&"open"),
                },
            );
        }
        map
    })
}

pub fn layout(key: &str) -> Option<&'static Layout> {
    table().get(key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_line_has_four_fields() {
        for line in super::TABLE
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            assert_eq!(line.split('|').count(), 4, "{line}");
        }
    }
}
