//! The supraharmonics sink in a run: on by default when the rate allows (with a message
//! naming why a part is off), `--no-supraharmonics` switches it off, the table holds what
//! the analyzer gives for the same samples cut into other blocks, summary.json and the
//! report list it.

use pqe_core::{Block, Timestamp};
use pqe_pipeline::{analyze_file, AnalysisSettings, Observer};
use pqe_standards::supraharmonics::{SupraharmonicAnalyzer, SupraharmonicOptions};
use std::path::Path;

const FS: f64 = 40_000.0;

#[derive(Default)]
struct Seen {
    warnings: Vec<String>,
    infos: Vec<String>,
}

impl Observer for Seen {
    fn warning(&mut self, m: &str) {
        self.warnings.push(m.to_string());
    }
    fn info(&mut self, m: &str) {
        self.infos.push(m.to_string());
    }
}

/// 1.3 s of a 230 V, 50 Hz supply with 0.5 V at 3.1 kHz (a group centre) and 0.2 V at
/// 7.3 kHz, written as a CSV recording at 40 kHz. Returns the samples.
fn recording(path: &Path) -> Vec<f64> {
    let n = (1.3 * FS) as usize;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            let w = std::f64::consts::TAU;
            230.0 * 2f64.sqrt() * (w * 50.0 * t).sin()
                + 0.5 * 2f64.sqrt() * (w * 3100.0 * t + 0.3).sin()
                + 0.2 * 2f64.sqrt() * (w * 7300.0 * t + 1.1).sin()
        })
        .collect();
    let mut text = String::from("t,U_A\n");
    for (i, v) in x.iter().enumerate() {
        text.push_str(&format!("{:?},{v:?}\n", i as f64 / FS));
    }
    std::fs::write(path, text).unwrap();
    x
}

fn table(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| {
                    if c.is_empty() {
                        f64::NAN
                    } else {
                        c.parse().unwrap()
                    }
                })
                .collect()
        })
        .collect();
    (header, rows)
}

fn settings() -> AnalysisSettings {
    AnalysisSettings {
        wiring: pqe_core::Wiring::Single,
        no_flicker: true,
        ..AnalysisSettings::default()
    }
}

#[test]
fn on_by_default_above_20_khz_and_independent_of_block_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.csv");
    let x = recording(&rec);
    let out = dir.path().join("out");
    let mut seen = Seen::default();
    let summary = analyze_file(&rec, &out, &settings(), &mut seen).unwrap();
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
    // 40 kHz allows the 2–9 kHz groups only; the message says why the rest is off.
    assert!(
        seen.infos
            .iter()
            .any(|m| m.contains("2–9 kHz groups only") && m.contains("300 kHz")),
        "{:?}",
        seen.infos
    );
    let (header, rows) = table(&out.join("supraharmonics_U_A.csv"));
    assert_eq!(header.len(), 1 + 35);
    assert_eq!(header[1], "G2100");
    // (1.3 s − 20 ms settling) / 0.2 s = 6 whole intervals.
    assert_eq!(rows.len(), 6);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for r in &rows {
        assert!(
            (r[col("G3100")] / 0.5 - 1.0).abs() < 0.01,
            "{}",
            r[col("G3100")]
        );
        assert!(
            (r[col("G7300")] / 0.2 - 1.0).abs() < 0.01,
            "{}",
            r[col("G7300")]
        );
        assert!(r[col("G5100")] < 1e-4, "{}", r[col("G5100")]);
    }
    // The same samples through the analyzer in 977-sample blocks: the same values.
    let mut a = SupraharmonicAnalyzer::new(FS, 1, &SupraharmonicOptions::default()).unwrap();
    let mut direct = Vec::new();
    for (k, chunk) in x.chunks(977).enumerate() {
        let start = Timestamp::from_nanos(0).add_seconds(k as f64 * 977.0 / FS);
        a.push(&Block::from_planar(start, FS, (k * 977) as u64, 1, chunk.to_vec()).unwrap())
            .unwrap();
        while let Some(r) = a.next_record() {
            direct.push(r.columns());
        }
    }
    assert_eq!(direct.len(), rows.len());
    for (d, r) in direct.iter().zip(&rows) {
        for ((name, want), got) in d.iter().zip(r) {
            if name == "t" {
                assert!((want - got).abs() < 1e-9);
            } else {
                assert!((want / got - 1.0).abs() < 1e-12, "{name}: {want} vs {got}");
            }
        }
    }
    // summary.json lists the table and what ran.
    let files: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(files.contains(&"supraharmonics_U_A.csv"), "{files:?}");
    assert_eq!(summary["supraharmonics"]["measured"], true);
    assert_eq!(summary["supraharmonics"]["groups_2_9khz"], true);
    assert_eq!(summary["supraharmonics"]["bins_9_150khz"], false);
    assert_eq!(summary["supraharmonics"]["tables"]["U_A"]["rows"], 6);
    // The report shows the section with a spectrogram, and says what was not measured.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<section id=\"supraharmonics\">"));
    assert!(report.contains("class=\"chart spectrogram\""));
    assert!(report.contains("Not measured: the 9–150 kHz bins"));
}

#[test]
fn switched_off_or_below_the_rate_writes_no_table_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.csv");
    recording(&rec);
    let out = dir.path().join("off");
    let mut seen = Seen::default();
    let s = AnalysisSettings {
        no_supraharmonics: true,
        ..settings()
    };
    let summary = analyze_file(&rec, &out, &s, &mut seen).unwrap();
    assert!(!out.join("supraharmonics_U_A.csv").exists());
    assert_eq!(summary["supraharmonics"]["measured"], false);
    assert!(summary["supraharmonics"]["reason"]
        .as_str()
        .unwrap()
        .contains("--no-supraharmonics"));
    assert!(seen.infos.iter().all(|m| !m.contains("supraharmonics")));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!report.contains("id=\"supraharmonics\""));
    assert!(report.contains("--no-supraharmonics"));

    // The demo recording is sampled at 10.24 kHz: off, with the reason.
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/demo/demo-3v3i-50hz.cfg");
    let mut seen = Seen::default();
    let out = dir.path().join("demo");
    let quick = AnalysisSettings {
        no_flicker: true,
        no_harmonics: true,
        ..AnalysisSettings::default()
    };
    let summary = analyze_file(&demo, &out, &quick, &mut seen).unwrap();
    assert!(
        seen.infos
            .iter()
            .any(|m| m.contains("supraharmonics (2–150 kHz) are off") && m.contains("10240 Hz")),
        "{:?}",
        seen.infos
    );
    assert_eq!(summary["supraharmonics"]["measured"], false);
    assert!(summary["supraharmonics"]["reason"]
        .as_str()
        .unwrap()
        .contains("need at least 20 kHz"));
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("supra")));
}
