//! A numpy `Recording` as a [`pqe_core::Source`]: its `(channels, samples)` array cut into
//! blocks timed from the recording's start, exactly as the file readers time theirs (block
//! `k` starts at `start + first_sample / rate`), so the pipeline analyses an array and the
//! file it was read from alike.

use pqe_core::{block_seconds, Block, CancelToken, Progress, RecordingInfo, Source, SourceEvent};

/// The samples of a C-contiguous `(channels, samples)` float64 array, handed out block by
/// block. It reads the array in place: no copy of the recording is made.
pub struct ArraySource {
    info: RecordingInfo,
    data: *const f64,
    n_channels: usize,
    n: usize,
    next: usize,
    seconds: f64,
}

// SAFETY: the array is only read, and `ArraySource::new`'s caller keeps it alive and
// unchanged (a read-only numpy borrow held for the whole analysis) until the source is
// dropped; reading plain f64 memory from another thread is then sound.
unsafe impl Send for ArraySource {}

impl ArraySource {
    /// A source over `samples` (`n_channels * n` values, channel after channel).
    ///
    /// # Safety
    /// `samples` must stay alive and unmodified until the source is dropped.
    pub unsafe fn new(info: RecordingInfo, samples: &[f64], n_channels: usize) -> Self {
        let n = samples.len().checked_div(n_channels).unwrap_or(0);
        ArraySource {
            info,
            data: samples.as_ptr(),
            n_channels,
            n,
            next: 0,
            seconds: 0.0,
        }
    }
}

impl Source for ArraySource {
    fn info(&self) -> Option<&RecordingInfo> {
        Some(&self.info)
    }

    fn next_event(
        &mut self,
        max_samples: usize,
        cancel: &CancelToken,
    ) -> pqe_core::Result<Option<SourceEvent>> {
        cancel.check()?;
        if self.next >= self.n {
            return Ok(None);
        }
        let first = self.next;
        let len = max_samples.max(1).min(self.n - first);
        // SAFETY: see `ArraySource::new`; `data` holds `n_channels * n` values.
        let all = unsafe { std::slice::from_raw_parts(self.data, self.n_channels * self.n) };
        let mut planar = Vec::with_capacity(self.n_channels * len);
        for c in 0..self.n_channels {
            planar.extend_from_slice(&all[c * self.n + first..c * self.n + first + len]);
        }
        let rate = self.info.sample_rate;
        let t = self.info.start.add_seconds(first as f64 / rate);
        let block = Block::from_planar(t, rate, first as u64, self.n_channels, planar)?;
        self.next += len;
        self.seconds = (first as f64 / rate) + block_seconds(&block);
        Ok(Some(SourceEvent::Block(block)))
    }

    fn progress(&self) -> Progress {
        Progress {
            seconds: self.seconds,
            total_seconds: self.info.duration_seconds(),
            bytes: None,
            total_bytes: None,
        }
    }
}

/// A live device (`pqengine.open_source(uri)`): the [`pqe_devices::DeviceSource`] of the
/// URI, read event by event from Python, or handed whole to the pipeline
/// (`pqengine.analyze(source)`).
#[pyo3::pyclass(module = "pqengine._pqengine")]
pub struct LiveStream {
    /// Behind a mutex: a Python class must be shareable between threads.
    source: std::sync::Mutex<Option<pqe_devices::DeviceSource>>,
    outcome: std::sync::Arc<std::sync::Mutex<pqe_devices::Outcome>>,
    stop: pqe_devices::StopSignal,
    info: RecordingInfo,
    driver: String,
    name: String,
    cancel: CancelToken,
}

impl LiveStream {
    /// The source, for the pipeline; an error when it was read from or analysed already.
    pub fn take(&mut self) -> pyo3::PyResult<pqe_devices::DeviceSource> {
        let slot = self.source.get_mut().unwrap_or_else(|e| e.into_inner());
        slot.take().ok_or_else(|| {
            crate::PqeError::new_err(format!(
                "{}: this live source was analysed already; open it again",
                self.name
            ))
        })
    }

    /// The URI, secrets redacted (the input's name in summary.json).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The driver's fault that ended the source, if one did.
    pub fn fault(&self) -> Option<String> {
        self.outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fault
            .clone()
    }
}

