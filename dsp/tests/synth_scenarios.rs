//! The scenario files shipped in datasets/scenarios/ parse, and state their truths right.

use pqe_dsp::synth::{EventKind, Scenario};
use std::path::PathBuf;

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../datasets/scenarios")
}

fn load(name: &str) -> Scenario {
    let path = scenario_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::from_toml_str_named(&text, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_scenario_parses_and_renders_its_start() {
    let mut n = 0;
    for entry in std::fs::read_dir(scenario_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let s = Scenario::from_toml_str_named(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let info = s.recording_info();
        assert_eq!(info.total_samples, Some(s.total_samples()));
        let block = s.generator().next_block(2048).unwrap();
        assert_eq!(block.n_channels(), info.channels.len());
        assert!(block.planar().iter().all(|x| x.is_finite()));
        n += 1;
    }
    assert!(n >= 4, "only {n} scenarios found");
}

#[test]
fn demo_hour_states_what_the_readme_promises() {
    let s = load("demo-hour.toml");
    assert_eq!(s.total_samples(), 3600 * 10240);
    assert_eq!(
        s.channel_names(),
        ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
    );
    let kinds: Vec<EventKind> = s.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Dip,
            EventKind::Dip,
            EventKind::Swell,
            EventKind::Interruption,
            EventKind::Dip
        ]
    );
    let u = s.expected_unbalance();
    assert!(u.u2 > 0.3 && u.u2 < 1.0, "u2 = {}", u.u2);
    let f_min = (0..3600)
        .map(|t| s.frequency_at(t as f64))
        .fold(f64::MAX, f64::min);
    let f_max = (0..3600)
        .map(|t| s.frequency_at(t as f64))
        .fold(f64::MIN, f64::max);
    assert!(f_min > 49.9 && f_max < 50.1, "{f_min} … {f_max}");
}
