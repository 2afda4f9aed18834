//! CSV → CSV round trips: exact values (NaN as empty cells, digital channels), metadata via
//! the sidecar, and the same data whatever block size the reader is asked for.

use pqe_core::{
    Block, ChannelKind, ChannelSpec, DigitalChannelSpec, LinearScaling, Phase, RecordingInfo,
    Timestamp,
};
use pqe_io::csv::{sidecar_path, CsvReader, CsvWriter};
use pqe_io::{RecordingReader, RecordingWriter};
use std::path::Path;

const RATE: f64 = 12_800.0;
const SAMPLES: usize = 5_000;

/// A recording with voltages, a current on the secondary side of a CT, an `other` channel and
/// two digital channels.
fn info() -> RecordingInfo {
    let mut i_a = ChannelSpec::new("I_A", "A").with_phase(Phase::A);
    i_a.ratio_primary = 200.0;
    i_a.ratio_secondary = 5.0;
    i_a.primary = false;
    i_a.scaling = Some(LinearScaling { a: 0.01, b: -0.5 });
    i_a.raw_range = Some((-32767.0, 32767.0));
    i_a.circuit = "feeder 3".into();
    i_a.skew_us = 1.5;
    let mut info = RecordingInfo::new(
        vec![
            ChannelSpec::new("U_A", "V").with_phase(Phase::A),
            ChannelSpec::new("U_BC", "kV").with_phase(Phase::BC),
            i_a,
            ChannelSpec::new("temperature", "degC"),
        ],
        RATE,
        Timestamp::from_nanos(1_709_294_400_123_456_789),
    );
    info.digital_channels = vec![
        DigitalChannelSpec {
            name: "TRIP".into(),
            phase: String::new(),
            circuit: "CB1".into(),
            normal_state: 0,
        },
        DigitalChannelSpec {
            name: "CLOSE, 52a".into(),
            phase: "A".into(),
            circuit: String::new(),
            normal_state: 1,
        },
    ];
    info.station = "Substation \"Nord\"".into();
    info.device = "PQ-1".into();
    info.line_frequency = 50.0;
    info.trigger = Some(info.start.add_nanos(12_500_000));
    info.time_code = Some("+1h".into());
    info.rate_segments = vec![(RATE, SAMPLES as u64)];
    info
}

/// Deterministic awkward values: NaN, infinities, subnormals, negative zero, long decimals.
fn value(c: usize, k: usize) -> f64 {
    match (k * 7 + c * 13) % 97 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -0.0,
        3 => 5e-324,
        4 => -1.7976931348623157e308,
        _ => (k as f64 * 0.1 + c as f64).sin() * 325.0 / 3.0,
    }
}

/// The whole recording as blocks of uneven sizes.
fn blocks(info: &RecordingInfo) -> Vec<Block> {
    let sizes = [1, 999, 7, 2500, 1493];
    let mut out = Vec::new();
    let mut k0 = 0;
    for n in sizes {
        let analog = (0..info.channels.len())
            .map(|c| (k0..k0 + n).map(|k| value(c, k)).collect())
            .collect();
        let digital = (0..info.digital_channels.len())
            .flat_map(|d| (k0..k0 + n).map(move |k| u8::from((k / (d + 3)) % 2 == 1)))
            .collect();
        let start = info
            .start
            .add_nanos((k0 as f64 * 1e9 / RATE).round() as i64);
        let block = Block::from_channels(start, RATE, k0 as u64, analog)
            .unwrap()
            .with_digital(info.digital_channels.len(), digital)
            .unwrap();
        out.push(block);
        k0 += n;
    }
    assert_eq!(k0, SAMPLES);
    out
}

fn write(path: &Path, info: &RecordingInfo, blocks: &[Block]) {
    let mut w = CsvWriter::create(path, info).unwrap();
    for b in blocks {
        w.write_block(b).unwrap();
    }
    Box::new(w).finish().unwrap();
}

/// Everything a reader delivers with blocks of at most `max`: per-channel samples, digital
/// states, and each block's (first sample, start, rate).
struct Read {
    analog: Vec<Vec<f64>>,
    digital: Vec<Vec<u8>>,
    blocks: Vec<(u64, Timestamp, f64)>,
}

