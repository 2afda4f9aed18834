//! Block 2 of the flickermeter (IEC 61000-4-15 Ed.2 4.3, squaring demodulator), fused
//! with the decimation that lets blocks 3 to 5 run at about 1 kHz whatever the input
//! sample rate.
//!
//! The square of the voltage holds the flicker band (0 to 42 Hz), DC, the double mains
//! frequency and the products of harmonics, all at multiples of the supply frequency. Before
//! dropping to the rate `f_d = f_s / M`, everything near a multiple of `f_d` must be
//! removed, since it would fold into the flicker band. The anti-alias filter is the cube of
//! an M-sample moving average (a third-order cascaded integrator-comb response, a quadratic
//! B-spline kernel of `3M − 2` taps): its response `[sin(Mθ) / (M sin θ)]³`, `θ = π f / f_s`,
//! has triple zeros at every multiple of `f_d`, so within ±42 Hz of them it attenuates by
//! 70 dB or more at `f_d ≈ 1 kHz` (75 dB once M ≥ 4). Each decimated value is one dot
//! product of the squared input with the kernel (three multiply–adds per input sample),
//! summed in four interleaved lanes ([`window_dot`]) so it pipelines and vectorises; the
//! lanes make the result a function of the window's values only, never of how the input
//! was cut, whatever the CPU. [`ReferenceDecimator`] is the plain twin (one running sum)
//! the tests compare it with.
//!
//! The kernel's passband droop, `1 − (1 − 1/M²)·π²f²/(2 f_d²)` to second order (about
//! 0.9 % at 42 Hz), is undone at the decimated rate by the symmetric three-tap FIR
//! `[−a, 1 + 2a, −a]`, `a = (1 − 1/M²)/8` ([`DroopCompensator`]), which leaves the flicker
//! band flat to within 0.02 %.

use pqe_dsp::kernels::{backend, KernelBackend};
use std::f64::consts::PI;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Input samples squared and decimated per call of the inner loop: bounds the buffer
/// whatever the length of the slice a caller pushes.
const SUB_BLOCK: usize = 8192;

/// Squares the input and low-pass filters and decimates it by an integer factor.
#[derive(Debug, Clone)]
pub struct SquaringDecimator {
    factor: usize,
    kernel: Vec<f64>,
    /// Squared input samples not yet fully used; `squares[next..]` starts the next window.
    squares: Vec<f64>,
    next: usize,
}

impl SquaringDecimator {
    /// A decimator by `factor` (≥ 1).
    pub fn new(factor: usize) -> Self {
        let factor = factor.max(1);
        SquaringDecimator {
            factor,
            kernel: spline_kernel(factor),
            squares: Vec::with_capacity(SUB_BLOCK + 3 * factor),
            next: 0,
        }
    }

    /// Length of the kernel in input samples: a decimated value is computed once this many
    /// input samples are in its window.
    pub fn kernel_len(&self) -> usize {
        self.kernel.len()
    }

    /// Feed input samples; every decimated value that becomes computable is appended to
    /// `out`. A non-finite sample makes the values whose windows hold it non-finite. Runs
    /// on the process's kernel backend ([`pqe_dsp::kernels::backend`], which
    /// `PQE_FORCE_SCALAR` sets to scalar), dispatched once per call.
    pub fn push(&mut self, samples: &[f64], out: &mut Vec<f64>) {
        self.push_on(backend(), samples, out);
    }

    /// [`Self::push`] on the given backend (when the CPU cannot run it, on the portable
    /// path): the same bits on every backend (tested).
    pub fn push_on(&mut self, backend: KernelBackend, samples: &[f64], out: &mut Vec<f64>) {
        match backend.or_scalar() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `or_scalar` keeps Avx2Fma only on a CPU with AVX2 and FMA, hence AVX,
            // the feature `x86::push` is compiled for.
            KernelBackend::Avx2Fma => unsafe { x86::push(self, samples, out) },
            _ => self.push_portable(samples, out),
        }
    }

    fn push_portable(&mut self, samples: &[f64], out: &mut Vec<f64>) {
        self.push_with(samples, out, window_dot);
    }

    #[inline(always)]
    fn push_with(
        &mut self,
        samples: &[f64],
        out: &mut Vec<f64>,
        window_dot: impl Fn(&[f64], &[f64]) -> f64,
    ) {
        let len = self.kernel.len();
        for part in samples.chunks(SUB_BLOCK) {
            self.squares.extend(part.iter().map(|&x| x * x));
            if self.squares.len() >= self.next + len {
                let windows = (self.squares.len() - self.next - len) / self.factor + 1;
                out.reserve(windows);
                let kernel = &self.kernel[..];
                for w in 0..windows {
                    let from = self.next + w * self.factor;
                    out.push(window_dot(&self.squares[from..from + len], kernel));
                }
                self.next += windows * self.factor;
            }
            self.squares.drain(..self.next);
            self.next = 0;
        }
    }

    /// Forget every sample seen (a new segment of the recording starts).
    pub fn reset(&mut self) {
        self.squares.clear();
        self.next = 0;
    }

    /// Magnitude of the anti-alias filter at `frequency` (Hz), for an input rate
    /// `sample_rate`.
    pub fn response(&self, frequency: f64, sample_rate: f64) -> f64 {
        let theta = PI * frequency / sample_rate;
        let m = self.factor as f64;
        let boxcar = if theta.sin().abs() < 1e-300 {
            1.0
        } else {
            (m * theta).sin() / (m * theta.sin())
        };
        boxcar.abs().powi(3)
    }
}

