//! Synchronised resampling of one measurement window, so that a plain FFT of the result
//! puts harmonic `n` exactly on bin `cycles·n` whatever the actual fundamental frequency.
//!
//! IEC 61000-4-7 Ed.2 4.4 and 5.2 ask for a rectangular window of exactly 10 (50 Hz) or 12
//! (60 Hz) cycles of the measured fundamental; when the sampling clock is not locked to the
//! supply the window holds a non-integer number of samples and an FFT of the raw samples
//! leaks. [`SyncResampler`] evaluates the band-limited reconstruction of the raw samples at
//! `cycles · points_per_cycle` equally spaced instants covering the window, so that the
//! resampled record holds an exact integer number of cycles.
//!
//! # The interpolator
//!
//! Each output point is `y(t) = Σ_n x[n]·h(t − n)` over the `2·HALF_TAPS` raw samples nearest
//! to `t`, with the Kaiser-windowed sinc kernel
//! `h(τ) = sin(2π·fc·τ)/(π·τ) · w(τ/HALF_TAPS)`, `w(u) = I0(β·√(1−u²))/I0(β)`.
//! The cutoff is `fc = ½` (of the input rate) when the output rate is at least the input
//! rate, and `fc = ½·r` (`r` = output rate / input rate) when it is lower, so the kernel is
//! also the anti-alias filter. With 64 taps and β = 14 the stop band lies below about
//! −135 dB and the pass band is flat within 2·10⁻⁷ (measured) up to
//! `fc − HALF_TRANSITION`; for fc = ½ that is 0.425 of the input rate, i.e. order 63 of
//! 50.8 Hz (and order 64 of 60.8 Hz) at 10.24 kHz.
//!
//! Two evaluations of this kernel, chosen per call:
//!
//! * fast path (output rate ≥ input rate, the usual case: 10.24 kHz resampled to 256 points
//!   per cycle): a polyphase table of the kernel at 256 fractional phases per sample,
//!   interpolated between phases by 4-point Lagrange (error below 10⁻¹⁰ of the kernel), as
//!   four contiguous dot products per output point;
//! * general path (output rate below input rate, cutoff depends on the rate): the kernel
//!   evaluated per tap, the window from a 32 768-step table with linear interpolation
//!   (error below 2·10⁻⁹) and the sine by rotation from one `sin_cos` per output point.
//!
//! Both keep several accumulators and allocate nothing. [`resample_reference`] is the slow
//! twin evaluating the same kernel directly (Bessel series and `sin` per tap), used by the
//! tests; both paths agree with it to about 10⁻⁹ of full scale.
//!
//! # Lower sample rates
//!
//! Below about 150 samples per cycle the pass band no longer reaches order 64; the
//! resampled window stays exact for the orders up to
//! [`SyncResampler::max_accurate_order`] (order 7 at 20 samples per cycle), which the
//! caller should use as its reporting limit. When the input has far more samples per cycle
//! than the output (with 256 points per cycle: beyond about 850, i.e. 42 kHz at 50 Hz), the
//! kernel could no longer keep aliases out of orders 0–64: [`SyncResampler::resample`]
//! refuses such rates and [`recommended_points_per_cycle`] says what to use instead.

use crate::kernels::KernelBackend;
use pqe_core::{Error, Result};

#[cfg(target_arch = "x86_64")]
mod x86;
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Raw samples on each side of an output instant that the kernel reads (half the taps).
pub const HALF_TAPS: usize = 32;

/// Kaiser window shape parameter (≈ 136 dB side-lobe attenuation for the 64-tap kernel).
pub const KAISER_BETA: f64 = 14.0;

/// Half the transition band of the kernel, in cycles per input sample: the kernel is flat
/// below `fc − HALF_TRANSITION` and blocks above `fc + HALF_TRANSITION`. Kaiser's estimate
/// for β = 14 and 64 taps is 0.0695; this value keeps a margin.
pub const HALF_TRANSITION: f64 = 0.075;

/// Highest spectral content, in multiples of the fundamental, that the resampled window
/// must keep free of aliases: the interharmonic group of order 63 ends at order 64.
pub const GUARDED_ORDERS: f64 = 64.0;

/// Points per cycle used when the caller has no reason to choose otherwise: enough for
/// harmonic order 63 and its interharmonic group (the FFT covers 128 orders).
pub const DEFAULT_POINTS_PER_CYCLE: usize = 256;

/// Half the taps of the short kernel used when the guarded band leaves a wide transition
/// band (see [`SHORT_MAX_RATIO`]).
pub const SHORT_HALF_TAPS: usize = 12;

/// Kaiser shape parameter of the short kernel.
pub const SHORT_KAISER_BETA: f64 = 12.0;

/// Half the transition band of the short kernel, in cycles per input sample (Kaiser's
/// estimate for β = 12 and 24 taps is about 0.157).
///
/// 24 taps rather than 32: at 10.24 kHz and 50 Hz the transition band may be 0.36 wide
/// (see [`SHORT_MAX_RATIO`]) and this kernel's is 0.34, so its pass band still reaches
/// order 64 up to 52.8 Hz (above, the 64-tap kernel serves). Its pass band is flat within
/// 3e-6 and the images of a 50.8 Hz supply stay below 1e-6 of the fundamental (tests
/// below), for a quarter less arithmetic per point than 32 taps.
pub const SHORT_HALF_TRANSITION: f64 = 0.17;

/// The short kernel serves output/input rate ratios from 1 up to this one (when the
/// guarded orders also fit its pass band, which holds for 256 or more points per cycle).
///
/// Why a short kernel suffices there: with output rate `r ≥ 1` times the input rate, the
/// kernel must keep the band `[0, b]` (`b` = order 64 in cycles per input sample) flat, and
/// suppress the images of that band, which lie at `1 − b` and beyond; an image at `g`
/// lands, after output sampling, at `g` or at `r − g ≥ b`, outside the guarded band
/// otherwise. The transition band may thus run from `b` to `1 − b`: at 10.24 kHz and 50 Hz
/// (`r` ≈ 1.25, `b` ≈ 0.32) that is 0.36 wide, against 0.15 for the 64-tap kernel.
pub const SHORT_MAX_RATIO: f64 = 1.5;

