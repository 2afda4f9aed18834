//! The bench interface and the simulated bench `sim:`.
//!
//! A [`Bench`] sets a point's voltages and currents, runs it for a duration and returns the
//! pulse edges of every meter under test and the reference (the reference standard's pulses
//! and its power). Real benches plug in through the same trait.
//!
//! `sim:[METERS.toml][?seed=N&fault_after=N&reverse=I2&swap=I1:I2]` simulates the bench:
//! meters under test as described by [`SimMeter`] (an optional TOML file with `[[meter]]`
//! tables keyed by serial; serials not listed are ideal meters), `fault_after=N` makes the
//! bench fail when asked for point N + 1, `reverse`/`swap` miswire currents for the wiring
//! check. Its reference is analytic: the set power `P = Σ U·I·PF` of the loaded elements, as
//! pulses at the reference constant and as constant-power 10-cycle intervals (it does not
//! synthesise and measure waveforms for the energy; the wiring check does measure phasors from
//! sampled waveforms).

use crate::accuracy::PowerSeries;
use crate::limits::PowerFactor;
use crate::pulse::Edge;
use crate::sim::{reference_pulses, SimMeter};
use crate::wiring::{phasor_of, WiringMeasurement};
use rand::{rngs::StdRng, SeedableRng};
use serde::Deserialize;
use std::path::Path;

/// A bench failure: what, at which point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bench {bench}: {message}")]
pub struct BenchError {
    /// The bench URI.
    pub bench: String,
    /// What happened.
    pub message: String,
}

/// What the bench must set for one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSetting {
    /// 1-based index of the point in the plan.
    pub index: usize,
    /// Phase-to-neutral voltage on every element, V.
    pub voltage_v: f64,
    /// Current in each loaded element, A (0: current circuits open).
    pub current_a: f64,
    /// Power factor.
    pub pf: PowerFactor,
    /// The PF as the plan writes it (for the simulated meters' error curves).
    pub pf_text: String,
    /// Elements carrying current (1-based).
    pub loaded: Vec<u32>,
    /// How long to run, seconds.
    pub duration_s: f64,
    /// The reference standard's pulse constant to use, imp/kWh, if pulses are wanted.
    pub reference_constant: Option<f64>,
    /// Nominal frequency, Hz.
    pub frequency: f64,
    /// The meters' nameplate constant, imp/kWh.
    pub meter_constant: f64,
}

impl PointSetting {
    /// Total active power set, W.
    pub fn power_w(&self) -> f64 {
        self.loaded.len() as f64 * self.voltage_v * self.current_a * self.pf.value
    }
}

/// What the bench measured over one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Readings {
    /// Pulse edges of each meter, in the order of the serials asked for.
    pub meters: Vec<Vec<Edge>>,
    /// The reference standard's pulse times, if asked for.
    pub reference_pulses: Option<Vec<f64>>,
    /// The reference power over the run.
    pub reference_power: PowerSeries,
}

/// A meter-test bench.
pub trait Bench {
    /// Its URI, for reports.
    fn uri(&self) -> &str;
    /// How its reference energy is obtained (for reports).
    fn reference_note(&self) -> &str;
    /// Measure the wiring at `voltage_v`, `current_a` and PF 1 on `elements` elements.
    fn wiring(
        &mut self,
        voltage_v: f64,
        current_a: f64,
        elements: u32,
        frequency: f64,
    ) -> Result<WiringMeasurement, BenchError>;
    /// Run one point for the meters `serials`.
    fn run(&mut self, setting: &PointSetting, serials: &[String]) -> Result<Readings, BenchError>;
    /// Refuse a plan whose serials do not fit the bench (before anything runs).
    fn check_serials(&self, serials: &[String]) -> Result<(), BenchError> {
        let _ = serials;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimFile {
    #[serde(default)]
    meter: Vec<SimMeter>,
}

/// The simulated bench.
#[derive(Debug, Clone)]
pub struct SimBench {
    uri: String,
    meters: Vec<SimMeter>,
    seed: u64,
    fault_after: Option<usize>,
    reversed: Vec<usize>,
    swap: Option<(usize, usize)>,
}

fn current_index(s: &str) -> Option<usize> {
    match s.trim().to_ascii_uppercase().as_str() {
        "I1" => Some(0),
        "I2" => Some(1),
        "I3" => Some(2),
        _ => None,
    }
}

impl SimBench {
    /// Open `sim:[FILE][?QUERY]`; a relative FILE is taken from `base` (the plan's folder).
    pub fn open(uri: &str, base: &Path) -> Result<SimBench, BenchError> {
        let err = |m: String| BenchError {
            bench: uri.to_string(),
            message: m,
        };
        let rest = uri
            .strip_prefix("sim:")
            .ok_or_else(|| err("not a sim: URI".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let meters = if path.is_empty() {
            Vec::new()
        } else {
            let p = Path::new(path);
            let p = if p.is_relative() {
                base.join(p)
            } else {
                p.to_path_buf()
            };
            let text = std::fs::read_to_string(&p)
                .map_err(|e| err(format!("cannot read {}: {e}", p.display())))?;
            let f: SimFile = toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                    .unwrap_or(0);
                err(format!("{}:{line}: {}", p.display(), e.message().trim()))
            })?;
            f.meter
        };
        let mut b = SimBench {
            uri: uri.to_string(),
            meters,
            seed: 1,
            fault_after: None,
            reversed: Vec::new(),
            swap: None,
        };
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| err(format!("option {kv:?}: KEY=VALUE expected")))?;
            match k {
                "seed" => {
                    b.seed = v
                        .parse()
                        .map_err(|_| err(format!("seed={v}: an integer expected")))?
                }
                "fault_after" => {
                    b.fault_after = Some(
                        v.parse()
                            .map_err(|_| err(format!("fault_after={v}: a point count expected")))?,
                    )
                }
                "reverse" => {
                    for c in v.split(',') {
                        b.reversed.push(
                            current_index(c).ok_or_else(|| {
                                err(format!("reverse={v}: I1, I2 or I3 expected"))
                            })?,
                        );
                    }
                }
                "swap" => {
                    let (a, c) = v
                        .split_once(':')
                        .and_then(|(a, c)| Some((current_index(a)?, current_index(c)?)))
                        .ok_or_else(|| {
                            err(format!("swap={v}: two currents like I1:I2 expected"))
                        })?;
                    b.swap = Some((a, c));
                }
                other => {
                    return Err(err(format!(
                        "unknown option {other:?} (seed, fault_after, reverse, swap)"
                    )))
                }
            }
        }
        Ok(b)
    }

