//! The AVX2 path of [`scan`](super::scan): eight samples a round, one branch for two vectors.

use super::{may_cross, Scan};
use std::arch::x86_64::*;

/// Lanes where `(prev, cur)` may be a crossing ([`may_cross`](super::may_cross)).
#[inline(always)]
unsafe fn sign_change(prev: __m256d, cur: __m256d) -> __m256d {
    let zero = _mm256_setzero_pd();
    _mm256_and_pd(
        _mm256_cmp_pd::<_CMP_NGT_UQ>(_mm256_mul_pd(prev, cur), zero),
        _mm256_cmp_pd::<_CMP_NEQ_UQ>(prev, zero),
    )
}

/// # Safety
/// The CPU must support AVX2; `1 ≤ from` and `to ≤ y.len()`.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn scan(y: &[f64], from: usize, to: usize, band: f64) -> Scan {
    let p = y.as_ptr();
    let mut low = _mm256_set1_pd(f64::INFINITY);
    let mut low_b = low;
    let mut high = _mm256_set1_pd(f64::NEG_INFINITY);
    let mut high_b = high;
    let mut j = from;
    // Eight samples a round: one branch for two vectors.
    while j + 8 <= to {
        let prev_a = _mm256_loadu_pd(p.add(j - 1));
        let cur_a = _mm256_loadu_pd(p.add(j));
        let prev_b = _mm256_loadu_pd(p.add(j + 3));
        let cur_b = _mm256_loadu_pd(p.add(j + 4));
        let change = _mm256_or_pd(sign_change(prev_a, cur_a), sign_change(prev_b, cur_b));
        if _mm256_movemask_pd(change) != 0 {
            break;
        }
        // min and max return their second operand when either is NaN: NaN samples are
        // skipped, as the comparisons of the scalar logic skip them.
        low = _mm256_min_pd(cur_a, low);
        low_b = _mm256_min_pd(cur_b, low_b);
        high = _mm256_max_pd(cur_a, high);
        high_b = _mm256_max_pd(cur_b, high_b);
        j += 8;
    }
    let low = _mm256_min_pd(low_b, low);
    let high = _mm256_max_pd(high_b, high);
    // Some sample is below −band exactly when the smallest one is, and the largest
    // magnitude is the larger of −min and max (negation and abs are exact).
    let mut lows = [0.0f64; 4];
    let mut highs = [0.0f64; 4];
    _mm256_storeu_pd(lows.as_mut_ptr(), low);
    _mm256_storeu_pd(highs.as_mut_ptr(), high);
    let low = lows.iter().fold(f64::INFINITY, |m, &v| f64::min(m, v));
    let high = highs.iter().fold(f64::NEG_INFINITY, |m, &v| f64::max(m, v));
    let mut r = Scan {
        stop: to,
        below: low < -band,
        above: high > band,
        // (abs turns a zero peak from −0.0 samples into +0.0, as abs per sample does.)
        peak: 0.0f64.max(-low).max(high).abs(),
    };
    // The rest (and the group holding the sign change) one sample at a time.
    while j < to {
        let v = y[j];
        if may_cross(y[j - 1], v) {
            r.stop = j;
            break;
        }
        r.below |= v < -band;
        r.above |= v > band;
        r.peak = r.peak.max(v.abs());
        j += 1;
    }
    r
}
