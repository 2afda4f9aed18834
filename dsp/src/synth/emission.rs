//! Signals above the harmonic range, added to the phase voltages: power-line communication
//! (G3-PLC OFDM bursts, G1 S-FSK frames) and converter emission (a switching frequency with
//! sidebands), each with a known RMS level so the supraharmonic methods can be checked
//! against it.
//!
//! Every value is a function of the sample's absolute index alone (symbol data and bits
//! come from a hash of the seed and the symbol or bit number), so any cut into blocks gives
//! the same samples.
//!
//! - **G3-PLC** (ITU-T G.9903, CENELEC-A band plan): carriers at `k · 1.5625 kHz` for
//!   `k` = 23…58 (35.9–90.6 kHz) by default; each symbol is 640 µs of orthogonal carriers
//!   preceded by a 55 µs cyclic prefix (695 µs); every carrier's phase is one of four
//!   (QPSK), drawn per symbol. Neighbouring symbols cross-fade over 20 µs with raised-cosine
//!   edges (G.9903 overlaps 8 samples at 400 kHz), which keeps the spectrum inside the
//!   band as a transmitter's does. All carriers have the same amplitude, so the burst's
//!   RMS is the configured level.
//! - **G1 S-FSK** (IEC 61334-5-1): the space tone (63.3 kHz) or the mark tone (74 kHz) for
//!   each bit at the bit rate (2400 bit/s), from two free-running oscillators cross-faded
//!   over 20 µs at each bit change; RMS = level.
//! - **Converter emission**: a sine at the switching frequency plus pairs of sidebands at
//!   `± j · spacing` (default spacing twice the nominal frequency) with the given relative
//!   amplitudes; the configured level is the carrier's RMS.

use super::numeric::{cycles_of_product, sin_cycles};

/// Spacing of G3-PLC carriers, Hz (400 kHz / 256).
pub const G3_CARRIER_SPACING_HZ: f64 = 1562.5;
/// First and last G3-PLC CENELEC-A carrier index.
pub const G3_CENELEC_A_CARRIERS: (u32, u32) = (23, 58);
/// Duration of a G3-PLC symbol's cyclic prefix, s (22 samples at 400 kHz).
pub const G3_PREFIX_SECONDS: f64 = 55e-6;
/// Raised-cosine cross-fade between OFDM symbols and between S-FSK bits, s.
pub const CROSSFADE_SECONDS: f64 = 20e-6;
/// G1 S-FSK space and mark tones, Hz, and bit rate (bit/s).
pub const G1_SPACE_HZ: f64 = 63_300.0;
pub const G1_MARK_HZ: f64 = 74_000.0;
pub const G1_BIT_RATE: f64 = 2400.0;

/// What an emission is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EmissionKind {
    /// OFDM: carrier frequencies (Hz), body duration (s) and cyclic prefix (s).
    Ofdm {
        carriers: Vec<f64>,
        body: f64,
        prefix: f64,
    },
    /// S-FSK: space and mark tones (Hz) and bit rate (bit/s).
    Sfsk {
        space: f64,
        mark: f64,
        bit_rate: f64,
    },
    /// A switching frequency (Hz), sideband spacing (Hz) and relative sideband amplitudes.
    Converter {
        frequency: f64,
        spacing: f64,
        sidebands: Vec<f64>,
    },
}

impl EmissionKind {
    /// The name scenarios use for it.
    pub fn name(&self) -> &'static str {
        match self {
            EmissionKind::Ofdm { .. } => "g3",
            EmissionKind::Sfsk { .. } => "sfsk",
            EmissionKind::Converter { .. } => "converter",
        }
    }

    /// Lowest and highest frequency it puts power at, Hz.
    pub fn span(&self) -> (f64, f64) {
        match self {
            EmissionKind::Ofdm { carriers, .. } => (
                carriers.iter().copied().fold(f64::INFINITY, f64::min),
                carriers.iter().copied().fold(0.0, f64::max),
            ),
            EmissionKind::Sfsk { space, mark, .. } => (space.min(*mark), space.max(*mark)),
            EmissionKind::Converter {
                frequency,
                spacing,
                sidebands,
            } => {
                let d = spacing * sidebands.len() as f64;
                (frequency - d, frequency + d)
            }
        }
    }
}

/// One emission as the generator renders it.
#[derive(Debug, Clone)]
pub(crate) struct EmissionModel {
    pub kind: EmissionKind,
    /// RMS while on, V (for a converter: the carrier's RMS).
    pub level: f64,
    pub start: f64,
    pub end: f64,
    /// On-time of each burst and the burst period, s; `None`: on from start to end.
    pub bursts: Option<(f64, f64)>,
    pub mask: [bool; 3],
    pub seed: u64,
    /// Cycles per sample of each tone (S-FSK space and mark; converter carrier and sidebands).
    pub steps: Vec<f64>,
    /// Peak amplitude per tone (converter) or per carrier (OFDM).
    pub amplitudes: Vec<f64>,
}

