use super::*;
use crate::generated::admin::{AdminTypedParam, AdminTypedParamValue};
use crate::generated::remote::{
    RemoteAuthListRet, RemoteAuthType, RemoteDomainGetInfoRet, RemoteNodeGetInfoRet,
    RemoteNonnullDomain, RemoteTypedParam, RemoteTypedParamValue, REMOTE_STRING_MAX,
};

fn round_trip<T: Xdr + PartialEq + std::fmt::Debug>(value: T, bytes: &[u8]) {
    assert_eq!(to_bytes(&value).unwrap(), bytes, "encoding {value:?}");
    assert_eq!(from_bytes::<T>(bytes).unwrap(), value);
}

#[test]
fn integers() {
    round_trip(-2i32, &[0xff, 0xff, 0xff, 0xfe]);
    round_trip(0x0102_0304u32, &[1, 2, 3, 4]);
    round_trip(-1i64, &[0xff; 8]);
    round_trip(0x0102_0304_0506_0708u64, &[1, 2, 3, 4, 5, 6, 7, 8]);
    round_trip(1.5f64, &[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    round_trip(1.5f32, &[0x3f, 0xc0, 0, 0]);
    round_trip(true, &[0, 0, 0, 1]);
    round_trip(false, &[0, 0, 0, 0]);
    round_trip((), &[]);
}

#[test]
fn small_c_types_take_a_whole_word() {
    round_trip(-1i8, &[0xff, 0xff, 0xff, 0xff]);
    round_trip(200u8, &[0, 0, 0, 200]);
    round_trip(-3i16, &[0xff, 0xff, 0xff, 0xfd]);
    round_trip(65535u16, &[0, 0, 0xff, 0xff]);
    assert!(matches!(
        from_bytes::<u8>(&[0, 0, 1, 0]),
        Err(XdrError::OutOfRange { value: 256, .. })
    ));
    assert!(from_bytes::<i8>(&[0, 0, 0, 0x80]).is_err());
}

#[test]
fn strings_and_opaque_are_padded() {
    let mut w = XdrWriter::new();
    w.put_string("abcde", 10);
    w.put_opaque(&[1, 2, 3, 4], 4);
    w.put_fixed_opaque(&[9, 9]);
    let bytes = w.finish().unwrap();
    assert_eq!(
        bytes,
        [0, 0, 0, 5, b'a', b'b', b'c', b'd', b'e', 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4, 9, 9, 0, 0]
    );
    let mut r = XdrReader::new(&bytes);
    assert_eq!(r.get_string(10).unwrap(), "abcde");
    assert_eq!(r.get_opaque(4).unwrap(), [1, 2, 3, 4]);
    assert_eq!(r.get_fixed_opaque::<2>().unwrap(), [9, 9]);
    r.finish().unwrap();
    round_trip(String::from("xyz"), &[0, 0, 0, 3, b'x', b'y', b'z', 0]);
    round_trip(String::new(), &[0, 0, 0, 0]);
}

#[test]
fn optional_and_arrays() {
    round_trip(Some(7u32), &[0, 0, 0, 1, 0, 0, 0, 7]);
    round_trip(None::<u32>, &[0, 0, 0, 0]);
    round_trip([1i32, 2], &[0, 0, 0, 1, 0, 0, 0, 2]);
    let mut w = XdrWriter::new();
    w.put_array(&[5u32, 6], 2);
    w.put_string_array(&["a".to_string()], 1, 1);
    w.put_opt_string(&Some("b".into()), 1);
    w.put_opt_string(&None, 1);
    let bytes = w.finish().unwrap();
    let mut r = XdrReader::new(&bytes);
    assert_eq!(r.get_array::<u32>(2).unwrap(), [5, 6]);
    assert_eq!(r.get_string_array(1, 1).unwrap(), ["a"]);
    assert_eq!(r.get_opt_string(1).unwrap().as_deref(), Some("b"));
    assert_eq!(r.get_opt_string(1).unwrap(), None);
    r.finish().unwrap();
}

#[test]
fn encoding_over_the_maximum_fails_at_finish() {
    let mut w = XdrWriter::new();
    w.put_string("toolong", 3);
    assert!(matches!(
        w.finish(),
        Err(XdrError::EncodeTooLong { len: 7, max: 3, .. })
    ));
    let mut w = XdrWriter::new();
    w.put_array(&[1u32, 2, 3], 2);
    assert!(w.finish().is_err());
}

#[test]
fn nonnull_domain_bytes() {
    // name "test" (length, 4 bytes, no padding), 16 raw UUID bytes, id 1.
    let dom = RemoteNonnullDomain {
        name: "test".into(),
        uuid: *b"\x6b\x3f\x1a\x0c\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb",
        id: 1,
    };
    let mut want = vec![0, 0, 0, 4, b't', b'e', b's', b't'];
    want.extend_from_slice(&dom.uuid);
    want.extend_from_slice(&[0, 0, 0, 1]);
    round_trip(dom, &want);
}

#[test]
fn domain_get_info_ret_bytes() {
    // unsigned char state and unsigned short nrVirtCpu take 4 bytes each: 32 bytes in all.
    let info = RemoteDomainGetInfoRet {
        state: 1,
        max_mem: 8 << 20,
        memory: 2 << 20,
        nr_virt_cpu: 2,
        cpu_time: 3,
    };
    let want = [
        0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
        0, 0, 0, 3,
    ];
    round_trip(info, &want);
}

#[test]
fn node_info_model_is_128_bytes() {
    let mut info = RemoteNodeGetInfoRet::default();
    for (i, b) in b"i686".iter().enumerate() {
        info.model[i] = *b as i8;
    }
    let bytes = to_bytes(&info).unwrap();
    assert_eq!(bytes.len(), 32 * 4 + 8 + 6 * 4);
    assert_eq!(&bytes[..8], &[0, 0, 0, b'i', 0, 0, 0, b'6']);
    assert_eq!(from_bytes::<RemoteNodeGetInfoRet>(&bytes).unwrap(), info);
}

#[test]
fn unions_and_enums() {
    let p = RemoteTypedParam {
        field: "x".into(),
        value: RemoteTypedParamValue::String("yz".into()),
    };
    round_trip(
        p,
        &[
            0, 0, 0, 1, b'x', 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2, b'y', b'z', 0, 0,
        ],
    );
    round_trip(
        RemoteTypedParamValue::Ullong(5),
        &[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5],
    );
    round_trip(
        AdminTypedParam {
            field: "b".into(),
            value: AdminTypedParamValue::Boolean(1),
        },
        &[0, 0, 0, 1, b'b', 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1],
    );
    round_trip(
        RemoteAuthListRet {
            types: vec![RemoteAuthType::Polkit],
        },
        &[0, 0, 0, 1, 0, 0, 0, 2],
    );
    assert!(matches!(
        from_bytes::<RemoteTypedParamValue>(&[0, 0, 0, 8, 0, 0, 0, 0]),
        Err(XdrError::BadDiscriminant { value: 8, .. })
    ));
    assert!(matches!(
        from_bytes::<RemoteAuthType>(&[0, 0, 0, 3]),
        Err(XdrError::BadEnum { value: 3, .. })
    ));
}

#[test]
fn truncated_input_is_an_error() {
    assert!(matches!(
        from_bytes::<u32>(&[0, 0, 1]),
        Err(XdrError::Truncated { needed: 4, .. })
    ));
    assert!(from_bytes::<u64>(&[0; 7]).is_err());
    // The string says 5 bytes (8 with padding) and only 4 follow.
    let mut r = XdrReader::new(&[0, 0, 0, 5, b'a', b'b', b'c', b'd']);
    assert!(matches!(
        r.get_string(100),
        Err(XdrError::Truncated { needed: 8, .. })
    ));
    let dom = to_bytes(&RemoteNonnullDomain::default()).unwrap();
    for cut in 0..dom.len() {
        assert!(from_bytes::<RemoteNonnullDomain>(&dom[..cut]).is_err());
    }
}

#[test]
fn bad_padding_and_bools_are_errors() {
    let mut r = XdrReader::new(&[0, 0, 0, 1, b'a', 0, 1, 0]);
    assert!(matches!(
        r.get_string(10),
        Err(XdrError::BadPadding { offset: 5 })
    ));
    assert!(matches!(
        from_bytes::<bool>(&[0, 0, 0, 2]),
        Err(XdrError::BadBool { value: 2, .. })
    ));
    assert!(from_bytes::<Option<u32>>(&[0, 0, 0, 2, 0, 0, 0, 0]).is_err());
}

#[test]
fn huge_lengths_fail_before_allocating() {
    // 2^31 in a 100-byte input: over REMOTE_STRING_MAX, and over what is left.
    let mut data = vec![0x80, 0, 0, 0];
    data.resize(100, 0);
    let mut r = XdrReader::new(&data);
    assert!(matches!(
        r.get_string(REMOTE_STRING_MAX),
        Err(XdrError::TooLong { .. })
    ));
    let mut r = XdrReader::new(&data);
    assert!(matches!(
        r.get_string(u32::MAX),
        Err(XdrError::Truncated { .. })
    ));
    // An array count that the rest cannot hold, even at 4 bytes an item.
    let mut r = XdrReader::new(&[0, 0, 0, 30, 0, 0, 0, 0]);
    assert!(matches!(
        r.get_array::<u32>(1000),
        Err(XdrError::Truncated { needed: 120, .. })
    ));
    let mut r = XdrReader::new(&[0xff, 0xff, 0xff, 0xff]);
    assert!(r.get_array::<u64>(u32::MAX).is_err());
    let mut r = XdrReader::new(&[0, 0, 0, 3]);
    assert!(matches!(
        r.get_array::<u32>(2),
        Err(XdrError::TooLong { len: 3, max: 2, .. })
    ));
}

#[test]
fn trailing_bytes_are_an_error() {
    assert!(matches!(
        from_bytes::<u32>(&[0, 0, 0, 1, 0]),
        Err(XdrError::Trailing { count: 1, .. })
    ));
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let s: String = from_bytes(&[0, 0, 0, 2, b'a', 0xff, 0, 0]).unwrap();
    assert_eq!(s, "a\u{fffd}");
}
