//! The scenario TOML of `pqe generate` (pqe_dsp::synth): the parser on any text; a scenario
//! it accepts is described and its first samples rendered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_dsp::synth::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::from_toml_str_named(text, "fuzz.toml") {
        let info = s.recording_info();
        std::hint::black_box(info.duration_seconds());
        std::hint::black_box(s.system_config());
        // The first samples and a seek into the middle (at most 256 samples each).
        let mut g = s.generator();
        if let Some(b) = g.next_block(256) {
            assert!(b.channels().all(|c| c.len() == b.len()));
        }
        let half = s.total_samples() / 2;
        if g.seek(half).is_ok() {
            std::hint::black_box(g.next_block(256));
        }
    }
});
