//! IEEE 519 — harmonic control in electric power systems (2014 and 2022 editions): the
//! limits at the point of common coupling (PCC) and the statistical assessment of clause 5.
//!
//! Limits are data (`limits/ieee519.toml`), read into [`Ieee519Limits`]:
//! - Table 1 (voltage): individual harmonic and THD limits by the bus voltage V at the PCC:
//!   V ≤ 1 kV 5 % / 8 %, 1 kV < V ≤ 69 kV 3 / 5 %, 69 kV < V ≤ 161 kV 1.5 / 2.5 %,
//!   V > 161 kV 1 / 1.5 %. Individual limits apply to every order 2 to 50.
//! - Tables 2 (120 V – 69 kV), 3 (69–161 kV) and 4 (> 161 kV) (current): limits in % of
//!   I_L by the ratio Isc/I_L for the odd-order bands 3 ≤ h < 11, 11 ≤ h < 17,
//!   17 ≤ h < 23, 23 ≤ h < 35, 35 ≤ h ≤ 50, and TDD. The class of a ratio r is the first
//!   row with r < its upper end, except that r = 1000 belongs to "100 < 1000" (the next
//!   row reads "> 1000"). So r = 20 is in "20 < 50", r = 50 in "50 < 100", r = 100 in
//!   "100 < 1000". Tables 3 and 4 are taken from IEEE 519-2014 (PQ-METHODS.md lists only
//!   Table 2).
//! - Even orders: 2014 limits every even order to 25 % of the odd limit of its band. The
//!   2022 edition relaxes this: 50 % of the band's odd limit for h ≤ 6 (orders 2, 4, 6) and
//!   100 % for even orders above 6. Order 2 takes the 3 ≤ h < 11 band in both editions.
//!
//! Assessment (clause 5.1 for voltage, 5.2 for current), each statistic over the usable
//! (unflagged, finite) values, with the percentile by nearest rank
//! ([`crate::limits::percentile`]):
//! - weekly 95th percentile of the 10-min values ≤ the limit (voltage and current);
//! - daily 99th percentile of the 3-s (150/180-cycle) values ≤ 1.5 × the limit (voltage)
//!   or ≤ 2 × the limit (current);
//! - weekly 99th percentile of the 10-min current values ≤ 1.5 × the limit.
//!
//! Days and weeks are consecutive spans of 86 400 s and 604 800 s from t = 0 of the
//! series' time axis (a trailing part-period is assessed as well); the worst period is
//! reported. An observation shorter than one period gives [`Verdict::NotAssessed`] with the
//! indicative outcome in the note, unless [`Ieee519Input::allow_short_observation`].
//! A value exactly at its limit complies.

use crate::limits::{self, describe_duration, percentile, LimitsError, TableRow, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::en50160::FlaggedSeries;

/// The edition of IEEE 519 whose even-order rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Edition {
    /// IEEE 519-2014: even orders at 25 % of the odd limits.
    E2014,
    /// IEEE 519-2022: even orders 2–6 at 50 %, above 6 at 100 % of the odd limits.
    #[default]
    E2022,
}

impl Edition {
    /// `2014` or `2022`.
    pub fn year(self) -> u16 {
        match self {
            Edition::E2014 => 2014,
            Edition::E2022 => 2022,
        }
    }
    /// From a year (2014 or 2022).
    pub fn from_year(year: u16) -> Option<Edition> {
        match year {
            2014 => Some(Edition::E2014),
            2022 => Some(Edition::E2022),
            _ => None,
        }
    }
}

/// One row of Table 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoltageClass {
    /// The row's bus voltage range in words.
    pub label: String,
    /// Upper end of the range, volts (inclusive).
    pub max_volts: f64,
    /// Individual harmonic limit, % of the fundamental.
    pub individual: f64,
    /// THD limit, %.
    pub thd: f64,
}

/// An odd-order band `low ≤ h < high`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderBand {
    /// First order.
    pub low: usize,
    /// One past the last order.
    pub high: usize,
}

/// One Isc/I_L row of Tables 2–4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatioClass {
    /// The row's ratio range in words.
    pub label: String,
    /// Upper end of the ratio range.
    pub max_ratio: f64,
    /// True when `max_ratio` itself belongs to the row.
    #[serde(default)]
    pub max_inclusive: bool,
    /// Odd-order limits per band, % of I_L.
    pub bands: Vec<f64>,
    /// TDD limit, %.
    pub tdd: f64,
}

