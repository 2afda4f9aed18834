//! Limit learning: alarm setpoints proposed from a recording's own statistics, the way
//! panel meters "learn" their high/low limits before a user edits and applies them.
//!
//! Meters that learn (Schneider ION9000's setpoint learning and its predecessors) do not
//! publish their statistic, so PQE's rule is its own and stated here in full (after the
//! recommendation in the project's reference notes, ENERGY-DEMAND-DIRECTION.md §7):
//!
//! - Intervals flagged per IEC 61000-4-30 (a dip, swell or interruption inside) are left
//!   out, and so are values that are not finite.
//! - Per quantity: mean and standard deviation (Welford), and quantiles from a
//!   log-bucketed histogram of the deviations from a centre (the nominal for voltage and
//!   frequency, else the first value), each known to 0.1 % of its size ([`QuantileSketch`]).
//! - **Normal-like** quantities (voltage, frequency): high pickup = max(Q99.9, mean + 4σ),
//!   low pickup = min(Q0.1, mean − 4σ). **Skewed** ones (current, THD, unbalance): high
//!   pickup = Q99.9 + 0.5·(Q99.9 − median); they get no low setpoint.
//! - Dropout = pickup ∓ max(a floor, 10 % of the gap between pickup and median), the floor
//!   2 % of the nominal for voltage and 0.1 % (0.05 Hz at 50 Hz) for frequency, and never
//!   more than half the gap (the dropout stays between the median and the pickup).
//! - Pickup and dropout delay = 1.5 × the longest *normal excursion* beyond the dropout
//!   level (a run of values beyond the dropout that never reached the pickup), at least
//!   one interval, at most [`MAX_DELAY_SECONDS`]. Runs are measured on the per-second
//!   extremes of the quantity; on recordings longer than [`SERIES_SECONDS`] the seconds are
//!   merged pairwise, and the resolution of the delay is stated in the result.
//! - Voltage pickups are clamped to the EN 50160 supply-voltage band (Udin ± 10 %) and
//!   frequency pickups to its ± 1 % band: a learned limit looser than the standard's is
//!   replaced by the standard's, and the result says so.
//! - At least a day of recording is needed ([`MIN_SECONDS`], from the first interval's
//!   start to the last one's end, short of at most [`END_ALLOWANCE_SECONDS`] for the
//!   partial 10/12-cycle intervals at the ends): a shorter one has not seen a daily load
//!   cycle. Whether the statistics had settled is reported: the
//!   high pickup is computed at every day's end and is *settled* when it moved less than
//!   1 % over the last quarter of the days (at least two days).

use pqe_core::{Error, Result, Timestamp};
use std::collections::BTreeMap;

/// Shortest recording limits are learned from: one day.
pub const MIN_SECONDS: f64 = 86_400.0;

/// How much of [`MIN_SECONDS`] the intervals may miss at the recording's ends (an
/// analyser's intervals start at its first whole 10/12 cycles), seconds.
pub const END_ALLOWANCE_SECONDS: f64 = 1.0;

/// Longest pickup or dropout delay proposed, seconds.
pub const MAX_DELAY_SECONDS: f64 = 60.0;

/// Seconds of per-second extremes kept at full resolution (a week); longer recordings
/// are kept at 2, 4, … s.
pub const SERIES_SECONDS: usize = 7 * 86_400;

/// Relative accuracy of the quantiles.
pub const QUANTILE_ACCURACY: f64 = 1e-3;

/// Quantiles of a stream of numbers in bounded memory: a histogram with logarithmic
/// buckets, each value known to within [`QUANTILE_ACCURACY`] of its size (the idea of
/// Masson, Rim and Lee's DDSketch, PVLDB 12(12), 2019). Negative values use a mirrored
/// histogram, zero its own count.
#[derive(Debug, Clone, Default)]
pub struct QuantileSketch {
    positive: BTreeMap<i32, u64>,
    negative: BTreeMap<i32, u64>,
    zeros: u64,
    count: u64,
}

impl QuantileSketch {
    fn gamma() -> f64 {
        (1.0 + QUANTILE_ACCURACY) / (1.0 - QUANTILE_ACCURACY)
    }

    fn key(magnitude: f64) -> i32 {
        (magnitude.ln() / Self::gamma().ln()).ceil() as i32
    }

