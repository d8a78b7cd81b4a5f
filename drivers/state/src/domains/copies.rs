//! The two copies of a domain's definition, live (`run/NAME.xml`) and persistent (the store),
//! as the calls that change a domain choose and write them: libvirt's impact flags
//! (`--live`/`--config`/`--current`), and edits made under the domain's lock.

use virtsh_api::flags::device_modify::{CONFIG, LIVE};
use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use super::{state_error, DomainRegistry, DomainView};

/// virDomainObjUpdateModificationImpact: which copies a call changes (live, config).
pub fn impact(v: &DomainView, flags: u32) -> Result<(bool, bool)> {
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

impl DomainRegistry {
    /// The persistent definition of `name`, which a call with the config impact changes.
    pub fn persistent(&self, name: &str) -> Result<DomainDef> {
        self.persistent_def(name)?
            .ok_or_else(|| Error::invalid_op("transient domains do not have any persistent config"))
    }

    /// Write the persistent definition, reparsed so defaults (addresses, controllers) are
    /// filled in exactly as `define` would.
    pub fn save_config(&self, def: &DomainDef) -> Result<()> {
        let opts = FormatOptions {
            inactive: true,
            secure: true,
            ..FormatOptions::default()
        };
        let text = def.to_xml(&opts);
        let again = DomainDef::parse_with(&text, &self.options)
            .map_err(|e| e.api_error("domain_definition", &text))?;
        self.store
            .write(&def.name, &again.to_xml(&opts))
            .map_err(state_error)
    }

    /// Edit the live definition (`run/NAME.xml`) as it is on disk now. The caller holds the
    /// domain's lock.
    pub fn edit_live(
        &self,
        name: &str,
        edit: impl FnOnce(&mut DomainDef) -> Result<()>,
    ) -> Result<()> {
        let path = self.runtime(name).live_xml_path();
        let xml = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                ErrorKind::OperationFailed,
                format!("{}: {e}", path.display()),
            )
        })?;
        let mut def = DomainDef::parse_with(&xml, &self.live_options).map_err(|e| {
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
        crate::atomic::write(&path, text.as_bytes()).map_err(state_error)
    }
}
