//! The JSON sidecar `<file>.csv.json`: what a CSV header cannot hold.
//!
//! The schema mirrors the attributes of the HDF5 layout so a Python user handles both the
//! same way. Every field but the channel names may be left out by a hand-written sidecar;
//! the defaults are those of an inferred CSV (kind from the unit, no phase, ratio 1:1).

use pqe_core::{
    ChannelKind, ChannelSpec, DigitalChannelSpec, Error, LinearScaling, Location, Phase,
    RecordingInfo, Result, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The value of the sidecar's `pqe_format` field.
pub const SIDECAR_FORMAT: &str = "pqe-csv-sidecar/1";

/// The sidecar of a CSV file: the same path with `.json` appended (`rec.csv` →
/// `rec.csv.json`).
pub fn sidecar_path(csv: &Path) -> PathBuf {
    let mut name = csv.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// Write the sidecar of `csv` describing `info` (with `total_samples` when known).
pub(crate) fn write(csv: &Path, info: &RecordingInfo, total_samples: Option<u64>) -> Result<()> {
    let path = sidecar_path(csv);
    let doc = Sidecar::from_info(info, total_samples);
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| {
        Error::io(
            &path,
            std::io::Error::other(format!("cannot encode sidecar: {e}")),
        )
    })?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// Read the sidecar of `csv`, `Ok(None)` when there is none.
pub(crate) fn read(csv: &Path) -> Result<Option<RecordingInfo>> {
    let path = sidecar_path(csv);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let doc: Sidecar = serde_json::from_str(&text).map_err(|e| {
        let line = u64::try_from(e.line()).unwrap_or(0);
        Error::format(
            Location::file(&path).at_line(line.max(1)),
            format!("not a valid PQE CSV sidecar: {e}"),
        )
    })?;
    doc.into_info(&path).map(Some)
}

/// The sidecar document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
struct Sidecar {
    pqe_format: String,
    station: String,
    device: String,
    sample_rate: f64,
    /// ISO 8601 with nanoseconds, for people; `start_ns` wins when both are given.
    start: Option<String>,
    start_ns: Option<i64>,
    trigger_ns: Option<i64>,
    line_frequency: f64,
    time_code: Option<String>,
    /// `[rate, last sample number (1-based)]` pairs, as COMTRADE lists them.
    rate_segments: Vec<(f64, u64)>,
    /// Informative only: the reader counts the rows itself.
    total_samples: Option<u64>,
    channels: Vec<AnalogJson>,
    digital_channels: Vec<DigitalJson>,
}

impl Default for Sidecar {
    fn default() -> Self {
        Sidecar {
            pqe_format: SIDECAR_FORMAT.to_string(),
            station: String::new(),
            device: String::new(),
            sample_rate: 0.0,
            start: None,
            start_ns: None,
            trigger_ns: None,
            line_frequency: 0.0,
            time_code: None,
            rate_segments: Vec::new(),
            total_samples: None,
            channels: Vec::new(),
            digital_channels: Vec::new(),
        }
    }
}

/// One analog channel in the sidecar.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
struct AnalogJson {
    name: String,
    /// `voltage`, `current` or `other`; guessed from the unit when absent.
    kind: Option<String>,
    /// `A`, `B`, `C`, `N`, `AB`, `BC`, `CA` (or `L1`, `L1-L2`, …); empty for none.
    phase: String,
    unit: String,
    circuit: String,
    ratio_primary: f64,
    ratio_secondary: f64,
    primary: bool,
    skew_us: f64,
    /// `[a, b]`: how an integer source encoded the channel (`value = a·x + b`).
    scaling: Option<(f64, f64)>,
    /// `[min, max]` of the source's integers.
    raw_range: Option<(f64, f64)>,
}

impl Default for AnalogJson {
    fn default() -> Self {
        AnalogJson {
            name: String::new(),
            kind: None,
            phase: String::new(),
            unit: String::new(),
            circuit: String::new(),
            ratio_primary: 1.0,
            ratio_secondary: 1.0,
            primary: true,
            skew_us: 0.0,
            scaling: None,
            raw_range: None,
        }
    }
}

/// One digital channel in the sidecar.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct DigitalJson {
    name: String,
    phase: String,
    circuit: String,
    normal_state: u8,
}

impl Sidecar {
    fn from_info(info: &RecordingInfo, total_samples: Option<u64>) -> Self {
        Sidecar {
            pqe_format: SIDECAR_FORMAT.to_string(),
            station: info.station.clone(),
            device: info.device.clone(),
            sample_rate: info.sample_rate,
            start: Some(info.start.to_string()),
            start_ns: Some(info.start.as_nanos()),
            trigger_ns: info.trigger.map(Timestamp::as_nanos),
            line_frequency: info.line_frequency,
            time_code: info.time_code.clone(),
            rate_segments: info.rate_segments.clone(),
            total_samples,
            channels: info
                .channels
                .iter()
                .map(|c| AnalogJson {
                    name: c.name.clone(),
                    kind: Some(c.kind.to_string()),
                    phase: c.phase.map(|p| p.as_str().to_string()).unwrap_or_default(),
                    unit: c.unit.clone(),
                    circuit: c.circuit.clone(),
                    ratio_primary: c.ratio_primary,
                    ratio_secondary: c.ratio_secondary,
                    primary: c.primary,
                    skew_us: c.skew_us,
                    scaling: c.scaling.map(|s| (s.a, s.b)),
                    raw_range: c.raw_range,
                })
                .collect(),
            digital_channels: info
                .digital_channels
                .iter()
                .map(|d| DigitalJson {
                    name: d.name.clone(),
                    phase: d.phase.clone(),
                    circuit: d.circuit.clone(),
                    normal_state: d.normal_state,
                })
                .collect(),
        }
    }

    fn into_info(self, path: &Path) -> Result<RecordingInfo> {
        let loc = Location::file(path);
        if !self.pqe_format.starts_with("pqe-csv-sidecar/") {
            return Err(Error::format(
                loc.field("pqe_format"),
                format!("'{}' is not {SIDECAR_FORMAT}", self.pqe_format),
            ));
        }
        if self.pqe_format != SIDECAR_FORMAT {
            return Err(Error::Unsupported(format!(
                "{}: sidecar version '{}' (this PQE reads {SIDECAR_FORMAT})",
                path.display(),
                self.pqe_format
            )));
        }
        if !(self.sample_rate.is_finite() && self.sample_rate >= 0.0) {
            return Err(Error::format(
                loc.field("sample_rate"),
                format!("{} is not a sample rate (≥ 0 Hz)", self.sample_rate),
            ));
        }
        let start = match (self.start_ns, &self.start) {
            (Some(ns), _) => Timestamp(ns),
            (None, Some(text)) => parse_iso(text).ok_or_else(|| {
                Error::format(
                    loc.field("start"),
                    format!("'{text}' is not an ISO 8601 date and time"),
                )
            })?,
            (None, None) => Timestamp::EPOCH,
        };
        let mut channels = Vec::with_capacity(self.channels.len());
        for (i, c) in self.channels.into_iter().enumerate() {
            let field = |what: &str| loc.field(format!("channels[{i}].{what}"));
            if c.name.is_empty() {
                return Err(Error::format(field("name"), "channel without a name"));
            }
            let kind = match &c.kind {
                Some(k) => k
                    .parse::<ChannelKind>()
                    .map_err(|m| Error::format(field("kind"), m))?,
                None => ChannelKind::from_unit(&c.unit),
            };
            let phase = match c.phase.trim() {
                "" => None,
                p => Some(Phase::parse_lenient(p).ok_or_else(|| {
                    Error::format(field("phase"), format!("unknown phase '{p}'"))
                })?),
            };
            channels.push(ChannelSpec {
                name: c.name,
                kind,
                phase,
                unit: c.unit,
                circuit: c.circuit,
                ratio_primary: c.ratio_primary,
                ratio_secondary: c.ratio_secondary,
                primary: c.primary,
                skew_us: c.skew_us,
                scaling: c.scaling.map(|(a, b)| LinearScaling { a, b }),
                raw_range: c.raw_range,
            });
        }
        let mut digital_channels = Vec::with_capacity(self.digital_channels.len());
        for (i, d) in self.digital_channels.into_iter().enumerate() {
            if d.name.is_empty() {
                return Err(Error::format(
                    loc.field(format!("digital_channels[{i}].name")),
                    "channel without a name",
                ));
            }
            digital_channels.push(DigitalChannelSpec {
                name: d.name,
                phase: d.phase,
                circuit: d.circuit,
                normal_state: d.normal_state,
            });
        }
        Ok(RecordingInfo {
            station: self.station,
            device: self.device,
            channels,
            digital_channels,
            sample_rate: self.sample_rate,
            rate_segments: self.rate_segments,
            start,
            trigger: self.trigger_ns.map(Timestamp),
            line_frequency: self.line_frequency,
            total_samples: None,
            time_code: self.time_code,
        })
    }
}

/// An ISO 8601 date and time without offset (`2024-05-01T12:00:00.000000125`, a space for
/// the `T` accepted).
pub(crate) fn parse_iso(text: &str) -> Option<Timestamp> {
    Timestamp::parse_iso8601(text).map(|(t, _)| t)
}
