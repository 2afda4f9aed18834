//! Aggregation over time of IEC 61000-4-30 Ed.3 4.5, with the flags of 4.7 carried up.
//!
//! - **150/180-cycle** (4.5.2): 15 consecutive basic intervals (~3 s). The sequence is
//!   resynchronised at every 10-min tick of the clock: the block in progress is closed
//!   there (fewer than 15 members, `count` says how many; it is still complete and not
//!   flagged, since nothing was missed) and the next starts with the first interval of the
//!   new 10-min period.
//! - **10-min** (4.5.3): the basic intervals that *start* inside a 10-min period of the
//!   clock. The analyzer's scheduler restarts the 10/12-cycle sequence at the first cycle
//!   boundary after each tick, so the interval straddling a tick belongs to the period in
//!   which it started (Ed.3 Figure 6, "overlap 1"). The value ends on the tick (`end`).
//! - **2-h** (4.5.4): the 12 10-min values of a 2-h period of the clock.
//!
//! # How each column is combined
//!
//! | columns | method | why |
//! |---|---|---|
//! | RMS magnitudes `U_*`, `I_*`, harmonic-derived `THD*_`, `TDD_`, `MSV_`, `u2`, `u0`, `Ve`, `Ie` | quadratic mean √(Σx²/n) | 4.5: "the square root of the arithmetic mean of the squared input values" for magnitudes, harmonics (5.8) and unbalance (5.7) |
//! | `UNDER_*`, `OVER_*` | quadratic mean of Uunder = min(U, Udin) (Uover = max(U, Udin)), then re-expressed in % of Udin | 5.12 |
//! | `f` | arithmetic mean | a frequency is not an RMS quantity |
//! | `P*`, `Q*`, `S*` (all power columns), `DC_*`, `CF_*`, `DPF_*`, `K_*` | arithmetic mean | energy and demand averages (IEC 61557-12, IEEE 1459 practice) |
//! | `PF`, `PF_x` | mean P / mean S of the same period (`P`/`S`, `P_x`/`S_x`) | the power factor of the period's energy, not an average of ratios |
//! | `PK_*` | maximum | a peak stays a peak |
//! | `PHI_*` | circular mean of the angles | angles wrap at ±180° |
//!
//! Missing (NaN) member values are left out of their column; a column with no value is
//! NaN. An aggregate is `member_flagged` when any member was flagged (4.7), and `flagged`
//! when that holds or the period was not fully observed (`complete = false`: the recording
//! started after the period's tick, ended before its closing tick, or a gap cut it). A
//! recording that starts at 00:07:13 therefore gives a first 10-min value covering
//! 00:07:13–00:10:00 with `t = 0`, `end` = 00:10:00, `complete = false` and `flagged`;
//! the next one, 00:10:00–00:20:00, is complete.

use pqe_core::record::{AggregatePeriod, AggregateRecord, IntervalRecord, QuantityKey};
use pqe_core::Timestamp;
use std::sync::Arc;

const TEN_MINUTES_NS: i64 = 600_000_000_000;
const TWO_HOURS_NS: i64 = 7_200_000_000_000;

/// How a column is combined.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    Rms,
    Mean,
    Max,
    Circular,
    /// Deviation columns: quadratic mean of the voltage they stand for; `under` and the
    /// declared voltage.
    Deviation(bool, f64),
    /// PF: ratio of the means of the named P and S columns (indices filled at the end).
    Ratio,
}

/// The running combination of one column.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    method: Method,
    n: usize,
    sum: f64,
    sum_sq: f64,
    sin: f64,
    cos: f64,
    max: f64,
}

impl Column {
    fn new(name: &str, declared: &[(String, f64)]) -> Self {
        Column {
            name: name.to_string(),
            method: method_of(name, declared),
            n: 0,
            sum: 0.0,
            sum_sq: 0.0,
            sin: 0.0,
            cos: 0.0,
            max: f64::NEG_INFINITY,
        }
    }

    fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        match self.method {
            Method::Rms => self.sum_sq += x * x,
            Method::Mean | Method::Ratio => self.sum += x,
            Method::Max => self.max = self.max.max(x),
            Method::Circular => {
                let r = x.to_radians();
                self.sin += r.sin();
                self.cos += r.cos();
            }
            Method::Deviation(under, udin) => {
                let u = if under {
                    udin * (1.0 - x / 100.0)
                } else {
                    udin * (1.0 + x / 100.0)
                };
                self.sum_sq += u * u;
            }
        }
    }

    fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum / self.n as f64
        }
    }

    fn value(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let n = self.n as f64;
        match self.method {
            Method::Rms => (self.sum_sq / n).sqrt(),
            Method::Mean | Method::Ratio => self.sum / n,
            Method::Max => self.max,
            Method::Circular => self.sin.atan2(self.cos).to_degrees(),
            Method::Deviation(under, udin) => {
                let u = (self.sum_sq / n).sqrt();
                if under {
                    100.0 * (udin - u) / udin
                } else {
                    100.0 * (u - udin) / udin
                }
            }
        }
    }
}

fn method_of(name: &str, declared: &[(String, f64)]) -> Method {
    let udin_of = |col: &str| {
        declared
            .iter()
            .find(|(c, _)| c == col)
            .map_or(f64::NAN, |(_, u)| *u)
    };
    if let Some(col) = name.strip_prefix("UNDER_") {
        return Method::Deviation(true, udin_of(col));
    }
    if let Some(col) = name.strip_prefix("OVER_") {
        return Method::Deviation(false, udin_of(col));
    }
    if name == "PF" || name.starts_with("PF_") {
        return Method::Ratio;
    }
    if name.starts_with("PK_") {
        return Method::Max;
    }
    if name.starts_with("PHI_") {
        return Method::Circular;
    }
    let mean_prefixes = ["DC_", "CF_", "DPF_", "K_", "P_", "Q1_", "S_"];
    let mean_names = ["f", "P", "Q", "S", "S_arith", "P1pos", "Q1pos", "S1pos"];
    if mean_names.contains(&name) || mean_prefixes.iter().any(|p| name.starts_with(p)) {
        return Method::Mean;
    }
    Method::Rms
}

/// One period being aggregated.
#[derive(Debug, Clone)]
struct Accumulator {
    period: AggregatePeriod,
    /// Clock slot (10-min or 2-h number), or the 10-min slot for 3-s blocks.
    slot: i64,
    t: f64,
    start: Timestamp,
    end: Timestamp,
    count: usize,
    member_flagged: bool,
    complete: bool,
    columns: Vec<Column>,
    /// The member names `columns` follows one for one, in order: members with these
    /// names (the same `Arc`) are added by position, without comparing names.
    follows: Option<Arc<[String]>>,
}

impl Accumulator {
    fn new(period: AggregatePeriod, slot: i64, t: f64, start: Timestamp) -> Self {
        Accumulator {
            period,
            slot,
            t,
            start,
            end: start,
            count: 0,
            member_flagged: false,
            complete: true,
            columns: Vec::new(),
            follows: None,
        }
    }

    /// Add one member: its column `names` and `values`, one for one.
    fn add(
        &mut self,
        names: &Arc<[String]>,
        values: &[f64],
        flagged: bool,
        declared: &[(String, f64)],
    ) {
        self.count += 1;
        self.member_flagged |= flagged;
        if self.follows.as_ref().is_some_and(|f| Arc::ptr_eq(f, names)) {
            for (c, x) in self.columns.iter_mut().zip(values) {
                c.add(*x);
            }
            return;
        }
        for (k, (name, x)) in names.iter().zip(values).enumerate() {
            // Members carry the same columns in the same order; look further only when not.
            let at = match self.columns.get(k) {
                Some(c) if c.name == *name => k,
                _ => match self.columns.iter().position(|c| c.name == *name) {
                    Some(i) => i,
                    None => {
                        self.columns.push(Column::new(name, declared));
                        self.columns.len() - 1
                    }
                },
            };
            self.columns[at].add(*x);
        }
        let same_order = self.columns.len() == names.len()
            && self
                .columns
                .iter()
                .zip(names.iter())
                .all(|(c, n)| c.name == *n);
        self.follows = same_order.then(|| Arc::clone(names));
    }

