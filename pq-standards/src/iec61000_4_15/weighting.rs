//! Blocks 1, 3 and 4 of the flickermeter at the decimated rate (IEC 61000-4-15 Ed.2 4.2,
//! 4.4, 4.5): normalisation of the demodulated signal, the weighting filters and the
//! squaring and smoothing that give the instantaneous flicker sensation Pinst.
//!
//! - Input adaptor (4.2): the standard scales the voltage to a reference level with a
//!   1-min first-order low-pass over its half-period RMS. Since the demodulator squares,
//!   `(u/U)² = u²/U²`: the squared, decimated signal is divided by its mean square tracked
//!   with a 60-s first-order low-pass (`MeanSquareTracker`). So that a fresh start does
//!   not wait for a 60-s filter, the tracker begins as the running mean of everything it
//!   has seen and becomes the 60-s low-pass once 60 s are in (the same estimate a 1-min
//!   filter converges to, reached without its start-up error).
//! - Weighting (4.4): first-order high-pass at 0.05 Hz (removes DC), sixth-order
//!   Butterworth low-pass at 35 Hz on 50 Hz supplies and 42 Hz on 60 Hz supplies (removes
//!   the double mains frequency; chosen by the supply), and the lamp–eye filter of the
//!   [`Lamp`] (chosen by the lamp, not by the supply):
//!   `H(s) = K·ω1·s / (s² + 2λs + ω1²) · (1 + s/ω2) / ((1 + s/ω3)(1 + s/ω4))`,
//!   bilinear-transformed with prewarping at ω1 (the filter's peak, so the digital filter
//!   matches the analog one exactly where the eye is most sensitive). The Butterworth
//!   filters come from [`pqe_dsp::iir`], prewarped at their cutoffs.
//!   The bilinear transform's frequency warping, `f → (f_d/π)·tan(πf/f_d)`, leaves the
//!   digital chain slightly less sensitive than the analog one at the top of the band:
//!   at `f_d ≈ 1 kHz` about −0.6 % of Pinst at 25 Hz, −1 % at 33 Hz and −1.5 % at 40 Hz;
//!   it shrinks with the square of the decimated rate (−0.5 % at 40 Hz with 2 kHz).
//! - Squaring and smoothing (4.5): the weighted signal squared, then a first-order
//!   low-pass with a 300-ms time constant, times the calibration gain ([`Calibration`]).
//! - Start: after a (re)start every filter is set to its steady state for a steady
//!   voltage and the normalised signal is faded in from 1 over [`FADE_IN`] (0.5 s, a
//!   raised cosine). Switched on abruptly, the double-mains-frequency ripple (as large as
//!   the signal itself) would ring the Butterworth low-pass and the level tracker's first
//!   values (a mean over less than a cycle) would be off by tens of percent: each a
//!   flicker reading of tens to hundreds for the first second. Faded in over 25 periods
//!   of the ripple, neither reaches the flicker band, and the meter reads within 1 %
//!   after about 3 s.

use super::Lamp;
use pqe_core::{NominalFrequency, Result};
use pqe_dsp::iir::{Biquad, BiquadCoefficients, Cascade, Response};
use std::f64::consts::PI;

/// Time constant of the input adaptor's level tracker (4.2), seconds.
pub const ADAPTOR_TIME_CONSTANT: f64 = 60.0;
/// Cutoff of the first-order high-pass of block 3 (4.4), Hz.
pub const HIGH_PASS_CUTOFF: f64 = 0.05;
/// Time constant of the first-order smoothing low-pass of block 4 (4.5), seconds.
pub const SMOOTHING_TIME_CONSTANT: f64 = 0.3;
/// Length of the raised-cosine fade-in of the normalised signal after a (re)start,
/// seconds: it keeps the switched-on double-mains ripple and the level tracker's first
/// values from ringing the filters (see the module documentation).
pub const FADE_IN: f64 = 0.5;

/// Parameters of a lamp–eye filter (4.4), angular frequencies in rad/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LampEyeParameters {
    /// Gain factor K.
    pub k: f64,
    /// Damping λ.
    pub lambda: f64,
    /// ω1, the resonance.
    pub omega1: f64,
    /// ω2, the zero of the second factor.
    pub omega2: f64,
    /// ω3, the first pole of the second factor.
    pub omega3: f64,
    /// ω4, the second pole of the second factor.
    pub omega4: f64,
}

