//! IEEE 1459 power quantities against analytic values (issue 3 "Done means": P, Q1, S, PF
//! with known phase shifts and harmonics within ±0.01 % of analytic), per phase and for
//! wye (four-wire) and delta (three-wire) systems, at nominal and off-nominal frequency.

mod spectral_support;

use num_complex::Complex64;
use pqe_core::{NominalFrequency, Wiring};
use pqe_dsp::symmetrical::symmetrical_components;
use pqe_standards::ieee1459::*;
use spectral_support::*;

const TOL: f64 = 1e-4; // ±0.01 %

/// A signal as phasors per integer order (complex RMS, cosine reference at window start).
type Signal = Vec<(usize, Complex64)>;

fn tones(sig: &Signal) -> Vec<Tone> {
    sig.iter()
        .map(|&(h, z)| Tone::new(z.norm(), h as f64, z.arg()))
        .collect()
}

fn at(sig: &Signal, h: usize) -> Complex64 {
    sig.iter().filter(|(o, _)| *o == h).map(|(_, z)| *z).sum()
}

fn rms(sig: &Signal) -> f64 {
    (1..=63).map(|h| at(sig, h).norm_sqr()).sum::<f64>().sqrt()
}

fn combine(a: &Signal, b: &Signal, sign: f64) -> Signal {
    (1..=63)
        .map(|h| (h, at(a, h) + sign * at(b, h)))
        .filter(|(_, z)| z.norm() > 0.0)
        .collect()
}

fn active(v: &Signal, i: &Signal) -> f64 {
    (1..=63).map(|h| (at(v, h) * at(i, h).conj()).re).sum()
}

/// Synchronised window of a signal, and its fundamental phasor.
fn synced(chain: &mut Chain, f1: f64, sig: &Signal) -> (Vec<f64>, Complex64) {
    let s = chain.run(FS, f1, &tones(sig));
    (chain.synced.clone(), s.fundamental())
}

fn check(worst: &mut Worst, got: f64, want: f64, scale: f64, what: &str, case: &str) {
    // Relative to the analytic value; for a value near zero (P at 90°) relative to `scale`.
    let denom = if want.abs() >= 1e-3 * scale {
        want.abs()
    } else {
        scale
    };
    let err = (got - want).abs() / denom;
    worst.see(err, || format!("{what} {case}"));
    assert!(err <= TOL, "{what} {case}: {got} vs {want}");
}

fn v_signal(rot: f64) -> Signal {
    vec![
        (1, Complex64::from_polar(230.0, rot)),
        (5, Complex64::from_polar(11.5, 0.4 + 5.0 * rot)),
        (7, Complex64::from_polar(6.9, -1.0 + 7.0 * rot)),
        (11, Complex64::from_polar(2.3, 2.0 + 11.0 * rot)),
    ]
}

fn i_signal(rot: f64, shift: f64, scale: f64) -> Signal {
    vec![
        (1, Complex64::from_polar(10.0 * scale, rot - shift)),
        (3, Complex64::from_polar(2.0 * scale, 0.3 + 3.0 * rot)),
        (5, Complex64::from_polar(1.0 * scale, -2.2 + 5.0 * rot)),
        (7, Complex64::from_polar(0.5 * scale, 1.1 + 7.0 * rot)),
        (13, Complex64::from_polar(0.3 * scale, 0.0)),
    ]
}

#[test]
fn single_phase_quantities_with_phase_shifts_and_harmonics() {
    let mut worst = Worst::default();
    for (nominal, freqs) in [
        (NominalFrequency::Hz50, [49.2, 50.0, 50.8]),
        (NominalFrequency::Hz60, [59.2, 60.0, 60.8]),
    ] {
        let mut chain = Chain::new(nominal);
        for f1 in freqs {
            for shift_deg in [-90.0, -60.0, -30.0, 0.0, 25.8, 60.0, 90.0, 180.0] {
                let shift = f64::to_radians(shift_deg);
                let v = v_signal(0.3);
                let i = i_signal(0.3, shift, 1.0);
                let (vw, v1) = synced(&mut chain, f1, &v);
                let (iw, i1) = synced(&mut chain, f1, &i);
                let ph = PhasePower::from_synced(&vw, &iw, v1, i1).unwrap();
                let s = rms(&v) * rms(&i);
                let p = active(&v, &i);
                let q1 = (at(&v, 1) * at(&i, 1).conj()).im;
                let case = format!("{nominal} f1 {f1} shift {shift_deg}°");
                check(&mut worst, ph.p, p, s, "P", &case);
                check(&mut worst, ph.s, s, s, "S", &case);
                check(&mut worst, ph.q1, q1, s, "Q1", &case);
                check(&mut worst, ph.pf, p / s, 1.0, "PF", &case);
                check(
                    &mut worst,
                    ph.p1,
                    (at(&v, 1) * at(&i, 1).conj()).re,
                    s,
                    "P1",
                    &case,
                );
                check(&mut worst, ph.s1, 2300.0, s, "S1", &case);
                let vh = (rms(&v).powi(2) - 230.0f64.powi(2)).sqrt();
                let ih = (rms(&i).powi(2) - 100.0).sqrt();
                check(&mut worst, ph.d_i, 230.0 * ih, s, "D_I", &case);
                check(&mut worst, ph.d_v, vh * 10.0, s, "D_V", &case);
                check(&mut worst, ph.s_h, vh * ih, s, "S_H", &case);
                check(&mut worst, ph.n, (s * s - p * p).sqrt(), s, "N", &case);
                check(
                    &mut worst,
                    ph.s_n,
                    (s * s - 2300.0f64.powi(2)).sqrt(),
                    s,
                    "S_N",
                    &case,
                );
            }
        }
    }
    worst.report("single-phase power relative error");
}