/// `Σ x[i]·k[i]` over `k.len()` values (`x` at least as long) in four interleaved
/// partial sums (lane `i mod 4`), added as `(s0 + s1) + (s2 + s3)` and then the tail
/// beyond the last whole group of four, in index order. The order is fixed by the index,
/// so the value depends only on the numbers, and the four independent sums let the loop
/// pipeline and vectorise (the decimator's inner loop, IEC 61000-4-15 4.3).
#[inline(always)]
pub(crate) fn window_dot(x: &[f64], k: &[f64]) -> f64 {
    let x = &x[..k.len()];
    let mut lanes = [0.0f64; 4];
    let xs = x.chunks_exact(4);
    let ks = k.chunks_exact(4);
    let (xt, kt) = (xs.remainder(), ks.remainder());
    for (a, b) in xs.zip(ks) {
        for l in 0..4 {
            lanes[l] += a[l] * b[l];
        }
    }
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (a, b) in xt.iter().zip(kt) {
        s += a * b;
    }
    s
}

/// The plain twin of [`SquaringDecimator`]: the same kernel, every window's dot product
/// one running sum in index order. Kept for the tests that check the fast path.
#[derive(Debug, Clone)]
pub(crate) struct ReferenceDecimator {
    factor: usize,
    kernel: Vec<f64>,
    squares: Vec<f64>,
}

impl ReferenceDecimator {
    /// A decimator by `factor` (≥ 1).
    pub fn new(factor: usize) -> Self {
        let factor = factor.max(1);
        ReferenceDecimator {
            factor,
            kernel: spline_kernel(factor),
            squares: Vec::new(),
        }
    }

    /// As [`SquaringDecimator::push`].
    pub fn push(&mut self, samples: &[f64], out: &mut Vec<f64>) {
        for &x in samples {
            self.squares.push(x * x);
            if self.squares.len() == self.kernel.len() {
                let mut s = 0.0;
                for (a, b) in self.squares.iter().zip(&self.kernel) {
                    s += a * b;
                }
                out.push(s);
                self.squares.drain(..self.factor.min(self.squares.len()));
            }
        }
    }

    /// As [`SquaringDecimator::reset`].
    pub fn reset(&mut self) {
        self.squares.clear();
    }
}

/// Three-tap FIR at the decimated rate that flattens the decimator's passband droop
/// (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct DroopCompensator {
    a: f64,
    history: [f64; 2],
}

impl DroopCompensator {
    /// The compensator for a decimation by `factor`.
    pub fn new(factor: usize) -> Self {
        let m = factor.max(1) as f64;
        DroopCompensator {
            a: (1.0 - 1.0 / (m * m)) / 8.0,
            history: [0.0; 2],
        }
    }

    /// The coefficient `a` of the taps `[−a, 1 + 2a, −a]`.
    pub fn coefficient(&self) -> f64 {
        self.a
    }

    /// Put the filter in the steady state for a constant input `x`.
    pub fn settle_to(&mut self, x: f64) {
        self.history = [x, x];
    }

    /// Filter one decimated value.
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        let [x1, x2] = self.history;
        self.history = [x, x1];
        (1.0 + 2.0 * self.a) * x1 - self.a * (x + x2)
    }

    /// Magnitude at `frequency` (Hz) for the decimated rate `rate`.
    pub fn response(&self, frequency: f64, rate: f64) -> f64 {
        1.0 + 2.0 * self.a * (1.0 - (2.0 * PI * frequency / rate).cos())
    }
}

