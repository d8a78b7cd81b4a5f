//! The iptables backend, as libvirt 9.0's: the rules go in libvirt's private chains
//! (`LIBVIRT_INP`, `LIBVIRT_OUT`, `LIBVIRT_FWO`, `LIBVIRT_FWI`, `LIBVIRT_FWX` in `filter`,
//! `LIBVIRT_PRT` in `nat` and `mangle`), which the built-in chains jump to. Sharing libvirt's
//! chain names means a host moving between libvirt and virtsh keeps one set of chains.
//!
//! Each rule is added with `-I` and recorded as the same command with `-D`. The chains and jumps
//! are created when missing and stay (they are shared, and empty chains cost nothing).

use super::exec::run;
use super::rules::{Family, Plan, Rule};
use super::{AddResult, CommandFailure};

const FILTER_CHAINS: [(&str, &str); 5] = [
    ("INPUT", "LIBVIRT_INP"),
    ("OUTPUT", "LIBVIRT_OUT"),
    ("FORWARD", "LIBVIRT_FWO"),
    ("FORWARD", "LIBVIRT_FWI"),
    ("FORWARD", "LIBVIRT_FWX"),
];
const POSTROUTING_CHAINS: [(&str, &str); 1] = [("POSTROUTING", "LIBVIRT_PRT")];

fn program(family: Family) -> &'static str {
    match family {
        Family::V4 => "iptables",
        Family::V6 => "ip6tables",
    }
}

/// One rule: its table, its chain and the match and target after the chain name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub table: &'static str,
    pub chain: &'static str,
    pub args: Vec<String>,
}

