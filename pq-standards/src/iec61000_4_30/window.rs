//! Time-domain quantities over a synchronised window: RMS (IEC 61000-4-30 Ed.3 5.2),
//! peak, crest factor and DC, and the Urms(1/2) cycles of 5.4.2.
//!
//! A window of exactly 10/12 cycles of the measured fundamental does not hold a whole
//! number of samples. Summing whole samples mis-weights the ends by up to a sample, an
//! error of up to 1/N of the mean square (5·10⁻⁴ at 2048 samples), five times the
//! engine's budget of ±0.01 % of Udin. [`window_moments`] instead integrates over the
//! fractional window: the trapezoid rule on the samples inside, with the Euler–Maclaurin
//! end correction (fourth-order differences), plus the two partial sample intervals at the
//! ends by Simpson's rule on a cubic (Lagrange) interpolation of the samples. The error is
//! of fourth order in the sampling step, independent of where the window starts.
//!
//! Those end corrections read two samples beyond each end of the window, which is right
//! while the signal continues smoothly across the end. Where it does not — a dip or an
//! interruption that starts or ends at the window's edge, and the Urms(1/2) cycles of
//! 5.4.2 start at the zero crossings where such events are often switched — the samples
//! beyond the step would enter the correction squared: a 4.6 V cycle next to a return to
//! 230 V then read anywhere from 0 to 4.6 V on the phases that step at that instant, a
//! value no cycle of the signal has. So each end is integrated both ways, centred and with
//! one-sided differences and interpolations taken inward (reading nothing beyond the one
//! sample that bounds the partial interval); when the two differ by more than
//! [`STEP_THRESHOLD`] of the window's sum of squares the signal does not continue smoothly
//! there and the inward rule is used ([`WindowEnds`]). A smooth signal keeps the centred
//! rule (the inward one is less accurate at 20–40 samples per cycle); what a step
//! below the threshold can still shift is 0.05 % of the RMS, half of Class A's 0.1 %.
//! [`window_mean_product`] integrates the product of two channels the same way: the
//! active power of IEEE 1459 when no spectrum is computed.

use super::tracker::CycleBoundary;
use pqe_dsp::kernels::{self, ThreePhaseProducts};
use std::cmp::Ordering;

/// Samples needed on each side of a window beyond its fractional ends.
pub const MARGIN: usize = 3;

/// Moments of one channel over one fractional window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowMoments {
    /// Mean of x² over the window.
    pub mean_square: f64,
    /// Mean of x over the window (the DC component).
    pub mean: f64,
    /// Largest |x| of a sample inside the window.
    pub peak: f64,
    /// False when a sample the window reads is NaN or infinite; the other fields are NaN.
    pub finite: bool,
    /// The ends at which the signal does not continue smoothly (integrated inward).
    pub ends: WindowEnds,
}

/// Which ends of a window were integrated with the inward rule because the signal steps
/// there (see the module documentation); products of channels use the inward rule at an
/// end where any of their channels steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowEnds {
    /// The signal steps at the window's start.
    pub start: bool,
    /// The signal steps at the window's end.
    pub end: bool,
}

impl WindowEnds {
    /// Inward at each end where either steps.
    pub fn either(self, other: WindowEnds) -> WindowEnds {
        WindowEnds {
            start: self.start || other.start,
            end: self.end || other.end,
        }
    }
}

/// Largest difference, as a fraction of the window's sum of squares, between the centred
/// and the inward integration of one end of a window for which the signal still counts as
/// continuing smoothly across that end. Smooth signals differ by less than 10⁻⁴ at 20
/// samples per cycle with a 5th harmonic, and by 10⁻⁹ at 200; the end of a 4.6-V cycle
/// next to 230 V by more than 1.
pub const STEP_THRESHOLD: f64 = 1e-3;

impl WindowMoments {
    /// Root mean square.
    pub fn rms(&self) -> f64 {
        self.mean_square.max(0.0).sqrt()
    }