/// One of Tables 2–4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentTable {
    /// Which table.
    pub label: String,
    /// Upper end of its bus voltage range, volts (inclusive).
    pub max_volts: f64,
    /// The Isc/I_L rows.
    pub classes: Vec<RatioClass>,
}

/// Even-order fractions of an edition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvenRule {
    /// Even orders up to this one use `low_orders`.
    pub low_orders_max: usize,
    /// Fraction of the odd limit for low even orders.
    pub low_orders: f64,
    /// Fraction for the even orders above.
    pub high_orders: f64,
}

/// Even-order rules per edition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvenRules {
    /// 2014.
    pub e2014: EvenRule,
    /// 2022.
    pub e2022: EvenRule,
}

/// The clause 5 multipliers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Multipliers {
    /// Voltage, daily 99th percentile of 3-s values (1.5).
    pub voltage_daily_3s_p99: f64,
    /// Current, daily 99th percentile of 3-s values (2.0).
    pub current_daily_3s_p99: f64,
    /// Current, weekly 99th percentile of 10-min values (1.5).
    pub current_weekly_10min_p99: f64,
}

/// The IEEE 519 numbers, as kept in `limits/ieee519.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ieee519Limits {
    /// Table 1.
    pub voltage: Vec<VoltageClass>,
    /// The odd-order bands of Tables 2–4.
    pub bands: Vec<OrderBand>,
    /// Tables 2–4.
    pub current: Vec<CurrentTable>,
    /// Even-order rules.
    pub even: EvenRules,
    /// Clause 5 multipliers.
    pub assessment: Multipliers,
}

/// The current limits that apply to one PCC.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentLimits {
    /// The table used.
    pub table: String,
    /// The Isc/I_L row used.
    pub class: String,
    /// Odd-order limits per band, % of I_L.
    pub bands: Vec<f64>,
    /// TDD limit, %.
    pub tdd: f64,
    band_orders: Vec<OrderBand>,
    even: EvenRule,
}

impl CurrentLimits {
    /// The limit for order `h` (2 to 50), % of I_L; None outside 2–50.
    pub fn order_limit(&self, h: usize) -> Option<f64> {
        if !(2..=50).contains(&h) {
            return None;
        }
        // Order 2 lies below the first band; it takes the first band's limit.
        let band = self
            .band_orders
            .iter()
            .position(|b| h >= b.low && h < b.high)
            .unwrap_or(0);
        let odd = *self.bands.get(band)?;
        if h % 2 == 1 {
            Some(odd)
        } else if h <= self.even.low_orders_max {
            Some(odd * self.even.low_orders)
        } else {
            Some(odd * self.even.high_orders)
        }
    }
}

impl Ieee519Limits {
    /// The limits embedded in the library.
    pub fn embedded() -> Result<Self, LimitsError> {
        Self::from_toml(limits::ieee519_text())
    }
    /// Limits from TOML text laid out as `limits/ieee519.toml`.
    pub fn from_toml(text: &str) -> Result<Self, LimitsError> {
        limits::parse(text)
    }
    /// Table 1 row for a bus voltage in volts (None when not a positive voltage).
    pub fn voltage_limits(&self, bus_volts: f64) -> Option<&VoltageClass> {
        if bus_volts.is_nan() || bus_volts <= 0.0 {
            return None;
        }
        self.voltage.iter().find(|c| bus_volts <= c.max_volts)
    }
    /// The current limits for a bus voltage and a ratio Isc/I_L (None when either is not a
    /// positive number).
    pub fn current_limits(
        &self,
        edition: Edition,
        bus_volts: f64,
        isc_over_il: f64,
    ) -> Option<CurrentLimits> {
        if !(bus_volts > 0.0 && isc_over_il > 0.0) {
            return None;
        }
        let table = self.current.iter().find(|t| bus_volts <= t.max_volts)?;
        let class = table.classes.iter().find(|c| {
            isc_over_il < c.max_ratio || (c.max_inclusive && isc_over_il == c.max_ratio)
        })?;
        let even = match edition {
            Edition::E2014 => self.even.e2014.clone(),
            Edition::E2022 => self.even.e2022.clone(),
        };
        Some(CurrentLimits {
            table: table.label.clone(),
            class: class.label.clone(),
            bands: class.bands.clone(),
            tdd: class.tdd,
            band_orders: self.bands.clone(),
            even,
        })
    }
}

