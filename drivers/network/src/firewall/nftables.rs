//! The nftables backend, as libvirt's `network_nftables.c`: all rules in virtsh's own table
//! (`ip virtsh_network` for IPv4, `ip6 virtsh_network` for IPv6), never in the `filter`/`nat`
//! tables iptables-nft manages, so `iptables` users see nothing unexpected.
//!
//! The table has a base chain `forward` (filter, hook forward) that jumps to `guest_cross`,
//! `guest_input` and `guest_output`, in that order, and a base chain `guest_nat` (nat, hook
//! postrouting). Each rule is inserted with `nft -ae`, which echoes it with its handle; the
//! record deletes exactly that handle. No host INPUT/OUTPUT rules: the table's chains accept by
//! default and nobody else adds rejects to them, so there is nothing to override.

use super::exec::{run, run_script};
use super::rules::{Family, Plan, Rule};
use super::{AddResult, CommandFailure};

pub(crate) const TABLE: &str = "virtsh_network";
const FORWARD: &str = "forward";
const GUEST_OUT: &str = "guest_output";
const GUEST_IN: &str = "guest_input";
const GUEST_CROSS: &str = "guest_cross";
const GUEST_NAT: &str = "guest_nat";
const CHAINS: [&str; 5] = [FORWARD, GUEST_OUT, GUEST_IN, GUEST_CROSS, GUEST_NAT];
/// The chains `forward` jumps to, in the order libvirt inserts the jumps (each at the head, so
/// guest-to-guest traffic is accepted before the bridge's rejects are reached).
const JUMPED: [&str; 3] = [GUEST_OUT, GUEST_IN, GUEST_CROSS];
const COMMENT: &str = "Managed by virtsh for virtual networks";

fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

/// Interface names as nft string literals, so names nft would parse as keywords stay names.
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// Add the plan's rules; on failure, the removal commands of the rules already added.
///
/// The rules go to nft as one script (`nft -ae -f -`): one process and one transaction, so
/// either every rule is in or none is, and nft echoes each rule with its handle, in order.
pub(crate) fn add(plan: &Plan) -> AddResult {
    let mut ready = [false; 2];
    let mut added: Vec<(&'static str, &'static str)> = Vec::new();
    let mut script = String::new();
    for rule in &plan.rules {
        let Some((chain, spec)) = render(plan, rule) else {
            continue;
        };
        let family = rule.family();
        if !ready[family.index()] {
            setup(family).map_err(|f| (Vec::new(), f))?;
            ready[family.index()] = true;
        }
        let fam = family_name(family);
        script.push_str(&format!(
            "insert rule {fam} {TABLE} {chain} {}\n",
            spec.join(" ")
        ));
        added.push((fam, chain));
    }
    if added.is_empty() {
        return Ok(Vec::new());
    }
    let argv = s(&["nft", "-ae", "-f", "-"]);
    let out = run_script(&argv, &script).map_err(|f| (Vec::new(), f))?;
    let handles = parse_handles(&out);
    if handles.len() != added.len() {
        // Rules are in, but which handle is whose is unknown: nothing can be recorded.
        return Err((
            Vec::new(),
            CommandFailure {
                command: crate::program::display(&argv),
                message: format!(
                    "{} rule handles in its output for {} rules: '{}'",
                    handles.len(),
                    added.len(),
                    out.trim()
                ),
            },
        ));
    }
    // Removal runs newest first, undoing the additions in reverse.
    Ok(added
        .iter()
        .zip(handles)
        .rev()
        .map(|((fam, chain), handle)| {
            s(&[
                "nft",
                "delete",
                "rule",
                fam,
                TABLE,
                chain,
                "handle",
                &handle.to_string(),
            ])
        })
        .collect())
}

/// Run nft removal commands as one script (one process, one transaction). nft applies a
/// script all or nothing, so when one of them fails (a rule deleted by hand), each is run on
/// its own to remove the rest; the failures are returned.
pub(crate) fn remove(commands: &[&Vec<String>]) -> Vec<CommandFailure> {
    let script: String = commands
        .iter()
        .map(|argv| format!("{}\n", argv[1..].join(" ")))
        .collect();
    if commands.is_empty() || run_script(&s(&["nft", "-f", "-"]), &script).is_ok() {
        return Vec::new();
    }
    commands.iter().filter_map(|argv| run(argv).err()).collect()
}

