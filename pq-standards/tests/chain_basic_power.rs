//! Time-domain powers of the basic chain (harmonics off; IEEE 1459-2010 3.1.2 and 3.2.3,
//! over the 10/12-cycle windows of IEC 61000-4-30 Ed.3 4.4) against analytic values —
//! P = Σ Uh·Ih·cos φh with harmonics and phase shifts, at off-nominal frequencies — within
//! ±0.01 % (the tolerance of the spectral path's power tests), and against the spectral
//! path's P, S and PF on the same signals. Chunk invariance and missing samples too.

#[path = "chain_support.rs"]
mod support;

use num_complex::Complex64;
use pqe_core::record::IntervalRecord;
use pqe_core::{NominalFrequency, Phase, SystemConfig, Wiring};
use pqe_standards::AnalyzerOptions;
use std::f64::consts::{PI, SQRT_2};
use support::*;

const TOL: f64 = 1e-4; // ±0.01 %

/// A signal as (order, complex RMS phasor against sin(h·θ)).
type Signal = Vec<(usize, Complex64)>;

fn at(sig: &Signal, h: usize) -> Complex64 {
    sig.iter().filter(|(o, _)| *o == h).map(|(_, z)| *z).sum()
}

fn orders(a: &Signal, b: &Signal) -> Vec<usize> {
    let mut o: Vec<usize> = a.iter().chain(b).map(|(h, _)| *h).collect();
    o.sort_unstable();
    o.dedup();
    o
}

fn rms(sig: &Signal) -> f64 {
    orders(sig, sig)
        .iter()
        .map(|&h| at(sig, h).norm_sqr())
        .sum::<f64>()
        .sqrt()
}

/// P = Σ Re(Uh·conj(Ih)) = Σ Uh·Ih·cos φh.
fn active(u: &Signal, i: &Signal) -> f64 {
    orders(u, i)
        .iter()
        .map(|&h| (at(u, h) * at(i, h).conj()).re)
        .sum()
}

fn combine(signals: &[&Signal], signs: &[f64]) -> Signal {
    let all: Vec<usize> = signals
        .iter()
        .flat_map(|s| s.iter().map(|(h, _)| *h))
        .collect();
    let mut o = all;
    o.sort_unstable();
    o.dedup();
    o.into_iter()
        .map(|h| {
            (
                h,
                signals
                    .iter()
                    .zip(signs)
                    .map(|(s, k)| *k * at(s, h))
                    .sum::<Complex64>(),
            )
        })
        .collect()
}

fn render(sig: &Signal, f1: f64, fs: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let theta = 2.0 * PI * f1 * k as f64 / fs;
            sig.iter()
                .map(|(h, z)| SQRT_2 * z.norm() * (*h as f64 * theta + z.arg()).sin())
                .sum()
        })
        .collect()
}

fn voltage_signal(rot: f64, scale: f64) -> Signal {
    vec![
        (1, Complex64::from_polar(230.0 * scale, rot)),
        (3, Complex64::from_polar(4.6, 1.2 + 3.0 * rot)),
        (5, Complex64::from_polar(11.5, 0.4 + 5.0 * rot)),
        (7, Complex64::from_polar(6.9, -1.0 + 7.0 * rot)),
    ]
}

fn current_signal(rot: f64, shift: f64, scale: f64) -> Signal {
    vec![
        (1, Complex64::from_polar(10.0 * scale, rot - shift)),
        (3, Complex64::from_polar(2.0 * scale, 0.3 + 3.0 * rot)),
        (5, Complex64::from_polar(1.0 * scale, -2.2 + 5.0 * rot)),
        (7, Complex64::from_polar(0.5 * scale, 1.1 + 7.0 * rot)),
        (11, Complex64::from_polar(0.3 * scale, 0.0)),
    ]
}

