//! The pulse input (debounce, S0 minimum width) on arbitrary edge streams: never panics,
//! refuses non-finite or backward times with an error, and the pulses it keeps start in
//! order and are at least the S0 minimum width apart.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_metertest::pulse::{Edge, PulseInputConfig, PulseShaper, S0_MIN_PULSE_WIDTH_S};

fuzz_target!(|data: &[u8]| {
    let edges: Vec<Edge> = data
        .chunks_exact(9)
        .map(|c| Edge {
            time: f64::from_le_bytes(c[..8].try_into().unwrap()),
            rising: c[8] & 1 == 1,
        })
        .collect();
    if let Ok((starts, _rejected)) = PulseShaper::shape_all(PulseInputConfig::s0(), &edges) {
        for w in starts.windows(2) {
            assert!(w[1] - w[0] >= S0_MIN_PULSE_WIDTH_S * 0.999, "{w:?}");
        }
    }
});
