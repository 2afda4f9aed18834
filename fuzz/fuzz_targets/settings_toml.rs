//! The settings TOML of `pqe analyze --config` (pqe_pipeline::AnalysisSettings): the parser
//! on any text, then the one validation every front runs. Neither may panic; a file the
//! parser accepts also serialises back to TOML that parses to the same settings, and goes
//! through the command-line merge (`over`) the CLI applies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_pipeline::AnalysisSettings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = match AnalysisSettings::from_toml_str(text) {
        Ok(s) => s,
        Err(e) => {
            // The message a user sees (with the line and column) must render.
            std::hint::black_box(e.to_string());
            return;
        }
    };
    match settings.validate() {
        Ok(valid) => {
            std::hint::black_box(&valid);
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
    // What the parser accepted, written back, is read again as the same settings (NaN
    // compares unequal to itself, so the comparison is on the debug text).
    let written = toml::to_string(&settings).expect("accepted settings serialise to TOML");
    let again = AnalysisSettings::from_toml_str(&written)
        .unwrap_or_else(|e| panic!("settings written back do not parse: {e}\n{written}"));
    assert_eq!(format!("{settings:?}"), format!("{again:?}"), "{written}");
    // Every field given on the command line over these settings, and none.
    let _ = std::hint::black_box(AnalysisSettings::default().over(&settings, |_| true));
    let _ = std::hint::black_box(settings.over(&AnalysisSettings::default(), |_| false));
});
