//! The run loop end to end: the staged run writes the same bytes as the one-thread run,
//! settings that do not fit the data are warned about, rows never start before the
//! recording, and a run can be cancelled.

use pqe_pipeline::{
    analyze_file, AnalysisSettings, CancelToken, Error, NominalVoltage, Observer, Progress,
};
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn demo() -> PathBuf {
    repo("datasets/demo/demo-3v3i-50hz.cfg")
}

fn pnnl() -> PathBuf {
    repo("tests/data/comtrade/pnnl/f1_1b274run.cfg")
}

/// Every file under `dir` (relative path → bytes), sorted.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[derive(Default)]
struct Seen {
    warnings: Vec<String>,
    infos: Vec<String>,
    last: Option<Progress>,
}

impl Observer for Seen {
    fn progress(&mut self, p: &Progress) {
        if let Some(last) = &self.last {
            assert!(p.samples > last.samples, "progress goes forward");
        }
        self.last = Some(*p);
    }
    fn warning(&mut self, m: &str) {
        self.warnings.push(m.to_string());
    }
    fn info(&mut self, m: &str) {
        self.infos.push(m.to_string());
    }
}

#[test]
fn staged_run_writes_the_same_bytes_as_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in [1, 0] {
        let out = dir.path().join(format!("t{threads}"));
        let settings = AnalysisSettings {
            threads,
            half_cycle: true,
            ..AnalysisSettings::default()
        };
        let mut seen = Seen::default();
        let summary = analyze_file(&demo(), &out, &settings, &mut seen).unwrap();
        assert_eq!(summary["recording"]["samples"], 307_200);
        let last = seen.last.expect("progress reported");
        assert_eq!(last.samples, 307_200);
        assert!((last.seconds - 30.0).abs() < 1e-9);
        assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
        outputs.push(files(&out));
    }
    assert!(outputs[0].len() > 10);
    assert!(outputs[0].iter().any(|(p, _)| p.starts_with("captures")));
    assert_eq!(
        outputs[0].iter().map(|f| &f.0).collect::<Vec<_>>(),
        outputs[1].iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (a, b) in outputs[0].iter().zip(&outputs[1]) {
        assert!(a.1 == b.1, "{} differs between the runs", a.0.display());
    }
}

#[test]
fn a_60_hz_medium_voltage_record_is_warned_about_and_auto_finds_its_voltage() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Seen::default();
    let out = dir.path().join("defaults");
    analyze_file(&pnnl(), &out, &AnalysisSettings::default(), &mut seen).unwrap();
    assert_eq!(seen.warnings.len(), 2, "{:?}", seen.warnings);
    assert!(seen.warnings[0].contains("--nominal-frequency 60"));
    assert!(seen.warnings[1].contains("--nominal-voltage"));
    // The 0.4-s record lies inside one 10-min period that began before it: no Pst row, no
    // aggregate row starting before the first sample.
    assert!(!out.join("flicker.csv").exists());
    for name in [
        "aggregates_3s.csv",
        "aggregates_10min.csv",
        "aggregates_2h.csv",
    ] {
        let Ok(text) = std::fs::read_to_string(out.join(name)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let t: f64 = line.split(',').next().unwrap().parse().unwrap();
            assert!(t >= 0.0, "{name}: row at t = {t}");
        }
    }
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("give --nominal-frequency 60"));

    let settings = AnalysisSettings {
        nominal_voltage: NominalVoltage::Auto,
        nominal_frequency: 60.0,
        ..AnalysisSettings::default()
    };
    let mut seen = Seen::default();
    let summary = analyze_file(&pnnl(), &dir.path().join("auto"), &settings, &mut seen).unwrap();
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
    let udin = summary["system"]["udin"].as_f64().unwrap();
    // The record's buses run near 2.4 kV phase-to-neutral: the 4.16 kV system.
    assert!((udin - 4160.0 / 3f64.sqrt()).abs() < 1e-9, "{udin}");
    assert!(seen.infos[0].contains("nearest standard nominal"));
}

