//! `<blkiotune>` and `<memtune>` as values: what `blkiotune` and `memtune` read and change.
//!
//! `<blkiotune>` is a typed field of [`DomainDef`](super::DomainDef) because libvirt keeps
//! devices whose values are all zero in its list (they keep their place when set again) but
//! never prints them, which a generic node cannot express. `<memtune>` stays a canonical
//! [`Node`]; [`MemTune`] reads and writes it.
//!
//! The helpers that turn virsh's "path,value,..." strings into devices and back are those of
//! libvirt's `hypervisor/domain_driver.c` and `virDomainGetBlkioParametersAssignFromDef`, shared
//! here so every driver answers alike.

use super::err;
use super::node::Node;
use crate::dom::Element;
use crate::error::XmlError;
use crate::units::{c_strtoull, str_to_ui, str_to_ui_p};
use crate::writer::XmlWriter;
use virtsh_api::flags::MEMORY_PARAM_UNLIMITED;
use virtsh_api::typed_params::{first_ullong, validate, Kind};
use virtsh_api::{Error, ErrorKind, TypedParam, TypedValue};

/// The typed-parameter names of virDomainSetBlkioParameters.
pub mod blkio_param {
    pub const WEIGHT: &str = "weight";
    pub const DEVICE_WEIGHT: &str = "device_weight";
    pub const DEVICE_READ_IOPS: &str = "device_read_iops_sec";
    pub const DEVICE_WRITE_IOPS: &str = "device_write_iops_sec";
    pub const DEVICE_READ_BPS: &str = "device_read_bytes_sec";
    pub const DEVICE_WRITE_BPS: &str = "device_write_bytes_sec";
    /// The per-device lists, in the order the drivers report them.
    pub const DEVICE_LISTS: [&str; 5] = [
        DEVICE_WEIGHT,
        DEVICE_READ_IOPS,
        DEVICE_WRITE_IOPS,
        DEVICE_READ_BPS,
        DEVICE_WRITE_BPS,
    ];
}

/// One `<device>` of `<blkiotune>` (libvirt's virBlkioDevice); zero means "not set".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlkioDevice {
    pub path: String,
    pub weight: u32,
    pub read_iops: u32,
    pub write_iops: u32,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

impl BlkioDevice {
    fn is_unset(&self) -> bool {
        self.weight == 0
            && self.read_iops == 0
            && self.write_iops == 0
            && self.read_bytes == 0
            && self.write_bytes == 0
    }

    /// The value one per-device list (a `blkio_param::DEVICE_*` name) holds for this device.
    pub fn get(&self, list: &str) -> u64 {
        match list {
            blkio_param::DEVICE_WEIGHT => u64::from(self.weight),
            blkio_param::DEVICE_READ_IOPS => u64::from(self.read_iops),
            blkio_param::DEVICE_WRITE_IOPS => u64::from(self.write_iops),
            blkio_param::DEVICE_READ_BPS => self.read_bytes,
            _ => self.write_bytes,
        }
    }

    /// Copy the value of `list` from `src` (virDomainDriverMergeBlkioDevice).
    fn take(&mut self, src: &BlkioDevice, list: &str) {
        match list {
            blkio_param::DEVICE_WEIGHT => self.weight = src.weight,
            blkio_param::DEVICE_READ_IOPS => self.read_iops = src.read_iops,
            blkio_param::DEVICE_WRITE_IOPS => self.write_iops = src.write_iops,
            blkio_param::DEVICE_READ_BPS => self.read_bytes = src.read_bytes,
            _ => self.write_bytes = src.write_bytes,
        }
    }
}

/// `<blkiotune>`: the I/O weight and the per-device limits (libvirt's virBlkioDef).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlkioTune {
    pub weight: u32,
    pub devices: Vec<BlkioDevice>,
}

