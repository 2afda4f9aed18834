//! Aggregation of the 0.2-s supraharmonic values over 3 s, 10 min and 2 h, as
//! IEC 61000-4-30 aggregates its other quantities: the root of the mean square of the
//! interval values. The 3-s value gathers 15 consecutive intervals of the grid; the 10-min
//! and 2-h values gather the intervals that start within each period of the clock (UTC),
//! so they line up with the other 10-min and 2-h aggregates. The largest PLC window is
//! aggregated by its maximum, the PLC level by the RMS over the intervals in which the band
//! was active, the active share by its mean.

use super::{CenelecBand, SupraharmonicRecord, INTERVAL_SECONDS};
use pqe_core::Timestamp;

/// The aggregation periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupraharmonicPeriod {
    /// 15 intervals of 0.2 s.
    ThreeSeconds,
    /// 10 minutes of the clock.
    TenMinutes,
    /// 2 hours of the clock.
    TwoHours,
}

impl SupraharmonicPeriod {
    /// The name the output tables use ("3s", "10min", "2h").
    pub fn as_str(self) -> &'static str {
        match self {
            SupraharmonicPeriod::ThreeSeconds => "3s",
            SupraharmonicPeriod::TenMinutes => "10min",
            SupraharmonicPeriod::TwoHours => "2h",
        }
    }

    fn seconds(self) -> f64 {
        match self {
            SupraharmonicPeriod::ThreeSeconds => 15.0 * INTERVAL_SECONDS,
            SupraharmonicPeriod::TenMinutes => 600.0,
            SupraharmonicPeriod::TwoHours => 7200.0,
        }
    }
}

/// One band of an aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct PlcBandAggregate {
    /// The band.
    pub band: CenelecBand,
    /// RMS of the interval levels over the intervals in which the band was active; NaN when
    /// it never was.
    pub level: f64,
    /// The largest 5-ms window of the period.
    pub peak: f64,
    /// RMS of the interval band RMS values.
    pub rms: f64,
    /// Mean active share.
    pub active_fraction: f64,
}

/// One channel's values over one aggregation period.
#[derive(Debug, Clone, PartialEq)]
pub struct SupraharmonicAggregate {
    /// Index of the channel.
    pub channel: usize,
    /// The period.
    pub period: SupraharmonicPeriod,
    /// Absolute time of the first interval aggregated.
    pub start: Timestamp,
    /// Seconds from the first sample to that interval's start.
    pub t: f64,
    /// How many intervals were aggregated (15 for a full 3-s period, 3000 for 10 min).
    pub intervals: usize,
    /// 2–9 kHz groups, RMS.
    pub groups: Vec<f64>,
    /// 9–150 kHz bins (interval maxima), RMS.
    pub bins_max: Vec<f64>,
    /// 9–150 kHz bins (interval RMS), RMS.
    pub bins_rms: Vec<f64>,
    /// The CENELEC bands.
    pub plc: Vec<PlcBandAggregate>,
}

#[derive(Debug, Clone)]
struct Accumulator {
    key: i64,
    start: Timestamp,
    t: f64,
    count: usize,
    groups: Vec<f64>,
    bins_max: Vec<f64>,
    bins_rms: Vec<f64>,
    plc_level: Vec<(f64, usize)>,
    plc_peak: Vec<f64>,
    plc_rms: Vec<f64>,
    plc_active: Vec<f64>,
    bands: Vec<CenelecBand>,
}

impl Accumulator {
    fn new(key: i64, r: &SupraharmonicRecord) -> Self {
        let n = r.plc.len();
        Accumulator {
            key,
            start: r.start,
            t: r.t,
            count: 0,
            groups: vec![0.0; r.groups.len()],
            bins_max: vec![0.0; r.bins_max.len()],
            bins_rms: vec![0.0; r.bins_rms.len()],
            plc_level: vec![(0.0, 0); n],
            plc_peak: vec![0.0; n],
            plc_rms: vec![0.0; n],
            plc_active: vec![0.0; n],
            bands: r.plc.iter().map(|b| b.band).collect(),
        }
    }

    fn add(&mut self, r: &SupraharmonicRecord) {
        self.count += 1;
        let sq = |acc: &mut Vec<f64>, v: &[f64]| {
            for (a, x) in acc.iter_mut().zip(v) {
                *a += x * x;
            }
        };
        sq(&mut self.groups, &r.groups);
        sq(&mut self.bins_max, &r.bins_max);
        sq(&mut self.bins_rms, &r.bins_rms);
        for (i, b) in r.plc.iter().enumerate().take(self.bands.len()) {
            if b.level.is_finite() {
                self.plc_level[i].0 += b.level * b.level;
                self.plc_level[i].1 += 1;
            }
            self.plc_peak[i] = self.plc_peak[i].max(b.peak);
            self.plc_rms[i] += b.rms * b.rms;
            self.plc_active[i] += b.active_fraction;
        }
    }

