//! The meter's error from pulses.
//!
//! The error is `e = (E_registered − E_true) / E_true × 100 %` (IEC 62053-21 clause 3 and
//! MID Annex V: positive when the meter runs fast). The meter registers `1/k` kWh per pulse
//! (`k` its constant in imp/kWh).
//!
//! * Pulse-comparison method: the gate opens on one meter pulse and closes N meter pulses
//!   later, so the meter side has no ±1 count. The reference is either a reference standard's
//!   pulse output (constant `k_ref`), counted inside the gate — `e = (N/k)/(n_ref/k_ref) − 1`,
//!   resolution ±1 reference count, about `1/n_ref` — or the reference energy integrated over
//!   exactly the gate ([`PowerSeries`], e.g. PQE's own 10/12-cycle powers).
//! * Time/power method: N meter pulses in `t` seconds at a known stable power P:
//!   `E_meter = N·3.6·10⁶/k J`, `E_true = P·t`; resolution ±1 tick of the timer that stamps the
//!   edges over the gate.
//!
//! [`pulses_needed`] gives the gate length for a requested resolution beforehand:
//! `N ≥ (100/resolution%)·k/k_ref`.

use crate::{Error, Result, JOULES_PER_KWH};
use serde::{Deserialize, Serialize};

/// How an error was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Gate on meter pulses, count the reference standard's pulses.
    PulseComparisonCount,
    /// Gate on meter pulses, integrate the reference energy over the gate.
    PulseComparisonEnergy,
    /// Meter pulses over a timed gate at a known, stable power.
    TimePower,
}

/// One error measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMeasurement {
    /// The method used.
    pub method: Method,
    /// The meter's error, percent (positive: the meter runs fast).
    pub error_percent: f64,
    /// The error's resolution, ± percent (one count of the reference or of the timer).
    pub resolution_percent: f64,
    /// Gate opening (the first meter pulse), seconds.
    pub gate_start: f64,
    /// Gate closing (the N-th meter pulse after the first), seconds.
    pub gate_stop: f64,
    /// Meter pulses in the gate (N).
    pub meter_pulses: u64,
    /// Reference pulses counted in the gate (count method only).
    pub reference_pulses: Option<u64>,
    /// The reference energy over the gate, joules.
    pub reference_energy_j: f64,
}

/// Meter pulses needed for a resolution of `resolution_percent` against a reference with
/// constant `k_ref` (the same unit as `k`): `N ≥ (100/resolution%)·k/k_ref`, at least 1.
pub fn pulses_needed(resolution_percent: f64, k: f64, k_ref: f64) -> Result<u64> {
    positive("resolution", resolution_percent)?;
    positive("meter constant", k)?;
    positive("reference constant", k_ref)?;
    let n = (100.0 / resolution_percent) * k / k_ref;
    // Guard the ceil against rounding a whole number up (e.g. 100.00000000000001).
    let n = (n * (1.0 - 1e-12)).ceil();
    Ok((n as u64).max(1))
}

/// Seconds between pulses of a meter with constant `k` (imp/kWh) at power `p_w` watts:
/// `3.6·10⁶/(k·P)`.
pub fn seconds_per_pulse(k: f64, p_w: f64) -> Result<f64> {
    positive("meter constant", k)?;
    positive("power", p_w)?;
    Ok(JOULES_PER_KWH / (k * p_w))
}

fn positive(what: &str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} {v}: must be a positive number"
        )))
    }
}

/// The gate of N meter pulses starting at meter pulse `first`: (start, stop) times.
pub fn gate(meter_pulses: &[f64], first: usize, n: u64) -> Result<(f64, f64)> {
    if n == 0 {
        return Err(Error::Invalid(
            "a gate needs at least one meter pulse".into(),
        ));
    }
    let last = first
        .checked_add(n as usize)
        .filter(|&l| l < meter_pulses.len())
        .ok_or_else(|| {
            Error::NotEnoughPulses(format!(
                "a gate of {n} meter pulses from pulse {first} needs {} pulses; {} were seen",
                first as u64 + n + 1,
                meter_pulses.len()
            ))
        })?;
    let (start, stop) = (meter_pulses[first], meter_pulses[last]);
    if !(stop > start) {
        return Err(Error::Invalid(format!(
            "meter pulses {first} ({start} s) and {last} ({stop} s) are not in time order"
        )));
    }
    Ok((start, stop))
}