/// virStrToLong_ull: "-1" wraps to the maximum, as strtoull does.
fn str_to_ull(s: &str) -> Option<u64> {
    let n = c_strtoull(s, 10);
    if n.end == 0 || n.end != s.len() || n.overflow {
        return None;
    }
    Some(if n.negative {
        n.magnitude.wrapping_neg()
    } else {
        n.magnitude
    })
}

impl BlkioTune {
    /// Parse `<blkiotune>` as libvirt 9.0 does: a weight that does not read as an unsigned
    /// number is ignored, per-device values that do not are errors, a path is required and
    /// may appear once.
    pub fn parse(el: &Element, text: &str) -> Result<BlkioTune, XmlError> {
        let weight = el
            .child("weight")
            .and_then(|w| str_to_ui_p(&w.text, 10))
            .unwrap_or(0);
        let mut devices: Vec<BlkioDevice> = Vec::new();
        for d in el.children_named("device") {
            let dev = parse_device(d).map_err(|e| e.at(text, d.offset))?;
            if devices.iter().any(|o| o.path == dev.path) {
                return Err(err::unsupported(format!(
                    "duplicate blkio device path '{}'",
                    dev.path
                ))
                .at(text, d.offset));
            }
            devices.push(dev);
        }
        Ok(BlkioTune { weight, devices })
    }

    /// Nothing would be printed.
    pub fn is_empty(&self) -> bool {
        self.weight == 0 && self.devices.iter().all(BlkioDevice::is_unset)
    }

    /// virDomainDefFormatBlkiotune: unset values and devices are left out, and so is an empty
    /// element.
    pub fn write(&self, w: &mut XmlWriter) {
        if self.is_empty() {
            return;
        }
        w.start("blkiotune", &[]);
        if self.weight != 0 {
            w.text("weight", &[], &self.weight.to_string());
        }
        for d in self.devices.iter().filter(|d| !d.is_unset()) {
            w.start("device", &[]);
            w.text("path", &[], &d.path);
            let values = [
                ("weight", u64::from(d.weight)),
                ("read_iops_sec", u64::from(d.read_iops)),
                ("write_iops_sec", u64::from(d.write_iops)),
                ("read_bytes_sec", d.read_bytes),
                ("write_bytes_sec", d.write_bytes),
            ];
            for (name, v) in values {
                if v != 0 {
                    w.text(name, &[], &v.to_string());
                }
            }
            w.end("device");
        }
        w.end("blkiotune");
    }

