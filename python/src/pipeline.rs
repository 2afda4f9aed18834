//! `pqengine.analyze` on the analysis pipeline of `pqe analyze` ([`pqe_pipeline`]): the
//! settings arrive as an `AnalysisSettings` JSON object (the Python keyword arguments,
//! renamed to the settings' field names in `pqengine/__init__.py`), checked by the
//! pipeline; the recording is a file (the pipeline's own file source) or a numpy array
//! ([`ArraySource`]); the pipeline writes the output folder `pqe analyze` writes, which the
//! Python side then reads into its tables ([`crate::tables::load`]).

use crate::convert::{channel_specs, check_shape, contiguous, ChannelArgs};
use crate::source::ArraySource;
use crate::PqeError;
use numpy::PyReadonlyArray2;
use pqe_core::RecordingInfo;
use pqe_pipeline::{AnalysisSettings, Observer, ValidSettings};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// A message of the run: `(level, text)`, level `warning` or `info`.
type Message = (String, String);

/// What the run told its observer: warnings and information, in order.
#[derive(Default)]
struct Collect {
    messages: Vec<Message>,
}

impl Observer for Collect {
    fn warning(&mut self, message: &str) {
        self.messages.push(("warning".into(), message.into()));
    }
    fn info(&mut self, message: &str) {
        self.messages.push(("info".into(), message.into()));
    }
}

/// Settings from their JSON object (field names of [`AnalysisSettings`]), checked.
pub fn settings(json: &str) -> PyResult<ValidSettings> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| PyValueError::new_err(format!("analysis settings: {e}")))?;
    let settings: AnalysisSettings = serde_json::from_value(value.clone()).map_err(|e| {
        // Name the setting at fault: the first that does not read on its own (every
        // setting has a default, so one alone is a whole settings object).
        let culprit = value.as_object().and_then(|fields| {
            fields.iter().find_map(|(k, v)| {
                let alone = serde_json::json!({ k: v });
                serde_json::from_value::<AnalysisSettings>(alone)
                    .err()
                    .map(|e| format!("{k}: {e}"))
            })
        });
        PyValueError::new_err(culprit.unwrap_or_else(|| format!("analysis settings: {e}")))
    })?;
    settings.validate().map_err(pipeline_error)
}

/// A pipeline error as a Python exception: a bad setting (or a configuration the engine
/// refuses, such as a sample rate below 20 per cycle) is a `ValueError`, anything else
/// (files, formats, channels, writing) a `PqeError`; the message keeps its context chain.
pub fn pipeline_error(e: pqe_pipeline::Error) -> PyErr {
    let config = match &e {
        pqe_pipeline::Error::Other(inner) => matches!(
            inner.root_cause().downcast_ref::<pqe_core::Error>(),
            Some(pqe_core::Error::Config(_))
        ),
        other => other.is_settings(),
    };
    if config {
        PyValueError::new_err(e.message())
    } else {
        PqeError::new_err(e.message())
    }
}

/// Analyse into the folder `out` as `pqe analyze` does: the recording file `path`, or the
/// `(channels, samples)` array `data` described by `channels` (read in place) and named
/// `input_name` in summary.json and the report. Returns summary.json's text, the run's
/// messages (`(level, text)`, level `warning` or `info`) and the recording's start (ns
/// since 1970).
#[pyfunction]
#[pyo3(signature = (settings_json, out, input_name, path=None, data=None, channels=None, live=None))]
#[allow(clippy::too_many_arguments)]
pub fn run_pipeline(
    py: Python<'_>,
    settings_json: &str,
    out: PathBuf,
    input_name: PathBuf,
    path: Option<PathBuf>,
    data: Option<PyReadonlyArray2<'_, f64>>,
    channels: Option<ChannelArgs>,
    live: Option<Bound<'_, crate::source::LiveStream>>,
) -> PyResult<(String, Vec<Message>, i64)> {
    let valid = settings(settings_json)?;
    let mut observer = Collect::default();
    if let Some(live) = live {
        if path.is_some() || data.is_some() {
            return Err(PyValueError::new_err(
                "run_pipeline takes a path, data with its channels, or a live source",
            ));
        }
        // A live source: the pipeline of `pqe analyze --source`; a driver's fault ends it
        // with the results before it kept, and is told as a warning naming the driver.
        let source = live.borrow_mut().take()?;
        let name = PathBuf::from(live.borrow().name());
        let start = pqe_core::Source::info(&source).map_or(0, |i| i.start.as_nanos());
        let summary = py
            .allow_threads(|| {
                pqe_pipeline::analyze_source(Box::new(source), &name, &out, &valid, &mut observer)
            })
            .map_err(pipeline_error)?;
        if let Some(fault) = live.borrow().fault() {
            observer.messages.push((
                "warning".into(),
                format!("the source failed: {fault}; the results are those up to the fault"),
            ));
        }
        let text = serde_json::to_string(&summary)
            .map_err(|e| PqeError::new_err(format!("summary.json: {e}")))?;
        return Ok((text, observer.messages, start));
    }
    let (summary, start) = match (path, data, channels) {
        (Some(path), None, None) => {
            py.allow_threads(|| run_file(&path, &out, &valid, &mut observer))?
        }
        (None, Some(data), Some(channels)) => {
            let specs = channel_specs(&channels)?;
            let (n_channels, n) = check_shape(&data, specs.len())?;
            let samples = contiguous(&data)?;
            let mut info =
                RecordingInfo::new(specs, channels.sample_rate, channels.start_ns_stamp());
            info.total_samples = Some(n as u64);
            info.rate_segments = vec![(channels.sample_rate, n as u64)];
            let start = info.start.as_nanos();
            // SAFETY: `data` (a read-only borrow of the array) outlives the source, which
            // the pipeline drops before `analyze_source` returns.
            let source = unsafe { ArraySource::new(info, samples, n_channels) };
            let summary = py.allow_threads(|| {
                pqe_pipeline::analyze_source(
                    Box::new(source),
                    &input_name,
                    &out,
                    &valid,
                    &mut observer,
                )
            });
            (summary.map_err(pipeline_error)?, start)
        }
        _ => {
            return Err(PyValueError::new_err(
                "run_pipeline takes a path, or data with its channels",
            ))
        }
    };
    let text = serde_json::to_string(&summary)
        .map_err(|e| PqeError::new_err(format!("summary.json: {e}")))?;
    Ok((text, observer.messages, start))
}

/// The pipeline over a recording file, exactly as `pqe analyze` runs it
/// ([`pqe_pipeline::analyze_file`]), with the recording's start time.
fn run_file(
    path: &Path,
    out: &Path,
    valid: &ValidSettings,
    observer: &mut Collect,
) -> PyResult<(serde_json::Value, i64)> {
    // The header alone, for the start time (summary.json gives it as text).
    let start = pqe_io::open(path)
        .map_err(crate::convert::engine_error)?
        .info()
        .start
        .as_nanos();
    let summary =
        pqe_pipeline::analyze_file(path, out, &valid.settings, observer).map_err(pipeline_error)?;
    Ok((summary, start))
}
