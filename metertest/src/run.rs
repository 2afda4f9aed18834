//! The runner: a checked [`Plan`] on a [`Bench`], point by point, into [`RunResults`]
//! (`results.json`). A bench fault ends the run but keeps every point already measured; the
//! results then say `complete: false` and name the fault.
//!
//! Register and function tests read each meter through its link (a meter URI of the plan's
//! `[links]`, opened with the [`Registry`] the caller gives: the CLI's holds every protocol of
//! the build). A link that fails fails that meter's point, naming the link (secrets redacted);
//! it is not a bench fault.

use crate::accuracy::PowerSeries;
use crate::accuracy::{
    pulse_comparison_count, pulse_comparison_energy, seconds_per_pulse, time_power,
    ErrorMeasurement,
};
use crate::bench::Readings;
use crate::bench::{Bench, PointSetting};
use crate::limits::{
    accuracy_verdict, no_load_verdict, starting_verdict, Load, PowerFactor, Verdict,
};
use crate::plan::{Plan, PointKind, ReferenceMethod};
use crate::pulse::{PulseInputConfig, PulseShaper};
use crate::wiring::{check, WiringFinding, WiringMeasurement};
use crate::JOULES_PER_KWH;
use pqe_link::uri::redact_uri;
use pqe_link::{MeterUri, OpenRequest, Reading, Registry, Selector};
use serde::{Deserialize, Serialize};

/// Version of the results.json layout.
pub const RESULTS_SCHEMA: &str = "pqe-metertest-results/1";

/// One point's outcome for one meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointOutcome {
    /// 1-based index of the point in the plan.
    pub index: usize,
    /// The point's name.
    pub name: String,
    /// accuracy, starting, no-load, register or function.
    pub kind: String,
    /// The meter's error, percent (accuracy and register points).
    pub error: Option<f64>,
    /// The error's resolution, ± percent (accuracy points).
    pub resolution: Option<f64>,
    /// The limit, ± percent (accuracy points).
    pub limit: Option<f64>,
    /// Whether the limit (or rule) was read from a public text of the standard.
    pub limit_verified: bool,
    /// Where the limit or rule comes from.
    pub limit_source: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Meter pulses counted (accuracy: in the gate; starting, no-load: in the window).
    pub pulses: u64,
    /// Pulses required (starting: at least; no-load: at most).
    pub pulses_required: Option<u64>,
    /// Anything the tester should know (short pulses rejected, too few pulses, …).
    pub note: Option<String>,
    /// What the meter showed: the register's advance in kWh (register points), the value
    /// read (function points).
    #[serde(default)]
    pub value: Option<f64>,
    /// What it should have shown: the reference energy in kWh (register points), the
    /// expectation (function points).
    #[serde(default)]
    pub expected: Option<f64>,
    /// The largest difference accepted between `value` and `expected` (function points, in
    /// the value's unit).
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// One meter's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterResult {
    /// The serial number.
    pub serial: String,
    /// pass (every point passed and the run is complete), fail, or incomplete.
    pub verdict: String,
    /// The points measured, in plan order.
    pub points: Vec<PointOutcome>,
}

/// A point as it was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSet {
    /// 1-based index.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Line in the plan.
    pub line: usize,
    /// accuracy, starting or no-load.
    pub kind: String,
    /// Voltage, V.
    pub voltage: f64,
    /// Current per loaded element, A.
    pub current: f64,
    /// Power factor.
    pub pf: String,
    /// Loaded elements.
    pub loaded: Vec<u32>,
    /// Run time on the bench, s.
    pub duration: f64,
}

/// The wiring check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WiringResult {
    /// The bench's phasors.
    pub measurement: WiringMeasurement,
    /// What is wrong (empty: wiring right).
    pub findings: Vec<WiringFinding>,
}