impl LampEyeParameters {
    /// The parameters of `lamp` (IEC 61000-4-15 Ed.2 4.4, table of the weighting filter:
    /// 230 V coiled-coil 60 W lamp and 120 V 60 W lamp).
    pub fn of(lamp: Lamp) -> Self {
        let w = |hz: f64| 2.0 * PI * hz;
        match lamp {
            Lamp::V230 => LampEyeParameters {
                k: 1.74802,
                lambda: w(4.05981),
                omega1: w(9.15494),
                omega2: w(2.27979),
                omega3: w(1.22535),
                omega4: w(21.9),
            },
            Lamp::V120 => LampEyeParameters {
                k: 1.6357,
                lambda: w(4.167375),
                omega1: w(9.077169),
                omega2: w(2.939902),
                omega3: w(1.394468),
                omega4: w(17.31512),
            },
        }
    }

    /// The analog response |H(j2πf)|.
    pub fn analog_response(&self, frequency: f64) -> f64 {
        let s = num_complex::Complex64::new(0.0, 2.0 * PI * frequency);
        let p = self;
        let resonance = p.k * p.omega1 * s / (s * s + 2.0 * p.lambda * s + p.omega1 * p.omega1);
        let shelf = (1.0 + s / p.omega2) / ((1.0 + s / p.omega3) * (1.0 + s / p.omega4));
        (resonance * shelf).norm()
    }

    /// The filter bilinear-transformed for `rate`, prewarped at ω1: two sections.
    fn digital(&self, rate: f64) -> LampEyeFilter {
        let p = self;
        let c = p.omega1 / (p.omega1 / (2.0 * rate)).tan();
        let resonance = bilinear(
            [0.0, p.k * p.omega1, 0.0],
            [p.omega1 * p.omega1, 2.0 * p.lambda, 1.0],
            c,
        );
        let shelf = bilinear(
            [1.0, 1.0 / p.omega2, 0.0],
            [
                1.0,
                1.0 / p.omega3 + 1.0 / p.omega4,
                1.0 / (p.omega3 * p.omega4),
            ],
            c,
        );
        LampEyeFilter {
            sections: [Biquad::new(resonance), Biquad::new(shelf)],
            rate,
        }
    }
}

/// Cutoff of the sixth-order Butterworth low-pass of block 3 for a supply (4.4), Hz.
pub fn butterworth_cutoff(nominal: NominalFrequency) -> f64 {
    match nominal {
        NominalFrequency::Hz50 => 35.0,
        NominalFrequency::Hz60 => 42.0,
    }
}

/// The calibration of block 4 (4.5): the gain that makes a sinusoidal fluctuation of the
/// reference depth at the reference frequency give Pinst max = 1.
///
/// The reference points are the 8.8 Hz rows of the sinusoidal table of IEC 61000-4-15 Ed.2
/// (table 1): ΔV/V = 0.250 % for the 230 V lamp and 0.321 % for the 120 V lamp. A
/// fluctuation `u = U·(1 + (ΔV/V)/2·sin ωt)` squares to `U²·(1 + (ΔV/V)·sin ωt + …)`, so
/// after normalisation and weighting the flicker band holds `A·sin(ωt + φ)` with
/// `A = (ΔV/V)·|W(f)|`; squared, `A²/2·(1 − cos(2ωt + 2φ))`; smoothed, its maximum is
/// `A²/2·(1 + |L(2f)|)`. The gain is the inverse of that maximum, with `W` and `L` the
/// responses of this meter's own digital filters (decimator and droop compensation
/// included), so the meter reads exactly 1 at its calibration point whatever its rate.
/// The gain comes out as 3.0960·10⁵ for the 230 V lamp and 3.0765·10⁵ for the 120 V lamp,
/// the same to 10⁻⁵ at every input rate and on both supplies (the 120 V lamp–eye filter is
/// less sensitive at 8.8 Hz in about the ratio of the two depths, so the gains nearly
/// agree; `flicker_tables` prints them per configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Modulation frequency of the calibration point, Hz.
    pub frequency: f64,
    /// Peak-to-peak relative voltage change ΔV/V of the calibration point (a fraction).
    pub depth: f64,
}

impl Calibration {
    /// The calibration point of `lamp` (8.8 Hz rows of table 1).
    pub fn of(lamp: Lamp) -> Self {
        match lamp {
            Lamp::V230 => Calibration {
                frequency: 8.8,
                depth: 0.250e-2,
            },
            Lamp::V120 => Calibration {
                frequency: 8.8,
                depth: 0.321e-2,
            },
        }
    }

