//! EN 50160:2010 — voltage characteristics of electricity supplied by public low-voltage
//! networks: the weekly assessment of an observation against clause 4.
//!
//! [`assess`] is a pure function of an [`En50160Input`] (plain series of values, each with
//! its IEC 61000-4-30 flag) and [`En50160Limits`] (the numbers, kept as data in
//! `limits/en50160.toml`). It produces an [`En50160Assessment`]: one [`Criterion`] per rule
//! with the percentage of values within the limit, the percentage the standard requires and
//! the verdict, plus the dip and swell tables and the interruption counts.
//!
//! The continuous phenomena of clause 4.2, each "during each period of one week":
//! - 4.2.1 power frequency: mean over 10 s within ±1 % for 99.5 % (of a year in the
//!   standard; assessed here over the observation) and within +4 %/−6 % always
//!   (interconnected systems; islands: ±2 % for 95 % of a week and ±15 % always);
//! - 4.2.2 supply voltage variations: 95 % of the 10-min mean RMS values within Un ±10 %,
//!   all within +10 %/−15 %;
//! - 4.2.3.2 flicker severity: Plt ≤ 1 for 95 % of the time;
//! - 4.2.4 supply voltage unbalance: 95 % of the 10-min u2 values ≤ 2 %;
//! - 4.2.5 harmonic voltage: 95 % of the 10-min values of each harmonic within Table 1,
//!   and THD (to order 40) ≤ 8 %.
//!
//! The voltage events of clause 4.3 are counted, not judged (the standard gives indicative
//! values only): dips (4.3.2) and swells (4.3.3) in the residual-voltage × duration tables,
//! interruptions (4.3.1) as short (≤ 3 min) and long.
//!
//! Flagged values (IEC 61000-4-30 4.7: a dip, swell or interruption touched the interval)
//! and missing (non-finite) values are left out of every percentage and counted in
//! [`Criterion::values_flagged`]. A value exactly at a limit complies.
//!
//! An observation shorter than a week yields [`Verdict::NotAssessed`] with the percentage
//! still computed and the note saying what the week would have said, unless
//! [`En50160Input::allow_short_observation`] asks for verdicts anyway.

use crate::limits::{self, describe_duration, Interval, LimitsError, TableRow, Verdict};
use serde::{Deserialize, Serialize};

/// A series of values, each with its flag (true = flagged, left out of the assessment).
pub type FlaggedSeries<'a> = &'a [(f64, bool)];

/// How the supply is connected (EN 50160:2010 4.2.1 distinguishes the frequency limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Synchronously connected to an interconnected system.
    #[default]
    Interconnected,
    /// An island without synchronous connection.
    Island,
}

/// The kind of a voltage event, as the event detector names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A dip (EN 50160:2010 4.3.2).
    Dip,
    /// A swell (4.3.3).
    Swell,
    /// An interruption (4.3.1).
    Interruption,
    /// A rapid voltage change (4.2.3.1); counted, not tabulated.
    Rvc,
}

impl EventKind {
    /// From the `kind` column of `events.csv` (`dip`, `swell`, `interruption`, `rvc`).
    pub fn parse(text: &str) -> Option<EventKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "dip" | "sag" => Some(EventKind::Dip),
            "swell" => Some(EventKind::Swell),
            "interruption" => Some(EventKind::Interruption),
            "rvc" => Some(EventKind::Rvc),
            _ => None,
        }
    }
}

/// One voltage event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EventInput {
    /// Its kind.
    pub kind: EventKind,
    /// Duration in seconds.
    pub duration: f64,
    /// Residual voltage (dips, interruptions) or maximum voltage (swells), % of Udin.
    pub extreme_percent: f64,
}

/// One harmonic order's 10-min values on one phase, in % of the fundamental.
#[derive(Debug, Clone, Copy)]
pub struct HarmonicSeries<'a> {
    /// Harmonic order (2 to 25 are judged; others are ignored).
    pub order: usize,
    /// The 10-min values, % of U1.
    pub values: FlaggedSeries<'a>,
}