const TABLE_STEPS: usize = 32_768;

/// Fractional phases of the polyphase table of the fast path.
const PHASES: usize = 256;

/// Resampler of one 10/12-cycle (or any whole-cycle) window to `cycles · points_per_cycle`
/// points. It holds no buffers; one instance serves every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResampler {
    cycles: usize,
    points_per_cycle: usize,
}

impl SyncResampler {
    /// A resampler writing `cycles · points_per_cycle` points per window. Zero for either
    /// makes every [`resample`](Self::resample) call an error.
    pub fn new(cycles: usize, points_per_cycle: usize) -> SyncResampler {
        SyncResampler {
            cycles,
            points_per_cycle,
        }
    }

    /// Raw samples of margin the caller must provide on each side of the window: `x` must
    /// hold indices `start − margin()` to `start + length + margin()`.
    pub fn margin() -> usize {
        HALF_TAPS
    }

    /// Cycles per window.
    pub fn cycles(&self) -> usize {
        self.cycles
    }

    /// Output points per cycle.
    pub fn points_per_cycle(&self) -> usize {
        self.points_per_cycle
    }

    /// Output points per window, `cycles · points_per_cycle` (the FFT length).
    pub fn output_len(&self) -> usize {
        self.cycles * self.points_per_cycle
    }

    /// The highest harmonic order (≤ 63) whose subgroup and interharmonic centred subgroup
    /// the resampled window reproduces to the full accuracy at `samples_per_cycle = fs/f1`.
    /// Zero when even the fundamental is out of reach.
    pub fn max_accurate_order(&self, samples_per_cycle: f64) -> usize {
        if !(samples_per_cycle.is_finite() && samples_per_cycle > 0.0) {
            return 0;
        }
        let ratio = self.points_per_cycle as f64 / samples_per_cycle;
        let edge_orders = (cutoff(ratio) - HALF_TRANSITION) * samples_per_cycle;
        // Order n needs the band up to n + 1 (its interharmonic group), and the FFT holds
        // points_per_cycle/2 orders.
        let by_band = (edge_orders - 1.0).floor().max(0.0) as usize;
        by_band.min(self.points_per_cycle / 2).min(63)
    }

    /// Resample the window `[start, start + length)` of `x` (fractional sample indices) to
    /// [`output_len`](Self::output_len) equally spaced points written to `out`: point `m`
    /// is the band-limited value of the signal at index `start + m·length/output_len`.
    ///
    /// Errors (never panics): `out` of the wrong length, a non-finite or non-positive
    /// `length`, a non-finite `start`, less than [`margin`](Self::margin) samples of
    /// margin on either side ([`Error::Config`]), an input rate too high for
    /// `points_per_cycle` ([`Error::Unsupported`]), and a non-finite sample among those the
    /// window reads ([`Error::Channel`] naming its index in `x`; `out` then holds garbage).
    pub fn resample(&self, x: &[f64], start: f64, length: f64, out: &mut [f64]) -> Result<()> {
        self.resample_on(crate::kernels::backend(), x, start, length, out)
    }

    /// [`resample`](Self::resample) on the given backend (when the CPU cannot run it, on
    /// [`KernelBackend::Scalar`]); the process's [`backend`](crate::kernels::backend) is what
    /// [`resample`](Self::resample) uses. The backends differ only by the rounding of fused
    /// multiply-adds (tested within 1e-12 of full scale); benches compare their speed.
    pub fn resample_on(
        &self,
        backend: KernelBackend,
        x: &[f64],
        start: f64,
        length: f64,
        out: &mut [f64],
    ) -> Result<()> {
        let backend = backend.or_scalar();
        let n_out = self.output_len();
        let ratio = check_window(x, start, length, n_out, out.len())?;
        self.check_rate(ratio)?;
        if uses_short_kernel(ratio, self.points_per_cycle) {
            resample_polyphase(backend, Kernel::Short, x, start, length, out);
        } else if ratio >= 1.0 {
            resample_polyphase(backend, Kernel::Long, x, start, length, out);
        } else {
            resample_direct(x, start, length, cutoff(ratio), out);
        }
        check_output(x, start, length, out)
    }

    /// Resample the same window `[start, start + length)` of several channels at once: for
    /// each `c`, `outs[c]` receives what [`resample`](Self::resample) would write for
    /// `xs[c]`, bit for bit (the same kernel, the same weights, the same summation order).
    ///
    /// Every channel of an IEC 61000-4-7 interval (5.2: one synchronised window per
    /// interval, the same for all channels) is resampled over the same window, so the tap
    /// weights of an output point are the same for all of them: this call forms them once
    /// per output point, in registers, and applies them to every channel while they are at
    /// hand, instead of storing and reloading a table of `output_len · taps` weights.
    ///
    /// Errors (never panics, nothing reliable written): `xs` and `outs` of different
    /// lengths, and for any channel what [`resample`](Self::resample) refuses before
    /// reading samples ([`Error::Config`], [`Error::Unsupported`]). A non-finite sample is
    /// *not* an error here: the channel's output then holds non-finite points, which
    /// [`check_resampled`] reports exactly as [`resample`](Self::resample) would.
    pub fn resample_many(
        &self,
        xs: &[&[f64]],
        start: f64,
        length: f64,
        outs: &mut [&mut [f64]],
    ) -> Result<()> {
        self.resample_many_on(crate::kernels::backend(), xs, start, length, outs)
    }