    /// Peak / RMS (NaN for a zero signal).
    pub fn crest_factor(&self) -> f64 {
        let rms = self.rms();
        if rms > 0.0 {
            self.peak / rms
        } else {
            f64::NAN
        }
    }

    /// The moments of a window that reads a missing sample: NaN, not finite.
    pub fn missing() -> Self {
        WindowMoments {
            mean_square: f64::NAN,
            mean: f64::NAN,
            peak: f64::NAN,
            finite: false,
            ends: WindowEnds::default(),
        }
    }
}

/// The samples of every channel around one window, as the streaming analysis holds them:
/// `buffers[c][k]` is sample `base + k` of channel `c`; the window is `[start, end)` in
/// fractional sample indices of the recording.
#[derive(Debug, Clone, Copy)]
pub struct WindowSamples<'a> {
    /// One buffer per channel, all starting at sample `base`.
    pub buffers: &'a [Vec<f64>],
    /// Index of the first sample of the buffers.
    pub base: u64,
    /// Start of the window (fractional sample index).
    pub start: f64,
    /// End (exclusive) of the window.
    pub end: f64,
}

impl<'a> WindowSamples<'a> {
    /// Length of the window in samples.
    pub fn length(&self) -> f64 {
        self.end - self.start
    }

    /// The held samples of channel `c` with indices in `first..last` (empty where the
    /// buffer does not reach).
    pub fn span(&self, c: usize, first: u64, last: u64) -> &'a [f64] {
        let buffer = &self.buffers[c];
        let from = first.saturating_sub(self.base) as usize;
        let to = (last.saturating_sub(self.base) as usize).min(buffer.len());
        buffer.get(from..to).unwrap_or(&[])
    }
}

/// Moments of `x` over the window `[start, end)` given as fractional sample indices in the
/// numbering where `x[0]` is sample `base`. Returns `None` when `x` does not hold the
/// window plus [`MARGIN`] samples on each side, or the window is shorter than 4 samples.
///
/// The fractional parts are taken from the absolute positions (`start.ceil() − start` is
/// exact in floating point), so the result is bit-for-bit the same whatever `base` is:
/// the streaming analysis may trim its buffers anywhere.
pub fn window_moments(x: &[f64], base: u64, start: f64, end: f64) -> Option<WindowMoments> {
    let w = locate(x.len(), base, start, end)?;
    let (i0, i1) = (w.i0, w.i1);
    // One pass over the interior gives its sums, extremes and finiteness; the two samples
    // on each side that the end corrections read are checked apart.
    let interior = kernels::moments(&x[i0..=i1]);
    let outside = [x[i0 - 2], x[i0 - 1], x[i1 + 1], x[i1 + 2]];
    if !(interior.finite && outside.iter().all(|v| v.is_finite())) {
        return Some(WindowMoments::missing());
    }
    let (ends, integral_sq) = integrate_squares(x, &w, interior.sum_of_squares);
    let value = |k: usize| x[k];
    let value_at = |first: usize, k: usize, t: f64| interpolate_from(x, first, k, t);
    let integral = integrate(&w, ends, interior.sum, value, value_at);
    let length = end - start;
    Some(WindowMoments {
        mean_square: integral_sq / length,
        mean: integral / length,
        peak: interior.min.abs().max(interior.max.abs()),
        finite: true,
        ends,
    })
}

