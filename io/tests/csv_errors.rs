//! Malformed CSV files: each fault is reported with the file, the line and the column, after
//! the rows before it were delivered.

use pqe_core::Error;
use pqe_io::csv::CsvReader;
use pqe_io::RecordingReader;
use std::path::PathBuf;

/// Write `text` (and, when given, `sidecar`) to a temporary file.
fn file(text: &str, sidecar: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, text).unwrap();
    if let Some(s) = sidecar {
        std::fs::write(pqe_io::csv::sidecar_path(&path), s).unwrap();
    }
    (dir, path)
}

/// Read everything with blocks of `max`; the samples read before the error and the error.
fn read_until_error(path: &PathBuf, max: usize) -> (usize, Error) {
    let mut reader = match CsvReader::open(path) {
        Ok(r) => r,
        Err(e) => return (0, e),
    };
    let mut samples = 0;
    loop {
        match reader.read_block(max) {
            Ok(Some(b)) => samples += b.len(),
            Ok(None) => panic!("{} read without error", path.display()),
            Err(e) => return (samples, e),
        }
    }
}

/// Assert the error names `line` and `column` and contains `text`.
fn assert_names(e: &Error, line: u64, column: &str, text: &str) {
    let msg = e.to_string();
    match e {
        Error::Format { location, .. } => {
            assert_eq!(location.line, Some(line), "{msg}");
            assert_eq!(location.field.as_deref(), Some(column), "{msg}");
        }
        other => panic!("not a format error: {other}"),
    }
    assert!(msg.contains("bad.csv"), "{msg}");
    assert!(msg.contains(text), "'{text}' not in: {msg}");
}

const GOOD_ROWS: &str = "t,U_A,I_A\n0,1,2\n0.001,1.5,2.5\n0.002,,3\n";

#[test]
fn a_non_numeric_cell_names_line_and_column() {
    let (_d, path) = file(&format!("{GOOD_ROWS}0.003,abc,4\n0.004,1,1\n"), None);
    for max in [1, 2, 1000] {
        let (read, e) = read_until_error(&path, max);
        assert_eq!(read, 3, "rows before the fault are delivered (max {max})");
        assert_names(&e, 5, "column U_A", "'abc' is not a number");
        assert!(e.to_string().contains("3 samples before it"), "{e}");
    }
}

#[test]
fn a_short_row_names_the_first_missing_column() {
    let (_d, path) = file(&format!("{GOOD_ROWS}0.003,1\n"), None);
    let (read, e) = read_until_error(&path, 1000);
    assert_eq!(read, 3);
    assert_names(&e, 5, "column I_A", "2 fields where the header has 3");
}

#[test]
fn a_long_row_names_the_extra_field() {
    let (_d, path) = file(&format!("{GOOD_ROWS}0.003,1,2,3\n"), None);
    let (_, e) = read_until_error(&path, 1000);
    assert_names(&e, 5, "field 4", "4 fields where the header has 3");
}

#[test]
fn a_time_that_does_not_increase_is_reported() {
    let (_d, path) = file(&format!("{GOOD_ROWS}0.002,1,2\n"), None);
    let (read, e) = read_until_error(&path, 7);
    assert_eq!(read, 3);
    assert_names(&e, 5, "column t", "t does not increase: 0.002 after 0.002");
}

#[test]
fn a_gap_in_time_is_reported_where_it_is() {
    let mut text = String::from("t,U_A\n");
    for k in 0..3000 {
        // sample 2000 is missing
        if k != 2000 {
            text.push_str(&format!("{},{k}\n", k as f64 / 1000.0));
        }
    }
    let (_d, path) = file(&text, None);
    let (read, e) = read_until_error(&path, 1000);
    assert_eq!(read, 2000);
    assert_names(&e, 2002, "column t", "t is not uniform");
    assert!(e.to_string().contains("1000 Hz"), "{e}");
}

#[test]
fn a_missing_t_header_is_reported() {
    // (`time` is an absolute time column since issue 9: see csv_absolute_time.rs.)
    let (_d, path) = file("volts,U_A\n0,1\n", None);
    let e = CsvReader::open(&path).unwrap_err();
    assert_names(&e, 1, "column 1", "the first column must be t");

    let (_d, path) = file(",t,U_A\n0,0,1\n", None);
    let e = CsvReader::open(&path).unwrap_err();
    assert_names(&e, 1, "column 1", "pandas index");

    let (_d, path) = file("", None);
    let e = CsvReader::open(&path).unwrap_err();
    assert!(e.to_string().contains("empty file"), "{e}");
}

