//! Modbus TCP decoding of outside bytes: ADU length, MBAP header, response and
//! request PDUs, and the trace decoder. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pqe_link::{Direction, FrameDecoder};
use pqe_modbus::frame::{self, Request};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(n)) = frame::tcp_adu_len(data) {
        assert!(n >= 8);
        if data.len() >= n {
            let pdu = &data[7..n];
            let count = pdu.get(1).map_or(1, |&n| (n / 2).max(1) as u16);
            let _ = frame::parse_response(&Request::ReadHolding { address: 0, count }, pdu);
            let _ = frame::parse_response(&Request::WriteMultiple { address: 0, values: vec![1, 2] }, pdu);
            if let Ok(r) = Request::from_pdu(pdu) {
                assert_eq!(r.pdu(), pdu);
            }
        }
    }
    let d = pqe_modbus::trace::TcpDecoder;
    let _ = d.split(data);
    let _ = d.decode(Direction::Rx, data);
    let _ = d.decode(Direction::Tx, data);
});
