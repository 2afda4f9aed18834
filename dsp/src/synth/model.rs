//! The validated scenario as the generator evaluates it: the frequency law and its integral,
//! per-phase fundamentals and components, phase-jump segments with precomputed phasor
//! coefficients, event and flicker envelopes, and the analytic truth derived from them.

use super::numeric::{cycles_of_product, floor, sin_cycles, Cycles, C64};
use pqe_core::{ChannelSpec, NominalFrequency, Result, Timestamp, Wiring};

/// What kind of disturbance an event is (IEC 61000-4-30 5.4: dips, swells, interruptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Voltage dip: the RMS voltage falls below the dip threshold (typically 90 % Udin).
    Dip,
    /// Voltage swell: the RMS voltage rises above the swell threshold (typically 110 % Udin).
    Swell,
    /// Voltage interruption: the RMS voltage falls below the interruption threshold
    /// (typically 5 % or 10 % Udin) on all phases.
    Interruption,
}

impl EventKind {
    /// The name as `events.csv` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Dip => "dip",
            EventKind::Swell => "swell",
            EventKind::Interruption => "interruption",
        }
    }
}

/// A linear frequency ramp: `rate` Hz/s from `t0` to `t1`, the reached deviation held after.
#[derive(Debug, Clone)]
pub(crate) struct Ramp {
    pub t0: f64,
    pub t1: f64,
    pub rate: f64,
}

/// A sinusoidal frequency wander `amplitude·sin(2π t/period + 2π phase)`.
#[derive(Debug, Clone)]
pub(crate) struct Wander {
    pub amplitude: f64,
    pub period: f64,
    /// In cycles.
    pub phase: f64,
    /// `amplitude · period / 2π`: the amplitude of its integral, cycles.
    k: f64,
    /// `cos 2π·phase`.
    cos0: f64,
    /// `1 / (period · fs)`: cycles of the wander per sample; set by [`FrequencyLaw::new`].
    step: f64,
}

impl Wander {
    pub fn new(amplitude: f64, period: f64, phase: f64) -> Self {
        Wander {
            amplitude,
            period,
            phase,
            k: amplitude * period / std::f64::consts::TAU,
            cos0: (std::f64::consts::TAU * phase).cos(),
            step: 0.0,
        }
    }
}

/// The instantaneous frequency of the fundamental and its closed-form integral.
#[derive(Debug, Clone)]
pub(crate) struct FrequencyLaw {
    /// Nominal frequency plus the constant offset, Hz.
    pub centre: f64,
    /// `centre / fs`: cycles per sample of the constant part.
    step: f64,
    fs: f64,
    pub ramps: Vec<Ramp>,
    pub wanders: Vec<Wander>,
}

impl FrequencyLaw {
    pub fn new(centre: f64, fs: f64, ramps: Vec<Ramp>, mut wanders: Vec<Wander>) -> Self {
        for w in &mut wanders {
            w.step = 1.0 / (w.period * fs);
        }
        FrequencyLaw {
            centre,
            step: centre / fs,
            fs,
            ramps,
            wanders,
        }
    }

    /// Lowest and highest frequency the law can reach.
    pub fn bounds(&self) -> (f64, f64) {
        let mut lo = self.centre;
        let mut hi = self.centre;
        for r in &self.ramps {
            let d = r.rate * (r.t1 - r.t0);
            lo += d.min(0.0);
            hi += d.max(0.0);
        }
        for w in &self.wanders {
            lo -= w.amplitude;
            hi += w.amplitude;
        }
        (lo, hi)
    }

    /// Frequency at `t` seconds, Hz.
    pub fn frequency(&self, t: f64) -> f64 {
        let mut f = self.centre;
        for r in &self.ramps {
            f += r.rate * (t.clamp(r.t0, r.t1) - r.t0);
        }
        for w in &self.wanders {
            f += w.amplitude * sin_cycles(t / w.period + w.phase);
        }
        f
    }

