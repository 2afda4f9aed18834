//! Demand: the average of a quantity over a demand interval, as meters register it for
//! billing and for IEEE 519's maximum demand load current.
//!
//! - **Block**: `D = (1/T)·∫x dt` over `[t0, t0 + T)`, updated when the interval ends.
//! - **Rolling** (sliding) with `n` sub-intervals (e.g. 3 × 5 min for 15 min): the mean of the
//!   last `n` sub-interval averages, updated at the end of every sub-interval (the DLMS
//!   class-5 "number of periods > 1" register).
//! - **Thermal** (lagged): `dD/dt = (x − D)/τ` with `τ = T/ln 10`, so a step reaches 90 % in
//!   one interval; per input interval of length `Δt`: `D += (1 − 10^(−Δt/T))·(x − D)`.
//!
//! Intervals are aligned on the UTC clock (multiples of `T`, or of the sub-interval, from
//! midnight), as clock-synchronised meters end them. Input arrives as consecutive measuring
//! intervals (e.g. 10/12 cycles) with their mean value; one that straddles a boundary is
//! split by time. A demand interval with less than its full length of data (the start or
//! end of the recording, a gap) is marked incomplete and kept out of the peak search.
//!
//! The **predicted demand** of the interval in progress follows the reference meters'
//! method: `(∫x dt so far + x_now · time left) / T`.
//!
//! The **maximum demand** of each quantity is kept with the end time of its interval and the
//! demands of every other quantity in that same interval (the coincident values).

use pqe_core::{Error, Result, Timestamp};

/// How demand is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DemandMethod {
    /// Fixed intervals.
    Block,
    /// The mean of the last `subintervals` sub-interval averages (each `T / subintervals`).
    Rolling {
        /// Number of sub-intervals in the demand interval (≥ 2).
        subintervals: usize,
    },
    /// First-order lag reaching 90 % of a step in one interval.
    Thermal,
}

/// The demand settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandSettings {
    /// Demand interval `T`, s (e.g. 900).
    pub interval: f64,
    /// The method.
    pub method: DemandMethod,
}

impl DemandSettings {
    /// The step at which demand values are produced: `T` for block and thermal demand, the
    /// sub-interval for rolling demand.
    pub fn step(&self) -> f64 {
        match self.method {
            DemandMethod::Rolling { subintervals } => self.interval / subintervals as f64,
            _ => self.interval,
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.interval.is_finite() && self.interval > 0.0) {
            return Err(Error::Config(format!(
                "the demand interval must be a positive number of seconds, not {}",
                self.interval
            )));
        }
        if let DemandMethod::Rolling { subintervals } = self.method {
            if subintervals < 2 {
                return Err(Error::Config(format!(
                    "rolling demand needs at least 2 sub-intervals, not {subintervals}"
                )));
            }
        }
        if (86_400.0 / self.step()).fract() > 1e-9 && (self.step() / 86_400.0).fract() > 1e-9 {
            return Err(Error::Config(format!(
                "a demand step of {} s does not divide the day; clock-aligned demand needs one \
                 that does (e.g. 60, 300, 900, 1800, 3600)",
                self.step()
            )));
        }
        Ok(())
    }
}

/// One demand value per quantity at the end of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandRecord {
    /// End of the demand interval (or sub-interval for rolling demand).
    pub end: Timestamp,
    /// Demand per quantity, in the order of the names.
    pub values: Vec<f64>,
    /// Whether the interval (all of a rolling window) was fully covered by data.
    pub complete: bool,
}

/// The largest demand of one quantity and the demands of the others in that interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MaximumDemand {
    /// The quantity.
    pub quantity: String,
    /// Its largest complete demand value.
    pub value: f64,
    /// End of the interval it was reached in.
    pub end: Timestamp,
    /// Every quantity's demand in that interval (the coincident values), by name.
    pub coincident: Vec<(String, f64)>,
}

/// A demand register for several quantities at once.
#[derive(Debug, Clone)]
pub struct DemandMeter {
    names: Vec<String>,
    settings: DemandSettings,
    step_ns: i64,
    /// Key (step number since the epoch) of the step being filled.
    key: Option<i64>,
    /// `∫x dt` of the step so far, per quantity.
    integral: Vec<f64>,
    /// Seconds covered in the step so far.
    covered: f64,
    /// Latest input value per quantity (for the prediction).
    latest: Vec<f64>,
    /// Rolling: the last sub-interval averages with their completeness.
    window: std::collections::VecDeque<(Vec<f64>, bool)>,
    /// Thermal: the running values.
    thermal: Option<Vec<f64>>,
    peaks: Vec<Option<MaximumDemand>>,
}

