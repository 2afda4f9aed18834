//! Test-signal generator: scenarios written in TOML, rendered sample by sample with
//! analytic truth.
//!
//! A [`Scenario`] describes a recording of three-phase (or single-phase) voltages and load
//! currents: sample rate, duration, start time, nominal frequency and declared voltage
//! Udin, wiring and channels; the fundamental with its frequency law (constant offset,
//! linear ramps, sinusoidal wander) and phase jumps; per-phase magnitudes and angles or
//! unbalance given as u2/u0; harmonics and interharmonics of voltage and current;
//! amplitude modulation for flicker (IEC 61000-4-15); dips, swells and interruptions
//! (IEC 61000-4-30 5.4) with point on wave and ramps; white noise. `docs/scenarios.md`
//! lists every key with its unit and default.
//!
//! ```
//! use pqe_dsp::synth::Scenario;
//! let s = Scenario::from_toml_str(r#"
//!     sample_rate = 10240
//!     duration = 1.0
//!     [[voltage.harmonics]]
//!     order = 5
//!     magnitude = 5.0   # % of the fundamental
//! "#).unwrap();
//! let mut g = s.generator();
//! let mut n = 0;
//! while let Some(block) = g.next_block(4096) {
//!     n += block.len();
//! }
//! assert_eq!(n as u64, s.total_samples());
//! let u = s.expected_rms_at("U_A", 0.5).unwrap();
//! assert!((u - 230.0 * (1.0f64 + 0.05 * 0.05).sqrt()).abs() < 1e-9);
//! ```
//!
//! # Model
//!
//! Phase `p` (A, B, C) of the voltage is
//!
//! `u_p(t) = g_p(t) · [ Σ_h √2·U_h,p · sin(2π·h·(θ(t) + α_p + J_p(t)) + φ_h,p) + Σ_f √2·U_f,p · sin(2π f t + φ_f,p) ]`
//!
//! where `θ(t) = ∫₀ᵗ f(τ) dτ` is the fundamental's phase in cycles (closed form for the
//! whole frequency law), `α_p` the phase angle (0°, −120°, +120° plus the configured
//! offsets or unbalance), `J_p(t)` the accumulated phase jumps, `h` runs over the
//! fundamental (1), harmonics and interharmonics given by order, `f` over components given
//! by a fixed frequency, and `g_p(t)` is the envelope: the product of every event's factor
//! (residual during the event, linear ramps at its edges) and every flicker modulation
//! `1 + (ΔV/V)/2 · m(t)`. The line current of phase `p` has the same form with the angle
//! `α_p − φ_p` (displacement `φ_p`, positive when lagging), its own components, and the
//! envelope too when `current.follow_voltage` is true (a constant-impedance load).
//! Line-to-line channels are differences of phase voltages, `I_N` is `I_A + I_B + I_C`.
//! Each channel then gets its own white Gaussian noise.

mod emission;
mod feeder;
mod generator;
mod locate;
mod model;
mod numeric;
mod scenario;

pub use feeder::FeederSide;
pub use generator::Generator;
pub use model::EventKind;
pub use scenario::{
    DEFAULT_CURRENT, DEFAULT_DURATION, DEFAULT_SAMPLE_RATE, DEFAULT_START, MAX_SAMPLES,
};

use model::Model;
use pqe_core::{NominalFrequency, Phase, RecordingInfo, Result, SystemConfig, Timestamp, Wiring};
use std::sync::Arc;

/// A validated test-signal scenario. Build it with [`Scenario::from_toml_str`], render it
/// with [`Scenario::generator`], and ask it for the analytic truth of what it renders.
#[derive(Debug, Clone)]
pub struct Scenario {
    model: Arc<Model>,
}

/// A PLC signal or converter emission as the generator renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct EmissionTruth {
    /// `"g3"`, `"sfsk"` or `"converter"`.
    pub kind: &'static str,
    /// The configured level: RMS while on (a converter's carrier RMS), V.
    pub level: f64,
    /// RMS while on, sidebands included, V.
    pub rms: f64,
    /// Lowest and highest frequency it occupies, Hz.
    pub span_hz: (f64, f64),
    /// The phases whose voltage carries it (A, B, C).
    pub phases: [bool; 3],
    /// When it is on: `[t0, t1)` in seconds from the start.
    pub on_times: Vec<(f64, f64)>,
}