    fn record(&self) -> AggregateRecord {
        let mean_of = |name: &str| {
            self.columns
                .iter()
                .find(|c| c.name == name)
                .map(Column::mean)
        };
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let v = if c.method == Method::Ratio {
                    let suffix = c.name.strip_prefix("PF").unwrap_or("");
                    match (
                        mean_of(&format!("P{suffix}")),
                        mean_of(&format!("S{suffix}")),
                    ) {
                        (Some(p), Some(s)) if s != 0.0 => p / s,
                        _ => c.value(),
                    }
                } else {
                    c.value()
                };
                (c.name.clone(), v)
            })
            .collect();
        AggregateRecord {
            period: self.period,
            t: self.t,
            start: self.start,
            end: self.end,
            flagged: self.member_flagged || !self.complete,
            member_flagged: self.member_flagged,
            complete: self.complete,
            count: self.count,
            columns,
        }
    }
}

/// Streaming aggregation of basic-interval records into 3-s, 10-min and 2-h values; see
/// the module documentation.
#[derive(Debug, Clone)]
pub struct Aggregator {
    recording_start: Timestamp,
    intervals_per_block: usize,
    declared: Vec<(String, f64)>,
    three: Option<Accumulator>,
    ten: Option<Accumulator>,
    two: Option<Accumulator>,
    /// The columns of the last member and what identifies them.
    layout: Option<MemberLayout>,
    /// The last member's numbers (scratch, reused).
    row: Vec<f64>,
}

/// The column names of an interval record, and what tells whether another record has the
/// same ones without building its names: [`IntervalRecord::push_numbers`]'s layout, the
/// channels and the quantity keys.
#[derive(Debug, Clone)]
struct MemberLayout {
    signature: u64,
    channels: Vec<String>,
    quantities: Vec<QuantityKey>,
    /// The names of [`IntervalRecord::columns`] without `t` and `flagged`.
    names: Arc<[String]>,
}

impl MemberLayout {
    fn fits(&self, signature: u64, r: &IntervalRecord) -> bool {
        self.signature == signature
            && self
                .channels
                .iter()
                .eq(r.channels.iter().map(|c| &c.column))
            && self
                .quantities
                .iter()
                .eq(r.quantities.iter().map(|(k, _)| k))
    }

    fn of(signature: u64, r: &IntervalRecord) -> Self {
        MemberLayout {
            signature,
            channels: r.channels.iter().map(|c| c.column.clone()).collect(),
            quantities: r.quantities.iter().map(|(k, _)| k.clone()).collect(),
            names: r.columns().into_iter().skip(2).map(|(n, _)| n).collect(),
        }
    }
}

impl Aggregator {
    /// An aggregator for a recording whose sample 0 is at `recording_start`; `declared`
    /// gives the declared voltage of each voltage column (for under/over-deviation).
    pub fn new(recording_start: Timestamp, declared: Vec<(String, f64)>) -> Self {
        Aggregator {
            recording_start,
            intervals_per_block: 15,
            declared,
            three: None,
            ten: None,
            two: None,
            layout: None,
            row: Vec::new(),
        }
    }

    fn seconds(&self, ts: Timestamp) -> f64 {
        ts.seconds_since(self.recording_start)
    }

    /// Take the next basic interval (in order); finished aggregates go to `out`.
    pub fn push(&mut self, interval: &IntervalRecord, out: &mut Vec<AggregateRecord>) {
        let slot = interval.start.as_nanos().div_euclid(TEN_MINUTES_NS);
        // The numbers of `interval.columns()` without building its names: the names are
        // built only when the columns change.
        self.row.clear();
        let signature = interval.push_numbers(&mut self.row);
        if !self
            .layout
            .as_ref()
            .is_some_and(|l| l.fits(signature, interval))
        {
            self.layout = Some(MemberLayout::of(signature, interval));
        }
        let names = Arc::clone(&self.layout.as_ref().expect("set above").names);
        let values = std::mem::take(&mut self.row);
        let end = interval.start.add_seconds(interval.duration);
        // A gap before this interval: what was open may have lost members.
        if interval.flags.after_gap {
            for acc in [&mut self.three, &mut self.ten].into_iter().flatten() {
                acc.complete = false;
            }
        }
        // 10-min period change: close the 3-s block and the 10-min value.
        if self.ten.as_ref().is_some_and(|a| a.slot != slot) {
            if let Some(three) = self.three.take() {
                // Fewer than 15 members here is the standard's resynchronisation (4.5.2),
                // not missing data: the block is complete (its `count` says how short).
                out.push(three.record());
            }
            if let Some(ten) = self.ten.take() {
                self.close_ten(ten, out);
            }
        }
        // 10-min.
        let ten = self.ten.get_or_insert_with(|| {
            let tick = Timestamp::from_nanos(slot * TEN_MINUTES_NS);
            let mut a = Accumulator::new(
                AggregatePeriod::TenMinutes,
                slot,
                0.0,
                tick.max(self.recording_start),
            );
            a.t = a.start.seconds_since(self.recording_start);
            a.end = Timestamp::from_nanos((slot + 1) * TEN_MINUTES_NS);
            a.complete = tick >= self.recording_start && !interval.flags.after_gap;
            a
        });
        ten.add(&names, &values[2..], interval.flagged, &self.declared);
        // 3-s.
        let t = self.seconds(interval.start);
        let three = self.three.get_or_insert_with(|| {
            let mut a = Accumulator::new(AggregatePeriod::ThreeSeconds, slot, t, interval.start);
            a.complete = !interval.flags.after_gap;
            a
        });
        three.add(&names, &values[2..], interval.flagged, &self.declared);
        three.end = end;
        if three.count == self.intervals_per_block {
            if let Some(three) = self.three.take() {
                out.push(three.record());
            }
        }
        self.row = values;
    }