/// When an emission is on: from `start` to `end` (s), continuously or in bursts of
/// `(on-time, period)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub start: f64,
    pub end: f64,
    pub bursts: Option<(f64, f64)>,
}

impl EmissionModel {
    pub fn new(
        kind: EmissionKind,
        level: f64,
        schedule: Schedule,
        mask: [bool; 3],
        seed: u64,
        fs: f64,
    ) -> Self {
        let Schedule { start, end, bursts } = schedule;
        let sq2 = std::f64::consts::SQRT_2;
        let (steps, amplitudes) = match &kind {
            EmissionKind::Ofdm { carriers, .. } => {
                let a = level * (2.0 / carriers.len() as f64).sqrt();
                (Vec::new(), vec![a; carriers.len()])
            }
            EmissionKind::Sfsk { space, mark, .. } => {
                (vec![space / fs, mark / fs], vec![sq2 * level; 2])
            }
            EmissionKind::Converter {
                frequency,
                spacing,
                sidebands,
            } => {
                let mut s = vec![frequency / fs];
                let mut a = vec![sq2 * level];
                for (j, r) in sidebands.iter().enumerate() {
                    let d = spacing * (j + 1) as f64;
                    s.push((frequency + d) / fs);
                    s.push((frequency - d) / fs);
                    a.push(sq2 * level * r);
                    a.push(sq2 * level * r);
                }
                (s, a)
            }
        };
        EmissionModel {
            kind,
            level,
            start,
            end,
            bursts,
            mask,
            seed,
            steps,
            amplitudes,
        }
    }

    /// The RMS while on, V.
    pub fn rms(&self) -> f64 {
        match &self.kind {
            EmissionKind::Converter { sidebands, .. } => {
                self.level * (1.0 + 2.0 * sidebands.iter().map(|r| r * r).sum::<f64>()).sqrt()
            }
            _ => self.level,
        }
    }

    /// The stretches during which it is on, `[t0, t1)`, s.
    pub fn on_times(&self) -> Vec<(f64, f64)> {
        match self.bursts {
            None => vec![(self.start, self.end)],
            Some((on, period)) => {
                let mut out = Vec::new();
                let mut t = self.start;
                while t < self.end {
                    out.push((t, (t + on).min(self.end)));
                    t += period;
                }
                out
            }
        }
    }

    /// Whether it may be on anywhere in `[t0, t1]`.
    pub fn touches(&self, t0: f64, t1: f64) -> bool {
        self.start <= t1 && self.end >= t0
    }

    /// Seconds since the start of the burst in force at `t` and until its end, if on.
    fn since_burst(&self, t: f64) -> Option<(f64, f64)> {
        if t < self.start || t >= self.end {
            return None;
        }
        let since = t - self.start;
        match self.bursts {
            None => Some((since, self.end - t)),
            Some((on, period)) => {
                let within = since - (since / period).floor() * period;
                (within < on).then(|| (within, (on - within).min(self.end - t)))
            }
        }
    }

    /// The value at sample `i` (time `t = i / fs`).
    pub fn value(&self, i: u64, t: f64) -> f64 {
        let Some((tau, left)) = self.since_burst(t) else {
            return 0.0;
        };
        // Bursts switch on and off with the same raised-cosine edge.
        let edge = fade_in(tau) * fade_in(left);
        if edge == 0.0 {
            return 0.0;
        }
        edge * match &self.kind {
            EmissionKind::Ofdm { body, prefix, .. } => {
                let symbol = body + prefix;
                let s = (tau / symbol).floor();
                let x = tau - s * symbol;
                let mut v = self.ofdm_symbol(s as u64, x);
                // The cross-fade with the neighbouring symbol (none before the first).
                let half = 0.5 * CROSSFADE_SECONDS;
                if x < half && s >= 1.0 {
                    let w = fade_in(x + half);
                    v = w * v + (1.0 - w) * self.ofdm_symbol(s as u64 - 1, x + symbol);
                } else if x > symbol - half {
                    let w = fade_in(x - (symbol - half));
                    v = (1.0 - w) * v + w * self.ofdm_symbol(s as u64 + 1, x - symbol);
                }
                v
            }
            EmissionKind::Sfsk { bit_rate, .. } => {
                let period = 1.0 / bit_rate;
                let b = (tau * bit_rate).floor();
                let x = tau - b * period;
                let tone = |bit: u64| (mix(self.seed, bit, 0) & 1) as usize;
                let now = tone(b as u64);
                let half = 0.5 * CROSSFADE_SECONDS;
                let (other, w) = if x < half && b >= 1.0 {
                    (tone(b as u64 - 1), fade_in(x + half))
                } else if x > period - half {
                    (tone(b as u64 + 1), 1.0 - fade_in(x - (period - half)))
                } else {
                    (now, 1.0)
                };
                let osc = |k: usize| {
                    self.amplitudes[k] * sin_cycles(cycles_of_product(self.steps[k], i as f64).frac)
                };
                if other == now {
                    osc(now)
                } else {
                    w * osc(now) + (1.0 - w) * osc(other)
                }
            }
            EmissionKind::Converter { .. } => self
                .steps
                .iter()
                .zip(&self.amplitudes)
                .map(|(&step, &a)| a * sin_cycles(cycles_of_product(step, i as f64).frac))
                .sum::<f64>(),
        }
    }

