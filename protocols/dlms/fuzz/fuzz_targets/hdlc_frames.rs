//! HDLC stream decoder, frame decoder, parameter field and the client link state machine
//! on arbitrary received bytes: no panic, no unbounded growth, and every frame accepted
//! re-encodes to bytes that decode to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pqe_dlms::hdlc::{Address, Decoded, Frame, FrameDecoder, HdlcClient, HdlcParameters};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses how the stream is cut into reads.
    let (cut, stream) = match data.split_first() {
        Some((c, s)) => (usize::from(*c % 16) + 1, s),
        None => return,
    };
    let mut link = HdlcClient::new(
        Address::client(16).unwrap(),
        Address::server(1, Some(17)).unwrap(),
        HdlcParameters::default(),
    );
    let _ = link.snrm();
    let mut dec = FrameDecoder::new();
    let mut connected = false;
    for chunk in stream.chunks(cut) {
        dec.push(chunk);
        while let Some(item) = dec.next_item() {
            match item {
                Decoded::Frame(f) => {
                    let bytes = f.encode().expect("a decoded frame re-encodes");
                    let again = Frame::decode_body(&bytes[1..bytes.len() - 1]).expect("re-decodes");
                    assert_eq!(again, f);
                    let _ = HdlcParameters::decode(&f.info);
                    if connected {
                        let _ = link.on_frame(&f);
                    } else if link.on_snrm_answer(&f).is_ok() {
                        connected = true;
                        let _ = link.send_apdu(&[0xC0, 0x01, 0xC1]);
                    }
                }
                Decoded::Dropped { count, .. } => assert!(count > 0),
            }
        }
        assert!(dec.pending() <= stream.len());
    }
    let _ = Frame::decode_body(stream);
});
