//! Per-stage benchmarks of the measurement chain at 10.24 kHz, 50 Hz (one channel unless
//! said otherwise), so a change to one kernel shows in its own figure:
//!
//! - `resample_window_*`: one 10-cycle window (≈ 2048 raw samples) to 2560 synchronised
//!   points (32-tap kernel), for the first channel of an interval (weights computed) and the
//!   next ones (weights reused); `resample_window_long_kernel` the first channel with the
//!   64-tap kernel; `resample_6ch` the six channels of an interval (3 V + 3 I) in one
//!   batched call, `resample_6ch_one_by_one` the same through the single-channel call
//!   (throughput of both: raw samples of all six channels);
//! - `fft_groupings`: the FFT of the 2560 points and the IEC 61000-4-7 groupings to order 63,
//!   order by order; `fft_order_values` the same in one pass (`Spectrum::order_values`, as
//!   the chain does);
//! - `window_moments`: RMS, DC and peak of one fractional 10-cycle window;
//! - `tracker`: the fundamental tracker on one second of the reference channel;
//! - `flicker`: one flickermeter on one second of a voltage channel.
//!
//! Throughput is in raw input samples per second (per channel). Run with
//! `cargo bench -p pqe-benches --bench stages`.
//!
//! Figures of the batched resampler (2-core VM shared with other builds, load ≈ 5; same
//! binary, same run, so the ratio holds better than the absolute times):
//! `resample_6ch` 83.9 µs against `resample_6ch_one_by_one` 110.8 µs (1.32×; 97.9 against
//! 148.3 µs, 1.51×, in another run); a single channel resampled on its own
//! (`resample_window_first_channel` + 5 × `resample_window_next_channels`) took
//! 50.9 + 5 × 12.2 = 112 µs before the batched call existed. `fft_order_values` 6.8 µs
//! against `fft_groupings` 8.5 µs (1.24×; the latter also computes each phase by `atan2`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_core::{NominalFrequency, Timestamp};
use pqe_dsp::resample::SyncResampler;
use pqe_standards::iec61000_4_15::{FlickerOptions, Flickermeter};
use pqe_standards::iec61000_4_30::window::window_moments;
use pqe_standards::iec61000_4_30::{FundamentalTracker, TrackerSettings};
use pqe_standards::iec61000_4_7::HarmonicAnalyzer;
use std::f64::consts::PI;
use std::hint::black_box;
use std::time::Duration;

const FS: f64 = 10_240.0;
const F1: f64 = 50.13;

fn signal(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let w = 2.0 * PI * F1 * i as f64 / FS;
            325.0 * (w.sin() + 0.035 * (5.0 * w + 0.3).sin() + 0.02 * (7.0 * w).sin())
                + 0.5 * (2.0 * PI * 183.3 * i as f64 / FS).sin()
        })
        .collect()
}