    /// The integral of the ramps from 0 to `t`, in cycles.
    fn ramp_cycles(&self, t: f64) -> f64 {
        let mut c = 0.0;
        for r in &self.ramps {
            if t > r.t0 {
                let held = t.min(r.t1) - r.t0;
                c += 0.5 * r.rate * held * held;
                if t > r.t1 {
                    c += r.rate * (r.t1 - r.t0) * (t - r.t1);
                }
            }
        }
        c
    }

    /// The integral of the law from 0 to `t` minus the constant part, in cycles: small
    /// enough for plain double precision.
    fn varying_cycles(&self, t: f64) -> f64 {
        let mut c = self.ramp_cycles(t);
        for w in &self.wanders {
            // ∫ A sin(2π τ/P + φ) dτ = A P / 2π · (cos φ − cos(2π t/P + φ))
            let x = t / w.period + w.phase;
            c += w.k * (w.cos0 - (std::f64::consts::TAU * (x - floor(x))).cos());
        }
        c
    }

    /// Wander `k`'s rate in cycles per sample and its phase in cycles.
    pub fn wander_step_phase(&self, k: usize) -> (f64, f64) {
        (self.wanders[k].step, self.wanders[k].phase)
    }

    /// Cycles per sample when the frequency is constant (no ramps, no wanders).
    pub fn constant_step(&self) -> Option<f64> {
        (self.ramps.is_empty() && self.wanders.is_empty()).then_some(self.step)
    }

    /// Cycles of the fundamental from the start to sample `i`, with the fraction exact;
    /// `wander[k]` is wander `k`'s phasor at that sample.
    pub fn cycles_at_sample(&self, i: u64, wander: &[C64]) -> Cycles {
        let base = cycles_of_product(self.step, i as f64);
        if self.ramps.is_empty() && self.wanders.is_empty() {
            return base;
        }
        let mut c = self.ramp_cycles(i as f64 / self.fs);
        for (w, z) in self.wanders.iter().zip(wander) {
            c += w.k * (w.cos0 - z.re);
        }
        base.add(Cycles::from_f64(c))
    }

    /// Cycles of the fundamental from the start to time `t` (any real time).
    pub fn cycles_at(&self, t: f64) -> f64 {
        self.centre * t + self.varying_cycles(t)
    }
}

/// Which multiple of the fundamental (or which fixed frequency) a component sits at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Order {
    /// An integer harmonic order, locked to the fundamental.
    Harmonic(usize),
    /// A non-integer order, locked to the fundamental (an interharmonic that follows it).
    Locked(f64),
    /// A fixed frequency in Hz, independent of the fundamental.
    Fixed(f64),
}

/// A harmonic or interharmonic component.
#[derive(Debug, Clone)]
pub(crate) struct Component {
    pub order: Order,
    /// Magnitude relative to the phase's fundamental, per phase (0 where not applied).
    pub rel: [f64; 3],
    /// Phase in cycles, per phase.
    pub phase: [f64; 3],
}

/// A phase jump: from `t` on, the waveform of each phase is shifted by `shift` cycles.
#[derive(Debug, Clone)]
pub(crate) struct Jump {
    pub t: f64,
    pub shift: [f64; 3],
}

/// A dip, swell or interruption (IEC 61000-4-30 5.4), resolved to its exact start time.
/// The envelope is 1 before `t_s`, falls linearly to `residual` over `ramp`, holds until
/// `t_e = t_s + duration`, and returns linearly to 1 over `ramp`.
#[derive(Debug, Clone)]
pub(crate) struct EventModel {
    pub kind: EventKind,
    pub requested_start: f64,
    pub t_s: f64,
    pub t_e: f64,
    pub duration: f64,
    pub ramp: f64,
    /// Residual as a fraction of the undisturbed magnitude.
    pub residual: f64,
    /// The residual as the scenario gave it, %.
    pub residual_percent: f64,
    pub mask: [bool; 3],
    pub point_on_wave: Option<f64>,
}