    /// [`resample_many`](Self::resample_many) on the given backend, as
    /// [`resample_on`](Self::resample_on).
    pub fn resample_many_on(
        &self,
        backend: KernelBackend,
        xs: &[&[f64]],
        start: f64,
        length: f64,
        outs: &mut [&mut [f64]],
    ) -> Result<()> {
        let backend = backend.or_scalar();
        if xs.len() != outs.len() {
            return Err(Error::Config(format!(
                "{} input channels but {} outputs",
                xs.len(),
                outs.len()
            )));
        }
        let n_out = self.output_len();
        let mut ratio = n_out as f64 / length;
        for (x, out) in xs.iter().zip(outs.iter()) {
            ratio = check_window(x, start, length, n_out, out.len())?;
        }
        if n_out == 0 || !(length.is_finite() && length > 0.0) {
            // Only reached without channels: the window is still checked.
            check_window(&[], start, length, n_out, n_out)?;
        }
        self.check_rate(ratio)?;
        if uses_short_kernel(ratio, self.points_per_cycle) {
            resample_polyphase_many(backend, Kernel::Short, xs, start, length, outs);
        } else if ratio >= 1.0 {
            resample_polyphase_many(backend, Kernel::Long, xs, start, length, outs);
        } else {
            for (x, out) in xs.iter().zip(outs.iter_mut()) {
                resample_direct(x, start, length, cutoff(ratio), out);
            }
        }
        Ok(())
    }

    /// Whether the input rate (`ratio` = output points per input sample) is one whose aliases
    /// the kernel keeps out of the guarded orders.
    fn check_rate(&self, ratio: f64) -> Result<()> {
        if ratio >= 1.0 {
            return Ok(());
        }
        let guard = GUARDED_ORDERS / self.points_per_cycle as f64;
        if (0.5 - guard) * ratio >= HALF_TRANSITION {
            Ok(())
        } else {
            let samples_per_cycle = self.points_per_cycle as f64 / ratio;
            Err(Error::Unsupported(format!(
                "resampling {samples_per_cycle:.1} samples per cycle down to {} points per \
                 cycle would alias into harmonic orders up to 64; use at least {} points per \
                 cycle",
                self.points_per_cycle,
                recommended_points_per_cycle(samples_per_cycle)
            )))
        }
    }
}

/// Points per cycle that keep the resampled window exact to order 63 for input at
/// `samples_per_cycle = fs/f1` (up to 10 % above nominal frequency): the default 256, or a
/// larger multiple of 64 when the input rate needs it.
pub fn recommended_points_per_cycle(samples_per_cycle: f64) -> usize {
    if !(samples_per_cycle.is_finite() && samples_per_cycle > 0.0) {
        return DEFAULT_POINTS_PER_CYCLE;
    }
    let mut ppc = DEFAULT_POINTS_PER_CYCLE;
    // Allow the fundamental to sit 10 % below nominal (more input samples per cycle).
    let worst = samples_per_cycle * 1.1;
    while ppc < worst as usize && ppc < 1 << 20 {
        ppc += 64;
    }
    ppc
}

/// The two cutoff-½ kernels of the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// 64 taps, β = 14: [`HALF_TAPS`], [`KAISER_BETA`], [`HALF_TRANSITION`].
    Long,
    /// 24 taps, β = 12: [`SHORT_HALF_TAPS`], [`SHORT_KAISER_BETA`],
    /// [`SHORT_HALF_TRANSITION`].
    Short,
}

impl Kernel {
    fn half_taps(self) -> usize {
        match self {
            Kernel::Long => HALF_TAPS,
            Kernel::Short => SHORT_HALF_TAPS,
        }
    }

    fn beta(self) -> f64 {
        match self {
            Kernel::Long => KAISER_BETA,
            Kernel::Short => SHORT_KAISER_BETA,
        }
    }
}

/// Whether the short kernel serves `ratio` output points per input sample at
/// `points_per_cycle`: output rate at least the input rate, at most [`SHORT_MAX_RATIO`]
/// times it, and orders up to [`GUARDED_ORDERS`] inside the short kernel's pass band.
fn uses_short_kernel(ratio: f64, points_per_cycle: usize) -> bool {
    let band = GUARDED_ORDERS * ratio / points_per_cycle as f64;
    (1.0..=SHORT_MAX_RATIO).contains(&ratio) && band <= 0.5 - SHORT_HALF_TRANSITION
}

/// The fast path for output rates at or above the input rate (cutoff ½): the tap weights
/// at the output instant's fractional phase are the 4-point Lagrange interpolation
/// `w = Σ_r l_r(α)·T[p+r]` of the polyphase table's four nearest phases `p−1 ..= p+2`
/// (four multiply-adds per tap), then applied to the samples (one per tap).
///
/// The weights depend only on the window (`start`, `length`, output length), not on the
/// samples, and every channel of an interval is resampled over the same window: they are
/// kept per thread ([`WeightCache`]) for the window last seen, so the second and further
/// channels of an interval cost one multiply-add per tap. A hit gives bit-for-bit the
/// result of a miss (a miss fills the cache, then applies it the same way).
///
/// Runtime dispatch on `backend` (one match per window): on x86-64 CPUs with AVX2 and FMA,
/// explicit 4-wide fused multiply-adds on two accumulators (`x86.rs`); elsewhere the
/// portable loops ([`fill_portable`], [`apply_portable`], four accumulators, which the
/// compiler may vectorise). The two differ only by the rounding of the fused operations
/// (about 1e-16 relative; tested). `backend` must be one the CPU runs (`or_scalar`).
fn resample_polyphase(
    backend: KernelBackend,
    kernel: Kernel,
    x: &[f64],
    start: f64,
    length: f64,
    out: &mut [f64],
) {
    let key = (
        backend,
        kernel,
        start.to_bits(),
        length.to_bits(),
        out.len(),
    );
    WEIGHTS.with_borrow_mut(|cache| {
        if cache.key != Some(key) {
            cache.key = None;
            fill(backend, kernel, start, length, out.len(), cache);
            cache.key = Some(key);
        }
        apply(backend, kernel, x, cache, out);
    });
}

