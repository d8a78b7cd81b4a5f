//! The one place that knows the concrete drivers: `open(uri)` picks one by the URI.
//! Commands only ever see `dyn Connection`.

use virtsh_api::{Connection, Error, ErrorKind, Uri};

/// The URI used when neither `-c` nor the environment names one: the embedded QEMU driver,
/// system instance for root and session instance otherwise (libvirt's own rule).
pub fn default_uri() -> String {
    if is_root() {
        "qemu:///system".into()
    } else {
        "qemu:///session".into()
    }
}

pub fn is_root() -> bool {
    // /proc/self/status is always readable for our own process: no libc call needed.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Resolve the URI to use: `-c`, then VIRSH_DEFAULT_CONNECT_URI, then LIBVIRT_DEFAULT_URI, then
/// `uri_default` of libvirt.conf, then the embedded default; an alias from libvirt.conf's
/// `uri_aliases` stands for its URI.
pub fn resolve_uri(explicit: Option<&str>) -> String {
    let conf = crate::libvirt_conf::LibvirtConf::load();
    let name = explicit
        .map(str::to_string)
        .or_else(|| non_empty_env("VIRSH_DEFAULT_CONNECT_URI"))
        .or_else(|| non_empty_env("LIBVIRT_DEFAULT_URI"))
        .or_else(|| conf.uri_default.clone())
        .unwrap_or_else(default_uri);
    match conf.resolve_alias(&name) {
        Some(uri) => uri.to_string(),
        None => name,
    }
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

pub fn open(uri_text: &str, readonly: bool) -> Result<Box<dyn Connection>, Error> {
    let uri = Uri::parse(uri_text)?;
    if uri.is_remote() {
        return Ok(Box::new(virtsh_remote::driver::open(&uri, readonly)?));
    }
    match uri.driver.as_str() {
        "test" => Ok(Box::new(virtsh_test::open(&uri)?)),
        "qemu" => Ok(Box::new(virtsh_qemu::open(&uri)?)),
        "lxc" => Ok(Box::new(virtsh_lxc::open(&uri)?)),
        "xen" | "libxl" => Err(Error::new(
            ErrorKind::NoConnect,
            format!(
                "{uri_text} (the embedded {} driver is not built yet)",
                uri.driver
            ),
        )),
        _ => Err(Error::new(ErrorKind::NoConnect, uri_text)),
    }
}
