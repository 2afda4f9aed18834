//! The AVX2 + FMA path of the resampler's polyphase kernels ([`super::resample_polyphase`],
//! [`super::resample_polyphase_many`]): explicit 4-wide fused multiply-adds on two
//! accumulators. The portable twins are `fill_portable`, `apply_portable` and
//! `many_portable` in the parent module.

#[cfg(doc)]
use super::check_window;
use super::{kernel_of, locate, polyphase_table, WeightCache};
use std::arch::x86_64::*;

/// The batched path with AVX2 fused multiply-adds: [`fill_avx2`]'s weights of one point
/// kept in registers, then [`apply_avx2`]'s sum for each channel.
///
/// # Safety
/// The CPU must support AVX2 and FMA; every `xs[c]` must hold the samples the window reads
/// (checked by [`check_window`]) and every `outs[c]` the same length as `outs[0]`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn many_avx2<const TAPS: usize>(
    xs: &[&[f64]],
    start: f64,
    step: f64,
    outs: &mut [&mut [f64]],
) {
    let table = polyphase_table(kernel_of(TAPS));
    let n_out = outs.first().map_or(0, |o| o.len());
    // At most 64 taps: 16 vectors of four.
    let mut w = [_mm256_setzero_pd(); 16];
    // Where the points read, a block at a time: the blocks' independent `locate`s overlap
    // each other, instead of each one delaying its own point's weights.
    const BLOCK: usize = 32;
    let mut located = [(0usize, 0usize, [0.0f64; 4]); BLOCK];
    for m in 0..n_out {
        if m % BLOCK == 0 {
            for (i, slot) in located.iter_mut().enumerate().take(n_out - m) {
                *slot = locate(start, step, m + i, TAPS / 2);
            }
        }
        let (first, p, l) = located[m % BLOCK];
        let rows = &table[p * TAPS..(p + 4) * TAPS];
        let rp = rows.as_ptr();
        let (l0, l1, l2, l3) = (
            _mm256_set1_pd(l[0]),
            _mm256_set1_pd(l[1]),
            _mm256_set1_pd(l[2]),
            _mm256_set1_pd(l[3]),
        );
        // TAPS is a multiple of 8 and at most 64; every read lies inside `rows` (4·TAPS).
        for (v, i) in w.iter_mut().zip((0..TAPS).step_by(4)) {
            let mut s = _mm256_mul_pd(l0, _mm256_loadu_pd(rp.add(i)));
            s = _mm256_fmadd_pd(l1, _mm256_loadu_pd(rp.add(TAPS + i)), s);
            s = _mm256_fmadd_pd(l2, _mm256_loadu_pd(rp.add(2 * TAPS + i)), s);
            *v = _mm256_fmadd_pd(l3, _mm256_loadu_pd(rp.add(3 * TAPS + i)), s);
        }
        // Two channels at a time, their final sums paired in one horizontal add.
        let mut pairs_x = xs.chunks_exact(2);
        let mut pairs_out = outs.chunks_exact_mut(2);
        for (px, po) in (&mut pairs_x).zip(&mut pairs_out) {
            let sa = dot_avx2::<TAPS>(&w, &px[0][first..first + TAPS]);
            let sb = dot_avx2::<TAPS>(&w, &px[1][first..first + TAPS]);
            let pair = hsum_pair(sa, sb);
            // `m < n_out`, the length of every output (checked by the caller).
            _mm_storel_pd(po[0].get_unchecked_mut(m), pair);
            _mm_storeh_pd(po[1].get_unchecked_mut(m), pair);
        }
        if let (Some(x), Some(out)) = (
            pairs_x.remainder().first(),
            pairs_out.into_remainder().first_mut(),
        ) {
            let sa = dot_avx2::<TAPS>(&w, &x[first..first + TAPS]);
            // As above.
            _mm_storel_pd(out.get_unchecked_mut(m), hsum_pair(sa, sa));
        }
    }
}

