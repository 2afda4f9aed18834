//! The IEC 61000-4-30 measurement chain on 3 V + 3 I at 10.24 kHz (issue 3's reference
//! load), three variants:
//!
//! - `full`: everything — tracking, 10/12-cycle RMS, peak, DC (5.2), harmonics and
//!   interharmonics to order 63 (IEC 61000-4-7), powers (IEEE 1459), unbalance (5.7),
//!   10-s frequency (5.1), Urms(1/2) (5.4.2), events (5.4, 5.5), flicker (IEC 61000-4-15),
//!   aggregation (4.5).
//! - `no_spectrum`: `full` without the spectral analysis (no harmonics, no phasor-based
//!   powers, no unbalance); flicker, Urms(1/2) and events on.
//! - `basic`: the basic chain — tracking, 10/12-cycle RMS/peak/DC, active power (and S,
//!   PF) in the time domain, 10-s frequency, aggregation; no spectrum, flicker, Urms(1/2)
//!   or events. The target for it: 500 M samples/s per core.
//!
//! Throughput is in samples (channels × samples per channel) per second, one core.
//!
//! The input is the 30 s demo supply (datasets/scenarios/demo-30s.toml: harmonics, a
//! ripple-control tone, unbalance, frequency wander, a distorted load, flicker, dips, a swell
//! and an interruption), generated once in memory and fed in 65 536-sample blocks.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_core::Block;
use pqe_dsp::synth::Scenario;
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::hint::black_box;

const SCENARIO: &str = include_str!("../../datasets/scenarios/demo-30s.toml");

fn input() -> (Scenario, Vec<Block>) {
    let scenario = Scenario::from_toml_str(SCENARIO).expect("bundled scenario parses");
    let mut generator = scenario.generator();
    let mut blocks = Vec::new();
    while let Some(b) = generator.next_block(65_536) {
        blocks.push(b);
    }
    (scenario, blocks)
}

fn run(scenario: &Scenario, blocks: &[Block], options: &AnalyzerOptions) -> usize {
    let info = scenario.recording_info();
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        scenario.system_config(),
        options.clone(),
    )
    .expect("analyzer");
    let mut records = 0;
    for b in blocks {
        analyzer.push(b).expect("push");
        records += analyzer.drain().count();
    }
    analyzer.finish();
    records + analyzer.drain().count()
}

fn chain(c: &mut Criterion) {
    let (scenario, blocks) = input();
    let samples: u64 = blocks
        .iter()
        .map(|b| (b.len() * b.n_channels()) as u64)
        .sum();
    let mut group = c.benchmark_group("chain_3v3i_10k24");
    group.sample_size(10);
    group.throughput(Throughput::Elements(samples));
    let full = AnalyzerOptions::default();
    group.bench_function("full", |b| {
        b.iter(|| black_box(run(&scenario, &blocks, &full)))
    });
    let no_spectrum = AnalyzerOptions {
        harmonics: false,
        ..AnalyzerOptions::default()
    };
    group.bench_function("no_spectrum", |b| {
        b.iter(|| black_box(run(&scenario, &blocks, &no_spectrum)))
    });
    // RMS, power, frequency and the interval records and aggregates: no flicker, no
    // Urms(1/2), no events.
    let basic = AnalyzerOptions {
        harmonics: false,
        flicker: false,
        half_cycle: false,
        events: pqe_standards::events::EventOptions {
            enabled: false,
            ..Default::default()
        },
        ..AnalyzerOptions::default()
    };
    group.bench_function("basic", |b| {
        b.iter(|| black_box(run(&scenario, &blocks, &basic)))
    });
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
