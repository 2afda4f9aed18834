//! The AVX path of the squaring decimator ([`SquaringDecimator`]): the window dot product
//! with its four lanes in one register, the same operations in the same order as the
//! portable [`window_dot`](super::window_dot), so the same bits.

use super::SquaringDecimator;
use std::arch::x86_64::{
    _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
};

/// [`SquaringDecimator::push`] compiled for AVX: the same operations in the same order (no
/// fused multiply–add), four lanes to a register, so the same bits.
///
/// # Safety
/// The CPU must support AVX.
#[target_feature(enable = "avx")]
pub(super) unsafe fn push(decimator: &mut SquaringDecimator, samples: &[f64], out: &mut Vec<f64>) {
    // SAFETY: this function only runs on CPUs with AVX (see above).
    decimator.push_with(samples, out, |x, k| unsafe { window_dot_avx(x, k) });
}

/// [`window_dot`] with the four lanes in one AVX register: the same multiplications and
/// additions in the same order (no fused multiply–add), so the same bits.
///
/// # Safety
/// The CPU must support AVX.
#[target_feature(enable = "avx")]
#[inline]
pub(super) unsafe fn window_dot_avx(x: &[f64], k: &[f64]) -> f64 {
    let n = k.len();
    let x = &x[..n];
    let whole = n - n % 4;
    let mut acc = _mm256_setzero_pd();
    let mut i = 0;
    while i < whole {
        // SAFETY: i + 4 ≤ whole ≤ n = x.len() = k.len(), so both loads stay in bounds.
        unsafe {
            let a = _mm256_loadu_pd(x.as_ptr().add(i));
            let b = _mm256_loadu_pd(k.as_ptr().add(i));
            acc = _mm256_add_pd(acc, _mm256_mul_pd(a, b));
        }
        i += 4;
    }
    let mut lanes = [0.0f64; 4];
    // SAFETY: `lanes` holds four f64, the width of the store.
    unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), acc) };
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (a, b) in x[whole..].iter().zip(&k[whole..]) {
        s += a * b;
    }
    s
}
