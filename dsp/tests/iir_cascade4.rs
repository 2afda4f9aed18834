//! The fast paths of the fundamental tracker's building blocks against their plain scalar
//! twins, bit for bit: the skewed four-section pipeline ([`Cascade4`]), the sign-change
//! scan and the zero-crossing detector's bulk advance; and the cheap phase-delay
//! evaluation against the exact one.

use pqe_dsp::cascade4::{Cascade4, Cascade4State};
use pqe_dsp::iir::{Cascade, Response};
use pqe_dsp::kernels::detected;
use pqe_dsp::zero_crossing::{scan_on, scan_reference, ZeroCrossingDetector};
use std::f64::consts::PI;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
    fn uniform(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn band_pass(f0: f64, fs: f64) -> Cascade {
    let mut c = Cascade::butterworth(Response::HighPass, 2, f0 / 5.0, fs).unwrap();
    c.append_butterworth(Response::LowPass, 6, 1.4 * f0)
        .unwrap();
    c
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits())
}

#[test]
fn pipeline_equals_scalar_twin_and_per_sample_for_any_length_and_state() {
    let mut rng = Lcg(11);
    for (f0, fs) in [
        (50.0, 4_000.0),
        (60.0, 10_240.0),
        (50.0, 12_800.0),
        (60.0, 25_600.0),
    ] {
        let c = band_pass(f0, fs);
        for len in (0..70).chain([100, 255, 256, 1_000, 4_097]) {
            let mut f = Cascade4::from_cascade(&c).unwrap();
            let mut state = Cascade4State::default();
            for lane in 0..4 {
                state.x1[lane] = 300.0 * (rng.uniform() - 0.5);
                state.x2[lane] = 300.0 * (rng.uniform() - 0.5);
                state.y1[lane] = 300.0 * (rng.uniform() - 0.5);
                state.y2[lane] = 300.0 * (rng.uniform() - 0.5);
            }
            f.set_state(state);
            let mut g = f.clone();
            let mut h = f.clone();
            let x: Vec<f64> = (0..len)
                .map(|i| 325.0 * (2.0 * PI * f0 * i as f64 / fs).sin() + rng.uniform() - 0.5)
                .collect();
            let mut a = vec![0.0; len];
            let mut b = vec![0.0; len];
            f.process_block_on(detected(), &x, &mut a);
            g.process_block_reference(&x, &mut b);
            let one: Vec<f64> = x.iter().map(|&v| h.process(v)).collect();
            assert!(same_bits(&a, &b), "{f0} Hz at {fs}, length {len}");
            assert!(same_bits(&a, &one), "{f0} Hz at {fs}, length {len}");
            assert_eq!(f.state(), g.state());
            assert_eq!(f.state(), h.state());
        }
    }
}

#[test]
fn pipeline_is_cut_invariant_with_extreme_values() {
    let mut rng = Lcg(5);
    let c = band_pass(50.0, 10_240.0);
    let mut x: Vec<f64> = (0..20_000)
        .map(|i| 1e3 * (0.03 * i as f64).sin() * (1.0 + 1e3 * rng.uniform()))
        .collect();
    x[5_000] = 1e300;
    x[5_001] = -1e300;
    let mut whole = Cascade4::from_cascade(&c).unwrap();
    let mut expected = vec![0.0; x.len()];
    whole.process_block_reference(&x, &mut expected);
    let mut f = Cascade4::from_cascade(&c).unwrap();
    let mut got = Vec::new();
    let mut start = 0;
    while start < x.len() {
        let len = rng.below(200).min(x.len() - start);
        let mut y = vec![0.0; len];
        f.process_block_on(detected(), &x[start..start + len], &mut y);
        got.extend(y);
        start += len;
    }
    assert!(same_bits(&got, &expected));
}

