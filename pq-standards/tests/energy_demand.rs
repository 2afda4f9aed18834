//! Energy registers and demand fed by the Analyzer's 10/12-cycle intervals, against the
//! generator's analytic powers: unbalanced loads in all four quadrants with harmonics,
//! within ±0.01 %, and chunk invariance of every register.

use pqe_core::record::{IntervalRecord, Record};
use pqe_core::Phase;
use pqe_dsp::synth::Scenario;
use pqe_standards::demand::{DemandMeter, DemandMethod, DemandSettings};
use pqe_standards::energy::{EnergyMeter, EnergyPeriod, PowerReading};
use pqe_standards::{Analyzer, AnalyzerOptions};

const TOL: f64 = 1e-4; // ±0.01 %
const PHASES: [Phase; 3] = [Phase::A, Phase::B, Phase::C];

fn scenario(displacement: [f64; 3]) -> Scenario {
    Scenario::from_toml_str(&format!(
        r#"
        sample_rate = 10240
        duration = 12.0
        start = "2024-01-01T00:00:00Z"
        channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
        [frequency]
        offset = 0.23
        [[voltage.harmonics]]
        order = 5
        magnitude = 5.0
        [current]
        magnitude = [10.0, 20.0, 15.0]
        displacement = [{}, {}, {}]
        [[current.harmonics]]
        order = 5
        magnitude = 10.0
        [[current.harmonics]]
        order = 3
        magnitude = 8.0
        "#,
        displacement[0], displacement[1], displacement[2]
    ))
    .unwrap()
}

fn intervals(s: &Scenario, block: usize) -> Vec<IntervalRecord> {
    let info = s.recording_info();
    let mut a = Analyzer::new(
        &info.channels,
        s.sample_rate(),
        s.start(),
        s.system_config(),
        AnalyzerOptions::default(),
    )
    .unwrap();
    let mut g = s.generator();
    let mut out = Vec::new();
    let mut take = |records: Vec<Record>| {
        for r in records {
            if let Record::Interval(i) = r {
                out.push(i);
            }
        }
    };
    while let Some(b) = g.next_block(block) {
        a.push(&b).unwrap();
        take(a.drain().collect());
    }
    a.finish();
    take(a.drain().collect());
    out
}

fn quantity(r: &IntervalRecord, name: &str) -> f64 {
    r.quantity(name)
        .unwrap_or_else(|| panic!("no {name} in the interval"))
}

/// Per phase then the system: (P, Q1, S) of an interval.
fn readings(r: &IntervalRecord) -> Vec<PowerReading> {
    let mut out: Vec<PowerReading> = PHASES
        .iter()
        .map(|p| PowerReading {
            p: quantity(r, &format!("P_{p}")),
            q: quantity(r, &format!("Q1_{p}")),
            s: quantity(r, &format!("S_{p}")),
        })
        .collect();
    out.push(PowerReading {
        p: quantity(r, "P"),
        q: quantity(r, "Q"),
        s: quantity(r, "S"),
    });
    out
}

fn energy(records: &[IntervalRecord]) -> (EnergyPeriod, f64) {
    let names = ["A", "B", "C", "total"].map(String::from).to_vec();
    let mut m = EnergyMeter::new(names, 0, 0, 600.0);
    let mut seconds = 0.0;
    for r in records {
        m.push(r.start, r.duration, &readings(r), &[], &[]);
        seconds += r.duration;
    }
    (m.whole().unwrap().clone(), seconds)
}

#[test]
fn four_quadrant_energy_matches_the_analytic_powers() {
    for displacement in [[30.0, 150.0, -150.0], [-30.0, 60.0, 100.0]] {
        let s = scenario(displacement);
        let records = intervals(&s, 65_536);
        assert!(records.len() > 50);
        let (whole, seconds) = energy(&records);
        let hours = seconds / 3600.0;
        let mut p_total = 0.0;
        for (k, phase) in PHASES.iter().enumerate() {
            let truth = s.expected_power_at(*phase, 6.0).unwrap();
            // Q1 = U1·I1·sin φ1 (IEEE 1459-2010 3.1.2.4), φ1 the configured displacement.
            let q1 = truth.s1 * displacement[k].to_radians().sin();
            p_total += truth.p;
            let reg = &whole.registers[k];
            let (active, other) = if truth.p >= 0.0 {
                (reg.active_delivered, reg.active_received)
            } else {
                (reg.active_received, reg.active_delivered)
            };
            assert!(
                (active / (truth.p.abs() * hours) - 1.0).abs() < TOL,
                "phase {phase} at {}°: {active} Wh vs {}",
                displacement[k],
                truth.p.abs() * hours
            );
            assert_eq!(
                other, 0.0,
                "phase {phase}: the other active register stays empty"
            );
            let quadrant = match (truth.p >= 0.0, q1 >= 0.0) {
                (true, true) => 0,
                (false, true) => 1,
                (false, false) => 2,
                (true, false) => 3,
            };
            let q = reg.reactive_quadrants[quadrant];
            assert!(
                (q / (q1.abs() * hours) - 1.0).abs() < TOL,
                "phase {phase} Q{}: {q} varh vs {}",
                quadrant + 1,
                q1.abs() * hours
            );
            let others: f64 = (0..4)
                .filter(|&j| j != quadrant)
                .map(|j| reg.reactive_quadrants[j])
                .sum();
            assert_eq!(others, 0.0);
        }
        let total = whole.registers[3].active_net();
        assert!(
            (total / (p_total * hours) - 1.0).abs() < TOL,
            "{total} vs {}",
            p_total * hours
        );
    }
}

#[test]
fn registers_do_not_depend_on_block_cuts() {
    let s = scenario([30.0, 150.0, -150.0]);
    let (reference, _) = energy(&intervals(&s, 1 << 20));
    for block in [1000, 4097] {
        let (got, _) = energy(&intervals(&s, block));
        assert_eq!(got, reference, "block {block}");
    }
}

#[test]
fn block_demand_of_total_power_matches_the_analytic_value() {
    let s = scenario([-30.0, 60.0, 100.0]);
    let records = intervals(&s, 65_536);
    let p_total: f64 = PHASES
        .iter()
        .map(|p| s.expected_power_at(*p, 6.0).unwrap().p)
        .sum();
    for method in [
        DemandMethod::Block,
        DemandMethod::Rolling { subintervals: 2 },
    ] {
        let mut d = DemandMeter::new(
            vec!["P".into(), "S".into()],
            DemandSettings {
                interval: 2.0,
                method,
            },
        )
        .unwrap();
        let mut out = Vec::new();
        for r in &records {
            out.extend(d.push(r.start, r.duration, &[quantity(r, "P"), quantity(r, "S")]));
        }
        out.extend(d.finish());
        let complete: Vec<_> = out.iter().filter(|r| r.complete).collect();
        assert!(complete.len() >= 4, "{method:?}: {}", complete.len());
        for r in complete {
            assert!(
                (r.values[0] / p_total - 1.0).abs() < TOL,
                "{method:?} at {:?}: {} vs {p_total}",
                r.end,
                r.values[0]
            );
        }
        let peak = &d.maxima()[0];
        assert!((peak.value / p_total - 1.0).abs() < TOL);
        assert_eq!(peak.coincident.len(), 2);
    }
}
