//! `pqengine.meter(uri)`: a session with one meter over the pqe-link meter links (the
//! architecture's "Meter links": Modbus TCP/RTU, IEC 62056-21, DLMS/COSEM, M-Bus, SML).
//!
//! [`MeterLink`] is the extension class the Python `pqengine.Meter` wraps. It opens the
//! link when made (the URI's own `timeout_ms` and `retries` bound every read), reads
//! values as `(id, value, unit)` tuples with the scaler applied, scans an M-Bus, and
//! records every frame into a JSON Lines trace when asked. The GIL is released while the
//! link waits for the meter.
//!
//! Errors: a URI or selector that cannot be understood is a `ValueError`; an operation the
//! protocol does not have is a `NotImplementedError`; everything the meter or the line
//! does (timeouts, damaged frames, refusals, a closed connection) is a
//! `pqengine.MeterError` (a `PqeError`) whose message names the frame, request or device
//! at fault. No message carries a secret: pqe-link's errors never format one.

use crate::PqeError;
use pqe_link::{
    Endpoint, LinkError, MeterUri, ObisCode, OpenRequest, Reading, Registry, Selector, TraceSink,
    Value,
};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;

pyo3::create_exception!(
    _pqengine,
    MeterError,
    PqeError,
    "A meter link failed: no answer before the deadline, a damaged or unexpected frame, a \
     refusal by the meter, a closed connection. The message names the frame, request or \
     device at fault; it never contains a password or key."
);

/// Every meter protocol of this build (as `pqe meter` has them).
fn registry() -> Registry {
    let mut r = Registry::new();
    pqe_modbus::register(&mut r);
    pqe_iec62056_21::register(&mut r);
    pqe_mbus::link::register(&mut r);
    pqe_sml::link::register(&mut r);
    pqe_dlms::link::register(&mut r);
    r
}

/// A link error as the Python exception its kind calls for.
fn link_error(context: &str, e: LinkError) -> PyErr {
    let msg = format!("{context}: {e}");
    match e {
        LinkError::Config(_) => PyValueError::new_err(msg),
        LinkError::NotImplemented(_) => PyNotImplementedError::new_err(msg),
        _ => MeterError::new_err(msg),
    }
}

/// A selector from its text: `hr:ADDR:TYPE` / `ir:ADDR:TYPE` a Modbus register, an OBIS
/// code (`A-B:C.D.E*F` or `C.D.E`), else a name of the register map.
fn selector(text: &str) -> PyResult<Selector> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("hr:") || lower.starts_with("ir:") {
        return text
            .parse()
            .map(Selector::Register)
            .map_err(|e: LinkError| PyValueError::new_err(e.to_string()));
    }
    if let Ok(o) = text.parse::<ObisCode>() {
        return Ok(Selector::Obis(o));
    }
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(Selector::Name(text.to_string()));
    }
    Err(PyValueError::new_err(format!(
        "selector '{text}': neither a register (hr|ir:ADDR:TYPE), an OBIS code \
         (A-B:C.D.E*F or C.D.E) nor a register-map name"
    )))
}

type Row = (String, PyObject, String);

fn rows(py: Python<'_>, values: Vec<Value>) -> PyResult<Vec<Row>> {
    values
        .into_iter()
        .map(|v| {
            let value = match v.value {
                Reading::Number(x) => x.into_pyobject(py)?.into_any().unbind(),
                Reading::Text(s) => s.into_pyobject(py)?.into_any().unbind(),
            };
            Ok((v.id, value, v.unit))
        })
        .collect()
}

/// One open meter link.
#[pyclass(module = "pqengine._pqengine")]
pub struct MeterLink {
    /// `None` once closed.
    link: Mutex<Option<Box<dyn pqe_link::MeterLink>>>,
    trace: Option<(TraceSink, PathBuf)>,
    /// The URI with any plain secret value masked, for messages.
    shown: String,
}