    /// OFDM symbol `s` at `x` seconds from its start (the prefix repeats the body's end, and
    /// the waveform continues cyclically on either side for the cross-fades).
    fn ofdm_symbol(&self, s: u64, x: f64) -> f64 {
        let EmissionKind::Ofdm {
            carriers, prefix, ..
        } = &self.kind
        else {
            return 0.0;
        };
        let mut v = 0.0;
        for (k, (&f, &a)) in carriers.iter().zip(&self.amplitudes).enumerate() {
            let quarter = (mix(self.seed, s, k as u64) & 3) as f64 * 0.25;
            // cos(2π(f·x + q)) = sin(2π(f·x + q + 1/4)).
            v += a * sin_cycles(f * (x - prefix) + quarter + 0.25);
        }
        v
    }
}

/// The rising raised-cosine edge over [`CROSSFADE_SECONDS`]: 0 at `x = 0`, 1 at the end;
/// `fade_in(x) + fade_in(width − x) = 1`.
fn fade_in(x: f64) -> f64 {
    let r = (x / CROSSFADE_SECONDS).clamp(0.0, 1.0);
    0.5 - 0.5 * (std::f64::consts::PI * r).cos()
}

/// A 64-bit hash of three numbers (SplitMix64's finaliser over their mix): the symbol data
/// and bits of the PLC signals.
fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(a.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(b.wrapping_mul(0x94D0_49BB_1331_11EB))
        .wrapping_add(0x2545_F491_4F6C_DD1D);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_square(e: &EmissionModel, fs: f64, t0: f64, t1: f64) -> f64 {
        let i0 = (t0 * fs).ceil() as u64;
        let i1 = (t1 * fs).floor() as u64;
        let s: f64 = (i0..i1)
            .map(|i| {
                let v = e.value(i, i as f64 / fs);
                v * v
            })
            .sum();
        s / (i1 - i0) as f64
    }

    #[test]
    fn levels_are_the_rms_while_on() {
        let fs = 1_000_000.0;
        let g3 = EmissionModel::new(
            EmissionKind::Ofdm {
                carriers: (23..=58)
                    .map(|k| k as f64 * G3_CARRIER_SPACING_HZ)
                    .collect(),
                body: 1.0 / G3_CARRIER_SPACING_HZ,
                prefix: G3_PREFIX_SECONDS,
            },
            1.0,
            Schedule {
                start: 0.0,
                end: 1.0,
                bursts: None,
            },
            [true; 3],
            7,
            fs,
        );
        let ms = mean_square(&g3, fs, 0.0, 0.2);
        assert!((ms.sqrt() - 1.0).abs() < 0.02, "G3 RMS {}", ms.sqrt());
        let fsk = EmissionModel::new(
            EmissionKind::Sfsk {
                space: G1_SPACE_HZ,
                mark: G1_MARK_HZ,
                bit_rate: G1_BIT_RATE,
            },
            0.5,
            Schedule {
                start: 0.0,
                end: 1.0,
                bursts: Some((0.1, 0.5)),
            },
            [true; 3],
            1,
            fs,
        );
        assert!((mean_square(&fsk, fs, 0.0, 0.1).sqrt() - 0.5).abs() < 0.005);
        assert_eq!(mean_square(&fsk, fs, 0.1, 0.5), 0.0);
        assert_eq!(fsk.on_times(), vec![(0.0, 0.1), (0.5, 0.6)]);
        let conv = EmissionModel::new(
            EmissionKind::Converter {
                frequency: 16_000.0,
                spacing: 100.0,
                sidebands: vec![0.5],
            },
            0.2,
            Schedule {
                start: 0.0,
                end: 1.0,
                bursts: None,
            },
            [true; 3],
            0,
            fs,
        );
        assert!((conv.rms() - 0.2 * 1.5f64.sqrt()).abs() < 1e-12);
        assert!((mean_square(&conv, fs, 0.0, 0.1).sqrt() - conv.rms()).abs() < 1e-4);
    }
}
