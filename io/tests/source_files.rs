//! Recording files as `Source`s: blocks with absolute times, a COMTRADE data file that ends
//! early read up to its last whole record with a warning and a gap (refused when strict), and
//! a missing file named as missing.

use pqe_core::{
    CancelToken, ChannelSpec, Error, Phase, RecordingInfo, Source, SourceEvent, Timestamp,
};
use pqe_io::comtrade::{ComtradeWriteOptions, ComtradeWriter, DataFormat, Revision};
use pqe_io::{open_source, OpenOptions, RecordingWriter};
use std::path::{Path, PathBuf};

const RATE: f64 = 1000.0;
const SAMPLES: usize = 3000;
const START_NS: i64 = 1_700_000_000_000_000_000;

/// A 3-s, 1-kHz COMTRADE recording of two channels in `format`: sample k of U_A is k.
fn write_recording(dir: &Path, name: &str, format: DataFormat) -> PathBuf {
    let info = RecordingInfo::new(
        vec![
            ChannelSpec::new("U_A", "V").with_phase(Phase::A),
            ChannelSpec::new("I_A", "A").with_phase(Phase::A),
        ],
        RATE,
        Timestamp(START_NS),
    );
    let cfg = dir.join(format!("{name}.cfg"));
    let mut w = Box::new(
        ComtradeWriter::create(
            &cfg,
            &info,
            ComtradeWriteOptions {
                format,
                revision: Revision::R2013,
            },
        )
        .unwrap(),
    );
    let u: Vec<f64> = (0..SAMPLES).map(|k| k as f64).collect();
    let i: Vec<f64> = (0..SAMPLES).map(|k| (k % 7) as f64).collect();
    let block = pqe_core::Block::from_channels(Timestamp(START_NS), RATE, 0, vec![u, i]).unwrap();
    w.write_block(&block).unwrap();
    w.finish().unwrap();
    cfg
}

struct Read {
    samples: Vec<f64>,
    warnings: Vec<String>,
    gaps: Vec<pqe_core::Gap>,
    order: Vec<char>,
}

fn read_source(path: &Path, options: &OpenOptions, chunk: usize) -> pqe_core::Result<Read> {
    let mut s = open_source(path, options)?;
    assert!(s.info().is_some(), "a file knows its metadata up front");
    let cancel = CancelToken::new();
    let mut r = Read {
        samples: Vec::new(),
        warnings: Vec::new(),
        gaps: Vec::new(),
        order: Vec::new(),
    };
    let mut due = Timestamp(START_NS);
    while let Some(e) = s.next_event(chunk, &cancel)? {
        match e {
            SourceEvent::Block(b) => {
                // Blocks carry the absolute time of their first sample and follow on.
                assert!(
                    (b.start().as_nanos() - due.as_nanos()).abs() <= 1,
                    "{} vs {due}",
                    b.start()
                );
                due = b.start().add_seconds(b.len() as f64 / RATE);
                r.samples.extend_from_slice(b.channel(0));
                r.order.push('b');
            }
            SourceEvent::Gap(g) => {
                r.gaps.push(g);
                r.order.push('g');
            }
            SourceEvent::Warning(w) => {
                r.warnings.push(w.to_string());
                r.order.push('w');
            }
        }
    }
    // After the end, nothing more.
    assert!(s.next_event(chunk, &cancel)?.is_none());
    let p = s.progress();
    assert!(p.fraction().is_some());
    Ok(r)
}

#[test]
fn a_whole_file_reads_as_blocks_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_recording(dir.path(), "whole", DataFormat::Binary);
    let r = read_source(&cfg, &OpenOptions::default(), 700).unwrap();
    assert_eq!(r.samples.len(), SAMPLES);
    assert_eq!(r.samples[2999], 2999.0);
    assert!(r.warnings.is_empty() && r.gaps.is_empty());
    let s = open_source(&cfg, &OpenOptions::default()).unwrap();
    assert_eq!(s.progress().total_seconds, Some(3.0));
}

/// Keep the first `records` records (and `extra` bytes of the next) of a binary `.dat`.
fn cut_binary(cfg: &Path, record_bytes: usize, records: usize, extra: usize) {
    let dat = cfg.with_extension("dat");
    let bytes = std::fs::read(&dat).unwrap();
    assert_eq!(bytes.len(), record_bytes * SAMPLES, "record size");
    std::fs::write(&dat, &bytes[..record_bytes * records + extra]).unwrap();
}

/// Keep the first `records` whole records of a `.dat` already cut.
fn cut_binary_again(cfg: &Path, record_bytes: usize, records: usize) {
    let dat = cfg.with_extension("dat");
    let bytes = std::fs::read(&dat).unwrap();
    std::fs::write(&dat, &bytes[..record_bytes * records]).unwrap();
}

fn check_truncated(r: &Read, have: usize, data_file: &str) {
    assert_eq!(r.samples.len(), have, "read up to the last whole record");
    // Within the 16-bit (or ASCII integer) quantisation of the writer.
    assert!(
        (r.samples[have - 1] - (have - 1) as f64).abs() < 0.1,
        "{}",
        r.samples[have - 1]
    );
    assert_eq!(r.order.last(), Some(&'g'), "{:?}", r.order);
    assert_eq!(r.warnings.len(), 1);
    let w = &r.warnings[0];
    assert!(w.contains(&format!("after record {have}")), "{w}");
    assert!(w.contains("end at sample 3000"), "{w}");
    assert!(
        w.contains(&format!("the last {} samples", SAMPLES - have)),
        "{w}"
    );
    assert!(w.contains(data_file), "{w}");
    assert_eq!(r.gaps.len(), 1);
    let g = &r.gaps[0];
    assert_eq!(g.first_missing_sample, Some(have as u64));
    assert_eq!(g.missing_samples, Some((SAMPLES - have) as u64));
    assert_eq!(g.start, Timestamp(START_NS).add_seconds(have as f64 / RATE));
    assert_eq!(g.end, Timestamp(START_NS).add_seconds(3.0));
}