impl Spec {
    /// The command that adds (`-I`) or deletes (`-D`) this rule. `-w` waits for the xtables
    /// lock of iptables-legacy instead of failing when another program holds it.
    fn argv(&self, family: Family, op: &str) -> Vec<String> {
        let mut v = s(&[program(family), "-w", "--table", self.table, op, self.chain]);
        v.extend(self.args.iter().cloned());
        v
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

/// Add the plan's rules, then the DHCP checksum fix; on failure, the removal commands of the
/// rules already added.
pub(crate) fn add(plan: &Plan) -> AddResult {
    let mut removal: Vec<Vec<String>> = Vec::new();
    let mut ready = [false; 2];
    for rule in &plan.rules {
        let family = rule.family();
        if !ready[family.index()] {
            if let Err(f) = setup(family) {
                return Err((removal, f));
            }
            ready[family.index()] = true;
        }
        let spec = render(plan, rule);
        if let Err(f) = run(&spec.argv(family, "-I")) {
            return Err((removal, f));
        }
        // Removal runs newest first, undoing the additions in reverse.
        removal.insert(0, spec.argv(family, "-D"));
    }
    if plan.checksum_fix {
        // As libvirt, a failure here is not an error: not every iptables (or kernel) has the
        // CHECKSUM target, and guests only need it with some DHCP clients. Then nothing is
        // recorded, since nothing was added.
        let spec = checksum_fix(plan);
        if ready[Family::V4.index()] && run(&spec.argv(Family::V4, "-I")).is_ok() {
            removal.insert(0, spec.argv(Family::V4, "-D"));
        }
    }
    Ok(removal)
}

pub(crate) fn render(plan: &Plan, rule: &Rule) -> Spec {
    let br = plan.bridge.as_str();
    let phys = plan.physdev.as_deref();
    let mut a: Vec<String> = Vec::new();
    let (table, chain) = match rule {
        Rule::HostInput { proto, port, .. } => {
            let port = port.to_string();
            a = s(&["--in-interface", br, "--protocol", proto.as_str()]);
            a.extend(s(&["--destination-port", &port, "--jump", "ACCEPT"]));
            ("filter", "LIBVIRT_INP")
        }
        Rule::HostOutput { proto, port, .. } => {
            let port = port.to_string();
            a = s(&["--out-interface", br, "--protocol", proto.as_str()]);
            a.extend(s(&["--destination-port", &port, "--jump", "ACCEPT"]));
            ("filter", "LIBVIRT_OUT")
        }
        Rule::AllowOut { net, .. } => {
            a.extend(s(&["--source", net, "--in-interface", br]));
            if let Some(p) = phys {
                a.extend(s(&["--out-interface", p]));
            }
            a.extend(s(&["--jump", "ACCEPT"]));
            ("filter", "LIBVIRT_FWO")
        }
        Rule::AllowRelatedIn { net, .. } => {
            a.extend(s(&["--destination", net]));
            if let Some(p) = phys {
                a.extend(s(&["--in-interface", p]));
            }
            a.extend(s(&["--out-interface", br, "--match", "conntrack"]));
            a.extend(s(&["--ctstate", "ESTABLISHED,RELATED", "--jump", "ACCEPT"]));
            ("filter", "LIBVIRT_FWI")
        }
        Rule::AllowIn { net, .. } => {
            a.extend(s(&["--destination", net]));
            if let Some(p) = phys {
                a.extend(s(&["--in-interface", p]));
            }
            a.extend(s(&["--out-interface", br, "--jump", "ACCEPT"]));
            ("filter", "LIBVIRT_FWI")
        }
        Rule::AllowCross { .. } => {
            a = s(&[
                "--in-interface",
                br,
                "--out-interface",
                br,
                "--jump",
                "ACCEPT",
            ]);
            ("filter", "LIBVIRT_FWX")
        }
        Rule::RejectOut { .. } => {
            a = s(&["--in-interface", br, "--jump", "REJECT"]);
            ("filter", "LIBVIRT_FWO")
        }
        Rule::RejectIn { .. } => {
            a = s(&["--out-interface", br, "--jump", "REJECT"]);
            ("filter", "LIBVIRT_FWI")
        }
        Rule::Masquerade {
            net,
            proto,
            snat,
            ports,
            ..
        } => {
            a.extend(s(&["--source", net]));
            if let Some(p) = proto {
                a.extend(s(&["-p", p.as_str()]));
            }
            a.extend(s(&["!", "--destination", net]));
            if let Some(p) = phys {
                a.extend(s(&["--out-interface", p]));
            }
            // Ports need a protocol match, so only the tcp/udp rules have them.
            let range = proto.map(|_| format!("{}-{}", ports.0, ports.1));
            match snat {
                Some(addr) => {
                    let to = match &range {
                        Some(r) => format!("{addr}:{r}"),
                        None => addr.clone(),
                    };
                    a.extend(s(&["--jump", "SNAT", "--to-source", &to]));
                }
                None => {
                    a.extend(s(&["--jump", "MASQUERADE"]));
                    if let Some(r) = &range {
                        a.extend(s(&["--to-ports", r]));
                    }
                }
            }
            ("nat", "LIBVIRT_PRT")
        }
        Rule::DontMasquerade { net, dest, .. } => {
            if let Some(p) = phys {
                a.extend(s(&["--out-interface", p]));
            }
            a.extend(s(&[
                "--source",
                net,
                "--destination",
                dest,
                "--jump",
                "RETURN",
            ]));
            ("nat", "LIBVIRT_PRT")
        }
    };
    Spec {
        table,
        chain,
        args: a,
    }
}

/// Fill in the UDP checksum of DHCP replies to the guests: the host leaves it to the NIC, and
/// with vhost-net nobody computes it, so some DHCP clients drop the replies.
fn checksum_fix(plan: &Plan) -> Spec {
    Spec {
        table: "mangle",
        chain: "LIBVIRT_PRT",
        args: s(&[
            "--out-interface",
            &plan.bridge,
            "--protocol",
            "udp",
            "--destination-port",
            "68",
            "--jump",
            "CHECKSUM",
            "--checksum-fill",
        ]),
    }
}

/// Create libvirt's private chains and the jumps to them where missing, reading `-S` (list
/// rules) as libvirt does, so running it again changes nothing.
fn setup(family: Family) -> Result<(), CommandFailure> {
    let prog = program(family);
    let tables: [(&str, &[(&str, &str)]); 3] = [
        ("filter", &FILTER_CHAINS),
        ("nat", &POSTROUTING_CHAINS),
        ("mangle", &POSTROUTING_CHAINS),
    ];
    for (table, chains) in tables {
        let listing = run(&s(&[prog, "-w", "--table", table, "-S"]))?;
        let (existing, links) = parse_rules(&listing);
        for (parent, child) in chains {
            if !existing.iter().any(|c| c == child) {
                run(&s(&[prog, "-w", "--table", table, "--new-chain", child]))?;
            }
            if !links.iter().any(|(p, c)| p == parent && c == child) {
                run(&s(&[
                    prog, "-w", "--table", table, "--insert", parent, "--jump", child,
                ]))?;
            }
        }
    }
    Ok(())
}

/// The user chains (`-N X`) and plain jumps (`-A P -j X`) of an `iptables -S` listing.
fn parse_rules(listing: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut chains = Vec::new();
    let mut links = Vec::new();
    for line in listing.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["-N", chain] => chains.push(chain.to_string()),
            ["-A", parent, "-j", child] => links.push((parent.to_string(), child.to_string())),
            _ => {}
        }
    }
    (chains, links)
}

