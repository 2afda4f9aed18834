//! Four-quadrant energy registers, as electricity meters and reference meters keep them.
//!
//! Sign convention: active power `P > 0` is import (delivered from the supply to the
//! load); reactive power `Q > 0` is inductive (current lagging). The quadrant of an interval
//! is the pair of signs of its `P` and `Q`: Q1 (+P, +Q), Q2 (−P, +Q), Q3 (−P, −Q),
//! Q4 (+P, −Q); the registers are defined by those signs alone, since the lead/lag words
//! of Q2 and Q3 differ between vendors. Each register accumulates the energy of the
//! intervals of its sign, never a net value: `delivered` (import, OBIS 1.8.0 for active),
//! `received` (export, 2.8.0), and the reactive quadrants (5.8.0 … 8.8.0), with
//! `R+ = Q1 + Q2` (3.8.0) and `R− = Q3 + Q4` (4.8.0); `net = delivered − received`,
//! `total = delivered + received`.
//!
//! Reactive energy is integrated from the **fundamental** reactive power `Q1 = U1·I1·sin θ1`
//! of IEEE 1459-2010 (3.1.2.4), as IEC 62053-24 defines reactive energy and meters do by
//! default; apparent energy from the apparent power the caller passes (PQE's intervals give
//! the IEEE 1459 effective `Se` for the system and `U·I` per phase), the choice recorded by
//! the caller. `V²h` and `I²h` (loss compensation) integrate the squared RMS values.
//!
//! The integration is exact at the resolution of the input: each 10/12-cycle interval's
//! power is the mean over exactly its samples, and the intervals tile the recording without
//! gap or overlap, so the sum of `P·duration` is the integral of `u·i` over those samples.
//! Time without intervals (a gap) adds nothing and is counted in
//! [`EnergyRegisters::seconds`].

use pqe_core::Timestamp;

/// Power over one interval: active `p` (W), fundamental reactive `q` (var), apparent `s`
/// (VA).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PowerReading {
    /// Active power, W (positive: import).
    pub p: f64,
    /// Fundamental reactive power Q1, var (positive: inductive).
    pub q: f64,
    /// Apparent power, VA.
    pub s: f64,
}

/// The quadrant of a `(P, Q)` pair; a zero counts as positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quadrant {
    /// +P, +Q: import, inductive.
    Q1,
    /// −P, +Q: export.
    Q2,
    /// −P, −Q: export.
    Q3,
    /// +P, −Q: import, capacitive.
    Q4,
}