/// A dip, swell or interruption as the generator renders it: the truth that event
/// detection (IEC 61000-4-30 5.4) is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTruth {
    /// Dip, swell or interruption.
    pub kind: EventKind,
    /// Seconds from the recording's start at which the envelope starts to change (after
    /// moving the requested start to the requested point on wave).
    pub start: f64,
    /// Seconds from `start` to the start of the recovery; with a ramp, the recovery then
    /// takes `ramp` more seconds.
    pub duration: f64,
    /// Length of the linear transitions at either end, s.
    pub ramp: f64,
    /// Remaining voltage during the event, % of the undisturbed voltage of each phase.
    pub residual_percent: f64,
    /// The phases the event applies to.
    pub phases: Vec<Phase>,
}

/// A step of the scenario's `[feeder]` as the generator renders it: the truth that
/// disturbance-direction detection is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct FeederStepTruth {
    /// Upstream or downstream of the measuring point.
    pub side: FeederSide,
    /// Seconds from the recording's start at which the shunt is switched on.
    pub start: f64,
    /// Seconds it stays on.
    pub duration: f64,
    /// The phases it is connected to.
    pub phases: Vec<Phase>,
    /// Per phase A, B, C: the fundamental voltage at the point while it is on, % of the
    /// undisturbed voltage.
    pub residual_percent: [f64; 3],
}

/// Powers of one phase (IEEE 1459 definitions) that the scenario implies, noise excluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerTruth {
    /// Active power P = mean(u·i), W.
    pub p: f64,
    /// Apparent power S = U·I (RMS values), VA.
    pub s: f64,
    /// Fundamental active power P1, W.
    pub p1: f64,
    /// Fundamental apparent power S1 = U1·I1, VA.
    pub s1: f64,
    /// Power factor P/S.
    pub pf: f64,
    /// Displacement power factor P1/S1.
    pub dpf: f64,
}

/// One component of a channel's spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralLine {
    /// Frequency at the instant asked for, Hz.
    pub frequency: f64,
    /// Order relative to the fundamental for components locked to it (1 for the
    /// fundamental); `None` for a fixed-frequency component.
    pub order: Option<f64>,
    /// RMS value, in the channel's unit.
    pub rms: f64,
    /// Phase (sine reference) of the component, degrees: for components locked to the
    /// fundamental, relative to the fundamental's phase origin scaled by the order (the
    /// `φ` of docs/scenarios.md plus `h·α`); for fixed ones, at t = 0.
    pub phase_degrees: f64,
}

/// Unbalance of the configured fundamental voltages (symmetrical components).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnbalanceTruth {
    /// Negative-sequence unbalance u2 = |U2|/|U1|, %.
    pub u2: f64,
    /// Zero-sequence unbalance u0 = |U0|/|U1|, %.
    pub u0: f64,
}

