//! Speed of the flickermeter, printed with `--nocapture`: input samples per second per
//! channel for 10 min of signal at several rates. At high input rates the squaring
//! demodulator and its decimating filter (three multiply–adds per sample) dominate; at low
//! rates the weighting filters at ~1 kHz take a larger share.
//!
//! The assertion is loose (timing on shared machines varies); the figures are the point.
//! For stable numbers: `cargo test --release -p pqe-standards --test flicker_throughput --
//! --nocapture`.

mod flicker_support;

use flicker_support::clock;
use pqe_core::NominalFrequency;
use pqe_standards::iec61000_4_15::{FlickerOptions, Flickermeter, Lamp};
use std::time::Instant;

fn seconds_for(fs: f64, signal: &[f64], block: usize) -> (f64, f64) {
    let start = clock(0.0);
    let mut best = f64::INFINITY;
    let mut pst = f64::NAN;
    for _ in 0..3 {
        let mut meter = Flickermeter::new(
            fs,
            NominalFrequency::Hz50,
            start,
            start,
            FlickerOptions::for_lamp(Lamp::V230),
        )
        .unwrap();
        let t0 = Instant::now();
        for part in signal.chunks(block) {
            meter.push(part);
        }
        meter.finish();
        best = best.min(t0.elapsed().as_secs_f64());
        pst = meter.next_record().map_or(f64::NAN, |r| r.value);
    }
    (best, pst)
}

#[test]
fn ten_minutes_of_one_channel() {
    println!("\nflickermeter throughput, 10 min of one channel (best of 3):");
    println!(
        "{:>10} {:>8} {:>10} {:>14}",
        "rate Hz", "samples", "seconds", "M samples/s"
    );
    let mut slowest = f64::INFINITY;
    for fs in [4000.0, 10_240.0, 25_600.0, 102_400.0] {
        let seconds = if fs > 50_000.0 { 120.0 } else { 600.0 };
        let n = (seconds * fs) as usize;
        let signal: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                325.0
                    * (1.0 + 0.004 * (2.0 * std::f64::consts::PI * 8.8 * t).sin())
                    * (2.0 * std::f64::consts::PI * (50.0 * t).fract()).sin()
            })
            .collect();
        let (elapsed, pst) = seconds_for(fs, &signal, 65536);
        let rate = n as f64 / elapsed / 1e6;
        slowest = slowest.min(rate);
        println!(
            "{fs:>10} {:>7.1}M {elapsed:>10.4} {rate:>14.1}   (Pst {pst:.3})",
            n as f64 / 1e6
        );
    }
    assert!(slowest > 5.0, "{slowest} M samples/s");
}