    fn close_ten(&mut self, ten: Accumulator, out: &mut Vec<AggregateRecord>) {
        let record = ten.record();
        let slot2 = ten.start.as_nanos().div_euclid(TWO_HOURS_NS);
        if self.two.as_ref().is_some_and(|a| a.slot != slot2) {
            if let Some(two) = self.two.take() {
                out.push(close_two(two));
            }
        }
        let start = self.recording_start;
        let two = self.two.get_or_insert_with(|| {
            let tick = Timestamp::from_nanos(slot2 * TWO_HOURS_NS);
            let mut a = Accumulator::new(AggregatePeriod::TwoHours, slot2, 0.0, tick.max(start));
            a.t = a.start.seconds_since(start);
            a.end = Timestamp::from_nanos((slot2 + 1) * TWO_HOURS_NS);
            a
        });
        // A 2-h value is complete when it holds 12 complete 10-min values.
        two.complete &= record.complete;
        // Twelve 10-min members per 2 h: their names are built each time.
        let names: Arc<[String]> = record.columns.iter().map(|(n, _)| n.clone()).collect();
        let values: Vec<f64> = record.columns.iter().map(|(_, v)| *v).collect();
        two.add(&names, &values, record.member_flagged, &self.declared);
        out.push(record);
    }

    /// The recording ended (its last sample at `end`): the periods in progress are reported,
    /// marked incomplete unless the recording reached their closing tick (within one basic
    /// interval, which cannot be reported past the last sample).
    pub fn finish(&mut self, end: Timestamp, out: &mut Vec<AggregateRecord>) {
        if let Some(mut three) = self.three.take() {
            three.complete &= three.count == self.intervals_per_block;
            out.push(three.record());
        }
        if let Some(mut ten) = self.ten.take() {
            ten.complete &= end.as_nanos() + 250_000_000 >= ten.end.as_nanos();
            self.close_ten(ten, out);
        }
        if let Some(two) = self.two.take() {
            out.push(close_two(two));
        }
    }
}

