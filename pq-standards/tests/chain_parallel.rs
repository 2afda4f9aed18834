//! The spectral part shared between two threads (`AnalyzerOptions::parallel`) gives the
//! same records, bit for bit and in the same order, as one thread, for any block size and
//! across a gap and a dip.

#[path = "chain_support.rs"]
mod support;

use pqe_core::record::Record;
use pqe_core::{Block, NominalFrequency, Phase, SystemConfig, Timestamp};
use pqe_standards::{Analyzer, AnalyzerOptions};
use support::*;

const FS: f64 = 10_240.0;

/// 3 V + 3 I, distorted, with a 60 % dip on U_A from 4.0 s to 4.3 s.
fn signals(n: usize) -> Vec<Vec<f64>> {
    let third = 2.0 * std::f64::consts::PI / 3.0;
    let mut data = Vec::new();
    for k in 0..3 {
        data.push(Wave::distorted(50.02, 230.0, -third * k as f64, 7 + k).render(FS, 0, n));
    }
    for k in 0..3 {
        data.push(Wave::distorted(50.02, 20.0, -third * k as f64 - 0.5, 17 + k).render(FS, 0, n));
    }
    for x in &mut data[0][(4.0 * FS) as usize..(4.3 * FS) as usize] {
        *x *= 0.4;
    }
    data
}

/// All records (as their debug text, so NaN compares equal to NaN) of the analysis of
/// `data` cut into blocks of `block_len`, with the samples from `gap.0` to `gap.1` left out.
fn records(
    data: &[Vec<f64>],
    block_len: usize,
    gap: (usize, usize),
    parallel: bool,
) -> Vec<String> {
    let channels = [
        voltage(Phase::A),
        voltage(Phase::B),
        voltage(Phase::C),
        current(Phase::A),
        current(Phase::B),
        current(Phase::C),
    ];
    let config = SystemConfig {
        nominal_frequency: NominalFrequency::Hz50,
        load_current: Some(20.0),
        ..SystemConfig::default()
    };
    let options = AnalyzerOptions {
        parallel,
        ..AnalyzerOptions::default()
    };
    let start: Timestamp = aligned_start();
    let mut a = Analyzer::new(&channels, FS, start, config, options).unwrap();
    let mut out = Vec::new();
    let n = data[0].len();
    let mut i = 0;
    while i < n {
        if i == gap.0 {
            i = gap.1;
        }
        let j = (i + block_len)
            .min(n)
            .min(if i < gap.0 { gap.0 } else { n });
        let block = Block::from_channels(
            start.add_seconds(i as f64 / FS),
            FS,
            i as u64,
            data.iter().map(|c| c[i..j].to_vec()).collect(),
        )
        .unwrap();
        a.push(&block).unwrap();
        out.extend(a.drain());
        i = j;
    }
    a.finish();
    out.extend(a.drain());
    assert!(
        out.iter()
            .filter(|r| matches!(r, Record::Interval(_)))
            .count()
            > 40,
        "the run makes intervals"
    );
    out.iter().map(|r| format!("{r:?}")).collect()
}

#[test]
fn two_threads_give_the_records_of_one() {
    let n = (12.0 * FS) as usize;
    let data = signals(n);
    let gap = ((7.0 * FS) as usize + 123, (8.5 * FS) as usize);
    let one = records(&data, 65_536, gap, false);
    assert!(one.iter().any(|r| r.contains("harmonics: Some")));
    for block_len in [65_536, 8_192, 1_000] {
        let two = records(&data, block_len, gap, true);
        assert_eq!(one.len(), two.len(), "blocks of {block_len}");
        for (k, (a, b)) in one.iter().zip(&two).enumerate() {
            assert!(
                a == b,
                "blocks of {block_len}: record {k} differs:\n{a}\n{b}"
            );
        }
    }
}