/// The mean square of [`window_moments`] alone, bit for bit, and whether every sample it
/// reads is finite (its [`WindowMoments::finite`]): what an Urms(1/2) cycle (5.4.2) needs,
/// without the mean, the peak and their pass over the samples. `None` as
/// [`window_moments`]; a mean square of NaN when a sample is not finite.
pub fn window_mean_square(x: &[f64], base: u64, start: f64, end: f64) -> Option<(f64, bool)> {
    let w = locate(x.len(), base, start, end)?;
    let (i0, i1) = (w.i0, w.i1);
    // The same sum as `moments(..).sum_of_squares`; it is finite when every sample is,
    // unless a square overflows, which `window_moments` then judges as it always does.
    let interior = kernels::sum_of_squares(&x[i0..=i1]);
    let outside = [x[i0 - 2], x[i0 - 1], x[i1 + 1], x[i1 + 2]];
    if !(interior.is_finite() && outside.iter().all(|v| v.is_finite())) {
        return window_moments(x, base, start, end).map(|m| (m.mean_square, m.finite));
    }
    let (_, integral_sq) = integrate_squares(x, &w, interior);
    Some((integral_sq / (end - start), true))
}

/// The ends at which `x` steps and `∫ x²` over the located window, from the plain sum of
/// squares of its interior: what [`window_moments`] and [`window_mean_square`] share.
fn integrate_squares(x: &[f64], w: &Located, interior_sum_of_squares: f64) -> (WindowEnds, f64) {
    let square = |k: usize| x[k] * x[k];
    let square_at = |first: usize, k: usize, t: f64| {
        let v = interpolate_from(x, first, k, t);
        v * v
    };
    let ends = steps_at_ends(w, interior_sum_of_squares, square, square_at);
    let integral = integrate(w, ends, interior_sum_of_squares, square, square_at);
    (ends, integral)
}

/// Mean of the product of two channels over the window `[start, end)`; for a voltage and
/// a current, the active power of IEEE 1459-2010 3.1.2.6, P = (1/kT)·∫ v·i dt over the
/// 10/12 cycles of IEC 61000-4-30 Ed.3 4.4. The product `u·i` is integrated exactly as
/// [`window_moments`] integrates x² — trapezoid with the Euler–Maclaurin end correction on the samples inside, Simpson's rule on the cubic
/// interpolations of `u` and `i` over the partial sample intervals at the ends — so the
/// power and the RMS values it is compared with (S = U·I) rest on the same integral.
///
/// `u` and `i` hold the same samples (`u[0]` and `i[0]` are sample `base`); `ends` are
/// the ends where either steps (their [`WindowMoments::ends`] combined). Returns `None`
/// as [`window_moments`] does; NaN or infinite when a sample it reads is (check the
/// channels' [`WindowMoments::finite`]).
pub fn window_mean_product(
    u: &[f64],
    i: &[f64],
    base: u64,
    start: f64,
    end: f64,
    ends: WindowEnds,
) -> Option<f64> {
    let w = locate(u.len().min(i.len()), base, start, end)?;
    let plain_sum = kernels::dot(&u[w.i0..=w.i1], &i[w.i0..=w.i1]);
    Some(product_integral(u, i, &w, ends, plain_sum) / (end - start))
}

/// Means over the window `[start, end)` of the products of three voltages `v` and three
/// currents `i` (phases A, B, C) that the three-phase quantities of IEEE 1459-2010 3.2.3
/// rest on: `v_k·i_k` (active powers), `v_k·v_{k+1}` (line-to-line voltages) and
/// `i_k·i_{k+1}` (the neutral current), fields as in [`ThreePhaseProducts`]. Each is
/// integrated as [`window_mean_product`] does, from one pass over the six channels.
///
/// The six channels hold the same samples (`x[0]` is sample `base`); `ends` are the ends
/// where any of them steps. Returns `None` as [`window_moments`] does; a mean is NaN or
/// infinite when a sample it reads is.
pub fn window_three_phase_products(
    v: [&[f64]; 3],
    i: [&[f64]; 3],
    base: u64,
    start: f64,
    end: f64,
    ends: WindowEnds,
) -> Option<ThreePhaseProducts> {
    let len = v.iter().chain(&i).map(|x| x.len()).min().unwrap_or(0);
    let w = locate(len, base, start, end)?;
    let (i0, i1) = (w.i0, w.i1);
    let sums = kernels::three_phase_products(v.map(|x| &x[i0..=i1]), i.map(|x| &x[i0..=i1]));
    let length = end - start;
    let mean =
        |x: &[f64], y: &[f64], plain_sum: f64| product_integral(x, y, &w, ends, plain_sum) / length;
    let next = |k: usize| (k + 1) % 3;
    Some(ThreePhaseProducts {
        vi: [0, 1, 2].map(|k| mean(v[k], i[k], sums.vi[k])),
        vv: [0, 1, 2].map(|k| mean(v[k], v[next(k)], sums.vv[k])),
        ii: [0, 1, 2].map(|k| mean(i[k], i[next(k)], sums.ii[k])),
    })
}