fn close_two(mut two: Accumulator) -> AggregateRecord {
    two.complete &= two.count == 12;
    two.record()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pqe_core::record::{ChannelInterval, IntervalFlags, Quantity, QuantityKey};

    fn interval(index: u64, start: Timestamp, t: f64, u: f64, flagged: bool) -> IntervalRecord {
        IntervalRecord {
            index,
            t,
            start,
            duration: 0.2,
            start_sample: 0.0,
            length_samples: 0.0,
            cycles: 10,
            frequency: 50.0,
            flagged,
            flags: IntervalFlags {
                event: flagged,
                ..IntervalFlags::default()
            },
            channels: vec![ChannelInterval {
                column: "U_A".into(),
                channel: "VA".into(),
                rms: u,
                peak: u * 1.5,
                crest_factor: 1.5,
                dc: 0.0,
                under_deviation: Some(100.0 * (230.0 - u.min(230.0)) / 230.0),
                over_deviation: Some(100.0 * (u.max(230.0) - 230.0) / 230.0),
                signalling: None,
                harmonics: None,
            }],
            quantities: vec![
                (QuantityKey::system(Quantity::ActivePower), 10.0),
                (QuantityKey::system(Quantity::ApparentPower), 20.0),
                (QuantityKey::system(Quantity::PowerFactor), 0.9),
            ],
        }
    }

    #[test]
    fn quadratic_means_flags_and_clock_alignment() {
        // Starts at 00:07:13 (on some day), 0.2-s intervals for 25 min.
        let day = 1_767_225_600_000_000_000i64;
        let rec = Timestamp::from_nanos(day + 433_000_000_000);
        let mut a = Aggregator::new(rec, vec![("U_A".into(), 230.0)]);
        let mut out = Vec::new();
        let mut members: Vec<(i64, f64)> = Vec::new();
        for k in 0..(25 * 300) {
            let t = 0.2 * k as f64;
            let start = rec.add_seconds(t);
            let u = 230.0 + 10.0 * (k as f64 * 0.37).sin();
            members.push((start.as_nanos().div_euclid(TEN_MINUTES_NS), u));
            a.push(&interval(k as u64, start, t, u, k == 4000), &mut out);
        }
        a.finish(rec.add_seconds(25.0 * 60.0), &mut out);
        let tens: Vec<&AggregateRecord> = out
            .iter()
            .filter(|r| r.period == AggregatePeriod::TenMinutes)
            .collect();
        assert_eq!(tens.len(), 4);
        assert_eq!(tens[0].t, 0.0);
        assert_eq!(tens[0].end.as_nanos(), day + 600_000_000_000);
        assert!(!tens[0].complete && tens[0].flagged);
        assert!(tens[1].complete && !tens[1].flagged);
        assert_eq!(tens[1].t, 167.0);
        // k = 4000 is at 800 s from 00:07:13 = 00:20:33: in the third period.
        assert!(tens[2].member_flagged && tens[2].complete);
        assert!(!tens[3].complete);
        // 167 s to the 00:10 tick hold 835 intervals: 55 blocks of 15, then one of 10 that
        // the resynchronisation closes. Shortened, but nothing was missed: not flagged.
        let threes: Vec<&AggregateRecord> = out
            .iter()
            .filter(|r| r.period == AggregatePeriod::ThreeSeconds)
            .collect();
        let before_tick = threes
            .iter()
            .rfind(|r| r.start.as_nanos() < day + 600_000_000_000)
            .unwrap();
        assert_eq!(before_tick.count, 10);
        assert!(
            before_tick.complete && !before_tick.flagged,
            "{before_tick:?}"
        );
        for ten in &tens {
            let slot = ten.start.as_nanos().div_euclid(TEN_MINUTES_NS);
            let us: Vec<f64> = members
                .iter()
                .filter(|(s, _)| *s == slot)
                .map(|(_, u)| *u)
                .collect();
            let qm = (us.iter().map(|u| u * u).sum::<f64>() / us.len() as f64).sqrt();
            assert_eq!(ten.count, us.len());
            assert!((ten.value("U_A").unwrap() / qm - 1.0).abs() < 1e-12);
            let under = ten.value("UNDER_U_A").unwrap();
            let uu: Vec<f64> = us.iter().map(|u| u.min(230.0)).collect();
            let qu = (uu.iter().map(|u| u * u).sum::<f64>() / uu.len() as f64).sqrt();
            assert!((under - 100.0 * (230.0 - qu) / 230.0).abs() < 1e-9);
            assert!((ten.value("PF").unwrap() - 0.5).abs() < 1e-12);
            assert!((ten.value("f").unwrap() - 50.0).abs() < 1e-12);
        }
        let threes = out
            .iter()
            .filter(|r| r.period == AggregatePeriod::ThreeSeconds)
            .count();
        // 167 s / 3 s → 55 full + 1 partial before the first tick, then 200 per period.
        assert!(threes > 490, "{threes}");
        let twos: Vec<&AggregateRecord> = out
            .iter()
            .filter(|r| r.period == AggregatePeriod::TwoHours)
            .collect();
        assert_eq!(twos.len(), 1);
        assert!(!twos[0].complete && twos[0].member_flagged && twos[0].count == 4);
    }
}