/// One harmonic order's values, % of the fundamental (voltage) or of I_L (current).
#[derive(Debug, Clone, Copy)]
pub struct OrderSeries<'a> {
    /// Harmonic order, 2 to 50.
    pub order: usize,
    /// Values, one per aggregation interval.
    pub values: FlaggedSeries<'a>,
}

/// The series of one aggregation period (10-min or 3-s) of one channel.
#[derive(Debug, Clone, Default)]
pub struct PeriodSeries<'a> {
    /// Start of each value, seconds (days and weeks are counted from t = 0).
    pub t: &'a [f64],
    /// THD (voltage) or TDD (current), %.
    pub distortion: FlaggedSeries<'a>,
    /// Individual orders.
    pub orders: Vec<OrderSeries<'a>>,
}

/// One voltage or current channel.
#[derive(Debug, Clone, Default)]
pub struct ChannelInput<'a> {
    /// Column name (`U_A`, `I_A`, …).
    pub name: &'a str,
    /// 10-min values.
    pub ten_minute: PeriodSeries<'a>,
    /// 3-s (150/180-cycle) values.
    pub three_second: PeriodSeries<'a>,
}

/// What the IEEE 519 assessment reads.
#[derive(Debug, Clone, Default)]
pub struct Ieee519Input<'a> {
    /// Edition.
    pub edition: Edition,
    /// Nominal bus voltage at the PCC, volts (line-to-line for three-phase systems).
    pub bus_voltage: f64,
    /// Short-circuit current over maximum demand load current at the PCC.
    pub isc_over_il: Option<f64>,
    /// Length of the observation, seconds.
    pub observation_seconds: f64,
    /// Give verdicts for observations shorter than a day or week.
    pub allow_short_observation: bool,
    /// Voltage channels (values in % of the fundamental).
    pub voltage: Vec<ChannelInput<'a>>,
    /// Current channels (values in % of I_L; distortion is TDD).
    pub current: Vec<ChannelInput<'a>>,
}

/// The statistics of clause 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// Weekly 95th percentile of 10-min values.
    Weekly95TenMinute,
    /// Daily 99th percentile of 3-s values.
    Daily99ThreeSecond,
    /// Weekly 99th percentile of 10-min values (current).
    Weekly99TenMinute,
}

impl Statistic {
    /// Words for tables.
    pub fn describe(self) -> &'static str {
        match self {
            Statistic::Weekly95TenMinute => "weekly P95 of 10-min values",
            Statistic::Daily99ThreeSecond => "daily P99 of 3-s values",
            Statistic::Weekly99TenMinute => "weekly P99 of 10-min values",
        }
    }
    fn percentile(self) -> f64 {
        match self {
            Statistic::Weekly95TenMinute => 95.0,
            Statistic::Daily99ThreeSecond | Statistic::Weekly99TenMinute => 99.0,
        }
    }
    fn period_seconds(self) -> f64 {
        match self {
            Statistic::Daily99ThreeSecond => 86_400.0,
            Statistic::Weekly95TenMinute | Statistic::Weekly99TenMinute => 604_800.0,
        }
    }
}

/// One statistic of one quantity of one channel against its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Channel column name.
    pub channel: String,
    /// `THD`, `TDD` or `H<n>`.
    pub quantity: String,
    /// Harmonic order (None for THD/TDD).
    pub order: Option<usize>,
    /// Which statistic.
    pub statistic: Statistic,
    /// The worst period's percentile, % (None without usable values).
    pub measured: Option<f64>,
    /// The period that gave `measured` (0-based day or week number).
    pub period: Option<usize>,
    /// Table limit, %.
    pub limit: f64,
    /// Clause 5 multiplier (1, 1.5 or 2).
    pub multiplier: f64,
    /// Usable values over all periods.
    pub values_used: usize,
    /// Flagged or missing values left out.
    pub values_flagged: usize,
    /// Verdict.
    pub verdict: Verdict,
    /// Why, when it needs saying.
    pub note: String,
}

impl Check {
    /// `measured / (multiplier · limit)`: above 1 fails.
    pub fn ratio(&self) -> Option<f64> {
        let allowed = self.limit * self.multiplier;
        self.measured.map(|m| m / allowed)
    }
}

