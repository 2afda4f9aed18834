//! PQE's Modbus client against the pymodbus 3.16 server over TCP and over a fresh socat pty
//! pair (RTU), with mbpoll (libmodbus) as a second client reading the same registers.

mod common;

use pqe_link::{
    MeterUri, OpenRequest, Reading, Registry, Selector, Trace, TraceSink, Value, Verdict,
};
use std::process::Command;

fn registry() -> Registry {
    let mut r = Registry::new();
    pqe_modbus::register(&mut r);
    r
}

fn sel(s: &str) -> Selector {
    Selector::Register(s.parse().unwrap())
}

fn num(v: &Value) -> f64 {
    match v.value {
        Reading::Number(x) => x,
        _ => panic!("{v:?}"),
    }
}

fn sdm630_expected() -> Vec<(&'static str, f64, &'static str)> {
    vec![
        ("U_L1", 230.1, "V"),
        ("U_L2", 231.2, "V"),
        ("U_L3", 229.8, "V"),
        ("I_L1", 5.0, "A"),
        ("I_L3", 6.25, "A"),
        ("P_L2", 1000.0, "W"),
        ("Q_L1", -335.0, "var"),
        ("PF_L3", 0.975, ""),
        ("P", 3500.0, "W"),
        ("S", 3627.2, "VA"),
        ("PF", 0.965, ""),
        ("f", 50.0, "Hz"),
        ("E_import", 12000.5, "kWh"),
        ("E_export", 12.25, "kWh"),
        ("E_total", 12345.678, "kWh"),
    ]
}

fn check_map_values(values: &[Value]) {
    assert_eq!(values.len(), 26);
    for (id, x, unit) in sdm630_expected() {
        let v = values
            .iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!((num(v), v.unit.as_str()), (x, unit), "{id}");
    }
}

fn check_types(link: &mut dyn pqe_link::MeterLink) {
    let sels: Vec<Selector> = [
        "hr:0:u16",
        "hr:1:u16",
        "hr:10:u32",
        "hr:20:i16",
        "hr:21:u16",
        "hr:30:u64",
        "hr:40:f64",
        "hr:50:i32",
        "ir:0x156:f32",
    ]
    .iter()
    .map(|s| sel(s))
    .collect();
    let v = link.read(&sels).unwrap();
    let got: Vec<f64> = v.iter().map(num).collect();
    assert_eq!(
        got,
        [
            1.0,
            2.0,
            123456789.0,
            -5.0,
            65000.0,
            12345678901234.0,
            -1234.5678,
            -100000.0,
            12345.678
        ]
    );
    assert_eq!(v[8].id, "ir:342:f32");
}

