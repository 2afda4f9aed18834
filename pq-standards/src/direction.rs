//! The direction of a voltage disturbance — upstream or downstream of the measuring point
//! — from the voltage and current waveforms around the event.
//!
//! # Method
//!
//! The primary criterion is the **resistance sign** of Tayjasanant, Li and Xu ("A
//! resistance sign-based method for voltage sag source detection", IEEE Trans. Power
//! Delivery 20(4):2544–2551, 2005), applied to positive-sequence fundamental phasors, the
//! vector form Polajžer, Štumberger, Seme and Dolinar found effective on asymmetrical sags
//! where per-phase criteria fail (IEEE Trans. Ind. Appl. 45(6), 2009). With the current
//! counted positive towards the load, a disturbance downstream (a fault or a load step
//! beyond the point) changes the current, and the voltage follows through the supply's
//! impedance: ΔU1 = −Z_supply·ΔI1. A disturbance upstream changes the voltage, and the
//! load's current follows it: ΔI1 = ΔU1/Z_load. So Z = −ΔU1/ΔI1 has a positive real part
//! for a downstream source and a negative one for an upstream source.
//!
//! 1. The pre-event frequency is measured on the positive-sequence voltage before the
//!    event (the phase advance of one-cycle fits from cycle to cycle), and every phasor is
//!    fitted at that frequency with its time measured from the event's start, so phasors of
//!    different cycles share one angle reference.
//! 2. Each phasor is the least-squares fit of `a·cos ωt + b·sin ωt + c` to one cycle of
//!    samples (the one-cycle DFT, exact for a cycle that is not a whole number of samples).
//! 3. The reference is the mean of [`PRE_CYCLES`] cycles ending [`GUARD_CYCLES`] before
//!    the event's start. The cycle right after the start is skipped (the event's Urms(1/2)
//!    start precedes the change by up to a cycle, IEC 61000-4-30 5.4.1), as is the cycle
//!    before the end (the recovery); at most [`MAX_EVENT_CYCLES`] cycles are used, the
//!    first stage of a multi-stage event.
//! 4. Z is the least-squares fit of ΔU1ₖ = −Z·ΔI1ₖ over those cycles, with its fit
//!    `1 − Σ|ΔU1ₖ + Z·ΔI1ₖ|² / Σ|ΔU1ₖ|²`.
//!
//! # Confidence
//!
//! The checks and their thresholds are starting values (the reference's recommendation,
//! not taken from a standard): the current step `s = mean|ΔI1| / max(σ_pre, 0.5 % I_nom)`
//! with σ_pre the pre-event cycle-to-cycle spread of I1 (at least [`MIN_CURRENT_STEP`]);
//! the sign margin `|R|/|Z|` (at least [`MIN_SIGN_MARGIN`], [`GOOD_SIGN_MARGIN`] for high
//! confidence: a stiff supply with a high X/R leaves little resistance); the fit (at least
//! [`MIN_FIT`], [`GOOD_FIT`] for high confidence); and two secondary criteria: the
//! disturbance energy of Parsons, Grady, Powers and Soward (IEEE Trans. Power Delivery
//! 15(3), 2000) in positive-sequence form, and the change of the fundamental reactive
//! power ΔQ1. Both are published for sags (energy flowing towards the load and more
//! reactive power drawn mean a downstream source); for swells and rapid voltage changes
//! PQE applies the same energy-flow argument relative to the sign of the voltage change:
//! a source downstream drives the power and the voltage in opposite directions. (A
//! capacitor switched on downstream is the exception the steady state cannot see: it
//! raises the voltage and with it the active power of the load, so the energy criterion
//! points upstream and the confidence drops to medium.) High: all
//! checks pass and both secondary criteria agree; medium: one secondary criterion
//! disagrees, or the fit or the sign margin is short of the high-confidence level;
//! otherwise undetermined, with the reason.
//!
//! # Known limits
//!
//! Constant-power loads at the point (drives, inverters) draw more current when the
//! voltage falls, which makes an upstream sag look downstream; current-limited inverter
//! sources, motor back-feed and meshed supplies can fool it too; reversed current
//! transformers invert every answer. These are the limits the literature reports; PQE's own
//! tests cover impedance loads on radial feeders.

