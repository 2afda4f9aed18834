//! `pqe meter` end to end: read (JSON exactly as the architecture says), trace, analyse,
//! against the pymodbus 3.16 server (tests/peers/modbus_server.py) and the IEC 62056-21
//! meter simulator (tests/peers/iec62056_21_meter.py) on a fresh socat pty pair.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Peer(Child);
impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    let p = repo().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup.sh",
        p.display()
    );
    p
}

fn pqe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(args)
        .output()
        .expect("pqe runs")
}

fn modbus_server() -> (Peer, u16) {
    let mut child = Command::new(python())
        .arg(repo().join("tests/peers/modbus_server.py"))
        .arg("tcp")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .expect("pymodbus server port");
    (Peer(child), port)
}

#[test]
fn meter_read_prints_the_contract_json() {
    let (_s, port) = modbus_server();
    let uri = format!("modbus-tcp://127.0.0.1:{port}?unit=1");
    let o = pqe(&[
        "meter",
        "read",
        &uri,
        "--register",
        "ir:0x156:f32",
        "--obis",
        "32.7.0",
        "--register",
        "hr:20:i16",
        "--map",
        "sdm630",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"[{"id":"ir:342:f32","value":12345.678,"unit":""},{"id":"U_L1","value":230.1,"unit":"V"},{"id":"hr:20:i16","value":-5.0,"unit":""}]"#
    );
    let o = pqe(&["meter", "read", &uri, "--register", "ir:0x2000:u16"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exception 02 illegal data address"), "{err}");
}

#[test]
fn meter_trace_then_analyse() {
    let (_s, port) = modbus_server();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let uri = format!("modbus-tcp://127.0.0.1:{port}?unit=1");
    let o = pqe(&[
        "meter",
        "trace",
        &uri,
        "--map",
        "sdm630",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("E_total"));
    let o = pqe(&["meter", "analyse", trace.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("verdict: Pass (6 exchanges, protocol modbus-tcp)"));
    // A damaged answer in the trace fails the analysis, naming the line.
    let text = std::fs::read_to_string(&trace).unwrap();
    let bad: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.replacen("\"hex\":\"00 01", "\"hex\":\"00 09", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&trace, bad.join("\n")).unwrap();
    let o = pqe(&["meter", "analyse", trace.to_str().unwrap(), "--json"]);
    assert!(!o.status.success());
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["verdict"], "fail");
    let lines: Vec<u64> = a["exchanges"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert!(lines.contains(&3), "{a}");
}

#[test]
fn meter_read_iec62056_21_readout_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("meter"), dir.path().join("client"));
    let _socat = Peer(
        Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", a.display()))
            .arg(format!("pty,raw,echo=0,link={}", b.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is missing: run scripts/setup.sh"),
    );
    let t0 = Instant::now();
    while !(a.exists() && b.exists()) {
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut sim = Command::new(python())
        .arg(repo().join("tests/peers/iec62056_21_meter.py"))
        .arg(&a)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut l = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut l)
        .unwrap();
    let _sim = Peer(sim);
    let uri = format!("iec62056-21://{}?mode=C", b.display());
    let o = pqe(&[
        "meter", "read", &uri, "--obis", "1.8.0", "--obis", "0.0.0", "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"[{"id":"1.8.0","value":12345.678,"unit":"kWh"},{"id":"0.0.0","value":"12345678","unit":""}]"#
    );
}
