//! Builds `report.html` and `compliance.json` from the analysis records: trends, spectra,
//! events, phasors and the EN 50160 and IEEE 519 assessments.
//!
//! Memory stays bounded on long recordings: interval values are kept for the first hour
//! only (trends then come from the 150/180-cycle aggregates), and per-order harmonic values
//! are kept as 3-s and 10-min aggregates, formed here over the aggregator's own periods
//! (the members of an aggregate are the intervals that started inside it, IEC 61000-4-30
//! 4.5) as the quadratic mean of each order's subgroup.

use crate::settings::{Part, Switches};
use anyhow::Result;
use pqe_core::record::{
    AggregatePeriod, AggregateRecord, DisturbanceSide, EventRecord, FlickerRecord, FlickerSeverity,
    FrequencyRecord, IntervalRecord,
};
use pqe_core::{ChannelKind, ChannelSpec, SystemConfig, Timestamp, Wiring};
use pqe_report::{
    ComplianceRow, ComplianceTable, CountTable, EventRow, Phasor, RecordingFacts, Report,
    ReportData, Series, Spectrum, SystemFacts, Verdict,
};
use pqe_standards::en50160::{self, En50160Input, EventInput, HarmonicSeries, PhaseInput};
use pqe_standards::ieee519::{
    self, ChannelInput, Edition, Ieee519Input, OrderSeries, PeriodSeries,
};
use pqe_standards::limits::TableRow;
use std::collections::VecDeque;

/// Interval values kept for trends: one hour of 10/12-cycle intervals.
const MAX_INTERVAL_POINTS: usize = 18_000;
/// Highest order kept per aggregate (IEEE 519 judges orders to 50).
const MAX_ORDER: usize = 50;

/// Settings of the compliance assessments.
#[derive(Debug, Clone)]
pub struct ComplianceSettings {
    /// IEEE 519 edition.
    pub ieee519_edition: Edition,
    /// Short-circuit current at the PCC, A (for IEEE 519's Isc/I_L).
    pub short_circuit_current: Option<f64>,
    /// Judge observations shorter than the standards' week (or day).
    pub allow_short_observation: bool,
}

/// Collects what the report and the assessments need while the analysis streams.
pub struct ReportCollector {
    columns: Vec<String>,
    kinds: Vec<ChannelKind>,
    units: Vec<String>,
    config: SystemConfig,
    start: Timestamp,
    switches: Switches,
    // Interval trends (the first hour).
    interval_t: Vec<f64>,
    interval_flagged: Vec<f64>,
    interval_rms: Vec<Vec<f64>>,
    interval_thd: Vec<Vec<f64>>,
    interval_overflow: bool,
    // 3-s aggregate trends.
    agg3_t: Vec<f64>,
    agg3_flagged: Vec<f64>,
    agg3_rms: Vec<Vec<f64>>,
    agg3_thd: Vec<Vec<f64>>,
    // Per-order harmonic magnitudes of the intervals not yet aggregated.
    pending3: VecDeque<(Timestamp, Vec<Vec<f64>>)>,
    pending10: VecDeque<(Timestamp, Vec<Vec<f64>>)>,
    harm3: HarmonicAggregates,
    harm10: HarmonicAggregates,
    ten_minute: Vec<AggregateRecord>,
    frequency: Vec<FrequencyRecord>,
    flicker: Vec<FlickerRecord>,
    events: Vec<EventRecord>,
    // Phasors: sums over unflagged intervals of the fundamental's magnitude and unit vector.
    phasor_sums: Vec<(f64, f64, f64, u64)>,
    // Notes from the run (settings that do not fit the data), shown first.
    run_notes: Vec<String>,
}

/// Per-order aggregated magnitudes of every channel: `values[channel][order][k]` for the
/// k-th aggregate, with its start and flag.
#[derive(Default)]
struct HarmonicAggregates {
    t: Vec<f64>,
    flagged: Vec<bool>,
    values: Vec<Vec<Vec<f64>>>,
}

