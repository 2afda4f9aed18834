//! Throughput of the whole chain on 3 voltages + 3 currents at 10.24 kHz (the issue's
//! benchmark configuration). Ignored by default (a measurement, not a check): run with
//! `cargo test --release -p pqe-standards --test chain_throughput -- --ignored --nocapture`.

#[path = "chain_support.rs"]
mod support;

use pqe_core::{Block, Phase, SystemConfig};
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::time::Instant;
use support::*;

#[test]
#[ignore = "measurement; prints samples per second"]
fn three_voltages_three_currents_at_10_khz() {
    let fs = 10_240.0;
    let seconds = 20.0;
    let n = (seconds * fs) as usize;
    let third = 2.0 * std::f64::consts::PI / 3.0;
    let mut data: Vec<Vec<f64>> = (0..3)
        .map(|k| Wave::distorted(50.1, 230.0, -third * k as f64, k as u64).render(fs, 0, n))
        .collect();
    data.extend((0..3).map(|k| {
        Wave::distorted(50.1, 10.0, -third * k as f64 - 0.4, 9 + k as u64).render(fs, 0, n)
    }));
    let channels = [
        voltage(Phase::A),
        voltage(Phase::B),
        voltage(Phase::C),
        current(Phase::A),
        current(Phase::B),
        current(Phase::C),
    ];
    for (label, options) in [
        ("full chain", AnalyzerOptions::default()),
        ("without spectra", options_without_spectra()),
    ] {
        let block_len = 4096;
        let blocks: Vec<Block> = (0..n)
            .step_by(block_len)
            .map(|i| {
                let j = (i + block_len).min(n);
                Block::from_channels(
                    aligned_start().add_seconds(i as f64 / fs),
                    fs,
                    i as u64,
                    data.iter().map(|c| c[i..j].to_vec()).collect(),
                )
                .unwrap()
            })
            .collect();
        let mut a = Analyzer::new(
            &channels,
            fs,
            aligned_start(),
            SystemConfig::default(),
            options,
        )
        .unwrap();
        let t = Instant::now();
        let mut count = 0usize;
        for b in &blocks {
            a.push(b).unwrap();
            count += a.drain().count();
        }
        a.finish();
        count += a.drain().count();
        let elapsed = t.elapsed().as_secs_f64();
        eprintln!(
            "{label}: {:.2e} samples/s per channel ({:.0}× real time), {count} records",
            n as f64 / elapsed,
            seconds / elapsed
        );
    }
}
