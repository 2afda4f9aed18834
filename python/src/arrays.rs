//! Single-purpose functions on sample arrays: 10/12-cycle RMS, harmonic subgroups, powers
//! and flicker severity. Each runs the same engine code as the full analysis (the
//! [`Analyzer`] with only the needed stages, or the [`Flickermeter`]), so its values equal
//! the corresponding columns of `analyze`.

use crate::convert::{engine_error, lamp, nominal, samples};
use crate::for_each_planar_block;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pqe_core::record::{IntervalRecord, Record};
use pqe_core::{ChannelKind, ChannelSpec, Phase, SystemConfig, Timestamp, Wiring};
use pqe_standards::events::EventOptions;
use pqe_standards::iec61000_4_15::{FlickerOptions, Flickermeter};
use pqe_standards::{Analyzer, AnalyzerOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Interval RMS of one channel: `(t, rms)`, `t` the start of each 10/12-cycle interval in
/// seconds from the first sample.
#[pyfunction]
#[pyo3(signature = (x, sample_rate, nominal_frequency=50.0))]
pub fn rms<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    sample_rate: f64,
    nominal_frequency: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let x = samples(&x, "x")?;
    let intervals = py.allow_threads(|| one_channel(x, sample_rate, nominal_frequency, false))?;
    let t: Vec<f64> = intervals.iter().map(|r| r.t).collect();
    let v: Vec<f64> = intervals.iter().map(|r| r.channels[0].rms).collect();
    Ok((t.into_pyarray(py), v.into_pyarray(py))
        .into_pyobject(py)?
        .into_any())
}

/// Harmonic content of one channel per interval: `(t, subgroups, interharmonics)`, the
/// subgroups H0…H63 and the centred interharmonic subgroups IH0…IH63 as
/// `(intervals, 64)` arrays in the channel's unit (IEC 61000-4-7).
#[pyfunction]
#[pyo3(signature = (x, sample_rate, nominal_frequency=50.0))]
pub fn harmonics<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    sample_rate: f64,
    nominal_frequency: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let x = samples(&x, "x")?;
    let intervals = py.allow_threads(|| one_channel(x, sample_rate, nominal_frequency, true))?;
    let t: Vec<f64> = intervals.iter().map(|r| r.t).collect();
    let matrix = |pick: &dyn Fn(&pqe_core::record::HarmonicValues) -> &Vec<f64>| {
        let mut flat = Vec::with_capacity(intervals.len() * 64);
        for r in &intervals {
            let row = r.channels[0].harmonics.as_ref().map(pick);
            for n in 0..64 {
                flat.push(row.and_then(|v| v.get(n)).copied().unwrap_or(f64::NAN));
            }
        }
        Array2::from_shape_vec((intervals.len(), 64), flat)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    };
    let h = matrix(&|h| &h.subgroups)?;
    let ih = matrix(&|h| &h.interharmonic_subgroups)?;
    Ok(
        (t.into_pyarray(py), h.into_pyarray(py), ih.into_pyarray(py))
            .into_pyobject(py)?
            .into_any(),
    )
}

/// Powers (IEEE 1459) of one voltage and one current, single-phase wiring, per interval:
/// `(names, array)` with `t` and the interval's power quantities (`P_…`, `Q1_…`, `S_…`,
/// `PF_…`, `DPF_…`), the array `(columns, intervals)`.
#[pyfunction]
#[pyo3(signature = (u, i, sample_rate, nominal_frequency=50.0, nominal_voltage=230.0))]
pub fn power<'py>(
    py: Python<'py>,
    u: PyReadonlyArray1<'py, f64>,
    i: PyReadonlyArray1<'py, f64>,
    sample_rate: f64,
    nominal_frequency: f64,
    nominal_voltage: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (u, i) = (samples(&u, "u")?, samples(&i, "i")?);
    if u.len() != i.len() {
        return Err(PyValueError::new_err(format!(
            "u has {} samples but i has {}; both must have the same length",
            u.len(),
            i.len()
        )));
    }
    let f0 = nominal(nominal_frequency)?;
    let channels = [
        ChannelSpec::new("u", "V").with_phase(Phase::A),
        ChannelSpec::new("i", "A").with_phase(Phase::A),
    ];
    let config = SystemConfig {
        nominal_frequency: f0,
        udin: nominal_voltage,
        wiring: Wiring::Single,
        load_current: None,
    };
    let mut planar = Vec::with_capacity(2 * u.len());
    planar.extend_from_slice(u);
    planar.extend_from_slice(i);
    let intervals =
        py.allow_threads(|| run_intervals(&channels, &planar, sample_rate, config, true))?;
    let mut names = vec!["t".to_string()];
    if let Some(first) = intervals.first() {
        names.extend(
            first
                .quantities
                .iter()
                .map(|(key, _)| key.column())
                .filter(|n| is_power(n)),
        );
    }
    let mut flat = Vec::with_capacity(names.len() * intervals.len());
    flat.extend(intervals.iter().map(|r| r.t));
    for name in &names[1..] {
        flat.extend(
            intervals
                .iter()
                .map(|r| r.quantity(name).unwrap_or(f64::NAN)),
        );
    }
    let array = Array2::from_shape_vec((names.len(), intervals.len()), flat)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((names, array.into_pyarray(py))
        .into_pyobject(py)?
        .into_any())
}

