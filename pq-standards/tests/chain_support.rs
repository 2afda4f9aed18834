//! Closed-form test signals and helpers shared by the `chain_*` tests (included with
//! `#[path]`; as a test target of its own it holds nothing to run).
#![allow(dead_code)]

use pqe_core::record::{FrequencyRecord, HalfCycleRecord, IntervalRecord, Record};
use pqe_core::{Block, ChannelKind, ChannelSpec, Phase, SystemConfig, Timestamp};
use pqe_standards::{Analyzer, AnalyzerOptions};
use std::f64::consts::PI;

/// A distorted sine: fundamental RMS `rms` at `frequency` (optionally ramping by `ramp`
/// Hz/s), harmonics as (order, fraction of the fundamental, phase in radians), DC offset,
/// white Gaussian noise of RMS `noise` (deterministic seed).
#[derive(Debug, Clone)]
pub struct Wave {
    pub frequency: f64,
    pub ramp: f64,
    pub rms: f64,
    pub phase: f64,
    pub harmonics: Vec<(f64, f64, f64)>,
    pub dc: f64,
    pub noise: f64,
    pub seed: u64,
}

impl Wave {
    pub fn sine(frequency: f64, rms: f64, phase: f64) -> Self {
        Wave {
            frequency,
            ramp: 0.0,
            rms,
            phase,
            harmonics: Vec::new(),
            dc: 0.0,
            noise: 0.0,
            seed: 1,
        }
    }

    /// 5 % 5th and 3 % 7th harmonics, noise at −60 dB of the fundamental.
    pub fn distorted(frequency: f64, rms: f64, phase: f64, seed: u64) -> Self {
        Wave {
            harmonics: vec![(5.0, 0.05, 0.3), (7.0, 0.03, -1.1)],
            noise: 1e-3 * rms,
            seed,
            ..Wave::sine(frequency, rms, phase)
        }
    }

    /// Fundamental phase at time t (seconds).
    pub fn theta(&self, t: f64) -> f64 {
        2.0 * PI * (self.frequency * t + 0.5 * self.ramp * t * t) + self.phase
    }

    /// True RMS of the noiseless signal (steady frequency).
    pub fn true_rms(&self) -> f64 {
        let h: f64 = self.harmonics.iter().map(|(_, a, _)| a * a).sum();
        (self.dc * self.dc + self.rms * self.rms * (1.0 + h)).sqrt()
    }

    pub fn render(&self, fs: f64, first: u64, n: usize) -> Vec<f64> {
        let mut rng = Gaussian::new(self.seed.wrapping_add(first));
        let amp = self.rms * 2f64.sqrt();
        (0..n)
            .map(|i| {
                let t = (first + i as u64) as f64 / fs;
                let th = self.theta(t);
                let mut v = self.dc + amp * th.sin();
                for &(order, rel, ph) in &self.harmonics {
                    v += amp * rel * (order * th + ph).sin();
                }
                if self.noise > 0.0 {
                    v += self.noise * rng.sample();
                }
                v
            })
            .collect()
    }
}

/// A small deterministic Gaussian generator (xorshift64* and Box–Muller).
pub struct Gaussian {
    state: u64,
    spare: Option<f64>,
}

impl Gaussian {
    pub fn new(seed: u64) -> Self {
        Gaussian {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            spare: None,
        }
    }
    fn uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn sample(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        self.spare = Some(r * (2.0 * PI * u2).sin());
        r * (2.0 * PI * u2).cos()
    }
}

pub fn voltage(phase: Phase) -> ChannelSpec {
    ChannelSpec::new(format!("V{phase}"), "V").with_phase(phase)
}

pub fn current(phase: Phase) -> ChannelSpec {
    ChannelSpec::new(format!("C{phase}"), "A").with_phase(phase)
}

/// An aligned start: a multiple of 10 min (so 10-s periods and 10-min ticks fall on
/// round sample indices).
pub fn aligned_start() -> Timestamp {
    Timestamp::from_nanos(1_767_225_600_000_000_000)
}

/// Run an analyzer over planar `data` cut into blocks of `block_len`; all records.
pub fn run(
    channels: &[ChannelSpec],
    data: &[Vec<f64>],
    fs: f64,
    start: Timestamp,
    config: SystemConfig,
    options: AnalyzerOptions,
    block_len: usize,
) -> Vec<Record> {
    let mut a = Analyzer::new(channels, fs, start, config, options).expect("analyzer");
    let n = data[0].len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let j = (i + block_len).min(n);
        let block = Block::from_channels(
            start.add_seconds(i as f64 / fs),
            fs,
            i as u64,
            data.iter().map(|c| c[i..j].to_vec()).collect(),
        )
        .expect("block");
        a.push(&block).expect("push");
        out.extend(a.drain());
        i = j;
    }
    a.finish();
    out.extend(a.drain());
    out
}

pub fn intervals(records: &[Record]) -> Vec<&IntervalRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Interval(i) => Some(i),
            _ => None,
        })
        .collect()
}

pub fn frequencies(records: &[Record]) -> Vec<&FrequencyRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Frequency(f) => Some(f),
            _ => None,
        })
        .collect()
}

pub fn half_cycles(records: &[Record]) -> Vec<&HalfCycleRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::HalfCycle(h) => Some(h),
            _ => None,
        })
        .collect()
}

pub fn options_without_spectra() -> AnalyzerOptions {
    AnalyzerOptions {
        harmonics: false,
        ..AnalyzerOptions::default()
    }
}

pub fn kind_of(spec: &ChannelSpec) -> ChannelKind {
    spec.kind
}
