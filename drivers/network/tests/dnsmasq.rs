//! dnsmasq: the configuration against libvirt 9.0's golden files, file writing, lease parsing,
//! and a real dnsmasq serving DHCP and DNS to a client, each in network namespaces the test
//! creates (the host's interfaces are never touched).
//!
//! Tests that need root, `ip`, dnsmasq or busybox skip with a message when one is missing,
//! except under `CI=true`, where a missing one fails the test.

use std::fs::{self, File};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use virtsh_network::dnsmasq::{self, DnsmasqError, DnsmasqFiles, Lease};
use virtsh_xml::network::DnsTxt;
use virtsh_xml::NetworkDef;

/// libvirt 9.0's networkxml2conftest cases (all but dnsmasq-options: `<dnsmasq:options>` is not
/// in virtsh's network model).
const GOLDEN: &[&str] = &[
    "dhcp6-nat-network",
    "dhcp6-network",
    "dhcp6host-routed-network",
    "isolated-network",
    "leasetime-hours",
    "leasetime-infinite",
    "leasetime-minutes",
    "leasetime-seconds",
    "nat-network",
    "nat-network-dns-forward-plain",
    "nat-network-dns-forwarder-no-resolv",
    "nat-network-dns-forwarders",
    "nat-network-dns-hosts",
    "nat-network-dns-local-domain",
    "nat-network-dns-srv-record",
    "nat-network-dns-srv-record-minimal",
    "nat-network-dns-txt-record",
    "nat-network-mtu",
    "nat-network-name-with-quotes",
    "netboot-network",
    "netboot-proxy-network",
    "netboot-tftp",
    "open-network",
    "ptr-domains-auto",
    "routed-network",
    "routed-network-no-dns",
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dnsmasq")
        .join(name)
}

fn read(name: &str) -> Option<String> {
    fs::read_to_string(data(name)).ok()
}

