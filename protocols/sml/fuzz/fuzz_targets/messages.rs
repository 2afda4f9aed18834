//! Fuzz the SML message decoder (TL fields, lists, GetList responses) directly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_sml::{message, Quirk};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(msgs) = message::decode_messages(bytes, &[Quirk::UnsignedPowerIsSigned]) {
        for m in &msgs {
            if let message::Body::GetListResponse(r) = &m.body {
                for e in &r.entries {
                    let _ = e.scaled();
                    let _ = pqe_sml::entry_json(e);
                }
            }
        }
    }
});
