//! Memory, vCPUs, metadata, statistics and the other fixed answers of the test driver.

use super::*;
use virtsh_api::flags::{metadata, vcpu};
use virtsh_api::{impact, TypedParam, TypedValue};

const EXCLUSIVE: &str =
    "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive";
const MAXIMUM: u32 = virtsh_api::flags::memory::MAXIMUM;

#[test]
fn set_memory() {
    let c = conn();
    let t = test_dom(&c);
    let d1 = define_d1(&c);
    c.set_domain_memory(&t, 1000000, impact::CURRENT).unwrap();
    assert_eq!(c.domain_info(&t).unwrap().memory_kib, 1000000);
    c.set_domain_memory(&t, 1000, impact::CONFIG).unwrap();
    assert!(c
        .domain_xml(&t, 2)
        .unwrap()
        .contains("<currentMemory unit='KiB'>1000<"));
    assert_eq!(
        err(c.set_domain_memory(&t, 1000, impact::LIVE | impact::CONFIG)),
        EXCLUSIVE
    );
    assert_eq!(
        err(c.set_domain_memory(&t, 9000000, 0)),
        "invalid argument: cannot set memory higher than max memory"
    );
    assert_eq!(
        err(c.set_domain_memory(&t, 9000000, MAXIMUM)),
        "Requested operation is not valid: cannot resize the maximum memory on an active domain"
    );
    assert_eq!(
        err(c.set_domain_memory(&d1, 1000, impact::LIVE)),
        "Requested operation is not valid: domain is not running"
    );
    assert_eq!(
        err(c.set_domain_memory(&t, 0, 0)),
        "memory in virDomainSetMemoryFlags must not be zero"
    );
    assert_eq!(
        err(c.set_domain_memory(&t, 5, 64)),
        "unsupported flags (0x40) in function testDomainSetMemoryFlags"
    );
    // The maximum of the config; the current size follows it down.
    c.set_domain_memory(&t, 100, impact::CONFIG | MAXIMUM)
        .unwrap();
    let x = c.domain_xml(&t, 2).unwrap();
    assert!(x.contains("<memory unit='KiB'>100</memory>"), "{x}");
    assert!(
        x.contains("<currentMemory unit='KiB'>100</currentMemory>"),
        "{x}"
    );
    let tr = c.create_domain(&D1_XML.replace("d1", "tr"), 0).unwrap();
    assert_eq!(
        err(c.set_domain_memory(&tr, 100, impact::CONFIG)),
        "Requested operation is not valid: transient domains do not have any persistent config"
    );
}

#[test]
fn set_vcpus() {
    let c = conn();
    let t = test_dom(&c);
    c.set_domain_vcpus(&t, 1, impact::LIVE).unwrap();
    assert!(c
        .domain_xml(&t, 0)
        .unwrap()
        .contains("<vcpu placement='static' current='1'>2</vcpu>"));
    assert_eq!(c.domain_vcpus_count(&t, impact::LIVE).unwrap(), 1);
    assert_eq!(c.domain_vcpus_count(&t, impact::CONFIG).unwrap(), 2);
    assert_eq!(
        c.domain_vcpus_count(&t, impact::LIVE | vcpu::MAXIMUM)
            .unwrap(),
        2
    );
    assert_eq!(c.domain_max_vcpus(&t).unwrap(), 2);
    assert_eq!(c.domain_info(&t).unwrap().nr_virt_cpu, 1);
    assert_eq!(
        err(c.set_domain_vcpus(&t, 3, 0)),
        "invalid argument: requested cpu amount exceeds maximum (3 > 2)"
    );
    assert_eq!(
        err(c.set_domain_vcpus(&t, 40, 0)),
        "invalid argument: requested cpu amount exceeds maximum supported amount (40 > 32)"
    );
    assert_eq!(
        err(c.set_domain_vcpus(&t, 4, vcpu::MAXIMUM)),
        "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'"
    );
    assert_eq!(
        err(c.set_domain_vcpus(&t, 0, 0)),
        "nvcpus in virDomainSetVcpusFlags must not be zero"
    );
    c.set_domain_vcpus(&t, 1, impact::CONFIG).unwrap();
    c.set_domain_vcpus(&t, 3, impact::CONFIG | vcpu::MAXIMUM)
        .unwrap();
    assert!(c
        .domain_xml(&t, 2)
        .unwrap()
        .contains("<vcpu placement='static' current='1'>3</vcpu>"));
    assert_eq!(err(c.domain_vcpus_count(&t, 3)), EXCLUSIVE);
    assert_eq!(
        err(c.domain_vcpus_count(&t, vcpu::GUEST)),
        "unsupported flags (0x8) in function testDomainGetVcpusFlags"
    );
    let d1 = define_d1(&c);
    assert_eq!(
        err(c.domain_max_vcpus(&d1)),
        "Requested operation is not valid: domain is not running"
    );
}

