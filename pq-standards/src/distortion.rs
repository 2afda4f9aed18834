//! Distortion indices meters give beside THD, from harmonic magnitudes `x[h]` (RMS, indexed
//! by order, `x[1]` the fundamental):
//!
//! - harmonic content (residual) `HC = √(Σ_{h=2..H} x_h²)`;
//! - `THD = HC / x1` (IEC 61000-4-7's THD uses the harmonic groups of orders 2–40/50);
//! - `thd = HC / X_rms = THD / √(1 + THD²)`, distortion relative to the RMS value (30 % THD
//!   is 28.7 % thd);
//! - `TEHD = √(Σ_{h even} x_h²) / x1` and `TOHD = √(Σ_{h odd ≥ 3} x_h²) / x1`, so
//!   `TEHD² + TOHD² = THD²`.
//!
//! Values are fractions (multiply by 100 for %). A zero fundamental gives NaN.

/// The distortion indices of one spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistortionIndices {
    /// Harmonic content (residual), in the spectrum's unit.
    pub harmonic_content: f64,
    /// Total harmonic distortion relative to the fundamental.
    pub thd: f64,
    /// Total harmonic distortion relative to the RMS value.
    pub thd_rms: f64,
    /// Total even harmonic distortion.
    pub tehd: f64,
    /// Total odd harmonic distortion.
    pub tohd: f64,
}

/// The indices of `x` (index = order) over orders 2…`max_order`.
pub fn indices(x: &[f64], max_order: usize) -> DistortionIndices {
    let x1 = x.get(1).copied().unwrap_or(0.0);
    let (mut even, mut odd) = (0.0, 0.0);
    for (h, v) in x.iter().enumerate().take(max_order + 1).skip(2) {
        if h % 2 == 0 {
            even += v * v;
        } else {
            odd += v * v;
        }
    }
    let hc = (even + odd).sqrt();
    let ratio = |s: f64| if x1 > 0.0 { s / x1 } else { f64::NAN };
    let thd = ratio(hc);
    DistortionIndices {
        harmonic_content: hc,
        thd,
        thd_rms: thd / (1.0 + thd * thd).sqrt(),
        tehd: ratio(even.sqrt()),
        tohd: ratio(odd.sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_percent_thd_is_28_7_percent_thd_rms() {
        let mut x = vec![0.0; 51];
        x[1] = 100.0;
        x[3] = 24.0;
        x[2] = 18.0;
        let d = indices(&x, 50);
        assert!((d.thd - 0.30).abs() < 1e-12);
        assert!((d.thd_rms - 0.287).abs() < 5e-4);
        assert!((d.tehd - 0.18).abs() < 1e-12 && (d.tohd - 0.24).abs() < 1e-12);
        assert!((d.tehd.powi(2) + d.tohd.powi(2) - d.thd.powi(2)).abs() < 1e-15);
        assert!(indices(&[0.0, 0.0, 1.0], 2).thd.is_nan());
    }
}
