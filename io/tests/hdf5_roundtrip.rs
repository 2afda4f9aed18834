//! HDF5 → HDF5 round trips: exact values (NaN included), digital channels, metadata, the
//! documented layout, and the same data whatever block size the reader is asked for.

use pqe_core::{
    Block, ChannelKind, ChannelSpec, DigitalChannelSpec, LinearScaling, Phase, RecordingInfo,
    Timestamp,
};
use pqe_io::hdf5::{Hdf5Reader, Hdf5Writer, CHUNK_SAMPLES, FORMAT};
use pqe_io::{RecordingReader, RecordingWriter};
use std::path::Path;

const RATE: f64 = 10_240.0;
/// More than two chunks, not a multiple of the chunk size.
const SAMPLES: usize = 2 * CHUNK_SAMPLES + 1234;

fn info() -> RecordingInfo {
    let mut i_n = ChannelSpec::new("I_N", "A").with_phase(Phase::N);
    i_n.ratio_primary = 1000.0;
    i_n.ratio_secondary = 1.0;
    i_n.primary = false;
    i_n.scaling = Some(LinearScaling { a: 0.5, b: 0.0 });
    i_n.raw_range = Some((-99999.0, 99999.0));
    i_n.circuit = "neutral".into();
    i_n.skew_us = -2.25;
    let mut info = RecordingInfo::new(
        vec![
            ChannelSpec::new("U_A", "V").with_phase(Phase::A),
            ChannelSpec::new("U_CA", "kV").with_phase(Phase::CA),
            i_n,
            ChannelSpec::new("DC link", "V").with_kind(ChannelKind::Other),
        ],
        RATE,
        Timestamp::from_nanos(1_300_000_000_000_000_001),
    );
    info.digital_channels = vec![
        DigitalChannelSpec {
            name: "TRIP".into(),
            phase: "B".into(),
            circuit: "CB2".into(),
            normal_state: 1,
        },
        DigitalChannelSpec {
            name: "Ünïcode".into(),
            phase: String::new(),
            circuit: String::new(),
            normal_state: 0,
        },
    ];
    info.station = "Unterwerk Süd".into();
    info.device = "rec-7".into();
    info.line_frequency = 60.0;
    info.trigger = Some(info.start.add_nanos(5_000_000));
    info.time_code = Some("-5h30".into());
    info.rate_segments = vec![(RATE, SAMPLES as u64)];
    info
}

fn value(c: usize, k: usize) -> f64 {
    match (k * 11 + c * 5) % 89 {
        0 => f64::NAN,
        1 => f64::NEG_INFINITY,
        2 => 5e-324,
        _ => (k as f64 * 0.37 + c as f64).cos() * 1e3 / 7.0,
    }
}

fn state(d: usize, k: usize) -> u8 {
    u8::from(matches!((k / (d + 2)) % 3, 0))
}

fn blocks(info: &RecordingInfo, sizes: &[usize]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut k0 = 0;
    for &n in sizes {
        let analog = (0..info.channels.len())
            .map(|c| (k0..k0 + n).map(|k| value(c, k)).collect())
            .collect();
        let digital = (0..info.digital_channels.len())
            .flat_map(|d| (k0..k0 + n).map(move |k| state(d, k)))
            .collect();
        let start = info
            .start
            .add_nanos((k0 as f64 * 1e9 / RATE).round() as i64);
        out.push(
            Block::from_channels(start, RATE, k0 as u64, analog)
                .unwrap()
                .with_digital(info.digital_channels.len(), digital)
                .unwrap(),
        );
        k0 += n;
    }
    out
}

fn uneven_sizes() -> Vec<usize> {
    let sizes = vec![1, 8191, 3, 5000, 4422, 1];
    assert_eq!(sizes.iter().sum::<usize>(), SAMPLES);
    sizes
}

fn write(path: &Path, info: &RecordingInfo, blocks: &[Block]) {
    let mut w = Hdf5Writer::create(path, info).unwrap();
    for b in blocks {
        w.write_block(b).unwrap();
    }
    Box::new(w).finish().unwrap();
}

struct Read {
    analog: Vec<Vec<f64>>,
    digital: Vec<Vec<u8>>,
    blocks: Vec<(u64, Timestamp, f64, usize)>,
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
            .push((b.first_sample(), b.start(), b.sample_rate(), b.len()));
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
fn values_digital_states_and_metadata_survive_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.h5");
    let info = info();
    write(&path, &info, &blocks(&info, &uneven_sizes()));