/// ∫ x·y over the located window, given the plain sum of the products of the whole
/// samples inside it: the trapezoid with its end correction plus the two partial sample
/// intervals (the integral behind [`window_mean_product`]).
fn product_integral(x: &[f64], y: &[f64], w: &Located, ends: WindowEnds, plain_sum: f64) -> f64 {
    let product = |k: usize| x[k] * y[k];
    let product_at = |first: usize, k: usize, t: f64| {
        interpolate_from(x, first, k, t) * interpolate_from(y, first, k, t)
    };
    integrate(w, ends, plain_sum, product, product_at)
}

/// ∫ g over the located window from the plain sum of `g` over its whole samples: the
/// trapezoid with its end correction plus the two partial sample intervals, each end by
/// the centred rule or, where `ends` says the signal steps, the inward one. `g(k)` is the
/// integrand at sample `k`, `g_at(first, k, t)` at `k + t` interpolated from the four
/// samples from `first` on.
fn integrate(
    w: &Located,
    ends: WindowEnds,
    plain_sum: f64,
    g: impl Fn(usize) -> f64,
    g_at: impl Fn(usize, usize, f64) -> f64,
) -> f64 {
    let (i0, i1) = (w.i0, w.i1);
    let slope_start = if ends.start {
        forward_slope(&g, i0)
    } else {
        central_slope(&g, i0)
    };
    let slope_end = if ends.end {
        backward_slope(&g, i1)
    } else {
        central_slope(&g, i1)
    };
    // The first sample before the window (i0 − 1) and after it (i1) start the partial
    // intervals; the interpolation reads from one sample before them (centred) or from
    // them on, resp. two before (inward).
    let first_left = if ends.start { i0 - 1 } else { i0 - 2 };
    let first_right = if ends.end { i1 - 2 } else { i1 - 1 };
    plain_sum - 0.5 * (g(i0) + g(i1)) - (slope_end - slope_start) / 12.0
        + partial_left(i0, w.da, &g, |k, t| g_at(first_left, k, t))
        + partial_right(i1, w.db, &g, |k, t| g_at(first_right, k, t))
}

/// Which ends of the located window the signal does not continue smoothly across: where
/// the centred and the inward integration of `g` (the square of the signal) differ by more
/// than [`STEP_THRESHOLD`] of `sum_of_squares` (or the centred one reads a missing sample).
fn steps_at_ends(
    w: &Located,
    sum_of_squares: f64,
    g: impl Fn(usize) -> f64,
    g_at: impl Fn(usize, usize, f64) -> f64,
) -> WindowEnds {
    let (i0, i1) = (w.i0, w.i1);
    let limit = STEP_THRESHOLD * sum_of_squares.abs();
    // A NaN difference (the centred rule read a missing sample) counts as a step.
    let steps = |difference: f64| {
        matches!(
            difference.abs().partial_cmp(&limit),
            Some(Ordering::Greater) | None
        )
    };
    let start_centred =
        central_slope(&g, i0) / 12.0 + partial_left(i0, w.da, &g, |k, t| g_at(i0 - 2, k, t));
    let start_inward =
        forward_slope(&g, i0) / 12.0 + partial_left(i0, w.da, &g, |k, t| g_at(i0 - 1, k, t));
    let end_centred =
        partial_right(i1, w.db, &g, |k, t| g_at(i1 - 1, k, t)) - central_slope(&g, i1) / 12.0;
    let end_inward =
        partial_right(i1, w.db, &g, |k, t| g_at(i1 - 2, k, t)) - backward_slope(&g, i1) / 12.0;
    WindowEnds {
        start: steps(start_centred - start_inward),
        end: steps(end_centred - end_inward),
    }
}