/// One step of a live source as Python sees it: `("block", start_ns, data)`,
/// `("gap", start_ns, end_ns, reason)` or `("warning", text)`.
type Step<'py> = pyo3::Bound<'py, pyo3::types::PyTuple>;

#[pyo3::pymethods]
impl LiveStream {
    /// Open `uri` through the drivers PQE knows (built in, and the plugins and adapters of
    /// the plugin folders and `PQE_PLUGIN_PATH`); it ends after `duration` seconds of
    /// recording time when given.
    #[new]
    #[pyo3(signature = (uri, duration=None))]
    fn new(py: pyo3::Python<'_>, uri: &str, duration: Option<f64>) -> pyo3::PyResult<Self> {
        let stop = pqe_devices::StopSignal::new();
        let name = pqe_devices::uri::redact(uri);
        let source = py
            .allow_threads(|| {
                let registry = pqe_devices::Registry::standard();
                pqe_devices::DeviceSource::open(&registry, uri, duration, stop.clone())
            })
            .map_err(|e| crate::PqeError::new_err(format!("cannot open {name}: {e}")))?;
        Ok(LiveStream {
            outcome: source.outcome(),
            info: Source::info(&source)
                .cloned()
                .unwrap_or_else(|| RecordingInfo::new(Vec::new(), 0.0, pqe_core::Timestamp::EPOCH)),
            driver: source.driver().to_string(),
            source: std::sync::Mutex::new(Some(source)),
            stop,
            name,
            cancel: CancelToken::new(),
        })
    }

    /// The channels, rate, start and driver: a dict as `pqengine.read` gives.
    fn info<'py>(
        &self,
        py: pyo3::Python<'py>,
    ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
        use pyo3::types::PyDictMethods;
        let info = &self.info;
        let out = pyo3::types::PyDict::new(py);
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
        out.set_item("driver", self.driver.clone())?;
        out.set_item("uri", self.name.clone())?;
        Ok(out)
    }

    /// The next step, or `None` at the end (the end of the stream, the duration, `stop()`,
    /// or a driver fault: then `fault()` names it). Blocks hold at most `max_samples`
    /// samples per channel.
    #[pyo3(signature = (max_samples=65536))]
    fn next_step<'py>(
        &mut self,
        py: pyo3::Python<'py>,
        max_samples: usize,
    ) -> pyo3::PyResult<Option<Step<'py>>> {
        use numpy::IntoPyArray;
        use pyo3::IntoPyObject;
        let cancel = self.cancel.clone();
        let mut slot = self.source.lock().unwrap_or_else(|e| e.into_inner());
        let Some(source) = slot.as_mut() else {
            return Err(crate::PqeError::new_err(format!(
                "{}: this live source was analysed already; open it again",
                self.name
            )));
        };
        let event = py
            .allow_threads(|| source.next_event(max_samples, &cancel))
            .map_err(|e| crate::PqeError::new_err(format!("{}: {e}", self.name)))?;
        let Some(event) = event else {
            return Ok(None);
        };
        let step = match event {
            SourceEvent::Block(b) => {
                let data = numpy::ndarray::Array2::from_shape_vec(
                    (b.n_channels(), b.len()),
                    b.planar().to_vec(),
                )
                .map_err(|e| crate::PqeError::new_err(format!("block layout: {e}")))?;
                (
                    "block",
                    b.start().as_nanos(),
                    data.into_pyarray(py).into_any(),
                )
                    .into_pyobject(py)?
            }
            SourceEvent::Gap(g) => (
                "gap",
                g.start.as_nanos(),
                g.end.as_nanos(),
                g.reason.clone(),
            )
                .into_pyobject(py)?,
            SourceEvent::Warning(w) => ("warning", w.to_string()).into_pyobject(py)?,
        };
        Ok(Some(step))
    }

    /// End the source at its next step (what Ctrl-C does to `pqe analyze --source`).
    fn stop(&self) {
        self.stop.stop();
    }

    /// The driver's fault that ended the source, naming the driver; `None` otherwise.
    #[pyo3(name = "fault")]
    fn py_fault(&self) -> Option<String> {
        self.fault()
    }
}
