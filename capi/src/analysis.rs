//! `pqe_analysis*`: the output folder of `pqe analyze` from a C caller's timestamped pushes.
//!
//! The pushes feed a [`Source`] ([`PushSource`]) over a bounded channel; the analysis
//! pipeline of `pqe analyze` ([`pqe_pipeline::analyze_source`]) runs on a worker thread
//! and writes the folder as the data arrives (tables row by row, captures as their events
//! end), so memory stays bounded however long the stream runs: a push waits while the
//! pipeline is [`IN_FLIGHT`] blocks behind. [`pqe_analysis_finish`] ends the stream and
//! returns once summary.json, compliance.json and the report are written.
//!
//! Timing follows [`pqe_core::source`]: a push that starts later than the previous one
//! ended is preceded by a [`Gap`] event, which the pipeline flags exactly as a gap between
//! the blocks of a file; one that starts earlier is refused (`PQE_ERR_STREAM`).

use crate::analyzer::{c_str, config_parts, deinterleave, pqe_config, read_sized, ConfigParts};
use crate::analyzer::{
    PQE_FLAG_AGGREGATES, PQE_FLAG_EVENTS, PQE_FLAG_FLICKER, PQE_FLAG_FREQUENCY,
    PQE_FLAG_HALF_CYCLE, PQE_FLAG_HARMONICS,
};
use crate::error::{run, status_of, Failure};
use crate::handles;
use crate::{pqe_status, Opaque};
use pqe_core::{
    Block, CancelToken, ContinuityCheck, Gap, Progress, RecordingInfo, Source, SourceEvent,
    Timestamp,
};
use pqe_pipeline::{AnalysisSettings, NominalVoltage, Observer};
use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

/// An opaque analysis writing `pqe analyze`'s output folder (a token, see the header's
/// introduction). Made by [`pqe_analysis_new`], released by [`pqe_analysis_free`].
pub struct pqe_analysis {
    _opaque: Opaque,
}

/// What [`pqe_analysis_new`] records about the stream's origin (every field optional).
/// Set `struct_size = sizeof(pqe_source_info)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pqe_source_info {
    /// `sizeof(pqe_source_info)` as the caller compiled it.
    pub struct_size: usize,
    /// How summary.json and the report name the recording (NUL-terminated UTF-8; NULL:
    /// `"C stream"`).
    pub input_name: *const c_char,
    /// The station name (COMTRADE `station_name`, written into summary.json and the event
    /// captures; NULL: empty).
    pub station: *const c_char,
    /// The recording device's identification (COMTRADE `rec_dev_id`; NULL: empty).
    pub device: *const c_char,
}

/// Pushed blocks held between the caller and the pipeline: a push waits beyond this.
const IN_FLIGHT: usize = 4;

/// How often the pipeline's wait for the next push looks at its cancel flag.
const POLL: Duration = Duration::from_millis(100);

/// The pushes of a C caller as a [`Source`]: events from a bounded channel, the end when
/// the sending side is dropped.
struct PushSource {
    info: RecordingInfo,
    events: Receiver<SourceEvent>,
    /// Set when the handle is freed without finishing: the run stops.
    abandon: CancelToken,
    seconds: f64,
}

impl Source for PushSource {
    fn info(&self) -> Option<&RecordingInfo> {
        Some(&self.info)
    }

