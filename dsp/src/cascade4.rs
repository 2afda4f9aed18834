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

    /// Filter one sample (the per-sample interface: one dispatch per call; filter whole
    /// blocks with [`process_block`](Self::process_block) where the samples are at hand).
    #[inline]
    pub fn process(&mut self, x: f64) -> f64 {
        match backend() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the backend is Avx2Fma only when the CPU reports AVX2 and FMA.
            KernelBackend::Avx2Fma => unsafe {
                x86::process_one_fma(&self.sections, &mut self.state, x)
            },
            _ => process_one(&self.sections, &mut self.state, x),
        }
    }

    /// Filter `x` into `out` (which must have the same length); exactly what
    /// [`process`](Self::process) on each sample in turn gives. Runs on the process's
    /// [`backend`](crate::kernels::backend), dispatched once per block.
    pub fn process_block(&mut self, x: &[f64], out: &mut [f64]) {
        self.process_block_on(backend(), x, out);
    }

    /// [`process_block`](Self::process_block) on the given backend (when the CPU cannot
    /// run it, on [`KernelBackend::Scalar`]): the same bits on every backend, which the
    /// tests and the benches compare.
    pub fn process_block_on(&mut self, backend: KernelBackend, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), out.len(), "input and output lengths differ");
        match backend.or_scalar() {
            #[cfg(target_arch = "x86_64")]
            KernelBackend::Avx2Fma => {
                if x.len() < MIN_PIPELINED {
                    // SAFETY: `or_scalar` keeps Avx2Fma only when the CPU reports AVX2 and
                    // FMA.
                    unsafe { x86::process_run_fma(&self.sections, &mut self.state, x, out) }
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
mod x86;

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
            // The CPU's fast path whatever PQE_FORCE_SCALAR says, against the scalar one.
            f.process_block_on(crate::kernels::detected(), &x[start..end], &mut a);
            g.process_block_on(KernelBackend::Scalar, &x[start..end], &mut b);
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
