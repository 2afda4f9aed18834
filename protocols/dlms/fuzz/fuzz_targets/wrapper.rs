//! The wrapper stream decoder on arbitrary bytes: no panic, bounded buffering, and every
//! WPDU accepted re-encodes to the bytes it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_dlms::wrapper::{Wpdu, WpduDecoder};

fuzz_target!(|data: &[u8]| {
    let (cut, stream) = match data.split_first() {
        Some((c, s)) => (usize::from(*c % 16) + 1, s),
        None => return,
    };
    let mut dec = WpduDecoder::new(1024);
    let mut consumed = Vec::new();
    for chunk in stream.chunks(cut) {
        dec.push(chunk);
        while let Some(item) = dec.next_wpdu() {
            match item {
                Ok(w) => {
                    assert!(w.apdu.len() <= 1024);
                    consumed.extend(w.encode().unwrap());
                }
                Err(_) => consumed.clear(),
            }
        }
    }
    if let Ok(w) = Wpdu::decode(stream) {
        assert_eq!(w.encode().unwrap(), stream);
    }
});
