//! Motor derating per NEMA MG 1: the percent voltage unbalance of line-to-line voltages,
//! the derating factor for it, and the harmonic voltage factor (HVF).
//!
//! - Percent voltage unbalance = 100 × the largest deviation of a line-to-line RMS voltage
//!   from their mean, divided by the mean (NEMA MG 1 §14.36 in the 2011+ editions; not
//!   `(max − min)/mean`, not IEC's `u2`).
//! - Derating for unbalance: 1.0 up to 1 % unbalance, then the curve of MG 1 Part 14
//!   (Fig. 14-1, medium motors), read from published reproductions and interpolated
//!   linearly; above 5 % operation is not recommended and no factor is given. The curve is a
//!   figure, not a table, so these points are marked as read, not as quoted.
//! - HVF = √(Σ V_n² / n) over odd `n` not divisible by 3 (5, 7, 11, 13, …), `V_n` per unit
//!   of the rated voltage. Its derating curve (MG 1 Part 30, Fig. 30-1) is **unverified**:
//!   the points below are a recollection, not read from the licensed figure, and every
//!   result built on them says so.

/// A point of a derating curve: (abscissa, factor).
pub type CurvePoint = (f64, f64);

/// MG 1 Fig. 14-1 as read from reproductions: (% unbalance, derating factor).
pub const UNBALANCE_CURVE: [CurvePoint; 9] = [
    (1.0, 1.00),
    (1.5, 0.97),
    (2.0, 0.95),
    (2.5, 0.93),
    (3.0, 0.89),
    (3.5, 0.85),
    (4.0, 0.82),
    (4.5, 0.78),
    (5.0, 0.755),
];

/// MG 1 Fig. 30-1 (HVF, derating factor): **unverified**, recalled, not read from the figure.
pub const HVF_CURVE_UNVERIFIED: [CurvePoint; 6] = [
    (0.02, 1.00),
    (0.04, 0.96),
    (0.06, 0.92),
    (0.08, 0.87),
    (0.10, 0.81),
    (0.12, 0.75),
];

/// Percent voltage unbalance from the three line-to-line RMS voltages.
pub fn voltage_unbalance_percent(u_ab: f64, u_bc: f64, u_ca: f64) -> f64 {
    let mean = (u_ab + u_bc + u_ca) / 3.0;
    let dev = [u_ab, u_bc, u_ca]
        .iter()
        .map(|u| (u - mean).abs())
        .fold(0.0, f64::max);
    100.0 * dev / mean
}

fn interpolate(curve: &[CurvePoint], x: f64) -> Option<f64> {
    let (x0, y0) = curve[0];
    if x <= x0 {
        return Some(y0);
    }
    for w in curve.windows(2) {
        let ((a, fa), (b, fb)) = (w[0], w[1]);
        if x <= b {
            return Some(fa + (fb - fa) * (x - a) / (b - a));
        }
    }
    None
}

/// Derating factor for a percent voltage unbalance; `None` above 5 % (not recommended) or
/// for a value that is not finite.
pub fn unbalance_derating(percent: f64) -> Option<f64> {
    if !percent.is_finite() || percent < 0.0 {
        return None;
    }
    interpolate(&UNBALANCE_CURVE, percent)
}

/// Harmonic voltage factor from the harmonic voltages per unit of rated voltage, indexed by
/// order (`v_pu[n]`; orders 0–2 and multiples of 3 are ignored).
pub fn harmonic_voltage_factor(v_pu: &[f64]) -> f64 {
    v_pu.iter()
        .enumerate()
        .filter(|(n, _)| *n >= 5 && n % 2 == 1 && n % 3 != 0)
        .map(|(n, v)| v * v / n as f64)
        .sum::<f64>()
        .sqrt()
}

/// Derating factor for an HVF from the **unverified** curve; `None` past its end (0.12).
pub fn hvf_derating_unverified(hvf: f64) -> Option<f64> {
    if !hvf.is_finite() || hvf < 0.0 {
        return None;
    }
    interpolate(&HVF_CURVE_UNVERIFIED, hvf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples() {
        // ENERGY-DEMAND-DIRECTION.md §5: 460/467/450 V → 1.96 %; V5 = 5 %, V7 = 3 % →
        // HVF 0.0251.
        let u = voltage_unbalance_percent(460.0, 467.0, 450.0);
        assert!((u - 1.96).abs() < 0.01, "{u}");
        let mut v = vec![0.0; 8];
        v[5] = 0.05;
        v[7] = 0.03;
        v[3] = 0.5; // triplens do not count
        assert!((harmonic_voltage_factor(&v) - 0.0251).abs() < 1e-4);
        assert_eq!(unbalance_derating(0.5), Some(1.0));
        assert!((unbalance_derating(2.25).unwrap() - 0.94).abs() < 1e-12);
        assert_eq!(unbalance_derating(5.5), None);
        assert_eq!(hvf_derating_unverified(0.05), Some(0.94));
    }
}
