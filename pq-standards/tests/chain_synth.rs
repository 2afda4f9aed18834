//! The chain against the scenario generator's analytic truth (`pqe_dsp::synth`): a 50 Hz
//! wye supply off nominal with harmonics, noise and a lagging distorted load, and a 60 Hz
//! delta supply with 2 % negative-sequence unbalance.

#[path = "chain_support.rs"]
mod support;

use pqe_core::record::Record;
use pqe_core::Phase;
use pqe_dsp::synth::Scenario;
use pqe_standards::{Analyzer, AnalyzerOptions};
use support::*;

fn analyze(s: &Scenario, block: usize) -> Vec<Record> {
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
    while let Some(b) = g.next_block(block) {
        a.push(&b).unwrap();
        out.extend(a.drain());
    }
    a.finish();
    out.extend(a.drain());
    out
}

#[test]
fn wye_50_hz_off_nominal_with_harmonics_noise_and_load() {
    let s = Scenario::from_toml_str(
        r#"
        sample_rate = 10240
        duration = 21.0
        start = "2024-01-01T00:00:00Z"
        nominal_frequency = 50
        udin = 230.0
        wiring = "wye"
        channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
        [frequency]
        offset = 0.37
        [[voltage.harmonics]]
        order = 5
        magnitude = 5.0
        [[voltage.harmonics]]
        order = 7
        magnitude = 3.0
        [current]
        magnitude = 12.0
        displacement = 20.0
        [[current.harmonics]]
        order = 3
        magnitude = 8.0
        "#,
    )
    .unwrap();
    let records = analyze(&s, 4096);
    let udin = s.udin();
    let iv = intervals(&records);
    assert!(iv.len() > 100);
    let mut worst_rms: f64 = 0.0;
    let mut worst_p: f64 = 0.0;
    for r in iv.iter().filter(|r| !r.flagged) {
        let mid = r.t + 0.5 * r.duration;
        for col in ["U_A", "U_B", "U_C"] {
            let truth = s.expected_rms_at(col, mid).unwrap();
            let err = (r.channel(col).unwrap().rms - truth).abs() / udin;
            worst_rms = worst_rms.max(err);
        }
        let pt = s.expected_power_at(Phase::A, mid).unwrap();
        let p = r.quantity("P_A").unwrap();
        worst_p = worst_p.max((p - pt.p).abs() / pt.s);
        assert!((r.quantity("PF_A").unwrap() - pt.pf).abs() < 1e-4);
    }
    eprintln!(
        "synth wye: worst RMS error {worst_rms:.2e} of Udin, worst P error {worst_p:.2e} of S"
    );
    assert!(worst_rms < 1e-4, "{worst_rms}");
    assert!(worst_p < 1e-4, "{worst_p}");
    let f: Vec<_> = frequencies(&records)
        .into_iter()
        .filter(|f| !f.flagged)
        .collect();
    assert!(!f.is_empty());
    for r in f {
        let truth = s.frequency_at(r.t + 5.0);
        eprintln!(
            "synth wye: 10-s frequency error {:.2e} Hz",
            r.frequency - truth
        );
        assert!((r.frequency - truth).abs() < 1e-3);
    }
}

#[test]
fn delta_60_hz_unbalance() {
    let s = Scenario::from_toml_str(
        r#"
        sample_rate = 15360
        duration = 3.0
        start = "2024-01-01T00:00:00Z"
        nominal_frequency = 60
        udin = 480.0
        wiring = "delta"
        [frequency]
        offset = 0.02
        [voltage]
        u2 = 2.0
        u2_angle = 30.0
        [current]
        magnitude = 50.0
        displacement = 25.0
        "#,
    )
    .unwrap();
    let truth = s.expected_unbalance();
    let records = analyze(&s, 1000);
    let iv = intervals(&records);
    assert!(iv.len() > 10);
    for r in &iv {
        assert_eq!(r.cycles, 12);
        let u2 = r.quantity("u2").unwrap();
        assert!((u2 - truth.u2).abs() < 0.015, "u2 {u2} vs {}", truth.u2);
        assert!(r.quantity("u0").unwrap().is_nan());
        for col in ["U_AB", "U_BC", "U_CA"] {
            let rms = r.channel(col).unwrap().rms;
            let expected = s.expected_rms_at(col, r.t + 0.1).unwrap();
            assert!(
                (rms - expected).abs() < 1e-4 * 480.0,
                "{col}: {rms} vs {expected}"
            );
        }
        assert!(r.quantity("P").unwrap().is_finite());
    }
}
