//! Register (dial) and function tests through meter links against real peers: the pymodbus
//! 3.16 server of tests/peers/modbus_server.py over TCP, and the `meter` example of
//! dlms-cosem-rs 0.1 over TCP (PQE_DLMS_METER_BIN, installed by scripts/setup.sh). A missing
//! peer fails the test.
//!
//! The peers' registers do not move by themselves. For a register test that passes, the bench
//! of the Modbus test plays the meter's register: after the simulated bench has delivered
//! its energy it writes the advance a meter 0.4 % fast would show into the peer's holding
//! register hr:100 (two words, f32) through a link of its own, and the runner reads it back
//! through the meter's link. The peers' fixed energy registers give the register test a
//! meter whose register stands still: error −100 %, fail.

use pqe_link::{MeterUri, OpenRequest, Reading, Registry, Selector};
use pqe_metertest::bench::{Bench, BenchError, PointSetting, Readings, SimBench};
use pqe_metertest::limits::Verdict;
use pqe_metertest::plan::Plan;
use pqe_metertest::run::{run, run_with_links, PointOutcome, RunResults};
use pqe_metertest::wiring::WiringMeasurement;
use pqe_metertest::JOULES_PER_KWH;
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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn registry() -> Registry {
    let mut r = Registry::new();
    pqe_modbus::register(&mut r);
    pqe_dlms::link::register(&mut r);
    r
}