/// The result of [`assess`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ieee519Assessment {
    /// Edition used.
    pub edition: Edition,
    /// Table 1 row used (None without a valid bus voltage).
    pub voltage_class: Option<String>,
    /// Table and Isc/I_L row used for currents (None without Isc/I_L).
    pub current_class: Option<String>,
    /// Every check.
    pub checks: Vec<Check>,
    /// Fail if any check fails; pass if any passes and none fails; else not assessed.
    pub overall: Verdict,
}

impl Ieee519Assessment {
    /// Compact report rows (criterion, limit, measured, required, verdict): per channel and
    /// statistic, the THD/TDD check and the individual order closest to (or furthest past)
    /// its limit.
    pub fn table_rows(&self) -> Vec<TableRow> {
        let mut rows = Vec::new();
        let mut keys: Vec<(String, Statistic)> = Vec::new();
        for c in &self.checks {
            if !keys
                .iter()
                .any(|(ch, st)| *ch == c.channel && *st == c.statistic)
            {
                keys.push((c.channel.clone(), c.statistic));
            }
        }
        for (channel, statistic) in keys {
            let group: Vec<&Check> = self
                .checks
                .iter()
                .filter(|c| c.channel == channel && c.statistic == statistic)
                .collect();
            if let Some(d) = group.iter().find(|c| c.order.is_none()) {
                rows.push(row(d, &d.quantity));
            }
            let worst = group.iter().filter(|c| c.order.is_some()).max_by(|a, b| {
                a.ratio()
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&b.ratio().unwrap_or(f64::NEG_INFINITY))
            });
            if let Some(w) = worst {
                let verdict = Verdict::combine(
                    group
                        .iter()
                        .filter(|c| c.order.is_some())
                        .map(|c| c.verdict),
                );
                let mut r = row(w, &format!("individual orders (worst {})", w.quantity));
                r.verdict = verdict;
                rows.push(r);
            }
        }
        rows
    }
}

fn row(c: &Check, what: &str) -> TableRow {
    let measured = match (c.measured, c.period) {
        (Some(m), Some(p)) => {
            let unit = if c.statistic == Statistic::Daily99ThreeSecond {
                "day"
            } else {
                "week"
            };
            format!("{m:.3} % ({unit} {})", p.saturating_add(1))
        }
        _ => format!("no usable values ({} flagged)", c.values_flagged),
    };
    let limit = if c.multiplier == 1.0 {
        format!("{} %", c.limit)
    } else {
        format!(
            "{} × {} % = {:.3} %",
            c.multiplier,
            c.limit,
            c.multiplier * c.limit
        )
    };
    TableRow {
        criterion: format!("{} {} [IEEE 519 cl. 5]", c.channel, what),
        limit,
        measured,
        required: c.statistic.describe().to_string(),
        verdict: c.verdict,
        note: c.note.clone(),
    }
}

/// Assess with the embedded limits.
pub fn assess(input: &Ieee519Input<'_>) -> Result<Ieee519Assessment, LimitsError> {
    Ok(assess_with(input, &Ieee519Limits::embedded()?))
}

/// Assess against the given limits.
pub fn assess_with(input: &Ieee519Input<'_>, limits: &Ieee519Limits) -> Ieee519Assessment {
    let mut checks = Vec::new();
    let m = &limits.assessment;
    let vclass = limits.voltage_limits(input.bus_voltage);
    if let Some(vc) = vclass {
        for ch in &input.voltage {
            for (statistic, series, multiplier) in [
                (Statistic::Weekly95TenMinute, &ch.ten_minute, 1.0),
                (
                    Statistic::Daily99ThreeSecond,
                    &ch.three_second,
                    m.voltage_daily_3s_p99,
                ),
            ] {
                let ctx = CheckContext {
                    input,
                    channel: ch.name,
                    statistic,
                    multiplier,
                    t: series.t,
                };
                checks.push(ctx.check("THD", None, series.distortion, vc.thd));
                for o in sorted_orders(&series.orders) {
                    if (2..=50).contains(&o.order) {
                        checks.push(ctx.check(
                            &format!("H{}", o.order),
                            Some(o.order),
                            o.values,
                            vc.individual,
                        ));
                    }
                }
            }
        }
    }
    let climits = input
        .isc_over_il
        .and_then(|r| limits.current_limits(input.edition, input.bus_voltage, r));
    if let Some(cl) = &climits {
        for ch in &input.current {
            for (statistic, series, multiplier) in [
                (Statistic::Weekly95TenMinute, &ch.ten_minute, 1.0),
                (
                    Statistic::Daily99ThreeSecond,
                    &ch.three_second,
                    m.current_daily_3s_p99,
                ),
                (
                    Statistic::Weekly99TenMinute,
                    &ch.ten_minute,
                    m.current_weekly_10min_p99,
                ),
            ] {
                let ctx = CheckContext {
                    input,
                    channel: ch.name,
                    statistic,
                    multiplier,
                    t: series.t,
                };
                checks.push(ctx.check("TDD", None, series.distortion, cl.tdd));
                for o in sorted_orders(&series.orders) {
                    if let Some(limit) = cl.order_limit(o.order) {
                        checks.push(ctx.check(
                            &format!("H{}", o.order),
                            Some(o.order),
                            o.values,
                            limit,
                        ));
                    }
                }
            }
        }
    }
    let overall = Verdict::combine(checks.iter().map(|c| c.verdict));
    Ieee519Assessment {
        edition: input.edition,
        voltage_class: vclass.map(|v| format!("Table 1: {}", v.label)),
        current_class: climits.map(|c| format!("{}: Isc/I_L {}", c.table, c.class)),
        checks,
        overall,
    }
}

