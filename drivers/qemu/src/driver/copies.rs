//! The two copies of a domain's definition, live (`run/NAME.xml`) and persistent (the store),
//! as the calls that change a domain choose and write them: libvirt's impact flags
//! (`--live`/`--config`/`--current`), and edits made under the domain's lock.

use virtsh_api::flags::device_modify;
use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::{live_parse_options, parse_options, state_error, DomainView, QemuDriver};

const LIVE: u32 = device_modify::LIVE;
const CONFIG: u32 = device_modify::CONFIG;

/// libvirt's virCheckFlags.
pub(crate) use virtsh_api::flags::check as check_flags;

/// virDomainObjUpdateModificationImpact: which copies a call changes (live, config).
pub(crate) fn impact(v: &DomainView, flags: u32) -> Result<(bool, bool)> {
    let mut live = flags & LIVE != 0;
    let mut config = flags & CONFIG != 0;
    if !live && !config {
        if v.is_active() {
            live = true;
        } else {
            config = true;
        }
    }
    if live && !v.is_active() {
        return Err(Error::invalid_op("domain is not running"));
    }
    if config && !v.persistent {
        return Err(Error::invalid_op(
            "transient domains do not have any persistent config",
        ));
    }
    Ok((live, config))
}

pub(crate) fn persistent(drv: &QemuDriver, name: &str) -> Result<DomainDef> {
    drv.persistent_def(name)?
        .ok_or_else(|| Error::invalid_op("transient domains do not have any persistent config"))
}

/// Write the persistent definition, reparsed so defaults (addresses, controllers) are filled
/// in exactly as `define` would.
pub(crate) fn save_config(drv: &QemuDriver, def: &DomainDef) -> Result<()> {
    let opts = FormatOptions {
        inactive: true,
        secure: true,
        ..FormatOptions::default()
    };
    let text = def.to_xml(&opts);
    let again = DomainDef::parse_with(&text, &parse_options())
        .map_err(|e| e.api_error("domain_definition", &text))?;
    drv.reg
        .store
        .write(&def.name, &again.to_xml(&opts))
        .map_err(state_error)
}

/// Edit the live definition (`run/NAME.xml`) as it is on disk now. The caller holds the
/// domain's lock.
pub(crate) fn edit_live(
    drv: &QemuDriver,
    name: &str,
    edit: impl FnOnce(&mut DomainDef) -> Result<()>,
) -> Result<()> {
    let path = drv.runtime(name).live_xml_path();
    let xml = std::fs::read_to_string(&path).map_err(|e| {
        Error::new(
            ErrorKind::OperationFailed,
            format!("{}: {e}", path.display()),
        )
    })?;
    let mut def = DomainDef::parse_with(&xml, &live_parse_options()).map_err(|e| {
        Error::internal(format!(
            "corrupt definition {}: {}",
            path.display(),
            e.libvirt_message("domain_definition", &xml)
        ))
    })?;
    edit(&mut def)?;
    let text = def.to_xml(&FormatOptions {
        secure: true,
        ..FormatOptions::default()
    });
    crate::state::atomic::write(&path, text.as_bytes()).map_err(state_error)
}
