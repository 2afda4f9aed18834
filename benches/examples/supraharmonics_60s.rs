//! A 60-s, 3 V + 3 I recording at 500 kHz (synthesised block by block, with G3 and S-FSK
//! bursts and converter emission) through the supraharmonic analyzer and its 3-s and
//! 10-min aggregation, in bounded memory: run it under `/usr/bin/time -v` to see the peak
//! resident set. Prints the samples per second on one core and the records made.
//!
//! `cargo run --release -p pqe-benches --example supraharmonics_60s`

use pqe_dsp::synth::Scenario;
use pqe_standards::supraharmonics::{
    SupraharmonicAggregator, SupraharmonicAnalyzer, SupraharmonicOptions, SupraharmonicPeriod,
};
use std::time::{Duration, Instant};

fn main() {
    let scenario = Scenario::from_toml_str(
        r#"
        sample_rate = 500000
        duration = 60.0
        channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
        [[emission]]
        kind = "g3"
        level = 1.0
        start = 1.0
        burst = 0.3
        period = 5.0
        phases = "A"
        [[emission]]
        kind = "sfsk"
        level = 0.5
        start = 2.0
        burst = 0.5
        period = 7.0
        phases = "B"
        [[emission]]
        kind = "converter"
        frequency = 16000
        level = 0.05
        sidebands = [0.4]
        "#,
    )
    .expect("scenario");
    let mut generator = scenario.generator();
    let mut analyzer =
        SupraharmonicAnalyzer::new(500_000.0, 6, &SupraharmonicOptions::default()).unwrap();
    let mut three_s = SupraharmonicAggregator::new(SupraharmonicPeriod::ThreeSeconds);
    let mut ten_min = SupraharmonicAggregator::new(SupraharmonicPeriod::TenMinutes);
    let mut analysing = Duration::ZERO;
    let (mut samples, mut records, mut aggregates) = (0u64, 0u64, 0u64);
    while let Some(block) = generator.next_block(65_536) {
        samples += (block.len() * block.n_channels()) as u64;
        let t0 = Instant::now();
        analyzer.push(&block).unwrap();
        while let Some(r) = analyzer.next_record() {
            records += 1;
            aggregates += three_s.push(&r).is_some() as u64;
            aggregates += ten_min.push(&r).is_some() as u64;
        }
        analysing += t0.elapsed();
    }
    analyzer.finish();
    aggregates += (three_s.finish().len() + ten_min.finish().len()) as u64;
    println!(
        "{samples} samples (6 channels × 60 s × 500 kHz) analysed in {:.2} s: {:.1} M samples/s \
         on one core (generation not counted); {records} interval records, {aggregates} \
         aggregates",
        analysing.as_secs_f64(),
        samples as f64 / analysing.as_secs_f64() / 1e6
    );
}
