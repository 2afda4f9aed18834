//! The fundamental tracker (IEC 61000-4-30 Ed.3 4.4, 5.1) gives bit-identical cycle
//! boundaries whether the reference channel arrives one sample at a time or in slices cut
//! anywhere, through missing samples (NaN), restarts after gaps, dead stretches and
//! frequency ramps, at 50 and 60 Hz and several sample rates.

use pqe_core::NominalFrequency;
use pqe_standards::iec61000_4_30::{CycleBoundary, FundamentalTracker, TrackerSettings};
use std::f64::consts::PI;

/// A small deterministic generator (64-bit LCG), enough for cut points and noise.
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

/// A distorted, noisy supply with a frequency ramp, a phase jump, an interruption (dead
/// stretch), a DC step and a few missing samples.
fn supply(f0: f64, fs: f64, seconds: f64, seed: u64) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let n = (seconds * fs) as usize;
    let mut phase = 0.3;
    let mut x = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / fs;
        let f = f0 * (1.0 + 0.01 * (0.7 * t).sin());
        phase += 2.0 * PI * f / fs;
        if (t - 0.9).abs() < 0.5 / fs {
            phase += 0.6;
        }
        let amplitude = if (1.2..1.5).contains(&t) { 0.0 } else { 325.0 };
        let dc = if t > 1.7 { 4.0 } else { 0.0 };
        let noise = 0.5 * (rng.uniform() - 0.5);
        x.push(
            amplitude
                * (phase.sin() + 0.08 * (5.0 * phase + 0.4).sin() + 0.03 * (7.0 * phase).sin())
                + dc
                + noise,
        );
    }
    for k in [n / 3, n / 3 + 1, n / 2 + 17, (0.8 * n as f64) as usize] {
        x[k] = f64::NAN;
    }
    x[n / 4] = f64::INFINITY;
    x
}

fn tracker(f0: NominalFrequency, fs: f64) -> FundamentalTracker {
    FundamentalTracker::new(f0, fs, TrackerSettings::for_voltage(230.0)).unwrap()
}

/// Feed `x` in the pieces `cuts` (lengths), restarting (as after a gap of `gap` samples)
/// before the pieces listed in `restarts`.
fn feed(
    t: &mut FundamentalTracker,
    x: &[f64],
    cuts: &[usize],
    restarts: &[(usize, u64, bool)],
) -> Vec<CycleBoundary> {
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &len) in cuts.iter().enumerate() {
        for &(at, gap, keep) in restarts {
            if at == k {
                let next = t.next_index() + gap;
                t.restart(next, keep);
            }
        }
        t.push_slice(&x[start..start + len], &mut out);
        start += len;
    }
    out
}

fn one_by_one(
    t: &mut FundamentalTracker,
    x: &[f64],
    cuts: &[usize],
    restarts: &[(usize, u64, bool)],
) -> Vec<CycleBoundary> {
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &len) in cuts.iter().enumerate() {
        for &(at, gap, keep) in restarts {
            if at == k {
                let next = t.next_index() + gap;
                t.restart(next, keep);
            }
        }
        for &v in &x[start..start + len] {
            t.push(v, &mut out);
        }
        start += len;
    }
    out
}

fn random_cuts(n: usize, rng: &mut Lcg, longest: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut left = n;
    while left > 0 {
        let len = match rng.below(4) {
            0 => rng.below(4),
            1 => rng.below(40),
            _ => rng.below(longest),
        }
        .min(left);
        cuts.push(len);
        left -= len;
    }
    cuts
}

fn assert_same(a: &[CycleBoundary], b: &[CycleBoundary], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: number of boundaries");
    for (k, (u, v)) in a.iter().zip(b).enumerate() {
        assert!(
            u.position.to_bits() == v.position.to_bits()
                && u.tracked == v.tracked
                && u.ready_at == v.ready_at,
            "{what}: boundary {k}: {u:?} vs {v:?}"
        );
    }
}