#[test]
fn tcp_map_types_word_order_exceptions_and_writes() {
    let (_server, port) = common::modbus_tcp_server();
    let reg = registry();
    let uri: MeterUri = format!("modbus-tcp://127.0.0.1:{port}?unit=1")
        .parse()
        .unwrap();
    let mut link = reg
        .open(&OpenRequest {
            uri: &uri,
            map: Some("sdm630"),
            trace: None,
        })
        .unwrap();
    check_map_values(&link.read_all().unwrap());
    let by_obis = link
        .read(&[
            Selector::Obis("32.7.0".parse().unwrap()),
            Selector::Obis("1.8.0".parse().unwrap()),
        ])
        .unwrap();
    assert_eq!((by_obis[0].id.as_str(), num(&by_obis[0])), ("U_L1", 230.1));
    assert_eq!(num(&by_obis[1]), 12000.5);
    check_types(link.as_mut());

    let e = link.read(&[sel("ir:0x2000:u16")]).unwrap_err().to_string();
    assert!(e.contains("exception 02 illegal data address"), "{e}");

    link.write(&sel("hr:100:i32"), &Reading::Number(-70000.0))
        .unwrap();
    link.write(&sel("hr:104:u16"), &Reading::Number(7.0))
        .unwrap();
    let v = link.read(&[sel("hr:100:i32"), sel("hr:104:u16")]).unwrap();
    assert_eq!((num(&v[0]), num(&v[1])), (-70000.0, 7.0));
    let e = link
        .write(&sel("ir:0:u16"), &Reading::Number(1.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("read-only"), "{e}");

    // hr:60..61 holds f32 230.1 low word first.
    let uri: MeterUri = format!("modbus-tcp://127.0.0.1:{port}?unit=1&word_order=little")
        .parse()
        .unwrap();
    let mut little = reg
        .open(&OpenRequest {
            uri: &uri,
            map: None,
            trace: None,
        })
        .unwrap();
    assert_eq!(num(&little.read(&[sel("hr:60:f32")]).unwrap()[0]), 230.1);
    // 1-based addressing: register 343 is PDU address 342.
    let uri: MeterUri = format!("modbus-tcp://127.0.0.1:{port}?unit=1&base=1")
        .parse()
        .unwrap();
    let mut one = reg
        .open(&OpenRequest {
            uri: &uri,
            map: None,
            trace: None,
        })
        .unwrap();
    assert_eq!(num(&one.read(&[sel("ir:343:f32")]).unwrap()[0]), 12345.678);
}

#[test]
fn tcp_trace_records_and_analysis_passes() {
    let (_server, port) = common::modbus_tcp_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let uri: MeterUri = format!("modbus-tcp://127.0.0.1:{port}?unit=1")
        .parse()
        .unwrap();
    let sink = TraceSink::create(&path, &uri.scheme, &uri.to_string(), None).unwrap();
    {
        let mut link = registry()
            .open(&OpenRequest {
                uri: &uri,
                map: Some("sdm630"),
                trace: Some(sink.clone()),
            })
            .unwrap();
        link.read_all().unwrap();
        let _ = link.read(&[sel("ir:0x2000:u16")]);
    }
    sink.finish().unwrap();
    let trace = Trace::read(&path).unwrap();
    assert_eq!(
        trace.records.iter().filter(|(_, r)| r.dir == "tx").count(),
        7
    );
    assert!(
        trace.records[1]
            .1
            .decoded
            .starts_with("transaction 1 unit 1 FC04 registers ["),
        "{:?}",
        trace.records[1]
    );
    let a = registry().analyser("modbus-tcp").unwrap().analyse(&trace);
    assert_eq!(a.verdict, Verdict::Pass, "{a:#?}");
    assert_eq!(a.exchanges.len(), 7);
    // The exception is a well-formed answer: a note, not a deviation.
    assert!(a.exchanges[6].findings[0].message.contains("exception 02"));
}

#[test]
fn rtu_over_a_pty_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (_socat, a, b) = common::pty_pair(dir.path());
    let _server = common::modbus_rtu_server(&a, "9600/8N1");
    let reg = registry();
    let uri: MeterUri = format!(
        "modbus-rtu://{}?serial=9600/8N1&unit=1&timeout_ms=1000",
        b.display()
    )
    .parse()
    .unwrap();
    let path = dir.path().join("rtu.jsonl");
    let sink = TraceSink::create(
        &path,
        &uri.scheme,
        &uri.to_string(),
        Some("9600/8N1".parse().unwrap()),
    )
    .unwrap();
    {
        let mut link = reg
            .open(&OpenRequest {
                uri: &uri,
                map: Some("sdm630"),
                trace: Some(sink.clone()),
            })
            .unwrap();
        check_map_values(&link.read_all().unwrap());
        check_types(link.as_mut());
        let e = link.read(&[sel("ir:0x2000:u16")]).unwrap_err().to_string();
        assert!(e.contains("exception 02"), "{e}");
    }
    sink.finish().unwrap();
    let trace = Trace::read(&path).unwrap();
    let a = reg.analyser("modbus-rtu").unwrap().analyse(&trace);
    assert_eq!(a.verdict, Verdict::Pass, "{a:#?}");
    // pymodbus answers a unit it does not serve with exception 04.
    let uri: MeterUri = format!(
        "modbus-rtu://{}?serial=9600/8N1&unit=7&timeout_ms=500",
        b.display()
    )
    .parse()
    .unwrap();
    let mut link = reg
        .open(&OpenRequest {
            uri: &uri,
            map: None,
            trace: None,
        })
        .unwrap();
    let e = link.read(&[sel("hr:0:u16")]).unwrap_err().to_string();
    assert_eq!(
        e,
        "meter refused FC03 read holding 0+1 (unit 7): exception 04 server device failure"
    );
}

#[test]
fn rtu_silent_line_times_out_within_the_retry_bound() {
    // A fresh pty pair with nobody on the other end: no answer, ever.
    let dir = tempfile::tempdir().unwrap();
    let (_socat, _a, b) = common::pty_pair(dir.path());
    let uri: MeterUri = format!(
        "modbus-rtu://{}?serial=9600/8N1&unit=7&timeout_ms=200&retries=1",
        b.display()
    )
    .parse()
    .unwrap();
    let mut link = registry()
        .open(&OpenRequest {
            uri: &uri,
            map: None,
            trace: None,
        })
        .unwrap();
    let t0 = std::time::Instant::now();
    let e = link.read(&[sel("hr:0:u16")]).unwrap_err().to_string();
    assert!(
        e.starts_with("timeout: answer to FC03 read holding 0+1 to unit 7: 0 bytes of ? received"),
        "{e}"
    );
    assert!(e.contains("2 attempts"), "{e}");
    let took = t0.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(400) && took < std::time::Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn mbpoll_reads_what_pqe_reads() {
    let (_server, port) = common::modbus_tcp_server();
    let out = Command::new("mbpoll")
        .args([
            "-m",
            "tcp",
            "-p",
            &port.to_string(),
            "-a",
            "1",
            "-t",
            "3:float",
            "-B",
            "-r",
            "1",
            "-c",
            "3",
            "-1",
            "127.0.0.1",
        ])
        .output()
        .expect("mbpoll is missing: run scripts/setup.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            l.split_once("]:")
                .map(|(_, v)| v.trim().parse::<f64>().unwrap())
        })
        .collect();
    let uri: MeterUri = format!("modbus-tcp://127.0.0.1:{port}?unit=1")
        .parse()
        .unwrap();
    let mut link = registry()
        .open(&OpenRequest {
            uri: &uri,
            map: None,
            trace: None,
        })
        .unwrap();
    let ours: Vec<f64> = link
        .read(&[sel("ir:0:f32"), sel("ir:2:f32"), sel("ir:4:f32")])
        .unwrap()
        .iter()
        .map(num)
        .collect();
    assert_eq!(theirs.len(), 3, "mbpoll said: {text}");
    // mbpoll prints 6 significant digits.
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() <= 5e-6 * a.abs(), "{ours:?} vs {theirs:?}");
    }
}
