//! `pqe`: the PQE command line.
//!
//! `inspect` shows what a recording holds, `convert` moves it between COMTRADE, CSV and HDF5,
//! `generate` synthesises test recordings from a TOML scenario and `analyze` measures one.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

mod commands;
mod progress;

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
    /// Talk to a meter: read values, record and analyse the exchange (Modbus, IEC 62056-21, …).
    Meter(commands::meter::Args),
    /// Acquisition drivers and the devices they find (`pqe devices list`).
    Devices(commands::devices::Args),
    /// Record a live source into a recording file, gaps marked as missing samples.
    Capture(commands::capture::Args),
    /// Test energy meters on a bench: run a test plan, search the result archive.
    Metertest(commands::metertest::Args),
    /// Analyse a live source and follow it on a local web page (RMS, powers, spectrum, events).
    Monitor(commands::monitor::Args),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let sub = matches.subcommand().map(|(_, m)| m);
    let result = match cli.command {
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Generate(a) => commands::generate::run(a),
        Command::Analyze(a) => commands::analyze::run(a, sub),
        Command::Batch(a) => commands::batch::run(a, sub),
        Command::Meter(a) => commands::meter::run(a),
        Command::Devices(a) => commands::devices::run(a),
        Command::Capture(a) => commands::capture::run(a),
        Command::Metertest(a) => commands::metertest::run(a),
        Command::Monitor(a) => commands::monitor::run(a, sub),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pqe: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
