//! Power quantities per IEEE 1459-2010, from one synchronised 10/12-cycle window.
//!
//! Inputs are the resampled windows of voltage and current (whole cycles, equally spaced
//! points, so their means are exact integrals) and the fundamental phasors of their
//! IEC 61000-4-7 spectra ([`crate::iec61000_4_7::Spectrum::fundamental`], complex RMS).
//!
//! * [`PhasePower`]: the single-phase nonsinusoidal quantities of IEEE 1459-2010 3.1.2 —
//!   P, S, P1, Q1, S1, S_N, D_I, D_V, S_H, P_H, N, PF and the displacement power factor.
//! * [`ThreePhasePower`]: the three-phase quantities of 3.2 — from the unbalanced
//!   sinusoidal case (3.2.2) the positive-sequence powers P1+, Q1+, S1+ and the arithmetic
//!   apparent power ΣS for users who expect it; from the nonsinusoidal unbalanced case
//!   (3.2.3) the effective voltage and current Ve, Ie (four-wire and three-wire forms), Se,
//!   Se1, SeN and the effective power factor; and the total active power P.
//! * Line-to-line windows and phasors derived from phase-to-neutral ones (wye), and phase
//!   values against an artificial neutral derived from line-to-line ones (delta).
//! * [`TimeDomainPowers`]: the quantities that rest on time-domain integrals only (P, S,
//!   PF per phase; P, Se, PF, ΣS, Ve, Ie in total), integrated over the interval's
//!   fractional window when no spectrum is computed (the basic chain).
//! * Which of them an interval reports, under which key: [`PhasePower::quantities`],
//!   [`ThreePhasePower::quantities`] and their time-domain subsets.
//!
//! Sign conventions: load (consumer) reference; Q1 > 0 when the current lags the voltage
//! (inductive load): `P1 + jQ1 = V1·conj(I1)`.
//!
//! Bad input: NaN or infinite samples give NaN quantities (the caller flags the interval);
//! windows of different lengths give an error. Ratios whose denominator is zero (PF of a dead
//! channel) are NaN. Square roots of differences that rounding makes slightly negative
//! (S_N, N, V_H, I_H of a pure sine) are clamped to zero.

use crate::iec61000_4_30::roles::Roles;
use crate::iec61000_4_30::window::{
    window_mean_product, window_three_phase_products, WindowEnds, WindowSamples,
};
use num_complex::Complex64;
use pqe_core::record::{Quantity, QuantityKey};
use pqe_core::{Error, Phase, Result, Wiring};
use pqe_dsp::kernels::ThreePhaseProducts;
use pqe_dsp::symmetrical::symmetrical_components;

/// Per-phase power quantities of IEEE 1459-2010 3.1.2 (nonsinusoidal single phase).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PhasePower {
    /// RMS voltage V (V).
    pub v: f64,
    /// RMS current I (A).
    pub i: f64,
    /// Active power P = mean(v·i) (W).
    pub p: f64,
    /// Apparent power S = V·I (VA).
    pub s: f64,
    /// Fundamental RMS voltage V1 (V).
    pub v1: f64,
    /// Fundamental RMS current I1 (A).
    pub i1: f64,
    /// Harmonic (non-fundamental) RMS voltage V_H = √(V² − V1²) (V).
    pub v_h: f64,
    /// Harmonic (non-fundamental) RMS current I_H = √(I² − I1²) (A).
    pub i_h: f64,
    /// Fundamental active power P1 = V1·I1·cos θ1 (W).
    pub p1: f64,
    /// Fundamental reactive power Q1 = V1·I1·sin θ1 (var), positive for lagging current.
    pub q1: f64,
    /// Fundamental apparent power S1 = V1·I1 (VA).
    pub s1: f64,
    /// Harmonic active power P_H = P − P1 (W).
    pub p_h: f64,
    /// Non-fundamental apparent power S_N = √(S² − S1²) (VA).
    pub s_n: f64,
    /// Current distortion power D_I = V1·I_H (var).
    pub d_i: f64,
    /// Voltage distortion power D_V = V_H·I1 (var).
    pub d_v: f64,
    /// Harmonic apparent power S_H = V_H·I_H (VA).
    pub s_h: f64,
    /// Harmonic distortion power D_H = √(S_H² − P_H²) (var).
    pub d_h: f64,
    /// Nonactive power N = √(S² − P²) (var).
    pub n: f64,
    /// Power factor PF = P/S.
    pub pf: f64,
    /// Displacement (fundamental) power factor PF1 = P1/S1.
    pub dpf: f64,
}