    /// The gain for a chain whose weighting response at the calibration frequency is
    /// `weighting` and whose smoothing response at twice it is `smoothing`.
    fn gain(&self, weighting: f64, smoothing: f64) -> f64 {
        let amplitude = self.depth * weighting;
        2.0 / (amplitude * amplitude * (1.0 + smoothing))
    }
}

/// Sections of the chain: the high-pass and the three sections of the sixth-order
/// Butterworth low-pass (block 3, 4.4), the two of the lamp–eye filter (4.4) and the
/// first-order smoothing low-pass (block 4, 4.5).
const SECTIONS: usize = 7;
/// Sections of the band filter (high-pass and Butterworth low-pass), the first ones.
const BAND_SECTIONS: usize = 4;

/// Blocks 1 (level), 3 and 4 at the decimated rate: squared voltage in, Pinst out,
/// with the fade-in after a (re)start (see the module documentation).
///
/// The arithmetic is that of [`ReferenceChain`] operation for operation (the same
/// transposed direct form II sections, the same order), so the two give the same bits;
/// this one runs a whole run of values with the filter state in local variables
/// ([`WeightingChain::process_block`]) instead of walking the sections in memory for every
/// value.
#[derive(Debug, Clone)]
pub(crate) struct WeightingChain {
    /// Droop compensator coefficient `a` and its two previous inputs.
    droop: f64,
    droop_history: [f64; 2],
    adaptor: MeanSquareTracker,
    coefficients: [BiquadCoefficients; SECTIONS],
    /// `(s1, s2)` of each section.
    states: [[f64; 2]; SECTIONS],
    gain: f64,
    faded: u64,
    fade_len: u64,
}

impl WeightingChain {
    /// The same design as `reference`, in its initial state.
    pub fn from_reference(reference: &ReferenceChain) -> Result<Self> {
        let sections: Vec<BiquadCoefficients> = reference
            .band
            .sections()
            .iter()
            .chain(&reference.eye.sections)
            .chain(reference.smoothing.sections())
            .map(|s| *s.coefficients())
            .collect();
        let band = reference.band.sections().len();
        let coefficients: [BiquadCoefficients; SECTIONS] = match sections.try_into() {
            Ok(c) if band == BAND_SECTIONS => c,
            _ => {
                return Err(pqe_core::Error::Config(
                    "flickermeter: unexpected weighting filter layout".into(),
                ))
            }
        };
        Ok(WeightingChain {
            droop: reference.droop.coefficient(),
            droop_history: [0.0; 2],
            adaptor: reference.adaptor.clone(),
            coefficients,
            states: [[0.0; 2]; SECTIONS],
            gain: reference.gain,
            faded: 0,
            fade_len: reference.fade_len,
        })
    }

    /// The calibration gain of block 4.
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// Restart on the squared voltage `x`: every filter in its steady state for a steady
    /// voltage, the level tracker empty (as [`ReferenceChain::restart`]).
    pub fn restart(&mut self, x: f64) {
        self.faded = 0;
        self.droop_history = [x, x];
        self.adaptor.reset();
        self.states = [[0.0; 2]; SECTIONS];
        // The band filter settled to a steady input of 1, section by section as
        // `pqe_dsp::iir::Biquad::settle_to`.
        let mut v = 1.0;
        for (c, s) in self.coefficients[..BAND_SECTIONS]
            .iter()
            .zip(&mut self.states)
        {
            let y = c.dc_gain() * v;
            s[1] = c.b[2] * v - c.a[1] * y;
            s[0] = c.b[1] * v - c.a[0] * y + s[1];
            v = y;
        }
    }

