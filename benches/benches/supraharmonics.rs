//! Throughput of the supraharmonic part (2–9 kHz groups, 9–150 kHz bins, PLC bands) on
//! 3 V + 3 I at 500 kHz: one second of a synthetic supply with a G3 burst, an S-FSK burst
//! and converter emission, pushed in 65 536-sample blocks through
//! `SupraharmonicAnalyzer`. Throughput is in input samples per second over all six
//! channels. Run with `cargo bench -p pqe-benches --bench supraharmonics`; for the memory of
//! a 60-s recording run the example `supraharmonics_60s` under `/usr/bin/time -v`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_core::Block;
use pqe_dsp::synth::Scenario;
use pqe_standards::supraharmonics::{SupraharmonicAnalyzer, SupraharmonicOptions};
use std::hint::black_box;
use std::time::Duration;

const SCENARIO: &str = r#"
sample_rate = 500000
duration = 1.0
channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
[[emission]]
kind = "g3"
level = 1.0
start = 0.1
burst = 0.3
phases = "A"
[[emission]]
kind = "sfsk"
level = 0.5
start = 0.5
burst = 0.3
phases = "B"
[[emission]]
kind = "converter"
frequency = 16000
level = 0.05
sidebands = [0.4]
[noise]
voltage_rms = 0.01
"#;

fn blocks() -> Vec<Block> {
    let s = Scenario::from_toml_str(SCENARIO).expect("bench scenario");
    let mut g = s.generator();
    let mut out = Vec::new();
    while let Some(b) = g.next_block(65_536) {
        out.push(b);
    }
    out
}

fn supraharmonics(c: &mut Criterion) {
    let blocks = blocks();
    let samples: usize = blocks.iter().map(|b| b.len() * b.n_channels()).sum();
    let mut group = c.benchmark_group("supraharmonics");
    group.throughput(Throughput::Elements(samples as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, options) in [
        ("all_parts", SupraharmonicOptions::default()),
        (
            "groups_2_9khz_only",
            SupraharmonicOptions {
                bins_9_150khz: false,
                plc: false,
                ..Default::default()
            },
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut a = SupraharmonicAnalyzer::new(500_000.0, 6, &options).unwrap();
                let mut n = 0;
                for block in &blocks {
                    a.push(block).unwrap();
                    while let Some(r) = a.next_record() {
                        n += r.groups.len();
                    }
                }
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, supraharmonics);
criterion_main!(benches);