impl PhasePower {
    /// The quantities from the synchronised windows of voltage `v` and current `i` (same
    /// length, same instants) and their fundamental phasors `v1`, `i1` (complex RMS).
    pub fn from_synced(v: &[f64], i: &[f64], v1: Complex64, i1: Complex64) -> Result<Self> {
        if v.len() != i.len() || v.is_empty() {
            return Err(Error::Config(format!(
                "power needs voltage and current windows of one non-zero length, not {} and {}",
                v.len(),
                i.len()
            )));
        }
        let n = v.len() as f64;
        let (vv, ii, vi) = dot3(v, i);
        let v_rms = (vv / n).sqrt();
        let i_rms = (ii / n).sqrt();
        let p = vi / n;
        Ok(Self::from_measurements(v_rms, i_rms, p, v1, i1))
    }

    /// The quantities from the window's RMS voltage and current, active power and
    /// fundamental phasors.
    pub fn from_measurements(v: f64, i: f64, p: f64, v1: Complex64, i1: Complex64) -> Self {
        let s = v * i;
        let fundamental = v1 * i1.conj();
        let (v1m, i1m) = (v1.norm(), i1.norm());
        let s1 = v1m * i1m;
        let v_h = sqrt_clamped(v * v - v1m * v1m);
        let i_h = sqrt_clamped(i * i - i1m * i1m);
        let p_h = p - fundamental.re;
        let s_h = v_h * i_h;
        PhasePower {
            v,
            i,
            p,
            s,
            v1: v1m,
            i1: i1m,
            v_h,
            i_h,
            p1: fundamental.re,
            q1: fundamental.im,
            s1,
            p_h,
            s_n: sqrt_clamped(s * s - s1 * s1),
            d_i: v1m * i_h,
            d_v: v_h * i1m,
            s_h,
            d_h: sqrt_clamped(s_h * s_h - p_h * p_h),
            n: sqrt_clamped(s * s - p * p),
            pf: ratio(p, s),
            dpf: ratio(fundamental.re, s1),
        }
    }
}

/// What the three-phase quantities are computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreePhaseInputs {
    /// Wye (four-wire) or delta (three-wire); single phase is refused.
    pub wiring: Wiring,
    /// Per-phase quantities of phases A, B, C: against the neutral (wye) or against the
    /// artificial neutral of [`artificial_neutral`] (delta).
    pub phases: [PhasePower; 3],
    /// RMS line-to-line voltages AB, BC, CA (measured for delta, from
    /// [`line_to_line_rms`] for wye).
    pub line_to_line_rms: [f64; 3],
    /// RMS neutral current (measured, or from [`neutral_current_rms`]); ignored for delta.
    pub neutral_current_rms: f64,
    /// Fundamental voltage phasors: phase-to-neutral A, B, C (wye) or line-to-line AB, BC, CA
    /// (delta).
    pub voltage_phasors: [Complex64; 3],
    /// Fundamental line-current phasors A, B, C.
    pub current_phasors: [Complex64; 3],
    /// Fundamental neutral-current phasor (wye); zero when unknown.
    pub neutral_current_phasor: Complex64,
}