    /// Decimated squared-voltage values in, their Pinst values out, in place.
    ///
    /// The stages are skewed: in step `i` the front end (droop compensation, level,
    /// fade-in) takes value `i` while section `k` takes value `i − 1 − k`, so the eight
    /// computations of a step do not wait on one another and the step costs about one
    /// section's recursion instead of the whole chain's latency. Each stage still sees
    /// its values in order, so every bit is that of the value-by-value chain.
    pub fn process_block(&mut self, values: &mut [f64]) {
        let n = values.len();
        if n == 0 {
            return;
        }
        let mut p = Pipeline {
            c: self.coefficients,
            s: self.states,
            latch: [0.0; SECTIONS],
            droop: self.droop,
            history: self.droop_history,
            adaptor: self.adaptor.clone(),
            gain: self.gain,
            faded: self.faded,
            fade_len: self.fade_len,
        };
        // Filling: the first stages only; then all; then draining.
        for i in 0..SECTIONS.min(n + SECTIONS) {
            p.partial_step(values, i);
        }
        for i in SECTIONS..n {
            p.full_step(values, i);
        }
        for i in n.max(SECTIONS)..n + SECTIONS {
            p.partial_step(values, i);
        }
        self.states = p.s;
        self.droop_history = p.history;
        self.adaptor = p.adaptor;
        self.faded = p.faded;
    }
}

/// The working copy of a [`WeightingChain`] during [`WeightingChain::process_block`]: the
/// state of every stage and the values between stages (`latch[k]`, the input of section
/// `k`).
struct Pipeline {
    c: [BiquadCoefficients; SECTIONS],
    s: [[f64; 2]; SECTIONS],
    latch: [f64; SECTIONS],
    droop: f64,
    history: [f64; 2],
    adaptor: MeanSquareTracker,
    gain: f64,
    faded: u64,
    fade_len: u64,
}

impl Pipeline {
    /// Droop compensation, level (block 1, 4.2) and fade-in of one value: the normalised
    /// signal, as `ReferenceChain::process` computes it.
    #[inline(always)]
    fn front(&mut self, x: f64) -> f64 {
        let a = self.droop;
        let [x1, x2] = self.history;
        self.history = [x, x1];
        let flat = (1.0 + 2.0 * a) * x1 - a * (x + x2);
        let level = self.adaptor.update(flat);
        // A dead channel (zero level) shows no fluctuation rather than 0/0.
        let mut relative = if level > f64::MIN_POSITIVE {
            flat / level
        } else {
            1.0
        };
        if self.faded < self.fade_len {
            let w = 0.5 - 0.5 * (PI * self.faded as f64 / self.fade_len as f64).cos();
            relative = 1.0 + w * (relative - 1.0);
            self.faded += 1;
        }
        relative
    }

    /// Step `i` with every stage busy (`SECTIONS ≤ i < values.len()`): the smoothing
    /// section finishes value `i − SECTIONS`, the front end takes value `i`.
    #[inline(always)]
    fn full_step(&mut self, values: &mut [f64], i: usize) {
        let last = SECTIONS - 1;
        let y = self.latch[last];
        values[i - SECTIONS] = self.gain * section(&self.c[last], &mut self.s[last], y * y);
        for k in (0..last).rev() {
            self.latch[k + 1] = section(&self.c[k], &mut self.s[k], self.latch[k]);
        }
        self.latch[0] = self.front(values[i]);
    }

    /// Step `i` while filling or draining: only the stages that hold a value of the
    /// block work (stage 0 the front end, stage `k + 1` section `k`).
    fn partial_step(&mut self, values: &mut [f64], i: usize) {
        let n = values.len();
        let busy = |stage: usize| i >= stage && i - stage < n;
        let last = SECTIONS - 1;
        if busy(SECTIONS) {
            let y = self.latch[last];
            values[i - SECTIONS] = self.gain * section(&self.c[last], &mut self.s[last], y * y);
        }
        for k in (0..last).rev() {
            if busy(k + 1) {
                self.latch[k + 1] = section(&self.c[k], &mut self.s[k], self.latch[k]);
            }
        }
        if busy(0) {
            self.latch[0] = self.front(values[i]);
        }
    }
}

/// One transposed direct form II section, the arithmetic of `pqe_dsp::iir::Biquad::process`
/// on a state `[s1, s2]` held by the caller.
#[inline(always)]
fn section(c: &BiquadCoefficients, s: &mut [f64; 2], x: f64) -> f64 {
    let y = c.b[0] * x + s[0];
    s[0] = c.b[1] * x - c.a[0] * y + s[1];
    s[1] = c.b[2] * x - c.a[1] * y;
    y
}

