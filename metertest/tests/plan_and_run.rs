//! Plans refused with the line and key at fault; the runner on the simulated bench (a bench
//! fault keeps the points already measured); results archived and found again by serial.

use pqe_metertest::archive::{Archive, HistoryQuery};
use pqe_metertest::bench::{open_bench, SimBench};
use pqe_metertest::limits::Verdict;
use pqe_metertest::plan::{Plan, PlanError, PointKind};
use pqe_metertest::run::{run, write_outputs};
use std::path::{Path, PathBuf};

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/metertest")
}

fn example_plan() -> Plan {
    Plan::from_file(&example_dir().join("class1-direct.toml")).unwrap()
}

const GOOD: &str = r#"[meter]
serials = ["A1"]
standard = "IEC 62053-21"
class = "1"
constant = 1000
un = 230
ib = 5
imax = 60

[[point]]
kind = "accuracy"
current = "Ib"
"#;

fn refused(text: &str) -> PlanError {
    Plan::from_toml(text, "plan.toml", "plan").unwrap_err()
}

#[test]
fn a_minimal_plan_is_accepted() {
    let p = Plan::from_toml(GOOD, "plan.toml", "plan").unwrap();
    assert_eq!(p.points.len(), 1);
    assert_eq!(p.points[0].line, 10);
    match &p.points[0].kind {
        PointKind::Accuracy {
            current_a, limit, ..
        } => {
            assert_eq!(*current_a, 5.0);
            assert_eq!(limit.limit_percent, 1.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_constant_is_refused_with_line_and_key() {
    let e = refused(&GOOD.replace("constant = 1000\n", ""));
    assert_eq!((e.line, e.key.as_str()), (1, "meter.constant"), "{e}");
    assert!(
        e.to_string()
            .starts_with("plan.toml:1: meter.constant: missing"),
        "{e}"
    );
    let e = refused(&GOOD.replace("constant = 1000", "constant = -1000"));
    assert_eq!((e.line, e.key.as_str()), (5, "meter.constant"), "{e}");
}

#[test]
fn unknown_points_are_refused_with_line_and_key() {
    // An unknown kind of point.
    let e = refused(&GOOD.replace("kind = \"accuracy\"", "kind = \"dial\""));
    assert_eq!((e.line, e.key.as_str()), (11, "point[1].kind"), "{e}");
    assert!(e.message.contains("unknown point kind"), "{e}");
    // A current no table row covers (below 0.05 Ib), and a current the meter does not define.
    let e = refused(&GOOD.replace("current = \"Ib\"", "current = \"0.01 Ib\""));
    assert_eq!((e.line, e.key.as_str()), (10, "point[1].current"), "{e}");
    assert!(e.message.contains("unknown point"), "{e}");
    let e = refused(&GOOD.replace("current = \"Ib\"", "current = \"0.5 Itr\""));
    assert_eq!((e.line, e.key.as_str()), (12, "point[1].current"), "{e}");
    // An unknown key: toml's error, with its line.
    let e = refused(&format!("{GOOD}voltage = 1\n"));
    assert_eq!(e.line, 13, "{e}");
    assert_eq!(e.key, "voltage", "{e}");
    // A PF the tables do not know.
    let e = refused(&format!("{GOOD}pf = \"0.3L\"\n"));
    assert_eq!(e.key, "point[1].current", "{e}");
}

#[test]
fn impossible_durations_are_refused_with_line_and_key() {
    let e = refused(&format!("{GOOD}duration = -5\n"));
    assert_eq!((e.line, e.key.as_str()), (13, "point[1].duration"), "{e}");
    // At Ib, 3 × 230 V, 1000 imp/kWh one pulse takes 1.04 s: 1.5 s holds no gate.
    let e = refused(&format!("{GOOD}duration = 1.5\n"));
    assert_eq!((e.line, e.key.as_str()), (13, "point[1].duration"), "{e}");
    assert!(e.message.contains("impossible duration"), "{e}");
    // A no-load test shorter than the 14.5 min of IEC 62053-21:2003.
    let e = refused(&GOOD.replace(
        "kind = \"accuracy\"\ncurrent = \"Ib\"\n",
        "kind = \"no-load\"\nduration = 600\n",
    ));
    assert_eq!((e.line, e.key.as_str()), (12, "point[1].duration"), "{e}");
    // A starting test shorter than two pulses at Ist.
    let e = refused(&GOOD.replace(
        "kind = \"accuracy\"\ncurrent = \"Ib\"\n",
        "kind = \"starting\"\nduration = 10\n",
    ));
    assert_eq!((e.line, e.key.as_str()), (12, "point[1].duration"), "{e}");
    // Gates that would keep the bench busy for more than a day.
    let e = refused(&format!("{GOOD}pulses = 1000000\n"));
    assert_eq!((e.line, e.key.as_str()), (13, "point[1].pulses"), "{e}");
    assert!(e.message.contains("impossible duration"), "{e}");
    let e = refused(&format!("{GOOD}resolution = 1e-9\n"));
    assert_eq!((e.line, e.key.as_str()), (13, "point[1].resolution"), "{e}");
    let e = refused(&GOOD.replace(
        "kind = \"accuracy\"\ncurrent = \"Ib\"\n",
        "kind = \"no-load\"\nduration = 1e6\n",
    ));
    assert_eq!((e.line, e.key.as_str()), (12, "point[1].duration"), "{e}");
}

#[test]
fn example_plan_runs_on_the_simulated_bench_with_the_programmed_verdicts() {
    let plan = example_plan();
    let mut bench = open_bench("sim:class1-direct-sim.toml?seed=4", &example_dir()).unwrap();
    bench.check_serials(&plan.meter.serials).unwrap();
    let r = run(&plan, bench.as_mut(), "2026-12-07T07:00:00Z", |_, _| {});
    assert!(r.complete && r.fault.is_none());
    assert_eq!(r.points.len(), plan.points.len());
    let m1 = &r.meters[0];
    let m2 = &r.meters[1];
    assert_eq!(
        (m1.serial.as_str(), m1.verdict.as_str()),
        ("SIM-0001", "pass"),
        "{m1:#?}"
    );
    assert_eq!(
        (m2.serial.as_str(), m2.verdict.as_str()),
        ("SIM-0002", "fail")
    );
    // SIM-0002 creeps (no-load, point 2) and runs 1.3 % fast at 0.1 Ib (point 4).
    let failed: Vec<usize> = m2
        .points
        .iter()
        .filter(|p| p.verdict == Verdict::Fail)
        .map(|p| p.index)
        .collect();
    assert_eq!(failed, vec![2, 4]);
    // Every accuracy error of the good meter lies within its resolution of the programmed curve.
    let sim_text = std::fs::read_to_string(example_dir().join("class1-direct-sim.toml")).unwrap();
    let sim: pqe_metertest::sim::SimMeter = toml::from_str::<toml::Table>(&sim_text).unwrap()
        ["meter"]
        .as_array()
        .unwrap()[0]
        .clone()
        .try_into()
        .unwrap();
    for (p, set) in m1.points.iter().zip(&r.points) {
        if let (Some(e), Some(res)) = (p.error, p.resolution) {
            let truth = sim.error_at(set.current, &set.pf);
            // Jitter of 0.2 ms on the gate's two edges adds to the ±1 count.
            let jitter = 100.0 * 0.0004 / (set.duration / 1.5);
            assert!(
                (e - truth).abs() <= res + jitter,
                "point {}: {e} vs {truth} ± {res}",
                p.index
            );
        }
    }
}

#[test]
fn a_bench_fault_mid_run_keeps_the_points_already_measured() {
    let plan = example_plan();
    let mut bench =
        SimBench::open("sim:class1-direct-sim.toml?fault_after=4", &example_dir()).unwrap();
    let r = run(&plan, &mut bench, "2026-12-07T07:00:00Z", |_, _| {});
    assert!(!r.complete);
    let fault = r.fault.clone().unwrap();
    assert!(
        fault.contains("point 5") && fault.contains("line"),
        "{fault}"
    );
    assert_eq!(r.points.len(), 4);
    for m in &r.meters {
        assert_eq!(m.points.len(), 4);
    }
    assert_eq!(r.meters[0].verdict, "incomplete");
    assert_eq!(r.meters[1].verdict, "fail");
    // Written and archived all the same.
    let dir = tempfile::tempdir().unwrap();
    write_outputs(&r, dir.path()).unwrap();
    let back: pqe_metertest::run::RunResults =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(back, r);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("did not complete"));
}

#[test]
fn runs_are_archived_and_found_by_serial_date_and_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub/archive.sqlite");
    let plan = example_plan();
    let mut archive = Archive::open(&db).unwrap();
    for (started, uri) in [
        ("2026-12-06T10:00:00Z", "sim:?seed=1"),
        ("2026-12-07T07:00:00Z", "sim:class1-direct-sim.toml"),
    ] {
        let mut bench = open_bench(uri, &example_dir()).unwrap();
        let r = run(&plan, bench.as_mut(), started, |_, _| {});
        archive.store(&r, dir.path()).unwrap();
    }
    let q = |serial: &str, since: Option<&str>, verdict: Option<&str>| {
        archive
            .history(&HistoryQuery {
                serial: serial.into(),
                since: since.map(Into::into),
                until: None,
                verdict: verdict.map(Into::into),
            })
            .unwrap()
    };
    let all = q("SIM-0002", None, None);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].started, "2026-12-07T07:00:00Z");
    assert_eq!(all[0].verdict, "fail");
    assert_eq!(all[1].verdict, "pass");
    assert_eq!(q("SIM-0002", Some("2026-12-07"), None).len(), 1);
    assert_eq!(q("SIM-0002", None, Some("pass")).len(), 1);
    assert!(q("NOPE", None, None).is_empty());
    let stored = archive.results(all[0].run).unwrap();
    assert_eq!(stored.meters[1].serial, "SIM-0002");
}

#[test]
fn wiring_check_warns_of_reversed_and_swapped_currents() {
    let plan = example_plan();
    for (uri, kind) in [
        ("sim:?reverse=I2", "reversed"),
        ("sim:?swap=I1:I3", "swapped"),
    ] {
        let mut bench = open_bench(uri, &example_dir()).unwrap();
        let r = run(&plan, bench.as_mut(), "2026-12-07T07:00:00Z", |_, _| {});
        let w = r.wiring.unwrap();
        assert!(
            w.findings.iter().any(|f| f.kind == kind),
            "{uri}: {:?}",
            w.findings
        );
    }
    let mut bench = open_bench("sim:", &example_dir()).unwrap();
    let r = run(&plan, bench.as_mut(), "x", |_, _| {});
    assert!(r.wiring.unwrap().findings.is_empty());
}

#[test]
fn unknown_bench_and_bad_sim_options_are_errors() {
    let e = open_bench("tcp://127.0.0.1:1", Path::new("."))
        .err()
        .expect("tcp: refused");
    assert!(e.to_string().contains("no bench driver"), "{e}");
    assert!(open_bench("sim:?fault_after=x", Path::new(".")).is_err());
    assert!(open_bench("sim:?colour=red", Path::new(".")).is_err());
}