    fn close(self, channel: usize, period: SupraharmonicPeriod) -> SupraharmonicAggregate {
        let n = self.count as f64;
        let root = |v: Vec<f64>| v.into_iter().map(|s| (s / n).sqrt()).collect();
        let plc = (0..self.bands.len())
            .map(|i| PlcBandAggregate {
                band: self.bands[i],
                level: match self.plc_level[i] {
                    (_, 0) => f64::NAN,
                    (s, k) => (s / k as f64).sqrt(),
                },
                peak: self.plc_peak[i],
                rms: (self.plc_rms[i] / n).sqrt(),
                active_fraction: self.plc_active[i] / n,
            })
            .collect();
        SupraharmonicAggregate {
            channel,
            period,
            start: self.start,
            t: self.t,
            intervals: self.count,
            groups: root(self.groups),
            bins_max: root(self.bins_max),
            bins_rms: root(self.bins_rms),
            plc,
        }
    }
}

/// Aggregates records of one period, channel by channel.
#[derive(Debug, Clone)]
pub struct SupraharmonicAggregator {
    period: SupraharmonicPeriod,
    origin: Option<Timestamp>,
    open: Vec<Option<Accumulator>>,
}

impl SupraharmonicAggregator {
    /// An aggregator over `period`.
    pub fn new(period: SupraharmonicPeriod) -> Self {
        SupraharmonicAggregator {
            period,
            origin: None,
            open: Vec::new(),
        }
    }

    fn key(&mut self, r: &SupraharmonicRecord) -> i64 {
        match self.period {
            SupraharmonicPeriod::ThreeSeconds => {
                let origin = *self.origin.get_or_insert_with(|| r.start.add_seconds(-r.t));
                // Interval starts sit on the 0.2-s grid (plus the settling offset); a tenth
                // of an interval keeps rounding away from the boundaries.
                let s = r.start.seconds_since(origin) + 0.1 * INTERVAL_SECONDS;
                (s / self.period.seconds()).floor() as i64
            }
            _ => {
                let ns = (self.period.seconds() * 1e9) as i64;
                r.start.0.div_euclid(ns)
            }
        }
    }

    /// Add one record; returns the aggregate of its channel's previous period when this
    /// record starts a new one.
    pub fn push(&mut self, r: &SupraharmonicRecord) -> Option<SupraharmonicAggregate> {
        let key = self.key(r);
        if self.open.len() <= r.channel {
            self.open.resize(r.channel + 1, None);
        }
        let slot = &mut self.open[r.channel];
        let closed = match slot {
            Some(acc) if acc.key != key => slot.take().map(|a| a.close(r.channel, self.period)),
            _ => None,
        };
        slot.get_or_insert_with(|| Accumulator::new(key, r)).add(r);
        closed
    }

    /// Close every open period (end of the stream).
    pub fn finish(&mut self) -> Vec<SupraharmonicAggregate> {
        let period = self.period;
        self.open
            .iter_mut()
            .enumerate()
            .filter_map(|(c, slot)| slot.take().map(|a| a.close(c, period)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supraharmonics::PlcBandReading;

    fn record(i: usize, value: f64, level: f64) -> SupraharmonicRecord {
        // Intervals on the grid 20 ms after a start 10 s before a 10-minute boundary.
        let origin = Timestamp::from_nanos(1_699_999_800_000_000_000 - 10_000_000_000);
        let t = 0.02 + 0.2 * i as f64;
        SupraharmonicRecord {
            channel: 0,
            start: origin.add_seconds(t),
            t,
            groups: vec![value; 2],
            bins_max: vec![2.0 * value],
            bins_rms: vec![value],
            plc: vec![PlcBandReading {
                band: CenelecBand::A,
                level,
                peak: value,
                rms: value,
                active_fraction: if level.is_nan() { 0.0 } else { 0.5 },
                carriers: Vec::new(),
                signal: None,
            }],
        }
    }

    #[test]
    fn three_seconds_gather_fifteen_intervals_by_rms() {
        let mut agg = SupraharmonicAggregator::new(SupraharmonicPeriod::ThreeSeconds);
        let mut out = Vec::new();
        for i in 0..31 {
            // Values 1 and 3 alternating: RMS √5; the PLC level only on odd intervals.
            let v = if i % 2 == 0 { 1.0 } else { 3.0 };
            let level = if i % 2 == 1 { 2.0 } else { f64::NAN };
            out.extend(agg.push(&record(i, v, level)));
        }
        out.extend(agg.finish());
        assert_eq!(
            out.iter().map(|a| a.intervals).collect::<Vec<_>>(),
            vec![15, 15, 1]
        );
        let a = &out[0];
        let want = ((8.0 * 1.0 + 7.0 * 9.0) / 15.0f64).sqrt();
        assert!((a.groups[0] - want).abs() < 1e-12);
        assert!((a.bins_max[0] - 2.0 * want).abs() < 1e-12);
        assert_eq!(a.plc[0].level, 2.0);
        assert_eq!(a.plc[0].peak, 3.0);
        assert!((a.plc[0].active_fraction - 3.5 / 15.0).abs() < 1e-12);
        assert!((out[1].t - 3.02).abs() < 1e-9);
    }

    #[test]
    fn ten_minutes_follow_the_clock() {
        // The recording starts 10 s before a 10-minute boundary of the clock: the first
        // aggregate holds the intervals before it, the second starts on it.
        let mut agg = SupraharmonicAggregator::new(SupraharmonicPeriod::TenMinutes);
        let mut out = Vec::new();
        for i in 0..100 {
            out.extend(agg.push(&record(i, 1.0, f64::NAN)));
        }
        out.extend(agg.finish());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].intervals, 50);
        assert_eq!(out[1].start.0 % 600_000_000_000, 20_000_000);
        assert!(out[0].plc[0].level.is_nan());
    }
}
