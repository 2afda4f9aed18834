//! # pqe-python: the `pqengine._pqengine` extension module
//!
//! The Rust half of the `pqengine` Python package. It exposes a small, flat set of functions
//! over numpy arrays and plain Python values; the Python half (`python/pqengine/`) wraps them
//! into the public API (`Recording`, `read`, `write_comtrade`, `analyze` → `Analysis`, the
//! array functions `rms`, `harmonics`, `flicker`, `power`).
//!
//! - [`read`] and [`write_comtrade`]: recordings in and out through `pqe_io`, streamed block
//!   by block into (resp. out of) one planar `(channels, samples)` float64 array.
//! - [`pipeline::run_pipeline`]: the analysis pipeline of `pqe analyze` ([`pqe_pipeline`])
//!   over a file or a numpy array ([`source::ArraySource`]), writing the CLI's output folder;
//!   [`tables::load_tables`] reads its tables back for Python.
//! - [`batch`]: `pqe batch`'s search, folder names and summary table for `pqengine.dask`.
//! - [`arrays`]: the single-purpose functions on one or two channels.
//! - [`meter`]: `MeterLink`, a session with a meter over the pqe-link meter links, and
//!   its `MeterError`.
//!
//! Every function releases the GIL while the engine works (`Python::allow_threads`). Engine
//! errors become `pqengine.PqeError` with the engine's message (file, line, channel);
//! configuration errors caused by an argument become `ValueError`. Nothing panics across
//! the boundary: every fallible step returns a `PyResult`.

mod arrays;
mod batch;
mod convert;
mod meter;
mod pipeline;
mod source;
mod tables;

use convert::{channel_specs, engine_error, ChannelArgs};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2};
use pqe_core::{Block, RecordingInfo, Timestamp};
use pqe_io::comtrade::{ComtradeWriteOptions, DataFormat, Revision};
use pqe_io::WriteOptions;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

pyo3::create_exception!(
    _pqengine,
    PqeError,
    PyException,
    "An error of the PQE engine: a file that cannot be read or written, a recording the \
     analysis cannot take. The message names the file, line or byte offset, and channel."
);

/// Samples per channel handed to the engine at a time (as `pqe analyze` reads them).
pub(crate) const BLOCK_SAMPLES: usize = pqe_pipeline::BLOCK_SAMPLES;

/// The module: functions and the `PqeError` exception.
#[pymodule]
fn _pqengine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PqeError", m.py().get_type::<PqeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BLOCK_SAMPLES", BLOCK_SAMPLES)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(write_comtrade, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline::run_pipeline, m)?)?;
    m.add_class::<source::LiveStream>()?;
    m.add_function(wrap_pyfunction!(tables::load_tables, m)?)?;
    m.add_function(wrap_pyfunction!(batch::batch_table, m)?)?;
    m.add_function(wrap_pyfunction!(batch::batch_write, m)?)?;
    m.add_function(wrap_pyfunction!(batch::find_recordings, m)?)?;
    m.add_function(wrap_pyfunction!(batch::folder_name, m)?)?;
    m.add_function(wrap_pyfunction!(batch::file_safe, m)?)?;
    m.add_function(wrap_pyfunction!(batch::csv_cell, m)?)?;
    m.add_function(wrap_pyfunction!(batch::timestamp, m)?)?;
    batch::add_constants(m)?;
    m.add_function(wrap_pyfunction!(arrays::rms, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::harmonics, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::power, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::flicker, m)?)?;
    meter::add(m)?;
    Ok(())
}

/// Read a whole recording (COMTRADE `.cfg`/`.dat`/`.cff`, CSV, HDF5).
///
/// Returns `(data, info)`: `data` a `(channels, samples)` float64 array, `info` a dict with
/// `sample_rate`, `names`, `kinds`, `phases`, `units`, `start_ns`, `station`, `device`.
/// The file is streamed block by block into one buffer per channel, then laid out planar.
#[pyfunction]
fn read<'py>(py: Python<'py>, path: PathBuf) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let (info, channels, n) = py.allow_threads(|| read_all(&path))?;
    let data = planar_array(channels, info.channels.len(), n)?;
    let out = PyDict::new(py);
    out.set_item("sample_rate", info.sample_rate)?;
    let names: Vec<String> = info.channels.iter().map(|c| c.name.trim().into()).collect();
    out.set_item("names", names)?;
    let kinds: Vec<String> = info.channels.iter().map(|c| c.kind.to_string()).collect();
    out.set_item("kinds", kinds)?;
    let phases: Vec<Option<&str>> = info
        .channels
        .iter()
        .map(|c| c.phase.map(|p| p.as_str()))
        .collect();
    out.set_item("phases", phases)?;
    let units: Vec<String> = info.channels.iter().map(|c| c.unit.trim().into()).collect();
    out.set_item("units", units)?;
    out.set_item("start_ns", info.start.as_nanos())?;
    out.set_item("station", info.station.clone())?;
    out.set_item("device", info.device.clone())?;
    Ok((data.into_pyarray(py).into_any(), out))
}