/// Short-term flicker severity of one voltage (IEC 61000-4-15): `(t, pst, flagged)` per
/// 10-min period counted from the first sample (the last period may be partial: flagged,
/// its value covers what was observed).
#[pyfunction]
#[pyo3(signature = (u, sample_rate, nominal_frequency=50.0, lamp_name=None, udin=230.0))]
pub fn flicker<'py>(
    py: Python<'py>,
    u: PyReadonlyArray1<'py, f64>,
    sample_rate: f64,
    nominal_frequency: f64,
    lamp_name: Option<&str>,
    udin: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let u = samples(&u, "u")?;
    let f0 = nominal(nominal_frequency)?;
    let mut options = FlickerOptions::for_udin(udin);
    options.lamp = lamp_name.map(lamp).transpose()?;
    options.column = "U".into();
    let records = py.allow_threads(|| -> PyResult<Vec<pqe_core::record::FlickerRecord>> {
        let mut meter =
            Flickermeter::new(sample_rate, f0, Timestamp::EPOCH, Timestamp::EPOCH, options)
                .map_err(engine_error)?;
        let mut out = Vec::new();
        for part in u.chunks(crate::BLOCK_SAMPLES) {
            meter.push(part);
            while let Some(r) = meter.next_record() {
                out.push(r);
            }
        }
        meter.finish();
        while let Some(r) = meter.next_record() {
            out.push(r);
        }
        Ok(out)
    })?;
    let pst: Vec<_> = records
        .iter()
        .filter(|r| r.severity == pqe_core::record::FlickerSeverity::Pst)
        .collect();
    let t: Vec<f64> = pst.iter().map(|r| r.t).collect();
    let v: Vec<f64> = pst.iter().map(|r| r.value).collect();
    let flagged: Vec<bool> = pst.iter().map(|r| r.flagged).collect();
    Ok((t.into_pyarray(py), v.into_pyarray(py), flagged)
        .into_pyobject(py)?
        .into_any())
}

/// The interval records of one channel analysed on its own (as a current, so any signal
/// that is not exactly zero is tracked), with or without harmonics.
fn one_channel(
    x: &[f64],
    sample_rate: f64,
    nominal_frequency: f64,
    harmonics: bool,
) -> PyResult<Vec<IntervalRecord>> {
    let config = SystemConfig {
        nominal_frequency: nominal(nominal_frequency)?,
        wiring: Wiring::Single,
        ..SystemConfig::default()
    };
    let channel = ChannelSpec::new("x", "A")
        .with_kind(ChannelKind::Current)
        .with_phase(Phase::A);
    run_intervals(&[channel], x, sample_rate, config, harmonics)
}

/// Run the analyzer with intervals only (no events, flicker, aggregates or 10-s frequency)
/// over planar samples and collect its interval records.
fn run_intervals(
    channels: &[ChannelSpec],
    planar: &[f64],
    sample_rate: f64,
    config: SystemConfig,
    harmonics: bool,
) -> PyResult<Vec<IntervalRecord>> {
    let options = AnalyzerOptions {
        harmonics,
        half_cycle: false,
        frequency: false,
        events: EventOptions {
            enabled: false,
            ..EventOptions::default()
        },
        aggregation: false,
        flicker: false,
        ..AnalyzerOptions::default()
    };
    let mut analyzer = Analyzer::new(channels, sample_rate, Timestamp::EPOCH, config, options)
        .map_err(engine_error)?;
    let n = planar.len() / channels.len();
    let mut out = Vec::new();
    let mut take = |a: &mut Analyzer| {
        for r in a.drain() {
            if let Record::Interval(r) = r {
                out.push(r);
            }
        }
    };
    for_each_planar_block(
        planar,
        channels.len(),
        n,
        sample_rate,
        Timestamp::EPOCH,
        |b| {
            analyzer.push(&b)?;
            take(&mut analyzer);
            Ok(())
        },
    )
    .map_err(engine_error)?;
    analyzer.finish();
    take(&mut analyzer);
    Ok(out)
}

/// Whether an interval quantity is a power: per phase `P_A`, `Q1_A`, `S_A`, `PF_A`, `DPF_A`;
/// totals `P`, `Q`, `S`, `PF`.
fn is_power(name: &str) -> bool {
    let stem = name.split('_').next().unwrap_or(name);
    matches!(stem, "P" | "Q1" | "Q" | "S" | "PF" | "DPF")
}