/// An unbalanced, distorted four-wire system with neutral current.
#[test]
fn wye_three_phase_effective_and_positive_sequence_quantities() {
    let mut worst = Worst::default();
    for (nominal, f1) in [
        (NominalFrequency::Hz50, 50.8),
        (NominalFrequency::Hz60, 59.2),
    ] {
        let mut chain = Chain::new(nominal);
        let rot = [
            0.0,
            -2.0 * std::f64::consts::PI / 3.0,
            2.0 * std::f64::consts::PI / 3.0,
        ];
        let v: Vec<Signal> = (0..3)
            .map(|k| {
                let mut s = v_signal(rot[k] + 0.2);
                s[0].1 *= [1.0, 0.97, 1.02][k];
                s
            })
            .collect();
        let i: Vec<Signal> = (0..3)
            .map(|k| i_signal(rot[k] + 0.2, [0.5, 0.3, 0.8][k], [1.0, 0.7, 1.3][k]))
            .collect();
        let neutral = combine(&combine(&i[0], &i[1], 1.0), &i[2], 1.0);
        let mut phases = [PhasePower::default(); 3];
        let mut vwin = Vec::new();
        let mut v1 = [Complex64::new(0.0, 0.0); 3];
        let mut i1 = [Complex64::new(0.0, 0.0); 3];
        let mut iwin = Vec::new();
        for k in 0..3 {
            let (vw, vp) = synced(&mut chain, f1, &v[k]);
            let (iw, ip) = synced(&mut chain, f1, &i[k]);
            phases[k] = PhasePower::from_synced(&vw, &iw, vp, ip).unwrap();
            v1[k] = vp;
            i1[k] = ip;
            vwin.push(vw);
            iwin.push(iw);
        }
        let lines = line_to_line_rms_all(&vwin[0], &vwin[1], &vwin[2]);
        let inputs = ThreePhaseInputs {
            wiring: Wiring::Wye,
            phases,
            line_to_line_rms: lines,
            neutral_current_rms: neutral_current_rms(&iwin[0], &iwin[1], &iwin[2]),
            voltage_phasors: v1,
            current_phasors: i1,
            neutral_current_phasor: i1[0] + i1[1] + i1[2],
        };
        let tp = ThreePhasePower::compute(&inputs).unwrap();
        // Analytic.
        let sum_v2: f64 = v.iter().map(|s| rms(s).powi(2)).sum();
        let sum_l2: f64 = (0..3)
            .map(|k| rms(&combine(&v[k], &v[(k + 1) % 3], -1.0)).powi(2))
            .sum();
        let ve = ((3.0 * sum_v2 + sum_l2) / 18.0).sqrt();
        let ie =
            ((i.iter().map(|s| rms(s).powi(2)).sum::<f64>() + rms(&neutral).powi(2)) / 3.0).sqrt();
        let p: f64 = (0..3).map(|k| active(&v[k], &i[k])).sum();
        let (_, vp, _) = symmetrical_components(at(&v[0], 1), at(&v[1], 1), at(&v[2], 1));
        let (_, ip, _) = symmetrical_components(at(&i[0], 1), at(&i[1], 1), at(&i[2], 1));
        let s_pos = 3.0 * vp * ip.conj();
        let s_arith: f64 = (0..3).map(|k| rms(&v[k]) * rms(&i[k])).sum();
        let se = 3.0 * ve * ie;
        let case = format!("{nominal} f1 {f1}");
        for k in 0..3 {
            let want = rms(&combine(&v[k], &v[(k + 1) % 3], -1.0));
            check(&mut worst, lines[k], want, want, "U_line", &case);
        }
        check(&mut worst, tp.ve, ve, ve, "Ve", &case);
        check(&mut worst, tp.ie, ie, ie, "Ie", &case);
        check(&mut worst, tp.se, se, se, "Se", &case);
        check(&mut worst, tp.p, p, se, "P", &case);
        check(&mut worst, tp.p1_pos, s_pos.re, se, "P1+", &case);
        check(&mut worst, tp.q1_pos, s_pos.im, se, "Q1+", &case);
        check(&mut worst, tp.s1_pos, s_pos.norm(), se, "S1+", &case);
        check(&mut worst, tp.s_arithmetic, s_arith, se, "ΣS", &case);
        check(&mut worst, tp.pf_e, p / se, 1.0, "PFe", &case);
    }
    worst.report("wye three-phase relative error");
}

