//! IEC 62056-21 parsing of outside bytes: the message splitter over a whole
//! buffer, identifications, data sets, and the trace decoder. None may panic;
//! a split never claims more bytes than it has.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_iec62056_21::message;
use pqe_link::{Direction, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while !rest.is_empty() {
        match message::split(rest) {
            Ok(Some((n, _))) => {
                assert!(n >= 1 && n <= rest.len());
                rest = &rest[n..];
            }
            Ok(None) => break,
            Err(n) => {
                assert!(n >= 1 && n <= rest.len());
                rest = &rest[n..];
            }
        }
    }
    let _ = message::parse_identification(data);
    if let Ok(sets) = message::parse_data_sets(data) {
        for s in sets {
            assert!(s.offset < data.len());
        }
    }
    let d = pqe_iec62056_21::trace::IecDecoder;
    let _ = d.split(data);
    let _ = d.decode(Direction::Rx, data);
    let _ = d.decode(Direction::Tx, data);
});