fn stages(c: &mut Criterion) {
    let x = signal(FS as usize + 200);
    let length = 10.0 * FS / F1;
    let start = 40.37;
    let mut group = c.benchmark_group("stages_10k24");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    group.throughput(Throughput::Elements(length as u64));
    let rs = SyncResampler::new(10, 256);
    let mut synced = vec![0.0; rs.output_len()];
    // The first channel of an interval computes the tap weights (a new window every call),
    // the others reuse them (same window).
    let mut shift = 0.0;
    group.bench_function("resample_window_first_channel", |b| {
        b.iter(|| {
            shift = 0.5 - shift;
            rs.resample(black_box(&x), start + shift, length, &mut synced)
                .unwrap();
            black_box(synced[7])
        })
    });
    group.bench_function("resample_window_next_channels", |b| {
        b.iter(|| {
            rs.resample(black_box(&x), start, length, &mut synced)
                .unwrap();
            black_box(synced[7])
        })
    });

    // All six channels of an interval (3 V + 3 I) in one batched call: the weights of each
    // output point formed once, in registers, and applied to every channel. Throughput
    // counts the raw samples of all six channels.
    let six: Vec<Vec<f64>> = (0..6)
        .map(|c| x.iter().map(|v| v * (1.0 + 0.1 * c as f64)).collect())
        .collect();
    let xs: Vec<&[f64]> = six.iter().map(|c| c.as_slice()).collect();
    let mut outs = vec![vec![0.0; rs.output_len()]; 6];
    group.throughput(Throughput::Elements(6 * length as u64));
    group.bench_function("resample_6ch", |b| {
        b.iter(|| {
            shift = 0.5 - shift;
            let mut refs: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
            rs.resample_many(black_box(&xs), start + shift, length, &mut refs)
                .unwrap();
            black_box(outs[5][7])
        })
    });
    // The same six channels one by one (the first computes the weights, five reuse them).
    group.bench_function("resample_6ch_one_by_one", |b| {
        b.iter(|| {
            shift = 0.5 - shift;
            for (x, out) in xs.iter().zip(outs.iter_mut()) {
                rs.resample(black_box(x), start + shift, length, out)
                    .unwrap();
            }
            black_box(outs[5][7])
        })
    });
    group.throughput(Throughput::Elements(length as u64));

    // The same 2560 output points from 1600 raw samples (rate ratio 1.6): the 64-tap kernel,
    // for an A/B of the two kernels in one run.
    let mut long = vec![0.0; rs.output_len()];
    group.bench_function("resample_window_long_kernel", |b| {
        b.iter(|| {
            rs.resample(black_box(&x), start, 1600.0, &mut long)
                .unwrap();
            black_box(long[7])
        })
    });

    let mut analyzer = HarmonicAnalyzer::new(NominalFrequency::Hz50, 256).unwrap();
    let mut spectrum = analyzer.new_spectrum();
    rs.resample(&x, start, length, &mut synced).unwrap();
    group.bench_function("fft_groupings", |b| {
        b.iter(|| {
            analyzer
                .analyze_into(black_box(&synced), &mut spectrum)
                .unwrap();
            let mut acc = spectrum.thd(50) + spectrum.thds(50) + spectrum.thdg(50);
            for n in 0..=63 {
                acc += spectrum.harmonic_subgroup(n)
                    + spectrum.harmonic_group(n)
                    + spectrum.interharmonic_group(n)
                    + spectrum.interharmonic_centred_subgroup(n)
                    + spectrum.harmonic_phase_deg(n, 0.3);
            }
            black_box(acc)
        })
    });

    // The same through the chain's one-pass `order_values` (groupings, phases, THDs).
    group.bench_function("fft_order_values", |b| {
        b.iter(|| {
            analyzer
                .analyze_into(black_box(&synced), &mut spectrum)
                .unwrap();
            let v = spectrum.order_values(0.3);
            black_box(spectrum.thd(50) + v.thds(50) + v.thdg(50) + v.phases_deg[7])
        })
    });

    group.bench_function("window_moments", |b| {
        b.iter(|| black_box(window_moments(black_box(&x), 0, start, start + length)))
    });

    group.throughput(Throughput::Elements(FS as u64));
    let second = &x[..FS as usize];
    group.bench_function("tracker", |b| {
        let mut t = FundamentalTracker::new(
            NominalFrequency::Hz50,
            FS,
            TrackerSettings::for_voltage(230.0),
        )
        .unwrap();
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            t.push_slice(black_box(second), &mut out);
            black_box(out.len())
        })
    });

    group.bench_function("flicker", |b| {
        let start = Timestamp::from_nanos(0);
        let options = FlickerOptions {
            udin: Some(230.0),
            ..FlickerOptions::default()
        };
        let mut meter =
            Flickermeter::new(FS, NominalFrequency::Hz50, start, start, options).unwrap();
        b.iter(|| {
            meter.push(black_box(second));
            while meter.next_record().is_some() {}
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