    fn value(key: i32) -> f64 {
        let g = Self::gamma();
        2.0 * g.powi(key) / (g + 1.0)
    }

    /// Add a finite value (others are ignored).
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.count += 1;
        if x.abs() < 1e-300 {
            self.zeros += 1;
        } else if x > 0.0 {
            *self.positive.entry(Self::key(x)).or_default() += 1;
        } else {
            *self.negative.entry(Self::key(-x)).or_default() += 1;
        }
    }

    /// Values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (0 ≤ q ≤ 1) by the nearest rank, `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64;
        let mut seen = 0u64;
        for (&k, &n) in self.negative.iter().rev() {
            seen += n;
            if seen > rank {
                return Some(-Self::value(k));
            }
        }
        seen += self.zeros;
        if seen > rank {
            return Some(0.0);
        }
        for (&k, &n) in &self.positive {
            seen += n;
            if seen > rank {
                return Some(Self::value(k));
            }
        }
        self.positive.keys().next_back().map(|&k| Self::value(k))
    }
}

/// How a quantity's values spread, which chooses the pickup rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Around a nominal (voltage, frequency): high and low setpoints, mean ± 4σ or the
    /// 0.1 %/99.9 % quantiles, whichever lies further out.
    NormalLike,
    /// From zero up with a long upper tail (current, THD, unbalance): a high setpoint only.
    Skewed,
}

/// A quantity to learn limits for.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningRule {
    /// Column name (`U_A`, `f`, `THD_I_B`, …).
    pub quantity: String,
    /// Which pickup rule.
    pub spread: Spread,
    /// The nominal value, for the EN 50160 clamps (`None` for others).
    pub nominal: Option<f64>,
    /// The smallest distance between pickup and dropout (2 % of the nominal for voltage,
    /// 0.1 % for frequency, 0 for others).
    pub dropout_floor: f64,
    /// The EN 50160 band as fractions of the nominal (0.10 for voltage, 0.01 for
    /// frequency): learned pickups beyond it are clamped to it.
    pub band: Option<f64>,
}

impl LearningRule {
    /// The rule for an interval-table column, chosen by its name: phase voltages and
    /// line-to-line voltages (`U_A`, `U_AB`), the frequency, currents (`I_A`), THD of
    /// either (`THD_U_A`, `THD_I_A`), negative-sequence unbalance (`u2`). Other columns
    /// get no rule.
    pub fn for_column(name: &str, udin: f64, nominal_frequency: f64) -> Option<Self> {
        let rule = |spread, nominal: Option<f64>, band, floor: f64| {
            Some(LearningRule {
                quantity: name.to_string(),
                spread,
                nominal,
                band,
                dropout_floor: nominal.map_or(0.0, |n| floor * n),
            })
        };
        let phase_suffix = |rest: &str| {
            matches!(
                rest,
                "A" | "B" | "C" | "AB" | "BC" | "CA" | "1" | "2" | "3" | "N"
            )
        };
        if name == "f" {
            return rule(
                Spread::NormalLike,
                Some(nominal_frequency),
                Some(0.01),
                0.001,
            );
        }
        if name == "u2" {
            return rule(Spread::Skewed, None, None, 0.0);
        }
        if let Some(rest) = name.strip_prefix("U_") {
            if phase_suffix(rest) && rest != "N" {
                let nominal = if rest.len() == 2 {
                    udin * 3f64.sqrt()
                } else {
                    udin
                };
                return rule(Spread::NormalLike, Some(nominal), Some(0.10), 0.02);
            }
        }
        if let Some(rest) = name.strip_prefix("I_") {
            if phase_suffix(rest) {
                return rule(Spread::Skewed, None, None, 0.0);
            }
        }
        if let Some(rest) = name
            .strip_prefix("THD_U_")
            .or_else(|| name.strip_prefix("THD_I_"))
        {
            if phase_suffix(rest) {
                return rule(Spread::Skewed, None, None, 0.0);
            }
        }
        None
    }
}

/// Per-second extremes of one quantity over the recording, coarsened pairwise when full.
#[derive(Debug, Clone)]
struct ExtremeSeries {
    /// Seconds per entry.
    step: u64,
    /// Entry index (from the learner's origin, in steps) → (min, max).
    first: Option<u64>,
    entries: Vec<(f32, f32)>,
}