/// The fast path of [`SyncResampler::resample_many`]: per output point, the weights of
/// [`resample_polyphase`] formed in registers (no cache) and applied to every channel, with
/// the same operations in the same order, so each channel's result equals the
/// single-channel one bit for bit.
fn resample_polyphase_many(
    backend: KernelBackend,
    kernel: Kernel,
    xs: &[&[f64]],
    start: f64,
    length: f64,
    outs: &mut [&mut [f64]],
) {
    let Some(n_out) = outs.first().map(|o| o.len()) else {
        return;
    };
    let step = length / n_out as f64;
    match (backend, kernel) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller's `or_scalar` kept Avx2Fma only on a CPU with AVX2 and FMA; it
        // checked every
        // channel's window (`check_window`) and output length.
        (KernelBackend::Avx2Fma, Kernel::Long) => unsafe {
            x86::many_avx2::<{ 2 * HALF_TAPS }>(xs, start, step, outs)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        (KernelBackend::Avx2Fma, Kernel::Short) => unsafe {
            x86::many_avx2::<{ 2 * SHORT_HALF_TAPS }>(xs, start, step, outs)
        },
        (_, Kernel::Long) => many_portable::<{ 2 * HALF_TAPS }>(xs, start, step, outs),
        (_, Kernel::Short) => many_portable::<{ 2 * SHORT_HALF_TAPS }>(xs, start, step, outs),
    }
}

/// [`resample_polyphase_many`] on the portable path (for tests of the dispatch).
#[cfg(test)]
fn polyphase_many_portable_for(
    kernel: Kernel,
    xs: &[&[f64]],
    start: f64,
    length: f64,
    outs: &mut [&mut [f64]],
) {
    let step = length / outs[0].len() as f64;
    match kernel {
        Kernel::Long => many_portable::<{ 2 * HALF_TAPS }>(xs, start, step, outs),
        Kernel::Short => many_portable::<{ 2 * SHORT_HALF_TAPS }>(xs, start, step, outs),
    }
}

/// The portable batched path: [`fill_portable`]'s weights of one point on the stack, then
/// [`apply_portable`]'s sum for each channel.
fn many_portable<const TAPS: usize>(xs: &[&[f64]], start: f64, step: f64, outs: &mut [&mut [f64]]) {
    let table = polyphase_table(kernel_of(TAPS));
    let n_out = outs.first().map_or(0, |o| o.len());
    let mut w = [0.0f64; TAPS];
    for m in 0..n_out {
        let (first, p, l) = locate(start, step, m, TAPS / 2);
        let rows = &table[p * TAPS..(p + 4) * TAPS];
        let (r0, rest) = rows.split_at(TAPS);
        let (r1, rest) = rest.split_at(TAPS);
        let (r2, r3) = rest.split_at(TAPS);
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = l[0] * r0[i] + l[1] * r1[i] + l[2] * r2[i] + l[3] * r3[i];
        }
        for (x, out) in xs.iter().zip(outs.iter_mut()) {
            let xs = &x[first..first + TAPS];
            let mut acc = [0.0f64; 4];
            for (cx, cw) in xs.chunks_exact(4).zip(w.chunks_exact(4)) {
                for (k, a) in acc.iter_mut().enumerate() {
                    *a += cw[k] * cx[k];
                }
            }
            out[m] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
    }
}

/// The tap weights of the last window resampled on this thread.
#[derive(Debug, Default)]
struct WeightCache {
    /// Backend, kernel, `start` and `length` bits, output length; `None` while being
    /// filled.
    key: Option<(KernelBackend, Kernel, u64, u64, usize)>,
    /// First raw sample read by each output point.
    firsts: Vec<usize>,
    /// `taps` weights per output point.
    weights: Vec<f64>,
}

thread_local! {
    static WEIGHTS: std::cell::RefCell<WeightCache> = std::cell::RefCell::new(WeightCache::default());
}

/// Fill `cache` with the weights of the window for `kernel`.
fn fill(
    backend: KernelBackend,
    kernel: Kernel,
    start: f64,
    length: f64,
    n_out: usize,
    cache: &mut WeightCache,
) {
    let taps = 2 * kernel.half_taps();
    cache.firsts.resize(n_out, 0);
    cache.weights.resize(n_out * taps, 0.0);
    let step = length / n_out as f64;
    match (backend, kernel) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller's `or_scalar` kept Avx2Fma only on a CPU with AVX2 and FMA.
        (KernelBackend::Avx2Fma, Kernel::Long) => unsafe {
            x86::fill_avx2::<{ 2 * HALF_TAPS }>(start, step, cache)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        (KernelBackend::Avx2Fma, Kernel::Short) => unsafe {
            x86::fill_avx2::<{ 2 * SHORT_HALF_TAPS }>(start, step, cache)
        },
        (_, Kernel::Long) => fill_portable::<{ 2 * HALF_TAPS }>(start, step, cache),
        (_, Kernel::Short) => fill_portable::<{ 2 * SHORT_HALF_TAPS }>(start, step, cache),
    }
}

/// Apply the weights in `cache` to `x`.
fn apply(backend: KernelBackend, kernel: Kernel, x: &[f64], cache: &WeightCache, out: &mut [f64]) {
    match (backend, kernel) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller's `or_scalar` kept Avx2Fma only on a CPU with AVX2 and FMA.
        (KernelBackend::Avx2Fma, Kernel::Long) => unsafe {
            x86::apply_avx2::<{ 2 * HALF_TAPS }>(x, cache, out)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        (KernelBackend::Avx2Fma, Kernel::Short) => unsafe {
            x86::apply_avx2::<{ 2 * SHORT_HALF_TAPS }>(x, cache, out)
        },
        (_, Kernel::Long) => apply_portable::<{ 2 * HALF_TAPS }>(x, cache, out),
        (_, Kernel::Short) => apply_portable::<{ 2 * SHORT_HALF_TAPS }>(x, cache, out),
    }
}

