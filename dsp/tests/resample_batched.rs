//! The batched resampler (`SyncResampler::resample_many`) against the single-channel one
//! and the slow reference twin: bit-for-bit equal to `resample` channel by channel,
//! whatever the alignment of the slices, for both cutoff-½ kernels and the general path.

use pqe_dsp::resample::{check_resampled, resample_reference, SyncResampler};
use std::f64::consts::PI;

/// Six channels of `n` samples at `fs`: a fundamental `f1` with a few harmonics, each
/// channel with its own amplitude, phase and offset.
fn channels(fs: f64, f1: f64, n: usize) -> Vec<Vec<f64>> {
    (0..6)
        .map(|c| {
            let (amp, phase) = (100.0 + 50.0 * c as f64, 2.1 * c as f64);
            (0..n)
                .map(|i| {
                    let w = 2.0 * PI * f1 * i as f64 / fs + phase;
                    amp * (w.cos() + 0.05 * (5.0 * w).cos() + 0.01 * (63.0 * w + 0.3).sin())
                        + c as f64
                })
                .collect()
        })
        .collect()
}

fn batched(
    rs: &SyncResampler,
    xs: &[&[f64]],
    start: f64,
    length: f64,
) -> pqe_core::Result<Vec<Vec<f64>>> {
    let mut outs = vec![vec![0.0; rs.output_len()]; xs.len()];
    let mut refs: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
    rs.resample_many(xs, start, length, &mut refs)?;
    Ok(outs)
}

#[test]
fn batched_equals_single_channel_bit_for_bit() {
    // (fs, f1, points per cycle): short kernel, long kernel (ratio 1.6), general path
    // (output rate below the input rate).
    for &(fs, f1, ppc) in &[
        (10_240.0, 49.37, 256),
        (10_240.0, 50.8, 256),
        (6_400.0, 50.0, 256),
        (25_600.0, 50.2, 256),
    ] {
        let rs = SyncResampler::new(10, ppc);
        let length = 10.0 * fs / f1;
        let x = channels(fs, f1, length as usize + 200);
        for &start in &[32.0, 40.77, 41.5, 63.999] {
            // Slices cut at different offsets of the same data: alignment must not matter.
            for skip in [0usize, 1, 3] {
                let xs: Vec<&[f64]> = x.iter().map(|c| &c[skip..]).collect();
                let local = start - skip as f64;
                if local < 32.0 {
                    continue;
                }
                let many = batched(&rs, &xs, local, length).unwrap();
                for (c, out) in many.iter().enumerate() {
                    let mut one = vec![0.0; rs.output_len()];
                    rs.resample(xs[c], local, length, &mut one).unwrap();
                    assert_eq!(
                        out, &one,
                        "fs {fs}, f1 {f1}, start {start}, skip {skip}, channel {c}"
                    );
                    assert!(check_resampled(xs[c], local, length, out).is_ok());
                }
            }
        }
    }
}

#[test]
fn batched_matches_reference_twin() {
    let (fs, f1) = (10_240.0, 50.13);
    let x = channels(fs, f1, 2600);
    let xs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    let rs = SyncResampler::new(10, 256);
    let (start, length) = (40.3, 10.0 * fs / f1);
    let many = batched(&rs, &xs, start, length).unwrap();
    for (c, out) in many.iter().enumerate() {
        let mut slow = vec![0.0; rs.output_len()];
        resample_reference(xs[c], start, length, &mut slow).unwrap();
        let worst = out
            .iter()
            .zip(&slow)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        // Same bound as the single-channel fast path against its twin.
        assert!(worst < 1e-8 * 325.0, "channel {c}: {worst}");
    }
}

#[test]
fn bad_calls_and_non_finite_channels() {
    let (fs, f1) = (10_240.0, 50.0);
    let mut x = channels(fs, f1, 2300);
    let rs = SyncResampler::new(10, 256);
    let length = 2048.0;
    {
        let xs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
        // Count mismatch, margin, bad length, wrong output size.
        let mut outs = vec![vec![0.0; 2560]; 5];
        let mut refs: Vec<&mut [f64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
        assert!(rs.resample_many(&xs, 40.0, length, &mut refs).is_err());
        assert!(batched(&rs, &xs, 10.0, length).is_err());
        assert!(batched(&rs, &xs, 40.0, f64::NAN).is_err());
        let mut short = vec![vec![0.0; 2559]; 6];
        let mut refs: Vec<&mut [f64]> = short.iter_mut().map(|o| o.as_mut_slice()).collect();
        assert!(rs.resample_many(&xs, 40.0, length, &mut refs).is_err());
        // Too many samples per cycle for 256 points.
        assert!(batched(&rs, &xs, 40.0, 20_480.0).is_err());
        // No channels: nothing to do.
        assert!(rs.resample_many(&[], 40.0, length, &mut []).is_ok());
    }
    // A NaN in one channel spoils that channel only, and is reported as `resample` does.
    x[2][1000] = f64::NAN;
    let xs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    let many = batched(&rs, &xs, 40.0, length).unwrap();
    for (c, out) in many.iter().enumerate() {
        let check = check_resampled(xs[c], 40.0, length, out);
        let mut one = vec![0.0; 2560];
        let single = rs.resample(xs[c], 40.0, length, &mut one);
        assert_eq!(check.is_ok(), c != 2, "channel {c}");
        assert_eq!(single.is_ok(), c != 2);
        if let (Err(a), Err(b)) = (check, single) {
            assert!(a.to_string().contains("index 1000"), "{a}");
            assert_eq!(a.to_string(), b.to_string());
        }
    }
}