/// Everything a run produced: `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    /// [`RESULTS_SCHEMA`].
    pub schema: String,
    /// The plan's name.
    pub plan: String,
    /// The bench URI.
    pub bench: String,
    /// How the reference energy was obtained.
    pub reference: String,
    /// The method of the accuracy points.
    pub method: ReferenceMethod,
    /// Start of the run, UTC, ISO 8601.
    pub started: String,
    /// Whether every point ran.
    pub complete: bool,
    /// The bench fault that ended the run early.
    pub fault: Option<String>,
    /// The meter type: standard, class, constant, currents.
    pub meter_type: serde_json::Value,
    /// The wiring check.
    pub wiring: Option<WiringResult>,
    /// The points as set (only those that ran).
    pub points: Vec<PointSet>,
    /// Per meter its serial, verdict and point outcomes.
    pub meters: Vec<MeterResult>,
}

fn setting_for(plan: &Plan, p: &crate::plan::Point) -> PointSetting {
    let m = &plan.meter;
    let all: Vec<u32> = (1..=m.elements).collect();
    let base = PointSetting {
        index: p.index,
        voltage_v: m.un,
        current_a: 0.0,
        pf: PowerFactor::UNITY,
        pf_text: "1".into(),
        loaded: all.clone(),
        duration_s: 0.0,
        reference_constant: None,
        frequency: m.frequency,
        meter_constant: m.constant,
    };
    match &p.kind {
        PointKind::Accuracy {
            current_a,
            pf,
            pf_text,
            load,
            element,
            pulses,
            ..
        } => {
            let loaded = match (load, element) {
                (Load::SinglePhase, Some(e)) => vec![*e],
                _ => all,
            };
            let mut s = PointSetting {
                current_a: *current_a,
                pf: *pf,
                pf_text: pf_text.clone(),
                loaded,
                ..base
            };
            let period = seconds_per_pulse(m.constant, s.power_w()).unwrap_or(f64::INFINITY);
            // N + 1 pulses for the gate, room for a meter up to 20 % slow, one period of phase.
            s.duration_s = (*pulses as f64 + 1.0) * period * 1.25 + period;
            s.reference_constant = if plan.method == ReferenceMethod::PulseCount {
                plan.reference_constant
            } else {
                None
            };
            s
        }
        PointKind::Starting { rule, window } => PointSetting {
            current_a: rule.current_a,
            duration_s: window.window_s,
            ..base
        },
        PointKind::NoLoad { rule } => PointSetting {
            voltage_v: m.un * rule.voltage_factor,
            duration_s: rule.duration_s,
            ..base
        },
        PointKind::Register {
            current_a,
            pf,
            pf_text,
            duration_s,
            ..
        } => PointSetting {
            current_a: *current_a,
            pf: *pf,
            pf_text: pf_text.clone(),
            duration_s: *duration_s,
            ..base
        },
        // A function test only reads the meter: the bench sets nothing.
        PointKind::Function { .. } => PointSetting {
            voltage_v: 0.0,
            loaded: Vec::new(),
            ..base
        },
    }
}

/// Read one number through the link `uri`: (value, unit). Errors name the link with its
/// secrets redacted.
fn read_number(links: &Registry, uri: &str, selector: &Selector) -> Result<(f64, String), String> {
    let shown = redact_uri(uri);
    let parsed: MeterUri = uri.parse().map_err(|e| format!("link {shown}: {e}"))?;
    let mut link = links
        .open(&OpenRequest {
            uri: &parsed,
            map: None,
            trace: None,
        })
        .map_err(|e| format!("link {shown}: {e}"))?;
    let values = link
        .read(std::slice::from_ref(selector))
        .map_err(|e| format!("link {shown}: reading {selector}: {e}"));
    let closed = link.close();
    let values = values?;
    closed.map_err(|e| format!("link {shown}: closing: {e}"))?;
    match values.first().map(|v| (&v.value, &v.unit)) {
        Some((Reading::Number(x), unit)) if x.is_finite() => Ok((*x, unit.clone())),
        Some((other, _)) => Err(format!(
            "link {shown}: {selector} is {other:?}, not a number"
        )),
        None => Err(format!("link {shown}: no value for {selector}")),
    }
}