#[test]
fn vcpu_info() {
    let c = conn();
    let t = test_dom(&c);
    let v = c.domain_vcpu_info(&t).unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!((v[1].number, v[1].state, v[1].cpu), (1, 1, 15));
    assert_eq!(v[0].affinity, vec![true; 8]);
    let d1 = define_d1(&c);
    assert_eq!(
        err(c.domain_vcpu_info(&d1)),
        "Requested operation is not valid: cannot list vcpus for an inactive domain"
    );
}

#[test]
fn block_info_and_memory_stats() {
    let c = conn();
    let t = test_dom(&c);
    for disk in ["vda", "/guest/diskimage1"] {
        let b = c.domain_block_info(&t, disk).unwrap();
        assert_eq!(
            (b.capacity, b.allocation, b.physical),
            (1099506450432, 1099511627776, 1099511627776)
        );
    }
    assert_eq!(
        err(c.domain_block_info(&t, "vdb")),
        "invalid argument: invalid path vdb not assigned to domain"
    );
    let stats = c.domain_memory_stats(&t).unwrap();
    let expect: Vec<(i32, u64)> = vec![
        (6, 2097152),
        (0, 0),
        (1, 0),
        (2, 0),
        (3, 0),
        (4, 1048576),
        (5, 2097152),
        (8, 1048576),
        (9, 627319920),
        (10, 262144),
        (11, 0),
        (12, 0),
        (7, 1048576),
    ];
    assert_eq!(stats, expect);
    let d1 = define_d1(&c);
    assert_eq!(
        err(c.domain_memory_stats(&d1)),
        "Requested operation is not valid: domain is not running"
    );
    // No balloon, no statistics.
    let d1 = c.start_domain(&d1, 0).unwrap();
    assert!(c.domain_memory_stats(&d1).unwrap().is_empty());
}

#[test]
fn domain_stats_records() {
    let c = conn();
    let d1 = define_d1(&c);
    let recs = c.domain_stats(&[], 0, 0).unwrap();
    assert_eq!(recs.len(), 2);
    let t = recs.iter().find(|r| r.domain.name == "test").unwrap();
    assert_eq!(
        t.params,
        vec![
            TypedParam::new("state.state", TypedValue::Int(1)),
            TypedParam::new("state.reason", TypedValue::Int(0)),
        ]
    );
    // Unsupported groups are dropped, or refused when enforced.
    let cpu = virtsh_api::flags::stats::CPU_TOTAL;
    let recs = c.domain_stats(&[], cpu, 0).unwrap();
    assert!(recs.iter().all(|r| r.params.is_empty()));
    assert_eq!(
        err(c.domain_stats(&[], cpu, 1 << 31)),
        "argument unsupported: Stats types bits 0x2 are not supported by this daemon"
    );
    let only = c.domain_stats(std::slice::from_ref(&d1), 0, 0).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(
        only[0].params[0],
        TypedParam::new("state.state", TypedValue::Int(5))
    );
    assert!(c.domain_stats(&[d1], 0, 1).unwrap().is_empty()); // active only
    assert_eq!(
        err(c.domain_stats(&[], 0, 1 << 8)),
        "unsupported flags (0x100) in function testConnectGetAllDomainStats"
    );
}

