//! Misbehaving peers: stale and unknown transaction ids, a wrong CRC, a wrong unit, garbage,
//! a peer that stops mid-frame. Each gives a clear error within the deadline, and the
//! analyser flags it.

use pqe_link::ProtocolAnalyser;
use pqe_link::{memory_pair, RegisterTable, Trace, TraceSink, Transport, Verdict};
use pqe_modbus::analyse::{RtuAnalyser, TcpAnalyser};
use pqe_modbus::frame::{self, Request};
use pqe_modbus::{Framing, ModbusClient};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A TCP fixture that answers each request with what `answer` makes of it.
fn tcp_fixture(answer: impl Fn(u16, &[u8]) -> Vec<Vec<u8>> + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 260];
        loop {
            let mut head = [0u8; 7];
            if s.read_exact(&mut head).is_err() {
                return;
            }
            let len = u16::from_be_bytes([head[4], head[5]]) as usize - 1;
            s.read_exact(&mut buf[..len]).unwrap();
            for out in answer(u16::from_be_bytes([head[0], head[1]]), &buf[..len]) {
                let _ = s.write_all(&out);
            }
        }
    });
    port
}

fn tcp_client(port: u16, trace: Option<&TraceSink>) -> ModbusClient {
    let t = pqe_link::TcpTransport::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap();
    let t: Box<dyn Transport> = match trace {
        Some(s) => Box::new(pqe_link::Recorder::new(t, s.clone())),
        None => Box::new(t),
    };
    ModbusClient::new(t, Framing::Tcp, 1, Duration::from_millis(300), 0)
}

const REGS: [u8; 6] = [0x03, 4, 0, 1, 0, 2];

#[test]
fn stale_answers_are_dropped_and_unknown_ids_rejected() {
    // The first request is answered twice (the second copy arrives with the next request's
    // answer, i.e. stale); a later one gets an id that was never sent.
    let port = tcp_fixture(|tid, _pdu| match tid {
        1 => vec![],
        2 => vec![
            frame::tcp_encode(1, 1, &REGS),
            frame::tcp_encode(2, 1, &REGS),
        ],
        _ => vec![frame::tcp_encode(tid + 100, 1, &REGS)],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let sink = TraceSink::create(&path, "modbus-tcp", "modbus-tcp://127.0.0.1", None).unwrap();
    let mut c = tcp_client(port, Some(&sink));
    let e = c
        .read_registers(RegisterTable::Holding, 0, 2)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("timeout: MBAP header of the answer to FC03"),
        "{e}"
    );
    assert_eq!(
        c.read_registers(RegisterTable::Holding, 0, 2).unwrap(),
        [1, 2]
    );
    assert_eq!(c.stale_dropped, 1);
    let e = c
        .read_registers(RegisterTable::Holding, 0, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("transaction id 103 was never sent"), "{e}");
    drop(c);
    sink.finish().unwrap();
    let a = TcpAnalyser.analyse(&Trace::read(&path).unwrap());
    assert_eq!(a.verdict, Verdict::Fail);
    let msgs: Vec<String> = a
        .exchanges
        .iter()
        .flat_map(|e| {
            e.findings
                .iter()
                .map(|f| format!("{} {}", f.line, f.message))
        })
        .collect();
    assert!(msgs.iter().any(|m| m.contains("stale")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("transaction id 103 matches no request")),
        "{msgs:?}"
    );
}

#[test]
fn a_peer_that_stops_mid_frame_times_out_in_bounds() {
    let port = tcp_fixture(|tid, _| vec![frame::tcp_encode(tid, 1, &REGS)[..9].to_vec()]);
    let mut c = tcp_client(port, None);
    let t0 = Instant::now();
    let e = c
        .read_registers(RegisterTable::Holding, 0, 2)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("timeout: PDU of the answer to FC03 read holding 0+2 to unit 1 (transaction 1): 2 of 6 bytes"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(1));
}

#[test]
fn rtu_crc_unit_and_garbage_errors() {
    let (client_end, mut meter) = memory_pair();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtu.jsonl");
    let sink = TraceSink::create(
        &path,
        "modbus-rtu",
        "modbus-rtu:///dev/null",
        Some("19200/8E1".parse().unwrap()),
    )
    .unwrap();
    let rec = pqe_link::Recorder::new(client_end, sink.clone());
    let mut c = ModbusClient::new(
        Box::new(rec),
        Framing::Rtu,
        1,
        Duration::from_millis(200),
        0,
    );
    let good = frame::rtu_encode(1, &REGS);
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().unwrap() ^= 0xff;
    let answers = [
        bad_crc,
        frame::rtu_encode(2, &REGS),
        vec![0x01, 0x03, 0x07],
        frame::rtu_encode(1, &[0x03, 2, 0, 1]),
    ];
    let server = std::thread::spawn(move || {
        for a in answers {
            let mut req = [0u8; 8];
            let mut got = 0;
            while got < 8 {
                got += meter
                    .recv(&mut req[got..], Instant::now() + Duration::from_secs(2))
                    .unwrap();
            }
            meter.send(&a).unwrap();
        }
        meter
    });
    let mut errs = Vec::new();
    for _ in 0..4 {
        errs.push(
            c.read_registers(RegisterTable::Holding, 0, 2)
                .unwrap_err()
                .to_string(),
        );
    }
    let _meter = server.join().unwrap();
    assert!(
        errs[0].contains("CRC") && errs[0].contains("is wrong"),
        "{}",
        errs[0]
    );
    assert!(errs[1].contains("comes from unit 2"), "{}", errs[1]);
    assert!(errs[2].contains("byte count 7"), "{}", errs[2]);
    assert!(
        errs[3].contains("byte count 2 for 2 registers"),
        "{}",
        errs[3]
    );
    drop(c);
    sink.finish().unwrap();
    let a = RtuAnalyser.analyse(&Trace::read(&path).unwrap());
    assert_eq!(a.verdict, Verdict::Fail);
    let fails: Vec<bool> = a
        .exchanges
        .iter()
        .map(|e| e.verdict == Verdict::Fail)
        .collect();
    assert_eq!(fails, [true, true, true, true], "{a:#?}");
    assert!(a.exchanges[0]
        .findings
        .iter()
        .any(|f| f.clause.contains("§2.5.1.2")));
}

#[test]
fn request_codec_rejects_nonsense() {
    assert!(Request::from_pdu(&[0x03, 0, 0, 0, 200])
        .unwrap_err()
        .contains("outside 1..125"));
    assert!(Request::from_pdu(&[0x2b])
        .unwrap_err()
        .contains("not one PQE sends"));
}
