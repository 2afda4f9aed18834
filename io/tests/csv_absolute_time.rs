//! CSV with an absolute time column (as pandas, spreadsheets and loggers write it): the start
//! from the column, the rate from its spacing, missing rows as gaps naming their line (an
//! error when strict), irregular spacing as an error naming its line.

use pqe_core::{CancelToken, Error, Gap, Source, SourceEvent, Timestamp};
use pqe_io::csv::CsvReader;
use pqe_io::{open_source, OpenOptions, RecordingReader};
use std::path::PathBuf;

fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

/// `n` rows at 1 kHz from 2024-03-01 12:00:00 with the time written by `time(k)`, U_A = k.
fn rows(header: &str, n: usize, skip: &[usize], time: impl Fn(usize) -> String) -> String {
    let mut s = format!("{header}\n");
    for k in (0..n).filter(|k| !skip.contains(k)) {
        s.push_str(&format!("{},{k}\n", time(k)));
    }
    s
}

fn iso(k: usize) -> String {
    format!("2024-03-01 12:00:{:02}.{:03}", k / 1000, k % 1000)
}

fn start() -> Timestamp {
    Timestamp::parse_iso8601("2024-03-01T12:00:00").unwrap().0
}

#[derive(Default)]
struct Events {
    values: Vec<f64>,
    gaps: Vec<Gap>,
    kinds: String,
}

fn events(path: &PathBuf, strict: bool, chunk: usize) -> pqe_core::Result<Events> {
    let mut s = open_source(path, &OpenOptions { strict })?;
    let cancel = CancelToken::new();
    let mut out = Events::default();
    let rate = s.info().unwrap().sample_rate;
    let origin = s.info().unwrap().start;
    while let Some(e) = s.next_event(chunk, &cancel)? {
        match e {
            SourceEvent::Block(b) => {
                // Each block starts at the time of its first row.
                let k = b.channel(0)[0];
                let due = origin.add_seconds(k / rate);
                assert!(
                    (b.start().as_nanos() - due.as_nanos()).abs() < 10,
                    "{} vs {due}",
                    b.start()
                );
                out.values.extend_from_slice(b.channel(0));
                out.kinds.push('b');
            }
            SourceEvent::Gap(g) => {
                out.gaps.push(g);
                out.kinds.push('g');
            }
            SourceEvent::Warning(_) => out.kinds.push('w'),
        }
    }
    Ok(out)
}

#[test]
fn iso_timestamps_give_start_and_rate() {
    for header in ["timestamp,U_A", "Time,U_A", "date_time,U_A", "DateTime,U_A"] {
        let (_d, p) = file("a.csv", &rows(header, 50, &[], iso));
        let r = CsvReader::open(&p).unwrap();
        assert_eq!(r.info().start, start(), "{header}");
        assert_eq!(r.info().sample_rate, 1000.0, "{header}");
        assert_eq!(r.info().channels.len(), 1);
        assert_eq!(r.info().channels[0].name, "U_A");
        let e = events(&p, false, 16).unwrap();
        assert_eq!(e.values, (0..50).map(|k| k as f64).collect::<Vec<_>>());
        assert!(e.gaps.is_empty());
    }
}

#[test]
fn a_pandas_index_before_the_time_column_is_skipped() {
    let mut text = String::from(",timestamp,U_A\n");
    for k in 0..20 {
        text.push_str(&format!("{k},{}+01:00,{k}\n", iso(k).replace(' ', "T")));
    }
    let (_d, p) = file("pandas.csv", &text);
    let r = CsvReader::open(&p).unwrap();
    assert_eq!(r.info().start, start());
    assert_eq!(r.info().time_code.as_deref(), Some("+1"));
    assert_eq!(events(&p, true, 7).unwrap().values.len(), 20);
}

#[test]
fn unix_times_in_seconds_and_milliseconds() {
    let epoch = start().as_nanos() / 1_000_000; // ms
    let (_d, p) = file(
        "s.csv",
        &rows("time,U_A", 30, &[], |k| {
            format!("{}.{:03}", epoch / 1000 + (k / 1000) as i64, k % 1000)
        }),
    );
    let r = CsvReader::open(&p).unwrap();
    assert_eq!(r.info().start, start());
    assert_eq!(r.info().sample_rate, 1000.0);
    let (_d2, p) = file(
        "ms.csv",
        &rows("epoch,U_A", 30, &[], |k| format!("{}", epoch + k as i64)),
    );
    let r = CsvReader::open(&p).unwrap();
    assert_eq!(r.info().start, start());
    assert_eq!(r.info().sample_rate, 1000.0);
    // Small numbers in a time column are seconds from the start, as in `t`.
    let (_d3, p) = file(
        "rel.csv",
        &rows("time,U_A", 30, &[], |k| format!("{}", k as f64 / 1000.0)),
    );
    assert_eq!(CsvReader::open(&p).unwrap().info().start, Timestamp::EPOCH);
}

