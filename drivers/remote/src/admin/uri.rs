//! Admin URIs as libvirt-admin reads them (`virURI`, kept as written so `uri` prints them
//! back), and the socket a URI names (libvirt-admin's getSocketPath).

use std::path::{Path, PathBuf};

use virtsh_api::uri::percent_decode;

use super::{AdminError, Result};

/// `RUNSTATEDIR/libvirt`: where system daemons put their admin sockets (Debian: /run).
pub const SYSTEM_SOCKET_DIR: &str = "/run/libvirt";

/// An admin URI as libvirt keeps it (`virURI`): every part as written, so that
/// [`AdminUri::format`] gives back what virt-admin's `uri` prints. Unlike a hypervisor URI the
/// scheme is not split at `+`: it names a daemon (`libvirtd`, `virtqemud`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminUri {
    pub scheme: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    pub port: Option<u32>,
    /// Percent-decoded.
    pub path: Option<String>,
    /// As written (`query_raw`).
    pub query: Option<String>,
    pub fragment: Option<String>,
    /// The query's `name=value` pairs, percent-decoded, in order (virURIParseParams).
    pub params: Vec<(String, String)>,
}

/// Characters RFC 3986 allows in a URI besides `%`-escapes; libxml2's parser refuses others.
fn uri_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=".contains(c)
}

impl AdminUri {
    /// Parses `text` as libvirt's virURIParse does (through libxml2): a URI without a scheme
    /// is accepted here and refused later, by [`socket_path`], with libvirt's message.
    pub fn parse(text: &str) -> Result<AdminUri> {
        let bad = || AdminError::BadUri(text.to_string());
        let escapes_ok = text.match_indices('%').all(|(i, _)| {
            text.get(i + 1..i + 3)
                .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if !escapes_ok || !text.chars().all(|c| c == '%' || uri_char_ok(c)) {
            return Err(bad());
        }
        let mut uri = AdminUri::default();
        let mut rest = text;
        // A scheme: a letter, then letters, digits, '+', '-', '.', then ':'.
        if let Some(i) = rest.find(':') {
            let scheme = &rest[..i];
            let mut chars = scheme.chars();
            if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                uri.scheme = Some(scheme.to_string());
                rest = &rest[i + 1..];
            }
        }
        if let Some(i) = rest.find('#') {
            uri.fragment = Some(percent_decode(&rest[i + 1..]));
            rest = &rest[..i];
        }
        if let Some(i) = rest.find('?') {
            uri.query = Some(rest[i + 1..].to_string());
            rest = &rest[..i];
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            rest = &after[end..];
            let hostport = match authority.rsplit_once('@') {
                Some((user, h)) => {
                    uri.user = Some(percent_decode(user));
                    h
                }
                None => authority,
            };
            let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
                let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
                (addr, after.strip_prefix(':'))
            } else {
                match hostport.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hostport, None),
                }
            };
            if !host.is_empty() {
                uri.server = Some(percent_decode(host));
            }
            if let Some(p) = port.filter(|p| !p.is_empty()) {
                let n: u32 = p.parse().map_err(|_| bad())?;
                if n > i32::MAX as u32 {
                    return Err(bad());
                }
                // virURIParse ignores a port without a server.
                if uri.server.is_some() {
                    uri.port = Some(n);
                }
            }
        }
        if !rest.is_empty() {
            uri.path = Some(percent_decode(rest));
        }
        uri.params = parse_params(uri.query.as_deref().unwrap_or(""));
        Ok(uri)
    }

    /// The URI as virURIFormat writes it back (`virAdmConnectGetURI`): with `//` even when
    /// there is no server, so `libvirtd:///system` stays itself.
    pub fn format(&self) -> String {
        let mut s = String::new();
        if let Some(scheme) = &self.scheme {
            s.push_str(scheme);
            s.push(':');
        }
        // virURIFormat sets port -1 when there is neither server nor port, which makes
        // xmlSaveUri write the authority's "//" in every case (`bad` comes back as `//bad`).
        s.push_str("//");
        if let Some(user) = &self.user {
            s.push_str(&escape(user, "-._~!$&'()*+,;=:"));
            s.push('@');
        }
        if let Some(server) = &self.server {
            if server.contains(':') {
                s.push_str(&format!("[{server}]"));
            } else {
                s.push_str(&escape(server, "-._~!$&'()*+,;="));
            }
            if let Some(port) = self.port {
                s.push_str(&format!(":{port}"));
            }
        }
        if let Some(path) = &self.path {
            s.push_str(&escape(path, "-._~!$&'()*+,;=:@/"));
        }
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        if let Some(f) = &self.fragment {
            s.push('#');
            s.push_str(&escape(f, "-._~!$&'()*+,;=:@/?"));
        }
        s
    }
}