#[test]
fn scan_equals_its_scalar_twin() {
    let mut rng = Lcg(17);
    for round in 0..2_000 {
        let n = 1 + rng.below(80);
        let y: Vec<f64> = (0..n)
            .map(|_| match rng.below(12) {
                0 => 0.0,
                1 => -0.0,
                2 => f64::NAN,
                3 => 2.0 * rng.uniform() - 1.0,
                _ => {
                    // Mostly long runs of one sign, as in a filtered sine.
                    let s = if (round / 3) % 2 == 0 { 1.0 } else { -1.0 };
                    s * (0.01 + rng.uniform())
                }
            })
            .collect();
        let from = 1 + rng.below(n);
        let to = from + rng.below(n + 1 - from);
        let band = 0.5 * rng.uniform();
        let a = scan_on(detected(), &y, from.min(n), to.min(n), band);
        let b = scan_reference(&y, from.min(n), to.min(n), band);
        assert_eq!(a.stop, b.stop, "{y:?} {from} {to}");
        assert_eq!((a.below, a.above), (b.below, b.above));
        assert_eq!(a.peak.to_bits(), b.peak.to_bits());
    }
}

#[test]
fn detector_advance_equals_pushing_one_by_one() {
    let mut rng = Lcg(23);
    for (f, fs) in [(50.0, 4_000.0), (60.0, 10_240.0), (50.3, 25_600.0)] {
        let n = 30_000;
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let amplitude = if (i / 4_000) % 3 == 2 { 1e-4 } else { 1.0 };
                amplitude * (2.0 * PI * f * t).sin()
                    + 0.02 * (2.0 * PI * 7.0 * f * t).sin()
                    + 2e-3 * (rng.uniform() - 0.5)
            })
            .collect();
        let mut reference = ZeroCrossingDetector::new(0.2, 0.01);
        let expected: Vec<_> = y.iter().filter_map(|&v| reference.push(v)).collect();
        assert!(expected.len() > 50, "{}", expected.len());
        for _ in 0..5 {
            let mut det = ZeroCrossingDetector::new(0.2, 0.01);
            let mut twin = ZeroCrossingDetector::new(0.2, 0.01);
            let mut got = Vec::new();
            let mut start = 0;
            while start < n {
                let len =
                    [rng.below(5), rng.below(100), rng.below(3_000)][rng.below(3)].min(n - start);
                let mut pos = start;
                while pos < start + len {
                    // Alternately on the rest alone and with the lookback in the slice.
                    let (used, c) = if rng.below(2) == 0 {
                        det.advance(&y[pos..start + len])
                    } else {
                        let (next, c) = det.advance_from(&y[..start + len], pos);
                        (next - pos, c)
                    };
                    let (used_twin, c_twin) = twin.advance_reference(&y[pos..start + len]);
                    assert_eq!(used, used_twin);
                    assert_eq!(c, c_twin);
                    assert_eq!(det, twin);
                    got.extend(c);
                    pos += used;
                }
                start += len;
            }
            assert_eq!(got, expected);
            assert_eq!(det, reference);
        }
    }
}

#[test]
fn fast_phase_delay_matches_the_exact_one() {
    for f0 in [50.0, 60.0] {
        for fs in [4_000.0, 10_240.0, 12_800.0, 25_600.0, 102_400.0] {
            let c = band_pass(f0, fs);
            let band = c.phase_delay_band(0.7 * f0, 1.4 * f0);
            assert!(band.is_fast(), "{f0} Hz at {fs}");
            let mut worst: f64 = 0.0;
            for i in 0..=2_000 {
                let f = f0 * (0.7 + 0.7 * i as f64 / 2_000.0);
                worst = worst.max((band.phase_delay(f) - c.phase_delay(f)).abs());
            }
            // In seconds: far below anything a boundary position can resolve (1e-12 s is
            // a thousandth of a nanosecond). Seen: ~9e-14 s up to 25.6 kHz (interpolation),
            // 2.2e-13 s at 102.4 kHz, where the exact evaluation's own rounding
            // (cancellation in 1 + a1·z⁻¹ + a2·z⁻² near z = 1) adds to it.
            assert!(worst < 1e-12, "{f0} Hz at {fs}: {worst} s");
            // Outside the band the exact method answers.
            assert_eq!(band.phase_delay(2.0 * f0), c.phase_delay(2.0 * f0));
        }
    }
}
