//! IEC 61000-4-30 4.7: a dip inside a 10-min flicker period flags that period's Pst, even
//! when the dip lies minutes before the period ends.

use pqe_core::record::{FlickerRecord, FlickerSeverity, Record};
use pqe_dsp::synth::Scenario;
use pqe_standards::{Analyzer, AnalyzerOptions};

const SCENARIO: &str = r#"
name = "dip-inside-a-pst-period"
sample_rate = 4000
duration = 1260.0
start = "2024-01-01T00:00:00Z"
nominal_frequency = 50
udin = 230.0
wiring = "wye"
channels = ["U_A", "U_B", "U_C"]

[[events]]
kind = "dip"
start = 900.0
duration = 0.2
residual = 60.0
phases = ["A"]
"#;

/// The Pst records of U_A the analyzer makes for the scenario.
fn pst_of_u_a(scenario_text: &str) -> Vec<FlickerRecord> {
    let scenario = Scenario::from_toml_str(scenario_text).unwrap();
    let info = scenario.recording_info();
    let options = AnalyzerOptions {
        harmonics: false,
        ..AnalyzerOptions::default()
    };
    let mut analyzer = Analyzer::new(
        &info.channels,
        info.sample_rate,
        info.start,
        scenario.system_config(),
        options,
    )
    .unwrap();
    let mut generator = scenario.generator();
    let mut pst = Vec::new();
    let mut take = |records: Vec<Record>| {
        for r in records {
            if let Record::Flicker(f) = r {
                if f.severity == FlickerSeverity::Pst && f.column == "U_A" {
                    pst.push(f);
                }
            }
        }
    };
    while let Some(block) = generator.next_block(65_536) {
        analyzer.push(&block).unwrap();
        take(analyzer.drain().collect());
    }
    analyzer.finish();
    take(analyzer.drain().collect());
    pst
}

fn period(pst: &[FlickerRecord], t: f64) -> &FlickerRecord {
    pst.iter()
        .find(|r| (r.t - t).abs() < 1e-6)
        .unwrap_or_else(|| {
            panic!(
                "no Pst at {t} s in {:?}",
                pst.iter().map(|r| r.t).collect::<Vec<_>>()
            )
        })
}

#[test]
fn pst_of_a_period_with_a_dip_is_flagged() {
    // Periods 00:00 (settling), 00:10 (holding the dip at 00:15:00, five minutes before
    // the period closes) and 00:20 (cut by the end of the recording).
    let pst = pst_of_u_a(SCENARIO);
    let with_dip = period(&pst, 600.0);
    assert!(
        with_dip.flagged,
        "the Pst of 00:10–00:20 holds the dip at 00:15: {with_dip:?}"
    );
    assert!(
        with_dip.value > 1.0,
        "a 40 % dip is felt: Pst {}",
        with_dip.value
    );
}

#[test]
fn clean_period_is_not_flagged() {
    let pst = pst_of_u_a(&SCENARIO.replace("start = 900.0", "start = 1250.0"));
    let clean = period(&pst, 600.0);
    assert!(!clean.flagged, "no event in 00:10–00:20: {clean:?}");
    assert!(
        clean.value < 0.1,
        "a steady supply has no flicker: {clean:?}"
    );
}
