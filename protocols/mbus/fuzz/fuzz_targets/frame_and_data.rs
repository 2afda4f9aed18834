//! Fuzz the M-Bus frame parser and the EN 13757-3 data decoder: any bytes give a frame or
//! an error naming the byte, never a panic; decoded frames re-encode to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_mbus::frame::Frame;

fuzz_target!(|bytes: &[u8]| {
    if let Ok((frame, used)) = Frame::parse(bytes) {
        assert_eq!(frame.encode(), bytes[..used].to_vec());
        if let Frame::Long { ci, data, .. } = &frame {
            if let Ok(pqe_mbus::UserData::Variable(v)) = pqe_mbus::decode(*ci, data) {
                for r in &v.records {
                    if let pqe_mbus::Record::Data(d) = r {
                        let _ = d.scaled();
                    }
                }
            }
        }
    }
    // The user-data decoder on its own, for every CI it knows.
    for ci in [0x72u8, 0x73, 0x76, 0x77] {
        let _ = pqe_mbus::decode(ci, bytes);
    }
});