impl ReportCollector {
    /// A collector for the analyzer's channel columns, with the parts of the analysis that
    /// are switched on.
    pub fn new(
        columns: &[String],
        channels: &[ChannelSpec],
        config: &SystemConfig,
        start: Timestamp,
        switches: Switches,
    ) -> Self {
        let n = columns.len();
        ReportCollector {
            columns: columns.to_vec(),
            kinds: channels.iter().map(|c| c.kind).collect(),
            units: channels.iter().map(|c| c.unit.trim().to_string()).collect(),
            config: config.clone(),
            start,
            switches,
            interval_t: Vec::new(),
            interval_flagged: Vec::new(),
            interval_rms: vec![Vec::new(); n],
            interval_thd: vec![Vec::new(); n],
            interval_overflow: false,
            agg3_t: Vec::new(),
            agg3_flagged: Vec::new(),
            agg3_rms: vec![Vec::new(); n],
            agg3_thd: vec![Vec::new(); n],
            pending3: VecDeque::new(),
            pending10: VecDeque::new(),
            harm3: HarmonicAggregates {
                values: vec![vec![Vec::new(); MAX_ORDER + 1]; n],
                ..Default::default()
            },
            harm10: HarmonicAggregates {
                values: vec![vec![Vec::new(); MAX_ORDER + 1]; n],
                ..Default::default()
            },
            ten_minute: Vec::new(),
            frequency: Vec::new(),
            flicker: Vec::new(),
            events: Vec::new(),
            phasor_sums: vec![(0.0, 0.0, 0.0, 0); n],
            run_notes: Vec::new(),
        }
    }

    /// Add a note to the report's notes (before the ones the assessment adds).
    pub fn note(&mut self, text: String) {
        self.run_notes.push(text);
    }

    /// Take an interval.
    pub fn interval(&mut self, r: &IntervalRecord) {
        if !self.interval_overflow {
            if self.interval_t.len() < MAX_INTERVAL_POINTS {
                self.interval_t.push(r.t);
                self.interval_flagged
                    .push(if r.flagged { 1.0 } else { 0.0 });
                for (c, ch) in r.channels.iter().enumerate().take(self.columns.len()) {
                    self.interval_rms[c].push(ch.rms);
                    self.interval_thd[c].push(ch.harmonics.as_ref().map_or(f64::NAN, |h| h.thds));
                }
            } else if self.switches.aggregation {
                self.interval_overflow = true;
                self.interval_t = Vec::new();
                self.interval_flagged = Vec::new();
                self.interval_rms.iter_mut().for_each(|v| *v = Vec::new());
                self.interval_thd.iter_mut().for_each(|v| *v = Vec::new());
            }
        }
        let orders: Vec<Vec<f64>> = r
            .channels
            .iter()
            .map(|ch| {
                ch.harmonics.as_ref().map_or_else(Vec::new, |h| {
                    h.subgroups.iter().take(MAX_ORDER + 1).copied().collect()
                })
            })
            .collect();
        if orders.iter().any(|o| !o.is_empty()) {
            self.pending3.push_back((r.start, orders.clone()));
            self.pending10.push_back((r.start, orders));
        }
        if !r.flagged {
            for (c, ch) in r.channels.iter().enumerate().take(self.columns.len()) {
                let Some(h) = &ch.harmonics else { continue };
                let (Some(&mag), Some(&phi)) = (h.subgroups.get(1), h.phases.get(1)) else {
                    continue;
                };
                if mag.is_finite() && phi.is_finite() {
                    let s = &mut self.phasor_sums[c];
                    s.0 += mag;
                    s.1 += phi.to_radians().cos();
                    s.2 += phi.to_radians().sin();
                    s.3 += 1;
                }
            }
        }
    }

    /// Take an aggregate.
    pub fn aggregate(&mut self, r: &AggregateRecord) {
        match r.period {
            AggregatePeriod::ThreeSeconds => {
                self.agg3_t.push(r.t);
                self.agg3_flagged.push(if r.flagged { 1.0 } else { 0.0 });
                for (c, col) in self.columns.iter().enumerate() {
                    self.agg3_rms[c].push(r.value(col).unwrap_or(f64::NAN));
                    self.agg3_thd[c].push(r.value(&format!("THDS_{col}")).unwrap_or(f64::NAN));
                }
                aggregate_orders(&mut self.pending3, r, &mut self.harm3);
            }
            AggregatePeriod::TenMinutes => {
                aggregate_orders(&mut self.pending10, r, &mut self.harm10);
                self.ten_minute.push(r.clone());
            }
            AggregatePeriod::TwoHours => {}
        }
    }

