//! The records the analysis produces. Later stages of the measurement chain add their own
//! record types here (10/12-cycle intervals, aggregates, flicker, events).

use serde::{Deserialize, Serialize};

/// Basic statistics of one channel over a whole recording or a stretch of it: what a first
/// look at a recording wants to know. Missing samples (NaN) are counted, not averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStatistics {
    /// The channel's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Samples that held a value.
    pub samples: u64,
    /// Samples that were missing (NaN in the block).
    pub missing: u64,
    /// Root mean square of the present samples.
    pub rms: f64,
    /// Arithmetic mean (the DC component).
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Largest magnitude.
    pub peak: f64,
    /// Peak divided by RMS (√2 for a sine).
    pub crest_factor: f64,
}

/// Running accumulator for [`ChannelStatistics`]; feed it any cut of a channel and the result
/// does not depend on the cut beyond floating-point summation order.
#[derive(Debug, Clone, Default)]
pub struct ChannelStatisticsAccumulator {
    samples: u64,
    missing: u64,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
}

impl ChannelStatisticsAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        ChannelStatisticsAccumulator {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ..Default::default()
        }
    }
    /// Add samples.
    pub fn push(&mut self, samples: &[f64]) {
        for &x in samples {
            if x.is_nan() {
                self.missing += 1;
                continue;
            }
            self.samples += 1;
            self.sum += x;
            self.sum_sq += x * x;
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
    }
    /// The statistics so far.
    pub fn finish(&self, name: &str, unit: &str) -> ChannelStatistics {
        let n = self.samples as f64;
        let (rms, mean) = if self.samples > 0 {
            ((self.sum_sq / n).sqrt(), self.sum / n)
        } else {
            (f64::NAN, f64::NAN)
        };
        let peak = if self.samples > 0 {
            self.min.abs().max(self.max.abs())
        } else {
            f64::NAN
        };
        ChannelStatistics {
            name: name.to_string(),
            unit: unit.to_string(),
            samples: self.samples,
            missing: self.missing,
            rms,
            mean,
            min: if self.samples > 0 { self.min } else { f64::NAN },
            max: if self.samples > 0 { self.max } else { f64::NAN },
            peak,
            crest_factor: if rms > 0.0 { peak / rms } else { f64::NAN },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_statistics_are_analytic() {
        let n = 1000;
        let x: Vec<f64> = (0..n)
            .map(|i| 325.0 * (2.0 * std::f64::consts::PI * 5.0 * i as f64 / n as f64).sin())
            .collect();
        let mut acc = ChannelStatisticsAccumulator::new();
        acc.push(&x[..333]);
        acc.push(&[f64::NAN]);
        acc.push(&x[333..]);
        let s = acc.finish("U_A", "V");
        approx::assert_relative_eq!(s.rms, 325.0 / 2f64.sqrt(), max_relative = 1e-12);
        approx::assert_abs_diff_eq!(s.mean, 0.0, epsilon = 1e-9);
        approx::assert_relative_eq!(s.crest_factor, 2f64.sqrt(), max_relative = 1e-5);
        assert_eq!((s.samples, s.missing), (1000, 1));
    }
}
