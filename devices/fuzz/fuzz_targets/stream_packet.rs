//! The tcp/udp sample packet header and payload decoder on arbitrary bytes: never panics,
//! accepts only headers that encode back to the same bytes, and decodes payloads of
//! exactly the announced length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_devices::stream::{decode_samples, PacketHeader, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(h) = PacketHeader::decode(data) else {
        return;
    };
    assert_eq!(&h.encode()[..], &data[..HEADER_LEN]);
    let payload = &data[HEADER_LEN..];
    let mut out = Vec::new();
    let r = decode_samples(&h, payload, &[0.5, 2.0], &mut out);
    match h.payload_len() {
        Some(n) if n == payload.len() => {
            r.unwrap();
            assert_eq!(out.len(), h.samples as usize * h.channels as usize);
        }
        _ => assert!(r.is_err()),
    }
});