/// `Σ w·x` over `TAPS` taps as four lane sums (lane `k` holds taps `≡ k mod 4`), on two
/// accumulators alternating by four taps.
///
/// # Safety
/// AVX2 and FMA; `x` holds at least `TAPS` samples (a multiple of 8, at most 64).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn dot_avx2<const TAPS: usize>(w: &[__m256d; 16], x: &[f64]) -> __m256d {
    debug_assert!(x.len() >= TAPS);
    let xp = x.as_ptr();
    let mut acc = [_mm256_setzero_pd(), _mm256_setzero_pd()];
    // Every read lies inside `x` (TAPS samples).
    for j in (0..TAPS).step_by(8) {
        for (h, a) in acc.iter_mut().enumerate() {
            let i = j + 4 * h;
            *a = _mm256_fmadd_pd(w[i / 4], _mm256_loadu_pd(xp.add(i)), *a);
        }
    }
    _mm256_add_pd(acc[0], acc[1])
}

/// The totals `(a0 + a1) + (a2 + a3)` and `(b0 + b1) + (b2 + b3)` of two lane-sum vectors,
/// in the low and high halves of the result.
///
/// # Safety
/// AVX2.
#[target_feature(enable = "avx2")]
#[inline]
pub(super) unsafe fn hsum_pair(a: __m256d, b: __m256d) -> __m128d {
    // [a0+a1, b0+b1, a2+a3, b2+b3]
    let h = _mm256_hadd_pd(a, b);
    _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1))
}

/// The weights of every output point with AVX2 fused multiply-adds.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `cache` sized for `TAPS` taps per point.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fill_avx2<const TAPS: usize>(start: f64, step: f64, cache: &mut WeightCache) {
    let table = polyphase_table(kernel_of(TAPS));
    let n_out = cache.firsts.len();
    // Located a block ahead, as in `many_avx2`.
    const BLOCK: usize = 32;
    let mut located = [(0usize, 0usize, [0.0f64; 4]); BLOCK];
    for (m, (first, w)) in cache
        .firsts
        .iter_mut()
        .zip(cache.weights.chunks_exact_mut(TAPS))
        .enumerate()
    {
        if m % BLOCK == 0 {
            for (i, slot) in located.iter_mut().enumerate().take(n_out - m) {
                *slot = locate(start, step, m + i, TAPS / 2);
            }
        }
        let (f, p, l) = located[m % BLOCK];
        *first = f;
        let rows = &table[p * TAPS..(p + 4) * TAPS];
        let rp = rows.as_ptr();
        let wp = w.as_mut_ptr();
        let (l0, l1, l2, l3) = (
            _mm256_set1_pd(l[0]),
            _mm256_set1_pd(l[1]),
            _mm256_set1_pd(l[2]),
            _mm256_set1_pd(l[3]),
        );
        // TAPS is a multiple of 4; every access lies inside `rows` (4·TAPS) and `w` (TAPS).
        for i in (0..TAPS).step_by(4) {
            let mut v = _mm256_mul_pd(l0, _mm256_loadu_pd(rp.add(i)));
            v = _mm256_fmadd_pd(l1, _mm256_loadu_pd(rp.add(TAPS + i)), v);
            v = _mm256_fmadd_pd(l2, _mm256_loadu_pd(rp.add(2 * TAPS + i)), v);
            v = _mm256_fmadd_pd(l3, _mm256_loadu_pd(rp.add(3 * TAPS + i)), v);
            _mm256_storeu_pd(wp.add(i), v);
        }
    }
}

/// The weights applied to the samples with AVX2 fused multiply-adds, two accumulators.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x` must hold every sample the cache's points read
/// (the caller checked the window, [`check_window`]).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn apply_avx2<const TAPS: usize>(
    x: &[f64],
    cache: &WeightCache,
    out: &mut [f64],
) {
    for ((y, &first), w) in out
        .iter_mut()
        .zip(&cache.firsts)
        .zip(cache.weights.chunks_exact(TAPS))
    {
        let xs = &x[first..first + TAPS];
        let (xp, wp) = (xs.as_ptr(), w.as_ptr());
        let mut acc = [_mm256_setzero_pd(), _mm256_setzero_pd()];
        // TAPS is a multiple of 8; every read lies inside `xs` and `w` (TAPS each).
        for j in (0..TAPS).step_by(8) {
            for (h, a) in acc.iter_mut().enumerate() {
                let i = j + 4 * h;
                *a = _mm256_fmadd_pd(_mm256_loadu_pd(wp.add(i)), _mm256_loadu_pd(xp.add(i)), *a);
            }
        }
        // The same final sum as the batched path ([`hsum_pair`]): (s0 + s1) + (s2 + s3).
        let s = _mm256_add_pd(acc[0], acc[1]);
        *y = _mm_cvtsd_f64(hsum_pair(s, s));
    }
}