/// Where a fractional window lies in a buffer.
struct Located {
    /// First and last whole sample inside the window, as buffer indices.
    i0: usize,
    i1: usize,
    /// Widths of the partial sample intervals before `i0` and after `i1`, in [0, 1).
    da: f64,
    db: f64,
}

/// The whole samples inside `[start, end)` in a buffer of `len` samples starting at
/// sample `base`, or `None` when the buffer lacks them or their [`MARGIN`], or the window
/// is shorter than 4 samples or holds fewer than 5 whole samples. The fractional parts come from the absolute positions, so
/// they do not depend on `base`.
fn locate(len: usize, base: u64, start: f64, end: f64) -> Option<Located> {
    if !(start.is_finite() && end.is_finite()) || end - start < 4.0 || start < 0.0 {
        return None;
    }
    // The one-sided differences of the inward rule need 5 whole samples.
    if end.floor() - start.ceil() < 4.0 {
        return None;
    }
    let (first, last) = (start.ceil(), end.floor());
    let (da, db) = (first - start, end - last);
    let (first, last) = (first as u64, last as u64);
    if first < base + MARGIN as u64 || last + MARGIN as u64 >= base + len as u64 {
        return None;
    }
    Some(Located {
        i0: (first - base) as usize,
        i1: (last - base) as usize,
        da,
        db,
    })
}

/// The Urms(1/2) cycles (IEC 61000-4-30 Ed.3 5.4.2): one cycle starting at each zero
/// crossing of the fundamental, rising and falling, so a new value comes every half cycle.
///
/// The falling crossings of the fundamental lie halfway between its rising ones (the
/// fundamental is a sine), so they are taken as midpoints of the tracked rising
/// boundaries: a DC offset or even harmonics, which move the falling crossings of the raw
/// signal, do not move them.
#[derive(Debug, Clone, Default)]
pub struct HalfCycleSeries {
    before: Option<CycleBoundary>,
    last: Option<CycleBoundary>,
    next_index: u64,
}

/// One cycle of the Urms(1/2) series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalfCycleWindow {
    /// Running number.
    pub index: u64,
    /// Start (fractional sample index).
    pub start: f64,
    /// End (fractional sample index).
    pub end: f64,
    /// True when the cycle starts at a rising crossing (also an Urms(1) value).
    pub rising: bool,
    /// True when the boundaries it rests on were tracked on the signal.
    pub tracked: bool,
    /// Index of the sample whose arrival produced the last boundary.
    pub ready_at: u64,
}

impl HalfCycleSeries {
    /// An empty series.
    pub fn new() -> Self {
        HalfCycleSeries::default()
    }

    /// Take the next rising boundary; the cycles it completes go to `out`, in order of
    /// their start.
    pub fn push(&mut self, boundary: CycleBoundary, out: &mut Vec<HalfCycleWindow>) {
        if let Some(last) = self.last {
            if let Some(before) = self.before {
                out.push(HalfCycleWindow {
                    index: self.next_index,
                    start: 0.5 * (before.position + last.position),
                    end: 0.5 * (last.position + boundary.position),
                    rising: false,
                    tracked: before.tracked && last.tracked && boundary.tracked,
                    ready_at: boundary.ready_at,
                });
                self.next_index += 1;
            }
            out.push(HalfCycleWindow {
                index: self.next_index,
                start: last.position,
                end: boundary.position,
                rising: true,
                tracked: last.tracked && boundary.tracked,
                ready_at: boundary.ready_at,
            });
            self.next_index += 1;
        }
        self.before = self.last;
        self.last = Some(boundary);
    }

