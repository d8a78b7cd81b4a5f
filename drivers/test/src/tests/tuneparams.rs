//! memtune and blkiotune parameters: stored in the definitions, with libvirt's checks.

use super::*;
use virtsh_api::flags::MEMORY_PARAM_UNLIMITED as UNLIMITED;
use virtsh_api::{impact, TypedParam, TypedValue};

fn ull(field: &str, v: u64) -> TypedParam {
    TypedParam::new(field, TypedValue::ULLong(v))
}

fn string(field: &str, v: &str) -> TypedParam {
    TypedParam::new(field, TypedValue::String(v.to_string()))
}

#[test]
fn memory_params_live_and_config() {
    let c = conn();
    let t = test_dom(&c);
    let all = |f| {
        c.domain_memory_params(&t, f)
            .unwrap()
            .into_iter()
            .map(|p| (p.field, p.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        all(0),
        vec![
            ("hard_limit".into(), TypedValue::ULLong(UNLIMITED)),
            ("soft_limit".into(), TypedValue::ULLong(UNLIMITED)),
            ("swap_hard_limit".into(), TypedValue::ULLong(UNLIMITED)),
        ]
    );
    c.set_domain_memory_params(&t, &[ull("hard_limit", 100000)], 0)
        .unwrap();
    assert!(c
        .domain_xml(&t, 0)
        .unwrap()
        .contains("<memtune>\n    <hard_limit unit='KiB'>100000</hard_limit>\n  </memtune>"));
    assert!(!c.domain_xml(&t, 2).unwrap().contains("<memtune>"));
    c.set_domain_memory_params(&t, &[ull("soft_limit", 7)], impact::CONFIG)
        .unwrap();
    assert_eq!(all(impact::CONFIG)[1].1, TypedValue::ULLong(7));
    assert_eq!(all(impact::LIVE)[1].1, TypedValue::ULLong(UNLIMITED));
    // Unlimited again: the element goes away.
    c.set_domain_memory_params(&t, &[ull("hard_limit", UNLIMITED)], 0)
        .unwrap();
    assert!(!c.domain_xml(&t, 0).unwrap().contains("<memtune>"));
}

#[test]
fn memory_params_errors() {
    let c = conn();
    let t = test_dom(&c);
    assert_eq!(
        err(c.set_domain_memory_params(&t, &[ull("min_guarantee", 5)], 0)),
        "argument unsupported: parameter 'min_guarantee' not supported"
    );
    assert_eq!(
        err(c.set_domain_memory_params(
            &t,
            &[ull("swap_hard_limit", 10), ull("hard_limit", 20)],
            0
        )),
        "invalid argument: memory hard_limit tunable value must be lower than or equal to swap_hard_limit"
    );
    // The limits compared are the live ones, even for the persistent definition.
    assert!(c
        .set_domain_memory_params(&t, &[ull("swap_hard_limit", 3)], impact::CONFIG)
        .is_err());
    c.set_domain_memory_params(&t, &[ull("hard_limit", 0)], impact::LIVE)
        .unwrap();
    c.set_domain_memory_params(&t, &[ull("swap_hard_limit", 3)], impact::CONFIG)
        .unwrap();
    c.set_domain_memory_params(&t, &[ull("hard_limit", 8)], impact::CONFIG)
        .unwrap();
    assert_eq!(
        err(c.domain_memory_params(&t, impact::LIVE | impact::CONFIG)),
        "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"
    );
    assert_eq!(
        err(c.set_domain_memory_params(
            &t,
            &[TypedParam::new("hard_limit", TypedValue::UInt(1))],
            0
        )),
        "invalid argument: invalid type 'uint' for parameter 'hard_limit', expected 'ullong'"
    );
}

#[test]
fn blkio_params() {
    let c = conn();
    let t = test_dom(&c);
    c.set_domain_blkio_params(
        &t,
        &[
            TypedParam::new("weight", TypedValue::UInt(500)),
            string("device_weight", "/dev/sda,100,/dev/sdb,200"),
            string("device_read_iops_sec", "/dev/sda,5"),
        ],
        0,
    )
    .unwrap();
    let got = c.domain_blkio_params(&t, 0).unwrap();
    assert_eq!(got[0].value, TypedValue::UInt(500));
    assert_eq!(
        got[1].value,
        TypedValue::String("/dev/sda,100,/dev/sdb,200".into())
    );
    assert_eq!(got[2].value, TypedValue::String("/dev/sda,5".into()));
    assert_eq!(got[5].field, "device_write_bytes_sec");
    let xml = c.domain_xml(&t, 0).unwrap();
    assert!(xml.contains(
        "  <blkiotune>\n    <weight>500</weight>\n    <device>\n      <path>/dev/sda</path>\n      <weight>100</weight>\n      <read_iops_sec>5</read_iops_sec>\n    </device>\n"
    ));
    // A failing list does not stop the others; the call reports the failure.
    assert_eq!(
        err(c.set_domain_blkio_params(
            &t,
            &[
                TypedParam::new("weight", TypedValue::UInt(7)),
                string("device_weight", "/dev/sda"),
            ],
            0
        )),
        "invalid argument: unable to parse blkio device 'device_weight' '/dev/sda'"
    );
    assert_eq!(
        c.domain_blkio_params(&t, 0).unwrap()[0].value,
        TypedValue::UInt(7)
    );
}