impl Scenario {
    /// Read a scenario from TOML text. Errors name the key and line at fault; unknown keys
    /// and values out of range are errors.
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        Self::from_toml_str_named(text, "scenario")
    }

    /// As [`Scenario::from_toml_str`], naming the text `origin` (e.g. its file path) in
    /// error messages.
    pub fn from_toml_str_named(text: &str, origin: &str) -> Result<Scenario> {
        Ok(Scenario {
            model: Arc::new(scenario::parse(text, origin)?),
        })
    }

    /// A generator positioned at the first sample.
    pub fn generator(&self) -> Generator {
        Generator::new(Arc::clone(&self.model))
    }

    /// What the rendered recording holds: channels (name, unit, phase), rate, start, total
    /// samples, line frequency; station is the scenario's `name`.
    pub fn recording_info(&self) -> RecordingInfo {
        let m = &self.model;
        let mut info = RecordingInfo::new(
            m.channels.iter().map(|c| c.spec.clone()).collect(),
            m.fs,
            m.start,
        );
        info.station = m.name.clone();
        info.device = "pqe-dsp synth".to_string();
        info.rate_segments = vec![(m.fs, m.n_total)];
        info.line_frequency = m.nominal.hz();
        info.total_samples = Some(m.n_total);
        info
    }

    /// The supply the scenario describes: nominal frequency, Udin, wiring, and as I_L the
    /// largest fundamental phase current.
    pub fn system_config(&self) -> SystemConfig {
        let m = &self.model;
        let il = m.i_mag.iter().cloned().fold(0.0, f64::max);
        SystemConfig {
            nominal_frequency: m.nominal,
            udin: m.udin,
            wiring: m.wiring,
            load_current: (il > 0.0).then_some(il),
        }
    }

    /// The configured duration, s (the recording holds `round(duration · sample_rate)`
    /// samples).
    pub fn duration_seconds(&self) -> f64 {
        self.model.duration
    }
    /// Samples per channel.
    pub fn total_samples(&self) -> u64 {
        self.model.n_total
    }
    /// Samples per second.
    pub fn sample_rate(&self) -> f64 {
        self.model.fs
    }
    /// Time of the first sample.
    pub fn start(&self) -> Timestamp {
        self.model.start
    }
    /// Nominal frequency.
    pub fn nominal_frequency(&self) -> NominalFrequency {
        self.model.nominal
    }
    /// Declared voltage Udin, V.
    pub fn udin(&self) -> f64 {
        self.model.udin
    }
    /// Wiring.
    pub fn wiring(&self) -> Wiring {
        self.model.wiring
    }
    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.model.name
    }
    /// Names of the channels, in output order.
    pub fn channel_names(&self) -> Vec<&str> {
        self.model
            .channels
            .iter()
            .map(|c| c.spec.name.as_str())
            .collect()
    }
    /// Index of channel `name` in the output.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.model.channels.iter().position(|c| c.spec.name == name)
    }

    // ---- analytic truth ----

    /// Frequency of the fundamental at `t` seconds from the start, Hz.
    pub fn frequency_at(&self, t: f64) -> f64 {
        self.model.law.frequency(t)
    }

    /// Cycles of the fundamental from the start to `t`: the integral of the frequency law.
    /// Phase A's positive-going zero crossings (without phase jumps or angle offsets) are
    /// where this is an integer.
    pub fn cycles_at(&self, t: f64) -> f64 {
        self.model.law.cycles_at(t)
    }

    /// RMS channel `channel` would have if the state at `t` held over whole cycles: the
    /// envelope (events, flicker) and phase jumps at `t`, every component, and the noise
    /// variance. This is what a one-cycle RMS inside a steady stretch measures. `None` for
    /// an unknown channel.
    pub fn expected_rms_at(&self, channel: &str, t: f64) -> Option<f64> {
        let c = self.channel_index(channel)?;
        Some(self.model.expected_rms(c, t))
    }

    /// Envelope factor of the voltage of `phase` at `t` (1 when undisturbed): the product of
    /// the events' and flicker modulations' factors. `None` for a phase the scenario does
    /// not have.
    pub fn envelope_at(&self, phase: Phase, t: f64) -> Option<f64> {
        let p = self.phase_index(phase)?;
        Some(self.model.envelope(p, t))
    }

    /// Fundamental voltage of `phase` as configured: RMS (V) and angle (degrees).
    pub fn fundamental_voltage(&self, phase: Phase) -> Option<(f64, f64)> {
        let p = self.phase_index(phase)?;
        Some((self.model.v_mag[p], self.model.v_angle[p] * 360.0))
    }

    /// Fundamental current of `phase` as configured: RMS (A) and angle (degrees).
    pub fn fundamental_current(&self, phase: Phase) -> Option<(f64, f64)> {
        let p = self.phase_index(phase)?;
        let m = &self.model;
        Some((m.i_mag[p], (m.v_angle[p] - m.i_disp[p]) * 360.0))
    }

    /// Powers of `phase` at `t` (envelope and phase jumps at `t`, noise excluded).
    pub fn expected_power_at(&self, phase: Phase, t: f64) -> Option<PowerTruth> {
        let p = self.phase_index(phase)?;
        let (pw, s, p1, s1) = self.model.power(p, t);
        Some(PowerTruth {
            p: pw,
            s,
            p1,
            s1,
            pf: if s > 0.0 { pw / s } else { f64::NAN },
            dpf: if s1 > 0.0 { p1 / s1 } else { f64::NAN },
        })
    }

    /// Unbalance of the configured fundamental voltages (before events and jumps).
    pub fn expected_unbalance(&self) -> UnbalanceTruth {
        use numeric::C64;
        let m = &self.model;
        if m.n_phases == 1 {
            return UnbalanceTruth { u2: 0.0, u0: 0.0 };
        }
        let v: Vec<C64> = (0..3)
            .map(|p| C64::polar_cycles(m.v_mag[p], m.v_angle[p]))
            .collect();
        let a = C64::polar_cycles(1.0, 1.0 / 3.0);
        let a2 = a.mul(a);
        let u1 = v[0].add(a.mul(v[1])).add(a2.mul(v[2])).scale(1.0 / 3.0);
        let u2 = v[0].add(a2.mul(v[1])).add(a.mul(v[2])).scale(1.0 / 3.0);
        let u0 = v[0].add(v[1]).add(v[2]).scale(1.0 / 3.0);
        UnbalanceTruth {
            u2: 100.0 * u2.abs() / u1.abs(),
            u0: 100.0 * u0.abs() / u1.abs(),
        }
    }

    /// The dips, swells and interruptions as rendered, in the order the scenario lists them.
    pub fn events(&self) -> Vec<EventTruth> {
        self.model
            .events
            .iter()
            .map(|e| EventTruth {
                kind: e.kind,
                start: e.t_s,
                duration: e.duration,
                ramp: e.ramp,
                residual_percent: e.residual_percent,
                phases: [Phase::A, Phase::B, Phase::C]
                    .into_iter()
                    .zip(e.mask)
                    .filter(|(_, b)| *b)
                    .map(|(p, _)| p)
                    .collect(),
            })
            .collect()
    }

    /// The steps of the scenario's `[feeder]`, in the order it lists them (empty without a
    /// feeder).
    pub fn feeder_steps(&self) -> Vec<FeederStepTruth> {
        let Some(f) = &self.model.feeder else {
            return Vec::new();
        };
        f.steps
            .iter()
            .map(|s| {
                let gains = f.gains_at(s.t0);
                FeederStepTruth {
                    side: s.side,
                    start: s.t0,
                    duration: s.t1 - s.t0,
                    phases: [Phase::A, Phase::B, Phase::C]
                        .into_iter()
                        .zip(s.mask)
                        .filter(|(_, b)| *b)
                        .map(|(p, _)| p)
                        .collect(),
                    residual_percent: gains.map(|(v, _)| 100.0 * v.abs()),
                }
            })
            .collect()
    }

    /// The spectral lines of `channel` if the state at `t` held: one per component
    /// (fundamental, harmonics, interharmonics), sorted by frequency, noise excluded. Lines
    /// of phases combined into one channel (line-to-line voltages, `I_N`) are summed as
    /// phasors. The truth for harmonic and interharmonic measurements (IEC 61000-4-7).
    pub fn expected_spectrum_at(&self, channel: &str, t: f64) -> Option<Vec<SpectralLine>> {
        let c = self.channel_index(channel)?;
        let m = &self.model;
        let mut lines: Vec<SpectralLine> = m
            .channel_phasors(c, t)
            .into_iter()
            .map(|(k, ph)| SpectralLine {
                frequency: m.carrier_frequency(k, t),
                order: match m.carriers[k] {
                    model::Carrier::Power(h) => Some(h as f64),
                    model::Carrier::Locked(h) => Some(h),
                    model::Carrier::Fixed(_) => None,
                },
                rms: ph.abs() / std::f64::consts::SQRT_2,
                phase_degrees: ph.arg().to_degrees(),
            })
            .collect();
        lines.sort_by(|a, b| a.frequency.total_cmp(&b.frequency));
        Some(lines)
    }

    /// Total harmonic distortion of `channel` at `t`, %: the RMS of the integer harmonics of
    /// orders 2 to `max_order` over the fundamental's (IEC 61000-4-7 THD with
    /// H = `max_order`; interharmonics and fixed tones excluded). `None` for an unknown
    /// channel or one without fundamental.
    pub fn expected_thd_at(&self, channel: &str, t: f64, max_order: usize) -> Option<f64> {
        let lines = self.expected_spectrum_at(channel, t)?;
        let is = |l: &SpectralLine, h: usize| l.order == Some(h as f64);
        let fund = lines.iter().find(|l| is(l, 1))?.rms;
        if fund == 0.0 {
            return None;
        }
        let harm: f64 = lines
            .iter()
            .filter(|l| (2..=max_order).any(|h| is(l, h)))
            .map(|l| l.rms * l.rms)
            .sum();
        Some(100.0 * harm.sqrt() / fund)
    }

    /// Standard deviation of the white noise on `channel`, in its unit.
    pub fn noise_rms(&self, channel: &str) -> Option<f64> {
        let c = self.channel_index(channel)?;
        Some(self.model.channels[c].sigma)
    }

    /// The PLC signals and converter emissions the scenario adds to its phase voltages
    /// (`[[emission]]`), with their levels and on-times: the truth the supraharmonic
    /// methods are checked against. They are not part of [`expected_rms_at`](Self::expected_rms_at).
    pub fn emissions(&self) -> Vec<EmissionTruth> {
        self.model
            .emissions
            .iter()
            .map(|e| EmissionTruth {
                kind: e.kind.name(),
                level: e.level,
                rms: e.rms(),
                span_hz: e.kind.span(),
                phases: e.mask,
                on_times: e.on_times(),
            })
            .collect()
    }

    fn phase_index(&self, phase: Phase) -> Option<usize> {
        let p = match phase {
            Phase::A => 0,
            Phase::B => 1,
            Phase::C => 2,
            _ => return None,
        };
        (p < self.model.n_phases).then_some(p)
    }
}
