//! `pqe metertest` end to end on the example plan and the simulated bench: results.json with
//! per meter its serial and per point error, limit and verdict; report.html; the archive row
//! that `pqe metertest history` finds; bad plans refused with line and key; a bench fault
//! mid-run keeps the points measured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pqe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(args)
        .env_remove("XDG_DATA_HOME")
        .output()
        .expect("run pqe")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../datasets/metertest")
        .join(name)
        .display()
        .to_string()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn example_plan_on_the_simulated_bench_writes_results_report_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("out");
    let db = dir.path().join("archive.sqlite");
    let plan = example("class1-direct.toml");
    let o = pqe(&[
        "metertest",
        "run",
        &plan,
        "--bench",
        "sim:class1-direct-sim.toml",
        "--out",
        out.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "SIM-0001\tpass\nSIM-0002\tfail\n");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["complete"], true);
    let meters = r["meters"].as_array().unwrap();
    assert_eq!(meters[0]["serial"], "SIM-0001");
    assert_eq!(meters[1]["serial"], "SIM-0002");
    let points = meters[1]["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    // Point 4: 0.1 Ib, PF 1, where SIM-0002 runs 1.3 % fast against a limit of 1.0 %.
    let p4 = &points[3];
    assert!((p4["error"].as_f64().unwrap() - 1.3).abs() < 0.06, "{p4}");
    assert_eq!(p4["limit"], 1.0);
    assert_eq!(p4["verdict"], "fail");
    for p in meters[0]["points"].as_array().unwrap() {
        assert_eq!(p["verdict"], "pass", "{p}");
        assert!(p.get("error").is_some() && p.get("limit").is_some());
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("SIM-0002") && html.contains("(unverified)"));
    assert!(!html.contains("http://") || !html.contains("src=\"http"));

    let o = pqe(&[
        "metertest",
        "history",
        "SIM-0002",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let listing = text(&o.stdout);
    let rows: Vec<&str> = listing.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{listing}");
    assert!(
        rows[0].contains("SIM-0002\tfail\t10\t2\tclass 1 direct"),
        "{listing}"
    );
    let o = pqe(&[
        "metertest",
        "history",
        "SIM-0002",
        "--db",
        db.to_str().unwrap(),
        "--verdict",
        "pass",
        "--json",
    ]);
    assert!(o.status.success());
    assert_eq!(text(&o.stdout).trim(), "[]");
    let o = pqe(&[
        "metertest",
        "history",
        "UNKNOWN-1",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("no archived run of meter \"UNKNOWN-1\""));
}

#[test]
fn bad_plan_is_refused_with_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bad.toml");
    let good = std::fs::read_to_string(example("class1-direct.toml")).unwrap();
    std::fs::write(
        &plan,
        good.replace("constant = 1000          # imp/kWh\n", ""),
    )
    .unwrap();
    let o = pqe(&[
        "metertest",
        "run",
        plan.to_str().unwrap(),
        "--bench",
        "sim:",
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--db",
        dir.path().join("db").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("bad.toml:6: meter.constant: missing"), "{err}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn bench_fault_mid_run_keeps_the_measured_points_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let db = dir.path().join("db.sqlite");
    let o = pqe(&[
        "metertest",
        "run",
        &example("class1-direct.toml"),
        "--bench",
        "sim:?fault_after=3",
        "--out",
        out.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("3 of 10 points measured") && err.contains("point 4"),
        "{err}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["complete"], false);
    assert_eq!(r["meters"][0]["points"].as_array().unwrap().len(), 3);
    let o = pqe(&[
        "metertest",
        "history",
        "SIM-0001",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(
        text(&o.stdout).contains("SIM-0001\tincomplete\t3\t0"),
        "{}",
        text(&o.stdout)
    );
}