/// The portable fast path for `kernel`, without the per-thread cache (for tests).
#[cfg(test)]
fn polyphase_portable_for(kernel: Kernel, x: &[f64], start: f64, length: f64, out: &mut [f64]) {
    let mut cache = WeightCache::default();
    fill(
        KernelBackend::Scalar,
        kernel,
        start,
        length,
        out.len(),
        &mut cache,
    );
    apply(KernelBackend::Scalar, kernel, x, &cache, out);
}

/// Where output point `m` reads: the first raw sample, the first table row and the four
/// Lagrange coefficients of its fractional phase.
#[inline(always)]
fn locate(start: f64, step: f64, m: usize, half: usize) -> (usize, usize, [f64; 4]) {
    let t = start + m as f64 * step;
    let i0 = t.floor();
    let pos = (t - i0) * PHASES as f64;
    // `pos` lies in [0, PHASES] and `i0` at or above `half − 1` (the caller checked the
    // window's margins): signed conversions, one instruction each where the unsigned ones
    // need several.
    let p = (pos as i64).min(PHASES as i64 - 1);
    let a = pos - p as f64;
    let (am1, a1, a2) = (a + 1.0, a - 1.0, a - 2.0);
    const SIXTH: f64 = 1.0 / 6.0;
    let l = [
        -a * a1 * a2 * SIXTH,
        am1 * a1 * a2 * 0.5,
        -am1 * a * a2 * 0.5,
        am1 * a * a1 * SIXTH,
    ];
    // Row r of the table holds phase (r − 1)/PHASES: rows p .. p+3 are phases p−1 .. p+2.
    (i0 as i64 as usize + 1 - half, p as usize, l)
}

fn kernel_of(taps: usize) -> Kernel {
    if taps == 2 * HALF_TAPS {
        Kernel::Long
    } else {
        Kernel::Short
    }
}

/// The weights of every output point, portable.
fn fill_portable<const TAPS: usize>(start: f64, step: f64, cache: &mut WeightCache) {
    let table = polyphase_table(kernel_of(TAPS));
    for (m, (first, w)) in cache
        .firsts
        .iter_mut()
        .zip(cache.weights.chunks_exact_mut(TAPS))
        .enumerate()
    {
        let (f, p, l) = locate(start, step, m, TAPS / 2);
        *first = f;
        let rows = &table[p * TAPS..(p + 4) * TAPS];
        let (r0, rest) = rows.split_at(TAPS);
        let (r1, rest) = rest.split_at(TAPS);
        let (r2, r3) = rest.split_at(TAPS);
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = l[0] * r0[i] + l[1] * r1[i] + l[2] * r2[i] + l[3] * r3[i];
        }
    }
}

/// The weights applied to the samples, portable, on four accumulators.
fn apply_portable<const TAPS: usize>(x: &[f64], cache: &WeightCache, out: &mut [f64]) {
    for ((y, &first), w) in out
        .iter_mut()
        .zip(&cache.firsts)
        .zip(cache.weights.chunks_exact(TAPS))
    {
        let xs = &x[first..first + TAPS];
        let mut acc = [0.0f64; 4];
        for (cx, cw) in xs.chunks_exact(4).zip(w.chunks_exact(4)) {
            for (k, a) in acc.iter_mut().enumerate() {
                *a += cw[k] * cx[k];
            }
        }
        *y = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

/// The general path, for any cutoff `fc`: the kernel evaluated at each tap, the window from
/// its table and the sine by rotation from one `sin_cos` per output point.
fn resample_direct(x: &[f64], start: f64, length: f64, fc: f64, out: &mut [f64]) {
    let omega = 2.0 * PI * fc;
    let (rot_sin, rot_cos) = omega.sin_cos();
    let table = window_table();
    let step = length / out.len() as f64;
    let mut weights = [0.0f64; 2 * HALF_TAPS];
    for (m, y) in out.iter_mut().enumerate() {
        let t = start + m as f64 * step;
        let i0 = t.floor();
        let phi = t - i0;
        let base = i0 as usize + 1 - HALF_TAPS;
        // τ_j = t − (base + j) = phi + HALF_TAPS − 1 − j, decreasing by one per tap.
        let tau0 = phi + (HALF_TAPS - 1) as f64;
        let (mut s, mut c) = (omega * tau0).sin_cos();
        for (j, w) in weights.iter_mut().enumerate() {
            let tau = tau0 - j as f64;
            let sinc = if tau == 0.0 { 2.0 * fc } else { s / (PI * tau) };
            *w = sinc * window_lookup(table, tau.abs());
            // Rotate the phase by −ω for the next tap.
            let s_next = s * rot_cos - c * rot_sin;
            c = c * rot_cos + s * rot_sin;
            s = s_next;
        }
        *y = dot(&weights, &x[base..base + 2 * HALF_TAPS]);
    }
}

/// Kernel cutoff in cycles per input sample for `ratio` output points per input sample.
fn cutoff(ratio: f64) -> f64 {
    0.5 * ratio.min(1.0)
}

/// Validate the call and return the output/input rate ratio.
fn check_window(x: &[f64], start: f64, length: f64, n_out: usize, out_len: usize) -> Result<f64> {
    if n_out == 0 {
        return Err(Error::Config(
            "resampler built with zero cycles or zero points per cycle".into(),
        ));
    }
    if out_len != n_out {
        return Err(Error::Config(format!(
            "resampler writes {n_out} points but the output holds {out_len}"
        )));
    }
    if !(start.is_finite() && length.is_finite() && length > 0.0) {
        return Err(Error::Config(format!(
            "window start {start} and length {length} must be finite, length positive"
        )));
    }
    let margin = HALF_TAPS as f64;
    let last = start + length * (n_out - 1) as f64 / n_out as f64;
    if start < margin - 1.0 || last.floor() + margin > x.len() as f64 - 1.0 {
        return Err(Error::Config(format!(
            "window [{start}, {}) needs {HALF_TAPS} samples of margin each side inside the \
             {} samples given",
            start + length,
            x.len()
        )));
    }
    Ok(n_out as f64 / length)
}

/// After [`SyncResampler::resample_many`]: the error [`SyncResampler::resample`] would have
/// returned for channel `x` resampled over `[start, start + length)` into `out` — a
/// non-finite input sample that reached the output ([`Error::Channel`] naming its index in
/// `x`) or an overflow — or `Ok` when every point of `out` is finite.
pub fn check_resampled(x: &[f64], start: f64, length: f64, out: &[f64]) -> Result<()> {
    check_output(x, start, length, out)
}

/// After resampling: report a non-finite input sample that reached the output.
fn check_output(x: &[f64], start: f64, length: f64, out: &[f64]) -> Result<()> {
    if crate::kernels::all_finite(out) {
        return Ok(());
    }
    let lo = (start.floor() as usize + 1).saturating_sub(HALF_TAPS);
    let hi = ((start + length).floor() as usize + HALF_TAPS + 1).min(x.len());
    let message = match x[lo..hi].iter().position(|v| !v.is_finite()) {
        Some(i) => format!(
            "non-finite sample {} at index {} of the window input",
            x[lo + i],
            lo + i
        ),
        None => "resampled window overflowed to a non-finite value".to_string(),
    };
    Err(Error::channel("resampler input", message))
}

/// Dot product on four independent accumulators (vectorises; fixed summation order).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    for (ca, cb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += ca[k] * cb[k];
        }
    }
    let mut tail = 0.0;
    let done = a.len() / 4 * 4;
    for (p, q) in a[done..].iter().zip(&b[done..]) {
        tail += p * q;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The Kaiser window `w(u)` sampled at `u = i/TABLE_STEPS`, `i = 0..=TABLE_STEPS`, plus a
/// zero guard entry.
fn window_table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<f64> = (0..=TABLE_STEPS)
            .map(|i| kaiser(i as f64 / TABLE_STEPS as f64))
            .collect();
        t.push(0.0);
        t
    })
}

