//! COMTRADE writing: round trips in every format, container and revision; bit-exact integers
//! from integer sources; strict layout; options; rejected combinations.

use pqe_core::{Block, ChannelSpec, DigitalChannelSpec, RecordingInfo, Timestamp};
use pqe_io::comtrade::{
    ComtradeReader, ComtradeWriteOptions, ComtradeWriter, DataFormat, Revision,
};
use pqe_io::{RecordingReader, RecordingWriter};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/comtrade")
        .join(rel)
}

const FORMATS: [DataFormat; 4] = [
    DataFormat::Ascii,
    DataFormat::Binary,
    DataFormat::Binary32,
    DataFormat::Float32,
];

/// Every sample of a recording: (analog per channel, digital per channel, times, info).
struct Samples {
    analog: Vec<Vec<f64>>,
    digital: Vec<Vec<u8>>,
    times: Vec<f64>,
    info: RecordingInfo,
}

fn read(path: &Path, chunk: usize) -> Samples {
    let mut r = ComtradeReader::open(path).unwrap();
    let info = r.info().clone();
    let mut s = Samples {
        analog: vec![Vec::new(); info.channels.len()],
        digital: vec![Vec::new(); info.digital_channels.len()],
        times: Vec::new(),
        info: info.clone(),
    };
    while let Some(b) = r.read_block(chunk).unwrap() {
        for (c, col) in s.analog.iter_mut().enumerate() {
            col.extend_from_slice(b.channel(c));
        }
        for (d, col) in s.digital.iter_mut().enumerate() {
            col.extend_from_slice(b.digital(d));
        }
        s.times
            .extend((0..b.len()).map(|i| b.time_of(i, info.start)));
    }
    s
}

/// Copy a recording through the writer, `chunk` samples per block.
fn convert(src: &Path, dst: &Path, options: ComtradeWriteOptions, chunk: usize) {
    let mut r = ComtradeReader::open(src).unwrap();
    let mut w = Box::new(ComtradeWriter::create(dst, r.info(), options).unwrap());
    while let Some(b) = r.read_block(chunk).unwrap() {
        w.write_block(&b).unwrap();
    }
    w.finish().unwrap();
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol)
}

fn options(format: DataFormat, revision: Revision) -> ComtradeWriteOptions {
    ComtradeWriteOptions { format, revision }
}

#[test]
fn integer_sources_round_trip_bit_exactly_in_every_format_and_container() {
    let dir = tempfile::tempdir().unwrap();
    for src in [
        "fixtures/sample_ascii.cfg",
        "fixtures/sample_iso8859-1_bin.cfg",
        "fixtures/sample_bin.cfg",
    ] {
        let original = read(&data(src), 1000);
        for format in FORMATS {
            for ext in ["cfg", "cff"] {
                let out = dir.path().join(format!("rt.{ext}"));
                convert(&data(src), &out, options(format, Revision::R2013), 7);
                let back = read(&out, 1000);
                for (c, (a, b)) in original.analog.iter().zip(&back.analog).enumerate() {
                    assert!(same_bits(a, b), "{src} → {format} .{ext}: channel {c}");
                }
                assert_eq!(original.digital, back.digital, "{src} → {format}");
                assert!(
                    close(&original.times, &back.times, 1e-9),
                    "{src} → {format}"
                );
                // A second hop keeps the integers too.
                if format != DataFormat::Float32 {
                    let again = dir.path().join(format!("rt2.{ext}"));
                    convert(
                        &out,
                        &again,
                        options(DataFormat::Binary, Revision::R2013),
                        1000,
                    );
                    let back2 = read(&again, 5);
                    for (a, b) in original.analog.iter().zip(&back2.analog) {
                        assert!(same_bits(a, b), "{src} → {format} → binary");
                    }
                }
            }
        }
    }
}

#[test]
fn float_sources_round_trip_within_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("pnnl/f3_43abc675run.cfg");
    let original = read(&src, 4096);
    for format in FORMATS {
        for ext in ["cfg", "cff"] {
            let out = dir.path().join(format!("f.{ext}"));
            convert(&src, &out, options(format, Revision::R2013), 1000);
            let back = read(&out, 4096);
            assert_eq!(back.info.total_samples, Some(40001));
            assert!(close(&original.times, &back.times, 1e-9));
            for (c, (a, b)) in original.analog.iter().zip(&back.analog).enumerate() {
                let steps = match format {
                    DataFormat::Ascii => 99_998.0,
                    DataFormat::Binary => 32_767.0,
                    DataFormat::Binary32 => 2_147_483_647.0,
                    DataFormat::Float32 => f64::INFINITY,
                };
                let (lo, hi) = a
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                        (l.min(v), h.max(v))
                    });
                let half_step = (hi - lo) / 2.0 / steps / 2.0 * (1.0 + 1e-9);
                if format == DataFormat::Float32 {
                    assert!(same_bits(a, b), "float32 .{ext} channel {c}");
                } else {
                    assert!(close(a, b, half_step), "{format} .{ext} channel {c}");
                    // The written scaling is an integer one the next writer can keep.
                    assert!(back.info.channels[c].scaling.is_some());
                }
            }
        }
    }
}

