//! AVX2 + FMA kernels: four 256-bit accumulators (16 lanes of f64) per loop iteration,
//! unaligned loads from the slice's first element.

use std::arch::x86_64::*;

const STEP: usize = 16;

#[target_feature(enable = "avx2,fma")]
unsafe fn horizontal_sum(a: __m256d, b: __m256d, c: __m256d, d: __m256d) -> f64 {
    let s = _mm256_add_pd(_mm256_add_pd(a, b), _mm256_add_pd(c, d));
    let lo = _mm256_castpd256_pd128(s);
    let hi = _mm256_extractf128_pd(s, 1);
    let pair = _mm_add_pd(lo, hi);
    let high = _mm_unpackhi_pd(pair, pair);
    _mm_cvtsd_f64(_mm_add_sd(pair, high))
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn sum(x: &[f64]) -> f64 {
    let n = x.len() - x.len() % STEP;
    let p = x.as_ptr();
    let (mut a, mut b, mut c, mut d) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let mut i = 0;
    while i < n {
        a = _mm256_add_pd(a, _mm256_loadu_pd(p.add(i)));
        b = _mm256_add_pd(b, _mm256_loadu_pd(p.add(i + 4)));
        c = _mm256_add_pd(c, _mm256_loadu_pd(p.add(i + 8)));
        d = _mm256_add_pd(d, _mm256_loadu_pd(p.add(i + 12)));
        i += STEP;
    }
    let mut s = horizontal_sum(a, b, c, d);
    for v in &x[n..] {
        s += v;
    }
    s
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn sum_of_squares(x: &[f64]) -> f64 {
    let n = x.len() - x.len() % STEP;
    let p = x.as_ptr();
    let (mut a, mut b, mut c, mut d) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let mut i = 0;
    while i < n {
        let va = _mm256_loadu_pd(p.add(i));
        let vb = _mm256_loadu_pd(p.add(i + 4));
        let vc = _mm256_loadu_pd(p.add(i + 8));
        let vd = _mm256_loadu_pd(p.add(i + 12));
        a = _mm256_fmadd_pd(va, va, a);
        b = _mm256_fmadd_pd(vb, vb, b);
        c = _mm256_fmadd_pd(vc, vc, c);
        d = _mm256_fmadd_pd(vd, vd, d);
        i += STEP;
    }
    let mut s = horizontal_sum(a, b, c, d);
    for v in &x[n..] {
        s += v * v;
    }
    s
}

/// # Safety
/// The CPU must support AVX2 and FMA; `x` and `y` must have the same length.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn dot(x: &[f64], y: &[f64]) -> f64 {
    let len = x.len().min(y.len());
    let n = len - len % STEP;
    let (p, q) = (x.as_ptr(), y.as_ptr());
    let (mut a, mut b, mut c, mut d) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let mut i = 0;
    while i < n {
        a = _mm256_fmadd_pd(_mm256_loadu_pd(p.add(i)), _mm256_loadu_pd(q.add(i)), a);
        b = _mm256_fmadd_pd(
            _mm256_loadu_pd(p.add(i + 4)),
            _mm256_loadu_pd(q.add(i + 4)),
            b,
        );
        c = _mm256_fmadd_pd(
            _mm256_loadu_pd(p.add(i + 8)),
            _mm256_loadu_pd(q.add(i + 8)),
            c,
        );
        d = _mm256_fmadd_pd(
            _mm256_loadu_pd(p.add(i + 12)),
            _mm256_loadu_pd(q.add(i + 12)),
            d,
        );
        i += STEP;
    }
    let mut s = horizontal_sum(a, b, c, d);
    for (u, v) in x[n..len].iter().zip(&y[n..len]) {
        s += u * v;
    }
    s
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn min_max(x: &[f64]) -> (f64, f64) {
    let n = x.len() - x.len() % 8;
    let p = x.as_ptr();
    let (mut lo_a, mut lo_b) = (_mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::INFINITY));
    let (mut hi_a, mut hi_b) = (
        _mm256_set1_pd(f64::NEG_INFINITY),
        _mm256_set1_pd(f64::NEG_INFINITY),
    );
    let mut i = 0;
    while i < n {
        let va = _mm256_loadu_pd(p.add(i));
        let vb = _mm256_loadu_pd(p.add(i + 4));
        // min/max return the second operand when either is NaN: keep the accumulator there.
        lo_a = _mm256_min_pd(va, lo_a);
        lo_b = _mm256_min_pd(vb, lo_b);
        hi_a = _mm256_max_pd(va, hi_a);
        hi_b = _mm256_max_pd(vb, hi_b);
        i += 8;
    }
    let mut lo = [0.0f64; 4];
    let mut hi = [0.0f64; 4];
    _mm256_storeu_pd(lo.as_mut_ptr(), _mm256_min_pd(lo_a, lo_b));
    _mm256_storeu_pd(hi.as_mut_ptr(), _mm256_max_pd(hi_a, hi_b));
    let mut l = f64::INFINITY;
    let mut h = f64::NEG_INFINITY;
    for &v in lo.iter().chain(&x[n..]) {
        if v < l {
            l = v;
        }
    }
    for &v in hi.iter().chain(&x[n..]) {
        if v > h {
            h = v;
        }
    }
    (l, h)
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn moments(x: &[f64]) -> super::Moments {
    let n = x.len() - x.len() % STEP;
    let p = x.as_ptr();
    // Sums and sums of squares in the accumulators, and the order, of `sum` and
    // `sum_of_squares`: the results are bit for bit theirs.
    let (mut sa, mut sb, mut sc, mut sd) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let (mut qa, mut qb, mut qc, mut qd) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let (mut lo_a, mut lo_b) = (_mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::INFINITY));
    let (mut hi_a, mut hi_b) = (
        _mm256_set1_pd(f64::NEG_INFINITY),
        _mm256_set1_pd(f64::NEG_INFINITY),
    );
    // 0·v is ±0 for a finite v and NaN otherwise; OR-ing the bit patterns keeps a NaN
    // (all-ones exponent, non-zero mantissa) once one appeared.
    let zero = _mm256_setzero_pd();
    let mut nonfinite = _mm256_setzero_pd();
    let mut i = 0;
    while i < n {
        let va = _mm256_loadu_pd(p.add(i));
        let vb = _mm256_loadu_pd(p.add(i + 4));
        let vc = _mm256_loadu_pd(p.add(i + 8));
        let vd = _mm256_loadu_pd(p.add(i + 12));
        sa = _mm256_add_pd(sa, va);
        sb = _mm256_add_pd(sb, vb);
        sc = _mm256_add_pd(sc, vc);
        sd = _mm256_add_pd(sd, vd);
        qa = _mm256_fmadd_pd(va, va, qa);
        qb = _mm256_fmadd_pd(vb, vb, qb);
        qc = _mm256_fmadd_pd(vc, vc, qc);
        qd = _mm256_fmadd_pd(vd, vd, qd);
        // min/max return the second operand when either is NaN: keep the accumulator there.
        lo_a = _mm256_min_pd(va, lo_a);
        lo_b = _mm256_min_pd(vb, lo_b);
        hi_a = _mm256_max_pd(va, hi_a);
        hi_b = _mm256_max_pd(vb, hi_b);
        lo_a = _mm256_min_pd(vc, lo_a);
        lo_b = _mm256_min_pd(vd, lo_b);
        hi_a = _mm256_max_pd(vc, hi_a);
        hi_b = _mm256_max_pd(vd, hi_b);
        let z = _mm256_or_pd(
            _mm256_or_pd(_mm256_mul_pd(va, zero), _mm256_mul_pd(vb, zero)),
            _mm256_or_pd(_mm256_mul_pd(vc, zero), _mm256_mul_pd(vd, zero)),
        );
        nonfinite = _mm256_or_pd(nonfinite, z);
        i += STEP;
    }
    let mut sum = horizontal_sum(sa, sb, sc, sd);
    let mut sum_of_squares = horizontal_sum(qa, qb, qc, qd);
    let mut zeros = [0.0f64; 4];
    _mm256_storeu_pd(zeros.as_mut_ptr(), nonfinite);
    let mut finite = zeros.iter().all(|z| *z == 0.0);
    let mut lo = [0.0f64; 4];
    let mut hi = [0.0f64; 4];
    _mm256_storeu_pd(lo.as_mut_ptr(), _mm256_min_pd(lo_a, lo_b));
    _mm256_storeu_pd(hi.as_mut_ptr(), _mm256_max_pd(hi_a, hi_b));
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for &v in &lo {
        if v < min {
            min = v;
        }
    }
    for &v in &hi {
        if v > max {
            max = v;
        }
    }
    for &v in &x[n..] {
        sum += v;
        sum_of_squares += v * v;
        finite &= v.is_finite();
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    super::Moments {
        sum,
        sum_of_squares,
        min,
        max,
        finite,
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA; the six slices must have the same length.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn three_phase_products(
    v: [&[f64]; 3],
    i: [&[f64]; 3],
) -> super::ThreePhaseProducts {
    let len = v[0].len();
    let n = len - len % 4;
    let (pa, pb, pc) = (v[0].as_ptr(), v[1].as_ptr(), v[2].as_ptr());
    let (qa, qb, qc) = (i[0].as_ptr(), i[1].as_ptr(), i[2].as_ptr());
    // Nine accumulators (one per product) and the six loads fill the 16 registers.
    let mut acc = [_mm256_setzero_pd(); 9];
    let mut k = 0;
    while k < n {
        let (a, b, c) = (
            _mm256_loadu_pd(pa.add(k)),
            _mm256_loadu_pd(pb.add(k)),
            _mm256_loadu_pd(pc.add(k)),
        );
        let (x, y, z) = (
            _mm256_loadu_pd(qa.add(k)),
            _mm256_loadu_pd(qb.add(k)),
            _mm256_loadu_pd(qc.add(k)),
        );
        acc[0] = _mm256_fmadd_pd(a, x, acc[0]);
        acc[1] = _mm256_fmadd_pd(b, y, acc[1]);
        acc[2] = _mm256_fmadd_pd(c, z, acc[2]);
        acc[3] = _mm256_fmadd_pd(a, b, acc[3]);
        acc[4] = _mm256_fmadd_pd(b, c, acc[4]);
        acc[5] = _mm256_fmadd_pd(c, a, acc[5]);
        acc[6] = _mm256_fmadd_pd(x, y, acc[6]);
        acc[7] = _mm256_fmadd_pd(y, z, acc[7]);
        acc[8] = _mm256_fmadd_pd(z, x, acc[8]);
        k += 4;
    }
    let zero = _mm256_setzero_pd();
    let mut out = [0.0f64; 9];
    for (o, r) in out.iter_mut().zip(acc) {
        *o = horizontal_sum(r, zero, zero, zero);
    }
    for k in n..len {
        let (a, b, c) = (v[0][k], v[1][k], v[2][k]);
        let (x, y, z) = (i[0][k], i[1][k], i[2][k]);
        for (o, p) in out.iter_mut().zip([
            a * x,
            b * y,
            c * z,
            a * b,
            b * c,
            c * a,
            x * y,
            y * z,
            z * x,
        ]) {
            *o += p;
        }
    }
    super::ThreePhaseProducts {
        vi: [out[0], out[1], out[2]],
        vv: [out[3], out[4], out[5]],
        ii: [out[6], out[7], out[8]],
    }
}