/// Relative error against the analytic value, or against `scale` when the value is near
/// zero (P at 90°).
fn error(got: f64, want: f64, scale: f64) -> f64 {
    let denom = if want.abs() >= 1e-3 * scale {
        want.abs()
    } else {
        scale
    };
    (got - want).abs() / denom
}

fn quantity(r: &IntervalRecord, name: &str) -> f64 {
    r.quantity(name)
        .unwrap_or_else(|| panic!("{name} missing from {:?}", r.quantities))
}

fn config(nominal: NominalFrequency, wiring: Wiring) -> SystemConfig {
    SystemConfig {
        nominal_frequency: nominal,
        udin: 230.0,
        wiring,
        ..SystemConfig::default()
    }
}

fn basic() -> AnalyzerOptions {
    AnalyzerOptions {
        harmonics: false,
        flicker: false,
        ..AnalyzerOptions::default()
    }
}

/// The intervals past the tracker's lock-in.
fn settled(records: &[pqe_core::record::Record]) -> Vec<IntervalRecord> {
    intervals(records)
        .into_iter()
        .filter(|r| r.t > 0.5 && !r.flagged)
        .cloned()
        .collect()
}

#[test]
fn single_phase_power_with_harmonics_and_phase_shifts_at_off_nominal_frequency() {
    let mut worst = 0.0f64;
    for (nominal, f1, fs) in [
        (NominalFrequency::Hz50, 49.37, 10_240.0),
        (NominalFrequency::Hz50, 50.8, 6_400.0),
        (NominalFrequency::Hz60, 59.2, 15_360.0),
    ] {
        for shift_deg in [-90.0, -35.0, 0.0, 25.8, 60.0, 90.0, 180.0] {
            let u = voltage_signal(0.3, 1.0);
            let i = current_signal(0.3, f64::to_radians(shift_deg), 1.0);
            let n = (1.5 * fs) as usize;
            let data = vec![render(&u, f1, fs, n), render(&i, f1, fs, n)];
            let channels = [voltage(Phase::A), current(Phase::A)];
            let records = run(
                &channels,
                &data,
                fs,
                aligned_start(),
                config(nominal, Wiring::Single),
                basic(),
                4_000,
            );
            let rows = settled(&records);
            assert!(rows.len() >= 4, "{nominal} {f1}: {} intervals", rows.len());
            let (p, s) = (active(&u, &i), rms(&u) * rms(&i));
            for r in &rows {
                let case = format!("{nominal} f1 {f1} fs {fs} shift {shift_deg}° t {}", r.t);
                for (name, got, want, scale) in [
                    ("P_A", quantity(r, "P_A"), p, s),
                    ("S_A", quantity(r, "S_A"), s, s),
                    ("PF_A", quantity(r, "PF_A"), p / s, 1.0),
                    ("P", quantity(r, "P"), p, s),
                    ("S", quantity(r, "S"), s, s),
                    ("PF", quantity(r, "PF"), p / s, 1.0),
                ] {
                    let e = error(got, want, scale);
                    worst = worst.max(e);
                    assert!(e <= TOL, "{name} {case}: {got} vs {want} ({e:e})");
                }
                // Only what rests on phasors is absent.
                for absent in ["Q1_A", "DPF_A", "Q", "u2"] {
                    assert!(r.quantity(absent).is_none(), "{absent} {case}");
                }
            }
        }
    }
    println!("single-phase basic power: worst relative error {worst:.2e}");
}

/// An unbalanced, distorted four-wire system: per-phase powers, total P, the effective
/// apparent power Se = 3·Ve·Ie (IEEE 1459-2010 3.2.3) and PF = P/Se, arithmetic ΣS.
fn wye_signals(f_rot: f64) -> ([Signal; 3], [Signal; 3]) {
    let r = 2.0 * PI / 3.0;
    let u = [
        voltage_signal(f_rot, 1.0),
        voltage_signal(f_rot - r, 0.97),
        voltage_signal(f_rot + r, 1.02),
    ];
    let i = [
        current_signal(f_rot, 0.5, 1.0),
        current_signal(f_rot - r, 0.2, 0.7),
        current_signal(f_rot + r, -0.3, 1.3),
    ];
    (u, i)
}

