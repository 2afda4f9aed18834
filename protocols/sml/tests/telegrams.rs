//! Telegrams built with the crate's encoder decode back to their values; quirks and bad
//! frames behave as documented.

use pqe_sml::build::{telegram, EntrySpec, ValueSpec};
use pqe_sml::{decode_all, CrcKind, CrcMode, Obis, Quirk, ReaderEvent, SmlValue};

fn entry(obis: [u8; 6], unit: u8, scaler: i8, value: ValueSpec) -> EntrySpec {
    EntrySpec {
        obis,
        status: Some((0x0001_0182, 4)),
        unit: Some(unit),
        scaler: Some(scaler),
        value,
    }
}

fn server() -> Vec<u8> {
    vec![0x0A, 0x01, 0x44, 0x5A, 0x47, 0x00, 0x02, 0x65, 0xBA, 0x71]
}

#[test]
fn get_list_values_with_scaler_and_unit() {
    let entries = vec![
        entry(
            [1, 0, 1, 8, 0, 255],
            30,
            -1,
            ValueSpec::Unsigned(123_456_789, 5),
        ),
        entry(
            [1, 0, 16, 7, 0, 255],
            27,
            -2,
            ValueSpec::Integer(-10_550, 3),
        ),
        entry([1, 0, 32, 7, 0, 255], 35, -1, ValueSpec::Unsigned(2301, 2)),
        EntrySpec {
            obis: [1, 0, 96, 50, 1, 1],
            status: None,
            unit: None,
            scaler: None,
            value: ValueSpec::Octets(b"DZG".to_vec()),
        },
    ];
    for crc in [CrcKind::X25, CrcKind::Kermit] {
        let bytes = telegram(&server(), &entries, crc);
        let events = decode_all(&bytes, CrcMode::Either, &[]);
        assert_eq!(events.len(), 1, "{events:?}");
        let ReaderEvent::Telegram(t) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(t.frame.crc, crc);
        assert!(t.findings().is_empty(), "{:?}", t.findings());
        let e = t.entries();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].obis, Obis::parse("1.8.0").unwrap());
        assert_eq!(
            (e[0].scaled(), e[0].unit_symbol()),
            (Some(12_345_678.9), "Wh")
        );
        assert_eq!((e[1].scaled(), e[1].unit_symbol()), (Some(-105.5), "W"));
        assert_eq!((e[2].scaled(), e[2].unit_symbol()), (Some(230.1), "V"));
        assert_eq!(e[0].status, Some(0x0001_0182));
        assert_eq!(e[3].value, Some(SmlValue::Bytes(b"DZG".to_vec())));
    }
}

#[test]
fn quirks_are_opt_in_and_reported() {
    // DZG DVS74: +356.24 W sent as Integer16 8B28 (reads -299.12 W without the quirk).
    let dzg = vec![entry(
        [1, 0, 16, 7, 0, 255],
        27,
        -2,
        ValueSpec::Integer(0x8B28 - 0x10000, 2),
    )];
    // Unsigned32 carrying two's complement -250 W.
    let unsigned = vec![entry(
        [1, 0, 16, 7, 0, 255],
        27,
        0,
        ValueSpec::Unsigned(0xFFFF_FF06, 4),
    )];
    // EFR SGM-DD: -57 W sent as 00 C7.
    let efr = vec![entry(
        [1, 0, 16, 7, 0, 255],
        27,
        0,
        ValueSpec::Integer(0xC7, 2),
    )];
    let first = |entries: &[EntrySpec], quirks: &[Quirk]| {
        let bytes = telegram(&server(), entries, CrcKind::X25);
        match &decode_all(&bytes, CrcMode::X25, quirks)[0] {
            ReaderEvent::Telegram(t) => {
                let e = t.entries()[0].clone();
                (e.scaled().unwrap(), e.quirks_applied)
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(first(&dzg, &[]), (-299.12, vec![]));
    assert_eq!(
        first(&dzg, &[Quirk::DzgInteger16IsUnsigned]),
        (356.24, vec![Quirk::DzgInteger16IsUnsigned])
    );
    assert_eq!(first(&unsigned, &[]).0, 4_294_967_046.0);
    assert_eq!(
        first(&unsigned, &[Quirk::UnsignedPowerIsSigned]),
        (-250.0, vec![Quirk::UnsignedPowerIsSigned])
    );
    assert_eq!(first(&efr, &[]).0, 199.0);
    assert_eq!(
        first(&efr, &[Quirk::Integer16MissingSignExtension]).0,
        -57.0
    );
    // Energy registers are never touched by the power quirks.
    let energy = vec![entry(
        [1, 0, 1, 8, 0, 255],
        30,
        0,
        ValueSpec::Unsigned(0xFFFF_FF06, 4),
    )];
    assert_eq!(first(&energy, &[Quirk::UnsignedPowerIsSigned]).1, vec![]);
}

#[test]
fn corrupt_and_truncated_frames_are_reported() {
    let entries = vec![entry(
        [1, 0, 1, 8, 0, 255],
        30,
        -1,
        ValueSpec::Unsigned(1, 4),
    )];
    let good = telegram(&server(), &entries, CrcKind::X25);
    // A flipped payload byte: transport CRC error naming the CRC's offset, then the next
    // good frame still decodes.
    let mut bad = good.clone();
    bad[20] ^= 0x01;
    let mut stream = bad.clone();
    stream.extend_from_slice(&good);
    let ev = decode_all(&stream, CrcMode::X25, &[]);
    assert!(
        matches!(&ev[0], ReaderEvent::Error(pqe_sml::TransportError::Crc { offset, .. }) if *offset == bad.len() as u64 - 2),
        "{ev:?}"
    );
    assert!(matches!(&ev[1], ReaderEvent::Telegram(t) if t.frame.offset == bad.len() as u64));
    // Cut in the middle: an incomplete-frame error at the end of the stream, no hang.
    let ev = decode_all(&good[..good.len() / 2], CrcMode::X25, &[]);
    assert!(
        matches!(
            &ev[..],
            [ReaderEvent::Error(pqe_sml::TransportError::Incomplete {
                offset: 0,
                ..
            })]
        ),
        "{ev:?}"
    );
    // A Kermit frame is refused when only X.25 is accepted.
    let kermit = telegram(&server(), &entries, CrcKind::Kermit);
    assert!(matches!(
        &decode_all(&kermit, CrcMode::X25, &[])[0],
        ReaderEvent::Error(pqe_sml::TransportError::Crc { .. })
    ));
}

#[test]
fn long_lists_use_multi_byte_tl() {
    let entries: Vec<EntrySpec> = (0..20u8)
        .map(|i| {
            entry(
                [1, 0, i, 8, 0, 255],
                30,
                0,
                ValueSpec::Unsigned(i as u64, 8),
            )
        })
        .collect();
    let bytes = telegram(&server(), &entries, CrcKind::X25);
    let ReaderEvent::Telegram(t) = &decode_all(&bytes, CrcMode::X25, &[])[0] else {
        panic!()
    };
    assert_eq!(t.entries().len(), 20);
    assert_eq!(t.entries()[19].scaled(), Some(19.0));
}
