//! Chunk invariance: the same recording pushed in blocks of 1, 7, 1000 and 65 536 samples
//! gives the same records. The contract is "equal or within 1e-12 relative"; the chain
//! meets it bit for bit (every stage is sample-sequential and windows are read at absolute
//! sample indices), so the comparison here is exact.

#[path = "chain_support.rs"]
mod support;

use pqe_core::record::Record;
use pqe_core::{Phase, SystemConfig};
use pqe_standards::AnalyzerOptions;
use support::*;

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn flatten(r: &Record) -> (u8, Vec<(String, f64)>) {
    match r {
        Record::Interval(i) => {
            let mut v = i.columns();
            for c in &i.channels {
                if let Some(h) = &c.harmonics {
                    for (k, x) in h
                        .subgroups
                        .iter()
                        .chain(&h.interharmonic_subgroups)
                        .enumerate()
                    {
                        v.push((format!("{}_{k}", c.column), *x));
                    }
                    for (k, x) in h.phases.iter().enumerate() {
                        v.push((format!("phi_{}_{k}", c.column), *x));
                    }
                }
            }
            v.push(("start_sample".into(), i.start_sample));
            (0, v)
        }
        Record::Frequency(f) => (1, vec![("f".into(), f.frequency), ("t".into(), f.t)]),
        Record::HalfCycle(h) => {
            let mut v = vec![("t".into(), h.t), ("d".into(), h.duration)];
            v.extend(h.rms.iter().map(|x| ("rms".to_string(), *x)));
            (2, v)
        }
        _ => (9, Vec::new()),
    }
}

#[test]
fn records_do_not_depend_on_block_size() {
    let fs = 6_400.0;
    let n = (2.6 * fs) as usize;
    let channels = [
        voltage(Phase::A),
        voltage(Phase::B),
        voltage(Phase::C),
        current(Phase::A),
        current(Phase::B),
        current(Phase::C),
    ];
    let third = 2.0 * std::f64::consts::PI / 3.0;
    let mut data: Vec<Vec<f64>> = (0..3)
        .map(|k| Wave::distorted(50.3, 230.0, -third * k as f64, 10 + k as u64).render(fs, 0, n))
        .collect();
    data.extend((0..3).map(|k| {
        Wave::distorted(50.3, 12.0, -third * k as f64 - 0.5, 20 + k as u64).render(fs, 0, n)
    }));
    // A missing sample in a current channel, to exercise the flagged path too.
    data[4][9_000] = f64::NAN;
    let config = SystemConfig {
        load_current: Some(15.0),
        ..SystemConfig::default()
    };
    // The start is 1.3 s before a 10-s tick, so a frequency period closes mid-recording.
    let start = aligned_start().add_seconds(-1.3);
    let reference = run(
        &channels,
        &data,
        fs,
        start,
        config.clone(),
        AnalyzerOptions::default(),
        65_536,
    );
    assert!(intervals(&reference).len() >= 10);
    assert!(intervals(&reference)
        .iter()
        .any(|i| i.flags.missing_samples));
    assert!(!frequencies(&reference).is_empty());
    assert!(half_cycles(&reference).len() > 200);
    for block in [1, 7, 1000] {
        let other = run(
            &channels,
            &data,
            fs,
            start,
            config.clone(),
            AnalyzerOptions::default(),
            block,
        );
        assert_eq!(other.len(), reference.len(), "block {block}: record count");
        for (k, (a, b)) in reference.iter().zip(&other).enumerate() {
            let (ka, va) = flatten(a);
            let (kb, vb) = flatten(b);
            assert_eq!(ka, kb, "block {block}: record {k} kind");
            assert_eq!(va.len(), vb.len());
            for ((na, xa), (nb, xb)) in va.iter().zip(&vb) {
                assert_eq!(na, nb);
                assert!(
                    same(*xa, *xb),
                    "block {block}: record {k} {na}: {xa} vs {xb}"
                );
            }
        }
    }
}

/// Push `data` (with the samples `gap` left out, as a recorder that lost them) in blocks
/// of `block_len`, never across the gap.
fn run_with_gap(
    data: &[Vec<f64>],
    fs: f64,
    gap: std::ops::Range<usize>,
    block_len: usize,
) -> Vec<Record> {
    use pqe_core::Block;
    use pqe_standards::Analyzer;
    let channels = [voltage(Phase::A), current(Phase::A)];
    let start = aligned_start();
    let mut a = Analyzer::new(
        &channels,
        fs,
        start,
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    for (from, to) in [(0, gap.start), (gap.end, data[0].len())] {
        let mut i = from;
        while i < to {
            let j = (i + block_len).min(to);
            let b = Block::from_channels(
                start.add_seconds(i as f64 / fs),
                fs,
                i as u64,
                data.iter().map(|c| c[i..j].to_vec()).collect(),
            )
            .unwrap();
            a.push(&b).unwrap();
            out.extend(a.drain());
            i = j;
        }
    }
    a.finish();
    out.extend(a.drain());
    out
}

#[test]
fn records_around_a_gap_do_not_depend_on_block_size() {
    let fs = 4_000.0;
    let n = (3.0 * fs) as usize;
    let data = vec![
        Wave::distorted(49.6, 230.0, 0.3, 1).render(fs, 0, n),
        Wave::distorted(49.6, 5.0, -0.2, 2).render(fs, 0, n),
    ];
    let gap = 5_003..6_711;
    let reference = run_with_gap(&data, fs, gap.clone(), 65_536);
    assert!(intervals(&reference).iter().any(|r| r.flags.after_gap));
    for block in [1, 7, 1000] {
        let other = run_with_gap(&data, fs, gap.clone(), block);
        assert_eq!(other.len(), reference.len(), "block {block}");
        for (a, b) in reference.iter().zip(&other) {
            let ((ka, va), (kb, vb)) = (flatten(a), flatten(b));
            assert_eq!(ka, kb);
            for ((na, xa), (_, xb)) in va.iter().zip(&vb) {
                assert!(same(*xa, *xb), "block {block}: {na}: {xa} vs {xb}");
            }
        }
    }
}

#[test]
fn memory_stays_bounded_on_long_recordings() {
    use pqe_core::Block;
    use pqe_standards::Analyzer;
    let fs = 10_240.0;
    let wave = Wave::distorted(50.2, 230.0, 0.0, 4);
    let mut a = Analyzer::new(
        &[voltage(Phase::A)],
        fs,
        aligned_start(),
        SystemConfig::default(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let block = 1_000;
    let mut most = 0;
    for k in 0..300u64 {
        let first = k * block as u64;
        let b = Block::from_channels(
            aligned_start().add_seconds(first as f64 / fs),
            fs,
            first,
            vec![wave.render(fs, first, block)],
        )
        .unwrap();
        a.push(&b).unwrap();
        a.drain().for_each(drop);
        most = most.max(a.buffered_samples());
    }
    // 29 s of samples went through; the buffer never held more than about 2.5 s.
    assert!(most < 26_000, "{most}");
}