/// Percent-encodes what is neither alphanumeric nor in `keep`.
fn escape(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// virURIParseParams: `&`-separated (`;` when a section has no `&`), `name` alone means an
/// empty value, `=value` without a name is dropped.
fn parse_params(query: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = query;
    while !rest.is_empty() {
        let end = rest
            .find('&')
            .or_else(|| rest.find(';'))
            .unwrap_or(rest.len());
        let section = &rest[..end];
        match section.find('=') {
            _ if section.is_empty() => {}
            Some(0) => {}
            Some(eq) => params.push((
                percent_decode(&section[..eq]),
                percent_decode(&section[eq + 1..]),
            )),
            None => params.push((percent_decode(section), String::new())),
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    params
}

/// `g_get_user_runtime_dir()/libvirt`: `$XDG_RUNTIME_DIR`, else the user's cache directory.
pub fn user_runtime_dir() -> PathBuf {
    let env_dir = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env_dir("XDG_RUNTIME_DIR")
        .or_else(|| env_dir("XDG_CACHE_HOME"))
        .or_else(|| env_dir("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("libvirt")
}

/// libvirt-admin's getSocketPath: the `socket=` parameter (any other parameter is refused);
/// else `libvirt-admin-sock` for the `libvirtd` scheme, `SCHEME-admin-sock` for a `virt*`
/// daemon, in [`SYSTEM_SOCKET_DIR`] for `/system` or `session_dir` for `/session`.
pub fn socket_path(uri: &AdminUri, session_dir: &Path) -> Result<PathBuf> {
    let mut socket = None;
    for (name, value) in &uri.params {
        if name == "socket" {
            socket = Some(PathBuf::from(value));
        } else {
            return Err(AdminError::ConfigUnsupported(format!(
                "Unknown URI parameter '{name}'"
            )));
        }
    }
    if let Some(s) = socket {
        return Ok(s);
    }
    let scheme = uri
        .scheme
        .as_deref()
        .ok_or_else(|| AdminError::ConfigUnsupported("No URI scheme specified".into()))?;
    let base = if scheme == "libvirtd" {
        "libvirt-admin-sock".to_string()
    } else if scheme.starts_with("virt") {
        format!("{scheme}-admin-sock")
    } else {
        return Err(AdminError::ConfigUnsupported(format!(
            "Unsupported URI scheme '{scheme}'"
        )));
    };
    match uri.path.as_deref() {
        Some("/system") => Ok(Path::new(SYSTEM_SOCKET_DIR).join(base)),
        Some("/session") => Ok(session_dir.join(base)),
        other => Err(AdminError::ConfigUnsupported(format!(
            "Invalid URI path '{}', try '/system'",
            other.unwrap_or("")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_format_back_as_libvirt_formats_them() {
        let s = "socket=/tmp/a";
        for (given, printed) in [
            ("libvirtd:///system", "libvirtd:///system"),
            ("libvirtd:/system", "libvirtd:///system"),
            (&format!("bad?{s}") as &str, &format!("//bad?{s}") as &str),
            ("libvirtd://host:22/system", "libvirtd://host:22/system"),
            (
                "libvirtd://u@host/x%20y?a#frag",
                "libvirtd://u@host/x%20y?a#frag",
            ),
            ("libvirtd:///sys%7etem", "libvirtd:///sys~tem"),
            ("libvirtd://[::1]:5/system", "libvirtd://[::1]:5/system"),
            ("x:?q", "x://?q"),
            (
                "libvirtd:///system?socket=%2Ftmp&",
                "libvirtd:///system?socket=%2Ftmp&",
            ),
        ] {
            assert_eq!(AdminUri::parse(given).unwrap().format(), printed, "{given}");
        }
        for bad in ["libvirtd:///sys tem", "libvirtd://h:abc/system", "a:%zz"] {
            assert_eq!(
                AdminUri::parse(bad).unwrap_err().to_string(),
                format!("internal error: Unable to parse URI {bad}")
            );
        }
    }

    #[test]
    fn params_split_as_vir_uri_parse_params_does() {
        let u = AdminUri::parse("libvirtd:///system?=y&socket=%2Fs;x&flag&&").unwrap();
        assert_eq!(
            u.params,
            [
                ("socket".to_string(), "/s;x".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
        let u = AdminUri::parse("libvirtd:///system?socket=/s;x").unwrap();
        assert_eq!(
            u.params,
            [
                ("socket".to_string(), "/s".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }

    fn sock(uri: &str) -> std::result::Result<String, String> {
        let u = AdminUri::parse(uri).map_err(|e| e.to_string())?;
        socket_path(&u, Path::new("/home/u/.cache/libvirt"))
            .map(|p| p.display().to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sockets_as_libvirt_admin_picks_them() {
        assert_eq!(
            sock("libvirtd:///system").unwrap(),
            "/run/libvirt/libvirt-admin-sock"
        );
        assert_eq!(
            sock("virtqemud:///system").unwrap(),
            "/run/libvirt/virtqemud-admin-sock"
        );
        assert_eq!(
            sock("libvirtd:///session").unwrap(),
            "/home/u/.cache/libvirt/libvirt-admin-sock"
        );
        assert_eq!(
            sock("virtproxyd:///session").unwrap(),
            "/home/u/.cache/libvirt/virtproxyd-admin-sock"
        );
        // socket= wins over everything, even a missing scheme.
        assert_eq!(sock("bad?socket=/x/s").unwrap(), "/x/s");
        assert_eq!(sock("qemu:///nope?socket=/x/s").unwrap(), "/x/s");
        let unsupported = |m: &str| Err(format!("unsupported configuration: {m}"));
        assert_eq!(sock("bad"), unsupported("No URI scheme specified"));
        assert_eq!(sock(""), unsupported("No URI scheme specified"));
        assert_eq!(
            sock("qemu:///system"),
            unsupported("Unsupported URI scheme 'qemu'")
        );
        assert_eq!(
            sock("libvirtd:///foo"),
            unsupported("Invalid URI path '/foo', try '/system'")
        );
        assert_eq!(
            sock("libvirtd://"),
            unsupported("Invalid URI path '', try '/system'")
        );
        assert_eq!(
            sock("libvirtd:///system?socket=/s&foo=bar"),
            unsupported("Unknown URI parameter 'foo'")
        );
    }
}