    /// Forget the boundaries (after a gap).
    pub fn restart(&mut self) {
        self.before = None;
        self.last = None;
    }

    /// Start of the oldest cycle not yet produced, whose samples must be kept.
    pub fn oldest_needed(&self) -> Option<f64> {
        match (self.before, self.last) {
            (Some(b), Some(l)) => Some(0.5 * (b.position + l.position)),
            (None, Some(l)) => Some(l.position),
            _ => None,
        }
    }
}

/// g′ at sample `i` by the fourth-order central difference (samples `i − 2 ..= i + 2`):
/// the Euler–Maclaurin end correction −(g′(i1) − g′(i0))/12 of the trapezoid rule.
fn central_slope(g: impl Fn(usize) -> f64, i: usize) -> f64 {
    (g(i - 2) - 8.0 * g(i - 1) + 8.0 * g(i + 1) - g(i + 2)) / 12.0
}

/// g′ at sample `i` by the fourth-order forward difference (samples `i ..= i + 4`).
fn forward_slope(g: impl Fn(usize) -> f64, i: usize) -> f64 {
    (-25.0 * g(i) + 48.0 * g(i + 1) - 36.0 * g(i + 2) + 16.0 * g(i + 3) - 3.0 * g(i + 4)) / 12.0
}

/// g′ at sample `i` by the fourth-order backward difference (samples `i − 4 ..= i`).
fn backward_slope(g: impl Fn(usize) -> f64, i: usize) -> f64 {
    (25.0 * g(i) - 48.0 * g(i - 1) + 36.0 * g(i - 2) - 16.0 * g(i - 3) + 3.0 * g(i - 4)) / 12.0
}

/// Cubic (Lagrange) interpolation of x at `k + t` (`0 ≤ t ≤ 1`) from the four samples
/// `first ..= first + 3`, which hold `k` and `k + 1`: centred (`first = k − 1`) or leaning
/// to either side.
fn interpolate_from(x: &[f64], first: usize, k: usize, t: f64) -> f64 {
    if first + 1 == k {
        return interpolate(x, k, t);
    }
    // Nodes at 0, 1, 2, 3 from `first`.
    let u = t + (k - first) as f64;
    let (x0, x1, x2, x3) = (x[first], x[first + 1], x[first + 2], x[first + 3]);
    let l0 = -(u - 1.0) * (u - 2.0) * (u - 3.0) / 6.0;
    let l1 = u * (u - 2.0) * (u - 3.0) / 2.0;
    let l2 = -u * (u - 1.0) * (u - 3.0) / 2.0;
    let l3 = u * (u - 1.0) * (u - 2.0) / 6.0;
    l0 * x0 + l1 * x1 + l2 * x2 + l3 * x3
}

/// Cubic (Lagrange) interpolation of x at `k + t` (`0 ≤ t ≤ 1`) from samples `k − 1` to
/// `k + 2`.
fn interpolate(x: &[f64], k: usize, t: f64) -> f64 {
    let (xm, x0, x1, x2) = (x[k - 1], x[k], x[k + 1], x[k + 2]);
    let l_m = -t * (t - 1.0) * (t - 2.0) / 6.0;
    let l_0 = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0;
    let l_1 = -(t + 1.0) * t * (t - 2.0) / 2.0;
    let l_2 = (t + 1.0) * t * (t - 1.0) / 6.0;
    l_m * xm + l_0 * x0 + l_1 * x1 + l_2 * x2
}