impl EventModel {
    /// The factor this event applies to its phases at `t`.
    #[inline]
    pub fn factor(&self, t: f64) -> f64 {
        if t < self.t_s || t >= self.t_e + self.ramp {
            1.0
        } else if t < self.t_s + self.ramp {
            1.0 + (self.residual - 1.0) * (t - self.t_s) / self.ramp
        } else if t < self.t_e {
            self.residual
        } else {
            self.residual + (1.0 - self.residual) * (t - self.t_e) / self.ramp
        }
    }
}

/// Amplitude modulation for flicker tests, as IEC 61000-4-15 specifies its test signals:
/// `u(t) = U·(1 + (ΔV/V)/2 · m(t))·sin(2πft)` with `ΔV/V` the peak-to-peak relative change
/// of the voltage and `m` a unit sine or a rectangular wave of 50 % duty; a rectangular
/// modulation of `r` changes per minute has `r/2` periods per minute (Ed.2, tables 1–5).
#[derive(Debug, Clone)]
pub(crate) struct FlickerModel {
    pub t0: f64,
    pub t1: f64,
    /// Modulation frequency, Hz (half the rate of changes).
    pub rate: f64,
    /// Half the peak-to-peak relative change ΔV/V, as a fraction.
    pub half_depth: f64,
    pub square: bool,
    pub mask: [bool; 3],
}

impl FlickerModel {
    /// The factor this modulation applies at `t`.
    #[inline]
    pub fn factor(&self, t: f64) -> f64 {
        if t < self.t0 || t >= self.t1 {
            return 1.0;
        }
        let x = self.rate * (t - self.t0);
        let m = if self.square {
            if x - floor(x) < 0.5 {
                1.0
            } else {
                -1.0
            }
        } else {
            sin_cycles(x)
        };
        1.0 + self.half_depth * m
    }
}

/// Where a channel's samples come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Source {
    /// Phase-to-neutral voltage of phase 0, 1, 2.
    Voltage(usize),
    /// Line-to-line voltage: phase `.0` minus phase `.1`.
    LineVoltage(usize, usize),
    /// Neutral-to-earth voltage.
    NeutralVoltage,
    /// Line current of a phase.
    Current(usize),
    /// Neutral current: the sum of the line currents.
    NeutralCurrent,
}

/// One output channel.
#[derive(Debug, Clone)]
pub(crate) struct ChannelModel {
    pub spec: ChannelSpec,
    pub source: Source,
    /// Standard deviation of its white noise, in its unit.
    pub sigma: f64,
}

/// A unit phasor the generator evaluates once per sample and shares between phases:
/// `e^{j2π·h·θ}` for the integer orders (by repeated multiplication), `e^{j2π·h·θ}` for a
/// non-integer order (from the exact fraction of `h·θ`), or `e^{j2π·f·t}` for a fixed
/// frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Carrier {
    /// Integer order `h`: slot `h` of the carrier table (slot 0 is unused).
    Power(usize),
    /// A non-integer order locked to the fundamental.
    Locked(f64),
    /// A fixed frequency, as cycles per sample.
    Fixed(f64),
}

/// The terms of one phase in one segment: `(carrier index, K)`, the value being
/// `Σ Im(K · carrier)`; `K` holds the peak amplitude and the phase.
pub(crate) type PhaseTerms = Vec<(usize, C64)>;

/// A stretch of time between phase jumps, with the coefficients that hold in it.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Start time of the segment (−∞ for the first).
    pub t_from: f64,
    /// Accumulated jump per phase, in cycles.
    pub shift: [f64; 3],
    pub v: [PhaseTerms; 3],
    pub i: [PhaseTerms; 3],
}

/// No change: the feeder factors of a phase outside any feeder step.
const UNCHANGED: (C64, C64) = (C64 { re: 1.0, im: 0.0 }, C64 { re: 1.0, im: 0.0 });