    /// virDomainGetBlkioParametersAssignFromDef: one per-device list as "path,value,...",
    /// naming only the devices that have a value there.
    pub fn device_list(&self, list: &str) -> String {
        self.devices
            .iter()
            .filter(|d| d.get(list) != 0)
            .map(|d| format!("{},{}", d.path, d.get(list)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// virDomainDriverParseBlkioDeviceStr then virDomainDriverMergeBlkioDevice: apply one
    /// per-device list. Known devices take the new value (zero included); new devices are
    /// added unless the value is zero.
    pub fn merge_device_list(&mut self, list: &str, value: &str) -> Result<(), Error> {
        for src in parse_device_list(list, value)? {
            match self.devices.iter_mut().find(|d| d.path == src.path) {
                Some(d) => d.take(&src, list),
                None if src.is_unset() => {}
                None => self.devices.push(src),
            }
        }
        Ok(())
    }
}

fn parse_device(d: &Element) -> Result<BlkioDevice, XmlError> {
    // string(./path): an empty path is no path.
    let path = match d.child("path") {
        Some(p) if !p.text.is_empty() => p.text.clone(),
        _ => return Err(err::unsupported("missing per-device path")),
    };
    let mut dev = BlkioDevice {
        path,
        ..Default::default()
    };
    // The first element of each name counts; an empty one is absent.
    let text = |name: &str| {
        d.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    };
    let bad = |what: &str, t: &str| err::unsupported(format!("could not parse {what} {t}"));
    if let Some(t) = text("weight") {
        dev.weight = str_to_ui(t, 10).ok_or_else(|| bad("weight", t))?;
    }
    if let Some(t) = text("read_iops_sec") {
        dev.read_iops = str_to_ui(t, 10).ok_or_else(|| bad("read iops sec", t))?;
    }
    if let Some(t) = text("write_iops_sec") {
        dev.write_iops = str_to_ui(t, 10).ok_or_else(|| bad("write iops sec", t))?;
    }
    if let Some(t) = text("read_bytes_sec") {
        dev.read_bytes = str_to_ull(t).ok_or_else(|| bad("read bytes sec", t))?;
    }
    if let Some(t) = text("write_bytes_sec") {
        dev.write_bytes = str_to_ull(t).ok_or_else(|| bad("write bytes sec", t))?;
    }
    Ok(dev)
}

/// virDomainDriverParseBlkioDeviceStr: "path,value,path,value" for one per-device list.
pub fn parse_device_list(list: &str, s: &str) -> Result<Vec<BlkioDevice>, Error> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let invalid = |m: String| Error::new(ErrorKind::InvalidArg, m);
    let parse_error = || invalid(format!("unable to parse blkio device '{list}' '{s}'"));
    // A valid string has an even number of fields, hence an odd number of commas.
    if s.matches(',').count().is_multiple_of(2) {
        return Err(parse_error());
    }
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let (path, value) = rest.split_once(',').ok_or_else(parse_error)?;
        // virStrToLong_uip / _ullp with an end pointer: digits (after blanks) up to the next
        // comma or the end; no sign.
        let n = c_strtoull(value, 10);
        let number_error = || {
            invalid(format!(
                "invalid value '{value}' for parameter '{list}' of device '{path}'"
            ))
        };
        let wide = matches!(
            list,
            blkio_param::DEVICE_READ_BPS | blkio_param::DEVICE_WRITE_BPS
        );
        if n.end == 0 || n.negative || n.overflow || (!wide && n.magnitude > u64::from(u32::MAX)) {
            return Err(number_error());
        }
        let mut dev = BlkioDevice {
            path: path.to_string(),
            ..Default::default()
        };
        let v = n.magnitude;
        match list {
            blkio_param::DEVICE_WEIGHT => dev.weight = v as u32,
            blkio_param::DEVICE_READ_IOPS => dev.read_iops = v as u32,
            blkio_param::DEVICE_WRITE_IOPS => dev.write_iops = v as u32,
            blkio_param::DEVICE_READ_BPS => dev.read_bytes = v,
            blkio_param::DEVICE_WRITE_BPS => dev.write_bytes = v,
            _ => return Err(invalid(format!("unknown parameter '{list}'"))),
        }
        out.push(dev);
        let after = &value[n.end..];
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(',').ok_or_else(parse_error)?;
    }
    Ok(out)
}

/// `<memtune>` as numbers in KiB (libvirt's virDomainMemtune): a limit that is not set is
/// [`MEMORY_PARAM_UNLIMITED`], a guarantee that is not set is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemTune {
    pub hard_limit: u64,
    pub soft_limit: u64,
    pub swap_hard_limit: u64,
    pub min_guarantee: u64,
}

impl Default for MemTune {
    fn default() -> Self {
        MemTune {
            hard_limit: MEMORY_PARAM_UNLIMITED,
            soft_limit: MEMORY_PARAM_UNLIMITED,
            swap_hard_limit: MEMORY_PARAM_UNLIMITED,
            min_guarantee: 0,
        }
    }
}

impl MemTune {
    /// Read the canonical node the parser made (every value in KiB).
    pub fn from_node(node: Option<&Node>) -> MemTune {
        let mut m = MemTune::default();
        let Some(node) = node else { return m };
        let kib = |name: &str| {
            node.child(name)
                .and_then(|c| c.text.as_deref())
                .and_then(|t| t.parse::<u64>().ok())
        };
        if let Some(v) = kib("hard_limit") {
            m.hard_limit = v;
        }
        if let Some(v) = kib("soft_limit") {
            m.soft_limit = v;
        }
        if let Some(v) = kib("swap_hard_limit") {
            m.swap_hard_limit = v;
        }
        if let Some(v) = kib("min_guarantee") {
            m.min_guarantee = v;
        }
        m
    }