#[test]
fn scheduler_and_security() {
    let c = conn();
    let t = test_dom(&c);
    assert_eq!(
        c.domain_scheduler_type(&t).unwrap(),
        ("fair".to_string(), 1)
    );
    assert_eq!(
        c.domain_scheduler_params(&t, 0).unwrap(),
        vec![TypedParam::new("weight", TypedValue::UInt(50))]
    );
    assert_eq!(
        err(c.domain_scheduler_params(&t, 6)),
        "unsupported flags (0x6) in function testDomainGetSchedulerParametersFlags"
    );
    c.set_domain_scheduler_params(&t, &[TypedParam::new("weight", TypedValue::UInt(10))], 0)
        .unwrap();
    assert_eq!(
        c.domain_scheduler_params(&t, 0).unwrap()[0].value,
        TypedValue::UInt(50)
    );
    let l = c.domain_security_label(&t).unwrap();
    assert_eq!((l.label.as_str(), l.enforcing), ("libvirt-test", true));
    let l = c.domain_security_label(&define_d1(&c)).unwrap();
    assert_eq!((l.label.as_str(), l.enforcing), ("", false));
}

#[test]
fn metadata_title_description_elements() {
    let c = conn();
    let t = test_dom(&c);
    let missing = "metadata not found: Requested metadata element is not present";
    assert_eq!(
        err(c.domain_metadata(&t, metadata::DESCRIPTION, None, 0)),
        missing
    );
    c.set_domain_metadata(&t, metadata::TITLE, Some("My title"), None, None, 0)
        .unwrap();
    assert_eq!(
        c.domain_metadata(&t, metadata::TITLE, None, 0).unwrap(),
        "My title"
    );
    c.set_domain_metadata(&t, metadata::DESCRIPTION, Some("live"), None, None, 0)
        .unwrap();
    c.set_domain_metadata(
        &t,
        metadata::DESCRIPTION,
        Some("cfg"),
        None,
        None,
        impact::CONFIG,
    )
    .unwrap();
    assert_eq!(
        c.domain_metadata(&t, metadata::DESCRIPTION, None, 0)
            .unwrap(),
        "live"
    );
    assert_eq!(
        c.domain_metadata(&t, metadata::DESCRIPTION, None, impact::CONFIG)
            .unwrap(),
        "cfg"
    );
    assert!(c
        .domain_xml(&t, 0)
        .unwrap()
        .contains("<description>live</description>"));
    c.set_domain_metadata(&t, metadata::TITLE, Some(""), None, None, 0)
        .unwrap();
    assert_eq!(
        err(c.domain_metadata(&t, metadata::TITLE, None, 0)),
        missing
    );
    assert_eq!(
        err(c.set_domain_metadata(&t, metadata::TITLE, Some("a\nb"), None, None, 0)),
        "metadata title can't contain newlines"
    );
    let uri = Some("http://x.org/");
    c.set_domain_metadata(&t, metadata::ELEMENT, Some("<a>b</a>"), Some("x"), uri, 0)
        .unwrap();
    assert_eq!(
        c.domain_metadata(&t, metadata::ELEMENT, uri, 0).unwrap(),
        "<a>b</a>"
    );
    assert!(c
        .domain_xml(&t, 0)
        .unwrap()
        .contains("<metadata>\n    <x:a xmlns:x=\"http://x.org/\">b</x:a>\n  </metadata>"));
    assert_eq!(
        err(c.domain_metadata(&t, metadata::ELEMENT, Some("http://y.org/"), 0)),
        missing
    );
    assert_eq!(
        err(c.domain_metadata(&t, metadata::ELEMENT, None, 0)),
        "uri in virDomainGetMetadata must not be NULL"
    );
    assert_eq!(
        err(c.set_domain_metadata(&t, metadata::ELEMENT, Some("<a>b"), Some("k"), uri, 0)),
        "(metadata_xml):1: Premature end of data in tag a line 1\n<a>b\n----^"
    );
    c.set_domain_metadata(&t, metadata::ELEMENT, None, None, uri, 0)
        .unwrap();
    assert_eq!(
        err(c.domain_metadata(&t, metadata::ELEMENT, uri, 0)),
        missing
    );
    assert_eq!(
        err(c.domain_metadata(&t, 5, None, 0)),
        "invalid argument: unknown metadata type '5'"
    );
    assert_eq!(err(c.domain_metadata(&t, 0, None, 3)), EXCLUSIVE);
    let d1 = define_d1(&c);
    assert_eq!(
        err(c.set_domain_metadata(&d1, 0, Some("x"), None, None, impact::LIVE)),
        "Requested operation is not valid: domain is not running"
    );
}
