//! Streaming zero-crossing detection with sub-sample interpolation.
//!
//! The detector takes one sample at a time (of a signal already filtered down to its
//! fundamental) and reports each crossing of zero with its position as a fractional sample
//! index. The position comes from the cubic through the two samples either side of the
//! sign change, refined by Newton's method: for a sine sampled 20 times per cycle the
//! error is far below a nanosecond, where a straight line between two samples is off by
//! the curvature of whatever distortion is left.
//!
//! Hysteresis keeps noise from producing extra crossings: a rising crossing is only
//! accepted after the signal has been below `−h`, a falling one after it has been above
//! `+h`, with `h` a fraction of the last half-cycle's peak (and at least a floor the caller
//! sets, so a dead channel produces no crossings at all). A crossing is reported one sample
//! after the sign change, the lookahead the cubic needs; the result never depends on how
//! the stream was cut into blocks.

use crate::kernels::KernelBackend;

/// Which way the signal crossed zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From negative to positive.
    Rising,
    /// From positive to negative.
    Falling,
}

/// One zero crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// Fractional sample index (in the numbering of the samples pushed) where the
    /// interpolated signal is zero.
    pub position: f64,
    /// Rising or falling.
    pub direction: Direction,
    /// Largest magnitude of the signal over the half cycle that ends at this crossing.
    pub half_cycle_peak: f64,
    /// Index of the sample whose arrival revealed the crossing (one after the sign change).
    pub detected_at: u64,
}

/// Streaming zero-crossing detector; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroCrossingDetector {
    hysteresis: f64,
    floor: f64,
    /// The last four samples, oldest first; `count` says how many are real.
    history: [f64; 4],
    count: u64,
    /// Index the next pushed sample will get.
    next_index: u64,
    armed_rising: bool,
    armed_falling: bool,
    running_peak: f64,
    last_peak: f64,
    /// Interpolate the position of falling crossings (otherwise reported as NaN).
    locate_falling: bool,
}

impl ZeroCrossingDetector {
    /// A detector whose hysteresis band is `hysteresis` (e.g. 0.1) times the last
    /// half-cycle's peak, and never narrower than `floor` (in the signal's unit).
    pub fn new(hysteresis: f64, floor: f64) -> Self {
        ZeroCrossingDetector {
            hysteresis: hysteresis.max(0.0),
            floor: floor.max(0.0),
            history: [0.0; 4],
            count: 0,
            next_index: 0,
            armed_rising: false,
            armed_falling: false,
            running_peak: 0.0,
            last_peak: 0.0,
            locate_falling: true,
        }
    }

    /// Whether falling crossings get an interpolated position (the default). A caller that
    /// only uses rising crossings (the fundamental tracker) turns it off: falling crossings
    /// still end their half cycle (peak, hysteresis) and are reported, with a NaN position.
    pub fn set_locate_falling(&mut self, locate: bool) {
        self.locate_falling = locate;
    }

    /// Forget everything and number the next sample `next_index`.
    pub fn reset(&mut self, next_index: u64) {
        *self = ZeroCrossingDetector {
            next_index,
            locate_falling: self.locate_falling,
            ..ZeroCrossingDetector::new(self.hysteresis, self.floor)
        };
    }

    /// Index the next pushed sample gets.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Push one sample; returns the crossing it reveals, if any. A non-finite sample is
    /// the caller's business (it must reset the detector around missing data).
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<Crossing> {
        let index = self.next_index;
        self.next_index += 1;
        self.history = [self.history[1], self.history[2], self.history[3], x];
        self.count += 1;
        if self.count < 3 {
            self.observe(self.history[3]);
            return None;
        }
        // The candidate pair is (history[1], history[2]); history[0] and history[3] are
        // the outer points of the cubic.
        let (x0, x1) = (self.history[1], self.history[2]);
        let band = (self.hysteresis * self.last_peak).max(self.floor);
        let mut found = None;
        if self.armed_rising && x0 < 0.0 && x1 >= 0.0 {
            found = Some(Direction::Rising);
        } else if self.armed_falling && x0 > 0.0 && x1 <= 0.0 {
            found = Some(Direction::Falling);
        }
        let crossing = found.map(|direction| {
            let outer_left = if self.count >= 4 {
                self.history[0]
            } else {
                2.0 * x0 - x1
            };
            self.take_crossing(direction, outer_left, x0, x1, self.history[3], index)
        });
        // Arm on the newest settled sample (history[2]) against the band.
        let v = x1;
        if v < -band {
            self.armed_rising = true;
        }
        if v > band {
            self.armed_falling = true;
        }
        self.running_peak = self.running_peak.max(v.abs());
        crossing
    }

