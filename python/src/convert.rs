//! Arguments from Python into engine types: channel descriptions, analysis options, arrays,
//! and engine errors back into Python exceptions.

use crate::PqeError;
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pqe_core::{
    ChannelKind, ChannelSpec, Error, NominalFrequency, Phase, SystemConfig, Timestamp, Wiring,
};
use pqe_standards::events::EventOptions;
use pqe_standards::iec61000_4_15::Lamp;
use pqe_standards::AnalyzerOptions;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::collections::HashMap;

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

/// The options of `pqengine.analyze` (a dict with these keys), the same as `pqe analyze`'s.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct AnalyzeArgs {
    pub nominal_voltage: f64,
    pub nominal_frequency: f64,
    pub wiring: String,
    pub load_current: Option<f64>,
    pub harmonics: bool,
    pub thd_order: usize,
    pub signalling_frequency: Option<f64>,
    pub dip_threshold: f64,
    pub swell_threshold: f64,
    pub interruption_threshold: f64,
    pub hysteresis: f64,
    pub sliding_reference: bool,
    pub rvc_threshold: f64,
    pub flicker: bool,
    pub flicker_lamp: Option<String>,
    /// Urms(1/2) values (`pqe analyze --no-half-cycle` when false); needs `events` false.
    pub half_cycle: bool,
    /// Dips, swells, interruptions, RVCs and their flagging (`--no-events` when false).
    pub events: bool,
    /// 3-s, 10-min and 2-h aggregates (`--no-aggregation` when false).
    pub aggregation: bool,
    pub channel_map: HashMap<String, String>,
}

impl AnalyzeArgs {
    /// The supply and analyzer options, exactly as `pqe analyze` builds them from its
    /// arguments. Bad values are `ValueError`s.
    pub fn engine(&self) -> PyResult<(SystemConfig, AnalyzerOptions)> {
        let config = SystemConfig {
            nominal_frequency: nominal(self.nominal_frequency)?,
            udin: self.nominal_voltage,
            wiring: self.wiring.parse::<Wiring>().map_err(value_error)?,
            load_current: self.load_current,
        };
        config.validate().map_err(value_error)?;
        if self.events && !self.half_cycle {
            return Err(PyValueError::new_err(
                "half_cycle=False needs events=False as well: dips, swells, interruptions \
                 and RVCs are detected on the Urms(1/2) values (or use basic=True, which \
                 turns both off)",
            ));
        }
        let defaults = EventOptions::default();
        let events = EventOptions {
            dip_threshold: self.dip_threshold,
            dip_hysteresis: self.hysteresis,
            swell_threshold: self.swell_threshold,
            swell_hysteresis: self.hysteresis,
            interruption_threshold: self.interruption_threshold,
            interruption_hysteresis: self.hysteresis,
            sliding_reference: self.sliding_reference,
            rvc_threshold: self.rvc_threshold,
            rvc_hysteresis: (self.rvc_threshold / 2.0).min(defaults.rvc_hysteresis),
            enabled: self.events,
            ..defaults
        };
        events.validate().map_err(value_error)?;
        let options = AnalyzerOptions {
            harmonics: self.harmonics,
            half_cycle: self.half_cycle,
            aggregation: self.aggregation,
            thd_max_order: self.thd_order,
            signalling_frequency: self.signalling_frequency,
            events,
            flicker: self.flicker,
            flicker_lamp: self.flicker_lamp.as_deref().map(lamp).transpose()?,
            ..AnalyzerOptions::default()
        };
        Ok((config, options))
    }
}

/// The nominal frequency from hertz (50 or 60), else `ValueError`.
pub fn nominal(hz: f64) -> PyResult<NominalFrequency> {
    NominalFrequency::from_hz(hz).map_err(value_error)
}

/// A flickermeter lamp from `"230V"`/`"230"` or `"120V"`/`"120"`.
pub fn lamp(text: &str) -> PyResult<Lamp> {
    match text.trim().trim_end_matches(['V', 'v']) {
        "230" => Ok(Lamp::V230),
        "120" => Ok(Lamp::V120),
        _ => Err(PyValueError::new_err(format!(
            "lamp must be '230V' or '120V', not '{text}'"
        ))),
    }
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

/// Apply `channel_map` (channel name → IEC role such as `U_A`, `U_AB`, `I_N`) to `specs`,
/// as `pqe analyze --map` does.
pub fn apply_map(specs: &mut [ChannelSpec], map: &HashMap<String, String>) -> PyResult<()> {
    for (name, role) in map {
        let Some(spec) = specs.iter_mut().find(|c| c.name.trim() == name.trim()) else {
            let names: Vec<&str> = specs.iter().map(|c| c.name.trim()).collect();
            return Err(PyValueError::new_err(format!(
                "channel_map names channel '{name}', but the recording has: {}",
                names.join(", ")
            )));
        };
        let role_error = || {
            PyValueError::new_err(format!(
                "channel_map: '{role}' is not a role (U_A … U_CA, I_A … I_N)"
            ))
        };
        let (kind, suffix) = if let Some(s) = role.strip_prefix("U_") {
            (ChannelKind::Voltage, s)
        } else if let Some(s) = role.strip_prefix("I_") {
            (ChannelKind::Current, s)
        } else {
            return Err(role_error());
        };
        spec.kind = kind;
        spec.phase = Some(Phase::parse_lenient(suffix).ok_or_else(role_error)?);
    }
    Ok(())
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
