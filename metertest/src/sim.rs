//! Simulated meters under test.
//!
//! A [`SimMeter`] registers `P·(1 + e/100)` where `e` is its programmed error at the test
//! point (interpolated linearly in current along its error curve), emits one pulse per `1/k`
//! kWh registered, registers nothing below its own starting current, creeps (one pulse every
//! `creep_period_s`) when no current flows, and jitters its pulse edges. The phase of its first
//! pulse (the energy left in its pulse accumulator) is drawn at random per point.

use crate::pulse::Edge;
use crate::{Error, Result, JOULES_PER_KWH};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// One point of a simulated meter's error curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    /// Current, amperes.
    pub current: f64,
    /// Power factor the point applies to ("1", "0.5L", "0.8C"); absent: every PF.
    #[serde(default)]
    pub pf: Option<String>,
    /// The meter's error there, percent.
    pub error: f64,
}

/// A simulated meter under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimMeter {
    /// Its serial number (matches a serial of the plan's `[meter]`).
    pub serial: String,
    /// Its true constant, imp/kWh (absent: the nameplate constant of the plan).
    #[serde(default)]
    pub constant: Option<f64>,
    /// Its error curve (absent: an ideal meter).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
    /// Below this current it registers nothing, amperes (absent: it starts at any current).
    #[serde(default)]
    pub start_current: Option<f64>,
    /// With no current it gives one pulse every this many seconds (absent: no creep).
    #[serde(default)]
    pub creep_period_s: Option<f64>,
    /// Each pulse edge moves by a uniform random amount within ± this, seconds.
    #[serde(default)]
    pub jitter_s: f64,
    /// Width of its pulses, seconds (an S0 output: ≥ 30 ms).
    #[serde(default = "default_width")]
    pub pulse_width_s: f64,
}

fn default_width() -> f64 {
    0.040
}

impl SimMeter {
    /// An ideal meter with serial `serial`.
    pub fn ideal(serial: &str) -> Self {
        SimMeter {
            serial: serial.into(),
            constant: None,
            curve: Vec::new(),
            start_current: None,
            creep_period_s: None,
            jitter_s: 0.0,
            pulse_width_s: default_width(),
        }
    }

    /// The programmed error at `current_a` and power factor `pf` (as written in the plan),
    /// percent: linear interpolation along the points for that PF (or for every PF),
    /// constant beyond the ends.
    pub fn error_at(&self, current_a: f64, pf: &str) -> f64 {
        let norm = |s: &str| s.trim().to_ascii_lowercase().replace(' ', "");
        let want = norm(pf);
        let mut pts: Vec<(f64, f64)> = self
            .curve
            .iter()
            .filter(|p| p.pf.as_deref().is_some_and(|q| norm(q) == want))
            .map(|p| (p.current, p.error))
            .collect();
        if pts.is_empty() {
            pts = self
                .curve
                .iter()
                .filter(|p| p.pf.is_none())
                .map(|p| (p.current, p.error))
                .collect();
        }
        if pts.is_empty() {
            return 0.0;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if current_a <= pts[0].0 {
            return pts[0].1;
        }
        for w in pts.windows(2) {
            let ((i0, e0), (i1, e1)) = (w[0], w[1]);
            if current_a <= i1 {
                return if i1 > i0 {
                    e0 + (e1 - e0) * (current_a - i0) / (i1 - i0)
                } else {
                    e1
                };
            }
        }
        pts[pts.len() - 1].1
    }

    /// The meter's pulse edges over `0 … duration_s` at total active power `power_w` (all
    /// elements), phase current `current_a` and power factor `pf`; `nameplate_k` is used when
    /// the meter has no constant of its own. Returns the edges and the programmed error.
    pub fn edges(
        &self,
        power_w: f64,
        current_a: f64,
        pf: &str,
        nameplate_k: f64,
        duration_s: f64,
        rng: &mut impl Rng,
    ) -> Result<(Vec<Edge>, f64)> {
        let k = self.constant.unwrap_or(nameplate_k);
        if !(k > 0.0) || !(duration_s >= 0.0) {
            return Err(Error::Invalid(format!(
                "simulated meter {}: constant {k} and duration {duration_s} s must be positive",
                self.serial
            )));
        }
        let error = self.error_at(current_a, pf);
        let starts = self.start_current.is_none_or(|s| current_a >= s);
        let period = if current_a > 0.0 && power_w > 0.0 && starts {
            Some(JOULES_PER_KWH / (k * power_w * (1.0 + error / 100.0)))
        } else if current_a == 0.0 {
            self.creep_period_s
        } else {
            None
        };
        let mut edges = Vec::new();
        if let Some(period) = period {
            // Creep pulses come one period after the start; load pulses at a random phase.
            let phase = if current_a == 0.0 {
                period
            } else {
                rng.gen::<f64>() * period
            };
            let mut j = 0u64;
            loop {
                let nominal = phase + j as f64 * period;
                if nominal > duration_s {
                    break;
                }
                let mut jit = || {
                    if self.jitter_s > 0.0 {
                        rng.gen_range(-self.jitter_s..=self.jitter_s)
                    } else {
                        0.0
                    }
                };
                let rise = nominal + jit();
                let fall = nominal + self.pulse_width_s + jit();
                edges.push(Edge::rising(rise));
                edges.push(Edge::falling(fall.max(rise)));
                j += 1;
            }
            // Jitter may reorder edges of pulses closer than the jitter: keep time order.
            edges.sort_by(|a, b| a.time.total_cmp(&b.time));
        }
        Ok((edges, error))
    }
}

/// A reference standard's pulse output: constant `k_ref` imp/kWh at power `power_w`, first
/// pulse at a random phase, over `0 … duration_s`; pulse times only (its HF output is counted
/// directly, not shaped).
pub fn reference_pulses(k_ref: f64, power_w: f64, duration_s: f64, rng: &mut impl Rng) -> Vec<f64> {
    let period = JOULES_PER_KWH / (k_ref * power_w);
    let phase = rng.gen::<f64>() * period;
    let n = ((duration_s - phase) / period).floor().max(-1.0) as i64 + 1;
    (0..n.max(0)).map(|j| phase + j as f64 * period).collect()
}