    /// Push samples of `y` in order until one reveals a crossing. Returns how many were
    /// consumed and the crossing, which the last consumed sample revealed; exactly what
    /// [`push`](Self::push) on each sample in turn gives (see
    /// [`advance_reference`](Self::advance_reference)).
    ///
    /// Only a sign change between consecutive samples can be a crossing; the stretches
    /// between sign changes just arm the detector and raise the running peak, which is
    /// done over whole runs of samples ([`scan`]).
    pub fn advance(&mut self, y: &[f64]) -> (usize, Option<Crossing>) {
        self.advance_from(y, 0)
    }

    /// [`advance`](Self::advance) over `y[start..]`, where `y[..start]` are the samples
    /// pushed last (all of them, or at least the last three): the detector then reads its
    /// lookback from `y` instead of pushing the first samples one by one. Returns the index
    /// in `y` after the last consumed sample, and the crossing that sample revealed.
    pub fn advance_from(&mut self, y: &[f64], start: usize) -> (usize, Option<Crossing>) {
        let n = y.len();
        assert!(start <= n, "start beyond the samples");
        debug_assert!(
            start < 3
                || (self.count >= 3
                    && y[start - 3..start]
                        .iter()
                        .zip(&self.history[1..])
                        .all(|(a, b)| a.to_bits() == b.to_bits())),
            "y[..start] are not the samples pushed last"
        );
        // While fewer than three samples of `y` went before, the pushes reach back into the
        // history: push them one by one.
        let head = n.min(3).max(start);
        for (k, &v) in y.iter().enumerate().take(head).skip(start) {
            if let Some(c) = self.push(v) {
                return (k + 1, Some(c));
            }
        }
        if n == head {
            return (n, None);
        }
        // From here on, pushing y[k] (k ≥ 3) looks at the pair (y[k−2], y[k−1]), the outer
        // points y[k−3] and y[k], and arms on y[k−1]: all inside `y`. Index `j` below is
        // the arming sample k − 1. At least three samples went before (count ≥ 3), so the
        // outer left point is always a real sample.
        let first_index = self.next_index - head as u64;
        let end = n - 1;
        let mut j = head - 1;
        let mut found = None;
        while j < end {
            let band = (self.hysteresis * self.last_peak).max(self.floor);
            let run = scan(y, j, end, band);
            self.armed_rising |= run.below;
            self.armed_falling |= run.above;
            self.running_peak = self.running_peak.max(run.peak);
            j = run.stop;
            if j == end {
                break;
            }
            // A sign change between y[j−1] and y[j]: the exact logic of `push`.
            let (x0, x1) = (y[j - 1], y[j]);
            let index = first_index + (j + 1) as u64;
            if self.armed_rising && x0 < 0.0 && x1 >= 0.0 {
                found =
                    Some(self.take_crossing(Direction::Rising, y[j - 2], x0, x1, y[j + 1], index));
            } else if self.armed_falling && x0 > 0.0 && x1 <= 0.0 {
                found =
                    Some(self.take_crossing(Direction::Falling, y[j - 2], x0, x1, y[j + 1], index));
            }
            if x1 < -band {
                self.armed_rising = true;
            }
            if x1 > band {
                self.armed_falling = true;
            }
            self.running_peak = self.running_peak.max(x1.abs());
            j += 1;
            if found.is_some() {
                break;
            }
        }
        // Pushes of y[head..consumed] happened in bulk: bring the bookkeeping up to date.
        let consumed = j + 1;
        self.history = [
            y[consumed - 4],
            y[consumed - 3],
            y[consumed - 2],
            y[consumed - 1],
        ];
        self.count += (consumed - head) as u64;
        self.next_index += (consumed - head) as u64;
        (consumed, found)
    }