fn modbus_server() -> (Peer, u16) {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let mut child = Command::new(python)
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

/// The dlms-cosem-rs `meter` example on 127.0.0.1:4059 (one test of this file uses it).
fn dlms_meter() -> Peer {
    let bin = std::env::var("PQE_DLMS_METER_BIN").unwrap_or_else(|_| {
        panic!("PQE_DLMS_METER_BIN is not set: run `make test` (scripts/setup.sh installs the dlms-cosem-rs meter)")
    });
    assert!(Path::new(&bin).is_file(), "no dlms-cosem-rs meter at {bin}");
    assert!(
        std::net::TcpStream::connect("127.0.0.1:4059").is_err(),
        "something already listens on 127.0.0.1:4059"
    );
    let meter = Peer(
        Command::new(&bin)
            .stdout(Stdio::null())
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

fn plan(serial: &str, link: &str, points: &str) -> Plan {
    let text = format!(
        r#"[meter]
serials = ["{serial}"]
standard = "IEC 62053-21"
class = "1"
constant = 1000
un = 230
ib = 5
imax = 60

[links]
{serial} = "{link}"

{points}"#
    );
    Plan::from_toml(&text, "plan.toml", "links").unwrap_or_else(|e| panic!("{e}"))
}

/// The simulated bench, and the meter's register played in the Modbus peer's hr:100.
struct DialBench {
    sim: SimBench,
    links: Registry,
    uri: MeterUri,
    fast_percent: f64,
}

impl Bench for DialBench {
    fn uri(&self) -> &str {
        self.sim.uri()
    }
    fn reference_note(&self) -> &str {
        self.sim.reference_note()
    }
    fn wiring(&mut self, u: f64, i: f64, n: u32, f: f64) -> Result<WiringMeasurement, BenchError> {
        self.sim.wiring(u, i, n, f)
    }
    fn run(&mut self, s: &PointSetting, serials: &[String]) -> Result<Readings, BenchError> {
        let readings = self.sim.run(s, serials)?;
        let kwh = readings
            .reference_power
            .energy_j(0.0, s.duration_s)
            .unwrap()
            / JOULES_PER_KWH;
        let dial: Selector = Selector::Register("hr:100:f32".parse().unwrap());
        let mut link = self
            .links
            .open(&OpenRequest {
                uri: &self.uri,
                map: None,
                trace: None,
            })
            .unwrap();
        let before = match &link.read(std::slice::from_ref(&dial)).unwrap()[0].value {
            Reading::Number(x) => *x,
            other => panic!("{other:?}"),
        };
        let after = before + kwh * (1.0 + self.fast_percent / 100.0);
        link.write(&dial, &Reading::Number(after)).unwrap();
        link.close().unwrap();
        Ok(readings)
    }
}

fn outcome(r: &RunResults, index: usize) -> &PointOutcome {
    r.meters[0]
        .points
        .iter()
        .find(|p| p.index == index)
        .unwrap()
}

#[test]
fn register_and_function_tests_through_modbus_against_pymodbus() {
    let (_server, port) = modbus_server();
    let link = format!("modbus-tcp://127.0.0.1:{port}?unit=1");
    let plan = plan(
        "MB-1",
        &link,
        r#"[[point]]
kind = "function"
register = "ir:0x0:f32"       # U L1 of the SDM630 layout: 230.1 V
expect = 230.1
tolerance = 0.001

[[point]]
kind = "function"
register = "ir:0x46:f32"      # frequency: 50 Hz
expect = 50.0

[[point]]
kind = "function"
register = "ir:0x0:f32"
expect = 240
tolerance = 1

[[point]]
kind = "register"
register = "hr:100:f32"       # the register the bench plays: 0.4 % fast
unit = "kWh"
current = "Ib"
duration = 60

[[point]]
kind = "register"
register = "ir:0x156:f32"     # the peer's fixed total energy
unit = "kWh"
current = "Ib"
duration = 60
"#,
    );
    let links = registry();
    let mut bench = DialBench {
        sim: SimBench::open("sim:", Path::new(".")).unwrap(),
        links: registry(),
        uri: link.parse().unwrap(),
        fast_percent: 0.4,
    };
    let r = run_with_links(&plan, &mut bench, &links, "2026-12-07T12:00:00Z", |_, _| {});
    assert!(r.complete, "{:?}", r.fault);

    let p1 = outcome(&r, 1);
    assert_eq!(p1.verdict, Verdict::Pass, "{p1:?}");
    assert!((p1.value.unwrap() - 230.1).abs() < 1e-4, "{p1:?}");
    let p2 = outcome(&r, 2);
    assert_eq!(
        (p2.verdict, p2.value),
        (Verdict::Pass, Some(50.0)),
        "{p2:?}"
    );
    let p3 = outcome(&r, 3);
    assert_eq!(p3.verdict, Verdict::Fail, "{p3:?}");

    // 3 × 230 V × 5 A for 60 s = 0.0575 kWh; the register advanced 0.4 % more. Its f32
    // holds 7 digits: the error is 0.4 % within 0.001 %.
    let p4 = outcome(&r, 4);
    assert!((p4.expected.unwrap() - 0.0575).abs() < 1e-12, "{p4:?}");
    assert!((p4.error.unwrap() - 0.4).abs() < 1e-3, "{p4:?}");
    assert_eq!((p4.limit, p4.verdict), (Some(1.0), Verdict::Pass), "{p4:?}");
    let p5 = outcome(&r, 5);
    assert_eq!(
        (p5.error, p5.verdict),
        (Some(-100.0), Verdict::Fail),
        "{p5:?}"
    );
    assert_eq!(r.meters[0].verdict, "fail");
}

#[test]
fn register_and_function_tests_through_dlms_against_the_dlms_cosem_rs_meter() {
    let _meter = dlms_meter();
    let plan = plan(
        "DLMS-1",
        "dlms+tcp://127.0.0.1:4059?client=16&server=1&timeout_ms=3000",
        r#"[[point]]
kind = "function"
obis = "1.8.0"                # active energy import: 12 345 678 Wh
expect = 12345678
tolerance = 0

[[point]]
kind = "function"
obis = "1.8.0"
expect = 12345000
tolerance = 100

[[point]]
kind = "register"
obis = "1.8.0"
unit = "Wh"
current = "Ib"
duration = 60

[[point]]
kind = "register"
obis = "1.8.0"
unit = "kWh"                  # the meter says Wh: refused
current = "Ib"
duration = 60
"#,
    );
    let mut bench = SimBench::open("sim:", Path::new(".")).unwrap();
    let r = run_with_links(
        &plan,
        &mut bench,
        &registry(),
        "2026-12-07T12:00:00Z",
        |_, _| {},
    );
    assert!(r.complete, "{:?}", r.fault);
    let p1 = outcome(&r, 1);
    assert_eq!(
        (p1.verdict, p1.value),
        (Verdict::Pass, Some(12_345_678.0)),
        "{p1:?}"
    );
    let p2 = outcome(&r, 2);
    assert_eq!(p2.verdict, Verdict::Fail, "{p2:?}");
    // The example meter's register stands still while the bench delivers 0.0575 kWh.
    let p3 = outcome(&r, 3);
    assert_eq!(
        (p3.value, p3.error, p3.verdict),
        (Some(0.0), Some(-100.0), Verdict::Fail),
        "{p3:?}"
    );
    let p4 = outcome(&r, 4);
    assert_eq!(p4.verdict, Verdict::Fail);
    assert!(
        p4.note
            .as_deref()
            .unwrap()
            .contains("reports the register in Wh"),
        "{p4:?}"
    );
}

#[test]
fn link_points_need_a_link_per_meter_and_a_protocol() {
    let points = "[[point]]\nkind = \"function\"\nobis = \"1.8.0\"\nexpect = 1\n";
    // A serial without a link is refused before anything runs.
    let text = format!(
        "[meter]\nserials = [\"A\", \"B\"]\nstandard = \"IEC 62053-21\"\nclass = \"1\"\nconstant = 1000\nun = 230\nib = 5\nimax = 60\n\n[links]\nA = \"modbus-tcp://127.0.0.1:1?unit=1\"\n\n{points}"
    );
    let e = Plan::from_toml(&text, "plan.toml", "p").unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (10, "links.B"), "{e}");
    // A link that is not a meter URI, a point with neither register nor OBIS code.
    let e = Plan::from_toml(
        &text.replace("modbus-tcp://127.0.0.1:1?unit=1\"", "nonsense\"\nB = \"x\""),
        "plan.toml",
        "p",
    )
    .unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (11, "links.A"), "{e}");
    let e = Plan::from_toml(
        &text
            .replace(
                "[links]\n",
                "[links]\nB = \"modbus-tcp://127.0.0.1:1?unit=2\"\n",
            )
            .replace("obis = \"1.8.0\"\n", ""),
        "plan.toml",
        "p",
    )
    .unwrap_err();
    assert_eq!(e.key, "point[1].register", "{e}");
    // A key of a link point on an accuracy point is refused.
    let e = Plan::from_toml(
        &text.replace(
            "kind = \"function\"\nobis = \"1.8.0\"\nexpect = 1\n",
            "kind = \"accuracy\"\ncurrent = \"Ib\"\nexpect = 1\n",
        ),
        "plan.toml",
        "p",
    )
    .unwrap_err();
    assert_eq!(e.key, "point[1].expect", "{e}");
    // A secret's value in a link is refused without being shown.
    let e = Plan::from_toml(
        &text.replace(
            "modbus-tcp://127.0.0.1:1?unit=1",
            "dlms+tcp://127.0.0.1:1?auth=lls&secret=hunter2",
        ),
        "plan.toml",
        "p",
    )
    .unwrap_err();
    assert_eq!(e.key, "links.A", "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    // Run without the protocols: the point fails saying no link serves the scheme.
    let p = plan("A", "dlms+tcp://127.0.0.1:1?client=16", points);
    let mut bench = SimBench::open("sim:", Path::new(".")).unwrap();
    let r = run(&p, &mut bench, "x", |_, _| {});
    let o = outcome(&r, 1);
    assert_eq!(o.verdict, Verdict::Fail);
    let note = o.note.clone().unwrap();
    assert!(note.contains("no meter link for scheme"), "{note}");
}
