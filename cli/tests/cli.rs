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

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/demo/demo-3v3i-50hz.cfg")
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn analyze_writes_interval_frequency_and_harmonic_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let o = pqe(&[
        "analyze",
        demo().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (header, rows) = read_csv(&out.join("intervals.csv"));
    assert_eq!(&header[..4], ["t", "flagged", "f", "U_A"]);
    for col in [
        "THD_U_A", "TDD_I_A", "K_I_A", "CF_U_A", "u2", "u0", "P", "Q", "S", "PF",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "no column {col} in {header:?}"
        );
    }
    // 30 s of 10-cycle intervals at ~50 Hz: about 150, minus the tracker's settling.
    assert!(
        (140..=151).contains(&rows.len()),
        "{} intervals",
        rows.len()
    );
    // Consecutive intervals are gapless: each starts where the previous one ended.
    let f = header.iter().position(|h| h == "f").unwrap();
    for w in rows.windows(2) {
        let expected = w[0][0] + 10.0 / w[0][f];
        assert!(
            (w[1][0] - expected).abs() < 2e-4,
            "{} then {}",
            w[0][0],
            w[1][0]
        );
    }
    // The scenario's phase A voltage is 231.5 V (plus 4.3 % THD): an unflagged interval
    // before the first dip reads it.
    let ua = header.iter().position(|h| h == "U_A").unwrap();
    let first = rows.iter().find(|r| r[1] == 0.0).unwrap();
    let expected = 231.5
        * (1.0
            + 0.012f64.powi(2)
            + 0.035f64.powi(2)
            + 0.02f64.powi(2)
            + 0.01f64.powi(2)
            + 0.007f64.powi(2)
            + 0.003f64.powi(2))
        .sqrt();
    assert!(
        (first[ua] - expected).abs() < 0.05 * 230.0 / 100.0,
        "{} vs {expected}",
        first[ua]
    );

    let (fh, frows) = read_csv(&out.join("frequency.csv"));
    assert_eq!(fh, ["t", "f", "flagged"]);
    assert_eq!(frows.len(), 3);
    assert!(
        frows.iter().all(|r| (r[1] - 50.0).abs() < 0.05),
        "{frows:?}"
    );

    let (hh, hrows) = read_csv(&out.join("harmonics_U_A.csv"));
    assert_eq!(hh.len(), 1 + 64 + 64);
    assert_eq!(
        (hh[1].as_str(), hh[64].as_str(), hh[65].as_str()),
        ("H0", "H63", "IH0")
    );
    assert_eq!(hrows.len(), rows.len());
    // H5 is 3.5 % of 231.5 V.
    assert!(
        (hrows[0][6] - 0.035 * 231.5).abs() < 0.05,
        "H5 = {}",
        hrows[0][6]
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["intervals"]["count"], rows.len() as u64);
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "harmonics_I_C.csv"));
}

