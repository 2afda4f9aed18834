//! End-to-end tests of the `pqe` command: what a user types, what a user reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pqe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pqe"))
        .args(args)
        .output()
        .expect("pqe runs")
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(rel)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_lists_channels_and_timing_of_a_comtrade_file() {
    let f = data("comtrade/pnnl/f1_1b274run.cfg");
    let o = pqe(&["inspect", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("15 analog channels"), "{out}");
    assert!(out.contains("SBUS A"), "{out}");
    assert!(out.contains("100000 Hz"), "{out}");
    assert!(out.contains("40001 samples per channel"), "{out}");
}

#[test]
fn inspect_stats_reads_all_samples_and_json_is_machine_readable() {
    let f = data("comtrade/fixtures/sample_ascii.cfg");
    let o = pqe(&["inspect", "--stats", "--json", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["samples_read"], 40);
    assert_eq!(v["statistics"].as_array().unwrap().len(), 4);
    // IA's first raw value is -83: a·x + b = 0.1138916015625·(−83) + 0.05694580078125.
    let min = v["statistics"][0]["min"].as_f64().unwrap();
    assert!(min <= 0.1138916015625 * -83.0 + 0.05694580078125, "{min}");
}

#[test]
fn unknown_file_type_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("recording.xyz");
    std::fs::write(&bogus, b"1,2,3\n").unwrap();
    let o = pqe(&["inspect", bogus.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("recording.xyz") && err.contains("unknown file type"),
        "{err}"
    );
}

#[test]
fn missing_input_is_reported_with_its_path() {
    let o = pqe(&["analyze", "/nonexistent/rec.cfg", "--out", "/tmp/never"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("/nonexistent/rec.cfg"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn convert_round_trips_comtrade_through_csv_and_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("comtrade/fixtures/sample_bin.cfg");
    let csv = dir.path().join("a.csv");
    let h5 = dir.path().join("a.h5");
    let cff = dir.path().join("b.cff");
    let back = dir.path().join("c.csv");
    for (from, to, extra) in [
        (src.as_path(), csv.as_path(), None),
        (csv.as_path(), h5.as_path(), None),
        (h5.as_path(), cff.as_path(), Some("float32")),
        (cff.as_path(), back.as_path(), None),
    ] {
        let mut args = vec!["convert", from.to_str().unwrap(), to.to_str().unwrap()];
        if let Some(fmt) = extra {
            args.extend(["--comtrade-format", fmt]);
        }
        let o = pqe(&args);
        assert!(o.status.success(), "{:?}: {}", args, stderr(&o));
    }
    // CSV → HDF5 → FLOAT32 .cff → CSV keeps each value to float32 precision.
    let first = std::fs::read_to_string(&csv).unwrap();
    let last = std::fs::read_to_string(&back).unwrap();
    let parse = |s: &str| -> Vec<Vec<f64>> {
        s.lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .map(|c| c.parse::<f64>().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect()
    };
    let (a, b) = (parse(&first), parse(&last));
    assert_eq!(a.len(), b.len());
    assert!(!a.is_empty());
    for (ra, rb) in a.iter().zip(&b) {
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1e-3), "{x} vs {y}");
        }
    }
}

#[test]
fn convert_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    std::fs::write(&out, "t\n").unwrap();
    let src = data("comtrade/fixtures/sample_ascii.cfg");
    let o = pqe(&["convert", src.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = pqe(&[
        "convert",
        "-f",
        src.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn analyze_writes_a_versioned_summary_with_channel_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let f = data("comtrade/pnnl/f1_1b274run.cfg");
    let out = dir.path().join("res");
    let o = pqe(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--map",
        "SBUS A          V-node=U_A",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["schema"], "pqe.summary/1");
    assert_eq!(v["recording"]["samples"], 40001);
    assert_eq!(v["statistics"][0]["channel"], "U_A");
    assert!(v["statistics"][0]["rms"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(out.join("statistics.csv")).unwrap();
    assert!(csv.starts_with("channel,unit,samples,missing,rms"), "{csv}");
    assert_eq!(csv.lines().count(), 16);
}

#[test]
fn bad_map_option_explains_itself() {
    let f = data("comtrade/fixtures/sample_ascii.cfg");
    let o = pqe(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        "/tmp/x",
        "--map",
        "IA=Q_A",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("U_ or I_"), "{}", stderr(&o));
}