use num_complex::Complex64;
use pqe_core::record::{DirectionConfidence, DirectionEstimate, DisturbanceSide};

/// Cycles averaged for the pre-event reference.
pub const PRE_CYCLES: usize = 10;
/// Whole cycles between the end of the reference and the event's start.
pub const GUARD_CYCLES: usize = 1;
/// Most event cycles the fit uses (the first stage of the event).
pub const MAX_EVENT_CYCLES: usize = 25;
/// Least current step `s` for a decision.
pub const MIN_CURRENT_STEP: f64 = 5.0;
/// Least `|R|/|Z|` for high confidence (the reference's starting value).
pub const GOOD_SIGN_MARGIN: f64 = 0.1;
/// Least `|R|/|Z|` for a decision: Z at least 2.9° away from a pure reactance, about the
/// largest phase displacement a class 1 current transformer may add at low current (IEC
/// 61869-2, 180′ at 5 % of rated current; recalled, not verified). Supplies with X/R up
/// to 20 stay above it; between this and [`GOOD_SIGN_MARGIN`] the confidence is medium.
pub const MIN_SIGN_MARGIN: f64 = 0.05;
/// Least fit for a decision.
pub const MIN_FIT: f64 = 0.5;
/// Least fit for high confidence.
pub const GOOD_FIT: f64 = 0.8;
/// Floor of the current spread, as a fraction of the rated current.
pub const CURRENT_FLOOR: f64 = 0.005;

/// Nominal cycles of samples [`assess`] may read before the event's start and after it:
/// enough for the reference and the event cycles down to 85 % of the nominal frequency.
pub const SPAN_CYCLES: (f64, f64) = (
    (PRE_CYCLES + GUARD_CYCLES + 3) as f64,
    (MAX_EVENT_CYCLES + 6) as f64,
);

/// The waveforms around one event.
#[derive(Debug, Clone, Copy)]
pub struct EventWaveforms<'a> {
    /// Samples per second.
    pub sample_rate: f64,
    /// Nominal frequency, Hz.
    pub nominal_frequency: f64,
    /// Voltages of phases A, B, C (or line-to-line AB, BC, CA), or of one phase.
    pub voltages: &'a [&'a [f64]],
    /// True when `voltages` are line-to-line.
    pub line_to_line: bool,
    /// Line currents of the same phases (counted positive towards the load).
    pub currents: &'a [&'a [f64]],
    /// The event's start and end as sample positions in the slices.
    pub start: f64,
    /// End (exclusive).
    pub end: f64,
    /// The rated current, A, for the floor of the current spread; `None` takes the
    /// pre-event current.
    pub rated_current: Option<f64>,
}

/// The direction of the event in `w` (see the module documentation).
pub fn assess(w: &EventWaveforms) -> DirectionEstimate {
    match Fits::new(w) {
        Ok(fits) => fits.decide(w),
        Err(note) => undetermined(note),
    }
}

