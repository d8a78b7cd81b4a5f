//! Device and resource changes on real QEMU (TCG) guests through the `virtsh` binary: disks
//! plugged and unplugged live, config-only and persistent attaches, media changes on a CD-ROM,
//! a user-mode NIC through attach-device, setmem with and without a balloon, setmaxmem and
//! setvcpus (CPU hotplug).

mod support;

use std::path::Path;
use std::time::Duration;

use support::{bare_xml, tiny_guest, unique_name, Embed, READY};

const BOOT: Duration = Duration::from_secs(60);

/// The tiny guest with a CD-ROM, a virtio balloon and one of two vCPUs online.
fn guest_xml(env: &Embed, guest: &Path, name: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>192</memory>
  <vcpu current='1'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1</cmdline>
  </os>
  <devices>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <serial type='file'>
      <source path='{serial}'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
",
        kernel = guest.join("vmlinuz").display(),
        initrd = guest.join("initrd.img").display(),
        serial = env.serial_log(name).display(),
    )
}

fn image(env: &Embed, file: &str, size: u64) -> String {
    let p = env.root.join(file);
    std::fs::File::create(&p).unwrap().set_len(size).unwrap();
    p.display().to_string()
}

/// `Target Source` rows of domblklist.
fn blk(env: &Embed, name: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["domblklist", name];
    args.extend_from_slice(extra);
    env.ok(&args)
        .lines()
        .skip(2)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

fn has_target(rows: &[(String, String)], t: &str) -> bool {
    rows.iter().any(|(x, _)| x == t)
}

#[test]
fn disks_media_and_nics_live_and_config() {
    let Some(guest) = tiny_guest("disks_media_and_nics_live_and_config") else {
        return;
    };
    let env = Embed::new("hotplug");
    let name = unique_name("hp");
    env.define(&name, &guest_xml(&env, &guest, &name));
    let d1 = image(&env, "d1.img", 16 << 20);
    let d2 = image(&env, "d2.img", 8 << 20);
    let d3 = image(&env, "d3.img", 8 << 20);
    let iso = image(&env, "c1.iso", 1 << 20);

    // Shut off: no flag means the persistent definition is not touched by a live-only call.
    assert!(env
        .err(&["attach-disk", &name, &d1, "vdb"])
        .contains("error: Requested operation is not valid: domain is not running"));
    env.ok(&["start", &name]);
    env.wait_serial(&name, READY, 1, BOOT);

    // Live attach: in the live XML and domblklist, not in the persistent definition.
    let out = env.ok(&["attach-disk", &name, &d1, "vdb", "--live"]);
    assert_eq!(out, "Disk attached successfully\n\n");
    let live = blk(&env, &name, &[]);
    assert!(live.contains(&("vdb".into(), d1.clone())), "{live:?}");
    assert!(!has_target(&blk(&env, &name, &["--inactive"]), "vdb"));
    let xml = env.ok(&["dumpxml", &name]);
    assert!(xml.contains(&format!("<source file='{d1}'/>")), "{xml}");
    assert!(env
        .err(&["attach-disk", &name, &d1, "vdb", "--live"])
        .contains("target vdb already exists"));

    // Live detach: the guest releases it, the XML follows.
    let out = env.ok(&["detach-disk", &name, "vdb", "--live"]);
    assert_eq!(out, "Disk detached successfully\n\n");
    assert!(!has_target(&blk(&env, &name, &[]), "vdb"));
    // And again, under the same node names and ids.
    env.ok(&["attach-disk", &name, &d1, "vdb"]);
    assert!(has_target(&blk(&env, &name, &[]), "vdb"));
    env.ok(&["detach-disk", &name, "vdb"]);
    assert!(!has_target(&blk(&env, &name, &[]), "vdb"));
    assert!(env
        .err(&["detach-disk", &name, "vdb"])
        .contains("No disk found whose source path or target is vdb"));

    // Config only: in dumpxml --inactive, not live.
    env.ok(&["attach-disk", &name, &d2, "vdc", "--config"]);
    assert!(has_target(&blk(&env, &name, &["--inactive"]), "vdc"));
    assert!(!has_target(&blk(&env, &name, &[]), "vdc"));
    env.ok(&["detach-disk", &name, "vdc", "--config"]);
    assert!(!has_target(&blk(&env, &name, &["--inactive"]), "vdc"));

    // --persistent on a running domain: both.
    env.ok(&["attach-disk", &name, &d3, "vdd", "--persistent"]);
    assert!(has_target(&blk(&env, &name, &[]), "vdd"));
    assert!(has_target(&blk(&env, &name, &["--inactive"]), "vdd"));
    env.ok(&["detach-disk", &name, "vdd", "--persistent"]);
    assert!(!has_target(&blk(&env, &name, &[]), "vdd"));
    assert!(!has_target(&blk(&env, &name, &["--inactive"]), "vdd"));

    // CD-ROM media: insert, eject, update.
    let out = env.ok(&["change-media", &name, "hdc", &iso, "--insert"]);
    assert_eq!(out, "Successfully inserted media.\n");
    assert!(blk(&env, &name, &[]).contains(&("hdc".into(), iso.clone())));
    assert!(env
        .err(&["change-media", &name, "hdc", &iso, "--insert"])
        .contains("The disk device 'hdc' already has media"));
    assert_eq!(
        env.ok(&["change-media", &name, "hdc", "--eject"]),
        "Successfully ejected media.\n"
    );
    assert!(blk(&env, &name, &[]).contains(&("hdc".into(), "-".into())));
    assert_eq!(
        env.ok(&["change-media", &name, "hdc", &iso, "--update"]),
        "Successfully updated media.\n"
    );
    assert!(blk(&env, &name, &[]).contains(&("hdc".into(), iso.clone())));
    assert!(env
        .err(&[
            "attach-disk",
            &name,
            &iso,
            "hdd",
            "--type",
            "cdrom",
            "--live"
        ])
        .contains("cdrom/floppy device hotplug isn't supported"));

    // NICs: virsh's attach-interface has no 'user' type; attach-device has.
    assert_eq!(
        env.err(&["attach-interface", &name, "user", "x"]),
        "error: No support for user in command 'attach-interface'\n"
    );
    assert!(env
        .err(&["attach-interface", &name, "network", "default", "--live"])
        .contains("no network with matching name 'default'"));
    let nic = env.root.join("nic.xml");
    std::fs::write(
        &nic,
        "<interface type='user'>\n  <mac address='52:54:00:aa:00:01'/>\n  <model type='virtio'/>\n</interface>\n",
    )
    .unwrap();
    let nic = nic.display().to_string();
    assert_eq!(
        env.ok(&["attach-device", &name, &nic, "--live"]),
        "Device attached successfully\n\n"
    );
    let ifl = env.ok(&["domiflist", &name]);
    assert!(ifl.contains("52:54:00:aa:00:01"), "{ifl}");
    assert_eq!(
        env.ok(&[
            "detach-interface",
            &name,
            "user",
            "--mac",
            "52:54:00:aa:00:01"
        ]),
        "Interface detached successfully\n\n"
    );
    assert!(!env.ok(&["domiflist", &name]).contains("52:54:00:aa:00:01"));
    env.ok(&["attach-device", &name, &nic, "--config"]);
    assert!(env
        .ok(&["domiflist", &name, "--inactive"])
        .contains("52:54:00:aa:00:01"));
    env.ok(&["detach-device", &name, &nic, "--config"]);
    assert!(!env
        .ok(&["domiflist", &name, "--inactive"])
        .contains("52:54:00:aa:00:01"));

    env.ok(&["destroy", &name]);
    // Shut off: --config, and --current meaning the persistent definition.
    env.ok(&["attach-disk", &name, &d2, "vdc", "--config"]);
    assert!(has_target(&blk(&env, &name, &[]), "vdc"));
    env.ok(&["detach-disk", &name, "vdc", "--current"]);
    assert!(!has_target(&blk(&env, &name, &[]), "vdc"));
}

#[test]
fn memory_and_vcpus() {
    let Some(guest) = tiny_guest("memory_and_vcpus") else {
        return;
    };
    let env = Embed::new("hpmem");
    let name = unique_name("hpmem");
    env.define(&name, &guest_xml(&env, &guest, &name));
    env.ok(&["start", &name]);
    env.wait_serial(&name, READY, 1, BOOT);

    // setmem live goes to the balloon (the tiny guest has no balloon driver, so the size it
    // reports does not move; QEMU accepted the target).
    env.ok(&["setmem", &name, "150M"]);
    assert!(env
        .err(&["setmem", &name, "300M"])
        .contains("error: invalid argument: cannot set memory higher than max memory"));
    env.ok(&["setmem", &name, "160M", "--config"]);
    let inactive = env.ok(&["dumpxml", &name, "--inactive"]);
    assert!(
        inactive.contains("<currentMemory unit='KiB'>163840</currentMemory>"),
        "{inactive}"
    );

    // setmaxmem: config only.
    assert_eq!(
        env.err(&["setmaxmem", &name, "300M"]),
        "error: Unable to change MaxMemorySize\nerror: Requested operation is not valid: cannot resize the maximum memory on an active domain\n"
    );
    env.ok(&["setmaxmem", &name, "300M", "--config"]);
    let inactive = env.ok(&["dumpxml", &name, "--inactive"]);
    assert!(
        inactive.contains("<memory unit='KiB'>307200</memory>"),
        "{inactive}"
    );

    // setvcpus: CPU hotplug up to the maximum.
    env.ok(&["setvcpus", &name, "2", "--live"]);
    let count = env.ok(&["vcpucount", &name]);
    assert!(count.contains("current      live           2"), "{count}");
    assert!(count.contains("current      config         1"), "{count}");
    assert!(env.err(&["setvcpus", &name, "3", "--live"]).contains(
        "requested vcpus is greater than max allowable vcpus for the live domain: 3 > 2"
    ));
    assert!(env
        .err(&["setvcpus", &name, "4", "--maximum", "--live"])
        .contains("maximum vcpu count of a live domain can't be modified"));
    env.ok(&["setvcpus", &name, "2", "--config"]);
    assert!(env
        .ok(&["vcpucount", &name])
        .contains("current      config         2"));
    env.ok(&["destroy", &name]);

    // Without a balloon, a running guest's memory cannot change.
    let bare = unique_name("hpbare");
    env.define(&bare, &bare_xml(&bare, ""));
    env.ok(&["start", &bare]);
    assert!(env.err(&["setmem", &bare, "32M"]).contains(
        "error: Requested operation is not valid: Unable to change memory of active domain without the balloon device and guest OS balloon driver"
    ));
    env.ok(&["destroy", &bare]);
}
