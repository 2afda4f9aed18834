//! Shared by the spectral_* tests: closed-form test signals with analytic truth, cut into a
//! window of exactly `cycles` cycles of `f1` that starts at a known (fractional) sample
//! position, and the chain resample → FFT → spectrum of the IEC 61000-4-7 module.
#![allow(dead_code)]

use num_complex::Complex64;
use pqe_core::NominalFrequency;
use pqe_dsp::resample::{SyncResampler, DEFAULT_POINTS_PER_CYCLE};
use pqe_standards::iec61000_4_7::{HarmonicAnalyzer, Spectrum};
use std::f64::consts::{PI, SQRT_2};

/// Sample rate of the accuracy targets.
pub const FS: f64 = 10_240.0;
/// Nominal voltage of the tests (the fundamental's RMS).
pub const UNOM: f64 = 230.0;

/// A sinusoidal component: RMS value, frequency in multiples of the fundamental (any
/// real number), phase in radians of its cosine at the window start.
#[derive(Debug, Clone, Copy)]
pub struct Tone {
    pub rms: f64,
    pub order: f64,
    pub phase: f64,
}

impl Tone {
    pub fn new(rms: f64, order: f64, phase: f64) -> Self {
        Tone { rms, order, phase }
    }
    /// The component as a complex RMS phasor (cosine reference at the window start).
    pub fn phasor(&self) -> Complex64 {
        Complex64::from_polar(self.rms, self.phase)
    }
}

/// A raw record around one window: `x[i]` is the signal at time `(i − start)/fs` from the
/// window start, the window is `[start, start + length)` in samples.
pub struct Raw {
    pub x: Vec<f64>,
    pub start: f64,
    pub length: f64,
}

/// Where the window starts inside the raw record: margin plus an awkward fraction.
pub const START_FRACTION: f64 = 0.371_9;

/// The raw samples of `Σ √2·rms·cos(2π·order·f1·t + phase)` for a window of `cycles`
/// cycles of `f1` sampled at `fs`, `t = 0` at the window start.
pub fn raw(fs: f64, f1: f64, cycles: usize, tones: &[Tone]) -> Raw {
    let margin = SyncResampler::margin() as f64 + 2.0;
    let start = margin + START_FRACTION;
    let length = cycles as f64 * fs / f1;
    let n = (start + length + margin).ceil() as usize + 1;
    let x = (0..n)
        .map(|i| {
            let t = (i as f64 - start) / fs;
            tones
                .iter()
                .map(|tone| SQRT_2 * tone.rms * (2.0 * PI * tone.order * f1 * t + tone.phase).cos())
                .sum()
        })
        .collect();
    Raw { x, start, length }
}

/// Resampler and analyzer for a nominal system, reusable across windows.
pub struct Chain {
    pub nominal: NominalFrequency,
    pub resampler: SyncResampler,
    pub analyzer: HarmonicAnalyzer,
    pub synced: Vec<f64>,
}

impl Chain {
    pub fn new(nominal: NominalFrequency) -> Self {
        let resampler = SyncResampler::new(nominal.cycles_per_interval(), DEFAULT_POINTS_PER_CYCLE);
        let analyzer = HarmonicAnalyzer::new(nominal, DEFAULT_POINTS_PER_CYCLE).unwrap();
        let synced = vec![0.0; resampler.output_len()];
        Chain {
            nominal,
            resampler,
            analyzer,
            synced,
        }
    }

    pub fn cycles(&self) -> usize {
        self.nominal.cycles_per_interval()
    }

    /// Resample the window of `tones` at `fs`, `f1` into `self.synced` and return its
    /// spectrum.
    pub fn run(&mut self, fs: f64, f1: f64, tones: &[Tone]) -> Spectrum {
        let r = raw(fs, f1, self.cycles(), tones);
        self.resampler
            .resample(&r.x, r.start, r.length, &mut self.synced)
            .unwrap();
        self.analyzer.analyze(&self.synced)
    }
}

/// Worst error seen, with the case that produced it, printed by the tests.
#[derive(Debug, Default)]
pub struct Worst {
    pub value: f64,
    pub case: String,
}

impl Worst {
    pub fn see(&mut self, value: f64, case: impl FnOnce() -> String) {
        if value > self.value || value.is_nan() {
            self.value = value;
            self.case = case();
        }
    }
    pub fn report(&self, what: &str) {
        eprintln!("worst {what}: {:.3e} at {}", self.value, self.case);
    }
}

/// Angle difference in degrees wrapped to (−180, 180].
pub fn angle_diff_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}