/// Pulse-comparison method, reference pulses counted: gate on `n` meter pulses from meter
/// pulse `first`, count the reference pulses `t` with `start ≤ t < stop`.
pub fn pulse_comparison_count(
    meter_pulses: &[f64],
    first: usize,
    n: u64,
    k: f64,
    reference_pulses: &[f64],
    k_ref: f64,
) -> Result<ErrorMeasurement> {
    positive("meter constant", k)?;
    positive("reference constant", k_ref)?;
    let (start, stop) = gate(meter_pulses, first, n)?;
    let lo = reference_pulses.partition_point(|&t| t < start);
    let hi = reference_pulses.partition_point(|&t| t < stop);
    let n_ref = (hi - lo) as u64;
    if n_ref == 0 {
        return Err(Error::NotEnoughPulses(format!(
            "no reference pulse inside the gate {start} s … {stop} s"
        )));
    }
    let registered = n as f64 / k;
    let reference = n_ref as f64 / k_ref;
    let ratio = registered / reference;
    Ok(ErrorMeasurement {
        method: Method::PulseComparisonCount,
        error_percent: (ratio - 1.0) * 100.0,
        resolution_percent: 100.0 * ratio / n_ref as f64,
        gate_start: start,
        gate_stop: stop,
        meter_pulses: n,
        reference_pulses: Some(n_ref),
        reference_energy_j: reference * JOULES_PER_KWH,
    })
}

/// Pulse-comparison method, reference energy integrated over exactly the gate; the gate's
/// edges are stamped by a timer of `tick_s` seconds (the resolution is ±1 tick over the gate).
pub fn pulse_comparison_energy(
    meter_pulses: &[f64],
    first: usize,
    n: u64,
    k: f64,
    reference: &PowerSeries,
    tick_s: f64,
) -> Result<ErrorMeasurement> {
    positive("meter constant", k)?;
    let (start, stop) = gate(meter_pulses, first, n)?;
    let e_ref = reference.energy_j(start, stop)?;
    if !(e_ref > 0.0) {
        return Err(Error::Invalid(format!(
            "the reference energy over the gate {start} s … {stop} s is {e_ref} J: not positive"
        )));
    }
    let ratio = n as f64 * JOULES_PER_KWH / k / e_ref;
    Ok(ErrorMeasurement {
        method: Method::PulseComparisonEnergy,
        error_percent: (ratio - 1.0) * 100.0,
        resolution_percent: 100.0 * ratio * tick_s.max(0.0) / (stop - start),
        gate_start: start,
        gate_stop: stop,
        meter_pulses: n,
        reference_pulses: None,
        reference_energy_j: e_ref,
    })
}

/// Time/power method: `n` meter pulses from pulse `first` at the stable power `p_w` watts,
/// the gate timed by a timer of `tick_s` seconds.
pub fn time_power(
    meter_pulses: &[f64],
    first: usize,
    n: u64,
    k: f64,
    p_w: f64,
    tick_s: f64,
) -> Result<ErrorMeasurement> {
    positive("meter constant", k)?;
    positive("power", p_w)?;
    let (start, stop) = gate(meter_pulses, first, n)?;
    let t = stop - start;
    let e_meter = n as f64 * JOULES_PER_KWH / k;
    let e_true = p_w * t;
    let ratio = e_meter / e_true;
    Ok(ErrorMeasurement {
        method: Method::TimePower,
        error_percent: (ratio - 1.0) * 100.0,
        resolution_percent: 100.0 * ratio * tick_s.max(0.0) / t,
        gate_start: start,
        gate_stop: stop,
        meter_pulses: n,
        reference_pulses: None,
        reference_energy_j: e_true,
    })
}