/// An undetermined direction, `note` saying why, without figures (nothing was fitted).
pub fn undetermined(note: String) -> DirectionEstimate {
    undetermined_with(note, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
}

fn undetermined_with(note: String, r: f64, x: f64, fit: f64, step: f64) -> DirectionEstimate {
    DirectionEstimate {
        side: DisturbanceSide::Undetermined,
        confidence: DirectionConfidence::None,
        resistance: r,
        reactance: x,
        fit,
        current_step: step,
        note,
    }
}

/// Positive-sequence phasors of the reference and event cycles.
struct Fits {
    /// (U1, I1) of each reference cycle.
    pre: Vec<(Complex64, Complex64)>,
    /// (U1, I1) of each event cycle used.
    event: Vec<(Complex64, Complex64)>,
    /// Seconds per cycle at the pre-event frequency.
    period: f64,
}

impl Fits {
    fn new(w: &EventWaveforms) -> Result<Fits, String> {
        let phases = w.voltages.len();
        if phases == 0 || phases != w.currents.len() || (phases != 1 && phases != 3) {
            return Err(format!(
                "needs one or three phases of voltage and current, not {} voltages and {} \
                 currents",
                phases,
                w.currents.len()
            ));
        }
        let len = w.voltages[0].len();
        if w.voltages.iter().chain(w.currents).any(|c| c.len() != len) {
            return Err("the channels hold different numbers of samples".into());
        }
        let fs = w.sample_rate;
        // The pre-event frequency: the phase advance of the positive-sequence voltage from
        // one cycle to the next, refined twice.
        let mut f = w.nominal_frequency;
        for _ in 0..3 {
            let pre = cycle_phasors(w, f, pre_cycle_indices())?;
            let turns: Vec<f64> = pre
                .windows(2)
                .map(|p| (p[1].0 / p[0].0).arg() / std::f64::consts::TAU)
                .collect();
            let advance = turns.iter().sum::<f64>() / turns.len() as f64;
            if !advance.is_finite() {
                return Err("no voltage before the event to measure the frequency on".into());
            }
            f += advance * f;
        }
        if !(0.85 * w.nominal_frequency..=1.15 * w.nominal_frequency).contains(&f) {
            return Err(format!(
                "the pre-event frequency ({f:.2} Hz) is too far from the nominal"
            ));
        }
        let period = 1.0 / f;
        let cycle = fs * period;
        // Event cycles: skip the first after the start and the one before the end.
        let usable = ((w.end - w.start) / cycle).floor() as i64 - 2;
        let count = usable.clamp(0, MAX_EVENT_CYCLES as i64) as usize;
        if count < 2 {
            return Err(format!(
                "too short: {:.1} cycles, fewer than 2 whole cycles between the first and \
                 the last",
                (w.end - w.start) / cycle
            ));
        }
        let pre = cycle_phasors(w, f, pre_cycle_indices())?;
        let event = cycle_phasors(w, f, (1..=count as i64).collect())?;
        Ok(Fits { pre, event, period })
    }

    fn decide(&self, w: &EventWaveforms) -> DirectionEstimate {
        let n_pre = self.pre.len() as f64;
        let u_pre = self.pre.iter().map(|p| p.0).sum::<Complex64>() / n_pre;
        let i_pre = self.pre.iter().map(|p| p.1).sum::<Complex64>() / n_pre;
        let spread = (self
            .pre
            .iter()
            .map(|p| (p.1 - i_pre).norm_sqr())
            .sum::<f64>()
            / n_pre)
            .sqrt();
        let rated = w.rated_current.filter(|r| *r > 0.0).unwrap_or(i_pre.norm());
        let floor = spread.max(CURRENT_FLOOR * rated);

        let (mut num, mut den, mut du2) = (Complex64::new(0.0, 0.0), 0.0, 0.0);
        let mut di_mean = 0.0;
        for (u, i) in &self.event {
            let (du, di) = (u - u_pre, i - i_pre);
            num += du * di.conj();
            den += di.norm_sqr();
            du2 += du.norm_sqr();
            di_mean += di.norm();
        }
        let n = self.event.len() as f64;
        di_mean /= n;
        let step = if floor > 0.0 { di_mean / floor } else { 0.0 };
        if den == 0.0 || step.is_nan() || step < MIN_CURRENT_STEP {
            let note = format!(
                "the current hardly changed (step {step:.1} < {MIN_CURRENT_STEP} times the \
                 pre-event spread)"
            );
            return undetermined_with(note, f64::NAN, f64::NAN, f64::NAN, step);
        }
        let z = -num / den;
        let residual: f64 = self
            .event
            .iter()
            .map(|(u, i)| ((u - u_pre) + z * (i - i_pre)).norm_sqr())
            .sum();
        let fit = if du2 > 0.0 { 1.0 - residual / du2 } else { 0.0 };
        let (r, x) = (z.re, z.im);
        let margin = r.abs() / z.norm();
        if margin.is_nan() || margin < MIN_SIGN_MARGIN {
            return undetermined_with(
                format!("the impedance is nearly reactive (|R|/|Z| = {margin:.2})"),
                r,
                x,
                fit,
                step,
            );
        }
        if fit.is_nan() || fit < MIN_FIT {
            return undetermined_with(
                format!("ΔU1 does not follow ΔI1 (fit {fit:.2})"),
                r,
                x,
                fit,
                step,
            );
        }
        let downstream = r > 0.0;

        // Secondary criteria, in positive sequence, relative to the voltage change.
        let p = |u: Complex64, i: Complex64| 3.0 * (u * i.conj()).re;
        let q = |u: Complex64, i: Complex64| 3.0 * (u * i.conj()).im;
        let du_mag = self.event.iter().map(|(u, _)| u.norm()).sum::<f64>() / n - u_pre.norm();
        let energy: f64 = self
            .event
            .iter()
            .map(|(u, i)| (p(*u, *i) - p(u_pre, i_pre)) * self.period)
            .sum();
        let dq = self.event.iter().map(|(u, i)| q(*u, *i)).sum::<f64>() / n - q(u_pre, i_pre);
        let mut disagree = Vec::new();
        if (energy * du_mag < 0.0) != downstream {
            disagree.push(format!("the disturbance energy ({energy:.3e} J)"));
        }
        if (dq * du_mag < 0.0) != downstream {
            disagree.push(format!("ΔQ1 ({dq:.3e} var)"));
        }
        let loose = fit < GOOD_FIT;
        let reactive = margin < GOOD_SIGN_MARGIN;
        let mut notes = Vec::new();
        if !disagree.is_empty() {
            notes.push(format!("{} point the other way", disagree.join(" and ")));
        }
        if loose {
            notes.push(format!("loose fit ({fit:.2})"));
        }
        if reactive {
            notes.push(format!("small resistance (|R|/|Z| = {margin:.3})"));
        }
        let side = if downstream {
            DisturbanceSide::Downstream
        } else {
            DisturbanceSide::Upstream
        };
        let confidence = match disagree.len() + usize::from(loose) + usize::from(reactive) {
            0 => DirectionConfidence::High,
            1 => DirectionConfidence::Medium,
            _ => {
                return undetermined_with(notes.join("; "), r, x, fit, step);
            }
        };
        DirectionEstimate {
            side,
            confidence,
            resistance: r,
            reactance: x,
            fit,
            current_step: step,
            note: notes.join("; "),
        }
    }
}

/// Reference cycles: [`PRE_CYCLES`] ending [`GUARD_CYCLES`] before the start.
fn pre_cycle_indices() -> Vec<i64> {
    let last = -1 - GUARD_CYCLES as i64;
    (last - PRE_CYCLES as i64 + 1..=last).collect()
}

/// (U1, I1) of the cycles `ks` (cycle k starts k cycles of `f` after the event's start).
fn cycle_phasors(
    w: &EventWaveforms,
    f: f64,
    ks: Vec<i64>,
) -> Result<Vec<(Complex64, Complex64)>, String> {
    let cycle = w.sample_rate / f;
    let len = w.voltages[0].len() as f64;
    let omega = std::f64::consts::TAU * f / w.sample_rate;
    let mut out = Vec::with_capacity(ks.len());
    let mut u = Vec::with_capacity(3);
    let mut i = Vec::with_capacity(3);
    for k in ks {
        let a = (w.start + k as f64 * cycle).round();
        let b = (w.start + (k + 1) as f64 * cycle).round();
        if a < 0.0 || b > len {
            return Err(format!(
                "the samples around the event do not reach cycle {k} (from {a} to {b} of \
                 {len})"
            ));
        }
        let (a, b) = (a as usize, b as usize);
        u.clear();
        i.clear();
        for c in w.voltages {
            u.push(one_cycle_phasor(&c[a..b], a as f64 - w.start, omega));
        }
        for c in w.currents {
            i.push(one_cycle_phasor(&c[a..b], a as f64 - w.start, omega));
        }
        let (u1, i1) = (positive_sequence(&u), positive_sequence(&i));
        let u1 = if w.line_to_line && u.len() == 3 {
            // U_AB of a positive sequence leads U_A by 30° and is √3 larger.
            u1 / (Complex64::new(1.0, 0.0) - a_op() * a_op())
        } else {
            u1
        };
        if !(u1.norm().is_finite() && i1.norm().is_finite()) {
            return Err(format!("missing samples in cycle {k} around the event"));
        }
        out.push((u1, i1));
    }
    Ok(out)
}

/// The operator a = e^{j2π/3}.
fn a_op() -> Complex64 {
    Complex64::from_polar(1.0, std::f64::consts::TAU / 3.0)
}

/// The positive-sequence component of three phasors (A, B, C), or the one phasor given.
fn positive_sequence(p: &[Complex64]) -> Complex64 {
    match p {
        [a, b, c] => (a + a_op() * b + a_op() * a_op() * c) / 3.0,
        [one] => *one,
        _ => Complex64::new(f64::NAN, f64::NAN),
    }
}

/// The RMS phasor X of `x ≈ √2·Re(X·e^{jωn})` over one cycle, `n` counted from the event's
/// start (`first` is the position of `x[0]`): the least-squares fit of
/// `a·cos ωn + b·sin ωn + c`, X = (a − jb)/√2.
fn one_cycle_phasor(x: &[f64], first: f64, omega: f64) -> Complex64 {
    // Normal equations of the three basis functions.
    let mut g = [[0.0f64; 3]; 3];
    let mut r = [0.0f64; 3];
    for (k, &v) in x.iter().enumerate() {
        let (s, c) = (omega * (first + k as f64)).sin_cos();
        let basis = [c, s, 1.0];
        for i in 0..3 {
            r[i] += basis[i] * v;
            for j in 0..3 {
                g[i][j] += basis[i] * basis[j];
            }
        }
    }
    match solve3(g, r) {
        Some([a, b, _]) => Complex64::new(a, -b) / std::f64::consts::SQRT_2,
        None => Complex64::new(f64::NAN, f64::NAN),
    }
}

/// Solve the 3×3 system `g·x = r` by Gaussian elimination with partial pivoting.
fn solve3(mut g: [[f64; 3]; 3], mut r: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&a, &b| g[a][col].abs().total_cmp(&g[b][col].abs()))?;
        if g[pivot][col].abs() < 1e-12 {
            return None;
        }
        g.swap(col, pivot);
        r.swap(col, pivot);
        let top = g[col];
        for row in col + 1..3 {
            let m = g[row][col] / top[col];
            for (x, t) in g[row].iter_mut().zip(top).skip(col) {
                *x -= m * t;
            }
            r[row] -= m * r[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| g[row][k] * x[k]).sum();
        x[row] = (r[row] - s) / g[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A three-phase radial feeder in phasors: source E behind Zs1 to a bus, Zs2 to the
    /// measuring point, a load ZL; a shunt on the bus (upstream) or at the point
    /// (downstream) during the event. Returns per-sample (voltages, currents).
    struct Feeder {
        fs: f64,
        f: f64,
        zs1: Complex64,
        zs2: Complex64,
        zl: Complex64,
    }

    impl Feeder {
        fn solve(
            &self,
            upstream: Option<Complex64>,
            downstream: Option<Complex64>,
        ) -> (Complex64, Complex64) {
            let par = |a: Complex64, b: Option<Complex64>| b.map_or(a, |b| a * b / (a + b));
            let e = Complex64::new(230.0, 0.0) * (self.zs1 + self.zs2 + self.zl) / self.zl;
            let load = par(self.zl, downstream);
            let down = self.zs2 + load;
            let bus = par(down, upstream);
            let i_src = e / (self.zs1 + bus);
            let i_mon = i_src * bus / down;
            (i_mon * load, i_mon)
        }

        /// Samples of a step on `phases` from `t0` for `dur` seconds.
        fn render(
            &self,
            seconds: f64,
            t0: f64,
            dur: f64,
            phases: [bool; 3],
            upstream: Option<Complex64>,
            downstream: Option<Complex64>,
        ) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
            let n = (seconds * self.fs) as usize;
            let normal = self.solve(None, None);
            let faulted = self.solve(upstream, downstream);
            let mut u = vec![vec![0.0; n]; 3];
            let mut i = vec![vec![0.0; n]; 3];
            for k in 0..n {
                let t = k as f64 / self.fs;
                for p in 0..3 {
                    let on = phases[p] && t >= t0 && t < t0 + dur;
                    let (v, c) = if on { faulted } else { normal };
                    let rot = Complex64::from_polar(
                        std::f64::consts::SQRT_2,
                        std::f64::consts::TAU * (self.f * t - p as f64 / 3.0),
                    );
                    u[p][k] = (v * rot).re;
                    i[p][k] = (c * rot).re;
                }
            }
            (u, i)
        }
    }

    fn run(
        f: &Feeder,
        phases: [bool; 3],
        up: Option<Complex64>,
        down: Option<Complex64>,
    ) -> DirectionEstimate {
        let (u, i) = f.render(1.0, 0.4013, 0.2, phases, up, down);
        let us: Vec<&[f64]> = u.iter().map(|c| c.as_slice()).collect();
        let is: Vec<&[f64]> = i.iter().map(|c| c.as_slice()).collect();
        assess(&EventWaveforms {
            sample_rate: f.fs,
            nominal_frequency: 50.0,
            voltages: &us,
            line_to_line: false,
            currents: &is,
            // As the Urms(1/2) detector would start it: up to a cycle early.
            start: (0.4013 - 0.012) * f.fs,
            end: (0.4013 + 0.2) * f.fs,
            rated_current: None,
        })
    }

    fn feeder(f: f64) -> Feeder {
        Feeder {
            fs: 6400.0,
            f,
            zs1: Complex64::new(0.05, 0.4),
            zs2: Complex64::new(0.02, 0.05),
            zl: Complex64::from_polar(14.0, 0.3),
        }
    }

    #[test]
    fn a_fault_beyond_the_point_is_downstream_and_one_before_it_upstream() {
        let fault = Some(Complex64::new(0.3, 0.1));
        for f in [49.7, 50.0, 50.31] {
            for phases in [[true; 3], [true, false, false], [false, true, true]] {
                let fdr = feeder(f);
                let d = run(&fdr, phases, None, fault);
                assert_eq!(
                    d.side,
                    DisturbanceSide::Downstream,
                    "{f} Hz {phases:?}: {d:?}"
                );
                assert_eq!(d.confidence, DirectionConfidence::High, "{d:?}");
                // A downstream change sees the supply impedance up to the point.
                let zs = fdr.zs1 + fdr.zs2;
                assert!((d.resistance - zs.re).abs() < 0.01 * zs.norm(), "{d:?}");
                assert!((d.reactance - zs.im).abs() < 0.01 * zs.norm(), "{d:?}");
                let d = run(&fdr, phases, fault, None);
                assert_eq!(
                    d.side,
                    DisturbanceSide::Upstream,
                    "{f} Hz {phases:?}: {d:?}"
                );
                assert_eq!(d.confidence, DirectionConfidence::High, "{d:?}");
                // An upstream change sees the load (behind the short line).
                let zl = fdr.zs2 + fdr.zl;
                assert!((d.resistance + zl.re).abs() < 0.01 * zl.norm(), "{d:?}");
            }
        }
    }

    #[test]
    fn a_swell_from_a_capacitor_beyond_the_point_is_downstream() {
        let fdr = feeder(50.0);
        let cap = Some(Complex64::new(0.0, -2.0));
        let d = run(&fdr, [true; 3], None, cap);
        let (u, _) = fdr.solve(None, cap);
        assert!(u.norm() > 1.1 * 230.0, "a swell: {}", u.norm());
        assert_eq!(d.side, DisturbanceSide::Downstream, "{d:?}");
        // The higher voltage makes the load draw more active power: the energy criterion
        // points upstream, and only ΔQ1 agrees (the limit the module documentation names).
        assert_eq!(d.confidence, DirectionConfidence::Medium, "{d:?}");
        assert!(d.note.contains("disturbance energy"), "{}", d.note);
    }

    #[test]
    fn no_current_change_and_too_short_events_are_undetermined() {
        let fdr = feeder(50.0);
        // A huge shunt impedance changes almost nothing.
        let d = run(&fdr, [true; 3], None, Some(Complex64::new(1e7, 0.0)));
        assert_eq!(d.side, DisturbanceSide::Undetermined);
        assert!(d.note.contains("hardly changed"), "{}", d.note);

        let (u, i) = fdr.render(
            1.0,
            0.4,
            0.05,
            [true; 3],
            None,
            Some(Complex64::new(0.3, 0.1)),
        );
        let us: Vec<&[f64]> = u.iter().map(|c| c.as_slice()).collect();
        let is: Vec<&[f64]> = i.iter().map(|c| c.as_slice()).collect();
        let d = assess(&EventWaveforms {
            sample_rate: 6400.0,
            nominal_frequency: 50.0,
            voltages: &us,
            line_to_line: false,
            currents: &is,
            start: 0.4 * 6400.0,
            end: 0.45 * 6400.0,
            rated_current: None,
        });
        assert_eq!(d.side, DisturbanceSide::Undetermined);
        assert!(d.note.starts_with("too short"), "{}", d.note);
    }

    #[test]
    fn line_to_line_voltages_give_the_same_impedance() {
        let fdr = feeder(50.0);
        let fault = Some(Complex64::new(0.3, 0.1));
        let (u, i) = fdr.render(1.0, 0.4013, 0.2, [true; 3], None, fault);
        let ll: Vec<Vec<f64>> = (0..3)
            .map(|p| {
                u[p].iter()
                    .zip(&u[(p + 1) % 3])
                    .map(|(a, b)| a - b)
                    .collect()
            })
            .collect();
        let us: Vec<&[f64]> = ll.iter().map(|c| c.as_slice()).collect();
        let is: Vec<&[f64]> = i.iter().map(|c| c.as_slice()).collect();
        let d = assess(&EventWaveforms {
            sample_rate: 6400.0,
            nominal_frequency: 50.0,
            voltages: &us,
            line_to_line: true,
            currents: &is,
            start: (0.4013 - 0.012) * 6400.0,
            end: 0.6013 * 6400.0,
            rated_current: None,
        });
        let zs = fdr.zs1 + fdr.zs2;
        assert_eq!(d.side, DisturbanceSide::Downstream);
        assert!((d.resistance - zs.re).abs() < 0.01 * zs.norm(), "{d:?}");
        assert!((d.reactance - zs.im).abs() < 0.01 * zs.norm(), "{d:?}");
    }

    #[test]
    fn the_one_cycle_fit_is_exact_for_a_fractional_cycle() {
        let fs = 10240.0;
        let f = 50.37;
        let omega = std::f64::consts::TAU * f / fs;
        let x = Complex64::from_polar(100.0, 0.7);
        let n = (fs / f).round() as usize;
        let samples: Vec<f64> = (0..n)
            .map(|k| {
                (x * std::f64::consts::SQRT_2
                    * Complex64::from_polar(1.0, omega * (k as f64 + 13.0)))
                .re + 3.0
            })
            .collect();
        let fit = one_cycle_phasor(&samples, 13.0, omega);
        assert!((fit - x).norm() < 1e-9 * x.norm(), "{fit} vs {x}");
    }
}