    let mut reader = Hdf5Reader::open(&path).unwrap();
    let got = reader.info().clone();
    let mut expected_info = info.clone();
    expected_info.total_samples = Some(SAMPLES as u64);
    assert_eq!(got, expected_info);

    let read = read_all(&mut reader, 1000);
    for c in 0..info.channels.len() {
        let expected: Vec<f64> = (0..SAMPLES).map(|k| value(c, k)).collect();
        assert!(same_bits(&read.analog[c], &expected), "channel {c}");
    }
    for d in 0..info.digital_channels.len() {
        let expected: Vec<u8> = (0..SAMPLES).map(|k| state(d, k)).collect();
        assert_eq!(read.digital[d], expected, "digital {d}");
    }
}

#[test]
fn block_sizes_1_7_and_1000_give_identical_data_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.h5");
    let info = info();
    write(&path, &info, &blocks(&info, &uneven_sizes()));

    let reference = read_all(&mut Hdf5Reader::open(&path).unwrap(), 1000);
    for max in [1, 7, 1000, CHUNK_SAMPLES + 1, 1 << 20] {
        let read = read_all(&mut Hdf5Reader::open(&path).unwrap(), max);
        for c in 0..info.channels.len() {
            assert!(
                same_bits(&read.analog[c], &reference.analog[c]),
                "max {max}"
            );
        }
        assert_eq!(read.digital, reference.digital, "max {max}");
        let mut next = 0;
        for &(first, start, rate, len) in &read.blocks {
            assert_eq!(first, next);
            assert_eq!(rate, RATE);
            let expected = info
                .start
                .add_nanos((first as f64 * 1e9 / RATE).round() as i64);
            assert_eq!(start, expected, "block at sample {first}, max {max}");
            next += len as u64;
        }
        assert_eq!(next, SAMPLES as u64);
    }
}

#[test]
fn writing_in_any_block_sizes_gives_the_same_file_contents() {
    let dir = tempfile::tempdir().unwrap();
    let info = info();
    let (a, b) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
    write(&a, &info, &blocks(&info, &uneven_sizes()));
    write(&b, &info, &blocks(&info, &[SAMPLES]));
    let ra = read_all(&mut Hdf5Reader::open(&a).unwrap(), 4096);
    let rb = read_all(&mut Hdf5Reader::open(&b).unwrap(), 4096);
    for c in 0..info.channels.len() {
        assert!(same_bits(&ra.analog[c], &rb.analog[c]));
    }
    assert_eq!(ra.digital, rb.digital);
}

#[test]
fn hdf5_to_hdf5_preserves_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
    let info = info();
    write(&a, &info, &blocks(&info, &uneven_sizes()));

    let mut reader = Hdf5Reader::open(&a).unwrap();
    let mut writer = Hdf5Writer::create(&b, reader.info()).unwrap();
    while let Some(block) = reader.read_block(777).unwrap() {
        writer.write_block(&block).unwrap();
    }
    Box::new(writer).finish().unwrap();

    let mut ra = Hdf5Reader::open(&a).unwrap();
    let mut rb = Hdf5Reader::open(&b).unwrap();
    assert_eq!(ra.info(), rb.info());
    let (da, db) = (read_all(&mut ra, 5000), read_all(&mut rb, 5000));
    for c in 0..info.channels.len() {
        assert!(same_bits(&da.analog[c], &db.analog[c]));
    }
    assert_eq!(da.digital, db.digital);
    assert_eq!(da.blocks, db.blocks);
}

#[test]
fn the_file_follows_the_documented_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.h5");
    let info = info();
    write(&path, &info, &blocks(&info, &uneven_sizes()));

    let file = hdf5::File::open(&path).unwrap();
    let group = file.group("recording").unwrap();
    let text = |name: &str| -> String {
        group
            .attr(name)
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .as_str()
            .to_string()
    };
    assert_eq!(text("pqe_format"), FORMAT);
    assert_eq!(text("start"), "2011-03-13T07:06:40.000000001");
    assert_eq!(text("station"), "Unterwerk Süd");
    let start_ns: i64 = group.attr("start_ns").unwrap().read_scalar().unwrap();
    assert_eq!(start_ns, info.start.as_nanos());
    let rate: f64 = group.attr("sample_rate").unwrap().read_scalar().unwrap();
    assert_eq!(rate, RATE);

    let analog = group.dataset("analog").unwrap();
    assert_eq!(analog.shape(), vec![4, SAMPLES]);
    assert_eq!(analog.chunk(), Some(vec![1, CHUNK_SAMPLES]));
    assert!(analog.is_resizable());
    let names: Vec<String> = analog
        .attr("names")
        .unwrap()
        .read_raw::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(names, ["U_A", "U_CA", "I_N", "DC link"]);
    let row: Vec<f64> = analog
        .read_slice_1d::<f64, _>((2, 100..105))
        .unwrap()
        .to_vec();
    let expected: Vec<f64> = (100..105).map(|k| value(2, k)).collect();
    assert!(same_bits(&row, &expected));

    let digital = group.dataset("digital").unwrap();
    assert_eq!(digital.shape(), vec![2, SAMPLES]);
    assert!(
        group.dataset("time_ns").is_err(),
        "no time_ns at a constant rate"
    );
}

