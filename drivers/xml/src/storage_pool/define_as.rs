//! What `virsh pool-define-as` / `pool-create-as` build from their options (virshBuildPoolXML),
//! before libvirt parses it as any other pool XML.

/// The options of `virsh pool-define-as` / `pool-create-as` (and `find-storage-pool-sources-as`
/// shares some), named as virsh names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolArgs {
    pub name: String,
    pub pool_type: String,
    pub source_host: Option<String>,
    pub source_path: Option<String>,
    pub source_dev: Option<String>,
    pub source_name: Option<String>,
    pub target: Option<String>,
    pub source_format: Option<String>,
    pub auth_type: Option<String>,
    pub auth_username: Option<String>,
    pub secret_usage: Option<String>,
    pub secret_uuid: Option<String>,
    pub adapter_name: Option<String>,
    pub adapter_wwnn: Option<String>,
    pub adapter_wwpn: Option<String>,
    pub adapter_parent: Option<String>,
    pub adapter_parent_wwnn: Option<String>,
    pub adapter_parent_wwpn: Option<String>,
    pub adapter_parent_fabric_wwn: Option<String>,
    pub source_protocol_ver: Option<String>,
    pub source_initiator: Option<String>,
}

/// virshBuildPoolXML: the XML `pool-define-as` / `pool-create-as` hand to libvirt (and print
/// with --print-xml). virsh inserts the values unescaped; so do we, to stay byte-identical.
/// Err carries virsh's message for mutually exclusive options.
pub fn pool_def_from_args(a: &PoolArgs) -> Result<String, String> {
    if a.secret_usage.is_some() && a.secret_uuid.is_some() {
        return Err("Options --secret-usage and --secret-uuid are mutually exclusive".to_string());
    }
    let mut o = String::new();
    let line = |o: &mut String, indent: usize, s: &str| {
        o.push_str(&"  ".repeat(indent));
        o.push_str(s);
        o.push('\n');
    };
    line(&mut o, 0, &format!("<pool type='{}'>", a.pool_type));
    line(&mut o, 1, &format!("<name>{}</name>", a.name));
    let fc = a.adapter_wwnn.is_some() && a.adapter_wwpn.is_some();
    if a.source_host.is_some()
        || a.source_path.is_some()
        || a.source_dev.is_some()
        || a.source_initiator.is_some()
        || a.source_format.is_some()
        || a.source_name.is_some()
        || fc
        || a.adapter_name.is_some()
    {
        line(&mut o, 1, "<source>");
        if let Some(h) = &a.source_host {
            line(&mut o, 2, &format!("<host name='{h}'/>"));
        }
        if let Some(p) = &a.source_path {
            line(&mut o, 2, &format!("<dir path='{p}'/>"));
        }
        if let Some(d) = &a.source_dev {
            line(&mut o, 2, &format!("<device path='{d}'/>"));
        }
        if let Some(i) = &a.source_initiator {
            line(&mut o, 2, "<initiator>");
            line(&mut o, 3, &format!("<iqn name='{i}'/>"));
            line(&mut o, 2, "</initiator>");
        }
        if let (Some(wwnn), Some(wwpn)) = (&a.adapter_wwnn, &a.adapter_wwpn) {
            let mut s = String::from("<adapter type='fc_host'");
            if let Some(p) = &a.adapter_parent {
                s.push_str(&format!(" parent='{p}'"));
            } else if let (Some(n), Some(p)) = (&a.adapter_parent_wwnn, &a.adapter_parent_wwpn) {
                s.push_str(&format!(" parent_wwnn='{n}' parent_wwpn='{p}'"));
            } else if let Some(f) = &a.adapter_parent_fabric_wwn {
                s.push_str(&format!(" parent_fabric_wwn='{f}'"));
            }
            s.push_str(&format!(" wwnn='{wwnn}' wwpn='{wwpn}'/>"));
            line(&mut o, 2, &s);
        } else if let Some(n) = &a.adapter_name {
            line(
                &mut o,
                2,
                &format!("<adapter type='scsi_host' name='{n}'/>"),
            );
        }
        if let (Some(t), Some(u)) = (&a.auth_type, &a.auth_username) {
            if a.secret_usage.is_some() || a.secret_uuid.is_some() {
                line(&mut o, 2, &format!("<auth type='{t}' username='{u}'>"));
                match (&a.secret_usage, &a.secret_uuid) {
                    (Some(s), _) => line(&mut o, 3, &format!("<secret usage='{s}'/>")),
                    (None, Some(s)) => line(&mut o, 3, &format!("<secret uuid='{s}'/>")),
                    _ => {}
                }
                line(&mut o, 2, "</auth>");
            }
        }
        if let Some(f) = &a.source_format {
            line(&mut o, 2, &format!("<format type='{f}'/>"));
        }
        if let Some(n) = &a.source_name {
            line(&mut o, 2, &format!("<name>{n}</name>"));
        }
        if let Some(v) = &a.source_protocol_ver {
            line(&mut o, 2, &format!("<protocol ver='{v}'/>"));
        }
        line(&mut o, 1, "</source>");
    }
    if let Some(t) = &a.target {
        line(&mut o, 1, "<target>");
        line(&mut o, 2, &format!("<path>{t}</path>"));
        line(&mut o, 1, "</target>");
    }
    line(&mut o, 0, "</pool>");
    Ok(o)
}