impl MeterLink {
    fn with_link<T: Send>(
        &self,
        py: Python<'_>,
        what: &str,
        f: impl FnOnce(&mut dyn pqe_link::MeterLink) -> pqe_link::Result<T> + Send,
    ) -> PyResult<T> {
        let context = format!("meter {} ({what})", self.shown);
        py.allow_threads(|| {
            let mut guard = self
                .link
                .lock()
                .map_err(|_| MeterError::new_err(format!("{context}: an earlier call panicked")))?;
            let link = guard
                .as_mut()
                .ok_or_else(|| PyValueError::new_err(format!("{context}: the link is closed")))?;
            f(link.as_mut()).map_err(|e| link_error(&context, e))
        })
    }
}

#[pymethods]
impl MeterLink {
    /// Opens the link `uri` names; `map` a Modbus register map (built-in name or TOML
    /// file), `trace` a JSON Lines file to record every frame into.
    #[new]
    #[pyo3(signature = (uri, map=None, trace=None))]
    fn new(
        py: Python<'_>,
        uri: &str,
        map: Option<String>,
        trace: Option<PathBuf>,
    ) -> PyResult<Self> {
        let shown = pqe_link::uri::redact_uri(uri);
        let parsed: MeterUri = uri
            .parse()
            .map_err(|e| link_error(&format!("meter {shown}"), e))?;
        let trace = match trace {
            Some(path) => {
                let line = match &parsed.endpoint {
                    Endpoint::Serial { .. } => parsed.param("serial").and_then(|s| s.parse().ok()),
                    Endpoint::Tcp { .. } => None,
                };
                let sink = TraceSink::create(&path, &parsed.scheme, &parsed.to_string(), line)
                    .map_err(|e| link_error(&format!("trace {}", path.display()), e))?;
                Some((sink, path))
            }
            None => None,
        };
        let sink = trace.as_ref().map(|(s, _)| s.clone());
        let link = py
            .allow_threads(|| {
                registry().open(&OpenRequest {
                    uri: &parsed,
                    map: map.as_deref(),
                    trace: sink,
                })
            })
            .map_err(|e| link_error(&format!("meter {shown} (open)"), e))?;
        Ok(MeterLink {
            link: Mutex::new(Some(link)),
            trace,
            shown,
        })
    }

    /// The values `selectors` ask for, in their order (everything the meter gives in one
    /// exchange when there are none): a list of `(id, value, unit)`.
    fn read(&self, py: Python<'_>, selectors: Vec<String>) -> PyResult<Vec<Row>> {
        let selectors = selectors
            .iter()
            .map(|s| selector(s))
            .collect::<PyResult<Vec<_>>>()?;
        let values = self.with_link(py, "read", |link| {
            if selectors.is_empty() {
                link.read_all()
            } else {
                link.read(&selectors)
            }
        })?;
        rows(py, values)
    }

    /// The meters on the bus (M-Bus primary and secondary scan): `(address, description, "")`.
    fn scan(&self, py: Python<'_>) -> PyResult<Vec<Row>> {
        let found = self.with_link(py, "scan", |link| link.scan())?;
        rows(py, found)
    }

    /// Ends the session (release, disconnect) and completes the trace. Closing twice is
    /// allowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let context = format!("meter {} (close)", self.shown);
        let link = self
            .link
            .lock()
            .map_err(|_| MeterError::new_err(format!("{context}: an earlier call panicked")))?
            .take();
        let closed = match link {
            Some(mut l) => py
                .allow_threads(move || l.close())
                .map_err(|e| link_error(&context, e)),
            None => Ok(()),
        };
        if let Some((sink, path)) = &self.trace {
            sink.finish()
                .map_err(|e| link_error(&format!("trace {}", path.display()), e))?;
        }
        closed
    }

    /// Whether the link is still open.
    #[getter]
    fn is_open(&self) -> bool {
        self.link.lock().map(|l| l.is_some()).unwrap_or(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "MeterLink('{}', {})",
            self.shown,
            if self.is_open() { "open" } else { "closed" }
        )
    }
}

/// Adds the class and its exception to the module.
pub fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MeterError", m.py().get_type::<MeterError>())?;
    m.add_class::<MeterLink>()?;
    Ok(())
}