#[test]
fn a_binary_dat_that_ends_early_is_read_to_its_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_recording(dir.path(), "cut", DataFormat::Binary);
    // n (4) + timestamp (4) + 2 × 2 bytes.
    cut_binary(&cfg, 12, 1500, 5);
    let r = read_source(&cfg, &OpenOptions::default(), 512).unwrap();
    check_truncated(&r, 1500, "cut.dat");
    assert!(
        r.warnings[0].contains("5 bytes of a record cut short"),
        "{}",
        r.warnings[0]
    );

    // Strict: refused, as before, naming the byte and the good samples.
    let e = read_source(&cfg, &OpenOptions::strict(), 512)
        .err()
        .unwrap();
    let text = e.to_string();
    assert!(
        text.contains("cut.dat (byte 18000)") && text.contains("inside a record"),
        "{text}"
    );
    // Cut at a record boundary: refused at open, naming the counts.
    cut_binary_again(&cfg, 12, 1500);
    check_truncated(
        &read_source(&cfg, &OpenOptions::default(), 512).unwrap(),
        1500,
        "cut.dat",
    );
    let text = read_source(&cfg, &OpenOptions::strict(), 512)
        .err()
        .unwrap()
        .to_string();
    assert!(
        text.contains("the rates end at sample 3000 but the data holds 1500 records"),
        "{text}"
    );
    // The legacy reader stays strict.
    assert!(pqe_io::open(&cfg).is_err());
}

#[test]
fn an_ascii_dat_that_ends_early_is_read_to_its_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_recording(dir.path(), "cuta", DataFormat::Ascii);
    let dat = cfg.with_extension("dat");
    let text = std::fs::read(&dat).unwrap();
    // Keep 1200 whole lines and half of the next (the recorder stopped mid-line).
    let mut ends = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i);
    let end_1200 = ends.nth(1199).unwrap() + 1;
    std::fs::write(&dat, &text[..end_1200 + 6]).unwrap();
    let r = read_source(&cfg, &OpenOptions::default(), 500).unwrap();
    check_truncated(&r, 1200, "cuta.dat");
    // Cut exactly at a line end.
    std::fs::write(&dat, &text[..end_1200]).unwrap();
    check_truncated(
        &read_source(&cfg, &OpenOptions::default(), 7).unwrap(),
        1200,
        "cuta.dat",
    );
    // Strict: the error names the .dat and the line.
    let e = read_source(&cfg, &OpenOptions::strict(), 500)
        .err()
        .unwrap();
    assert!(e.to_string().contains("cuta.dat:1201"), "{e}");
}

#[test]
fn a_float32_cff_that_ends_early_is_read_leniently() {
    let dir = tempfile::tempdir().unwrap();
    let cff = dir.path().join("one.cff");
    let info = RecordingInfo::new(
        vec![ChannelSpec::new("U_A", "V")],
        RATE,
        Timestamp(START_NS),
    );
    let mut w = Box::new(
        ComtradeWriter::create(
            &cff,
            &info,
            ComtradeWriteOptions {
                format: DataFormat::Float32,
                revision: Revision::R2013,
            },
        )
        .unwrap(),
    );
    let u: Vec<f64> = (0..SAMPLES).map(|k| k as f64).collect();
    w.write_block(&pqe_core::Block::from_channels(Timestamp(START_NS), RATE, 0, vec![u]).unwrap())
        .unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&cff).unwrap();
    // 12-byte records (n, timestamp, one float); drop the last 1000 and 3 bytes more.
    std::fs::write(&cff, &bytes[..bytes.len() - 12 * 1000 - 3]).unwrap();
    let r = read_source(&cff, &OpenOptions::default(), 4096).unwrap();
    check_truncated(&r, 1999, "one.cff");
    assert!(r.warnings[0].contains("9 bytes of a record cut short"));
}

#[test]
fn a_missing_file_says_it_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.cfg");
    let e = open_source(&missing, &OpenOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, Error::Io { .. }));
    let text = e.to_string();
    assert!(
        text.contains("nowhere.cfg: the file does not exist"),
        "{text}"
    );
    assert!(!text.contains("entity not found"), "{text}");
    // A .cfg whose .dat is missing names the .dat.
    let cfg = write_recording(dir.path(), "nodat", DataFormat::Binary);
    std::fs::remove_file(cfg.with_extension("dat")).unwrap();
    let text = open_source(&cfg, &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(text.contains("nodat.dat"), "{text}");
}

#[test]
fn a_cancelled_source_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_recording(dir.path(), "c", DataFormat::Binary);
    let mut s = open_source(&cfg, &OpenOptions::default()).unwrap();
    let cancel = CancelToken::new();
    assert!(s.next_event(100, &cancel).unwrap().is_some());
    cancel.clone().cancel();
    assert!(matches!(s.next_event(100, &cancel), Err(Error::Cancelled)));
}