/// The cutoff-½ `kernel` at the fractional phases `q/PHASES`, `q = −1 ..= PHASES + 2`
/// (row `q + 1`): each row holds the weights of taps `j = 0 .. 2·half` for
/// `τ_j = q/PHASES + half − 1 − j`, computed exactly (Bessel series). 260 × 64 values
/// (133 kB) for the long kernel, half that for the short one, built once per process.
fn polyphase_table(kernel: Kernel) -> &'static [f64] {
    static LONG: OnceLock<Vec<f64>> = OnceLock::new();
    static SHORT: OnceLock<Vec<f64>> = OnceLock::new();
    let cell = match kernel {
        Kernel::Long => &LONG,
        Kernel::Short => &SHORT,
    };
    cell.get_or_init(|| {
        let half = kernel.half_taps();
        let taps = 2 * half;
        let mut t = Vec::with_capacity((PHASES + 4) * taps);
        for row in 0..PHASES + 4 {
            let phi = (row as f64 - 1.0) / PHASES as f64;
            for j in 0..taps {
                let tau = phi + (half - 1) as f64 - j as f64;
                t.push(kernel_value(kernel, 0.5, tau));
            }
        }
        t
    })
}

/// The `kernel` with cutoff `fc` at `τ`, exactly: `sin(2π·fc·τ)/(π·τ) · w(τ/half)`.
fn kernel_value(kernel: Kernel, fc: f64, tau: f64) -> f64 {
    let sinc = if tau == 0.0 {
        2.0 * fc
    } else {
        (2.0 * PI * fc * tau).sin() / (PI * tau)
    };
    sinc * kaiser_with(tau / kernel.half_taps() as f64, kernel.beta())
}

/// `w(|τ|/HALF_TAPS)` by linear interpolation in the table; zero outside the window.
#[inline]
fn window_lookup(table: &[f64], abs_tau: f64) -> f64 {
    let p = abs_tau * (TABLE_STEPS as f64 / HALF_TAPS as f64);
    if p >= TABLE_STEPS as f64 {
        return if p == TABLE_STEPS as f64 {
            table[TABLE_STEPS]
        } else {
            0.0
        };
    }
    let i = p as usize;
    let frac = p - i as f64;
    table[i] + frac * (table[i + 1] - table[i])
}

/// The Kaiser window `I0(β·√(1−u²))/I0(β)` for `|u| ≤ 1`, zero outside.
pub fn kaiser(u: f64) -> f64 {
    kaiser_with(u, KAISER_BETA)
}

/// The Kaiser window of shape `beta`, `I0(β·√(1−u²))/I0(β)` for `|u| ≤ 1`, zero outside.
pub fn kaiser_with(u: f64, beta: f64) -> f64 {
    if u.abs() > 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - u * u).sqrt()) / bessel_i0(beta)
}