#[test]
fn every_revision_round_trips_where_the_format_exists() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("fixtures/sample_ascii.cfg");
    let original = read(&src, 1000);
    for rev in [Revision::R1991, Revision::R1999, Revision::R2013] {
        for format in FORMATS {
            for ext in ["cfg", "cff"] {
                let out = dir.path().join(format!("r.{ext}"));
                let allowed =
                    format.first_revision() <= rev && (ext == "cfg" || rev == Revision::R2013);
                let info = ComtradeReader::open(&src).unwrap().info().clone();
                let made = ComtradeWriter::create(&out, &info, options(format, rev));
                if !allowed {
                    let e = made.err().expect("rejected").to_string();
                    assert!(e.contains("2013"), "{e}");
                    continue;
                }
                drop(made);
                convert(&src, &out, options(format, rev), 1000);
                let back = read(&out, 1000);
                let r = ComtradeReader::open(&out).unwrap();
                assert_eq!(r.config().revision, rev);
                assert_eq!(r.config().format, format);
                assert_eq!(back.info.start, original.info.start);
                for (a, b) in original.analog.iter().zip(&back.analog) {
                    assert!(same_bits(a, b), "{rev} {format} .{ext}");
                }
                assert_eq!(original.digital, back.digital);
            }
        }
    }
}

#[test]
fn cfg_is_strict_for_each_revision() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("fixtures/sample_ascii.cfg");
    for rev in [Revision::R1991, Revision::R1999, Revision::R2013] {
        let out = dir.path().join("s.cfg");
        convert(&src, &out, options(DataFormat::Binary, rev), 1000);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        let analog_fields = lines[2].split(',').count();
        match rev {
            Revision::R1991 => {
                assert_eq!(lines[0], "SMARTSTATION,IED123");
                assert_eq!(analog_fields, 10);
                assert_eq!(lines[13], "01/12/2011,05:55:30.075011"); // mm/dd/yyyy
                assert_eq!(lines.len(), 16);
            }
            Revision::R1999 => {
                assert_eq!(lines[0], "SMARTSTATION,IED123,1999");
                assert_eq!(analog_fields, 13);
                assert_eq!(lines[13], "12/01/2011,05:55:30.075011");
                assert_eq!(lines[16], "1");
                assert_eq!(lines.len(), 17);
            }
            Revision::R2013 => {
                assert_eq!(lines[0], "SMARTSTATION,IED123,2013");
                assert_eq!(lines[1], "8,4A,4D");
                assert_eq!(
                    lines[2],
                    "1,IA,,Line123,A,0.1138916015625,0.05694580078125,0,-32768,32767,933,1,S"
                );
                assert_eq!(lines[6], "1,51A,,Line123,0");
                assert_eq!(&lines[10..13], ["60", "1", "1200,40"]);
                assert_eq!(lines[15], "BINARY");
                assert_eq!(lines[17], "-5h30,-5h30");
                assert_eq!(lines.len(), 19);
            }
        }
        let dat = std::fs::metadata(dir.path().join("s.dat")).unwrap().len();
        assert_eq!(dat, 40 * (8 + 4 * 2 + 2));
    }
    // The .cff states the DAT byte count, and the data follows it exactly.
    let out = dir.path().join("c.cff");
    convert(
        &src,
        &out,
        options(DataFormat::Float32, Revision::R2013),
        1000,
    );
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("--- file type: CFG ---\r\n"));
    let header = format!(
        "--- file type: DAT FLOAT32: {} ---\r\n",
        40 * (8 + 4 * 4 + 2)
    );
    let at = text.find(&header).expect("DAT header with byte count");
    assert_eq!(bytes.len() - at - header.len(), 40 * (8 + 4 * 4 + 2));
}

fn synthetic_info(n_channels: usize, rate: f64) -> RecordingInfo {
    let channels = (0..n_channels)
        .map(|c| ChannelSpec::new(format!("ch{c}"), if c % 2 == 0 { "V" } else { "A" }))
        .collect();
    let mut info = RecordingInfo::new(
        channels,
        rate,
        Timestamp::from_nanos(1_600_000_000_123_456_789),
    );
    info.station = "Sub, North".into();
    info.digital_channels = (0..18)
        .map(|d| DigitalChannelSpec {
            name: format!("d{d}"),
            phase: String::new(),
            circuit: String::new(),
            normal_state: 0,
        })
        .collect();
    info
}