impl DemandMeter {
    /// A register for `names` with `settings`.
    pub fn new(names: Vec<String>, settings: DemandSettings) -> Result<Self> {
        settings.validate()?;
        let n = names.len();
        Ok(DemandMeter {
            step_ns: (settings.step() * 1e9).round() as i64,
            settings,
            key: None,
            integral: vec![0.0; n],
            covered: 0.0,
            latest: vec![f64::NAN; n],
            window: Default::default(),
            thermal: None,
            peaks: vec![None; n],
            names,
        })
    }

    /// Add a measuring interval starting at `start`, `seconds` long, with the mean value of
    /// each quantity. Returns the demand records of the steps it completed.
    pub fn push(&mut self, start: Timestamp, seconds: f64, values: &[f64]) -> Vec<DemandRecord> {
        let mut out = Vec::new();
        let mut t = start;
        let end = start.add_seconds(seconds);
        if values.iter().all(|v| v.is_finite()) {
            for (l, v) in self.latest.iter_mut().zip(values) {
                *l = *v;
            }
        }
        while t.0 < end.0 {
            let key = t.0.div_euclid(self.step_ns);
            match self.key {
                Some(k) if k != key => {
                    out.extend(self.close_step(k));
                    self.key = Some(key);
                }
                None => self.key = Some(key),
                _ => {}
            }
            let boundary = Timestamp::from_nanos((key + 1) * self.step_ns);
            let piece_end = if boundary.0 < end.0 { boundary } else { end };
            let dt = piece_end.seconds_since(t);
            if values.iter().all(|v| v.is_finite()) {
                for (acc, v) in self.integral.iter_mut().zip(values) {
                    *acc += v * dt;
                }
                self.covered += dt;
                if let Some(th) = self.thermal.as_mut() {
                    let k = 1.0 - 10f64.powf(-dt / self.settings.interval);
                    for (d, v) in th.iter_mut().zip(values) {
                        *d += k * (v - *d);
                    }
                } else if self.settings.method == DemandMethod::Thermal {
                    self.thermal = Some(values.to_vec());
                }
            }
            t = piece_end;
        }
        out
    }