/// The chain and the rule (after the chain name) for `rule`; `None` for the host rules, which
/// this backend does not use.
pub(crate) fn render(plan: &Plan, rule: &Rule) -> Option<(&'static str, Vec<String>)> {
    let fam = family_name(rule.family());
    let br = quoted(&plan.bridge);
    let phys = plan.physdev.as_deref().map(quoted);
    let mut a: Vec<String> = Vec::new();
    let chain = match rule {
        Rule::HostInput { .. } | Rule::HostOutput { .. } => return None,
        Rule::AllowOut { net, .. } => {
            a.extend(s(&[fam, "saddr", net, "iif", &br]));
            if let Some(p) = &phys {
                a.extend(s(&["oifname", p]));
            }
            a.extend(s(&["counter", "accept"]));
            GUEST_OUT
        }
        Rule::AllowRelatedIn { net, .. } => {
            if let Some(p) = &phys {
                a.extend(s(&["iifname", p]));
            }
            a.extend(s(&["oif", &br, fam, "daddr", net]));
            a.extend(s(&[
                "ct",
                "state",
                "related,established",
                "counter",
                "accept",
            ]));
            GUEST_IN
        }
        Rule::AllowIn { net, .. } => {
            a.extend(s(&[fam, "daddr", net]));
            if let Some(p) = &phys {
                a.extend(s(&["iifname", p]));
            }
            a.extend(s(&["oif", &br, "counter", "accept"]));
            GUEST_IN
        }
        Rule::AllowCross { .. } => {
            a.extend(s(&["iif", &br, "oif", &br, "counter", "accept"]));
            GUEST_CROSS
        }
        Rule::RejectOut { .. } => {
            a.extend(s(&["iif", &br, "counter", "reject"]));
            GUEST_OUT
        }
        Rule::RejectIn { .. } => {
            a.extend(s(&["oif", &br, "counter", "reject"]));
            GUEST_IN
        }
        Rule::Masquerade {
            net,
            proto,
            snat,
            ports,
            ..
        } => {
            if let Some(p) = proto {
                a.extend(s(&["meta", "l4proto", p.as_str()]));
            }
            a.extend(s(&[fam, "saddr", net, fam, "daddr", "!=", net]));
            if let Some(p) = &phys {
                a.extend(s(&["oifname", p]));
            }
            // A port range needs a transport protocol, so only the tcp/udp rules have one.
            let port_range = proto.map(|_| format!(":{}-{}", ports.0, ports.1));
            match snat {
                Some(addr) => {
                    let to = format!("{addr}{}", port_range.unwrap_or_default());
                    a.extend(s(&["counter", "snat", "to", &to]));
                }
                None => {
                    a.extend(s(&["counter", "masquerade"]));
                    if let Some(r) = port_range {
                        a.extend(s(&["to", &r]));
                    }
                }
            }
            GUEST_NAT
        }
        Rule::DontMasquerade { net, dest, .. } => {
            if let Some(p) = &phys {
                a.extend(s(&["oifname", p]));
            }
            a.extend(s(&[
                fam, "saddr", net, fam, "daddr", dest, "counter", "return",
            ]));
            GUEST_NAT
        }
    };
    Some((chain, a))
}

/// `nft -ae` echoes each added rule ending in `# handle N`, in the script's order (then a
/// `# new generation` line).
fn parse_handles(out: &str) -> Vec<u64> {
    out.lines()
        .filter(|l| l.starts_with("insert rule "))
        .filter_map(|l| {
            l.rsplit_once("# handle ")
                .and_then(|(_, h)| h.trim().parse().ok())
        })
        .collect()
}