/// Three-phase quantities of IEEE 1459-2010 3.2 (unbalanced, nonsinusoidal).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ThreePhasePower {
    /// Effective voltage Ve (V): four-wire `√((3·ΣV_phase² + ΣV_line²)/18)`,
    /// three-wire `√(ΣV_line²/9)`.
    pub ve: f64,
    /// Effective current Ie (A): four-wire `√((ΣI² + I_N²)/3)`, three-wire `√(ΣI²/3)`.
    pub ie: f64,
    /// Effective apparent power Se = 3·Ve·Ie (VA).
    pub se: f64,
    /// Fundamental effective voltage Ve1 (V), same forms on the fundamental phasors.
    pub ve1: f64,
    /// Fundamental effective current Ie1 (A).
    pub ie1: f64,
    /// Fundamental effective apparent power Se1 = 3·Ve1·Ie1 (VA).
    pub se1: f64,
    /// Non-fundamental effective apparent power SeN = √(Se² − Se1²) (VA).
    pub se_n: f64,
    /// Total active power P = ΣP (W).
    pub p: f64,
    /// Total fundamental reactive power ΣQ1 (var).
    pub q1: f64,
    /// Arithmetic apparent power ΣS of the phases (VA).
    pub s_arithmetic: f64,
    /// Positive-sequence fundamental active power P1+ = 3·V1+·I1+·cos θ1+ (W).
    pub p1_pos: f64,
    /// Positive-sequence fundamental reactive power Q1+ = 3·V1+·I1+·sin θ1+ (var).
    pub q1_pos: f64,
    /// Positive-sequence fundamental apparent power S1+ = 3·V1+·I1+ (VA).
    pub s1_pos: f64,
    /// Effective power factor PFe = P/Se.
    pub pf_e: f64,
    /// Positive-sequence fundamental power factor PF1+ = P1+/S1+.
    pub pf1_pos: f64,
}

impl ThreePhasePower {
    /// The three-phase quantities for wye (four-wire) or delta (three-wire) wiring.
    pub fn compute(inputs: &ThreePhaseInputs) -> Result<Self> {
        let sq = |x: f64| x * x;
        let phases = &inputs.phases;
        let sum_line: f64 = inputs.line_to_line_rms.iter().map(|&u| sq(u)).sum();
        let sum_i: f64 = phases.iter().map(|ph| sq(ph.i)).sum();
        let sum_i1: f64 = inputs.current_phasors.iter().map(|z| z.norm_sqr()).sum();
        let [va, vb, vc] = inputs.voltage_phasors;
        let (ve, ie, ve1, ie1, v_pos) = match inputs.wiring {
            Wiring::Wye => {
                let sum_phase: f64 = phases.iter().map(|ph| sq(ph.v)).sum();
                let sum_phase1 = va.norm_sqr() + vb.norm_sqr() + vc.norm_sqr();
                let sum_line1 = (va - vb).norm_sqr() + (vb - vc).norm_sqr() + (vc - va).norm_sqr();
                let (_, v_pos, _) = symmetrical_components(va, vb, vc);
                (
                    ((3.0 * sum_phase + sum_line) / 18.0).sqrt(),
                    ((sum_i + sq(inputs.neutral_current_rms)) / 3.0).sqrt(),
                    ((3.0 * sum_phase1 + sum_line1) / 18.0).sqrt(),
                    ((sum_i1 + inputs.neutral_current_phasor.norm_sqr()) / 3.0).sqrt(),
                    v_pos,
                )
            }
            Wiring::Delta => {
                let sum_line1 = va.norm_sqr() + vb.norm_sqr() + vc.norm_sqr();
                // Line-to-line positive sequence is √3·e^{j30°} times the phase one.
                let (_, v_ll_pos, _) = symmetrical_components(va, vb, vc);
                let v_pos = v_ll_pos / Complex64::from_polar(3f64.sqrt(), 30f64.to_radians());
                (
                    (sum_line / 9.0).sqrt(),
                    (sum_i / 3.0).sqrt(),
                    (sum_line1 / 9.0).sqrt(),
                    (sum_i1 / 3.0).sqrt(),
                    v_pos,
                )
            }
            Wiring::Single => {
                return Err(Error::Config(
                    "three-phase power needs wye or delta wiring, not single phase".into(),
                ))
            }
        };
        let [ia, ib, ic] = inputs.current_phasors;
        let (_, i_pos, _) = symmetrical_components(ia, ib, ic);
        let s_pos = 3.0 * v_pos * i_pos.conj();
        let se = 3.0 * ve * ie;
        let se1 = 3.0 * ve1 * ie1;
        let p: f64 = phases.iter().map(|ph| ph.p).sum();
        let s1_pos = 3.0 * v_pos.norm() * i_pos.norm();
        Ok(ThreePhasePower {
            ve,
            ie,
            se,
            ve1,
            ie1,
            se1,
            se_n: sqrt_clamped(se * se - se1 * se1),
            p,
            q1: phases.iter().map(|ph| ph.q1).sum(),
            s_arithmetic: phases.iter().map(|ph| ph.s).sum(),
            p1_pos: s_pos.re,
            q1_pos: s_pos.im,
            s1_pos,
            pf_e: ratio(p, se),
            pf1_pos: ratio(s_pos.re, s1_pos),
        })
    }
}