    /// The plain scalar twin of [`advance`](Self::advance): one [`push`](Self::push) per
    /// sample.
    pub fn advance_reference(&mut self, y: &[f64]) -> (usize, Option<Crossing>) {
        for (k, &v) in y.iter().enumerate() {
            if let Some(c) = self.push(v) {
                return (k + 1, Some(c));
            }
        }
        (y.len(), None)
    }

    /// A crossing between `x0` and `x1` (outer points `a` and `d`) revealed by sample
    /// `index`: locate it and start the next half cycle.
    fn take_crossing(
        &mut self,
        direction: Direction,
        a: f64,
        x0: f64,
        x1: f64,
        d: f64,
        index: u64,
    ) -> Crossing {
        let frac = if direction == Direction::Rising || self.locate_falling {
            cubic_root(a, x0, x1, d)
        } else {
            f64::NAN
        };
        let peak = self.running_peak;
        self.last_peak = peak;
        self.running_peak = 0.0;
        match direction {
            Direction::Rising => self.armed_rising = false,
            Direction::Falling => self.armed_falling = false,
        }
        Crossing {
            // x0 is the sample pushed two before the one revealing the crossing.
            position: (index - 2) as f64 + frac,
            direction,
            half_cycle_peak: peak,
            detected_at: index,
        }
    }

    fn observe(&mut self, v: f64) {
        let band = (self.hysteresis * self.last_peak).max(self.floor);
        if v < -band {
            self.armed_rising = true;
        }
        if v > band {
            self.armed_falling = true;
        }
        self.running_peak = self.running_peak.max(v.abs());
    }
}

/// What the samples `y[from..stop]` do to a detector between sign changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scan {
    /// First `j` in `from..to` where the pair `y[j−1]`, `y[j]` may be a crossing
    /// ([`may_cross`]); `to` if there is none.
    pub stop: usize,
    /// Some sample of `y[from..stop]` lies below `−band`.
    pub below: bool,
    /// Some sample of `y[from..stop]` lies above `band`.
    pub above: bool,
    /// Largest magnitude in `y[from..stop]` (0 when empty; NaN samples are skipped).
    pub peak: f64,
}

/// Scan `y[from..to]` for the next possible crossing and summarise the samples before it
/// ([`Scan`]); `from ≥ 1` and `to ≤ y.len()`. Runs on the process's
/// [`backend`](crate::kernels::backend) (AVX2 where the CPU has it), dispatched once per
/// call; [`scan_reference`] is its scalar twin, with the same result bit for bit.
pub fn scan(y: &[f64], from: usize, to: usize, band: f64) -> Scan {
    scan_on(crate::kernels::backend(), y, from, to, band)
}

/// [`scan`] on the given backend (when the CPU cannot run it, on the scalar twin).
pub fn scan_on(backend: KernelBackend, y: &[f64], from: usize, to: usize, band: f64) -> Scan {
    assert!(from >= 1 && to <= y.len(), "scan range out of bounds");
    match backend.or_scalar() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `or_scalar` keeps Avx2Fma only when the CPU reports AVX2 and FMA; the
        // range was checked above.
        KernelBackend::Avx2Fma => unsafe { x86::scan(y, from, to, band) },
        _ => scan_reference(y, from, to, band),
    }
}

/// The plain scalar twin of [`scan`].
pub fn scan_reference(y: &[f64], from: usize, to: usize, band: f64) -> Scan {
    assert!(from >= 1 && to <= y.len(), "scan range out of bounds");
    let mut r = Scan {
        stop: to,
        below: false,
        above: false,
        peak: 0.0,
    };
    for j in from..to.max(from) {
        if may_cross(y[j - 1], y[j]) {
            r.stop = j;
            break;
        }
        let v = y[j];
        r.below |= v < -band;
        r.above |= v > band;
        r.peak = r.peak.max(v.abs());
    }
    r
}

/// Whether the pair `(x0, x1)` may change sign the way a crossing does (`< 0` then
/// `≥ 0`, or `> 0` then `≤ 0`): true for every such pair, and for a few others (a product
/// that underflows to zero, NaN or infinite operands), which the exact logic then sorts
/// out. False when `x0` is zero, so a dead channel of exact zeros has no candidates.
#[inline(always)]
pub fn may_cross(x0: f64, x1: f64) -> bool {
    // Not `x0·x1 ≤ 0`: a NaN product must count as a candidate.
    let same_sign = x0 * x1 > 0.0;
    !same_sign && x0 != 0.0
}

