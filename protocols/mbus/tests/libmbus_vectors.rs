//! Every libmbus test frame (tests/vectors/*.hex, BSD-3-Clause, see LICENSE-libmbus.md)
//! decodes to the values of its expected decoding (*.norm.xml), field by field.
//!
//! The expected files are libmbus's "normalised" XML: per record the function, storage
//! number, tariff and subunit (where the record has DIFEs), unit, quantity and the value
//! scaled into the unit. Where libmbus's output disagrees with EN 13757-3 the difference is
//! listed in `KNOWN_DEVIATIONS` with the reason; the test fails on any other difference
//! and on a listed deviation that no longer occurs.

use pqe_mbus::data::{self, FixedData, RawValue, Record, UserData};
use pqe_mbus::frame::Frame;
use pqe_mbus::product::product_name;
use std::collections::BTreeMap;
use std::path::Path;

/// (file stem, record id or "slave", field, why our decoding differs from libmbus's).
const KNOWN_DEVIATIONS: &[(&str, &str, &str, &str)] = &[
    // BCD fields whose digits are not decimal (BD EB DD DD, DD B4 EB DD): EN 13757-3
    // annex A type A allows only 0–9 (and Fh as the sign in the top nibble); hex digits
    // signal an error. libmbus turns them into a number anyway (13131113); we give the raw
    // bytes (RawValue::InvalidBcd), never a made-up number.
    (
        "ELS_Elster-F96-Plus",
        "4",
        "Value",
        "non-decimal BCD digits",
    ),
    (
        "ELS_Elster-F96-Plus",
        "5",
        "Value",
        "non-decimal BCD digits",
    ),
    ("abb_f95", "2", "Value", "non-decimal BCD digits"),
    ("abb_f95", "3", "Value", "non-decimal BCD digits"),
    // Type F date-time A1 15 E9 17 has the IV (time invalid) bit set. libmbus prints a
    // zero date 1900-01-00T00:00:00Z; we decode the fields as sent and flag
    // DateTime::invalid (the meter's 2015-07-09T21:33 stays visible).
    (
        "REL-Relay-Padpuls2",
        "1",
        "Value",
        "IV bit set: fields kept and flagged",
    ),
    // Fixed data structure unit 3Eh means "same unit as the other counter, but historic"
    // (EN 13757-3 fixed data structure); libmbus names it "reserved but historic".
    ("manual_frame2", "1", "Unit", "unit 3Eh: same but historic"),
    // VIF 7Bh (extension pointer FBh without its extension bit, undefined): libmbus
    // prints an empty record; we keep the record (function, storage number, value 302)
    // and name the VIF "Unknown VIF 0x7b" rather than losing it.
    (
        "sen_pollutherm",
        "2",
        "Function",
        "undefined VIF 7Bh: record kept",
    ),
    (
        "sen_pollutherm",
        "2",
        "StorageNumber",
        "undefined VIF 7Bh: record kept",
    ),
    (
        "sen_pollutherm",
        "2",
        "Unit",
        "undefined VIF 7Bh: record kept",
    ),
    (
        "sen_pollutherm",
        "2",
        "Quantity",
        "undefined VIF 7Bh: record kept",
    ),
    (
        "sen_pollutherm",
        "2",
        "Value",
        "undefined VIF 7Bh: record kept",
    ),
];

type Fields = Vec<(String, String)>;

fn hex_bytes(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|e| panic!("bad hex {h:?}: {e}")))
        .collect()
}