fn parse(xml: &str) -> NetworkDef {
    NetworkDef::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

/// The files libvirt's test uses (`/var/lib/libvirt/dnsmasq`), and libvirt's pid directory.
fn libvirt_files(name: &str) -> DnsmasqFiles {
    DnsmasqFiles::new(
        Path::new("/var/lib/libvirt/dnsmasq"),
        Path::new("/run/libvirt/network"),
        name,
    )
}

/// libvirt's golden file turned into what virtsh writes. libvirt's test passes no pid file; in
/// production libvirt writes `pid-file=` just before `except-interface=lo`, and so does virtsh.
/// The one real difference: virtsh adds `dhcp-leasefile=` before `dhcp-hostsfile=`, where libvirt
/// runs dnsmasq with `--leasefile-ro --dhcp-script=libvirt_leaseshelper` instead (virtsh has no
/// daemon to run a lease helper, so dnsmasq keeps the leases itself).
fn expected_conf(golden: &str, files: &DnsmasqFiles) -> String {
    let mut out = String::new();
    for line in golden.split_inclusive('\n') {
        if line == "except-interface=lo\n" {
            out.push_str(&format!("pid-file={}\n", files.pid.display()));
        }
        if line.starts_with("dhcp-hostsfile=") {
            out.push_str(&format!("dhcp-leasefile={}\n", files.leases.display()));
        }
        out.push_str(line);
    }
    out
}

#[test]
fn golden_configs() {
    let mut failures = Vec::new();
    for name in GOLDEN {
        let (Some(xml), Some(golden)) =
            (read(&format!("{name}.xml")), read(&format!("{name}.conf")))
        else {
            panic!("missing golden files for {name}");
        };
        let def = parse(&xml);
        let bridge = def
            .bridge
            .as_ref()
            .and_then(|b| b.name.clone())
            .unwrap_or_else(|| panic!("{name}: no bridge name"));
        let files = libvirt_files(&def.name);
        let got = match dnsmasq::config(&def, &bridge, &files) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let want = expected_conf(&golden, &files);
        if got.conf != want {
            failures.push(format!(
                "{name}.conf differs\n--- want\n{want}--- got\n{}",
                got.conf
            ));
        }
        let want_hosts = read(&format!("{name}.hostsfile")).unwrap_or_default();
        if got.hosts != want_hosts {
            failures.push(format!(
                "{name}.hostsfile differs\n--- want\n{want_hosts}--- got\n{}",
                got.hosts
            ));
        }
        if let Some(want_addn) = read(&format!("{name}.addnhosts")) {
            if got.addnhosts != want_addn {
                failures.push(format!(
                    "{name}.addnhosts differs\n--- want\n{want_addn:?}\n--- got\n{:?}",
                    got.addnhosts
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn libvirt_file_names() {
    // libvirt escapes the name in the hosts files' names only (virBufferEscapeString).
    let f = libvirt_files("default\"with\"quotes\"");
    assert_eq!(
        f.hostsfile,
        Path::new("/var/lib/libvirt/dnsmasq/default&quot;with&quot;quotes&quot;.hostsfile")
    );
    assert_eq!(
        f.conf,
        Path::new("/var/lib/libvirt/dnsmasq/default\"with\"quotes\".conf")
    );
}

#[test]
fn addn_hosts_group_names_by_address() {
    let def = parse(
        "<network><name>n</name><bridge name='b0'/>\
         <dns><host ip='10.0.0.5'><hostname>a</hostname></host>\
         <host ip='2001:db8::5'><hostname>six</hostname></host>\
         <host ip='10.0.0.5'><hostname>b</hostname><hostname>c</hostname></host></dns>\
         <ip address='10.0.0.1' prefix='24'/></network>",
    );
    let c = dnsmasq::config(&def, "b0", &libvirt_files("n")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.addnhosts, "10.0.0.5\ta\tb\tc\t\n2001:db8::5\tsix\t\n");
    assert_eq!(c.hosts, "");
}

#[test]
fn config_errors() {
    let two = parse(
        "<network><name>n</name>\
         <ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>\
         <ip address='10.0.1.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.1.9'/></dhcp></ip>\
         </network>",
    );
    let err = dnsmasq::config(&two, "b0", &libvirt_files("n")).err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("For IPv4, multiple DHCP definitions cannot be specified.")
    );

    let mut def = parse("<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>");
    assert!(matches!(
        dnsmasq::config(&def, "", &libvirt_files("n")),
        Err(DnsmasqError::Internal(_))
    ));
    assert!(matches!(
        dnsmasq::config(&def, "b0\nserver=1.2.3.4", &libvirt_files("n")),
        Err(DnsmasqError::InvalidValue { .. })
    ));
    let relative = DnsmasqFiles::new(Path::new("lib"), Path::new("/run"), "n");
    assert!(matches!(
        dnsmasq::config(&def, "b0", &relative),
        Err(DnsmasqError::RelativePath(_))
    ));
    // A value with a line break would add a line of its own to the configuration.
    def.dns
        .get_or_insert_with(Default::default)
        .txts
        .push(DnsTxt {
            name: "t".into(),
            value: "v\nserver=6.6.6.6".into(),
        });
    assert!(matches!(
        dnsmasq::config(&def, "b0", &libvirt_files("n")),
        Err(DnsmasqError::InvalidValue { .. })
    ));
}

/// A fresh directory under the system temp dir, mode 0755 (dnsmasq reads the hosts files as
/// `nobody`), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("virtsh-dnsmasq-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0)
}

#[test]
fn write_and_remove_files() {
    let tmp = TempDir::new("write");
    let files = DnsmasqFiles::new(&tmp.0.join("lib/deep"), &tmp.0.join("run"), "n");
    let def = parse(
        "<network><name>n</name><dns><host ip='10.0.0.5'><hostname>a</hostname></host></dns>\
         <ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/>\
         <host mac='52:54:00:00:00:01' ip='10.0.0.3'/></dhcp></ip></network>",
    );
    let config = dnsmasq::config(&def, "b0", &files).unwrap_or_else(|e| panic!("{e}"));
    dnsmasq::write(&config, &files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fs::read_to_string(&files.conf).ok(),
        Some(config.conf.clone())
    );
    assert_eq!(
        fs::read_to_string(&files.hostsfile).ok().as_deref(),
        Some("52:54:00:00:00:01,10.0.0.3\n")
    );
    assert_eq!(
        fs::read_to_string(&files.addnhosts).ok().as_deref(),
        Some("10.0.0.5\ta\t\n")
    );
    assert_eq!(mode(&files.conf), 0o600);
    assert_eq!(mode(&files.hostsfile), 0o644);
    assert_eq!(mode(&files.addnhosts), 0o644);
    assert_eq!(mode(&tmp.0.join("lib/deep")), 0o755);
    assert_eq!(mode(&tmp.0.join("run")), 0o755);

    // Rewriting replaces the files and leaves no temporary file behind.
    let empty = dnsmasq::DnsmasqConfig::default();
    dnsmasq::write(&empty, &files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fs::read_to_string(&files.hostsfile).ok().as_deref(),
        Some("")
    );
    let names: Vec<String> = fs::read_dir(tmp.0.join("lib/deep"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names.len(), 3, "{names:?}");

    assert!(dnsmasq::read_leases(&files).is_ok_and(|l| l.is_empty()));
    dnsmasq::remove(&files).unwrap_or_else(|e| panic!("{e}"));
    dnsmasq::remove(&files).unwrap_or_else(|e| panic!("{e}"));
    assert!(!files.conf.exists() && !files.hostsfile.exists() && !files.addnhosts.exists());
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn lease_file_parsing() {
    let text = "\
1796557751 52:54:00:12:34:56 10.99.0.76 * 01:52:54:00:12:34:56
0 52:54:00:12:34:57 10.99.0.77 fixed *
duid 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01
1796557752 1234567 2001:db8::10 host6 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:02
1796557753 T7 2001:db8::11 * *
garbage line
1796557754 52:54:00:12:34:58
";
    let leases = dnsmasq::parse_leases(text);
    assert_eq!(
        leases,
        vec![
            Lease {
                expiry: 1796557751,
                mac: Some("52:54:00:12:34:56".into()),
                iaid: None,
                ip: ip("10.99.0.76"),
                hostname: None,
                clientid: Some("01:52:54:00:12:34:56".into()),
            },
            Lease {
                expiry: 0,
                mac: Some("52:54:00:12:34:57".into()),
                iaid: None,
                ip: ip("10.99.0.77"),
                hostname: Some("fixed".into()),
                clientid: None,
            },
            Lease {
                expiry: 1796557752,
                mac: None,
                iaid: Some("1234567".into()),
                ip: ip("2001:db8::10"),
                hostname: Some("host6".into()),
                clientid: Some("00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:02".into()),
            },
            Lease {
                expiry: 1796557753,
                mac: None,
                iaid: Some("T7".into()),
                ip: ip("2001:db8::11"),
                hostname: None,
                clientid: None,
            },
        ]
    );
    assert!(dnsmasq::parse_leases("").is_empty());
}

#[test]
fn read_leases_from_file() {
    let tmp = TempDir::new("leases");
    let files = DnsmasqFiles::new(&tmp.0, &tmp.0, "n");
    assert!(dnsmasq::read_leases(&files).is_ok_and(|l| l.is_empty()));
    assert!(fs::write(&files.leases, "5 aa:bb:cc:dd:ee:ff 10.0.0.2 h 01:aa\n").is_ok());
    let leases = dnsmasq::read_leases(&files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].hostname.as_deref(), Some("h"));
}

// ---------------------------------------------------------------------------------------------
// With a real dnsmasq.

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skip the test (or fail it under CI=true) when `why` is missing.
fn missing(why: &str) -> bool {
    assert!(!ci(), "{why} (required under CI=true)");
    eprintln!("skipping: {why}");
    true
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Run a command; its stdout and stderr together, or an error naming the command.
fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{args:?}: {}: {text}", out.status))
    }
}

fn must(args: &[&str]) -> String {
    run(args).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn start_reports_dnsmasq_errors() {
    if !is_root() && missing("root") || dnsmasq::find_dnsmasq().is_err() && missing("dnsmasq") {
        return;
    }
    let tmp = TempDir::new("bad");
    let files = DnsmasqFiles::new(&tmp.0.join("lib"), &tmp.0.join("run"), "bad");
    dnsmasq::write(&dnsmasq::DnsmasqConfig::default(), &files).unwrap_or_else(|e| panic!("{e}"));
    assert!(fs::write(&files.conf, "no-such-option-at-all\n").is_ok());
    match dnsmasq::start(&files) {
        Err(DnsmasqError::StartFailed { stderr, .. }) => {
            assert!(stderr.contains("bad option"), "{stderr}")
        }
        other => panic!("expected StartFailed, got {other:?}"),
    }
    assert_eq!(dnsmasq::running(&files), None);
    assert!(
        dnsmasq::stop(&files).is_ok(),
        "stopping a stopped dnsmasq is fine"
    );
    assert!(matches!(
        dnsmasq::reload(&files),
        Err(DnsmasqError::NotRunning { .. })
    ));

    // Hosts files that `nobody` cannot reach are refused before dnsmasq runs.
    let private = TempDir::new("private");
    assert!(fs::set_permissions(&private.0, fs::Permissions::from_mode(0o700)).is_ok());
    let files = DnsmasqFiles::new(&private.0.join("lib"), &private.0.join("run"), "p");
    dnsmasq::write(&dnsmasq::DnsmasqConfig::default(), &files).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        dnsmasq::start(&files),
        Err(DnsmasqError::NotReadable { .. })
    ));
}

/// Two network namespaces: a server with a bridge (dnsmasq's), and a client linked to the bridge
/// by a veth pair. Drop stops dnsmasq and deletes both namespaces (and with them the links),
/// even when the test fails.
struct Lab {
    server: String,
    client: String,
    files: Option<DnsmasqFiles>,
}

impl Lab {
    fn new() -> Lab {
        let base = format!("vt-dnsmasq-{}", std::process::id());
        let lab = Lab {
            server: format!("{base}-s"),
            client: format!("{base}-c"),
            files: None,
        };
        for ns in [&lab.server, &lab.client] {
            let _ = run(&["ip", "netns", "del", ns]);
            must(&["ip", "netns", "add", ns]);
        }
        let (s, c) = (lab.server.as_str(), lab.client.as_str());
        must(&["ip", "-n", s, "link", "set", "lo", "up"]);
        must(&[
            "ip",
            "-n",
            s,
            "link",
            "add",
            "vtbr0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
        ]);
        must(&[
            "ip",
            "-n",
            s,
            "addr",
            "add",
            "10.213.0.1/24",
            "dev",
            "vtbr0",
        ]);
        must(&["ip", "-n", s, "link", "set", "vtbr0", "up"]);
        must(&[
            "ip", "-n", s, "link", "add", "vtp0", "type", "veth", "peer", "name", "eth0", "netns",
            c,
        ]);
        must(&[
            "ip", "-n", s, "link", "set", "vtp0", "master", "vtbr0", "up",
        ]);
        must(&["ip", "-n", c, "link", "set", "lo", "up"]);
        must(&["ip", "-n", c, "link", "set", "eth0", "up"]);
        lab
    }

    /// Run `f` on a thread inside the server namespace: network namespaces are per thread, and
    /// a process spawned from that thread (dnsmasq) starts in it.
    fn in_server<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.server);
        thread::scope(|scope| {
            let path = path.as_str();
            let handle = scope.spawn(move || {
                let ns = File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
                // SAFETY: a valid namespace fd; only this short-lived thread changes namespace.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            });
            handle
                .join()
                .unwrap_or_else(|_| panic!("thread in {path} panicked"))
        })
    }

    /// Ask for a lease from the client with MAC `mac`; the address offered and acknowledged.
    fn dhcp(&self, busybox: &Path, mac: &str) -> IpAddr {
        let c = self.client.as_str();
        must(&["ip", "-n", c, "link", "set", "eth0", "address", mac]);
        let bb = busybox.to_string_lossy();
        // -s /bin/true: nothing is configured; the lease is read from udhcpc's output.
        let out = must(&[
            "ip",
            "netns",
            "exec",
            c,
            &bb,
            "udhcpc",
            "-i",
            "eth0",
            "-n",
            "-q",
            "-f",
            "-t",
            "15",
            "-T",
            "1",
            "-s",
            "/bin/true",
        ]);
        let leased = out
            .lines()
            .find_map(|l| l.split("lease of ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no lease in udhcpc output:\n{out}"));
        ip(leased)
    }

    /// Resolve `name` (A record) through dnsmasq from the client.
    fn resolve(&self, busybox: &Path, name: &str) -> String {
        let bb = busybox.to_string_lossy();
        run(&[
            "ip",
            "netns",
            "exec",
            &self.client,
            &bb,
            "nslookup",
            "-type=a",
            name,
            "10.213.0.1",
        ])
        .unwrap_or_else(|e| e)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(files) = &self.files {
            if let Err(e) = dnsmasq::stop(files) {
                eprintln!("cleanup: {e}");
            }
        }
        for ns in [&self.server, &self.client] {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

fn lab_network(extra_dhcp: &str, extra_dns: &str) -> NetworkDef {
    parse(&format!(
        "<network>
           <name>vtnet</name>
           <forward mode='nat'/>
           <bridge name='vtbr0'/>
           <dns>
             <host ip='10.213.0.7'><hostname>gw-alias</hostname></host>
             {extra_dns}
           </dns>
           <ip address='10.213.0.1' netmask='255.255.255.0'>
             <dhcp>
               <range start='10.213.0.100' end='10.213.0.199'/>
               <host mac='52:54:00:aa:00:02' name='fixed' ip='10.213.0.50'/>
               {extra_dhcp}
             </dhcp>
           </ip>
         </network>"
    ))
}

fn zombie_or_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

#[test]
fn dnsmasq_serves_dhcp_and_dns_in_a_namespace() {
    if !is_root() && missing("root (to create network namespaces)")
        || find_on_path("ip").is_none() && missing("ip (iproute2)")
        || dnsmasq::find_dnsmasq().is_err() && missing("dnsmasq (install dnsmasq-base)")
    {
        return;
    }
    let Some(busybox) = find_on_path("busybox") else {
        missing("busybox (install busybox-static)");
        return;
    };

    let tmp = TempDir::new("lab");
    let mut lab = Lab::new();
    let files = DnsmasqFiles::new(&tmp.0.join("lib"), &tmp.0.join("run"), "vtnet");
    lab.files = Some(files.clone());

    let def = lab_network("", "");
    assert!(dnsmasq::needed(&def));
    let config = dnsmasq::config(&def, "vtbr0", &files).unwrap_or_else(|e| panic!("{e}"));
    dnsmasq::write(&config, &files).unwrap_or_else(|e| panic!("{e}"));
    let pid = lab
        .in_server(|| dnsmasq::start(&files))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dnsmasq::running(&files), Some(pid));
    assert!(matches!(
        lab.in_server(|| dnsmasq::start(&files)),
        Err(DnsmasqError::AlreadyRunning { .. })
    ));

    // A dynamic client gets an address from the range, the static host its fixed one.
    let dynamic = lab.dhcp(&busybox, "52:54:00:aa:00:01");
    let IpAddr::V4(v4) = dynamic else {
        panic!("{dynamic}")
    };
    assert!(
        (100..=199).contains(&v4.octets()[3]) && v4.octets()[..3] == [10, 213, 0],
        "{dynamic}"
    );
    assert_eq!(lab.dhcp(&busybox, "52:54:00:aa:00:02"), ip("10.213.0.50"));

    let leases = dnsmasq::read_leases(&files).unwrap_or_else(|e| panic!("{e}"));
    let by_mac = |mac: &str| {
        leases
            .iter()
            .find(|l| l.mac.as_deref() == Some(mac))
            .cloned()
    };
    assert_eq!(
        by_mac("52:54:00:aa:00:01").map(|l| l.ip),
        Some(dynamic),
        "{leases:?}"
    );
    let fixed = by_mac("52:54:00:aa:00:02").unwrap_or_else(|| panic!("{leases:?}"));
    assert_eq!(fixed.ip, ip("10.213.0.50"));
    assert_eq!(fixed.hostname.as_deref(), Some("fixed"));
    assert!(fixed.expiry > 0);

    // DNS from the addn-hosts file (the client needs an address of its own to ask).
    must(&[
        "ip",
        "-n",
        &lab.client,
        "addr",
        "add",
        "10.213.0.250/24",
        "dev",
        "eth0",
    ]);
    let answer = lab.resolve(&busybox, "gw-alias");
    assert!(answer.contains("10.213.0.7"), "{answer}");

    // Reload: a host added to both files is served without a restart.
    let def = lab_network(
        "<host mac='52:54:00:aa:00:03' name='later' ip='10.213.0.60'/>",
        "<host ip='10.213.0.8'><hostname>added-later</hostname></host>",
    );
    let config = dnsmasq::config(&def, "vtbr0", &files).unwrap_or_else(|e| panic!("{e}"));
    dnsmasq::write(&config, &files).unwrap_or_else(|e| panic!("{e}"));
    dnsmasq::reload(&files).unwrap_or_else(|e| panic!("{e}"));
    // SIGHUP is asynchronous: give dnsmasq a moment to re-read.
    thread::sleep(Duration::from_millis(300));
    assert_eq!(dnsmasq::running(&files), Some(pid));
    let answer = lab.resolve(&busybox, "added-later");
    assert!(answer.contains("10.213.0.8"), "{answer}");
    must(&["ip", "-n", &lab.client, "addr", "flush", "dev", "eth0"]);
    assert_eq!(lab.dhcp(&busybox, "52:54:00:aa:00:03"), ip("10.213.0.60"));

    // Stop: the process goes (at most a zombie awaiting its reaper) and so does the pid file.
    dnsmasq::stop(&files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dnsmasq::running(&files), None);
    assert!(zombie_or_gone(pid), "dnsmasq {pid} still runs");
    assert!(!files.pid.exists());
    assert!(matches!(
        dnsmasq::reload(&files),
        Err(DnsmasqError::NotRunning { .. })
    ));
    // The leases survive dnsmasq, in its own lease file.
    assert!(dnsmasq::read_leases(&files).is_ok_and(|l| l.len() >= 3));
}