/// One phase (or line-to-line channel) of the 10-min series.
#[derive(Debug, Clone, Default)]
pub struct PhaseInput<'a> {
    /// The channel's column name (`U_A`, `U_AB`, …), used in the criteria names.
    pub name: &'a str,
    /// 10-min mean RMS voltage, in volts (compared with Udin).
    pub voltage: FlaggedSeries<'a>,
    /// 10-min THD, % (to order 40).
    pub thd: FlaggedSeries<'a>,
    /// 10-min individual harmonics, % of U1, by order.
    pub harmonics: Vec<HarmonicSeries<'a>>,
    /// Plt values (2 h), dimensionless.
    pub plt: FlaggedSeries<'a>,
}

/// Everything the weekly assessment reads. Empty series are fine: their criteria come out
/// [`Verdict::NotAssessed`].
#[derive(Debug, Clone, Default)]
pub struct En50160Input<'a> {
    /// Declared supply voltage Udin in volts (the nominal Un of EN 50160 for LV).
    pub udin: f64,
    /// Nominal frequency in hertz (50 or 60).
    pub nominal_frequency: f64,
    /// How the supply is connected.
    pub connection: Connection,
    /// Length of the observation, in seconds (the recording's span).
    pub observation_seconds: f64,
    /// Give verdicts for observations shorter than the standard's week.
    pub allow_short_observation: bool,
    /// 10-s frequency values, Hz.
    pub frequency_10s: FlaggedSeries<'a>,
    /// Per phase series.
    pub phases: Vec<PhaseInput<'a>>,
    /// 10-min negative-sequence unbalance u2, %.
    pub unbalance: FlaggedSeries<'a>,
    /// The voltage events of the observation.
    pub events: &'a [EventInput],
}

/// A `[low, high]` band in % of a nominal with the share of values required inside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandLimit {
    /// Lower end, % deviation from nominal (negative below).
    pub low: f64,
    /// Upper end, % deviation from nominal.
    pub high: f64,
    /// Share of values required inside, %.
    pub required: f64,
}

/// A maximum with the share of values required at or below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxLimit {
    /// The maximum.
    pub max: f64,
    /// Share of values required at or below it, %.
    pub required: f64,
}

/// The two frequency bands of 4.2.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyBands {
    /// The band most values must keep.
    pub narrow: BandLimit,
    /// The band every value must keep.
    pub wide: BandLimit,
}

/// Frequency limits per connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyLimits {
    /// Interconnected systems.
    pub interconnected: FrequencyBands,
    /// Islands.
    pub island: FrequencyBands,
}

/// THD limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThdLimit {
    /// Maximum THD, %.
    pub max: f64,
    /// Share required, %.
    pub required: f64,
    /// Highest order the THD includes (40).
    pub max_order: usize,
}

/// One row of Table 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarmonicLimit {
    /// Harmonic order.
    pub order: usize,
    /// Maximum, % of U1.
    pub max: f64,
}

/// Table 1 with the share required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarmonicLimits {
    /// Share required, %.
    pub required: f64,
    /// The orders and their limits.
    pub limits: Vec<HarmonicLimit>,
}

/// Interruption classes (4.3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterruptionLimits {
    /// The longest short interruption, seconds (3 min).
    pub short_max_seconds: f64,
}

/// The EN 50160:2010 numbers for LV public networks, as kept in `limits/en50160.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct En50160Limits {
    /// The assessment period, seconds (one week).
    pub period_seconds: f64,
    /// 4.2.1.
    pub frequency: FrequencyLimits,
    /// 4.2.2.
    pub voltage: FrequencyBands,
    /// 4.2.3.2, Plt.
    pub flicker: MaxLimit,
    /// 4.2.4, u2.
    pub unbalance: MaxLimit,
    /// 4.2.5, THD.
    pub thd: ThdLimit,
    /// 4.2.5, Table 1.
    pub harmonics: HarmonicLimits,
    /// Duration columns of the dip and swell tables, seconds.
    pub event_columns: Vec<Interval>,
    /// Residual-voltage rows of the dip table, % of Udin.
    pub dip_rows: Vec<Interval>,
    /// Maximum-voltage rows of the swell table, % of Udin.
    pub swell_rows: Vec<Interval>,
    /// 4.3.1.
    pub interruptions: InterruptionLimits,
}