/// Modified Bessel function of the first kind, order zero, by its power series (converges
/// for every argument; used for |x| ≤ 20 here).
pub fn bessel_i0(x: f64) -> f64 {
    let q = 0.25 * x * x;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > 1e-18 * sum {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The reference twin of [`SyncResampler::resample`]: the same kernel summed directly over
/// every raw sample `n` with `t − half < n ≤ t + half`, the window computed from its
/// Bessel series and the sine by `sin` at every tap. Slow; for tests. Takes the same
/// arguments plus `cycles · points_per_cycle` as `out.len()`, and fails the same way.
///
/// The kernel is chosen as [`SyncResampler::resample`] chooses it for 256 or more points
/// per cycle (the short kernel for rate ratios 1 ..= [`SHORT_MAX_RATIO`], else the 64-tap
/// one); [`resample_reference_long`] always takes the 64-tap kernel.
pub fn resample_reference(x: &[f64], start: f64, length: f64, out: &mut [f64]) -> Result<()> {
    let n_out = out.len();
    let ratio = check_window(x, start, length, n_out, n_out)?;
    let kernel = if uses_short_kernel(ratio, DEFAULT_POINTS_PER_CYCLE) {
        Kernel::Short
    } else {
        Kernel::Long
    };
    reference_with(kernel, x, start, length, out)
}

/// [`resample_reference`] with the 64-tap kernel whatever the rate: the slow twin of the
/// resampler before the short kernel, for comparing the two kernels.
pub fn resample_reference_long(x: &[f64], start: f64, length: f64, out: &mut [f64]) -> Result<()> {
    let n_out = out.len();
    check_window(x, start, length, n_out, n_out)?;
    reference_with(Kernel::Long, x, start, length, out)
}

fn reference_with(
    kernel: Kernel,
    x: &[f64],
    start: f64,
    length: f64,
    out: &mut [f64],
) -> Result<()> {
    let n_out = out.len();
    let fc = cutoff(n_out as f64 / length);
    let half = kernel.half_taps() as f64;
    for (m, y) in out.iter_mut().enumerate() {
        let t = start + m as f64 * (length / n_out as f64);
        let first = (t - half).floor() as usize + 1;
        let last = (t + half).floor() as usize;
        let mut acc = 0.0;
        for (n, &v) in x.iter().enumerate().take(last + 1).skip(first) {
            acc += v * kernel_value(kernel, fc, t - n as f64);
        }
        *y = acc;
    }
    check_output(x, start, length, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::detected;

    /// Samples of `Σ a·cos(2π·f·t + φ)` at `fs`.
    fn tones(fs: f64, n: usize, tones: &[(f64, f64, f64)]) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                tones
                    .iter()
                    .map(|&(a, f, p)| a * (2.0 * PI * f * t + p).cos())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn fast_path_matches_reference_twin() {
        for &(fs, f1, ppc) in &[
            (10_240.0, 49.2, 256),
            (10_240.0, 50.8, 256),
            (1_000.0, 50.0, 64),
            (25_600.0, 50.0, 256),
        ] {
            let x = tones(fs, 4000, &[(325.0, f1, 0.2), (10.0, 7.0 * f1, 1.0)]);
            let rs = SyncResampler::new(10, ppc);
            let length = 10.0 * fs / f1;
            let start = 40.3;
            if start + length + 40.0 > x.len() as f64 {
                continue;
            }
            let mut fast = vec![0.0; rs.output_len()];
            let mut slow = vec![0.0; rs.output_len()];
            rs.resample(&x, start, length, &mut fast).unwrap();
            resample_reference(&x, start, length, &mut slow).unwrap();
            let worst = fast
                .iter()
                .zip(&slow)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-8 * 325.0, "fs {fs}: {worst}");
        }
    }

    #[test]
    fn dispatched_and_portable_fast_paths_agree() {
        let fs = 10_240.0;
        let x = tones(fs, 3000, &[(325.0, 50.3, 0.2), (5.0, 13.0 * 50.3, 1.0)]);
        let (start, length) = (40.77, 10.0 * fs / 50.3);
        let mut a = vec![0.0; 2560];
        let mut b = vec![0.0; 2560];
        for kernel in [Kernel::Long, Kernel::Short] {
            // The CPU's fast path whatever PQE_FORCE_SCALAR says.
            resample_polyphase(detected(), kernel, &x, start, length, &mut a);
            polyphase_portable_for(kernel, &x, start, length, &mut b);
            // Fused and unfused multiply-adds: rounding only.
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-12 * 325.0, "{kernel:?}: {p} vs {q}");
            }
        }
    }

    #[test]
    fn batched_portable_path_equals_single_portable_and_dispatched_agrees() {
        let fs = 10_240.0;
        let x = tones(fs, 3000, &[(325.0, 50.3, 0.2), (5.0, 13.0 * 50.3, 1.0)]);
        let y: Vec<f64> = x.iter().map(|v| -0.7 * v + 3.0).collect();
        let (start, length) = (40.77, 10.0 * fs / 50.3);
        for kernel in [Kernel::Long, Kernel::Short] {
            let mut many = [vec![0.0; 2560], vec![0.0; 2560]];
            let [m0, m1] = &mut many;
            polyphase_many_portable_for(kernel, &[&x, &y], start, length, &mut [m0, m1]);
            let mut dispatched = [vec![0.0; 2560], vec![0.0; 2560]];
            let [d0, d1] = &mut dispatched;
            resample_polyphase_many(detected(), kernel, &[&x, &y], start, length, &mut [d0, d1]);
            for (input, (m, d)) in [&x, &y].into_iter().zip(many.iter().zip(&dispatched)) {
                let mut single = vec![0.0; 2560];
                polyphase_portable_for(kernel, input, start, length, &mut single);
                assert_eq!(m, &single, "{kernel:?}");
                for (p, q) in d.iter().zip(m) {
                    assert!((p - q).abs() < 1e-12 * 325.0, "{kernel:?}: {p} vs {q}");
                }
            }
        }
        use crate::kernels::all_finite;
        assert!(all_finite(&x) && !all_finite(&[1.0, 2.0, 3.0, 4.0, f64::INFINITY]));
        assert!(!all_finite(&[1.0, f64::NAN, 3.0, 4.0, 5.0]) && all_finite(&[]));
    }

    /// Worst error of `kernel`'s fast path on unit tones at `0.01·k·fs`, `k = 0 ..= k_max`,
    /// resampled at 1.28 output points per input sample.
    fn pass_band_error(kernel: Kernel, k_max: usize) -> f64 {
        let fs = 10_240.0;
        let mut worst_all = 0.0f64;
        for k in 0..=k_max {
            let f = 1.0 + k as f64 * 0.01 * fs;
            let x = tones(fs, 400, &[(1.0, f, 0.7)]);
            let length = 200.123;
            let start = 100.37;
            let mut out = vec![0.0; 256];
            resample_polyphase(
                crate::kernels::backend(),
                kernel,
                &x,
                start,
                length,
                &mut out,
            );
            let mut worst = 0.0f64;
            for (m, y) in out.iter().enumerate() {
                let t = (start + m as f64 * length / 256.0) / fs;
                worst = worst.max((y - (2.0 * PI * f * t + 0.7).cos()).abs());
            }
            eprintln!(
                "{kernel:?}: f = {f:7.1} Hz ({:.2} fs): worst error {worst:.2e}",
                f / fs
            );
            worst_all = worst_all.max(worst);
        }
        worst_all
    }

    #[test]
    fn cached_weights_give_the_same_result_bit_for_bit() {
        let fs = 10_240.0;
        let x = tones(fs, 3000, &[(325.0, 49.7, 0.2), (5.0, 13.0 * 49.7, 1.0)]);
        let y: Vec<f64> = x.iter().map(|v| 0.3 * v + 1.0).collect();
        let (start, length) = (40.77, 10.0 * fs / 49.7);
        let rs = SyncResampler::new(10, 256);
        let mut first = vec![0.0; 2560];
        let mut again = vec![0.0; 2560];
        let mut other = vec![0.0; 2560];
        rs.resample(&x, start, length, &mut first).unwrap();
        rs.resample(&y, start, length, &mut other).unwrap(); // a hit
        rs.resample(&x, start + 1.0, length, &mut again).unwrap(); // a miss
        rs.resample(&x, start, length, &mut again).unwrap(); // a miss again
        assert_eq!(first, again);
        let mut fresh = vec![0.0; 2560];
        std::thread::spawn(move || {
            rs.resample(&y, start, length, &mut fresh).unwrap(); // a miss on a new thread
            assert_eq!(fresh, other);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn reproduces_tones_in_the_pass_band() {
        // Long kernel: tones up to 0.42·fs come back within 5e-7 of their amplitude at
        // arbitrary instants (measured worst: 2.1e-7).
        let long = pass_band_error(Kernel::Long, 42);
        assert!(long < 5e-7, "{long}");
        // Short kernel: up to 0.5 − SHORT_HALF_TRANSITION = 0.33·fs within 3e-6 (measured
        // worst: 2.5e-6; the 32-tap kernel it replaced: 2.3e-6 up to 0.35·fs).
        let short = pass_band_error(Kernel::Short, 33);
        assert!(short < 3e-6, "{short}");
        // The resampler picks the short kernel at this ratio and 256 points per cycle.
        assert!(uses_short_kernel(256.0 / 200.123, 256));
        assert!(!uses_short_kernel(256.0 / 200.123, 128));
        assert!(!uses_short_kernel(0.9, 256) && !uses_short_kernel(1.6, 512));
    }

    #[test]
    fn short_kernel_keeps_images_out_of_the_guarded_orders() {
        // 50.8 Hz at 10.24 kHz with a strong fundamental and low harmonics: their images
        // (near the input rate) would alias onto orders 45–64; the short kernel's result
        // differs from the 64-tap kernel's by less than 2e-6 of the fundamental (measured:
        // 9.6e-7).
        let fs = 10_240.0;
        let f1 = 50.8;
        let x = tones(
            fs,
            2400,
            &[
                (325.0, f1, 0.2),
                (10.0, 3.0 * f1, 1.0),
                (5.0, 63.0 * f1, 0.3),
            ],
        );
        let rs = SyncResampler::new(10, 256);
        let (start, length) = (40.3, 10.0 * fs / f1);
        let mut fast = vec![0.0; 2560];
        let mut long = vec![0.0; 2560];
        rs.resample(&x, start, length, &mut fast).unwrap();
        resample_reference_long(&x, start, length, &mut long).unwrap();
        let worst = fast
            .iter()
            .zip(&long)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2e-6 * 325.0, "{worst}");
    }

    #[test]
    fn bad_input_is_reported() {
        let rs = SyncResampler::new(10, 256);
        let mut out = vec![0.0; 2560];
        let mut x = vec![0.0; 2200];
        assert!(rs.resample(&x, 10.0, 2048.0, &mut out).is_err()); // margin
        assert!(rs.resample(&x, 40.0, f64::NAN, &mut out).is_err());
        assert!(rs.resample(&x, 40.0, 2048.0, &mut out[..10]).is_err());
        x[1000] = f64::NAN;
        let e = rs.resample(&x, 40.0, 2048.0, &mut out).unwrap_err();
        assert!(e.to_string().contains("index 1000"), "{e}");
        // Far too many samples per cycle for 256 points per cycle.
        let x = vec![0.0; 30_000];
        let e = rs.resample(&x, 40.0, 20_480.0, &mut out).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e}");
        assert!(SyncResampler::new(0, 256)
            .resample(&x, 40.0, 100.0, &mut [])
            .is_err());
    }

    #[test]
    fn accurate_order_range_follows_the_sample_rate() {
        let rs = SyncResampler::new(10, 256);
        assert_eq!(rs.max_accurate_order(204.8), 63);
        assert_eq!(rs.max_accurate_order(20.0), 7);
        assert_eq!(rs.max_accurate_order(f64::NAN), 0);
        assert_eq!(recommended_points_per_cycle(204.8), 256);
        assert!(recommended_points_per_cycle(1024.0) >= 1127);
    }
}
