//! The record sinks of an analysis: result tables written row by row as records arrive
//! (a live source's rows reach the disk as its intervals complete), the report collector
//! and the figures summary.json needs.
//!
//! Tables are opened when their first record arrives, so a part switched off writes no
//! file. Rows that start before the recording (an aggregate or flicker period aligned to
//! the clock that began before the first sample) are not written: they would describe time
//! nobody measured.

use crate::capture::{CaptureFile, CaptureRecorder};
use crate::compliance::ReportCollector;
use crate::direction::DirectionAssessor;
use crate::table::{cell, file_safe, ResultTable};
use anyhow::Result;
use pqe_core::record::{
    flicker_table, ChannelStatistics, EventRecord, FlickerRecord, FrequencyRecord, IntervalRecord,
    Record,
};
use pqe_io::table::{ColumnType, TableFormat, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the tables hold once written, for the summary.
#[derive(Debug, Default)]
pub struct TableSummary {
    /// Intervals written.
    pub intervals: u64,
    /// Of which flagged.
    pub flagged_intervals: u64,
    /// Sum and count of each interval column over unflagged intervals.
    pub interval_means: BTreeMap<String, (f64, u64)>,
    /// The 10-s frequency values.
    pub frequency: Vec<FrequencyRecord>,
    /// Pst and Plt values.
    pub flicker: Vec<FlickerRecord>,
    /// The events.
    pub events: Vec<EventRecord>,
    /// Per aggregation period: rows and flagged rows.
    pub aggregates: BTreeMap<&'static str, (u64, u64)>,
    /// Captures written.
    pub captures: Vec<CaptureFile>,
    /// Captures not written (over the maximum, or no samples held).
    pub captures_skipped: usize,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Rows left out because they start before the recording.
    pub rows_before_start: u64,
}

/// The result tables of one analysis, opened as their first record arrives.
pub struct Outputs {
    dir: PathBuf,
    format: TableFormat,
    columns: Vec<String>,
    write_half_cycle: bool,
    intervals: Option<IntervalTable>,
    frequency: Option<ResultTable>,
    half_cycle: Option<ResultTable>,
    harmonics: BTreeMap<String, ResultTable>,
    aggregates: BTreeMap<&'static str, ResultTable>,
    events: Option<ResultTable>,
    /// A row's numbers, reused from row to row.
    row: Vec<f64>,
    /// The event captures.
    pub captures: CaptureRecorder,
    /// Judges each event's direction from the samples the captures hold.
    direction: Option<DirectionAssessor>,
    report: ReportCollector,
    summary: TableSummary,
}

impl Outputs {
    /// Sinks writing tables in `format` into `dir` for the analyzer's channel `columns`.
    pub fn new(
        dir: &Path,
        format: TableFormat,
        columns: Vec<String>,
        write_half_cycle: bool,
        captures: CaptureRecorder,
        report: ReportCollector,
    ) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            format,
            columns,
            write_half_cycle,
            intervals: None,
            frequency: None,
            half_cycle: None,
            harmonics: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            events: None,
            row: Vec::new(),
            captures,
            direction: None,
            report,
            summary: TableSummary::default(),
        }
    }

    /// Judge the direction of every event (a recording with voltages and currents).
    pub fn with_direction(mut self, direction: Option<DirectionAssessor>) -> Self {
        self.direction = direction;
        self
    }

    /// Take one record from the analyzer.
    pub fn write(&mut self, record: Record) -> Result<()> {
        match record {
            Record::Interval(r) => {
                self.report.interval(&r);
                self.write_interval(&r)
            }
            Record::Frequency(r) => {
                if self.frequency.is_none() {
                    let cols = ["t", "f", "flagged"].map(String::from);
                    self.frequency = Some(ResultTable::numeric(
                        &self.dir,
                        "frequency",
                        &cols,
                        self.format,
                    )?);
                }
                let table = self.frequency.as_mut().expect("opened above");
                table.write_numbers([r.t, r.frequency, flag(r.flagged)])?;
                self.report.frequency(&r);
                self.summary.frequency.push(r);
                Ok(())
            }
            Record::HalfCycle(r) if self.write_half_cycle => {
                if self.half_cycle.is_none() {
                    let mut cols = ["t", "duration", "rising", "flagged"]
                        .map(String::from)
                        .to_vec();
                    cols.extend(self.columns.iter().cloned());
                    self.half_cycle = Some(ResultTable::numeric(
                        &self.dir,
                        "urms_half_cycle",
                        &cols,
                        self.format,
                    )?);
                }
                let row = [r.t, r.duration, flag(r.rising), flag(r.flagged)];
                let table = self.half_cycle.as_mut().expect("opened above");
                table.write_numbers(row.into_iter().chain(r.rms.iter().copied()))
            }
            Record::Aggregate(r) => {
                if r.t < 0.0 {
                    self.summary.rows_before_start += 1;
                    return Ok(());
                }
                self.report.aggregate(&r);
                let name = r.period.as_str();
                let row = r.table_columns();
                if !self.aggregates.contains_key(name) {
                    let cols: Vec<String> = row.iter().map(|(c, _)| c.clone()).collect();
                    let stem = format!("aggregates_{name}");
                    let table = ResultTable::numeric(&self.dir, &stem, &cols, self.format)?;
                    self.aggregates.insert(name, table);
                }
                self.aggregates
                    .get_mut(name)
                    .expect("inserted above")
                    .write_named(&row)?;
                let e = self.summary.aggregates.entry(name).or_insert((0, 0));
                e.0 += 1;
                e.1 += u64::from(r.flagged);
                Ok(())
            }
            Record::Flicker(r) => {
                if r.t < 0.0 {
                    self.summary.rows_before_start += 1;
                    return Ok(());
                }
                self.report.flicker(&r);
                self.summary.flicker.push(r);
                Ok(())
            }
            Record::Event(e) => self.write_event(e),
            Record::CaptureTrigger(t) => {
                let event = self
                    .summary
                    .events
                    .iter()
                    .find(|e| e.index == t.event_index);
                self.captures.trigger(t, event)
            }
            _ => Ok(()),
        }
    }

    fn write_event(&mut self, mut e: EventRecord) -> Result<()> {
        if let Some(d) = &self.direction {
            e.direction = Some(d.assess(&e, &self.captures));
        }
        if self.events.is_none() {
            let schema = EVENT_COLUMNS
                .iter()
                .zip(EVENT_COLUMN_TYPES)
                .map(|(c, t)| (c.to_string(), t))
                .collect();
            self.events = Some(ResultTable::typed(
                &self.dir,
                "events",
                schema,
                self.format,
            )?);
        }
        let (kind, phases, start, extremes) = (
            e.kind.as_str(),
            e.phases_label(),
            e.start.to_string(),
            channel_extremes(&e),
        );
        let row = [
            Value::Text(kind),
            Value::F64(e.t),
            Value::F64(e.duration),
            Value::F64(e.extreme),
            Value::Text(&phases),
            Value::Text(&start),
            Value::F64(100.0 * e.extreme / e.reference),
            Value::F64(e.reference),
            Value::F64(e.delta_u_max.unwrap_or(f64::NAN)),
            Value::F64(e.delta_u_ss.unwrap_or(f64::NAN)),
            Value::Bool(e.incomplete),
            Value::Text(&extremes),
            Value::Text(e.direction.as_ref().map_or("", |d| d.side.as_str())),
            Value::Text(e.direction.as_ref().map_or("", |d| d.confidence.as_str())),
            Value::F64(e.direction.as_ref().map_or(f64::NAN, |d| d.resistance)),
            Value::F64(e.direction.as_ref().map_or(f64::NAN, |d| d.reactance)),
            Value::Text(e.direction.as_ref().map_or("", |d| d.note.as_str())),
        ];
        self.events
            .as_mut()
            .expect("opened above")
            .write_row(&row)?;
        self.report.event(&e);
        self.summary.events.push(e);
        Ok(())
    }

    fn write_interval(&mut self, r: &IntervalRecord) -> Result<()> {
        if self.intervals.is_none() {
            self.intervals = Some(IntervalTable::create(&self.dir, r, self.format)?);
        }
        let table = self.intervals.as_mut().expect("opened above");
        self.row.clear();
        let layout = r.push_numbers(&mut self.row);
        if layout != table.layout {
            anyhow::bail!(
                "{}: interval {} (t = {} s) has other columns than the first interval",
                table.table.file_name(),
                r.index,
                r.t
            );
        }
        debug_assert!(
            r.columns()
                .iter()
                .map(|(_, v)| v.to_bits())
                .eq(self.row.iter().map(|v| v.to_bits())),
            "IntervalRecord::push_numbers and IntervalRecord::columns disagree"
        );
        table.table.write_numbers(self.row.iter().copied())?;
        self.summary.intervals += 1;
        if r.flagged {
            self.summary.flagged_intervals += 1;
        } else {
            for (sum, v) in table.sums.iter_mut().zip(self.row.iter().skip(3)) {
                if v.is_finite() {
                    sum.0 += v;
                    sum.1 += 1;
                }
            }
        }
        for column in &self.columns {
            let Some(h) = r.channel(column).and_then(|c| c.harmonics.as_ref()) else {
                continue;
            };
            if !self.harmonics.contains_key(column) {
                let cols: Vec<String> = r
                    .harmonic_columns(column)
                    .expect("the channel has harmonics")
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect();
                let stem = format!("harmonics_{}", file_safe(column));
                let table = ResultTable::spectrum(&self.dir, &stem, &cols, self.format)?;
                self.harmonics.insert(column.clone(), table);
            }
            let values = std::iter::once(r.t)
                .chain(h.subgroups.iter().copied())
                .chain(h.interharmonic_subgroups.iter().copied());
            self.harmonics
                .get_mut(column)
                .expect("inserted above")
                .write_numbers(values)?;
        }
        Ok(())
    }

    /// Close every table (and write the ones formed from the whole run: flicker.csv) and
    /// hand back the figures and the report collector.
    pub fn finish(self) -> Result<(TableSummary, ReportCollector)> {
        let mut summary = self.summary;
        let (captures, skipped) = self.captures.finish()?;
        summary.captures = captures;
        summary.captures_skipped = skipped;
        if let Some(name) =
            write_flicker_table(&self.dir, self.format, &self.columns, &summary.flicker)?
        {
            summary.files.push(name);
        }
        let mut tables: Vec<ResultTable> = self.aggregates.into_values().collect();
        if let Some(t) = self.intervals {
            summary.interval_means = t
                .names
                .into_iter()
                .zip(t.sums)
                .filter(|(_, (_, n))| *n > 0)
                .collect();
            tables.push(t.table);
        }
        tables.extend(self.frequency);
        tables.extend(self.events);
        tables.extend(self.half_cycle);
        tables.extend(self.harmonics.into_values());
        for t in tables {
            summary.files.push(t.file_name().to_string());
            t.finish()?;
        }
        summary.files.push("report.html".into());
        summary.files.push("compliance.json".into());
        Ok((summary, self.report))
    }
}

