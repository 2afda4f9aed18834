//! `pqe meter` end to end, every protocol through the command line against a real peer on a
//! real transport: read (the contract JSON of the architecture, and the human table),
//! trace, analyse, scan.
//!
//! Peers: the pymodbus 3.16 server (tests/peers/modbus_server.py) over TCP and over a fresh
//! socat pty pair (RTU); the IEC 62056-21 meter simulator (tests/peers/iec62056_21_meter.py,
//! checked against the independent Python client `iec62056-21` in tests/python) on a pty;
//! the `meter` example of dlms-cosem-rs 0.1 over TCP (PQE_DLMS_METER_BIN, installed by
//! scripts/setup.sh); the M-Bus slave simulator of pqe-mbus's tests over TCP; a push meter
//! writing SML telegrams into a pty. A missing peer fails the test.

#[path = "../../protocols/mbus/tests/common/slave.rs"]
#[allow(dead_code)]
mod mbus_slave;

use std::io::{BufRead, BufReader, Write};
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
    pqe_env(args, &[])
}

fn pqe_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("pqe runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
    let peer = Peer(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "pymodbus not listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (peer, port)
}

/// A fresh socat pty pair in `dir`: (socat, meter end, client end).
fn pty_pair(dir: &Path) -> (Peer, PathBuf, PathBuf) {
    let (a, b) = (dir.join("meter"), dir.join("client"));
    let socat = Peer(
        Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", a.display()))
            .arg(format!("pty,raw,echo=0,link={}", b.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is missing: run scripts/setup.sh"),
    );
    let t0 = Instant::now();
    while !(a.exists() && b.exists()) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "socat made no pty pair"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (socat, a, b)
}

/// Starts a Python peer and waits for its first line ("READY").
fn python_peer(script: &str, args: &[&str]) -> Peer {
    let mut child = Command::new(python())
        .arg(repo().join(script))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut l = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut l)
        .unwrap();
    assert_eq!(l.trim(), "READY", "{script} did not start");
    Peer(child)
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
    assert!(o.status.success(), "{}", stderr(&o));
    // Binary32 registers are shown at binary32 precision (the shortest decimal that
    // round-trips the f32), not as the f64 widening 12345.677734375.
    assert_eq!(
        stdout(&o).trim(),
        r#"[{"id":"ir:342:f32","value":12345.678,"unit":""},{"id":"U_L1","value":230.1,"unit":"V"},{"id":"hr:20:i16","value":-5.0,"unit":""}]"#
    );

    // The human table: one line per value, id, value and unit.
    let o = pqe(&[
        "meter",
        "read",
        &uri,
        "--register",
        "hr:10:u32",
        "--obis",
        "32.7.0",
        "--map",
        "sdm630",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hr:10:u32  123456789\nU_L1       230.1 V\n");

    let o = pqe(&["meter", "read", &uri, "--register", "ir:0x2000:u16"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("exception 02 illegal data address"), "{err}");
}

#[test]
fn meter_read_has_a_deadline() {
    // A peer that accepts the connection and never answers.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let _keep = std::thread::spawn(move || {
        let conns: Vec<_> = l.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(conns);
    });
    let t0 = Instant::now();
    let o = pqe(&[
        "meter",
        "read",
        &format!("modbus-tcp://127.0.0.1:{port}?unit=1&timeout_ms=300&retries=1"),
        "--register",
        "hr:0:u16",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("timeout"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
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
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("E_total"), "{}", stdout(&o));
    let o = pqe(&["meter", "analyse", trace.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("verdict: Pass") && stdout(&o).contains("protocol modbus-tcp"),
        "{}",
        stdout(&o)
    );
    // A damaged answer (its transaction id changed) fails the analysis, naming the line
    // (frame) and the clause.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut changed = 0;
    let bad: Vec<String> = text
        .lines()
        .map(|l| {
            if changed == 0 && l.contains("\"dir\":\"rx\"") {
                changed += 1;
                l.replacen("\"hex\":\"00 01", "\"hex\":\"00 09", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(changed, 1, "{text}");
    let bad_line = 1 + bad
        .iter()
        .position(|l| l.contains("\"hex\":\"00 09"))
        .unwrap();
    std::fs::write(&trace, bad.join("\n")).unwrap();
    let o = pqe(&["meter", "analyse", trace.to_str().unwrap()]);
    assert!(!o.status.success());
    let out = stdout(&o);
    assert!(out.contains("verdict: Fail"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&format!("line {bad_line}:")) && l.contains("[")),
        "no finding naming line {bad_line} and a clause:\n{out}"
    );
    assert!(stderr(&o).contains("fails"), "{}", stderr(&o));
    let o = pqe(&["meter", "analyse", trace.to_str().unwrap(), "--json"]);
    assert!(!o.status.success());
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["verdict"], "fail");
    let findings: Vec<&serde_json::Value> = a["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["findings"].as_array().unwrap())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f["line"] == bad_line && !f["clause"].as_str().unwrap().is_empty()),
        "{a}"
    );
}

#[test]
fn meter_read_modbus_rtu_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let (_socat, a, b) = pty_pair(dir.path());
    let _server = python_peer(
        "tests/peers/modbus_server.py",
        &["rtu", a.to_str().unwrap(), "9600/8N1"],
    );
    // The server opens the port after it says READY.
    std::thread::sleep(Duration::from_millis(1500));
    let uri = format!(
        "modbus-rtu://{}?serial=9600/8N1&unit=1&timeout_ms=1000",
        b.display()
    );
    let o = pqe(&[
        "meter",
        "read",
        &uri,
        "--register",
        "hr:40:f64",
        "--register",
        "hr:50:i32",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        r#"[{"id":"hr:40:f64","value":-1234.5678,"unit":""},{"id":"hr:50:i32","value":-100000.0,"unit":""}]"#
    );
}

#[test]
fn meter_read_iec62056_21_readout_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let (_socat, a, b) = pty_pair(dir.path());
    let _sim = python_peer("tests/peers/iec62056_21_meter.py", &[a.to_str().unwrap()]);
    let uri = format!("iec62056-21://{}?mode=C", b.display());
    let o = pqe(&[
        "meter", "read", &uri, "--obis", "1.8.0", "--obis", "0.0.0", "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        r#"[{"id":"1.8.0","value":12345.678,"unit":"kWh"},{"id":"0.0.0","value":"12345678","unit":""}]"#
    );
}

fn mbus_frame(name: &str) -> pqe_mbus::Frame {
    let bytes = mbus_slave::vector_in(&repo().join("protocols/mbus/tests/vectors"), name);
    pqe_mbus::Frame::parse(&bytes).unwrap().0
}

#[test]
fn meter_scan_and_read_mbus() {
    // One slave (a Kamstrup Multical 601 answering with its libmbus vector frame).
    let f = mbus_frame("kamstrup_multical_601");
    let primary = f.address().unwrap();
    let slave = mbus_slave::Slave {
        primary,
        telegrams: vec![f.clone()],
        cut_after: None,
        log: Default::default(),
    };
    let id: String = slave.id_digits().iter().map(|d| format!("{d:X}")).collect();
    let port = mbus_slave::start(slave);
    let o = pqe(&[
        "meter",
        "scan",
        &format!("mbus+tcp://127.0.0.1:{port}?timeout_ms=40&retries=0"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [primary.to_string(), format!("id:{id}")], "{found}");

    // Read it by its secondary address: the records with units.
    let slave = mbus_slave::Slave {
        primary,
        telegrams: vec![f],
        cut_after: None,
        log: Default::default(),
    };
    let port = mbus_slave::start(slave);
    let o = pqe(&[
        "meter",
        "read",
        &format!("mbus+tcp://127.0.0.1:{port}?address=id:{id}"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = v.as_array().unwrap();
    assert!(!v.is_empty());
    assert!(
        v.iter().any(|r| r["unit"] == "Wh" || r["unit"] == "kWh"),
        "no energy record: {v:?}"
    );
}

#[test]
fn meter_read_sml_push_telegram_over_a_pty() {
    use pqe_sml::build::{telegram, EntrySpec, ValueSpec};
    let dir = tempfile::tempdir().unwrap();
    let (_socat, a, b) = pty_pair(dir.path());
    let entries = vec![
        EntrySpec {
            obis: [1, 0, 1, 8, 0, 255],
            status: Some((0x0182, 2)),
            unit: Some(30),
            scaler: Some(-1),
            value: ValueSpec::Unsigned(123_456_789, 5),
        },
        EntrySpec {
            obis: [1, 0, 16, 7, 0, 255],
            status: None,
            unit: Some(27),
            scaler: Some(0),
            value: ValueSpec::Integer(-250, 2),
        },
    ];
    let t = telegram(
        &[0x0A, 0x01, 0x45, 0x4D, 0x48, 0, 0, 0, 0, 1],
        &entries,
        pqe_sml::CrcKind::X25,
    );
    let meter_end = a.clone();
    let push = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&meter_end)
            .unwrap();
        // Joining mid-stream: a telegram's tail first, then whole ones.
        let _ = f.write_all(&t[t.len() / 2..]);
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(300));
            if f.write_all(&t).is_err() {
                return;
            }
        }
    });
    let o = pqe(&[
        "meter",
        "read",
        &format!("sml://{}?serial=9600/8N1&timeout_ms=5000", b.display()),
        "--obis",
        "16.7.0",
        "--obis",
        "1-0:1.8.0*255",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["value"], -250.0, "{v}");
    assert_eq!(v[0]["unit"], "W", "{v}");
    assert_eq!(v[1]["value"], 12_345_678.9, "{v}");
    assert_eq!(v[1]["unit"], "Wh", "{v}");
    push.join().unwrap();
}

/// The dlms-cosem-rs `meter` example; it binds 127.0.0.1:4059, so every use of it is in
/// one test.
fn dlms_meter(ciphered: bool) -> Peer {
    let bin = std::env::var("PQE_DLMS_METER_BIN").unwrap_or_else(|_| {
        panic!("PQE_DLMS_METER_BIN is not set: run `make test` (scripts/setup.sh installs the dlms-cosem-rs meter)")
    });
    assert!(Path::new(&bin).is_file(), "no dlms-cosem-rs meter at {bin}");
    assert!(
        std::net::TcpStream::connect("127.0.0.1:4059").is_err(),
        "something already listens on 127.0.0.1:4059"
    );
    let mut cmd = Command::new(&bin);
    if ciphered {
        cmd.arg("--ciphered");
    }
    let meter = Peer(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect("127.0.0.1:4059").is_err() {
        assert!(Instant::now() < deadline, "the DLMS meter did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    meter
}

/// Fails when `text` carries `secret` as text or as hex (either case).
fn assert_no_secret(what: &str, text: &str, secret: &[u8]) {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let spaced: String = secret
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let low = text.to_lowercase();
    assert!(
        !text.contains(std::str::from_utf8(secret).unwrap_or("\u{0}\u{0}")),
        "{what} shows the secret:\n{text}"
    );
    assert!(
        !low.contains(&hex) && !low.contains(&spaced),
        "{what} shows the secret in hex:\n{text}"
    );
}

#[test]
fn meter_dlms_reads_and_secrets_never_show() {
    let dir = tempfile::tempdir().unwrap();

    // No security: the energy register (scaler and unit), the clock.
    {
        let _m = dlms_meter(false);
        let o = pqe(&[
            "meter",
            "read",
            "dlms+tcp://127.0.0.1:4059?client=16&server=1&timeout_ms=3000",
            "--obis",
            "1.8.0",
            "--obis",
            "0-0:1.0.0*255",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v[0]["id"], "1-0:1.8.0*255", "{v}");
        assert_eq!(v[0]["value"], 12_345_678.0, "{v}");
        assert_eq!(v[0]["unit"], "Wh", "{v}");
        assert!(
            v[1]["value"]
                .as_str()
                .unwrap()
                .starts_with("2026-09-06 12:00:00"),
            "{v}"
        );
        // The load profile, larger than a 512-byte PDU: by block transfer, 240 rows of
        // {1_000_000 + 17 i, 7 i mod 1000}.
        let o = pqe(&[
            "meter",
            "read",
            "dlms+tcp://127.0.0.1:4059?max_pdu=512&timeout_ms=3000",
            "--obis",
            "1-0:99.1.0*255",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let v = v.as_array().unwrap();
        assert_eq!(v.len(), 480);
        assert_eq!(v[478]["id"], "1-0:99.1.0*255[240]/column 1");
        assert_eq!(v[478]["value"], f64::from(1_000_000 + 239 * 17));
        assert_eq!(v[479]["value"], f64::from(239 * 7 % 1000));

        // LLS: this meter refuses it; the refusal, the log and the trace carry no password.
        let password = b"Pqe-LLS-pw-4711";
        let trace = dir.path().join("lls.jsonl");
        let o = pqe_env(
            &[
                "meter",
                "trace",
                "dlms+tcp://127.0.0.1:4059?client=16&server=1&auth=lls&secret=env:PQE_TEST_LLS&timeout_ms=3000",
                "--obis",
                "1.8.0",
                "--out",
                trace.to_str().unwrap(),
            ],
            &[("PQE_TEST_LLS", std::str::from_utf8(password).unwrap())],
        );
        assert!(!o.status.success(), "the meter accepted LLS?");
        let t = std::fs::read_to_string(&trace).unwrap();
        assert!(t.lines().count() >= 2, "no AARQ in the trace:\n{t}");
        for (what, text) in [("stdout", stdout(&o)), ("stderr", stderr(&o)), ("trace", t)] {
            assert_no_secret(what, &text, password);
        }
    }

    // HLS-GMAC with suite-0 ciphering, the keys (those of the example's source) from the
    // environment: a full session, its output, log and trace carry no key.
    let guek = "000102030405060708090A0B0C0D0E0F";
    let gak = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";
    let env = [("PQE_TEST_EK", guek), ("PQE_TEST_AK", gak)];
    let uri = "dlms+tcp://127.0.0.1:4059?client=16&server=1&auth=hls-gmac&ek=env:PQE_TEST_EK&ak=env:PQE_TEST_AK&title=434C490000000001&timeout_ms=3000";
    let check = |o: &Output, trace: &str| {
        for key in [guek, gak] {
            let bytes: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&key[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            for (what, text) in [
                ("stdout", stdout(o)),
                ("stderr", stderr(o)),
                ("trace", trace.into()),
            ] {
                assert_no_secret(what, &text, &bytes);
            }
        }
    };
    {
        let _m = dlms_meter(true);
        let trace = dir.path().join("gmac.jsonl");
        let o = pqe_env(
            &[
                "meter",
                "trace",
                uri,
                "--obis",
                "1.8.0",
                "--out",
                trace.to_str().unwrap(),
                "--json",
            ],
            &env,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v[0]["value"], 12_345_678.0, "{v}");
        let t = std::fs::read_to_string(&trace).unwrap();
        check(&o, &t);
        // The trace of the ciphered session passes the communication analysis.
        let a = pqe(&["meter", "analyse", trace.to_str().unwrap()]);
        assert!(a.status.success(), "{}", stdout(&a));
        check(&a, "");

        // Wrong authentication key: refused, and the error names no key.
        let wrong = "55555555555555555555555555555555";
        let o = pqe_env(
            &["meter", "read", uri, "--obis", "1.8.0"],
            &[("PQE_TEST_EK", guek), ("PQE_TEST_AK", wrong)],
        );
        assert!(!o.status.success());
        check(&o, "");
        assert!(!stderr(&o).contains("5555"), "{}", stderr(&o));
    }

    // A key written into the URI is refused without being quoted.
    let o = pqe(&[
        "meter",
        "read",
        &uri.replace("ek=env:PQE_TEST_EK", &format!("ek={guek}")),
        "--obis",
        "1.8.0",
    ]);
    assert!(!o.status.success());
    check(&o, "");
}