    /// End of the stream: the step in progress is closed (incomplete).
    pub fn finish(&mut self) -> Vec<DemandRecord> {
        match self.key.take() {
            Some(k) => self.close_step(k).into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn close_step(&mut self, key: i64) -> Option<DemandRecord> {
        let step = self.settings.step();
        let complete = (self.covered - step).abs() < 1e-6 * step;
        let averages: Vec<f64> = self
            .integral
            .iter()
            .map(|s| {
                if self.covered > 0.0 {
                    s / self.covered
                } else {
                    f64::NAN
                }
            })
            .collect();
        self.integral.iter_mut().for_each(|s| *s = 0.0);
        self.covered = 0.0;
        let end = Timestamp::from_nanos((key + 1) * self.step_ns);
        let record = match self.settings.method {
            DemandMethod::Block => DemandRecord {
                end,
                values: averages,
                complete,
            },
            DemandMethod::Rolling { subintervals } => {
                self.window.push_back((averages, complete));
                while self.window.len() > subintervals {
                    self.window.pop_front();
                }
                let full = self.window.len() == subintervals && self.window.iter().all(|w| w.1);
                let values = (0..self.names.len())
                    .map(|q| {
                        self.window.iter().map(|w| w.0[q]).sum::<f64>() / self.window.len() as f64
                    })
                    .collect();
                DemandRecord {
                    end,
                    values,
                    complete: full,
                }
            }
            DemandMethod::Thermal => DemandRecord {
                end,
                values: self
                    .thermal
                    .clone()
                    .unwrap_or_else(|| vec![f64::NAN; self.names.len()]),
                complete,
            },
        };
        if record.complete {
            for q in 0..self.names.len() {
                let v = record.values[q];
                let better = match &self.peaks[q] {
                    None => v.is_finite(),
                    Some(p) => v > p.value,
                };
                if better {
                    self.peaks[q] = Some(MaximumDemand {
                        quantity: self.names[q].clone(),
                        value: v,
                        end,
                        coincident: self
                            .names
                            .iter()
                            .cloned()
                            .zip(record.values.iter().copied())
                            .collect(),
                    });
                }
            }
        }
        Some(record)
    }

    /// The predicted demand of the interval in progress at `now` (reference meters' method:
    /// the integral so far plus the latest value for the rest of the interval), per
    /// quantity. Block demand only; `None` for the other methods or before any data.
    pub fn predicted(&self, now: Timestamp) -> Option<Vec<f64>> {
        if self.settings.method != DemandMethod::Block {
            return None;
        }
        let key = self.key?;
        let end = Timestamp::from_nanos((key + 1) * self.step_ns);
        let left = end.seconds_since(now).max(0.0);
        Some(
            self.integral
                .iter()
                .zip(&self.latest)
                .map(|(s, x)| (s + x * left) / self.settings.interval)
                .collect(),
        )
    }

    /// The maximum demand of each quantity so far (complete intervals only).
    pub fn maxima(&self) -> Vec<MaximumDemand> {
        self.peaks.iter().flatten().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(
        m: &mut DemandMeter,
        t0: Timestamp,
        seconds: f64,
        f: impl Fn(f64) -> f64,
    ) -> Vec<DemandRecord> {
        let mut out = Vec::new();
        let n = (seconds / 0.2).round() as usize;
        for k in 0..n {
            let t = 0.2 * k as f64;
            out.extend(m.push(t0.add_seconds(t), 0.2, &[f(t), 2.0 * f(t)]));
        }
        out.extend(m.finish());
        out
    }

    fn midnight() -> Timestamp {
        Timestamp::from_nanos(1_700_006_400_000_000_000)
    }

    #[test]
    fn block_demand_of_a_step_with_the_peak_and_coincident_values() {
        let mut m = DemandMeter::new(
            vec!["P".into(), "S".into()],
            DemandSettings {
                interval: 900.0,
                method: DemandMethod::Block,
            },
        )
        .unwrap();
        // 1000 W for 20 min, then 4000 W for 25 min, from a quarter-hour boundary.
        let out = feed(&mut m, midnight(), 2700.0, |t| {
            if t < 1200.0 {
                1000.0
            } else {
                4000.0
            }
        });
        let values: Vec<f64> = out.iter().map(|r| r.values[0]).collect();
        assert_eq!(values.len(), 3);
        assert!((values[0] - 1000.0).abs() < 1e-9);
        assert!((values[1] - (300.0 * 1000.0 + 600.0 * 4000.0) / 900.0).abs() < 1e-6);
        assert!((values[2] - 4000.0).abs() < 1e-9);
        let peaks = m.maxima();
        assert_eq!(peaks[0].end, midnight().add_seconds(2700.0));
        assert_eq!(peaks[0].coincident[1].0, "S");
        assert!((peaks[0].coincident[1].1 - 8000.0).abs() < 1e-6);
    }

    #[test]
    fn rolling_demand_slides_by_sub_interval_and_marks_partial_windows() {
        let mut m = DemandMeter::new(
            vec!["P".into(), "S".into()],
            DemandSettings {
                interval: 900.0,
                method: DemandMethod::Rolling { subintervals: 3 },
            },
        )
        .unwrap();
        let out = feed(&mut m, midnight(), 1800.0, |t| {
            if t < 600.0 {
                0.0
            } else {
                3000.0
            }
        });
        // Sub-intervals of 5 min: 0, 0, 3000, 3000, 3000, 3000.
        let v: Vec<(f64, bool)> = out.iter().map(|r| (r.values[0], r.complete)).collect();
        assert_eq!(v.len(), 6);
        assert!(!v[0].1 && !v[1].1 && v[2].1);
        assert!((v[2].0 - 1000.0).abs() < 1e-9);
        assert!((v[3].0 - 2000.0).abs() < 1e-9);
        assert!((v[4].0 - 3000.0).abs() < 1e-9);
    }

    #[test]
    fn thermal_demand_reaches_ninety_percent_in_one_interval() {
        let mut m = DemandMeter::new(
            vec!["I".into(), "x".into()],
            DemandSettings {
                interval: 900.0,
                method: DemandMethod::Thermal,
            },
        )
        .unwrap();
        let out = feed(&mut m, midnight(), 1800.0, |t| {
            if t < 0.1 {
                0.0
            } else {
                100.0
            }
        });
        assert!(
            (out[0].values[0] - 90.0).abs() < 0.05,
            "{}",
            out[0].values[0]
        );
        assert!(
            (out[1].values[0] - 99.0).abs() < 0.01,
            "{}",
            out[1].values[0]
        );
    }

    #[test]
    fn predicted_demand_and_settings_checks() {
        let mut m = DemandMeter::new(
            vec!["P".into(), "S".into()],
            DemandSettings {
                interval: 900.0,
                method: DemandMethod::Block,
            },
        )
        .unwrap();
        for k in 0..1500 {
            m.push(midnight().add_seconds(0.2 * k as f64), 0.2, &[2000.0, 1.0]);
        }
        // 300 s at 2000 W, 600 s to go at the latest 2000 W: 2000 W.
        let p = m.predicted(midnight().add_seconds(300.0)).unwrap();
        assert!((p[0] - 2000.0).abs() < 1e-9);
        let bad = DemandSettings {
            interval: 700.0,
            method: DemandMethod::Block,
        };
        assert!(DemandMeter::new(vec![], bad)
            .unwrap_err()
            .to_string()
            .contains("divide the day"));
        let bad = DemandSettings {
            interval: 900.0,
            method: DemandMethod::Rolling { subintervals: 1 },
        };
        assert!(DemandMeter::new(vec![], bad).is_err());
    }
}