/// intervals.csv: its table, the layout of its first row, and the sums behind
/// [`TableSummary::interval_means`] per column after `t`, `flagged`, `f`... (from `f` on).
struct IntervalTable {
    table: ResultTable,
    layout: u64,
    names: Vec<String>,
    sums: Vec<(f64, u64)>,
}

impl IntervalTable {
    fn create(dir: &Path, first: &IntervalRecord, format: TableFormat) -> Result<Self> {
        let cols: Vec<String> = first.columns().into_iter().map(|(c, _)| c).collect();
        let table = ResultTable::numeric(dir, "intervals", &cols, format)?;
        let layout = first.push_numbers(&mut Vec::new());
        let names: Vec<String> = cols.into_iter().skip(3).collect();
        let sums = vec![(0.0, 0); names.len()];
        Ok(IntervalTable {
            table,
            layout,
            names,
            sums,
        })
    }
}

/// The columns of events.csv.
pub const EVENT_COLUMNS: [&str; 17] = [
    "kind",
    "start",
    "duration",
    "extreme",
    "phases",
    "start_time",
    "extreme_percent",
    "reference",
    "delta_u_max",
    "delta_u_ss",
    "incomplete",
    "channel_extremes",
    "direction",
    "direction_confidence",
    "direction_resistance",
    "direction_reactance",
    "direction_note",
];

