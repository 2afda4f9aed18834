//! COMTRADE `.cfg` text: the parser on any bytes (as latin-1/UTF-8 text), and the text it
//! writes back parsed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_core::Location;
use pqe_io::comtrade::ComtradeConfig;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loc = Location::file("fuzz.cfg");
    if let Ok(cfg) = ComtradeConfig::parse(&text, &loc, 1) {
        let _ = cfg.total_samples();
        let _ = cfg.record_size();
        let info = cfg.recording_info();
        std::hint::black_box(info.duration_seconds());
        let _ = ComtradeConfig::parse(&cfg.to_text(), &loc, 1);
    }
});
