//! The result tables of an analysis, read back from the folder the pipeline wrote
//! (`intervals.csv`, `frequency.csv`, `harmonics_<column>.csv`, `aggregates_<period>.csv`,
//! `flicker.csv`, `events.csv`, `statistics.csv`, `supraharmonics_<column>.csv`,
//! `distortion.csv`, `energy.csv`, `demand.csv`, `minmax.csv`, `alarms.csv`): the Python
//! tables are the CSV files
//! `pqe analyze` writes, value for value (the CSV numbers are shortest round-trip decimals,
//! so every float64 reads back exactly; an empty cell is NaN).
//!
//! Numeric tables travel to Python as `(names, array)` with the array `(columns, rows)`,
//! so every column is one contiguous row of it.

use crate::PqeError;
use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pqe_pipeline::outputs::EVENT_COLUMNS;
use pqe_pipeline::table::file_safe;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;

/// The aggregation periods, as the tables name them (`aggregates_<period>.csv`).
const PERIODS: [&str; 3] = ["3s", "10min", "2h"];

/// The text columns of `events.csv`; the others are numbers.
const EVENT_TEXT_COLUMNS: [&str; 7] = [
    "kind",
    "phases",
    "start_time",
    "channel_extremes",
    "direction",
    "direction_confidence",
    "direction_note",
];

/// The meter tables (`energy.csv`, `demand.csv`, `minmax.csv`, `alarms.csv`, see
/// [`pqe_pipeline::metering`]) and their text columns.
const METERING_TABLES: [(&str, &[&str]); 5] = [
    ("distortion", &[]),
    ("energy", &["start"]),
    ("demand", &["end"]),
    ("minmax", &["start", "quantity"]),
    (
        "alarms",
        &["name", "quantity", "priority", "direction", "start", "end"],
    ),
];

/// Columns of numbers under names.
#[derive(Debug, Default)]
pub struct NumTable {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl NumTable {
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

/// A column read from a CSV file: numbers (empty cells NaN) or text.
enum Column {
    Numbers(Vec<f64>),
    Text(Vec<String>),
}

/// The CSV table at `path`: its header and columns, those named in `text` as text, the
/// others as numbers. An absent file is an empty table (the part made no row).
fn read_csv(path: &Path, text: &[&str]) -> PyResult<(Vec<String>, Vec<Column>)> {
    if !path.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let fail = |what: String| PqeError::new_err(format!("{}: {what}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| fail(e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    let mut columns: Vec<Column> = names
        .iter()
        .map(|n| {
            if text.contains(&n.as_str()) {
                Column::Text(Vec::new())
            } else {
                Column::Numbers(Vec::new())
            }
        })
        .collect();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        for (i, (cell, column)) in record.iter().zip(columns.iter_mut()).enumerate() {
            match column {
                Column::Text(v) => v.push(cell.to_string()),
                Column::Numbers(v) if cell.is_empty() => v.push(f64::NAN),
                Column::Numbers(v) => v.push(cell.parse().map_err(|_| {
                    fail(format!(
                        "line {}: column '{}' holds '{cell}', not a number",
                        row + 2,
                        names[i]
                    ))
                })?),
            }
        }
    }
    Ok((names, columns))
}

/// A numeric CSV table (every column numbers).
fn read_numbers(path: &Path) -> PyResult<NumTable> {
    let (names, columns) = read_csv(path, &[])?;
    let columns = columns
        .into_iter()
        .map(|c| match c {
            Column::Numbers(v) => v,
            Column::Text(_) => unreachable!("no text column was asked for"),
        })
        .collect();
    Ok(NumTable { names, columns })
}

/// The tables of the analysis written into `dir` (channel columns `columns`, in channel
/// order) as a dict: `intervals`, `frequency`, `flicker` as `(names, array)`; `harmonics`
/// (column → table), `supraharmonics` (column → table, the channels whose
/// `supraharmonics_<column>.csv` the run wrote) and `aggregates` (period → table) as dicts
/// of those; `events` and the meter tables `distortion`, `energy`, `demand`, `minmax`,
/// `alarms` as dicts of columns (text columns as lists, numbers as arrays; an empty dict
/// when the table was not written); `statistics` as a list of
/// `(channel, unit, [samples, missing, rms, mean, min, max, peak, crest_factor])`.
#[pyfunction]
pub fn load_tables<'py>(
    py: Python<'py>,
    dir: std::path::PathBuf,
    columns: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for name in ["intervals", "frequency", "flicker"] {
        let t = read_numbers(&dir.join(format!("{name}.csv")))?;
        out.set_item(name, t.into_py(py)?)?;
    }
    let harmonics = PyDict::new(py);
    for column in &columns {
        let path = dir.join(format!("harmonics_{}.csv", file_safe(column)));
        if path.exists() {
            harmonics.set_item(column, read_numbers(&path)?.into_py(py)?)?;
        }
    }
    out.set_item("harmonics", harmonics)?;
    let supraharmonics = PyDict::new(py);
    for column in &columns {
        let path = dir.join(format!("supraharmonics_{}.csv", file_safe(column)));
        if path.exists() {
            supraharmonics.set_item(column, read_numbers(&path)?.into_py(py)?)?;
        }
    }
    out.set_item("supraharmonics", supraharmonics)?;
    let aggregates = PyDict::new(py);
    for period in PERIODS {
        let path = dir.join(format!("aggregates_{period}.csv"));
        if path.exists() {
            aggregates.set_item(period, read_numbers(&path)?.into_py(py)?)?;
        }
    }
    out.set_item("aggregates", aggregates)?;
    let events = PyDict::new(py);
    let (names, cols) = read_csv(&dir.join("events.csv"), &EVENT_TEXT_COLUMNS)?;
    if names.is_empty() {
        for name in EVENT_COLUMNS {
            if EVENT_TEXT_COLUMNS.contains(&name) {
                events.set_item(name, Vec::<String>::new())?;
            } else {
                events.set_item(name, Vec::<f64>::new().into_pyarray(py))?;
            }
        }
    }
    for (name, column) in names.into_iter().zip(cols) {
        match column {
            Column::Text(v) => events.set_item(name, v)?,
            Column::Numbers(v) => events.set_item(name, v.into_pyarray(py))?,
        }
    }
    out.set_item("events", events)?;
    for (name, text) in METERING_TABLES {
        let table = PyDict::new(py);
        let (names, cols) = read_csv(&dir.join(format!("{name}.csv")), text)?;
        for (column, values) in names.into_iter().zip(cols) {
            match values {
                Column::Text(v) => table.set_item(column, v)?,
                Column::Numbers(v) => table.set_item(column, v.into_pyarray(py))?,
            }
        }
        out.set_item(name, table)?;
    }
    let (_, cols) = read_csv(&dir.join("statistics.csv"), &["channel", "unit"])?;
    let mut statistics: Vec<(String, String, Vec<f64>)> = Vec::new();
    if let [Column::Text(channel), Column::Text(unit), numbers @ ..] = cols.as_slice() {
        for (row, (c, u)) in channel.iter().zip(unit).enumerate() {
            let values = numbers
                .iter()
                .map(|col| match col {
                    Column::Numbers(v) => v[row],
                    Column::Text(_) => f64::NAN,
                })
                .collect();
            statistics.push((c.clone(), u.clone(), values));
        }
    }
    out.set_item("statistics", statistics)?;
    Ok(out)
}
