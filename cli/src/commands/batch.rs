//! `pqe batch`: analyse every recording under a folder, in parallel, into one folder per
//! recording plus a summary table (`summary.csv` and `summary.parquet`, one row per
//! recording, built by [`pqe_pipeline::batch::BatchTable`]). A recording that cannot be
//! read is reported in the table (status `error` with the engine's message) and the others
//! go on; the command then exits non-zero.

use super::analyze::SettingsArgs;
use anyhow::{bail, Context, Result};
use clap::ArgMatches;
use pqe_pipeline::batch::{find_recordings, folder_name, BatchEntry, BatchTable};
use rayon::prelude::*;
use std::path::PathBuf;
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
    pub settings: SettingsArgs,
}

/// Run `pqe batch`.
pub fn run(args: Args, matches: Option<&ArgMatches>) -> Result<()> {
    let settings = args.settings.resolve(matches)?;
    // A bad combination of settings is reported once, not per recording.
    settings.validate()?;
    let out = &args.out;
    let files = find_recordings(&args.dir, out)
        .with_context(|| format!("cannot list {}", args.dir.display()))?;
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
    let entries: Vec<BatchEntry> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let rel = f.strip_prefix(&args.dir).unwrap_or(f);
                let folder = folder_name(rel);
                let mut quiet = Warnings(&pb);
                let result =
                    pqe_pipeline::analyze_file(f, &out.join(&folder), &settings, &mut quiet)
                        .map_err(|e| e.to_string());
                if let Err(e) = &result {
                    failed.fetch_add(1, Ordering::Relaxed);
                    pb.suspend(|| eprintln!("pqe: {}: {e}", f.display()));
                }
                pb.inc(1);
                BatchEntry {
                    file: rel.to_path_buf(),
                    folder,
                    result,
                }
            })
            .collect()
    });
    pb.finish_and_clear();
    BatchTable::build(&entries).write(out)?;
    let failed = failed.into_inner();
    eprintln!(
        "pqe: {} recordings analysed, {} failed → {}",
        entries.len() - failed,
        failed,
        out.join("summary.csv").display()
    );
    if failed > 0 {
        bail!(
            "{failed} of {} recordings could not be analysed (see summary.csv)",
            entries.len()
        );
    }
    Ok(())
}

/// Prints a recording's warnings above the batch's bar.
struct Warnings<'a>(&'a indicatif::ProgressBar);

impl pqe_pipeline::Observer for Warnings<'_> {
    fn warning(&mut self, message: &str) {
        self.0.suspend(|| eprintln!("pqe: warning: {message}"));
    }
}