fn read_all(reader: &mut dyn RecordingReader, max: usize) -> Read {
    let info = reader.info().clone();
    let mut r = Read {
        analog: vec![Vec::new(); info.channels.len()],
        digital: vec![Vec::new(); info.digital_channels.len()],
        blocks: Vec::new(),
    };
    while let Some(b) = reader.read_block(max).unwrap() {
        assert!(b.len() <= max && !b.is_empty());
        for (c, out) in r.analog.iter_mut().enumerate() {
            out.extend_from_slice(b.channel(c));
        }
        for (d, out) in r.digital.iter_mut().enumerate() {
            out.extend_from_slice(b.digital(d));
        }
        r.blocks
            .push((b.first_sample(), b.start(), b.sample_rate()));
    }
    r
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits())
}

#[test]
fn values_digital_states_and_nans_survive_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.csv");
    let info = info();
    let blocks = blocks(&info);
    write(&path, &info, &blocks);

    let mut reader = CsvReader::open(&path).unwrap();
    let read = read_all(&mut reader, 1000);
    for c in 0..info.channels.len() {
        let expected: Vec<f64> = (0..SAMPLES).map(|k| value(c, k)).collect();
        assert!(same_bits(&read.analog[c], &expected), "channel {c}");
    }
    for d in 0..info.digital_channels.len() {
        let expected: Vec<u8> = blocks.iter().flat_map(|b| b.digital(d).to_vec()).collect();
        assert_eq!(read.digital[d], expected, "digital {d}");
    }
}

#[test]
fn metadata_survives_through_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.csv");
    let info = info();
    write(&path, &info, &blocks(&info));
    assert!(sidecar_path(&path).exists());

    let reader = CsvReader::open(&path).unwrap();
    let got = reader.info();
    assert_eq!(got.channels, info.channels);
    assert_eq!(got.digital_channels, info.digital_channels);
    assert_eq!(got.sample_rate, RATE);
    assert_eq!(got.start, info.start);
    assert_eq!(got.trigger, info.trigger);
    assert_eq!((&got.station, &got.device), (&info.station, &info.device));
    assert_eq!(got.line_frequency, 50.0);
    assert_eq!(got.time_code, info.time_code);
    assert_eq!(got.rate_segments, info.rate_segments);

    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sidecar_path(&path)).unwrap()).unwrap();
    assert_eq!(sidecar["pqe_format"], "pqe-csv-sidecar/1");
    assert_eq!(sidecar["total_samples"], SAMPLES as u64);
    assert_eq!(sidecar["start"], "2024-03-01T12:00:00.123456789");
    assert_eq!(sidecar["channels"][2]["kind"], "current");
    assert_eq!(sidecar["channels"][2]["phase"], "A");
}

#[test]
fn header_is_t_then_channel_names_and_cells_are_shortest_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.csv");
    let info = info();
    write(&path, &info, &blocks(&info));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "t,U_A,U_BC,I_A,temperature,TRIP,\"CLOSE, 52a\""
    );
    // Sample 0: value(0, 0) is NaN (an empty cell); t is exactly 0.
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0], "0.0");
    assert_eq!(first[1], "");
    // Sample 1 sits at exactly 1/12800 s.
    let second: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(second[0], "0.000078125");
    assert!(!text.contains('\r'));
}

#[test]
fn block_sizes_1_7_and_1000_give_identical_data_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.csv");
    let info = info();
    write(&path, &info, &blocks(&info));

    let reference = read_all(&mut CsvReader::open(&path).unwrap(), 1000);
    for max in [1, 7, 1000, 100_000] {
        let read = read_all(&mut CsvReader::open(&path).unwrap(), max);
        for c in 0..info.channels.len() {
            assert!(
                same_bits(&read.analog[c], &reference.analog[c]),
                "max {max}"
            );
        }
        assert_eq!(read.digital, reference.digital, "max {max}");
        for &(first, start, rate) in &read.blocks {
            assert_eq!(rate, RATE);
            let expected = info
                .start
                .add_nanos((first as f64 * 1e9 / RATE).round() as i64);
            assert_eq!(start, expected, "block at sample {first}, max {max}");
        }
    }
}