/// RMS of the line-to-line voltage `va − vb` from two synchronised phase-to-neutral windows
/// of the same instants (wye wiring). NaN when the lengths differ or are zero.
pub fn line_to_line_rms(va: &[f64], vb: &[f64]) -> f64 {
    if va.len() != vb.len() || va.is_empty() {
        return f64::NAN;
    }
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (va.chunks_exact(4), vb.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    (((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail) / va.len() as f64).sqrt()
}

/// RMS line-to-line voltages AB, BC, CA from the phase-to-neutral windows A, B, C.
pub fn line_to_line_rms_all(va: &[f64], vb: &[f64], vc: &[f64]) -> [f64; 3] {
    [
        line_to_line_rms(va, vb),
        line_to_line_rms(vb, vc),
        line_to_line_rms(vc, va),
    ]
}

/// Fundamental line-to-line phasors AB, BC, CA from phase-to-neutral phasors A, B, C.
pub fn line_to_line_phasors(a: Complex64, b: Complex64, c: Complex64) -> [Complex64; 3] {
    [a - b, b - c, c - a]
}

/// RMS of the current `ia + ib + ic` (the neutral current when it is not measured).
/// NaN when the lengths differ or are zero.
pub fn neutral_current_rms(ia: &[f64], ib: &[f64], ic: &[f64]) -> f64 {
    if ia.len() != ib.len() || ia.len() != ic.len() || ia.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = ia
        .iter()
        .zip(ib)
        .zip(ic)
        .map(|((a, b), c)| (a + b + c) * (a + b + c))
        .sum();
    (sum / ia.len() as f64).sqrt()
}

/// Voltages of phases A, B, C against the artificial neutral (the point where the three
/// phase voltages sum to zero) from the line-to-line windows AB, BC, CA of a three-wire
/// system: `v_a = (v_ab − v_ca)/3`, `v_b = (v_bc − v_ab)/3`, `v_c = (v_ca − v_bc)/3`.
/// With these, `Σ v_x·i_x` is the total instantaneous power of the three-wire load, so
/// per-phase [`PhasePower`]s from them add up to the three-phase active power.
pub fn artificial_neutral(line: [&[f64]; 3], out: [&mut [f64]; 3]) -> Result<()> {
    let n = line[0].len();
    if line.iter().any(|l| l.len() != n) || out.iter().any(|o| o.len() != n) {
        return Err(Error::Config(
            "artificial neutral needs line and output windows of one length".into(),
        ));
    }
    let [ab, bc, ca] = line;
    let [a, b, c] = out;
    for k in 0..n {
        a[k] = (ab[k] - ca[k]) / 3.0;
        b[k] = (bc[k] - ab[k]) / 3.0;
        c[k] = (ca[k] - bc[k]) / 3.0;
    }
    Ok(())
}

/// [`artificial_neutral`] for fundamental phasors AB, BC, CA → A, B, C.
pub fn artificial_neutral_phasors(ab: Complex64, bc: Complex64, ca: Complex64) -> [Complex64; 3] {
    [(ab - ca) / 3.0, (bc - ab) / 3.0, (ca - bc) / 3.0]
}

/// `√x`, zero for a slightly negative `x` from rounding, NaN stays NaN.
fn sqrt_clamped(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else {
        x.sqrt()
    }
}

/// `num/den`, NaN for a zero denominator.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::NAN
    } else {
        num / den
    }
}

/// `(dot(v, v), dot(i, i), dot(v, i))` in one pass over the windows (IEEE 1459-2010 3.1.2.1
/// and 3.1.2.3: V², I² and P as means of the sampled products): each sum on its own four
/// accumulators in the order of [`dot`], so the results equal three [`dot`] calls bit for
/// bit while the three chains of additions overlap.
fn dot3(v: &[f64], i: &[f64]) -> (f64, f64, f64) {
    let mut vv = [0.0f64; 4];
    let mut ii = [0.0f64; 4];
    let mut vi = [0.0f64; 4];
    let (cv, ci) = (v.chunks_exact(4), i.chunks_exact(4));
    let (tv, ti) = (cv.remainder(), ci.remainder());
    for (x, y) in cv.zip(ci) {
        for k in 0..4 {
            vv[k] += x[k] * x[k];
            ii[k] += y[k] * y[k];
            vi[k] += x[k] * y[k];
        }
    }
    let tail = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let total = |acc: [f64; 4], t: f64| (acc[0] + acc[1]) + (acc[2] + acc[3]) + t;
    (
        total(vv, tail(tv, tv)),
        total(ii, tail(ti, ti)),
        total(vi, tail(tv, ti)),
    )
}

