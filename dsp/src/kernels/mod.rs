//! Hot numeric kernels of the measurement chain — sum, sum of squares, dot product,
//! min/max, the fused one-pass [`moments`] over a slice and the nine [`three_phase_products`]
//! of three voltages and currents — and the one runtime SIMD dispatch of the whole crate.
//!
//! [`backend`] is chosen once per process: on x86_64 AVX2 + FMA (`std::arch`, detected with
//! `is_x86_feature_detected!`) unless the environment variable `PQE_FORCE_SCALAR` is set,
//! elsewhere a portable scalar version with several independent accumulators so the
//! compiler can pipeline and auto-vectorise it. Every fast path of PQE dispatches on this
//! one [`KernelBackend`], once per call on a block (never per sample): the kernels here, the
//! synchronous resampler ([`crate::resample`]), the tracker's four-section filter
//! ([`crate::cascade4`]), the zero-crossing scan ([`crate::zero_crossing`]) and the
//! flickermeter's squaring demodulator (pqe-standards, IEC 61000-4-15). Each has its
//! instruction-set code in its own `x86.rs` file beside the portable code, and a plain,
//! obviously correct twin that the tests compare it against (here: [`reference`](mod@reference)).
//!
//! The result of a kernel depends only on the values of the slice and on the backend,
//! never on the slice's alignment in memory: the SIMD paths use unaligned loads from
//! the first element, so the summation order is fixed by the element index. That is what
//! keeps the streaming analysis chunk-invariant.

pub mod reference;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::OnceLock;

/// Which implementation the kernels run on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelBackend {
    /// x86_64 AVX2 with fused multiply-add.
    Avx2Fma,
    /// Portable scalar code with several accumulators.
    Scalar,
}

impl KernelBackend {
    /// This backend when the running CPU can execute it, [`KernelBackend::Scalar`]
    /// otherwise: what the `*_on` entry points (which take a backend from their caller,
    /// e.g. a test or a bench comparing the two paths) actually run.
    pub fn or_scalar(self) -> KernelBackend {
        if self == detected() {
            self
        } else {
            KernelBackend::Scalar
        }
    }

    /// Short name for logs and bench labels: `avx2+fma` or `scalar`.
    pub fn name(self) -> &'static str {
        match self {
            KernelBackend::Avx2Fma => "avx2+fma",
            KernelBackend::Scalar => "scalar",
        }
    }
}

/// The backend every kernel runs in this process: [`detected`], or
/// [`KernelBackend::Scalar`] when `PQE_FORCE_SCALAR` is set (read once, at the first call).
pub fn backend() -> KernelBackend {
    static BACKEND: OnceLock<KernelBackend> = OnceLock::new();
    *BACKEND.get_or_init(|| {
        if std::env::var_os("PQE_FORCE_SCALAR").is_some() {
            KernelBackend::Scalar
        } else {
            detected()
        }
    })
}

/// The fastest backend the running CPU supports, whatever `PQE_FORCE_SCALAR` says (tests
/// and benches compare it with [`KernelBackend::Scalar`]).
pub fn detected() -> KernelBackend {
    static DETECTED: OnceLock<KernelBackend> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return KernelBackend::Avx2Fma;
            }
        }
        KernelBackend::Scalar
    })
}

/// `Σ x[i]`.
pub fn sum(x: &[f64]) -> f64 {
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
        KernelBackend::Avx2Fma => unsafe { x86::sum(x) },
        _ => scalar::sum(x),
    }
}

/// `Σ x[i]²`.
pub fn sum_of_squares(x: &[f64]) -> f64 {
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
        KernelBackend::Avx2Fma => unsafe { x86::sum_of_squares(x) },
        _ => scalar::sum_of_squares(x),
    }
}

/// `Σ x[i]·y[i]` over the common length of `x` and `y`.
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
        KernelBackend::Avx2Fma => unsafe { x86::dot(x, y) },
        _ => scalar::dot(x, y),
    }
}

/// Smallest and largest value; `(+∞, −∞)` for an empty slice. NaN values are skipped
/// (the chain flags missing samples separately).
pub fn min_max(x: &[f64]) -> (f64, f64) {
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
        KernelBackend::Avx2Fma => unsafe { x86::min_max(x) },
        _ => scalar::min_max(x),
    }
}

/// The moments of a slice that one pass over it gives: what the RMS, DC and peak of a
/// window (IEC 61000-4-30 Ed.3 5.2) are made of, and whether every value is finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// `Σ x[i]`, bit for bit what [`sum`] returns.
    pub sum: f64,
    /// `Σ x[i]²`, bit for bit what [`sum_of_squares`] returns.
    pub sum_of_squares: f64,
    /// Smallest non-NaN value (`+∞` when there is none), as [`min_max`].
    pub min: f64,
    /// Largest non-NaN value (`−∞` when there is none), as [`min_max`].
    pub max: f64,
    /// True when every value is finite, as [`all_finite`].
    pub finite: bool,
}