#[test]
fn csv_to_csv_twice_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let info = info();
    write(&a, &info, &blocks(&info));

    let mut reader = CsvReader::open(&a).unwrap();
    let mut writer = CsvWriter::create(&b, reader.info()).unwrap();
    while let Some(block) = reader.read_block(333).unwrap() {
        writer.write_block(&block).unwrap();
    }
    Box::new(writer).finish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(sidecar_path(&a)).unwrap(),
        std::fs::read_to_string(sidecar_path(&b)).unwrap()
    );
}

#[test]
fn individually_timed_samples_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timed.csv");
    let start = Timestamp::from_nanos(1_000_000_000);
    let info = RecordingInfo::new(vec![ChannelSpec::new("I_N", "A")], 0.0, start);
    let times = vec![0, 250_000, 1_000_000, 1_000_001, 7_000_000];
    let block = Block::from_channels(start, 0.0, 0, vec![vec![1.0, 2.0, f64::NAN, 4.0, 5.0]])
        .unwrap()
        .with_sample_times(times.clone())
        .unwrap();
    write(&path, &info, &[block]);

    let mut reader = CsvReader::open(&path).unwrap();
    assert_eq!(reader.info().sample_rate, 0.0);
    assert_eq!(reader.info().channels[0].kind, ChannelKind::Current);
    let mut got_times = Vec::new();
    while let Some(b) = reader.read_block(2).unwrap() {
        assert_eq!(b.sample_rate(), 0.0);
        let t = b.sample_times().unwrap();
        assert_eq!(b.start(), start.add_nanos(t[0]));
        got_times.extend_from_slice(t);
    }
    assert_eq!(got_times, times);
}

#[test]
fn writer_refuses_blocks_that_do_not_match_the_channels() {
    let dir = tempfile::tempdir().unwrap();
    let info = info();
    let mut w = CsvWriter::create(dir.path().join("x.csv"), &info).unwrap();
    let wrong = Block::from_channels(info.start, RATE, 0, vec![vec![1.0]]).unwrap();
    let e = w.write_block(&wrong).unwrap_err().to_string();
    assert!(e.contains("1 analog and 0 digital"), "{e}");
}

#[test]
fn writer_refuses_duplicate_and_reserved_names() {
    let dir = tempfile::tempdir().unwrap();
    let twice = RecordingInfo::new(
        vec![ChannelSpec::new("U_A", "V"), ChannelSpec::new("U_A", "V")],
        RATE,
        Timestamp::EPOCH,
    );
    let e = CsvWriter::create(dir.path().join("x.csv"), &twice).unwrap_err();
    assert!(e.to_string().contains("U_A"), "{e}");
    let t = RecordingInfo::new(vec![ChannelSpec::new("t", "V")], RATE, Timestamp::EPOCH);
    assert!(CsvWriter::create(dir.path().join("y.csv"), &t).is_err());
}

#[test]
fn blocks_do_not_cross_rate_segments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("segments.csv");
    let start = Timestamp::from_nanos(0);
    let mut info = RecordingInfo::new(vec![ChannelSpec::new("U_A", "V")], 1000.0, start);
    info.rate_segments = vec![(1000.0, 10), (100.0, 15)];
    let first =
        Block::from_channels(start, 1000.0, 0, vec![(0..10).map(f64::from).collect()]).unwrap();
    let second = Block::from_channels(
        start.add_nanos(10_000_000),
        100.0,
        10,
        vec![(10..15).map(f64::from).collect()],
    )
    .unwrap();
    write(&path, &info, &[first, second]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\n0.009,9.0\n0.01,10.0\n0.02,11.0\n"),
        "{text}"
    );

    let mut reader = CsvReader::open(&path).unwrap();
    assert_eq!(reader.info().rate_segments, info.rate_segments);
    let read = read_all(&mut reader, 4);
    let layout: Vec<(u64, i64, f64)> = read
        .blocks
        .iter()
        .map(|&(k, s, r)| (k, s.as_nanos(), r))
        .collect();
    assert_eq!(
        layout,
        vec![
            (0, 0, 1000.0),
            (4, 4_000_000, 1000.0),
            (8, 8_000_000, 1000.0),
            (10, 10_000_000, 100.0),
            (14, 50_000_000, 100.0),
        ]
    );
    assert_eq!(read.analog[0], (0..15).map(f64::from).collect::<Vec<_>>());
}
