//! The AVX2 + FMA path of [`Cascade4`](super::Cascade4): the skewed four-lane pipeline,
//! and the per-sample scalar formulation compiled with hardware FMA for short blocks.

use super::{Cascade4State, SectionCoefficients, SKEW};
use std::arch::x86_64::*;

/// # Safety
/// The CPU must support FMA.
#[target_feature(enable = "fma")]
pub(super) unsafe fn process_one_fma(
    sections: &[SectionCoefficients; 4],
    state: &mut Cascade4State,
    x: f64,
) -> f64 {
    super::process_one(sections, state, x)
}

/// # Safety
/// The CPU must support FMA.
#[target_feature(enable = "fma")]
pub(super) unsafe fn process_run_fma(
    sections: &[SectionCoefficients; 4],
    state: &mut Cascade4State,
    x: &[f64],
    out: &mut [f64],
) {
    super::process_run(sections, state, x, out)
}

/// Lane `s` of the pipeline is delayed by `SKEW·s` steps: the last lane's output for
/// sample `i` appears at step `i + DEPTH`.
const DEPTH: usize = 3 * SKEW;

/// Registers of the pipeline: coefficients and the per-lane state.
struct Pipe {
    b0: __m256d,
    b1: __m256d,
    b2: __m256d,
    na1: __m256d,
    na2: __m256d,
    x1: __m256d,
    x2: __m256d,
    y1: __m256d,
    y2: __m256d,
}

/// One vector section update: lane `s` takes its input `x` (lane 0: the new sample;
/// lane `s > 0`: lane `s − 1`'s output of `SKEW` steps ago) and returns its output.
#[inline(always)]
unsafe fn update(p: &Pipe, x: __m256d) -> __m256d {
    let t = _mm256_mul_pd(p.b1, p.x1);
    let t = _mm256_fmadd_pd(p.b2, p.x2, t);
    let t = _mm256_fmadd_pd(p.b0, x, t);
    let t = _mm256_fmadd_pd(p.na2, p.y2, t);
    _mm256_fmadd_pd(p.na1, p.y1, t)
}

/// The input vector of a step: the new sample in lane 0, lanes 0..2 of `older` (the
/// outputs of `SKEW` steps ago) in lanes 1..3.
#[inline(always)]
unsafe fn inputs(older: __m256d, sample: *const f64) -> __m256d {
    let shifted = _mm256_permute4x64_pd::<0b10_01_00_00>(older);
    _mm256_blend_pd::<0b0001>(shifted, _mm256_broadcast_sd(&*sample))
}

/// Lane 3 of `v`.
#[inline(always)]
unsafe fn last_lane(v: __m256d) -> f64 {
    _mm_cvtsd_f64(_mm_unpackhi_pd(
        _mm256_extractf128_pd::<1>(v),
        _mm256_extractf128_pd::<1>(v),
    ))
}

/// The block being filtered, as the masked steps see it.
struct Span<'a> {
    /// Step at which each lane reaches the block's first sample.
    offsets: __m256d,
    /// Step at which each lane is past the block's last sample.
    ends: __m256d,
    x: &'a [f64],
    out: *mut f64,
}

/// A step where some lanes have no sample (pipeline fill and drain): those lanes
/// compute, but keep their state.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `span.out` must have room for `span.x.len()`
/// samples.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn masked_step(p: &mut Pipe, ring: &mut [__m256d; SKEW], span: &Span, k: usize) {
    let n = span.x.len();
    let kv = _mm256_set1_pd(k as f64);
    let active = _mm256_and_pd(
        _mm256_cmp_pd::<_CMP_GE_OQ>(kv, span.offsets),
        _mm256_cmp_pd::<_CMP_LT_OQ>(kv, span.ends),
    );
    let slot = k % SKEW;
    let zero = 0.0f64;
    let sample: *const f64 = if k < n { &span.x[k] } else { &zero };
    let xv = inputs(ring[slot], sample);
    let y = update(p, xv);
    p.x2 = _mm256_blendv_pd(p.x2, p.x1, active);
    p.x1 = _mm256_blendv_pd(p.x1, xv, active);
    p.y2 = _mm256_blendv_pd(p.y2, p.y1, active);
    p.y1 = _mm256_blendv_pd(p.y1, y, active);
    ring[slot] = y;
    if k >= DEPTH && k - DEPTH < n {
        *span.out.add(k - DEPTH) = last_lane(y);
    }
}

/// Filter `x` into `out` through the skewed pipeline.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `out.len() == x.len()`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn process_block(
    lanes: &[[f64; 4]; 5],
    state: &mut Cascade4State,
    x: &[f64],
    out: &mut [f64],
) {
    let n = x.len();
    let xp = x.as_ptr();
    let op = out.as_mut_ptr();
    let mut p = Pipe {
        b0: _mm256_loadu_pd(lanes[0].as_ptr()),
        b1: _mm256_loadu_pd(lanes[1].as_ptr()),
        b2: _mm256_loadu_pd(lanes[2].as_ptr()),
        na1: _mm256_loadu_pd(lanes[3].as_ptr()),
        na2: _mm256_loadu_pd(lanes[4].as_ptr()),
        x1: _mm256_loadu_pd(state.x1.as_ptr()),
        x2: _mm256_loadu_pd(state.x2.as_ptr()),
        y1: _mm256_loadu_pd(state.y1.as_ptr()),
        y2: _mm256_loadu_pd(state.y2.as_ptr()),
    };
    // ring[k % SKEW] holds the outputs of step k − SKEW until step k replaces them.
    // Lanes read from it only where the producing lane was active, so its start value
    // does not matter.
    let mut ring = [_mm256_setzero_pd(); SKEW];
    let offsets = _mm256_setr_pd(0.0, SKEW as f64, 2.0 * SKEW as f64, 3.0 * SKEW as f64);
    let ends = _mm256_add_pd(offsets, _mm256_set1_pd(n as f64));
    let span = Span {
        offsets,
        ends,
        x,
        out: op,
    };

    let fill_end = DEPTH.min(n);
    for k in 0..fill_end {
        masked_step(&mut p, &mut ring, &span, k);
    }
    // All lanes active from DEPTH to n; run whole rounds of SKEW steps with the ring
    // in registers (DEPTH is a multiple of SKEW, so slot j is step k + j).
    let mut k = fill_end;
    if k == DEPTH {
        let mut r = ring;
        while k + SKEW <= n {
            for (j, slot) in r.iter_mut().enumerate() {
                let xv = inputs(*slot, xp.add(k + j));
                let y = update(&p, xv);
                p.x2 = p.x1;
                p.x1 = xv;
                p.y2 = p.y1;
                p.y1 = y;
                *slot = y;
                *op.add(k + j - DEPTH) = last_lane(y);
            }
            k += SKEW;
        }
        ring = r;
    }
    for k in k..n + DEPTH {
        masked_step(&mut p, &mut ring, &span, k);
    }

    _mm256_storeu_pd(state.x1.as_mut_ptr(), p.x1);
    _mm256_storeu_pd(state.x2.as_mut_ptr(), p.x2);
    _mm256_storeu_pd(state.y1.as_mut_ptr(), p.y1);
    _mm256_storeu_pd(state.y2.as_mut_ptr(), p.y2);
}
