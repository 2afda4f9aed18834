//! Pulse inputs as streams of edge times.
//!
//! A meter's S0 output (IEC 62053-31) or its test LED read by a scanning head reaches the bench
//! as a sequence of level changes. [`PulseShaper`] turns those edges into pulses: an edge
//! followed by the opposite edge within the debounce time is contact bounce and dropped
//! (both edges), and a pulse shorter than the minimum width is reported as rejected rather
//! than counted or silently lost. [`ThresholdDetector`] makes edges from an analogue channel
//! (a scanning head's photodiode, a recorded pulse line) with hysteresis, placing each edge
//! at the linearly interpolated crossing between two samples.

use crate::{Error, Result};

/// Minimum pulse width of an S0 output per IEC 62053-31 (≥ 30 ms), in seconds.
pub const S0_MIN_PULSE_WIDTH_S: f64 = 0.030;

/// One level change of a pulse line, at `time` seconds from the start of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// Seconds from the start of the test.
    pub time: f64,
    /// `true` when the line goes to its active level (the pulse starts).
    pub rising: bool,
}

impl Edge {
    /// A rising (pulse-start) edge at `time`.
    pub fn rising(time: f64) -> Self {
        Edge { time, rising: true }
    }
    /// A falling (pulse-end) edge at `time`.
    pub fn falling(time: f64) -> Self {
        Edge {
            time,
            rising: false,
        }
    }
}

/// What the shaper makes of the edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PulseEvent {
    /// A valid pulse: it started (active edge) at `start` and ended at `end`.
    Pulse {
        /// Time of the active edge, seconds; the pulse's time stamp.
        start: f64,
        /// Time of the trailing edge, seconds.
        end: f64,
    },
    /// A level change pair shorter than the minimum width (after debouncing): not counted.
    Rejected {
        /// Time of the active edge, seconds.
        start: f64,
        /// Its width, seconds.
        width: f64,
    },
}

/// Settings of a pulse input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseInputConfig {
    /// Two opposite edges closer than this are bounce and both dropped, seconds.
    pub debounce_s: f64,
    /// Pulses narrower than this are rejected, seconds.
    pub min_width_s: f64,
}

impl PulseInputConfig {
    /// An S0 input: 30 ms minimum width (IEC 62053-31), 2 ms debounce.
    pub fn s0() -> Self {
        PulseInputConfig {
            debounce_s: 0.002,
            min_width_s: S0_MIN_PULSE_WIDTH_S,
        }
    }
}

/// Sans-IO pulse shaper: edges in, [`PulseEvent`]s out.
#[derive(Debug, Clone)]
pub struct PulseShaper {
    config: PulseInputConfig,
    /// The last edge, not yet confirmed (it may still be cancelled as bounce).
    pending: Option<Edge>,
    /// Confirmed level: `Some(start)` while a pulse is active.
    active_since: Option<f64>,
    last_time: Option<f64>,
    edges_seen: u64,
    bounces: u64,
}

impl PulseShaper {
    /// A shaper with `config`; the line starts inactive.
    pub fn new(config: PulseInputConfig) -> Result<Self> {
        if !(config.debounce_s >= 0.0 && config.debounce_s.is_finite()) {
            return Err(Error::Invalid(format!(
                "debounce time {} s: must be ≥ 0",
                config.debounce_s
            )));
        }
        if !(config.min_width_s >= 0.0 && config.min_width_s.is_finite()) {
            return Err(Error::Invalid(format!(
                "minimum pulse width {} s: must be ≥ 0",
                config.min_width_s
            )));
        }
        Ok(PulseShaper {
            config,
            pending: None,
            active_since: None,
            last_time: None,
            edges_seen: 0,
            bounces: 0,
        })
    }

    /// Edges that were bounce (dropped in pairs) so far.
    pub fn bounces(&self) -> u64 {
        self.bounces
    }

    /// Feed one edge; returns the event it completes, if any. Edges must come in time order:
    /// an edge earlier than its predecessor is an error naming its index in the stream.
    pub fn push(&mut self, edge: Edge) -> Result<Option<PulseEvent>> {
        let index = self.edges_seen;
        self.edges_seen += 1;
        if !edge.time.is_finite() {
            return Err(Error::Invalid(format!(
                "edge {index}: time {} is not a finite number",
                edge.time
            )));
        }
        if let Some(last) = self.last_time {
            if edge.time < last {
                return Err(Error::Invalid(format!(
                    "edge {index} at {} s comes before the previous edge at {last} s",
                    edge.time
                )));
            }
        }
        self.last_time = Some(edge.time);
        match self.pending {
            Some(p) if p.rising != edge.rising && edge.time - p.time < self.config.debounce_s => {
                // A level change undone within the debounce time: bounce.
                self.pending = None;
                self.bounces += 1;
                Ok(None)
            }
            Some(p) => {
                self.pending = Some(edge);
                Ok(self.confirm(p))
            }
            None => {
                self.pending = Some(edge);
                Ok(None)
            }
        }
    }

    /// Confirm pending edges older than the debounce time at `now` (call when the input has
    /// been quiet, e.g. at the end of a gate); returns the event completed, if any.
    pub fn advance(&mut self, now: f64) -> Option<PulseEvent> {
        match self.pending {
            Some(p) if now - p.time >= self.config.debounce_s => {
                self.pending = None;
                self.confirm(p)
            }
            _ => None,
        }
    }