#[test]
fn individually_timed_samples_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timed.h5");
    let start = Timestamp::from_nanos(-5_000_000_000);
    let info = RecordingInfo::new(vec![ChannelSpec::new("U_A", "V")], 0.0, start);
    let times = vec![0, 100, 250_000, 250_001, 9_000_000_000];
    let block = Block::from_channels(start, 0.0, 0, vec![vec![1.0, f64::NAN, 3.0, 4.0, 5.0]])
        .unwrap()
        .with_sample_times(times.clone())
        .unwrap();
    write(&path, &info, &[block]);

    let mut reader = Hdf5Reader::open(&path).unwrap();
    assert_eq!(reader.info().sample_rate, 0.0);
    let mut got = Vec::new();
    while let Some(b) = reader.read_block(2).unwrap() {
        let t = b.sample_times().unwrap();
        assert_eq!(b.start(), start.add_nanos(t[0]));
        got.extend_from_slice(t);
    }
    assert_eq!(got, times);
}

#[test]
fn blocks_do_not_cross_rate_segments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("segments.h5");
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

    let mut reader = Hdf5Reader::open(&path).unwrap();
    let read = read_all(&mut reader, 4);
    let layout: Vec<(u64, i64, f64, usize)> = read
        .blocks
        .iter()
        .map(|&(k, s, r, n)| (k, s.as_nanos(), r, n))
        .collect();
    assert_eq!(
        layout,
        vec![
            (0, 0, 1000.0, 4),
            (4, 4_000_000, 1000.0, 4),
            (8, 8_000_000, 1000.0, 2),
            (10, 10_000_000, 100.0, 4),
            (14, 50_000_000, 100.0, 1),
        ]
    );
}

#[test]
fn a_recording_without_samples_or_digital_channels_reads_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.h5");
    let info = RecordingInfo::new(vec![ChannelSpec::new("U_A", "V")], 50.0, Timestamp::EPOCH);
    write(&path, &info, &[]);
    let mut reader = Hdf5Reader::open(&path).unwrap();
    assert_eq!(reader.info().total_samples, Some(0));
    assert!(reader.read_block(10).unwrap().is_none());
}

#[test]
fn a_recording_of_digital_channels_only_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digital.h5");
    let mut info = RecordingInfo::new(Vec::new(), 100.0, Timestamp::EPOCH);
    info.digital_channels = vec![DigitalChannelSpec {
        name: "CB".into(),
        phase: String::new(),
        circuit: String::new(),
        normal_state: 0,
    }];
    let states: Vec<u8> = (0..20).map(|k| u8::from(k % 3 == 1)).collect();
    let mut builder = pqe_core::BlockBuilder::new(Timestamp::EPOCH, 100.0, 0, 0, 1, false);
    for s in &states {
        builder.push(&[], &[*s], 0);
    }
    write(&path, &info, &[builder.build().unwrap()]);
    let mut reader = Hdf5Reader::open(&path).unwrap();
    assert!(reader.info().channels.is_empty());
    let read = read_all(&mut reader, 7);
    assert_eq!(read.digital, vec![states]);
}

#[test]
fn a_writer_dropped_without_finish_leaves_its_samples_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropped.h5");
    let info = info();
    {
        let mut w = Hdf5Writer::create(&path, &info).unwrap();
        for b in blocks(&info, &[100, 50]) {
            w.write_block(&b).unwrap();
        }
    }
    let mut reader = Hdf5Reader::open(&path).unwrap();
    assert_eq!(reader.info().total_samples, Some(150));
    let read = read_all(&mut reader, 1000);
    let expected: Vec<f64> = (0..150).map(|k| value(1, k)).collect();
    assert!(same_bits(&read.analog[1], &expected));
}
