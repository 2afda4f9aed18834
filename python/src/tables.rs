//! The analysis as tables: the streaming [`Analyzer`] fed block by block, and its records
//! collected into the same tables, with the same column names and values, that
//! `pqe analyze` writes as CSV (`intervals`, `frequency`, `harmonics_<column>`,
//! `aggregates_<period>`, `flicker`, `events`).
//!
//! Numeric tables travel to Python as `(names, array)` with the array `(columns, rows)`,
//! so every column is one contiguous row of it.

use crate::convert::{apply_map, engine_error, AnalyzeArgs};
use crate::PqeError;
use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pqe_core::record::{ChannelStatisticsAccumulator, EventRecord, FlickerRecord, Record};
use pqe_core::{Block, RecordingInfo};
use pqe_standards::Analyzer;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::path::Path;

/// Analyse a file: open it, apply the channel map, stream it through the analyzer.
pub fn analyze_file(path: &Path, options: &AnalyzeArgs) -> PyResult<Tables> {
    let mut reader = pqe_io::open(path).map_err(engine_error)?;
    let mut info = reader.info().clone();
    apply_map(&mut info.channels, &options.channel_map)?;
    if info.sample_rate <= 0.0 || info.rate_segments.len() > 1 {
        return Err(PqeError::new_err(format!(
            "{}: the analysis needs one constant sampling rate; this recording is {}",
            path.display(),
            if info.sample_rate <= 0.0 {
                "timed sample by sample (rate 0)".to_string()
            } else {
                format!("sampled at {} rates", info.rate_segments.len())
            }
        )));
    }
    let context = |e: pqe_core::Error| -> pqe_core::Error {
        match e {
            pqe_core::Error::Config(m) => {
                pqe_core::Error::Config(format!("cannot analyze {}: {m}", path.display()))
            }
            other => other,
        }
    };
    analyze_blocks(&info, options, |sink| {
        while let Some(block) = reader.read_block(crate::BLOCK_SAMPLES).map_err(&context)? {
            sink(block)?;
        }
        Ok(())
    })
}

/// Analyse the blocks `feed` hands to its sink, for a recording described by `info`.
pub fn analyze_blocks(
    info: &RecordingInfo,
    options: &AnalyzeArgs,
    feed: impl FnOnce(&mut dyn FnMut(Block) -> pqe_core::Result<()>) -> pqe_core::Result<()>,
) -> PyResult<Tables> {
    let (config, analyzer_options) = options.engine()?;
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        config,
        analyzer_options,
    )
    .map_err(engine_error)?;
    let mut tables = Tables::new(analyzer.columns().to_vec(), info);
    let mut stats = vec![ChannelStatisticsAccumulator::new(); info.channels.len()];
    let mut failure: Option<String> = None;
    let mut sink = |b: Block| -> pqe_core::Result<()> {
        for (a, ch) in stats.iter_mut().zip(b.channels()) {
            a.push(ch);
        }
        tables.samples += b.len() as u64;
        analyzer.push(&b)?;
        for r in analyzer.drain() {
            if let Err(e) = tables.add(r) {
                failure.get_or_insert(e);
            }
        }
        Ok(())
    };
    feed(&mut sink).map_err(engine_error)?;
    analyzer.finish();
    for r in analyzer.drain() {
        if let Err(e) = tables.add(r) {
            failure.get_or_insert(e);
        }
    }
    if let Some(e) = failure {
        return Err(PqeError::new_err(e));
    }
    tables.statistics = stats
        .iter()
        .zip(analyzer.columns())
        .zip(&info.channels)
        .map(|((a, col), c)| {
            let s = a.finish(col, c.unit.trim());
            (
                c.name.trim().to_string(),
                s.unit,
                [
                    s.samples as f64,
                    s.missing as f64,
                    s.rms,
                    s.mean,
                    s.min,
                    s.max,
                    s.peak,
                    s.crest_factor,
                ],
            )
        })
        .collect();
    Ok(tables)
}