#[cfg(test)]
mod tests {
    use super::super::rules::plan;
    use super::*;
    use virtsh_xml::NetworkDef;

    fn commands(xml: &str) -> (Vec<String>, bool) {
        let def = NetworkDef::parse(xml).unwrap();
        let p = plan(&def, "virbr0", true).unwrap();
        let v = p
            .rules
            .iter()
            .map(|r| render(&p, r).argv(r.family(), "-I").join(" "))
            .collect();
        (v, p.checksum_fix)
    }

    #[test]
    fn nat_network_rules() {
        let (got, checksum) = commands("<network><name>default</name><forward mode='nat'/><ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>");
        let want = [
            "iptables -w --table filter -I LIBVIRT_INP --in-interface virbr0 --protocol tcp --destination-port 67 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_INP --in-interface virbr0 --protocol udp --destination-port 67 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_OUT --out-interface virbr0 --protocol tcp --destination-port 68 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_OUT --out-interface virbr0 --protocol udp --destination-port 68 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_INP --in-interface virbr0 --protocol tcp --destination-port 53 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_INP --in-interface virbr0 --protocol udp --destination-port 53 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_OUT --out-interface virbr0 --protocol tcp --destination-port 53 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_OUT --out-interface virbr0 --protocol udp --destination-port 53 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_FWO --in-interface virbr0 --jump REJECT",
            "iptables -w --table filter -I LIBVIRT_FWI --out-interface virbr0 --jump REJECT",
            "iptables -w --table filter -I LIBVIRT_FWX --in-interface virbr0 --out-interface virbr0 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_FWO --source 192.168.122.0/24 --in-interface virbr0 --jump ACCEPT",
            "iptables -w --table filter -I LIBVIRT_FWI --destination 192.168.122.0/24 --out-interface virbr0 --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.122.0/24 ! --destination 192.168.122.0/24 --jump MASQUERADE",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.122.0/24 -p udp ! --destination 192.168.122.0/24 --jump MASQUERADE --to-ports 1024-65535",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.122.0/24 -p tcp ! --destination 192.168.122.0/24 --jump MASQUERADE --to-ports 1024-65535",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.122.0/24 --destination 255.255.255.255/32 --jump RETURN",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.122.0/24 --destination 224.0.0.0/24 --jump RETURN",
        ];
        assert_eq!(got, want);
        assert!(checksum);
    }

    #[test]
    fn routed_ipv6_with_forward_dev_and_snat() {
        let (got, _) = commands("<network><name>n</name><forward mode='nat' dev='eth0'><nat><address start='10.0.0.5' end='10.0.0.6'/><port start='1500' end='1600'/></nat></forward><ip address='192.168.5.1' prefix='24'/><ip family='ipv6' address='fd00:5::1' prefix='64'/></network>");
        for want in [
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.5.0/24 -p tcp ! --destination 192.168.5.0/24 --out-interface eth0 --jump SNAT --to-source 10.0.0.5-10.0.0.6:1500-1600",
            "iptables -w --table nat -I LIBVIRT_PRT --source 192.168.5.0/24 ! --destination 192.168.5.0/24 --out-interface eth0 --jump SNAT --to-source 10.0.0.5-10.0.0.6",
            "iptables -w --table nat -I LIBVIRT_PRT --out-interface eth0 --source 192.168.5.0/24 --destination 224.0.0.0/24 --jump RETURN",
            "ip6tables -w --table filter -I LIBVIRT_FWI --destination fd00:5::/64 --in-interface eth0 --out-interface virbr0 --jump ACCEPT",
            "ip6tables -w --table filter -I LIBVIRT_INP --in-interface virbr0 --protocol udp --destination-port 547 --jump ACCEPT",
        ] {
            assert!(got.iter().any(|g| g == want), "missing {want}");
        }
    }

    #[test]
    fn reads_list_rules() {
        let listing =
            "-P INPUT ACCEPT\n-N LIBVIRT_INP\n-A INPUT -j LIBVIRT_INP\n-A FORWARD -i x -j ACCEPT\n";
        let (chains, links) = parse_rules(listing);
        assert_eq!(chains, vec!["LIBVIRT_INP"]);
        assert_eq!(
            links,
            vec![("INPUT".to_string(), "LIBVIRT_INP".to_string())]
        );
    }
}
