//! A radial feeder behind the measuring point, for disturbance-direction tests: a source
//! behind an impedance, a bus, a line to the measuring point and the load, with shunts
//! (faults, loads, capacitors) switched on at the bus (upstream of the point) or at the
//! point (downstream of it).
//!
//! ```text
//!   E ──Zs──┬──Zl──[point]──┬── load ZL
//!           │               │
//!      upstream shunt   downstream shunt
//! ```
//!
//! Every phase is its own circuit to a solid neutral (no mutual coupling), in phasors: the
//! states are steady, and the generator switches between them at the steps' edges without
//! transients. The load ZL of each phase is what the scenario's voltage and current give
//! (ZL = U/I of the fundamental), and E is chosen so that the undisturbed state is the
//! scenario's voltage and current. In a disturbed state each phase's voltage and current
//! are the undisturbed ones times a complex factor (magnitude and phase), applied to all
//! of the phase's components.

use super::numeric::C64;
use num_complex::Complex64;

/// Where a step is switched, seen from the measuring point (current positive towards the
/// load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeederSide {
    /// At the bus, on the supply side of the point.
    Upstream,
    /// At the point, on the load side.
    Downstream,
}

impl FeederSide {
    /// `"upstream"` or `"downstream"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeederSide::Upstream => "upstream",
            FeederSide::Downstream => "downstream",
        }
    }
}

/// One shunt switched on from `t0` to `t1` on the phases of `mask`.
#[derive(Debug, Clone)]
pub(crate) struct FeederStep {
    pub side: FeederSide,
    pub t0: f64,
    pub t1: f64,
    pub mask: [bool; 3],
    /// Impedance to neutral, Ω.
    pub impedance: Complex64,
}

/// The feeder: impedances, per-phase load and source, and the steps.
#[derive(Debug, Clone)]
pub(crate) struct FeederModel {
    /// Source impedance up to the bus, Ω.
    pub source: Complex64,
    /// Line impedance from the bus to the point, Ω.
    pub line: Complex64,
    pub steps: Vec<FeederStep>,
    /// Per phase: undisturbed voltage and current phasors at the point, load impedance,
    /// source EMF.
    phases: Vec<(Complex64, Complex64, Complex64, Complex64)>,
}

impl FeederModel {
    /// A feeder whose undisturbed state has the voltages `v` and currents `i` (phasors of
    /// the used phases; a phase without current has no load and stays undisturbed).
    pub fn new(
        source: Complex64,
        line: Complex64,
        steps: Vec<FeederStep>,
        v: &[Complex64],
        i: &[Complex64],
    ) -> Self {
        let phases = v
            .iter()
            .zip(i)
            .map(|(&u, &c)| {
                let load = u / c;
                let emf = u + (source + line) * c;
                (u, c, load, emf)
            })
            .collect();
        FeederModel {
            source,
            line,
            steps,
            phases,
        }
    }

    /// The times at which the state changes.
    pub fn edges(&self) -> Vec<f64> {
        self.steps.iter().flat_map(|s| [s.t0, s.t1]).collect()
    }

    /// Per phase, the factors (voltage, current) the state in force at `t` applies to the
    /// undisturbed phasors.
    pub fn gains_at(&self, t: f64) -> [(C64, C64); 3] {
        let one = C64 { re: 1.0, im: 0.0 };
        let mut out = [(one, one); 3];
        for (p, &(u0, i0, load, emf)) in self.phases.iter().enumerate() {
            if !load.norm().is_finite() {
                continue;
            }
            let mut up: Option<Complex64> = None;
            let mut down: Option<Complex64> = None;
            for s in &self.steps {
                if s.mask[p] && t >= s.t0 && t < s.t1 {
                    let slot = match s.side {
                        FeederSide::Upstream => &mut up,
                        FeederSide::Downstream => &mut down,
                    };
                    *slot = Some(parallel(*slot, s.impedance));
                }
            }
            if up.is_none() && down.is_none() {
                continue;
            }
            let load_side = down.map_or(load, |d| parallel(Some(load), d));
            let beyond_bus = self.line + load_side;
            let bus = up.map_or(beyond_bus, |u| parallel(Some(beyond_bus), u));
            let i_source = emf / (self.source + bus);
            let i_point = i_source * bus / beyond_bus;
            let u_point = i_point * load_side;
            let c = |z: Complex64| C64 { re: z.re, im: z.im };
            out[p] = (c(u_point / u0), c(i_point / i0));
        }
        out
    }
}

/// `a ∥ b` (`b` alone when there is no `a`).
fn parallel(a: Option<Complex64>, b: Complex64) -> Complex64 {
    match a {
        Some(a) => a * b / (a + b),
        None => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undisturbed_state_is_the_scenarios_and_a_bolted_fault_at_the_point_is_zero() {
        let u = Complex64::new(230.0, 0.0);
        let i = Complex64::from_polar(16.0, -0.3);
        let step = FeederStep {
            side: FeederSide::Downstream,
            t0: 1.0,
            t1: 2.0,
            mask: [true, false, false],
            impedance: Complex64::new(1e-9, 0.0),
        };
        let f = FeederModel::new(
            Complex64::new(0.1, 0.5),
            Complex64::new(0.05, 0.05),
            vec![step],
            &[u],
            &[i],
        );
        let g = f.gains_at(0.5);
        assert_eq!((g[0].0.re, g[0].0.im, g[0].1.re), (1.0, 0.0, 1.0));
        let g = f.gains_at(1.5);
        assert!(g[0].0.abs() < 1e-6, "{:?}", g[0]);
        // The fault current is E over the whole supply impedance.
        let expected = (u + Complex64::new(0.15, 0.55) * i) / Complex64::new(0.15, 0.55);
        let got = i * Complex64::new(g[0].1.re, g[0].1.im);
        assert!((got - expected).norm() < 1e-6 * expected.norm());
    }
}