    fn meter(&self, serial: &str) -> SimMeter {
        self.meters
            .iter()
            .find(|m| m.serial == serial)
            .cloned()
            .unwrap_or_else(|| SimMeter::ideal(serial))
    }
}

impl Bench for SimBench {
    fn check_serials(&self, serials: &[String]) -> Result<(), BenchError> {
        for m in &self.meters {
            if !serials.contains(&m.serial) {
                return Err(BenchError {
                    bench: self.uri.clone(),
                    message: format!(
                        "simulated meter {:?} is not among the plan's serials",
                        m.serial
                    ),
                });
            }
        }
        Ok(())
    }

    fn uri(&self) -> &str {
        &self.uri
    }

    fn reference_note(&self) -> &str {
        "simulated bench: analytic reference (P = Σ U·I·PF of the set point; pulses at the reference constant, random phase)"
    }

    fn wiring(
        &mut self,
        voltage_v: f64,
        current_a: f64,
        elements: u32,
        frequency: f64,
    ) -> Result<WiringMeasurement, BenchError> {
        // Sample ten cycles of each channel and measure its fundamental phasor.
        let fs = 200.0 * frequency;
        let n = 2000;
        let wave = |rms: f64, deg: f64| -> Vec<f64> {
            (0..n)
                .map(|i| {
                    rms * 2f64.sqrt()
                        * (2.0 * std::f64::consts::PI * frequency * i as f64 / fs
                            + deg.to_radians())
                        .cos()
                })
                .collect()
        };
        let angles = [0.0, -120.0, 120.0];
        let m = elements as usize;
        let mut current_angles: Vec<f64> = angles[..m].to_vec();
        if let Some((a, b)) = self.swap {
            if a < m && b < m {
                current_angles.swap(a, b);
            }
        }
        for &r in &self.reversed {
            if r < m {
                current_angles[r] += 180.0;
            }
        }
        Ok(WiringMeasurement {
            voltages: angles[..m]
                .iter()
                .map(|&a| phasor_of(&wave(voltage_v, a), fs, frequency))
                .collect(),
            currents: current_angles
                .iter()
                .map(|&a| phasor_of(&wave(current_a, a), fs, frequency))
                .collect(),
            pf_set: 1.0,
        })
    }

    fn run(&mut self, s: &PointSetting, serials: &[String]) -> Result<Readings, BenchError> {
        if let Some(n) = self.fault_after {
            if s.index > n {
                return Err(BenchError {
                    bench: self.uri.clone(),
                    message: format!(
                        "simulated fault: the current source tripped at point {} (fault_after={n})",
                        s.index
                    ),
                });
            }
        }
        let mut rng =
            StdRng::seed_from_u64(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ s.index as u64);
        let power = s.power_w();
        let mut meters = Vec::with_capacity(serials.len());
        for serial in serials {
            let m = self.meter(serial);
            // The nameplate constant unless the sim file gives the meter a (wrong) one of its own.
            let (edges, _) = m
                .edges(
                    power,
                    s.current_a,
                    &s.pf_text,
                    s.meter_constant,
                    s.duration_s,
                    &mut rng,
                )
                .map_err(|e| BenchError {
                    bench: self.uri.clone(),
                    message: e.to_string(),
                })?;
            meters.push(edges);
        }
        let reference_pulses = match s.reference_constant {
            Some(k) if power > 0.0 => Some(reference_pulses(k, power, s.duration_s, &mut rng)),
            Some(_) => Some(Vec::new()),
            None => None,
        };
        let mut reference_power = PowerSeries::new();
        let step = 10.0 / s.frequency;
        let mut t = 0.0;
        let mut i = 0u64;
        while t < s.duration_s {
            let t1 = (i + 1) as f64 * step;
            reference_power.push(t, t1, power).map_err(|e| BenchError {
                bench: self.uri.clone(),
                message: e.to_string(),
            })?;
            t = t1;
            i += 1;
        }
        Ok(Readings {
            meters,
            reference_pulses,
            reference_power,
        })
    }
}

/// Open the bench named by `uri`; `base` resolves relative paths in it (the plan's folder).
/// This build has the simulated bench `sim:` only.
pub fn open_bench(uri: &str, base: &Path) -> Result<Box<dyn Bench>, BenchError> {
    if uri.starts_with("sim:") {
        return Ok(Box::new(SimBench::open(uri, base)?));
    }
    let scheme = uri.split(':').next().unwrap_or(uri);
    Err(BenchError {
        bench: uri.to_string(),
        message: format!(
            "no bench driver for the scheme {scheme:?} in this build (the simulated bench is sim:)"
        ),
    })
}
