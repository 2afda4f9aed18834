//! `pqe metertest`: run a meter-test plan on a bench and search the result archive.
//!
//! - `pqe metertest run PLAN.toml --bench URI --out DIR [--db FILE]`: writes `DIR/results.json`
//!   and `DIR/report.html` and archives the run (SQLite; default file in the user's data folder).
//!   A bench fault ends the run: the points measured so far are still written and archived,
//!   and the command fails naming the fault.
//! - `pqe metertest history SERIAL [--db FILE] [--since DATE] [--until DATE] [--verdict V] [--json]`.

use anyhow::{bail, Context, Result};
use pqe_metertest::archive::{default_path, Archive, HistoryQuery};
use pqe_metertest::bench::open_bench;
use pqe_metertest::plan::Plan;
use pqe_metertest::run::{run_with_links, write_outputs};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: MetertestCommand,
}

#[derive(Debug, clap::Subcommand)]
enum MetertestCommand {
    /// Run a test plan on a bench (the simulated bench is sim:).
    Run(RunArgs),
    /// List the archived runs of a meter, newest first.
    History(HistoryArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The test plan (TOML: a [meter] table and the [[point]]s in order).
    plan: PathBuf,
    /// The bench: sim:[METERS.toml][?seed=N&fault_after=N&reverse=I2&swap=I1:I2].
    #[arg(long)]
    bench: String,
    /// Output folder for results.json and report.html.
    #[arg(long)]
    out: PathBuf,
    /// The archive (SQLite file); default: the user's data folder.
    #[arg(long)]
    db: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct HistoryArgs {
    /// The meter's serial number.
    serial: String,
    /// The archive (SQLite file); default: the user's data folder.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Only runs started on or after this date (ISO 8601, e.g. 2026-12-07).
    #[arg(long)]
    since: Option<String>,
    /// Only runs started before this date.
    #[arg(long)]
    until: Option<String>,
    /// Only runs with this verdict: pass, fail or incomplete.
    #[arg(long, value_parser = ["pass", "fail", "incomplete"])]
    verdict: Option<String>,
    /// Print one JSON array.
    #[arg(long)]
    json: bool,
}

fn db_path(db: Option<PathBuf>) -> Result<PathBuf> {
    match db.or_else(default_path) {
        Some(p) => Ok(p),
        None => bail!("no archive file: give --db FILE (neither XDG_DATA_HOME nor HOME is set)"),
    }
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        MetertestCommand::Run(a) => run_cmd(a),
        MetertestCommand::History(a) => history(a),
    }
}

fn run_cmd(a: RunArgs) -> Result<()> {
    let plan = Plan::from_file(&a.plan)?;
    let base = a.plan.parent().unwrap_or(Path::new("."));
    let mut bench = open_bench(&a.bench, base)?;
    bench.check_serials(&plan.meter.serials)?;
    let db = db_path(a.db)?;
    // Open the archive before the run: a run that cannot be archived should not start.
    let mut archive = Archive::open(&db)?;
    let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Register and function points read the meters through every protocol of this build.
    let links = super::meter::registry();
    let results = run_with_links(&plan, bench.as_mut(), &links, &started, |set, outcomes| {
        let verdicts: Vec<String> = outcomes
            .iter()
            .map(|o| match o.error {
                Some(e) => format!("{:+.4} % {:?}", e, o.verdict).to_lowercase(),
                None => format!("{} pulse(s) {:?}", o.pulses, o.verdict).to_lowercase(),
            })
            .collect();
        eprintln!(
            "point {} ({}): {}",
            set.index,
            set.name,
            verdicts.join(", ")
        );
    });
    write_outputs(&results, &a.out)
        .with_context(|| format!("cannot write into {}", a.out.display()))?;
    let id = archive.store(&results, &a.out)?;
    if let Some(w) = &results.wiring {
        for f in &w.findings {
            eprintln!("pqe: warning: wiring: {}", f.message);
        }
    }
    for m in &results.meters {
        println!("{}\t{}", m.serial, m.verdict);
    }
    eprintln!(
        "wrote {} and {}; archived as run {id} in {}",
        a.out.join("results.json").display(),
        a.out.join("report.html").display(),
        db.display()
    );
    if let Some(fault) = &results.fault {
        bail!(
            "the run stopped early ({} of {} points measured, kept in the results): {fault}",
            results.points.len(),
            plan.points.len()
        );
    }
    Ok(())
}

fn history(a: HistoryArgs) -> Result<()> {
    let db = db_path(a.db)?;
    if !db.exists() {
        bail!(
            "no archive at {}: nothing has been run yet (or give --db FILE)",
            db.display()
        );
    }
    let archive = Archive::open(&db)?;
    let rows = archive.history(&HistoryQuery {
        serial: a.serial.clone(),
        since: a.since,
        until: a.until,
        verdict: a.verdict,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        bail!(
            "no archived run of meter {:?} in {}",
            a.serial,
            db.display()
        );
    }
    println!("run\tstarted\tserial\tverdict\tpoints\tfailed\tplan\tbench\treport");
    for r in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}{}",
            r.run,
            r.started,
            r.serial,
            r.verdict,
            r.points,
            r.failed,
            r.plan,
            r.bench,
            r.out_dir,
            r.fault
                .map(|f| format!("\t(fault: {f})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
