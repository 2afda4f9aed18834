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
use crate::table::{cell, file_safe, CsvTable};
use anyhow::Result;
use pqe_core::record::{
    flicker_table, ChannelStatistics, EventRecord, FlickerRecord, FrequencyRecord, IntervalRecord,
    Record,
};
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
    columns: Vec<String>,
    write_half_cycle: bool,
    intervals: Option<CsvTable>,
    frequency: Option<CsvTable>,
    half_cycle: Option<CsvTable>,
    harmonics: BTreeMap<String, CsvTable>,
    aggregates: BTreeMap<&'static str, CsvTable>,
    events: Option<CsvTable>,
    /// The event captures.
    pub captures: CaptureRecorder,
    report: ReportCollector,
    summary: TableSummary,
}

impl Outputs {
    /// Sinks writing into `dir` for the analyzer's channel `columns`.
    pub fn new(
        dir: &Path,
        columns: Vec<String>,
        write_half_cycle: bool,
        captures: CaptureRecorder,
        report: ReportCollector,
    ) -> Self {
        Outputs {
            dir: dir.to_path_buf(),
            columns,
            write_half_cycle,
            intervals: None,
            frequency: None,
            half_cycle: None,
            harmonics: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            events: None,
            captures,
            report,
            summary: TableSummary::default(),
        }
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
                    let cols = ["t", "f", "flagged"].map(String::from).to_vec();
                    self.frequency = Some(CsvTable::create(&self.dir.join("frequency.csv"), cols)?);
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
                    let path = self.dir.join("urms_half_cycle.csv");
                    self.half_cycle = Some(CsvTable::create(&path, cols)?);
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
                    let path = self.dir.join(format!("aggregates_{name}.csv"));
                    let cols = row.iter().map(|(c, _)| c.clone()).collect();
                    self.aggregates.insert(name, CsvTable::create(&path, cols)?);
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

    fn write_event(&mut self, e: EventRecord) -> Result<()> {
        if self.events.is_none() {
            let table = CsvTable::create(
                &self.dir.join("events.csv"),
                EVENT_COLUMNS.map(String::from).to_vec(),
            )?;
            self.events = Some(table);
        }
        let cells = event_cells(&e);
        self.events
            .as_mut()
            .expect("opened above")
            .write_text(&cells)?;
        self.report.event(&e);
        self.summary.events.push(e);
        Ok(())
    }

    fn write_interval(&mut self, r: &IntervalRecord) -> Result<()> {
        let row = r.columns();
        if self.intervals.is_none() {
            let cols = row.iter().map(|(c, _)| c.clone()).collect();
            self.intervals = Some(CsvTable::create(&self.dir.join("intervals.csv"), cols)?);
        }
        self.intervals
            .as_mut()
            .expect("opened above")
            .write_named(&row)?;
        self.summary.intervals += 1;
        if r.flagged {
            self.summary.flagged_intervals += 1;
        } else {
            for (name, v) in row.iter().skip(3) {
                if v.is_finite() {
                    let e = self
                        .summary
                        .interval_means
                        .entry(name.clone())
                        .or_insert((0.0, 0));
                    e.0 += v;
                    e.1 += 1;
                }
            }
        }
        for column in &self.columns {
            let Some(h) = r.harmonic_columns(column) else {
                continue;
            };
            if !self.harmonics.contains_key(column) {
                let path = self
                    .dir
                    .join(format!("harmonics_{}.csv", file_safe(column)));
                let cols = h.iter().map(|(c, _)| c.clone()).collect();
                self.harmonics
                    .insert(column.clone(), CsvTable::create(&path, cols)?);
            }
            self.harmonics
                .get_mut(column)
                .expect("inserted above")
                .write_named(&h)?;
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
        if write_flicker_csv(
            &self.dir.join("flicker.csv"),
            &self.columns,
            &summary.flicker,
        )? {
            summary.files.push("flicker.csv".into());
        }
        for (name, t) in self.aggregates {
            t.finish()?;
            summary.files.push(format!("aggregates_{name}.csv"));
        }
        for (name, t) in [
            ("intervals.csv", self.intervals),
            ("frequency.csv", self.frequency),
            ("events.csv", self.events),
        ] {
            if let Some(t) = t {
                t.finish()?;
                summary.files.push(name.into());
            }
        }
        if let Some(t) = self.half_cycle {
            t.finish()?;
            summary.files.push("urms_half_cycle.csv".into());
        }
        for (column, t) in self.harmonics {
            t.finish()?;
            summary
                .files
                .push(format!("harmonics_{}.csv", file_safe(&column)));
        }
        summary.files.push("report.html".into());
        summary.files.push("compliance.json".into());
        Ok((summary, self.report))
    }
}

/// The columns of events.csv.
pub const EVENT_COLUMNS: [&str; 12] = [
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
];

/// One events.csv row as text cells, in [`EVENT_COLUMNS`] order.
pub fn event_cells(e: &EventRecord) -> Vec<String> {
    let extremes: Vec<String> = e
        .channel_extremes
        .iter()
        .map(|(c, v)| format!("{c}={}", cell(*v)))
        .collect();
    vec![
        e.kind.as_str().to_string(),
        cell(e.t),
        cell(e.duration),
        cell(e.extreme),
        e.phases_label(),
        e.start.to_string(),
        cell(100.0 * e.extreme / e.reference),
        cell(e.reference),
        e.delta_u_max.map_or_else(String::new, cell),
        e.delta_u_ss.map_or_else(String::new, cell),
        u8::from(e.incomplete).to_string(),
        extremes.join(" "),
    ]
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

/// `statistics.csv`: one row per channel.
pub fn write_statistics_csv(path: &Path, stats: &[ChannelStatistics]) -> Result<()> {
    let mut t = CsvTable::create(path, STATISTICS_COLUMNS.map(String::from).to_vec())?;
    for s in stats {
        let mut cells = vec![
            s.name.clone(),
            s.unit.clone(),
            s.samples.to_string(),
            s.missing.to_string(),
        ];
        cells.extend([s.rms, s.mean, s.min, s.max, s.peak, s.crest_factor].map(cell));
        t.write_text(&cells)?;
    }
    t.finish()?;
    Ok(())
}

/// `flicker.csv` (layout: [`flicker_table`]). Returns false (and writes nothing) when there
/// is no value.
fn write_flicker_csv(path: &Path, columns: &[String], records: &[FlickerRecord]) -> Result<bool> {
    let (header, rows) = flicker_table(columns, records);
    if header.is_empty() {
        return Ok(false);
    }
    let mut table = CsvTable::create(path, header)?;
    for row in rows {
        table.write_numbers(row)?;
    }
    table.finish()?;
    Ok(true)
}