#[cfg(target_arch = "x86_64")]
mod x86;

/// Root in [0, 1] of the cubic through (−1, a), (0, b), (1, c), (2, d) where b and c have
/// opposite signs (or c is zero). Newton from the linear estimate, kept in the bracket.
pub fn cubic_root(a: f64, b: f64, c: f64, d: f64) -> f64 {
    if c == b {
        return 0.0;
    }
    // Lagrange form rewritten as p(t) = b + t·(k1 + t·(k2 + t·k3)).
    let k3 = (d - a + 3.0 * (b - c)) / 6.0;
    let k2 = 0.5 * (a + c) - b;
    let k1 = c - b - k2 - k3;
    let p = |t: f64| b + t * (k1 + t * (k2 + t * k3));
    let dp = |t: f64| k1 + t * (2.0 * k2 + 3.0 * t * k3);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let rising = c > b;
    let mut t = (-b / (c - b)).clamp(0.0, 1.0);
    for _ in 0..8 {
        let v = p(t);
        if v == 0.0 {
            return t;
        }
        if (v < 0.0) == rising {
            lo = t;
        } else {
            hi = t;
        }
        let slope = dp(t);
        let next = if slope != 0.0 {
            t - v / slope
        } else {
            f64::NAN
        };
        let next = if next > lo && next < hi {
            next
        } else {
            0.5 * (lo + hi)
        };
        if (next - t).abs() < 1e-13 {
            return next;
        }
        t = next;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn crossings(x: &[f64], det: &mut ZeroCrossingDetector) -> Vec<Crossing> {
        x.iter().filter_map(|&v| det.push(v)).collect()
    }

    #[test]
    fn sine_crossings_are_found_to_a_tiny_fraction_of_a_sample() {
        let fs = 1000.0;
        let f = 49.73;
        let phase = 0.3;
        let x: Vec<f64> = (0..5000)
            .map(|i| (2.0 * PI * f * i as f64 / fs + phase).sin())
            .collect();
        let mut det = ZeroCrossingDetector::new(0.1, 1e-3);
        let found = crossings(&x, &mut det);
        assert!(found.len() > 400);
        for c in &found {
            // Exact crossing: 2π f t + phase = kπ.
            let cycles = (c.position / fs * f + phase / (2.0 * PI)) * 2.0;
            let err_samples = (cycles - cycles.round()) / 2.0 / f * fs;
            assert!(err_samples.abs() < 2e-4, "{err_samples}");
            let even = (cycles.round() as i64) % 2 == 0;
            assert_eq!(c.direction == Direction::Rising, even);
            assert!(c.detected_at as f64 > c.position);
        }
    }

    #[test]
    fn noise_below_the_floor_gives_no_crossings_and_results_do_not_depend_on_cuts() {
        let x: Vec<f64> = (0..1000)
            .map(|i| 1e-6 * ((i * 7919) % 13) as f64 - 6e-6)
            .collect();
        let mut det = ZeroCrossingDetector::new(0.1, 1e-3);
        assert!(crossings(&x, &mut det).is_empty());

        let y: Vec<f64> = (0..3000)
            .map(|i| (i as f64 * 0.05).sin() + 0.3 * (i as f64 * 0.15).sin())
            .collect();
        let mut a = ZeroCrossingDetector::new(0.1, 1e-3);
        let whole = crossings(&y, &mut a);
        let mut b = ZeroCrossingDetector::new(0.1, 1e-3);
        let mut pieces = Vec::new();
        for chunk in y.chunks(7) {
            pieces.extend(crossings(chunk, &mut b));
        }
        assert_eq!(whole, pieces);
    }

    #[test]
    fn cubic_root_is_exact_for_cubics() {
        // p(t) = (t − 0.37)(t + 2)(t − 3)
        let p = |t: f64| (t - 0.37) * (t + 2.0) * (t - 3.0);
        let r = cubic_root(p(-1.0), p(0.0), p(1.0), p(2.0));
        assert!((r - 0.37).abs() < 1e-12, "{r}");
    }
}