impl ExtremeSeries {
    fn new() -> Self {
        ExtremeSeries {
            step: 1,
            first: None,
            entries: Vec::new(),
        }
    }

    fn push(&mut self, second: u64, v: f64) {
        let v = v as f32;
        let first = *self.first.get_or_insert(second / self.step);
        let mut k = (second / self.step - first) as usize;
        while k >= SERIES_SECONDS {
            self.coarsen();
            k = (second / self.step - self.first.expect("set")) as usize;
        }
        if k >= self.entries.len() {
            self.entries.resize(k + 1, (f32::NAN, f32::NAN));
        }
        let e = &mut self.entries[k];
        e.0 = e.0.min(v);
        e.1 = e.1.max(v);
    }

    fn coarsen(&mut self) {
        let first = self.first.expect("coarsened only when filled");
        // Entry k covers steps first + k; merged entries cover 2·step seconds from an even
        // multiple of the new step.
        let new_step = self.step * 2;
        let new_first = first * self.step / new_step;
        let mut merged: Vec<(f32, f32)> = Vec::with_capacity(self.entries.len() / 2 + 1);
        for (k, e) in self.entries.iter().enumerate() {
            let second = (first + k as u64) * self.step;
            let j = (second / new_step - new_first) as usize;
            if j >= merged.len() {
                merged.resize(j + 1, (f32::NAN, f32::NAN));
            }
            let m = &mut merged[j];
            // f32::min/max return the other argument when one is NaN (no data).
            m.0 = m.0.min(e.0);
            m.1 = m.1.max(e.1);
        }
        self.step = new_step;
        self.first = Some(new_first);
        self.entries = merged;
    }

    /// The longest run (seconds) of entries beyond `dropout` that never went beyond
    /// `pickup` (over: above; under: below). Entries without data break a run.
    fn longest_normal_excursion(&self, over: bool, dropout: f64, pickup: f64) -> f64 {
        let (dropout, pickup) = (dropout as f32, pickup as f32);
        let mut longest = 0u64;
        let mut run = 0u64;
        let mut abnormal = false;
        for &(lo, hi) in &self.entries {
            let (beyond_dropout, beyond_pickup) = if over {
                (hi > dropout, hi > pickup)
            } else {
                (lo < dropout, lo < pickup)
            };
            if beyond_dropout {
                run += 1;
                abnormal |= beyond_pickup;
            } else {
                if !abnormal {
                    longest = longest.max(run);
                }
                run = 0;
                abnormal = false;
            }
        }
        if !abnormal {
            longest = longest.max(run);
        }
        (longest * self.step) as f64
    }
}

/// Running statistics of one quantity.
#[derive(Debug, Clone)]
struct QuantityStats {
    /// Deviations from `center` go into the sketch, so that its relative accuracy applies
    /// to them (0.1 % of a 0.02-Hz deviation, not of 50 Hz).
    sketch: QuantileSketch,
    center: Option<f64>,
    count: u64,
    mean: f64,
    m2: f64,
    series: ExtremeSeries,
    /// High pickup at the end of each day.
    daily_high: Vec<f64>,
}

impl QuantityStats {
    fn quantile(&self, q: f64) -> Option<f64> {
        Some(self.center? + self.sketch.quantile(q)?)
    }
}

/// A learned setpoint and the statistics it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedLimit {
    /// The quantity.
    pub quantity: String,
    /// True for a high (over) setpoint, false for a low (under) one.
    pub over: bool,
    /// Pickup level.
    pub pickup: f64,
    /// Dropout level.
    pub dropout: f64,
    /// Pickup and dropout delay, seconds.
    pub delay: f64,
    /// The longest normal excursion beyond the dropout level, seconds (at the series'
    /// resolution).
    pub longest_excursion: f64,
    /// Values the statistics rest on.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sigma: f64,
    /// Median.
    pub median: f64,
    /// 0.1 % quantile.
    pub q001: f64,
    /// 99.9 % quantile.
    pub q999: f64,
    /// Why the pickup is not the statistic's own (an EN 50160 clamp), if it is not.
    pub clamped: Option<String>,
}