    /// Take a 10-s frequency value.
    pub fn frequency(&mut self, r: &FrequencyRecord) {
        self.frequency.push(r.clone());
    }

    /// Take a flicker value.
    pub fn flicker(&mut self, r: &FlickerRecord) {
        self.flicker.push(r.clone());
    }

    /// Take an event.
    pub fn event(&mut self, r: &EventRecord) {
        self.events.push(r.clone());
    }

    /// Run the assessments and build the report. Returns the report data and the compliance
    /// document (for compliance.json).
    pub fn finish(
        self,
        source: &str,
        duration: f64,
        sample_rate: f64,
        settings: &ComplianceSettings,
    ) -> Result<(ReportData, serde_json::Value)> {
        let udin = self.config.udin;
        let voltages: Vec<usize> = (0..self.columns.len())
            .filter(|&c| self.kinds[c] == ChannelKind::Voltage)
            .collect();
        let currents: Vec<usize> = (0..self.columns.len())
            .filter(|&c| self.kinds[c] == ChannelKind::Current)
            .collect();

        // EN 50160 inputs from the 10-min values.
        let flagged10: Vec<bool> = self.ten_minute.iter().map(|r| r.flagged).collect();
        let pair = |values: Vec<f64>, flags: &[bool]| -> Vec<(f64, bool)> {
            values.into_iter().zip(flags.iter().copied()).collect()
        };
        let u10: Vec<Vec<(f64, bool)>> = voltages
            .iter()
            .map(|&c| {
                pair(
                    self.ten_minute
                        .iter()
                        .map(|r| r.value(&self.columns[c]).unwrap_or(f64::NAN))
                        .collect(),
                    &flagged10,
                )
            })
            .collect();
        let thd40: Vec<Vec<(f64, bool)>> = voltages
            .iter()
            .map(|&c| {
                pair(
                    thd_percent(&self.harm10.values[c], 40),
                    &self.harm10.flagged,
                )
            })
            .collect();
        let harm_pct10: Vec<Vec<Vec<(f64, bool)>>> = voltages
            .iter()
            .map(|&c| {
                (0..=MAX_ORDER)
                    .map(|n| {
                        pair(
                            percent_of_fundamental(&self.harm10.values[c], n),
                            &self.harm10.flagged,
                        )
                    })
                    .collect()
            })
            .collect();
        let plt: Vec<Vec<(f64, bool)>> = voltages
            .iter()
            .map(|&c| {
                self.flicker
                    .iter()
                    .filter(|r| r.severity == FlickerSeverity::Plt && r.column == self.columns[c])
                    .map(|r| (r.value, r.flagged))
                    .collect()
            })
            .collect();
        let u2: Vec<(f64, bool)> = pair(
            self.ten_minute
                .iter()
                .map(|r| r.value("u2").unwrap_or(f64::NAN))
                .collect(),
            &flagged10,
        );
        let f10: Vec<(f64, bool)> = self
            .frequency
            .iter()
            .map(|r| (r.frequency, r.flagged))
            .collect();
        let event_inputs: Vec<EventInput> = self
            .events
            .iter()
            .filter_map(|e| {
                Some(EventInput {
                    kind: en50160::EventKind::parse(e.kind.as_str())?,
                    duration: e.duration,
                    extreme_percent: 100.0 * e.extreme / udin,
                })
            })
            .collect();
        let phases: Vec<PhaseInput> = voltages
            .iter()
            .enumerate()
            .map(|(k, &c)| PhaseInput {
                name: &self.columns[c],
                voltage: &u10[k],
                thd: &thd40[k],
                harmonics: (2..=25)
                    .map(|n| HarmonicSeries {
                        order: n,
                        values: &harm_pct10[k][n],
                    })
                    .collect(),
                plt: &plt[k],
            })
            .collect();
        let mut en = en50160::assess(&En50160Input {
            udin,
            nominal_frequency: self.config.nominal_frequency.hz(),
            connection: en50160::Connection::Interconnected,
            observation_seconds: duration,
            allow_short_observation: settings.allow_short_observation,
            frequency_10s: &f10,
            phases,
            unbalance: &u2,
            events: &event_inputs,
        })?;
        // Criteria whose inputs were not computed are not assessed, whatever the (empty)
        // series gave.
        for c in &mut en.criteria {
            let needs: &[Part] = match c.clause.as_str() {
                "4.2.2" => &[Part::Aggregation],
                "4.2.3.2" => &[Part::Flicker],
                "4.2.4" | "4.2.5" | "4.2.5 Table 1" => &[Part::Harmonics, Part::Aggregation],
                _ => &[],
            };
            if let Some(note) = self.switches.not_assessed(needs) {
                c.verdict = Verdict::NotAssessed;
                c.note = note;
            }
        }
        en.overall = Verdict::combine(en.criteria.iter().map(|c| c.verdict));
        let mut en_notes = Vec::new();
        if !self.switches.events {
            en_notes.push(
                "Events switched off (--no-events): no value is flagged for dips, swells or \
                 interruptions (IEC 61000-4-30 4.7), and the dips, swells and interruptions \
                 of clause 4.3 are not assessed."
                    .to_string(),
            );
        }

        // IEEE 519 inputs: voltages in % of U1, currents in % of I_L.
        let bus_voltage = match self.config.wiring {
            Wiring::Wye => udin * 3f64.sqrt(),
            Wiring::Delta | Wiring::Single => udin,
        };
        let il = self.config.load_current;
        let series_for = |agg: &HarmonicAggregates, c: usize, current: bool| -> PeriodData {
            let pct = |n: usize| -> Vec<f64> {
                if current {
                    let il = il.unwrap_or(f64::NAN);
                    agg.values[c][n].iter().map(|v| 100.0 * v / il).collect()
                } else {
                    percent_of_fundamental(&agg.values[c], n)
                }
            };
            let distortion = if current {
                let il = il.unwrap_or(f64::NAN);
                (0..agg.t.len())
                    .map(|k| {
                        100.0
                            * (2..=MAX_ORDER)
                                .map(|n| agg.values[c][n][k].powi(2))
                                .sum::<f64>()
                                .sqrt()
                            / il
                    })
                    .collect()
            } else {
                thd_percent(&agg.values[c], MAX_ORDER)
            };
            (
                distortion
                    .into_iter()
                    .zip(agg.flagged.iter().copied())
                    .collect(),
                (0..=MAX_ORDER)
                    .map(|n| {
                        pct(n)
                            .into_iter()
                            .zip(agg.flagged.iter().copied())
                            .collect()
                    })
                    .collect(),
            )
        };
        let v_series: Vec<_> = voltages
            .iter()
            .map(|&c| {
                (
                    series_for(&self.harm10, c, false),
                    series_for(&self.harm3, c, false),
                )
            })
            .collect();
        let i_series: Vec<_> = if il.is_some() {
            currents
                .iter()
                .map(|&c| {
                    (
                        series_for(&self.harm10, c, true),
                        series_for(&self.harm3, c, true),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut ieee = ieee519::assess(&Ieee519Input {
            edition: settings.ieee519_edition,
            bus_voltage,
            isc_over_il: match (settings.short_circuit_current, il) {
                (Some(isc), Some(il)) => Some(isc / il),
                _ => None,
            },
            observation_seconds: duration,
            allow_short_observation: settings.allow_short_observation,
            voltage: voltages
                .iter()
                .zip(&v_series)
                .map(|(&c, s)| channel_input(&self.columns[c], &self.harm10.t, &self.harm3.t, s))
                .collect(),
            current: currents
                .iter()
                .zip(&i_series)
                .map(|(&c, s)| channel_input(&self.columns[c], &self.harm10.t, &self.harm3.t, s))
                .collect(),
        })?;
        let mut ieee_notes = Vec::new();
        if let Some(note) = self
            .switches
            .not_assessed(&[Part::Harmonics, Part::Aggregation])
        {
            for c in &mut ieee.checks {
                c.verdict = Verdict::NotAssessed;
                c.note = note.clone();
            }
            ieee.overall = Verdict::NotAssessed;
            ieee_notes.push(format!(
                "IEEE 519 {note}: it judges the 3-s and 10-min harmonic aggregates."
            ));
        }

        let switched_off: Vec<&str> = self.switches.off().iter().map(|p| p.key()).collect();
        let compliance = serde_json::json!({
            "switched_off": switched_off,
            "en50160": {
                "overall": en.overall,
                "criteria": en.table_rows(),
                "events_assessed": self.switches.events,
                "notes": en_notes,
            },
            "ieee519": {
                "edition": settings.ieee519_edition.year(),
                "overall": ieee.overall,
                "checks": ieee.table_rows(),
                "notes": ieee_notes,
            },
        });

        // The report.
        let (trend_t, trend_flags, trend_rms, trend_thd) = if self.interval_overflow {
            (
                &self.agg3_t,
                &self.agg3_flagged,
                &self.agg3_rms,
                &self.agg3_thd,
            )
        } else {
            (
                &self.interval_t,
                &self.interval_flagged,
                &self.interval_rms,
                &self.interval_thd,
            )
        };
        let series =
            |cols: &[usize], values: &[Vec<f64>], prefix: &str, unit: &str| -> Vec<Series> {
                cols.iter()
                    .map(|&c| {
                        let unit = if unit.is_empty() {
                            self.units[c].as_str()
                        } else {
                            unit
                        };
                        Series::from_columns(
                            format!("{prefix}{}", self.columns[c]),
                            unit,
                            trend_t,
                            &values[c],
                            Some(trend_flags),
                        )
                    })
                    .collect()
            };
        let spectra_source = if self
            .harm10
            .t
            .iter()
            .zip(&self.harm10.flagged)
            .any(|(_, f)| !f)
        {
            &self.harm10
        } else {
            &self.harm3
        };
        let spectrum_flags: Vec<f64> = spectra_source
            .flagged
            .iter()
            .map(|&f| if f { 1.0 } else { 0.0 })
            .collect();
        let en_limits = pqe_standards::en50160::En50160Limits::embedded()?.harmonic_table();
        let mut spectra = Vec::new();
        for &c in voltages.iter().chain(&currents) {
            let pct: Vec<Vec<f64>> = (0..=MAX_ORDER)
                .map(|n| percent_of_fundamental(&spectra_source.values[c], n))
                .collect();
            if pct.iter().all(|v| v.is_empty()) {
                continue;
            }
            let orders: Vec<(usize, &[f64])> = (2..=40).map(|n| (n, pct[n].as_slice())).collect();
            let voltage = self.kinds[c] == ChannelKind::Voltage;
            spectra.push(Spectrum::from_columns(
                self.columns[c].clone(),
                if voltage { "% of U1" } else { "% of I1" },
                &orders,
                Some(&spectrum_flags),
                if voltage {
                    en_limits.clone()
                } else {
                    Vec::new()
                },
                if voltage { "EN 50160 Table 1" } else { "" },
            ));
        }
        let flicker_series = |severity: FlickerSeverity| -> Vec<Series> {
            voltages
                .iter()
                .filter_map(|&c| {
                    let recs: Vec<&FlickerRecord> = self
                        .flicker
                        .iter()
                        .filter(|r| r.severity == severity && r.column == self.columns[c])
                        .collect();
                    if recs.is_empty() {
                        return None;
                    }
                    let t: Vec<f64> = recs.iter().map(|r| r.t).collect();
                    let v: Vec<f64> = recs.iter().map(|r| r.value).collect();
                    let f: Vec<f64> = recs
                        .iter()
                        .map(|r| if r.flagged { 1.0 } else { 0.0 })
                        .collect();
                    let name = match severity {
                        FlickerSeverity::Pst => "Pst_",
                        FlickerSeverity::Plt => "Plt_",
                    };
                    Some(Series::from_columns(
                        format!("{name}{}", self.columns[c].trim_start_matches("U_")),
                        "",
                        &t,
                        &v,
                        Some(&f),
                    ))
                })
                .collect()
        };
        let ft: Vec<f64> = self.frequency.iter().map(|r| r.t).collect();
        let fv: Vec<f64> = self.frequency.iter().map(|r| r.frequency).collect();
        let ff: Vec<f64> = self
            .frequency
            .iter()
            .map(|r| if r.flagged { 1.0 } else { 0.0 })
            .collect();
        let phasors = self
            .phasor_sums
            .iter()
            .enumerate()
            .filter(|(_, s)| s.3 > 0)
            .map(|(c, s)| Phasor {
                channel: self.columns[c].clone(),
                unit: self.units[c].clone(),
                magnitude: s.0 / s.3 as f64,
                angle_degrees: s.2.atan2(s.1).to_degrees(),
            })
            .collect();
        let to_rows = |rows: Vec<TableRow>| -> Vec<ComplianceRow> {
            rows.into_iter()
                .map(|r| ComplianceRow {
                    criterion: r.criterion,
                    limit: r.limit,
                    measured: r.measured,
                    required: r.required,
                    verdict: r.verdict,
                    note: r.note,
                })
                .collect()
        };
        let count_table = |title: &str, t: &en50160::EventTable| CountTable {
            title: title.to_string(),
            corner: "u (% of Udin)".into(),
            rows: t.rows.clone(),
            columns: t.columns.clone(),
            counts: t.counts.clone(),
            note: if t.outside > 0 {
                format!("{} outside the table", t.outside)
            } else {
                String::new()
            },
        };
        let mut notes = self.run_notes.clone();
        if self.interval_overflow {
            notes.push(
                "Trends show 150/180-cycle (3-s) aggregates; the recording is longer than an hour."
                    .to_string(),
            );
        }
        if il.is_none() && self.switches.harmonics {
            notes.push("No maximum demand current I_L given (--load-current): TDD and the IEEE 519 current limits are not assessed.".to_string());
        }
        let off = self.switches.off();
        if !off.is_empty() {
            let parts: Vec<String> = off
                .iter()
                .map(|p| format!("{} ({})", p.words(), p.flag()))
                .collect();
            notes.push(format!(
                "Switched off in this analysis: {}. Their sections stay empty (an empty \
                 section does not mean nothing happened) and the assessments that need them \
                 are not assessed.",
                parts.join(", ")
            ));
        }
        if !self.switches.aggregation {
            notes.push(
                "Aggregation switched off: trends show the 10/12-cycle values of at most the \
                 first hour, and harmonic spectra (formed from the 3-s and 10-min aggregates) \
                 are not drawn."
                    .to_string(),
            );
        }
        let mut extra = vec![(
            "analyzer".to_string(),
            format!("PQE {}", env!("CARGO_PKG_VERSION")),
        )];
        if !off.is_empty() {
            let words: Vec<&str> = off.iter().map(|p| p.words()).collect();
            extra.push(("switched off".to_string(), words.join(", ")));
        }
        let data = ReportData {
            title: format!("Power-quality report: {source}"),
            recording: RecordingFacts {
                source: source.to_string(),
                start: self.start.to_string(),
                duration_seconds: Some(duration),
                sample_rate: Some(sample_rate),
                channels: self
                    .columns
                    .iter()
                    .zip(&self.units)
                    .map(|(c, u)| format!("{c} ({u})"))
                    .collect(),
                extra,
            },
            system: SystemFacts {
                udin,
                nominal_frequency: self.config.nominal_frequency.hz(),
                wiring: self.config.wiring.to_string(),
                load_current: il,
            },
            rms_voltage: series(&voltages, trend_rms, "", ""),
            rms_current: series(&currents, trend_rms, "", ""),
            frequency: vec![Series::from_columns("f", "Hz", &ft, &fv, Some(&ff))],
            thd: series(&voltages, trend_thd, "THDS_", "%"),
            pst: flicker_series(FlickerSeverity::Pst),
            plt: flicker_series(FlickerSeverity::Plt),
            spectra,
            events: self
                .events
                .iter()
                .map(|e| EventRow {
                    kind: e.kind.as_str().to_string(),
                    start: e.t,
                    start_text: e.start.to_string(),
                    duration: e.duration,
                    extreme_percent: 100.0 * e.extreme / udin,
                    phases: e.phases_label(),
                    direction: e
                        .direction
                        .as_ref()
                        .map_or_else(String::new, |d| match d.side {
                            DisturbanceSide::Undetermined => d.side.as_str().to_string(),
                            side => format!("{} ({})", side.as_str(), d.confidence.as_str()),
                        }),
                })
                .collect(),
            event_tables: if self.switches.events {
                vec![
                    count_table("EN 50160 dips (residual voltage × duration)", &en.dip_table),
                    count_table(
                        "EN 50160 swells (maximum voltage × duration)",
                        &en.swell_table,
                    ),
                ]
            } else {
                Vec::new()
            },
            phasors,
            compliance: vec![
                ComplianceTable {
                    title: "EN 50160:2010 (LV), weekly assessment of 10-min values".into(),
                    notes: en_notes,
                    overall: en.overall,
                    rows: to_rows(en.table_rows()),
                },
                ComplianceTable {
                    title: format!("IEEE 519-{}", settings.ieee519_edition.year()),
                    notes: ieee_notes,
                    overall: ieee.overall,
                    rows: to_rows(ieee.table_rows()),
                },
            ],
            notes,
            switched_off: off.iter().map(|p| p.key().to_string()).collect(),
            supraharmonics: None,
            metering: None,
        };
        Ok((data, compliance))
    }
}

/// A flagged series, and per order (index = order) another: one aggregation period's
/// distortion and individual orders of one channel.
type PeriodData = (Vec<(f64, bool)>, Vec<Vec<(f64, bool)>>);

/// The IEEE 519 input of one channel from its 10-min and 3-s data.
fn channel_input<'a>(
    name: &'a str,
    t10: &'a [f64],
    t3: &'a [f64],
    s: &'a (PeriodData, PeriodData),
) -> ChannelInput<'a> {
    let period = |t: &'a [f64], d: &'a PeriodData| PeriodSeries {
        t,
        distortion: &d.0,
        orders: (2..=MAX_ORDER)
            .map(|n| OrderSeries {
                order: n,
                values: &d.1[n],
            })
            .collect(),
    };
    ChannelInput {
        name,
        ten_minute: period(t10, &s.0),
        three_second: period(t3, &s.1),
    }
}

/// Render the report.
pub fn render(data: &ReportData) -> String {
    Report::render_html(data)
}

/// Close an aggregate of per-order magnitudes: the quadratic mean of the members (the
/// pending intervals that started inside `[r.start, r.end)`); older members are dropped.
fn aggregate_orders(
    pending: &mut VecDeque<(Timestamp, Vec<Vec<f64>>)>,
    r: &AggregateRecord,
    out: &mut HarmonicAggregates,
) {
    while pending.front().is_some_and(|(t, _)| *t < r.start) {
        pending.pop_front();
    }
    let mut members = Vec::new();
    while pending.front().is_some_and(|(t, _)| *t < r.end) {
        members.push(pending.pop_front().expect("checked").1);
    }
    if members.is_empty() {
        return;
    }
    out.t.push(r.t);
    out.flagged.push(r.flagged);
    for (c, per_order) in out.values.iter_mut().enumerate() {
        for (n, series) in per_order.iter_mut().enumerate() {
            let (sum, count) = members
                .iter()
                .filter_map(|m| m.get(c).and_then(|o| o.get(n)))
                .filter(|v| v.is_finite())
                .fold((0.0, 0u32), |(s, k), v| (s + v * v, k + 1));
            series.push(if count > 0 {
                (sum / f64::from(count)).sqrt()
            } else {
                f64::NAN
            });
        }
    }
}

/// Order `n` in % of order 1, per aggregate.
fn percent_of_fundamental(values: &[Vec<f64>], n: usize) -> Vec<f64> {
    match (values.get(1), values.get(n)) {
        (Some(h1), Some(hn)) => h1.iter().zip(hn).map(|(a, b)| 100.0 * b / a).collect(),
        _ => Vec::new(),
    }
}

/// THD to `max_order` from subgroups, %, per aggregate.
fn thd_percent(values: &[Vec<f64>], max_order: usize) -> Vec<f64> {
    let Some(h1) = values.get(1) else {
        return Vec::new();
    };
    (0..h1.len())
        .map(|k| {
            let sum: f64 = (2..=max_order.min(values.len() - 1))
                .map(|n| values[n][k].powi(2))
                .sum();
            100.0 * sum.sqrt() / h1[k]
        })
        .collect()
}
