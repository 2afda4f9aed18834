//! Supply voltage unbalance per IEC 61000-4-30 Ed.3 5.7 (Class A), from the fundamental
//! phasors of one 10/12-cycle interval (IEC 61000-4-7 spectra), by the method of
//! symmetrical components:
//! negative-sequence unbalance `u2 = |U2|/|U1|·100 %` and zero-sequence unbalance
//! `u0 = |U0|/|U1|·100 %`.
//!
//! From line-to-line phasors (delta wiring) u2 is the same as from the phase voltages
//! (both sequences scale by √3), but the zero sequence cancels out, so u0 is reported as NaN
//! ([`Unbalance::from_line_to_line`]).
//!
//! Bad input: a zero positive sequence (dead supply) or non-finite phasors give NaN
//! percentages, which the caller flags.

use num_complex::Complex64;
use pqe_dsp::symmetrical::symmetrical_components;

/// A phasor as reported: RMS magnitude and angle in degrees, in (−180, 180], relative to a
/// reference (the U_A fundamental).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Phasor {
    /// RMS magnitude.
    pub magnitude: f64,
    /// Angle in degrees relative to the reference, in (−180, 180].
    pub angle_deg: f64,
}

impl Phasor {
    /// `z` (complex RMS) with its angle measured from `reference_angle` (radians, e.g.
    /// `arg` of the U_A fundamental).
    pub fn relative(z: Complex64, reference_angle: f64) -> Self {
        let deg = (z.arg() - reference_angle).to_degrees().rem_euclid(360.0);
        Phasor {
            magnitude: z.norm(),
            angle_deg: if deg > 180.0 { deg - 360.0 } else { deg },
        }
    }
}

/// Unbalance of one interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Unbalance {
    /// Negative-sequence unbalance u2 in percent.
    pub u2: f64,
    /// Zero-sequence unbalance u0 in percent (NaN from line-to-line phasors).
    pub u0: f64,
    /// Zero-sequence phasor U0 (complex RMS, same angle reference as the input).
    pub zero: Complex64,
    /// Positive-sequence phasor U1.
    pub positive: Complex64,
    /// Negative-sequence phasor U2.
    pub negative: Complex64,
    /// The three input phasors, magnitude and angle relative to the first (U_A or U_AB).
    pub phasors: [Phasor; 3],
}

impl Unbalance {
    /// From the fundamental phase-to-neutral phasors of phases A, B, C.
    pub fn from_phase_phasors(a: Complex64, b: Complex64, c: Complex64) -> Self {
        let (zero, positive, negative) = symmetrical_components(a, b, c);
        let u1 = positive.norm();
        let pct = |x: Complex64| {
            if u1 == 0.0 {
                f64::NAN
            } else {
                100.0 * x.norm() / u1
            }
        };
        let reference = a.arg();
        Unbalance {
            u2: pct(negative),
            u0: pct(zero),
            zero,
            positive,
            negative,
            phasors: [
                Phasor::relative(a, reference),
                Phasor::relative(b, reference),
                Phasor::relative(c, reference),
            ],
        }
    }

    /// From the fundamental line-to-line phasors AB, BC, CA (delta wiring): u2 as from the
    /// phase voltages, u0 NaN (not observable without a neutral).
    pub fn from_line_to_line(ab: Complex64, bc: Complex64, ca: Complex64) -> Self {
        Unbalance {
            u0: f64::NAN,
            ..Self::from_phase_phasors(ab, bc, ca)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pqe_dsp::symmetrical::phases_from_components;

    #[test]
    fn known_components_give_known_unbalance() {
        let u1 = Complex64::from_polar(230.0, 0.4);
        let (a, b, c) = phases_from_components(
            Complex64::from_polar(2.3, 1.0),
            u1,
            Complex64::from_polar(4.6, -2.0),
        );
        let u = Unbalance::from_phase_phasors(a, b, c);
        assert!((u.u2 - 2.0).abs() < 1e-12 && (u.u0 - 1.0).abs() < 1e-12);
        assert_eq!(u.phasors[0].angle_deg, 0.0);
        let [ab, bc, ca] = [a - b, b - c, c - a];
        let d = Unbalance::from_line_to_line(ab, bc, ca);
        assert!((d.u2 - 2.0).abs() < 1e-12 && d.u0.is_nan());
    }

    #[test]
    fn dead_supply_is_nan() {
        let z = Complex64::new(0.0, 0.0);
        assert!(Unbalance::from_phase_phasors(z, z, z).u2.is_nan());
    }
}
