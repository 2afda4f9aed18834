//! Outside text pqe-link parses: trace files (`pqe meter analyse`), meter URIs,
//! OBIS codes, register selectors, serial settings, secret references. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = pqe_link::Trace::from_reader(data, "fuzz") {
        for (_, r) in &t.records {
            let _ = r.bytes();
        }
        let _ = pqe_link::AnalysisBuilder::new(&t).finish();
        let _ = pqe_link::analyse::line_settings_at(&t);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(u) = s.parse::<pqe_link::MeterUri>() {
            let _ = u.options(std::time::Duration::from_secs(1));
            let _ = u.secret();
            let _ = pqe_link::uri::redact_uri(s);
        }
        let _ = s.parse::<pqe_link::ObisCode>();
        let _ = s.parse::<pqe_link::RegisterRef>();
        let _ = s.parse::<pqe_link::LineSettings>();
        let _ = s.parse::<pqe_link::SecretRef>();
    }
});