fn hex_string(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn number(v: f64) -> String {
    format!("{v:.6}")
}

fn ours_variable(v: &data::VariableData) -> (Fields, Vec<Fields>) {
    let h = &v.header;
    let slave = vec![
        ("Id".into(), format!("{:X}", h.id)),
        ("Manufacturer".into(), h.manufacturer_code()),
        ("Version".into(), h.version.to_string()),
        ("ProductName".into(), product_name(h).to_string()),
        ("Medium".into(), h.medium_name().to_string()),
        ("AccessNumber".into(), h.access_number.to_string()),
        ("Status".into(), format!("{:02X}", h.status)),
        ("Signature".into(), format!("{:04X}", h.signature)),
    ];
    let mut records = Vec::new();
    for r in &v.records {
        let mut f: Fields = Vec::new();
        match r {
            Record::ManufacturerData {
                more_records_follow,
                bytes,
                ..
            } => {
                let name = if *more_records_follow {
                    "More records follow"
                } else {
                    "Manufacturer specific"
                };
                f.push(("Function".into(), name.into()));
                f.push(("StorageNumber".into(), "0".into()));
                f.push(("Unit".into(), "".into()));
                f.push(("Quantity".into(), "".into()));
                f.push(("Value".into(), hex_string(bytes)));
            }
            Record::Data(d) => {
                f.push(("Function".into(), d.dib.function.name().into()));
                f.push(("StorageNumber".into(), d.dib.storage_number.to_string()));
                if let Some(t) = d.dib.tariff {
                    f.push(("Tariff".into(), t.to_string()));
                }
                if let Some(s) = d.dib.subunit {
                    f.push(("Device".into(), s.to_string()));
                }
                let (q, scaled) = d.scaled();
                f.push(("Unit".into(), q.unit.into()));
                f.push(("Quantity".into(), q.name.clone()));
                let value = match (&d.value, scaled) {
                    (_, Some(x)) => number(x),
                    (RawValue::None, _) => String::new(),
                    (RawValue::Date(t), _) => t.to_string(),
                    (RawValue::Text(s), _) => s.clone(),
                    (RawValue::Bytes(b), _) | (RawValue::InvalidBcd(b), _) => hex_string(b),
                    (other, None) => format!("{other:?}"),
                };
                f.push(("Value".into(), value));
            }
        }
        records.push(f);
    }
    (slave, records)
}

fn ours_fixed(v: &FixedData) -> (Fields, Vec<Fields>) {
    let slave = vec![
        ("Id".into(), format!("{:X}", v.id)),
        ("Medium".into(), v.medium_name().into()),
        ("AccessNumber".into(), v.access_number.to_string()),
        ("Status".into(), format!("{:02X}", v.status)),
    ];
    let records = v
        .counters
        .iter()
        .map(|c| {
            vec![
                ("Function".into(), v.function_name().into()),
                ("Unit".into(), pqe_mbus::vif::fixed_unit(c.unit_code).into()),
                ("Value".into(), c.value.to_string()),
            ]
        })
        .collect();
    (slave, records)
}

fn expected(xml: &str) -> (Fields, Vec<Fields>) {
    let doc = roxmltree::Document::parse(xml).expect("expected XML parses");
    let root = doc.root_element();
    let children = |n: roxmltree::Node| -> Fields {
        n.children()
            .filter(|c| c.is_element())
            .map(|c| {
                (
                    c.tag_name().name().to_string(),
                    c.text().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let slave = root
        .children()
        .find(|c| c.has_tag_name("SlaveInformation"))
        .map(children)
        .expect("SlaveInformation");
    let records = root
        .children()
        .filter(|c| c.has_tag_name("DataRecord"))
        .map(children)
        .collect();
    (slave, records)
}

fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    // Numbers are printed with 6 decimals: equal at that resolution.
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 0.5e-6 * x.abs().max(1.0),
        _ => false,
    }
}

#[test]
fn every_libmbus_frame_decodes_to_its_expected_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "hex").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    stems.sort();
    assert_eq!(stems.len(), 76, "all 76 libmbus frames are present");
    let mut differences: Vec<(String, String, String, String, String)> = Vec::new();
    let mut fields_compared = 0usize;
    for stem in &stems {
        let hex = std::fs::read_to_string(dir.join(format!("{stem}.hex"))).unwrap();
        let xml = std::fs::read_to_string(dir.join(format!("{stem}.norm.xml"))).unwrap();
        let bytes = hex_bytes(&hex);
        let (frame, used) = Frame::parse(&bytes).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(used, bytes.len(), "{stem}: bytes after the frame");
        let Frame::Long { ci, data, .. } = frame else {
            panic!("{stem}: not a long frame")
        };
        let ours = match data::decode(ci, &data).unwrap_or_else(|e| panic!("{stem}: {e}")) {
            UserData::Variable(v) => ours_variable(&v),
            UserData::Fixed(f) => ours_fixed(&f),
        };
        let want = expected(&xml);
        let mut compare = |id: &str, ours: &Fields, want: &Fields| {
            let ours_map: BTreeMap<&str, &str> =
                ours.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let want_keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
            for (k, v) in want {
                fields_compared += 1;
                let o = ours_map.get(k.as_str()).copied().unwrap_or("<absent>");
                if !same_value(o, v) {
                    differences.push((stem.clone(), id.into(), k.clone(), v.clone(), o.into()));
                }
            }
            for (k, v) in ours {
                if !want_keys.contains(&k.as_str()) {
                    differences.push((
                        stem.clone(),
                        id.into(),
                        k.clone(),
                        "<absent>".into(),
                        v.clone(),
                    ));
                }
            }
        };
        compare("slave", &ours.0, &want.0);
        for (i, (o, w)) in ours.1.iter().zip(want.1.iter()).enumerate() {
            compare(&i.to_string(), o, w);
        }
        if ours.1.len() != want.1.len() {
            differences.push((
                stem.clone(),
                "records".into(),
                "count".into(),
                want.1.len().to_string(),
                ours.1.len().to_string(),
            ));
        }
    }
    let mut unexpected = Vec::new();
    let mut seen = vec![false; KNOWN_DEVIATIONS.len()];
    for d in &differences {
        match KNOWN_DEVIATIONS
            .iter()
            .position(|k| k.0 == d.0 && k.1 == d.1 && k.2 == d.2)
        {
            Some(i) => seen[i] = true,
            None => unexpected.push(d),
        }
    }
    for d in &unexpected {
        eprintln!(
            "{} record {} field {}: expected {:?}, decoded {:?}",
            d.0, d.1, d.2, d.3, d.4
        );
    }
    let stale: Vec<_> = KNOWN_DEVIATIONS
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(k, _)| k)
        .collect();
    eprintln!(
        "{fields_compared} fields of {} frames compared; {} listed deviations",
        stems.len(),
        KNOWN_DEVIATIONS.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} unexpected differences",
        unexpected.len()
    );
    assert!(
        stale.is_empty(),
        "listed deviations that no longer occur: {stale:?}"
    );
}
