//! A cascade of exactly four second-order sections, fast on a single stream.
//!
//! The fundamental tracker's band-pass (IEC 61000-4-30 Ed.3 5.1: frequency from the zero
//! crossings of the fundamental "after removing harmonics and interharmonics") is a
//! 2nd-order high-pass followed by a 6th-order low-pass: four biquads in series on one
//! channel. Run one sample at a time, every section waits for the one before it, so the
//! cost is set by the latency of the recursion, not by arithmetic throughput.
//!
//! [`Cascade4`] runs the four sections in the four lanes of one vector as a *skewed
//! pipeline*: at step `k`, lane `s` (section `s`) filters sample `k − SKEW·s`, its input
//! being what lane `s − 1` produced `SKEW` steps earlier. Each step is one vector section
//! update instead of four serial ones. Each section is written in direct form I with fused
//! multiply-adds, ordered so that the own-output feedback `−a1·y[n−1]` is the last
//! operation (one FMA of latency per step) and the input arrives `SKEW` steps ahead:
//!
//! ```text
//! y[n] = fma(−a1, y[n−1], fma(−a2, y[n−2], fma(b0, x[n], fma(b2, x[n−2], b1·x[n−1]))))
//! ```
//!
//! The scalar path ([`Cascade4::process`], [`Cascade4::process_block_reference`]) evaluates
//! exactly the same expression per section, and a fused multiply-add is correctly rounded
//! by definition, so the vector and scalar paths give bit-identical outputs and any cut of
//! a stream into blocks gives the same samples. The pipeline is filled and drained at the
//! ends of each block with masked steps (lanes outside their sample range keep their
//! state), so between calls the state is always the plain per-section state.
//!
//! Without hardware FMA (or with `PQE_FORCE_SCALAR` set, see [`crate::kernels::backend`])
//! the scalar path runs alone; `f64::mul_add` is then still exact, only slower.

use crate::iir::Cascade;
use crate::kernels::{backend, KernelBackend};

/// Steps between a lane producing a sample and the next lane consuming it. The input path
/// (cross-lane permute, blend, three dependent FMAs) is about 17 cycles; spread over
/// `SKEW` steps it must stay under the 4-cycle own-output recursion.
pub const SKEW: usize = 5;

/// Blocks shorter than this run on the scalar path (the pipeline's fill and drain would
/// cost more than it saves).
const MIN_PIPELINED: usize = 4 * SKEW;

/// One section's coefficients in the form the update uses: `b0, b1, b2, −a1, −a2`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SectionCoefficients {
    b0: f64,
    b1: f64,
    b2: f64,
    neg_a1: f64,
    neg_a2: f64,
}

/// Running state of the four sections (direct form I): last two inputs and outputs each,
/// lane `s` being section `s`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cascade4State {
    /// `x[n−1]` of each section.
    pub x1: [f64; 4],
    /// `x[n−2]` of each section.
    pub x2: [f64; 4],
    /// `y[n−1]` of each section.
    pub y1: [f64; 4],
    /// `y[n−2]` of each section.
    pub y2: [f64; 4],
}

/// Four biquads in series, direct form I with fused multiply-adds; see the module
/// documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Cascade4 {
    /// Coefficients as lanes: `b0`, `b1`, `b2`, `−a1`, `−a2`, each per section.
    lanes: [[f64; 4]; 5],
    sections: [SectionCoefficients; 4],
    state: Cascade4State,
}

/// One direct-form-I section update; the single formulation both paths use.
#[inline(always)]
fn section_step(c: &SectionCoefficients, x: f64, x1: f64, x2: f64, y1: f64, y2: f64) -> f64 {
    let t = c.b1 * x1;
    let t = c.b2.mul_add(x2, t);
    let t = c.b0.mul_add(x, t);
    let t = c.neg_a2.mul_add(y2, t);
    c.neg_a1.mul_add(y1, t)
}

#[inline(always)]
fn process_one(sections: &[SectionCoefficients; 4], state: &mut Cascade4State, x: f64) -> f64 {
    let mut v = x;
    for (s, c) in sections.iter().enumerate() {
        let y = section_step(c, v, state.x1[s], state.x2[s], state.y1[s], state.y2[s]);
        state.x2[s] = state.x1[s];
        state.x1[s] = v;
        state.y2[s] = state.y1[s];
        state.y1[s] = y;
        v = y;
    }
    v
}

#[inline(always)]
fn process_run(
    sections: &[SectionCoefficients; 4],
    state: &mut Cascade4State,
    x: &[f64],
    out: &mut [f64],
) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = process_one(sections, state, v);
    }
}

/// # Safety
/// The CPU must support FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn process_one_fma(
    sections: &[SectionCoefficients; 4],
    state: &mut Cascade4State,
    x: f64,
) -> f64 {
    process_one(sections, state, x)
}

