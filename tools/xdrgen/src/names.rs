//! libvirt's C names to Rust's: `remote_nonnull_domain` → `RemoteNonnullDomain`,
//! `virNetMessageUUID` → `VirNetMessageUuid`, `nrVirtCpu` → `nr_virt_cpu`.

/// Splits a C identifier into words at `_` and at case changes, keeping acronyms together
/// (`callbackID` → callback, ID; `virNetMessageUUID` → vir, Net, Message, UUID).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(char::is_ascii_lowercase))
                });
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// `UpperCamelCase`.
pub fn camel(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut cs = lower.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// `snake_case`, as a usable field name: keywords become raw identifiers (`r#type`).
pub fn snake(name: &str) -> String {
    let s = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else if matches!(s.as_str(), "self" | "super" | "crate") {
        format!("{s}_")
    } else {
        s
    }
}

/// The names of `values` without the words they all start with (leaving at least one word
/// each), in CamelCase: `VIR_NET_CALL`, `VIR_NET_REPLY` → `Call`, `Reply`. `keep_prefix` is
/// a prefix to strip when there is only one name (a one-value procedure enum).
pub fn variant_names(values: &[&str], single_prefix: Option<&str>) -> Vec<String> {
    let split: Vec<Vec<String>> = values
        .iter()
        .map(|v| v.split('_').map(str::to_string).collect())
        .collect();
    let mut common = 0;
    if split.len() > 1 {
        let min = split.iter().map(Vec::len).min().unwrap_or(0);
        while common + 1 < min && split.iter().all(|w| w[common] == split[0][common]) {
            common += 1;
        }
    }
    values
        .iter()
        .zip(&split)
        .map(|(full, w)| {
            let rest = match single_prefix {
                Some(p) if split.len() == 1 => full.strip_prefix(p).unwrap_or(full).to_string(),
                _ => w[common..].join("_"),
            };
            let name = camel(&rest);
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                format!("V{name}")
            } else {
                name
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(camel("remote_nonnull_domain"), "RemoteNonnullDomain");
        assert_eq!(camel("virNetMessageUUID"), "VirNetMessageUuid");
        assert_eq!(camel("virNetMessageHeader"), "VirNetMessageHeader");
        assert_eq!(snake("nrVirtCpu"), "nr_virt_cpu");
        assert_eq!(snake("callbackID"), "callback_id");
        assert_eq!(snake("usageID"), "usage_id");
        assert_eq!(snake("hv_ver"), "hv_ver");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("cpumap"), "cpumap");
        assert_eq!(
            variant_names(&["VIR_NET_CALL", "VIR_NET_CALL_WITH_FDS"], None),
            ["Call", "CallWithFds"]
        );
        assert_eq!(
            variant_names(&["LXC_PROC_DOMAIN_OPEN_NAMESPACE"], Some("LXC_PROC_")),
            ["DomainOpenNamespace"]
        );
    }
}