/// Sum, sum of squares, min, max and finiteness of `x` in one pass over memory: the
/// same values as [`sum`], [`sum_of_squares`], [`min_max`] and [`all_finite`] called
/// one after the other (the sums use the same accumulators in the same order), at the
/// cost of about one of them.
pub fn moments(x: &[f64]) -> Moments {
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
        KernelBackend::Avx2Fma => unsafe { x86::moments(x) },
        _ => scalar::moments(x),
    }
}

/// The sums of products of three voltages `v` and three currents `i` (phases A, B, C)
/// that the three-phase powers of IEEE 1459-2010 rest on, in one pass over the six slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreePhaseProducts {
    /// `Σ v_k[n]·i_k[n]` for k = A, B, C (active powers).
    pub vi: [f64; 3],
    /// `Σ v_k[n]·v_{k+1}[n]` for k = A, B, C (AB, BC, CA: line-to-line voltages).
    pub vv: [f64; 3],
    /// `Σ i_k[n]·i_{k+1}[n]` for k = A, B, C (AB, BC, CA: the neutral current).
    pub ii: [f64; 3],
}

/// The nine sums of products of [`ThreePhaseProducts`] over the common length of the six
/// slices, reading each slice once (separate [`dot`] calls read every slice two or three
/// times). Each sum is [`dot`]'s up to rounding: the summation order differs, but is fixed
/// by the element index as for every kernel here.
pub fn three_phase_products(v: [&[f64]; 3], i: [&[f64]; 3]) -> ThreePhaseProducts {
    let n = v.iter().chain(&i).map(|x| x.len()).min().unwrap_or(0);
    let v = v.map(|x| &x[..n]);
    let i = i.map(|x| &x[..n]);
    match backend() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA; the six
        // slices have the same length.
        KernelBackend::Avx2Fma => unsafe { x86::three_phase_products(v, i) },
        _ => scalar::three_phase_products(v, i),
    }
}

/// Largest magnitude `max |x[i]|` (0 for an empty slice, NaN skipped).
pub fn peak(x: &[f64]) -> f64 {
    let (lo, hi) = min_max(x);
    if lo > hi {
        0.0
    } else {
        lo.abs().max(hi.abs())
    }
}

