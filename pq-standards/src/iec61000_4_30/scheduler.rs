//! The 10/12-cycle basic measurement interval of IEC 61000-4-30 Ed.3 4.4.
//!
//! "The basic measurement time interval for parameter magnitudes … shall be a 10-cycle time
//! interval for a 50 Hz power system or 12-cycle time interval for a 60 Hz power system",
//! synchronised to the fundamental, gapless and non-overlapping. The scheduler groups the
//! tracker's cycle boundaries into such windows: each window runs from one boundary to the
//! boundary 10 (12) cycles later, and the next window starts where it ended.
//!
//! Resynchronisation (4.5, 10-min aggregation): at each 10-min tick of the clock the
//! window in progress completes normally — it belongs to the 10-min period in which it
//! started — and the next window starts at the first cycle boundary at or after the tick,
//! so those two windows overlap by up to one interval ("overlap 1" of Ed.3 Figure 6).
//! Starting on the first fundamental zero crossing after the tick (rather than on the tick
//! itself) keeps every window on whole cycles.

use super::tracker::CycleBoundary;
use pqe_core::Timestamp;
use std::collections::VecDeque;

const TEN_MINUTES_NS: i64 = 600_000_000_000;

/// One basic interval: a run of whole cycles of the fundamental.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalWindow {
    /// Running number.
    pub index: u64,
    /// Start, as a fractional sample index of the recording.
    pub start: f64,
    /// End (exclusive), as a fractional sample index.
    pub end: f64,
    /// Number of cycles.
    pub cycles: usize,
    /// True when every boundary was tracked on the signal.
    pub tracked: bool,
    /// True for the first window after a gap.
    pub after_gap: bool,
    /// Index of the sample whose arrival completed the window's boundaries.
    pub ready_at: u64,
}

impl IntervalWindow {
    /// Length in samples.
    pub fn length(&self) -> f64 {
        self.end - self.start
    }
}

/// Streaming scheduler of basic intervals; see the module documentation.
#[derive(Debug, Clone)]
pub struct IntervalScheduler {
    cycles: usize,
    sample_rate: f64,
    recording_start: Timestamp,
    resync: bool,
    pending: VecDeque<CycleBoundary>,
    /// Position (fractional sample index) of the next 10-min tick.
    next_tick: f64,
    tick: i64,
    resync_at: Option<usize>,
    next_index: u64,
    after_gap: bool,
}

impl IntervalScheduler {
    /// Windows of `cycles` cycles for a recording whose sample 0 is at `recording_start`,
    /// resynchronised on 10-min ticks when `resync_on_ticks`.
    pub fn new(
        cycles: usize,
        sample_rate: f64,
        recording_start: Timestamp,
        resync_on_ticks: bool,
    ) -> Self {
        let mut s = IntervalScheduler {
            cycles: cycles.max(1),
            sample_rate,
            recording_start,
            resync: resync_on_ticks,
            pending: VecDeque::with_capacity(cycles + 2),
            next_tick: 0.0,
            tick: 0,
            resync_at: None,
            next_index: 0,
            after_gap: false,
        };
        s.set_tick_after(0.0);
        s
    }

    fn position_of(&self, ns: i64) -> f64 {
        (ns - self.recording_start.as_nanos()) as f64 * 1e-9 * self.sample_rate
    }

    /// Make `next_tick` the first 10-min tick strictly after `position`.
    fn set_tick_after(&mut self, position: f64) {
        let ns =
            self.recording_start.as_nanos() + (position / self.sample_rate * 1e9).floor() as i64;
        self.tick = ns.div_euclid(TEN_MINUTES_NS) + 1;
        self.next_tick = self.position_of(self.tick * TEN_MINUTES_NS);
        while self.next_tick <= position {
            self.tick += 1;
            self.next_tick = self.position_of(self.tick * TEN_MINUTES_NS);
        }
    }

    /// Take the next cycle boundary; completed windows go to `out`.
    pub fn push(&mut self, boundary: CycleBoundary, out: &mut Vec<IntervalWindow>) {
        if self.resync && boundary.position >= self.next_tick {
            if !self.pending.is_empty() && self.resync_at.is_none() {
                self.resync_at = Some(self.pending.len());
            }
            self.set_tick_after(boundary.position);
        }
        self.pending.push_back(boundary);
        if self.pending.len() < self.cycles + 1 {
            return;
        }
        let first = self.pending[0];
        let last = self.pending[self.cycles];
        out.push(IntervalWindow {
            index: self.next_index,
            start: first.position,
            end: last.position,
            cycles: self.cycles,
            tracked: self.pending.iter().all(|b| b.tracked),
            after_gap: self.after_gap,
            ready_at: last.ready_at,
        });
        self.next_index += 1;
        self.after_gap = false;
        let drop = self.resync_at.take().unwrap_or(self.cycles);
        self.pending.drain(..drop);
    }

    /// Restart after a gap that ends at sample `position`: the window in progress is
    /// abandoned and the next one is marked `after_gap`.
    pub fn restart(&mut self, position: f64) {
        self.pending.clear();
        self.resync_at = None;
        self.after_gap = true;
        self.set_tick_after(position);
    }

    /// Position where the window in progress starts (its data must be kept), if any.
    pub fn oldest_needed(&self) -> Option<f64> {
        self.pending.front().map(|b| b.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(position: f64) -> CycleBoundary {
        CycleBoundary {
            position,
            tracked: true,
            ready_at: position.ceil() as u64 + 1,
        }
    }

    #[test]
    fn windows_are_gapless_runs_of_ten_cycles() {
        let mut s = IntervalScheduler::new(10, 1000.0, Timestamp::from_nanos(0), true);
        let mut out = Vec::new();
        for k in 0..105 {
            s.push(b(3.3 + 19.9 * k as f64), &mut out);
        }
        assert_eq!(out.len(), 10);
        for w in out.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert!((w[0].length() - 199.0).abs() < 1e-9);
        }
    }

    #[test]
    fn ten_minute_ticks_restart_the_sequence_on_the_next_boundary() {
        // Recording starts 0.5 s before a 10-min tick; 1 kHz, period 20 samples.
        let start = Timestamp::from_nanos(TEN_MINUTES_NS * 1000 - 500_000_000);
        let mut s = IntervalScheduler::new(10, 1000.0, start, true);
        let mut out = Vec::new();
        for k in 0..80 {
            s.push(b(7.0 + 20.0 * k as f64), &mut out);
        }
        // Tick at sample 500: windows start 7, 207, 407 (straddles), then 507.
        let starts: Vec<f64> = out.iter().map(|w| w.start).collect();
        assert_eq!(&starts[..5], &[7.0, 207.0, 407.0, 507.0, 707.0]);
        assert_eq!(out[2].end, 607.0);
    }
}
