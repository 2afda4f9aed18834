//! CSV files without sidecar, as other tools write them: the reader infers the rate from `t`
//! and each channel's kind, phase and unit from its name, and accepts `;`, decimal commas,
//! CRLF, a byte-order mark and quoted names.

use pqe_core::{ChannelKind, Phase, Timestamp};
use pqe_io::csv::CsvReader;
use pqe_io::RecordingReader;
use std::path::PathBuf;

fn file(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.csv");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// All samples of every channel.
fn samples(reader: &mut CsvReader, max: usize) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); reader.info().channels.len()];
    while let Some(b) = reader.read_block(max).unwrap() {
        for (c, o) in out.iter_mut().enumerate() {
            o.extend_from_slice(b.channel(c));
        }
    }
    out
}

#[test]
fn rate_kinds_phases_and_units_are_inferred() {
    let mut text = String::from("t,U_A,VB,uc,U_AB,I_A,IN,I_L3 [mA],freq\n");
    for k in 0..3000 {
        // t printed with 6 decimals, as many tools do: 1/12800 s is not representable.
        text.push_str(&format!("{:.6},1,2,3,4,5,6,7,50\n", k as f64 / 12_800.0));
    }
    let (_d, path) = file(text.as_bytes());
    let mut reader = CsvReader::open(&path).unwrap();
    let info = reader.info().clone();
    assert_eq!(info.sample_rate, 12_800.0);
    assert_eq!(info.start, Timestamp::EPOCH);
    assert!(info.digital_channels.is_empty());
    let described: Vec<(&str, ChannelKind, Option<Phase>, &str)> = info
        .channels
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.phase, c.unit.as_str()))
        .collect();
    use ChannelKind::{Current, Other, Voltage};
    assert_eq!(
        described,
        vec![
            ("U_A", Voltage, Some(Phase::A), "V"),
            ("VB", Voltage, Some(Phase::B), "V"),
            ("uc", Voltage, Some(Phase::C), "V"),
            ("U_AB", Voltage, Some(Phase::AB), "V"),
            ("I_A", Current, Some(Phase::A), "A"),
            ("IN", Current, Some(Phase::N), "A"),
            ("I_L3 [mA]", Current, Some(Phase::C), "mA"),
            ("freq", Other, None, ""),
        ]
    );
    let data = samples(&mut reader, 1000);
    assert_eq!(data[0].len(), 3000);
    assert!(data[7].iter().all(|v| *v == 50.0));
}

#[test]
fn semicolons_decimal_commas_crlf_bom_and_quotes_are_accepted() {
    let text = "\u{FEFF}t;\"U_A\";\"I_A\"\r\n0;1,5;-2\r\n0,5;;3e2\r\n1;\"4,25\";NaN\r\n";
    let (_d, path) = file(text.as_bytes());
    let mut reader = CsvReader::open(&path).unwrap();
    assert_eq!(reader.info().channels[0].name, "U_A");
    assert_eq!(reader.info().sample_rate, 2.0);
    let data = samples(&mut reader, 2);
    assert_eq!(data[0][0], 1.5);
    assert!(data[0][1].is_nan(), "an empty cell is missing, not zero");
    assert_eq!(data[0][2], 4.25);
    assert_eq!(data[1][..2], [-2.0, 300.0]);
    assert!(data[1][2].is_nan());
}

#[test]
fn an_empty_cell_is_nan_never_zero() {
    let (_d, path) = file(b"t,U_A,U_B\n0,,1\n0.5,2,\n1, ,3\n");
    let mut reader = CsvReader::open(&path).unwrap();
    let data = samples(&mut reader, 10);
    assert!(data[0][0].is_nan() && data[1][1].is_nan() && data[0][2].is_nan());
    assert_eq!((data[0][1], data[1][0], data[1][2]), (2.0, 1.0, 3.0));
}

#[test]
fn a_first_time_other_than_zero_moves_the_start() {
    let (_d, path) = file(b"t,U_A\n10,1\n10.25,2\n10.5,3\n");
    let mut reader = CsvReader::open(&path).unwrap();
    assert_eq!(reader.info().sample_rate, 4.0);
    assert_eq!(reader.info().start, Timestamp::from_nanos(10_000_000_000));
    let b = reader.read_block(10).unwrap().unwrap();
    assert_eq!(b.start(), Timestamp::from_nanos(10_000_000_000));
    assert_eq!(b.time_of(2, reader.info().start), 0.5);
}

#[test]
fn a_non_integer_rate_written_exactly_is_kept() {
    let mut text = String::from("t,U_A\n");
    for k in 0..2000 {
        text.push_str(&format!("{},{k}\n", k as f64 / 1000.5));
    }
    let (_d, path) = file(text.as_bytes());
    let mut reader = CsvReader::open(&path).unwrap();
    let rate = reader.info().sample_rate;
    assert!((rate - 1000.5).abs() < 1e-6, "{rate}");
    assert_eq!(samples(&mut reader, 999)[0].len(), 2000);
}

#[test]
fn a_file_with_one_row_or_none_reads() {
    let (_d, path) = file(b"t,U_A\n");
    let mut reader = CsvReader::open(&path).unwrap();
    assert!(reader.read_block(10).unwrap().is_none());

    let (_d, path) = file(b"t,U_A\n0.5,7\n");
    let mut reader = CsvReader::open(&path).unwrap();
    assert_eq!(reader.info().sample_rate, 0.0);
    let b = reader.read_block(10).unwrap().unwrap();
    assert_eq!(b.channel(0), &[7.0]);
    assert!(reader.read_block(10).unwrap().is_none());
}

#[test]
fn progress_reaches_the_file_size() {
    let (_d, path) = file(b"\xEF\xBB\xBFt,U_A\n0,1\n1,2\n");
    let mut reader = CsvReader::open(&path).unwrap();
    while reader.read_block(1).unwrap().is_some() {}
    let (done, total) = reader.progress();
    assert_eq!(Some(done), total);
}
