//! PQE's IEC 62056-21 client against the meter simulator (tests/peers/iec62056_21_meter.py,
//! first proven against the independent Python client iec62056-21 in
//! tests/python/test_iec62056_21_simulator.py), each test on a fresh socat pty pair.

use pqe_iec62056_21::{IecClient, Mode, PasswordLevel};
use pqe_link::{
    LinkError, MeterUri, OpenRequest, ProtocolAnalyser, Reading, Registry, Secret, Selector,
    SerialTransport, Trace, TraceSink, Transport, Verdict,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Peer(Child);
impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh pty pair with the simulator on one end: (guards, the client's end).
struct Meter {
    _sim: Peer,
    _socat: Peer,
    port: PathBuf,
    _dir: tempfile::TempDir,
}

fn meter(opts: &[&str]) -> Meter {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("meter"), dir.path().join("client"));
    let socat = Peer(
        Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", a.display()))
            .arg(format!("pty,raw,echo=0,link={}", b.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is missing: run scripts/setup.sh"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.exists() && b.exists()) {
        assert!(Instant::now() < deadline, "socat made no pty pair");
        std::thread::sleep(Duration::from_millis(20));
    }
    let python = repo().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(repo().join("tests/peers/iec62056_21_meter.py"))
        .arg(&a)
        .args(opts)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut l = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut l)
        .unwrap();
    assert_eq!(l.trim(), "READY", "the simulator did not start");
    Meter {
        _sim: Peer(child),
        _socat: socat,
        port: b,
        _dir: dir,
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    pqe_iec62056_21::register(&mut r);
    r
}

fn uri(m: &Meter, q: &str) -> MeterUri {
    format!("iec62056-21://{}?{q}", m.port.display())
        .parse()
        .unwrap()
}

fn client(m: &Meter, mode: Mode, address: &str) -> IecClient {
    let t = SerialTransport::open(
        m.port.to_str().unwrap(),
        pqe_iec62056_21::client::sign_on_line(),
    )
    .unwrap();
    IecClient::new(Box::new(t), mode, address, Duration::from_millis(2000), 2).unwrap()
}

fn num(v: &pqe_link::Value) -> f64 {
    match v.value {
        Reading::Number(x) => x,
        _ => panic!("{v:?}"),
    }
}

#[test]
fn mode_c_readout_with_trace_and_analysis() {
    let m = meter(&[]);
    let u = uri(&m, "mode=C");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let sink = TraceSink::create(
        &path,
        &u.scheme,
        &u.to_string(),
        Some(pqe_iec62056_21::client::sign_on_line()),
    )
    .unwrap();
    let values = {
        let mut link = registry()
            .open(&OpenRequest {
                uri: &u,
                map: None,
                trace: Some(sink.clone()),
            })
            .unwrap();
        link.read_all().unwrap()
    };
    sink.finish().unwrap();
    assert_eq!(values.len(), 13);
    let get = |id: &str| values.iter().find(|v| v.id == id).unwrap();
    assert_eq!(
        (num(get("1.8.0")), get("1.8.0").unit.as_str()),
        (12345.678, "kWh")
    );
    assert_eq!(
        (num(get("72.7.0")), get("72.7.0").unit.as_str()),
        (229.8, "V")
    );
    assert_eq!(get("0.0.0").value, Reading::Text("12345678".into()));
    assert_eq!(get("F.F").value, Reading::Text("00000000".into()));
    let trace = Trace::read(&path).unwrap();
    let a = pqe_iec62056_21::analyse::IecAnalyser.analyse(&trace);
    assert_eq!(a.verdict, Verdict::Pass, "{a:#?}");
    let events: Vec<&str> = trace
        .records
        .iter()
        .filter(|(_, r)| r.dir == "event")
        .map(|(_, r)| r.decoded.as_str())
        .collect();
    assert!(events.iter().any(|e| e.contains("9600/7E1")), "{events:?}");
}

#[test]
fn selected_values_from_the_readout_in_order() {
    let m = meter(&[]);
    let u = uri(&m, "mode=C");
    let mut link = registry()
        .open(&OpenRequest {
            uri: &u,
            map: None,
            trace: None,
        })
        .unwrap();
    let sels = [
        Selector::Obis("14.7.0".parse().unwrap()),
        Selector::Obis("1-0:1.8.0*255".parse().unwrap()),
    ];
    let v = link.read(&sels).unwrap();
    assert_eq!(
        (v[0].id.as_str(), num(&v[0]), v[0].unit.as_str()),
        ("14.7.0", 50.0, "Hz")
    );
    assert_eq!(num(&v[1]), 12345.678);
    let e = link
        .read(&[Selector::Obis("99.9.9".parse().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("99.9.9 is not in the meter's readout (it has: 0.0.0, 1.8.0"),
        "{e}"
    );
}

#[test]
fn partial_blocks_are_acknowledged_and_joined() {
    let m = meter(&["--block-size", "40"]);
    let mut c = client(&m, Mode::C, "");
    let r = c.readout().unwrap();
    assert!(r.blocks >= 4, "{}", r.blocks);
    assert_eq!(r.data_sets.len(), 13);
    assert_eq!(r.data_sets[4].address, "2.8.0");
}

#[test]
fn modes_a_b_d() {
    for mode in ["A", "B", "D"] {
        let m = meter(&["--mode", mode]);
        let mut c = client(&m, mode.parse().unwrap(), "");
        let r = c.readout().unwrap_or_else(|e| panic!("mode {mode}: {e}"));
        assert_eq!(r.data_sets.len(), 13, "mode {mode}");
    }
}

#[test]
fn device_address_selects_the_meter() {
    let m = meter(&["--address", "45678903"]);
    let mut c = client(&m, Mode::C, "45678903");
    assert_eq!(c.readout().unwrap().identification.manufacturer, "PQe");
    drop(c);
    let mut other = client(&m, Mode::C, "11111111");
    let t0 = Instant::now();
    let e = other.readout().unwrap_err().to_string();
    assert!(
        e.starts_with("timeout: identification after /?11111111!: no answer"),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(4));
}

#[test]
fn programming_mode_r1_w1_b0_and_a_refused_password() {
    let m = meter(&["--password", "s3cret77"]);
    let mut c = client(&m, Mode::C, "");
    let pw = Secret::new(b"s3cret77".to_vec());
    assert_eq!(
        c.programming(Some(&pw), PasswordLevel::P1).unwrap(),
        "12345678"
    );
    let d = c.read_register("1.8.0").unwrap();
    assert_eq!((d.value.as_str(), d.unit.as_str()), ("0012345.678", "kWh"));
    c.write_register("0.9.1", "101500").unwrap();
    assert_eq!(c.read_register("0.9.1").unwrap().value, "101500");
    let e = c.write_register("1.8.0", "0").unwrap_err().to_string();
    assert!(e.contains("meter refused W1 1.8.0: NAK"), "{e}");
    let e = c.read_register("9.9.9").unwrap_err().to_string();
    assert!(
        e.contains("meter refused R1 9.9.9: error message (ERROR)"),
        "{e}"
    );
    c.break_session().unwrap();
    // The session is over: a new one with a wrong password is refused.
    drop(c);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = client(&m, Mode::C, "");
    let e = c
        .programming(Some(&Secret::new(b"wrong".to_vec())), PasswordLevel::P1)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "meter refused password (P1): NAK: the meter refused the password"
    );
}

/// The secrets test: a session with a password; the trace, the values, and the error of a
/// refused password contain no trace of it (not as text, not as hex).
#[test]
fn secret_never_reaches_trace_log_or_errors() {
    let secret = "Zq7pW1x9";
    let hex: String = secret.bytes().map(|b| format!("{b:02x} ")).collect();
    let m = meter(&["--password", secret]);
    std::env::set_var("PQE_TEST_IEC_PASSWORD", secret);
    std::env::set_var("PQE_TEST_IEC_WRONG", "Zq7pW1x0");
    let dir = tempfile::tempdir().unwrap();
    let mut seen = String::new();
    for (var, ok) in [
        ("PQE_TEST_IEC_PASSWORD", true),
        ("PQE_TEST_IEC_WRONG", false),
    ] {
        let u = uri(&m, &format!("mode=C&secret=env:{var}"));
        let path = dir.path().join(format!("{var}.jsonl"));
        let sink = TraceSink::create(&path, &u.scheme, &u.to_string(), None).unwrap();
        {
            let mut link = registry()
                .open(&OpenRequest {
                    uri: &u,
                    map: None,
                    trace: Some(sink.clone()),
                })
                .unwrap();
            let r = link.read(&[Selector::Obis("1.8.0".parse().unwrap())]);
            match (ok, r) {
                (true, Ok(v)) => seen += &format!("{v:?}"),
                (false, Err(e)) => {
                    assert!(matches!(e, LinkError::Refused { .. }), "{e}");
                    seen += &format!("{e} {e:?}");
                }
                (_, r) => panic!("{var}: {r:?}"),
            }
        }
        sink.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("password command P1 (masked)"), "{text}");
        seen += &text;
        std::thread::sleep(Duration::from_millis(300));
    }
    for needle in [secret, "Zq7pW1x0", hex.trim(), "5a 71 37 70"] {
        assert!(!seen.contains(needle), "{needle:?} leaked:\n{seen}");
    }
}

#[test]
fn mode_e_hands_the_transport_over_at_the_new_baud() {
    let m = meter(&[]);
    let e = client(&m, Mode::C, "")
        .handover_to_hdlc()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("needs mode=E"), "{e}");
    let m = meter(&["--mode", "E"]);
    let c = client(&m, Mode::E, "");
    let (id, mut t) = c.handover_to_hdlc().unwrap();
    assert!(id.mode_e());
    assert_eq!(t.line().unwrap().to_string(), "9600/8N1");
    // The simulator's binary mode loops HDLC frames back (an SNRM here).
    let snrm = [0x7e, 0xa0, 0x07, 0x03, 0x21, 0x93, 0x0f, 0x01, 0x7e];
    t.send(&snrm).unwrap();
    let mut buf = [0u8; 9];
    pqe_link::recv_exact(
        t.as_mut(),
        &mut buf,
        Instant::now() + Duration::from_secs(2),
        "loopback",
    )
    .unwrap();
    assert_eq!(buf, snrm);
}

#[test]
fn bad_bcc_and_a_stalled_meter_fail_clearly_and_in_bounds() {
    let m = meter(&["--bad-bcc"]);
    let mut c = client(&m, Mode::C, "");
    let e = c.readout().unwrap_err().to_string();
    assert_eq!(e, "readout, block 1: BCC wrong after 2 repetitions (§6.3)");

    let m = meter(&["--stall-after", "60"]);
    let u = uri(&m, "mode=C");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stall.jsonl");
    let sink = TraceSink::create(&path, &u.scheme, &u.to_string(), None).unwrap();
    let t0 = Instant::now();
    let e = {
        let mut link = registry()
            .open(&OpenRequest {
                uri: &u,
                map: None,
                trace: Some(sink.clone()),
            })
            .unwrap();
        link.read_all().unwrap_err().to_string()
    };
    sink.finish().unwrap();
    assert!(
        e.starts_with("timeout: readout, block 1: 60 bytes, then silence longer than ta = 1500 ms"),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(6), "{:?}", t0.elapsed());
    let a = pqe_iec62056_21::analyse::IecAnalyser.analyse(&Trace::read(&path).unwrap());
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(
        a.exchanges
            .iter()
            .flat_map(|x| &x.findings)
            .any(|f| f.message.contains("incomplete message")),
        "{a:#?}"
    );
}