fn sorted_orders<'a, 'b>(orders: &'b [OrderSeries<'a>]) -> Vec<&'b OrderSeries<'a>> {
    let mut v: Vec<&OrderSeries<'a>> = orders.iter().collect();
    v.sort_by_key(|o| o.order);
    v
}

struct CheckContext<'i, 'a> {
    input: &'i Ieee519Input<'a>,
    channel: &'a str,
    statistic: Statistic,
    multiplier: f64,
    t: &'a [f64],
}

impl CheckContext<'_, '_> {
    fn check(
        &self,
        quantity: &str,
        order: Option<usize>,
        values: FlaggedSeries<'_>,
        limit: f64,
    ) -> Check {
        let period_len = self.statistic.period_seconds();
        // Split the usable values into consecutive periods from t = 0 (values without a
        // time stamp fall into period 0).
        // Keyed by period number: a stray huge time stamp makes one more key, not a huge
        // vector.
        let mut periods: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let mut flagged = 0;
        let mut used = 0;
        for (i, (v, f)) in values.iter().enumerate() {
            if *f || !v.is_finite() {
                flagged += 1;
                continue;
            }
            used += 1;
            let t = self.t.get(i).copied().unwrap_or(0.0);
            let p = if t.is_finite() && t > 0.0 {
                (t / period_len).floor() as usize
            } else {
                0
            };
            periods.entry(p).or_default().push(*v);
        }
        let mut measured: Option<(f64, usize)> = None;
        for (&p, values) in &periods {
            if let Some(x) = percentile(values, self.statistic.percentile()) {
                if measured.is_none_or(|(m, _)| x > m) {
                    measured = Some((x, p));
                }
            }
        }
        let allowed = limit * self.multiplier;
        let full = self.input.observation_seconds >= period_len;
        let (verdict, note) = match measured {
            None => (
                Verdict::NotAssessed,
                if flagged > 0 {
                    format!("all {flagged} values flagged")
                } else {
                    "no values".to_string()
                },
            ),
            Some((x, _)) => {
                let ok = x <= allowed;
                if full || self.input.allow_short_observation {
                    let note = if full {
                        String::new()
                    } else {
                        format!(
                            "observation {} is shorter than a {}",
                            describe_duration(self.input.observation_seconds),
                            period_word(self.statistic)
                        )
                    };
                    (Verdict::from_ok(ok), note)
                } else {
                    (
                        Verdict::NotAssessed,
                        format!(
                            "observation {} is shorter than a {}; indicative: {}",
                            describe_duration(self.input.observation_seconds),
                            period_word(self.statistic),
                            if ok {
                                "within the limit"
                            } else {
                                "above the limit"
                            }
                        ),
                    )
                }
            }
        };
        Check {
            channel: self.channel.to_string(),
            quantity: quantity.to_string(),
            order,
            statistic: self.statistic,
            measured: measured.map(|(x, _)| x),
            period: measured.map(|(_, p)| p),
            limit,
            multiplier: self.multiplier,
            values_used: used,
            values_flagged: flagged,
            verdict,
            note,
        }
    }
}

fn period_word(s: Statistic) -> &'static str {
    match s {
        Statistic::Daily99ThreeSecond => "day",
        Statistic::Weekly95TenMinute | Statistic::Weekly99TenMinute => "week",
    }
}