/// Dot product on four accumulators: the plain twin of [`dot3`].
#[cfg(test)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

impl PhasePower {
    /// The values an interval reports for `phase`: `P_A`, `Q1_A`, `S_A`, `PF_A`, `DPF_A`.
    pub fn quantities(&self, phase: Phase) -> [(QuantityKey, f64); 5] {
        let key = |q| QuantityKey::phase(q, phase);
        [
            (key(Quantity::ActivePower), self.p),
            (key(Quantity::FundamentalReactivePower), self.q1),
            (key(Quantity::ApparentPower), self.s),
            (key(Quantity::PowerFactor), self.pf),
            (key(Quantity::DisplacementPowerFactor), self.dpf),
        ]
    }

    /// Those of them that need no phasor: `P_A`, `S_A`, `PF_A`.
    pub fn time_domain_quantities(&self, phase: Phase) -> [(QuantityKey, f64); 3] {
        let key = |q| QuantityKey::phase(q, phase);
        [
            (key(Quantity::ActivePower), self.p),
            (key(Quantity::ApparentPower), self.s),
            (key(Quantity::PowerFactor), self.pf),
        ]
    }

    /// The totals of a single-phase system, which are its phase's: `P`, `Q`, `S`, `PF`.
    pub fn single_phase_totals(&self) -> [(QuantityKey, f64); 4] {
        [
            (QuantityKey::system(Quantity::ActivePower), self.p),
            (
                QuantityKey::system(Quantity::FundamentalReactivePower),
                self.q1,
            ),
            (QuantityKey::system(Quantity::ApparentPower), self.s),
            (QuantityKey::system(Quantity::PowerFactor), self.pf),
        ]
    }
}

impl ThreePhasePower {
    /// The totals an interval reports: `P`, `Q` (ΣQ1), `S` (Se), `PF` (P/Se), `S_arith`,
    /// `P1pos`, `Q1pos`, `S1pos`, `Ve`, `Ie`.
    pub fn quantities(&self) -> [(QuantityKey, f64); 10] {
        let key = QuantityKey::system;
        [
            (key(Quantity::ActivePower), self.p),
            (key(Quantity::FundamentalReactivePower), self.q1),
            (key(Quantity::ApparentPower), self.se),
            (key(Quantity::PowerFactor), self.pf_e),
            (key(Quantity::ArithmeticApparentPower), self.s_arithmetic),
            (key(Quantity::PositiveSequenceActivePower), self.p1_pos),
            (key(Quantity::PositiveSequenceReactivePower), self.q1_pos),
            (key(Quantity::PositiveSequenceApparentPower), self.s1_pos),
            (key(Quantity::EffectiveVoltage), self.ve),
            (key(Quantity::EffectiveCurrent), self.ie),
        ]
    }

    /// Those of them that need no phasor: `P`, `S`, `PF`, `S_arith`, `Ve`, `Ie`.
    pub fn time_domain_quantities(&self) -> [(QuantityKey, f64); 6] {
        let key = QuantityKey::system;
        [
            (key(Quantity::ActivePower), self.p),
            (key(Quantity::ApparentPower), self.se),
            (key(Quantity::PowerFactor), self.pf_e),
            (key(Quantity::ArithmeticApparentPower), self.s_arithmetic),
            (key(Quantity::EffectiveVoltage), self.ve),
            (key(Quantity::EffectiveCurrent), self.ie),
        ]
    }
}