#[test]
fn an_empty_time_cell_is_reported() {
    let (_d, path) = file(&format!("{GOOD_ROWS},1,2\n"), None);
    let (_, e) = read_until_error(&path, 1000);
    assert_names(&e, 5, "column t", "t is empty");
}

#[test]
fn duplicate_and_unnamed_columns_are_reported() {
    let (_d, path) = file("t,U_A,U_A\n0,1,2\n", None);
    let e = CsvReader::open(&path).unwrap_err();
    assert_names(&e, 1, "column U_A", "appears twice");
    let (_d, path) = file("t,U_A,,I_A\n0,1,2,3\n", None);
    let e = CsvReader::open(&path).unwrap_err();
    assert_names(&e, 1, "column 3", "without a name");
}

#[test]
fn a_bad_digital_state_is_reported() {
    let sidecar = r#"{"pqe_format": "pqe-csv-sidecar/1", "sample_rate": 1000,
        "channels": [{"name": "U_A", "unit": "V"}],
        "digital_channels": [{"name": "TRIP"}]}"#;
    let (_d, path) = file("t,U_A,TRIP\n0,1,0\n0.001,1,1\n0.002,1,2\n", Some(sidecar));
    let (read, e) = read_until_error(&path, 1000);
    assert_eq!(read, 2);
    assert_names(&e, 4, "column TRIP", "'2' is not a digital state");
}

#[test]
fn a_sidecar_that_does_not_match_the_header_is_reported() {
    let sidecar = r#"{"pqe_format": "pqe-csv-sidecar/1", "sample_rate": 1000,
        "channels": [{"name": "U_A"}, {"name": "U_B"}]}"#;
    let (_d, path) = file("t,U_A,I_A\n0,1,2\n", Some(sidecar));
    let e = CsvReader::open(&path).unwrap_err();
    assert_names(&e, 1, "column I_A", "names column 3 'U_B'");

    let (_d, path) = file("t,U_A\n0,1\n", Some(sidecar));
    let e = CsvReader::open(&path).unwrap_err().to_string();
    assert!(e.contains("bad.csv.json") && e.contains("U_B"), "{e}");

    let (_d, path) = file("t,U_A\n0,1\n", Some("{\"channels\": [}"));
    let e = CsvReader::open(&path).unwrap_err().to_string();
    assert!(e.contains("bad.csv.json:1") && e.contains("sidecar"), "{e}");
}

#[test]
fn a_sidecar_rate_is_checked_against_the_t_column() {
    let sidecar = r#"{"sample_rate": 2000, "channels": [{"name": "U_A"}]}"#;
    let (_d, path) = file("t,U_A\n0,1\n0.001,1\n", Some(sidecar));
    let (read, e) = read_until_error(&path, 1000);
    assert_eq!(read, 1);
    assert_names(&e, 3, "column t", "2000 Hz");
}

#[test]
fn unbalanced_quotes_do_not_panic() {
    let (_d, path) = file("t,\"U_A\n0,1\n", None);
    assert!(CsvReader::open(&path).is_err());
}

#[test]
fn absurd_times_are_errors_not_panics() {
    let (_d, path) = file("t,U_A\n0,1\n1e300,2\n", None);
    let (_, e) = read_until_error(&path, 10);
    assert_names(&e, 3, "column t", "is not within");

    let sidecar = r#"{"sample_rate": 0, "start_ns": 9223372036854775000,
        "channels": [{"name": "U_A"}]}"#;
    let (_d, path) = file("t,U_A\n0,1\n1000,2\n", Some(sidecar));
    let (read, e) = read_until_error(&path, 1);
    assert_eq!(read, 1);
    assert_names(&e, 3, "column t", "beyond the year 2262");
}

#[test]
fn garbage_never_panics() {
    let inputs: [&[u8]; 8] = [
        b"\xff\xfe\x00t\x00,\x00",
        b"t\n\n\n",
        b"t,U_A\n\xff,\xfe\n",
        b"t;U_A\n0;1,2,3\n",
        b"\"t\",\"U_A\"\n\"0\",\"1\"\"\n",
        b"t,U_A\n-inf,1\n",
        b"t,U_A\n0,1\n0,1\n0,1\n",
        b"\xEF\xBB\xBF",
    ];
    for bytes in inputs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.csv");
        std::fs::write(&path, bytes).unwrap();
        if let Ok(mut reader) = CsvReader::open(&path) {
            for max in [1, 1000] {
                while let Ok(Some(_)) = reader.read_block(max) {}
            }
        }
    }
}