/// The quadratic B-spline kernel: three M-sample moving averages convolved, unit DC gain.
fn spline_kernel(m: usize) -> Vec<f64> {
    let boxcar = vec![1.0 / m as f64; m];
    let twice = convolve(&boxcar, &boxcar);
    convolve(&twice, &boxcar)
}

fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_has_unit_gain_and_spline_length() {
        for m in 1..12 {
            let d = SquaringDecimator::new(m);
            assert_eq!(d.kernel_len(), 3 * m - 2);
            let s: f64 = d.kernel.iter().sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn compensated_passband_is_flat_and_aliases_are_suppressed() {
        for (fs, m) in [(10_240.0, 10), (2000.0, 2), (6400.0, 6), (102_400.0, 102)] {
            let fd = fs / m as f64;
            let d = SquaringDecimator::new(m);
            let c = DroopCompensator::new(m);
            for f in [1.0, 8.8, 25.0, 42.0] {
                let g = d.response(f, fs) * c.response(f, fd);
                assert!((g - 1.0).abs() < 2e-4, "{fs} Hz: {f} Hz: {g}");
            }
            for k in 1..m {
                for df in [-42.0, 42.0] {
                    let f = k as f64 * fd + df;
                    assert!(d.response(f, fs) < 3e-4, "{fs} Hz: {f} Hz");
                }
            }
        }
    }

    #[test]
    fn fast_decimator_matches_its_plain_twin() {
        for m in [1, 2, 3, 5, 10, 13] {
            let signal: Vec<f64> = (0..5000)
                .map(|i| {
                    let t = i as f64 * 1e-4;
                    325.0 * (2.0 * PI * 50.0 * t).sin() * (1.0 + 0.01 * (2.0 * PI * 8.8 * t).sin())
                        + 3.0 * (2.0 * PI * 250.0 * t).cos()
                })
                .collect();
            let (mut fast, mut plain) = (SquaringDecimator::new(m), ReferenceDecimator::new(m));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for part in signal.chunks(97) {
                fast.push(part, &mut a);
            }
            // The twin takes other cuts.
            for part in signal.chunks(1000) {
                plain.push(part, &mut b);
            }
            assert_eq!(a.len(), b.len(), "M = {m}");
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-14 * y.abs(), "M = {m}: {x} vs {y}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx_dot_gives_the_bits_of_the_portable_one() {
        if pqe_dsp::kernels::detected() != KernelBackend::Avx2Fma {
            return;
        }
        let x: Vec<f64> = (0..400).map(|i| (i as f64 * 0.731).sin() * 1e5).collect();
        for m in 1..14 {
            let kernel = spline_kernel(m);
            for from in 0..50 {
                let w = &x[from..from + kernel.len()];
                // SAFETY: the CPU supports AVX2 and FMA, hence AVX (checked above).
                let avx = unsafe { x86::window_dot_avx(w, &kernel) };
                assert_eq!(avx.to_bits(), window_dot(w, &kernel).to_bits(), "M = {m}");
            }
        }
    }

    #[test]
    fn every_backend_gives_the_same_bits_for_any_cut() {
        // The CPU's fast path (whatever PQE_FORCE_SCALAR says) against the portable one,
        // on a supply with harmonics, noise-like content and a step, cut differently.
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let signal: Vec<f64> = (0..20_000)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let t = i as f64 / 10_240.0;
                let step = if i > 12_000 { 0.3 } else { 1.0 };
                step * 325.0 * (2.0 * PI * 50.0 * t).sin() + 7.0 * (2.0 * PI * 350.0 * t).sin() + u
            })
            .collect();
        for m in [1, 4, 10, 13] {
            let (mut fast, mut plain) = (SquaringDecimator::new(m), SquaringDecimator::new(m));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for part in signal.chunks(331) {
                fast.push_on(pqe_dsp::kernels::detected(), part, &mut a);
            }
            for part in signal.chunks(4096) {
                plain.push_on(KernelBackend::Scalar, part, &mut b);
            }
            assert_eq!(a.len(), b.len(), "M = {m}");
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "M = {m}"
            );
        }
    }

    #[test]
    fn decimated_square_of_a_constant_is_its_square() {
        let mut d = SquaringDecimator::new(4);
        let mut out = Vec::new();
        d.push(&[3.0; 100], &mut out);
        assert_eq!(out.len(), (100 - 10) / 4 + 1);
        assert!(out.iter().all(|v| (v - 9.0).abs() < 1e-12));
    }
}