/// Create the family's table and chains unless present (`add` is idempotent, and fails when a
/// chain of that name exists with another type or hook), then the missing jumps.
fn setup(family: Family) -> Result<(), CommandFailure> {
    let f = family_name(family);
    let script = format!(
        "add table {f} {TABLE} {{ comment \"{COMMENT}\" ; }}; \
         add chain {f} {TABLE} {FORWARD} {{ type filter hook forward priority 0; policy accept; }}; \
         add chain {f} {TABLE} {GUEST_OUT}; \
         add chain {f} {TABLE} {GUEST_IN}; \
         add chain {f} {TABLE} {GUEST_CROSS}; \
         add chain {f} {TABLE} {GUEST_NAT} {{ type nat hook postrouting priority 100; policy accept; }}"
    );
    run(&["nft".to_string(), script])?;
    let argv = s(&["nft", "-j", "list", "chain", f, TABLE, FORWARD]);
    let out = run(&argv)?;
    let present = jump_targets(&out).map_err(|message| CommandFailure {
        command: crate::program::display(&argv),
        message,
    })?;
    for child in JUMPED {
        if !present.iter().any(|t| t == child) {
            run(&s(&[
                "nft", "insert", "rule", f, TABLE, FORWARD, "counter", "jump", child,
            ]))?;
        }
    }
    Ok(())
}

fn parse_listing(out: &str) -> Result<Vec<serde_json::Value>, String> {
    let v: serde_json::Value =
        serde_json::from_str(out).map_err(|e| format!("cannot parse its JSON output: {e}"))?;
    match v.get("nftables").and_then(|n| n.as_array()) {
        Some(items) => Ok(items.clone()),
        None => Err("its JSON output has no 'nftables' list".into()),
    }
}

/// The chains jumped to from the rules of a `nft -j list chain` listing.
fn jump_targets(out: &str) -> Result<Vec<String>, String> {
    Ok(parse_listing(out)?
        .iter()
        .filter_map(|item| item.get("rule")?.get("expr")?.as_array().cloned())
        .flatten()
        .filter_map(|e| Some(e.get("jump")?.get("target")?.as_str()?.to_string()))
        .collect())
}