/// Reference power as contiguous intervals of constant mean power (e.g. a Class A
/// instrument's 10/12-cycle active power), integrated over any span inside them.
///
/// A gap between intervals is an error, never bridged: energy over a gap is unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerSeries {
    /// (start s, end s, mean power W), contiguous and in time order.
    intervals: Vec<(f64, f64, f64)>,
}

impl PowerSeries {
    /// An empty series.
    pub fn new() -> Self {
        Self::default()
    }

    /// One interval covering `start … end` at constant power `p_w`.
    pub fn constant(start: f64, end: f64, p_w: f64) -> Result<Self> {
        let mut s = Self::new();
        s.push(start, end, p_w)?;
        Ok(s)
    }

    /// Append the interval `start … end` of mean power `p_w`; it must start where the last
    /// one ended (within 1 ns), or the error names the gap.
    pub fn push(&mut self, start: f64, end: f64, p_w: f64) -> Result<()> {
        if !(end > start) || !p_w.is_finite() {
            return Err(Error::Invalid(format!(
                "power interval {} ({start} s … {end} s, {p_w} W): needs end > start and a finite power",
                self.intervals.len()
            )));
        }
        if let Some(&(_, last_end, _)) = self.intervals.last() {
            if (start - last_end).abs() > 1e-9 {
                return Err(Error::Invalid(format!(
                    "power interval {} starts at {start} s but the previous one ended at {last_end} s: a gap or overlap",
                    self.intervals.len()
                )));
            }
        }
        self.intervals.push((start, end, p_w));
        Ok(())
    }

    /// Energy in joules from `a` to `b` seconds; the span must lie inside the series.
    pub fn energy_j(&self, a: f64, b: f64) -> Result<f64> {
        let (first, last) = match (self.intervals.first(), self.intervals.last()) {
            (Some(f), Some(l)) => (f.0, l.1),
            _ => return Err(Error::Invalid("the reference power series is empty".into())),
        };
        if a < first || b > last || b < a {
            return Err(Error::Invalid(format!(
                "the span {a} s … {b} s is not inside the reference power series {first} s … {last} s"
            )));
        }
        let i0 = self.intervals.partition_point(|iv| iv.1 <= a);
        let mut e = 0.0;
        for &(s, t, p) in &self.intervals[i0..] {
            if s >= b {
                break;
            }
            e += p * (t.min(b) - s.max(a));
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_of_the_reference() {
        // METER-TEST.md §1: N = 10 at 1000 imp/kWh against 998 pulses at 10⁵ imp/kWh → +0.2004 %.
        let meter: Vec<f64> = (0..=10).map(|i| i as f64).collect();
        let reference: Vec<f64> = (0..998).map(|j| 0.001 + j as f64 * 10.0 / 998.0).collect();
        let m = pulse_comparison_count(&meter, 0, 10, 1000.0, &reference, 1e5).unwrap();
        assert_eq!(m.reference_pulses, Some(998));
        assert!(
            (m.error_percent - 0.200_400_8).abs() < 1e-6,
            "{}",
            m.error_percent
        );
        assert!((m.resolution_percent - 0.1004).abs() < 1e-4);
    }

    #[test]
    fn pulses_needed_example() {
        // METER-TEST.md §1: k = 1000, k_ref = 10⁵, 0.01 % → N ≥ 100.
        assert_eq!(pulses_needed(0.01, 1000.0, 1e5).unwrap(), 100);
        assert_eq!(pulses_needed(0.03, 1000.0, 1e5).unwrap(), 34);
        assert!(pulses_needed(0.0, 1000.0, 1e5).is_err());
    }

    #[test]
    fn gap_in_reference_power_is_refused() {
        let mut s = PowerSeries::new();
        s.push(0.0, 1.0, 10.0).unwrap();
        assert!(s
            .push(1.5, 2.0, 10.0)
            .unwrap_err()
            .to_string()
            .contains("gap"));
        s.push(1.0, 2.0, 20.0).unwrap();
        assert!((s.energy_j(0.5, 1.5).unwrap() - 15.0).abs() < 1e-12);
        assert!(s.energy_j(0.5, 2.5).is_err());
    }
}
