//! The 10-s frequency value of IEC 61000-4-30 Ed.3 5.1.
//!
//! "The frequency reading shall be obtained every 10 s … as the ratio of the number of
//! integral cycles counted during the 10 s time clock interval, divided by the cumulative
//! duration of the integer cycles." The periods are aligned to the clock: they start at
//! absolute times that are multiples of 10 s (4.6 time-clock uncertainty aside), whatever
//! the recording's start. A cycle counts when it lies wholly inside the period; the cycle
//! that straddles a boundary belongs to neither.
//!
//! Only cycles tracked on the signal at both ends are counted; a period holding untracked
//! cycles (no signal, missing samples), not wholly recorded (the recording's first and
//! last periods, a gap), or whose counted cycles leave more than two nominal periods
//! uncovered at either end (tracking still settling), is flagged.

use super::tracker::CycleBoundary;
use pqe_core::record::FrequencyRecord;
use pqe_core::Timestamp;

const PERIOD_NS: i64 = 10_000_000_000;

/// Streaming 10-s frequency; feed it every cycle boundary in order.
#[derive(Debug, Clone)]
pub struct TenSecondFrequency {
    recording_start: Timestamp,
    sample_rate: f64,
    /// Number k of the current period [k·10 s, (k+1)·10 s).
    slot: i64,
    slot_start: f64,
    slot_end: f64,
    cycles: u64,
    duration: f64,
    incomplete: bool,
    untracked: bool,
    previous: Option<CycleBoundary>,
    /// Start of the first and end of the last counted cycle.
    covered: Option<(f64, f64)>,
    /// Largest uncovered stretch at either end of a period that is still complete, samples.
    tolerance: f64,
}

impl TenSecondFrequency {
    /// A 10-s frequency for a recording whose sample 0 is at `recording_start`, on a supply
    /// of `nominal_hz`.
    pub fn new(recording_start: Timestamp, sample_rate: f64, nominal_hz: f64) -> Self {
        let slot = recording_start.as_nanos().div_euclid(PERIOD_NS);
        let mut f = TenSecondFrequency {
            recording_start,
            sample_rate,
            slot,
            slot_start: 0.0,
            slot_end: 0.0,
            cycles: 0,
            duration: 0.0,
            incomplete: false,
            untracked: false,
            previous: None,
            covered: None,
            tolerance: 2.0 * sample_rate / nominal_hz,
        };
        f.enter(slot);
        f.incomplete = recording_start.as_nanos() != slot * PERIOD_NS;
        f
    }

    fn position_of(&self, ns: i64) -> f64 {
        (ns - self.recording_start.as_nanos()) as f64 * 1e-9 * self.sample_rate
    }

    fn enter(&mut self, slot: i64) {
        self.slot = slot;
        self.slot_start = self.position_of(slot * PERIOD_NS);
        self.slot_end = self.position_of((slot + 1) * PERIOD_NS);
        self.cycles = 0;
        self.duration = 0.0;
        self.incomplete = false;
        self.untracked = false;
        self.covered = None;
    }

    fn record(&self) -> FrequencyRecord {
        let start = Timestamp::from_nanos(self.slot * PERIOD_NS);
        let frequency = if self.cycles > 0 {
            self.cycles as f64 * self.sample_rate / self.duration
        } else {
            f64::NAN
        };
        let uncovered = match self.covered {
            Some((first, last)) => {
                first - self.slot_start > self.tolerance || self.slot_end - last > self.tolerance
            }
            None => true,
        };
        FrequencyRecord {
            t: start.seconds_since(self.recording_start),
            start,
            frequency,
            cycles: self.cycles,
            flagged: self.incomplete || self.untracked || uncovered,
        }
    }

    /// Take the next cycle boundary; returns the records of the periods it closes.
    pub fn push(&mut self, boundary: CycleBoundary, out: &mut Vec<FrequencyRecord>) {
        if let Some(prev) = self.previous {
            let inside = prev.position >= self.slot_start && boundary.position <= self.slot_end;
            if inside {
                if prev.tracked && boundary.tracked {
                    self.cycles += 1;
                    self.duration += boundary.position - prev.position;
                    let first = self.covered.map_or(prev.position, |(f, _)| f);
                    self.covered = Some((first, boundary.position));
                } else {
                    self.untracked = true;
                }
            }
        }
        while boundary.position > self.slot_end {
            out.push(self.record());
            let next = self.slot + 1;
            self.enter(next);
            if boundary.position > self.slot_end {
                // A whole period without a boundary: only after a restart, see `restart`.
                self.incomplete = true;
            }
        }
        self.previous = Some(boundary);
    }

    /// The recording continues after a gap at sample `position`: the period in progress
    /// loses its continuity (flagged); periods wholly inside the gap produce nothing.
    pub fn restart(&mut self, position: f64, out: &mut Vec<FrequencyRecord>) {
        self.previous = None;
        if position > self.slot_end {
            if self.cycles > 0 {
                self.incomplete = true;
                out.push(self.record());
            }
            let ns = self.recording_start.as_nanos()
                + (position / self.sample_rate * 1e9).round() as i64;
            let slot = ns.div_euclid(PERIOD_NS);
            self.enter(slot);
        }
        self.incomplete = true;
    }

    /// The recording ended at sample `position`: the period in progress, if it counted
    /// any cycle, is reported (flagged unless the recording reached its end).
    pub fn finish(&mut self, position: f64, out: &mut Vec<FrequencyRecord>) {
        if self.cycles > 0 {
            if position < self.slot_end {
                self.incomplete = true;
            }
            out.push(self.record());
        }
        self.cycles = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary(position: f64) -> CycleBoundary {
        CycleBoundary {
            position,
            tracked: true,
            ready_at: position.ceil() as u64,
        }
    }

    #[test]
    fn counts_whole_cycles_per_clock_period() {
        // 1 kHz sampling, 50.2 Hz, recording starting 3 s after a 10-s tick.
        let fs = 1000.0;
        let start = Timestamp::from_nanos(1_700_000_003_000_000_000);
        let mut f = TenSecondFrequency::new(start, fs, 50.0);
        let mut out = Vec::new();
        let period = fs / 50.2;
        let mut k = 0.0;
        while k * period < 25_000.0 {
            f.push(boundary(0.37 + k * period), &mut out);
            k += 1.0;
        }
        f.finish(25_000.0, &mut out);
        assert_eq!(out.len(), 3);
        assert!(out[0].flagged && !out[1].flagged && out[2].flagged);
        assert_eq!(out[1].t, 7.0);
        assert_eq!(out[1].start.as_nanos() % PERIOD_NS, 0);
        assert!((out[1].frequency - 50.2).abs() < 1e-9);
        assert!(out[1].cycles == 501 || out[1].cycles == 502);
    }
}