    fn next_event(
        &mut self,
        _max_samples: usize,
        cancel: &CancelToken,
    ) -> pqe_core::Result<Option<SourceEvent>> {
        loop {
            cancel.check()?;
            self.abandon.check()?;
            match self.events.recv_timeout(POLL) {
                Ok(event) => {
                    let end = match &event {
                        SourceEvent::Block(b) => {
                            Some(b.start().add_seconds(b.len() as f64 / b.sample_rate()))
                        }
                        SourceEvent::Gap(g) => Some(g.end),
                        SourceEvent::Warning(_) => None,
                    };
                    if let Some(end) = end {
                        self.seconds = self.seconds.max(end.seconds_since(self.info.start));
                    }
                    return Ok(Some(event));
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    fn progress(&self) -> Progress {
        Progress {
            seconds: self.seconds,
            total_seconds: None,
            bytes: None,
            total_bytes: None,
        }
    }
}

/// Stops the pipeline when the handle is freed unfinished.
struct Abandon(CancelToken);

impl Observer for Abandon {
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

type Outcome = pqe_pipeline::Result<serde_json::Value>;

/// What lives behind a `pqe_analysis` handle.
pub struct AnalysisState {
    events: Option<SyncSender<SourceEvent>>,
    worker: Option<JoinHandle<Outcome>>,
    abandon: CancelToken,
    continuity: ContinuityCheck,
    n_channels: usize,
    sample_rate: f64,
    start: Timestamp,
    /// Index of the sample due next (the end of the last push).
    next_sample: u64,
    pushes: u64,
    /// The run's outcome once it has ended (an error is kept and returned again).
    ended: Option<Result<(), (pqe_status, String)>>,
}

impl Drop for AnalysisState {
    fn drop(&mut self) {
        // Freed unfinished: stop the run and wait for its thread, so none outlives the
        // handle.
        self.abandon.cancel();
        self.events = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The settings of an analysis: `settings_toml` (the keys of `pqe analyze --config`), then
/// the configuration's supply, wiring and `PQE_FLAG_*` switches over them.
fn settings(
    config: &pqe_config,
    parts: &ConfigParts,
    toml: Option<&str>,
) -> Result<AnalysisSettings, Failure> {
    let mut s = match toml {
        Some(text) => AnalysisSettings::from_toml_str(text)
            .map_err(|e| Failure::invalid(format!("settings_toml: {}", e.message())))?,
        None => AnalysisSettings::default(),
    };
    if config.flags & PQE_FLAG_FREQUENCY == 0 {
        return Err(Failure::invalid(
            "config->flags lacks PQE_FLAG_FREQUENCY: the output folder always holds the 10-s \
             frequency (frequency.csv)",
        ));
    }
    s.nominal_frequency = config.nominal_frequency;
    s.nominal_voltage = NominalVoltage::Volts(config.udin);
    s.wiring = parts.wiring;
    s.load_current = parts.load_current;
    s.no_harmonics = config.flags & PQE_FLAG_HARMONICS == 0;
    s.no_events = config.flags & PQE_FLAG_EVENTS == 0;
    s.no_flicker = config.flags & PQE_FLAG_FLICKER == 0;
    s.no_aggregation = config.flags & PQE_FLAG_AGGREGATES == 0;
    s.half_cycle = config.flags & PQE_FLAG_HALF_CYCLE != 0;
    Ok(s)
}

/// A pipeline error as a status: a setting → `PQE_ERR_INVALID_ARGUMENT`, an engine error
/// by its kind, a failed write → `PQE_ERR_IO`.
fn failure(e: pqe_pipeline::Error) -> Failure {
    let message = e.message();
    let status = match &e {
        pqe_pipeline::Error::Engine(inner) => status_of(inner),
        pqe_pipeline::Error::Other(inner) => {
            let root = inner.root_cause();
            if let Some(core) = root.downcast_ref::<pqe_core::Error>() {
                status_of(core)
            } else if root.downcast_ref::<std::io::Error>().is_some() {
                pqe_status::PQE_ERR_IO
            } else {
                pqe_status::PQE_ERR_INVALID_ARGUMENT
            }
        }
        _ => pqe_status::PQE_ERR_INVALID_ARGUMENT,
    };
    Failure::new(status, message)
}

impl AnalysisState {
    /// Wait for the run to end and keep its outcome.
    fn join(&mut self) -> Result<(), Failure> {
        if self.ended.is_none() {
            self.events = None;
            let outcome = match self.worker.take().map(JoinHandle::join) {
                Some(Ok(Ok(_summary))) => Ok(()),
                Some(Ok(Err(e))) => {
                    let f = failure(e);
                    Err((f.status, f.message))
                }
                Some(Err(_)) => Err((
                    pqe_status::PQE_ERR_PANIC,
                    "the analysis thread panicked".to_string(),
                )),
                None => Ok(()),
            };
            self.ended = Some(outcome);
        }
        match self.ended.clone().expect("set above") {
            Ok(()) => Ok(()),
            Err((status, message)) => Err(Failure::new(status, message)),
        }
    }

    /// Send `n` samples per channel (planar in `planar`) starting at `at` (`None`: right
    /// after the previous push).
    fn push(&mut self, planar: Vec<f64>, n: usize, at: Option<Timestamp>) -> Result<(), Failure> {
        if self.ended.is_some() || self.events.is_none() {
            return Err(Failure::new(
                pqe_status::PQE_ERR_STATE,
                "samples pushed after pqe_analysis_finish",
            ));
        }
        if n == 0 {
            return Ok(());
        }
        self.pushes += 1;
        let what = format!("push {}", self.pushes);
        let (start, first) = match at {
            None => (
                self.start
                    .add_seconds(self.next_sample as f64 / self.sample_rate),
                self.next_sample,
            ),
            Some(at) => {
                let position = at.seconds_since(self.start) * self.sample_rate;
                if !(position.is_finite() && position.abs() < u64::MAX as f64 / 2.0) {
                    return Err(Failure::invalid(format!(
                        "{what}: start_unix_ns {} is out of range for this recording",
                        at.as_nanos()
                    )));
                }
                if position < -0.5 {
                    return Err(Failure::new(
                        pqe_status::PQE_ERR_STREAM,
                        format!(
                            "{what}: the block starting at {at} lies {:.6} s before the \
                             recording's start {} (config->start_unix_ns); blocks must follow \
                             each other in time",
                            -position / self.sample_rate,
                            self.start
                        ),
                    ));
                }
                (at, position.round().max(0.0) as u64)
            }
        };
        let block = Block::from_planar(start, self.sample_rate, first, self.n_channels, planar)?;
        let mut gap = self.continuity.check(&block, &what)?;
        if self.pushes == 1 && first > 0 {
            // Samples missing between the configured start and the first push.
            gap = Some(Gap {
                start: self.start,
                end: start,
                first_missing_sample: Some(0),
                missing_samples: Some(first),
                reason: format!("{what}: the first block starts after config->start_unix_ns"),
            });
        }
        let sender = self.events.as_ref().expect("checked above");
        let sent = gap
            .map_or(Ok(()), |g| sender.send(SourceEvent::Gap(g)))
            .and_then(|()| sender.send(SourceEvent::Block(block)));
        if sent.is_err() {
            // The pipeline stopped: its error says why.
            self.join()?;
            return Err(Failure::new(
                pqe_status::PQE_ERR_STATE,
                "the analysis has ended; no more samples are taken",
            ));
        }
        self.next_sample = first + n as u64;
        Ok(())
    }
}

fn token(h: *const pqe_analysis) -> usize {
    h as usize
}

/// Start an analysis that writes the output folder of `pqe analyze` into `out_dir` (created
/// if needed) from the samples pushed to it, and store its handle in `*out` (NULL on
/// failure). The folder holds what `pqe analyze` writes for a recording of the same
/// samples: the result tables, statistics.csv, event captures (COMTRADE), compliance.json
/// (EN 50160, IEEE 519), report.html and summary.json.
///
/// - `config`: the channels (kind and phase give each its role), sample rate, start time,
///   nominal frequency, Udin, wiring, load current, and the parts computed: the flags
///   `PQE_FLAG_HARMONICS`, `PQE_FLAG_EVENTS`, `PQE_FLAG_FLICKER`, `PQE_FLAG_AGGREGATES`
///   switch off what `--no-harmonics`, `--no-events`, `--no-flicker`, `--no-aggregation`
///   switch off when absent; `PQE_FLAG_HALF_CYCLE` also writes urms_half_cycle.csv;
///   `PQE_FLAG_FREQUENCY` is required (the folder always has frequency.csv).
/// - `settings_toml`: NULL, or the other settings as TOML text with the keys of
///   `pqe analyze --config` (`dip_threshold = 85`, `format = "parquet"`,
///   `ieee519_edition = 2014`, …); the configuration's fields take precedence over the same
///   keys there.
/// - `source`: NULL, or the name, station and device of the recording
///   ([`pqe_source_info`]).
///
/// The analysis runs on a worker thread of its own as the samples arrive; pushes wait
/// while it is a few blocks behind. Its errors (a sample rate below 20 per cycle, a folder
/// that cannot be written) are returned by the next push or by [`pqe_analysis_finish`].
///
/// Errors: `PQE_ERR_NULL` (config, out_dir, out, config->channels, a channel's name),
/// `PQE_ERR_INVALID_ARGUMENT` (the configuration as [`crate::pqe_analyzer_new`] checks it,
/// `PQE_FLAG_FREQUENCY` missing, a setting in `settings_toml`, `source->struct_size`, text
/// that is not UTF-8).
///
/// # Safety
/// `config` is NULL or points to a `pqe_config` as [`crate::pqe_analyzer_new`] takes it;
/// `source` is NULL or points to a `pqe_source_info` of `source->struct_size` bytes whose
/// strings are NULL or NUL-terminated; `settings_toml` and `out_dir` are NULL or
/// NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pqe_analysis_new(
    config: *const pqe_config,
    source: *const pqe_source_info,
    settings_toml: *const c_char,
    out_dir: *const c_char,
    out: *mut *mut pqe_analysis,
) -> pqe_status {
    run("pqe_analysis_new", || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: per the contract (NULL is checked inside).
        let config = unsafe { read_sized(config, "config")? };
        let parts = config_parts(&config)?;
        // SAFETY: per the contract, NUL-terminated or NULL.
        let toml = unsafe { c_str(settings_toml, "settings_toml")? };
        // SAFETY: as above.
        let dir = unsafe { c_str(out_dir, "out_dir")? }.ok_or_else(|| Failure::null("out_dir"))?;
        let (mut name, mut station, mut device) = ("C stream", "", "");
        if !source.is_null() {
            // SAFETY: per the contract (size checked inside).
            let s = unsafe { read_sized(source, "source")? };
            // SAFETY: per the contract, NUL-terminated or NULL.
            unsafe {
                name = c_str(s.input_name, "source->input_name")?.unwrap_or(name);
                station = c_str(s.station, "source->station")?.unwrap_or(station);
                device = c_str(s.device, "source->device")?.unwrap_or(device);
            }
        }
        let settings = settings(&config, &parts, toml)?;
        let valid = settings.validate().map_err(failure)?;
        let start = Timestamp::from_nanos(config.start_unix_ns);
        let n_channels = parts.channels.len();
        let mut info = RecordingInfo::new(parts.channels, config.sample_rate, start);
        info.station = station.to_string();
        info.device = device.to_string();
        // The caller's nominal frequency is the line frequency it declares (as a COMTRADE
        // .cfg declares one; the event captures write it).
        info.line_frequency = config.nominal_frequency;
        let (events, receiver) = sync_channel(IN_FLIGHT);
        let abandon = CancelToken::new();
        let source = PushSource {
            info,
            events: receiver,
            abandon: abandon.clone(),
            seconds: 0.0,
        };
        let (dir, name) = (PathBuf::from(dir), PathBuf::from(name));
        let stop = abandon.clone();
        let worker = std::thread::Builder::new()
            .name("pqe-analysis".into())
            .spawn(move || {
                pqe_pipeline::analyze_source(
                    Box::new(source),
                    &name,
                    &dir,
                    &valid,
                    &mut Abandon(stop),
                )
            })
            .map_err(|e| {
                Failure::new(
                    pqe_status::PQE_ERR_IO,
                    format!("cannot start the analysis thread: {e}"),
                )
            })?;
        let state = AnalysisState {
            events: Some(events),
            worker: Some(worker),
            abandon,
            continuity: ContinuityCheck::new(),
            n_channels,
            sample_rate: config.sample_rate,
            start,
            next_sample: 0,
            pushes: 0,
            ended: None,
        };
        let token = handles::register(state);
        // SAFETY: as above.
        unsafe { out.write(token as *mut pqe_analysis) };
        Ok(pqe_status::PQE_OK)
    })
}

/// Push `n_frames` samples of every channel, interleaved frame by frame
/// (`samples[i * n_channels + c]` is sample `i` of channel `c`), the first of them taken
/// at `start_unix_ns` (nanoseconds since 1970, the clock of `config->start_unix_ns`). Time
/// between pushes works as for [`crate::pqe_analyzer_push_at`]: within half a sample of
/// the end of the previous push the stream continues; later, the samples in between are a
/// gap, flagged in the output folder exactly as the same gap in a recording file; earlier
/// is refused with `PQE_ERR_STREAM` (nothing taken, the analysis goes on). Missing samples
/// are NaN. `samples` may be NULL when `n_frames` is 0.
///
/// Errors: `PQE_ERR_NULL`, `PQE_ERR_INVALID_HANDLE`, `PQE_ERR_INVALID_ARGUMENT`
/// (`n_frames * n_channels` overflows), `PQE_ERR_STREAM` (the block overlaps what was
/// pushed), `PQE_ERR_STATE` (after [`pqe_analysis_finish`], or the analysis has stopped on
/// an error: that error is returned once, by this call).
///
/// # Safety
/// `samples` is NULL or points to `n_frames * n_channels` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn pqe_analysis_push_at(
    h: *mut pqe_analysis,
    samples: *const f64,
    n_frames: usize,
    start_unix_ns: i64,
) -> pqe_status {
    run("pqe_analysis_push_at", || {
        let at = Timestamp::from_nanos(start_unix_ns);
        // SAFETY: passed on under the same contract.
        unsafe { push_interleaved(h, samples, n_frames, Some(at)) }
    })
}

/// Push `n_frames` interleaved samples of every channel right after the previous push
/// (no gap), as [`pqe_analysis_push_at`] otherwise.
///
/// # Safety
/// As [`pqe_analysis_push_at`].
#[no_mangle]
pub unsafe extern "C" fn pqe_analysis_push(
    h: *mut pqe_analysis,
    samples: *const f64,
    n_frames: usize,
) -> pqe_status {
    run("pqe_analysis_push", || {
        // SAFETY: passed on under the same contract.
        unsafe { push_interleaved(h, samples, n_frames, None) }
    })
}

/// # Safety
/// As [`pqe_analysis_push_at`].
unsafe fn push_interleaved(
    h: *mut pqe_analysis,
    samples: *const f64,
    n_frames: usize,
    at: Option<Timestamp>,
) -> Result<pqe_status, Failure> {
    handles::with(token(h), "h", |s: &mut AnalysisState| {
        let mut planar = Vec::new();
        // SAFETY: passed on under the same contract.
        unsafe { deinterleave(samples, n_frames, s.n_channels, &mut planar)? };
        s.push(planar, n_frames, at)?;
        Ok(pqe_status::PQE_OK)
    })
}

/// End the stream and wait until the output folder is complete (the last records, the
/// statistics, captures, compliance.json, report.html, summary.json). Returns the
/// analysis's error if it failed (the same again on a second call); `PQE_OK` again after
/// success. Pushing afterwards returns `PQE_ERR_STATE`.
#[no_mangle]
pub extern "C" fn pqe_analysis_finish(h: *mut pqe_analysis) -> pqe_status {
    run("pqe_analysis_finish", || {
        handles::with(token(h), "h", |s: &mut AnalysisState| {
            s.join()?;
            Ok(pqe_status::PQE_OK)
        })
    })
}

/// Release an analysis. Unfinished, it is stopped (the folder is left as far as it got).
/// The handle is invalid afterwards; NULL returns `PQE_ERR_NULL`.
#[no_mangle]
pub extern "C" fn pqe_analysis_free(h: *mut pqe_analysis) -> pqe_status {
    run("pqe_analysis_free", || {
        handles::remove::<AnalysisState>(token(h), "h")?;
        Ok(pqe_status::PQE_OK)
    })
}
