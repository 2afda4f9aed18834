//! Many recordings: finding them under a folder, naming their output folders, and the
//! batch summary table (one row per recording, built from each recording's summary.json),
//! written as `summary.csv` and `summary.parquet`. `pqe batch` and `pqengine.dask` build
//! their rows here.

use crate::table::{file_safe, ResultTable};
use anyhow::Result;
use pqe_io::table::{ColumnType, TableFormat, Value};
use std::path::{Path, PathBuf};

/// The identification columns of the summary table, in order.
pub const TEXT_COLUMNS: [&str; 5] = ["file", "folder", "status", "error", "start"];

/// The figures taken from each recording's summary.json, in order (then `mean_<column>`
/// for the interval columns every recording has).
pub const NUMBER_COLUMNS: [&str; 12] = [
    "duration_s",
    "sample_rate",
    "channels",
    "intervals",
    "flagged_intervals",
    "f_min",
    "f_mean",
    "f_max",
    "events",
    "dips",
    "swells",
    "interruptions",
];

/// The outcome of one recording of a batch.
#[derive(Debug)]
pub struct BatchEntry {
    /// The recording's path relative to the searched folder.
    pub file: PathBuf,
    /// Its output folder's name.
    pub folder: String,
    /// Its summary.json, or the error that stopped it (with its context chain).
    pub result: std::result::Result<serde_json::Value, String>,
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRow {
    /// [`TEXT_COLUMNS`] cells (`None` is empty).
    pub text: Vec<Option<String>>,
    /// [`NUMBER_COLUMNS`] then the means (NaN is empty).
    pub numbers: Vec<f64>,
}

/// The summary table: its header and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchTable {
    /// Column names: [`TEXT_COLUMNS`], [`NUMBER_COLUMNS`], `mean_<column>`….
    pub header: Vec<String>,
    /// One row per recording, in the entries' order.
    pub rows: Vec<BatchRow>,
}

/// Recordings under `dir` (not under `skip`, the output folder), by extension. A `.dat`
/// belongs to its `.cfg`, and a CSV's `.csv.json` sidecar to its CSV. Sorted.
pub fn find_recordings(dir: &Path, skip: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let skip = skip.canonicalize().ok();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if skip.is_some() && d.canonicalize().ok() == skip {
            continue;
        }
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            if matches!(ext.as_str(), "cfg" | "cff" | "csv" | "h5" | "hdf5") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The output folder of a recording: its path under the searched folder, flattened.
pub fn folder_name(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| file_safe(&c.as_os_str().to_string_lossy()))
        .collect();
    parts.join("__")
}

fn number(summary: &serde_json::Value, column: &str) -> f64 {
    let kind = |k: &str| summary["events"]["by_kind"][k].as_f64().unwrap_or(f64::NAN);
    let events_off = summary["analysis"]["events"].as_bool() == Some(false);
    if events_off && matches!(column, "events" | "dips" | "swells" | "interruptions") {
        // Not detected (--no-events): empty, not zero.
        return f64::NAN;
    }
    match column {
        "duration_s" => summary["recording"]["duration_s"].as_f64(),
        "sample_rate" => summary["recording"]["sample_rate"].as_f64(),
        "channels" => summary["recording"]["channels"]
            .as_array()
            .map(|c| c.len() as f64),
        "intervals" => summary["intervals"]["count"].as_f64(),
        "flagged_intervals" => summary["intervals"]["flagged"].as_f64(),
        "f_min" => summary["frequency_10s"]["min"].as_f64(),
        "f_mean" => summary["frequency_10s"]["mean"].as_f64(),
        "f_max" => summary["frequency_10s"]["max"].as_f64(),
        "events" => summary["events"]["count"].as_f64(),
        "dips" => Some(kind("dip")),
        "swells" => Some(kind("swell")),
        "interruptions" => Some(kind("interruption")),
        _ => None,
    }
    .unwrap_or(f64::NAN)
}

/// Columns of the means of unflagged intervals that every analysed recording has.
fn common_means(entries: &[BatchEntry]) -> Vec<String> {
    let mut common: Option<Vec<String>> = None;
    for e in entries {
        let Ok(s) = &e.result else { continue };
        let Some(m) = s["intervals"]["mean_of_unflagged"].as_object() else {
            continue;
        };
        let keys: Vec<String> = m.keys().cloned().collect();
        common = Some(match common {
            None => keys,
            Some(c) => c.into_iter().filter(|k| keys.contains(k)).collect(),
        });
    }
    common.unwrap_or_default()
}