/// The types of [`EVENT_COLUMNS`].
pub const EVENT_COLUMN_TYPES: [ColumnType; 17] = [
    ColumnType::Text,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::Bool,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::Text,
];

/// The `channel_extremes` cell of an event: `U_A=4.6 U_B=4.61 …`.
pub fn channel_extremes(e: &EventRecord) -> String {
    let extremes: Vec<String> = e
        .channel_extremes
        .iter()
        .map(|(c, v)| format!("{c}={}", cell(*v)))
        .collect();
    extremes.join(" ")
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// The columns of statistics.csv.
pub const STATISTICS_COLUMNS: [&str; 10] = [
    "channel",
    "unit",
    "samples",
    "missing",
    "rms",
    "mean",
    "min",
    "max",
    "peak",
    "crest_factor",
];

/// The types of [`STATISTICS_COLUMNS`].
const STATISTICS_COLUMN_TYPES: [ColumnType; 10] = [
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::I64,
    ColumnType::I64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
    ColumnType::F64,
];

/// `statistics.csv` (or `.parquet`) in `dir`: one row per channel. Returns the file name.
pub fn write_statistics(
    dir: &Path,
    format: TableFormat,
    stats: &[ChannelStatistics],
) -> Result<String> {
    let schema = STATISTICS_COLUMNS
        .iter()
        .zip(STATISTICS_COLUMN_TYPES)
        .map(|(c, t)| (c.to_string(), t))
        .collect();
    let mut t = ResultTable::typed(dir, "statistics", schema, format)?;
    for s in stats {
        let count = |n: u64| Value::I64(i64::try_from(n).unwrap_or(i64::MAX));
        t.write_row(&[
            Value::Text(&s.name),
            Value::Text(&s.unit),
            count(s.samples),
            count(s.missing),
            Value::F64(s.rms),
            Value::F64(s.mean),
            Value::F64(s.min),
            Value::F64(s.max),
            Value::F64(s.peak),
            Value::F64(s.crest_factor),
        ])?;
    }
    let name = t.file_name().to_string();
    t.finish()?;
    Ok(name)
}

/// `flicker.csv` (layout: [`flicker_table`]) in `dir`. Returns its file name, or `None` (and
/// writes nothing) when there is no value.
fn write_flicker_table(
    dir: &Path,
    format: TableFormat,
    columns: &[String],
    records: &[FlickerRecord],
) -> Result<Option<String>> {
    let (header, rows) = flicker_table(columns, records);
    if header.is_empty() {
        return Ok(None);
    }
    let mut table = ResultTable::numeric(dir, "flicker", &header, format)?;
    for row in rows {
        table.write_numbers(row)?;
    }
    let name = table.file_name().to_string();
    table.finish()?;
    Ok(Some(name))
}