/// The powers of the basic chain (no spectra): the IEEE 1459-2010 quantities that rest on
/// time-domain integrals over the interval's fractional window only (3.1.2.6 P = mean(v·i),
/// S = V·I; 3.2.3 Ve, Ie, Se from RMS values and means of products). Whatever needs the
/// fundamental phasors (Q1, DPF, the positive-sequence powers) is absent, and so are the
/// powers against the artificial neutral of delta wiring with line-to-line voltages only
/// (they need the resampled windows).
#[derive(Debug, Clone)]
pub struct TimeDomainPowers {
    /// Per phase: the phase, its voltage and current channel.
    phases: Vec<(Phase, usize, usize)>,
    /// Three phases, wye or delta wiring: the totals of 3.2.3, with the neutral current
    /// channel when there is one (else the neutral current is that of the three lines).
    three_phase: Option<(Wiring, Option<usize>)>,
    /// One phase (single wiring or a single measured phase): its values as the totals.
    single: bool,
}

impl TimeDomainPowers {
    /// The phases with a voltage against the neutral and a current, and the totals the
    /// wiring allows (the same phases and totals as the spectral path).
    pub fn new(roles: &Roles, wiring: Wiring) -> Self {
        let lines = [Phase::AB, Phase::BC, Phase::CA];
        let artificial =
            wiring == Wiring::Delta && lines.iter().all(|&p| roles.voltage(p).is_some());
        let mut phases = Vec::new();
        for p in [Phase::A, Phase::B, Phase::C] {
            if let (Some(v), Some(i), false) = (roles.voltage(p), roles.current(p), artificial) {
                phases.push((p, v, i));
            }
        }
        let three_phase = (phases.len() == 3 && wiring != Wiring::Single)
            .then(|| (wiring, roles.current(Phase::N)));
        let single = three_phase.is_none()
            && (phases.len() == 1 || (wiring == Wiring::Single && !phases.is_empty()));
        TimeDomainPowers {
            phases,
            three_phase,
            single,
        }
    }