impl Quadrant {
    /// The quadrant of `p` and `q`.
    pub fn of(p: f64, q: f64) -> Quadrant {
        match (p >= 0.0, q >= 0.0) {
            (true, true) => Quadrant::Q1,
            (false, true) => Quadrant::Q2,
            (false, false) => Quadrant::Q3,
            (true, false) => Quadrant::Q4,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The energy registers of one phase or of the system, in Wh, varh and VAh.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EnergyRegisters {
    /// Active energy imported (P > 0), Wh (OBIS 1.8.0).
    pub active_delivered: f64,
    /// Active energy exported (P < 0), Wh, positive (OBIS 2.8.0).
    pub active_received: f64,
    /// Fundamental reactive energy by quadrant Q1…Q4, varh, each positive (OBIS 5.8.0…8.8.0).
    pub reactive_quadrants: [f64; 4],
    /// Apparent energy while importing, VAh.
    pub apparent_delivered: f64,
    /// Apparent energy while exporting, VAh.
    pub apparent_received: f64,
    /// Seconds integrated.
    pub seconds: f64,
}

impl EnergyRegisters {
    /// Add `seconds` of `power`.
    pub fn add(&mut self, power: PowerReading, seconds: f64) {
        if !(power.p.is_finite() && power.q.is_finite() && power.s.is_finite()) {
            return;
        }
        let hours = seconds / 3600.0;
        let quadrant = Quadrant::of(power.p, power.q);
        if power.p >= 0.0 {
            self.active_delivered += power.p * hours;
            self.apparent_delivered += power.s * hours;
        } else {
            self.active_received -= power.p * hours;
            self.apparent_received += power.s * hours;
        }
        self.reactive_quadrants[quadrant.index()] += power.q.abs() * hours;
        self.seconds += seconds;
    }

    /// Delivered minus received active energy, Wh.
    pub fn active_net(&self) -> f64 {
        self.active_delivered - self.active_received
    }

    /// Delivered plus received active energy, Wh.
    pub fn active_total(&self) -> f64 {
        self.active_delivered + self.active_received
    }

    /// R+ = Q1 + Q2 (inductive reactive energy), varh (OBIS 3.8.0).
    pub fn reactive_positive(&self) -> f64 {
        self.reactive_quadrants[0] + self.reactive_quadrants[1]
    }

    /// R− = Q3 + Q4, varh (OBIS 4.8.0).
    pub fn reactive_negative(&self) -> f64 {
        self.reactive_quadrants[2] + self.reactive_quadrants[3]
    }

    /// R+ − R−, varh.
    pub fn reactive_net(&self) -> f64 {
        self.reactive_positive() - self.reactive_negative()
    }

    /// The registers as (column, value) pairs with `prefix` (e.g. `"_A"` or `""`): `Ep_del`,
    /// `Ep_rec`, `Ep_net`, `Eq_Q1`…`Eq_Q4`, `Eq_pos`, `Eq_neg`, `Es_del`, `Es_rec`.
    pub fn columns(&self, suffix: &str) -> Vec<(String, f64)> {
        let mut out = vec![
            (format!("Ep_del{suffix}"), self.active_delivered),
            (format!("Ep_rec{suffix}"), self.active_received),
            (format!("Ep_net{suffix}"), self.active_net()),
        ];
        for (k, v) in self.reactive_quadrants.iter().enumerate() {
            out.push((format!("Eq_Q{}{suffix}", k + 1), *v));
        }
        out.push((format!("Eq_pos{suffix}"), self.reactive_positive()));
        out.push((format!("Eq_neg{suffix}"), self.reactive_negative()));
        out.push((format!("Es_del{suffix}"), self.apparent_delivered));
        out.push((format!("Es_rec{suffix}"), self.apparent_received));
        out
    }
}

/// Energy of one logging period (or of the whole recording).
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyPeriod {
    /// Start of the period (the clock boundary, or the first interval's start for the whole
    /// recording).
    pub start: Timestamp,
    /// Registers per power channel, in the order of [`EnergyMeter::new`]'s names.
    pub registers: Vec<EnergyRegisters>,
    /// `∫U²dt` per voltage channel, V²h.
    pub v2h: Vec<f64>,
    /// `∫I²dt` per current channel, A²h.
    pub i2h: Vec<f64>,
}

/// Accumulates energy per logging period (aligned on the UTC clock) and over the whole
/// recording.
#[derive(Debug, Clone)]
pub struct EnergyMeter {
    names: Vec<String>,
    n_voltages: usize,
    n_currents: usize,
    period_ns: i64,
    current: Option<(i64, EnergyPeriod)>,
    whole: Option<EnergyPeriod>,
}

impl EnergyMeter {
    /// A meter for the power channels `names` (e.g. `["A", "B", "C", "total"]`), with
    /// `n_voltages` and `n_currents` RMS channels for V²h and I²h, logging every
    /// `period_seconds` of the clock (e.g. 600).
    pub fn new(
        names: Vec<String>,
        n_voltages: usize,
        n_currents: usize,
        period_seconds: f64,
    ) -> Self {
        EnergyMeter {
            names,
            n_voltages,
            n_currents,
            period_ns: (period_seconds * 1e9).round().max(1.0) as i64,
            current: None,
            whole: None,
        }
    }

    /// The power channels' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn empty(&self, start: Timestamp) -> EnergyPeriod {
        EnergyPeriod {
            start,
            registers: vec![EnergyRegisters::default(); self.names.len()],
            v2h: vec![0.0; self.n_voltages],
            i2h: vec![0.0; self.n_currents],
        }
    }

    /// Add one interval starting at `start` and lasting `seconds`: one power reading per
    /// power channel, the RMS of each voltage and current channel. Returns the logging
    /// period that this interval closed, if any.
    pub fn push(
        &mut self,
        start: Timestamp,
        seconds: f64,
        power: &[PowerReading],
        u_rms: &[f64],
        i_rms: &[f64],
    ) -> Option<EnergyPeriod> {
        let key = start.0.div_euclid(self.period_ns);
        let closed = match &self.current {
            Some((k, _)) if *k != key => self.current.take().map(|(_, p)| p),
            _ => None,
        };
        if self.current.is_none() {
            let boundary = Timestamp::from_nanos(key * self.period_ns);
            self.current = Some((key, self.empty(boundary)));
        }
        if self.whole.is_none() {
            self.whole = Some(self.empty(start));
        }
        let hours = seconds / 3600.0;
        for target in [
            &mut self.current.as_mut().expect("set above").1,
            self.whole.as_mut().expect("set above"),
        ] {
            for (r, p) in target.registers.iter_mut().zip(power) {
                r.add(*p, seconds);
            }
            for (acc, u) in target.v2h.iter_mut().zip(u_rms) {
                if u.is_finite() {
                    *acc += u * u * hours;
                }
            }
            for (acc, i) in target.i2h.iter_mut().zip(i_rms) {
                if i.is_finite() {
                    *acc += i * i * hours;
                }
            }
        }
        closed
    }

    /// End of the stream: the open logging period, if any.
    pub fn finish(&mut self) -> Option<EnergyPeriod> {
        self.current.take().map(|(_, p)| p)
    }

    /// Everything integrated so far.
    pub fn whole(&self) -> Option<&EnergyPeriod> {
        self.whole.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_quadrant_fills_its_own_registers() {
        let mut r = EnergyRegisters::default();
        // One hour in each quadrant: 1 kW / 0.5 kvar.
        for (p, q) in [
            (1000.0, 500.0),
            (-1000.0, 500.0),
            (-1000.0, -500.0),
            (1000.0, -500.0),
        ] {
            r.add(PowerReading { p, q, s: 1118.0 }, 3600.0);
        }
        assert_eq!(r.active_delivered, 2000.0);
        assert_eq!(r.active_received, 2000.0);
        assert_eq!(r.active_net(), 0.0);
        assert_eq!(r.active_total(), 4000.0);
        assert_eq!(r.reactive_quadrants, [500.0; 4]);
        assert_eq!(r.reactive_positive(), 1000.0);
        assert_eq!(r.reactive_negative(), 1000.0);
        assert_eq!(r.apparent_delivered, 2236.0);
        assert_eq!(r.seconds, 4.0 * 3600.0);
        assert_eq!(Quadrant::of(0.0, 0.0), Quadrant::Q1);
        let cols = r.columns("_A");
        assert_eq!(cols[0], ("Ep_del_A".to_string(), 2000.0));
        assert!(cols.iter().any(|(n, _)| n == "Eq_Q4_A"));
    }

    #[test]
    fn logging_periods_follow_the_clock_and_the_whole_adds_up() {
        let mut m = EnergyMeter::new(vec!["total".into()], 1, 1, 600.0);
        // 0.2-s intervals from 09:59:00 for 2 minutes: the 10:00 boundary closes a period.
        let t0 = Timestamp::from_nanos(36_000_000_000_000 - 60_000_000_000);
        let mut closed = Vec::new();
        for k in 0..600 {
            let start = t0.add_seconds(0.2 * k as f64);
            let p = PowerReading {
                p: 3600.0,
                q: -360.0,
                s: 3700.0,
            };
            closed.extend(m.push(start, 0.2, &[p], &[230.0], &[10.0]));
        }
        closed.extend(m.finish());
        assert_eq!(closed.len(), 2);
        assert!((closed[0].registers[0].active_delivered - 60.0).abs() < 1e-9);
        assert_eq!(closed[1].start.0 % 600_000_000_000, 0);
        let whole = m.whole().unwrap();
        assert!((whole.registers[0].active_delivered - 120.0).abs() < 1e-9);
        assert!((whole.registers[0].reactive_quadrants[3] - 12.0).abs() < 1e-9);
        assert!((whole.v2h[0] - 230.0 * 230.0 * 120.0 / 3600.0).abs() < 1e-6);
    }
}
