//! `pqe`: the PQE command line.
//!
//! `inspect` shows what a recording holds, `convert` moves it between COMTRADE, CSV and HDF5,
//! `generate` synthesises test recordings from a TOML scenario and `analyze` measures one.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod capture;
mod commands;
mod mapping;
mod progress;
mod report;
mod table;

/// PQE: power-quality measurements on recorded voltage and current waveforms.
#[derive(Debug, Parser)]
#[command(name = "pqe", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a recording holds: channels, timing, format (and data statistics with --stats).
    Inspect(commands::inspect::Args),
    /// Convert a recording between COMTRADE (.cfg/.dat, .cff), CSV and HDF5.
    Convert(commands::convert::Args),
    /// Synthesise a test recording from a TOML scenario (see docs/scenarios.md).
    Generate(commands::generate::Args),
    /// Measure a recording and write the results into a folder.
    Analyze(commands::analyze::Args),
    /// Analyse every recording under a folder, in parallel, with a summary table.
    Batch(commands::batch::Args),
    /// Acquisition drivers and the devices they find (`pqe devices list`).
    Devices(commands::devices::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Generate(a) => commands::generate::run(a),
        Command::Analyze(a) => commands::analyze::run(a),
        Command::Batch(a) => commands::batch::run(a),
        Command::Devices(a) => commands::devices::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pqe: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
