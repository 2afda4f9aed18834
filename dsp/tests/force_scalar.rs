//! `PQE_FORCE_SCALAR` reaches the one kernel dispatch: set before the first kernel call (this
//! test binary holds this single test, so nothing ran before it), every dispatched kernel
//! runs the scalar backend. The resampler's two backends round differently (fused
//! multiply-adds), so its dispatched output must be the scalar one bit for bit and, on a
//! CPU with AVX2 and FMA, differ from the fast one somewhere.

use pqe_dsp::cascade4::Cascade4;
use pqe_dsp::iir::{Cascade, Response};
use pqe_dsp::kernels::{backend, detected, KernelBackend};
use pqe_dsp::resample::SyncResampler;
use pqe_dsp::zero_crossing::{scan, scan_on};
use std::f64::consts::PI;

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn force_scalar_selects_the_scalar_backend_for_every_kernel() {
    std::env::set_var("PQE_FORCE_SCALAR", "1");
    assert_eq!(backend(), KernelBackend::Scalar);

    let fs = 10_240.0;
    let x: Vec<f64> = (0..3_000)
        .map(|i| {
            let t = i as f64 / fs;
            325.0 * (2.0 * PI * 50.3 * t).sin() + 9.0 * (2.0 * PI * 5.0 * 50.3 * t + 0.4).sin()
        })
        .collect();
    let y: Vec<f64> = x.iter().map(|v| 0.5 * v - 2.0).collect();
    let rs = SyncResampler::new(10, 256);
    let (start, length) = (40.77, 10.0 * fs / 50.3);
    let n = rs.output_len();
    let (mut dispatched, mut scalar, mut fast) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    rs.resample(&x, start, length, &mut dispatched).unwrap();
    rs.resample_on(KernelBackend::Scalar, &x, start, length, &mut scalar)
        .unwrap();
    rs.resample_on(detected(), &x, start, length, &mut fast)
        .unwrap();
    assert_eq!(bits(&dispatched), bits(&scalar));
    if detected() == KernelBackend::Avx2Fma {
        assert_ne!(bits(&dispatched), bits(&fast), "the fast path did not run");
    }
    let (mut m0, mut m1) = (vec![0.0; n], vec![0.0; n]);
    rs.resample_many(&[&x, &y], start, length, &mut [&mut m0, &mut m1])
        .unwrap();
    assert_eq!(bits(&m0), bits(&scalar));

    // Bit-identical by construction on every backend: the dispatched call still runs.
    let mut c = Cascade::butterworth(Response::HighPass, 2, 10.0, fs).unwrap();
    c.append_butterworth(Response::LowPass, 6, 70.0).unwrap();
    let mut f = Cascade4::from_cascade(&c).unwrap();
    let mut g = f.clone();
    let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    f.process_block(&x, &mut a);
    g.process_block_on(KernelBackend::Scalar, &x, &mut b);
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(
        scan(&a, 1, a.len(), 1.0),
        scan_on(KernelBackend::Scalar, &a, 1, a.len(), 1.0)
    );
}
