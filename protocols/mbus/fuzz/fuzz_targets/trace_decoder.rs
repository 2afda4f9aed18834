//! Fuzz the stream decoder: arbitrary bytes in arbitrary chunks; every byte is accounted
//! for in exactly one reported frame or error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_mbus::frame::FrameDecoder;

fuzz_target!(|bytes: &[u8]| {
    let mut d = FrameDecoder::new();
    let mut seen = 0u64;
    let split = bytes.first().copied().unwrap_or(1).max(1) as usize;
    for chunk in bytes.chunks(split) {
        d.push(chunk);
        while let Some(f) = d.next_frame() {
            assert_eq!(f.offset, seen);
            seen += f.raw.len() as u64;
        }
    }
    while let Some(f) = d.finish() {
        assert_eq!(f.offset, seen);
        seen += f.raw.len() as u64;
    }
    assert_eq!(seen, bytes.len() as u64);
});
