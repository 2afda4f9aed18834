//! Block 5 of the flickermeter (IEC 61000-4-15 Ed.2 4.7): statistics of Pinst over the
//! 10-min observation period, the short-term severity Pst (4.7.2) and the long-term
//! severity Plt (4.7.3).
//!
//! The standard asks for a classifier of at least 64 classes sampled at 50 Hz or more;
//! this meter does better and takes exact percentiles of every Pinst value at the
//! decimated rate (about 1 kHz): the values are kept (as `f32`, 2.4 MB per 10 min) and
//! ordered at the end of the period. `P_x`, the level exceeded during x % of the period,
//! is the (1 − x/100) quantile, interpolated linearly between neighbouring order
//! statistics.

/// The percentiles and severity of one observation period (4.7.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortTermStatistics {
    /// P0.1, not smoothed.
    pub p0_1: f64,
    /// P1s = (P0.7 + P1 + P1.5) / 3.
    pub p1s: f64,
    /// P3s = (P2.2 + P3 + P4) / 3.
    pub p3s: f64,
    /// P10s = (P6 + P8 + P10 + P13 + P17) / 5.
    pub p10s: f64,
    /// P50s = (P30 + P50 + P80) / 3.
    pub p50s: f64,
    /// Pst = √(0.0314·P0.1 + 0.0525·P1s + 0.0657·P3s + 0.28·P10s + 0.08·P50s).
    pub pst: f64,
    /// Largest Pinst.
    pub pinst_max: f64,
}

impl ShortTermStatistics {
    /// The statistics of the Pinst values `pinst` (reordered in place). `None` when there
    /// is no value or a value is not finite.
    pub fn of(pinst: &mut [f32]) -> Option<Self> {
        if pinst.is_empty() || pinst.iter().any(|v| !v.is_finite()) {
            return None;
        }
        pinst.sort_unstable_by(f32::total_cmp);
        let p = |x: f64| exceeded(pinst, x);
        let mean = |xs: &[f64]| xs.iter().map(|&x| p(x)).sum::<f64>() / xs.len() as f64;
        let p0_1 = p(0.1);
        let p1s = mean(&[0.7, 1.0, 1.5]);
        let p3s = mean(&[2.2, 3.0, 4.0]);
        let p10s = mean(&[6.0, 8.0, 10.0, 13.0, 17.0]);
        let p50s = mean(&[30.0, 50.0, 80.0]);
        let pst = (0.0314 * p0_1 + 0.0525 * p1s + 0.0657 * p3s + 0.28 * p10s + 0.08 * p50s)
            .max(0.0)
            .sqrt();
        Some(ShortTermStatistics {
            p0_1,
            p1s,
            p3s,
            p10s,
            p50s,
            pst,
            pinst_max: f64::from(pinst[pinst.len() - 1]),
        })
    }
}

/// The level exceeded during `percent` % of the values of the ascending `sorted`.
fn exceeded(sorted: &[f32], percent: f64) -> f64 {
    let last = sorted.len() - 1;
    let position = (1.0 - percent / 100.0) * last as f64;
    let below = (position.floor() as usize).min(last);
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    let (lo, hi) = (f64::from(sorted[below]), f64::from(sorted[above]));
    lo + (hi - lo) * fraction
}

/// Plt (4.7.3): the cube root of the mean cube of the short-term severities of the 2-h
/// period (12 values when the period is complete). NaN values are left out; NaN when
/// none is left.
pub fn long_term_severity(pst: &[f64]) -> f64 {
    let (sum, n) = pst
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v * v * v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        (sum / n as f64).cbrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_pinst_gives_the_formula_value() {
        let mut v = vec![2.0f32; 1000];
        let s = ShortTermStatistics::of(&mut v).unwrap();
        let k = 0.0314 + 0.0525 + 0.0657 + 0.28 + 0.08;
        assert!((s.pst - (k * 2.0f64).sqrt()).abs() < 1e-12);
        assert_eq!(s.pinst_max, 2.0);
    }

    #[test]
    fn percentiles_are_exceedance_levels() {
        // A ramp 0 … 1000: the level exceeded 10 % of the time is 900.
        let mut v: Vec<f32> = (0..=1000).rev().map(|i| i as f32).collect();
        let s = ShortTermStatistics::of(&mut v).unwrap();
        assert!((s.p0_1 - 999.0).abs() < 1e-9);
        assert!((s.p50s - (700.0 + 500.0 + 200.0) / 3.0).abs() < 1e-9);
        assert!((s.p10s - (940.0 + 920.0 + 900.0 + 870.0 + 830.0) / 5.0).abs() < 1e-9);
        assert!(ShortTermStatistics::of(&mut []).is_none());
        assert!(ShortTermStatistics::of(&mut [1.0, f32::NAN]).is_none());
    }

    #[test]
    fn plt_is_the_cube_mean() {
        assert!((long_term_severity(&[1.0; 12]) - 1.0).abs() < 1e-12);
        let v = [2.0, f64::NAN, 0.0];
        assert!((long_term_severity(&v) - 4f64.cbrt()).abs() < 1e-12);
        assert!(long_term_severity(&[]).is_nan());
    }
}