/// The whole validated scenario.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub name: String,
    pub fs: f64,
    pub duration: f64,
    pub n_total: u64,
    pub start: Timestamp,
    pub nominal: NominalFrequency,
    pub udin: f64,
    pub wiring: Wiring,
    pub seed: u64,
    pub n_phases: usize,
    pub law: FrequencyLaw,
    /// Fundamental voltage RMS per phase.
    pub v_mag: [f64; 3],
    /// Fundamental voltage angle per phase, cycles.
    pub v_angle: [f64; 3],
    /// Fundamental current RMS per phase.
    pub i_mag: [f64; 3],
    /// Displacement of the current behind the voltage, cycles (positive: lagging).
    pub i_disp: [f64; 3],
    pub v_comps: Vec<Component>,
    pub i_comps: Vec<Component>,
    pub jumps: Vec<Jump>,
    pub events: Vec<EventModel>,
    pub flicker: Vec<FlickerModel>,
    /// PLC signals and converter emission added to the phase voltages.
    pub emissions: Vec<super::emission::EmissionModel>,
    /// The feeder whose steps change voltages and currents (direction tests).
    pub feeder: Option<super::feeder::FeederModel>,
    pub follow_voltage: bool,
    /// Neutral-to-earth voltage: RMS and angle in cycles.
    pub neutral: (f64, f64),
    pub channels: Vec<ChannelModel>,
    pub segments: Vec<Segment>,
    /// The carriers: slots `0..=max_order` are the integer powers, then the distinct
    /// non-integer orders, then the distinct fixed frequencies.
    pub carriers: Vec<Carrier>,
    /// Highest integer order any term uses (≥ 1).
    pub max_order: usize,
}