/// Blocks 1 (level), 3 and 4 at the decimated rate, one value at a time through the
/// filters of [`pqe_dsp::iir`]: the plain twin of [`WeightingChain`], which must give the
/// same bits (the tests check it) and whose design it takes.
#[derive(Debug, Clone)]
pub(crate) struct ReferenceChain {
    droop: super::demodulator::DroopCompensator,
    adaptor: MeanSquareTracker,
    band: Cascade,
    eye: LampEyeFilter,
    smoothing: Cascade,
    gain: f64,
    /// Values since the last restart, counted up to `fade_len`.
    faded: u64,
    fade_len: u64,
}

impl ReferenceChain {
    /// The chain for `lamp` on a `nominal` supply at the decimated rate `rate`, after a
    /// decimator whose anti-alias magnitude at a frequency is `decimator_response`.
    pub fn new(
        lamp: Lamp,
        nominal: NominalFrequency,
        rate: f64,
        droop: super::demodulator::DroopCompensator,
        decimator_response: impl Fn(f64) -> f64,
    ) -> Result<Self> {
        let mut band = Cascade::butterworth(Response::HighPass, 1, HIGH_PASS_CUTOFF, rate)?;
        band.append_butterworth(Response::LowPass, 6, butterworth_cutoff(nominal))?;
        let eye = LampEyeParameters::of(lamp).digital(rate);
        let smoothing = Cascade::butterworth(
            Response::LowPass,
            1,
            1.0 / (2.0 * PI * SMOOTHING_TIME_CONSTANT),
            rate,
        )?;
        let cal = Calibration::of(lamp);
        let f = cal.frequency;
        let weighting = decimator_response(f)
            * droop.response(f, rate)
            * band.response(f).norm()
            * eye.response(f).norm();
        let gain = cal.gain(weighting, smoothing.response(2.0 * f).norm());
        Ok(ReferenceChain {
            droop,
            adaptor: MeanSquareTracker::new(rate),
            band,
            eye,
            smoothing,
            gain,
            faded: 0,
            fade_len: (FADE_IN * rate).round().max(1.0) as u64,
        })
    }

    /// The calibration gain of block 4.
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// Restart on the squared voltage `x`: every filter in its steady state for a steady
    /// voltage, the level tracker empty.
    pub fn restart(&mut self, x: f64) {
        self.faded = 0;
        self.droop.settle_to(x);
        self.adaptor.reset();
        self.band.reset();
        self.band.settle_to(1.0);
        self.eye.reset();
        self.smoothing.reset();
    }

    /// One decimated squared-voltage value in, Pinst out.
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        let flat = self.droop.process(x);
        let level = self.adaptor.update(flat);
        // A dead channel (zero level) shows no fluctuation rather than 0/0.
        let mut relative = if level > f64::MIN_POSITIVE {
            flat / level
        } else {
            1.0
        };
        if self.faded < self.fade_len {
            let w = 0.5 - 0.5 * (PI * self.faded as f64 / self.fade_len as f64).cos();
            relative = 1.0 + w * (relative - 1.0);
            self.faded += 1;
        }
        let weighted = self.eye.process(self.band.process(relative));
        self.gain * self.smoothing.process(weighted * weighted)
    }
}

/// Mean square of the squared voltage, the reference level of the input adaptor (4.2).
#[derive(Debug, Clone)]
pub(crate) struct MeanSquareTracker {
    /// Values seen since the last reset.
    seen: u64,
    /// Values after which the running mean turns into the first-order low-pass.
    horizon: u64,
    /// Weight of the newest value: 1/seen, then 1/horizon.
    step: f64,
    level: f64,
}

impl MeanSquareTracker {
    fn new(rate: f64) -> Self {
        MeanSquareTracker {
            seen: 0,
            horizon: (ADAPTOR_TIME_CONSTANT * rate).round().max(1.0) as u64,
            step: 1.0,
            level: 0.0,
        }
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.step = 1.0;
        self.level = 0.0;
    }

    #[inline]
    fn update(&mut self, x: f64) -> f64 {
        if self.seen < self.horizon {
            self.seen += 1;
            self.step = 1.0 / self.seen as f64;
        }
        self.level += (x - self.level) * self.step;
        self.level
    }
}

/// The digital lamp–eye filter: two second-order sections.
#[derive(Debug, Clone)]
struct LampEyeFilter {
    sections: [Biquad; 2],
    rate: f64,
}

impl LampEyeFilter {
    #[inline]
    fn process(&mut self, x: f64) -> f64 {
        let [a, b] = &mut self.sections;
        b.process(a.process(x))
    }

    fn reset(&mut self) {
        self.sections.iter_mut().for_each(Biquad::reset);
    }