    /// The canonical node (virDomainMemtuneFormat): limits below "unlimited" and a non-zero
    /// guarantee, in libvirt's order; None when nothing is set.
    pub fn to_node(&self) -> Option<Node> {
        let mut n = Node::new("memtune");
        let values = [
            ("hard_limit", self.hard_limit, limit_is_set(self.hard_limit)),
            ("soft_limit", self.soft_limit, limit_is_set(self.soft_limit)),
            ("min_guarantee", self.min_guarantee, self.min_guarantee != 0),
            (
                "swap_hard_limit",
                self.swap_hard_limit,
                limit_is_set(self.swap_hard_limit),
            ),
        ];
        for (name, v, set) in values {
            if set {
                let mut c = Node::with_attrs(name, &[("unit", "KiB")]);
                c.text = Some(v.to_string());
                n.children.push(c);
            }
        }
        (!n.children.is_empty()).then_some(n)
    }
}

/// The limits one virDomainSetMemoryParameters call sets (KiB; None leaves a limit alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemTuneChange {
    pub hard_limit: Option<u64>,
    pub soft_limit: Option<u64>,
    pub swap_hard_limit: Option<u64>,
}

impl MemTuneChange {
    /// virDomainCgroupSetMemoryLimitParameters' check: with the change made, the hard limit of
    /// `current` may not exceed its swap hard limit.
    pub fn check_against(&self, current: &MemTune) -> Result<(), Error> {
        if self.hard_limit.is_none() && self.swap_hard_limit.is_none() {
            return Ok(());
        }
        let hard = self.hard_limit.unwrap_or(current.hard_limit);
        let swap = self.swap_hard_limit.unwrap_or(current.swap_hard_limit);
        if hard > swap {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                "memory hard_limit tunable value must be lower than or equal to swap_hard_limit",
            ));
        }
        Ok(())
    }

    pub fn apply_to(&self, m: &mut MemTune) {
        if let Some(v) = self.hard_limit {
            m.hard_limit = v;
        }
        if let Some(v) = self.soft_limit {
            m.soft_limit = v;
        }
        if let Some(v) = self.swap_hard_limit {
            m.swap_hard_limit = v;
        }
    }
}

/// The typed-parameter names of virDomainSetMemoryParameters that the drivers take.
pub mod memory_param {
    pub const HARD_LIMIT: &str = "hard_limit";
    pub const SOFT_LIMIT: &str = "soft_limit";
    pub const SWAP_HARD_LIMIT: &str = "swap_hard_limit";
}

impl MemTune {
    /// The three limits as the drivers' virDomainGetMemoryParameters reports them.
    pub fn to_params(&self) -> Vec<TypedParam> {
        vec![
            TypedParam::new(
                memory_param::HARD_LIMIT,
                TypedValue::ULLong(self.hard_limit),
            ),
            TypedParam::new(
                memory_param::SOFT_LIMIT,
                TypedValue::ULLong(self.soft_limit),
            ),
            TypedParam::new(
                memory_param::SWAP_HARD_LIMIT,
                TypedValue::ULLong(self.swap_hard_limit),
            ),
        ]
    }
}

impl MemTuneChange {
    /// The parameters of a virDomainSetMemoryParameters call, checked as libvirt's drivers
    /// check them (virTypedParamsValidate of the three limits, all ullong).
    pub fn from_params(params: &[TypedParam]) -> Result<MemTuneChange, Error> {
        use memory_param::*;
        validate(
            params,
            &[
                (HARD_LIMIT, Kind::ULLong),
                (SOFT_LIMIT, Kind::ULLong),
                (SWAP_HARD_LIMIT, Kind::ULLong),
            ],
        )?;
        Ok(MemTuneChange {
            hard_limit: first_ullong(params, HARD_LIMIT),
            soft_limit: first_ullong(params, SOFT_LIMIT),
            swap_hard_limit: first_ullong(params, SWAP_HARD_LIMIT),
        })
    }
}