/// Columns of numbers under names, filled row by row.
#[derive(Debug, Default)]
pub struct NumTable {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl NumTable {
    /// A table with these column names.
    fn with_names(names: Vec<String>) -> Self {
        let columns = vec![Vec::new(); names.len()];
        NumTable { names, columns }
    }

    /// Append a row of (name, value) pairs; the first row sets the names, later rows must
    /// carry the same names in the same order (as the CLI's CSV tables demand).
    fn push_named(&mut self, row: &[(String, f64)], table: &str) -> Result<(), String> {
        if self.names.is_empty() && self.columns.is_empty() {
            *self = NumTable::with_names(row.iter().map(|(n, _)| n.clone()).collect());
        }
        if row.len() != self.names.len() || row.iter().zip(&self.names).any(|((a, _), b)| a != b) {
            return Err(format!(
                "{table}: a row's columns differ from the first row's (row {})",
                self.rows() + 1
            ));
        }
        for (col, (_, v)) in self.columns.iter_mut().zip(row) {
            col.push(*v);
        }
        Ok(())
    }

    /// Append a row of values in column order.
    fn push(&mut self, row: &[f64]) {
        for (col, v) in self.columns.iter_mut().zip(row) {
            col.push(*v);
        }
    }

    fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// `(names, array)` with the array `(columns, rows)`.
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let (n_cols, n_rows) = (self.names.len(), self.rows());
        let flat: Vec<f64> = self.columns.into_iter().flatten().collect();
        let array = Array2::from_shape_vec((n_cols, n_rows), flat)
            .map_err(|e| PqeError::new_err(format!("cannot lay out a table: {e}")))?;
        Ok((self.names, array.into_pyarray(py))
            .into_pyobject(py)?
            .into_any())
    }
}

/// Every table of one analysis.
pub struct Tables {
    /// Column name of each channel (`U_A`, …), in channel order.
    columns: Vec<String>,
    names: Vec<String>,
    sample_rate: f64,
    start_ns: i64,
    samples: u64,
    intervals: NumTable,
    frequency: NumTable,
    harmonics: BTreeMap<String, NumTable>,
    aggregates: BTreeMap<&'static str, NumTable>,
    flicker: Vec<FlickerRecord>,
    events: Vec<EventRecord>,
    /// Per channel: name, unit, then samples, missing, rms, mean, min, max, peak, crest factor.
    statistics: Vec<(String, String, [f64; 8])>,
}

impl Tables {
    fn new(columns: Vec<String>, info: &RecordingInfo) -> Self {
        Tables {
            columns,
            names: info.channels.iter().map(|c| c.name.trim().into()).collect(),
            sample_rate: info.sample_rate,
            start_ns: info.start.as_nanos(),
            samples: 0,
            intervals: NumTable::default(),
            frequency: NumTable::with_names(["t", "f", "flagged"].map(String::from).to_vec()),
            harmonics: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            flicker: Vec::new(),
            events: Vec::new(),
            statistics: Vec::new(),
        }
    }

    /// Take one record into its table, as `pqe analyze` writes it.
    fn add(&mut self, record: Record) -> Result<(), String> {
        match record {
            Record::Interval(r) => {
                self.intervals.push_named(&r.columns(), "intervals")?;
                for column in &self.columns {
                    if let Some(h) = r.harmonic_columns(column) {
                        self.harmonics
                            .entry(column.clone())
                            .or_default()
                            .push_named(&h, &format!("harmonics_{column}"))?;
                    }
                }
            }
            Record::Frequency(r) => self.frequency.push(&[r.t, r.frequency, flag(r.flagged)]),
            Record::Aggregate(r) => {
                let name = r.period.as_str();
                self.aggregates
                    .entry(name)
                    .or_default()
                    .push_named(&r.table_columns(), &format!("aggregates_{name}"))?;
            }
            Record::Flicker(r) => self.flicker.push(r),
            Record::Event(e) => self.events.push(e),
            _ => {}
        }
        Ok(())
    }