/// A three-wire system measured line to line: per-phase powers against the artificial
/// neutral add up to the true total; Ve, Ie and the positive sequence come out right.
#[test]
fn delta_three_phase_from_line_to_line_measurements() {
    let mut worst = Worst::default();
    let f1 = 49.2;
    let mut chain = Chain::new(NominalFrequency::Hz50);
    let rot = [
        0.0,
        -2.0 * std::f64::consts::PI / 3.0,
        2.0 * std::f64::consts::PI / 3.0,
    ];
    // True phase voltages (with some zero sequence, invisible to a three-wire load).
    let v: Vec<Signal> = (0..3)
        .map(|k| {
            let mut s = v_signal(rot[k]);
            s[0].1 *= [1.0, 0.95, 1.03][k];
            s.push((3, Complex64::from_polar(4.0, 0.5)));
            s
        })
        .collect();
    let ia = i_signal(0.0, 0.4, 1.0);
    let ib = i_signal(rot[1], 0.2, 0.8);
    let ic = combine(&combine(&ia, &ib, 1.0), &vec![], 1.0)
        .into_iter()
        .map(|(h, z)| (h, -z))
        .collect::<Signal>();
    let i = [ia, ib, ic];
    let line: Vec<Signal> = (0..3)
        .map(|k| combine(&v[k], &v[(k + 1) % 3], -1.0))
        .collect();
    let mut lw = Vec::new();
    let mut l1 = [Complex64::new(0.0, 0.0); 3];
    for k in 0..3 {
        let (w, p) = synced(&mut chain, f1, &line[k]);
        lw.push(w);
        l1[k] = p;
    }
    let n = lw[0].len();
    let (mut a, mut b, mut c) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    artificial_neutral([&lw[0], &lw[1], &lw[2]], [&mut a, &mut b, &mut c]).unwrap();
    let vn = artificial_neutral_phasors(l1[0], l1[1], l1[2]);
    let mut phases = [PhasePower::default(); 3];
    let mut i1 = [Complex64::new(0.0, 0.0); 3];
    for (k, vk) in [&a, &b, &c].into_iter().enumerate() {
        let (iw, ip) = synced(&mut chain, f1, &i[k]);
        phases[k] = PhasePower::from_synced(vk, &iw, vn[k], ip).unwrap();
        i1[k] = ip;
    }
    let lines = [0, 1, 2].map(|k| (lw[k].iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt());
    let tp = ThreePhasePower::compute(&ThreePhaseInputs {
        wiring: Wiring::Delta,
        phases,
        line_to_line_rms: lines,
        neutral_current_rms: 0.0,
        voltage_phasors: l1,
        current_phasors: i1,
        neutral_current_phasor: Complex64::new(0.0, 0.0),
    })
    .unwrap();
    let p: f64 = (0..3).map(|k| active(&v[k], &i[k])).sum();
    let ve = (line.iter().map(|s| rms(s).powi(2)).sum::<f64>() / 9.0).sqrt();
    let ie = (i.iter().map(|s| rms(s).powi(2)).sum::<f64>() / 3.0).sqrt();
    let (_, vp, _) = symmetrical_components(at(&v[0], 1), at(&v[1], 1), at(&v[2], 1));
    let (_, ip, _) = symmetrical_components(at(&i[0], 1), at(&i[1], 1), at(&i[2], 1));
    let s_pos = 3.0 * vp * ip.conj();
    let se = 3.0 * ve * ie;
    let case = "delta f1 49.2";
    check(&mut worst, tp.p, p, se, "P", case);
    check(&mut worst, tp.ve, ve, ve, "Ve", case);
    check(&mut worst, tp.ie, ie, ie, "Ie", case);
    check(&mut worst, tp.se, se, se, "Se", case);
    check(&mut worst, tp.p1_pos, s_pos.re, se, "P1+", case);
    check(&mut worst, tp.q1_pos, s_pos.im, se, "Q1+", case);
    worst.report("delta three-phase relative error");
    // Single-phase wiring has no three-phase quantities.
    let single = ThreePhaseInputs {
        wiring: Wiring::Single,
        ..ThreePhaseInputs {
            wiring: Wiring::Delta,
            phases,
            line_to_line_rms: lines,
            neutral_current_rms: 0.0,
            voltage_phasors: l1,
            current_phasors: i1,
            neutral_current_phasor: Complex64::new(0.0, 0.0),
        }
    };
    assert!(ThreePhasePower::compute(&single).is_err());
}