impl En50160Limits {
    /// The limits embedded in the library.
    pub fn embedded() -> Result<Self, LimitsError> {
        Self::from_toml(limits::en50160_text())
    }
    /// Limits from TOML text laid out as `limits/en50160.toml`.
    pub fn from_toml(text: &str) -> Result<Self, LimitsError> {
        limits::parse(text)
    }
    /// Table 1 as (order, limit % of U1) pairs, e.g. for the limit marks of a spectrum.
    pub fn harmonic_table(&self) -> Vec<(usize, f64)> {
        self.harmonics
            .limits
            .iter()
            .map(|l| (l.order, l.max))
            .collect()
    }
    /// The Table 1 limit for a harmonic order, % of U1.
    pub fn harmonic_limit(&self, order: usize) -> Option<f64> {
        self.harmonics
            .limits
            .iter()
            .find(|l| l.order == order)
            .map(|l| l.max)
    }
}

/// One judged rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// What is judged, e.g. `Supply voltage U_A (95 %)`.
    pub name: String,
    /// The clause of EN 50160:2010.
    pub clause: String,
    /// The limit in words, e.g. `230 V ±10 % (207.0–253.0 V)`.
    pub limit: String,
    /// Share of the usable values within the limit, % (None without usable values).
    pub percent_within: Option<f64>,
    /// Share the standard requires, %.
    pub required_percent: f64,
    /// The worst usable value (largest deviation, or largest value), in the criterion's unit.
    pub worst: Option<f64>,
    /// Usable values.
    pub values_used: usize,
    /// Values left out: flagged, or missing (non-finite).
    pub values_flagged: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is what it is, when that needs saying (short observation, no data).
    pub note: String,
}

/// Event counts in a rows × columns table (rows: voltage, columns: duration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTable {
    /// Row labels (residual or maximum voltage, % of Udin).
    pub rows: Vec<String>,
    /// Column labels (duration).
    pub columns: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
    /// Events of this kind that fall in no cell (shorter than 10 ms, longer than 60 s, or a
    /// voltage outside every row).
    pub outside: u64,
}

impl EventTable {
    fn new(rows: &[Interval], columns: &[Interval]) -> Self {
        EventTable {
            rows: rows.iter().map(|r| r.label.clone()).collect(),
            columns: columns.iter().map(|c| c.label.clone()).collect(),
            counts: vec![vec![0; columns.len()]; rows.len()],
            outside: 0,
        }
    }
    fn add(&mut self, rows: &[Interval], columns: &[Interval], percent: f64, duration: f64) {
        let r = rows.iter().position(|r| r.contains(percent));
        let c = columns.iter().position(|c| c.contains(duration));
        match (r, c) {
            (Some(r), Some(c)) => {
                if let Some(cell) = self.counts.get_mut(r).and_then(|row| row.get_mut(c)) {
                    *cell += 1;
                }
            }
            _ => self.outside += 1,
        }
    }
    /// Events counted in cells.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}

/// The interruption counts of 4.3.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptionCounts {
    /// Up to 3 min.
    pub short: u64,
    /// Longer than 3 min.
    pub long: u64,
}

/// The result of [`assess`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct En50160Assessment {
    /// Every judged rule, in the order of clause 4.2.
    pub criteria: Vec<Criterion>,
    /// Dips by residual voltage × duration (4.3.2).
    pub dip_table: EventTable,
    /// Swells by maximum voltage × duration (4.3.3).
    pub swell_table: EventTable,
    /// Interruptions (4.3.1).
    pub interruptions: InterruptionCounts,
    /// Rapid voltage changes counted (4.2.3.1).
    pub rvc_count: u64,
    /// The observation's length, seconds.
    pub observation_seconds: f64,
    /// True when the observation covers the standard's week.
    pub full_period: bool,
    /// Fail if any criterion fails; pass if any passes and none fails; else not assessed.
    pub overall: Verdict,
}

impl En50160Assessment {
    /// The criteria as report rows.
    pub fn table_rows(&self) -> Vec<TableRow> {
        self.criteria
            .iter()
            .map(|c| {
                let measured = match c.percent_within {
                    Some(p) => format!(
                        "{p:.2} % of {} values ({} flagged left out)",
                        c.values_used, c.values_flagged
                    ),
                    None => format!("no usable values ({} flagged)", c.values_flagged),
                };
                TableRow {
                    criterion: format!("{} [EN 50160 {}]", c.name, c.clause),
                    limit: c.limit.clone(),
                    measured,
                    required: format!("≥ {} % of the values", c.required_percent),
                    verdict: c.verdict,
                    note: c.note.clone(),
                }
            })
            .collect()
    }
}

