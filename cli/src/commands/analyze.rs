//! `pqe analyze`: measure a recording as an IEC 61000-4-30 Class A instrument does and write
//! the results into a folder (the tables, captures, report.html, compliance.json and
//! summary.json described in docs/outputs.md). The work is done by
//! [`pqe_pipeline::analyze_file`]; this module parses the options, shows a progress bar and
//! prints the one-line account.
//!
//! Settings come from the options, over a settings file given with `--config FILE` (TOML,
//! keys spelled as the options with underscores): an option typed on the command line
//! replaces the file's value, the others keep it.

use anyhow::Result;
use clap::parser::ValueSource;
use clap::ArgMatches;
use pqe_pipeline::{AnalysisSettings, Observer, Progress};
use std::path::PathBuf;

/// Arguments of `pqe analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording (.cfg, .dat, .cff, .csv, .h5).
    #[arg(required_unless_present = "source", conflicts_with = "source")]
    pub input: Option<PathBuf>,
    /// Folder for the results (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub live: crate::commands::devices::LiveArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// The analysis settings: options, and optionally a settings file under them (shared with
/// `pqe batch`).
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// A TOML file of settings (keys as the options, e.g. `nominal_voltage = 400`,
    /// `no_flicker = true`, `map = ["VA=U_A"]`); options given here take precedence.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub options: AnalysisSettings,
}

impl SettingsArgs {
    /// The settings in force: the options typed in `matches` over the settings file (or the
    /// defaults).
    pub fn resolve(&self, matches: Option<&ArgMatches>) -> Result<AnalysisSettings> {
        let Some(path) = &self.config else {
            return Ok(self.options.clone());
        };
        let file = AnalysisSettings::from_toml_file(path)?;
        let given = |id: &str| {
            matches.is_some_and(|m| {
                m.try_get_raw(id).is_ok_and(|v| v.is_some())
                    && m.value_source(id) == Some(ValueSource::CommandLine)
            })
        };
        Ok(self.options.over(&file, given)?)
    }
}

/// Run `pqe analyze`.
pub fn run(args: Args, matches: Option<&ArgMatches>) -> Result<()> {
    let settings = args.settings.resolve(matches)?;
    let Some(input) = &args.input else {
        return crate::commands::devices::analyze_live(&args.live, &args.out, &settings);
    };
    let mut bar = Bar::new(true);
    let result = pqe_pipeline::analyze_file(input, &args.out, &settings, &mut bar);
    bar.finish();
    let summary = result?;
    eprintln!(
        "pqe: {} → {}",
        pqe_pipeline::one_line(&summary),
        args.out.display()
    );
    Ok(())
}

/// A progress bar over the recording (bytes of sample data where the reader counts them,
/// else samples), and warnings printed above it.
pub struct Bar {
    show: bool,
    pb: Option<indicatif::ProgressBar>,
}

impl Bar {
    /// A bar drawn on a terminal when `show`.
    pub fn new(show: bool) -> Self {
        Bar { show, pb: None }
    }

    fn print(&self, line: &str) {
        match &self.pb {
            Some(pb) => pb.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.pb {
            pb.finish_and_clear();
        }
    }
}

impl Observer for Bar {
    fn progress(&mut self, p: &Progress) {
        if !self.show {
            return;
        }
        let pb = self.pb.get_or_insert_with(|| {
            crate::progress::bar(p.bytes.map(|b| b.1).or(p.total_samples), "analysing")
        });
        pb.set_position(p.bytes.map_or(p.samples, |b| b.0));
    }

    fn warning(&mut self, message: &str) {
        self.print(&format!("pqe: warning: {message}"));
    }

    fn info(&mut self, message: &str) {
        self.print(&format!("pqe: {message}"));
    }
}