fn unit_name(kwh_per_unit: f64) -> &'static str {
    if kwh_per_unit == 1.0 {
        "kWh"
    } else if kwh_per_unit == 1e-3 {
        "Wh"
    } else {
        "MWh"
    }
}

/// The register reading in kWh, refusing a unit the link reports that differs from the
/// plan's.
fn register_kwh(read: &Result<(f64, String), String>, kwh_per_unit: f64) -> Result<f64, String> {
    let (x, unit) = read.as_ref().map_err(Clone::clone)?;
    let planned = unit_name(kwh_per_unit);
    if !unit.is_empty() && unit != planned {
        return Err(format!(
            "the link reports the register in {unit}, the plan says {planned}"
        ));
    }
    Ok(x * kwh_per_unit)
}

fn kind_name(k: &PointKind) -> &'static str {
    match k {
        PointKind::Accuracy { .. } => "accuracy",
        PointKind::Starting { .. } => "starting",
        PointKind::NoLoad { .. } => "no-load",
        PointKind::Register { .. } => "register",
        PointKind::Function { .. } => "function",
    }
}

/// Run `plan` on `bench` without meter links (register and function points fail saying
/// so); see [`run_with_links`].
pub fn run(
    plan: &Plan,
    bench: &mut dyn Bench,
    started: &str,
    progress: impl FnMut(&PointSet, &[PointOutcome]),
) -> RunResults {
    run_with_links(plan, bench, &Registry::new(), started, progress)
}

