//! The adapter output decoder (handshake line, length-prefixed frames) on arbitrary bytes,
//! fed in arbitrary cuts: never panics, never buffers more than one frame plus one read,
//! and reports the same events however the bytes are cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_devices::protocol::{Decoder, Event, ProtocolFault};

const MAX_FRAME: usize = 4096;

fn run(data: &[u8], cut: usize) -> Vec<Result<Event, ProtocolFault>> {
    let mut d = Decoder::new(MAX_FRAME);
    let mut out = Vec::new();
    for chunk in data.chunks(cut.max(1)) {
        d.feed(chunk);
        while let Some(e) = d.next_event() {
            out.push(e);
        }
        assert!(d.buffered() <= MAX_FRAME + 4 + chunk.len() + 256);
    }
    if let Some(f) = d.finish() {
        out.push(Err(f));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (cut, data) = match data.split_first() {
        Some((c, rest)) => (*c as usize + 1, rest),
        None => return,
    };
    let whole = run(data, data.len().max(1));
    let cut_up = run(data, cut);
    // the events before a fault do not depend on the cut (a fault may be found earlier
    // or later in the stream of reads, but never different data before it)
    let ok = |v: &Vec<Result<Event, ProtocolFault>>| -> Vec<Event> {
        v.iter().map_while(|e| e.as_ref().ok().cloned()).collect()
    };
    let (a, b) = (ok(&whole), ok(&cut_up));
    let n = a.len().min(b.len());
    assert_eq!(a[..n], b[..n]);
});