impl BatchTable {
    /// The table of `entries`.
    pub fn build(entries: &[BatchEntry]) -> BatchTable {
        let means = common_means(entries);
        let mut header: Vec<String> = TEXT_COLUMNS.map(String::from).to_vec();
        header.extend(NUMBER_COLUMNS.iter().map(|c| c.to_string()));
        header.extend(means.iter().map(|c| format!("mean_{c}")));
        let width = NUMBER_COLUMNS.len() + means.len();
        let rows = entries
            .iter()
            .map(|e| {
                let (status, error, start, numbers) = match &e.result {
                    Ok(s) => (
                        "ok",
                        None,
                        s["recording"]["start"].as_str().map(String::from),
                        NUMBER_COLUMNS
                            .iter()
                            .map(|c| number(s, c))
                            .chain(means.iter().map(|c| {
                                s["intervals"]["mean_of_unflagged"][c]
                                    .as_f64()
                                    .unwrap_or(f64::NAN)
                            }))
                            .collect(),
                    ),
                    Err(msg) => ("error", Some(msg.clone()), None, vec![f64::NAN; width]),
                };
                BatchRow {
                    text: vec![
                        Some(e.file.display().to_string()),
                        Some(e.folder.clone()),
                        Some(status.to_string()),
                        error,
                        start,
                    ],
                    numbers,
                }
            })
            .collect();
        BatchTable { header, rows }
    }

    /// Write `summary.csv` and `summary.parquet` into `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        let schema: Vec<(String, ColumnType)> = self
            .header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let t = if i < TEXT_COLUMNS.len() {
                    ColumnType::Text
                } else {
                    ColumnType::F64
                };
                (name.clone(), t)
            })
            .collect();
        for format in [TableFormat::Csv, TableFormat::Parquet] {
            let mut table = ResultTable::typed(out, "summary", schema.clone(), format)?;
            for row in &self.rows {
                let cells: Vec<Value<'_>> = row
                    .text
                    .iter()
                    .map(|c| c.as_deref().map_or(Value::Null, Value::Text))
                    .chain(row.numbers.iter().map(|v| Value::F64(*v)))
                    .collect();
                table.write_row(&cells)?;
            }
            table.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_flat_and_unique_per_path() {
        assert_eq!(
            folder_name(Path::new("site1/day 2/rec.cfg")),
            "site1__day_2__rec_cfg"
        );
        assert_eq!(folder_name(Path::new("rec.csv")), "rec_csv");
        assert_ne!(
            folder_name(Path::new("a/rec.cfg")),
            folder_name(Path::new("b/rec.cfg"))
        );
    }

    #[test]
    fn rows_take_the_summary_figures_and_errors_leave_numbers_empty() {
        let ok = serde_json::json!({
            "recording": {"start": "2024-01-01T00:00:00Z", "duration_s": 30.0,
                          "sample_rate": 10240.0, "channels": [{}, {}]},
            "intervals": {"count": 150, "flagged": 2,
                          "mean_of_unflagged": {"U_A": 230.0, "f": 50.0}},
            "frequency_10s": {"min": 49.9, "mean": 50.0, "max": 50.1},
            "events": {"count": 3, "by_kind": {"dip": 2, "swell": 1, "interruption": 0}},
            "analysis": {"events": true},
        });
        let entries = vec![
            BatchEntry {
                file: "a.cfg".into(),
                folder: "a_cfg".into(),
                result: Ok(ok),
            },
            BatchEntry {
                file: "b.csv".into(),
                folder: "b_csv".into(),
                result: Err("b.csv: bad".into()),
            },
        ];
        let t = BatchTable::build(&entries);
        assert_eq!(t.header.last().unwrap(), "mean_f");
        assert_eq!(t.rows[0].numbers[..4], [30.0, 10240.0, 2.0, 150.0]);
        assert_eq!(t.rows[0].numbers[9], 2.0);
        assert_eq!(t.rows[1].text[3].as_deref(), Some("b.csv: bad"));
        assert!(t.rows[1].numbers.iter().all(|v| v.is_nan()));
    }
}
