//! `pqe batch`: analyse every recording under a folder, in parallel, into one folder per
//! recording plus a summary table (`summary.csv` and `summary.parquet`, one row per
//! recording). A recording that cannot be read is reported in the table (status `error`
//! with the engine's message) and the others go on; the command then exits non-zero.

use super::analyze::{analyze_file, Settings};
use crate::table::{cell, file_safe, CsvTable};
use anyhow::{bail, Context, Result};
use pqe_io::table::{write_parquet, TableColumn};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Arguments of `pqe batch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder searched (recursively) for recordings: .cfg, .cff, .csv, .h5, .hdf5.
    pub dir: PathBuf,
    /// Folder for the results: one sub-folder per recording, summary.csv, summary.parquet.
    #[arg(long)]
    pub out: PathBuf,
    /// Recordings analysed at once (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub settings: Settings,
}

/// The summary table's columns, in order: identification, then figures from each
/// recording's summary.json.
const NUMBER_COLUMNS: [&str; 12] = [
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

/// Run `pqe batch`.
pub fn run(args: Args) -> Result<()> {
    // A bad combination of switches is reported once, not per recording.
    args.settings.switches()?;
    let out = &args.out;
    let mut files = Vec::new();
    find_recordings(&args.dir, out, &mut files)
        .with_context(|| format!("cannot list {}", args.dir.display()))?;
    files.sort();
    if files.is_empty() {
        bail!(
            "no recording (.cfg, .cff, .csv, .h5) under {}",
            args.dir.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let pb = crate::progress::bar(Some(files.len() as u64), "recordings");
    let failed = AtomicUsize::new(0);
    let results: Vec<(PathBuf, String, Result<serde_json::Value>)> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let rel = f.strip_prefix(&args.dir).unwrap_or(f);
                let name = folder_name(rel);
                let result = analyze_file(f, &out.join(&name), &args.settings, false);
                if let Err(e) = &result {
                    failed.fetch_add(1, Ordering::Relaxed);
                    pb.suspend(|| eprintln!("pqe: {}: {e:#}", f.display()));
                }
                pb.inc(1);
                (rel.to_path_buf(), name, result)
            })
            .collect()
    });
    pb.finish_and_clear();
    write_summary(out, &results)?;
    let failed = failed.into_inner();
    eprintln!(
        "pqe: {} recordings analysed, {} failed → {}",
        results.len() - failed,
        failed,
        out.join("summary.csv").display()
    );
    if failed > 0 {
        bail!(
            "{failed} of {} recordings could not be analysed (see summary.csv)",
            results.len()
        );
    }
    Ok(())
}

/// Recordings under `dir` (not under `skip`, the output folder), by extension. A `.dat`
/// belongs to its `.cfg`, and a CSV's `.csv.json` sidecar to its CSV.
fn find_recordings(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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
    Ok(())
}

/// The output folder of a recording: its path under the searched folder, flattened.
fn folder_name(rel: &Path) -> String {
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

/// Columns of the means of unflagged intervals that every recording in the batch has.
fn common_means(results: &[(PathBuf, String, Result<serde_json::Value>)]) -> Vec<String> {
    let mut common: Option<Vec<String>> = None;
    for (_, _, r) in results {
        let Ok(s) = r else { continue };
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

fn write_summary(
    out: &Path,
    results: &[(PathBuf, String, Result<serde_json::Value>)],
) -> Result<()> {
    let means = common_means(results);
    let mut header: Vec<String> = ["file", "folder", "status", "error", "start"]
        .map(String::from)
        .to_vec();
    header.extend(NUMBER_COLUMNS.iter().map(|c| c.to_string()));
    header.extend(means.iter().map(|c| format!("mean_{c}")));

    let mut csv = CsvTable::create(&out.join("summary.csv"), header.clone())?;
    let mut text: Vec<Vec<Option<String>>> = vec![Vec::new(); 5];
    let mut numbers: Vec<Vec<f64>> = vec![Vec::new(); NUMBER_COLUMNS.len() + means.len()];
    for (file, folder, result) in results {
        let (status, error, start, values): (&str, Option<String>, Option<String>, Vec<f64>) =
            match result {
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
                Err(e) => (
                    "error",
                    Some(format!("{e:#}")),
                    None,
                    vec![f64::NAN; numbers.len()],
                ),
            };
        let ids = [
            Some(file.display().to_string()),
            Some(folder.clone()),
            Some(status.to_string()),
            error,
            start,
        ];
        let mut cells: Vec<String> = ids.iter().map(|c| c.clone().unwrap_or_default()).collect();
        cells.extend(values.iter().map(|v| cell(*v)));
        csv.write_text(&cells)?;
        for (col, v) in text.iter_mut().zip(ids) {
            col.push(v);
        }
        for (col, v) in numbers.iter_mut().zip(values) {
            col.push(v);
        }
    }
    csv.finish()?;
    let mut columns: Vec<(String, TableColumn)> = Vec::new();
    for (name, values) in header.iter().zip(text) {
        columns.push((name.clone(), TableColumn::Text(values)));
    }
    for (name, values) in header.iter().skip(5).zip(numbers) {
        columns.push((name.clone(), TableColumn::F64(values)));
    }
    write_parquet(&out.join("summary.parquet"), &columns)?;
    Ok(())
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
}
