//! Arguments from Python into engine types: channel descriptions and arrays, and engine
//! errors back into Python exceptions. (The analysis settings are the pipeline's
//! `AnalysisSettings`, see [`crate::pipeline`].)

use crate::PqeError;
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pqe_core::{ChannelKind, ChannelSpec, Error, NominalFrequency, Phase, Timestamp};
use pqe_standards::iec61000_4_15::Lamp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// The channels of a recording as the Python `Recording` holds them (a dict with these keys;
/// `phases` entries may be empty for "no phase").
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct ChannelArgs {
    pub sample_rate: f64,
    pub names: Vec<String>,
    pub kinds: Vec<String>,
    pub phases: Vec<String>,
    pub units: Vec<String>,
    pub start_ns: i64,
}

impl ChannelArgs {
    /// The time of sample 0.
    pub fn start_ns_stamp(&self) -> Timestamp {
        Timestamp::from_nanos(self.start_ns)
    }
}

/// The nominal frequency from hertz (50 or 60), else `ValueError`.
pub fn nominal(hz: f64) -> PyResult<NominalFrequency> {
    NominalFrequency::from_hz(hz).map_err(value_error)
}

/// A flickermeter lamp from `"230V"`/`"230"` or `"120V"`/`"120"` (the pipeline's parser),
/// else `ValueError`.
pub fn lamp(text: &str) -> PyResult<Lamp> {
    pqe_pipeline::settings::lamp(text).map_err(|e| PyValueError::new_err(e.message()))
}

/// Channel specs from the Python description. Unknown kinds or phases are `ValueError`s.
pub fn channel_specs(args: &ChannelArgs) -> PyResult<Vec<ChannelSpec>> {
    let n = args.names.len();
    if args.kinds.len() != n || args.phases.len() != n || args.units.len() != n {
        return Err(PyValueError::new_err(format!(
            "{n} channel names but {} kinds, {} phases and {} units",
            args.kinds.len(),
            args.phases.len(),
            args.units.len()
        )));
    }
    if !(args.sample_rate.is_finite() && args.sample_rate > 0.0) {
        return Err(PyValueError::new_err(format!(
            "sample_rate must be a positive number of samples per second, not {}",
            args.sample_rate
        )));
    }
    (0..n)
        .map(|i| {
            let kind: ChannelKind = args.kinds[i].parse().map_err(|e: String| {
                PyValueError::new_err(format!("channel '{}': {e}", args.names[i]))
            })?;
            let mut spec = ChannelSpec::new(args.names[i].clone(), args.units[i].clone());
            spec.kind = kind;
            spec.phase = phase(&args.phases[i], &args.names[i])?;
            Ok(spec)
        })
        .collect()
}

/// A phase (`A`, `B`, `C`, `N`, `AB`, `BC`, `CA`, or `L1`… as COMTRADE writes them); empty
/// for none.
fn phase(text: &str, channel: &str) -> PyResult<Option<Phase>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Phase::parse_lenient(text).map(Some).ok_or_else(|| {
        PyValueError::new_err(format!(
            "channel '{channel}': unknown phase '{text}' (A, B, C, N, AB, BC or CA)"
        ))
    })
}

/// Check that `data` is `(channels, samples)` with one row per described channel; returns
/// both sizes.
pub fn check_shape(data: &PyReadonlyArray2<'_, f64>, channels: usize) -> PyResult<(usize, usize)> {
    let shape = data.shape();
    if shape[0] != channels {
        return Err(PyValueError::new_err(format!(
            "data has {} rows but {channels} channels are named; data must be (channels, samples)",
            shape[0]
        )));
    }
    Ok((shape[0], shape[1]))
}

/// The samples of a C-contiguous array as one slice (the Python layer makes arrays
/// contiguous before they get here).
pub fn contiguous<'a>(data: &'a PyReadonlyArray2<'_, f64>) -> PyResult<&'a [f64]> {
    data.as_slice()
        .map_err(|_| PyTypeError::new_err("data must be a C-contiguous float64 array"))
}

/// One channel's samples as a slice, from a contiguous 1-D array.
pub fn samples<'a>(x: &'a numpy::PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    let s = x
        .as_slice()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a contiguous float64 array")))?;
    if s.is_empty() {
        return Err(PyValueError::new_err(format!("{what} holds no samples")));
    }
    Ok(s)
}

/// An engine error as a Python exception: a configuration error (a bad option or argument)
/// is a `ValueError`, everything else (files, formats, channels) a `PqeError`.
pub fn engine_error(e: Error) -> PyErr {
    match e {
        Error::Config(_) => PyValueError::new_err(e.to_string()),
        _ => PqeError::new_err(e.to_string()),
    }
}

/// A configuration error as a `ValueError` with the engine's message.
pub fn value_error(e: Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}