    /// The tables as a dict: `intervals`, `frequency`, `flicker` as `(names, array)`;
    /// `harmonics` and `aggregates` as dicts of those; `events` as a dict of columns (lists);
    /// and `info` (columns, names, sample rate, start, samples, statistics).
    pub fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let out = PyDict::new(py);
        let flicker = flicker_table(&self.columns, &self.flicker);
        out.set_item("flicker", flicker.into_py(py)?)?;
        out.set_item("events", events_table(py, &self.events)?)?;
        out.set_item("intervals", self.intervals.into_py(py)?)?;
        out.set_item("frequency", self.frequency.into_py(py)?)?;
        let harmonics = PyDict::new(py);
        for (column, t) in self.harmonics {
            harmonics.set_item(column, t.into_py(py)?)?;
        }
        out.set_item("harmonics", harmonics)?;
        let aggregates = PyDict::new(py);
        for (period, t) in self.aggregates {
            aggregates.set_item(period, t.into_py(py)?)?;
        }
        out.set_item("aggregates", aggregates)?;
        let info = PyDict::new(py);
        info.set_item("columns", self.columns)?;
        info.set_item("names", self.names)?;
        info.set_item("sample_rate", self.sample_rate)?;
        info.set_item("start_ns", self.start_ns)?;
        info.set_item("samples", self.samples)?;
        let stats: Vec<(String, String, Vec<f64>)> = self
            .statistics
            .into_iter()
            .map(|(n, u, v)| (n, u, v.to_vec()))
            .collect();
        info.set_item("statistics", stats)?;
        out.set_item("info", info)?;
        Ok(out)
    }
}

/// `events.csv` as columns: `kind`, `start`, `duration`, `extreme`, `phases`, `start_time`,
/// `extreme_percent`, `reference`, `delta_u_max`, `delta_u_ss` (NaN when not an RVC),
/// `incomplete` (1 or 0), `channel_extremes` (`U_A=… U_B=…`).
fn events_table<'py>(py: Python<'py>, events: &[EventRecord]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let text = |f: &dyn Fn(&EventRecord) -> String| events.iter().map(f).collect::<Vec<_>>();
    let num = |f: &dyn Fn(&EventRecord) -> f64| events.iter().map(f).collect::<Vec<_>>();
    d.set_item("kind", text(&|e| e.kind.as_str().to_string()))?;
    d.set_item("start", num(&|e| e.t).into_pyarray(py))?;
    d.set_item("duration", num(&|e| e.duration).into_pyarray(py))?;
    d.set_item("extreme", num(&|e| e.extreme).into_pyarray(py))?;
    d.set_item("phases", text(&|e| e.phases_label()))?;
    d.set_item("start_time", text(&|e| e.start.to_string()))?;
    d.set_item(
        "extreme_percent",
        num(&|e| 100.0 * e.extreme / e.reference).into_pyarray(py),
    )?;
    d.set_item("reference", num(&|e| e.reference).into_pyarray(py))?;
    d.set_item(
        "delta_u_max",
        num(&|e| e.delta_u_max.unwrap_or(f64::NAN)).into_pyarray(py),
    )?;
    d.set_item(
        "delta_u_ss",
        num(&|e| e.delta_u_ss.unwrap_or(f64::NAN)).into_pyarray(py),
    )?;
    d.set_item("incomplete", num(&|e| flag(e.incomplete)).into_pyarray(py))?;
    d.set_item(
        "channel_extremes",
        text(&|e| {
            e.channel_extremes
                .iter()
                .map(|(c, v)| format!("{c}={}", shortest(*v)))
                .collect::<Vec<_>>()
                .join(" ")
        }),
    )?;
    Ok(d)
}

/// A number as the CLI's tables write it: integers without a decimal point, NaN empty,
/// else the shortest text that reads back to the same value.
fn shortest(x: f64) -> String {
    if !x.is_finite() {
        String::new()
    } else if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

/// `flicker.csv` as a table (layout: [`pqe_core::record::flicker_table`]).
fn flicker_table(columns: &[String], records: &[FlickerRecord]) -> NumTable {
    let (names, rows) = pqe_core::record::flicker_table(columns, records);
    if names.is_empty() {
        return NumTable::default();
    }
    let mut table = NumTable::with_names(names);
    for row in rows {
        table.push(&row);
    }
    table
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}