/// # Safety
/// The CPU must support FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn process_run_fma(
    sections: &[SectionCoefficients; 4],
    state: &mut Cascade4State,
    x: &[f64],
    out: &mut [f64],
) {
    process_run(sections, state, x, out)
}

impl Cascade4 {
    /// The four sections of `cascade` (its coefficients; the state starts at rest), or
    /// `None` when it does not have exactly four sections.
    pub fn from_cascade(cascade: &Cascade) -> Option<Self> {
        let s = cascade.sections();
        if s.len() != 4 {
            return None;
        }
        let sections: [SectionCoefficients; 4] = std::array::from_fn(|i| {
            let c = s[i].coefficients();
            SectionCoefficients {
                b0: c.b[0],
                b1: c.b[1],
                b2: c.b[2],
                neg_a1: -c.a[0],
                neg_a2: -c.a[1],
            }
        });
        let lanes = [
            sections.map(|c| c.b0),
            sections.map(|c| c.b1),
            sections.map(|c| c.b2),
            sections.map(|c| c.neg_a1),
            sections.map(|c| c.neg_a2),
        ];
        Some(Cascade4 {
            lanes,
            sections,
            state: Cascade4State::default(),
        })
    }

    /// Clear the state, as if the filter had only ever seen zeros.
    pub fn reset(&mut self) {
        self.state = Cascade4State::default();
    }

    /// The running state.
    pub fn state(&self) -> &Cascade4State {
        &self.state
    }

    /// Replace the running state (for tests and for resuming a stream).
    pub fn set_state(&mut self, state: Cascade4State) {
        self.state = state;
    }

    /// Filter one sample.
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        match backend() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
            KernelBackend::Avx2Fma => unsafe {
                process_one_fma(&self.sections, &mut self.state, x)
            },
            _ => process_one(&self.sections, &mut self.state, x),
        }
    }

    /// Filter `x` into `out` (which must have the same length); exactly what
    /// [`process`](Self::process) on each sample in turn gives.
    pub fn process_block(&mut self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), out.len(), "input and output lengths differ");
        match backend() {
            #[cfg(target_arch = "x86_64")]
            KernelBackend::Avx2Fma => {
                if x.len() < MIN_PIPELINED {
                    // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
                    unsafe { process_run_fma(&self.sections, &mut self.state, x, out) }
                } else {
                    // SAFETY: as above; the lengths are equal (asserted).
                    unsafe { x86::process_block(&self.lanes, &mut self.state, x, out) }
                }
            }
            _ => process_run(&self.sections, &mut self.state, x, out),
        }
    }

    /// The plain scalar twin of [`process_block`](Self::process_block): one sample at a
    /// time through the four sections, the same formulation as the pipeline.
    pub fn process_block_reference(&mut self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), out.len(), "input and output lengths differ");
        process_run(&self.sections, &mut self.state, x, out);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Cascade4State, SKEW};
    use std::arch::x86_64::*;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iir::Response;

    fn band_pass(f0: f64, fs: f64) -> Cascade4 {
        let mut c = Cascade::butterworth(Response::HighPass, 2, f0 / 5.0, fs).unwrap();
        c.append_butterworth(Response::LowPass, 6, 1.4 * f0)
            .unwrap();
        Cascade4::from_cascade(&c).unwrap()
    }

    #[test]
    fn pipeline_matches_the_scalar_twin_bit_for_bit() {
        let mut f = band_pass(50.0, 10_240.0);
        let mut g = f.clone();
        let x: Vec<f64> = (0..5_000)
            .map(|i| 325.0 * (0.0307 * i as f64).sin() + 3.0 * (0.9 * i as f64).cos() + 7.0)
            .collect();
        let mut start = 0;
        for len in [0, 1, 3, 14, 15, 16, 19, 20, 21, 22, 40, 401, 1023, 3000] {
            let end = (start + len).min(x.len());
            let mut a = vec![0.0; end - start];
            let mut b = a.clone();
            f.process_block(&x[start..end], &mut a);
            g.process_block_reference(&x[start..end], &mut b);
            assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
            assert_eq!(f.state(), g.state());
            start = end;
        }
    }

    #[test]
    fn the_filter_matches_the_transposed_form_to_rounding() {
        let fs = 10_240.0;
        let mut c = Cascade::butterworth(Response::HighPass, 2, 10.0, fs).unwrap();
        c.append_butterworth(Response::LowPass, 6, 70.0).unwrap();
        let mut f = Cascade4::from_cascade(&c).unwrap();
        let x: Vec<f64> = (0..20_000)
            .map(|i| 325.0 * (2.0 * std::f64::consts::PI * 50.0 * i as f64 / fs).sin() + 5.0)
            .collect();
        let mut y = vec![0.0; x.len()];
        f.process_block(&x, &mut y);
        let worst = x
            .iter()
            .zip(&y)
            .map(|(&v, &w)| (c.process(v) - w).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-9, "{worst}");
    }
}
