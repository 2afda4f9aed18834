//! Unbalance u2 and u0 against analytic values (issue 3 "Done means": u2 within ±0.015 %
//! absolute for 0–5 % unbalance), with harmonics and off-nominal frequency, from phase
//! voltages (wye) and from line-to-line voltages (delta).

mod spectral_support;

use num_complex::Complex64;
use pqe_core::NominalFrequency;
use pqe_dsp::symmetrical::phases_from_components;
use pqe_standards::unbalance::Unbalance;
use spectral_support::*;

#[test]
fn u2_and_u0_from_synchronised_spectra() {
    let mut worst_u2 = Worst::default();
    let mut worst_u0 = Worst::default();
    let mut worst_angle = Worst::default();
    for (nominal, freqs) in [
        (NominalFrequency::Hz50, [49.2, 50.0, 50.8]),
        (NominalFrequency::Hz60, [59.2, 60.0, 60.8]),
    ] {
        let mut chain = Chain::new(nominal);
        for f1 in freqs {
            for (j, u2) in [0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0].into_iter().enumerate() {
                let u0 = [0.0, 1.5][j % 2];
                let pos = Complex64::from_polar(UNOM, 0.25);
                let neg = Complex64::from_polar(u2 / 100.0 * UNOM, 0.9 * j as f64);
                let zero = Complex64::from_polar(u0 / 100.0 * UNOM, -0.6 * j as f64);
                let (a, b, c) = phases_from_components(zero, pos, neg);
                let mut fund = Vec::new();
                let mut line = Vec::new();
                for (k, z) in [a, b, c].into_iter().enumerate() {
                    // Each phase also carries a 5 % 5th and 3 % 7th harmonic.
                    let tones = [
                        Tone::new(z.norm(), 1.0, z.arg()),
                        Tone::new(0.05 * UNOM, 5.0, 1.0 + k as f64),
                        Tone::new(0.03 * UNOM, 7.0, -0.5 * k as f64),
                    ];
                    let s = chain.run(FS, f1, &tones);
                    fund.push(s.fundamental());
                    line.push(tones);
                }
                let case = || format!("{nominal} f1 {f1} u2 {u2} % u0 {u0} %");
                let u = Unbalance::from_phase_phasors(fund[0], fund[1], fund[2]);
                worst_u2.see((u.u2 - u2).abs(), case);
                worst_u0.see((u.u0 - u0).abs(), case);
                let want_b = angle_diff_deg(b.arg().to_degrees(), a.arg().to_degrees());
                worst_angle.see(angle_diff_deg(u.phasors[1].angle_deg, want_b).abs(), case);
                // Delta: the line-to-line windows are differences of the phase windows.
                let mut ll = Vec::new();
                for k in 0..3 {
                    let mut tones = line[k].to_vec();
                    for t in &line[(k + 1) % 3] {
                        tones.push(Tone::new(t.rms, t.order, t.phase + std::f64::consts::PI));
                    }
                    ll.push(chain.run(FS, f1, &tones).fundamental());
                }
                let d = Unbalance::from_line_to_line(ll[0], ll[1], ll[2]);
                worst_u2.see((d.u2 - u2).abs(), || format!("{} (delta)", case()));
                assert!(d.u0.is_nan());
            }
        }
    }
    worst_u2.report("u2 absolute error (percentage points)");
    worst_u0.report("u0 absolute error (percentage points)");
    worst_angle.report("phasor angle error (deg)");
    assert!(worst_u2.value <= 0.015, "{worst_u2:?}");
    assert!(worst_u0.value <= 0.015, "{worst_u0:?}");
    assert!(worst_angle.value <= 0.01, "{worst_angle:?}");
}