/// True when every value is finite (no NaN, no ±∞).
pub fn all_finite(x: &[f64]) -> bool {
    // `|v| ≤ f64::MAX` is false for NaN and ±∞; four independent flags and no early exit,
    // so the compiler vectorises it and no floating-point sum chains the iterations.
    let mut ok = [true; 4];
    let chunks = x.chunks_exact(4);
    let tail = chunks.remainder().iter().all(|v| v.abs() <= f64::MAX);
    for c in chunks {
        for k in 0..4 {
            ok[k] &= c[k].abs() <= f64::MAX;
        }
    }
    tail && ok.iter().all(|&k| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(n: usize, seed: u64) -> Vec<f64> {
        // A deterministic mix of scales, so cancellation and rounding are exercised.
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                325.0 * (i as f64 * 0.0314).sin() + 3.0 * u
            })
            .collect()
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-12 * scale.max(1e-300)
    }

    #[test]
    fn kernels_match_their_reference_twins_for_every_length_and_offset() {
        let x = signal(1037, 1);
        let y = signal(1037, 2);
        for len in [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000] {
            for off in 0..4 {
                let (a, b) = (&x[off..off + len], &y[off..off + len]);
                let abs_scale: f64 = a.iter().map(|v| v.abs()).sum::<f64>() + 1.0;
                let sq_scale = reference::sum_of_squares(a) + 1.0;
                let dot_scale: f64 = a.iter().zip(b).map(|(p, q)| (p * q).abs()).sum::<f64>() + 1.0;
                assert!(
                    close(sum(a), reference::sum(a), abs_scale),
                    "sum {len} {off}"
                );
                assert!(
                    close(sum_of_squares(a), reference::sum_of_squares(a), sq_scale),
                    "sum_of_squares {len} {off}"
                );
                assert!(
                    close(dot(a, b), reference::dot(a, b), dot_scale),
                    "dot {len} {off}"
                );
                assert_eq!(min_max(a), reference::min_max(a), "min_max {len} {off}");
                assert_eq!(
                    scalar::min_max(a),
                    reference::min_max(a),
                    "scalar min_max {len} {off}"
                );
                assert!(close(
                    scalar::sum_of_squares(a),
                    reference::sum_of_squares(a),
                    sq_scale
                ));
                assert!(close(scalar::dot(a, b), reference::dot(a, b), dot_scale));
                assert!(close(scalar::sum(a), reference::sum(a), abs_scale));
                let m = moments(a);
                assert!(
                    close(m.sum, reference::sum(a), abs_scale),
                    "moments {len} {off}"
                );
                assert!(close(
                    m.sum_of_squares,
                    reference::sum_of_squares(a),
                    sq_scale
                ));
                let r = reference::moments(a);
                assert_eq!((m.min, m.max, m.finite), (r.min, r.max, r.finite));
                // The fused pass is bit for bit the separate kernels.
                assert_eq!(m.sum.to_bits(), sum(a).to_bits(), "moments sum {len} {off}");
                assert_eq!(m.sum_of_squares.to_bits(), sum_of_squares(a).to_bits());
                assert_eq!((m.min, m.max), min_max(a));
                let s = scalar::moments(a);
                assert_eq!(s.sum.to_bits(), scalar::sum(a).to_bits());
                assert_eq!(
                    s.sum_of_squares.to_bits(),
                    scalar::sum_of_squares(a).to_bits()
                );
                assert_eq!((s.min, s.max, s.finite), (m.min, m.max, true));
            }
        }
    }

    #[test]
    fn three_phase_products_match_their_reference_twin() {
        let x: Vec<Vec<f64>> = (0..6).map(|k| signal(1100, 10 + k)).collect();
        for len in [0, 1, 3, 4, 5, 8, 15, 16, 17, 100, 1000] {
            for off in 0..3 {
                let s = |k: usize| &x[k][off..off + len];
                let (v, i) = ([s(0), s(1), s(2)], [s(3), s(4), s(5)]);
                let want = reference::three_phase_products(v, i);
                for got in [
                    three_phase_products(v, i),
                    scalar::three_phase_products(v, i),
                ] {
                    for k in 0..3 {
                        let next = (k + 1) % 3;
                        let scale = |a: &[f64], b: &[f64]| {
                            a.iter().zip(b).map(|(p, q)| (p * q).abs()).sum::<f64>() + 1.0
                        };
                        assert!(close(got.vi[k], want.vi[k], scale(v[k], i[k])), "vi {len}");
                        assert!(close(got.vv[k], want.vv[k], scale(v[k], v[next])));
                        assert!(close(got.ii[k], want.ii[k], scale(i[k], i[next])));
                    }
                }
            }
        }
        // Unequal lengths: the common length.
        let short = &x[2][..10];
        let got = three_phase_products([&x[0], &x[1], short], [&x[3], &x[4], &x[5]]);
        assert!(close(
            got.vi[0],
            reference::dot(&x[0][..10], &x[3][..10]),
            1e6
        ));
    }

    #[test]
    fn min_max_skips_nan_and_finite_check_sees_it() {
        let mut x = signal(50, 3);
        let (lo, hi) = reference::min_max(&x);
        x[17] = f64::NAN;
        assert!(!all_finite(&x));
        let (lo2, hi2) = min_max(&x);
        assert!(lo2 >= lo && hi2 <= hi && lo2.is_finite() && hi2.is_finite());
        x[17] = f64::INFINITY;
        assert!(!all_finite(&x));
        assert!(!moments(&x).finite && !scalar::moments(&x).finite);
        x[17] = f64::NEG_INFINITY;
        assert!(!moments(&x).finite && !scalar::moments(&x).finite);
        x[17] = f64::NAN;
        assert!(!moments(&x).finite && !scalar::moments(&x).finite);
        assert!(!reference::moments(&x).finite);
        x[17] = 1.0;
        assert!(all_finite(&x));
        assert!(moments(&x).finite && scalar::moments(&x).finite);
        // Finite values whose squares overflow are still finite.
        assert!(moments(&[1e300, -1e300, 3.0]).finite);
        let empty = moments(&[]);
        assert!(empty.finite && empty.sum == 0.0 && empty.min == f64::INFINITY);
        assert_eq!(min_max(&[]), (f64::INFINITY, f64::NEG_INFINITY));
        assert_eq!(peak(&[]), 0.0);
        assert_eq!(peak(&[1.0, -3.0, 2.0]), 3.0);
    }

    #[test]
    fn result_does_not_depend_on_memory_alignment() {
        let x = signal(999, 4);
        let mut shifted = vec![0.0; 1000];
        shifted[1..].copy_from_slice(&x);
        assert_eq!(
            sum_of_squares(&x).to_bits(),
            sum_of_squares(&shifted[1..]).to_bits()
        );
        assert_eq!(sum(&x).to_bits(), sum(&shifted[1..]).to_bits());
    }
}