/// Assess with the embedded limits.
pub fn assess(input: &En50160Input<'_>) -> Result<En50160Assessment, LimitsError> {
    Ok(assess_with(input, &En50160Limits::embedded()?))
}

/// Assess against the given limits.
pub fn assess_with(input: &En50160Input<'_>, limits: &En50160Limits) -> En50160Assessment {
    let full_period = input.observation_seconds >= limits.period_seconds;
    let judge = Judge {
        full_period,
        allow_short: input.allow_short_observation,
        observation: input.observation_seconds,
    };
    let mut criteria = Vec::new();

    // 4.2.1 power frequency.
    let fnom = input.nominal_frequency;
    let bands = match input.connection {
        Connection::Interconnected => &limits.frequency.interconnected,
        Connection::Island => &limits.frequency.island,
    };
    for band in [&bands.narrow, &bands.wide] {
        criteria.push(judge.band(
            format!("Frequency, 10-s mean ({} %)", band.required),
            "4.2.1",
            input.frequency_10s,
            fnom,
            band,
            "Hz",
        ));
    }

    // 4.2.2 supply voltage variations, per phase.
    for phase in &input.phases {
        for band in [&limits.voltage.narrow, &limits.voltage.wide] {
            criteria.push(judge.band(
                format!(
                    "Supply voltage {}, 10-min mean ({} %)",
                    phase.name, band.required
                ),
                "4.2.2",
                phase.voltage,
                input.udin,
                band,
                "V",
            ));
        }
    }

    // 4.2.3.2 flicker severity.
    for phase in &input.phases {
        criteria.push(judge.max(
            format!("Flicker Plt {}", phase.name),
            "4.2.3.2",
            phase.plt,
            &limits.flicker,
            format!("Plt ≤ {}", limits.flicker.max),
        ));
    }

    // 4.2.4 unbalance.
    criteria.push(judge.max(
        "Unbalance u2, 10-min".to_string(),
        "4.2.4",
        input.unbalance,
        &limits.unbalance,
        format!("u2 ≤ {} %", limits.unbalance.max),
    ));

    // 4.2.5 harmonic voltage: THD, then each order of Table 1.
    for phase in &input.phases {
        criteria.push(judge.max(
            format!("THD {}, 10-min", phase.name),
            "4.2.5",
            phase.thd,
            &MaxLimit {
                max: limits.thd.max,
                required: limits.thd.required,
            },
            format!(
                "THD (to order {}) ≤ {} %",
                limits.thd.max_order, limits.thd.max
            ),
        ));
    }
    for phase in &input.phases {
        let mut orders: Vec<&HarmonicSeries<'_>> = phase.harmonics.iter().collect();
        orders.sort_by_key(|h| h.order);
        for h in orders {
            let Some(max) = limits.harmonic_limit(h.order) else {
                continue;
            };
            criteria.push(judge.max(
                format!("Harmonic {} {}, 10-min", h.order, phase.name),
                "4.2.5 Table 1",
                h.values,
                &MaxLimit {
                    max,
                    required: limits.harmonics.required,
                },
                format!("H{} ≤ {} % of U1", h.order, max),
            ));
        }
    }

    // 4.3 events.
    let mut dip_table = EventTable::new(&limits.dip_rows, &limits.event_columns);
    let mut swell_table = EventTable::new(&limits.swell_rows, &limits.event_columns);
    let mut interruptions = InterruptionCounts::default();
    let mut rvc_count = 0;
    for e in input.events {
        match e.kind {
            EventKind::Dip => dip_table.add(
                &limits.dip_rows,
                &limits.event_columns,
                e.extreme_percent,
                e.duration,
            ),
            EventKind::Swell => swell_table.add(
                &limits.swell_rows,
                &limits.event_columns,
                e.extreme_percent,
                e.duration,
            ),
            EventKind::Interruption => {
                if e.duration <= limits.interruptions.short_max_seconds {
                    interruptions.short += 1;
                } else {
                    interruptions.long += 1;
                }
            }
            EventKind::Rvc => rvc_count += 1,
        }
    }

    let overall = Verdict::combine(criteria.iter().map(|c| c.verdict));
    En50160Assessment {
        criteria,
        dip_table,
        swell_table,
        interruptions,
        rvc_count,
        observation_seconds: input.observation_seconds,
        full_period,
        overall,
    }
}