/// What limit learning found.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedLimits {
    /// The setpoints, in the order of the rules (high before low).
    pub limits: Vec<LearnedLimit>,
    /// Seconds of unflagged data learned from.
    pub seconds: f64,
    /// Seconds the intervals span, flagged ones included.
    pub span: f64,
    /// Intervals left out because flagged.
    pub flagged: u64,
    /// Days of data.
    pub days: usize,
    /// Whether every high pickup moved less than 1 % over the last quarter of the days.
    pub settled: bool,
    /// Resolution of the delays, seconds.
    pub delay_resolution: f64,
}

/// Learns limits from a stream of intervals (see the module documentation for the rule).
#[derive(Debug, Clone)]
pub struct LimitLearner {
    rules: Vec<LearningRule>,
    stats: Vec<QuantityStats>,
    origin: Option<Timestamp>,
    seconds: f64,
    flagged: u64,
    day: Option<i64>,
    shortest_interval: f64,
    /// First interval's start and last one's end, flagged ones included.
    span: Option<(Timestamp, Timestamp)>,
}

impl LimitLearner {
    /// A learner for `rules`; [`Self::push`] takes the values in the same order.
    pub fn new(rules: Vec<LearningRule>) -> Self {
        let stats = rules
            .iter()
            .map(|_| QuantityStats {
                sketch: QuantileSketch::default(),
                center: None,
                count: 0,
                mean: 0.0,
                m2: 0.0,
                series: ExtremeSeries::new(),
                daily_high: Vec::new(),
            })
            .collect();
        LimitLearner {
            rules,
            stats,
            origin: None,
            seconds: 0.0,
            flagged: 0,
            day: None,
            shortest_interval: f64::INFINITY,
            span: None,
        }
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[LearningRule] {
        &self.rules
    }

    /// Take one interval starting at `start`, `seconds` long, with one value per rule.
    pub fn push(&mut self, start: Timestamp, seconds: f64, flagged: bool, values: &[f64]) {
        let end = start.add_seconds(seconds);
        let span = self.span.get_or_insert((start, end));
        span.0 = span.0.min(start);
        span.1 = span.1.max(end);
        if flagged {
            self.flagged += 1;
            return;
        }
        let origin = *self.origin.get_or_insert(start);
        let day = start.as_nanos().div_euclid(86_400_000_000_000);
        if self.day.is_some_and(|d| d != day) {
            self.close_day();
        }
        self.day = Some(day);
        self.seconds += seconds;
        self.shortest_interval = self.shortest_interval.min(seconds);
        let second = start.seconds_since(origin).max(0.0) as u64;
        for ((s, rule), &v) in self.stats.iter_mut().zip(&self.rules).zip(values) {
            if !v.is_finite() {
                continue;
            }
            let center = *s.center.get_or_insert(rule.nominal.unwrap_or(v));
            s.sketch.push(v - center);
            s.count += 1;
            let d = v - s.mean;
            s.mean += d / s.count as f64;
            s.m2 += d * (v - s.mean);
            s.series.push(second, v);
        }
    }

    fn close_day(&mut self) {
        for (rule, s) in self.rules.iter().zip(&mut self.stats) {
            if let Some(levels) = Self::levels(rule, s, true) {
                s.daily_high.push(levels.0);
            }
        }
    }

    /// (pickup, dropout, clamp note) of the high (`over`) or low setpoint, `None` when the
    /// rule has no such setpoint or no data.
    fn levels(
        rule: &LearningRule,
        s: &QuantityStats,
        over: bool,
    ) -> Option<(f64, f64, Option<String>)> {
        if s.count < 2 || (!over && rule.spread == Spread::Skewed) {
            return None;
        }
        let sigma = (s.m2 / (s.count - 1) as f64).sqrt();
        let median = s.quantile(0.5)?;
        let (q001, q999) = (s.quantile(0.001)?, s.quantile(0.999)?);
        let mut pickup = match (rule.spread, over) {
            (Spread::NormalLike, true) => q999.max(s.mean + 4.0 * sigma),
            (Spread::NormalLike, false) => q001.min(s.mean - 4.0 * sigma),
            (Spread::Skewed, _) => q999 + 0.5 * (q999 - median),
        };
        let mut clamped = None;
        if let (Some(nominal), Some(band)) = (rule.nominal, rule.band) {
            let bound = if over {
                nominal * (1.0 + band)
            } else {
                nominal * (1.0 - band)
            };
            if (over && pickup > bound) || (!over && pickup < bound) {
                clamped = Some(format!(
                    "learned {} clamped to the EN 50160 band (nominal {} {} {} %)",
                    short(pickup),
                    short(nominal),
                    if over { "+" } else { "−" },
                    short(100.0 * band)
                ));
                pickup = bound;
            }
        }
        let gap = (pickup - median).abs();
        let margin = (0.1 * gap).max(rule.dropout_floor).min(0.5 * gap);
        let dropout = if over {
            pickup - margin
        } else {
            pickup + margin
        };
        Some((pickup, dropout, clamped))
    }

    /// Seconds from the first interval's start to the last one's end.
    pub fn span_seconds(&self) -> f64 {
        self.span.map_or(0.0, |(a, b)| b.seconds_since(a))
    }

    /// The proposed setpoints. Refused when the intervals span less than `min_seconds`
    /// ([`MIN_SECONDS`]; less [`END_ALLOWANCE_SECONDS`]) or none was unflagged.
    pub fn finish(mut self, min_seconds: f64) -> Result<LearnedLimits> {
        let span = self.span_seconds();
        if span + END_ALLOWANCE_SECONDS < min_seconds {
            return Err(Error::Config(format!(
                "limit learning needs at least {} h of recording; this one covers {} h",
                short(min_seconds / 3600.0),
                short(span / 3600.0)
            )));
        }
        if self.seconds == 0.0 {
            return Err(Error::Config(
                "limit learning found no unflagged interval to learn from".into(),
            ));
        }
        self.close_day();
        let days = self.stats.first().map_or(0, |s| s.daily_high.len());
        let mut settled = days >= 2;
        let mut limits = Vec::new();
        let mut resolution: f64 = 1.0;
        for (rule, s) in self.rules.iter().zip(&self.stats) {
            resolution = resolution.max(s.series.step as f64);
            let tail = &s.daily_high[s.daily_high.len() - (s.daily_high.len() / 4).max(1)..];
            if let (Some(last), Some(lo), Some(hi)) = (
                s.daily_high.last(),
                tail.iter().copied().reduce(f64::min),
                tail.iter().copied().reduce(f64::max),
            ) {
                // The quarter's values and the day before it.
                let before = s.daily_high[s.daily_high.len().saturating_sub(tail.len() + 1)];
                let spread = hi.max(before) - lo.min(before);
                settled &= spread <= 0.01 * last.abs();
            }
            for over in [true, false] {
                let Some((pickup, dropout, clamped)) = Self::levels(rule, s, over) else {
                    continue;
                };
                let excursion = s.series.longest_normal_excursion(over, dropout, pickup);
                let delay = (1.5 * excursion)
                    .max(self.shortest_interval)
                    .min(MAX_DELAY_SECONDS);
                let sigma = (s.m2 / (s.count - 1) as f64).sqrt();
                limits.push(LearnedLimit {
                    quantity: rule.quantity.clone(),
                    over,
                    pickup,
                    dropout,
                    delay,
                    longest_excursion: excursion,
                    count: s.count,
                    mean: s.mean,
                    sigma,
                    median: s.quantile(0.5).unwrap_or(f64::NAN),
                    q001: s.quantile(0.001).unwrap_or(f64::NAN),
                    q999: s.quantile(0.999).unwrap_or(f64::NAN),
                    clamped,
                });
            }
        }
        Ok(LearnedLimits {
            limits,
            span,
            seconds: self.seconds,
            flagged: self.flagged,
            days,
            settled,
            delay_resolution: resolution,
        })
    }
}

/// A number with at most 6 significant digits, for messages.
fn short(x: f64) -> String {
    let v: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic sequence of standard normal numbers (Box–Muller on an LCG).
    struct Normal(u64);

    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn next(&mut self) -> f64 {
            let (a, b) = (self.uniform(), self.uniform());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        }
    }