#[test]
fn analyze_refuses_a_rate_too_low_to_track_the_fundamental() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("slow.csv");
    let mut text = String::from("t,U_A\n");
    for i in 0..4000 {
        let t = i as f64 / 500.0;
        text += &format!("{t},{}\n", 325.0 * (std::f64::consts::TAU * 50.0 * t).sin());
    }
    std::fs::write(&csv, text).unwrap();
    let o = pqe(&[
        "analyze",
        csv.to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("20 samples per cycle"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn analyze_reports_the_demo_events_with_captures_and_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let o = pqe(&[
        "analyze",
        demo().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // datasets/scenarios/demo-30s.toml: dip A 70 % 120 ms at 10.3 s, dip ABC 45 % 0.5 s at
    // 14.2 s, swell C 115 % 0.3 s at 18 s, interruption 1.2 s at 21 s, dip BC 85 % 2 s at 25 s.
    let text = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("kind,start,duration,extreme,phases"));
    let events: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let find = |kind: &str, at: f64| {
        events
            .iter()
            .find(|e| e[0] == kind && (e[1].parse::<f64>().unwrap() - at).abs() < 0.05)
            .unwrap_or_else(|| panic!("no {kind} near {at} s in {events:?}"))
    };
    let dip_a = find("dip", 10.3);
    assert_eq!(dip_a[4], "A");
    assert!(
        (dip_a[3].parse::<f64>().unwrap() / 230.0 - 0.70).abs() < 0.01,
        "{dip_a:?}"
    );
    assert_eq!(find("dip", 14.2)[4], "A+B+C");
    assert_eq!(find("swell", 18.0)[4], "C");
    // An interruption starts once a whole Urms(1/2) cycle lies below 10 % and ends as soon
    // as one channel recovers: up to one cycle shorter than the generated 1.2 s.
    let interruption = find("interruption", 21.0);
    let d = interruption[2].parse::<f64>().unwrap();
    assert!((1.2 - 0.0205..=1.2 + 0.01).contains(&d), "{interruption:?}");
    assert_eq!(find("dip", 25.0)[4], "B+C");

    // A COMTRADE capture per event, readable by pqe itself, spanning the event.
    let captures: Vec<_> = std::fs::read_dir(out.join("captures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    assert_eq!(captures.len(), events.len());
    let swell = captures
        .iter()
        .find(|p| p.to_string_lossy().contains("swell_C"))
        .unwrap();
    let o = pqe(&["inspect", "--json", swell.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = v["recording"]["total_samples"].as_u64().unwrap();
    // 0.3 s plus 10 + 10 cycles at 10.24 kHz.
    assert!((n as f64 / 10_240.0 - 0.7).abs() < 0.03, "{n} samples");

    // 150-cycle aggregates: the quadratic mean of 15 intervals each.
    let (h3, a3) = read_csv(&out.join("aggregates_3s.csv"));
    assert_eq!(&h3[..3], ["t", "flagged", "f"]);
    assert!((9..=10).contains(&a3.len()), "{} 3-s values", a3.len());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["events"]["count"], events.len());
    assert_eq!(
        v["captures"]["files"].as_array().unwrap().len(),
        events.len()
    );
}

#[test]
fn batch_analyses_a_folder_reports_the_broken_file_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("site")).unwrap();
    let cfg = std::fs::read(demo()).unwrap();
    let dat = std::fs::read(demo().with_extension("dat")).unwrap();
    std::fs::write(input.join("a.cfg"), &cfg).unwrap();
    std::fs::write(input.join("a.dat"), &dat).unwrap();
    std::fs::write(input.join("site/b.cfg"), &cfg).unwrap();
    std::fs::write(input.join("site/b.dat"), &dat).unwrap();
    // A .cfg whose channel counts disagree (6 in all, 5 analogue, 0 digital): reported,
    // not analysed. (A .dat cut short is analysed up to its end, see pqe-pipeline's tests.)
    let broken = String::from_utf8(cfg.clone())
        .unwrap()
        .replacen("6,6A,0D", "6,5A,0D", 1);
    assert!(broken.contains("6,5A,0D"));
    std::fs::write(input.join("site/cut.cfg"), broken).unwrap();
    std::fs::write(input.join("site/cut.dat"), &dat).unwrap();
    let out = dir.path().join("out");
    let o = pqe(&[
        "batch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-j",
        "2",
    ]);
    assert!(
        !o.status.success(),
        "a failed recording makes the batch fail"
    );
    assert!(stderr(&o).contains("cut.cfg"), "{}", stderr(&o));

    let text = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(rows[0].starts_with("file,folder,status,error,start,duration_s"));
    assert!(rows[1].starts_with("a.cfg,a_cfg,ok,,"), "{}", rows[1]);
    assert!(
        rows[2].starts_with("site/b.cfg,site__b_cfg,ok,,"),
        "{}",
        rows[2]
    );
    assert!(
        rows[3].starts_with("site/cut.cfg,site__cut_cfg,error,"),
        "{}",
        rows[3]
    );
    assert!(
        rows[3].contains("cut.cfg"),
        "the error names the file: {}",
        rows[3]
    );
    // Both good recordings give the same figures, and each has its full analysis.
    let figures = |r: &str| r.split(',').skip(5).map(String::from).collect::<Vec<_>>();
    assert_eq!(figures(rows[1]), figures(rows[2]));
    assert!(out.join("a_cfg/intervals.csv").exists());
    assert!(out.join("site__b_cfg/report.html").exists());
    assert!(!out.join("site__cut_cfg/summary.json").exists());
    let parquet = std::fs::read(out.join("summary.parquet")).unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
}

/// `pqe analyze` on the 30-s demo with `extra` options into `dir/name`; returns the folder
/// and the names of the files written (captures/ listed as a folder).
fn analyze_demo(dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, Vec<String>) {
    let out = dir.join(name);
    let input = demo();
    let mut args = vec![
        "analyze",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = pqe(&args);
    assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    (out, files)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn basic_mode_writes_rms_power_frequency_and_aggregates_only() {
    let dir = tempfile::tempdir().unwrap();
    let (out, files) = analyze_demo(dir.path(), "basic", &["--basic"]);
    assert_eq!(
        files,
        [
            "aggregates_10min.csv",
            "aggregates_2h.csv",
            "aggregates_3s.csv",
            "compliance.json",
            "frequency.csv",
            "intervals.csv",
            "report.html",
            "statistics.csv",
            "summary.json",
        ],
        "--basic wrote other files"
    );
    let (header, rows) = read_csv(&out.join("intervals.csv"));
    assert!(rows.len() > 100, "{} intervals", rows.len());
    for c in [
        "U_A", "I_A", "P_A", "S_A", "PF_A", "P_B", "S_B", "PF_B", "P_C", "S_C", "PF_C", "P", "S",
        "PF", "S_arith", "Ve", "Ie",
    ] {
        let j = header
            .iter()
            .position(|h| h == c)
            .unwrap_or_else(|| panic!("no {c} in {header:?}"));
        let unflagged = rows.iter().filter(|r| r[1] == 0.0);
        assert!(unflagged.clone().count() > 100);
        assert!(unflagged.clone().all(|r| r[j].is_finite()), "{c}");
    }
    // What needs a spectrum is absent; the demo draws real power, so P > 0 and PF in (0, 1]
    // (but in the interruption, whose intervals are flagged unlocked).
    for c in [
        "THD_U_A", "THDS_U_A", "PHI_U_A", "Q1_A", "DPF_A", "Q", "u2", "u0",
    ] {
        assert!(!header.contains(&c.to_string()), "{c} in basic mode");
    }
    let (p, pf) = (
        header.iter().position(|h| h == "P").unwrap(),
        header.iter().position(|h| h == "PF").unwrap(),
    );
    let mut supplied = rows.iter().filter(|r| r[1] == 0.0);
    assert!(supplied.clone().count() > 100);
    assert!(supplied.all(|r| r[p] > 0.0 && r[pf] > 0.0 && r[pf] <= 1.0 + 1e-12));
    // Aggregates carry the powers too.
    let (agg, _) = read_csv(&out.join("aggregates_3s.csv"));
    assert!(agg.contains(&"P".to_string()) && !agg.contains(&"THD_U_A".to_string()));

    let summary = json(&out.join("summary.json"));
    let analysis = &summary["analysis"];
    for (k, on) in [
        ("harmonics", false),
        ("flicker", false),
        ("events", false),
        ("half_cycle", false),
        ("aggregation", true),
    ] {
        assert_eq!(analysis[k], on, "{k}: {analysis}");
    }
    assert_eq!(summary["events"]["count"], 0);
    assert!(summary["flicker"].as_array().unwrap().is_empty());

    // Nothing that needs harmonics or flicker claims compliance.
    let c = json(&out.join("compliance.json"));
    assert_eq!(c["ieee519"]["overall"], "not_assessed");
    assert_eq!(c["en50160"]["events_assessed"], false);
    let criteria = c["en50160"]["criteria"].as_array().unwrap();
    let mut judged_off = 0;
    for row in criteria {
        let name = row["criterion"].as_str().unwrap();
        if name.contains("THD") || name.contains("Harmonic") || name.contains("Unbalance") {
            assert_eq!(row["verdict"], "not_assessed", "{row}");
            assert_eq!(
                row["note"], "not assessed (harmonics switched off)",
                "{row}"
            );
            judged_off += 1;
        }
        if name.contains("Plt") {
            assert_eq!(row["note"], "not assessed (flicker switched off)", "{row}");
            judged_off += 1;
        }
    }
    assert!(judged_off > 20, "{judged_off}");
    for check in c["ieee519"]["checks"].as_array().unwrap() {
        assert_eq!(check["verdict"], "not_assessed", "{check}");
        assert!(check["note"].as_str().unwrap().contains("switched off"));
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Switched off in this analysis"),
        "report says nothing"
    );
    assert!(html.contains("--no-flicker"));
}

#[test]
fn each_switch_removes_exactly_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (full, all) = analyze_demo(dir.path(), "full", &[]);
    let harmonics: Vec<String> = all
        .iter()
        .filter(|f| f.starts_with("harmonics_"))
        .cloned()
        .collect();
    assert_eq!(harmonics.len(), 6, "{all:?}");
    let aggregates: Vec<String> = all
        .iter()
        .filter(|f| f.starts_with("aggregates_"))
        .cloned()
        .collect();
    assert!(!aggregates.is_empty());
    for f in ["flicker.csv", "events.csv", "captures"] {
        assert!(all.contains(&f.to_string()), "{f} not in {all:?}");
    }
    let (_, full_rows) = read_csv(&full.join("intervals.csv"));
    let owned = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (vec!["--no-harmonics"], harmonics.clone()),
        (vec!["--no-flicker"], owned(&["flicker.csv"])),
        (vec!["--no-events"], owned(&["captures", "events.csv"])),
        (
            vec!["--no-events", "--no-half-cycle"],
            owned(&["captures", "events.csv"]),
        ),
        (vec!["--no-aggregation"], aggregates.clone()),
    ];
    for (k, (flags, removed)) in cases.iter().enumerate() {
        let (out, files) = analyze_demo(dir.path(), &format!("case{k}"), flags);
        let gone: Vec<String> = all.iter().filter(|f| !files.contains(f)).cloned().collect();
        let mut expected = removed.clone();
        expected.sort();
        assert_eq!(gone, expected, "{flags:?}");
        assert!(
            files.iter().all(|f| all.contains(f)),
            "{flags:?}: {files:?}"
        );
        let summary = json(&out.join("summary.json"));
        let off: Vec<&str> = summary["analysis"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| **v == false)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(off.len(), flags.len(), "{flags:?}: {off:?}");
        // Flicker and aggregation leave the intervals untouched; without events only the
        // event flags change.
        let (_, rows) = read_csv(&out.join("intervals.csv"));
        assert_eq!(rows.len(), full_rows.len(), "{flags:?}");
        if flags == &["--no-flicker"] || flags == &["--no-aggregation"] {
            assert_eq!(
                std::fs::read(out.join("intervals.csv")).unwrap(),
                std::fs::read(full.join("intervals.csv")).unwrap(),
                "{flags:?}"
            );
        }
        if flags.contains(&"--no-events") {
            let flagged = |r: &[Vec<f64>]| r.iter().filter(|r| r[1] != 0.0).count();
            assert!(flagged(&rows) < flagged(&full_rows), "{flags:?}");
            for (a, b) in rows.iter().zip(&full_rows) {
                let same = a[2..]
                    .iter()
                    .zip(&b[2..])
                    .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()));
                assert!(same, "{flags:?}: values changed");
            }
        }
    }
    // Urms(1/2) written on request, also without events.
    let (_, files) = analyze_demo(dir.path(), "half", &["--no-events", "--half-cycle"]);
    assert!(files.contains(&"urms_half_cycle.csv".to_string()));
}

#[test]
fn no_half_cycle_without_no_events_names_both_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let input = demo();
    let o = pqe(&[
        "analyze",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-half-cycle",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("--no-half-cycle") && err.contains("--no-events"),
        "{err}"
    );
    assert!(!out.exists(), "an output folder was made");
    for extra in [
        ["--basic", "--half-cycle"],
        ["--no-half-cycle", "--half-cycle"],
    ] {
        let mut args = vec![
            "analyze",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = pqe(&args);
        assert!(!o.status.success(), "{extra:?}");
        let err = stderr(&o);
        assert!(
            err.contains(extra[0]) && err.contains("--half-cycle"),
            "{err}"
        );
    }
}

#[test]
fn batch_takes_the_switches_and_leaves_event_counts_empty_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for ext in ["cfg", "dat"] {
        std::fs::copy(
            demo().with_extension(ext),
            input.join(format!("demo.{ext}")),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let bad = pqe(&["batch", i, "--out", o, "--no-half-cycle"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--no-events"), "{}", stderr(&bad));
    let run = pqe(&["batch", i, "--out", o, "--basic"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    for c in ["events", "dips", "swells", "interruptions"] {
        let j = header.iter().position(|h| *h == c).unwrap();
        assert_eq!(row[j], "", "{c}");
    }
    let j = header.iter().position(|h| *h == "mean_P").unwrap();
    assert!(row[j].parse::<f64>().unwrap() > 0.0);
    let folder = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    assert!(!folder.join("events.csv").exists() && !folder.join("harmonics_U_A.csv").exists());
}

#[test]
fn analyze_takes_a_settings_file_and_typed_options_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("settings.toml");
    std::fs::write(
        &config,
        "nominal_voltage = 240\nno_flicker = true\nwiring = \"wye\"\n",
    )
    .unwrap();
    let out = dir.path().join("res");
    let o = pqe(&[
        "analyze",
        demo().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--nominal-voltage",
        "230",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["system"]["udin"], 230.0);
    assert_eq!(s["analysis"]["flicker"], false);
    assert!(!out.join("flicker.csv").exists());

    std::fs::write(&config, "nominal_voltag = 240\n").unwrap();
    let o = pqe(&[
        "analyze",
        demo().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("settings.toml") && e.contains("nominal_voltag"),
        "{e}"
    );
}

#[test]
fn analyze_warns_when_the_data_does_not_fit_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let f = data("comtrade/pnnl/f1_1b274run.cfg");
    let out = dir.path().join("res");
    let o = pqe(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning:") && e.contains("--nominal-frequency 60"),
        "{e}"
    );
    assert!(e.contains("--nominal-voltage auto"), "{e}");
    let o = pqe(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--nominal-frequency",
        "60",
        "--nominal-voltage",
        "auto",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
}