/// ∫ g over the last `width` (< 1) of the sample interval before sample `i0`, by Simpson's
/// rule; `g(k)` is the integrand at sample `k`, `g_at(k, t)` at `k + t` (interpolated).
fn partial_left(
    i0: usize,
    width: f64,
    g: impl Fn(usize) -> f64,
    g_at: impl Fn(usize, f64) -> f64,
) -> f64 {
    if width <= 0.0 {
        return 0.0;
    }
    let k = i0 - 1;
    width / 6.0 * (g_at(k, 1.0 - width) + 4.0 * g_at(k, 1.0 - 0.5 * width) + g(i0))
}

/// ∫ g over the first `width` (< 1) of the sample interval after sample `i1`.
fn partial_right(
    i1: usize,
    width: f64,
    g: impl Fn(usize) -> f64,
    g_at: impl Fn(usize, f64) -> f64,
) -> f64 {
    if width <= 0.0 {
        return 0.0;
    }
    width / 6.0 * (g(i1) + 4.0 * g_at(i1, 0.5 * width) + g_at(i1, width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn fractional_window_rms_is_exact_to_a_millionth_at_low_sample_rates() {
        // 20 to 200 samples per cycle, any start phase, 10 cycles at an off-nominal frequency.
        for samples_per_cycle in [20.0, 37.3, 64.0, 204.8] {
            for phase in [0.0, 0.4, 1.3, 2.9] {
                let f = 1.0 / samples_per_cycle;
                let x: Vec<f64> = (0..(14.0 * samples_per_cycle) as usize)
                    .map(|i| {
                        let w = 2.0 * PI * f * i as f64 + phase;
                        3.0 + 100.0 * w.sin() + 5.0 * (5.0 * w).cos()
                    })
                    .collect();
                let start = 5.0 + 0.37;
                let end = start + 10.0 * samples_per_cycle;
                let m = window_moments(&x, 0, start, end).unwrap();
                // Cubic interpolation of the 5th harmonic at 4 samples per cycle is the worst
                // case; it shrinks with the fourth power of the sampling step.
                let tolerance = match samples_per_cycle {
                    s if s < 30.0 => 2e-5,
                    s if s < 50.0 => 5e-6,
                    _ => 1e-6,
                };
                let exact_ms = 9.0 + 0.5 * (100.0f64.powi(2) + 25.0);
                assert!(
                    (m.mean_square / exact_ms - 1.0).abs() < tolerance,
                    "{samples_per_cycle} {phase}: {}",
                    m.mean_square / exact_ms - 1.0
                );
                assert!((m.mean - 3.0).abs() < 1e-3);
                assert!(m.peak <= 108.0 && m.peak > 100.0);
            }
        }
    }

    #[test]
    fn a_step_beyond_the_window_does_not_enter_it() {
        // 4.6 V RMS up to sample 300, 230 V from sample 301 on (100 samples per cycle):
        // the cycle just before the step, with its ends on the zero crossings of the 0°
        // phase, read on phases 0°, −120° and +120° (the last two step by 87 % of their
        // peak at its end).
        for (phase, shift) in [(0.0, 0.0), (-120.0, 0.0), (120.0, 0.0), (120.0, 0.4)] {
            let x: Vec<f64> = (0..500)
                .map(|i| {
                    let a = if i <= 300 { 4.6 } else { 230.0 };
                    let w = 2.0 * PI * i as f64 / 100.0 + f64::to_radians(phase);
                    a * 2f64.sqrt() * w.sin()
                })
                .collect();
            let (start, end) = (200.0 - shift, 300.0 - shift);
            let m = window_moments(&x, 0, start, end).unwrap();
            // (On the 0° phase the step falls on a zero crossing: it may or may not count.)
            let steps = phase != 0.0;
            assert!(
                !m.ends.start && (m.ends.end || !steps),
                "{phase}: {:?}",
                m.ends
            );
            // Inside the window the signal is the 4.6-V sine.
            assert!((m.rms() - 4.6).abs() < 1e-6, "{phase} {shift}: {}", m.rms());
            // A cycle after the step: the 4.6-V samples before it move its mean square by
            // at most STEP_THRESHOLD (half of that in RMS). A smooth one keeps the
            // centred rule.
            let after = window_moments(&x, 0, 301.0 + shift, 401.0 + shift).unwrap();
            assert!(!after.ends.end);
            let error = after.rms() / 230.0 - 1.0;
            assert!(
                error.abs() < 0.5 * STEP_THRESHOLD,
                "{phase} {shift}: {error}"
            );
            let smooth = window_moments(&x, 0, 100.0, 200.0).unwrap();
            assert_eq!(smooth.ends, WindowEnds::default());
        }
    }

    #[test]
    fn mean_square_alone_equals_the_moments_bit_for_bit() {
        // One-cycle windows at every half cycle of a signal with a dip (steps at both
        // ends of some windows), a missing sample, and a sample whose square overflows.
        let spc = 204.8;
        let mut x: Vec<f64> = (0..4000)
            .map(|i| {
                let w = 2.0 * PI * i as f64 / spc;
                let amplitude = if (1500..2300).contains(&i) {
                    20.0
                } else {
                    325.0
                };
                amplitude * w.sin() + 4.0 * (7.0 * w).sin()
            })
            .collect();
        x[3000] = f64::NAN;
        x[3500] = 1e200;
        let mut windows = 0;
        for k in 0..36 {
            let start = 10.37 + k as f64 * spc / 2.0;
            let end = start + spc * 1.003;
            let m = window_moments(&x, 7, start + 7.0, end + 7.0);
            let alone = window_mean_square(&x, 7, start + 7.0, end + 7.0);
            match (m, alone) {
                (Some(m), Some((ms, finite))) => {
                    assert_eq!(ms.to_bits(), m.mean_square.to_bits(), "window {k}");
                    assert_eq!(finite, m.finite, "window {k}");
                    windows += 1;
                }
                (None, None) => {}
                other => panic!("window {k}: {other:?}"),
            }
        }
        assert!(windows > 30);
        assert_eq!(
            window_mean_square(&x, 0, 3490.0, 3600.0),
            Some((f64::INFINITY, true))
        );
        assert!(window_mean_square(&x, 0, 2990.0, 3100.0).is_some_and(|(ms, f)| ms.is_nan() && !f));
        assert!(window_mean_square(&x, 0, 1.0, 50.0).is_none());
    }

    #[test]
    fn missing_samples_and_short_buffers_are_reported() {
        let mut x = vec![1.0; 100];
        assert!(window_moments(&x, 0, 1.0, 50.0).is_none());
        assert!(window_moments(&x, 0, 10.0, 98.0).is_none());
        let trimmed = window_moments(&x[7..], 7, 10.5, 90.25).unwrap();
        assert_eq!(trimmed, window_moments(&x, 0, 10.5, 90.25).unwrap());
        let m = window_moments(&x, 0, 10.5, 90.25).unwrap();
        assert!((m.rms() - 1.0).abs() < 1e-12 && (m.mean - 1.0).abs() < 1e-12);
        x[50] = f64::NAN;
        assert!(!window_moments(&x, 0, 10.5, 90.25).unwrap().finite);
    }

    #[test]
    fn half_cycles_start_at_rising_and_mid_crossings() {
        let mut s = HalfCycleSeries::new();
        let mut out = Vec::new();
        for k in 0..4 {
            let b = CycleBoundary {
                position: 10.0 + 20.0 * k as f64,
                tracked: true,
                ready_at: 0,
            };
            s.push(b, &mut out);
        }
        let spans: Vec<(f64, f64, bool)> = out.iter().map(|w| (w.start, w.end, w.rising)).collect();
        assert_eq!(
            spans,
            vec![
                (10.0, 30.0, true),
                (20.0, 40.0, false),
                (30.0, 50.0, true),
                (40.0, 60.0, false),
                (50.0, 70.0, true)
            ]
        );
    }
}