struct Truth {
    phases: [(f64, f64); 3],
    p: f64,
    se: f64,
    s_arith: f64,
    ve: f64,
    ie: f64,
}

fn wye_truth(u: &[Signal; 3], i: &[Signal; 3]) -> Truth {
    let phases = [0, 1, 2].map(|k| (active(&u[k], &i[k]), rms(&u[k]) * rms(&i[k])));
    let line = |x: usize, y: usize| rms(&combine(&[&u[x], &u[y]], &[1.0, -1.0]));
    let sum_line: f64 = [line(0, 1), line(1, 2), line(2, 0)]
        .iter()
        .map(|v| v * v)
        .sum();
    let sum_phase: f64 = u.iter().map(|s| rms(s).powi(2)).sum();
    let neutral = rms(&combine(&[&i[0], &i[1], &i[2]], &[1.0, 1.0, 1.0]));
    let sum_i: f64 = i.iter().map(|s| rms(s).powi(2)).sum();
    let ve = ((3.0 * sum_phase + sum_line) / 18.0).sqrt();
    let ie = ((sum_i + neutral * neutral) / 3.0).sqrt();
    Truth {
        phases,
        p: phases.iter().map(|(p, _)| p).sum(),
        se: 3.0 * ve * ie,
        s_arith: phases.iter().map(|(_, s)| s).sum(),
        ve,
        ie,
    }
}

fn wye_channels() -> Vec<pqe_core::ChannelSpec> {
    vec![
        voltage(Phase::A),
        voltage(Phase::B),
        voltage(Phase::C),
        current(Phase::A),
        current(Phase::B),
        current(Phase::C),
    ]
}

fn wye_data(u: &[Signal; 3], i: &[Signal; 3], f1: f64, fs: f64, n: usize) -> Vec<Vec<f64>> {
    u.iter()
        .chain(i.iter())
        .map(|s| render(s, f1, fs, n))
        .collect()
}

#[test]
fn wye_three_phase_totals_against_analytic_values() {
    let mut worst = 0.0f64;
    for (nominal, f1, fs) in [
        (NominalFrequency::Hz50, 50.63, 10_240.0),
        (NominalFrequency::Hz60, 59.41, 12_800.0),
    ] {
        let (u, i) = wye_signals(0.2);
        let truth = wye_truth(&u, &i);
        let data = wye_data(&u, &i, f1, fs, (1.5 * fs) as usize);
        let records = run(
            &wye_channels(),
            &data,
            fs,
            aligned_start(),
            config(nominal, Wiring::Wye),
            basic(),
            65_536,
        );
        let rows = settled(&records);
        assert!(rows.len() >= 4);
        for r in &rows {
            let case = format!("{nominal} f1 {f1} t {}", r.t);
            let mut checks = vec![
                ("P", quantity(r, "P"), truth.p, truth.se),
                ("S", quantity(r, "S"), truth.se, truth.se),
                ("PF", quantity(r, "PF"), truth.p / truth.se, 1.0),
                (
                    "S_arith",
                    quantity(r, "S_arith"),
                    truth.s_arith,
                    truth.s_arith,
                ),
                ("Ve", quantity(r, "Ve"), truth.ve, truth.ve),
                ("Ie", quantity(r, "Ie"), truth.ie, truth.ie),
            ];
            for (k, s) in ["A", "B", "C"].iter().enumerate() {
                let (p, sk) = truth.phases[k];
                checks.push(("P_x", quantity(r, &format!("P_{s}")), p, sk));
                checks.push(("S_x", quantity(r, &format!("S_{s}")), sk, sk));
                checks.push(("PF_x", quantity(r, &format!("PF_{s}")), p / sk, 1.0));
            }
            for (name, got, want, scale) in checks {
                let e = error(got, want, scale);
                worst = worst.max(e);
                assert!(e <= TOL, "{name} {case}: {got} vs {want} ({e:e})");
            }
        }
    }
    println!("wye basic power: worst relative error {worst:.2e}");
}