    /// The quantities of the window `samples`, whose channels' RMS values are `rms` (NaN
    /// where a sample is missing) and whose steps at the window's ends are `ends`.
    pub fn compute(
        &self,
        samples: &WindowSamples,
        rms: &[f64],
        ends: &[WindowEnds],
        quantities: &mut Vec<(QuantityKey, f64)>,
    ) {
        // A mean of products is NaN when a sample of either channel is missing (its RMS is
        // then NaN).
        let finite = |c: usize| rms[c].is_finite();
        let guard = |x: usize, y: usize, mean: f64| {
            if finite(x) && finite(y) {
                mean
            } else {
                f64::NAN
            }
        };
        let none = Complex64::new(f64::NAN, f64::NAN);
        let v: Vec<usize> = self.phases.iter().map(|p| p.1).collect();
        let i: Vec<usize> = self.phases.iter().map(|p| p.2).collect();
        let channel = |c: usize| samples.buffers[c].as_slice();
        // Three phases: the nine products in one pass over the six channels; otherwise
        // each phase's u·i on its own.
        let products = self.three_phase.and_then(|_| {
            window_three_phase_products(
                [channel(v[0]), channel(v[1]), channel(v[2])],
                [channel(i[0]), channel(i[1]), channel(i[2])],
                samples.base,
                samples.start,
                samples.end,
                v.iter()
                    .chain(&i)
                    .fold(WindowEnds::default(), |e, &c| e.either(ends[c])),
            )
        });
        let mut per_phase = [PhasePower::default(); 3];
        for (k, &(phase, vc, ic)) in self.phases.iter().enumerate() {
            let p = match (&self.three_phase, &products) {
                (Some(_), Some(m)) => m.vi[k],
                (Some(_), None) => f64::NAN,
                _ => window_mean_product(
                    channel(vc),
                    channel(ic),
                    samples.base,
                    samples.start,
                    samples.end,
                    ends[vc].either(ends[ic]),
                )
                .unwrap_or(f64::NAN),
            };
            let pw = PhasePower::from_measurements(rms[vc], rms[ic], guard(vc, ic, p), none, none);
            quantities.extend(pw.time_domain_quantities(phase));
            per_phase[k] = pw;
        }
        if let Some((wiring, neutral)) = self.three_phase {
            let nan = ThreePhaseProducts {
                vi: [f64::NAN; 3],
                vv: [f64::NAN; 3],
                ii: [f64::NAN; 3],
            };
            let m = products.unwrap_or(nan);
            let square = |c: usize| rms[c] * rms[c];
            // (x − y)² and (x + y + z)² expanded into the mean squares and the means of
            // the products, all over the same window.
            let line = |k: usize| {
                let next = (k + 1) % 3;
                (square(v[k]) + square(v[next]) - 2.0 * guard(v[k], v[next], m.vv[k]))
                    .max(0.0)
                    .sqrt()
            };
            // The neutral current counts for four-wire (wye) systems only.
            let neutral_rms = match (wiring, neutral) {
                (Wiring::Wye, Some(n)) => rms[n],
                (Wiring::Wye, None) => {
                    let cross: f64 = (0..3).map(|k| guard(i[k], i[(k + 1) % 3], m.ii[k])).sum();
                    (square(i[0]) + square(i[1]) + square(i[2]) + 2.0 * cross)
                        .max(0.0)
                        .sqrt()
                }
                _ => f64::NAN,
            };
            let inputs = ThreePhaseInputs {
                wiring,
                phases: per_phase,
                line_to_line_rms: [line(0), line(1), line(2)],
                neutral_current_rms: neutral_rms,
                voltage_phasors: [none; 3],
                current_phasors: [none; 3],
                neutral_current_phasor: none,
            };
            if let Ok(t) = ThreePhasePower::compute(&inputs) {
                quantities.extend(t.time_domain_quantities());
            }
        } else if self.single {
            let pw = per_phase[0];
            quantities.extend(
                pw.time_domain_quantities(Phase::A)
                    .into_iter()
                    .map(|(k, v)| (QuantityKey::system(k.quantity), v)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoidal_phase_has_no_distortion_power() {
        let v1 = Complex64::from_polar(230.0, 0.0);
        let i1 = Complex64::from_polar(10.0, -30f64.to_radians());
        let ph =
            PhasePower::from_measurements(230.0, 10.0, 2300.0 * 30f64.to_radians().cos(), v1, i1);
        assert!((ph.q1 - 1150.0).abs() < 1e-9, "{}", ph.q1);
        assert!((ph.pf - ph.dpf).abs() < 1e-12);
        assert!(ph.s_n < 1e-5 && ph.v_h == 0.0 && ph.d_i == 0.0);
        assert!((ph.n - 1150.0).abs() < 1e-9);
    }

    #[test]
    fn dead_channel_gives_nan_ratios_and_mismatch_is_an_error() {
        let z = Complex64::new(0.0, 0.0);
        let ph = PhasePower::from_measurements(0.0, 0.0, 0.0, z, z);
        assert!(ph.pf.is_nan() && ph.dpf.is_nan());
        assert!(PhasePower::from_synced(&[1.0; 4], &[1.0; 3], z, z).is_err());
        let nan = PhasePower::from_synced(&[f64::NAN; 4], &[1.0; 4], z, z).unwrap();
        assert!(nan.p.is_nan() && nan.v.is_nan() && nan.pf.is_nan());
    }

    #[test]
    fn fused_dots_equal_separate_dots_bit_for_bit() {
        for len in [0usize, 1, 3, 4, 7, 2560, 2563] {
            let v: Vec<f64> = (0..len).map(|k| (0.31 * k as f64).sin() * 325.0).collect();
            let i: Vec<f64> = (0..len)
                .map(|k| (0.31 * k as f64 - 0.4).cos() * 9.7)
                .collect();
            let (vv, ii, vi) = dot3(&v, &i);
            assert_eq!(vv.to_bits(), dot(&v, &v).to_bits(), "{len}");
            assert_eq!(ii.to_bits(), dot(&i, &i).to_bits(), "{len}");
            assert_eq!(vi.to_bits(), dot(&v, &i).to_bits(), "{len}");
        }
    }

    #[test]
    fn delta_artificial_neutral_recovers_balanced_phase_voltages() {
        let a = Complex64::from_polar(230.0, 0.1);
        let b = a * pqe_dsp::symmetrical::A2;
        let c = a * pqe_dsp::symmetrical::A;
        let [ab, bc, ca] = line_to_line_phasors(a, b, c);
        let [a2, b2, c2] = artificial_neutral_phasors(ab, bc, ca);
        assert!((a2 - a).norm() < 1e-12 && (b2 - b).norm() < 1e-12 && (c2 - c).norm() < 1e-12);
    }
}
