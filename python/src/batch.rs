//! `pqengine.dask` on the engine's batch code ([`pqe_pipeline::batch`]): finding
//! recordings, naming their folders, and the summary table built from each recording's
//! summary.json — the same rows, columns and files `pqe batch` writes.

use crate::PqeError;
use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pqe_pipeline::batch::{self, BatchEntry, BatchTable};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// One recording's outcome as the Dask task returns it: `(file, folder, summary, error)`,
/// `summary` the text of its summary.json when it was analysed, else `error` the message.
type Outcome = (String, String, Option<String>, Option<String>);

/// The summary table for Python: header, identification cells per row, numbers.
type Summary<'py> = (Vec<String>, Vec<Vec<Option<String>>>, Bound<'py, PyAny>);

fn entries(outcomes: Vec<Outcome>) -> PyResult<Vec<BatchEntry>> {
    outcomes
        .into_iter()
        .map(|(file, folder, summary, error)| {
            let result = match (summary, error) {
                (Some(text), None) => Ok(serde_json::from_str(&text)
                    .map_err(|e| PyValueError::new_err(format!("{file}: summary.json: {e}")))?),
                (None, Some(message)) => Err(message),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "{file}: an outcome is a summary or an error"
                    )))
                }
            };
            Ok(BatchEntry {
                file: PathBuf::from(file),
                folder,
                result,
            })
        })
        .collect()
}

/// The summary table of `outcomes`: `(header, text, numbers)`, `text` one list per row of
/// the identification cells (None where empty), `numbers` a `(rows, columns)` float64 array
/// (NaN where empty).
#[pyfunction]
pub fn batch_table<'py>(py: Python<'py>, outcomes: Vec<Outcome>) -> PyResult<Summary<'py>> {
    let table = BatchTable::build(&entries(outcomes)?);
    let width = table.header.len() - batch::TEXT_COLUMNS.len();
    let flat: Vec<f64> = table.rows.iter().flat_map(|r| r.numbers.clone()).collect();
    let numbers = Array2::from_shape_vec((table.rows.len(), width), flat)
        .map_err(|e| PqeError::new_err(format!("cannot lay out the summary: {e}")))?;
    let text = table.rows.into_iter().map(|r| r.text).collect();
    Ok((table.header, text, numbers.into_pyarray(py).into_any()))
}

/// Write the summary table of `outcomes` as `summary.csv` and `summary.parquet` in `out`.
#[pyfunction]
pub fn batch_write(py: Python<'_>, outcomes: Vec<Outcome>, out: PathBuf) -> PyResult<()> {
    let table = BatchTable::build(&entries(outcomes)?);
    py.allow_threads(|| table.write(&out))
        .map_err(|e| PqeError::new_err(format!("{}: {e:#}", out.display())))
}

/// Recordings under `dir` as `pqe batch` finds them (not under `skip`), sorted.
#[pyfunction]
#[pyo3(signature = (dir, skip=None))]
pub fn find_recordings(dir: PathBuf, skip: Option<PathBuf>) -> PyResult<Vec<PathBuf>> {
    batch::find_recordings(&dir, &skip.unwrap_or_default())
        .map_err(|e| PqeError::new_err(format!("{}: {e}", dir.display())))
}

/// The output folder of the recording at `rel` under the searched folder.
#[pyfunction]
pub fn folder_name(rel: PathBuf) -> String {
    batch::folder_name(&rel)
}

/// `name` as the engine puts it in a file name.
#[pyfunction]
pub fn file_safe(name: &str) -> String {
    pqe_pipeline::table::file_safe(name)
}

/// A number as the engine writes it in a CSV cell.
#[pyfunction]
pub fn csv_cell(x: f64) -> String {
    pqe_pipeline::table::cell(x)
}

/// Nanoseconds since 1970 as the engine prints an instant.
#[pyfunction]
pub fn timestamp(ns: i64) -> String {
    pqe_core::Timestamp::from_nanos(ns).to_string()
}

/// The identification and number columns of the summary table.
pub fn add_constants(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BATCH_TEXT_COLUMNS", batch::TEXT_COLUMNS.to_vec())?;
    m.add("BATCH_NUMBER_COLUMNS", batch::NUMBER_COLUMNS.to_vec())?;
    Ok(())
}