/// Write a recording as COMTRADE: `format` ascii, binary, binary32 or float32, `revision`
/// 1991, 1999 or 2013; a path ending `.cff` writes one file, else a `.cfg` + `.dat` pair.
#[pyfunction]
#[pyo3(signature = (path, data, channels, format="binary", revision=2013))]
fn write_comtrade(
    py: Python<'_>,
    path: PathBuf,
    data: PyReadonlyArray2<'_, f64>,
    channels: ChannelArgs,
    format: &str,
    revision: u16,
) -> PyResult<()> {
    let format = match format.to_ascii_lowercase().as_str() {
        "ascii" => DataFormat::Ascii,
        "binary" => DataFormat::Binary,
        "binary32" => DataFormat::Binary32,
        "float32" => DataFormat::Float32,
        other => {
            return Err(PyValueError::new_err(format!(
                "format must be ascii, binary, binary32 or float32, not '{other}'"
            )))
        }
    };
    let revision = match revision {
        1991 => Revision::R1991,
        1999 => Revision::R1999,
        2013 => Revision::R2013,
        other => {
            return Err(PyValueError::new_err(format!(
                "revision must be 1991, 1999 or 2013, not {other}"
            )))
        }
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("cfg" | "dat" | "cff")) {
        return Err(PyValueError::new_err(format!(
            "{}: a COMTRADE path ends in .cfg (with its .dat) or .cff",
            path.display()
        )));
    }
    let specs = channel_specs(&channels)?;
    let (n_channels, n) = convert::check_shape(&data, specs.len())?;
    let samples = convert::contiguous(&data)?;
    let start = Timestamp::from_nanos(channels.start_ns);
    let mut info = RecordingInfo::new(specs, channels.sample_rate, start);
    info.total_samples = Some(n as u64);
    info.rate_segments = vec![(channels.sample_rate, n as u64)];
    let options = WriteOptions {
        comtrade: ComtradeWriteOptions { format, revision },
    };
    py.allow_threads(|| -> pqe_core::Result<()> {
        let mut writer = pqe_io::create(&path, &info, options)?;
        for_each_planar_block(samples, n_channels, n, info.sample_rate, start, |b| {
            writer.write_block(&b)
        })?;
        writer.finish()
    })
    .map_err(engine_error)
}

/// Stream a recording into one vector per channel; returns the header, the channels and
/// the number of samples.
fn read_all(path: &std::path::Path) -> PyResult<(RecordingInfo, Vec<Vec<f64>>, usize)> {
    let mut reader = pqe_io::open(path).map_err(engine_error)?;
    let info = reader.info().clone();
    if info.sample_rate <= 0.0 || info.rate_segments.len() > 1 {
        return Err(PqeError::new_err(format!(
            "{}: a Recording holds one constant sampling rate; this file is {}",
            path.display(),
            if info.sample_rate <= 0.0 {
                "timed sample by sample (rate 0)".to_string()
            } else {
                format!("sampled at {} rates", info.rate_segments.len())
            }
        )));
    }
    let reserve = info.total_samples.unwrap_or(0).min(1 << 28) as usize;
    let mut channels: Vec<Vec<f64>> = (0..info.channels.len())
        .map(|_| Vec::with_capacity(reserve))
        .collect();
    while let Some(block) = reader.read_block(BLOCK_SAMPLES).map_err(engine_error)? {
        for (out, x) in channels.iter_mut().zip(block.channels()) {
            out.extend_from_slice(x);
        }
    }
    let n = channels.first().map_or(0, Vec::len);
    Ok((info, channels, n))
}

/// Lay out one vector per channel as a `(channels, samples)` array.
fn planar_array(channels: Vec<Vec<f64>>, n_channels: usize, n: usize) -> PyResult<Array2<f64>> {
    let mut flat = Vec::with_capacity(n_channels * n);
    for c in channels {
        flat.extend_from_slice(&c);
    }
    Array2::from_shape_vec((n_channels, n), flat)
        .map_err(|e| PqeError::new_err(format!("cannot lay out the samples: {e}")))
}

/// Cut a planar `(n_channels, n)` sample buffer into [`Block`]s of at most
/// [`BLOCK_SAMPLES`] samples, timed from `start` as the file readers time theirs, and hand
/// each to `sink`.
pub(crate) fn for_each_planar_block(
    samples: &[f64],
    n_channels: usize,
    n: usize,
    sample_rate: f64,
    start: Timestamp,
    mut sink: impl FnMut(Block) -> pqe_core::Result<()>,
) -> pqe_core::Result<()> {
    let mut first = 0usize;
    while first < n {
        let len = BLOCK_SAMPLES.min(n - first);
        let mut planar = Vec::with_capacity(n_channels * len);
        for c in 0..n_channels {
            planar.extend_from_slice(&samples[c * n + first..c * n + first + len]);
        }
        let t = start.add_seconds(first as f64 / sample_rate);
        sink(Block::from_planar(
            t,
            sample_rate,
            first as u64,
            n_channels,
            planar,
        )?)?;
        first += len;
    }
    Ok(())
}