/// A limit value for the text of a criterion: three decimals at most, trailing zeros cut
/// (253, 49.5, 195.5).
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Counting usable values and turning percentages into verdicts.
struct Judge {
    full_period: bool,
    allow_short: bool,
    observation: f64,
}

/// Usable values of a series and how many were left out.
fn usable(series: FlaggedSeries<'_>) -> (Vec<f64>, usize) {
    let used: Vec<f64> = series
        .iter()
        .filter(|(v, flagged)| !*flagged && v.is_finite())
        .map(|(v, _)| *v)
        .collect();
    let left_out = series.len() - used.len();
    (used, left_out)
}

impl Judge {
    /// Share of `nominal·(1 + low/100) ≤ v ≤ nominal·(1 + high/100)`.
    fn band(
        &self,
        name: String,
        clause: &str,
        series: FlaggedSeries<'_>,
        nominal: f64,
        band: &BandLimit,
        unit: &str,
    ) -> Criterion {
        // nominal + nominal·p/100 keeps round limits exact (230 V + 10 % = 253 V).
        let lo = nominal + nominal * band.low / 100.0;
        let hi = nominal + nominal * band.high / 100.0;
        let (used, flagged) = usable(series);
        let within = used.iter().filter(|&&v| v >= lo && v <= hi).count();
        let worst = used
            .iter()
            .copied()
            .max_by(|a, b| (a - nominal).abs().total_cmp(&(b - nominal).abs()));
        let limit = if band.low == -band.high {
            format!(
                "{nominal} {unit} ±{} % ({}–{} {unit})",
                band.high,
                trim(lo),
                trim(hi)
            )
        } else {
            format!(
                "{nominal} {unit} +{} %/−{} % ({}–{} {unit})",
                band.high,
                -band.low,
                trim(lo),
                trim(hi)
            )
        };
        self.criterion(
            name,
            clause,
            limit,
            band.required,
            within,
            used.len(),
            flagged,
            worst,
        )
    }

    /// Share of values at or below `limit.max`.
    fn max(
        &self,
        name: String,
        clause: &str,
        series: FlaggedSeries<'_>,
        limit: &MaxLimit,
        text: String,
    ) -> Criterion {
        let (used, flagged) = usable(series);
        let within = used.iter().filter(|&&v| v <= limit.max).count();
        let worst = used.iter().copied().max_by(f64::total_cmp);
        self.criterion(
            name,
            clause,
            text,
            limit.required,
            within,
            used.len(),
            flagged,
            worst,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn criterion(
        &self,
        name: String,
        clause: &str,
        limit: String,
        required: f64,
        within: usize,
        used: usize,
        flagged: usize,
        worst: Option<f64>,
    ) -> Criterion {
        let (percent_within, verdict, note) = if used == 0 {
            let note = if flagged > 0 {
                format!("all {flagged} values flagged")
            } else {
                "no values".to_string()
            };
            (None, Verdict::NotAssessed, note)
        } else {
            let percent = within as f64 * 100.0 / used as f64;
            // Compare in counts (within·100 ≥ required·used) so a series exactly at the
            // boundary (19 of 20 = 95 %) is judged without rounding.
            let ok = within as f64 * 100.0 >= required * used as f64;
            if self.full_period || self.allow_short {
                let note = if self.full_period {
                    String::new()
                } else {
                    format!(
                        "observation {} is shorter than the standard's week",
                        describe_duration(self.observation)
                    )
                };
                (Some(percent), Verdict::from_ok(ok), note)
            } else {
                let note = format!(
                    "observation {} is shorter than the standard's week; indicative: {}",
                    describe_duration(self.observation),
                    if ok {
                        "within the limit"
                    } else {
                        "outside the limit"
                    }
                );
                (Some(percent), Verdict::NotAssessed, note)
            }
        };
        Criterion {
            name,
            clause: clause.to_string(),
            limit,
            percent_within,
            required_percent: required,
            worst,
            values_used: used,
            values_flagged: flagged,
            verdict,
            note,
        }
    }
}