/// Run `plan` on `bench`, reading meters through links opened with `links`; `started` is the
/// run's start time (ISO 8601). `progress` hears of every point as it finishes. Never fails:
/// a bench fault is recorded in the results.
pub fn run_with_links(
    plan: &Plan,
    bench: &mut dyn Bench,
    links: &Registry,
    started: &str,
    mut progress: impl FnMut(&PointSet, &[PointOutcome]),
) -> RunResults {
    let m = &plan.meter;
    let mut results = RunResults {
        schema: RESULTS_SCHEMA.into(),
        plan: plan.name.clone(),
        bench: bench.uri().to_string(),
        reference: bench.reference_note().to_string(),
        method: plan.method,
        started: started.to_string(),
        complete: false,
        fault: None,
        meter_type: serde_json::to_value(m).unwrap_or(serde_json::Value::Null),
        wiring: None,
        points: Vec::new(),
        meters: m
            .serials
            .iter()
            .map(|s| MeterResult {
                serial: s.clone(),
                verdict: "incomplete".into(),
                points: Vec::new(),
            })
            .collect(),
    };
    // Wiring check at the basic current, PF 1.
    let i_check = m
        .currents
        .ib
        .or(m.currents.i_n)
        .or(m.currents.itr)
        .unwrap_or(1.0);
    match bench.wiring(m.un, i_check, m.elements, m.frequency) {
        Ok(meas) => {
            let findings = check(&meas, 30.0);
            results.wiring = Some(WiringResult {
                measurement: meas,
                findings,
            });
        }
        Err(e) => {
            results.fault = Some(format!("wiring check: {e}"));
            return finish(results);
        }
    }
    let link_of = |serial: &str| -> Result<&str, String> {
        plan.links
            .get(serial)
            .map(String::as_str)
            .ok_or_else(|| format!("meter {serial:?} has no link in the plan's [links]"))
    };
    for p in &plan.points {
        let setting = setting_for(plan, p);
        // Register tests read every meter's register before the bench delivers the energy.
        let before: Vec<Result<(f64, String), String>> = match &p.kind {
            PointKind::Register { selector, .. } => m
                .serials
                .iter()
                .map(|s| link_of(s).and_then(|uri| read_number(links, uri, selector)))
                .collect(),
            _ => Vec::new(),
        };
        let bench_result = if matches!(p.kind, PointKind::Function { .. }) {
            Ok(Readings {
                meters: vec![Vec::new(); m.serials.len()],
                reference_pulses: None,
                reference_power: PowerSeries::new(),
            })
        } else {
            bench.run(&setting, &m.serials)
        };
        let readings = match bench_result {
            Ok(r) => r,
            Err(e) => {
                results.fault = Some(format!(
                    "point {} ({}, plan line {}): {e}",
                    p.index, p.name, p.line
                ));
                return finish(results);
            }
        };
        let set = PointSet {
            index: p.index,
            name: p.name.clone(),
            line: p.line,
            kind: kind_name(&p.kind).into(),
            voltage: setting.voltage_v,
            current: setting.current_a,
            pf: setting.pf_text.clone(),
            loaded: setting.loaded.clone(),
            duration: setting.duration_s,
        };
        let mut outcomes = Vec::new();
        for (mi, edges) in readings.meters.iter().enumerate() {
            let (pulses, note) = match PulseShaper::shape_all(PulseInputConfig::s0(), edges) {
                Ok((p, r)) => {
                    let note = (!r.is_empty()).then(|| {
                        format!(
                            "{} pulse(s) shorter than the S0 minimum of 30 ms rejected",
                            r.len()
                        )
                    });
                    (p, note)
                }
                Err(e) => (Vec::new(), Some(format!("pulse input: {e}"))),
            };
            let outcome = match &p.kind {
                PointKind::Accuracy {
                    pulses: n, limit, ..
                } => {
                    let measured: Result<ErrorMeasurement, crate::Error> = match plan.method {
                        ReferenceMethod::PulseCount => {
                            match (&readings.reference_pulses, plan.reference_constant) {
                                (Some(rp), Some(kr)) => {
                                    pulse_comparison_count(&pulses, 0, *n, m.constant, rp, kr)
                                }
                                _ => Err(crate::Error::Invalid(
                                    "the bench gave no reference pulses".into(),
                                )),
                            }
                        }
                        ReferenceMethod::Energy => pulse_comparison_energy(
                            &pulses,
                            0,
                            *n,
                            m.constant,
                            &readings.reference_power,
                            plan.timer_tick_s,
                        ),
                        ReferenceMethod::TimePower => time_power(
                            &pulses,
                            0,
                            *n,
                            m.constant,
                            setting.power_w(),
                            plan.timer_tick_s,
                        ),
                    };
                    let base = PointOutcome {
                        index: p.index,
                        name: p.name.clone(),
                        kind: "accuracy".into(),
                        error: None,
                        resolution: None,
                        limit: Some(limit.limit_percent),
                        limit_verified: limit.verified,
                        limit_source: limit.source.to_string(),
                        verdict: Verdict::Fail,
                        pulses: pulses.len() as u64,
                        pulses_required: Some(n + 1),
                        note: note.clone(),
                        value: None,
                        expected: None,
                        tolerance: None,
                    };
                    match measured {
                        Ok(e) => PointOutcome {
                            error: Some(e.error_percent),
                            resolution: Some(e.resolution_percent),
                            verdict: accuracy_verdict(e.error_percent, limit.limit_percent),
                            pulses: e.meter_pulses,
                            ..base
                        },
                        Err(e) => PointOutcome {
                            note: Some(format!("no error: {e}")),
                            ..base
                        },
                    }
                }
                PointKind::Starting { rule, window } => PointOutcome {
                    index: p.index,
                    name: p.name.clone(),
                    kind: "starting".into(),
                    error: None,
                    resolution: None,
                    limit: None,
                    limit_verified: rule.verified,
                    limit_source: rule.source.clone(),
                    verdict: starting_verdict(pulses.len() as u64, window),
                    pulses: pulses.len() as u64,
                    pulses_required: Some(window.min_pulses),
                    note: note.clone(),
                    value: None,
                    expected: None,
                    tolerance: None,
                },
                PointKind::NoLoad { rule } => PointOutcome {
                    index: p.index,
                    name: p.name.clone(),
                    kind: "no-load".into(),
                    error: None,
                    resolution: None,
                    limit: None,
                    limit_verified: rule.verified,
                    limit_source: rule.source.clone(),
                    verdict: no_load_verdict(pulses.len() as u64, rule),
                    pulses: pulses.len() as u64,
                    pulses_required: Some(rule.max_pulses),
                    note: note.clone(),
                    value: None,
                    expected: None,
                    tolerance: None,
                },
                PointKind::Register {
                    selector,
                    kwh_per_unit,
                    duration_s,
                    limit,
                    ..
                } => {
                    let serial = &m.serials[mi];
                    let base = PointOutcome {
                        index: p.index,
                        name: p.name.clone(),
                        kind: "register".into(),
                        error: None,
                        resolution: None,
                        limit: Some(limit.limit_percent),
                        limit_verified: limit.verified,
                        limit_source: limit.source.to_string(),
                        verdict: Verdict::Fail,
                        pulses: 0,
                        pulses_required: None,
                        note: None,
                        value: None,
                        expected: None,
                        tolerance: None,
                    };
                    let after = link_of(serial).and_then(|uri| read_number(links, uri, selector));
                    let reference = readings
                        .reference_power
                        .energy_j(0.0, *duration_s)
                        .map(|j| j / JOULES_PER_KWH)
                        .map_err(|e| format!("reference energy: {e}"));
                    let measured = (|| -> Result<(f64, f64), String> {
                        let e_ref = reference?;
                        if !(e_ref > 0.0) {
                            return Err(format!("the bench delivered no energy ({e_ref} kWh)"));
                        }
                        let advance = register_kwh(&after, *kwh_per_unit)?
                            - register_kwh(&before[mi], *kwh_per_unit)?;
                        Ok((advance, e_ref))
                    })();
                    match measured {
                        Ok((advance, e_ref)) => {
                            let error = (advance - e_ref) / e_ref * 100.0;
                            PointOutcome {
                                error: Some(error),
                                verdict: accuracy_verdict(error, limit.limit_percent),
                                value: Some(advance),
                                expected: Some(e_ref),
                                note: Some(format!(
                                    "register advanced {advance} kWh for {e_ref} kWh delivered; its resolution is the register's last digit"
                                )),
                                ..base
                            }
                        }
                        Err(e) => PointOutcome {
                            note: Some(format!("no error: {e}")),
                            ..base
                        },
                    }
                }
                PointKind::Function {
                    selector,
                    expect,
                    tolerance,
                } => {
                    let serial = &m.serials[mi];
                    let read = link_of(serial).and_then(|uri| read_number(links, uri, selector));
                    let (value, verdict, note) = match read {
                        Ok((x, unit)) => {
                            let ok = (x - expect).abs() <= *tolerance;
                            let v = if ok { Verdict::Pass } else { Verdict::Fail };
                            (
                                Some(x),
                                v,
                                Some(format!("{selector} = {x} {unit}").trim().to_string()),
                            )
                        }
                        Err(e) => (None, Verdict::Fail, Some(e)),
                    };
                    PointOutcome {
                        index: p.index,
                        name: p.name.clone(),
                        kind: "function".into(),
                        error: None,
                        resolution: None,
                        limit: None,
                        limit_verified: true,
                        limit_source: "the plan's expectation".into(),
                        verdict,
                        pulses: 0,
                        pulses_required: None,
                        note,
                        value,
                        expected: Some(*expect),
                        tolerance: Some(*tolerance),
                    }
                }
            };
            results.meters[mi].points.push(outcome.clone());
            outcomes.push(outcome);
        }
        progress(&set, &outcomes);
        results.points.push(set);
    }
    results.complete = true;
    finish(results)
}

fn finish(mut r: RunResults) -> RunResults {
    for m in &mut r.meters {
        m.verdict = if m.points.iter().any(|p| p.verdict == Verdict::Fail) {
            "fail".into()
        } else if r.complete {
            "pass".into()
        } else {
            "incomplete".into()
        };
    }
    r
}

/// Write `results.json` and `report.html` into `dir` (created if needed).
pub fn write_outputs(r: &RunResults, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("results.json"), json + "\n")?;
    std::fs::write(dir.join("report.html"), crate::report::render(r))?;
    Ok(())
}
