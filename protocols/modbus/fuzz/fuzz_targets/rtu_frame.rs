//! Modbus RTU decoding of outside bytes: response length, CRC check, response
//! PDU against each request kind, request PDUs (decode → encode is the identity),
//! and the trace decoder. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_link::{Direction, FrameDecoder};
use pqe_modbus::frame::{self, Request};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(n)) = frame::rtu_response_len(data) {
        assert!(n >= 4);
    }
    if let Ok((_, pdu)) = frame::rtu_decode(data) {
        let count = data.get(2).map_or(1, |&n| (n / 2).max(1) as u16);
        for req in [
            Request::ReadHolding { address: 0, count },
            Request::ReadInput { address: 0, count },
            Request::WriteSingle { address: 0, value: 0 },
            Request::WriteMultiple { address: 0, values: vec![0; count.min(123) as usize] },
        ] {
            let _ = frame::parse_response(&req, pdu);
        }
        if let Ok(r) = Request::from_pdu(pdu) {
            assert_eq!(r.pdu(), pdu);
        }
    }
    let _ = frame::rtu_request_len(data);
    let d = pqe_modbus::trace::RtuDecoder;
    let _ = d.split(data);
    let _ = d.decode(Direction::Rx, data);
    let _ = d.decode(Direction::Tx, data);
});