    fn response(&self, frequency: f64) -> num_complex::Complex64 {
        let w = 2.0 * PI * frequency / self.rate;
        self.sections
            .iter()
            .map(|s| s.coefficients().response(w))
            .product()
    }
}

/// Bilinear transform `s = c·(1 − z⁻¹)/(1 + z⁻¹)` of `(b0 + b1 s + b2 s²)/(a0 + a1 s + a2 s²)`.
fn bilinear(b: [f64; 3], a: [f64; 3], c: f64) -> BiquadCoefficients {
    let c2 = c * c;
    let a0 = a[0] + a[1] * c + a[2] * c2;
    BiquadCoefficients {
        b: [
            (b[0] + b[1] * c + b[2] * c2) / a0,
            2.0 * (b[0] - b[2] * c2) / a0,
            (b[0] - b[1] * c + b[2] * c2) / a0,
        ],
        a: [
            2.0 * (a[0] - a[2] * c2) / a0,
            (a[0] - a[1] * c + a[2] * c2) / a0,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digital_lamp_eye_filter_follows_the_analog_one() {
        for lamp in [Lamp::V230, Lamp::V120] {
            let p = LampEyeParameters::of(lamp);
            let d = p.digital(1000.0);
            // Bilinear warping grows as (f / rate)²: 0.2 % to 20 Hz, 1 % at 33 Hz.
            for (f, tolerance) in [
                (0.5, 2e-3),
                (2.0, 2e-3),
                (8.8, 2e-3),
                (20.0, 2e-3),
                (33.0, 1e-2),
            ] {
                let a = p.analog_response(f);
                let g = d.response(f).norm();
                assert!(
                    (g / a - 1.0).abs() < tolerance,
                    "{lamp:?} {f} Hz: {g} vs {a}"
                );
            }
            let f1 = p.omega1 / (2.0 * PI);
            assert!((d.response(f1).norm() / p.analog_response(f1) - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn fast_chain_gives_the_bits_of_its_plain_twin() {
        use super::super::demodulator::DroopCompensator;
        for (lamp, nominal, rate) in [
            (Lamp::V230, NominalFrequency::Hz50, 1024.0),
            (Lamp::V120, NominalFrequency::Hz60, 1000.0),
            (Lamp::V230, NominalFrequency::Hz60, 2000.0),
        ] {
            let mut plain =
                ReferenceChain::new(lamp, nominal, rate, DroopCompensator::new(10), |_| 1.0)
                    .unwrap();
            let mut fast = WeightingChain::from_reference(&plain).unwrap();
            assert_eq!(fast.gain().to_bits(), plain.gain().to_bits());
            // A squared, decimated voltage: DC, a modulation, the double mains ripple.
            let x = |i: usize| {
                let t = i as f64 / rate;
                5.3e4 * (1.0 + 0.004 * (2.0 * PI * 8.8 * t).sin())
                    + 40.0 * (2.0 * PI * 100.0 * t).cos()
            };
            let mut i = 0;
            // Runs of several lengths, with restarts between some of them (the fade-in
            // and the running mean of the level tracker included).
            for (run, restart) in [
                (1, true),
                (700, false),
                (3, false),
                (5000, true),
                (64_000, false),
            ] {
                if restart {
                    plain.restart(x(i));
                    fast.restart(x(i));
                }
                let mut block: Vec<f64> = (i..i + run).map(x).collect();
                let expected: Vec<f64> = block.iter().map(|&v| plain.process(v)).collect();
                fast.process_block(&mut block);
                for (k, (a, b)) in block.iter().zip(&expected).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "{lamp:?} {rate}: value {}", i + k);
                }
                i += run;
            }
        }
    }

    #[test]
    fn lamp_eye_gains_at_8_8_hz_match_the_calibration_depths() {
        // K makes the 230 V filter's gain about 1 at 8.8 Hz; the 120 V lamp is less
        // sensitive there in the ratio of the table depths (0.250 % / 0.321 %).
        let g230 = LampEyeParameters::of(Lamp::V230).analog_response(8.8);
        let g120 = LampEyeParameters::of(Lamp::V120).analog_response(8.8);
        assert!((g230 - 1.0).abs() < 0.01, "{g230}");
        assert!((g120 / g230 / (0.250 / 0.321) - 1.0).abs() < 0.01, "{g120}");
    }
}