#[test]
fn a_cancelled_run_stops_with_cancelled() {
    struct Cancel(CancelToken);
    impl Observer for Cancel {
        fn progress(&mut self, _: &Progress) {
            self.0.cancel();
        }
        fn cancelled(&self) -> bool {
            self.0.is_cancelled()
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for threads in [1, 0] {
        let settings = AnalysisSettings {
            threads,
            ..AnalysisSettings::default()
        };
        let mut obs = Cancel(CancelToken::new());
        let e = analyze_file(&demo(), dir.path(), &settings, &mut obs).unwrap_err();
        assert!(matches!(e, Error::Cancelled), "{e}");
    }
}

#[test]
fn bad_settings_are_settings_errors() {
    let dir = tempfile::tempdir().unwrap();
    let settings = AnalysisSettings {
        map: vec!["NOPE=U_A".parse().unwrap()],
        ..AnalysisSettings::default()
    };
    let e = analyze_file(&demo(), dir.path(), &settings, &mut pqe_pipeline::Quiet).unwrap_err();
    assert!(e.is_settings(), "{e}");
    assert!(e.to_string().contains("NOPE"), "{e}");
    let missing = analyze_file(
        Path::new("/nonexistent/x.cfg"),
        dir.path(),
        &AnalysisSettings::default(),
        &mut pqe_pipeline::Quiet,
    )
    .unwrap_err();
    assert!(!missing.is_settings());
    assert!(
        missing.to_string().contains("/nonexistent/x.cfg"),
        "{missing}"
    );
}

/// The demo recording with its data file cut after `records` records, in `dir`.
fn truncated_demo(dir: &Path, records: usize) -> PathBuf {
    let cfg = dir.join("cut.cfg");
    let text = std::fs::read_to_string(demo()).unwrap();
    std::fs::write(&cfg, text).unwrap();
    let data = std::fs::read(demo().with_extension("dat")).unwrap();
    let record_bytes = data.len() / 307_200;
    assert_eq!(data.len(), record_bytes * 307_200);
    std::fs::write(dir.join("cut.dat"), &data[..records * record_bytes]).unwrap();
    cfg
}

#[test]
fn a_data_file_that_ends_early_is_analysed_to_its_end_and_the_rest_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = truncated_demo(dir.path(), 150_000);
    let out = dir.path().join("out");
    let mut seen = Seen::default();
    let summary = analyze_file(&cfg, &out, &AnalysisSettings::default(), &mut seen).unwrap();
    assert_eq!(summary["recording"]["samples"], 150_000);
    let gaps = summary["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["first_missing_sample"], 150_000);
    assert_eq!(gaps[0]["missing_samples"], 307_200 - 150_000);
    assert!(
        seen.warnings.iter().any(|w| w.contains("cut.dat")),
        "the warning names the data file: {:?}",
        seen.warnings
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("Gap in the input"),
        "the report notes the gap"
    );
    // --strict refuses the same file.
    let strict = AnalysisSettings {
        strict: true,
        ..AnalysisSettings::default()
    };
    let e = analyze_file(
        &cfg,
        &dir.path().join("strict"),
        &strict,
        &mut pqe_pipeline::Quiet,
    )
    .unwrap_err();
    assert!(e.to_string().contains("150000 records"), "{e}");
}

#[test]
fn parquet_tables_hold_the_csv_tables_values() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let dir = tempfile::tempdir().unwrap();
    let (csv, pq) = (dir.path().join("csv"), dir.path().join("pq"));
    analyze_file(
        &demo(),
        &csv,
        &AnalysisSettings::default(),
        &mut pqe_pipeline::Quiet,
    )
    .unwrap();
    let settings = AnalysisSettings {
        format: pqe_pipeline::TableFormat::Parquet,
        ..AnalysisSettings::default()
    };
    let summary = analyze_file(&demo(), &pq, &settings, &mut pqe_pipeline::Quiet).unwrap();
    let names: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(names.contains(&"intervals.parquet"), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".csv")), "{names:?}");
    for table in [
        "intervals",
        "harmonics_U_A",
        "events",
        "aggregates_3s",
        "statistics",
    ] {
        let mut text = csv::Reader::from_path(csv.join(format!("{table}.csv"))).unwrap();
        let header: Vec<String> = text.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = text
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let file = std::fs::File::open(pq.join(format!("{table}.parquet"))).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        let got: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got.len(), rows.len(), "{table}: rows");
        for (row, csv_row) in got.iter().zip(&rows) {
            let cells: Vec<(&String, &Field)> = row.get_column_iter().collect();
            assert_eq!(cells.len(), header.len(), "{table}: columns");
            for ((name, field), (h, c)) in cells.iter().zip(header.iter().zip(csv_row)) {
                assert_eq!(name, &h, "{table}: column order");
                let same = match field {
                    Field::Null => c.is_empty(),
                    Field::Double(v) => c.parse::<f64>().ok() == Some(*v),
                    // Spectra are single precision in Parquet: the CSV value, rounded.
                    Field::Float(v) => c.parse::<f64>().ok().map(|x| x as f32) == Some(*v),
                    Field::Bool(b) => c == if *b { "1" } else { "0" },
                    Field::Long(n) => c.parse::<i64>().ok() == Some(*n),
                    Field::Str(s) => s == c,
                    other => panic!("{table}.{h}: unexpected {other:?}"),
                };
                assert!(same, "{table}.{h}: parquet {field:?} against csv '{c}'");
            }
        }
    }
}
