//! libvirt connection URIs: `driver[+transport]://[user@][host][:port]/path[?query]`.
//!
//! Parsed by hand rather than with a general URL crate: libvirt accepts forms a strict RFC 3986
//! parser rejects or rewrites (`test:///default`, bare `qemu:///system` with an empty authority,
//! `+` in the scheme, repeated query keys), and the transport split is libvirt-specific.

use crate::error::{Error, ErrorKind, Result};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// The driver part of the scheme: qemu, lxc, xen, test, ...
    pub driver: String,
    /// The transport after `+`: unix, ssh, tcp, tls, ext, libssh, libssh2.
    pub transport: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The path, with its leading `/` (`/system`, `/default`, `/abs/node.xml`).
    pub path: String,
    /// Query parameters in order, percent-decoded.
    pub params: Vec<(String, String)>,
    /// The text as given, for messages.
    pub original: String,
}

impl Uri {
    pub fn parse(text: &str) -> Result<Uri> {
        let bad = || {
            Error::raw(
                ErrorKind::InvalidArg,
                format!("invalid argument: Unable to parse URI {text}"),
            )
        };
        let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(bad());
        }
        let (driver, transport) = match scheme.split_once('+') {
            Some((d, t)) => (d.to_string(), Some(t.to_string())),
            None => (scheme.to_string(), None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.strip_prefix("//") {
            Some(after) => match after.find('/') {
                Some(i) => (&after[..i], after[i..].to_string()),
                None => (after, String::new()),
            },
            None => ("", rest.to_string()),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(percent_decode(u)), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(bad)?;
        let params = query
            .map(|q| {
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (percent_decode(k), percent_decode(v)),
                        None => (percent_decode(kv), String::new()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Uri {
            driver,
            transport,
            user,
            host,
            port,
            path,
            params,
            original: text.to_string(),
        })
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when the URI names a remote daemon rather than an embedded driver: a transport, or a
    /// host, makes it remote (libvirt's rule: `qemu://host/system` is remote over TLS).
    pub fn is_remote(&self) -> bool {
        self.transport.is_some() || self.host.as_deref().is_some_and(|h| !h.is_empty())
    }
}

fn split_host_port(hostport: &str) -> Option<(Option<String>, Option<u16>)> {
    if hostport.is_empty() {
        return Some((None, None));
    }
    // [v6addr]:port
    if let Some(rest) = hostport.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((Some(addr.to_string()), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((Some(h.to_string()), Some(p.parse().ok()?))),
        None => Some((Some(hostport.to_string()), None)),
    }
}

/// `%XX` escapes decoded (invalid ones kept as written); bytes that do not form UTF-8 become
/// U+FFFD. Works on bytes, so an escape next to a multi-byte character cannot split it.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escape_next_to_a_multibyte_character_is_kept_whole() {
        assert_eq!(percent_decode("a%41%é"), "aA%é");
        let u = Uri::parse("test:///default?x=%é").unwrap();
        assert_eq!(u.param("x"), Some("%é"));
    }

    #[test]
    fn local_uris() {
        let u = Uri::parse("qemu:///system").unwrap();
        assert_eq!(u.driver, "qemu");
        assert_eq!(u.transport, None);
        assert_eq!(u.host, None);
        assert_eq!(u.path, "/system");
        assert!(!u.is_remote());
        let t = Uri::parse("test:///default").unwrap();
        assert_eq!((t.driver.as_str(), t.path.as_str()), ("test", "/default"));
    }

    #[test]
    fn remote_uris() {
        let u =
            Uri::parse("qemu+ssh://root@host.example:2222/system?keyfile=/k&no_verify=1").unwrap();
        assert_eq!(u.transport.as_deref(), Some("ssh"));
        assert_eq!(u.user.as_deref(), Some("root"));
        assert_eq!(u.host.as_deref(), Some("host.example"));
        assert_eq!(u.port, Some(2222));
        assert_eq!(u.param("keyfile"), Some("/k"));
        assert!(u.is_remote());
        let v6 = Uri::parse("qemu+tcp://[::1]:16509/system").unwrap();
        assert_eq!(v6.host.as_deref(), Some("::1"));
        assert_eq!(v6.port, Some(16509));
    }

    #[test]
    fn embed_root_param_is_decoded() {
        let u = Uri::parse("qemu:///embed?root=/tmp/a%20b").unwrap();
        assert_eq!(u.param("root"), Some("/tmp/a b"));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(Uri::parse("no-colon-here").is_err());
        assert!(Uri::parse("qemu+ssh://host:notaport/system").is_err());
    }
}
