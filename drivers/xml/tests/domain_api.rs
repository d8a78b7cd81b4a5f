//! The typed view other parts of virtsh read (names, memory, vCPUs, disks, interfaces,
//! consoles), name validation, and the runtime parts of the format (id, passwords).

use virtsh_xml::domain::{validate_name, DomainDef, FormatOptions};
use virtsh_xml::XmlErrorKind;

const XML: &str = "<domain type='kvm'>
  <name>api</name>
  <memory unit='GiB'>2</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/images/api.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='data.raw'/>
      <target dev='vdb'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc'/>
    </disk>
    <interface type='bridge'>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:00:00:0A'/>
      <source network='default'/>
      <target dev='vnet3'/>
    </interface>
    <serial type='pty'/>
    <graphics type='vnc' port='5905' passwd='s3cret'/>
  </devices>
</domain>
";

#[test]
fn typed_fields_reflect_the_definition() {
    let d = DomainDef::parse(XML).expect("parse");
    assert_eq!(d.virt_type, "kvm");
    assert_eq!(d.name, "api");
    assert_eq!(d.memory_kib, 2 * 1024 * 1024);
    assert_eq!(d.current_memory_kib, 512 * 1024);
    assert_eq!((d.vcpus, d.current_vcpus), (2, 1));
    assert_eq!(d.os.os_type, "hvm");
    assert_eq!(d.os.arch.as_deref(), Some("x86_64"));
    assert_eq!(d.os.machine.as_deref(), Some("q35"));
    assert_eq!(
        (
            d.on_poweroff.as_str(),
            d.on_reboot.as_str(),
            d.on_crash.as_str()
        ),
        ("destroy", "restart", "destroy")
    );

    let disks = &d.devices.disks;
    assert_eq!(disks[0].source.as_deref(), Some("/images/api.qcow2"));
    assert_eq!(disks[0].driver_type.as_deref(), Some("qcow2"));
    assert_eq!(disks[1].source.as_deref(), Some("data.raw"));
    assert_eq!(disks[1].source_pool.as_deref(), Some("default"));
    assert_eq!(disks[1].target_bus.as_deref(), Some("virtio"));
    assert_eq!(disks[2].device, "cdrom");
    assert_eq!(disks[2].source, None);
    assert!(disks[2].readonly, "libvirt makes CD-ROMs read-only");

    let nets = &d.devices.interfaces;
    assert_eq!(nets[0].source.as_deref(), Some("br0"));
    assert_eq!(nets[0].model.as_deref(), Some("virtio"));
    let mac = nets[0].mac.as_deref().expect("generated mac");
    assert!(mac.starts_with("52:54:00:") && mac.len() == 17, "{mac}");
    assert_eq!(nets[1].mac.as_deref(), Some("52:54:00:00:00:0a"));
    assert_eq!(
        nets[1].target_dev, None,
        "vnetN names are libvirt's own and dropped"
    );

    assert_eq!(d.devices.serials.len(), 1);
    assert_eq!(
        d.devices.consoles.len(),
        1,
        "a serial port brings a console alias"
    );
}

#[test]
fn uuid_is_generated_when_absent() {
    let a = DomainDef::parse(XML).expect("parse");
    let b = DomainDef::parse(XML).expect("parse");
    assert_ne!(a.uuid, b.uuid);
    assert_eq!(a.uuid.get_version_num(), 4);
}

#[test]
fn test_driver_names_interfaces() {
    let mut d = DomainDef::parse(XML).expect("parse");
    d.assign_test_ifnames();
    let names: Vec<_> = d
        .devices
        .interfaces
        .iter()
        .map(|n| n.target_dev.clone())
        .collect();
    assert_eq!(
        names,
        vec![Some("testnet0".to_string()), Some("testnet1".to_string())]
    );
}

#[test]
fn running_format_has_id_and_secure_shows_passwords() {
    let d = DomainDef::parse(XML).expect("parse");
    let live = d.to_xml(&FormatOptions {
        inactive: false,
        id: Some(3),
        secure: false,
    });
    assert!(live.starts_with("<domain type='kvm' id='3'>\n"), "{live}");
    assert!(!live.contains("passwd"));
    let inactive = d.to_xml(&FormatOptions {
        inactive: true,
        id: Some(3),
        secure: true,
    });
    assert!(inactive.starts_with("<domain type='kvm'>\n"));
    assert!(
        inactive.contains("<graphics type='vnc' port='5905' autoport='no' passwd='s3cret'>"),
        "{inactive}"
    );
    assert!(inactive.ends_with("</domain>\n"));
}

#[test]
fn mutated_fields_are_formatted() {
    let mut d = DomainDef::parse(XML).expect("parse");
    d.devices.disks[2].source = Some("/iso/new.iso".into());
    d.memory_kib = 4096;
    d.current_memory_kib = 4096;
    let out = d.to_xml(&FormatOptions::default());
    assert!(out.contains("<source file='/iso/new.iso'/>"), "{out}");
    assert!(out.contains("<memory unit='KiB'>4096</memory>"));
}

#[test]
fn names_are_validated_with_libvirt_words() {
    assert!(validate_name("guest-1").is_ok());
    let e = validate_name("").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (XmlErrorKind::Missing, "missing name information")
    );
    let e = validate_name("a/b").unwrap_err();
    assert_eq!(e.kind, XmlErrorKind::Invalid);
    assert_eq!(
        e.libvirt_message("x", ""),
        "XML error: name a/b cannot contain '/'"
    );
    let e = validate_name("a\nb").unwrap_err();
    assert_eq!(e.message, "invalid char in name: \n");
    assert!(
        validate_name("a\tb").is_err(),
        "control characters are refused"
    );
}

#[test]
fn errors_point_at_the_offending_element() {
    let xml = "<domain type='kvm'>\n  <name>p</name>\n  <memory>4096</memory>\n  <os><type>hvm</type></os>\n  <devices>\n    <interface type='bridge'>\n      <mac address='zz'/>\n    </interface>\n  </devices>\n</domain>\n";
    let e = DomainDef::parse(xml).unwrap_err();
    assert_eq!(e.message, "unable to parse mac address 'zz'");
    assert_eq!((e.line, e.column), (Some(7), Some(7)));
}