#[test]
fn missing_rows_are_a_gap_naming_the_line_never_joined() {
    // Rows 10..15 missing: row 15 is on line 12 (header, 10 rows before it).
    let (_d, p) = file(
        "gap.csv",
        &rows("timestamp,U_A", 40, &[10, 11, 12, 13, 14], iso),
    );
    for chunk in [1, 3, 10, 64] {
        let e = events(&p, false, chunk).unwrap();
        assert_eq!(e.gaps.len(), 1, "chunk {chunk}: {}", e.kinds);
        let g = &e.gaps[0];
        assert_eq!(g.first_missing_sample, Some(10));
        assert_eq!(g.missing_samples, Some(5));
        assert_eq!(g.start, start().add_seconds(0.010));
        assert_eq!(g.end, start().add_seconds(0.015));
        assert!(
            g.reason.contains("gap.csv:12") && g.reason.contains("5 rows"),
            "{}",
            g.reason
        );
        // Blocks before the gap end at row 9; the gap comes before row 15.
        let before: usize = e.kinds.split('g').next().unwrap().len();
        assert!(before >= 1);
        assert_eq!(e.values.len(), 35);
        assert_eq!(e.values[10], 15.0);
    }
    // Strict: an error naming the line and the count.
    let e = events(&p, true, 8).err().unwrap();
    let text = e.to_string();
    assert!(text.contains("gap.csv:12, column timestamp"), "{text}");
    assert!(text.contains("5 rows missing"), "{text}");
    // The legacy reader is strict as it was; its blocks never join across the gap.
    let mut r = CsvReader::open(&p).unwrap();
    let mut n = 0;
    let err = loop {
        match r.read_block(100) {
            Ok(Some(b)) => n += b.len(),
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(n, 10);
    assert!(
        matches!(
            err,
            Error::Format {
                valid_samples: Some(10),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_gap_with_a_t_column_too_when_lenient() {
    let (_d, p) = file(
        "t.csv",
        &rows("t,U_A", 30, &[20, 21], |k| format!("{}", k as f64 / 1000.0)),
    );
    let e = events(&p, false, 100).unwrap();
    assert_eq!(e.kinds, "bgb");
    assert_eq!(e.gaps[0].missing_samples, Some(2));
    assert!(
        e.gaps[0].reason.contains("t.csv:22"),
        "{}",
        e.gaps[0].reason
    );
}

#[test]
fn irregular_spacing_is_an_error_naming_the_line() {
    let text = rows("timestamp,U_A", 30, &[], |k| {
        if k == 17 {
            "2024-03-01 12:00:00.017400".into()
        } else {
            iso(k)
        }
    });
    let (_d, p) = file("jitter.csv", &text);
    let e = events(&p, false, 100).err().unwrap().to_string();
    assert!(e.contains("jitter.csv:19, column timestamp"), "{e}");
    assert!(e.contains("irregular spacing"), "{e}");
    // A time going back.
    let text = rows("timestamp,U_A", 30, &[], |k| {
        iso(if k == 5 { 3 } else { k })
    });
    let (_d, p) = file("back.csv", &text);
    let e = events(&p, false, 100).err().unwrap().to_string();
    assert!(
        e.contains("back.csv:7") && e.contains("does not increase"),
        "{e}"
    );
}

#[test]
fn bad_time_cells_are_errors_naming_line_and_column() {
    let mut text = rows("timestamp,U_A", 5, &[], iso);
    text.push_str("yesterday,5\n");
    let (_d, p) = file("bad.csv", &text);
    let e = events(&p, false, 100).err().unwrap().to_string();
    assert!(
        e.contains("bad.csv:7, column timestamp") && e.contains("'yesterday'"),
        "{e}"
    );
    // A first column that is no time at all still says what is expected.
    let (_d, p) = file("x.csv", "voltage,U_A\n1,2\n");
    let e = CsvReader::open(&p).err().unwrap().to_string();
    assert!(e.contains("must be t") && e.contains("timestamp"), "{e}");
}
