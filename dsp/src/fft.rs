//! Real-input FFT: a thin wrapper over `realfft` that shares plans between users and keeps
//! its work buffers, so that transforming one window allocates nothing.
//!
//! Plans are made once per transform length by one process-wide [`realfft::RealFftPlanner`]
//! (the planner caches every length it has planned), so many analyzers of the same window
//! size share one plan. Each [`RealFft`] owns its input copy and scratch space.
//!
//! The output is the unnormalised DFT `X[k] = Σ x[n]·e^{-j2πkn/N}` for `k = 0..=N/2`, the
//! same convention as numpy's `rfft`; [`dft_reference`] is the plain O(N²) twin that tests
//! compare the fast path against.

use num_complex::Complex64;
use pqe_core::{Error, Result};
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::{Arc, Mutex, OnceLock};

/// The process-wide planner; `realfft` caches plans per length inside it.
fn planner() -> &'static Mutex<RealFftPlanner<f64>> {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f64>>> = OnceLock::new();
    PLANNER.get_or_init(|| Mutex::new(RealFftPlanner::new()))
}

/// A forward real FFT of one fixed length, with its buffers.
pub struct RealFft {
    plan: Arc<dyn RealToComplex<f64>>,
    input: Vec<f64>,
    scratch: Vec<Complex64>,
}

impl std::fmt::Debug for RealFft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealFft").field("len", &self.len()).finish()
    }
}

impl RealFft {
    /// A transform of `len` real points (`len ≥ 1`; any length, fastest for lengths whose
    /// prime factors are small, such as the 2560 and 3072 of 10/12-cycle windows at 256
    /// points per cycle).
    pub fn new(len: usize) -> Result<Self> {
        if len == 0 {
            return Err(Error::Config("an FFT needs at least one point".into()));
        }
        // A poisoned lock only means another thread panicked while planning; the planner's
        // cache is still usable.
        let plan = planner()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .plan_fft_forward(len);
        let scratch = plan.make_scratch_vec();
        Ok(Self {
            plan,
            input: vec![0.0; len],
            scratch,
        })
    }

    /// The number of real input points.
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// Never true: a transform has at least one point.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The number of complex output lines, `len/2 + 1`.
    pub fn output_len(&self) -> usize {
        self.input.len() / 2 + 1
    }

    /// Transform `input` (exactly [`len`](Self::len) points, left untouched) into `output`
    /// (exactly [`output_len`](Self::output_len) lines). Non-finite input gives non-finite
    /// lines; it is not an error here.
    pub fn forward(&mut self, input: &[f64], output: &mut [Complex64]) -> Result<()> {
        if input.len() != self.input.len() || output.len() != self.output_len() {
            return Err(Error::Config(format!(
                "FFT of {} points given {} inputs and {} output lines (needs {})",
                self.input.len(),
                input.len(),
                output.len(),
                self.output_len()
            )));
        }
        self.input.copy_from_slice(input);
        self.plan
            .process_with_scratch(&mut self.input, output, &mut self.scratch)
            .map_err(|e| Error::Config(format!("FFT failed: {e}")))
    }
}

/// The plain O(N²) DFT of real `x`, lines `0..=N/2`, each accumulated in the order of `n`
/// with the twiddle computed directly from `k·n mod N`: the reference twin of
/// [`RealFft::forward`].
pub fn dft_reference(x: &[f64]) -> Vec<Complex64> {
    let n = x.len();
    (0..=n / 2)
        .map(|k| {
            let mut acc = Complex64::new(0.0, 0.0);
            for (i, &v) in x.iter().enumerate() {
                let phase = -2.0 * std::f64::consts::PI * ((k * i) % n) as f64 / n as f64;
                acc += Complex64::from_polar(v, phase);
            }
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_matches_the_plain_dft() {
        for &n in &[1usize, 2, 7, 64, 250, 2560, 3072] {
            let x: Vec<f64> = (0..n)
                .map(|i| (i as f64 * 0.37).sin() + 0.1 * (i as f64 * 1.9).cos() + 0.25)
                .collect();
            let mut fft = RealFft::new(n).unwrap();
            let mut out = vec![Complex64::new(0.0, 0.0); fft.output_len()];
            fft.forward(&x, &mut out).unwrap();
            let reference = dft_reference(&x);
            let scale = n as f64;
            for (a, b) in out.iter().zip(&reference) {
                assert!((a - b).norm() <= 1e-12 * scale, "n = {n}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn wrong_lengths_are_errors_not_panics() {
        assert!(RealFft::new(0).is_err());
        let mut fft = RealFft::new(8).unwrap();
        let mut out = vec![Complex64::new(0.0, 0.0); 5];
        assert!(fft.forward(&[0.0; 7], &mut out).is_err());
        assert!(fft.forward(&[0.0; 8], &mut out[..4]).is_err());
    }
}
