//! The wiring check before a run: the fundamental phasors of U1–U3 and I1–I3 as the bench
//! measures them at a unity-power-factor setting, and findings for a reversed current (a current
//! opposite to its own voltage: a clamp or CT the wrong way round) or swapped currents (a current
//! in phase with another phase's voltage).

use serde::{Deserialize, Serialize};

/// A fundamental phasor: RMS magnitude and angle in degrees (U1 at 0°).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Phasor {
    /// RMS magnitude (V or A).
    pub magnitude: f64,
    /// Angle, degrees, −180 … 180.
    pub angle_deg: f64,
}

/// The bench's measurement for the wiring check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WiringMeasurement {
    /// U1, U2, U3 (those the meter has).
    pub voltages: Vec<Phasor>,
    /// I1, I2, I3.
    pub currents: Vec<Phasor>,
    /// The power factor set for the check.
    pub pf_set: f64,
}

/// One problem the wiring check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WiringFinding {
    /// `reversed`, `swapped`, `missing` or `phase-sequence`.
    pub kind: String,
    /// What the tester should look at.
    pub message: String,
}

fn wrap(a: f64) -> f64 {
    let mut x = (a + 180.0).rem_euclid(360.0) - 180.0;
    if x == -180.0 {
        x = 180.0;
    }
    x
}

/// Difference of two angles, degrees, in −180 … 180.
pub fn angle_between(a: f64, b: f64) -> f64 {
    wrap(a - b)
}

/// The fundamental phasor of `samples` taken at `sample_rate` over a whole number of cycles of
/// `frequency` (a single-bin DFT), relative to a cosine at the first sample.
pub fn phasor_of(samples: &[f64], sample_rate: f64, frequency: f64) -> Phasor {
    let (mut re, mut im) = (0.0, 0.0);
    let w = 2.0 * std::f64::consts::PI * frequency / sample_rate;
    for (n, &x) in samples.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        re += x * c;
        im -= x * s;
    }
    let n = samples.len().max(1) as f64;
    let peak = 2.0 * (re * re + im * im).sqrt() / n;
    Phasor {
        magnitude: peak / std::f64::consts::SQRT_2,
        angle_deg: im.atan2(re).to_degrees(),
    }
}

/// Check the measurement: each current must lie within `tolerance_deg` of its own voltage
/// shifted by the set PF's angle; a current within tolerance of its voltage's opposite is
/// reversed; one matching another phase's voltage is swapped; one with almost no magnitude is
/// missing. Voltages must run in positive sequence (U2 120° behind U1).
pub fn check(m: &WiringMeasurement, tolerance_deg: f64) -> Vec<WiringFinding> {
    let mut out = Vec::new();
    let phi = m.pf_set.clamp(-1.0, 1.0).acos().to_degrees();
    if m.voltages.len() == 3 {
        let d = angle_between(m.voltages[0].angle_deg, m.voltages[1].angle_deg);
        if (d - 120.0).abs() > tolerance_deg {
            out.push(WiringFinding {
                kind: "phase-sequence".into(),
                message: format!(
                    "U2 lies {d:.0}° behind U1 (120° expected): check the voltage sequence"
                ),
            });
        }
    }
    let i_max = m.currents.iter().map(|c| c.magnitude).fold(0.0, f64::max);
    for (i, c) in m.currents.iter().enumerate() {
        let name = format!("I{}", i + 1);
        if c.magnitude < 0.01 * i_max || c.magnitude == 0.0 {
            out.push(WiringFinding {
                kind: "missing".into(),
                message: format!("{name} carries almost no current: an open current circuit"),
            });
            continue;
        }
        let Some(u) = m.voltages.get(i) else { continue };
        let off = angle_between(c.angle_deg, u.angle_deg).abs();
        if (off - phi).abs() <= tolerance_deg {
            continue;
        }
        if (off - (180.0 - phi)).abs() <= tolerance_deg {
            out.push(WiringFinding {
                kind: "reversed".into(),
                message: format!("{name} is reversed: it lies {off:.0}° from U{} (a clamp or CT the wrong way round)", i + 1),
            });
            continue;
        }
        let other = m.voltages.iter().enumerate().find(|(j, v)| {
            *j != i && (angle_between(c.angle_deg, v.angle_deg).abs() - phi).abs() <= tolerance_deg
        });
        match other {
            Some((j, _)) => out.push(WiringFinding {
                kind: "swapped".into(),
                message: format!(
                    "{name} follows U{} instead of U{}: current circuits swapped",
                    j + 1,
                    i + 1
                ),
            }),
            None => out.push(WiringFinding {
                kind: "swapped".into(),
                message: format!(
                    "{name} lies {off:.0}° from U{} ({phi:.0}° expected): check its wiring",
                    i + 1
                ),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: f64, a: f64) -> Phasor {
        Phasor {
            magnitude: m,
            angle_deg: a,
        }
    }

    #[test]
    fn reversed_and_swapped_currents_are_found() {
        let u = vec![p(230.0, 0.0), p(230.0, -120.0), p(230.0, 120.0)];
        let good = WiringMeasurement {
            voltages: u.clone(),
            currents: vec![p(5.0, 1.0), p(5.0, -119.0), p(5.0, 121.0)],
            pf_set: 1.0,
        };
        assert!(check(&good, 15.0).is_empty());
        let rev = WiringMeasurement {
            voltages: u.clone(),
            currents: vec![p(5.0, 0.0), p(5.0, 60.0), p(5.0, 120.0)],
            pf_set: 1.0,
        };
        let f = check(&rev, 15.0);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "reversed");
        assert!(f[0].message.starts_with("I2"));
        let swap = WiringMeasurement {
            voltages: u,
            currents: vec![p(5.0, -120.0), p(5.0, 0.0), p(5.0, 120.0)],
            pf_set: 1.0,
        };
        let f = check(&swap, 15.0);
        assert_eq!(f.iter().filter(|x| x.kind == "swapped").count(), 2, "{f:?}");
    }

    #[test]
    fn dft_phasor_of_a_cosine() {
        let fs = 5000.0;
        let x: Vec<f64> = (0..1000)
            .map(|n| 10.0 * (2.0 * std::f64::consts::PI * 50.0 * n as f64 / fs - 0.5).cos())
            .collect();
        let ph = phasor_of(&x, fs, 50.0);
        assert!((ph.magnitude - 10.0 / 2f64.sqrt()).abs() < 1e-9);
        assert!((ph.angle_deg - (-0.5f64).to_degrees()).abs() < 1e-9);
    }
}