#[test]
fn slices_cut_anywhere_give_the_boundaries_of_one_by_one_pushing() {
    let mut rng = Lcg(7);
    for (nominal, f0) in [
        (NominalFrequency::Hz50, 50.0),
        (NominalFrequency::Hz60, 60.0),
    ] {
        for fs in [4_000.0, 10_240.0, 12_800.0, 25_600.0] {
            let x = supply(f0, fs, 2.2, rng.next());
            let whole = vec![x.len()];
            let mut reference = tracker(nominal, fs);
            let expected = one_by_one(&mut reference, &x, &whole, &[]);
            let tracked = expected.iter().filter(|b| b.tracked).count();
            assert!(tracked > 50, "{f0} Hz at {fs}: only {tracked} tracked");
            assert!(expected.iter().any(|b| !b.tracked), "{f0} Hz at {fs}");

            let mut t = tracker(nominal, fs);
            assert_same(&feed(&mut t, &x, &whole, &[]), &expected, "whole");
            for round in 0..6 {
                let longest = [3, 17, 300, 2_000, 9_000, 40_000][round];
                let cuts = random_cuts(x.len(), &mut rng, longest);
                let mut t = tracker(nominal, fs);
                let got = feed(&mut t, &x, &cuts, &[]);
                assert_same(&got, &expected, &format!("{f0} Hz at {fs}, round {round}"));
                assert_eq!(t.next_index(), reference.next_index());
                assert_eq!(t.frequency().to_bits(), reference.frequency().to_bits());
            }
        }
    }
}

#[test]
fn restarts_after_gaps_are_cut_invariant() {
    let mut rng = Lcg(99);
    let fs = 12_800.0;
    let x = supply(50.0, fs, 2.0, 5);
    for round in 0..8 {
        let cuts = random_cuts(x.len(), &mut rng, 5_000);
        let restarts: Vec<(usize, u64, bool)> = (0..3)
            .map(|_| {
                (
                    rng.below(cuts.len()),
                    rng.below(3_000) as u64,
                    rng.below(2) == 0,
                )
            })
            .collect();
        let mut a = tracker(NominalFrequency::Hz50, fs);
        let mut b = tracker(NominalFrequency::Hz50, fs);
        let expected = one_by_one(&mut a, &x, &cuts, &restarts);
        let got = feed(&mut b, &x, &cuts, &restarts);
        assert_same(&got, &expected, &format!("round {round}"));
    }
}

#[test]
fn a_dead_channel_and_runs_of_nan_are_cut_invariant() {
    let mut rng = Lcg(3);
    let fs = 10_240.0;
    let n = 40_000;
    let mut x = vec![0.0; n];
    // Dead (exact zeros), then tiny noise below the floor, then a stretch of NaN, then a
    // live signal, then NaN again to the end.
    for (i, v) in x.iter_mut().enumerate() {
        *v = match i {
            0..=9_999 => 0.0,
            10_000..=19_999 => 1e-3 * (rng.uniform() - 0.5),
            20_000..=20_499 => f64::NAN,
            20_500..=37_999 => 325.0 * (2.0 * PI * 60.0 * i as f64 / fs).sin(),
            _ => f64::NAN,
        };
    }
    let whole = vec![n];
    let mut reference = tracker(NominalFrequency::Hz60, fs);
    let expected = one_by_one(&mut reference, &x, &whole, &[]);
    assert!(expected.iter().filter(|b| !b.tracked).count() > 100);
    assert!(expected.iter().filter(|b| b.tracked).count() > 80);
    for round in 0..6 {
        let cuts = random_cuts(n, &mut rng, [5, 64, 1_000, 7_000, 20_000, 40_000][round]);
        let mut t = tracker(NominalFrequency::Hz60, fs);
        assert_same(&feed(&mut t, &x, &cuts, &[]), &expected, "dead channel");
    }
}
