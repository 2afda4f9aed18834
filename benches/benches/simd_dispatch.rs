//! Every kernel behind the one runtime dispatch (`pqe_dsp::kernels::backend`) on the CPU's
//! fast backend and on the scalar one, in the same run, so the fast/scalar ratio of each is
//! measured under the same load (10.24 kHz, 50 Hz):
//!
//! - `moments`, `three_phase_products`: the fused one-pass kernels of `pqe_dsp::kernels` over
//!   one 10-cycle window (≈ 2048 samples; the latter over six channels);
//! - `resample_6ch`: the six channels of a 10-cycle interval to 2560 synchronised points in
//!   one batched call (`SyncResampler::resample_many_on`);
//! - `cascade4`: the tracker's four-section band-pass over one second
//!   (`Cascade4::process_block_on`);
//! - `zero_crossing_scan`: the sign-change scan over one second of the band-passed signal,
//!   run to run between crossings as the detector does (`zero_crossing::scan_on`);
//! - `flicker_demodulator`: the flickermeter's squaring demodulator and decimator over one
//!   second (`SquaringDecimator::push_on`, IEC 61000-4-15 4.3).
//!
//! Names are `KERNEL/BACKEND` (`avx2+fma` or `scalar`). Throughput is in raw input samples.
//! Run with `cargo bench -p pqe-benches --bench simd_dispatch`; on a CPU without AVX2 and FMA
//! only the scalar figures are measured.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pqe_dsp::cascade4::Cascade4;
use pqe_dsp::iir::{Cascade, Response};
use pqe_dsp::kernels::{self, detected, KernelBackend};
use pqe_dsp::resample::SyncResampler;
use pqe_dsp::zero_crossing::scan_on;
use pqe_standards::iec61000_4_15::demodulator::SquaringDecimator;
use std::f64::consts::PI;
use std::hint::black_box;
use std::time::Duration;

const FS: f64 = 10_240.0;
const F1: f64 = 50.13;

fn signal(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let w = 2.0 * PI * F1 * i as f64 / FS + phase;
            325.0 * (w.sin() + 0.035 * (5.0 * w + 0.3).sin() + 0.02 * (7.0 * w).sin())
                + 0.5 * (2.0 * PI * 183.3 * i as f64 / FS).sin()
        })
        .collect()
}

fn backends() -> Vec<KernelBackend> {
    let mut all = vec![detected()];
    if detected() != KernelBackend::Scalar {
        all.push(KernelBackend::Scalar);
    }
    all
}

fn simd_dispatch(c: &mut Criterion) {
    let n = FS as usize + 200;
    let channels: Vec<Vec<f64>> = (0..6)
        .map(|k| signal(n, k as f64 * 2.0 * PI / 3.0))
        .collect();
    let length = 10.0 * FS / F1;
    let start = 40.37;
    let window = |k: usize| &channels[k][40..40 + length as usize];
    let second = &channels[0][..FS as usize];
    let mut group = c.benchmark_group("simd_dispatch");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    // The basic kernels run on the process's backend only (no `_on` entry point): measured
    // once here, their two backends by running with and without PQE_FORCE_SCALAR.
    group.throughput(Throughput::Elements(length as u64));
    let name = kernels::backend().name();
    group.bench_function(format!("moments/{name}"), |b| {
        b.iter(|| black_box(kernels::moments(black_box(window(0)))))
    });
    group.throughput(Throughput::Elements(6 * length as u64));
    group.bench_function(format!("three_phase_products/{name}"), |b| {
        b.iter(|| {
            black_box(kernels::three_phase_products(
                [window(0), window(1), window(2)],
                [window(3), window(4), window(5)],
            ))
        })
    });

    let rs = SyncResampler::new(10, 256);
    let xs: Vec<&[f64]> = channels.iter().map(|c| &c[..]).collect();
    let mut outs = vec![vec![0.0; rs.output_len()]; 6];
    let mut c4 = {
        let mut c = Cascade::butterworth(Response::HighPass, 2, F1 / 5.0, FS).unwrap();
        c.append_butterworth(Response::LowPass, 6, 1.4 * F1)
            .unwrap();
        Cascade4::from_cascade(&c).unwrap()
    };
    let mut filtered = vec![0.0; second.len()];
    c4.process_block(second, &mut filtered);
    let band = 0.1 * 325.0;
    for backend in backends() {
        let name = backend.name();
        group.throughput(Throughput::Elements(6 * length as u64));
        group.bench_function(format!("resample_6ch/{name}"), |b| {
            b.iter(|| {
                let mut refs: Vec<&mut [f64]> = outs.iter_mut().map(|o| &mut o[..]).collect();
                rs.resample_many_on(backend, black_box(&xs), start, length, &mut refs)
                    .unwrap();
            })
        });
        group.throughput(Throughput::Elements(FS as u64));
        let mut y = vec![0.0; second.len()];
        group.bench_function(format!("cascade4/{name}"), |b| {
            b.iter(|| c4.process_block_on(backend, black_box(second), &mut y))
        });
        group.bench_function(format!("zero_crossing_scan/{name}"), |b| {
            b.iter(|| {
                let (mut j, mut crossings) = (1, 0usize);
                while j < filtered.len() {
                    let r = scan_on(backend, black_box(&filtered), j, filtered.len(), band);
                    j = r.stop + 1;
                    crossings += 1;
                }
                black_box(crossings)
            })
        });
        let mut demodulator = SquaringDecimator::new(10);
        let mut decimated = Vec::with_capacity(FS as usize / 10 + 1);
        group.bench_function(format!("flicker_demodulator/{name}"), |b| {
            b.iter(|| {
                decimated.clear();
                demodulator.push_on(backend, black_box(second), &mut decimated);
                black_box(decimated.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, simd_dispatch);
criterion_main!(benches);