    fn confirm(&mut self, edge: Edge) -> Option<PulseEvent> {
        match (edge.rising, self.active_since) {
            (true, None) => {
                self.active_since = Some(edge.time);
                None
            }
            (false, Some(start)) => {
                self.active_since = None;
                let width = edge.time - start;
                Some(if width >= self.config.min_width_s {
                    PulseEvent::Pulse {
                        start,
                        end: edge.time,
                    }
                } else {
                    PulseEvent::Rejected { start, width }
                })
            }
            // A repeated level (e.g. the second half of a bounce pair that straddled the
            // debounce time): no change of state.
            _ => None,
        }
    }

    /// Shape a whole edge list; returns the valid pulses' start times and the rejected events.
    pub fn shape_all(
        config: PulseInputConfig,
        edges: &[Edge],
    ) -> Result<(Vec<f64>, Vec<PulseEvent>)> {
        let mut shaper = PulseShaper::new(config)?;
        let mut starts = Vec::new();
        let mut rejected = Vec::new();
        let mut take = |ev: Option<PulseEvent>| match ev {
            Some(PulseEvent::Pulse { start, .. }) => starts.push(start),
            Some(r @ PulseEvent::Rejected { .. }) => rejected.push(r),
            None => {}
        };
        for &e in edges {
            take(shaper.push(e)?);
        }
        take(shaper.advance(f64::INFINITY));
        Ok((starts, rejected))
    }
}

/// Edges from an analogue channel by a threshold with hysteresis (a Schmitt trigger).
#[derive(Debug, Clone)]
pub struct ThresholdDetector {
    high: f64,
    low: f64,
    sample_rate: f64,
    next_index: u64,
    start_time: f64,
    previous: Option<f64>,
    active: bool,
}

impl ThresholdDetector {
    /// The line becomes active above `high` and inactive below `low` (`low ≤ high`); samples
    /// at `sample_rate` Hz, the first at `start_time` s.
    pub fn new(high: f64, low: f64, sample_rate: f64, start_time: f64) -> Result<Self> {
        if !(low <= high) || !high.is_finite() || !low.is_finite() {
            return Err(Error::Invalid(format!(
                "threshold: low {low} must not exceed high {high}"
            )));
        }
        if !(sample_rate > 0.0 && sample_rate.is_finite()) {
            return Err(Error::Invalid(format!(
                "sample rate {sample_rate} Hz: must be > 0"
            )));
        }
        Ok(ThresholdDetector {
            high,
            low,
            sample_rate,
            next_index: 0,
            start_time,
            previous: None,
            active: false,
        })
    }

    /// Feed samples (any block length); returns the edges they contain.
    pub fn push(&mut self, samples: &[f64]) -> Vec<Edge> {
        let mut edges = Vec::new();
        for &x in samples {
            let i = self.next_index;
            self.next_index += 1;
            let t = self.start_time + i as f64 / self.sample_rate;
            let level = if self.active { self.low } else { self.high };
            let crossed = if self.active { x < level } else { x > level };
            if crossed {
                // Interpolate the crossing between the previous sample and this one.
                let time = match self.previous {
                    Some(p) if p != x => {
                        let frac = ((level - p) / (x - p)).clamp(0.0, 1.0);
                        t - (1.0 - frac) / self.sample_rate
                    }
                    _ => t,
                };
                self.active = !self.active;
                edges.push(Edge {
                    time,
                    rising: self.active,
                });
            }
            self.previous = Some(x);
        }
        edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_is_dropped_and_short_pulses_rejected() {
        let cfg = PulseInputConfig::s0();
        let edges = [
            Edge::rising(1.0),
            Edge::falling(1.0005), // bounce
            Edge::rising(1.001),
            Edge::falling(1.040), // 39 ms pulse: valid
            Edge::rising(2.0),
            Edge::falling(2.010), // 10 ms: rejected
            Edge::rising(3.0),
            Edge::falling(3.050),
        ];
        let (starts, rejected) = PulseShaper::shape_all(cfg, &edges).unwrap();
        assert_eq!(starts, vec![1.001, 3.0]);
        assert_eq!(rejected.len(), 1);
        match rejected[0] {
            PulseEvent::Rejected { start, width } => {
                assert_eq!(start, 2.0);
                assert!((width - 0.010).abs() < 1e-12);
            }
            _ => panic!(),
        }
    }

    #[test]
    fn out_of_order_edge_is_an_error_naming_it() {
        let mut s = PulseShaper::new(PulseInputConfig::s0()).unwrap();
        s.push(Edge::rising(1.0)).unwrap();
        let e = s.push(Edge::falling(0.5)).unwrap_err().to_string();
        assert!(e.contains("edge 1"), "{e}");
    }

    #[test]
    fn threshold_interpolates_crossings() {
        // 1 kHz samples of a ramp 0..1 over 10 samples then back down.
        let mut d = ThresholdDetector::new(0.55, 0.45, 1000.0, 0.0).unwrap();
        let up: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
        let down: Vec<f64> = (0..=10).rev().map(|i| i as f64 / 10.0).collect();
        let mut edges = d.push(&up[..5]);
        edges.extend(d.push(&up[5..]));
        edges.extend(d.push(&down));
        assert_eq!(edges.len(), 2);
        assert!(edges[0].rising && (edges[0].time - 0.0055).abs() < 1e-12);
        // down starts at sample 11 (t = 11 ms) with 1.0; 0.45 is crossed 5.5 samples later.
        assert!(!edges[1].rising && (edges[1].time - 0.0165).abs() < 1e-12);
    }
}