/// The time-domain integrals and the spectral path's resampled windows give the same
/// P, S, PF (to well within the tolerance), per phase and in total.
#[test]
fn basic_powers_agree_with_the_spectral_path() {
    let (fs, f1) = (10_240.0, 49.71);
    let (u, i) = wye_signals(-0.4);
    let data = wye_data(&u, &i, f1, fs, (1.5 * fs) as usize);
    let go = |options: AnalyzerOptions| {
        let records = run(
            &wye_channels(),
            &data,
            fs,
            aligned_start(),
            config(NominalFrequency::Hz50, Wiring::Wye),
            options,
            7_000,
        );
        settled(&records)
    };
    let basic_rows = go(basic());
    let spectral_rows = go(AnalyzerOptions {
        flicker: false,
        ..AnalyzerOptions::default()
    });
    assert_eq!(basic_rows.len(), spectral_rows.len());
    let mut worst = 0.0f64;
    for (b, s) in basic_rows.iter().zip(&spectral_rows) {
        assert_eq!(b.start_sample, s.start_sample);
        let scale = quantity(s, "S");
        for name in [
            "P_A", "P_B", "P_C", "S_A", "S_B", "S_C", "P", "S", "S_arith", "Ve", "Ie",
        ] {
            let e = (quantity(b, name) - quantity(s, name)).abs() / scale;
            worst = worst.max(e);
            assert!(e <= TOL, "{name} at {}: {e:e}", b.t);
        }
        for name in ["PF_A", "PF_B", "PF_C", "PF"] {
            let e = (quantity(b, name) - quantity(s, name)).abs();
            worst = worst.max(e);
            assert!(e <= TOL, "{name} at {}: {e:e}", b.t);
        }
    }
    println!("basic vs spectral power: worst difference {worst:.2e}");
}

/// Blocks of any size give the same powers, bit for bit; a missing sample makes the
/// interval's powers NaN.
#[test]
fn basic_powers_are_chunk_invariant_and_nan_on_missing_samples() {
    let (fs, f1) = (4_096.0, 50.2);
    let (u, i) = wye_signals(0.9);
    let mut data = wye_data(&u, &i, f1, fs, (1.2 * fs) as usize);
    let hole = (0.8 * fs) as usize;
    data[4][hole] = f64::NAN;
    let go = |block: usize| {
        let records = run(
            &wye_channels(),
            &data,
            fs,
            aligned_start(),
            config(NominalFrequency::Hz50, Wiring::Wye),
            basic(),
            block,
        );
        intervals(&records).into_iter().cloned().collect::<Vec<_>>()
    };
    let reference = go(65_536);
    for block in [1, 7, 1000] {
        let other = go(block);
        assert_eq!(other.len(), reference.len());
        for (a, b) in other.iter().zip(&reference) {
            assert_eq!(a.quantities.len(), b.quantities.len());
            for ((na, va), (nb, vb)) in a.quantities.iter().zip(&b.quantities) {
                assert_eq!(na, nb);
                assert_eq!(
                    va.to_bits(),
                    vb.to_bits(),
                    "{na} at {} (block {block})",
                    a.t
                );
            }
        }
    }
    let with_hole: Vec<&IntervalRecord> = reference
        .iter()
        .filter(|r| {
            r.start_sample <= hole as f64 && hole as f64 <= r.start_sample + r.length_samples
        })
        .collect();
    assert!(!with_hole.is_empty());
    for r in with_hole {
        assert!(r.flags.missing_samples);
        assert!(quantity(r, "P_B").is_nan() && quantity(r, "P").is_nan());
        assert!(quantity(r, "P_A").is_finite() && quantity(r, "S_C").is_finite());
    }
}