impl Model {
    /// Finish a model: zero unused phases, resolve event start times (point on wave), and
    /// precompute the segments.
    pub fn new(mut m: Model) -> Result<Model> {
        for p in m.n_phases..3 {
            m.v_mag[p] = 0.0;
            m.i_mag[p] = 0.0;
        }
        for c in m.v_comps.iter().chain(&m.i_comps) {
            if let Order::Harmonic(h) = c.order {
                m.max_order = m.max_order.max(h);
            }
        }
        m.carriers = (0..=m.max_order).map(Carrier::Power).collect();
        for c in m.v_comps.iter().chain(&m.i_comps) {
            let carrier = match c.order {
                Order::Harmonic(_) => continue,
                Order::Locked(h) => Carrier::Locked(h),
                Order::Fixed(f) => Carrier::Fixed(f / m.fs),
            };
            if !m.carriers.contains(&carrier) {
                m.carriers.push(carrier);
            }
        }
        // A segment starts at every phase jump and at every edge of a feeder step.
        let mut edges: Vec<f64> = m.jumps.iter().map(|j| j.t).collect();
        if let Some(f) = &m.feeder {
            edges.extend(f.edges());
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        let mut segments = vec![m.segment(f64::NEG_INFINITY, [0.0; 3], [UNCHANGED; 3])];
        for t in edges {
            let mut shift = [0.0; 3];
            for j in m.jumps.iter().filter(|j| j.t <= t) {
                for (s, d) in shift.iter_mut().zip(j.shift) {
                    *s += d;
                }
            }
            let gains = m.feeder.as_ref().map_or([UNCHANGED; 3], |f| f.gains_at(t));
            segments.push(m.segment(t, shift, gains));
        }
        m.segments = segments;
        let resolved: Vec<f64> = m
            .events
            .iter()
            .map(|e| match e.point_on_wave {
                Some(pow) => m.point_on_wave_time(e.requested_start, e.mask, pow),
                None => e.requested_start,
            })
            .collect();
        for (e, t) in m.events.iter_mut().zip(resolved) {
            e.t_s = t;
            e.t_e = t + e.duration;
        }
        Ok(m)
    }

    /// The terms in force from `t_from`: the phase jumps accumulated in `shift`, and per
    /// phase the feeder's factors (voltage, current) on every component.
    fn segment(&self, t_from: f64, shift: [f64; 3], gains: [(C64, C64); 3]) -> Segment {
        let mut v: [PhaseTerms; 3] = Default::default();
        let mut i: [PhaseTerms; 3] = Default::default();
        for p in 0..self.n_phases {
            let a_v = self.v_angle[p] + shift[p];
            let a_i = a_v - self.i_disp[p];
            let sq2 = std::f64::consts::SQRT_2;
            v[p] = self.terms(&self.v_comps, p, sq2 * self.v_mag[p], a_v);
            i[p] = self.terms(&self.i_comps, p, sq2 * self.i_mag[p], a_i);
            let (gv, gi) = gains[p];
            if (gv, gi) != UNCHANGED {
                for (_, k) in v[p].iter_mut() {
                    *k = k.mul(gv);
                }
                for (_, k) in i[p].iter_mut() {
                    *k = k.mul(gi);
                }
            }
        }
        Segment {
            t_from,
            shift,
            v,
            i,
        }
    }

    /// The terms of one phase: fundamental of peak `peak` at angle `angle` (cycles), and the
    /// components scaled to it.
    fn terms(&self, comps: &[Component], p: usize, peak: f64, angle: f64) -> PhaseTerms {
        let mut t: PhaseTerms = Vec::new();
        if peak == 0.0 {
            return t;
        }
        let mut put = |idx: usize, k: C64| match t.iter_mut().find(|(i, _)| *i == idx) {
            Some((_, acc)) => *acc = acc.add(k),
            None => t.push((idx, k)),
        };
        put(1, C64::polar_cycles(peak, angle));
        for c in comps {
            let amp = peak * c.rel[p];
            if amp == 0.0 {
                continue;
            }
            let (carrier, phase) = match c.order {
                Order::Harmonic(h) => (Carrier::Power(h), h as f64 * angle + c.phase[p]),
                Order::Locked(h) => (Carrier::Locked(h), h * angle + c.phase[p]),
                Order::Fixed(f) => (Carrier::Fixed(f / self.fs), c.phase[p]),
            };
            let idx = self
                .carriers
                .iter()
                .position(|&x| x == carrier)
                .unwrap_or(1);
            put(idx, C64::polar_cycles(amp, phase));
        }
        t.sort_by_key(|(i, _)| *i);
        t
    }

    /// Index of the segment in force at `t`.
    pub fn segment_at(&self, t: f64) -> usize {
        self.segments
            .partition_point(|s| s.t_from <= t)
            .saturating_sub(1)
    }

    /// Voltage envelope (events × flicker) of phase `p` at `t`.
    pub fn envelope(&self, p: usize, t: f64) -> f64 {
        let mut g = 1.0;
        for e in &self.events {
            if e.mask[p] {
                g *= e.factor(t);
            }
        }
        for f in &self.flicker {
            if f.mask[p] {
                g *= f.factor(t);
            }
        }
        g
    }

    /// First time ≥ `t0` at which the fundamental of the first phase in `mask` has the angle
    /// `pow` degrees (0° = its positive-going zero crossing).
    fn point_on_wave_time(&self, t0: f64, mask: [bool; 3], pow: f64) -> f64 {
        let p = mask.iter().position(|&b| b).unwrap_or(0);
        let g = |t: f64| {
            let shift = self.segments[self.segment_at(t)].shift[p];
            self.law.cycles_at(t) + self.v_angle[p] + shift - pow / 360.0
        };
        let target = g(t0).ceil();
        if g(t0) == target {
            return t0;
        }
        let (f_lo, _) = self.law.bounds();
        let mut lo = t0;
        let mut hi = t0 + 1.0 / f_lo;
        let mut guard = 0;
        while g(hi) < target && guard < 64 {
            hi += 1.0 / f_lo;
            guard += 1;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if g(mid) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// Peak phasors of phase `p`'s voltage (`current = false`) or current at `t`, keyed by
    /// carrier (that is, by frequency), with the envelope applied, summed into `out` with weight `w`.
    fn phasors(&self, p: usize, current: bool, t: f64, w: f64, out: &mut Vec<(usize, C64)>) {
        let seg = &self.segments[self.segment_at(t)];
        let terms = if current { &seg.i[p] } else { &seg.v[p] };
        let g = if !current || self.follow_voltage {
            self.envelope(p, t)
        } else {
            1.0
        };
        let k = w * g;
        for &(idx, ph) in terms {
            match out.iter_mut().find(|(q, _)| *q == idx) {
                Some((_, acc)) => *acc = acc.add(ph.scale(k)),
                None => out.push((idx, ph.scale(k))),
            }
        }
    }

    /// Peak phasors of channel `c` at `t` (noise excluded), with their carriers.
    pub fn channel_phasors(&self, c: usize, t: f64) -> Vec<(usize, C64)> {
        let mut out = Vec::new();
        match self.channels[c].source {
            Source::Voltage(p) => self.phasors(p, false, t, 1.0, &mut out),
            Source::LineVoltage(p, q) => {
                self.phasors(p, false, t, 1.0, &mut out);
                self.phasors(q, false, t, -1.0, &mut out);
            }
            Source::NeutralVoltage => out.push((
                1,
                C64::polar_cycles(std::f64::consts::SQRT_2 * self.neutral.0, self.neutral.1),
            )),
            Source::Current(p) => self.phasors(p, true, t, 1.0, &mut out),
            Source::NeutralCurrent => {
                for p in 0..self.n_phases {
                    self.phasors(p, true, t, 1.0, &mut out);
                }
            }
        }
        out
    }

    /// Frequency of carrier `k` at `t`, Hz.
    pub fn carrier_frequency(&self, k: usize, t: f64) -> f64 {
        match self.carriers[k] {
            Carrier::Power(h) => h as f64 * self.law.frequency(t),
            Carrier::Locked(h) => h * self.law.frequency(t),
            Carrier::Fixed(step) => step * self.fs,
        }
    }

    /// RMS channel `c` would have if the state at `t` (envelope, segment, frequency) held for
    /// ever, with its noise.
    pub fn expected_rms(&self, c: usize, t: f64) -> f64 {
        let power: f64 = self
            .channel_phasors(c, t)
            .iter()
            .map(|(_, ph)| 0.5 * ph.norm_sqr())
            .sum();
        let s = self.channels[c].sigma;
        (power + s * s).sqrt()
    }

    /// Active power, apparent power and their fundamental parts for phase `p` at `t`.
    pub fn power(&self, p: usize, t: f64) -> (f64, f64, f64, f64) {
        let mut v = Vec::new();
        let mut i = Vec::new();
        self.phasors(p, false, t, 1.0, &mut v);
        self.phasors(p, true, t, 1.0, &mut i);
        let mut pw = 0.0;
        let mut p1 = 0.0;
        for (kv, pv) in &v {
            if let Some((_, pi)) = i.iter().find(|(ki, _)| ki == kv) {
                let x = 0.5 * pv.mul(pi.conj()).re;
                pw += x;
                if *kv == 1 {
                    p1 = x;
                }
            }
        }
        let rms = |l: &Vec<(usize, C64)>| {
            l.iter()
                .map(|(_, x)| 0.5 * x.norm_sqr())
                .sum::<f64>()
                .sqrt()
        };
        let fund = |l: &Vec<(usize, C64)>| {
            l.iter()
                .find(|(k, _)| *k == 1)
                .map_or(0.0, |(_, x)| x.abs() / std::f64::consts::SQRT_2)
        };
        (pw, rms(&v) * rms(&i), p1, fund(&v) * fund(&i))
    }
}