/// Whether a `nft -j list table` listing of virtsh's table holds nothing but its own chains
/// and the jumps between them: no network's rule, and nothing anybody else put there.
fn only_skeleton(out: &str) -> Result<bool, String> {
    for item in parse_listing(out)? {
        let Some((kind, body)) = item.as_object().and_then(|o| o.iter().next()) else {
            return Ok(false);
        };
        let ok = match kind.as_str() {
            "metainfo" | "table" => true,
            "chain" => body
                .get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| CHAINS.contains(&n)),
            "rule" => {
                body.get("chain").and_then(|c| c.as_str()) == Some(FORWARD)
                    && body
                        .get("expr")
                        .and_then(|e| e.as_array())
                        .is_some_and(|expr| {
                            let jumps = expr
                                .iter()
                                .filter_map(|e| e.get("jump")?.get("target")?.as_str())
                                .filter(|t| JUMPED.contains(t))
                                .count();
                            jumps == 1
                                && expr
                                    .iter()
                                    .all(|e| e.get("counter").is_some() || e.get("jump").is_some())
                        })
            }
            _ => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Delete virtsh's table of each family once no network has rules in it, so that `nft list
/// ruleset` shows nothing of virtsh. The caller holds the lock, so no network is being added
/// between the check and the deletion.
pub(crate) fn delete_empty_tables() -> Vec<CommandFailure> {
    let mut failures = Vec::new();
    let list_tables = s(&["nft", "-j", "list", "tables"]);
    let tables = match run(&list_tables).and_then(|out| {
        parse_listing(&out).map_err(|message| CommandFailure {
            command: crate::program::display(&list_tables),
            message,
        })
    }) {
        Ok(items) => items,
        Err(f) => return vec![f],
    };
    for family in [Family::V4, Family::V6] {
        let f = family_name(family);
        let exists = tables.iter().any(|t| {
            t.get("table").is_some_and(|t| {
                t.get("family").and_then(|v| v.as_str()) == Some(f)
                    && t.get("name").and_then(|v| v.as_str()) == Some(TABLE)
            })
        });
        if !exists {
            continue;
        }
        let argv = s(&["nft", "-j", "list", "table", f, TABLE]);
        let empty = run(&argv).and_then(|out| {
            only_skeleton(&out).map_err(|message| CommandFailure {
                command: crate::program::display(&argv),
                message,
            })
        });
        match empty {
            Ok(true) => {
                if let Err(e) = run(&s(&["nft", "delete", "table", f, TABLE])) {
                    failures.push(e);
                }
            }
            Ok(false) => {}
            Err(e) => failures.push(e),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::super::rules::plan;
    use super::*;
    use virtsh_xml::NetworkDef;

    fn lines(xml: &str) -> Vec<String> {
        let def = NetworkDef::parse(xml).unwrap();
        let p = plan(&def, "virbr0", false).unwrap();
        p.rules
            .iter()
            .filter_map(|r| render(&p, r))
            .map(|(chain, a)| format!("{} {chain} {}", family_name(Family::V4), a.join(" ")))
            .collect()
    }

    #[test]
    fn nat_network_rules() {
        let got = lines("<network><name>default</name><forward mode='nat'/><ip address='192.168.122.1' netmask='255.255.255.0'/></network>");
        let want = [
            r#"ip guest_output iif "virbr0" counter reject"#,
            r#"ip guest_input oif "virbr0" counter reject"#,
            r#"ip guest_cross iif "virbr0" oif "virbr0" counter accept"#,
            r#"ip guest_output ip saddr 192.168.122.0/24 iif "virbr0" counter accept"#,
            r#"ip guest_input oif "virbr0" ip daddr 192.168.122.0/24 ct state related,established counter accept"#,
            "ip guest_nat ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade",
            "ip guest_nat meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535",
            "ip guest_nat meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535",
            "ip guest_nat ip saddr 192.168.122.0/24 ip daddr 255.255.255.255/32 counter return",
            "ip guest_nat ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn forward_dev_and_snat() {
        let got = lines("<network><name>n</name><forward mode='nat' dev='eth0'><nat><address start='10.0.0.5' end='10.0.0.5'/></nat></forward><ip address='192.168.5.1' prefix='24'/></network>");
        assert!(got.contains(&r#"ip guest_output ip saddr 192.168.5.0/24 iif "virbr0" oifname "eth0" counter accept"#.to_string()));
        assert!(got.contains(&r#"ip guest_input iifname "eth0" oif "virbr0" ip daddr 192.168.5.0/24 ct state related,established counter accept"#.to_string()));
        assert!(got.contains(&r#"ip guest_nat ip saddr 192.168.5.0/24 ip daddr != 192.168.5.0/24 oifname "eth0" counter snat to 10.0.0.5-10.0.0.5"#.to_string()));
        assert!(got.contains(&r#"ip guest_nat meta l4proto tcp ip saddr 192.168.5.0/24 ip daddr != 192.168.5.0/24 oifname "eth0" counter snat to 10.0.0.5-10.0.0.5:1024-65535"#.to_string()));
        assert!(got.contains(&r#"ip guest_nat oifname "eth0" ip saddr 192.168.5.0/24 ip daddr 224.0.0.0/24 counter return"#.to_string()));
    }

    #[test]
    fn handles_and_listings() {
        let out = "insert rule ip virtsh_network guest_nat ip saddr 10.0.0.0/8 counter packets 0 bytes 0 return # handle 17\n# new generation 9 by process 1 (nft)\n";
        assert_eq!(parse_handles(out), [17]);
        assert!(parse_handles("# new generation 9 by process 1 (nft)\n").is_empty());
        let two = "insert rule ip t c accept # handle 4\ninsert rule ip t d drop # handle 5\n";
        assert_eq!(parse_handles(two), [4, 5]);
        let skeleton = r#"{"nftables": [{"metainfo": {}}, {"table": {"family": "ip", "name": "virtsh_network"}},
            {"chain": {"name": "forward"}}, {"chain": {"name": "guest_output"}},
            {"rule": {"chain": "forward", "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"jump": {"target": "guest_output"}}]}}]}"#;
        assert_eq!(only_skeleton(skeleton), Ok(true));
        assert_eq!(jump_targets(skeleton), Ok(vec!["guest_output".to_string()]));
        let with_rule = skeleton.replace(
            r#"{"chain": {"name": "guest_output"}}"#,
            r#"{"chain": {"name": "guest_output"}}, {"rule": {"chain": "guest_output", "expr": [{"accept": null}]}}"#,
        );
        assert_eq!(only_skeleton(&with_rule), Ok(false));
        let foreign = skeleton.replace(r#""name": "guest_output""#, r#""name": "someone_elses""#);
        assert_eq!(only_skeleton(&foreign), Ok(false));
        assert!(only_skeleton("not json").is_err());
    }
}