    #[test]
    fn quantiles_are_within_their_accuracy() {
        let mut g = Normal(7);
        let mut values: Vec<f64> = (0..200_000).map(|_| 3.0 * g.next() + 1.0).collect();
        let mut sketch = QuantileSketch::default();
        values.iter().for_each(|&v| sketch.push(v));
        sketch.push(f64::NAN);
        values.sort_by(f64::total_cmp);
        for q in [0.0, 0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999, 1.0] {
            let exact = values[(q * (values.len() - 1) as f64).round() as usize];
            let got = sketch.quantile(q).unwrap();
            assert!(
                (got - exact).abs() <= QUANTILE_ACCURACY * exact.abs() + 1e-12,
                "q{q}: {got} against {exact}"
            );
        }
        assert_eq!(sketch.count(), 200_000);
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }

    fn day_of_values(
        learner: &mut LimitLearner,
        days: f64,
        step: f64,
        mut value: impl FnMut(f64) -> Vec<f64>,
    ) {
        let n = (days * 86_400.0 / step).round() as u64;
        for k in 0..n {
            let t = k as f64 * step;
            let start = Timestamp::from_nanos((t * 1e9).round() as i64);
            learner.push(start, step, false, &value(t));
        }
    }

    #[test]
    fn normal_voltage_gets_mean_plus_and_minus_four_sigma() {
        let rules = vec![LearningRule::for_column("U_A", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        let mut g = Normal(11);
        day_of_values(&mut learner, 2.0, 1.0, |_| vec![231.0 + 1.5 * g.next()]);
        // A flagged interval (a dip) is left out.
        learner.push(Timestamp::from_nanos(0), 0.2, true, &[20.0]);
        let l = learner.finish(MIN_SECONDS).unwrap();
        assert_eq!(l.flagged, 1);
        assert_eq!(l.days, 2);
        assert!(l.settled, "two days of the same statistics");
        let (hi, lo) = (&l.limits[0], &l.limits[1]);
        assert!(hi.over && !lo.over);
        // mean ± 4σ lies beyond the 0.1 %/99.9 % quantiles (± 3.09σ) of normal data.
        assert!((hi.pickup - (231.0 + 4.0 * 1.5)).abs() < 0.05, "{hi:?}");
        assert!((lo.pickup - (231.0 - 4.0 * 1.5)).abs() < 0.05, "{lo:?}");
        assert_eq!(hi.pickup, hi.mean + 4.0 * hi.sigma);
        assert_eq!(lo.pickup, lo.mean - 4.0 * lo.sigma);
        assert!(hi.q999 < hi.pickup && lo.q001 > lo.pickup);
        // Dropout: the 2-%-of-230-V floor (4.6 V) exceeds half the 6-V gap to the median,
        // so the dropout lies halfway.
        let gap = |l: &LearnedLimit| (l.pickup - l.median).abs();
        assert!((hi.pickup - hi.dropout - 0.5 * gap(hi)).abs() < 1e-9);
        assert!((lo.dropout - lo.pickup - 0.5 * gap(lo)).abs() < 1e-9);
        assert!(hi.clamped.is_none() && lo.clamped.is_none());
        // Independent 1-s values beyond the dropout come in runs of a few seconds.
        assert!(hi.longest_excursion >= 2.0, "{hi:?}");
        assert_eq!(hi.delay, 1.5 * hi.longest_excursion);
    }

    #[test]
    fn pickups_beyond_en50160_are_clamped() {
        let rules = vec![LearningRule::for_column("U_B", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        let mut g = Normal(3);
        day_of_values(&mut learner, 1.0, 1.0, |_| vec![240.0 + 4.0 * g.next()]);
        let l = learner.finish(MIN_SECONDS).unwrap();
        let hi = &l.limits[0];
        assert!((hi.pickup - 253.0).abs() < 1e-9, "{hi:?}");
        assert!(hi.clamped.as_deref().unwrap().contains("EN 50160"));
        assert!(!l.settled, "one day cannot show it settled");
    }

    #[test]
    fn skewed_quantities_get_a_high_setpoint_from_the_tail() {
        let rules = vec![LearningRule::for_column("THD_I_A", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        let mut g = Normal(5);
        // Log-normal THD around 8 %.
        day_of_values(&mut learner, 1.0, 3.0, |_| {
            vec![8.0 * (0.3 * g.next()).exp()]
        });
        let l = learner.finish(MIN_SECONDS).unwrap();
        assert_eq!(l.limits.len(), 1, "no low setpoint for THD");
        let hi = &l.limits[0];
        // The rule on the sketch's quantiles, which are those of the distribution: Q99.9 of
        // 8·exp(0.3·N) is 8·exp(0.3·3.09) = 20.18 (28 800 values: ± 5 %), the median 8.
        let want = hi.q999 + 0.5 * (hi.q999 - hi.median);
        assert!(
            (hi.pickup - want).abs() < 1e-9 * want,
            "{hi:?} against {want}"
        );
        assert!(
            (hi.q999 / (8.0 * (0.3f64 * 3.0902).exp()) - 1.0).abs() < 0.05,
            "{hi:?}"
        );
        assert!((hi.median / 8.0 - 1.0).abs() < 0.01, "{hi:?}");
        assert!((hi.pickup - hi.dropout - 0.1 * (hi.pickup - hi.median)).abs() < 1e-9);
    }

    #[test]
    fn delay_is_one_and_a_half_times_the_longest_normal_excursion() {
        let rules = vec![LearningRule::for_column("I_A", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        // 100 ± 10 A (a slow swing: median 100 A, Q99.9 at its crest, 110 A, so the pickup
        // is 115 A and the dropout 114.5 A), with every 2 h a 4-s excursion to 114.75 A
        // (beyond the dropout, below the pickup: normal) and once a day a 30-s inrush to
        // 400 A (beyond the pickup: not normal, not counted).
        day_of_values(&mut learner, 1.0, 0.2, |t| {
            let v = if (1000.0..1030.0).contains(&(t % 86_400.0)) {
                400.0
            } else if (100.0..104.0).contains(&(t % 7200.0)) {
                114.75
            } else {
                100.0 + 10.0 * (2.0 * std::f64::consts::PI * t / 600.0).sin()
            };
            vec![v]
        });
        let l = learner.finish(MIN_SECONDS).unwrap();
        let hi = &l.limits[0];
        assert!(hi.dropout < 114.75 && hi.pickup > 114.75, "{hi:?}");
        assert_eq!(hi.longest_excursion, 4.0, "{hi:?}");
        assert_eq!(hi.delay, 6.0);
        assert_eq!(l.delay_resolution, 1.0);
    }

    #[test]
    fn a_steady_frequency_keeps_its_dropout_between_median_and_pickup() {
        let rules = vec![LearningRule::for_column("f", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        let mut g = Normal(9);
        // A grid's frequency, 50 Hz ± 0.01 Hz (σ); the quantiles are known to ± 0.005 Hz.
        day_of_values(&mut learner, 1.0, 10.0, |_| vec![50.0 + 0.01 * g.next()]);
        let l = learner.finish(MIN_SECONDS).unwrap();
        assert_eq!(l.limits.len(), 2);
        for lim in &l.limits {
            // 4σ = 0.04 Hz from the median: the 0.05-Hz floor would put the dropout past
            // the median, so it is half the gap.
            let gap = (lim.pickup - lim.median).abs();
            assert!(
                ((lim.pickup - lim.dropout).abs() - 0.5 * gap).abs() < 1e-12,
                "{lim:?}"
            );
            assert!(gap > 0.03 && gap < 0.05, "{lim:?}");
        }
    }

    #[test]
    fn a_short_recording_is_refused() {
        let rules = vec![LearningRule::for_column("f", 230.0, 50.0).unwrap()];
        let mut learner = LimitLearner::new(rules);
        day_of_values(&mut learner, 0.25, 10.0, |_| vec![50.0]);
        let e = learner.finish(MIN_SECONDS).unwrap_err().to_string();
        assert!(e.contains("at least 24 h") && e.contains("6 h"), "{e}");
    }

    #[test]
    fn long_recordings_coarsen_the_excursion_series() {
        let mut s = ExtremeSeries::new();
        for second in 0..(SERIES_SECONDS as u64 + 10) {
            s.push(second, if second % 1000 < 3 { 2.0 } else { 1.0 });
        }
        assert_eq!(s.step, 2);
        assert!(s.entries.len() <= SERIES_SECONDS);
        // A 3-s run from an even second spans two 2-s entries.
        assert_eq!(s.longest_normal_excursion(true, 1.5, 10.0), 4.0);
    }

    #[test]
    fn rules_by_column_name() {
        assert_eq!(
            LearningRule::for_column("U_AB", 230.0, 50.0)
                .unwrap()
                .nominal,
            Some(230.0 * 3f64.sqrt())
        );
        assert_eq!(
            LearningRule::for_column("f", 230.0, 60.0).unwrap().nominal,
            Some(60.0)
        );
        for none in ["PK_U_A", "P", "U_N", "THDS_U_A", "t"] {
            assert!(
                LearningRule::for_column(none, 230.0, 50.0).is_none(),
                "{none}"
            );
        }
    }
}