fn synthetic_block(first: u64, n: usize, rate: f64, channels: usize) -> Block {
    let data: Vec<Vec<f64>> = (0..channels)
        .map(|c| {
            (0..n)
                .map(|i| {
                    let k = first + i as u64;
                    if k % 97 == 13 && c == 1 {
                        f64::NAN
                    } else {
                        (c as f64 + 1.0) * 1000.0 * (k as f64 * 0.01).sin()
                    }
                })
                .collect()
        })
        .collect();
    let states: Vec<u8> = (0..18)
        .flat_map(|d| (0..n).map(move |i| u8::from(matches!((first as usize + i + d) % 3, 0))))
        .collect();
    Block::from_channels(Timestamp(0), rate, first, data)
        .unwrap()
        .with_digital(18, states)
        .unwrap()
}

#[test]
fn nan_status_words_rates_and_timed_samples_survive() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        // Two rates, 18 status channels (two 16-bit words), NaN in channel 1.
        let info = synthetic_info(3, 4000.0);
        let out = dir.path().join("m.cff");
        let mut w = Box::new(
            ComtradeWriter::create(&out, &info, options(format, Revision::R2013)).unwrap(),
        );
        let blocks = [
            synthetic_block(0, 300, 4000.0, 3),
            synthetic_block(300, 200, 4000.0, 3),
            synthetic_block(500, 250, 1000.0, 3),
        ];
        for b in &blocks {
            w.write_block(b).unwrap();
        }
        w.finish().unwrap();
        let back = read(&out, 128);
        assert_eq!(back.info.rate_segments, vec![(4000.0, 500), (1000.0, 750)]);
        assert_eq!(
            back.info.start, info.start,
            "{format}: nanosecond start kept"
        );
        assert_eq!(back.info.station, "Sub; North");
        for d in 0..18 {
            let want: Vec<u8> = blocks.iter().flat_map(|b| b.digital(d).to_vec()).collect();
            assert_eq!(back.digital[d], want, "{format} status {d}");
        }
        for c in 0..3 {
            let want: Vec<f64> = blocks.iter().flat_map(|b| b.channel(c).to_vec()).collect();
            let tol = match format {
                DataFormat::Float32 => 1e-3,
                DataFormat::Binary => 3000.0 / 32767.0,
                _ => 3000.0 / 99_998.0,
            };
            assert!(close(&want, &back.analog[c], tol), "{format} channel {c}");
        }
        // Sample 501 is the first at 1 kHz: 1 ms after sample 500 (at 499/4000 s).
        assert!((back.times[500] - (499.0 / 4000.0 + 0.001)).abs() < 1e-9);

        // Rate 0: per-sample times.
        let out = dir.path().join("t.cfg");
        let mut info = synthetic_info(2, 0.0);
        info.digital_channels.clear();
        let times: Vec<i64> = (0..50).map(|i| i * i * 1_000).collect();
        let b = Block::from_channels(Timestamp(0), 0.0, 0, vec![vec![1.5; 50], vec![-2.0; 50]])
            .unwrap()
            .with_sample_times(times.clone())
            .unwrap();
        let mut w = Box::new(
            ComtradeWriter::create(&out, &info, options(format, Revision::R2013)).unwrap(),
        );
        w.write_block(&b).unwrap();
        w.finish().unwrap();
        let mut r = ComtradeReader::open(&out).unwrap();
        assert_eq!(r.config().nrates, 0);
        let got = r.read_block(100).unwrap().unwrap();
        assert_eq!(got.sample_times(), Some(&times[..]), "{format}");
        assert_eq!(got.channel(0)[7], 1.5);
    }
}

#[test]
fn options_parse_and_default() {
    assert_eq!(
        ComtradeWriteOptions::default(),
        options(DataFormat::Binary, Revision::R2013)
    );
    for (s, f) in [
        ("ascii", DataFormat::Ascii),
        ("BINARY", DataFormat::Binary),
        ("binary32", DataFormat::Binary32),
        ("float32", DataFormat::Float32),
    ] {
        assert_eq!(s.parse::<DataFormat>().unwrap(), f);
    }
    for (s, r) in [
        ("1991", Revision::R1991),
        ("1999", Revision::R1999),
        ("2013", Revision::R2013),
    ] {
        assert_eq!(s.parse::<Revision>().unwrap(), r);
    }
    assert!("int8".parse::<DataFormat>().is_err());
    assert!("2001".parse::<Revision>().is_err());
}

#[test]
fn wrong_blocks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let info = synthetic_info(3, 1000.0);
    let mut w = ComtradeWriter::create(
        dir.path().join("w.cfg"),
        &info,
        ComtradeWriteOptions::default(),
    )
    .unwrap();
    let b = Block::from_channels(Timestamp(0), 1000.0, 0, vec![vec![0.0; 4]; 2]).unwrap();
    assert!(w.write_block(&b).is_err());
    assert!(ComtradeWriter::create(
        dir.path().join("w.txt"),
        &info,
        ComtradeWriteOptions::default()
    )
    .is_err());
}