impl BlkioTune {
    /// virDomainSetBlkioParameters' check: the weight (uint) and the per-device lists
    /// (strings).
    pub fn validate_params(params: &[TypedParam]) -> Result<(), Error> {
        let mut allowed = vec![(blkio_param::WEIGHT, Kind::UInt)];
        allowed.extend(blkio_param::DEVICE_LISTS.iter().map(|l| (*l, Kind::String)));
        validate(params, &allowed)
    }

    /// virDomainGetBlkioParameters: `weight`, then each per-device list of this definition.
    pub fn to_params(&self, weight: u32) -> Vec<TypedParam> {
        let mut out = vec![TypedParam::new(
            blkio_param::WEIGHT,
            TypedValue::UInt(weight),
        )];
        for list in blkio_param::DEVICE_LISTS {
            out.push(TypedParam::new(
                list,
                TypedValue::String(self.device_list(list)),
            ));
        }
        out
    }

    /// One parameter of a virDomainSetBlkioParameters call applied to a definition
    /// (virDomainDriverSetupPersistentDefBlkioParams for one parameter).
    pub fn apply_param(&mut self, p: &TypedParam) -> Result<(), Error> {
        match &p.value {
            TypedValue::UInt(w) if p.field == blkio_param::WEIGHT => {
                self.weight = *w;
                Ok(())
            }
            TypedValue::String(s) => self.merge_device_list(&p.field, s),
            _ => Ok(()),
        }
    }
}

/// virMemoryLimitIsSet
pub fn limit_is_set(kib: u64) -> bool {
    kib < MEMORY_PARAM_UNLIMITED
}

#[cfg(test)]
mod tests {
    use super::*;
    use blkio_param::*;

    #[test]
    fn device_lists_parse_and_merge_like_libvirt() {
        let mut b = BlkioTune::default();
        b.merge_device_list(DEVICE_WEIGHT, "/a,1,/a,2,/b,0")
            .unwrap();
        assert_eq!(b.devices.len(), 1);
        assert_eq!(b.device_list(DEVICE_WEIGHT), "/a,2");
        b.merge_device_list(DEVICE_READ_BPS, "/b,99999999999999")
            .unwrap();
        assert_eq!(b.device_list(DEVICE_READ_BPS), "/b,99999999999999");
        // A known device set to zero stays in the list but is no longer printed.
        b.merge_device_list(DEVICE_WEIGHT, "/a,0").unwrap();
        assert_eq!(b.devices.len(), 2);
        let mut w = XmlWriter::new();
        b.write(&mut w);
        assert!(!w.finish().contains("/a"));
    }

    #[test]
    fn device_list_errors_are_libvirts() {
        let mut b = BlkioTune::default();
        let e = b.merge_device_list(DEVICE_WEIGHT, "/dev/sda").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: unable to parse blkio device 'device_weight' '/dev/sda'"
        );
        let e = b.merge_device_list(DEVICE_WEIGHT, "/a,x,/b,1").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: invalid value 'x,/b,1' for parameter 'device_weight' of device '/a'"
        );
        let e = b.merge_device_list(DEVICE_WEIGHT, "/a,5x").unwrap_err();
        assert!(e.message.ends_with("'device_weight' '/a,5x'"));
        let e = b
            .merge_device_list(DEVICE_WRITE_IOPS, "/a,4294967296")
            .unwrap_err();
        assert!(e.message.contains("invalid value '4294967296'"));
    }

    #[test]
    fn memtune_round_trips_through_the_node() {
        let m = MemTune {
            hard_limit: 5,
            min_guarantee: 0,
            ..Default::default()
        };
        let n = m.to_node().unwrap();
        assert_eq!(n.children.len(), 1);
        assert_eq!(MemTune::from_node(Some(&n)), m);
        assert!(MemTune::default().to_node().is_none());
    }
}
